"""A campaign's recipients as Mobizon added them: their SMS rows and each row's code.

Each ``addrecipients`` answer is recorded as it comes (:func:`record_chunk`, named by
:mod:`storage.campaigns`): an ``sms`` row for each recipient added, tracked like any SMS but
never given an outbox row, and Mobizon's code on every recipient row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from storage import delivery
from storage.arrays import columns_of, unnest_rows
from storage.campaign_records import CampaignRecord, ChunkRow, campaign_from_row
from storage.campaign_takeover import ANY_HOLDER, AnyHolder, NotHeldError, running
from storage.claiming import CLAIM_COLUMNS
from storage.engine import dialect_insert, transactional
from storage.schema import utc_ms_text, utc_text
from storage.tables import campaign_recipients, campaigns
from storage.tables import sms as sms_table

if TYPE_CHECKING:
    from sqlalchemy import Connection as Database


#: The columns of a recipient's SMS row, in the order of its insert: a claim's, and what Mobizon's
#: answer and the campaign add.
_SMS_COLUMNS = (*CLAIM_COLUMNS, "message_id", "campaign_id", "sent_at", "campaign")
_SMS_ROWS = unnest_rows({name: sms_table.c[name].type for name in _SMS_COLUMNS})
_SMS_AS_ARRAYS = (
    postgresql.insert(sms_table)
    .from_select(_SMS_COLUMNS, sa.select(_SMS_ROWS))
    .on_conflict_do_nothing()
    .returning(sms_table.c.id, sms_table.c.trigger_id)
)
_SMS_INSERT = (
    dialect_insert("sqlite", sms_table)
    .on_conflict_do_nothing()
    .returning(sms_table.c.id, sms_table.c.trigger_id)
)
_SET_CODE = (
    sa.update(campaign_recipients)
    .where(
        campaign_recipients.c.campaign == sa.bindparam("campaign_id"),
        campaign_recipients.c.row == sa.bindparam("row_no"),
    )
    .values(code=sa.bindparam("new_code"), sms_id=sa.bindparam("new_sms_id"))
)


@transactional
def record_chunk(
    db: Database,
    campaign_id: int,
    rows: Sequence[ChunkRow],
    *,
    holder: str | AnyHolder | None = ANY_HOLDER,
    mobizon_id: int | None = None,
    now: datetime | None = None,
) -> int:
    """Record one ``addrecipients`` answer: an SMS row for each recipient added, every row's code.

    Each added recipient's SMS is ``sent`` with status ``NEW``, its ``message_id``,
    ``campaign_id`` Mobizon's campaign, ``campaign`` ours and ``trigger_id``
    ``"<campaign's trigger_id>#<row>"``; it never gets an outbox row (the campaign's one message
    tells of it). Recording the same answer again adds nothing. Returns how many SMS rows were
    written.

    Given ``holder`` (the replica running the campaign) and ``mobizon_id`` (the Mobizon campaign
    it fills), raises :class:`~storage.campaign_takeover.NotHeldError` and writes nothing when
    the campaign is no longer ``sending``, another replica took it over, or it runs from another
    Mobizon campaign now. The campaign's row is locked as it is read, so a takeover waits for
    this write or comes before it.
    """
    moment = now or datetime.now(UTC)
    stamp = utc_text(moment)
    fenced = holder is not ANY_HOLDER or mobizon_id is not None
    held = running(campaign_id, holder)
    if mobizon_id is not None:
        held = sa.and_(held, campaigns.c.mobizon_id == mobizon_id)
    query = sa.select(campaigns, held.label("held")).where(campaigns.c.id == campaign_id)
    found = db.execute(query.with_for_update() if fenced else query).first()
    if found is None:
        raise LookupError(f"campaign {campaign_id} does not exist")
    if fenced and not found.held:
        raise NotHeldError(campaign_id)
    campaign = campaign_from_row(found)
    wanted = {row.row: row for row in rows}
    recipients: dict[int, tuple[str, str, int]] = {
        int(row.row): (row.number, row.text, int(row.segments))
        for row in db.execute(
            sa.select(
                campaign_recipients.c.row,
                campaign_recipients.c.number,
                campaign_recipients.c.text,
                campaign_recipients.c.segments,
            ).where(
                campaign_recipients.c.campaign == campaign_id,
                campaign_recipients.c.row.in_(sorted(wanted)),
            )
        )
    }
    sms_rows = [
        _sms_values(campaign, recipients[row.row], row, stamp)
        for row in rows
        if row.code == 0 and row.message_id is not None and row.row in recipients
    ]
    inserted = _insert_sms(db, sms_rows, moment)
    by_trigger = _sms_ids(db, [values["trigger_id"] for values in sms_rows])
    db.execute(
        _SET_CODE,
        [
            {
                "campaign_id": campaign_id,
                "row_no": row.row,
                "new_code": row.code,
                "new_sms_id": by_trigger.get(f"{campaign.trigger_id}#{row.row}"),
            }
            for row in rows
        ],
    )
    db.execute(
        sa.update(campaigns)
        .where(campaigns.c.id == campaign_id)
        .values(changed_at=utc_ms_text(moment), updated_at=stamp)
    )
    return inserted


def _sms_values(
    campaign: CampaignRecord,
    recipient: tuple[str, str, int],
    row: ChunkRow,
    stamp: str,
) -> dict[str, object]:
    """The SMS row of a recipient Mobizon added (its number, text and segments as stored)."""
    number, text, segments = recipient
    return {
        "trigger_id": f"{campaign.trigger_id}#{row.row}",
        "team_id": campaign.team_id,
        "channel_id": campaign.channel_id,
        "user_id": campaign.user_id,
        "response_url": campaign.response_url,
        "recipient": number,
        "sender": campaign.sender,
        "text": text,
        "segments": segments,
        "encoding": row.encoding,
        "length": row.length,
        "name": campaign.name,
        "deferred_to": campaign.deferred_to,
        "validity": campaign.validity,
        "flash": campaign.flash,
        "state": "sent",
        "message_id": row.message_id,
        "campaign_id": campaign.mobizon_id,
        "created_at": stamp,
        "sent_at": stamp,
        "updated_at": stamp,
        "sandbox": campaign.sandbox,
        "shorten_links": campaign.shorten_links,
        "claimed_by": campaign.claimed_by,
        "campaign": campaign.id,
    }


def _insert_sms(db: Database, rows: list[dict[str, object]], moment: datetime) -> int:
    """Insert the SMS rows (one taken before is skipped), then their first status, ``NEW``.

    The status and its history row are written by the one writer of statuses
    (:func:`storage.delivery.apply_statuses`), as a single send's are.
    """
    if not rows:
        return 0
    if db.dialect.name == "postgresql":
        written = db.execute(_SMS_AS_ARRAYS, columns_of(rows, _SMS_COLUMNS)).all()
    else:
        written = db.execute(_SMS_INSERT, rows).all()
    made = {trigger for _id, trigger in written}
    firsts = [
        delivery.StatusUpdate(int(str(values["message_id"])), "NEW", None, source="command")
        for values in rows
        if values["trigger_id"] in made
    ]
    delivery.apply_statuses(db, firsts, now=moment)
    return len(made)


def _sms_ids(db: Database, triggers: list[object]) -> dict[str, int]:
    """The SMS row ids of ``triggers``, by trigger id."""
    found: dict[str, int] = {}
    for start in range(0, len(triggers), 500):
        batch = triggers[start : start + 500]
        rows = db.execute(
            sa.select(sms_table.c.trigger_id, sms_table.c.id).where(
                sms_table.c.trigger_id.in_(batch)
            )
        )
        found.update({str(trigger): int(sms_id) for trigger, sms_id in rows})
    return found
