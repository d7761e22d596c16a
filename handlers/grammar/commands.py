"""The typed commands :func:`handlers.grammar.parse_command` returns."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from bot.mobizon import PAGE_SIZES, ListCriteria, Sort

DEFAULT_SORT = Sort("startSendTs", descending=True)


@dataclass(frozen=True, slots=True)
class HelpCommand:
    """``/sms help``, or ``/sms`` with nothing after it."""


@dataclass(frozen=True, slots=True)
class SendCommand:
    """``/sms send``: one SMS to one number.

    ``recipient`` is international digits without ``+``; ``text`` is exactly what was typed after
    the number, unescaped; ``at`` is the time as written, seconds 0, in the zone of the ``now``
    it was checked against (the Mobizon account's).
    """

    recipient: str
    text: str
    sender: str | None = None
    at: datetime | None = None
    validity: int | None = None
    flash: bool = False
    name: str | None = None
    shorten_links: bool = False


@dataclass(frozen=True, slots=True)
class SendManyCommand:
    """``/sms send`` to a list of numbers separated by commas: one send to many (a campaign).

    ``recipients`` are the list's items as typed (blanks between commas dropped, each item's
    spaces made single), in order: the campaign service reads them, and numbers the rows from
    1, so an unreadable or repeated one is left out and told by its row. ``text`` and the
    options are as :class:`SendCommand` has them, for every recipient.
    """

    recipients: tuple[str, ...]
    text: str
    sender: str | None = None
    at: datetime | None = None
    validity: int | None = None
    flash: bool = False
    name: str | None = None
    shorten_links: bool = False

    @property
    def typed(self) -> str:
        """The list as the campaign service reads it: the items separated by commas."""
        return ", ".join(self.recipients)


@dataclass(frozen=True, slots=True)
class StatusCommand:
    """``/sms status``: message ids in the order given; empty means the channel's latest SMS."""

    ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class FindCommand:
    """``/sms find``: search criteria and which page of results to show.

    ``page`` is 1-based, as people count; :attr:`wire_page` is Mobizon's 0-based page.
    ``source`` is the search as typed after ``find`` (unescaped, stripped): the Previous/Next
    buttons carry it and parse it again. Two searches typed differently that mean the same are
    equal, so it takes no part in comparisons.
    """

    criteria: ListCriteria = dataclasses.field(default_factory=ListCriteria)
    page: int = 1
    page_size: int = PAGE_SIZES[0]
    sort: Sort = DEFAULT_SORT
    source: str = dataclasses.field(default="", compare=False)

    @property
    def wire_page(self) -> int:
        """The page number Mobizon expects (``pagination[currentPage]`` starts at 0)."""
        return self.page - 1


@dataclass(frozen=True, slots=True)
class BalanceCommand:
    """``/sms balance``: the account's balance and what smsbot's SMS cost."""


@dataclass(frozen=True, slots=True)
class CancelCommand:
    """``/sms cancel ID``: cancel the scheduled SMS with message id ``message_id``."""

    message_id: int


@dataclass(frozen=True, slots=True)
class OptOutAddCommand:
    """``/sms optout add``: put ``recipient`` (international digits) on the opt-out list."""

    recipient: str


@dataclass(frozen=True, slots=True)
class OptOutRemoveCommand:
    """``/sms optout remove``: take ``recipient`` (international digits) off the opt-out list."""

    recipient: str


@dataclass(frozen=True, slots=True)
class OptOutListCommand:
    """``/sms optout list``: the opt-out list's numbers on ``page`` (from 1)."""

    page: int = 1


OptOutCommand = OptOutAddCommand | OptOutRemoveCommand | OptOutListCommand

Command = (
    HelpCommand
    | SendCommand
    | SendManyCommand
    | StatusCommand
    | FindCommand
    | BalanceCommand
    | CancelCommand
)
