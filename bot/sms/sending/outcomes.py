"""What became of one send: one value per outcome, rendered by each surface in its own words."""

from __future__ import annotations

from dataclasses import dataclass

from bot.mobizon import MobizonError, OutgoingSms, is_insufficient_funds
from bot.sms.sending.segments import TooLongError
from bot.sms.sending.text import ControlCharacterError
from storage.records import SmsRecord


@dataclass(frozen=True, slots=True)
class Sent:
    """Mobizon took the SMS and it is recorded, its channel post queued with it.

    ``sender_unchecked`` when ``--from`` could not be checked against the account's names.
    """

    sms: SmsRecord
    sender_unchecked: bool = False


@dataclass(frozen=True, slots=True)
class Refused:
    """Mobizon refused the SMS (or it never left): nothing was sent; ``error`` says why."""

    sms: OutgoingSms
    error: MobizonError

    @property
    def insufficient_funds(self) -> bool:
        """Mobizon's words say the balance could not pay for it."""
        return is_insufficient_funds(self.error)


@dataclass(frozen=True, slots=True)
class OutcomeUnknown:
    """The SMS may or may not have been sent; delivery tracking finds out and tells the sender.

    ``error`` is the gateway's failure, ``None`` when smsbot itself failed while sending.
    """

    sms: OutgoingSms
    error: MobizonError | None


@dataclass(frozen=True, slots=True)
class Duplicate:
    """The same request came twice (a redelivery): the first one owns the send."""

    duplicate_key: str


@dataclass(frozen=True, slots=True)
class UnknownSender:
    """``--from`` is not one of the account's sender names: nothing was sent."""

    sms: OutgoingSms
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NotAllowed:
    """The user may not send SMS."""

    user_id: str


@dataclass(frozen=True, slots=True)
class Unsendable:
    """The text breaks a rule of every SMS (a control character, too many segments): not sent."""

    sms: OutgoingSms
    error: ControlCharacterError | TooLongError


@dataclass(frozen=True, slots=True)
class OptedOut:
    """The number is on the opt-out list: refused before anything was recorded or sent."""

    sms: OutgoingSms


@dataclass(frozen=True, slots=True)
class NotSaved:
    """The send could not be claimed (or marked as leaving) in the database: nothing was sent."""

    sms: OutgoingSms
    busy: bool


@dataclass(frozen=True, slots=True)
class ClaimTakenOver:
    """Not sent from here: another process took the claim over while this one was held up.

    That one sends it and has it posted, or tells the sender it was not sent.
    """

    sms: OutgoingSms


@dataclass(frozen=True, slots=True)
class SentRecordedLater:
    """Sent, but the database stayed locked: delivery tracking records and posts it later."""

    sms: OutgoingSms
    message_id: int


@dataclass(frozen=True, slots=True)
class SentNotRecorded:
    """Sent, but it could not be recorded: no delivery updates will follow."""

    sms: OutgoingSms
    message_id: int


@dataclass(frozen=True, slots=True)
class SentIdReused:
    """Sent, but Mobizon gave it the id of an earlier SMS: neither is followed."""

    sms: OutgoingSms
    message_id: int


Outcome = (
    Sent
    | Refused
    | OutcomeUnknown
    | Duplicate
    | NotAllowed
    | UnknownSender
    | Unsendable
    | OptedOut
    | NotSaved
    | ClaimTakenOver
    | SentRecordedLater
    | SentNotRecorded
    | SentIdReused
)
