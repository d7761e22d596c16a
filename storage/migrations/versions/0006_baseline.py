"""The schema as six sqlite-utils steps left it: the first step Alembic knows.

A SQLite database made before Alembic is brought to this point by its own steps (kept in
:mod:`storage.legacy`) and stamped with this revision; a new database starts here.

Revision ID: 0006
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = None
branch_labels = None
depends_on = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PENDING = "state = 'sent' AND final_at IS NULL AND gave_up_at IS NULL"
UNSETTLED = "state IN ('claimed', 'unknown') AND message_id IS NULL AND checked_at IS NULL"


def upgrade() -> None:
    """Create every table and index of schema step 6."""
    op.create_table(
        "sms",
        sa.Column("id", RowId, primary_key=True, autoincrement=True),
        sa.Column("trigger_id", sa.Text, nullable=False, unique=True),
        sa.Column("team_id", sa.Text, nullable=False),
        sa.Column("channel_id", sa.Text, nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("response_url", sa.Text),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("sender", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("segments", sa.Integer),
        sa.Column("encoding", sa.Text),
        sa.Column("name", sa.Text),
        sa.Column("deferred_to", sa.Text),
        sa.Column("validity", sa.Integer),
        sa.Column(
            "flash", sa.Boolean(name="sms_flash_bool"), nullable=False, server_default=sa.false()
        ),
        sa.Column("state", sa.Text, nullable=False, server_default="claimed"),
        sa.Column("error", sa.Text),
        sa.Column("message_id", sa.BigInteger, unique=True),
        sa.Column("campaign_id", sa.BigInteger),
        sa.Column("campaign_status", sa.Integer),
        sa.Column("status", sa.Text),
        sa.Column("status_ts", sa.Text),
        sa.Column("start_send_ts", sa.Text),
        sa.Column("slack_channel", sa.Text),
        sa.Column("slack_ts", sa.Text),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("sent_at", sa.Text),
        sa.Column("updated_at", sa.Text, nullable=False),
        sa.Column("final_at", sa.Text),
        sa.Column("gave_up_at", sa.Text),
        sa.Column(
            "sandbox",
            sa.Boolean(name="sms_sandbox_bool"),
            nullable=False,
            server_default=sa.false(),
        ),
        sa.Column("checked_at", sa.Text),
        sa.Column("cancelled_by", sa.Text),
        sa.Column("moderation", sa.Text),
        sa.Column("moderation_comment", sa.Text),
        sa.Column("cost", sa.Text),
        sa.Column("currency", sa.Text),
        sa.Column("cost_asks", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cancelling_by", sa.Text),
        sa.Column("cancelling_at", sa.Text),
        sa.CheckConstraint("state IN ('claimed', 'sent', 'failed', 'unknown')", name="sms_state"),
        sa.CheckConstraint(
            "moderation IS NULL OR moderation IN ('approved', 'declined')", name="sms_moderation"
        ),
    )
    op.create_index(
        "sms_pending",
        "sms",
        ["id"],
        sqlite_where=sa.text(PENDING),
        postgresql_where=sa.text(PENDING),
    )
    op.create_index("sms_channel_latest", "sms", ["team_id", "channel_id", "state", "id"])
    op.create_index(
        "sms_unsettled",
        "sms",
        ["created_at"],
        sqlite_where=sa.text(UNSETTLED),
        postgresql_where=sa.text(UNSETTLED),
    )
    op.create_table(
        "status_history",
        sa.Column("id", RowId, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.BigInteger, sa.ForeignKey("sms.message_id"), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("status_ts", sa.Text),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.Text, nullable=False),
        sa.CheckConstraint(
            "source IN ('webhook', 'poll', 'command', 'giveup')", name="status_history_source"
        ),
    )
    op.create_index("status_history_message", "status_history", ["message_id", "id"])
    op.create_table(
        "outbox",
        sa.Column("id", RowId, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.BigInteger, sa.ForeignKey("sms.message_id"), nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.Text, nullable=False),
        sa.Column("update_done", sa.Boolean(name="outbox_update_done_bool"), nullable=False),
        sa.Column("reply_done", sa.Boolean(name="outbox_reply_done_bool"), nullable=False),
        sa.Column("last_error", sa.Text),
        sa.UniqueConstraint("message_id", "status", name="outbox_message_status"),
        sa.CheckConstraint("kind IN ('status', 'giveup')", name="outbox_kind"),
    )
    op.create_index("outbox_due", "outbox", ["next_attempt_at", "id"])
    op.create_table(
        "webhook_events",
        sa.Column("event_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("received_at", sa.Text, nullable=False),
    )
    op.create_index("webhook_events_received", "webhook_events", ["received_at"])
    op.create_table(
        "account_state",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
    )
    op.create_table(
        "templates",
        sa.Column("team_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
    )


def downgrade() -> None:
    """Not supported: a schema step is never undone (restore a backup instead)."""
    raise NotImplementedError("smsbot's schema steps are not undone")
