"""The compose modal's recipients: one number, many numbers, or a CSV file (pure).

One number and no file is a single send, read exactly as before. Two or more numbers (one per
line or separated by commas) or a file make a send to many (:class:`ManyRecipients`), whose
recipients the campaign service reads once the modal has closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
)

from bot.sms.sending.recipients import split_list
from handlers.i18n import gettext as _
from handlers.phone import PhoneNumberError, parse_phone
from handlers.views import compose_text as say
from handlers.views.compose_fields import Fields, action_id

PHONE = "sms_phone"
#: The CSV file input (a send to many).
FILE = "sms_file"
#: The note naming a file chosen before the modal opened (the message shortcut's).
FILE_NOTE = "sms_file_note"

#: Slack's limit on a plain-text input.
_MAX_INPUT = 3000


@dataclass(frozen=True, slots=True)
class ManyRecipients:
    """A send to many: the typed list (``typed``), or a CSV file's id (and name when known)."""

    typed: str | None = None
    file_id: str | None = None
    file_name: str | None = None


def recipient_blocks(file_id: str | None, file_name: str | None) -> list[dict[str, Any]]:
    """The numbers (one, or many: one per line or comma-separated) and the optional CSV file.

    Both are optional for Slack: with a file the numbers may stay empty, and the submission
    says when neither is given. A file chosen before the modal opened (``file_id``) is named
    under the file input, which Slack cannot start with a file in it.
    """
    blocks: list[dict[str, Any]] = [
        InputBlock(
            block_id=PHONE,
            label=_(say.PHONE_LABEL),
            optional=True,
            hint=_(say.PHONE_HINT),
            element=PlainTextInputElement(
                action_id=action_id(PHONE),
                placeholder=_(say.PHONE_PLACEHOLDER),
                multiline=True,
                max_length=_MAX_INPUT,
            ),
        ).to_dict(),
        {
            "type": "input",
            "block_id": FILE,
            "optional": True,
            "label": {"type": "plain_text", "text": _(say.FILE_LABEL)},
            "hint": {"type": "plain_text", "text": _(say.FILE_HINT)},
            "element": {
                "type": "file_input",
                "action_id": action_id(FILE),
                "filetypes": ["csv"],
                "max_files": 1,
            },
        },
    ]
    if file_id is not None:
        note = say.file_chosen(file_name or file_id)
        blocks.append(
            ContextBlock(block_id=FILE_NOTE, elements=[MarkdownTextObject(text=note)]).to_dict()
        )
    return blocks


def read_recipients(
    fields: Fields,
    *,
    chosen_id: str | None,
    chosen_name: str | None,
    region: str,
    errors: dict[str, str],
) -> str | ManyRecipients | None:
    """The one number to send to, or a send to many, or ``None`` with an error in ``errors``.

    ``chosen_id``/``chosen_name`` are a file chosen before the modal opened; a file chosen in
    the form comes first.
    """
    typed = fields.typed(PHONE)
    picked = fields.file_id(FILE)
    file_id, name = (picked, None) if picked is not None else (chosen_id, chosen_name)
    items = split_list(typed)
    if FILE in errors:  # unreadable: said so
        return None
    if file_id is not None:
        if items:
            errors[PHONE] = _(say.NUMBERS_AND_FILE)
            return None
        return ManyRecipients(file_id=file_id, file_name=name)
    if len(items) > 1:
        return ManyRecipients(typed=typed)
    # one number, perhaps with a stray comma or line break: read as a single send reads it
    return _read_phone(items[0] if items else typed, region, errors)


def _read_phone(typed: str, region: str, errors: dict[str, str]) -> str | None:
    if not typed.strip():
        errors.setdefault(PHONE, _(say.PHONE_OR_FILE_EMPTY))  # an unreadable one was said so
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
