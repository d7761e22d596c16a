"""Statuses only move forward, every change is kept, and its outbox row is written with it."""

from __future__ import annotations

import ast
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import exc

from storage import delivery, outbox, webhooks
from storage.delivery import GAVE_UP, StatusUpdate, apply_status
from storage.engine import Database
from storage.messages import get_by_message_id, pending_statuses
from storage.outbox import NotificationKind
from storage.schema import open_database, utc_text
from storage.status import should_apply
from testkit.database import run_sql
from testkit.slack import FakeSlack
from tests.sms.delivery.conftest import SeedSms

#: The repository's root, for the tests that read the production code.
ROOT = Path(__file__).resolve().parents[3]

T1, T2, T3 = "2026-01-15 11:00:00", "2026-01-15 11:00:05", "2026-01-15 11:00:09"


@pytest.mark.parametrize(
    ("current", "current_ts", "new", "new_ts", "expected"),
    [
        (None, None, "NEW", None, True),
        ("NEW", None, "ENQUEUD", T1, True),
        ("ENQUEUD", T1, "ACCEPTD", T2, True),
        ("ACCEPTD", T2, "ENQUEUD", T3, False),  # backwards, even when reported later
        ("ACCEPTD", T2, "PDLIVRD", T1, False),  # an older statusUpdateTs never overwrites
        ("ACCEPTD", T2, "ACCEPTD", T3, False),  # the same status again is no change
        ("DELIVRD", T2, "ACCEPTD", T3, False),  # a final status is never replaced ...
        ("DELIVRD", T2, "UNDELIV", T3, False),  # ... not even by another final one
        ("EXPIRED", None, "DELIVRD", None, False),
        ("ACCEPTD", T2, "DELIVRD", T1, True),  # a final status beats any non-final one
        ("PDLIVRD", None, "REJECTD", None, True),
        ("NEW", None, "UNKNOWN", T1, True),  # equal rank: the bot's own NEW has no timestamp
        ("NEW", None, "UNKNOWN", None, True),
        ("UNKNOWN", T2, "NEW", T2, False),  # equal rank, same time: not newer
        ("UNKNOWN", T2, "NEW", T1, False),  # equal rank, older
        ("UNKNOWN", T2, "SENDING", None, False),  # equal rank, no time to prove it newer
        ("UNKNOWN", T1, "SENDING", T2, True),  # equal rank, newer
        ("UNKNOWN", T3, "ENQUEUD", T3, True),  # a higher rank at the same time
    ],
)
def test_should_apply(
    current: str | None, current_ts: str | None, new: str, new_ts: str | None, expected: bool
) -> None:
    """should_apply moves statuses forward only, by rank first and then by statusUpdateTs."""
    assert should_apply(current, current_ts, new, new_ts) is expected


def _update(message_id: int, status: str, ts: str | None, source: str = "poll") -> StatusUpdate:
    return StatusUpdate(message_id, status, ts, source=source)  # type: ignore[arg-type]


def test_lifecycle_keeps_history_and_queues_one_row_per_status(
    db: Database, seed_sms: SeedSms
) -> None:
    """Each forward step is written with a history row and an outbox row; stale ones are not."""
    seed_sms(db, 7)
    for status, ts in (("ENQUEUD", T1), ("ACCEPTD", T2), ("DELIVRD", T3)):
        applied = apply_status(db, _update(7, status, ts))
        assert applied is not None
        assert applied.sms.status == status
        assert applied.notification_id is not None
    assert apply_status(db, _update(7, "ACCEPTD", T3, "webhook")) is None
    assert apply_status(db, _update(7, "DELIVRD", T3, "webhook")) is None

    sms = get_by_message_id(db, 7)
    assert sms is not None
    assert sms.status == "DELIVRD"
    assert sms.status_ts == T3
    assert sms.is_final
    history = delivery.status_history(db, 7)
    assert [(h.status, h.source) for h in history] == [
        ("NEW", "command"),
        ("ENQUEUD", "poll"),
        ("ACCEPTD", "poll"),
        ("DELIVRD", "poll"),
    ]
    due = outbox.due_notifications(db)
    assert [(n.status, n.reply_done) for n in due] == [
        ("ENQUEUD", True),  # non-final: only the channel message is updated
        ("ACCEPTD", True),
        ("DELIVRD", False),  # final: a thread reply is owed
    ]


def test_unknown_message_is_ignored(db: Database, seed_sms: SeedSms) -> None:
    """A status for an SMS this bot did not send writes nothing."""
    seed_sms(db, 7)
    assert apply_status(db, _update(999, "DELIVRD", T1, "webhook")) is None
    assert outbox.outbox_size(db) == 0
    assert delivery.status_history(db, 999) == []


def test_status_and_outbox_row_are_one_transaction(
    db: Database, seed_sms: SeedSms, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When queuing the notification fails, the status change and its history are rolled back."""
    seed_sms(db, 7)

    def broken(*_args: object, **_kwargs: object) -> int:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(delivery, "queue_notification", broken)
    with pytest.raises(sqlite3.OperationalError):
        apply_status(db, _update(7, "DELIVRD", T1))
    sms = get_by_message_id(db, 7)
    assert sms is not None
    assert sms.status == "NEW"
    assert not sms.is_final
    assert [h.status for h in delivery.status_history(db, 7)] == ["NEW"]
    assert outbox.outbox_size(db) == 0


def test_sms_status_pair_is_queued_once(db: Database, seed_sms: SeedSms) -> None:
    """The outbox is keyed by (SMS, status): a status seen again is not queued twice."""
    seed_sms(db, 7)
    first = apply_status(db, _update(7, "UNKNOWN", T1))
    assert first is not None
    assert first.notification_id is not None
    assert apply_status(db, _update(7, "NEW", T2)) is not None
    again = apply_status(db, _update(7, "UNKNOWN", T3))
    assert again is not None  # the status did change back ...
    assert again.notification_id is None  # ... but its notification already waits
    assert [n.status for n in outbox.due_notifications(db)] == ["UNKNOWN", "NEW"]
    with pytest.raises(exc.IntegrityError):
        run_sql(
            db,
            "INSERT INTO outbox (message_id, status, kind, created_at, next_attempt_at,"
            " update_done, reply_done) VALUES (7, 'UNKNOWN', 'status', 'x', 'x', false, false)",
        )


def test_give_up_then_late_final_status(db: Database, seed_sms: SeedSms) -> None:
    """Giving up queues its own notification once; a final status Mobizon reports later still counts."""
    sms = seed_sms(db, 7)
    gave_up = delivery.give_up(db, sms.id)
    assert gave_up is not None
    assert delivery.give_up(db, sms.id) is None
    due = outbox.due_notifications(db)
    assert [(n.kind, n.status, n.reply_done) for n in due] == [
        (NotificationKind.GIVEUP, None, False)  # a kind of its own: no made-up status
    ]
    late = apply_status(db, _update(7, "DELIVRD", T1, "webhook"))
    assert late is not None
    assert late.sms.is_final
    assert [h.status for h in delivery.status_history(db, 7)] == ["NEW", GAVE_UP, "DELIVRD"]


def test_webhook_event_and_status_are_recorded_together(db: Database, seed_sms: SeedSms) -> None:
    """An eventId applies its status once; the repeat is reported as seen and changes nothing."""
    seed_sms(db, 7)
    first, applied = webhooks.apply_webhook_event(db, 26, _update(7, "DELIVRD", T1, "webhook"))
    assert first
    assert applied is not None
    again, reapplied = webhooks.apply_webhook_event(db, 26, _update(7, "DELIVRD", T1, "webhook"))
    assert not again
    assert reapplied is None
    assert webhooks.webhook_event_seen(db, 26)
    assert outbox.outbox_size(db) == 1
    later = datetime.now(UTC) + timedelta(days=8)
    assert webhooks.prune_webhook_events(db, older_than=timedelta(days=7), now=later) == 1
    assert not webhooks.webhook_event_seen(db, 26)


def test_retry_is_never_due_sooner_than_asked(db: Database, seed_sms: SeedSms) -> None:
    """A retry delay is stored rounded up to the millisecond, so the row is not due early."""
    seed_sms(db, 7)
    applied = apply_status(db, _update(7, "DELIVRD", T1))
    assert applied is not None
    assert applied.notification_id is not None
    now = datetime(2026, 1, 15, 12, 0, 0, 700_000, tzinfo=UTC)
    outbox.retry_notification(db, applied.notification_id, delay=1.5, error="ratelimited", now=now)
    asked = now + timedelta(seconds=1.5)
    assert outbox.due_notifications(db, now=asked - timedelta(microseconds=1)) == []
    assert outbox.due_notifications(db, now=asked + timedelta(milliseconds=1))[0].attempts == 1


def test_a_short_retry_is_due_after_its_milliseconds_not_the_next_second(
    db: Database, seed_sms: SeedSms
) -> None:
    """A 50 ms retry is due 50 ms later: outbox times are kept to the millisecond."""
    seed_sms(db, 7)
    now = datetime(2026, 1, 15, 12, 0, 0, 100_000, tzinfo=UTC)
    applied = apply_status(db, _update(7, "DELIVRD", T1), now=now)
    assert applied is not None
    assert applied.notification_id is not None
    outbox.retry_notification(db, applied.notification_id, delay=0.05, error="x", now=now)
    assert outbox.due_notifications(db, now=now + timedelta(milliseconds=49)) == []
    assert outbox.due_channels(db, now=now + timedelta(milliseconds=50)) == ["U1"]
    assert len(outbox.due_notifications(db, now=now + timedelta(milliseconds=50))) == 1


def _rows(db: Database, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(row.values()) for row in run_sql(db, sql)]


def test_apply_statuses_writes_what_apply_status_writes_one_by_one(
    tmp_path: Path, seed_sms: SeedSms
) -> None:
    """One batch in one transaction leaves the same SMS, history and outbox rows as a loop."""
    now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    batch = [
        _update(1, "ENQUEUD", T1),
        _update(1, "ACCEPTD", T2),  # the same SMS again, further: applied on top
        _update(1, "ENQUEUD", T3),  # backwards: ignored
        _update(2, "DELIVRD", T2),
        _update(2, "UNDELIV", T3),  # a final status is never replaced
        _update(3, "ACCEPTD", None, "webhook"),
        _update(99, "DELIVRD", T1),  # not the bot's SMS
        _update(4, "ACCEPTD", T1),  # sent in the other mode
    ]
    databases = []
    for name in ("loop", "batch"):
        db = open_database(tmp_path / f"{name}.db")
        for message_id in (1, 2, 3):
            seed_sms(db, message_id, sent_at=now)
        seed_sms(db, 4, sent_at=now, sandbox=True)
        databases.append(db)
    looped, batched = databases
    applied = [apply_status(looped, update, now=now, sandbox=False) for update in batch]
    changed = delivery.apply_statuses(batched, batch, now=now, sandbox=False)
    assert changed == [u.message_id for u, a in zip(batch, applied, strict=True) if a is not None]
    assert changed == [1, 1, 2, 3]
    for sql in (
        "SELECT message_id, status, status_ts, segments, updated_at, final_at FROM sms ORDER BY id",
        "SELECT message_id, status, status_ts, source, recorded_at FROM status_history ORDER BY id",
        "SELECT message_id, status, kind, next_attempt_at, reply_done FROM outbox ORDER BY id",
    ):
        assert _rows(batched, sql) == _rows(looped, sql)
    assert len(_rows(batched, "SELECT * FROM outbox")) == 4
    for db in databases:
        db.close()


def test_seeding_writes_the_time_it_is_given_not_the_real_clocks(
    db: Database, seed_sms: SeedSms, fake_slack: FakeSlack
) -> None:
    """A seeded SMS, posted or refused, says ``sent_at`` everywhere: rows seeded apart compare."""
    sent_at = datetime(2026, 1, 15, 12, 0, 0, 999_000, tzinfo=UTC)
    seed_sms(db, 1, sent_at=sent_at, slack=fake_slack)
    seed_sms(db, 2, sent_at=sent_at)  # its post refused
    rows = _rows(db, "SELECT created_at, sent_at, updated_at FROM sms ORDER BY id")
    assert rows == [(utc_text(sent_at),) * 3] * 2


def test_apply_statuses_rejects_an_unknown_source_before_writing(
    db: Database, seed_sms: SeedSms
) -> None:
    """A batch with an update of unknown source writes nothing at all."""
    seed_sms(db, 1)
    with pytest.raises(ValueError, match="unknown status source"):
        delivery.apply_statuses(db, [_update(1, "ACCEPTD", T1), _update(1, "DELIVRD", T2, "x")])
    assert outbox.outbox_size(db) == 0


def test_apply_statuses_with_nothing_new_since_seen_takes_no_write_lock(
    tmp_path: Path, seed_sms: SeedSms
) -> None:
    """A batch that moves none of the statuses the caller saw writes nothing, lock or no lock."""
    path = tmp_path / "smsbot.db"
    db = open_database(path)
    seed_sms(db, 1)
    seed_sms(db, 2)
    delivery.apply_statuses(db, [_update(1, "ACCEPTD", T2), _update(2, "ACCEPTD", T2)])
    seen = {row.message_id: row for row in pending_statuses(db)}
    steady = [_update(1, "ACCEPTD", T2), _update(2, "ENQUEUD", T1)]  # the same, and backwards
    run_sql(db, "PRAGMA busy_timeout = 0")
    other = sqlite3.connect(path, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        assert delivery.apply_statuses(db, steady, seen=seen) == []
        with pytest.raises(exc.OperationalError, match="locked"):
            delivery.apply_statuses(db, steady)  # without ``seen`` the rule is read under the lock
    finally:
        other.rollback()
        other.close()
    assert delivery.apply_statuses(db, [_update(1, "DELIVRD", T3)], seen=seen) == [1]
    db.close()


def test_only_storage_delivery_judges_a_status() -> None:
    """should_apply is called by storage.delivery alone: the poller hands its reads over."""
    callers = set()
    for folder in ("bot", "handlers", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            if "should_apply" not in source:
                continue  # no name to find: not parsed
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Name) and node.id == "should_apply":
                    callers.add(path.relative_to(ROOT).as_posix())
    assert callers == {"storage/delivery.py"}


def _status_writes(source: str) -> bool:
    """Whether ``source`` sets ``sms.status``/``status_ts`` or inserts a status history row.

    Reads the SQLAlchemy Core statements: ``update(sms…)….values(status=…)`` and
    ``insert(…status_history)``, and any raw SQL doing the same.
    """
    if "INSERT INTO status_history" in source or re.search(
        r"UPDATE\s+sms\s+SET[^;]*?(?<![\w.])status(_ts)?\s*=", source
    ):
        return True
    if "status_history" not in source and not re.search(r"\bstatus(_ts)?\s*=", source):
        return False  # neither statement can be there: not parsed
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr == "values" and {k.arg for k in node.keywords} & {"status", "status_ts"}:
            chain = ast.unparse(node.func.value)
            if re.search(r"update\(\s*sms(_table)?\s*\)", chain):
                return True
        if node.func.attr == "insert" and "status_history" in ast.unparse(node):
            return True
    return False


def test_only_storage_delivery_writes_a_status_or_its_history() -> None:
    """No other module sets an SMS's status or adds a status history row (send recording too).

    Its statements are ``storage/status_writes.py``, which no other module imports.
    """
    sources = {
        path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
        for folder in ("bot", "handlers", "storage")
        for path in (ROOT / folder).rglob("*.py")
    }
    writers = {name for name, source in sources.items() if _status_writes(source)}
    assert writers == {"storage/status_writes.py"}
    users = {name for name, source in sources.items() if "status_writes" in source}
    assert users == {"storage/delivery.py"}


def test_the_status_writer_check_sees_core_statements_and_raw_sql() -> None:
    """The check above finds a status written either way, and not another column's update."""
    assert _status_writes("db.execute(sa.update(sms).where(x).values(status='NEW'))")
    assert _status_writes("db.execute(sa.insert(tables.status_history).values(status='NEW'))")
    assert _status_writes('db.execute("UPDATE sms SET status_ts = ? WHERE id = ?")')
    assert not _status_writes("db.execute(sa.update(sms).where(x).values(cost='1'))")


def test_recording_a_send_writes_new_without_queueing_a_slack_update(
    db: Database, seed_sms: SeedSms
) -> None:
    """record_sent's NEW status and history row come with no outbox row (no edit, no DM)."""
    sms = seed_sms(db, 5)
    assert sms.status == "NEW"
    assert [(h.status, h.status_ts, h.source) for h in delivery.status_history(db, 5)] == [
        ("NEW", None, "command")
    ]
    assert outbox.outbox_size(db) == 0
