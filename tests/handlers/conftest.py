"""Helpers for the Slack app's end-to-end tests: signed button clicks, polling, the secret guard."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.simulator import MobizonSimulator
from tests.conftest import SECRETS, BotHarness
from tests.fakes.slack import FakeSlack

#: The first line Slack shows for every bad /sms input is a sentence; the last is a usage line.
USAGE_PREFIX = "Usage: /sms"


async def wait_until(
    predicate: Callable[[], object], *, timeout: float = 10.0, what: str = "the condition"
) -> None:
    """Poll ``predicate`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            msg = f"timed out after {timeout} s waiting for {what}"
            raise AssertionError(msg)
        await asyncio.sleep(0.01)


def block_texts(blocks: list[dict[str, Any]]) -> str:
    """Every piece of text in a list of Block Kit blocks, joined by newlines."""
    parts: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            text = node.get("text")
            if isinstance(text, str):
                parts.append(text)
            for value in node.values():
                if not isinstance(value, str):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(parts)


def buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The buttons of a message's actions blocks, by action id."""
    found: dict[str, dict[str, Any]] = {}
    for block in blocks:
        if block.get("type") == "actions":
            for element in block["elements"]:
                found[element["action_id"]] = element
    return found


_click = 0


async def click(
    bot: BotHarness, button: dict[str, Any], *, user: str = "U1", channel: str = "C1"
) -> tuple[int, str]:
    """POST a signed ``block_actions`` payload for ``button``, as Slack does when it is clicked."""
    global _click  # noqa: PLW0603  # unique response URLs across one test session
    _click += 1
    payload = {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "acme"},
        "user": {"id": user, "username": "ana", "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": "1700000000.000001", "is_ephemeral": True},
        "trigger_id": f"1337.42.click{_click}",
        "channel": {"id": channel, "name": "support"},
        "response_url": f"{bot.slack.url}response/click{_click}",
        "actions": [
            {
                "type": "button",
                "action_id": button["action_id"],
                "block_id": "find_pages",
                "text": button["text"],
                "value": button["value"],
                "action_ts": "1700000001.000002",
            }
        ],
    }
    return await bot.post_signed(urlencode({"payload": json.dumps(payload)}))


def refused_url() -> str:
    """A loopback URL on which nothing listens: connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def wire_form(pairs: list[tuple[str, str]]) -> bytes:
    """A form body encoded the way Mobizon's PHP client (and ours) encodes it."""
    return urlencode(pairs).encode("ascii")


def sends(sim: MobizonSimulator) -> list[bytes]:
    """The bodies of every sendSmsMessage the simulator received, oldest first."""
    return [r.body for r in sim.requests if r.method == "sendsmsmessage"]


@pytest.fixture
def sim(simulator: tuple[MobizonSimulator, str]) -> MobizonSimulator:
    """The simulator behind the ``bot`` fixture."""
    return simulator[0]


@pytest.fixture
def secret_guard(
    caplog: pytest.LogCaptureFixture, fake_slack: FakeSlack
) -> Iterator[pytest.LogCaptureFixture]:
    """Capture every log record (DEBUG up); after the test, no secret may be in one, nor in Slack."""
    caplog.set_level(logging.DEBUG)
    yield caplog
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    posted = json.dumps(
        [c.params for c in fake_slack.calls] + [r.params for r in fake_slack.responses],
        ensure_ascii=False,
    )
    for secret in SECRETS:
        assert secret not in logged, "a secret reached the logs"
        assert secret not in posted, "a secret reached Slack"
