"""A fake Slack Web API on a loopback port: records every call and answers like Slack."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from testkit.slack_files import SlackFilesToRead
from testkit.waiting import wait_until

BOT_TOKEN = "xoxb-fake-bot-token-0000"
#: The members of a channel the test did not list in ``FakeSlack.channel_members``: the tests'
#: usual sender and the bot.
DEFAULT_MEMBERS = ("U1", "UBOT")


@dataclass
class SlackCall:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    at: float


@dataclass
class FakeSlack(SlackFilesToRead):
    """Slack's Web API (``/api/<method>``) and response URLs (``/response/<id>``), recorded."""

    token: str = BOT_TOKEN
    calls: list[SlackCall] = field(default_factory=list)
    responses: list[SlackCall] = field(default_factory=list)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    not_in_channel: set[str] = field(default_factory=set)
    private_channels: set[str] = field(default_factory=set)
    deleted_channels: set[str] = field(default_factory=set)
    down: bool = False
    #: Answer every call ``invalid_auth``, as Slack does once a token is revoked.
    token_revoked: bool = False
    per_channel_interval: float | None = None
    #: The time its pacing and call records read (a test may share the notifier's clock).
    clock: Callable[[], float] = time.monotonic
    rate_limited_count: int = 0
    _failures: dict[str, list[tuple[int, str, float | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    _last_post: dict[str, float] = field(default_factory=dict)
    _ts: int = 0
    url: str = ""
    #: Methods whose successful answer is held back (the call takes effect, the caller waits).
    held: set[str] = field(default_factory=set)
    #: Open modals by view id, as views.open and views.update left them (with their hash).
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Display names users.info answers, by user id.
    user_names: dict[str, str] = field(default_factory=dict)
    #: Slack locales users.info answers with ``include_locale`` (``pt-BR``, ``en-US``), by user
    #: id; a user listed here and not in ``user_names`` is found, named by their id.
    user_locales: dict[str, str] = field(default_factory=dict)
    #: Names conversations.info answers, by channel id.
    channel_names: dict[str, str] = field(default_factory=dict)
    #: Members conversations.members answers, by channel id, in pages of its ``limit``; a channel
    #: not listed has :data:`DEFAULT_MEMBERS`. The bot sees no private channel it is not in and,
    #: without ``im:read``, no direct message.
    channel_members: dict[str, list[str]] = field(default_factory=dict)
    #: Files uploaded (``files.getUploadURLExternal``, the upload URL), by file id: ``filename``,
    #: ``length``, the ``content`` bytes, and once ``files.completeUploadExternal`` shared it,
    #: its ``title``, ``channel`` and ``thread_ts``.
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    _release: asyncio.Event = field(default_factory=asyncio.Event)

    def fail_next(self, method: str, error: str, *, times: int = 1) -> None:
        """Answer ``{"ok": false, "error": error}`` to the next ``times`` calls of ``method``."""
        self._failures[method].extend([(200, error, None)] * times)

    def rate_limit_next(self, method: str, *, retry_after: float, times: int = 1) -> None:
        """Answer HTTP 429 with ``Retry-After`` to the next ``times`` calls of ``method``."""
        self._failures[method].extend([(429, "ratelimited", retry_after)] * times)

    def clear_failures(self, method: str) -> None:
        """Forget the failures still queued for ``method`` (``fail_next``, ``rate_limit_next``)."""
        self._failures[method].clear()

    def release_held(self) -> None:
        """Stop holding answers: every held call gets its answer now, later ones at once."""
        self.held.clear()
        self._release.set()

    def called(self, method: str) -> list[SlackCall]:
        """The recorded calls of one Web API method, oldest first."""
        return [c for c in self.calls if c.method == method]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109  # a polling deadline, not a cancellation
    ) -> list[SlackCall]:
        """Wait until ``method`` was called at least ``count`` times; return its calls."""
        await wait_until(
            lambda: len(self.called(method)) >= count,
            within=timeout,
            what=f"{count} calls of {method}",
        )
        return self.called(method)

    async def wait_for_responses(
        self,
        count: int = 1,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109  # a polling deadline, not a cancellation
    ) -> list[SlackCall]:
        """Wait until ``count`` response_url posts arrived; return them."""
        await wait_until(
            lambda: len(self.responses) >= count, within=timeout, what=f"{count} response_url posts"
        )
        return self.responses

    def make_app(self) -> web.Application:
        """The aiohttp application serving the fake."""
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        # slack_sdk sends a few methods as GET (conversations.replies)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/response/{id}", self._response)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files-pri/{id}/{name}", self._file)
        return app

    async def _params(self, request: web.Request) -> dict[str, Any]:
        # slack_sdk sends some methods' arguments (conversations.join, auth.test) in the query
        query: dict[str, Any] = {k: str(v) for k, v in request.query.items()}
        if request.content_type == "application/json":
            data = await request.json()
            return query | (dict(data) if isinstance(data, dict) else {})
        form = await request.post()
        params: dict[str, Any] = query | {k: str(v) for k, v in form.items()}
        for key in ("blocks", "attachments"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        return params

    async def _response(self, request: web.Request) -> web.Response:
        self.responses.append(SlackCall("response_url", await request.json(), self.clock()))
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL ``files.getUploadURLExternal`` gave: it takes the file's bytes."""
        file = self.files.get(request.match_info["file_id"])
        if file is None:
            return web.Response(status=404, text="unknown file")
        file["content"] = await request.read()
        return web.Response(text=f"OK - {len(file['content'])}")

    def shared_files(self) -> list[dict[str, Any]]:
        """The files shared in a channel (``files.completeUploadExternal``), oldest first."""
        return [file for file in self.files.values() if "channel" in file]

    async def _api(self, request: web.Request) -> web.Response:  # noqa: PLR0911  # one answer per case
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append(SlackCall(method, params, self.clock()))
        if self.down:
            return web.Response(status=503, text="Slack is down")
        if self.token_revoked or request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if self._failures[method]:
            status, error, retry_after = self._failures[method].pop(0)
            if status == 429:
                self.rate_limited_count += 1
                headers = {"Retry-After": str(retry_after)}
                return web.json_response({"ok": False, "error": error}, status=429, headers=headers)
            return web.json_response({"ok": False, "error": error})
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": True})
        result: dict[str, Any] = handler(params)
        if result.get("_retry_after") is not None:
            self.rate_limited_count += 1
            headers = {"Retry-After": str(result["_retry_after"])}
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers=headers
            )
        if method in self.held and result.get("ok"):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), 60)
        return web.json_response(result)

    def _paced(self, channel: str) -> dict[str, Any] | None:
        if self.per_channel_interval is None:
            return None
        now = self.clock()
        last = self._last_post.get(channel)
        if last is not None and now - last < self.per_channel_interval:
            wait = self.per_channel_interval - (now - last)
            return {"_retry_after": max(1, round(wait + 0.49))}
        self._last_post[channel] = now
        return None

    def _view_params(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        return json.loads(view) if isinstance(view, str) else dict(view or {})

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view_id = f"V{len(self.views) + 1:04d}"
        view = self._view_params(params) | {"id": view_id, "hash": f"{view_id}.1"}
        self.views[view_id] = view
        return {"ok": True, "view": view}

    def _views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view_id = str(params.get("view_id", ""))
        if view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        current = self.views[view_id]
        if params.get("hash") and params["hash"] != current["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        number = int(current["hash"].rsplit(".", 1)[1]) + 1
        view = self._view_params(params) | {"id": view_id, "hash": f"{view_id}.{number}"}
        self.views[view_id] = view
        return {"ok": True, "view": view}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("user", ""))
        if user not in self.user_names and user not in self.user_locales:
            return {"ok": False, "error": "user_not_found"}
        name = self.user_names.get(user, user)
        found: dict[str, Any] = {"id": user, "name": name, "profile": {"display_name": name}}
        # as Slack: the locale only when asked for
        asked = str(params.get("include_locale", "")).lower() in ("1", "true")
        if asked and user in self.user_locales:
            found["locale"] = self.user_locales[user]
        return {"ok": True, "user": found}

    def _conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if channel not in self.channel_names:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": {"id": channel, "name": self.channel_names[channel]}}

    def _conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if channel.startswith("D"):
            return {"ok": False, "error": "missing_scope", "needed": "im:read"}
        if channel in self.private_channels or channel in self.deleted_channels:
            return {"ok": False, "error": "channel_not_found"}
        members = self.channel_members.get(channel, list(DEFAULT_MEMBERS))
        start = int(params.get("cursor") or 0)
        end = start + int(params.get("limit") or 100)
        cursor = str(end) if end < len(members) else ""
        return {
            "ok": True,
            "members": members[start:end],
            "response_metadata": {"next_cursor": cursor},
        }

    def _auth_test(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake-team.slack.com/",
            "team": "Fake Team",
            "user": "smsbot",
            "team_id": "T1",
            "user_id": "UBOT",
            "bot_id": "BBOT",
        }

    def _channel_error(self, channel: str) -> dict[str, Any] | None:
        if channel in self.deleted_channels:
            return {"ok": False, "error": "channel_not_found"}
        if channel in self.not_in_channel or channel in self.private_channels:
            return {"ok": False, "error": "not_in_channel"}
        return None

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        channel = str(params.get("channel", ""))
        error = self._channel_error(channel)
        if error:
            return error
        paced = self._paced(channel)
        if paced:
            return paced
        if channel.startswith("U"):
            channel = "D" + channel[1:]
        self._ts += 1
        ts = f"{1_700_000_000 + self._ts}.{self._ts:06d}"
        self.messages[(channel, ts)] = dict(params)
        return {"ok": True, "channel": channel, "ts": ts, "message": {"text": params.get("text")}}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        error = self._channel_error(channel)
        if error:
            return error
        key = (channel, str(params.get("ts", "")))
        if key not in self.messages:
            return {"ok": False, "error": "message_not_found"}
        paced = self._paced(channel)
        if paced:
            return paced
        self.messages[key] = {**self.messages[key], **params}
        return {"ok": True, "channel": channel, "ts": key[1]}

    def _files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        if not params.get("filename") or not str(params.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{len(self.files) + 1:05d}"
        self.files[file_id] = {"filename": params["filename"], "length": int(params["length"])}
        return {"ok": True, "upload_url": f"{self.url}upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        listed = params.get("files")
        files = json.loads(listed) if isinstance(listed, str) else listed
        channel = str(params.get("channel_id") or "")
        error = self._channel_error(channel) if channel else None
        if error:
            return error
        shared = []
        for entry in files or []:
            file = self.files.get(str(entry.get("id")))
            if file is None or "content" not in file:
                return {"ok": False, "error": "file_not_found"}
            if channel:
                file |= {"channel": channel, "thread_ts": params.get("thread_ts") or None}
            file["title"] = entry.get("title")
            shared.append({"id": entry["id"], "title": file["title"], "name": file["filename"]})
        return {"ok": True, "files": shared}

    def _conversations_join(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if channel in self.private_channels:
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        if channel in self.deleted_channels:
            return {"ok": False, "error": "channel_not_found"}
        self.not_in_channel.discard(channel)
        return {"ok": True, "channel": {"id": channel}}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = str(params.get("users", ""))
        return {"ok": True, "channel": {"id": "D" + users.lstrip("U")}}

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = str(params.get("channel", "")), str(params.get("ts", ""))
        error = self._channel_error(channel)
        if error:
            return error
        if (channel, ts) not in self.messages:
            return {"ok": False, "error": "thread_not_found"}
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        thread = [{**self.messages[(channel, ts)], "ts": ts}] + [
            {**message, "ts": reply_ts}
            for (where, reply_ts), message in self.messages.items()
            if where == channel and message.get("thread_ts") == ts and reply_ts != ts
        ]
        if not with_metadata:
            thread = [{k: v for k, v in m.items() if k != "metadata"} for m in thread]
        return {"ok": True, "messages": thread}

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        error = self._channel_error(channel)
        if error:
            return error
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        found = [
            {**message, "ts": ts}
            for (where, ts), message in self.messages.items()
            if where == channel and not message.get("thread_ts")
        ]
        found.sort(key=lambda m: float(m["ts"]), reverse=True)
        if not with_metadata:
            found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
        return {"ok": True, "messages": found}
