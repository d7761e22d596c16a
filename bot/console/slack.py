"""The console's stand-in for Slack's Web API: what the bot posts, printed for a terminal.

A post prints whole the first time; each edit of it prints one line with what changed (its
status, its cost), and a thread reply prints as one line under it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from aiohttp import web

from bot.console.text import EMOJI, render_blocks
from handlers.campaign_preview import CANCEL_ACTION, CONFIRM_ACTION
from handlers.i18n import gettext as _
from storage.records import SmsRecord

#: Finds the SMS a channel post is about, by channel and ts.
FindSms = Callable[[str, str], Awaitable[SmsRecord | None]]
#: How a thread reply is marked: it belongs to the post above.
THREAD_MARK = "↳ "
#: The buttons of a send to many's preview: confirm it, or cancel it.
PREVIEW_ACTIONS = (CONFIRM_ACTION, CANCEL_ACTION)
#: How many of a number's last digits the one-line edits show.
_NUMBER_END = 4


@dataclass
class ConsoleSlack:
    """A stand-in for Slack's Web API and response URLs that prints what the bot posts."""

    out: TextIO
    #: How people are named where the bot mentions them, by Slack user id (Slack shows names).
    names: dict[str, str] = field(default_factory=dict)
    #: Finds the SMS a post is about; set once the bot's database is open.
    find_sms: FindSms | None = None
    #: Each post as last shown, by ts.
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_buttons: dict[str, str] = field(default_factory=dict)
    #: How many whole messages it has shown (posts, replies only the user sees): what answers a
    #: command. A line about a message already shown (an edit, a thread reply) answers none:
    #: delivery tracking prints them whenever they come, between one command and its answer too.
    shown: int = 0
    _news: asyncio.Event = field(default_factory=asyncio.Event)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    #: The modal the bot opened and the console has not filled yet (views.open, views.update).
    open_view: dict[str, Any] | None = None
    #: How many modals the bot has opened (an empty ack followed by a modal needs no more waiting).
    opened: int = 0
    #: True after a whole message was printed: the next one-line print starts apart from it.
    _after_block: bool = False
    #: The buttons of the last preview of a send to many, by action id, with their values and
    #: labels; cleared once pressed.
    preview_buttons: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: Files given by path (a CSV where Slack takes a file), by id: their names and bytes.
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    def add_file(self, name: str, data: bytes) -> str:
        """Keep a file read from disk as Slack keeps an upload; its id, for ``files.info``."""
        file_id = f"FCONSOLE{len(self.files) + 1}"
        self.files[file_id] = (name, data)
        return file_id

    def make_app(self) -> web.Application:
        """The aiohttp application serving ``/api/<method>`` and ``/response/<id>``."""
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        # slack_sdk sends a few methods as GET (files.info)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/response/{id}", self._response)
        app.router.add_get("/files/{id}", self._file)
        return app

    def render(self, body: dict[str, Any]) -> list[str]:
        """A message's lines as the terminal shows them (Block Kit, else its text)."""
        blocks = _blocks(body)
        for block in blocks:
            if block.get("type") == "actions":
                for element in block.get("elements", []):
                    action = str(element.get("action_id", ""))
                    if action in PREVIEW_ACTIONS:
                        label = str((element.get("text") or {}).get("text", ""))
                        self.preview_buttons[action] = (str(element.get("value", "")), label)
                        continue
                    label = "next" if "next" in action else "previous"
                    self.last_buttons[label] = element.get("value", "")
        lines = render_blocks(blocks, str(body.get("text", "")), names=self.names)
        encoding = getattr(self.out, "encoding", None) or "utf-8"
        return [printable(line, encoding) for line in lines]

    def show(self, title: str, body: dict[str, Any]) -> None:
        """Print one message the bot posted, whole, under a heading."""
        lines = self.render(body)
        self.out.write(f"\n── {title} " + "─" * max(0, 60 - len(title)) + "\n")
        self.out.write("\n".join(lines) + "\n")
        self._after_block = True
        self.shown += 1
        self._told()

    def say(self, line: str) -> None:
        """Print one line about a message already shown (an edit, a thread reply)."""
        encoding = getattr(self.out, "encoding", None) or "utf-8"
        self.out.write(("\n" if self._after_block else "") + printable(line, encoding) + "\n")
        self._after_block = False
        self._told()

    def _told(self) -> None:
        self.out.flush()
        self._news.set()

    async def wait_beyond(self, shown: int, opened: int, timeout: float) -> None:  # noqa: ASYNC109
        """Wait for more than ``shown`` messages or ``opened`` modals, or ``timeout`` seconds."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self.shown <= shown and self.opened == opened:
                    self._news.clear()
                    await self._news.wait()

    async def _api(self, request: web.Request) -> web.Response:  # noqa: PLR0911  # one answer per method
        method = request.match_info["method"]
        if request.content_type == "application/json":
            params = await request.json()
        else:
            params = dict(request.query) | dict(await request.post())
        if method == "files.info":
            return web.json_response(self._file_info(request, str(params.get("file", ""))))
        if method == "auth.test":
            return web.json_response(
                {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "TCONSOLE"}
            )
        if method == "chat.postMessage":
            return self._posted(params)
        if method in ("views.open", "views.update"):
            return web.json_response({"ok": True, "view": self._view(method, params)})
        if method == "chat.postEphemeral":
            self.show(_("reply (only you see this)"), params)
            return web.json_response({"ok": True})
        if method == "chat.update":
            await self._updated(params)
            return web.json_response(
                {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
            )
        return web.json_response({"ok": True})

    def _posted(self, params: dict[str, Any]) -> web.Response:
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        channel = params.get("channel")
        if params.get("thread_ts"):
            self.say(THREAD_MARK + " ".join(self.render(params)))
        else:
            self.messages[ts] = params
            self.show(_("bot posted in #%(channel)s") % {"channel": channel}, params)
        return web.json_response({"ok": True, "channel": channel, "ts": ts})

    async def _updated(self, params: dict[str, Any]) -> None:
        """Print what an edit changed in one line; a post not shown before prints whole."""
        ts, channel = str(params.get("ts")), str(params.get("channel"))
        before = self.messages.get(ts)
        self.messages[ts] = params
        if before is None:  # posted before this console started: the reader never saw it
            self.show(_("bot updated its message in #%(channel)s") % {"channel": channel}, params)
            return
        changes = [part for part in _parts(self, params) if part not in _parts(self, before)]
        if not changes:
            return
        sms = None if self.find_sms is None else await self.find_sms(channel, ts)
        change = " · ".join(changes)
        if sms is None or sms.message_id is None:
            self.say(f"{self.render(params)[0]}: {change}")
            return
        self.say(
            _("SMS %(id)s to …%(end)s: %(change)s")
            % {"id": sms.message_id, "end": sms.recipient[-_NUMBER_END:], "change": change}
        )

    def _view(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Keep the modal the bot opened or updated; an update shows its new count."""
        view = params.get("view")
        view = json.loads(view) if isinstance(view, str) else dict(view or {})
        view |= {"id": "VCONSOLE", "hash": f"h{next(self._ts)}"}
        if method == "views.update":
            for block in view.get("blocks", []):
                if block.get("type") == "context":
                    # a count of two lines (with the count without accents) stays indented
                    shown = render_blocks([block])[0].replace("\n", "\n    ")
                    self.out.write("  " + shown + "\n")
        self.open_view = view
        if method == "views.open":
            self.opened += 1
        self._news.set()
        return view

    def _file_info(self, request: web.Request, file_id: str) -> dict[str, Any]:
        if file_id not in self.files:
            return {"ok": False, "error": "file_not_found"}
        name, data = self.files[file_id]
        url = f"{request.url.origin()}/files/{file_id}"
        csv = name.lower().endswith(".csv")
        info = {"id": file_id, "name": name, "size": len(data), "url_private": url}
        return {"ok": True, "file": info | {"filetype": "csv" if csv else "binary"}}

    async def _file(self, request: web.Request) -> web.Response:
        found = self.files.get(request.match_info["id"])
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found[1], content_type="text/csv")

    async def _response(self, request: web.Request) -> web.Response:
        self.show(_("reply (only you see this)"), await request.json())
        return web.Response(text="ok")


def _blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = body.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


def _parts(slack: ConsoleSlack, body: dict[str, Any]) -> list[str]:
    """A post's pieces that an edit can change: each field's value, each piece of small print."""
    parts: list[str] = []
    for block in _blocks(body):
        if block.get("type") == "section" and "fields" in block:
            for item in block["fields"]:
                rendered = render_blocks([{"type": "section", "text": item}], names=slack.names)
                parts.append(" ".join(rendered[1:]) or rendered[0])
        elif block.get("type") == "context":
            for line in render_blocks([block], names=slack.names):
                parts.extend(piece.strip() for piece in line.split(" · "))
    return parts


def printable(line: str, encoding: str) -> str:
    """``line``, with emoji turned back into :shortcodes: when the terminal cannot show them."""
    try:
        line.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        for name, emoji in EMOJI.items():
            line = line.replace(emoji, f":{name}:")
        return line.encode(encoding, errors="replace").decode(encoding)
    return line
