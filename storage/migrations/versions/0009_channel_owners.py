"""Channel owners: the replica that posts a notification channel's outbox rows.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision: str | None = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the ``channel_owners`` table."""
    op.create_table(
        "channel_owners",
        sa.Column("channel", sa.Text, primary_key=True),
        sa.Column("replica", sa.Text, nullable=False),
        sa.Column("since", sa.Text, nullable=False),
    )


def downgrade() -> None:
    """Not supported: a schema step is never undone (restore a backup instead)."""
    raise NotImplementedError("smsbot's schema steps are not undone")
