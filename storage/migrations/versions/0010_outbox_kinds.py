"""Outbox rows have a kind (post, status, cost, declined, giveup); a status is Mobizon's only.

Rows queued before it under made-up statuses become rows of their kind: ``COST`` a ``cost`` row,
``DECLINED`` a ``declined`` one, ``GAVEUP`` a ``giveup`` one, each without a status. A ``post``
row (the SMS's first channel message) may carry a note; an SMS keeps why Slack refused its post.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision: str | None = "0009"
branch_labels = None
depends_on = None

#: Each made-up status of a release before this one, by the kind it queued it under, and the
#: kind its row is now.
_KINDS = (
    ("status", "COST", "cost"),
    ("giveup", "DECLINED", "declined"),
    ("giveup", "GAVEUP", "giveup"),
)


RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _outbox_before() -> sa.Table:
    """The outbox as revision 0006 made it: what SQLite's copy of the table starts from.

    Given rather than read back, so that a table a release before Alembic made (its checks
    unnamed, :mod:`storage.legacy`) is copied the same way.
    """
    table = sa.Table(
        "outbox",
        sa.MetaData(),
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
    sa.Index("outbox_due", table.c.next_attempt_at, table.c.id)
    return table


def upgrade() -> None:
    """Add the columns, give the rows their kinds, and let only ``status`` rows have a status."""
    op.add_column("sms", sa.Column("post_error", sa.Text))
    # SQLite copies the table to change a column or a check: Alembic's batch mode does that
    with op.batch_alter_table("outbox", copy_from=_outbox_before()) as batch:
        batch.add_column(sa.Column("note", sa.Text))
        batch.alter_column("status", existing_type=sa.Text, nullable=True)
        batch.drop_constraint("outbox_kind", type_="check")
    for old_kind, status, kind in _KINDS:
        op.execute(
            sa.text(
                "UPDATE outbox SET kind = :kind, status = NULL"
                " WHERE kind = :old_kind AND status = :status"
            ).bindparams(kind=kind, old_kind=old_kind, status=status)
        )
    with op.batch_alter_table("outbox") as batch:
        batch.create_check_constraint(
            "outbox_kind", "kind IN ('post', 'status', 'cost', 'declined', 'giveup')"
        )
        batch.create_check_constraint(
            "outbox_status_of_kind", "(kind = 'status') = (status IS NOT NULL)"
        )
    once = sa.text("status IS NULL")
    op.create_index(
        "outbox_message_kind",
        "outbox",
        ["message_id", "kind"],
        unique=True,
        sqlite_where=once,
        postgresql_where=once,
    )


def downgrade() -> None:
    """Not supported: a schema step is never undone (restore a backup instead)."""
    raise NotImplementedError("smsbot's schema steps are not undone")
