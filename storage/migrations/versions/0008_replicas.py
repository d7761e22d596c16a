"""Replicas: who claimed a send and who polls an SMS, the replicas' heartbeats, shortened links.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the columns and the ``replicas`` table."""
    op.add_column(
        "sms",
        sa.Column(
            "shorten_links",
            sa.Boolean(name="sms_shorten_links_bool"),
            nullable=False,
            server_default=sa.false(),
        ),
    )
    op.add_column("sms", sa.Column("claimed_by", sa.Text))
    op.add_column("sms", sa.Column("polled_by", sa.Text))
    op.create_table(
        "replicas",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", sa.Text, nullable=False),
        sa.Column("heartbeat_at", sa.Text, nullable=False),
    )


def downgrade() -> None:
    """Not supported: a schema step is never undone (restore a backup instead)."""
    raise NotImplementedError("smsbot's schema steps are not undone")
