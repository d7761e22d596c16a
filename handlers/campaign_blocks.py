"""A send to many in Slack: its one channel message, its summary reply, its failed rows as CSV.

The message says who sent what to how many, and where its recipients stand (waiting, sent,
delivered, failed, not added by Mobizon) with a bar; the reporter edits it as statuses arrive
(:mod:`handlers.campaign_posts`). The summary closes it in its thread once every SMS is final.
Mobizon's statuses are worded as on a single SMS's post (:func:`handlers.blocks.status_words`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from bot.mobizon import RECIPIENT_CODES, RecipientProblem
from handlers import account_words, formats
from handlers.blocks import SANDBOX_NOTE, Block, SlackMessage, mrkdwn_object, status_words
from handlers.i18n import N_, ngettext
from handlers.i18n import gettext as _
from handlers.mrkdwn import escape_short, verbatim
from storage.campaign_reports import (
    CANCELLED,
    DECLINED,
    GAVE_UP,
    CampaignCost,
    CampaignReport,
    Counts,
    Unreached,
)

#: How many characters the bar has.
BAR_WIDTH = 20
#: How much of the SMS text the message quotes.
_TEXT_SHOWN = 400

#: What each row code Mobizon gives a recipient it did not add means (English message ids).
PROBLEM_WORDS: dict[RecipientProblem, str] = {
    RecipientProblem.EMPTY: N_("empty number"),
    RecipientProblem.NO_NUMBER: N_("no number found"),
    RecipientProblem.NOT_INTERNATIONAL: N_("not in international format"),
    RecipientProblem.DUPLICATE: N_("already in the campaign"),
    RecipientProblem.STOP_LIST: N_("on Mobizon's stop list"),
    RecipientProblem.COUNTRY_BLOCKED: N_("country not allowed by the account's settings"),
    RecipientProblem.UNKNOWN_OPERATOR: N_("carrier or country unknown"),
    RecipientProblem.OPERATOR_NOT_SERVED: N_("carrier not served by Mobizon"),
    RecipientProblem.PLACEHOLDERS_MISSING: N_("placeholder values missing"),
    RecipientProblem.CONTACT_MISSING: N_("contact not found"),
    RecipientProblem.SHORT_LINK_FAILED: N_("a short link could not be made"),
    RecipientProblem.SYSTEM_ERROR: N_("Mobizon's system error"),
}

#: What became of an SMS that failed for a reason of ours, not a status (English message ids).
_OUTCOME_WORDS = {
    DECLINED: N_("declined by Mobizon's moderators"),
    CANCELLED: N_("cancelled"),
    GAVE_UP: N_("no final status from Mobizon in time"),
}


def bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """``▓▓▓▓░░░░``: ``done`` of ``total`` as a text bar of ``width`` characters."""
    filled = 0 if total <= 0 else min(width, round(width * done / total))
    return "▓" * filled + "░" * (width - filled)


def percent(part: int, whole: int) -> str:
    """``75%``: ``part`` of ``whole`` in whole percent, rounded down."""
    share = 0 if whole <= 0 else part * 100 // whole
    return _("%(percent)s%%") % {"percent": share}


def problem_words(code: int) -> str:
    """What Mobizon's row code means, for people; an undocumented one by its number."""
    problem = RECIPIENT_CODES.get(code, RecipientProblem.OTHER)
    words = PROBLEM_WORDS.get(problem)
    if words is None:
        return _("Mobizon's code %(code)s") % {"code": code}
    return _(words)


def outcome_words(outcome: str, *, comment: str | None = None) -> str:
    """Why an SMS failed: Mobizon's status with its meaning, or our reason."""
    if outcome == DECLINED and comment:
        return _("declined by Mobizon's moderators: “%(comment)s”") % {
            "comment": escape_short(comment, account_words.COMMENT_SHOWN)
        }
    words = _OUTCOME_WORDS.get(outcome)
    return _(words) if words is not None else status_words(outcome)


def _quoted(text: str) -> str:
    """The SMS text quoted as typed, cut to a few hundred characters."""
    return "> " + escape_short(text, _TEXT_SHOWN).replace("\n", "\n> ")


def _title(report: CampaignReport) -> str:
    said = {"count": formats.number(report.recipients), "user": f"<@{report.user_id}>"}
    return (
        ngettext(
            "*SMS to %(count)s recipient* sent by %(user)s",
            "*SMS to %(count)s recipients* sent by %(user)s",
            report.recipients,
        )
        % said
    )


def counts_line(counts: Counts) -> str:
    """``waiting 3 · sent 2 · delivered 10 · failed 1 · not added 2 (1 on Mobizon's stop list)``."""
    parts = [
        _("waiting %(count)s") % {"count": formats.number(counts.waiting)},
        _("sent %(count)s") % {"count": formats.number(counts.sent)},
        _("delivered %(count)s") % {"count": formats.number(counts.delivered)},
        _("failed %(count)s") % {"count": formats.number(counts.failed)},
    ]
    if counts.not_added:
        parts.append(
            _("not added %(count)s (%(why)s)")
            % {"count": formats.number(counts.not_added_count), "why": _by_code(counts.not_added)}
        )
    return " · ".join(parts)


def _by_code(not_added: dict[int, int]) -> str:
    return ", ".join(
        _("%(count)s %(why)s") % {"count": formats.number(count), "why": problem_words(code)}
        for code, count in sorted(not_added.items(), key=lambda item: (-item[1], item[0]))
    )


def campaign_message(report: CampaignReport) -> SlackMessage:
    """The campaign's one channel message, with its counts now and a bar of the final ones."""
    counts = report.counts
    final = counts.delivered + counts.failed
    progress = _("%(bar)s %(done)s of %(total)s final") % {
        "bar": bar(final, counts.added),
        "done": formats.number(final),
        "total": formats.number(counts.added),
    }
    context = [f"`{progress}`", counts_line(counts)]
    if report.state == "sending":
        context.append(_(":hourglass_flowing_sand: adding the recipients at Mobizon…"))
    elif report.state == "failed":
        context.append(_(":warning: not sent: its sender was told why"))
    elif report.finished:
        context.append(_(":checkered_flag: every SMS is final"))
    if report.sandbox:
        context.append(_(SANDBOX_NOTE))
    sender = verbatim(report.sender) if report.sender else _("the Mobizon account's default sender")
    fields = [
        _("*From*\n%(sender)s") % {"sender": sender},
        _("*Mobizon campaign*\n%(id)s") % {"id": report.mobizon_id or "—"},
    ]
    if report.left_out:
        fields.append(
            _("*Left out before sending*\n%(count)s") % {"count": formats.number(report.left_out)}
        )
    blocks: list[Block] = [
        {"type": "section", "text": mrkdwn_object(f"{_title(report)}\n{_quoted(report.text)}")},
        {"type": "section", "fields": [mrkdwn_object(text) for text in fields]},
        {"type": "context", "elements": [mrkdwn_object(text) for text in context]},
    ]
    text = _("%(title)s: %(counts)s") % {"title": _title(report), "counts": counts_line(counts)}
    return SlackMessage(text=text, blocks=blocks)


def cost_words(cost: CampaignCost) -> str:
    """The campaign's cost as Mobizon stated it, what is known of it so far, or that none is."""
    if not cost.amounts:
        return _("Cost not known yet.")
    amount = " + ".join(
        formats.money(total, currency) for currency, total in sorted(cost.amounts.items(), key=str)
    )
    if cost.complete:
        return _("Cost: %(amount)s.") % {"amount": amount}
    return _("Cost so far: %(amount)s (%(known)s of %(charged)s SMS known).") % {
        "amount": amount,
        "known": formats.number(cost.known),
        "charged": formats.number(cost.charged),
    }


def summary_reply(
    report: CampaignReport, cost: CampaignCost, *, comment: str | None = None
) -> SlackMessage:
    """The thread reply closing the campaign: delivered, failed and why, not added, left out, cost.

    ``comment`` is the moderator's, when Mobizon's moderators declined it.
    """
    counts = report.counts
    total = counts.added + counts.not_added_count
    lines = [
        _(":bar_chart: Delivered %(delivered)s of %(total)s (%(percent)s).")
        % {
            "delivered": formats.number(counts.delivered),
            "total": formats.number(total),
            "percent": percent(counts.delivered, total),
        }
    ]
    if counts.failed:
        reasons = ", ".join(
            _("%(count)s %(why)s")
            % {"count": formats.number(count), "why": outcome_words(outcome, comment=comment)}
            for outcome, count in sorted(counts.failures.items(), key=lambda i: (-i[1], i[0]))
        )
        lines.append(
            _("Failed: %(count)s (%(reasons)s).")
            % {"count": formats.number(counts.failed), "reasons": reasons}
        )
    if counts.not_added:
        lines.append(
            _("Not added by Mobizon: %(count)s (%(reasons)s).")
            % {
                "count": formats.number(counts.not_added_count),
                "reasons": _by_code(counts.not_added),
            }
        )
    if report.left_out:
        lines.append(
            _("Left out before sending (opt-out list, repeated or unreadable numbers): %(count)s.")
            % {"count": formats.number(report.left_out)}
        )
    lines.append(cost_words(cost))
    text = "\n".join(lines)
    if report.sandbox:
        text = _("%(text)s (sandbox)") % {"text": text}
    return SlackMessage(text=text, blocks=[{"type": "section", "text": mrkdwn_object(text)}])


def unreached_csv(rows: Iterable[Unreached], *, comment: str | None = None) -> str:
    """The recipients the campaign did not reach as CSV: row, number, status, reason.

    ``status`` is Mobizon's status (or ours: ``declined``, ``gave_up``, ``cancelled``), or
    ``code N`` for a row Mobizon did not add; ``reason`` says it in words.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_("row"), _("number"), _("status"), _("reason")])
    for one in rows:
        if one.outcome is None:
            status = f"code {one.code}"
            reason = problem_words(one.code or 0)
        else:
            status = one.outcome
            reason = outcome_words(one.outcome, comment=comment)
        writer.writerow([one.row, one.number, status, _plain(reason)])
    return out.getvalue()


def _plain(words: str) -> str:
    """Words for a spreadsheet cell: no mrkdwn entities, never read as a formula."""
    plain = words.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    plain = plain.replace("\u00ad", "")
    return "'" + plain if plain[:1] in ("=", "+", "-", "@") else plain
