"""The values of a send to many: what a surface asks, the preview, and every answer.

A surface reads its input into a :class:`CampaignRequest` and calls the campaign service
(:mod:`bot.sms.sending.campaigns`): ``prepare`` answers :class:`Prepared` (the campaign stored,
with its :class:`Preview`) or one :data:`PrepareRefusal`; ``confirm`` answers
:class:`Confirmed` or one :data:`ConfirmRefusal`; ``run`` sends a confirmed campaign and
answers one :data:`RunOutcome`. Sentences are the surfaces' to word; every value here is data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from bot.mobizon import AddedRecipient, MobizonError
from bot.sms.sending.recipients import LeftOut, Refusal
from bot.sms.sending.segments import TooLongError
from bot.sms.sending.text import ControlCharacterError
from bot.sms.sending.types import Origin


@dataclass(frozen=True, slots=True)
class CampaignOptions:
    """The options of a single send, for every recipient of a campaign."""

    sender: str | None = None
    schedule: datetime | None = None
    validity: int | None = None
    flash: bool = False
    name: str | None = None
    shorten_links: bool = False


@dataclass(frozen=True, slots=True)
class CampaignRequest:
    """A send to many as a surface read it: the text, the recipients' source and the options.

    Exactly one of ``typed`` (a typed list: commas or one number per line) and ``csv`` (a
    file's bytes, ``source`` its name) is given. ``text`` is what is sent (already spelt
    without accents when the person chose so), its ``{placeholders}`` filled per recipient.
    """

    text: str
    origin: Origin
    typed: str | None = None
    csv: bytes | None = None
    source: str | None = None
    options: CampaignOptions = CampaignOptions()


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """What the campaign will cost, about: recent SMS's price per segment times its segments."""

    per_segment: Decimal
    total: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Preview:
    """What a person sees before a campaign is sent: who gets it, who not and why, the cost.

    ``segments_min``/``segments_max`` are the range of one recipient's SMS (after its
    placeholders are filled) and ``segments_total`` the sum over recipients. ``cost`` is
    ``None`` when no SMS cost is known yet. ``first_number``/``first_text`` are the first
    recipient's number and rendered text. ``expires_at`` is when an unconfirmed preview can no
    longer be confirmed (``None`` when it needs no confirmation). ``options`` are what every SMS
    goes with (sender, schedule, validity…), shown so that what is confirmed is what is sent.
    """

    recipients: int
    left_out: tuple[LeftOut, ...]
    entries: int
    segments_min: int
    segments_max: int
    segments_total: int
    cost: CostEstimate | None
    first_number: str
    first_text: str
    source: str | None
    placeholders: tuple[str, ...]
    expires_at: datetime | None
    options: CampaignOptions = CampaignOptions()


@dataclass(frozen=True, slots=True)
class Prepared:
    """The campaign is stored: ``campaign_id`` to confirm or run, and its ``preview``.

    ``needs_confirmation`` is true for a file, and for a list of more than the settings'
    ``SMSBOT_CONFIRM_ABOVE`` recipients; otherwise the surface runs it at once.
    """

    campaign_id: int
    preview: Preview
    needs_confirmation: bool


@dataclass(frozen=True, slots=True)
class NoneLeft:
    """Every row was left out (``left_out`` says why): there is nobody to send to."""

    left_out: tuple[LeftOut, ...]
    entries: int


@dataclass(frozen=True, slots=True)
class RowUnsendable:
    """Recipient ``row``'s text (placeholders filled) cannot be sent: too long, or a control."""

    row: int
    error: ControlCharacterError | TooLongError


@dataclass(frozen=True, slots=True)
class CampaignNotAllowed:
    """``user_id`` may not send SMS (``SMSBOT_ALLOWED_USERS``)."""

    user_id: str


@dataclass(frozen=True, slots=True)
class CampaignNotSaved:
    """The database could not store the campaign (``busy``: it was locked); nothing was sent."""

    busy: bool


@dataclass(frozen=True, slots=True)
class CampaignDuplicate:
    """The same request came before (Slack delivered it twice): ``campaign_id`` is the first's."""

    campaign_id: int


#: Why a campaign cannot be prepared: nothing is stored or sent.
PrepareRefusal = (
    Refusal | NoneLeft | RowUnsendable | CampaignNotAllowed | CampaignNotSaved | CampaignDuplicate
)


@dataclass(frozen=True, slots=True)
class Confirmed:
    """The asker confirmed ``campaign_id``: it is now to be run, once."""

    campaign_id: int
    recipients: int


@dataclass(frozen=True, slots=True)
class Cancelled:
    """The asker cancelled the preview of ``campaign_id``: nothing is sent."""

    campaign_id: int


@dataclass(frozen=True, slots=True)
class NotYours:
    """Only ``user_id``, who asked for the campaign, may confirm or cancel it."""

    user_id: str


@dataclass(frozen=True, slots=True)
class Expired:
    """The preview waited past ``expires_at``: nothing is sent; prepare it again."""

    expires_at: datetime


@dataclass(frozen=True, slots=True)
class AlreadyDecided:
    """The campaign was confirmed or cancelled before (a second click): nothing more is done.

    ``state`` is its state now (``confirmed``, ``sending``, ``sent``, ``failed``,
    ``cancelled``). ``taken_over`` when this process was running it and another took it over
    (this one stalled past its lease): the other sends it, once.
    """

    state: str
    taken_over: bool = False


@dataclass(frozen=True, slots=True)
class CampaignMissing:
    """No campaign has that id."""

    campaign_id: int


#: Why a confirmation (or a cancel of a preview) did nothing.
ConfirmRefusal = NotYours | Expired | AlreadyDecided | CampaignMissing | CampaignNotSaved


@dataclass(frozen=True, slots=True)
class CampaignStarted:
    """Mobizon took the campaign: ``added`` recipients are sending (or held for moderation).

    ``refused`` are the rows Mobizon did not add, each with its code (5: its stop list).
    """

    campaign_id: int
    mobizon_id: int
    added: int
    refused: tuple[AddedRecipient, ...]
    awaiting_moderation: bool


@dataclass(frozen=True, slots=True)
class CampaignNotSent:
    """Nothing was sent: Mobizon refused the campaign, or it could not be filled or started.

    ``outcome_unknown`` is true when Mobizon may have started it anyway (a request's answer was
    lost); ``error`` is Mobizon's, or ``None`` when smsbot itself failed or Mobizon added none
    of the recipients: then ``refused`` holds every row, each with its code (5: its stop list).
    """

    campaign_id: int
    error: MobizonError | None
    outcome_unknown: bool = False
    refused: tuple[AddedRecipient, ...] = ()


#: What running a confirmed campaign came to.
RunOutcome = CampaignStarted | CampaignNotSent | AlreadyDecided | CampaignMissing
