"""Fixtures for the bot tests: a capturing gateway, Mobizon client factories, a console runner."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.test_utils import TestServer

from bot.console import session as console
from bot.mobizon import MobizonClient, RetryPolicy, Timeouts
from bot.process.settings import Settings
from tests.bot.forked import start_smsbot
from tests.conftest import MOBIZON_KEY, refusing_port

#: What a successful answer of each method holds when a test queued nothing else.
DEFAULT_DATA: dict[str, object] = {
    "sendsmsmessage": {"campaignId": "855834", "messageId": "6300284", "status": 2},
    "getsmsstatus": [],
    "list": {"items": [], "totalItemCount": "0"},
}


@dataclass(frozen=True, slots=True)
class Captured:
    """One request as it reached the capturing gateway: path, query and the raw body bytes."""

    http_method: str
    path: str
    query: dict[str, str]
    body: bytes
    content_type: str

    @property
    def method(self) -> str:
        """The last path segment: the Mobizon method name as sent."""
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class Reply:
    """A canned HTTP answer: a status, a content type and the raw body."""

    body: bytes
    status: int = 200
    content_type: str = "application/json"

    @classmethod
    def envelope(cls, code: int, data: object = None, message: str = "") -> Reply:
        """Mobizon's JSON envelope."""
        body = json.dumps({"code": code, "data": [] if data is None else data, "message": message})
        return cls(body.encode())


@dataclass
class CaptureGateway:
    """A loopback HTTP server that records raw requests and answers queued replies in order."""

    url: str = ""
    requests: list[Captured] = field(default_factory=list)
    replies: deque[Reply] = field(default_factory=deque)

    def reply(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies``, in order; then the default success."""
        self.replies.extend(replies)

    def bodies(self, method: str) -> list[bytes]:
        """The raw bodies of every request to ``method``."""
        return [request.body for request in self.requests if request.method == method]

    def make_app(self) -> web.Application:
        """The aiohttp application answering every path."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        captured = Captured(
            request.method,
            request.path,
            {key: request.query[key] for key in request.query},
            body,
            request.headers.get("Content-Type", ""),
        )
        self.requests.append(captured)
        if self.replies:
            reply = self.replies.popleft()
        else:
            reply = Reply.envelope(0, DEFAULT_DATA.get(captured.method.lower(), []))
        return web.Response(body=reply.body, status=reply.status, content_type=reply.content_type)


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Access log lines without the query string, which holds the API key."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        """Log method, path and status."""
        self.logger.info("%s %s %s %.3fs", request.method, request.path, response.status, time)


@pytest.fixture
async def gateway() -> AsyncIterator[CaptureGateway]:
    """A capturing fake gateway on a loopback port."""
    fake = CaptureGateway()
    server = TestServer(fake.make_app(), host="127.0.0.1", port=0)
    await server.start_server(access_log_class=PathOnlyAccessLogger)
    fake.url = str(server.make_url("")).rstrip("/")
    yield fake
    await server.close()


@dataclass
class Sleeps:
    """Records the backoff delays the client asked for instead of waiting them out."""

    delays: list[float] = field(default_factory=list)
    before_retry: Callable[[], Any] | None = None

    async def __call__(self, seconds: float) -> None:
        """Record the delay; run ``before_retry`` (a sync or async callable) if set."""
        self.delays.append(seconds)
        if self.before_retry is not None:
            result = self.before_retry()
            if hasattr(result, "__await__"):
                await result


@pytest.fixture
def sleeps() -> Sleeps:
    """A stand-in for ``asyncio.sleep`` that records retries' delays."""
    return Sleeps()


ClientFactory = Callable[..., MobizonClient]


@pytest.fixture
async def make_client(sleeps: Sleeps) -> AsyncIterator[ClientFactory]:
    """Build Mobizon clients on a base URL (no real waits between retries); all closed after."""
    clients: list[MobizonClient] = []

    def build(base_url: str, **overrides: Any) -> MobizonClient:
        options: dict[str, Any] = {
            "base_url": base_url,
            "sleep": sleeps,
            "timeouts": Timeouts(connect=2.0, total=5.0),
            "retry": RetryPolicy(attempts=4, base_delay=0.5, max_delay=8.0),
        }
        options.update(overrides)
        api_key = options.pop("api_key", MOBIZON_KEY)
        client = MobizonClient(api_key, **options)
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.close()


def wall(text: str) -> datetime:
    """A naive wall-clock time, as Mobizon writes them (it documents no time zone)."""
    return datetime.fromisoformat(text)


def free_port() -> int:
    """A loopback port nobody listens on (connecting to it is refused) for the whole session."""
    return refusing_port()


async def run_console(
    tmp_path: Path,
    script: str,
    *args: str,
    env_extra: dict[str, str] | None = None,
    quick: bool = False,
) -> tuple[int, str, str]:
    """Run ``smsbot console`` in ``tmp_path`` with ``script`` on stdin; return code, out, err.

    The process is forked from one that imported smsbot already (:mod:`tests.bot.forked`);
    ``quick``: its sandbox's SMS are delivered faster (same module).
    """
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MOBIZON_", "SMSBOT_"))
    }
    env["SMSBOT_DB"] = str(tmp_path / "console.db")
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(env_extra or {})
    process = await start_smsbot("console", *args, env=env, cwd=tmp_path, stdin=True, quick=quick)
    out, err = await asyncio.wait_for(process.communicate(script.encode()), 90)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def console_in_process(
    tmp_path: Path, script: str, *, linger: float = 0, env_extra: dict[str, str] | None = None
) -> tuple[int, str]:
    """Run the console in this process on ``script``, with the settings ``smsbot console`` reads.

    The same run as :func:`run_console` without starting a process, for tests of what the
    console does with its input rather than of the command line itself; return code and output.
    """
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MOBIZON_", "SMSBOT_"))
    }
    env["SMSBOT_DB"] = str(tmp_path / "console.db")
    env.update(env_extra or {})
    settings = Settings.from_env(env, mode="console", sandbox=True)
    out = io.StringIO()
    code = await console.run_console(settings, stdin=io.StringIO(script), out=out, linger=linger)
    return code, out.getvalue()


def sections(out: str) -> list[tuple[str, str]]:
    """Split the console's output into (header, body) per message it printed."""
    parts = re.split(r"^── (.+?) ─+$", out, flags=re.MULTILINE)
    return list(zip(parts[1::2], (p.strip("\n") for p in parts[2::2]), strict=True))
