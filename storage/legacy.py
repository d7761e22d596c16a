"""The six schema steps of the releases before Alembic, kept to upgrade their SQLite files.

A database those releases made records its steps in sqlite-utils' ``_sqlite_migrations``
table. :func:`upgrade_legacy` applies the steps it lacks, exactly as those releases would have,
then :func:`storage.schema.migrate` stamps it with Alembic's first revision (``0006``, the same
schema) and carries on from there. A new database never passes through here.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

#: The table sqlite-utils records its applied steps in (``storage.schema.LEGACY_TABLE``).
LEGACY_TABLE = Migrations.migrations_table

migrations = Migrations("smsbot")  # the name the old releases recorded


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


def is_legacy(db: Database) -> bool:
    """Whether ``db`` was made by a release before Alembic (it has sqlite-utils' step table)."""
    return db[LEGACY_TABLE].exists()


def upgrade_legacy(path: str) -> bool:
    """Bring a pre-Alembic SQLite file up to step 6 under the write lock; False if not one."""
    db = Database(path)
    try:
        db.execute("PRAGMA busy_timeout = 3000")
        db.execute("BEGIN IMMEDIATE")
        try:
            legacy = is_legacy(db)
            if legacy:
                migrations.apply(db)
        except BaseException:
            db.rollback()
            raise
        db.execute("COMMIT")
    finally:
        db.close()
    return legacy
