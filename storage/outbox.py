"""The outbox: what Slack is owed about each SMS, kept until Slack took it.

A change queues the row it owes in its own transaction (:mod:`storage.outbox_queue`); the
notifier reads :func:`due_notifications`, marks each step done as Slack accepts it, and deletes
the row with :func:`finish_notification`. A crash in between re-sends, never loses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

import sqlalchemy as sa

from storage.engine import chunks, dialect_insert, reading, transactional
from storage.messages import get_by_message_ids
from storage.records import MAX_ERROR_LENGTH, SmsRecord
from storage.replicas import fair_share, live_ids
from storage.schema import utc_ms_text, utc_text
from storage.tables import OUTBOX_ONCE, channel_owners, outbox, sms

if TYPE_CHECKING:
    from sqlalchemy import Connection as Database


class NotificationKind(StrEnum):
    """What an outbox row tells Slack about; the notifier dispatches on it."""

    POST = "post"  # the SMS's first message in its channel
    STATUS = "status"  # Mobizon reported a new status (the row's status)
    COST = "cost"  # the SMS's cost is known: its post is edited, no thread reply
    DECLINED = "declined"  # Mobizon's moderators declined it: tracking stopped
    GIVEUP = "giveup"  # no final status came within the validity period


class PostNote(StrEnum):
    """Why an SMS's first post comes late, said under it (a ``post`` row's note)."""

    LATE = "late"  # the database was busy when Mobizon took it: recorded later
    RECOVERED = "recovered"  # Mobizon's answer was lost: found at Mobizon afterwards
    RESENT = "resent"  # the process that claimed it stopped first: sent by another


@dataclass(frozen=True, slots=True)
class Notification:
    """One outbox row to deliver to Slack, by its kind.

    A ``post`` row posts the SMS's message in its channel (``note`` said under it). The other
    kinds update that message, then reply in its thread: ``reply_done`` starts true for rows
    that owe no reply (a non-final status, a cost). ``status`` is Mobizon's, on ``status`` rows
    only.
    """

    id: int
    message_id: int
    kind: NotificationKind
    status: str | None
    attempts: int
    update_done: bool
    reply_done: bool
    last_error: str | None
    sms: SmsRecord
    created_at: datetime
    note: PostNote | None = None


#: The notification channel of an outbox row's SMS: its post's channel; while its post is owed,
#: the channel it is owed in (its ``post`` row and the rows after it drain in order there); for
#: an SMS Slack would not post, or one of no channel, its sender.
_CHANNEL = sa.func.coalesce(
    sa.func.nullif(sms.c.slack_channel, ""),
    sa.case((sms.c.post_error.is_(None), sa.func.nullif(sms.c.channel_id, ""))),
    sms.c.user_id,
)


_POST = outbox.alias("post")
#: Due: its time has come, and its SMS's first post is not owed still (the post goes first, and
#: every later row of the SMS edits or answers it).
_DUE_NOW = sa.and_(
    outbox.c.next_attempt_at <= sa.bindparam("now"),
    ~sa.exists().where(
        _POST.c.message_id == outbox.c.message_id,
        _POST.c.kind == NotificationKind.POST.value,
        _POST.c.status.is_(None),
        _POST.c.id != outbox.c.id,
    ),
)

#: The notifier's reads, built once (the time, the limit and the channel are parameters).
_DUE = sa.select(outbox).where(_DUE_NOW).order_by(outbox.c.id).limit(sa.bindparam("limit"))
_DUE_IN_CHANNEL = (
    sa.select(outbox)
    .join(sms, sms.c.message_id == outbox.c.message_id)
    .where(_DUE_NOW, sa.bindparam("channel") == _CHANNEL)
    .order_by(outbox.c.id)
    .limit(sa.bindparam("limit"))
)
_DUE_CHANNEL = _CHANNEL.label("channel")
_DUE_CHANNELS = (
    sa.select(_DUE_CHANNEL)
    .select_from(outbox.join(sms, sms.c.message_id == outbox.c.message_id))
    .where(_DUE_NOW)
    .group_by(_DUE_CHANNEL)
    .order_by(sa.func.min(outbox.c.id))
)
_FINISH = sa.delete(outbox).where(outbox.c.id == sa.bindparam("notification_id"))


@reading
def due_notifications(
    db: Database, *, now: datetime | None = None, limit: int = 100, channel: str | None = None
) -> list[Notification]:
    """Outbox rows whose next attempt is due, oldest first, each with its SMS as it is now.

    A row of an SMS whose first post is still owed is not due: it waits for the post.

    With ``channel``, only the rows of that notification channel: the channel the SMS's message
    is in (or is to be posted in), or, for an SMS Slack would not post, its sender's user id (as
    :func:`due_channels` names them).
    """
    query = _DUE if channel is None else _DUE_IN_CHANNEL
    params = {"now": utc_ms_text(now), "limit": limit, "channel": channel}
    rows = list(db.execute(query, params).mappings())
    sms_by_message = get_by_message_ids(db, (row["message_id"] for row in rows))
    return [_notification(row, sms_by_message[row["message_id"]]) for row in rows]


@reading
def due_channels(db: Database, *, now: datetime | None = None) -> list[str]:
    """Every notification channel with a due outbox row, the one with the oldest row first.

    A notification channel is the channel the SMS's message is in (or is to be posted in), or its
    sender's user id for an SMS Slack would not post: the notifier orders by it, and each is
    posted to by one replica at a time.
    """
    rows = db.execute(_DUE_CHANNELS, {"now": utc_ms_text(now)})
    return [str(row[0]) for row in rows]


def _notification(row: sa.RowMapping, record: SmsRecord) -> Notification:
    return Notification(
        id=row["id"],
        message_id=row["message_id"],
        kind=NotificationKind(row["kind"]),
        status=row["status"],
        note=None if row["note"] is None else PostNote(row["note"]),
        attempts=row["attempts"],
        update_done=bool(row["update_done"]),
        reply_done=bool(row["reply_done"]),
        last_error=row["last_error"],
        sms=record,
        created_at=datetime.fromisoformat(row["created_at"]),
    )


@dataclass(frozen=True, slots=True)
class FirstPost:
    """Where an SMS's first channel post stands: its row waiting (tried ``attempts`` times).

    Made, it was posted (``slack_ts``) or Slack would not take it (``post_error``), its row
    maybe not finished yet.
    """

    waiting: bool
    attempts: int
    slack_ts: str | None
    post_error: str | None


_POST_ROW = sa.select(outbox.c.attempts).where(
    outbox.c.message_id == sa.bindparam("message_id"),
    outbox.c.kind == NotificationKind.POST.value,
    OUTBOX_ONCE,
)
_POSTED = sa.select(sms.c.slack_ts, sms.c.post_error).where(
    sms.c.message_id == sa.bindparam("message_id")
)


@reading
def first_post(db: Database, message_id: int) -> FirstPost:
    """Where the first channel post of SMS ``message_id`` stands, whichever replica makes it."""
    attempts = db.execute(_POST_ROW, {"message_id": message_id}).scalar()
    posted = db.execute(_POSTED, {"message_id": message_id}).one_or_none()
    slack_ts, post_error = (None, None) if posted is None else posted
    return FirstPost(attempts is not None, attempts or 0, slack_ts, post_error)


_POSTED_IN = sa.update(sms).where(sms.c.id == sa.bindparam("sms_id"))


@transactional
def record_post(
    db: Database, sms_id: int, *, channel: str, ts: str, now: datetime | None = None
) -> None:
    """The SMS's first post is in Slack: keep its message, so updates edit it.

    Its ``post`` row is finished after (:func:`finish_notification`), by whoever holds it.
    """
    db.execute(
        _POSTED_IN.values(slack_channel=channel, slack_ts=ts, updated_at=utc_text(now)),
        {"sms_id": sms_id},
    )


@transactional
def refuse_post(db: Database, sms_id: int, *, error: str, now: datetime | None = None) -> None:
    """Slack will not take the SMS's first post there: keep why (its updates go to its sender).

    ``error`` is Slack's error name, cut to a bounded length. Its ``post`` row is finished after.
    """
    db.execute(
        _POSTED_IN.values(post_error=error[:MAX_ERROR_LENGTH], updated_at=utc_text(now)),
        {"sms_id": sms_id},
    )


@transactional
def mark_step_done(db: Database, notification_id: int, step: Literal["update", "reply"]) -> None:
    """Record that Slack accepted one step, so a retry does not repeat it."""
    if step == "update":
        done = {"update_done": True}
    elif step == "reply":
        done = {"reply_done": True}
    else:
        raise ValueError(f"unknown notification step {step!r}")
    db.execute(sa.update(outbox).where(outbox.c.id == notification_id).values(**done))


@transactional
def finish_notification(db: Database, notification_id: int) -> None:
    """Remove a notification once Slack accepted every step of it."""
    db.execute(_FINISH, {"notification_id": notification_id})


@transactional
def retry_notification(
    db: Database,
    notification_id: int,
    *,
    delay: float,
    error: str,
    now: datetime | None = None,
) -> None:
    """Put a notification off for ``delay`` seconds after a failed attempt, noting why.

    ``error`` must already be free of secrets; it is cut to a bounded length.
    """
    db.execute(
        sa.update(outbox)
        .where(outbox.c.id == notification_id)
        .values(
            attempts=outbox.c.attempts + 1,
            next_attempt_at=_not_before(delay, now),
            last_error=error[:MAX_ERROR_LENGTH],
        )
    )


def _not_before(delay: float, now: datetime | None) -> str:
    """``now + delay`` as stored text, rounded up to the millisecond: never due before asked."""
    moment = (now or datetime.now(UTC)) + timedelta(seconds=max(0.0, delay))
    if moment.microsecond % 1000:
        moment += timedelta(microseconds=1000 - moment.microsecond % 1000)
    return utc_ms_text(moment)


@reading
def outbox_size(db: Database) -> int:
    """How many notifications wait for Slack (due or not)."""
    return int(db.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one())


@reading
def owned_channels(db: Database, channels: list[str], *, replica: str) -> set[str]:
    """Of ``channels``, those ``replica`` owns already (a read: the steady state writes nothing)."""
    mine: set[str] = set()
    for chunk in chunks(channels):
        mine.update(
            db.execute(
                sa.select(channel_owners.c.channel).where(
                    channel_owners.c.replica == replica, channel_owners.c.channel.in_(chunk)
                )
            ).scalars()
        )
    return mine


@dataclass(frozen=True, slots=True)
class ChannelShare:
    """How the due channels stand for one replica (:func:`channel_share`)."""

    due: list[str]  # the due channels, the one with the oldest row first
    mine: frozenset[str]  # of them, those it owns
    unheld: list[str]  # of them, those no live replica owns, in the same order
    idle: frozenset[str]  # channels it owns, for longer than a lease, that have nothing due
    live: int  # live replicas
    #: of the unheld, those a replica owns that is no longer live (it may have posted a row and
    #: died before recording it); the others had no owner, or one that let them go idle
    orphaned: frozenset[str] = frozenset()

    @property
    def share(self) -> int:
        """How many due channels it posts to: the due ones over the live replicas, rounded up."""
        return fair_share(len(self.due), self.live)

    @property
    def to_take(self) -> list[str]:
        """The unheld channels it takes now, oldest due first."""
        return self.unheld[: max(0, self.share - len(self.mine))]

    @property
    def settled(self) -> bool:
        """Nothing to write: no channel to take, none to let go of."""
        return not self.to_take and not self.idle


@reading
def channel_share(
    db: Database, channels: list[str], *, replica: str, live_cutoff: str
) -> ChannelShare:
    """Where ``replica`` stands among the posters of the due ``channels`` (a read).

    A channel it owns is idle when nothing of it is due and it took the channel longer ago than
    ``live_cutoff`` (a lease ago): a channel changes hands at most once a lease.
    """
    live = {str(replica_id) for replica_id in db.execute(live_ids(live_cutoff)).scalars()}
    rows = db.execute(sa.select(channel_owners))
    owners: dict[str, str] = {}
    idle: set[str] = set()
    due = set(channels)
    for row in rows:
        owners[row.channel] = row.replica
        if row.replica == replica and row.channel not in due and row.since < live_cutoff:
            idle.add(row.channel)
    return ChannelShare(
        due=channels,
        mine=frozenset(channel for channel in channels if owners.get(channel) == replica),
        unheld=[channel for channel in channels if owners.get(channel) not in live],
        idle=frozenset(idle),
        live=len(live),
        orphaned=frozenset(
            channel for channel in channels if owners.get(channel) not in (None, replica, *live)
        ),
    )


@transactional
def own_channels(
    db: Database,
    channels: list[str],
    *,
    replica: str,
    live_cutoff: str,
    now: datetime | None = None,
) -> list[str]:
    """Of the due ``channels``, those ``replica`` posts: its own, and about its share of the rest.

    Its share is the due channels over the live replicas, rounded up: it takes channels without
    an owner, or whose owner's heartbeat is older than ``live_cutoff``
    (:func:`storage.replicas.lease_cutoff`), oldest due first, until it owns that many of them.
    It lets go of the channels it took over a lease ago that have nothing due (it has no row of
    theirs in hand), so the next rows of a channel go to whichever replica has room. The order of
    ``channels`` is kept. So each channel's posts come from one replica at a time, and live
    replicas post to about as many channels each.
    """
    share = channel_share(db, channels, replica=replica, live_cutoff=live_cutoff)
    for chunk in chunks(share.idle):
        db.execute(
            sa.delete(channel_owners).where(
                channel_owners.c.replica == replica, channel_owners.c.channel.in_(chunk)
            )
        )
    stamp = utc_ms_text(now)
    insert = dialect_insert(db, channel_owners)
    for chunk in chunks(share.to_take):
        rows = [{"channel": channel, "replica": replica, "since": stamp} for channel in chunk]
        db.execute(
            insert.on_conflict_do_update(
                index_elements=["channel"],
                set_={"replica": insert.excluded.replica, "since": insert.excluded.since},
                where=channel_owners.c.replica.not_in(live_ids(live_cutoff)),
            ),
            rows,
        )
    mine = owned_channels(db, channels, replica=replica) if channels else set()
    return [channel for channel in channels if channel in mine]
