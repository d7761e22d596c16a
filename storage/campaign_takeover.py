"""Sends to many a dead process left behind: found, taken over, and made ready to run again.

A ``sending`` campaign belongs to the replica named in ``claimed_by`` while that replica's
heartbeat holds (:mod:`storage.replicas`, the rule of a single send's claim); once it is gone (its
heartbeat older than the lease, or its row gone), :func:`abandoned_campaigns` lists it and a live
replica takes it with :func:`take_over_campaign`, a compare-and-set on ``claimed_by``: of two
replicas at once, one gets it. A ``confirmed`` campaign nobody took within the lease after its
confirmation is listed too (the process that confirmed it died before running it); it is taken
with :func:`storage.campaigns.take_for_sending`.

A Mobizon campaign that was created but never sent is deleted at Mobizon and forgotten here
(:func:`detach_mobizon_campaign`) before the campaign runs again from a new one. A taker that
cannot finish now gives the campaign back (:func:`hand_back`) so a later step tries again.
:func:`withdraw_campaign` cancels a confirmed campaign whose command Slack never heard
acknowledged, so it is never run later.

The holder's own writes as it runs a campaign name it (:func:`record_mobizon_id`,
:func:`still_running` before ``campaign/send``, :func:`storage.campaign_sms.record_chunk`): a
replica that stalled past its lease and comes back after a takeover writes nothing more, and
stops (:class:`NotHeldError`).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Final

import sqlalchemy as sa

from storage.campaign_records import CampaignRecord, CampaignState, campaign_from_row
from storage.engine import reading, transactional
from storage.records import MAX_ERROR_LENGTH
from storage.replicas import live_ids
from storage.schema import utc_ms_text, utc_text
from storage.tables import campaign_recipients, campaigns
from storage.tables import sms as sms_table

if TYPE_CHECKING:
    from sqlalchemy import Connection as Database

__all__ = [
    "ANY_HOLDER",
    "AnyHolder",
    "NotHeldError",
    "abandoned_campaigns",
    "detach_mobizon_campaign",
    "hand_back",
    "held_by",
    "record_mobizon_id",
    "running",
    "still_running",
    "take_over_campaign",
    "withdraw_campaign",
]


class AnyHolder(enum.Enum):
    """Whoever holds the campaign (:data:`ANY_HOLDER`): a write that does not check its holder."""

    ANY = "any"


ANY_HOLDER: Final = AnyHolder.ANY


class NotHeldError(Exception):
    """A write of a run refused: the campaign is no longer the writer's (taken over, or decided).

    A replica that stalled past its lease (a pause, the database out of its reach) and comes
    back must not go on with a campaign another replica took over: each write of its run names
    the holder it expects, and the Mobizon campaign it is filling, and nothing is written when
    either changed.
    """

    def __init__(self, campaign_id: int) -> None:
        super().__init__(f"campaign {campaign_id} is no longer this replica's to run")
        self.campaign_id = campaign_id


def held_by(holder: str | AnyHolder | None) -> sa.ColumnElement[bool]:
    """The campaign is held by ``holder`` (``None``: by no replica); always, for ANY_HOLDER."""
    if holder is ANY_HOLDER:
        return sa.true()
    return campaigns.c.claimed_by.is_not_distinct_from(sa.literal(holder, sa.Text))


def running(campaign_id: int, holder: str | AnyHolder | None) -> sa.ColumnElement[bool]:
    """Campaign ``campaign_id`` is ``sending`` and held by ``holder`` (:func:`held_by`)."""
    return sa.and_(
        campaigns.c.id == campaign_id,
        campaigns.c.state == CampaignState.SENDING.value,
        held_by(holder),
    )


@transactional
def record_mobizon_id(
    db: Database,
    campaign_id: int,
    mobizon_id: int,
    *,
    holder: str | AnyHolder | None = ANY_HOLDER,
    now: datetime | None = None,
) -> bool:
    """Keep the id of the Mobizon campaign a ``sending`` campaign was created as.

    ``False`` (nothing written) when the campaign is not ``sending``, holds another Mobizon
    campaign already, or (given ``holder``, the replica running it) another replica took it over:
    the Mobizon campaign just created is then no one's, and its creator deletes it unsent.
    """
    changed = db.execute(
        sa.update(campaigns)
        .where(
            running(campaign_id, holder),
            sa.or_(campaigns.c.mobizon_id.is_(None), campaigns.c.mobizon_id == mobizon_id),
        )
        .values(mobizon_id=mobizon_id, updated_at=utc_text(now))
    ).rowcount
    return bool(changed)


@transactional
def still_running(
    db: Database,
    campaign_id: int,
    mobizon_id: int,
    *,
    holder: str | None,
    now: datetime | None = None,
) -> bool:
    """Whether ``holder`` still runs the campaign from Mobizon's ``mobizon_id`` (then touched).

    Asked right before ``campaign/send``: a replica that lost the campaign while it filled
    Mobizon's does not send it. The row is updated, not only read, so a takeover at the same
    moment comes before or after, never between.
    """
    changed = db.execute(
        sa.update(campaigns)
        .where(
            running(campaign_id, holder),
            campaigns.c.mobizon_id == mobizon_id,
        )
        .values(updated_at=utc_text(now))
    ).rowcount
    return bool(changed)


@reading
def abandoned_campaigns(
    db: Database, *, live_cutoff: str, idle_before: datetime
) -> list[CampaignRecord]:
    """Campaigns a process that is gone left ``sending`` or ``confirmed``, oldest first.

    ``sending``: its ``claimed_by`` replica's heartbeat is older than ``live_cutoff``
    (:func:`storage.replicas.lease_cutoff`) or its row is gone; one naming no replica once it was
    last changed before ``idle_before``. ``confirmed``: confirmed before ``idle_before`` and
    never taken.
    """
    idle = utc_text(idle_before)
    sending = sa.and_(
        campaigns.c.state == CampaignState.SENDING.value,
        sa.or_(
            campaigns.c.claimed_by.not_in(live_ids(live_cutoff)),
            sa.and_(campaigns.c.claimed_by.is_(None), campaigns.c.updated_at < idle),
        ),
    )
    confirmed = sa.and_(
        campaigns.c.state == CampaignState.CONFIRMED.value,
        sa.func.coalesce(campaigns.c.confirmed_at, campaigns.c.updated_at) < idle,
    )
    rows = db.execute(
        sa.select(campaigns).where(sa.or_(sending, confirmed)).order_by(campaigns.c.id)
    )
    return [campaign_from_row(row) for row in rows]


@transactional
def take_over_campaign(
    db: Database,
    campaign_id: int,
    *,
    seen: str | None,
    replica: str | None,
    now: datetime | None = None,
) -> CampaignRecord | None:
    """Make ``replica`` the holder of a ``sending`` campaign still held by ``seen``; else ``None``.

    ``seen`` is the holder as read a moment ago (a replica that is gone, or none): of two
    replicas taking it at once, one gets it.
    """
    row = db.execute(
        sa.update(campaigns)
        .where(running(campaign_id, seen))
        .values(claimed_by=replica, updated_at=utc_text(now))
        .returning(*campaigns.c)
    ).first()
    return None if row is None else campaign_from_row(row)


@transactional
def hand_back(db: Database, campaign_id: int, *, replica: str | None, to: str | None) -> bool:
    """Give a ``sending`` campaign ``replica`` took back to ``to`` (the holder it took it from).

    So the next step of any replica tries again; ``updated_at`` is left as it was. ``False`` when
    it is no longer ``replica``'s.
    """
    changed = db.execute(
        sa.update(campaigns).where(running(campaign_id, replica)).values(claimed_by=to)
    ).rowcount
    return bool(changed)


@transactional
def detach_mobizon_campaign(
    db: Database,
    campaign_id: int,
    *,
    replica: str | None,
    error: str,
    now: datetime | None = None,
) -> CampaignRecord | None:
    """Forget the Mobizon campaign of a ``sending`` campaign ``replica`` holds (deleted there).

    The SMS rows recorded for it become ``failed`` with ``error`` and detached (no status
    reported for their ids applies), leave the campaign (its counts start again) and free their
    duplicate keys (each gets ``~<Mobizon campaign id>`` appended); every recipient row loses
    its code, and the campaign its ``mobizon_id``, so it can run again from a new Mobizon
    campaign. ``None`` (nothing changed) when the campaign is not ``replica``'s.
    """
    stamp = utc_text(now)
    # the campaign's row locked first, as every write of a run locks it: never a deadlock with
    # a chunk the old holder records at the same moment (it waits, then finds it lost the run)
    current = db.execute(
        sa.select(campaigns).where(running(campaign_id, replica)).with_for_update()
    ).first()
    if current is None:
        return None
    old = current.mobizon_id
    if old is not None:
        db.execute(
            sa.update(sms_table)
            .where(sms_table.c.campaign == campaign_id)
            .values(
                state="failed",
                error=error[:MAX_ERROR_LENGTH],
                detached=True,
                campaign=None,
                trigger_id=sms_table.c.trigger_id + f"~{old}",
                updated_at=stamp,
            )
        )
    db.execute(
        sa.update(campaign_recipients)
        .where(campaign_recipients.c.campaign == campaign_id)
        .values(code=None, sms_id=None)
    )
    row = db.execute(
        sa.update(campaigns)
        .where(campaigns.c.id == campaign_id)
        .values(mobizon_id=None, updated_at=stamp, changed_at=utc_ms_text(now))
        .returning(*campaigns.c)
    ).first()
    return None if row is None else campaign_from_row(row)


@transactional
def withdraw_campaign(db: Database, campaign_id: int, *, now: datetime | None = None) -> bool:
    """Cancel a ``confirmed`` campaign nobody took yet (its command was never acknowledged).

    ``False`` when it was taken or decided meanwhile.
    """
    changed = db.execute(
        sa.update(campaigns)
        .where(
            campaigns.c.id == campaign_id,
            campaigns.c.state == CampaignState.CONFIRMED.value,
        )
        .values(state=CampaignState.CANCELLED.value, updated_at=utc_text(now))
    ).rowcount
    return bool(changed)
