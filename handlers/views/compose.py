"""The compose modal: built from ``slack_sdk`` models (pure).

Its submission is read back by :mod:`handlers.views.compose_submission`.

Block and action ids stay the same across updates, so Slack keeps what the user typed when the
live count replaces the view (``views.update``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    CheckboxesElement,
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

from bot.sms.sending.gsm_spelling import gsm7_spelling
from bot.sms.sending.segments import count_segments
from bot.sms.sending.types import Surface
from handlers.formats import zone_name
from handlers.grammar.templates import body_problem, placeholders
from handlers.i18n import gettext as _
from handlers.views import compose_fields, compose_recipients
from handlers.views import compose_text as say
from handlers.views.compose_fields import CONVERSATION_ID, FILE_ID
from handlers.views.compose_recipients import recipient_blocks

CALLBACK_ID = "sms_compose"

#: The number (or numbers) and the CSV file (:mod:`handlers.views.compose_recipients`).
PHONE = compose_recipients.PHONE
FILE = compose_recipients.FILE
#: The action id of the input in a block: its block id with a suffix.
action_id = compose_fields.action_id
TEXT = "sms_text"
SENDER = "sms_sender"
AT = "sms_at"
VALIDITY = "sms_validity"
NAME = "sms_name"
CHANNEL = "sms_channel"
COUNT = "sms_count"
TEMPLATE = "sms_template"
#: The "send without accents" checkbox, offered where a text needs UCS-2 and has a GSM-7 spelling.
GSM = "sms_gsm"
#: The value of its one option.
GSM_CHOSEN = "gsm"
#: A placeholder's input: this prefix and the placeholder's name.
PLACEHOLDER_PREFIX = "sms_ph."
#: The message block's id after a template filled it: ``sms_text~2`` (a new id makes Slack
#: show the template's text instead of keeping what was typed).
_VERSION = "~"

#: Slack's limit on a plain-text input (the SMS limit of 10 segments is checked on submit).
_MAX_INPUT = 3000


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


_SURFACES = frozenset(s.value for s in Surface)


@dataclass(frozen=True, slots=True)
class ComposeMeta:
    """What travels in the modal's ``private_metadata``: where to post the SMS, and from where.

    ``surface`` is the value of a :class:`~bot.sms.sending.types.Surface`. ``file_id`` and
    ``file_name`` are a CSV file chosen before the modal opened (the message shortcut on a
    message with one): Slack's file input takes no initial file, so the modal carries it here.
    """

    channel_id: str | None
    surface: str = "modal"
    file_id: str | None = None
    file_name: str | None = None

    def dump(self) -> str:
        """The metadata as the modal carries it."""
        data: dict[str, object] = {"channel": self.channel_id, "surface": self.surface}
        if self.file_id is not None:
            data["file"] = {"id": self.file_id, "name": (self.file_name or "")[:200]}
        return json.dumps(data)

    @classmethod
    def load(cls, raw: str | None) -> ComposeMeta:
        """Read the metadata back; an unreadable one names no channel."""
        try:
            data = json.loads(raw if isinstance(raw, str) and raw else "{}")
        except (ValueError, RecursionError):
            return cls(None)
        if not isinstance(data, dict):
            return cls(None)
        channel, surface = data.get("channel"), data.get("surface")
        chosen = data.get("file")
        file_id, name = (
            (chosen.get("id"), chosen.get("name")) if isinstance(chosen, dict) else ("", "")
        )
        has_file = isinstance(file_id, str) and FILE_ID.fullmatch(file_id) is not None
        return cls(
            channel if isinstance(channel, str) and CONVERSATION_ID.fullmatch(channel) else None,
            surface if surface in _SURFACES else Surface.MODAL.value,
            file_id if has_file else None,
            str(name) if has_file and isinstance(name, str) else None,
        )


def without_accents(text: str) -> str | None:
    """The GSM-7 spelling the modal offers for ``text``: only where the text needs UCS-2."""
    if not text or count_segments(text).encoding == "GSM-7":
        return None
    return gsm7_spelling(text)


def count_text(text: str) -> str:
    """The live count shown under the message; with the count without accents where offered."""
    if not text:
        return _(say.EMPTY_COUNT)
    info = count_segments(text)
    line = say.count_line(info.encoding, info.length, info.segments)
    spelt = without_accents(text)
    if spelt is not None:
        plain = count_segments(spelt)
        line += "\n" + say.without_accents_line(plain.length, plain.segments)
    return line


def gsm_block() -> InputBlock:
    """The "send without accents" checkbox; unticked, the text is sent as typed."""
    return InputBlock(
        block_id=GSM,
        label=_(say.GSM_LABEL),
        optional=True,
        element=CheckboxesElement(
            action_id=action_id(GSM),
            options=[Option(value=GSM_CHOSEN, text=_(say.GSM_OPTION))],
        ),
    )


def _count_blocks(text: str) -> list[dict[str, Any]]:
    """The count of ``text``, and the choice to send it without accents where there is one."""
    blocks = [count_block(text).to_dict()]
    if without_accents(text) is not None:
        blocks.append(gsm_block().to_dict())
    return blocks


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
        *recipient_blocks(meta.file_id, meta.file_name),
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
        *_count_blocks(text),
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


def count_block(text: str, *, line: str | None = None) -> ContextBlock:
    """The block showing the live count of ``text`` (or ``line`` in its place)."""
    shown = count_text(text) if line is None else line
    return ContextBlock(block_id=COUNT, elements=[MarkdownTextObject(text=shown)])


def with_count(view: Mapping[str, Any], text: str) -> dict[str, Any]:
    """``view`` as Slack sent it, ready for ``views.update`` with the count of ``text``.

    The count changes, and the choice to send without accents comes or goes with the text;
    every input keeps its ids, so Slack keeps what was typed (and whether the choice is ticked).
    """
    return _with_count_blocks(view, _count_blocks(text))


def with_note(view: Mapping[str, Any], note: str) -> dict[str, Any]:
    """``view`` as Slack sent it with ``note`` where the count is; every input kept."""
    blocks = [count_block("", line=note).to_dict()]
    if any(block.get("block_id") == GSM for block in view.get("blocks", [])):
        blocks.append(gsm_block().to_dict())
    return _with_count_blocks(view, blocks)


def _with_count_blocks(view: Mapping[str, Any], counted: list[dict[str, Any]]) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    for block in view.get("blocks", []):
        if block.get("block_id") == COUNT:
            blocks += counted
        elif block.get("block_id") != GSM:
            blocks.append(dict(block))
    keep = ("type", "callback_id", "title", "submit", "close", "private_metadata")
    return {key: view[key] for key in keep if key in view} | {"blocks": blocks}


def with_template(view: Mapping[str, Any], text: str) -> dict[str, Any]:
    """``view`` with the message set to a template's ``text`` and one input per placeholder.

    The message block gets a new id (so Slack shows ``text``); the other inputs keep theirs.
    A template saved before today's limits (too long, too many placeholders) is not filled in:
    the count line says why, and the view stays within Slack's limits.
    """
    problem = body_problem(text)
    if problem is not None:
        return with_note(view, say.template_unusable(problem))
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
        if block_id.startswith(PLACEHOLDER_PREFIX) or block_id == GSM:
            continue
        if is_text_block(block_id):
            element = {**block["element"], "initial_value": text[:_MAX_INPUT]}
            blocks.append({**block, "block_id": f"{TEXT}{_VERSION}{version}", "element": element})
        elif block_id == COUNT:
            blocks += _count_blocks(text)
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
