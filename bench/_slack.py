"""A FakeSlack that also records which posts it accepted, and when (for drain and latency)."""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from _common import FakeSlack
from aiohttp import web

#: Which caller the request being answered came through (``/via/<name>/api/…``), or "".
_VIA: ContextVar[str] = ContextVar("via", default="")


@dataclass(frozen=True, slots=True)
class Accepted:
    """One ``chat.update`` or ``chat.postMessage`` that Slack accepted (``ok: true``)."""

    method: str
    channel: str
    ts: str  # the message updated, or the thread replied to ("" for a top-level post)
    at: float  # time.monotonic() in this process
    via: str = ""  # the caller's name, when it called through ``api_url(via=…)``


@dataclass
class RecordingSlack(FakeSlack):
    """FakeSlack plus :attr:`accepted`; pacing and 429s as in FakeSlack.

    Several callers (replicas) can each be given an API URL of their own (:meth:`api_url`), so
    every accepted post says which of them made it; the fake is one Slack for all of them.
    """

    accepted: list[Accepted] = field(default_factory=list)
    #: The posts answered 429 by the per-channel pacing: (channel, time.monotonic(), caller).
    refused: list[tuple[str, float, str]] = field(default_factory=list)

    def api_url(self, via: str) -> str:
        """A ``SLACK_API_URL`` whose calls are this fake's, each accepted post marked ``via``."""
        return f"{self.url}via/{via}/api/"

    def make_app(self) -> web.Application:
        """FakeSlack's application, also served under ``/via/<name>/``."""
        app = super().make_app()

        async def api_via(request: web.Request) -> web.Response:
            token = _VIA.set(request.match_info["via"])
            try:
                return await self._api(request)
            finally:
                _VIA.reset(token)

        app.router.add_post("/via/{via}/api/{method}", api_via)
        app.router.add_get("/via/{via}/api/{method}", api_via)
        return app

    def _paced(self, channel: str) -> dict[str, Any] | None:
        result = super()._paced(channel)
        if result is not None:
            self.refused.append((channel, time.monotonic(), _VIA.get()))
        return result

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        result = super()._chat_update(params)
        if result.get("ok"):
            channel, ts = str(params.get("channel", "")), str(params.get("ts", ""))
            self.accepted.append(Accepted("chat.update", channel, ts, time.monotonic(), _VIA.get()))
        return result

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        result = super()._chat_postMessage(params)
        if result.get("ok"):
            channel, ts = str(params.get("channel", "")), str(params.get("thread_ts") or "")
            self.accepted.append(
                Accepted("chat.postMessage", channel, ts, time.monotonic(), _VIA.get())
            )
        return result

    def add_message(self, channel: str, ts: str, text: str) -> None:
        """Pretend the bot already posted ``text`` at ``(channel, ts)`` (so it can be updated)."""
        self.messages[channel, ts] = {"channel": channel, "text": text}

    def first_accepted(self, method: str) -> dict[str, float]:
        """Earliest accepted time per message ts: its update, or the first reply in its thread."""
        found: dict[str, float] = {}
        for post in self.accepted:
            if post.method == method and post.ts:
                found.setdefault(post.ts, post.at)
        return found

    def count_accepted(self, method: str) -> dict[str, int]:
        """How many accepted posts per message ts (updates, or replies in its thread)."""
        counts: dict[str, int] = {}
        for post in self.accepted:
            if post.method == method and post.ts:
                counts[post.ts] = counts.get(post.ts, 0) + 1
        return counts
