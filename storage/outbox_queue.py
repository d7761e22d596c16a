"""Queuing outbox rows: each change writes the row it owes Slack, in its own transaction.

Recording a sent SMS queues its first post (:mod:`storage.claims`), a status change its
``status`` row (:mod:`storage.delivery`), a give-up or decline, a cost (:mod:`storage.account`)
theirs. The notifier's side of the rows is :mod:`storage.outbox`.

An SMS sent as one recipient of a campaign (``sms.campaign`` set) never gets an outbox row:
its campaign's ``changed_at`` is set to the moment instead, in the same transaction, and the
campaign's one message tells of it (:func:`campaign_changes`).
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from storage.arrays import columns_of, unnest_rows
from storage.engine import chunks, dialect_insert, transactional
from storage.outbox import NotificationKind, PostNote
from storage.schema import utc_ms_text
from storage.tables import OUTBOX_ONCE, campaigns, outbox, sms

if TYPE_CHECKING:
    from sqlalchemy import Connection as Database


@transactional
def queue_notification(
    db: Database,
    message_id: int,
    kind: NotificationKind,
    moment: datetime,
    *,
    status: str | None = None,
    reply_owed: bool = False,
    note: PostNote | None = None,
) -> int | None:
    """Queue a notification due at once; its id, or ``None`` when the same one waits already.

    The same one: a ``status`` row of the same (SMS, status), a row of another kind of the same
    (SMS, kind). Only a ``status`` row has a ``status``; only a ``post`` row a ``note``.
    ``None`` too for a campaign's SMS: its campaign's ``changed_at`` is set instead.
    """
    if campaign_changes(db, [message_id], moment):
        return None
    inserted = db.execute(
        _queue_statement(db.dialect.name, of_status=kind is NotificationKind.STATUS),
        _queue_params(
            message_id, kind, utc_ms_text(moment), status=status, reply_owed=reply_owed, note=note
        ),
    ).scalar()
    return None if inserted is None else int(inserted)


def queue_statuses(
    db: Database, notifications: list[tuple[int, str, bool]], moment: datetime
) -> None:
    """Queue many ``status`` rows due at once: (message id, status, reply owed), in one statement.

    What :func:`queue_notification` does for each, in order; a (SMS, status) already waiting is
    skipped. SQLite runs one insert per row in process; PostgreSQL gets the rows as arrays.
    """
    of_campaigns = campaign_changes(
        db, [message_id for message_id, _s, _r in notifications], moment
    )
    if of_campaigns:
        notifications = [n for n in notifications if n[0] not in of_campaigns]
        if not notifications:
            return
    queued = utc_ms_text(moment)
    if db.dialect.name == "postgresql" and len(notifications) > 1:
        rows = [
            {"message_id": message_id, "status": status, "reply_done": not reply_owed}
            for message_id, status, reply_owed in notifications
        ]
        db.execute(_QUEUE_STATUSES, columns_of(rows, _STATUS_ROW) | {"queued": queued})
        return
    db.execute(
        _queue_statement(db.dialect.name, of_status=True, returning=False),
        [
            _queue_params(
                message_id, NotificationKind.STATUS, queued, status=status, reply_owed=reply_owed
            )
            for message_id, status, reply_owed in notifications
        ],
    )


#: The campaign SMS among some message ids (statements built once: the ids a parameter).
_OF_CAMPAIGNS = sa.select(sms.c.message_id, sms.c.campaign).where(
    sms.c.campaign.is_not(None), sms.c.message_id.in_(sa.bindparam("ids", expanding=True))
)
_OF_CAMPAIGNS_PG = sa.select(sms.c.message_id, sms.c.campaign).where(
    sms.c.campaign.is_not(None),
    sms.c.message_id == sa.any_(sa.bindparam("ids", type_=postgresql.ARRAY(sa.BigInteger))),
)
_CAMPAIGNS_CHANGED = (
    sa.update(campaigns)
    .where(campaigns.c.id.in_(sa.bindparam("campaign_ids", expanding=True)))
    .values(changed_at=sa.bindparam("changed"))
)


def campaign_changes(db: Database, message_ids: list[int], moment: datetime) -> set[int]:
    """Those of ``message_ids`` sent as a campaign's recipients, their campaigns marked changed.

    Each such campaign's ``changed_at`` becomes ``moment`` (to the millisecond): what the
    campaign's message reports is newer than it shows. The SMS given are owed no outbox row.
    """
    found: dict[int, int] = {}
    if db.dialect.name == "postgresql":
        groups, statement = [sorted(set(message_ids))], _OF_CAMPAIGNS_PG
    else:
        groups, statement = list(chunks(message_ids)), _OF_CAMPAIGNS
    for ids in groups:
        found.update({int(m): int(c) for m, c in db.execute(statement, {"ids": ids})})
    if found:
        db.execute(
            _CAMPAIGNS_CHANGED,
            {"campaign_ids": sorted(set(found.values())), "changed": utc_ms_text(moment)},
        )
    return set(found)


#: What varies between the ``status`` rows of one moment, with its type.
_STATUS_ROW: dict[str, sa.types.TypeEngine[Any]] = {
    "message_id": sa.BigInteger(),
    "status": sa.Text(),
    "reply_done": sa.Boolean(),
}
_STATUS_ROWS = unnest_rows(_STATUS_ROW)
#: Many ``status`` rows due at one moment in one statement, one array per varying column, in
#: order (PostgreSQL): the rows :func:`_queue_params` gives, a (SMS, status) waiting skipped.
_QUEUE_STATUSES = (
    postgresql.insert(outbox)
    .from_select(
        [
            "message_id",
            "status",
            "kind",
            "note",
            "created_at",
            "attempts",
            "next_attempt_at",
            "update_done",
            "reply_done",
        ],
        sa.select(
            _STATUS_ROWS.c.message_id,
            _STATUS_ROWS.c.status,
            sa.literal(NotificationKind.STATUS.value, sa.Text()),
            sa.null(),
            sa.bindparam("queued", type_=sa.Text()),
            sa.literal(0, sa.Integer()),
            sa.bindparam("queued", type_=sa.Text()),
            sa.false(),
            _STATUS_ROWS.c.reply_done,
        ),
    )
    .on_conflict_do_nothing(index_elements=["message_id", "status"])
)


def _queue_params(
    message_id: int,
    kind: NotificationKind,
    queued: str,
    *,
    status: str | None,
    reply_owed: bool,
    note: PostNote | None = None,
) -> dict[str, object]:
    """An outbox row due at ``queued`` (retries put it off to the millisecond)."""
    if (kind is NotificationKind.STATUS) != (status is not None):
        raise ValueError(f"a {kind} row has a status only if it is a status row: {status!r}")
    return {
        "message_id": message_id,
        "status": status,
        "kind": kind.value,
        "note": None if note is None else note.value,
        "created_at": queued,
        "attempts": 0,
        "next_attempt_at": queued,
        "update_done": False,
        "reply_done": not reply_owed,
    }


@functools.cache
def _queue_statement(dialect: str, *, of_status: bool, returning: bool = True) -> sa.Executable:
    """The outbox row's insert for ``dialect``, built once (values given as parameters).

    ``of_status``: a ``status`` row, one per (SMS, status); a row of another kind is one per
    (SMS, kind) (the partial unique index ``outbox_message_kind``).
    """
    insert = dialect_insert(dialect, outbox)
    if of_status:
        statement = insert.on_conflict_do_nothing(index_elements=["message_id", "status"])
    else:
        statement = insert.on_conflict_do_nothing(
            index_elements=["message_id", "kind"], index_where=OUTBOX_ONCE
        )
    return statement.returning(outbox.c.id) if returning else statement
