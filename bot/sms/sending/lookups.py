"""``/sms status`` and ``/sms find``'s work: ask Mobizon, and apply the statuses it tells.

A status Mobizon states when someone asks is applied through the one status writer
(:func:`storage.delivery.apply_statuses`, source ``command``) like a polled one, so the SMS's
channel post shows at once what the person just saw.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.mobizon import (
    ListCriteria,
    MessagePage,
    MobizonError,
    SmsGateway,
    SmsStatus,
    Sort,
)
from bot.sms.statuses import status_update
from storage import delivery, messages
from storage.records import SmsRecord
from storage.store import Store

logger = logging.getLogger(__name__)

#: How many of a channel's latest SMS ``/sms status`` without ids shows.
LATEST_COUNT = 10


@dataclass(frozen=True, slots=True)
class Statuses:
    """What Mobizon said of the ids asked, in the order asked.

    ``missing`` are the ids it does not know; ``hidden`` those the person may not see (sent from
    another channel); ``records`` smsbot's records of the ids shown, and ``settled`` those of
    them sent to the Mobizon answering now (live, or the sandbox's), whose kept final status (a
    cancel) is what a read shows. ``latest`` when no ids were asked: the channel's latest SMS.
    """

    found: tuple[SmsStatus, ...]
    missing: tuple[int, ...]
    hidden: tuple[int, ...] = ()
    records: Mapping[int, SmsRecord] = field(default_factory=dict)
    settled: Mapping[int, SmsRecord] = field(default_factory=dict)
    latest: bool = False


@dataclass(frozen=True, slots=True)
class AllHidden:
    """Every id asked is an SMS the person may not see."""

    hidden: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class NoneSentHere:
    """No ids asked, and no SMS has been sent from the channel yet."""


@dataclass(frozen=True, slots=True)
class LookupFailed:
    """Mobizon could not be asked: ``error`` says why."""

    error: MobizonError


#: What ``/sms status`` learned.
StatusesOutcome = Statuses | AllHidden | NoneSentHere | LookupFailed


@dataclass(frozen=True, slots=True)
class Found:
    """One page of a search, and the ``settled`` records of its SMS smsbot sent in this mode."""

    page: MessagePage
    settled: Mapping[int, SmsRecord]


#: What ``/sms find`` learned.
FindOutcome = Found | LookupFailed


class Lookups:
    """Asks Mobizon about SMS for people: statuses by id, and searches.

    ``sandbox`` is the mode of the Mobizon answering now; ``wake_notifier`` is told when a
    status learned was applied (a post is to be edited).
    """

    def __init__(
        self,
        store: Store,
        gateway: SmsGateway,
        *,
        sandbox: bool = False,
        wake_notifier: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._gateway = gateway
        self._sandbox = sandbox
        self._wake_notifier = wake_notifier

    async def statuses(
        self, ids: Sequence[int], *, team_id: str | None, channel_id: str, anywhere: bool
    ) -> StatusesOutcome:
        """The statuses of ``ids``, or of the latest SMS sent from the channel when none.

        Unless ``anywhere``, only what smsbot recorded as sent from ``channel_id`` (of
        ``team_id``, any team when ``None``) is asked; the other ids are ``hidden``.
        """
        asked = list(ids)
        hidden: list[int] = []
        ours: dict[int, SmsRecord] | None = None
        if asked and not anywhere:
            ours = await self._store.read(messages.get_by_message_ids, asked)
            here = {
                i
                for i, sms in ours.items()
                if sms.channel_id == channel_id and (team_id is None or sms.team_id == team_id)
            }
            hidden = [i for i in asked if i not in here]
            asked = [i for i in asked if i in here]
            if not asked:
                return AllHidden(tuple(hidden))
        latest = not asked
        if latest:
            found_here = await self._store.read(
                messages.latest_in_channel,
                team_id=team_id or "",
                channel_id=channel_id,
                limit=LATEST_COUNT,
            )
            asked = [s.message_id for s in found_here if s.message_id is not None]
            if not asked:
                return NoneSentHere()
        try:
            found = await self._gateway.get_sms_status(asked)
        except MobizonError as err:
            return LookupFailed(err)
        if ours is None:  # read once: the channel's check above has them already
            ours = await self._store.read(messages.get_by_message_ids, asked)
        # what a record would say after this is what Mobizon just said: not read again
        await self._apply(found, ours)
        records = {i: sms for i, sms in ours.items() if i in asked}
        return Statuses(
            found=tuple(found[i] for i in asked if i in found),
            missing=tuple(i for i in asked if i not in found),
            hidden=tuple(hidden),
            records=records,
            settled=self._this_mode(ours),
            latest=latest,
        )

    async def find(
        self, criteria: ListCriteria, *, page: int, page_size: int, sort: Sort | None
    ) -> FindOutcome:
        """One page (from 0) of the SMS matching ``criteria``."""
        try:
            found = await self._gateway.list_messages(
                criteria, page=page, page_size=page_size, sort=sort
            )
        except MobizonError as err:
            return LookupFailed(err)
        ours = await self._store.read(messages.get_by_message_ids, [i.id for i in found.items])
        return Found(found, self._this_mode(ours))

    def _this_mode(self, ours: Mapping[int, SmsRecord]) -> dict[int, SmsRecord]:
        """The records of SMS smsbot sent to the Mobizon answering now (live, or the sandbox's).

        Their kept final status (a cancel) is what a read shows: Mobizon keeps reporting
        ``NEW`` for a deleted campaign's message. A simulator's id can name a live message, so
        the other mode's records say nothing of it.
        """
        return {i: sms for i, sms in ours.items() if sms.sandbox == self._sandbox}

    async def _apply(self, found: Mapping[int, SmsStatus], ours: Mapping[int, SmsRecord]) -> None:
        """Apply what Mobizon said of smsbot's SMS; the notifier is woken when a status moved.

        What moves none of the statuses read forward is dropped without a write. A database
        that refuses the write loses nothing: the poller learns the same statuses.
        """
        updates = [
            status_update(status, "command") for status in found.values() if status.id in ours
        ]
        if not updates:
            return
        seen = {i: messages.PendingStatus(i, sms.status, sms.status_ts) for i, sms in ours.items()}
        try:
            applied = await self._store.write(
                delivery.apply_statuses, updates, sandbox=self._sandbox, seen=seen
            )
        except Exception as err:  # noqa: BLE001  # the answer goes on; the poller applies them
            logger.warning(
                "could not apply the statuses /sms status learned",
                extra={"error": type(err).__name__},
            )
            return
        if applied and self._wake_notifier is not None:
            self._wake_notifier()
