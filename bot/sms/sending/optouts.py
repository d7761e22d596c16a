"""Keeping the opt-out list: adding, removing and listing numbers, each answered as a value.

Only who may send keeps or reads the list (it holds whole phone numbers). The send service
refuses every send to a number on it (:class:`bot.sms.sending.outcomes.OptedOut`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.sms.sending.outcomes import NotAllowed
from storage import optouts
from storage.store import Store, is_busy

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OptOutAdded:
    """``recipient`` is on the list now."""

    recipient: str


@dataclass(frozen=True, slots=True)
class AlreadyOptedOut:
    """``recipient`` was on the list already: nothing changed."""

    recipient: str


@dataclass(frozen=True, slots=True)
class OptOutRemoved:
    """``recipient`` is off the list: it may be sent to again."""

    recipient: str


@dataclass(frozen=True, slots=True)
class NotOptedOut:
    """``recipient`` was not on the list: nothing changed."""

    recipient: str


@dataclass(frozen=True, slots=True)
class OptOutsBusy:
    """Another connection kept the database locked: nothing changed (``adding`` or removing)."""

    recipient: str
    adding: bool


@dataclass(frozen=True, slots=True)
class OptOutList:
    """Page ``page`` (from 1) of the list, ``size`` numbers a page; ``total`` on the whole list."""

    entries: tuple[optouts.OptOut, ...]
    page: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages the whole list takes (one, when it is empty)."""
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        """The position on the whole list (from 1) of this page's first number."""
        return (self.page - 1) * self.size + 1


#: What became of adding a number.
AddOutcome = OptOutAdded | AlreadyOptedOut | OptOutsBusy | NotAllowed
#: What became of removing one.
RemoveOutcome = OptOutRemoved | NotOptedOut | OptOutsBusy | NotAllowed
#: What asking for a page of the list answers.
ListOutcome = OptOutList | NotAllowed


class OptOutService:
    """Keeps the opt-out list; ``may_send`` (the send service's rule) says who may."""

    def __init__(self, store: Store, *, may_send: Callable[[str], bool]) -> None:
        self._store = store
        self._may_send = may_send

    def may_manage(self, user_id: str) -> bool:
        """True when ``user_id`` may add, remove and list numbers: who may send."""
        return self._may_send(user_id)

    async def add(self, *, recipient: str, user_id: str) -> AddOutcome:
        """Put ``recipient`` (international digits) on the list, unless it is on it."""
        if not self.may_manage(user_id):
            return NotAllowed(user_id)
        try:
            added = await self._store.write(
                optouts.add_optout, recipient=recipient, user_id=user_id
            )
        except Exception as err:
            if not is_busy(err):
                raise
            _locked()
            return OptOutsBusy(recipient, adding=True)
        return OptOutAdded(recipient) if added else AlreadyOptedOut(recipient)

    async def remove(self, *, recipient: str, user_id: str) -> RemoveOutcome:
        """Take ``recipient`` off the list."""
        if not self.may_manage(user_id):
            return NotAllowed(user_id)
        try:
            removed = await self._store.write(optouts.remove_optout, recipient=recipient)
        except Exception as err:
            if not is_busy(err):
                raise
            _locked()
            return OptOutsBusy(recipient, adding=False)
        return OptOutRemoved(recipient) if removed else NotOptedOut(recipient)

    async def listed(self, *, page: int, size: int, user_id: str) -> ListOutcome:
        """Page ``page`` (from 1) of the list, ``size`` numbers a page, by their digits."""
        if not self.may_manage(user_id):
            return NotAllowed(user_id)
        found = await self._store.read(optouts.optout_page, offset=(page - 1) * size, limit=size)
        return OptOutList(found.entries, page=page, size=size, total=found.total)


def _locked() -> None:
    # another process kept the write lock past the busy timeout: nothing changed
    logger.warning("could not change the opt-out list: the database is locked")
