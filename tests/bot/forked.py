"""``smsbot serve`` and ``console`` processes forked from one that has imported smsbot already.

A started ``smsbot serve`` or ``console`` spends about 0.7 CPU-s importing aiohttp, Bolt, the
listeners and SQLAlchemy before it does anything; the tests that start one prove what the
process does (its signals, exit codes, output, what it serves, what it leaves in its database),
and gain nothing from making those imports again each time. A *zygote*, started once per test
process, imports what those commands import and, for each start, forks a process that runs
``bot.cli.main`` with the test's arguments, environment, working directory and pipes: a process
of its own, which signals reach, which exits with its own code, whose output the test reads
from pipes. It is made the test process's child (the test process is a child subreaper, and
the fork's intermediate parent exits at once), so the test waits for it, and kills it, as its
own child.

What such a process does not prove, that the installed ``smsbot`` script starts the program,
the tests that run the script itself prove (``--version``, ``check``, refused settings, a
console on a terminal, Socket Mode's refused token).

A test that proves what the process does with SMS, not how fast, may ask for a *quick* one
(``quick=True``): its notifier paces Slack's posts on a clock whose sleeps return at once (as
the bots the in-process tests start), and its sandbox's simulated SMS reach their final status
:data:`QUICK_SANDBOX_SPEED` times faster. Nothing else differs.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

#: What ``serve`` and ``console`` import as they run, made once in the zygote.
PRELOADED = (
    "bot.cli",
    "bot.process.app",
    "bot.process.preflight",
    "bot.console.session",
    "storage.owner",
    "storage.schema",
    "aiohttp.web",
)

#: How much faster a quick process's sandbox runs its simulated SMS (final after 0.5 s, not 2 s).
QUICK_SANDBOX_SPEED = 4.0

#: Linux's prctl option that makes orphaned descendants this process's children.
PR_SET_CHILD_SUBREAPER = 36


class ForkedProcess:
    """A forked ``smsbot``, as :class:`asyncio.subprocess.Process` shows a started one."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.stdin: asyncio.StreamWriter | None = None
        self.stdout: asyncio.StreamReader | None = None
        self.stderr: asyncio.StreamReader | None = None
        self._pidfd = os.pidfd_open(pid)
        self._exited = asyncio.Event()
        asyncio.get_running_loop().add_reader(self._pidfd, self._reap)

    def _reap(self) -> None:
        """The process ended: collect its exit status (as its parent) and its code."""
        asyncio.get_running_loop().remove_reader(self._pidfd)
        _, status = os.waitpid(self.pid, 0)
        os.close(self._pidfd)
        self.returncode = os.waitstatus_to_exitcode(status)
        self._exited.set()

    def send_signal(self, sig: int) -> None:
        """Send ``sig`` to the process (ProcessLookupError once it has ended)."""
        if self.returncode is not None:
            raise ProcessLookupError(self.pid)
        signal.pidfd_send_signal(self._pidfd, sig)

    def kill(self) -> None:
        """SIGKILL."""
        self.send_signal(signal.SIGKILL)

    async def wait(self) -> int:
        """Wait for the process to end; its exit code (minus the signal that ended it)."""
        await self._exited.wait()
        assert self.returncode is not None
        return self.returncode

    async def communicate(self, data: bytes | None = None) -> tuple[bytes, bytes]:
        """Write ``data`` to stdin and close it, read stdout and stderr to their end, wait."""
        if self.stdin is not None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                if data:
                    self.stdin.write(data)
                    await self.stdin.drain()
                self.stdin.close()
        out, err = await asyncio.gather(_read_all(self.stdout), _read_all(self.stderr))
        await self.wait()
        return out, err


async def _read_all(stream: asyncio.StreamReader | None) -> bytes:
    return b"" if stream is None else await stream.read()


class _Zygote:
    """The process smsbot's are forked from, and the socket this process asks it through."""

    def __init__(self) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = subprocess.Popen(  # our own arguments, no shell
            [sys.executable, __file__, str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        theirs.close()
        self.socket = ours
        self.lock = threading.Lock()
        atexit.register(self.close)

    def fork(
        self,
        argv: list[str],
        env: dict[str, str],
        cwd: str,
        fds: list[int],
        *,
        new_session: bool = False,
        quick: bool = False,
    ) -> int:
        """Fork a process running ``smsbot argv`` on ``fds`` (stdin, stdout, stderr); its pid.

        ``new_session``: it calls ``setsid`` first, as a process started with
        ``start_new_session``. ``quick``: see the module's docstring.
        """
        request = json.dumps(
            {"argv": argv, "env": env, "cwd": cwd, "new_session": new_session, "quick": quick}
        ).encode()
        with self.lock:
            socket.send_fds(self.socket, [request], fds)
            answer = self.socket.recv(64)
        if not answer:
            raise RuntimeError(f"the smsbot zygote ended ({self.process.poll()})")
        return int(answer)

    def close(self) -> None:
        """End the zygote (it ends when its socket closes)."""
        self.socket.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(5)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


_ZYGOTE: list[_Zygote] = []


async def start_smsbot(
    *args: str,
    env: dict[str, str],
    cwd: str | os.PathLike[str] | None = None,
    stdin: bool = False,
    quick: bool = False,
) -> ForkedProcess:
    """Start ``smsbot args`` (forked from the zygote) with pipes for stdout and stderr.

    ``stdin``: a pipe for its input; else it reads /dev/null, as a started one given DEVNULL.
    ``quick``: its pacing on a clock that skips its sleeps, its sandbox faster (module docstring).
    """
    if not _ZYGOTE:
        _ZYGOTE.append(_Zygote())
    loop = asyncio.get_running_loop()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    if stdin:
        in_r, in_w = os.pipe()
    else:
        in_r, in_w = os.open(os.devnull, os.O_RDONLY), -1
    try:
        pid = _ZYGOTE[0].fork(
            ["smsbot", *args], env, str(cwd or Path.cwd()), [in_r, out_w, err_w], quick=quick
        )
    finally:
        for fd in (in_r, out_w, err_w):
            os.close(fd)
    process = ForkedProcess(pid)
    process.stdout = await _reader(loop, out_r)
    process.stderr = await _reader(loop, err_r)
    if in_w >= 0:
        transport, protocol = await loop.connect_write_pipe(
            lambda: asyncio.streams.FlowControlMixin(loop=loop), os.fdopen(in_w, "wb", 0)
        )
        process.stdin = asyncio.StreamWriter(transport, protocol, None, loop)
    return process


def fork_smsbot(
    *args: str, env: dict[str, str], cwd: str | os.PathLike[str], fds: tuple[int, int, int]
) -> int:
    """Start ``smsbot args`` (forked from the zygote) on ``fds`` (its stdin, stdout, stderr).

    As ``subprocess.Popen(..., start_new_session=True)`` starts it: in a session of its own.
    Returns its pid; it is this process's child (wait for it with ``os.waitpid``).
    """
    if not _ZYGOTE:
        _ZYGOTE.append(_Zygote())
    return _ZYGOTE[0].fork(["smsbot", *args], env, str(cwd), list(fds), new_session=True)


async def _reader(loop: asyncio.AbstractEventLoop, fd: int) -> asyncio.StreamReader:
    reader = asyncio.StreamReader(limit=2**16, loop=loop)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader, loop=loop), os.fdopen(fd, "rb", 0)
    )
    return reader


# The zygote's side, run as ``python forked.py <socket fd>``.


def _serve_forks(control: socket.socket) -> None:
    """Fork an smsbot for each request on ``control`` until it closes."""
    import importlib  # noqa: PLC0415

    for name in PRELOADED:
        importlib.import_module(name)
    while True:
        message, fds, _, _ = socket.recv_fds(control, 1 << 20, 3)
        if not message:
            return
        request = json.loads(message)
        pid_r, pid_w = os.pipe()
        middle = os.fork()
        if middle == 0:  # the intermediate parent: fork the smsbot, say its pid, end
            os.close(pid_r)
            child = os.fork()
            if child == 0:
                os.close(pid_w)
                control.close()
                _run(request, fds)
            os.write(pid_w, str(child).encode())
            os._exit(0)
        os.close(pid_w)
        for fd in fds:
            os.close(fd)
        with os.fdopen(pid_r, "rb") as pipe:
            pid = pipe.read()
        os.waitpid(middle, 0)  # the smsbot is the test process's child from here
        control.send(pid)


def _run(request: dict[str, object], fds: list[int]) -> None:
    """In the forked process: become ``smsbot argv`` in the test's environment; never return."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for fd in set(fds):
        if fd > 2:  # stdin, stdout and stderr stay
            os.close(fd)
    env = request["env"]
    argv = request["argv"]
    assert isinstance(env, dict)
    assert isinstance(argv, list)
    if request.get("new_session"):
        os.setsid()
    os.chdir(str(request["cwd"]))
    os.environ.clear()
    os.environ.update(env)
    import time  # noqa: PLC0415

    time.tzset()
    _stdio(env)
    sys.argv = argv
    from bot.cli import main  # noqa: PLC0415  # imported by the zygote already

    code = 1
    try:
        if request.get("quick"):
            _quicken()
        code = main(argv[1:])
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        if isinstance(exit_.code, str):
            print(exit_.code, file=sys.stderr)  # noqa: T201  # as the interpreter prints it
    except KeyboardInterrupt:
        _finish()
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # as Python ends on an uncaught Ctrl-C
        os.kill(os.getpid(), signal.SIGINT)
    except BaseException:  # noqa: BLE001  # as the interpreter: the traceback, exit code 1
        import traceback  # noqa: PLC0415

        traceback.print_exc()
    _finish()
    os._exit(code)


def _quicken() -> None:
    """Pace Slack's posts on a clock that skips its sleeps; run the sandbox's SMS faster."""
    import bot.process.app  # noqa: PLC0415  # imported by the zygote already
    import bot.process.tracking  # noqa: PLC0415
    from testkit.clock import FastForwardClock  # noqa: PLC0415

    # each name is checked: a renamed one must fail here, not leave the process slow
    for module, name, value in (
        (bot.process.tracking, "SYSTEM_CLOCK", FastForwardClock()),
        (bot.process.app, "SANDBOX_SPEED", QUICK_SANDBOX_SPEED),
    ):
        assert hasattr(module, name), f"{module.__name__}.{name} is gone"
        setattr(module, name, value)


def _finish() -> None:
    """What the interpreter does as it ends: the atexit functions, then the streams flushed."""
    atexit._run_exitfuncs()  # logging's shutdown among them
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def _stdio(env: dict[str, str]) -> None:
    """sys.stdin, stdout and stderr on the new fds, as Python makes them at start in ``env``."""
    unbuffered = bool(env.get("PYTHONUNBUFFERED"))
    encoding, _, errors = (env.get("PYTHONIOENCODING") or "").partition(":")
    encoding = encoding or sys.stdout.encoding
    stdin = open(0, encoding=encoding, errors=errors or "strict", closefd=False)  # noqa: SIM115
    stdout = open(1, "w", encoding=encoding, errors=errors or "strict", closefd=False)  # noqa: SIM115
    stdout.reconfigure(line_buffering=os.isatty(1) and not unbuffered, write_through=unbuffered)
    stderr = open(2, "w", encoding=encoding, errors="backslashreplace", closefd=False)  # noqa: SIM115
    stderr.reconfigure(line_buffering=True, write_through=unbuffered)
    sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr


if __name__ == "__main__":
    del sys.path[0]  # this file's folder: the forked smsbot imports as the installed one does
    _serve_forks(socket.socket(fileno=int(sys.argv[1])))
