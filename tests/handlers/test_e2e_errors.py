"""Mobizon failing, and the bot failing: each answered in a sentence, no SMS recorded as sent."""

from __future__ import annotations

import json
import logging
import sqlite3
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.simulator import MobizonSimulator
from handlers import UNEXPECTED_ERROR, send_outcomes
from handlers.first_posts import FirstPosts
from handlers.shortcuts import listeners as shortcut_listeners
from storage import claims, messages, records
from storage.delivery import StatusUpdate, apply_status
from testkit.database import run_sql
from testkit.waiting import wait_until
from tests.conftest import BotHarness
from tests.handlers.compose_kit import state, submit
from tests.handlers.conftest import refused_url

pytestmark = pytest.mark.usefixtures("secret_guard")

PHONE = "+55 11 98765-4321"


async def failed_send(bot: BotHarness) -> tuple[str, records.SmsRecord]:
    """Send one SMS that is expected to fail; return what the user was told and the stored row."""
    status, body = await bot.command(f"send {PHONE} hello")
    assert (status, body) == (200, "")
    (response,) = await bot.slack.wait_for_responses(1)
    assert response.params["response_type"] == "ephemeral"
    db = bot.db
    (row,) = [records.sms_from_row(r) for r in run_sql(db, "SELECT * FROM sms")]
    assert row.message_id is None
    assert messages.count_by_state(db)["sent"] == 0
    assert bot.slack.called("chat.postMessage") == []
    said = response.params["text"]
    assert "Traceback" not in said
    assert "+55 11 98765-4321" in said
    return said, row


async def test_validation_error_names_the_field(bot: BotHarness, sim: MobizonSimulator) -> None:
    """Mobizon's code 1 is shown as a sentence naming the wrong field; the SMS is recorded as failed."""
    sim.fail_next("sendSmsMessage", 1, data={"recipient": "Recipient is not a mobile number."})
    said, row = await failed_send(bot)
    assert "was not sent" in said
    assert "recipient: Recipient is not a mobile number" in said
    assert row.state is records.SendState.FAILED
    assert row.error is not None
    assert "recipient" in row.error


async def test_gateway_down(start_bot: Any) -> None:
    """With nothing listening at MOBIZON_API_URL, the user is told it was refused and not sent."""
    bot: BotHarness = await start_bot(refused_url())
    said, row = await failed_send(bot)
    assert "refused the connection" in said
    assert "was not sent" in said
    assert row.state is records.SendState.FAILED


async def test_html_502(bot: BotHarness, sim: MobizonSimulator) -> None:
    """An nginx 502 page is answered readably; the SMS may have left, so it is marked unknown."""
    sim.html_failure_next(status=502, method="sendSmsMessage")
    said, row = await failed_send(bot)
    assert "HTTP 502" in said
    assert "may still have been sent" in said
    assert "/sms find to:5511987654321" in said
    assert "<html" not in said
    assert "nginx" not in said
    assert row.state is records.SendState.UNKNOWN
    assert sim.count("sendSmsMessage") == 1  # a send is never repeated blindly


async def test_rate_limited_code_30(bot: BotHarness, sim: MobizonSimulator) -> None:
    """Mobizon's code 30 is answered as "too many requests, try again", with the SMS not sent."""
    sim.rate_limit_next("sendSmsMessage")
    said, row = await failed_send(bot)
    assert "too many requests" in said
    assert "was not sent" in said
    assert row.state is records.SendState.FAILED
    assert sim.count("sendSmsMessage") == 1


@pytest.mark.parametrize("code", [4, 5, 6, 11])
async def test_malformed_request_codes_are_told_not_sent(
    bot: BotHarness, sim: MobizonSimulator, code: int
) -> None:
    """Codes 4, 5, 6, 11 mean Mobizon did nothing: "not sent", marked failed, no lookup owed."""
    sim.fail_next("sendSmsMessage", code)
    said, row = await failed_send(bot)
    assert "was not sent" in said
    assert "may still have been sent" not in said
    assert "/sms find" not in said
    assert row.state is records.SendState.FAILED
    assert sim.count("sendSmsMessage") == 1


async def test_status_and_find_errors_are_sentences(bot: BotHarness, sim: MobizonSimulator) -> None:
    """A refused status lookup or search is answered with Mobizon's reason, not a traceback."""
    sim.fail_next("getSMSStatus", 9)
    sim.fail_next("list", 1, data={"criteria[to]": "Too short."})
    await bot.command("status 6300284")
    await bot.command("find to:55")
    responses = await bot.slack.wait_for_responses(2)
    said = "\n".join(r.params["text"] for r in responses)
    assert "I could not get the status" in said
    assert "not allowed to use this method" in said
    assert "I could not search the SMS" in said
    assert "criteria[to]: Too short" in said


async def test_unexpected_exception_is_logged_and_answered(
    bot: BotHarness,
    sim: MobizonSimulator,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug in a listener is logged with its traceback, the user gets a sentence, the bot lives."""

    def broken(*_args: object, **_kwargs: object) -> list[records.SmsRecord]:
        msg = "simulated bug in the status lookup"
        raise RuntimeError(msg)

    monkeypatch.setattr(messages, "latest_in_channel", broken)
    status, _ = await bot.command("status")
    assert status == 200
    (response,) = await bot.slack.wait_for_responses(1)
    assert response.params["text"] == UNEXPECTED_ERROR
    assert "simulated bug" not in response.params["text"]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]
    assert errors
    formatted = logging.Formatter().format(errors[0])
    assert "Traceback" in formatted
    assert "RuntimeError: simulated bug in the status lookup" in formatted

    # the process lives: the next command works, and health is still green
    await bot.command(f"send {PHONE} still here")
    await bot.slack.wait_for("chat.postMessage")
    assert sim.count("sendSmsMessage") == 1
    async with bot.session.get(bot.url + "healthz") as resp:
        assert resp.status == 200


async def test_unexpected_exception_during_send_leaves_no_dangling_claim(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug while sending marks the SMS "unknown" (never "sent"); the user is told to check, not retry."""
    gateway = bot.runtime.started().gateway

    async def broken(*_args: object, **_kwargs: object) -> None:
        msg = "simulated bug in the client"
        raise RuntimeError(msg)

    monkeypatch.setattr(gateway, "send_sms", broken)
    await bot.command(f"send {PHONE} hello")
    (response,) = await bot.slack.wait_for_responses(1)
    assert "may or may not have gone out" in response.params["text"]
    assert "/sms find to:5511987654321" in response.params["text"]
    assert "try again" not in response.params["text"]
    db = bot.db
    (row,) = [records.sms_from_row(r) for r in run_sql(db, "SELECT * FROM sms")]
    assert row.state is records.SendState.UNKNOWN
    assert bot.slack.called("chat.postMessage") == []


async def test_a_sent_sms_whose_post_fails_is_reported_sent_not_retried(
    bot: BotHarness, sim: MobizonSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When posting in the channel breaks after Mobizon took the SMS, the user hears it was sent.

    The post is made later, once posting works again; the SMS is sent once.
    """

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise TimeoutError

    monkeypatch.setattr(FirstPosts, "_post", broken)
    await bot.command(f"send {PHONE} hello")
    (response,) = await bot.slack.wait_for_responses(1)
    (message_id,) = sim.messages
    assert f"SMS {message_id} to +55 11 98765-4321 was sent" in response.params["text"]
    assert "I have not posted it in this channel yet" in response.params["text"]
    assert "try again" not in response.params["text"]
    db = bot.db
    row = messages.get_by_message_id(db, message_id)
    assert row is not None
    assert row.state is records.SendState.SENT
    monkeypatch.undo()
    await wait_until(
        lambda: getattr(messages.get_by_message_id(db, message_id), "slack_ts", None),
        what="the post made once posting works again",
    )
    (post,) = bot.slack.called("chat.postMessage")
    assert post.params["channel"] == "C1"
    assert sim.count("sendSmsMessage") == 1


async def test_a_sent_sms_that_cannot_be_recorded_is_reported_sent(
    bot: BotHarness, sim: MobizonSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If storing Mobizon's answer fails, the user still hears the SMS was sent, with its id."""

    def broken(*_args: object, **_kwargs: object) -> None:
        msg = "UNIQUE constraint failed: sms.message_id"
        raise sqlite3.IntegrityError(msg)

    monkeypatch.setattr(claims, "record_sent", broken)
    await bot.command(f"send {PHONE} hello")
    (response,) = await bot.slack.wait_for_responses(1)
    (message_id,) = sim.messages
    assert f"SMS {message_id} to +55 11 98765-4321 was sent" in response.params["text"]
    assert f"/sms status {message_id}" in response.params["text"]
    assert sim.count("sendSmsMessage") == 1


async def test_a_reused_message_id_never_updates_the_earlier_sms(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Mobizon restarted and reused an id: the user is told, and neither SMS's message is edited."""
    await bot.command(f"send {PHONE} first")
    await bot.slack.wait_for("chat.postMessage")
    (first_id,) = sim.messages
    sim._next_message_id = first_id  # the gateway forgot it: the next SMS gets the same id
    await bot.command(f"send {PHONE} second")
    (response,) = await bot.slack.wait_for_responses(1)
    said = response.params["text"]
    assert f"SMS {first_id} to +55 11 98765-4321 was sent" in said
    assert "follows neither" in said
    assert sim.messages[first_id].text == "second"
    db = bot.db
    first, second = [records.sms_from_row(r) for r in run_sql(db, "SELECT * FROM sms ORDER BY id")]
    assert (first.message_id, first.text, first.gave_up_at is not None) == (first_id, "first", True)
    assert (second.state, second.message_id) == (records.SendState.UNKNOWN, None)
    # the second SMS is delivered at Mobizon; polling and the webhook's reports never reach the first
    sim.advance(60)
    tracking = bot.runtime.tracking
    assert tracking is not None
    asked = sim.count("getSMSStatus")  # a scheduled cycle may have asked about the first before
    await tracking.poller.run_once()
    assert sim.count("getSMSStatus") == asked  # nothing left to ask about
    update = StatusUpdate(message_id=first_id, status="DELIVRD", status_ts=None, source="webhook")
    assert apply_status(db, update) is None
    row = messages.get_sms(db, first.id)
    assert row is not None
    assert row.status == "NEW"
    for call in bot.slack.called("chat.update"):
        assert "DELIVRD" not in str(call.params)


def _bug(*_args: object, **_kwargs: object) -> str:
    msg = "simulated bug after the ack"
    raise RuntimeError(msg)


def _logged_bug(caplog: pytest.LogCaptureFixture) -> bool:
    """Whether the simulated bug was logged with its traceback."""
    return any(
        r.exc_info and "simulated bug after the ack" in logging.Formatter().format(r)
        for r in caplog.records
        if r.levelno >= logging.ERROR
    )


async def test_a_bug_after_a_modal_submission_is_told_in_a_direct_message(
    bot: BotHarness,
    sim: MobizonSimulator,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A modal has no response URL: a bug after its ack is logged and told in a direct message."""
    assert await bot.command("") == (200, "")
    await bot.slack.wait_for("views.open")
    monkeypatch.setattr(send_outcomes, "render", _bug)
    values = state(sms_phone=PHONE, sms_text="hello")
    assert await submit(bot, bot.slack.views["V0001"], values) == (200, "")
    await wait_until(
        lambda: any(c.params["channel"] == "U1" for c in bot.slack.called("chat.postMessage")),
        what="the user to be told in a direct message",
    )
    (told,) = [c for c in bot.slack.called("chat.postMessage") if c.params["channel"] == "U1"]
    assert told.params["text"] == UNEXPECTED_ERROR
    assert _logged_bug(caplog)
    assert sim.count("sendSmsMessage") == 1


async def test_a_bug_after_a_shortcut_ack_is_told_privately_in_its_channel(
    bot: BotHarness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shortcut has no response URL: a bug after its ack is told privately in its channel."""
    monkeypatch.setattr(shortcut_listeners, "to_plain_text", _bug)
    payload = {
        "type": "message_action",
        "callback_id": "send_as_sms",
        "team": {"id": "T1", "domain": "acme"},
        "user": {"id": "U1", "name": "ana"},
        "channel": {"id": "C7", "name": "orders"},
        "trigger_id": "1337.42.shortcut",
        "message_ts": "1700000000.000100",
        "message": {"type": "message", "text": "hi", "ts": "1700000000.000100", "user": "U2"},
    }
    assert await bot.post_signed(urlencode({"payload": json.dumps(payload)})) == (200, "")
    (told,) = await bot.slack.wait_for("chat.postEphemeral")
    assert (told.params["channel"], told.params["user"]) == ("C7", "U1")
    assert told.params["text"] == UNEXPECTED_ERROR
    assert "simulated bug" not in told.params["text"]
    assert _logged_bug(caplog)
    assert bot.slack.called("views.open") == []
