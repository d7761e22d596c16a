"""Reading a submitted modal's fields: a value Slack could not have sent is a field error."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from handlers.i18n import gettext as _
from handlers.mrkdwn import unmarked
from handlers.views import compose_text as say

#: Each input's action id is its block id with this suffix.
_ACTION = "_input"


def action_id(block_id: str) -> str:
    """The action id of the input in block ``block_id``."""
    return block_id + _ACTION


class Fields:
    """A submitted view's ``state.values``, read field by field.

    A field whose value is not of its element's shape (a text that is not a string, a select
    without its option, a date that is not a time) gets an error on that field, never a crash.
    """

    def __init__(
        self, values: object, errors: dict[str, str], action_of: Callable[[str], str]
    ) -> None:
        self.values: Mapping[str, Any] = values if isinstance(values, dict) else {}
        self.errors = errors
        self._action_of = action_of

    def entry(self, block_id: str, action: str | None = None) -> dict[str, Any]:
        """The state of input ``action`` (by default ``action_of(block_id)``) in ``block_id``."""
        block = self.values.get(block_id)
        found = block.get(action or self._action_of(block_id)) if isinstance(block, dict) else None
        return found if isinstance(found, dict) else {}

    def typed(self, block_id: str, action: str | None = None) -> str:
        """What was typed in a text input, or the chosen option of a select ("" for nothing)."""
        entry = self.entry(block_id, action)
        if entry.get("type") in _SELECTS or "selected_option" in entry:
            value, sentence = _chosen(entry), say.CHOICE_UNREADABLE
        else:
            value, sentence = entry.get("value"), say.TYPED_UNREADABLE
        if value is None:
            return ""
        if not isinstance(value, str):
            return self._unreadable(block_id, sentence)
        # text pasted from smsbot's own posts carries the marks that kept Slack from formatting it
        return unmarked(value)

    def ticked(self, block_id: str) -> frozenset[str]:
        """The values of a checkbox group's ticked options (none when nothing is ticked)."""
        chosen = self.entry(block_id).get("selected_options")
        if chosen is None:
            return frozenset()
        if not isinstance(chosen, list) or not all(
            isinstance(option, dict) and isinstance(option.get("value"), str) for option in chosen
        ):
            self._unreadable(block_id, say.CHOICE_UNREADABLE)
            return frozenset()
        return frozenset(str(option["value"]) for option in chosen)

    def moment(self, block_id: str) -> int | None:
        """A date-time picker's Unix time, or None when nothing was picked."""
        chosen = self.entry(block_id).get("selected_date_time")
        if chosen is None:
            return None
        # a JSON number Slack's picker cannot give (1e20, -1e12, 1.5, true, "soon")
        if isinstance(chosen, bool) or not isinstance(chosen, int) or not 0 <= chosen <= _LAST:
            self._unreadable(block_id, say.CHOICE_UNREADABLE)
            return None
        return chosen

    def conversation(self, block_id: str) -> str | None:
        """A conversation picker's channel id, or None when none was picked (or unreadable)."""
        picked = self.entry(block_id).get("selected_conversation")
        if picked is None or picked == "":
            self.errors[block_id] = _(say.CHANNEL_MISSING)
            return None
        if not isinstance(picked, str) or not CONVERSATION_ID.fullmatch(picked):
            self._unreadable(block_id, say.CHOICE_UNREADABLE)
            return None
        return picked

    def file_id(self, block_id: str) -> str | None:
        """The id of the one file chosen in a file input, or None when none was."""
        files = self.entry(block_id).get("files")
        if files is None or files == []:
            return None
        first = files[0] if isinstance(files, list) else None
        found = first.get("id") if isinstance(first, dict) else None
        if not isinstance(found, str) or not FILE_ID.fullmatch(found):
            self._unreadable(block_id, say.CHOICE_UNREADABLE)
            return None
        return found

    def _unreadable(self, block_id: str, sentence: str) -> str:
        self.errors[block_id] = _(sentence)
        return ""


def _chosen(entry: Mapping[str, Any]) -> object:
    """A select's chosen value: None when nothing is chosen; not a string when unreadable."""
    if "selected_option" not in entry:
        return _UNREADABLE
    option = entry["selected_option"]
    if option is None:
        return None
    return option.get("value", _UNREADABLE) if isinstance(option, dict) else _UNREADABLE


#: What :func:`_chosen` gives for a select it cannot read.
_UNREADABLE = object()
#: Elements whose value is ``selected_option``.
_SELECTS = frozenset({"static_select", "external_select"})
#: The latest Unix time read from a picker (3000-01-01 UTC; far beyond any schedule, and any
#: zone's datetime still holds it).
_LAST = 32_503_680_000
#: A channel, private channel or direct message id.
CONVERSATION_ID = re.compile(r"[CGD][A-Z0-9]{1,31}")
#: A Slack file id.
FILE_ID = re.compile(r"F[A-Z0-9]{1,31}")
