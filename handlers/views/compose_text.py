"""Every sentence and label of the compose modal and its shortcuts, in one place to translate."""

from __future__ import annotations

from bot.sending.segments import MAX_SEGMENTS

TITLE = "Send an SMS"
SUBMIT = "Send"
CLOSE = "Cancel"

PHONE_LABEL = "Phone number"
PHONE_PLACEHOLDER = "+55 11 98765-4321"
TEXT_LABEL = "Message"
TEXT_PLACEHOLDER = "The text of the SMS"
SENDER_LABEL = "Sender"
SENDER_PLACEHOLDER = "The account's default sender"
SENDER_HINT = "Up to 11 letters and digits, or up to 15 digits."
AT_LABEL = "Send later"
VALIDITY_LABEL = "Validity (minutes)"
VALIDITY_PLACEHOLDER = "60 to 1440"
NAME_LABEL = "Campaign name"
CHANNEL_LABEL = "Post the SMS in"
TEMPLATE_PLACEHOLDER = "Start from a template"


def placeholder_label(name: str) -> str:
    """The label of a template placeholder's input."""
    return f"Value for {{{name}}}"


def placeholder_missing(name: str) -> str:
    """A placeholder was left empty."""
    return f"Give a value for {{{name}}}."


def at_hint(zone_name: str) -> str:
    """The hint under the send-later picker: the range and the account's time zone."""
    return (
        f"1 hour to 14 days ahead. Slack shows your own time; the Mobizon account's time zone "
        f"is {zone_name}."
    )


def count_line(encoding: str, length: int, segments: int) -> str:
    """The live count under the message: encoding, characters, segments, and any warning."""
    unit = "segment" if segments == 1 else "segments"
    line = f"{encoding} · {length:,} characters · {segments} SMS {unit}"
    if segments > MAX_SEGMENTS:
        return f":no_entry: {line}: over the limit of {MAX_SEGMENTS}; shorten the text to send it."
    if segments >= MAX_SEGMENTS - 2:
        return f":warning: {line}: close to the limit of {MAX_SEGMENTS}."
    return line


EMPTY_COUNT = "Type the message to see how many SMS segments it takes."

TEXT_EMPTY = "Write the text to send."
PHONE_EMPTY = "Give the phone number to send to."
PHONE_TRAILING = "Give only the phone number here; the text goes in Message."
VALIDITY_BAD = "Give whole minutes from 60 to 1440."
NAME_BLANK = "Give a campaign name, or leave it empty."
CHANNEL_MISSING = "Choose where to post the SMS."
AT_PAST = "This time has passed; SMS can be scheduled 1 hour to 14 days ahead."
AT_TOO_SOON = "This is less than 1 hour from now; SMS can be scheduled 1 hour to 14 days ahead."
AT_TOO_LATE = "This is more than 14 days from now; SMS can be scheduled 1 hour to 14 days ahead."

NOT_IN_CHANNEL = (
    "This modal came without a channel to post in, so nothing was sent. Open it again from a "
    "channel."
)


def template_added(name: str) -> str:
    """A template was saved."""
    return f"Template *{name}* saved. Send it with `/sms send --template {name} PHONE key=value …`."


def template_taken(name: str) -> str:
    """A template of that name exists."""
    return f"A template named *{name}* exists already; remove it first to replace it."


def template_removed(name: str) -> str:
    """A template was removed."""
    return f"Template *{name}* removed."


def template_unknown(name: str) -> str:
    """No template of that name."""
    return f"There is no template named {name}; `/sms template list` shows them."


def template_list(found: list[tuple[str, str]]) -> str:
    """The workspace's templates, each with its text (escaped by the caller's rules)."""
    if not found:
        return "No templates yet. Save one with `/sms template add NAME TEXT`."
    lines = [f"• *{name}*: {text}" for name, text in found]
    return "*Templates*\n" + "\n".join(lines)
