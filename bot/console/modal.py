"""Modals in ``smsbot console``: a view rendered as text, its inputs filled at prompts.

The console has no Slack client to draw a modal, so each input block becomes one question; the
answers become the view's ``state.values`` exactly as Slack sends them in a ``view_submission``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO
from urllib.parse import urlencode

from handlers import formats
from handlers.grammar.lexing import match_date_time, to_datetime
from handlers.grammar.usage import UsageError
from handlers.grammar.words import Words
from handlers.i18n import gettext as _
from handlers.mrkdwn import unmarked
from handlers.slack_files import MAX_BYTES
from handlers.views import compose, compose_submission

if TYPE_CHECKING:
    from bot.process.settings import Settings

#: The console's own words, in every language smsbot speaks (as the ``/sms`` grammar's are;
#: a test checks each language of the catalogue has them): each spelling and its meaning.
CONSOLE_WORDS = Words(
    {
        "en": {
            "quit": "quit",
            "exit": "quit",
            "next": "next",
            "previous": "previous",
            "prev": "previous",
            "cancel": "cancel",
            "yes": "yes",
            "y": "yes",
            "no": "no",
            "n": "no",
        },
        "pt": {
            "sair": "quit",
            "próxima": "next",
            "proxima": "next",
            "anterior": "previous",
            "cancelar": "cancel",
            "sim": "yes",
            "s": "yes",
            "não": "no",
            "nao": "no",
            "n": "no",
        },
    }
)
#: Typed at a field's prompt to close the modal without submitting it (in any language); the
#: console's own ``quit`` words do the same there, rather than being taken as a field's value.
CANCEL_MEANINGS = frozenset({"cancel", "quit"})


class FormInterruptedError(Exception):
    """Ctrl-C at a field's prompt: the form closes, the console goes on."""


Ask = Callable[[str], Awaitable[str | None]]


def _text(node: object) -> str:
    return unmarked(str(node.get("text", "")) if isinstance(node, dict) else str(node or ""))


def _skippable(block: dict[str, Any]) -> bool:
    """True for an optional field; not the number, which left empty asks for a CSV file."""
    return bool(block.get("optional")) and block.get("block_id") != compose.PHONE


def render_view(view: dict[str, Any]) -> list[str]:
    """The view's title, then one line per block: inputs with their label, context as text."""
    lines = [f"[{_text(view.get('title'))}]"]
    for block in view.get("blocks", []):
        kind = block.get("type")
        if kind == "input":
            optional = " " + _("(optional)") if _skippable(block) else ""
            lines.append(f"• {_text(block.get('label'))}{optional}")
        elif kind == "context":
            lines.extend("  " + _text(e) for e in block.get("elements", []))
    return lines


def field_prompt(block: dict[str, Any], zone_name: str) -> str:
    """The question asked for one input block."""
    element = block.get("element", {})
    label = _text(block.get("label"))
    kind = element.get("type")
    extra = ""
    if kind == "static_select":
        # the choices in words: "[SMSBOT]" alone read as a default the Enter key would take
        names = ", ".join(str(o.get("value")) for o in element.get("options", []))
        extra = " (" + _("one of: %(names)s") % {"names": names} + ")"
    elif kind == "checkboxes":
        # each choice by its words, answered yes or no: "Send without accents: yes/no"
        names = ", ".join(_text(o.get("text")) for o in element.get("options", []))
        extra = f" ({names}: {CONSOLE_WORDS.word('yes')}/{CONSOLE_WORDS.word('no')})"
    elif kind == "datetimepicker":
        # how a date and time is typed in the reader's language (pt-BR: day first)
        typed_like = _("YYYY-MM-DD HH:MM")
        extra = f" [{typed_like}, {zone_name}]"
    elif kind == "file_input":
        # where Slack takes a file, the console takes a path
        extra = " (" + _("a path on this computer") + ")"
    elif kind == "conversations_select" and element.get("initial_conversation"):
        default = _("default %(channel)s") % {"channel": element["initial_conversation"]}
        extra = f" [{default}]"
    optional = _(" (Enter to skip)") if _skippable(block) and kind != "file_input" else ""
    return f"{label}{extra}{optional}: "


def element_value(  # noqa: PLR0911  # one answer per element type and case
    element: dict[str, Any], typed: str, zone: tzinfo
) -> dict[str, Any] | str:
    """The state Slack would send for ``typed`` in ``element``, or why it cannot be read."""
    kind = element.get("type")
    if kind == "static_select":
        if not typed:
            return {"type": kind, "selected_option": None}
        values = [str(o.get("value")) for o in element.get("options", [])]
        if typed not in values:
            return _("Choose one of %(values)s.") % {"values": ", ".join(values)}
        return {"type": kind, "selected_option": {"value": typed}}
    if kind == "checkboxes":
        return _ticked(element, typed)
    if kind == "datetimepicker":
        if not typed:
            return {"type": kind, "selected_date_time": None}
        try:
            match = match_date_time(typed, "", example="2026-12-01 14:30")
            if match is None or match["H"] is None:
                return _("Write the date and time like 2026-12-01 14:30.")
            moment = to_datetime(match, typed, "").replace(tzinfo=zone)
        except UsageError as error:
            return error.sentence
        return {"type": kind, "selected_date_time": int(moment.timestamp())}
    if kind == "conversations_select":
        chosen = typed or element.get("initial_conversation")
        return {"type": kind, "selected_conversation": chosen}
    # plain text; "\n" typed stands for a line break
    return {"type": "plain_text_input", "value": typed.replace("\\n", "\n") or None}


def _ticked(element: dict[str, Any], typed: str) -> dict[str, Any] | str:
    """A checkbox group answered yes (every choice ticked) or no (Enter: none)."""
    answer = CONSOLE_WORDS.meaning(typed) if typed else "no"
    if answer not in {"yes", "no"}:
        return _("Answer %(yes)s or %(no)s.") % {
            "yes": CONSOLE_WORDS.word("yes"),
            "no": CONSOLE_WORDS.word("no"),
        }
    chosen = element.get("options", []) if answer == "yes" else []
    return {"type": "checkboxes", "selected_options": list(chosen)}


def field_problem(
    view: dict[str, Any],
    values: dict[str, dict[str, Any]],
    block_id: str,
    *,
    default_region: str,
    now: datetime,
) -> str | None:
    """What the compose modal's own rules say against one field filled so far, if anything.

    The fields not asked yet are read as empty: only ``block_id``'s sentence counts.
    """
    if view.get("callback_id") != compose.CALLBACK_ID:
        return None
    read = compose_submission.read_submission(
        {**view, "state": {"values": values}}, default_region=default_region, now=now
    )
    return read.get(block_id) if isinstance(read, dict) else None


def _has_file_input(view: dict[str, Any]) -> bool:
    return any(b.get("element", {}).get("type") == "file_input" for b in _inputs(view))


def action_of(block: dict[str, Any]) -> str:
    """The action id of an input block's element."""
    return str(block.get("element", {}).get("action_id", ""))


def _inputs(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in view.get("blocks", []) if b.get("type") == "input"]


def _next_field(
    view: dict[str, Any],
    values: dict[str, dict[str, Any]],
    errors: dict[str, str],
    asked: set[str],
) -> dict[str, Any] | None:
    """The next input to ask this round: one not answered yet, or one the bot refused.

    The CSV file is asked only when no number was given.
    """
    for block in _inputs(view):
        block_id = str(block.get("block_id"))
        if block_id == compose.FILE and values.get(compose.PHONE, {}).get(
            compose.action_id(compose.PHONE), {}
        ).get("value"):
            continue
        if block_id not in asked and (block_id not in values or block_id in errors):
            return block
    return None


class _OpenView(Protocol):
    """The console's Slack stand-in, as the modal sees it: the view the bot opened."""

    open_view: dict[str, Any] | None
    #: How many messages it has shown.
    shown: int

    def add_file(self, name: str, data: bytes) -> str:
        """Keep a file given by path as Slack keeps an upload; its id."""
        ...


class ModalFilling:
    """The console's side of a modal: show it, ask each field, submit it as Slack would.

    Mixed into the console, which provides the attributes and the two methods below.
    """

    if TYPE_CHECKING:
        settings: Settings
        slack: _OpenView
        out: TextIO
        user_id: str

        async def _post(self, raw: str) -> tuple[int, str]: ...

        async def _finish(self) -> None: ...

        async def _answered(self, shown: int, opened: int | None = None) -> None: ...

    async def fill_modal(self, ask: Ask) -> None:
        """Show the modal the bot opened, ask for each field, and submit it as Slack would."""
        view = self.slack.open_view
        if view is None:
            return
        self.out.write("\n".join(render_view(view)) + "\n")
        values: dict[str, dict[str, Any]] = {}
        errors: dict[str, str] = {}
        while True:
            asked: set[str] = set()
            # the view is read again after each answer: typing may add a field (or take one)
            while (block := _next_field(view, values, errors, asked)) is not None:
                block_id = str(block.get("block_id"))
                asked.add(block_id)
                if block_id in errors:
                    self.out.write(f"  ⚠️ {unmarked(errors[block_id])}\n")
                value = await self._ask_field(view, values, block, ask)
                if value is None:
                    self.slack.open_view = None
                    self.out.write(_("(the form was closed without sending)") + "\n")
                    return
                values[block_id] = {action_of(block): value}
                if block.get("dispatch_action") and value.get("value"):
                    await self._typed(view, block, str(value["value"]))
                    view = self.slack.open_view or view
            shown = self.slack.shown
            present = {str(b.get("block_id")) for b in _inputs(view)}
            # as Slack does, only the fields the view still shows are submitted
            errors = await self._submit(view, {k: v for k, v in values.items() if k in present})
            if not errors:
                self.slack.open_view = None
                await self._answered(shown)  # the send's post, or why it was not sent
                return

    async def _ask_field(
        self,
        view: dict[str, Any],
        values: dict[str, dict[str, Any]],
        block: dict[str, Any],
        ask: Ask,
    ) -> dict[str, Any] | None:
        """Ask for one field until the form's rules take it; ``None`` when the form is left."""
        zone = self.settings.mobizon_timezone
        zone_name = formats.zone_name(zone)
        while True:
            try:
                typed = await ask(field_prompt(block, zone_name))
            except FormInterruptedError:
                return None
            if typed is None or CONSOLE_WORDS.meaning(typed.strip()) in CANCEL_MEANINGS:
                return None
            block_id = str(block.get("block_id"))
            if block_id == compose.PHONE and not typed.strip() and _has_file_input(view):
                return {"type": "plain_text_input", "value": None}  # the CSV file is asked next
            if block.get("element", {}).get("type") == "file_input":
                chosen = self._file_value(view, values, typed.strip())
                if not isinstance(chosen, str):
                    return chosen
                self.out.write(f"  {unmarked(chosen)}\n")
                continue
            value = element_value(block["element"], typed.strip(), zone)
            if not isinstance(value, str):
                filled = {**values, block_id: {action_of(block): value}}
                problem = field_problem(
                    view,
                    filled,
                    block_id,
                    default_region=self.settings.default_region,
                    now=datetime.now(zone).replace(microsecond=0),
                )
                if problem is None:
                    return value
                value = problem
            self.out.write(f"  {unmarked(value)}\n")

    def _file_value(
        self, view: dict[str, Any], values: dict[str, dict[str, Any]], typed: str
    ) -> dict[str, Any] | str:
        """The file input's state for the CSV file at path ``typed``, or why it cannot be had."""
        if not typed:
            # no number and no file: the form's own sentence says what it needs
            problem = field_problem(
                view,
                values,
                compose.PHONE,
                default_region=self.settings.default_region,
                now=datetime.now(self.settings.mobizon_timezone).replace(microsecond=0),
            )
            return problem or {"type": "file_input", "files": []}
        path = Path(typed).expanduser()
        try:
            with path.open("rb") as given:
                data = given.read(MAX_BYTES + 1)  # more is refused by the bot, as from Slack
        except OSError:
            return _("There is no file to read at %(path)s.") % {"path": typed}
        file_id = self.slack.add_file(path.name, data)
        return {"type": "file_input", "files": [{"id": file_id, "name": path.name}]}

    async def _typed(self, view: dict[str, Any], block: dict[str, Any], text: str) -> None:
        """Tell the bot what was typed in a dispatching input, as Slack does (the live count)."""
        current = self.slack.open_view or view
        action = {"type": "plain_text_input", "action_id": action_of(block)}
        payload = {
            "type": "block_actions",
            "team": {"id": "TCONSOLE"},
            "user": {"id": self.user_id},
            "view": current,
            "actions": [{**action, "block_id": block.get("block_id"), "value": text}],
        }
        await self._post(urlencode({"payload": json.dumps(payload)}))
        await self._finish()

    async def _submit(
        self, view: dict[str, Any], values: dict[str, dict[str, Any]]
    ) -> dict[str, str]:
        """Submit the modal; the errors the bot answered, by block id."""
        payload = {
            "type": "view_submission",
            "team": {"id": "TCONSOLE"},
            "user": {"id": self.user_id},
            "view": {**view, "state": {"values": values}},
        }
        status, answer = await self._post(urlencode({"payload": json.dumps(payload)}))
        if status != 200 or not answer.strip():  # noqa: PLR2004
            return {}
        body = json.loads(answer)
        return dict(body.get("errors") or {}) if body.get("response_action") == "errors" else {}
