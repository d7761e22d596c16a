"""``POST /mobizon/webhook`` on the running bot: signatures, duplicates, unknown SMS, bad bodies."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlite_utils import Database

from bot.simulator import MobizonSimulator, sign
from storage import SmsRecord, Store, delivery, get_by_message_id
from tests.conftest import WEBHOOK_SECRET, BotHarness
from tests.delivery.conftest import (
    SeedSms,
    channel_message,
    outbox_drained,
    thread_replies,
)


def event(
    event_id: int,
    message_id: int,
    status: str = "DELIVRD",
    *,
    attempt: int = 1,
    secret: str | None = WEBHOOK_SECRET,
    status_ts: str = "2026-01-15 11:42:08",
) -> dict[str, Any]:
    """A delivery report as Mobizon posts it, signed with ``secret`` (unsigned when None)."""
    created = "2026-01-15 11:42:28"
    body: dict[str, Any] = {
        "eventId": event_id,
        "eventType": "sms-delivery-report",
        "eventCreateTs": created,
        "webhookId": 1,
        "attempt": attempt,
        "data": {
            "campaignId": 245455096,
            "messageId": message_id,
            "segNum": 1,
            "statusUpdateTs": status_ts,
            "status": status,
            "to": "5511987654321",
        },
    }
    if secret is not None:
        body["sign"] = sign(event_id, attempt, created, secret)
    return body


async def post(bot: BotHarness, body: dict[str, Any] | bytes) -> tuple[int, dict[str, Any]]:
    """POST a webhook body to the bot; return the HTTP status and its JSON answer."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with bot.session.post(
        bot.url + "mobizon/webhook", data=raw, headers={"Content-Type": "application/json"}
    ) as resp:
        return resp.status, await resp.json()


@pytest.fixture
async def signed_bot(
    start_bot: Callable[..., Any], simulator: tuple[MobizonSimulator, str]
) -> BotHarness:
    """The bot with MOBIZON_WEBHOOK_SECRET set."""
    harness: BotHarness = await start_bot(simulator[1], mobizon_webhook_secret=WEBHOOK_SECRET)
    return harness


def bot_db(bot: BotHarness) -> Database:
    """The test's own connection to the running bot's database."""
    return bot.db


def bot_store(bot: BotHarness) -> Store:
    """The running bot's store (its database, off the event loop)."""
    assert bot.runtime.store is not None
    return bot.runtime.store


def status_of(bot: BotHarness, message_id: int) -> str | None:
    """The status the bot has stored for one SMS."""
    sms = get_by_message_id(bot_db(bot), message_id)
    assert sms is not None
    return sms.status


async def test_good_sign_is_applied_and_reported_in_the_thread(
    signed_bot: BotHarness, seed_sms: SeedSms
) -> None:
    """A correctly signed report is answered 200, applied, and announced once in the thread."""
    sms = seed_sms(bot_db(signed_bot), 169275418, slack=signed_bot.slack)
    status, answer = await post(signed_bot, event(26, 169275418))
    assert (status, answer) == (200, {"ok": True, "duplicate": False})
    assert status_of(signed_bot, 169275418) == "DELIVRD"
    await outbox_drained(bot_db(signed_bot))
    assert len(thread_replies(signed_bot.slack, sms)) == 1
    assert "DELIVRD" in channel_message(signed_bot.slack, sms)["text"]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(event(26, 7, secret="not-the-secret"), id="wrong-secret"),
        pytest.param(event(26, 7, secret=None), id="no-sign"),
        pytest.param({**event(26, 7), "attempt": 2}, id="sign-of-another-attempt"),
        pytest.param({**event(26, 7), "sign": "é" * 40}, id="non-ascii-sign"),
    ],
)
async def test_bad_or_missing_sign_is_refused(
    signed_bot: BotHarness, seed_sms: SeedSms, body: dict[str, Any]
) -> None:
    """With a secret set, a wrong or missing sign gets 403 and changes nothing."""
    seed_sms(bot_db(signed_bot), 7, slack=signed_bot.slack)
    status, answer = await post(signed_bot, body)
    assert status == 403
    assert answer == {"ok": False, "error": "bad sign"}
    assert status_of(signed_bot, 7) == "NEW"
    assert delivery.outbox_size(bot_db(signed_bot)) == 0
    assert not delivery.webhook_event_seen(bot_db(signed_bot), 26)


async def test_same_event_twice_notifies_once(signed_bot: BotHarness, seed_sms: SeedSms) -> None:
    """Mobizon's retry of an eventId is acknowledged and ignored: one status change, one reply."""
    sms = seed_sms(bot_db(signed_bot), 7, slack=signed_bot.slack)
    assert await post(signed_bot, event(26, 7)) == (200, {"ok": True, "duplicate": False})
    assert await post(signed_bot, event(26, 7, attempt=2)) == (200, {"ok": True, "duplicate": True})
    await outbox_drained(bot_db(signed_bot))
    assert len(thread_replies(signed_bot.slack, sms)) == 1
    assert [h.status for h in delivery.status_history(bot_db(signed_bot), 7)] == ["NEW", "DELIVRD"]


async def test_unknown_message_is_acknowledged_and_nothing_is_posted(
    signed_bot: BotHarness, seed_sms: SeedSms
) -> None:
    """A report about an SMS this bot did not send gets 200 and no Slack call."""
    sms = seed_sms(bot_db(signed_bot), 7, slack=signed_bot.slack)
    assert (await post(signed_bot, event(40, 123456)))[0] == 200
    # a known SMS's report afterwards: once it is posted, the unknown one had its chance too
    assert (await post(signed_bot, event(41, 7)))[0] == 200
    await outbox_drained(bot_db(signed_bot))
    assert len(thread_replies(signed_bot.slack, sms)) == 1
    channels = {(c.params["channel"], c.params.get("ts")) for c in signed_bot.slack.calls}
    assert channels == {("C1", None), ("C1", sms.slack_ts)}
    assert get_by_message_id(bot_db(signed_bot), 123456) is None


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{not json", "body is not JSON"),
        (b"\xff\xfe", "body is not JSON"),
        (b"[1, 2]", "body has no data object"),
        (json.dumps({"eventId": 1, "eventCreateTs": "x"}).encode(), "body has no data object"),
        (json.dumps({**event(1, 7), "eventId": "abc"}).encode(), "missing or malformed field"),
        (
            json.dumps({**event(1, 7), "data": {"messageId": 7}}).encode(),
            "missing or malformed field",
        ),
        (
            json.dumps({**event(1, 7), "data": {**event(1, 7)["data"], "status": " "}}).encode(),
            "data.status is empty",
        ),
        (json.dumps({**event(1, 7), "eventId": 2**63}).encode(), "eventId is out of range"),
        (
            json.dumps({**event(1, 7), "data": {**event(1, 7)["data"], "messageId": -7}}).encode(),
            "messageId is out of range",
        ),
    ],
)
async def test_malformed_body_gets_400(
    signed_bot: BotHarness, seed_sms: SeedSms, body: bytes, error: str
) -> None:
    """A body that is not a delivery report is refused with 400 saying why."""
    seed_sms(bot_db(signed_bot), 7, slack=signed_bot.slack)
    status, answer = await post(signed_bot, body)
    assert status == 400
    assert answer["ok"] is False
    assert answer["error"].startswith(error)
    assert status_of(signed_bot, 7) == "NEW"


async def test_answered_without_waiting_for_slack(
    signed_bot: BotHarness, seed_sms: SeedSms
) -> None:
    """The webhook answers 200 while Slack is down: the status is stored, the post waits queued."""
    sms = seed_sms(bot_db(signed_bot), 7, slack=signed_bot.slack)
    signed_bot.slack.down = True
    assert (await post(signed_bot, event(26, 7)))[0] == 200
    assert status_of(signed_bot, 7) == "DELIVRD"
    assert delivery.outbox_size(bot_db(signed_bot)) == 1
    signed_bot.slack.down = False
    await outbox_drained(bot_db(signed_bot), within=30)
    assert len(thread_replies(signed_bot.slack, sms)) == 1


async def test_unsigned_reports_accepted_without_a_secret(
    bot: BotHarness, seed_sms: SeedSms
) -> None:
    """Without MOBIZON_WEBHOOK_SECRET an unsigned report is applied (Mobizon sends no sign)."""
    seed_sms(bot_db(bot), 7, slack=bot.slack)
    assert (await post(bot, event(26, 7, secret=None)))[0] == 200
    assert status_of(bot, 7) == "DELIVRD"


async def test_stale_report_after_delivery_changes_nothing(
    signed_bot: BotHarness, seed_sms: SeedSms
) -> None:
    """DELIVRD then a stale ACCEPTD: the SMS stays delivered, in the database and in Slack."""
    sms: SmsRecord = seed_sms(bot_db(signed_bot), 7, slack=signed_bot.slack)
    assert (await post(signed_bot, event(26, 7, "DELIVRD", status_ts="2026-01-15 11:42:08")))[
        0
    ] == 200
    await outbox_drained(bot_db(signed_bot))
    assert (await post(signed_bot, event(27, 7, "ACCEPTD", status_ts="2026-01-15 11:41:00")))[
        0
    ] == 200
    assert (await post(signed_bot, event(28, 7, "ACCEPTD", status_ts="2026-01-15 11:50:00")))[
        0
    ] == 200
    await outbox_drained(bot_db(signed_bot))
    assert status_of(signed_bot, 7) == "DELIVRD"
    assert ":white_check_mark: DELIVRD (delivered)" in str(
        channel_message(signed_bot.slack, sms)["blocks"]
    )
    assert len(signed_bot.slack.called("chat.update")) == 1
    assert len(thread_replies(signed_bot.slack, sms)) == 1
