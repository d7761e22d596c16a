"""Block Kit rendering: every Slack message smsbot posts about an SMS, with its text fallback."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement

from bot.mobizon import MessageItem, MessagePage, SmsStatus, parse_timestamp
from bot.sending.segments import count_segments
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
_NAME_PREVIEW = 100

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


def _quote(text: str) -> str:
    """Quote an SMS text for mrkdwn: as typed, every line marked, short enough for one section.

    Escaping can make a text five times longer (``&`` -> ``&amp;``), so the cut is made on the
    escaped text, between characters, never inside an entity or beside a lone mark.
    """
    shown = text[:_TEXT_PREVIEW]
    cut = len(shown) < len(text)
    parts = ["> "]
    size = len(parts[0])
    for char, escaped in zip(shown, verbatim_pieces(shown), strict=True):
        piece = "\n> " if char == "\n" else escaped
        if size + len(piece) > _QUOTE_BUDGET:
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
    # counted as Mobizon counts for segments: GSM-7 septets or UTF-16 units, as /sms send does
    length = count_segments(sms.text).length
    segment_count = _("%(segments)s (%(encoding)s, %(characters)s)") % {
        "segments": sms.segments if sms.segments is None else formats.number(sms.segments),
        "encoding": sms.encoding,
        "characters": characters(length),
    }
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
            "text": {"type": "mrkdwn", "text": f"{title}\n{_quote(sms.text)}"},
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
        extras.append(_("campaign “%(name)s”") % {"name": escape_short(sms.name, _NAME_PREVIEW)})
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
    return SlackMessage(text=text, blocks=[{"type": "section", "text": _mrkdwn(text)}])


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


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _segment_words(count: int | None) -> str:
    return _("segments not known yet") if count is None else segments(count)


#: Why an id is not shown to someone who may read only this channel's SMS.
HIDDEN_NOTE = N_(
    "not shown: not sent from this channel by smsbot. Only the users in SMSBOT_ALLOWED_USERS "
    "and SMSBOT_READERS can see SMS sent from other channels."
)


def status_report(
    found: Sequence[SmsStatus],
    missing: Sequence[int],
    *,
    title: str,
    sandbox: bool = False,
    hidden: Sequence[int] = (),
    costs: Mapping[int, str] | None = None,
    settled: Mapping[int, SmsRecord] | None = None,
) -> SlackMessage:
    """The answer to ``/sms status``: each id with its status in words, segments and times.

    ``hidden`` ids are ones the asker may not read (sent from another channel): named, not shown.
    ``costs`` are the known costs by id, as :func:`account_words.cost_note` words them.
    ``settled`` are smsbot's records by id: a final status kept there is the one shown.
    """
    known = costs or {}
    kept = settled or {}
    lines = [
        _status_line_of(s, kept.get(s.id)) + (f" · {known[s.id]}" if s.id in known else "")
        for s in found
    ]
    lines.extend(_(":grey_question: *%(id)s*: not found at Mobizon") % {"id": i} for i in missing)
    lines.extend(_(":lock: *%(id)s*: %(note)s") % {"id": i, "note": _(HIDDEN_NOTE)} for i in hidden)
    if not lines:
        lines.append(_("No SMS to show."))
    return _list_message(title, lines, sandbox=sandbox)


def _status_line_of(found: SmsStatus, sms: SmsRecord | None) -> str:
    mark, status = shown_status(found.status, sms)
    return _(
        "%(mark)s *%(id)s*: %(status)s · %(segments)s · sent %(sent)s · updated %(updated)s"
    ) % {
        "mark": mark,
        "id": found.id,
        "status": status,
        "segments": _segment_words(found.segments),
        "sent": when(found.start_send_at),
        "updated": when(found.status_updated_at),
    }


# Slack takes at most 50 blocks; a list keeps room for its title, a note and a row of buttons.
_MAX_LIST_SECTIONS = 46
_SECTION_BUDGET = 2900  # a section's text holds at most 3,000 characters


def _list_message(title: str, lines: list[str], *, sandbox: bool) -> SlackMessage:
    """A title and lines packed into sections; lines beyond Slack's limits are counted."""
    sections: list[list[str]] = []
    size = 0
    for line in lines:
        if not sections or size + len(line) + 1 > _SECTION_BUDGET:
            sections.append([])
            size = 0
        sections[-1].append(line)
        size += len(line) + 1
    shown = sections[:_MAX_LIST_SECTIONS]
    blocks: list[Block] = [{"type": "section", "text": _mrkdwn(f"*{title}*")}]
    blocks += [{"type": "section", "text": _mrkdwn("\n".join(chunk))} for chunk in shown]
    hidden = len(lines) - sum(len(chunk) for chunk in shown)
    if hidden:
        note = ngettext(
            "… and %(count)s more not shown here: ask for fewer at a time.",
            "… and %(count)s more not shown here: ask for fewer at a time.",
            hidden,
        ) % {"count": formats.number(hidden)}
        blocks.append({"type": "context", "elements": [_mrkdwn(note)]})
    if sandbox:
        blocks.append({"type": "context", "elements": [_mrkdwn(_(SANDBOX_NOTE))]})
    text = title + "\n" + "\n".join(lines)
    return SlackMessage(text=text[:3900], blocks=blocks)


def shown_status(status: str, sms: SmsRecord | None, *, code: bool = False) -> tuple[str, str]:
    """The mark and words of a status Mobizon reports, or of the final one smsbot kept for ``sms``.

    Mobizon keeps reporting ``NEW`` for the message of a campaign it deleted: a cancelled SMS
    reads as cancelled, by whom. ``code`` words a status as its code alone (``/sms find``).
    """
    if sms is not None and sms.cancelled_by is not None:
        return ":no_entry_sign:", account_words.cancelled_by(sms.cancelled_by)
    if sms is not None and sms.is_final and sms.status:
        status = sms.status
    return status_mark(status), _status_code(status) if code else status_words(status)


def _item_line(item: MessageItem, sms: SmsRecord | None = None) -> str:
    preview = item.text if len(item.text) <= 80 else item.text[:80] + "…"  # noqa: PLR2004
    mark, status = shown_status(item.status, sms, code=True)
    said = {
        "mark": mark,
        "id": item.id,
        "recipient": verbatim(format_phone(item.recipient)),
        "sender": verbatim(item.sender or ""),
        "status": status,
        "segments": _segment_words(item.segments),
        "sent": when(item.start_send_at),
    }
    line = (
        _(
            "%(mark)s *%(id)s* to %(recipient)s from %(sender)s · "
            "%(status)s · %(segments)s · %(sent)s"
        )
        if item.sender
        else _("%(mark)s *%(id)s* to %(recipient)s · %(status)s · %(segments)s · %(sent)s")
    ) % said
    return f"{line}\n      _{verbatim(preview.replace(chr(10), ' '))}_"


def _status_code(status: str) -> str:
    """A status as its code: known ones as they are, anything else escaped and marked unknown."""
    if status in STATUS_MEANINGS:
        return status
    return _("“%(status)s” (unknown)") % {"status": escape_short(status)}


FIND_PREVIOUS = "sms_find_previous"
FIND_NEXT = "sms_find_next"


def find_results(
    page: MessagePage,
    *,
    people_page: int,
    previous_value: str | None,
    next_value: str | None,
    sandbox: bool = False,
    settled: Mapping[int, SmsRecord] | None = None,
) -> SlackMessage:
    """The answer to ``/sms find``: a readable list, "page X of Y, N found", Previous/Next.

    ``settled`` are smsbot's records by id: a final status kept there is the one shown.
    """
    title = _("SMS found: page %(page)s of %(pages)s, %(total)s found") % {
        "page": formats.number(people_page),
        "pages": formats.number(page.page_count),
        "total": formats.number(page.total),
    }
    kept = settled or {}
    lines = [_item_line(i, kept.get(i.id)) for i in page.items]
    message = _list_message(title, lines, sandbox=sandbox)
    buttons: list[ButtonElement] = []
    if previous_value is not None:
        buttons.append(
            ButtonElement(text=_("← Previous"), action_id=FIND_PREVIOUS, value=previous_value)
        )
    if next_value is not None:
        buttons.append(ButtonElement(text=_("Next →"), action_id=FIND_NEXT, value=next_value))
    if buttons:
        # to_dict() checks Slack's limits (a value holds at most 2,000 characters)
        message.blocks.append(ActionsBlock(elements=buttons).to_dict())
    return message
