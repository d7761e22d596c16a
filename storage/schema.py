"""The SQLite schema, its numbered migrations, and how a connection is opened and written to.

Use :func:`open_database` once at start-up; wrap every multi-statement write in
:func:`write_transaction`.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Number of schema steps this code knows; equals the count of applied ``smsbot`` migrations.
SCHEMA_VERSION = 6

#: Milliseconds a writer waits for another connection's lock before giving up: long enough for
#: another process's short writes, short enough that a ``/sms send`` whose claim cannot be
#: written is refused ("not sent, try again") within a few seconds.
BUSY_TIMEOUT_MS = 3000

#: Mobizon's own timestamp format (``statusUpdateTs``, ``startSendTs``, ``deferredToTs``).
MOBIZON_TS_FORMAT = "%Y-%m-%d %H:%M:%S"

migrations = Migrations("smsbot")


@migrations(name="0001_initial")
def _initial(db: Database) -> None:
    for statement in _INITIAL_SCHEMA:
        db.execute(statement)


_INITIAL_SCHEMA = (
    """
    CREATE TABLE sms (
        id INTEGER PRIMARY KEY,
        trigger_id TEXT NOT NULL UNIQUE,
        team_id TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        response_url TEXT,
        recipient TEXT NOT NULL,
        sender TEXT,
        text TEXT NOT NULL,
        segments INTEGER,
        encoding TEXT,
        name TEXT,
        deferred_to TEXT,
        validity INTEGER,
        flash INTEGER NOT NULL DEFAULT 0 CHECK (flash IN (0, 1)),
        state TEXT NOT NULL DEFAULT 'claimed'
            CHECK (state IN ('claimed', 'sent', 'failed', 'unknown')),
        error TEXT,
        message_id INTEGER UNIQUE,
        campaign_id INTEGER,
        campaign_status INTEGER,
        status TEXT,
        status_ts TEXT,
        start_send_ts TEXT,
        slack_channel TEXT,
        slack_ts TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        updated_at TEXT NOT NULL,
        final_at TEXT,
        gave_up_at TEXT,
        sandbox INTEGER NOT NULL DEFAULT 0 CHECK (sandbox IN (0, 1))
    )
    """,
    # Only the rows the poller still has to ask about: stays small however many SMS were sent.
    """
    CREATE INDEX sms_pending ON sms (id)
    WHERE state = 'sent' AND final_at IS NULL AND gave_up_at IS NULL
    """,
    "CREATE INDEX sms_channel_latest ON sms (team_id, channel_id, state, id)",
    """
    CREATE TABLE status_history (
        id INTEGER PRIMARY KEY,
        message_id INTEGER NOT NULL REFERENCES sms (message_id),
        status TEXT NOT NULL,
        status_ts TEXT,
        source TEXT NOT NULL CHECK (source IN ('webhook', 'poll', 'command', 'giveup')),
        recorded_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX status_history_message ON status_history (message_id, id)",
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        message_id INTEGER NOT NULL REFERENCES sms (message_id),
        status TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('status', 'giveup')),
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        update_done INTEGER NOT NULL DEFAULT 0 CHECK (update_done IN (0, 1)),
        reply_done INTEGER NOT NULL DEFAULT 0 CHECK (reply_done IN (0, 1)),
        last_error TEXT,
        UNIQUE (message_id, status)
    )
    """,
    "CREATE INDEX outbox_due ON outbox (next_attempt_at, id)",
    """
    CREATE TABLE webhook_events (
        event_id INTEGER PRIMARY KEY,
        received_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX webhook_events_received ON webhook_events (received_at)",
)


@migrations(name="0002_unsettled_sends")
def _unsettled_sends(db: Database) -> None:
    # sends whose outcome Mobizon never told us (a crash mid-send, a timeout) are looked up
    # every poll cycle; ``checked_at`` marks those a lookup could not settle, so they stop
    db.execute("ALTER TABLE sms ADD COLUMN checked_at TEXT")
    db.execute(
        "CREATE INDEX sms_unsettled ON sms (created_at) "
        "WHERE state IN ('claimed', 'unknown') AND message_id IS NULL AND checked_at IS NULL"
    )


@migrations(name="0003_outbox_milliseconds")
def _outbox_milliseconds(db: Database) -> None:
    # outbox times to the millisecond (utc_ms_text), so a retry put off by 50 ms is due after
    # 50 ms, not after the next whole second; rows already queued keep their time, as .000
    for column in ("created_at", "next_attempt_at"):
        db.execute(
            f"UPDATE outbox SET {column} = "  # noqa: S608  # the two column names above
            f"strftime('%Y-%m-%dT%H:%M:%f', {column}) || '+00:00' "
            f"WHERE {column} NOT LIKE '%.___+00:00'"
        )


@migrations(name="0004_account")
def _account(db: Database) -> None:
    # who cancelled a scheduled SMS with /sms cancel (its post says so)
    db.execute("ALTER TABLE sms ADD COLUMN cancelled_by TEXT")
    # what Mobizon's moderators decided about an SMS sent awaiting moderation, and why
    db.execute(
        "ALTER TABLE sms ADD COLUMN moderation TEXT "
        "CHECK (moderation IS NULL OR moderation IN ('approved', 'declined'))"
    )
    db.execute("ALTER TABLE sms ADD COLUMN moderation_comment TEXT")
    # what Mobizon charged for the SMS (its segUserBuy, decimal text) in the account's currency;
    # ``cost_asks`` counts the lookups, which stop after a few when Mobizon states none
    db.execute("ALTER TABLE sms ADD COLUMN cost TEXT")
    db.execute("ALTER TABLE sms ADD COLUMN currency TEXT")
    db.execute("ALTER TABLE sms ADD COLUMN cost_asks INTEGER NOT NULL DEFAULT 0")
    # account-level facts kept across restarts, such as whether the low-balance alert is raised
    db.execute(
        "CREATE TABLE account_state (key TEXT PRIMARY KEY, value TEXT NOT NULL, "
        "updated_at TEXT NOT NULL)"
    )


@migrations(name="0005_templates")
def _templates(db: Database) -> None:
    # saved SMS texts with {placeholders}, one set per Slack workspace
    db.execute(
        """
        CREATE TABLE templates (
            team_id TEXT NOT NULL,
            name TEXT NOT NULL,
            text TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (team_id, name)
        )
        """
    )


@migrations(name="0006_cancel_claims")
def _cancel_claims(db: Database) -> None:
    # who is cancelling an SMS at Mobizon right now, and since when: one cancel at a time asks
    # Mobizon, the others are told who cancelled it; a claim left by a dead process expires
    db.execute("ALTER TABLE sms ADD COLUMN cancelling_by TEXT")
    db.execute("ALTER TABLE sms ADD COLUMN cancelling_at TEXT")


def open_database(path: str | os.PathLike[str]) -> Database:
    """Open (or create) the bot's database at ``path`` and bring its schema up to date.

    ``":memory:"`` gives a private in-memory database (tests). File databases run in WAL
    mode so the webhook, the poller and a second process can read while one writes.
    """
    db = Database(os.fspath(path))
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA synchronous = NORMAL")
        if not db.memory:
            db.enable_wal()
        # Under the write lock, so two processes starting at once cannot both apply a step.
        with write_transaction(db):
            migrations.apply(db)
    except BaseException:
        db.close()
        raise
    return db


def schema_version(db: Database) -> int:
    """How many ``smsbot`` schema steps have been applied to ``db``."""
    return len(migrations.applied(db))


@contextmanager
def write_transaction(db: Database) -> Iterator[Database]:
    """Run the block as one transaction that holds the write lock from its first statement.

    Use it for every read-then-write: a plain deferred ``BEGIN`` (``db.atomic()``) that reads
    first fails with "database is locked" when another connection commits in between, whereas
    ``BEGIN IMMEDIATE`` waits (up to the busy timeout) and then sees the latest data.
    Inside an open transaction it nests as a savepoint, like ``db.atomic()``.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    try:
        db.execute("COMMIT")
    except BaseException:
        db.rollback()
        raise


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
