"""A campaign's one message in its channel: which are due, what they show, what Slack took.

A send to many (:data:`storage.tables.campaigns`) has one channel message, edited with its
recipients' counts, and one thread reply once every SMS of it is final. Its SMS never get an
outbox row: a change to one sets the campaign's ``changed_at`` instead, and the reporter reads
:func:`due_reports` every step or two.

A message is due when it is not posted yet, when something changed since it was last shown
(``changed_at`` at or after ``reported_at``), or when the campaign is sent, every SMS of it final
and its summary not posted; never sooner than ``interval`` after it was last shown. The reporter
takes one with :func:`claim_report`, a compare-and-set on ``reported_at`` that also reads its
counts: across replicas a campaign's message is edited once an interval, by whichever replica
won. What Slack took is recorded as soon as it answers (:func:`record_message`,
:func:`record_summary`); a refusal gives the claim back (:func:`release_report`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

import sqlalchemy as sa

from storage.engine import reading, transactional
from storage.schema import utc_ms_text
from storage.status import DeliveryStatus
from storage.tables import PENDING, campaign_recipients, campaigns, sms

if TYPE_CHECKING:
    from sqlalchemy import Connection as Database

#: The states whose message is reported: being filled at Mobizon, or sent.
REPORTED_STATES = ("sending", "sent")

#: What became of an SMS that was not delivered and never will be, besides Mobizon's final
#: statuses: its moderators declined it, it was cancelled, or no final status came in time.
DECLINED = "declined"
CANCELLED = "cancelled"
GAVE_UP = "gave_up"
#: Not final yet, and no status past the queue (none, NEW, ENQUEUD or one Mobizon does not
#: document).
WAITING = "waiting"

#: Mobizon's final statuses that mean not delivered.
FAILED_STATUSES = (
    DeliveryStatus.UNDELIV,
    DeliveryStatus.REJECTD,
    DeliveryStatus.EXPIRED,
    DeliveryStatus.DELETED,
)
#: Mobizon's statuses of an SMS the carrier took, not delivered yet.
SENT_STATUSES = (DeliveryStatus.ACCEPTD, DeliveryStatus.PDLIVRD)

#: What became of each SMS, as one name: Mobizon's status where it tells, else ours.
_OUTCOME_OF = sa.case(
    (sms.c.status == DeliveryStatus.DELIVRD.value, DeliveryStatus.DELIVRD.value),
    (sms.c.status.in_([s.value for s in FAILED_STATUSES]), sms.c.status),
    (sms.c.cancelled_by.is_not(None), CANCELLED),
    (sms.c.moderation == "declined", DECLINED),
    (sms.c.gave_up_at.is_not(None), GAVE_UP),
    (sms.c.status.in_([s.value for s in SENT_STATUSES]), sms.c.status),
    else_=WAITING,
)
_OUTCOME = _OUTCOME_OF.label("outcome")
_PENDING_COUNT = sa.func.sum(sa.case((PENDING, 1), else_=0)).label("pending")

_OUTCOMES = (
    sa.select(_OUTCOME, sa.func.count().label("many"), _PENDING_COUNT)
    .where(sms.c.campaign == sa.bindparam("campaign"))
    .group_by(_OUTCOME)
)
_NOT_ADDED_ROW = sa.and_(
    campaign_recipients.c.campaign == sa.bindparam("campaign"),
    campaign_recipients.c.code.is_not(None),
    campaign_recipients.c.code != 0,
)
_NOT_ADDED = (
    sa.select(campaign_recipients.c.code, sa.func.count().label("many"))
    .where(_NOT_ADDED_ROW)
    .group_by(campaign_recipients.c.code)
)

#: An SMS of the campaign still tracked (not final, not given up on).
_ANY_PENDING = sa.exists().where(sms.c.campaign == campaigns.c.id, PENDING)


@dataclass(frozen=True, slots=True)
class Counts:
    """Where a campaign's recipients stand.

    ``outcomes`` counts its SMS by outcome (Mobizon's status, or :data:`DECLINED`,
    :data:`CANCELLED`, :data:`GAVE_UP`, :data:`WAITING`); ``not_added`` counts the rows Mobizon
    did not add, by their row code; ``pending`` the SMS still tracked.
    """

    outcomes: dict[str, int] = field(default_factory=dict)
    not_added: dict[int, int] = field(default_factory=dict)
    pending: int = 0

    @property
    def added(self) -> int:
        """The SMS Mobizon made (one per recipient it added)."""
        return sum(self.outcomes.values())

    @property
    def waiting(self) -> int:
        """Not past Mobizon's queue yet: no status, NEW, ENQUEUD (or one Mobizon does not name)."""
        return self.outcomes.get(WAITING, 0)

    @property
    def sent(self) -> int:
        """Taken by the carrier, not delivered yet (ACCEPTD, PDLIVRD)."""
        return sum(self.outcomes.get(status, 0) for status in SENT_STATUSES)

    @property
    def delivered(self) -> int:
        """Delivered (DELIVRD)."""
        return self.outcomes.get(DeliveryStatus.DELIVRD, 0)

    @property
    def failed(self) -> int:
        """Not delivered and never will be: a failed final status, declined, cancelled, given up."""
        return self.added - self.waiting - self.sent - self.delivered

    @property
    def failures(self) -> dict[str, int]:
        """The failed ones by outcome."""
        kept = {WAITING, DeliveryStatus.DELIVRD, *SENT_STATUSES}
        return {name: count for name, count in self.outcomes.items() if name not in kept}

    @property
    def not_added_count(self) -> int:
        """The recipients Mobizon did not add."""
        return sum(self.not_added.values())

    @property
    def all_final(self) -> bool:
        """Every SMS Mobizon made is final (or no longer tracked)."""
        return self.pending == 0


@dataclass(frozen=True, slots=True)
class CampaignReport:
    """One campaign as its message shows it: what was sent, by whom, and its counts now.

    ``claimed_at`` is the ``reported_at`` the claim wrote, ``previous`` the one it replaced
    (what :func:`release_report` puts back).
    """

    id: int
    channel_id: str
    user_id: str
    text: str
    sender: str | None
    sandbox: bool
    recipients: int
    left_out: int
    state: str
    mobizon_id: int | None
    slack_channel: str | None
    slack_ts: str | None
    summary_ts: str | None
    claimed_at: str
    previous: str | None
    counts: Counts

    @property
    def finished(self) -> bool:
        """Sent, and every SMS of it final: its summary is owed (or posted)."""
        return self.state == "sent" and self.counts.all_final


@dataclass(frozen=True, slots=True)
class DueReport:
    """A campaign whose message is due, and the ``reported_at`` it was read with."""

    id: int
    reported_at: str | None
    slack_ts: str | None


def _due(cutoff: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        sa.or_(
            campaigns.c.state.in_(REPORTED_STATES),
            # failed once its message was up: edited once more, to say it was not sent
            sa.and_(campaigns.c.state == "failed", campaigns.c.slack_ts.is_not(None)),
        ),
        sa.or_(campaigns.c.reported_at.is_(None), campaigns.c.reported_at <= cutoff),
        sa.or_(
            campaigns.c.slack_ts.is_(None),
            campaigns.c.changed_at >= campaigns.c.reported_at,
            sa.and_(
                campaigns.c.summary_ts.is_(None),
                campaigns.c.state == "sent",
                ~_ANY_PENDING,
            ),
        ),
    )


@reading
def due_reports(
    db: Database, *, now: datetime, interval: timedelta, limit: int = 100
) -> list[DueReport]:
    """The campaigns whose message is due now, the longest unreported first.

    Not posted yet, changed since it was last shown, or finished with its summary owed; and
    last shown ``interval`` ago at least.
    """
    rows = db.execute(
        sa.select(campaigns.c.id, campaigns.c.reported_at, campaigns.c.slack_ts)
        .where(_due(utc_ms_text(now - interval)))
        .order_by(sa.func.coalesce(campaigns.c.reported_at, ""), campaigns.c.id)
        .limit(limit)
    )
    return [DueReport(int(row.id), row.reported_at, row.slack_ts) for row in rows]


@transactional
def claim_report(
    db: Database, due: DueReport, *, now: datetime, interval: timedelta
) -> CampaignReport | None:
    """Take the campaign's message for this step: set ``reported_at``, read its counts.

    A compare-and-set: ``None`` when another replica took it since ``due`` was read, or it is
    no longer due. Counts are read in the same transaction.
    """
    stamp = utc_ms_text(now)
    seen = (
        campaigns.c.reported_at.is_(None)
        if due.reported_at is None
        else campaigns.c.reported_at == due.reported_at
    )
    taken = db.execute(
        sa.update(campaigns)
        .where(campaigns.c.id == due.id, seen, _due(utc_ms_text(now - interval)))
        .values(reported_at=stamp)
        .returning(*campaigns.c)
    ).one_or_none()
    if taken is None:
        return None
    return CampaignReport(
        id=int(taken.id),
        channel_id=taken.channel_id,
        user_id=taken.user_id,
        text=taken.text,
        sender=taken.sender,
        sandbox=bool(taken.sandbox),
        recipients=int(taken.recipients),
        left_out=int(taken.left_out),
        state=taken.state,
        mobizon_id=taken.mobizon_id,
        slack_channel=taken.slack_channel,
        slack_ts=taken.slack_ts,
        summary_ts=taken.summary_ts,
        claimed_at=stamp,
        previous=due.reported_at,
        counts=campaign_counts(db, int(taken.id)),
    )


@reading
def campaign_counts(db: Database, campaign_id: int) -> Counts:
    """Where campaign ``campaign_id``'s recipients stand (:class:`Counts`)."""
    params = {"campaign": campaign_id}
    outcomes: dict[str, int] = {}
    pending = 0
    for row in db.execute(_OUTCOMES, params):
        outcomes[str(row.outcome)] = int(row.many)
        pending += int(row.pending or 0)
    not_added = {int(row.code): int(row.many) for row in db.execute(_NOT_ADDED, params)}
    return Counts(outcomes=outcomes, not_added=not_added, pending=pending)


@transactional
def record_message(db: Database, campaign_id: int, *, channel: str, ts: str) -> None:
    """Slack took the campaign's message: later steps edit ``ts`` in ``channel``."""
    db.execute(
        sa.update(campaigns)
        .where(campaigns.c.id == campaign_id)
        .values(slack_channel=channel, slack_ts=ts)
    )


@transactional
def record_summary(
    db: Database, campaign_id: int, ts: str, *, csv_owed_from: datetime | None = None
) -> None:
    """Slack took the summary reply ``ts``; with ``csv_owed_from``, its CSV is owed from then."""
    values: dict[str, object] = {"summary_ts": ts}
    if csv_owed_from is not None:
        values["csv_due_at"] = utc_ms_text(csv_owed_from)
    db.execute(sa.update(campaigns).where(campaigns.c.id == campaign_id).values(**values))


@transactional
def release_report(db: Database, report: CampaignReport) -> None:
    """Slack did not take this step's post or edit: due again at the next step, as it was.

    Only while the claim is still this one (``reported_at`` as it wrote it).
    """
    db.execute(
        sa.update(campaigns)
        .where(campaigns.c.id == report.id, campaigns.c.reported_at == report.claimed_at)
        .values(reported_at=report.previous)
    )


@dataclass(frozen=True, slots=True)
class Unreached:
    """A recipient the campaign did not reach: its row, its number and why.

    ``outcome`` is what became of its SMS (as in :class:`Counts`); for a row Mobizon did not add
    it is ``None`` and ``code`` is Mobizon's row code.
    """

    row: int
    number: str
    outcome: str | None
    code: int | None = None


_FAILED_OUTCOMES = (*(s.value for s in FAILED_STATUSES), DECLINED, CANCELLED, GAVE_UP)


@reading
def unreached(db: Database, campaign_id: int) -> list[Unreached]:
    """The recipients of campaign ``campaign_id`` that failed or Mobizon did not add, by row."""
    recipient = campaign_recipients
    failed = db.execute(
        sa.select(recipient.c.row, recipient.c.number, _OUTCOME)
        .select_from(recipient.join(sms, sms.c.id == recipient.c.sms_id))
        .where(recipient.c.campaign == campaign_id, _OUTCOME_OF.in_(_FAILED_OUTCOMES))
    )
    found = [Unreached(int(row.row), row.number, str(row.outcome)) for row in failed]
    not_added = db.execute(
        sa.select(recipient.c.row, recipient.c.number, recipient.c.code).where(_NOT_ADDED_ROW),
        {"campaign": campaign_id},
    )
    found.extend(Unreached(int(row.row), row.number, None, int(row.code)) for row in not_added)
    return sorted(found, key=lambda one: one.row)


@dataclass(frozen=True, slots=True)
class CampaignCost:
    """What a campaign's SMS cost, as Mobizon stated it: ``amounts`` by currency.

    ``known`` counts the SMS whose cost is recorded, of ``charged`` (those not cancelled nor
    declined: Mobizon gives their cost back).
    """

    amounts: dict[str | None, Decimal]
    known: int
    charged: int

    @property
    def complete(self) -> bool:
        """Every charged SMS's cost is known."""
        return self.known >= self.charged


@reading
def campaign_cost(db: Database, campaign_id: int) -> CampaignCost:
    """The sum of the recorded costs of campaign ``campaign_id``'s SMS, per currency."""
    charged_only = sa.and_(
        sms.c.campaign == campaign_id,
        sms.c.cancelled_by.is_(None),
        sa.or_(sms.c.moderation.is_(None), sms.c.moderation != "declined"),
    )
    charged = int(
        db.execute(sa.select(sa.func.count()).select_from(sms).where(charged_only)).scalar_one()
    )
    sums: dict[str | None, Decimal] = {}
    known = 0
    for cost, currency in db.execute(
        sa.select(sms.c.cost, sms.c.currency).where(charged_only, sms.c.cost.is_not(None))
    ):
        with contextlib.suppress(InvalidOperation):
            sums[currency] = sums.get(currency, Decimal(0)) + Decimal(str(cost))
            known += 1
    return CampaignCost(amounts=sums, known=known, charged=charged)


@reading
def declined_comment(db: Database, campaign_id: int) -> str | None:
    """The moderator's comment on campaign ``campaign_id``'s declined SMS, if any said one."""
    comment = db.execute(
        sa.select(sms.c.moderation_comment)
        .where(
            sms.c.campaign == campaign_id,
            sms.c.moderation == "declined",
            sms.c.moderation_comment.is_not(None),
        )
        .limit(1)
    ).scalar()
    return None if comment is None else str(comment)
