"""Opening the database: migrations (new, legacy, concurrent), pragmas, and the write transaction."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from sqlalchemy import exc

from storage.engine import Database, make_engine, parse_database_url
from storage.schema import (
    LEGACY_TABLE,
    SCHEMA_HEAD,
    SchemaTooNewError,
    alembic_config,
    open_database,
    schema_revision,
    utc_text,
    wall_text,
    write_transaction,
)
from storage.tables import metadata
from testkit.database import run_sql

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlite_utils import Database as LegacyDatabase

    from storage.records import SmsRecord

    MakeSms = Callable[..., SmsRecord]

T0 = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)

LEGACY_STEPS = [
    "0001_initial",
    "0002_unsettled_sends",
    "0003_outbox_milliseconds",
    "0004_account",
    "0005_templates",
    "0006_cancel_claims",
]

_SENT_ROW = (
    "INSERT INTO sms (trigger_id, team_id, channel_id, user_id, recipient, text, state,"
    " message_id, error, created_at, updated_at, sent_at) VALUES"
    " ('t{n}', 'T1', 'C1', 'U1', '5511987654321', 'hi', 'sent', {n}, {error},"
    " '2026-01-15T12:00:00+00:00', '2026-01-15T12:00:00+00:00', '2026-01-15T12:00:00+00:00')"
)


def _legacy_database(path: str, steps: int) -> LegacyDatabase:
    """A database as a release before Alembic left it, after its first ``steps`` steps."""
    # imported here, as in the product: only what upgrades an old file loads sqlite-utils
    from sqlite_utils import Database as LegacyDatabase  # noqa: PLC0415
    from sqlite_utils.migrations import Migrations  # noqa: PLC0415

    from storage import legacy  # noqa: PLC0415

    old_release = Migrations("smsbot")
    for migration in legacy.migrations._migrations[:steps]:  # the old releases' own steps
        old_release(name=migration.name)(migration.fn)
    old = LegacyDatabase(path)
    old_release.apply(old)
    return old


def _schema_differences(db: Database) -> list[object]:
    """What Alembic's autogenerate finds between the database and the tables' definitions."""
    from alembic.autogenerate import compare_metadata  # noqa: PLC0415  # Alembic loads slowly
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415

    return list(compare_metadata(MigrationContext.configure(db), metadata))


def _shape(db: Database) -> dict[str, tuple[list[str], list[str]]]:
    """Each table of the schema with its columns and its indexes' names."""
    inspector = sa.inspect(db)
    return {
        table: (
            sorted(column["name"] for column in inspector.get_columns(table)),
            sorted(str(index["name"]) for index in inspector.get_indexes(table)),
        )
        for table in metadata.tables
    }


def test_a_first_version_database_is_upgraded_in_place(db_path: str) -> None:
    """A database made by the first release gains every later step at start and keeps its rows."""
    old = _legacy_database(db_path, 1)
    old.execute(_SENT_ROW.format(n=7, error="NULL"))
    old.execute(_SENT_ROW.format(n=8, error="'Mobizon gave its message id 8 to a later SMS (9)'"))
    old.conn.commit()
    old.close()

    upgraded = open_database(db_path)
    try:
        assert schema_revision(upgraded) == SCHEMA_HEAD
        steps = run_sql(upgraded, f"SELECT name FROM {LEGACY_TABLE} ORDER BY id")  # noqa: S608
        assert [row["name"] for row in steps] == LEGACY_STEPS
        rows = run_sql(upgraded, "SELECT message_id, detached FROM sms ORDER BY id")
        assert [(row["message_id"], bool(row["detached"])) for row in rows] == [
            (7, False),
            (8, True),  # told by its error before, by its own column now
        ]
        fresh = open_database(":memory:")
        assert _shape(upgraded) == _shape(fresh)  # the same tables, columns and indexes
        fresh.close()
    finally:
        upgraded.close()


def test_outbox_times_in_whole_seconds_are_kept_as_milliseconds(db_path: str) -> None:
    """An outbox row queued by a release that stored seconds keeps its times, to the millisecond."""
    old = _legacy_database(db_path, 2)
    old.execute(_SENT_ROW.format(n=7, error="NULL"))
    old.execute(
        "INSERT INTO outbox (message_id, status, kind, created_at, next_attempt_at) VALUES "
        "(7, 'DELIVRD', 'status', '2026-01-15T12:00:00+00:00', '2026-01-15T12:00:05+00:00')"
    )
    old.conn.commit()
    old.close()

    upgraded = open_database(db_path)
    try:
        rows = run_sql(upgraded, "SELECT created_at, next_attempt_at FROM outbox")
        assert [tuple(row.values()) for row in rows] == [
            ("2026-01-15T12:00:00.000+00:00", "2026-01-15T12:00:05.000+00:00")
        ]
    finally:
        upgraded.close()


def test_a_new_database_has_every_table_at_the_newest_revision(db: Database) -> None:
    """A fresh database gets the whole schema, as the tables define it, stamped with the head."""
    tables = {"sms", "status_history", "outbox", "webhook_events", "account_state", "templates"}
    assert tables <= set(sa.inspect(db).get_table_names())
    assert schema_revision(db) == SCHEMA_HEAD
    assert _schema_differences(db) == []


def test_the_newest_revision_is_the_one_the_code_names() -> None:
    """SCHEMA_HEAD (read without loading Alembic) is the head of the revisions directory."""
    from alembic.script import ScriptDirectory  # noqa: PLC0415  # Alembic loads slowly

    assert ScriptDirectory.from_config(alembic_config()).get_heads() == [SCHEMA_HEAD]


def test_the_migrations_from_nothing_build_the_schema_the_tables_define(
    empty_database: Database,
) -> None:
    """Every revision run in order on an empty database gives exactly the tables' schema."""
    from alembic import command  # noqa: PLC0415  # Alembic loads slowly

    with empty_database.begin():
        command.upgrade(alembic_config(empty_database), "head")
    assert schema_revision(empty_database) == SCHEMA_HEAD
    assert _schema_differences(empty_database) == []


def test_file_database_runs_in_wal_with_safe_pragmas(db_path: str) -> None:
    """A SQLite file is in WAL mode with foreign keys on, NORMAL sync and a busy timeout."""
    db = open_database(db_path)
    try:
        pragmas = {
            name: next(iter(run_sql(db, f"PRAGMA {name}")[0].values()))
            for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
        }
        assert pragmas == {
            "journal_mode": "wal",
            "foreign_keys": 1,
            "synchronous": 1,  # NORMAL
            "busy_timeout": 3000,
        }
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
        assert run_sql(second, "SELECT version_num FROM alembic_version") == [
            {"version_num": SCHEMA_HEAD}
        ]
        assert run_sql(second, "SELECT count(*) AS n FROM sms") == [{"n": 1}]
    finally:
        second.close()


def test_replicas_starting_together_migrate_once(database_url: str) -> None:
    """Eight processes' worth of connections opening one new database at once all find it ready."""
    opened: list[str | None] = []
    failures: list[BaseException] = []

    def start() -> None:
        try:
            db = open_database(database_url)
            opened.append(schema_revision(db))
            db.close()
        except BaseException as err:  # noqa: BLE001  # reported by the assertion below
            failures.append(err)

    starts = [threading.Thread(target=start) for _ in range(8)]
    for thread in starts:
        thread.start()
    for thread in starts:
        thread.join()
    assert failures == []
    assert opened == [SCHEMA_HEAD] * 8
    engine = make_engine(parse_database_url(database_url), keep=False)
    with engine.connect() as db:
        assert run_sql(db, "SELECT count(*) AS n FROM alembic_version") == [{"n": 1}]
    engine.dispose()


def test_foreign_keys_reject_history_for_unknown_messages(db: Database) -> None:
    """The schema refuses history rows for messages that are not ours."""
    with pytest.raises(exc.IntegrityError):
        run_sql(
            db,
            "INSERT INTO status_history (message_id, status, source, recorded_at)"
            " VALUES (1, 'NEW', 'poll', 'x')",
        )


def test_write_transaction_rolls_back_everything_on_error(db: Database, make_sms: MakeSms) -> None:
    """An exception inside the block undoes every write made in it."""
    sms = make_sms(db)
    with pytest.raises(RuntimeError), write_transaction(db):
        run_sql(db, "UPDATE sms SET text = 'changed' WHERE id = :id", id=sms.id)
        raise RuntimeError
    assert run_sql(db, "SELECT text FROM sms") == [{"text": sms.text}]
    assert not db.in_transaction()


def test_write_transaction_nests_as_a_savepoint(db: Database, make_sms: MakeSms) -> None:
    """An inner failure undoes only the inner block; the outer one still commits."""
    sms = make_sms(db)
    with write_transaction(db):
        run_sql(db, "UPDATE sms SET text = 'outer' WHERE id = :id", id=sms.id)
        with pytest.raises(RuntimeError), write_transaction(db):
            run_sql(db, "UPDATE sms SET name = 'inner' WHERE id = :id", id=sms.id)
            raise RuntimeError
    assert run_sql(db, "SELECT text, name FROM sms") == [{"text": "outer", "name": None}]


def test_times_are_utc_iso_text() -> None:
    """Stored times are UTC ISO-8601 to the second; naive times are refused."""
    assert utc_text(T0) == "2026-01-15T12:00:00+00:00"
    assert wall_text(T0) == "2026-01-15 12:00:00"
    with pytest.raises(ValueError, match="timezone-aware"):
        utc_text(T0.replace(tzinfo=None))


def test_a_database_migrated_by_a_newer_release_is_refused_with_a_sentence(
    database_url: str,
) -> None:
    """A revision this release does not know stops the start with what to do, not a traceback."""
    open_database(database_url).close()
    engine = make_engine(parse_database_url(database_url), keep=False)
    with engine.connect() as db:
        run_sql(db, "UPDATE alembic_version SET version_num = '0999'")
    engine.dispose()
    with pytest.raises(SchemaTooNewError) as refused:
        open_database(database_url)
    assert "revision 0999" in str(refused.value)
    assert f"knows up to {SCHEMA_HEAD}" in str(refused.value)
    assert "restore a backup" in str(refused.value)
