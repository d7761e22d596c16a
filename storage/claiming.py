"""Claiming a send: its row written, its duplicate key taken, one claim or many together.

A claim is the row of an SMS about to be sent (state ``claimed``), unique on the ``trigger_id``
of the request that asked for it: a command Slack delivers twice claims once. Claims that arrive
together are written in one statement and one transaction (:func:`claim_sends`, which
:class:`~storage.store.Store` uses for the calls of :func:`claim_send` waiting for its writer),
each still told its own answer: its row, or ``None`` when its key was taken.

A send claims through :func:`claim_send_unless_opted_out`: the opt-out list is read in the
claim's own transaction (once for all the claims written together), so a burst of commands is
one trip to the database each, not a read and then a write.
"""

from __future__ import annotations

import functools
from dataclasses import MISSING, dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Executable, select
from sqlalchemy.dialects import postgresql

from storage.arrays import columns_of, unnest_rows
from storage.engine import dialect_insert, transactional
from storage.grouped import grouped
from storage.optouts import opted_out_among
from storage.records import SendState, SmsRecord
from storage.schema import MOBIZON_TS_FORMAT, utc_text, wall_text
from storage.tables import sms as sms_table

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy import Connection as Database


@dataclass(frozen=True, slots=True)
class NewSend:
    """The row a send claims: the SMS, where it came from, and the key of its delivery.

    Storage's own copy of the domain's outgoing SMS and origin (it imports nothing of ours);
    ``trigger_id`` is the duplicate key (a redelivery of the same command claims nothing) and
    ``deferred_to`` the user's wall time (``YYYY-MM-DD HH:MM:SS`` or a naive datetime).
    """

    trigger_id: str
    team_id: str
    channel_id: str
    user_id: str
    response_url: str | None
    recipient: str
    text: str
    sender: str | None
    segments: int | None
    encoding: str | None
    name: str | None
    deferred_to: datetime | str | None
    validity: int | None
    flash: bool
    sandbox: bool = False
    shorten_links: bool = False
    #: The replica that claims it (and sends it); ``None`` for a claim no replica holds.
    claimed_by: str | None = None
    #: the text's length in its encoding's units, as the send counted it
    length: int | None = None


def _deferred_text(deferred_to: datetime | str | None) -> str | None:
    if deferred_to is None:
        return None
    if isinstance(deferred_to, datetime):
        return wall_text(deferred_to)
    # Parsed to guarantee the text sorts as a time; the value kept is exactly what was given.
    datetime.strptime(deferred_to, MOBIZON_TS_FORMAT)  # noqa: DTZ007  # a wall time, no zone by design
    return deferred_to


#: The columns a claim writes, in the order of its insert (a campaign's SMS rows write them too).
CLAIM_COLUMNS = (
    "trigger_id",
    "team_id",
    "channel_id",
    "user_id",
    "response_url",
    "recipient",
    "sender",
    "text",
    "segments",
    "encoding",
    "length",
    "name",
    "deferred_to",
    "validity",
    "flash",
    "state",
    "created_at",
    "updated_at",
    "sandbox",
    "shorten_links",
    "claimed_by",
)


def _claim_values(new: NewSend, stamp: str) -> dict[str, Any]:
    """The values of one claim's row, by column."""
    return {
        "trigger_id": new.trigger_id,
        "team_id": new.team_id,
        "channel_id": new.channel_id,
        "user_id": new.user_id,
        "response_url": new.response_url,
        "recipient": new.recipient,
        "sender": new.sender,
        "text": new.text,
        "segments": new.segments,
        "encoding": new.encoding,
        "length": new.length,
        "name": new.name,
        "deferred_to": _deferred_text(new.deferred_to),
        "validity": new.validity,
        "flash": new.flash,
        "state": SendState.CLAIMED.value,
        "created_at": stamp,
        "updated_at": stamp,
        "sandbox": new.sandbox,
        "shorten_links": new.shorten_links,
        "claimed_by": new.claimed_by,
    }


@transactional
def claim_sends(
    db: Database, news: Sequence[NewSend], *, now: datetime | None = None
) -> list[SmsRecord | None]:
    """Claim the sends of many SMS in one statement: each one's row, or ``None`` for a duplicate.

    The answers are in the order of ``news``, each as :func:`claim_send` alone would give it in
    that order: ``None`` when its ``trigger_id`` was claimed before, or earlier in ``news``.
    """
    if not news:
        return []
    stamp = utc_text(now)
    first: dict[str, NewSend] = {}
    for new in news:
        first.setdefault(new.trigger_id, new)
    rows_by_key = {key: _claim_values(new, stamp) for key, new in first.items()}
    rows = list(rows_by_key.values())
    if db.dialect.name == "postgresql":
        # one statement for the server, the rows as one array per column
        columns = columns_of(rows, CLAIM_COLUMNS)
        result = db.execute(_CLAIMS_AS_ARRAYS, columns)
    else:
        # SQLAlchemy writes the rows as one multi-row INSERT (its "insertmanyvalues")
        result = db.execute(_claim_statement("sqlite"), rows)
    written = datetime.fromisoformat(stamp)
    claimed = {
        trigger_id: _claimed_record(sms_id, rows_by_key[trigger_id], written)
        for sms_id, trigger_id in result
    }
    # a key given twice in ``news`` is claimed by its first: the later ones are duplicates
    return [
        claimed.pop(new.trigger_id, None) if first.get(new.trigger_id) is new else None
        for new in news
    ]


@grouped(claim_sends)
@transactional
def claim_send(db: Database, new: NewSend, *, now: datetime | None = None) -> SmsRecord | None:
    """Claim the send of one SMS; ``None`` when its ``trigger_id`` was already claimed.

    Call it before asking Mobizon: a command Slack delivers twice then sends one SMS, not two.
    """
    (claimed,) = claim_sends(db, [new], now=now)
    return claimed


@functools.cache
def _claim_statement(dialect: str) -> Executable:
    """The claim's insert for ``dialect``, built once (its values given as parameters)."""
    return (
        dialect_insert(dialect, sms_table)
        .on_conflict_do_nothing(index_elements=["trigger_id"])
        .returning(sms_table.c.id, sms_table.c.trigger_id)
    )


_CLAIM_ROWS = unnest_rows({name: sms_table.c[name].type for name in CLAIM_COLUMNS})

#: Many claims in one statement, one array parameter per column (PostgreSQL), in their order.
_CLAIMS_AS_ARRAYS = (
    postgresql.insert(sms_table)
    .from_select(CLAIM_COLUMNS, select(_CLAIM_ROWS))
    .on_conflict_do_nothing(index_elements=["trigger_id"])
    .returning(sms_table.c.id, sms_table.c.trigger_id)
)


#: What a claimed row holds in the fields no claim writes: the table's defaults (empty; false).
_UNWRITTEN: dict[str, Any] = {
    f.name: f.default if f.default is not MISSING else (False if f.type == "bool" else None)
    for f in fields(SmsRecord)
    if f.name != "id" and f.name not in CLAIM_COLUMNS
}


def _claimed_record(sms_id: int, values: dict[str, Any], written: datetime) -> SmsRecord:
    """The record of the row a claim just wrote, from the ``values`` it wrote.

    Not read back: a burst's claims are many, and each row read back would be converted column
    by column (most of a claim's time on the writer thread).
    """
    return SmsRecord(
        **{
            **_UNWRITTEN,
            **values,
            "id": sms_id,
            "state": SendState.CLAIMED,
            "created_at": written,
            "updated_at": written,
        }
    )


@dataclass(frozen=True, slots=True)
class OptedOutNumber:
    """A claim not made: its recipient is on the opt-out list, and nothing was written."""

    recipient: str


@transactional
def claim_sends_unless_opted_out(
    db: Database, news: Sequence[NewSend], *, now: datetime | None = None
) -> list[SmsRecord | OptedOutNumber | None]:
    """:func:`claim_sends`, except a send to a number on the opt-out list, which claims nothing.

    The list is read in the same transaction, before the claims are written: such a send is
    answered :class:`OptedOutNumber` whether or not its key was claimed before, and leaves its
    key free (as a send refused before claiming did).
    """
    listed = opted_out_among(db, {new.recipient for new in news}) if news else set()
    claimed = iter(claim_sends(db, [new for new in news if new.recipient not in listed], now=now))
    return [
        OptedOutNumber(new.recipient) if new.recipient in listed else next(claimed) for new in news
    ]


@grouped(claim_sends_unless_opted_out)
@transactional
def claim_send_unless_opted_out(
    db: Database, new: NewSend, *, now: datetime | None = None
) -> SmsRecord | OptedOutNumber | None:
    """Claim the send of one SMS unless its number is on the opt-out list (then nothing is written).

    ``None`` when its ``trigger_id`` was already claimed; :class:`OptedOutNumber` when its
    recipient is on the list. Group-committed like :func:`claim_send`.
    """
    (answer,) = claim_sends_unless_opted_out(db, [new], now=now)
    return answer
