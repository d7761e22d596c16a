"""A send records when its request is about to leave: a claim without that mark never left.

Claims and lost answers already unsettled when it runs may have left (nothing recorded it): they
are marked as leaving when they were made, so they are looked up at Mobizon as before.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision: str | None = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``sms.sending_at``; an unsettled send gets its ``created_at`` there."""
    op.add_column("sms", sa.Column("sending_at", sa.Text))
    op.execute(
        "UPDATE sms SET sending_at = created_at"
        " WHERE state IN ('claimed', 'unknown') AND message_id IS NULL"
    )


def downgrade() -> None:
    """Not supported: a schema step is never undone (restore a backup instead)."""
    raise NotImplementedError("smsbot's schema steps are not undone")
