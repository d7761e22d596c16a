"""Opening the database: migrations, pragmas, and the write transaction."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from storage import schema
from storage.schema import (
    SCHEMA_VERSION,
    migrations,
    open_database,
    schema_version,
    utc_text,
    wall_text,
    write_transaction,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from storage.records import SmsRecord

    MakeSms = Callable[..., SmsRecord]

T0 = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)


def _pragma(db: Database, name: str) -> object:
    return db.execute(f"PRAGMA {name}").fetchone()[0]


MIGRATIONS = [
    "0001_initial",
    "0002_unsettled_sends",
    "0003_outbox_milliseconds",
    "0004_account",
    "0005_templates",
    "0006_cancel_claims",
]


def test_a_first_version_database_is_upgraded_in_place(db_path: str, make_sms: MakeSms) -> None:
    """A database made by the first release gains the later steps at start and keeps its rows."""
    first_release = Migrations("smsbot")
    first_release(name="0001_initial")(schema._initial)
    old = Database(db_path)
    first_release.apply(old)
    make_sms(old, message_id=7)
    old.close()

    upgraded = open_database(db_path)
    try:
        assert [m.name for m in migrations.applied(upgraded)] == MIGRATIONS
        assert "sms_unsettled" in {index.name for index in upgraded.table("sms").indexes}
        assert upgraded.table("sms").count == 1
    finally:
        upgraded.close()


def test_outbox_times_in_whole_seconds_are_kept_as_milliseconds(
    db_path: str, make_sms: MakeSms
) -> None:
    """An outbox row queued by a release that stored seconds keeps its times, to the millisecond."""
    second_release = Migrations("smsbot")
    second_release(name="0001_initial")(schema._initial)
    second_release(name="0002_unsettled_sends")(schema._unsettled_sends)
    old = Database(db_path)
    second_release.apply(old)
    make_sms(old, message_id=7)
    old.execute(
        "INSERT INTO outbox (message_id, status, kind, created_at, next_attempt_at) VALUES "
        "(7, 'DELIVRD', 'status', '2026-01-15T12:00:00+00:00', '2026-01-15T12:00:05+00:00')"
    )
    old.close()

    upgraded = open_database(db_path)
    try:
        rows = upgraded.execute("SELECT created_at, next_attempt_at FROM outbox").fetchall()
        assert [tuple(row) for row in rows] == [
            ("2026-01-15T12:00:00.000+00:00", "2026-01-15T12:00:05.000+00:00")
        ]
    finally:
        upgraded.close()


def test_in_memory_database_has_every_table(db: Database) -> None:
    """A fresh in-memory database gets the whole schema and records its migration."""
    tables = {"sms", "status_history", "outbox", "webhook_events", "account_state"}
    assert tables <= set(db.table_names())
    assert [m.name for m in migrations.applied(db)] == MIGRATIONS
    assert schema_version(db) == SCHEMA_VERSION


def test_file_database_runs_in_wal_with_safe_pragmas(db_path: str) -> None:
    """A file database is in WAL mode with foreign keys on, NORMAL sync and a busy timeout."""
    db = open_database(db_path)
    try:
        assert db.journal_mode == "wal"
        assert _pragma(db, "foreign_keys") == 1
        assert _pragma(db, "synchronous") == 1  # NORMAL
        assert int(str(_pragma(db, "busy_timeout"))) > 0
    finally:
        db.close()


def test_opening_twice_applies_migrations_once_and_keeps_data(
    db_path: str, make_sms: MakeSms
) -> None:
    """Re-opening an existing file is a no-op for the schema and keeps every row."""
    first = open_database(db_path)
    make_sms(first, message_id=7)
    first.close()

    second = open_database(db_path)
    try:
        applied = list(second.query("SELECT name FROM _sqlite_migrations"))
        assert [row["name"] for row in applied] == MIGRATIONS
        assert second["sms"].count == 1
    finally:
        second.close()


def test_foreign_keys_reject_history_for_unknown_messages(db: Database) -> None:
    """The schema refuses history rows for messages that are not ours."""
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO status_history (message_id, status, source, recorded_at)"
            " VALUES (1, 'NEW', 'poll', 'x')"
        )


def test_write_transaction_rolls_back_everything_on_error(db: Database, make_sms: MakeSms) -> None:
    """An exception inside the block undoes every write made in it."""
    sms = make_sms(db)
    with pytest.raises(RuntimeError), write_transaction(db):
        db.execute("UPDATE sms SET text = 'changed' WHERE id = ?", [sms.id])
        raise RuntimeError
    assert next(db.query("SELECT text FROM sms"))["text"] == sms.text
    assert not db.conn.in_transaction


def test_write_transaction_nests_as_a_savepoint(db: Database, make_sms: MakeSms) -> None:
    """An inner failure undoes only the inner block; the outer one still commits."""
    sms = make_sms(db)
    with write_transaction(db):
        db.execute("UPDATE sms SET text = 'outer' WHERE id = ?", [sms.id])
        with pytest.raises(RuntimeError), write_transaction(db):
            db.execute("UPDATE sms SET name = 'inner' WHERE id = ?", [sms.id])
            raise RuntimeError
    row = next(db.query("SELECT text, name FROM sms"))
    assert row == {"text": "outer", "name": None}


def test_times_are_utc_iso_text() -> None:
    """Stored times are UTC ISO-8601 to the second; naive times are refused."""
    assert utc_text(T0) == "2026-01-15T12:00:00+00:00"
    assert wall_text(T0) == "2026-01-15 12:00:00"
    with pytest.raises(ValueError, match="timezone-aware"):
        utc_text(T0.replace(tzinfo=None))
