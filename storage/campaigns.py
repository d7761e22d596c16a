"""A send to many as stored: the campaign, its recipients, and the SMS Mobizon made of them.

Its life (``campaigns.state``, :data:`storage.tables.campaigns`): :func:`create_campaign` stores
it with its recipients (``preview``, or ``confirmed`` when it needs no confirmation);
:func:`confirm_campaign` or :func:`cancel_campaign` decide a preview, once, by its asker,
before it expires; :func:`take_for_sending` hands a confirmed campaign to one replica
(``sending``); :func:`record_mobizon_id` keeps Mobizon's campaign id, :func:`record_chunk`
each ``addrecipients`` answer as it comes (an ``sms`` row per recipient added, the code of
every row), and :func:`record_campaign_sent` or :func:`record_campaign_failed` close it.

Every change of state is a compare-and-set on ``state``: of two replicas (or two clicks) at
once, exactly one changes it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from storage.arrays import columns_of, unnest_rows
from storage.campaign_records import (
    CampaignRecipientRow,
    CampaignRecord,
    CampaignState,
    ChunkRow,
    DecisionRefused,
    NewCampaign,
    NewRecipient,
    Refusal,
    SegmentCost,
    campaign_from_row,
)
from storage.campaign_sms import record_chunk
from storage.campaign_takeover import (
    ANY_HOLDER,
    AnyHolder,
    held_by,
    record_mobizon_id,
    running,
    still_running,
)
from storage.engine import dialect_insert, reading, transactional
from storage.records import MAX_ERROR_LENGTH
from storage.schema import utc_ms_text, utc_text
from storage.tables import campaign_recipients, campaigns
from storage.tables import sms as sms_table

if TYPE_CHECKING:
    from sqlalchemy import Connection as Database

__all__ = [
    "CampaignRecipientRow",
    "CampaignRecord",
    "CampaignState",
    "ChunkRow",
    "DecisionRefused",
    "NewCampaign",
    "NewRecipient",
    "Refusal",
    "SegmentCost",
    "campaign_by_trigger",
    "campaign_recipients_of",
    "cancel_campaign",
    "confirm_campaign",
    "create_campaign",
    "get_campaign",
    "record_campaign_failed",
    "record_campaign_sent",
    "record_chunk",
    "record_mobizon_id",
    "still_running",
    "take_for_sending",
]


#: The columns a recipient's insert writes, in order, with their types (PostgreSQL's arrays).
_RECIPIENT_COLUMNS: dict[str, Any] = {
    name: campaign_recipients.c[name].type
    for name in ("campaign", "row", "number", "text", "segments", "placeholder_values")
}
_RECIPIENT_ROWS = unnest_rows(_RECIPIENT_COLUMNS)
_RECIPIENTS_AS_ARRAYS = postgresql.insert(campaign_recipients).from_select(
    list(_RECIPIENT_COLUMNS), sa.select(_RECIPIENT_ROWS)
)


@transactional
def create_campaign(
    db: Database, new: NewCampaign, *, now: datetime | None = None
) -> CampaignRecord | None:
    """Store ``new`` and its recipients in one transaction; ``None`` for a duplicate key.

    Its counts (recipients, segments over them) are taken from ``new.recipients``, which must
    not be empty.
    """
    if not new.recipients:
        raise ValueError("a campaign needs at least one recipient")
    stamp = utc_text(now)
    segments = [recipient.segments for recipient in new.recipients]
    state = CampaignState.CONFIRMED if new.confirmed else CampaignState.PREVIEW
    values = {
        "trigger_id": new.trigger_id,
        "team_id": new.team_id,
        "channel_id": new.channel_id,
        "user_id": new.user_id,
        "response_url": new.response_url,
        "text": new.text,
        "template": new.template,
        "sender": new.sender,
        "name": new.name,
        "deferred_to": new.deferred_to,
        "validity": new.validity,
        "flash": new.flash,
        "shorten_links": new.shorten_links,
        "sandbox": new.sandbox,
        "source": new.source,
        "recipients": len(new.recipients),
        "left_out": new.left_out,
        "segments_min": min(segments),
        "segments_max": max(segments),
        "segments_total": sum(segments),
        "state": state.value,
        "expires_at": None if new.expires_at is None else utc_text(new.expires_at),
        "confirmed_at": stamp if new.confirmed else None,
        "created_at": stamp,
        "updated_at": stamp,
    }
    row = db.execute(
        dialect_insert(db, campaigns)
        .values(values)
        .on_conflict_do_nothing(index_elements=["trigger_id"])
        .returning(*campaigns.c)
    ).first()
    if row is None:
        return None
    record = campaign_from_row(row)
    rows: list[dict[str, object]] = [
        {
            "campaign": record.id,
            "row": recipient.row,
            "number": recipient.number,
            "text": recipient.text,
            "segments": recipient.segments,
            "placeholder_values": (
                None if recipient.values is None else json.dumps(dict(recipient.values))
            ),
        }
        for recipient in new.recipients
    ]
    if db.dialect.name == "postgresql":
        db.execute(_RECIPIENTS_AS_ARRAYS, columns_of(rows, _RECIPIENT_COLUMNS))
    else:
        db.execute(sa.insert(campaign_recipients), rows)
    return record


@reading
def get_campaign(db: Database, campaign_id: int) -> CampaignRecord | None:
    """The campaign ``campaign_id``, or ``None``."""
    row = db.execute(sa.select(campaigns).where(campaigns.c.id == campaign_id)).first()
    return None if row is None else campaign_from_row(row)


@reading
def campaign_by_trigger(db: Database, trigger_id: str) -> CampaignRecord | None:
    """The campaign stored under the duplicate key ``trigger_id``, or ``None``."""
    row = db.execute(sa.select(campaigns).where(campaigns.c.trigger_id == trigger_id)).first()
    return None if row is None else campaign_from_row(row)


@reading
def campaign_recipients_of(db: Database, campaign_id: int) -> list[CampaignRecipientRow]:
    """The recipients of ``campaign_id``, in row order."""
    rows = db.execute(
        sa.select(campaign_recipients)
        .where(campaign_recipients.c.campaign == campaign_id)
        .order_by(campaign_recipients.c.row)
    )
    return [
        CampaignRecipientRow(
            row=row.row,
            number=row.number,
            text=row.text,
            segments=row.segments,
            values=json.loads(row.placeholder_values) if row.placeholder_values else {},
            code=row.code,
            sms_id=row.sms_id,
        )
        for row in rows
    ]


def _decide(
    db: Database,
    campaign_id: int,
    user_id: str,
    to: CampaignState,
    moment: datetime,
    *,
    team_id: str | None,
) -> CampaignRecord | DecisionRefused:
    """Move a preview to ``to`` if ``user_id`` asked for it and it has not expired.

    ``team_id`` is the workspace the decision comes from: the same user id in another
    workspace is another person (``None``: not said, as the console).
    """
    stamp = utc_text(moment)
    values: dict[str, object] = {"state": to.value, "updated_at": stamp}
    if to is CampaignState.CONFIRMED:
        values["confirmed_at"] = stamp
    row = db.execute(
        sa.update(campaigns)
        .where(
            campaigns.c.id == campaign_id,
            campaigns.c.state == CampaignState.PREVIEW.value,
            campaigns.c.user_id == user_id,
            _same_team(team_id),
            sa.or_(campaigns.c.expires_at.is_(None), campaigns.c.expires_at > stamp),
        )
        .values(values)
        .returning(*campaigns.c)
    ).first()
    if row is not None:
        return campaign_from_row(row)
    current = get_campaign(db, campaign_id)
    if current is None:
        return DecisionRefused(Refusal.MISSING, None)
    if current.user_id != user_id or (team_id and current.team_id and current.team_id != team_id):
        return DecisionRefused(Refusal.NOT_YOURS, current)
    if current.state != CampaignState.PREVIEW.value:
        return DecisionRefused(Refusal.DECIDED, current)
    return DecisionRefused(Refusal.EXPIRED, current)


def _same_team(team_id: str | None) -> sa.ColumnElement[bool]:
    """The campaign was asked in ``team_id`` (any workspace when it is not said)."""
    if not team_id:
        return sa.true()
    return sa.or_(campaigns.c.team_id == team_id, campaigns.c.team_id == "")


@transactional
def confirm_campaign(
    db: Database,
    campaign_id: int,
    user_id: str,
    *,
    team_id: str | None = None,
    now: datetime | None = None,
) -> CampaignRecord | DecisionRefused:
    """Confirm a preview, once, by its asker, before it expires: the campaign now, or why not.

    A compare-and-set on ``state``: of two confirms at once, one changes it; the other is told
    it was decided (:attr:`Refusal.DECIDED`). Someone else's is :attr:`Refusal.NOT_YOURS`, one
    past ``expires_at`` :attr:`Refusal.EXPIRED` (it stays a preview, never sent).
    """
    return _decide(
        db, campaign_id, user_id, CampaignState.CONFIRMED, now or datetime.now(UTC), team_id=team_id
    )


@transactional
def cancel_campaign(
    db: Database,
    campaign_id: int,
    user_id: str,
    *,
    team_id: str | None = None,
    now: datetime | None = None,
) -> CampaignRecord | DecisionRefused:
    """Cancel a preview (state ``cancelled``), by the rules of :func:`confirm_campaign`."""
    return _decide(
        db, campaign_id, user_id, CampaignState.CANCELLED, now or datetime.now(UTC), team_id=team_id
    )


@transactional
def take_for_sending(
    db: Database, campaign_id: int, replica: str | None, *, now: datetime | None = None
) -> CampaignRecord | None:
    """Hand a ``confirmed`` campaign to ``replica`` (state ``sending``); else ``None``.

    A compare-and-set: of two replicas at once, one gets it.
    """
    stamp = utc_text(now)
    row = db.execute(
        sa.update(campaigns)
        .where(campaigns.c.id == campaign_id, campaigns.c.state == CampaignState.CONFIRMED.value)
        .values(state=CampaignState.SENDING.value, claimed_by=replica, updated_at=stamp)
        .returning(*campaigns.c)
    ).first()
    return None if row is None else campaign_from_row(row)


@transactional
def record_campaign_sent(
    db: Database,
    campaign_id: int,
    mobizon_status: int,
    *,
    holder: str | AnyHolder | None = ANY_HOLDER,
    now: datetime | None = None,
) -> bool:
    """Mobizon took ``campaign/send``: state ``sent``, its status on the campaign and its SMS.

    ``False`` (nothing changed) when the campaign was not ``sending`` (or, given ``holder``,
    another replica took it over).
    """
    moment = now or datetime.now(UTC)
    stamp = utc_text(moment)
    changed = db.execute(
        sa.update(campaigns)
        .where(running(campaign_id, holder))
        .values(
            state=CampaignState.SENT.value,
            mobizon_status=mobizon_status,
            sent_at=stamp,
            changed_at=utc_ms_text(moment),
            updated_at=stamp,
        )
    ).rowcount
    if not changed:
        return False
    # the moderation watch reads each SMS's campaign status, as it does a single send's
    db.execute(
        sa.update(sms_table)
        .where(sms_table.c.campaign == campaign_id)
        .values(campaign_status=mobizon_status)
    )
    return True


@transactional
def record_campaign_failed(
    db: Database,
    campaign_id: int,
    *,
    error: str,
    never_sent: bool = True,
    holder: str | AnyHolder | None = ANY_HOLDER,
    now: datetime | None = None,
) -> bool:
    """The campaign could not be sent: state ``failed`` with ``error`` (free of secrets).

    With ``never_sent`` (``campaign/send`` was never taken) the SMS rows of the recipients
    Mobizon added before it failed are ``failed`` too, so nothing tracks them; without it (the
    send's outcome is unknown) they stay tracked: their statuses tell. ``False`` when it was
    already ``sent``, ``failed`` or ``cancelled``, or (given ``holder``, the replica running it)
    another replica took it over.
    """
    moment = now or datetime.now(UTC)
    stamp = utc_text(moment)
    changed = db.execute(
        sa.update(campaigns)
        .where(
            campaigns.c.id == campaign_id,
            campaigns.c.state.in_(
                (
                    CampaignState.PREVIEW.value,
                    CampaignState.CONFIRMED.value,
                    CampaignState.SENDING.value,
                )
            ),
            held_by(holder),
        )
        .values(
            state=CampaignState.FAILED.value,
            error=error[:MAX_ERROR_LENGTH],
            changed_at=utc_ms_text(moment),
            updated_at=stamp,
        )
    ).rowcount
    if changed and never_sent:
        db.execute(
            sa.update(sms_table)
            .where(sms_table.c.campaign == campaign_id, sms_table.c.state == "sent")
            .values(state="failed", error=error[:MAX_ERROR_LENGTH], updated_at=stamp)
        )
    return bool(changed)
