"""Who holds a send not yet settled: taking it over, marking it as leaving, letting it go.

A claim (:mod:`storage.claiming`) carries the replica that holds it. The holder marks it as
leaving just before its request goes to Mobizon (:func:`start_sending`); a replica that takes
over a dead one's claims does so with a compare-and-set (:func:`take_over`), so of two replicas
settling one claim at once one sends it. A claim refused before anything left is forgotten
(:func:`release_claim`); a send nobody could settle stops being looked up (:func:`mark_checked`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Executable, Text, bindparam, update
from sqlalchemy import delete as sa_delete

from storage.engine import transactional
from storage.records import MAX_ERROR_LENGTH, SendState
from storage.schema import utc_text
from storage.tables import sms as sms_table

if TYPE_CHECKING:
    from sqlalchemy import Connection as Database

#: Send states from which an SMS may still become ``sent`` (its outcome found out later).
#: The states of a send not yet settled: claimed, or its answer lost.
OPEN_STATES = (SendState.CLAIMED.value, SendState.UNKNOWN.value)


@transactional
def mark_checked(db: Database, sms_id: int, *, error: str, now: datetime | None = None) -> None:
    """Stop looking up an unsettled send (the lookup could not tell); its state becomes unknown."""
    stamp = utc_text(now)
    db.execute(
        update(sms_table)
        .where(sms_table.c.id == sms_id, sms_table.c.state.in_(OPEN_STATES))
        .values(
            state=SendState.UNKNOWN.value,
            error=error[:MAX_ERROR_LENGTH],
            checked_at=stamp,
            updated_at=stamp,
        )
    )


@transactional
def take_over(
    db: Database,
    sms_id: int,
    *,
    seen: str | None,
    replica: str | None,
    state: SendState = SendState.CLAIMED,
    left: bool = False,
) -> bool:
    """Make ``replica`` the holder of an unsettled send; False when another got there first.

    ``seen`` is the holder as read a moment ago (a replica that is gone, or none), ``state`` the
    send's state then (an interrupted claim, or a send whose answer was lost) and ``left``
    whether it was marked as leaving (:func:`start_sending`): it is taken only if it is still
    that one's, in that state, as marked, and without a Mobizon id. So of two replicas settling
    it at once one sends it (or adopts the SMS found at Mobizon), and a claim its holder marked
    as leaving meanwhile is not taken as one that never left. ``replica`` is ``None`` for a
    process without a replica id (one process, taking over the claims of its previous run).
    """
    holder = sms_table.c.claimed_by.is_(None) if seen is None else sms_table.c.claimed_by == seen
    mark = sms_table.c.sending_at.is_not(None) if left else sms_table.c.sending_at.is_(None)
    changed = db.execute(
        update(sms_table)
        .where(
            sms_table.c.id == sms_id,
            sms_table.c.state == state.value,
            sms_table.c.message_id.is_(None),
            holder,
            mark,
        )
        .values(claimed_by=replica)
    ).rowcount
    return bool(changed)


@transactional
def start_sending(
    db: Database,
    sms_id: int,
    *,
    replica: str | None,
    again: bool = False,
    now: datetime | None = None,
) -> bool:
    """Mark the claim ``sms_id`` as leaving for Mobizon, just before its request goes.

    The holder (``replica``; ``None`` for a process without a replica id) marks its unsent
    claim once: False, and nothing may be sent, when the claim is no longer its own (another
    replica took it over while this one was held up), was settled meanwhile, or is marked
    already. A claim without the mark never left: whoever takes it over sends it at once.
    ``again`` is for a claim marked before whose SMS Mobizon does not have (looked up after the
    delay), sent again by the replica that took it over: its mark is replaced.
    """
    statement = _SEND_AGAIN if again else _START_SENDING
    changed = db.execute(
        statement, {"sms_id": sms_id, "replica": replica, "stamp": utc_text(now)}
    ).rowcount
    return bool(changed)


def _leaving(*, again: bool) -> Executable:
    """The compare-and-set that marks a claim as leaving (built once; values as parameters)."""
    mark = sms_table.c.sending_at
    return (
        update(sms_table)
        .where(
            sms_table.c.id == bindparam("sms_id"),
            sms_table.c.state == SendState.CLAIMED.value,
            sms_table.c.message_id.is_(None),
            mark.is_not(None) if again else mark.is_(None),
            sms_table.c.claimed_by.is_not_distinct_from(bindparam("replica", type_=Text)),
        )
        .values(sending_at=bindparam("stamp"))
    )


_START_SENDING = _leaving(again=False)
_SEND_AGAIN = _leaving(again=True)


@transactional
def release_claim(db: Database, sms_id: int) -> None:
    """Forget a claim refused before anything was sent (an unknown sender name)."""
    db.execute(
        sa_delete(sms_table).where(
            sms_table.c.id == sms_id,
            sms_table.c.state == SendState.CLAIMED.value,
            sms_table.c.message_id.is_(None),
        )
    )
