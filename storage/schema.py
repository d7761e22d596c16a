"""The schema's migrations, how a database is opened, and the time formats stored.

Use :func:`open_database` (or :meth:`storage.store.Store.open`) once at start-up: it brings the
schema up to date with Alembic, under a lock, so replicas starting together apply each step once.
The tables are :mod:`storage.tables`; transactions :mod:`storage.engine`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import zlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    Connection,
    Dialect,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    inspect,
    text,
)
from sqlalchemy.schema import CreateIndex, CreateTable

from storage.engine import (
    BUSY_TIMEOUT_MS,
    DatabaseUrl,
    make_engine,
    parse_database_url,
    write_transaction,
)
from storage.tables import metadata

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "BUSY_TIMEOUT_MS",
    "MOBIZON_TS_FORMAT",
    "SCHEMA_HEAD",
    "SchemaTooNewError",
    "migrate",
    "open_database",
    "parse_utc",
    "schema_revision",
    "utc_ms_text",
    "utc_text",
    "wall_text",
    "write_transaction",
]

#: Mobizon's own timestamp format (``statusUpdateTs``, ``startSendTs``, ``deferredToTs``).
MOBIZON_TS_FORMAT = "%Y-%m-%d %H:%M:%S"

#: The newest revision in ``storage/migrations/versions`` (a test holds the two together): a
#: database already there is opened without loading Alembic at all.
SCHEMA_HEAD = "0014"

#: The revision a database made before Alembic is stamped with (the same schema, step 6).
LEGACY_REVISION = "0006"

#: The table the releases before Alembic recorded their schema steps in (sqlite-utils').
LEGACY_TABLE = "_sqlite_migrations"

#: PostgreSQL advisory lock key held while migrating: one replica migrates, the others wait.
_MIGRATION_LOCK = zlib.crc32(b"smsbot schema migrations")

#: Alembic's own record of the revision a database is at, as Alembic makes it.
_VERSION = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for smsbot's migrations, run on ``connection``."""
    from alembic.config import Config  # noqa: PLC0415  # loaded only when a schema changes

    config = Config()
    config.set_main_option("script_location", "storage:migrations")
    config.attributes["connection"] = connection
    return config


#: The schema's statements per engine kind, compiled once (see :func:`_schema_ddl`).
_DDL: dict[str, tuple[str, ...]] = {}


def _schema_ddl(dialect: Dialect) -> tuple[str, ...]:
    """The statements that make the whole schema, and Alembic's version table, on ``dialect``.

    What ``metadata.create_all`` runs, compiled once per engine kind rather than at every new
    database (the test suite makes thousands).
    """
    if dialect.name not in _DDL:
        _DDL[dialect.name] = _compile_ddl(dialect)
    return _DDL[dialect.name]


def _compile_ddl(dialect: Dialect) -> tuple[str, ...]:
    statements: list[str] = []
    for table in (*metadata.sorted_tables, _VERSION):
        statements.append(str(CreateTable(table).compile(dialect=dialect)))
        statements.extend(
            str(CreateIndex(index).compile(dialect=dialect))
            for index in sorted(table.indexes, key=lambda index: str(index.name))
        )
    return tuple(statements)


class SchemaTooNewError(RuntimeError):
    """The database was migrated by a newer release than this one; the message says what to do."""

    def __init__(self, revision: str) -> None:
        self.revision = revision
        super().__init__(
            f"the database's schema is at revision {revision}, which this release does not know "
            f"(it knows up to {SCHEMA_HEAD}): a newer smsbot migrated it; run that release (or a "
            "later one), or restore a backup made before the upgrade"
        )


def migrate(db: Connection) -> None:
    """Bring the schema up to date, once, however many processes start together.

    Under the lock (SQLite's write lock from ``BEGIN IMMEDIATE``, a PostgreSQL advisory
    transaction lock), in one transaction: a new database gets the whole schema
    (:data:`storage.tables.metadata`) stamped with the newest revision; an existing one runs the
    Alembic revisions it lacks; a database made before Alembic is first brought to step 6 by
    its own steps (:mod:`storage.legacy`) and stamped there.
    """
    with write_transaction(db):
        if db.dialect.name == "postgresql":
            db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        tables = set(inspect(db).get_table_names())
        current = db.execute(_VERSION.select()).scalar() if _VERSION.name in tables else None
        if current == SCHEMA_HEAD:
            return
        if current is None and not tables & set(metadata.tables):
            for statement in _schema_ddl(db.dialect):
                db.exec_driver_sql(statement)
            db.execute(_VERSION.insert().values(version_num=SCHEMA_HEAD))
            return
        from alembic import command  # noqa: PLC0415  # loaded only when a schema changes
        from alembic.script import ScriptDirectory  # noqa: PLC0415
        from alembic.util.exc import CommandError  # noqa: PLC0415

        config = alembic_config(db)
        if current is not None:
            try:
                ScriptDirectory.from_config(config).get_revision(current)
            except CommandError:
                raise SchemaTooNewError(current) from None
        if current is None and LEGACY_TABLE in tables:
            command.stamp(config, LEGACY_REVISION)
        command.upgrade(config, "head")


def upgrade_legacy_file(path: str) -> None:
    """Bring a SQLite file made before Alembic to schema step 6 (:mod:`storage.legacy`).

    A new or current file is told apart with a glance at its tables, without loading the old
    steps (nor sqlite-utils).
    """
    if not os.path.exists(path) or os.path.getsize(path) == 0:  # noqa: PTH110, PTH202
        return
    with contextlib.closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)) as conn:
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (LEGACY_TABLE,)
        ).fetchone()
    if found is None:
        return
    from storage import legacy  # noqa: PLC0415  # only for a file made before Alembic

    legacy.upgrade_legacy(path)


def schema_revision(db: Connection) -> str | None:
    """The Alembic revision ``db``'s schema is at (``None`` before any), as Alembic reads it."""
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415

    return MigrationContext.configure(db).get_current_revision()


def open_database(url: str | os.PathLike[str] | DatabaseUrl) -> Connection:
    """Open (or create) the database at ``url`` (a URL or a SQLite path), schema up to date.

    Closing the connection closes the database (its engine holds only this connection).
    """
    where = url if isinstance(url, DatabaseUrl) else parse_database_url(url)
    if where.engine == "sqlite" and not where.memory:
        upgrade_legacy_file(where.address)
    engine = make_engine(where, keep=False)
    db = engine.connect()
    try:
        migrate(db)
    except BaseException:
        db.close()
        engine.dispose()
        raise
    return db


def utc_text(now: datetime | None = None) -> str:
    """Format ``now`` (default: the current time) as the UTC ISO-8601 text stored in every table."""
    moment = datetime.now(UTC) if now is None else now
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def utc_ms_text(now: datetime | None = None) -> str:
    """Like :func:`utc_text`, to the millisecond: the outbox's times (``…T12:00:00.250+00:00``).

    Every time in a column is written by one of the two, never both, so each column sorts as text.
    """
    moment = datetime.now(UTC) if now is None else now
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def wall_text(moment: datetime) -> str:
    """Format ``moment``'s wall-clock time (its zone ignored) as ``YYYY-MM-DD HH:MM:SS``."""
    return moment.strftime(MOBIZON_TS_FORMAT)


def parse_utc(text: str | None) -> datetime | None:
    """Read back a time written by :func:`utc_text`."""
    return None if text is None else datetime.fromisoformat(text)
