"""Sends to many: the ``campaigns`` table, its recipients, and each recipient SMS's campaign.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision: str | None = "0013"
branch_labels = None
depends_on = None

_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Add ``campaigns`` and ``campaign_recipients``, empty, and ``sms.campaign``."""
    op.create_table(
        "campaigns",
        sa.Column("id", _ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("trigger_id", sa.Text, nullable=False, unique=True),
        sa.Column("team_id", sa.Text, nullable=False),
        sa.Column("channel_id", sa.Text, nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("response_url", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("template", sa.Boolean(name="campaigns_template_bool"), nullable=False),
        sa.Column("sender", sa.Text),
        sa.Column("name", sa.Text),
        sa.Column("deferred_to", sa.Text),
        sa.Column("validity", sa.Integer),
        _flag("flash"),
        _flag("shorten_links"),
        _flag("sandbox"),
        sa.Column("source", sa.Text),
        sa.Column("recipients", sa.Integer, nullable=False),
        sa.Column("left_out", sa.Integer, nullable=False, server_default="0"),
        sa.Column("segments_min", sa.Integer, nullable=False),
        sa.Column("segments_max", sa.Integer, nullable=False),
        sa.Column("segments_total", sa.Integer, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Text),
        sa.Column("confirmed_at", sa.Text),
        sa.Column("claimed_by", sa.Text),
        sa.Column("mobizon_id", sa.BigInteger, unique=True),
        sa.Column("mobizon_status", sa.Integer),
        sa.Column("sent_at", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("slack_channel", sa.Text),
        sa.Column("slack_ts", sa.Text),
        sa.Column("changed_at", sa.Text),
        sa.Column("reported_at", sa.Text),
        sa.Column("summary_ts", sa.Text),
        sa.Column("csv_due_at", sa.Text),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
        sa.CheckConstraint(
            "state IN ('preview', 'confirmed', 'sending', 'sent', 'failed', 'cancelled')",
            name="campaigns_state",
        ),
    )
    op.create_index("campaigns_reporting", "campaigns", ["state", "summary_ts"])
    op.create_table(
        "campaign_recipients",
        sa.Column("campaign", _ROW_ID, sa.ForeignKey("campaigns.id"), primary_key=True),
        sa.Column("row", sa.Integer, primary_key=True),
        sa.Column("number", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("segments", sa.Integer, nullable=False),
        sa.Column("placeholder_values", sa.Text),
        sa.Column("code", sa.Integer),
        sa.Column("sms_id", _ROW_ID, sa.ForeignKey("sms.id")),
    )
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with a reference in place (Alembic would copy the whole table)
        op.execute("ALTER TABLE sms ADD COLUMN campaign INTEGER REFERENCES campaigns (id)")
    else:
        op.add_column("sms", sa.Column("campaign", _ROW_ID, sa.ForeignKey("campaigns.id")))
    where = sa.text("campaign IS NOT NULL")
    op.create_index("sms_campaign", "sms", ["campaign"], sqlite_where=where, postgresql_where=where)


def _flag(name: str) -> sa.Column[bool]:
    """A boolean column of ``campaigns``, false unless set."""
    return sa.Column(
        name, sa.Boolean(name=f"campaigns_{name}_bool"), nullable=False, server_default=sa.false()
    )


def downgrade() -> None:
    """Not supported: a schema step is never undone (restore a backup instead)."""
    raise NotImplementedError("smsbot's schema steps are not undone")
