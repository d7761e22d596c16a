"""The opt-out list: numbers that asked not to get SMS, with who added each and when.

Every send to a number on it is refused before anything is recorded or sent.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision: str | None = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the ``optouts`` table, empty."""
    op.create_table(
        "optouts",
        sa.Column("recipient", sa.Text, primary_key=True),
        sa.Column("added_by", sa.Text, nullable=False),
        sa.Column("added_at", sa.Text, nullable=False),
    )


def downgrade() -> None:
    """Not supported: a schema step is never undone (restore a backup instead)."""
    raise NotImplementedError("smsbot's schema steps are not undone")
