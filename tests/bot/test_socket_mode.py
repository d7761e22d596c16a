"""Socket Mode: with SLACK_APP_TOKEN the same handlers answer over a WebSocket; HTTP still serves."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

from bot.process.app import create_app
from bot.process.runtime import RUNTIME
from bot.process.socket_mode import SocketModeStartError
from bot.simulator import MobizonSimulator
from testkit.slack import FakeSlack
from testkit.waiting import wait_until
from tests.bot.serve_process import SMSBOT, ServeProcess, assert_clean_line, base_env
from tests.conftest import MOBIZON_KEY, SettingsFactory

APP_TOKEN = "xapp-1-A0123-4567-fakeapptoken0123456789"


@dataclass
class FakeSocketSlack:
    """Slack's Web API (a FakeSlack) plus ``apps.connections.open`` and a Socket Mode WebSocket."""

    api: FakeSlack = field(default_factory=FakeSlack)
    app_token: str = APP_TOKEN
    opens: int = 0
    acks: list[dict[str, Any]] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)
    socket: web.WebSocketResponse | None = None

    def make_app(self) -> web.Application:
        """Socket Mode's two routes first, then every FakeSlack route."""
        app = web.Application()
        app.router.add_post("/api/apps.connections.open", self._open)
        app.router.add_get("/socket", self._socket)
        app.router.add_post("/api/{method}", self.api._api)
        app.router.add_post("/response/{id}", self.api._response)
        return app

    async def _open(self, request: web.Request) -> web.Response:
        self.opens += 1
        if request.headers.get("Authorization") != f"Bearer {self.app_token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        url = self.api.url.replace("http://", "ws://") + "socket"
        return web.json_response({"ok": True, "url": url})

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.socket = socket
        await socket.send_json({"type": "hello", "num_connections": 1, "debug_info": {}})
        self.connected.set()
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                self.acks.append(json.loads(message.data))
        self.disconnected.set()
        return socket

    async def envelope(self, envelope_id: str, command_text: str) -> None:
        """Push a ``/sms`` slash command to the bot as Slack does over Socket Mode."""
        assert self.socket is not None
        payload = {
            "team_id": "T1",
            "channel_id": "C1",
            "user_id": "U1",
            "user_name": "ana",
            "command": "/sms",
            "text": command_text,
            "api_app_id": "A1",
            "response_url": f"{self.api.url}response/{envelope_id}",
            "trigger_id": f"1337.42.{envelope_id}",
        }
        await self.socket.send_json(
            {
                "envelope_id": envelope_id,
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": payload,
            }
        )

    async def ack_for(self, envelope_id: str) -> dict[str, Any]:
        """Wait for the bot's acknowledgement of one envelope."""
        async with asyncio.timeout(10):
            while True:
                for ack in self.acks:
                    if ack.get("envelope_id") == envelope_id:
                        return ack
                await asyncio.sleep(0.01)


@pytest.fixture
async def socket_slack() -> AsyncIterator[FakeSocketSlack]:
    """The fake Slack with Socket Mode on a loopback port."""
    fake = FakeSocketSlack()
    server = TestServer(fake.make_app(), host="127.0.0.1", port=0)
    await server.start_server()
    fake.api.url = str(server.make_url("/"))
    yield fake
    await server.close()


async def test_socket_mode_runs_the_same_handlers_and_keeps_http_endpoints(
    socket_slack: FakeSocketSlack,
    simulator: tuple[MobizonSimulator, str],
    make_settings: SettingsFactory,
) -> None:
    """A slash command over the WebSocket is acked and sent; /healthz, /metrics, webhook on HTTP."""
    settings = make_settings(
        socket_slack.api, simulator[1], slack_app_token=APP_TOKEN, slack_signing_secret=None
    )
    app = create_app(settings)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with asyncio.timeout(10):
            await socket_slack.connected.wait()
        assert socket_slack.opens == 1
        assert app[RUNTIME].socket_mode is not None

        await socket_slack.envelope("env-help", "help")
        help_ack = await socket_slack.ack_for("env-help")
        assert "/sms send" in help_ack["payload"]["text"]

        await socket_slack.envelope("env-send", "send +55 11 98765-4321 over the socket")
        send_ack = await socket_slack.ack_for("env-send")
        assert "payload" not in send_ack or not send_ack["payload"]
        posted = await socket_slack.api.wait_for("chat.postMessage")
        assert posted[0].params["channel"] == "C1"
        assert simulator[0].count("sendsmsmessage") == 1

        async with aiohttp.ClientSession() as session:
            base = str(server.make_url("/"))
            async with session.get(base + "healthz") as health:
                assert health.status == 200
                assert (await health.json())["slack_socket"] is True
            async with session.get(base + "metrics") as metrics:
                assert 'smsbot_sms_sent_total{outcome="sent"} 1.0' in await metrics.text()
            async with session.post(base + "mobizon/webhook", data=b"not json") as webhook:
                assert webhook.status == 400  # served, and it read the body
            async with session.post(base + "slack/events", data=b"x") as events:
                assert events.status == 404  # Slack's events come over the socket instead
    finally:
        await server.close()
    async with asyncio.timeout(10):
        await socket_slack.disconnected.wait()
    assert app[RUNTIME].socket_mode is None


async def test_a_refused_app_token_stops_start_up_with_a_sentence(
    socket_slack: FakeSocketSlack,
    simulator: tuple[MobizonSimulator, str],
    make_settings: SettingsFactory,
) -> None:
    """When Slack refuses the app token, start-up fails naming SLACK_APP_TOKEN, without the token."""
    other = "xapp-1-A0123-4567-notthetokenslackknows"
    settings = make_settings(
        socket_slack.api, simulator[1], slack_app_token=other, slack_signing_secret=None
    )
    server = TestServer(create_app(settings), host="127.0.0.1", port=0)
    with pytest.raises(SocketModeStartError) as caught:
        await server.start_server()
    await server.close()
    text = str(caught.value)
    assert "SLACK_APP_TOKEN" in text
    assert "invalid_auth" in text
    assert other not in text
    assert not socket_slack.connected.is_set()


async def test_serve_over_socket_mode_end_to_end(
    socket_slack: FakeSocketSlack, tmp_path: Path, simulator: tuple[MobizonSimulator, str]
) -> None:
    """``smsbot serve`` with SLACK_APP_TOKEN: an SMS sent over the socket, then SIGTERM exits 0."""
    env = base_env(
        socket_slack.api.url,
        tmp_path / "smsbot.db",
        SLACK_APP_TOKEN=APP_TOKEN,
        MOBIZON_API_KEY=MOBIZON_KEY,
        MOBIZON_API_URL=simulator[1],
    )
    del env["SLACK_SIGNING_SECRET"]
    serve = await ServeProcess.start(env)
    try:
        listening = await serve.wait_for_log(lambda r: "listening on" in r["msg"])
        assert "Slack over Socket Mode" in listening["msg"]
        async with asyncio.timeout(10):
            await socket_slack.connected.wait()
        await socket_slack.envelope("env-1", "send +55 11 98765-4321 from a process")
        await socket_slack.ack_for("env-1")
        posted = await socket_slack.api.wait_for("chat.postMessage")
        assert posted[0].params["channel"] == "C1"
        sent = await serve.wait_for_log(lambda r: r["msg"] == "sms sent")
        assert (sent["channel"], sent["user"]) == ("C1", "U1")
    finally:
        code = await serve.stop()
    assert code == 0
    # the process is gone; the fake's side of the socket hears it on its own task
    await wait_until(socket_slack.disconnected.is_set, what="the socket to be closed")
    for line in serve.lines:
        assert_clean_line(line)
        assert APP_TOKEN not in line


async def test_serve_with_a_refused_app_token_exits_1_with_a_sentence(
    socket_slack: FakeSocketSlack, tmp_path: Path
) -> None:
    """Through the CLI: Slack refusing the app token is one log line naming it, and exit code 1."""
    other = "xapp-1-A0123-4567-notthetokenslackknows"
    env = base_env(socket_slack.api.url, tmp_path / "smsbot.db", SLACK_APP_TOKEN=other)
    process = await asyncio.create_subprocess_exec(
        str(SMSBOT),
        "serve",
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1
    text = err.decode()
    assert "Traceback" not in text
    assert other not in text
    [failure] = [json.loads(line) for line in text.splitlines() if "could not start" in line]
    assert "SLACK_APP_TOKEN" in failure["msg"]


async def test_a_malformed_payload_over_the_socket_is_acked_and_dropped(
    socket_slack: FakeSocketSlack,
    simulator: tuple[MobizonSimulator, str],
    make_settings: SettingsFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A payload whose user.id is an object: acked (no retry), one WARNING, no listener, no traceback."""
    settings = make_settings(
        socket_slack.api, simulator[1], slack_app_token=APP_TOKEN, slack_signing_secret=None
    )
    server = TestServer(create_app(settings), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with asyncio.timeout(10):
            await socket_slack.connected.wait()
        assert socket_slack.socket is not None
        payload = {
            "type": "shortcut",
            "callback_id": "compose_sms",
            "team": {"id": "T1"},
            "user": {"id": {"text": "an SMS text"}},
            "trigger_id": "1337.42.abc",
        }
        await socket_slack.socket.send_json(
            {"envelope_id": "env-bad", "type": "interactive", "payload": payload}
        )
        ack = await socket_slack.ack_for("env-bad")
        assert not ack.get("payload")
        refused = [r for r in caplog.records if r.getMessage() == "slack request refused"]
        assert [getattr(r, "reason", "") for r in refused] == [
            "the shortcut payload's user.id is not a user id"
        ]
        assert not [r for r in caplog.records if r.levelno > logging.WARNING or r.exc_info]
        assert socket_slack.api.called("views.open") == []
    finally:
        await server.close()
