"""Outbox rows queued under made-up statuses before revision 0010 become rows of their kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import exc

from handlers.notifier import Notifier
from storage import outbox, outbox_queue
from storage.claims import record_sent
from storage.delivery import StatusUpdate, apply_status
from storage.engine import make_engine, parse_database_url
from storage.outbox import NotificationKind, PostNote
from storage.schema import alembic_config
from storage.store import Store
from testkit.clock import FastForwardClock
from testkit.database import run_sql
from testkit.slack import BOT_TOKEN, FakeSlack

if TYPE_CHECKING:
    from collections.abc import Callable

    from storage.engine import Database
    from storage.records import SmsRecord

#: One sent SMS of each outcome, as a release at revision 0009 left it: its post in the channel,
#: and the outbox row that release queued for it (message id, status, kind).
_OLD_ROWS = {
    7: ("DELIVRD", "status"),  # delivered: edit, and a thread reply
    8: ("COST", "status"),  # its cost known: edit only
    9: ("DECLINED", "giveup"),  # declined by the moderators: edit, and a thread reply
    10: ("GAVEUP", "giveup"),  # no final status in time: edit, and a thread reply
}
_SMS = (
    "INSERT INTO sms (trigger_id, team_id, channel_id, user_id, recipient, text, state, message_id,"
    " status, created_at, updated_at, sent_at, final_at, gave_up_at, moderation, cost, currency,"
    " slack_channel, slack_ts) VALUES ('t' || :id, 'T1', 'C1', 'U1', '5511987654321', 'hi',"
    " 'sent', :id, :status, :at, :at, :at, :final_at, :gave_up_at, :moderation, :cost, :currency,"
    " 'C1', :ts)"
)
_OUTBOX = (
    "INSERT INTO outbox (message_id, status, kind, created_at, next_attempt_at, update_done,"
    " reply_done) VALUES (:id, :status, :kind, :at, :at, false, :reply_done)"
)
_AT = "2026-01-15T12:00:00+00:00"


def _at_0009(db: Database, slack: FakeSlack) -> None:
    """Migrate ``db`` to revision 0009 and write the SMS and outbox rows of :data:`_OLD_ROWS`."""
    from alembic import command  # noqa: PLC0415  # Alembic loads slowly

    with db.begin():
        command.upgrade(alembic_config(db), "0009")
    for message_id, (status, kind) in _OLD_ROWS.items():
        ts = f"1600000000.{message_id:06d}"
        slack.messages[("C1", ts)] = {"channel": "C1", "text": "SMS sent"}
        run_sql(
            db,
            _SMS,
            id=message_id,
            status="DELIVRD" if message_id in (7, 8) else "NEW",
            at=_AT,
            final_at=_AT if message_id in (7, 8) else None,
            gave_up_at=_AT if kind == "giveup" else None,
            moderation="declined" if status == "DECLINED" else None,
            cost="0.25" if status == "COST" else None,
            currency="BRL" if status == "COST" else None,
            ts=ts,
        )
        run_sql(
            db,
            _OUTBOX,
            id=message_id,
            status=status,
            kind=kind,
            at=_AT,
            reply_done=status == "COST",
        )


def _thread(slack: FakeSlack, message_id: int) -> list[dict[str, Any]]:
    ts = f"1600000000.{message_id:06d}"
    return [params for params in slack.messages.values() if params.get("thread_ts") == ts]


async def test_rows_of_made_up_statuses_upgrade_to_kinds_the_notifier_posts(
    database_url: str, fake_slack: FakeSlack
) -> None:
    """A database at 0009 with COST, DECLINED and GAVEUP rows upgrades to kinds, each posted right."""
    engine = make_engine(parse_database_url(database_url), keep=False)
    with engine.connect() as db:
        _at_0009(db, fake_slack)
    store = await Store.open(database_url)  # migrates to the newest revision
    try:
        due = await store.read(outbox.due_notifications)
        assert {(n.message_id, n.kind, n.status) for n in due} == {
            (7, NotificationKind.STATUS, "DELIVRD"),
            (8, NotificationKind.COST, None),
            (9, NotificationKind.DECLINED, None),
            (10, NotificationKind.GIVEUP, None),
        }
        clock = FastForwardClock()
        async with aiohttp.ClientSession() as session:
            client = AsyncWebClient(
                token=BOT_TOKEN, base_url=fake_slack.url + "api/", session=session
            )
            notifier = Notifier(store, client, clock=clock, retry_base=0.01)
            assert await notifier.drain() == 4
        assert await store.read(outbox.outbox_size) == 0
    finally:
        await store.close()
        engine.dispose()
    edited = {call.params["ts"] for call in fake_slack.called("chat.update")}
    assert edited == {f"1600000000.{message_id:06d}" for message_id in _OLD_ROWS}
    assert "DELIVRD (delivered)" in fake_slack.messages[("C1", "1600000000.000007")]["text"]
    assert "0.25" in str(fake_slack.messages[("C1", "1600000000.000008")]["blocks"])
    (delivered,) = _thread(fake_slack, 7)
    assert "was delivered" in delivered["text"]
    assert _thread(fake_slack, 8) == []  # a cost edits the post and says nothing more
    (declined,) = _thread(fake_slack, 9)
    assert "declined by Mobizon's moderators" in declined["text"]
    (gave_up,) = _thread(fake_slack, 10)
    assert "no final status from Mobizon" in gave_up["text"]


def test_a_row_of_a_kind_without_status_waits_once_per_sms(
    db: Database, make_sms: Callable[..., SmsRecord]
) -> None:
    """A cost row is queued once per SMS while it waits; status rows of the SMS are apart."""
    make_sms(db, message_id=7)
    moment = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    first = outbox_queue.queue_notification(db, 7, NotificationKind.COST, moment)
    again = outbox_queue.queue_notification(db, 7, NotificationKind.COST, moment)
    status = outbox_queue.queue_notification(
        db, 7, NotificationKind.STATUS, moment, status="DELIVRD", reply_owed=True
    )
    assert first is not None
    assert again is None
    assert status is not None
    kinds = run_sql(db, "SELECT kind, status FROM outbox WHERE message_id = 7 ORDER BY id")
    assert [tuple(row.values()) for row in kinds][-2:] == [("cost", None), ("status", "DELIVRD")]


def test_only_a_status_row_has_a_status(db: Database, make_sms: Callable[..., SmsRecord]) -> None:
    """A made-up status on a row of another kind, or a status row without one, is refused."""
    make_sms(db, message_id=7)
    moment = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="status"):
        outbox_queue.queue_notification(db, 7, NotificationKind.GIVEUP, moment, status="GAVEUP")
    with pytest.raises(ValueError, match="status"):
        outbox_queue.queue_notification(db, 7, NotificationKind.STATUS, moment)
    with pytest.raises(exc.IntegrityError):
        run_sql(db, _OUTBOX, id=7, status="GAVEUP", kind="giveup", at=_AT, reply_done=False)


def test_recording_a_send_queues_its_post_once_with_its_note(
    db: Database, make_sms: Callable[..., SmsRecord]
) -> None:
    """A sent SMS's first post is an outbox row written with its record; recorded again, not twice."""
    claimed = make_sms(db)
    sent = record_sent(
        db, claimed.id, message_id=7, campaign_id=1, campaign_status=2, note=PostNote.RECOVERED
    )
    again = record_sent(db, claimed.id, message_id=7, campaign_id=1, campaign_status=2)
    assert again == sent
    (post,) = outbox.due_notifications(db)
    assert (post.kind, post.status, post.note, post.reply_done) == (
        NotificationKind.POST,
        None,
        PostNote.RECOVERED,
        True,
    )
    assert outbox.first_post(db, 7) == outbox.FirstPost(
        waiting=True, attempts=0, slack_ts=None, post_error=None
    )


def test_an_sms_without_a_channel_has_no_post_queued(
    db: Database, make_sms: Callable[..., SmsRecord]
) -> None:
    """An SMS with no channel to be posted in is recorded with no post row."""
    make_sms(db, message_id=7, channel_id="")
    assert outbox.outbox_size(db) == 0


def test_an_sms_s_rows_wait_for_its_post(db: Database, make_sms: Callable[..., SmsRecord]) -> None:
    """While its post row waits (even put off), no later row of the SMS is due; then they are."""
    make_sms(db, message_id=7)
    make_sms(db, message_id=8)
    (post_7, _post_8) = outbox.due_notifications(db)
    for message_id in (7, 8):
        apply_status(db, StatusUpdate(message_id, "DELIVRD", None, source="poll"))
    outbox.retry_notification(db, post_7.id, delay=0, error="ratelimited")
    later = datetime.now(UTC) + timedelta(seconds=1)  # the retry is due again
    due = outbox.due_notifications(db, now=later)
    assert [(n.message_id, n.kind) for n in due] == [
        (7, NotificationKind.POST),
        (8, NotificationKind.POST),
    ]
    assert outbox.due_channels(db, now=later) == ["C1"]
    outbox.record_post(db, post_7.sms.id, channel="C1", ts="1.0")
    assert outbox.first_post(db, 7).slack_ts == "1.0"  # made; its row not finished yet
    assert [n.kind for n in outbox.due_notifications(db, now=later)] == [NotificationKind.POST] * 2
    outbox.finish_notification(db, post_7.id)
    due = outbox.due_notifications(db, now=later)
    assert [(n.message_id, n.kind) for n in due] == [
        (8, NotificationKind.POST),
        (7, NotificationKind.STATUS),
    ]
    assert outbox.first_post(db, 7) == outbox.FirstPost(
        waiting=False, attempts=0, slack_ts="1.0", post_error=None
    )


def test_an_sms_slack_will_not_post_is_notified_to_its_sender(
    db: Database, make_sms: Callable[..., SmsRecord]
) -> None:
    """Its post refused, an SMS's rows drain in its sender's notification channel, not the channel's."""
    make_sms(db, message_id=7, channel_id="G1", user_id="U7")
    (post,) = outbox.due_notifications(db)
    assert outbox.due_channels(db) == ["G1"]
    outbox.refuse_post(db, post.sms.id, error="not_in_channel")
    outbox.finish_notification(db, post.id)
    apply_status(db, StatusUpdate(7, "DELIVRD", None, source="poll"))
    assert outbox.due_channels(db) == ["U7"]
    assert outbox.first_post(db, 7) == outbox.FirstPost(
        waiting=False, attempts=0, slack_ts=None, post_error="not_in_channel"
    )
