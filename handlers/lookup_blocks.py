"""Replies to lookups: ``/sms status``'s report and ``/sms find``'s page of results.

Each SMS is one line (its status shown as smsbot keeps it when final, see :func:`shown_status`),
packed into sections within Slack's limits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import ActionsBlock, ButtonElement

from bot.mobizon import MessageItem, MessagePage, SmsStatus
from handlers import account_words, formats
from handlers.blocks import (
    SANDBOX_NOTE,
    STATUS_MEANINGS,
    Block,
    SlackMessage,
    mrkdwn_object,
    segment_words,
    status_mark,
    status_words,
    when,
)
from handlers.i18n import N_, ngettext
from handlers.i18n import gettext as _
from handlers.mrkdwn import escape_short, verbatim
from handlers.phone import format_phone
from storage.records import SmsRecord

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
        "segments": segment_words(found.segments),
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
    blocks: list[Block] = [{"type": "section", "text": mrkdwn_object(f"*{title}*")}]
    blocks += [{"type": "section", "text": mrkdwn_object("\n".join(chunk))} for chunk in shown]
    hidden = len(lines) - sum(len(chunk) for chunk in shown)
    if hidden:
        note = ngettext(
            "… and %(count)s more not shown here: ask for fewer at a time.",
            "… and %(count)s more not shown here: ask for fewer at a time.",
            hidden,
        ) % {"count": formats.number(hidden)}
        blocks.append({"type": "context", "elements": [mrkdwn_object(note)]})
    if sandbox:
        blocks.append({"type": "context", "elements": [mrkdwn_object(_(SANDBOX_NOTE))]})
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
        "segments": segment_words(item.segments),
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
