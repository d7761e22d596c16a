"""The preview of a send to many: who gets it, who not and why, its size and cost, two buttons.

Pure functions of the campaign service's :class:`~bot.sms.sending.campaign_types.Preview`: the
person who asked sees it (ephemeral) before anything is sent, and confirms with "Send to N"
(:data:`CONFIRM_ACTION`) or cancels (:data:`CANCEL_ACTION`); each button's value is the
campaign's id. What was left out is worded here too, for the answer of a list sent at once.
"""

from __future__ import annotations

from datetime import tzinfo

from bot.sms.sending.campaign_types import CampaignOptions, CostEstimate, Prepared, Preview
from bot.sms.sending.gsm_spelling import gsm7_spelling
from bot.sms.sending.recipients import LeftOut, LeftOutReason
from bot.sms.sending.segments import count_segments
from handlers import blocks, formats
from handlers.blocks import Block, SlackMessage, mrkdwn_object
from handlers.i18n import gettext as _
from handlers.i18n import ngettext
from handlers.mrkdwn import escape_short
from handlers.phone import format_phone

__all__ = [
    "CANCEL_ACTION",
    "CONFIRM_ACTION",
    "LEFT_OUT_SHOWN",
    "campaign_id_of",
    "left_out_lines",
    "left_out_summary",
    "numbers",
    "options_line",
    "preview_message",
]

#: The action id of the preview's "Send to N" button (its value: the campaign's id).
CONFIRM_ACTION = "campaign_confirm"
#: The action id of the preview's "Cancel" button (its value: the campaign's id).
CANCEL_ACTION = "campaign_cancel"
#: The block id of the preview's buttons.
BUTTONS_BLOCK = "campaign_preview"
#: How many left-out rows are listed one by one; the rest are counted.
LEFT_OUT_SHOWN = 15
# The left-out rows' lines stop within this many characters (a section holds at most 3,000, and
# a typed value escaped for mrkdwn may be several times longer than as typed).
_LEFT_OUT_BUDGET = 2700
# The first SMS is quoted up to this many characters (a section holds at most 3,000).
_QUOTE_CHARACTERS = 1200
_QUOTE_BUDGET = 2500


def numbers(count: int) -> str:
    """``1 number``, ``12 numbers``: a count of recipients and its noun, agreeing."""
    return ngettext("%(count)s number", "%(count)s numbers", count) % {
        "count": formats.number(count)
    }


def campaign_id_of(value: object) -> int | None:
    """The campaign id a button's ``value`` carries; ``None`` when it is not one."""
    text = str(value or "")
    if text.isascii() and text.isdigit() and len(text) <= 18:  # noqa: PLR2004  # fits a BIGINT
        return int(text)
    return None


def preview_message(
    prepared: Prepared, *, typed_text: str | None = None, zone: tzinfo | None = None
) -> SlackMessage:
    """The preview of the prepared campaign, with its "Send to N" and "Cancel" buttons.

    ``typed_text`` is the text of a typed list (the same for every recipient) when it was not
    asked to go without accents: when a spelling without accents takes fewer segments, the
    preview says so and how to choose it. ``zone`` is the Mobizon account's time zone, which the
    time to confirm by is shown in, as the scheduled time is.
    """
    preview = prepared.preview
    title = _("*Preview: this SMS goes to %(numbers)s.* Nothing is sent until you confirm.") % {
        "numbers": numbers(preview.recipients)
    }
    lines = [title, _given(preview), _segments_line(preview), _cost_line(preview.cost)]
    options = options_line(preview.options)
    if options is not None:
        lines.append(options)
    hint = _without_accents_hint(preview, typed_text)
    if hint is not None:
        lines.append(hint)
    if preview.expires_at is not None:
        lines.append(
            _("Confirm by %(time)s; after that the preview expires and nothing is sent.")
            % {"time": formats.moment(preview.expires_at, seconds=False, zone=zone)}
        )
    body: list[Block] = [{"type": "section", "text": mrkdwn_object("\n".join(lines))}]
    if preview.left_out:
        body.append({"type": "section", "text": mrkdwn_object(left_out_summary(preview.left_out))})
    body.append({"type": "section", "text": mrkdwn_object(_first_sms(preview))})
    body.append(_buttons(prepared))
    return SlackMessage(text=_fallback(preview), blocks=body)


def _fallback(preview: Preview) -> str:
    """The preview's notification text."""
    return _("Preview: this SMS goes to %(numbers)s. Nothing is sent until you confirm.") % {
        "numbers": numbers(preview.recipients)
    }


def _given(preview: Preview) -> str:
    """How many were given and how many are left out, or that every one gets it."""
    if not preview.left_out:
        return _("Every number given gets it.")
    return ngettext(
        "%(count)s of the %(entries)s given is left out (below).",
        "%(count)s of the %(entries)s given are left out (below).",
        len(preview.left_out),
    ) % {"count": formats.number(len(preview.left_out)), "entries": formats.number(preview.entries)}


def _segments_line(preview: Preview) -> str:
    """Segments per SMS (one count or the range) and in all."""
    if preview.segments_min == preview.segments_max:
        each = blocks.segments(preview.segments_max)
    else:
        each = _("%(least)s to %(most)s") % {
            "least": formats.number(preview.segments_min),
            "most": blocks.segments(preview.segments_max),
        }
    return _("Each SMS: %(each)s; %(total)s in all.") % {
        "each": each,
        "total": blocks.segments(preview.segments_total),
    }


def _cost_line(cost: CostEstimate | None) -> str:
    """The estimated cost, "about", or that no cost is known yet."""
    if cost is None:
        return _("Cost: no cost known yet (no SMS sent through smsbot has a price yet).")
    return _("Cost: about %(total)s (%(per_segment)s a segment, as recent SMS cost).") % {
        "total": formats.money(cost.total, cost.currency),
        "per_segment": formats.money(cost.per_segment, cost.currency),
    }


def options_line(options: CampaignOptions) -> str | None:
    """What every SMS goes with (its sender, time, validity, flash, name, short links), or ``None``.

    Worded as each SMS's own post words them, so the preview names what the posts will show.
    """
    said: list[str] = []
    if options.sender:
        said.append(_("from %(sender)s") % {"sender": escape_short(options.sender)})
    if options.schedule is not None:
        said.append(
            _("scheduled for %(time)s") % {"time": formats.moment(options.schedule, seconds=False)}
        )
    if options.validity:
        said.append(_("valid %(minutes)s min") % {"minutes": options.validity})
    if options.flash:
        said.append(_("flash SMS"))
    if options.name:
        said.append(
            _("campaign “%(name)s”") % {"name": escape_short(options.name, blocks.NAME_SHOWN)}
        )
    if options.shorten_links:
        said.append(_("links shortened"))
    if not said:
        return None
    return _("Options: %(options)s.") % {"options": " · ".join(said)}


def _without_accents_hint(preview: Preview, typed_text: str | None) -> str | None:
    """How many segments the text takes without accents, when that is fewer; else ``None``."""
    if typed_text is None:
        return None
    plain = gsm7_spelling(typed_text)
    if plain is None or plain == typed_text:
        return None
    each = count_segments(plain).segments
    if each >= preview.segments_max:
        return None
    return _(
        "Without accents each SMS would be %(each)s (%(total)s in all): send the command "
        "again with `--gsm` to send it so."
    ) % {
        "each": blocks.segments(each),
        "total": blocks.segments(each * preview.recipients),
    }


def left_out_summary(left_out: tuple[LeftOut, ...]) -> str:
    """The rows left out, with why, under a title counting them (at most a section's size)."""
    title = ngettext("*Left out: %(count)s row*", "*Left out: %(count)s rows*", len(left_out)) % {
        "count": formats.number(len(left_out))
    }
    return "\n".join([title, *left_out_lines(left_out)])


def left_out_lines(left_out: tuple[LeftOut, ...]) -> list[str]:
    """One line per row left out (the first :data:`LEFT_OUT_SHOWN` that fit), then how many more."""
    lines: list[str] = []
    size = 0
    for entry in left_out[:LEFT_OUT_SHOWN]:
        line = f"• {_left_out_line(entry)}"
        size += len(line) + 1
        if size > _LEFT_OUT_BUDGET:
            break
        lines.append(line)
    more = len(left_out) - len(lines)
    if more > 0:
        lines.append(
            ngettext("…and %(count)s more row.", "…and %(count)s more rows.", more)
            % {"count": formats.number(more)}
        )
    return lines


def _left_out_line(entry: LeftOut) -> str:
    """``row 3, “123”: not a phone number I can send to``."""
    where = _("row %(row)s") % {"row": formats.number(entry.row)}
    shown = format_phone(entry.number) if entry.number else f"“{escape_short(entry.typed, 40)}”"
    match entry.reason:
        case LeftOutReason.EMPTY:
            return _("%(where)s: no number") % {"where": where}
        case LeftOutReason.UNREADABLE:
            why = _("not a phone number I can send to")
        case LeftOutReason.AMBIGUOUS:
            first, second = (format_phone(digits) for digits in entry.readings[:2])
            why = _("could be %(first)s or %(second)s; write it with + and its country code") % {
                "first": first,
                "second": second,
            }
        case LeftOutReason.DUPLICATE:
            why = _("the same number as row %(row)s") % {
                "row": formats.number(entry.duplicate_of or 0)
            }
        case LeftOutReason.OPTED_OUT:
            why = _("on the opt-out list")
    return _("%(where)s, %(number)s: %(why)s") % {"where": where, "number": shown, "why": why}


def _first_sms(preview: Preview) -> str:
    """The first recipient's number and its text as it will be sent, quoted."""
    title = _("*The first SMS, to %(phone)s:*") % {"phone": format_phone(preview.first_number)}
    shown = blocks.quote(preview.first_text, characters=_QUOTE_CHARACTERS, budget=_QUOTE_BUDGET)
    return f"{title}\n{shown}"


def _buttons(prepared: Prepared) -> Block:
    """The "Send to N" (primary) and "Cancel" buttons, each carrying the campaign's id."""
    value = str(prepared.campaign_id)
    send_to = _("Send to %(count)s") % {"count": formats.number(prepared.preview.recipients)}
    return {
        "type": "actions",
        "block_id": BUTTONS_BLOCK,
        "elements": [
            {
                "type": "button",
                "action_id": CONFIRM_ACTION,
                "text": {"type": "plain_text", "text": send_to},
                "style": "primary",
                "value": value,
            },
            {
                "type": "button",
                "action_id": CANCEL_ACTION,
                "text": {"type": "plain_text", "text": _("Cancel")},
                "value": value,
            },
        ],
    }
