"""A send to many as its rows stand, for tests: a campaign, its recipients and their SMS.

Written straight into the tables (``campaigns``, ``campaign_recipients``, ``sms``), as the
campaign service leaves them once Mobizon answered, and changed as delivery tracking changes
them: a status, a cost, a give-up or a decline on one SMS, with the campaign's ``changed_at``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from storage.engine import Database, transactional
from storage.schema import utc_ms_text, utc_text
from storage.status import is_final
from storage.tables import campaign_recipients, campaigns, sms

#: When the rows are made unless a test says otherwise.
T0 = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)

_IDS = itertools.count(1)


@dataclass(frozen=True, slots=True)
class MadeCampaign:
    """A campaign made by :func:`make_campaign`: its id and its SMS ids, in row order."""

    id: int
    sms_ids: tuple[int, ...]


def numbers(count: int) -> list[str]:
    """``count`` distinct Brazilian mobile numbers in international digits."""
    return [f"55119{8765_0000 + n:08d}" for n in range(count)]


@transactional
def make_campaign(  # each a column the tests set
    db: Database,
    recipients: Sequence[str],
    *,
    codes: Sequence[int] = (),
    state: str = "sent",
    channel: str = "C1",
    user: str = "U1",
    text: str = "Olá, seu pedido está pronto",
    sandbox: bool = False,
    now: datetime = T0,
) -> MadeCampaign:
    """A campaign to ``recipients`` (rows 2, 3… as in a file with a header).

    ``codes`` gives Mobizon's row code per recipient (0, added, when not given): each added one
    gets an SMS of its own (state ``sent``, status ``NEW``, a message id).
    """
    serial = next(_IDS)
    stamp = utc_text(now)
    campaign_id = db.execute(
        sa.insert(campaigns)
        .values(
            trigger_id=f"campaign-{serial}",
            team_id="T1",
            channel_id=channel,
            user_id=user,
            text=text,
            template=False,
            sandbox=sandbox,
            recipients=len(recipients),
            segments_min=1,
            segments_max=1,
            segments_total=len(recipients),
            state=state,
            mobizon_id=700_000 + serial,
            created_at=stamp,
            updated_at=stamp,
        )
        .returning(campaigns.c.id)
    ).scalar_one()
    made: list[int] = []
    for index, number in enumerate(recipients):
        code = codes[index] if index < len(codes) else 0
        sms_id = None
        if code == 0:
            sms_id = db.execute(
                sa.insert(sms)
                .values(
                    trigger_id=f"campaign-{serial}#{index + 2}",
                    team_id="T1",
                    channel_id=channel,
                    user_id=user,
                    recipient=number,
                    text=text,
                    segments=1,
                    encoding="GSM-7",
                    state="sent",
                    status="NEW",
                    message_id=serial * 100_000 + index + 1,
                    campaign_id=700_000 + serial,
                    campaign=campaign_id,
                    sandbox=sandbox,
                    created_at=stamp,
                    sent_at=stamp,
                    updated_at=stamp,
                )
                .returning(sms.c.id)
            ).scalar_one()
            made.append(int(sms_id))
        db.execute(
            sa.insert(campaign_recipients).values(
                campaign=campaign_id,
                row=index + 2,
                number=number,
                text=text,
                segments=1,
                code=code,
                sms_id=sms_id,
            )
        )
    return MadeCampaign(int(campaign_id), tuple(made))


def _changed(db: Database, sms_id: int, stamp: str) -> None:
    db.execute(
        sa.update(campaigns)
        .where(
            campaigns.c.id == sa.select(sms.c.campaign).where(sms.c.id == sms_id).scalar_subquery()
        )
        .values(changed_at=stamp)
    )


@transactional
def set_status(db: Database, sms_id: int, status: str, *, now: datetime = T0) -> None:
    """Mobizon reported ``status`` for the SMS: written, final when it is, the campaign changed."""
    stamp = utc_text(now)
    values: dict[str, object] = {"status": status, "updated_at": stamp}
    if is_final(status):
        values["final_at"] = stamp
    db.execute(sa.update(sms).where(sms.c.id == sms_id).values(**values))
    _changed(db, sms_id, utc_ms_text(now))


@transactional
def give_up(db: Database, sms_id: int, *, declined: str | None = None, now: datetime = T0) -> None:
    """Tracking stopped for the SMS: no final status in time, or (``declined``) a moderator's no."""
    stamp = utc_text(now)
    values: dict[str, object] = {"gave_up_at": stamp, "updated_at": stamp}
    if declined is not None:
        values |= {"moderation": "declined", "moderation_comment": declined}
    db.execute(sa.update(sms).where(sms.c.id == sms_id).values(**values))
    _changed(db, sms_id, utc_ms_text(now))


@transactional
def set_cost(
    db: Database, sms_id: int, cost: str, currency: str | None = "BRL", *, now: datetime = T0
) -> None:
    """Mobizon stated the SMS's cost."""
    db.execute(sa.update(sms).where(sms.c.id == sms_id).values(cost=cost, currency=currency))
    _changed(db, sms_id, utc_ms_text(now))


@transactional
def set_state(db: Database, campaign_id: int, state: str) -> None:
    """The campaign moved to ``state`` (``sending`` → ``sent``)."""
    db.execute(sa.update(campaigns).where(campaigns.c.id == campaign_id).values(state=state))


@transactional
def campaign_row(db: Database, campaign_id: int) -> dict[str, object]:
    """The campaign's row as stored."""
    row = db.execute(sa.select(campaigns).where(campaigns.c.id == campaign_id)).mappings().one()
    return dict(row)


@transactional
def set_statuses(db: Database, sms_ids: Sequence[int], status: str, *, now: datetime = T0) -> None:
    """:func:`set_status` for each of ``sms_ids``, in one transaction."""
    for sms_id in sms_ids:
        set_status(db, sms_id, status, now=now)
