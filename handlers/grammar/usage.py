"""What people are told about ``/sms``: usage lines, the help, and :class:`UsageError`."""

from __future__ import annotations

from handlers.i18n import N_
from handlers.i18n import gettext as _

#: The usage line of each subcommand, shown under every error about it.
#: English message ids: show them through :func:`usage_line`, which translates.
USAGE: dict[str, str] = {
    "help": N_("Usage: /sms help"),
    "send": N_(
        'Usage: /sms send [--from SENDER] [--at "YYYY-MM-DD HH:MM"] [--validity MINUTES]'
        " [--flash] [--name NAME] [--shorten-links] [--gsm] PHONE[, PHONE…] TEXT…"
    ),
    "status": N_("Usage: /sms status [ID …]"),
    "balance": N_("Usage: /sms balance"),
    "cancel": N_("Usage: /sms cancel ID"),
    "template": N_(
        "Usage: /sms template add NAME TEXT | /sms template list [page:N]"
        " | /sms template remove NAME"
    ),
    "optout": N_(
        "Usage: /sms optout add PHONE | /sms optout list [page:N] | /sms optout remove PHONE"
    ),
    "send --template": N_("Usage: /sms send --template NAME PHONE [KEY=VALUE …]"),
    "find": N_(
        "Usage: /sms find [FIELD:VALUE …] with fields to, from, text, status, campaign, group,"
        " sent-after, sent-before, updated-after, updated-before, page, size, sort"
    ),
}

#: One usage line naming every form, for an unknown subcommand.
GENERAL_USAGE = N_(
    "Usage: /sms (the compose form) | /sms send [OPTIONS] PHONE[, PHONE…] TEXT…"
    " | /sms status [ID …]"
    " | /sms find [FIELD:VALUE …] | /sms template add|list|remove"
    " | /sms optout add|list|remove | /sms balance | /sms cancel ID | /sms help"
)

#: The full help, in Slack mrkdwn (the English message id: show it through :func:`help_text`).
HELP_TEXT = N_("""\
*Send SMS from Slack with `/sms`*

*Compose*: `/sms` alone opens a form (phone, message with a live segment count, sender, send \
later, validity, campaign name); when accents make a message take more segments, it shows the \
count without them and offers to send it so; the message shortcut *Send as SMS* opens it with \
a message's text, the global shortcut *Send an SMS* from anywhere.

*Send* an SMS. Options go before the number; everything after the number is the text, exactly \
as typed (at most 10 SMS segments):
`/sms send +55 11 98765-4321 Your order is ready`
`/sms send --from MyShop --name "Black Friday" 5511987654321 Sale starts now`
`/sms send --at "2026-12-01 14:30" --validity 120 (11) 98765-4321 See you tomorrow`
`/sms send --flash +55 11 98765-4321 Your code is 1234`
• `--from SENDER`: the sender name, up to 11 letters and digits, or up to 15 digits
• `--at "YYYY-MM-DD HH:MM"`: send later, from 1 hour to 14 days ahead, in the time zone of \
the Mobizon account
• `--validity MINUTES`: how long to keep trying to deliver, 60 to 1440
• `--flash`: show the SMS on the screen without saving it
• `--name NAME`: the campaign name
• `--shorten-links`: Mobizon replaces the links in the text with short ones
• `--gsm`: send the text without accents (ã→a, ç→c, curly quotes and dashes plain; é, à, ü and \
ñ stay), so an SMS segment holds 160 characters instead of 70; refused when a character, such \
as an emoji, has no plain form
A number without a country code is read in the bot's default region; put its area code in \
parentheses, like `(11) 98765-4321`, so it cannot be mistaken for a country code.

*Send to many*: numbers separated by commas, the text after the last one; every option \
applies to each SMS:
`/sms send +55 11 98765-4321, 5511912345678, (11) 91234-5678 Your order is ready`
A short list is sent at once. A longer one (more than SMSBOT_CONFIRM_ABOVE numbers, 10 unless \
set) first shows you a preview: how many get it, which numbers are left out and why \
(unreadable, repeated, on the opt-out list), the segments, the cost, and the first SMS. \
Nothing is sent until you press *Send to N*; *Cancel* sends nothing. The channel gets one \
message for the whole send, with its delivery counts.
In the form (`/sms` alone), type several numbers, one per line or separated by commas, or choose \
a CSV file: the number column is the one named `phone`, `telefone`, `celular`, `numero` or `to`, \
and every other column fills the `{placeholder}` of its name in the text, per recipient. The \
message shortcut *Send as SMS* on a message with a CSV file opens the form with that file.

*Status* of SMS by id; with no id, the latest SMS sent from this channel:
`/sms status`   `/sms status 6300284`   `/sms status 6300284, 6300285 6300290`

*Find* SMS sent through Mobizon; fields combine, values with spaces go in quotes:
`/sms find to:5511 status:DELIVRD`
`/sms find text:"Your order is ready" sent-after:2026-01-01 sort:-sent size:50 page:2`
• `to:` digits of the number, or part of them
• `from:` the sender name
• `text:` the exact text
• `status:` NEW, ENQUEUD, ACCEPTD, PDLIVRD, DELIVRD, UNDELIV, REJECTD, EXPIRED or DELETED
• `campaign:` campaign ids, comma-separated
• `group:` contact group ids, comma-separated
• `sent-after:` `sent-before:` `updated-after:` `updated-before:` a date `2026-01-31` \
or a quoted date and time `"2026-01-31 14:30"`, in the Mobizon account's time zone
• `page:` the page, from 1
• `size:` results per page: 25, 50 or 100
• `sort:` id, sent, updated, to, from, status, text, segments or campaign; a leading `-` puts \
the largest or newest first (default `-sent`)

*Templates*, saved per workspace, with `{placeholders}` filled when sending:
`/sms template add ready Hi {name}, order {order} is ready`
`/sms template list`   `/sms template remove ready`
`/sms send --template ready +55 11 98765-4321 name=Ana order="A 17"`

*Opt-out list*: numbers that asked not to get SMS. No SMS is sent to a number on it; \
adding, removing and listing are for who may send:
`/sms optout add +55 11 98765-4321`
`/sms optout list`   `/sms optout remove +55 11 98765-4321`

*Balance* of the Mobizon account, and what the SMS sent through smsbot cost today and in the \
last 7 days: `/sms balance`

*Cancel* a scheduled SMS by its id, or a scheduled send to many by its campaign id (shown on \
its message), until 5 minutes before its time (its sender or an allowed user): \
`/sms cancel 6300284`

A new SMS may wait for Mobizon's moderators: its post says "awaiting moderation", and if they \
decline it the post says so with their comment.

*Help*: `/sms help`""")


def usage_line(command: str) -> str:
    """The usage line of subcommand ``command`` (``send``, ``status``, ...) in the active locale."""
    return _(USAGE[command])


def general_usage() -> str:
    """The usage line naming every subcommand, in the active locale."""
    return _(GENERAL_USAGE)


def help_text() -> str:
    """The full ``/sms help``, in Slack mrkdwn, in the active locale."""
    return _(HELP_TEXT)


class UsageError(ValueError):
    """The command text is not valid ``/sms`` input.

    ``sentence`` says what is wrong in one plain sentence ending with "."; ``usage`` is the usage
    line to show under it. ``str(error)`` is both, on two lines. Both may quote what the user
    typed, so escape them for Slack (:func:`handlers.mrkdwn.escape`) before posting as mrkdwn.
    """

    def __init__(self, sentence: str, usage: str) -> None:
        super().__init__(f"{sentence}\n{usage}")
        self.sentence = sentence
        self.usage = usage
