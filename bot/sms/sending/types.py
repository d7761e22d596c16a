"""Where an SMS came from, the sends waiting for their record, and the claim storage keeps."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.mobizon import OutgoingSms, format_timestamp, parse_timestamp
from bot.sms.sending.segments import SegmentInfo
from storage.claims import NewSend
from storage.records import SmsRecord


class Surface(StrEnum):
    """The surface a send came from (the console types slash commands, so it is one too)."""

    SLASH_COMMAND = "slash_command"
    MODAL = "modal"
    MESSAGE_SHORTCUT = "message_shortcut"
    GLOBAL_SHORTCUT = "global_shortcut"


@dataclass(frozen=True, slots=True)
class Origin:
    """Who asked for a send, from where, and the key that makes a redelivery a duplicate.

    ``response_url`` is where the surface can answer the sender later (kept with the claim, so a
    send settled after a restart can still be answered); ``None`` when the surface has none.
    """

    team_id: str
    channel_id: str
    user_id: str
    surface: Surface
    duplicate_key: str
    response_url: str | None = None


def new_send(
    sms: OutgoingSms,
    origin: Origin,
    info: SegmentInfo,
    *,
    sandbox: bool = False,
    claimed_by: str | None = None,
) -> NewSend:
    """The claim storage records for ``sms`` sent from ``origin`` (storage's own value type).

    ``info`` is the text's count, made once by the check every send meets
    (:func:`bot.sms.sending.text.check_text`).
    """
    return NewSend(
        trigger_id=origin.duplicate_key,
        team_id=origin.team_id,
        channel_id=origin.channel_id,
        user_id=origin.user_id,
        response_url=origin.response_url,
        recipient=sms.recipient,
        text=sms.text,
        sender=sms.sender,
        segments=info.segments,
        encoding=info.encoding,
        length=info.length,
        name=sms.campaign_name,
        deferred_to=None if sms.schedule is None else format_timestamp(sms.schedule),
        validity=sms.validity,
        flash=sms.flash,
        sandbox=sandbox,
        shorten_links=sms.shorten_links,
        claimed_by=claimed_by,
    )


def asked_sms(record: SmsRecord) -> OutgoingSms:
    """The SMS a stored send asks for (what :func:`new_send` stored), to be sent as asked."""
    return OutgoingSms(
        recipient=record.recipient,
        text=record.text,
        sender=record.sender,
        schedule=None if record.deferred_to is None else parse_timestamp(record.deferred_to),
        validity=record.validity,
        flash=record.flash,
        campaign_name=record.name,
        shorten_links=record.shorten_links,
    )


@dataclass(frozen=True, slots=True)
class AcceptedSend:
    """Mobizon's answer to a send (it took the SMS) that could not be recorded yet."""

    sms_id: int
    message_id: int
    campaign_id: int
    campaign_status: int


class UnrecordedSends:
    """Sends Mobizon took whose record failed (the database stayed locked): kept until recorded.

    The send service puts them here; delivery tracking records them each cycle and posts their
    channel message, so they are tracked in this process. Only in memory: after a restart the
    claim left behind is settled by looking the SMS up in Mobizon.
    """

    def __init__(self) -> None:
        self._sends: dict[int, AcceptedSend] = {}

    def add(self, send: AcceptedSend) -> None:
        """Keep ``send`` until :meth:`discard` (it was recorded, or can never be)."""
        self._sends[send.sms_id] = send

    def discard(self, sms_id: int) -> None:
        """Forget the send of SMS ``sms_id``."""
        self._sends.pop(sms_id, None)

    def waiting(self) -> list[AcceptedSend]:
        """The sends still to record, oldest first."""
        return list(self._sends.values())

    def __contains__(self, sms_id: object) -> bool:
        return sms_id in self._sends
