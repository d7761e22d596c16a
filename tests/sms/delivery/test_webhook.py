"""``POST /mobizon/webhook`` on the running bot: signatures, duplicates, unknown SMS, bad bodies."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.simulator import MobizonSimulator
from bot.sms.delivery import poller as poller_module
from bot.sms.delivery.poller import Poller
from bot.sms.delivery.webhook import CLOCK_DRIFT, CLOCK_SKEW, EVENT_ID_MEMORY_FLOOR, MAX_EVENT_AGE
from storage import delivery, outbox, webhooks
from storage.messages import get_by_message_id
from storage.records import SmsRecord
from testkit.clock import ManualClock
from tests.conftest import WEBHOOK_SECRET, BotHarness
from tests.sms.delivery.conftest import (
    SeedSms,
    bot_db,
    channel_message,
    event,
    outbox_drained,
    post,
    thread_replies,
)


@pytest.fixture
async def signed_bot(
    simulator: tuple[MobizonSimulator, str], start_bot: Callable[..., Any]
) -> BotHarness:
    """The bot with MOBIZON_WEBHOOK_SECRET set."""
    harness: BotHarness = await start_bot(simulator[1], mobizon_webhook_secret=WEBHOOK_SECRET)
    return harness


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
    assert outbox.outbox_size(bot_db(signed_bot)) == 0
    assert not webhooks.webhook_event_seen(bot_db(signed_bot), 26)


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
    assert outbox.outbox_size(bot_db(signed_bot)) == 1
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


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


async def test_old_event_replayed_with_other_data_is_refused(
    signed_bot: BotHarness, seed_sms: SeedSms
) -> None:
    """A signed event captured 8 days ago (its id pruned) and replayed with new data is refused."""
    seed_sms(bot_db(signed_bot), 7, slack=signed_bot.slack)
    captured = datetime.now(UTC) - timedelta(days=8)
    body = event(26, 7, "UNDELIV", created=_stamp(captured))
    status, answer = await post(signed_bot, body)
    assert status == 400
    assert answer["error"].startswith("event is too old")
    assert status_of(signed_bot, 7) == "NEW"
    assert not webhooks.webhook_event_seen(bot_db(signed_bot), 26)


@pytest.mark.parametrize("offset_hours", [-12, -3, 0, 5, 14])
async def test_fresh_event_accepted_whatever_mobizons_time_zone(
    signed_bot: BotHarness, seed_sms: SeedSms, offset_hours: int
) -> None:
    """An event made a minute ago is applied whatever zone Mobizon writes its time in."""
    seed_sms(bot_db(signed_bot), 7, slack=signed_bot.slack)
    wall = datetime.now(UTC) - timedelta(minutes=1) + timedelta(hours=offset_hours)
    assert (await post(signed_bot, event(26, 7, created=_stamp(wall))))[0] == 200
    assert status_of(signed_bot, 7) == "DELIVRD"


async def test_an_hour_old_retry_is_accepted_with_an_injected_clock(
    signed_bot: BotHarness, seed_sms: SeedSms
) -> None:
    """Mobizon's last retry (about an hour late) passes; two days late, with the clock moved, not."""
    seed_sms(bot_db(signed_bot), 7, slack=signed_bot.slack)
    created = datetime(2026, 1, 15, 11, 42, 28, tzinfo=UTC)
    body = event(26, 7, created=_stamp(created))
    signed_bot.runtime.clock = ManualClock(created + timedelta(days=2, hours=15))
    assert (await post(signed_bot, body))[0] == 400
    signed_bot.runtime.clock = ManualClock(created + timedelta(hours=1))
    assert (await post(signed_bot, body))[0] == 200
    assert status_of(signed_bot, 7) == "DELIVRD"


@pytest.mark.parametrize(
    ("memory", "remembered"),
    [
        pytest.param(None, True, id="the-poller's-memory"),
        pytest.param(EVENT_ID_MEMORY_FLOOR, True, id="exactly-the-floor"),
        pytest.param(EVENT_ID_MEMORY_FLOOR - timedelta(seconds=1), False, id="a-second-short"),
    ],
)
async def test_replay_at_the_last_acceptable_moment_after_pruning_is_a_duplicate(
    signed_bot: BotHarness,
    seed_sms: SeedSms,
    monkeypatch: pytest.MonkeyPatch,
    memory: timedelta | None,
    remembered: bool,
) -> None:
    """After the poll cycle's pruning, a replay accepted at the latest moment is a duplicate."""
    if memory is not None:
        monkeypatch.setattr(poller_module, "WEBHOOK_EVENT_MEMORY", memory)
    seed_sms(bot_db(signed_bot), 7, slack=signed_bot.slack)
    # read in UTC+14 with a clock running ahead, the stamp is as far in the future as allowed
    stamp = datetime.now(UTC).replace(microsecond=0)
    first_seen = stamp - CLOCK_SKEW - CLOCK_DRIFT
    # read in UTC-12, it is as old as allowed: the last moment any replay of it passes
    last_chance = stamp + MAX_EVENT_AGE + CLOCK_SKEW
    captured = event(26, 7, created=_stamp(stamp))
    signed_bot.runtime.clock = ManualClock(first_seen - timedelta(seconds=1))
    assert (await post(signed_bot, captured))[1]["error"] == "eventCreateTs is in the future"
    signed_bot.runtime.clock = ManualClock(first_seen)
    assert await post(signed_bot, captured) == (200, {"ok": True, "duplicate": False})
    await outbox_drained(bot_db(signed_bot))
    updates = len(signed_bot.slack.called("chat.update"))
    # the running bot's store and gateway, pruned as its poll cycle does, as of the last chance
    started = signed_bot.runtime.started()
    cycle = Poller(started.store, started.gateway, clock=ManualClock(last_chance))
    assert (await cycle.run_once()).asked == 0
    # ``sign`` does not cover ``data``: the captured event replayed about another SMS
    other = seed_sms(bot_db(signed_bot), 8, slack=signed_bot.slack, sent_at=last_chance)
    replay = {**captured, "data": {**captured["data"], "messageId": 8, "status": "UNDELIV"}}
    signed_bot.runtime.clock = ManualClock(last_chance + timedelta(seconds=1))
    assert (await post(signed_bot, replay))[1]["error"].startswith("event is too old")
    signed_bot.runtime.clock = ManualClock(last_chance)
    assert await post(signed_bot, replay) == (200, {"ok": True, "duplicate": remembered})
    await outbox_drained(bot_db(signed_bot))
    assert status_of(signed_bot, 8) == ("NEW" if remembered else "UNDELIV")
    assert len(signed_bot.slack.called("chat.update")) == updates + (not remembered)
    assert bool(thread_replies(signed_bot.slack, other)) is not remembered
    assert [h.status for h in delivery.status_history(bot_db(signed_bot), 7)] == ["NEW", "DELIVRD"]


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 30_000 + b"]" * 30_000,
        b'{"eventId": 1e400}',
        b'{"eventId": NaN}',
        b"\xff\xfe{",
        b"{oops",
        b"payload=%7Bnot+json",
    ],
    ids=["deeply nested", "1e400", "NaN", "invalid UTF-8", "{oops", "payload= form"],
)
async def test_hostile_bodies_get_400_without_a_traceback(
    signed_bot: BotHarness, caplog: pytest.LogCaptureFixture, raw: bytes
) -> None:
    """Deep nesting, 1e400, NaN, invalid UTF-8: 400, at most one WARNING, no ERROR or traceback."""
    caplog.set_level(logging.DEBUG)
    status, _ = await post(signed_bot, raw)
    assert status == 400
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) <= 1
    assert not [r for r in caplog.records if r.levelno > logging.WARNING]
    assert not [r for r in caplog.records if r.exc_info or r.exc_text]


async def test_1e400_in_a_field_gets_400(signed_bot: BotHarness, seed_sms: SeedSms) -> None:
    """A messageId of 1e400 (infinity once read) is a malformed field, not a 500."""
    seed_sms(bot_db(signed_bot), 7, slack=signed_bot.slack)
    raw = json.dumps(event(26, 7)).replace('"messageId": 7', '"messageId": 1e400').encode()
    status, answer = await post(signed_bot, raw)
    assert status == 400
    assert answer["error"].startswith("missing or malformed field")


HOSTILE = "<!channel> <https://evil.example|x> & <@U999>"


def live_markup(text: str) -> list[str]:
    """Mentions and links Slack would render live in mrkdwn ``text``."""
    return [m for m in ("<!channel>", "<https://evil.example", "<@U999>") if m in text]


async def test_hostile_status_is_escaped_and_shown_as_unknown(
    signed_bot: BotHarness, seed_sms: SeedSms
) -> None:
    """A webhook status carrying a mention and a link reaches Slack escaped, marked unknown."""
    sms = seed_sms(bot_db(signed_bot), 7, slack=signed_bot.slack)
    assert (await post(signed_bot, event(26, 7, HOSTILE)))[0] == 200
    await outbox_drained(bot_db(signed_bot))
    shown = json.dumps(channel_message(signed_bot.slack, sms))
    assert not live_markup(shown), shown
    assert "&lt;!channel&gt;" in shown
    assert "(unknown status)" in shown


async def test_a_report_never_reaches_an_sms_sent_in_the_other_mode(
    bot: BotHarness, seed_sms: SeedSms
) -> None:
    """A live bot acknowledges a report for a sandbox SMS's id but leaves that SMS alone."""
    seed_sms(bot_db(bot), 6300284, sandbox=True)
    seed_sms(bot_db(bot), 169275418)
    assert await post(bot, event(26, 6300284, secret=None)) == (
        200,
        {"ok": True, "duplicate": False},
    )
    assert status_of(bot, 6300284) == "NEW"
    await post(bot, event(27, 169275418, secret=None))
    assert status_of(bot, 169275418) == "DELIVRD"
