"""Request signing at ``POST /slack/events``: only requests Slack signed, recently, do anything."""

from __future__ import annotations

import logging
import sys
import time
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.simulator import MobizonSimulator
from testkit.slack import BOT_TOKEN, FakeSlack, SlackCall
from tests.conftest import MOBIZON_KEY, SIGNING_SECRET, BotHarness
from tests.handlers.conftest import secret_leaks

pytestmark = pytest.mark.usefixtures("secret_guard")

SEND = "send +55 11 98765-4321 hello"


def assert_nothing_happened(bot: BotHarness, sim: MobizonSimulator) -> None:
    """No request reached Mobizon, and the bot called no Slack API nor response URL."""
    assert sim.requests == []
    assert bot.slack.calls == []
    assert bot.slack.responses == []


async def test_unsigned_request_is_refused(bot: BotHarness, sim: MobizonSimulator) -> None:
    """A slash command without Slack's signature headers gets 401 and sends nothing."""
    raw = urlencode(bot.command_body(SEND))
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with bot.session.post(bot.url + "slack/events", data=raw, headers=headers) as resp:
        assert resp.status == 401
    assert_nothing_happened(bot, sim)


async def test_forged_signature_is_refused(bot: BotHarness, sim: MobizonSimulator) -> None:
    """A slash command signed with another secret gets 401 and sends nothing."""
    raw = urlencode(bot.command_body(SEND))
    status, _ = await bot.post_signed(raw, secret="not-the-signing-secret")
    assert status == 401
    assert_nothing_happened(bot, sim)


async def test_tampered_body_is_refused(bot: BotHarness, sim: MobizonSimulator) -> None:
    """A correctly signed command whose text was changed on the way gets 401."""
    ts = str(int(time.time()))
    signed = urlencode(bot.command_body(SEND))
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=signed)
    tampered = signed.replace("hello", "pwned")
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature or "",
    }
    async with bot.session.post(bot.url + "slack/events", data=tampered, headers=headers) as resp:
        assert resp.status == 401
    assert_nothing_happened(bot, sim)


async def test_ten_minute_old_request_is_refused(bot: BotHarness, sim: MobizonSimulator) -> None:
    """A correctly signed command stamped 10 minutes ago (a replay) gets 401 and sends nothing."""
    raw = urlencode(bot.command_body(SEND))
    status, _ = await bot.post_signed(raw, timestamp=int(time.time()) - 600)
    assert status == 401
    assert_nothing_happened(bot, sim)


async def test_signed_request_is_accepted(bot: BotHarness, sim: MobizonSimulator) -> None:
    """The same command, signed now with the right secret, is acknowledged and sends the SMS."""
    status, _ = await bot.command(SEND)
    assert status == 200
    await bot.slack.wait_for("chat.postMessage")
    assert sim.count("sendSmsMessage") == 1


def test_secret_guard_catches_leaks() -> None:
    """The check run after every end-to-end test finds a secret in a traceback or a Slack message."""
    slack = FakeSlack()
    try:
        raise RuntimeError("token " + BOT_TOKEN)  # noqa: TRY301  # a traceback to format
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, "f", 1, "failed", None, sys.exc_info())
    assert secret_leaks([record], slack) == ["a log line holds secret #0"]
    slack.responses.append(SlackCall("response_url", {"text": f"key {MOBIZON_KEY}"}, 0.0))
    assert "a Slack message holds secret #2" in secret_leaks([], slack)
    clean = logging.LogRecord("x", logging.INFO, "f", 1, "sms sent", None, None)
    assert secret_leaks([clean], FakeSlack()) == []
