"""Block Kit rendering: every Slack message smsbot posts about an SMS, with its text fallback.

Replies to lookups (``/sms status``, ``/sms find``) are :mod:`handlers.lookup_blocks`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from bot.mobizon import parse_timestamp
from handlers import account_words, formats
from handlers.i18n import N_, ngettext
from handlers.i18n import gettext as _
from handlers.mrkdwn import escape_short, verbatim, verbatim_pieces
from handlers.phone import format_phone
from storage.records import SmsRecord
from storage.status import DeliveryStatus, is_final

Block = dict[str, Any]

#: English message id: show it as ``gettext(SANDBOX_NOTE)``.
SANDBOX_NOTE = N_(
    ":test_tube: *Sandbox*: simulated by smsbot's built-in Mobizon simulator; no real SMS was sent."
)

#: Plain-language meaning of each documented status, for people (English message ids).
STATUS_MEANINGS: dict[str, str] = {
    DeliveryStatus.NEW: N_("created, not yet sent"),
    DeliveryStatus.ENQUEUD: N_("queued for sending"),
    DeliveryStatus.ACCEPTD: N_("accepted by the carrier"),
    DeliveryStatus.PDLIVRD: N_("not all segments delivered yet"),
    DeliveryStatus.DELIVRD: N_("delivered"),
    DeliveryStatus.UNDELIV: N_("not delivered"),
    # one level of brackets: the meaning is shown in brackets after the code
    DeliveryStatus.REJECTD: N_(
        "rejected by the carrier: bad number, forbidden text or unregistered sender"
    ),
    DeliveryStatus.EXPIRED: N_("validity period ran out before delivery"),
    DeliveryStatus.DELETED: N_("deleted because of the carrier's restrictions"),
}
_TEXT_PREVIEW = 600
# A section's text holds at most 3,000 characters; the quoted SMS leaves room for its title.
_QUOTE_BUDGET = 2800
#: A campaign's name is shown up to this many characters (an SMS's post, a send to many's preview).
NAME_SHOWN = 100

# smsbot does not know which name Mobizon picks when no --from is given; it says so
_DEFAULT_SENDER = N_("the Mobizon account's default sender")

_FAILED = frozenset({DeliveryStatus.UNDELIV, DeliveryStatus.REJECTD, DeliveryStatus.DELETED})


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """A message ready for ``chat.postMessage``/``chat.update``: fallback text and blocks."""

    text: str
    blocks: list[Block]


def status_mark(status: str | None) -> str:
    """The emoji that marks a status at a glance: delivered, failed, expired or in progress."""
    if status == DeliveryStatus.DELIVRD:
        return ":white_check_mark:"
    if status in _FAILED:
        return ":x:"
    if status == DeliveryStatus.EXPIRED:
        return ":hourglass:"
    return ":outbox_tray:"


def status_words(status: str | None, *, awaiting_moderation: bool = False) -> str:
    """Say a status for people: ``DELIVRD (delivered)``, with moderation when Mobizon holds it."""
    if status is None:
        return _("not sent")
    meaning = STATUS_MEANINGS.get(status)
    if meaning is None:
        # whatever Mobizon (or someone posing as it) reported: shown as typed, never as markup
        words = _("“%(status)s” (unknown status)") % {"status": escape_short(status)}
    else:
        words = _("%(status)s (%(meaning)s)") % {"status": status, "meaning": _(meaning)}
    if awaiting_moderation and not is_final(status):
        words = _("%(status)s, awaiting moderation") % {"status": words}
    return words


def quote(text: str, *, characters: int = _TEXT_PREVIEW, budget: int = _QUOTE_BUDGET) -> str:
    """Quote an SMS text for mrkdwn: as typed, every line marked, short enough for one section.

    At most ``characters`` of ``text`` and ``budget`` characters of mrkdwn: escaping can make a
    text five times longer (``&`` -> ``&amp;``), so the cut is made on the escaped text, between
    characters, never inside an entity or beside a lone mark.
    """
    shown = text[:characters]
    cut = len(shown) < len(text)
    parts = ["> "]
    size = len(parts[0])
    for char, escaped in zip(shown, verbatim_pieces(shown), strict=True):
        piece = "\n> " if char == "\n" else escaped
        if size + len(piece) > budget:
            cut = True
            break
        parts.append(piece)
        size += len(piece)
    if cut:
        parts.append("…")
    return "".join(parts)


def characters(count: int) -> str:
    """``1 character``, ``2 characters``: a count and its noun, agreeing."""
    return ngettext("%(count)s character", "%(count)s characters", count) % {
        "count": formats.number(count)
    }


def segments(count: int) -> str:
    """``1 segment``, ``2 segments``: a count and its noun, agreeing."""
    return ngettext("%(count)s segment", "%(count)s segments", count) % {
        "count": formats.number(count)
    }


def when(moment: datetime | None, *, seconds: bool = True) -> str:
    """A time for people, with its zone when known: ``2026-12-01 14:30:05 -03``; ``—`` if none.

    In the active locale (:func:`handlers.formats.moment`): ``01/12/2026 14:30:05 -03`` in pt-BR.
    """
    return formats.moment(moment, seconds=seconds)


def scheduled_time(deferred_to: str, zone: tzinfo | None) -> str:
    """A stored ``--at`` time (the account's wall time) for people, with the account's zone.

    Without ``zone`` the time is the server's local time, and named so.
    """
    moment = parse_timestamp(deferred_to)  # the zone is set below
    moment = moment.replace(tzinfo=zone) if zone is not None else moment.astimezone()
    return when(moment, seconds=False)


def sms_message(sms: SmsRecord, *, zone: tzinfo | None = None) -> SlackMessage:
    """The channel message about one sent SMS; delivery tracking edits it as the status moves.

    ``zone`` is the Mobizon account's time zone, in which a scheduled time is shown.
    """
    recipient = format_phone(sms.recipient)
    awaiting = sms.campaign_status == 1 and sms.moderation is None
    status_line = _status_line(sms)
    segments = sms.segments if sms.segments is None else formats.number(sms.segments)
    # the length the send counted (GSM-7 septets or UTF-16 units); none kept before schema 0012
    segment_count = (
        _("%(segments)s (%(encoding)s)") % {"segments": segments, "encoding": sms.encoding}
        if sms.length is None
        else _("%(segments)s (%(encoding)s, %(characters)s)")
        % {"segments": segments, "encoding": sms.encoding, "characters": characters(sms.length)}
    )
    sender = verbatim(sms.sender) if sms.sender else _(_DEFAULT_SENDER)
    ids = {"message": sms.message_id, "campaign": sms.campaign_id}
    fields = [
        _("*To*\n%(recipient)s") % {"recipient": recipient},
        _("*From*\n%(sender)s") % {"sender": sender},
        _("*Segments*\n%(segments)s") % {"segments": segment_count},
        _("*Sent by*\n%(user)s") % {"user": f"<@{sms.user_id}>"},
        _("*Mobizon ids*\nmessage %(message)s · campaign %(campaign)s") % ids,
        _("*Status*\n%(status)s") % {"status": status_line},
    ]
    extras = _extras(sms, zone)
    title = _("*SMS to %(recipient)s*") % {"recipient": recipient}
    blocks: list[Block] = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"{title}\n{quote(sms.text)}"},
        },
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
    ]
    context = []
    if extras:
        context.append(" · ".join(extras))
    if sms.sandbox:
        context.append(_(SANDBOX_NOTE))
    if context:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": c} for c in context]}
        )
    said = status_words(sms.status, awaiting_moderation=awaiting)
    if sms.cancelled_by is not None:
        said = account_words.cancelled_note(sms.cancelled_by)
    elif sms.moderation == "declined":
        said = account_words.declined_note(sms.moderation_comment)
    shown = {
        "id": sms.message_id,
        "recipient": recipient,
        "user": f"<@{sms.user_id}>",
        "status": said,
    }
    text = (
        _("[sandbox] SMS %(id)s to %(recipient)s sent by %(user)s: %(status)s")
        if sms.sandbox
        else _("SMS %(id)s to %(recipient)s sent by %(user)s: %(status)s")
    ) % shown
    return SlackMessage(text=text, blocks=blocks)


def _extras(sms: SmsRecord, zone: tzinfo | None) -> list[str]:
    """The post's small print: schedule, validity, flash, cost, campaign name."""
    extras: list[str] = []
    if sms.deferred_to:
        extras.append(_("scheduled for %(time)s") % {"time": scheduled_time(sms.deferred_to, zone)})
    if sms.validity:
        extras.append(_("valid %(minutes)s min") % {"minutes": sms.validity})
    if sms.flash:
        extras.append(_("flash SMS"))
    if sms.cost is not None:
        extras.append(account_words.cost_note(sms.cost, sms.currency))
    if sms.name:
        extras.append(_("campaign “%(name)s”") % {"name": escape_short(sms.name, NAME_SHOWN)})
    return extras


def _status_line(sms: SmsRecord) -> str:
    """The post's status field: the status, or that tracking gave up or the SMS was cancelled."""
    if sms.cancelled_by is not None:
        return account_words.cancelled_note(sms.cancelled_by)
    if sms.moderation == "declined":
        return account_words.declined_note(sms.moderation_comment)
    if sms.gave_up_at is not None and not is_final(sms.status or ""):
        return _(":grey_question: no final status from Mobizon (gave up waiting)")
    awaiting = sms.campaign_status == 1 and sms.moderation is None
    return f"{status_mark(sms.status)} {status_words(sms.status, awaiting_moderation=awaiting)}"


def final_reply(sms: SmsRecord) -> SlackMessage:
    """The one thread reply posted when an SMS reaches a final status (or tracking gives up)."""
    recipient = format_phone(sms.recipient)
    status = sms.status or ""
    said = {"id": sms.message_id, "recipient": recipient}
    if sms.cancelled_by is not None:
        text = _("SMS %(id)s to %(recipient)s: %(note)s") % {
            **said,
            "note": account_words.cancelled_note(sms.cancelled_by),
        }
    elif sms.moderation == "declined":
        text = account_words.declined_reply(sms.message_id, recipient, sms.moderation_comment)
    elif sms.gave_up_at is not None and not is_final(status):
        text = _(
            ":grey_question: SMS %(id)s to %(recipient)s: no final status from Mobizon "
            "after %(validity)s plus a grace period; last status %(status)s. "
            "Check it later with `/sms status %(id)s`."
        ) % {**said, "validity": _validity_words(sms.validity), "status": status_words(status)}
    elif status == DeliveryStatus.DELIVRD:
        text = _(":white_check_mark: SMS %(id)s to %(recipient)s was delivered.") % said
    else:
        text = _(
            "%(mark)s SMS %(id)s to %(recipient)s was not delivered: Mobizon reports %(status)s."
        ) % {**said, "mark": status_mark(status), "status": _status_with_meaning(status)}
    if sms.sandbox:
        text = _("%(text)s (sandbox)") % {"text": text}
    return SlackMessage(text=text, blocks=[{"type": "section", "text": mrkdwn_object(text)}])


def _status_with_meaning(status: str) -> str:
    """``REJECTD, rejected by …`` for a known status; an unknown one escaped and marked unknown."""
    meaning = STATUS_MEANINGS.get(status)
    if meaning is None:
        return status_words(status)
    return _("%(status)s, %(meaning)s") % {"status": status, "meaning": _(meaning)}


def _validity_words(validity: int | None) -> str:
    minutes = validity or 1440
    if minutes % 60 == 0:
        return _("%(hours)s h") % {"hours": minutes // 60}
    return _("%(minutes)s min") % {"minutes": minutes}


def mrkdwn_object(text: str) -> dict[str, str]:
    """A Block Kit text object of ``text`` in mrkdwn."""
    return {"type": "mrkdwn", "text": text}


def segment_words(count: int | None) -> str:
    """``3 segments``, or that Mobizon has not counted them yet."""
    return _("segments not known yet") if count is None else segments(count)
