"""The shapes of the interactivity payloads smsbot takes, checked before Bolt reads them.

Bolt builds its context (team, user, channel) from fields it trusts to be what Slack sends: a
``team`` that is a number, an empty ``actions`` list or a ``user.id`` that is an object raised
exceptions deep inside it (HTTP 500 with a traceback), and an id that is not a string carried
whatever it held into every log line of the request. Each payload type has one schema below;
:func:`check_payload` refuses a payload that does not fit it, naming the field (never its value).

Only the fields Bolt or a listener reads are described; others Slack adds are left alone. What a
person typed in a modal (``view.state.values``) is only required to be objects here: reading each
field is the modal's job, which answers a field it cannot read with an error on that field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["PAYLOAD_TYPES", "PayloadShapeError", "check_command", "check_payload"]


class PayloadShapeError(ValueError):
    """A payload field has the wrong shape; the text names the field in general terms."""


#: Checks a value found at a path (``user.id``); raises :class:`PayloadShapeError`.
Check = Callable[[object, str], None]


def _text(pattern: str | None = None, *, what: str = "a string", most: int = 3000) -> Check:
    """A string of at most ``most`` characters, matching ``pattern`` whole when given."""
    form = re.compile(pattern) if pattern else None

    def check(value: object, path: str) -> None:
        if not isinstance(value, str) or len(value) > most:
            raise PayloadShapeError(f"{path} is not {what}")
        if form is not None and not form.fullmatch(value):
            raise PayloadShapeError(f"{path} is not {what}")

    return check


def _flag(value: object, path: str) -> None:
    if not isinstance(value, bool):
        raise PayloadShapeError(f"{path} is not true or false")


class _Optional:
    """A field that may be missing or null; when present, ``check`` applies."""

    def __init__(self, check: Check) -> None:
        self.check = check


def optional(check: Check) -> _Optional:
    """Mark an object's field as optional (missing or null)."""
    return _Optional(check)


#: A field no payload of the type carries (Bolt would look for ids inside it).
ABSENT = _Optional(_flag)


def _object(fields: Mapping[str, Check | _Optional]) -> Check:
    """An object whose named fields fit their checks; any other field is left alone."""

    def check(value: object, path: str) -> None:
        if not isinstance(value, dict):
            raise PayloadShapeError(f"{path or 'the payload'} is not an object")
        for name, field in fields.items():
            at = f"{path}.{name}" if path else name
            found = value.get(name)
            if field is ABSENT:
                if name in value:
                    raise PayloadShapeError(f"{at} is unexpected")
            elif isinstance(field, _Optional):
                if found is not None:
                    field.check(found, at)
            elif found is None:
                raise PayloadShapeError(f"{at} is missing")
            else:
                field(found, at)

    return check


def _items(item: Check, *, least: int, most: int) -> Check:
    """A list of ``least`` to ``most`` items, each fitting ``item``."""

    def check(value: object, path: str) -> None:
        if not isinstance(value, list) or not least <= len(value) <= most:
            raise PayloadShapeError(f"{path} is not a list of {least} to {most} items")
        for each in value:
            item(each, f"{path}[]")

    return check


def _mapping(item: Check, *, most: int = 100) -> Check:
    """An object of at most ``most`` fields with any names, each value fitting ``item``."""

    def check(value: object, path: str) -> None:
        if not isinstance(value, dict) or len(value) > most:
            raise PayloadShapeError(f"{path} is not an object of at most {most} fields")
        for each in value.values():
            item(each, f"{path}.*")

    return check


# Slack's ids: a capital letter naming the kind, then capitals and digits.
USER_ID = _text(r"[UW][A-Z0-9]{1,31}", what="a user id")
TEAM_ID = _text(r"[TE][A-Z0-9]{1,31}", what="a team id")
ENTERPRISE_ID = _text(r"E[A-Z0-9]{1,31}", what="an enterprise id")
CHANNEL_ID = _text(r"[CGD][A-Z0-9]{1,31}", what="a channel id")
VIEW_ID = _text(r"V[A-Z0-9]{1,31}", what="a view id")
APP_ID = _text(r"A[A-Z0-9]{1,31}", what="an app id")
#: ``12345.98765.abcd…`` (Slack), ``console.1700000000`` (the console): dotted ASCII words.
TRIGGER_ID = _text(r"[A-Za-z0-9_-]{1,40}(?:\.[A-Za-z0-9_-]{1,64}){1,3}", what="a trigger id")
#: A message timestamp: ``1700000000.000001``.
TS = _text(r"\d{1,12}\.\d{1,8}", what="a message timestamp")
URL = _text(r"https?://\S+", what="a URL", most=2000)
#: A callback, action or block id: Slack's limit is 255 characters.
NAME = _text(what="a name of at most 255 characters", most=255)
#: What a person typed or chose: Slack's inputs hold at most 3000 characters.
VALUE = _text(what="a string of at most 3000 characters")

_TEAM = _object({"id": TEAM_ID, "enterprise_id": optional(ENTERPRISE_ID)})
_USER = _object(
    {
        "id": USER_ID,
        "team_id": optional(TEAM_ID),
        "name": optional(NAME),
        "username": optional(NAME),
    }
)
_CHANNEL = _object({"id": CHANNEL_ID, "name": optional(NAME)})


def _enterprise(value: object, path: str) -> None:
    """Bolt takes ``enterprise`` as an id or an object holding one."""
    if isinstance(value, str):
        ENTERPRISE_ID(value, path)
    else:
        _object({"id": optional(ENTERPRISE_ID)})(value, path)


#: Fields Bolt reads ids from in any payload (``context``): each, when present, has this shape.
_COMMON: dict[str, Check | _Optional] = {
    "team": optional(_TEAM),
    "user": _USER,
    "enterprise": optional(_enterprise),
    "is_enterprise_install": optional(_flag),
    "authorizations": optional(
        _items(
            _object(
                {
                    "enterprise_id": optional(ENTERPRISE_ID),
                    "team_id": optional(TEAM_ID),
                    "user_id": optional(USER_ID),
                    "is_enterprise_install": optional(_flag),
                }
            ),
            least=0,
            most=10,
        )
    ),
    "enterprise_id": optional(ENTERPRISE_ID),
    "team_id": optional(TEAM_ID),
    "user_id": optional(USER_ID),
    "channel_id": optional(CHANNEL_ID),
    "channel": optional(_CHANNEL),
    "api_app_id": optional(APP_ID),
    "trigger_id": optional(TRIGGER_ID),
    "thread_ts": optional(TS),
    "response_url": optional(URL),
    "response_urls": optional(
        _items(
            _object(
                {
                    "response_url": URL,
                    "channel_id": optional(CHANNEL_ID),
                    "block_id": optional(NAME),
                }
            ),
            least=0,
            most=10,
        )
    ),
    "message": optional(_object({"text": optional(_text(most=40_000)), "thread_ts": optional(TS)})),
    # Bolt looks for ids inside these when the payload's own are missing; none of ours has them
    "event": ABSENT,
    "item": ABSENT,
    "assistant_thread": ABSENT,
    "previous_message": ABSENT,
    "function_data": ABSENT,
    "function_execution_id": ABSENT,
    "bot_access_token": ABSENT,
    "workflow_step": ABSENT,
}

_BLOCK = _object({"block_id": optional(NAME), "type": optional(NAME)})
#: ``view.state.values``: block id → action id → the element's state (read field by field).
_VALUES = _mapping(_mapping(_object({"type": optional(NAME)}), most=10))
_STATE = _object({"values": _VALUES})


_MODAL = _text("modal", what="a modal")


def _view(*, submitted: bool) -> Check:
    """A modal as a payload carries it; a submission's holds its callback id and state."""
    return _object(
        {
            "id": VIEW_ID,
            # smsbot opens modals alone; Bolt reads the type unguarded (a workflow step's too)
            "type": _MODAL,
            "callback_id": NAME if submitted else optional(NAME),
            "hash": optional(NAME),
            "private_metadata": optional(VALUE),
            "team_id": optional(TEAM_ID),
            "app_installed_team_id": optional(TEAM_ID),
            "blocks": optional(_items(_BLOCK, least=0, most=100)),
            "state": _STATE if submitted else optional(_STATE),
        }
    )


_ACTION = _object(
    {
        "action_id": NAME,
        "block_id": optional(NAME),
        "type": optional(NAME),
        "value": optional(VALUE),
        "selected_option": optional(_object({"value": VALUE})),
        "action_ts": optional(TS),
    }
)

#: Every payload type smsbot takes, and the fields each must have besides the common ones.
PAYLOAD_TYPES: dict[str, dict[str, Check | _Optional]] = {
    "block_actions": {
        "actions": _items(_ACTION, least=1, most=10),
        "view": optional(_view(submitted=False)),
    },
    "view_submission": {"view": _view(submitted=True)},
    "view_closed": {"view": _view(submitted=False), "is_cleared": optional(_flag)},
    "shortcut": {"callback_id": NAME, "trigger_id": TRIGGER_ID},
    "message_action": {
        "callback_id": NAME,
        "trigger_id": TRIGGER_ID,
        "channel": _CHANNEL,
        "message": _object({"text": optional(_text(most=40_000)), "ts": optional(TS)}),
    },
    "block_suggestion": {
        "action_id": NAME,
        "block_id": NAME,
        "value": VALUE,
        "view": optional(_view(submitted=False)),
    },
}

_SCHEMAS = {kind: _object({**_COMMON, **fields}) for kind, fields in PAYLOAD_TYPES.items()}


def check_payload(payload: Mapping[str, Any]) -> None:
    """Raise :class:`PayloadShapeError` unless ``payload`` fits its type's schema."""
    kind = payload.get("type")
    if not isinstance(kind, str) or kind not in _SCHEMAS:
        raise PayloadShapeError("the payload's type is missing or not one smsbot takes")
    try:
        _SCHEMAS[kind](payload, "")
    except PayloadShapeError as err:
        raise PayloadShapeError(f"the {kind} payload's {err}") from None


_COMMAND = _object(
    {
        "user_id": USER_ID,
        "channel_id": CHANNEL_ID,
        "team_id": optional(TEAM_ID),
        "enterprise_id": optional(ENTERPRISE_ID),
        "api_app_id": optional(APP_ID),
        "trigger_id": optional(TRIGGER_ID),
        # every command's answer after the ack goes there: Slack always sends one
        "response_url": URL,
    }
)


def check_command(body: Mapping[str, Any]) -> None:
    """Raise :class:`PayloadShapeError` unless a slash command's ids are of Slack's forms."""
    try:
        _COMMAND(dict(body), "")
    except PayloadShapeError as err:
        raise PayloadShapeError(f"the command's {err}") from None
