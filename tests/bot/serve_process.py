"""Run ``smsbot serve`` as a real subprocess and read its JSON log lines (shared by serve tests)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from testkit.slack import BOT_TOKEN
from tests.bot.forked import ForkedProcess, start_smsbot
from tests.conftest import ALL_SECRETS, SIGNING_SECRET, full_number_in

#: The console script the package installs, next to this Python.
SMSBOT = Path(sys.executable).with_name("smsbot")


def base_env(slack_url: str, db_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a bot wired to the fake Slack: the sandbox (SMSBOT_SANDBOX=1) unless given."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "MOBIZON_", "SMSBOT_")) and key not in ("HOST", "PORT")
    }
    env.update(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack_url + "api/",
            "SMSBOT_DB": str(db_path),
            "HOST": "127.0.0.1",
            "PORT": "0",
            "SMSBOT_LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if "MOBIZON_API_KEY" not in extra:
        env["SMSBOT_SANDBOX"] = "1"
    env.update(extra)
    return env


def assert_clean_line(line: str) -> None:
    """A log line holds no secret and no full phone number (in any written or encoded form)."""
    for secret in ALL_SECRETS:
        assert secret not in line, f"a secret in the log: {line}"
    assert not full_number_in(line), f"a full phone number in the log: {line}"


@dataclass
class ServeProcess:
    """A running ``smsbot serve``: its log records (parsed JSON) and its URL once listening."""

    process: ForkedProcess
    lines: list[str] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    _reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(
        cls,
        env: dict[str, str],
        *args: str,
        cwd: str | os.PathLike[str] | None = None,
        quick: bool = False,
    ) -> ServeProcess:
        """Start ``smsbot serve`` and wait until it says where it listens.

        It is forked from a process that imported smsbot already (:mod:`tests.bot.forked`);
        ``quick``: its Slack pacing skips its sleeps, its sandbox runs faster (same module).
        """
        process = await start_smsbot("serve", *args, env=env, cwd=cwd, quick=quick)
        serve = cls(process)
        serve._reader = asyncio.create_task(serve._read())
        listening = await serve.wait_for_log(lambda r: "listening on" in r["msg"], within=30)
        serve.url = f"http://127.0.0.1:{listening['port']}/"
        return serve

    async def _read(self) -> None:
        stream = self.process.stderr
        assert stream is not None
        while raw := await stream.readline():
            line = raw.decode().rstrip("\n")
            self.lines.append(line)
            with contextlib.suppress(ValueError):
                self.records.append(json.loads(line))

    async def wait_for_log(
        self, match: Callable[[dict[str, Any]], bool], *, within: float = 15.0
    ) -> dict[str, Any]:
        """Wait for a log record that ``match`` accepts; return it."""
        deadline = time.monotonic() + within
        while True:
            for record in self.records:
                if match(record):
                    return record
            if self.process.returncode is not None and self._reader is not None:
                await self._reader
                for record in self.records:
                    if match(record):
                        return record
                msg = "smsbot exited before logging it:\n" + "\n".join(self.lines)
                raise AssertionError(msg)
            if time.monotonic() > deadline:
                msg = "no such log line in time:\n" + "\n".join(self.lines)
                raise AssertionError(msg)
            await asyncio.sleep(0.02)

    async def stop(self, *, within: float = 60.0) -> int:
        """Send SIGTERM and wait for the exit code (all of stderr read)."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), within)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, within)
        return code

    async def kill(self) -> None:
        """Make sure the process is gone (test clean-up)."""
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


async def run_forked(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """:func:`run_cli`'s run, forked from a process that imported smsbot already.

    The same exit code and output (``tests/bot/test_forked.py``) without the interpreter's
    start and smsbot's imports: for the tests whose point is what ``smsbot`` does, not that the
    installed script starts it.
    """
    process = await start_smsbot(*args, env=env)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def run_cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """Run ``smsbot <args>`` to its end with ``env``; return its exit code, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        str(SMSBOT),
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def command_body(text: str, slack_url: str, n: int = 1, **overrides: str) -> dict[str, str]:
    """A ``/sms`` slash-command payload as Slack posts it."""
    body = {
        "team_id": "T1",
        "channel_id": "C1",
        "channel_name": "support",
        "user_id": "U1",
        "user_name": "ana",
        "command": "/sms",
        "text": text,
        "api_app_id": "A1",
        "response_url": f"{slack_url}response/{n}",
        "trigger_id": f"1337.42.serve{n}",
    }
    body.update(overrides)
    return body


async def post_command(
    session: aiohttp.ClientSession, bot_url: str, body: dict[str, str]
) -> tuple[int, str]:
    """POST a slash command to ``/slack/events`` signed as Slack signs it."""
    raw = urlencode(body)
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(SIGNING_SECRET).generate_signature(
            timestamp=ts, body=raw
        )
        or "",
    }
    async with session.post(bot_url + "slack/events", data=raw, headers=headers) as response:
        return response.status, await response.text()
