"""Helpers for the Slack app's end-to-end tests: signed button clicks, polling, the secret guard."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.simulator import MobizonSimulator
from handlers.i18n import DOMAIN, LOCALE_DIR
from testkit.slack import FakeSlack
from tests.conftest import SECRETS, BotHarness, refusing_port

#: The first line Slack shows for every bad /sms input is a sentence; the last is a usage line.
USAGE_PREFIX = "Usage: /sms"

#: The committed sentence catalogues, where handlers.i18n reads them: the template, one .po a language.
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
PO_FILES = sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


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


def block_kit_problems(blocks: object) -> list[str]:
    """What in ``blocks`` breaks Block Kit's documented limits (Slack refuses the whole message)."""
    if not isinstance(blocks, list):
        return [] if blocks is None else ["blocks is not a list"]
    problems = [f"{len(blocks)} blocks (at most 50)"] if len(blocks) > 50 else []
    for block in blocks:
        check = _BLOCK_CHECKS.get(block.get("type"))
        if check is None:
            problems.append(f"unexpected block type {block.get('type')!r}")
        else:
            problems += check(block)
    return problems


def _section_problems(block: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    fields = block.get("fields", [])
    if "text" in block or not fields:
        text = block.get("text", {}).get("text", "")
        if not 0 < len(text) <= 3000:
            problems.append(f"section text of {len(text)} characters (1 to 3000)")
    if len(fields) > 10:
        problems.append(f"{len(fields)} section fields (at most 10)")
    problems += [f"field of {len(f['text'])} characters" for f in fields if len(f["text"]) > 2000]
    return problems


def _context_problems(block: dict[str, Any]) -> list[str]:
    elements = block.get("elements", [])
    problems = [] if 0 < len(elements) <= 10 else [f"{len(elements)} context elements (1 to 10)"]
    problems += [
        f"context text of {len(e['text'])} characters"
        for e in elements
        if len(e.get("text", "")) > 3000
    ]
    return problems


def _actions_problems(block: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for element in block.get("elements", []):
        if len(element["text"]["text"]) > 75:
            problems.append("button text over 75 characters")
        if len(element.get("value", "")) > 2000:
            problems.append("button value over 2000 characters")
    return problems


_BLOCK_CHECKS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "section": _section_problems,
    "context": _context_problems,
    "actions": _actions_problems,
}


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
    return await bot.post_payload(payload)


def refused_url() -> str:
    """A loopback URL on which nothing listens: connecting to it is refused."""
    return f"http://127.0.0.1:{refusing_port()}"


def wire_form(pairs: list[tuple[str, str]]) -> bytes:
    """A form body encoded the way Mobizon's PHP client (and ours) encodes it."""
    return urlencode(pairs).encode("ascii")


def sends(sim: MobizonSimulator) -> list[bytes]:
    """The bodies of every sendSmsMessage the simulator received, oldest first."""
    return [r.body for r in sim.requests if r.method == "sendsmsmessage"]


def shown(body: str) -> str:
    """The ack's text as Slack shows it (Bolt answers plain text or JSON)."""
    return str(json.loads(body).get("text", "")) if body.startswith("{") else body


async def answer(bot: BotHarness, count: int) -> str:
    """The text of the ``count``-th response_url post (an ephemeral reply after the ack)."""
    responses = await bot.slack.wait_for_responses(count)
    return str(responses[count - 1].params.get("text", ""))


def list_bodies(sim: MobizonSimulator) -> list[bytes]:
    """The bodies of every message/list request, oldest first."""
    return [r.body for r in sim.requests if r.method == "list"]


@pytest.fixture
def secret_guard(
    caplog: pytest.LogCaptureFixture, fake_slack: FakeSlack
) -> Iterator[pytest.LogCaptureFixture]:
    """Capture every log record (DEBUG up); after the test, no secret may be in one, nor in Slack.

    Every message sent to Slack must also keep within Block Kit's limits.
    """
    caplog.set_level(logging.DEBUG)
    yield caplog
    assert secret_leaks(caplog.records, fake_slack) == []
    for message in [c.params for c in fake_slack.calls] + [r.params for r in fake_slack.responses]:
        assert block_kit_problems(message.get("blocks")) == []


def secret_leaks(records: list[logging.LogRecord], slack: FakeSlack) -> list[str]:
    """Where a secret of the test environment shows: in a log line (traceback included) or in Slack."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    logged = "\n".join(formatter.format(record) for record in records)
    posted = json.dumps(
        [c.params for c in slack.calls] + [r.params for r in slack.responses], ensure_ascii=False
    )
    return [
        f"{where} holds secret #{number}"
        for number, secret in enumerate(SECRETS)
        for where, text in (("a log line", logged), ("a Slack message", posted))
        if secret in text
    ]


async def answered_later(bot: BotHarness, text: str, **overrides: str) -> str:
    """Send ``/sms text``, check its ack is empty, and return what it answers after the ack."""
    before = len(bot.slack.responses)
    assert await bot.command(text, **overrides) == (200, "")
    told = await bot.slack.wait_for_responses(before + 1)
    assert told[before].params["response_type"] == "ephemeral"
    return str(told[before].params["text"])
