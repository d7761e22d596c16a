"""A detached SMS (its Mobizon id given to a later SMS) is a column, not read from its error.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``sms.detached`` and set it where the error told it: sent, with an error."""
    op.add_column(
        "sms",
        sa.Column(
            "detached",
            sa.Boolean(name="sms_detached_bool"),
            nullable=False,
            server_default=sa.false(),
        ),
    )
    op.execute("UPDATE sms SET detached = true WHERE state = 'sent' AND error IS NOT NULL")


def downgrade() -> None:
    """Not supported: a schema step is never undone (restore a backup instead)."""
    raise NotImplementedError("smsbot's schema steps are not undone")
