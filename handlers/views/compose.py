"""The compose modal: built from ``slack_sdk`` models, and its submission read back (pure).

Block and action ids stay the same across updates, so Slack keeps what the user typed when the
live count replaces the view (``views.update``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ContextBlock,
    ConversationSelectElement,
    DateTimePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.blocks.basic_components import DispatchActionConfig
from slack_sdk.models.views import View

from bot.mobizon.types import OutgoingSms
from bot.sending.segments import TooLongError, check_length, count_segments
from handlers.formats import zone_name
from handlers.grammar.send import (  # one rule for both surfaces
    _check_sender,
    _check_validity,
    schedule_problem,
    too_long,
)
from handlers.grammar.templates import PLACEHOLDER, placeholders
from handlers.grammar.usage import UsageError
from handlers.grammar.words import SEND_OPTIONS
from handlers.i18n import gettext as _
from handlers.phone import PhoneNumberError, parse_phone
from handlers.views import compose_text as say

CALLBACK_ID = "sms_compose"

PHONE = "sms_phone"
TEXT = "sms_text"
SENDER = "sms_sender"
AT = "sms_at"
VALIDITY = "sms_validity"
NAME = "sms_name"
CHANNEL = "sms_channel"
COUNT = "sms_count"
TEMPLATE = "sms_template"
#: A placeholder's input: this prefix and the placeholder's name.
PLACEHOLDER_PREFIX = "sms_ph."
#: The message block's id after a template filled it: ``sms_text~2`` (a new id makes Slack
#: show the template's text instead of keeping what was typed).
_VERSION = "~"

#: Each input's action id is its block id with this suffix.
_ACTION = "_input"

#: Slack's limit on a plain-text input (the SMS limit of 10 segments is checked on submit).
_MAX_INPUT = 3000


def action_id(block_id: str) -> str:
    """The action id of the input in block ``block_id``."""
    return block_id + _ACTION


#: The action id the message input dispatches on each character (the live count).
TEXT_ACTION = action_id(TEXT)
#: The action id of the template select.
TEMPLATE_ACTION = action_id(TEMPLATE)


def is_text_block(block_id: str) -> bool:
    """True for the message input's block, whatever its version."""
    return block_id == TEXT or block_id.startswith(TEXT + _VERSION)


def text_block_id(view: Mapping[str, Any]) -> str:
    """The id of a submitted view's message block: a chosen template renames it."""
    values = view.get("state", {}).get("values", {})
    shown = [str(b.get("block_id", "")) for b in view.get("blocks", [])]
    return next((b for b in [*values, *shown] if is_text_block(b)), TEXT)


@dataclass(frozen=True, slots=True)
class ComposeMeta:
    """What travels in the modal's ``private_metadata``: where to post the SMS, and from where.

    ``surface`` is the value of a :class:`~bot.sending.types.Surface`.
    """

    channel_id: str | None
    surface: str = "modal"

    def dump(self) -> str:
        """The metadata as the modal carries it."""
        return json.dumps({"channel": self.channel_id, "surface": self.surface})

    @classmethod
    def load(cls, raw: str | None) -> ComposeMeta:
        """Read the metadata back; an unreadable one names no channel."""
        try:
            data = json.loads(raw or "{}")
        except ValueError:
            return cls(None)
        if not isinstance(data, dict):
            return cls(None)
        channel, surface = data.get("channel"), data.get("surface")
        return cls(
            channel if isinstance(channel, str) and channel else None,
            surface if isinstance(surface, str) and surface else "modal",
        )


def count_text(text: str) -> str:
    """The live count shown under the message input."""
    if not text:
        return _(say.EMPTY_COUNT)
    info = count_segments(text)
    return say.count_line(info.encoding, info.length, info.segments)


def compose_view(
    *,
    meta: ComposeMeta,
    zone: tzinfo,
    sender_names: Sequence[str] = (),
    text: str = "",
    pick_channel: str | None = None,
    ask_channel: bool = False,
    templates: Sequence[str] = (),
) -> View:
    """The compose modal.

    ``sender_names`` makes the sender a select (free text without them); ``text`` fills the
    message (a shortcut's message); ``ask_channel`` adds a channel picker defaulting to
    ``pick_channel`` (the global shortcut, which has no channel of its own).
    """
    blocks: list[Any] = []
    if ask_channel:
        blocks.append(
            InputBlock(
                block_id=CHANNEL,
                label=_(say.CHANNEL_LABEL),
                element=ConversationSelectElement(
                    action_id=action_id(CHANNEL), initial_conversation=pick_channel
                ),
            )
        )
    if templates:
        options = [Option(value=name, text=name[:75]) for name in templates][:100]
        blocks.append(
            ActionsBlock(
                block_id=TEMPLATE,
                elements=[
                    StaticSelectElement(
                        action_id=TEMPLATE_ACTION,
                        placeholder=_(say.TEMPLATE_PLACEHOLDER),
                        options=options,
                    )
                ],
            )
        )
    blocks += [
        InputBlock(
            block_id=PHONE,
            label=_(say.PHONE_LABEL),
            element=PlainTextInputElement(
                action_id=action_id(PHONE), placeholder=_(say.PHONE_PLACEHOLDER), max_length=64
            ),
        ),
        InputBlock(
            block_id=TEXT,
            label=_(say.TEXT_LABEL),
            dispatch_action=True,
            element=PlainTextInputElement(
                action_id=TEXT_ACTION,
                multiline=True,
                placeholder=_(say.TEXT_PLACEHOLDER),
                initial_value=text[:_MAX_INPUT] or None,
                max_length=_MAX_INPUT,
                dispatch_action_config=DispatchActionConfig(
                    trigger_actions_on=["on_character_entered"]
                ),
            ),
        ),
        count_block(text),
        _sender_block(sender_names),
        InputBlock(
            block_id=AT,
            label=_(say.AT_LABEL),
            optional=True,
            hint=say.at_hint(zone_name(zone)),
            element=DateTimePickerElement(action_id=action_id(AT)),
        ),
        InputBlock(
            block_id=VALIDITY,
            label=_(say.VALIDITY_LABEL),
            optional=True,
            element=PlainTextInputElement(
                action_id=action_id(VALIDITY), placeholder=_(say.VALIDITY_PLACEHOLDER), max_length=4
            ),
        ),
        InputBlock(
            block_id=NAME,
            label=_(say.NAME_LABEL),
            optional=True,
            element=PlainTextInputElement(action_id=action_id(NAME), max_length=100),
        ),
    ]
    return View(
        type="modal",
        callback_id=CALLBACK_ID,
        title=_(say.TITLE),
        submit=_(say.SUBMIT),
        close=_(say.CLOSE),
        private_metadata=meta.dump(),
        blocks=blocks,
    )


def count_block(text: str) -> ContextBlock:
    """The block showing the live count."""
    return ContextBlock(block_id=COUNT, elements=[MarkdownTextObject(text=count_text(text))])


def with_count(view: Mapping[str, Any], text: str) -> dict[str, Any]:
    """``view`` as Slack sent it, ready for ``views.update`` with the count of ``text``.

    Only the count block changes; every input keeps its ids, so Slack keeps what was typed.
    """
    blocks = [
        count_block(text).to_dict() if block.get("block_id") == COUNT else dict(block)
        for block in view.get("blocks", [])
    ]
    keep = ("type", "callback_id", "title", "submit", "close", "private_metadata")
    return {key: view[key] for key in keep if key in view} | {"blocks": blocks}


def with_template(view: Mapping[str, Any], text: str) -> dict[str, Any]:
    """``view`` with the message set to a template's ``text`` and one input per placeholder.

    The message block gets a new id (so Slack shows ``text``); the other inputs keep theirs.
    """
    version = 1 + max(
        (
            int(b["block_id"].rsplit(_VERSION, 1)[1])
            for b in view.get("blocks", [])
            if str(b.get("block_id", "")).startswith(TEXT + _VERSION)
        ),
        default=0,
    )
    blocks: list[dict[str, Any]] = []
    for block in view.get("blocks", []):
        block_id = str(block.get("block_id", ""))
        if block_id.startswith(PLACEHOLDER_PREFIX):
            continue
        if is_text_block(block_id):
            element = {**block["element"], "initial_value": text[:_MAX_INPUT]}
            blocks.append({**block, "block_id": f"{TEXT}{_VERSION}{version}", "element": element})
        elif block_id == COUNT:
            blocks.append(count_block(text).to_dict())
            blocks += [placeholder_block(name).to_dict() for name in placeholders(text)]
        else:
            blocks.append(dict(block))
    keep = ("type", "callback_id", "title", "submit", "close", "private_metadata")
    return {key: view[key] for key in keep if key in view} | {"blocks": blocks}


def placeholder_block(name: str) -> InputBlock:
    """The input for one ``{placeholder}`` of a template."""
    block_id = PLACEHOLDER_PREFIX + name
    return InputBlock(
        block_id=block_id,
        label=say.placeholder_label(name),
        element=PlainTextInputElement(action_id=action_id(block_id), max_length=500),
    )


def _sender_block(names: Sequence[str]) -> InputBlock:
    if names:
        options = [Option(value=name, text=name) for name in dict.fromkeys(names)][:100]
        element: Any = StaticSelectElement(
            action_id=action_id(SENDER), placeholder=_(say.SENDER_PLACEHOLDER), options=options
        )
        return InputBlock(
            block_id=SENDER, label=_(say.SENDER_LABEL), optional=True, element=element
        )
    return InputBlock(
        block_id=SENDER,
        label=_(say.SENDER_LABEL),
        optional=True,
        hint=_(say.SENDER_HINT),
        element=PlainTextInputElement(action_id=action_id(SENDER), max_length=15),
    )


@dataclass(frozen=True, slots=True)
class Submission:
    """A valid submission: the SMS to send and the channel to post it in."""

    sms: OutgoingSms
    channel_id: str | None


def _value(values: Mapping[str, Any], block_id: str) -> dict[str, Any]:
    found = values.get(block_id, {}).get(action_id(block_id), {})
    return found if isinstance(found, dict) else {}


def _typed(values: Mapping[str, Any], block_id: str) -> str:
    """What was typed in a text input, or the chosen option of a select."""
    entry = _value(values, block_id)
    option = entry.get("selected_option")
    if isinstance(option, dict):
        return str(option.get("value") or "")
    return str(entry.get("value") or "")


def read_submission(
    view: Mapping[str, Any], *, default_region: str, now: datetime
) -> Submission | dict[str, str]:
    """The SMS a submitted compose modal asks for, or the errors to show by block id.

    ``now`` is aware, in the Mobizon account's zone: a chosen time is sent in that zone.
    """
    values = view.get("state", {}).get("values", {})
    errors: dict[str, str] = {}
    recipient = _read_phone(_typed(values, PHONE), default_region, errors)
    text_id = text_block_id(view)
    text = str(values.get(text_id, {}).get(TEXT_ACTION, {}).get("value") or "")
    filled = {
        b.removeprefix(PLACEHOLDER_PREFIX): _typed(values, b)
        for b in values
        if b.startswith(PLACEHOLDER_PREFIX)
    }
    for name, value in filled.items():
        if not value.strip():
            errors[PLACEHOLDER_PREFIX + name] = say.placeholder_missing(name)
    if filled and not any(b.startswith(PLACEHOLDER_PREFIX) for b in errors):
        text = PLACEHOLDER.sub(lambda m: filled.get(m.group(1), m.group(0)), text)
    if not text.strip():
        errors[text_id] = _(say.TEXT_EMPTY)
    else:
        try:
            check_length(text)
        except TooLongError as err:
            errors[text_id] = too_long(err)
    sender = _checked(
        _typed(values, SENDER).strip(), SENDER, _check_sender, now, errors, option="from"
    )
    validity = _checked(
        _typed(values, VALIDITY).strip(), VALIDITY, _check_validity, now, errors, option="validity"
    )
    if VALIDITY in errors:
        # the form has no --validity option to quote: say what the field takes
        errors[VALIDITY] = _(say.VALIDITY_BAD)
    name = _typed(values, NAME).strip() or None
    at = _read_at(_value(values, AT).get("selected_date_time"), now, errors)
    channel = ComposeMeta.load(view.get("private_metadata")).channel_id
    if CHANNEL in values:
        picked = _value(values, CHANNEL).get("selected_conversation")
        channel = picked if isinstance(picked, str) and picked else None
        if channel is None:
            errors[CHANNEL] = _(say.CHANNEL_MISSING)
    if errors or recipient is None:
        return errors
    sms = OutgoingSms(
        recipient=recipient,
        text=text,
        sender=sender if isinstance(sender, str) else None,
        schedule=at,
        validity=validity if isinstance(validity, int) else None,
        campaign_name=name,
    )
    return Submission(sms, channel)


def _read_phone(typed: str, region: str, errors: dict[str, str]) -> str | None:
    if not typed.strip():
        errors[PHONE] = _(say.PHONE_EMPTY)
        return None
    try:
        recipient, end = parse_phone(typed.strip(), region)
    except PhoneNumberError as err:
        errors[PHONE] = err.sentence
        return None
    if typed.strip()[end:].strip():
        errors[PHONE] = _(say.PHONE_TRAILING)
        return None
    return recipient


def _checked(
    typed: str,
    block_id: str,
    check: Any,  # noqa: ANN401  # the grammar's option checks
    now: datetime,
    errors: dict[str, str],
    *,
    option: str,
) -> object:
    if not typed:
        return None
    try:
        return check(typed, now, SEND_OPTIONS.word(option))
    except UsageError as err:
        errors[block_id] = err.sentence
        return None


#: What the form says of each ``schedule_problem`` (English message ids of compose_text).
_SCHEDULE_PROBLEMS = {"past": say.AT_PAST, "soon": say.AT_TOO_SOON, "late": say.AT_TOO_LATE}


def _read_at(chosen: object, now: datetime, errors: dict[str, str]) -> datetime | None:
    if chosen is None or isinstance(chosen, bool) or not isinstance(chosen, int | float):
        return None
    at = datetime.fromtimestamp(int(chosen), tz=UTC).astimezone(now.tzinfo)
    problem = schedule_problem(at, now)
    if problem is None:
        return at
    errors[AT] = _(_SCHEDULE_PROBLEMS[problem])
    return None
