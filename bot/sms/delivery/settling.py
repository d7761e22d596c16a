"""What settling unsettled sends tells their senders: the surface's Protocol, the values it words.

:mod:`bot.sms.delivery.unsettled` settles the sends; the surface that owns their senders (Slack,
``handlers.delivery_posts``) tells them, in their language.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from storage.records import SmsRecord


class NotSent(enum.Enum):
    """Why an unsettled send never reached Mobizon (its value is the record's English note)."""

    RESTARTED = "smsbot restarted before Mobizon answered"
    ANSWER_LOST = "Mobizon's answer was lost"
    REFUSED_ON_RESEND = "Mobizon refused it when it was sent after a restart"


@dataclass(frozen=True, slots=True)
class CannotTell:
    """Why smsbot cannot tell whether an unsettled send left: data, worded by the surface."""

    #: Mobizon refused to search for it (its text as a criterion)
    search_refused: bool = False
    #: SMS at Mobizon with its number and text, and sends of it with no answer recorded
    at_mobizon: int = 0
    unanswered: int = 0

    def __str__(self) -> str:
        if self.search_refused:
            return "Mobizon would not search for it"
        return (
            f"Mobizon has {self.at_mobizon} recent SMS with this number and text and smsbot has "
            f"{self.unanswered} sends of it with no answer recorded"
        )


class NoticeNotDelivered(Exception):  # noqa: N818  # a notice, not an error of ours
    """A post or notice the surface could not deliver; tried again next cycle."""


class SettlingPosts(Protocol):
    """What settling tells senders, through the surface that owns them (Slack).

    The SMS it records as sent are posted in their channel through the outbox, like any send.
    """

    async def tell_not_sent(self, sms: SmsRecord, why: NotSent, now: datetime) -> None:
        """Tell the sender that the SMS never reached Mobizon; raises NoticeNotDelivered."""

    async def tell_cannot_tell(self, sms: SmsRecord, why: CannotTell, now: datetime) -> None:
        """Tell the sender whether it was sent cannot be told; raises NoticeNotDelivered."""
