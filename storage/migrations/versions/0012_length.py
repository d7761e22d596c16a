"""An SMS keeps its text's length as counted when it was sent (septets or UTF-16 units).

The channel post shows it beside the segments, so the text is counted once, by the send.
SMS recorded before this step have none: their posts show the segments and encoding alone.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision: str | None = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``sms.length``, empty for SMS already recorded."""
    op.add_column("sms", sa.Column("length", sa.Integer))


def downgrade() -> None:
    """Not supported: a schema step is never undone (restore a backup instead)."""
    raise NotImplementedError("smsbot's schema steps are not undone")
