"""``smsbot serve`` as a real process: sandbox end to end, graceful SIGTERM, start-up refusals."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from slack_sdk.signature import SignatureVerifier

from bot.simulator import (
    GET_BALANCE,
    SEND_SMS,
    MobizonSimulator,
    SimulatorConfig,
    start_simulator,
)
from storage import delivery, messages, outbox
from storage.schema import open_database
from testkit.database import run_sql
from testkit.slack import FakeSlack
from testkit.waiting import wait_until
from tests.bot.serve_process import (
    ServeProcess,
    assert_clean_line,
    base_env,
    command_body,
    post_command,
    run_cli,
    run_forked,
)
from tests.conftest import MOBIZON_KEY, SECRETS, refusing_port


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client session for talking to the bot process."""
    async with aiohttp.ClientSession() as client:
        yield client


def _block_text(params: dict[str, object]) -> str:
    return json.dumps(params.get("blocks", [])) + str(params.get("text", ""))


async def test_sandbox_serve_delivers_end_to_end(
    fake_slack: FakeSlack, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    """Sandbox serve says SANDBOX once, sends, reports delivery; a second serve on its file exits 2."""
    real_mobizon: list[str] = []  # a gateway URL is configured, but no key: it must stay unused

    async def record(request: web.Request) -> web.Response:
        real_mobizon.append(request.path)
        return web.json_response({"code": 0, "data": [], "message": ""})

    gateway = web.Application()
    gateway.router.add_route("*", "/{tail:.*}", record)
    gateway_server = TestServer(gateway, host="127.0.0.1", port=0)
    await gateway_server.start_server()
    env = base_env(
        fake_slack.url,
        tmp_path / "smsbot.db",
        SMSBOT_POLL_INTERVAL="0.5",
        MOBIZON_API_URL=str(gateway_server.make_url("")).rstrip("/"),
    )
    serve = await ServeProcess.start(env, quick=True)
    try:
        status, _ = await post_command(
            session,
            serve.url,
            command_body("send +55 11 98765-4321 hello from serve", fake_slack.url),
        )
        assert status == 200
        posted = (await fake_slack.wait_for("chat.postMessage", timeout=20))[0].params
        assert posted["channel"] == "C1"
        assert "Sandbox" in _block_text(posted)
        replies = await fake_slack.wait_for("chat.postMessage", 2, timeout=30)
        reply = replies[1].params
        first_ts = next(iter(fake_slack.messages))[1]
        assert reply["thread_ts"] == first_ts
        assert "was delivered" in str(reply["text"])
        assert "(sandbox)" in str(reply["text"])
        update = fake_slack.called("chat.update")[-1].params
        assert "DELIVRD" in _block_text(update)
        assert "Sandbox" in _block_text(update)
        health = await (await session.get(serve.url + "healthz")).json()
        assert (health["sandbox"], health["engine"]) == (True, "sqlite")
        # a second process on the same SQLite file is refused; the first goes on
        second, _, stderr = await run_forked({**env, "PORT": "0"}, "serve")
        assert second == 2
        (refusal,) = [json.loads(line) for line in stderr.splitlines() if "cannot start" in line]
        assert "another smsbot process is running on the SQLite database" in refusal["msg"]
        assert "SMSBOT_DATABASE_URL" in refusal["msg"]
        assert "PostgreSQL" in refusal["msg"]
        assert (await session.get(serve.url + "healthz")).status == 200
    finally:
        code = await serve.stop()
        await gateway_server.close()
    assert code == 0
    assert real_mobizon == []
    sandbox_lines = [r for r in serve.records if "SANDBOX MODE" in r["msg"]]
    assert len(sandbox_lines) == 1
    # that one clear line is the only warning of a healthy run; a machine too busy to run the
    # 0.5 s poll cycle on time may add the scheduler's note of skipped runs, nothing else
    slow_machine = [r for r in serve.records if r.get("job") and "skipped" in r["msg"]]
    warnings = [r for r in serve.records if r["level"] != "info" and r not in slow_machine]
    assert warnings == sandbox_lines
    assert serve.records, "serve logged nothing"
    for line in serve.lines:
        json.loads(line)  # every line is one JSON object
        assert_clean_line(line)
    with closing(open_database(tmp_path / "smsbot.db")) as db:
        (row,) = run_sql(db, "SELECT state, status, sandbox FROM sms")
        replicas_left = run_sql(db, "SELECT count(*) AS n FROM replicas")[0]["n"]
    assert dict(row) == {"state": "sent", "status": "DELIVRD", "sandbox": True}
    assert replicas_left == 0  # it deregistered as it stopped: its work is free at once


async def test_forged_commands_leave_no_number_in_serve_output(
    fake_slack: FakeSlack, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    """Forged and unsigned commands carrying %2B5511987654321: refused, and no output line shows it."""
    serve = await ServeProcess.start(base_env(fake_slack.url, tmp_path / "smsbot.db"))
    try:
        raw = urlencode(command_body("send +5511987654321 forged", fake_slack.url))
        assert "%2B5511987654321" in raw
        ts = str(int(time.time()))
        forged = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": SignatureVerifier("not-the-signing-secret-123").generate_signature(
                timestamp=ts, body=raw
            )
            or "",
        }
        unsigned = {"Content-Type": "application/x-www-form-urlencoded"}
        for headers in (forged, unsigned):
            async with session.post(serve.url + "slack/events", data=raw, headers=headers) as resp:
                assert resp.status == 401
        code = await serve.stop()
    finally:
        await serve.kill()
    assert code == 0
    assert not fake_slack.called("chat.postMessage")
    assert serve.lines, "serve logged nothing"
    refused = [r for r in serve.records if r["msg"] == "slack request refused"]
    assert [r["status"] for r in refused] == [401, 401]
    for line in serve.lines:
        assert_clean_line(line)


async def test_sigterm_during_a_send_finishes_it_and_exits_0(
    fake_slack: FakeSlack, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    """SIGTERM while Mobizon is answering: the send completes, is recorded and posted; exit code 0."""
    sim, runner, sim_url = await start_simulator(SimulatorConfig(api_key=MOBIZON_KEY))
    db_path = tmp_path / "smsbot.db"
    env = base_env(fake_slack.url, db_path, MOBIZON_API_KEY=MOBIZON_KEY, MOBIZON_API_URL=sim_url)
    serve = await ServeProcess.start(env)
    try:
        sim.hold()  # Mobizon takes the send and answers only once released
        status, _ = await post_command(
            session, serve.url, command_body("send 5511987654321 bye now", fake_slack.url)
        )
        assert status == 200
        await wait_until(lambda: sim.count(SEND_SMS) == 1)  # Mobizon is answering
        assert not fake_slack.called("chat.postMessage")
        serve.process.send_signal(signal.SIGTERM)
        await serve.wait_for_log(lambda r: "SIGTERM received" in r["msg"])
        sim.release()  # Mobizon's answer comes while the process shuts down
        code = await serve.stop()
    finally:
        sim.release()
        await serve.kill()
        await runner.cleanup()
    assert code == 0
    assert fake_slack.called("chat.postMessage")[0].params["channel"] == "C1"
    with closing(open_database(db_path)) as db:
        (row,) = run_sql(db, "SELECT state, message_id, slack_ts FROM sms")
    assert row["state"] == "sent"
    assert row["message_id"] is not None
    assert row["slack_ts"] is not None
    messages = [r["msg"] for r in serve.records]
    assert any("SIGTERM received" in m for m in messages)
    assert messages[-1] == "smsbot stopped"
    assert any(m == "database closed" for m in messages)
    for line in serve.lines:
        assert_clean_line(line)


async def test_sigterm_flushes_the_outbox_before_exit(
    fake_slack: FakeSlack,
    tmp_path: Path,
    session: aiohttp.ClientSession,
    simulator: tuple[MobizonSimulator, str],
) -> None:
    """A final status applied just before SIGTERM still reaches Slack before the process exits."""
    db_path = tmp_path / "smsbot.db"
    env = base_env(
        fake_slack.url,
        db_path,
        MOBIZON_API_KEY=MOBIZON_KEY,
        MOBIZON_API_URL=simulator[1],
        SMSBOT_POLL_INTERVAL="3600",  # only this test applies statuses
    )
    serve = await ServeProcess.start(env, quick=True)
    try:
        await post_command(
            session, serve.url, command_body("send 5511987654321 flush", fake_slack.url)
        )
        await fake_slack.wait_for("chat.postMessage")
        db = open_database(db_path)
        try:
            await wait_until(
                lambda: (
                    messages.latest_in_channel(db, team_id="T1", channel_id="C1", limit=1)[
                        0
                    ].slack_ts
                    is not None
                )
            )
            [sms] = messages.latest_in_channel(db, team_id="T1", channel_id="C1", limit=1)
            assert sms.message_id is not None
            applied = delivery.apply_status(
                db,
                delivery.StatusUpdate(sms.message_id, "DELIVRD", None, source="webhook"),
            )
            assert applied is not None
            assert outbox.outbox_size(db) == 1
            code = await serve.stop()  # at once: nothing has woken the notifier
        finally:
            db.close()
    finally:
        await serve.kill()
    assert code == 0
    with closing(open_database(db_path)) as after:
        assert outbox.outbox_size(after) == 0
    assert "DELIVRD" in _block_text(fake_slack.called("chat.update")[-1].params)
    reply = fake_slack.called("chat.postMessage")[-1].params
    assert reply["thread_ts"] == sms.slack_ts
    assert "was delivered" in str(reply["text"])


async def test_serve_refuses_missing_and_malformed_settings(tmp_path: Path) -> None:
    """Bad environment: exit 2 and one sentence per variable on stderr, no traceback, no secret."""
    env = base_env("http://127.0.0.1:9/", tmp_path / "x.db")
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"):
        del env[name]
    env["SLACK_APP_TOKEN"] = SECRETS[0] + "-but-not-an-app-token"
    env["PORT"] = "99999"
    env["SMSBOT_POLL_INTERVAL"] = "soon"
    env["MOBIZON_API_URL"] = "api.mobizon.com.br"
    code, out, err = await run_cli(env, "serve")
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert "SLACK_BOT_TOKEN is not set" in err
    assert "SLACK_APP_TOKEN must be an app-level token starting with xapp-" in err
    assert "PORT must be a port number" in err
    assert "SMSBOT_POLL_INTERVAL must be a number of seconds" in err
    assert "MOBIZON_API_URL must be a URL with its scheme" in err
    for secret in SECRETS:
        assert secret not in err
    assert not (tmp_path / "x.db").exists()


async def test_serve_without_a_key_needs_the_sandbox_asked_for(tmp_path: Path) -> None:
    """No MOBIZON_API_KEY and no SMSBOT_SANDBOX=1: exit 2 with a sentence, nothing started."""
    env = base_env("http://127.0.0.1:9/", tmp_path / "x.db")
    del env["SMSBOT_SANDBOX"]
    code, out, err = await run_forked(env, "serve")
    assert code == 2
    assert out == ""
    assert "MOBIZON_API_KEY is not set" in err
    assert "SMSBOT_SANDBOX=1" in err
    assert "Traceback" not in err
    assert not (tmp_path / "x.db").exists()


async def test_serve_refuses_http_mode_without_signing_secret(tmp_path: Path) -> None:
    """HTTP mode needs SLACK_SIGNING_SECRET: the refusal names it and how to find it."""
    env = base_env("http://127.0.0.1:9/", tmp_path / "x.db")
    del env["SLACK_SIGNING_SECRET"]
    code, _, err = await run_forked(env, "serve")
    assert code == 2
    assert "SLACK_SIGNING_SECRET is not set" in err
    assert "Signing Secret" in err
    assert "Traceback" not in err


async def test_serve_reports_a_port_in_use_in_one_sentence(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """A start-up failure after the settings (the port is taken) is one log line and exit 1."""
    blocker = await asyncio.start_server(lambda _r, _w: None, "127.0.0.1", 0)
    port = blocker.sockets[0].getsockname()[1]
    try:
        env = base_env(fake_slack.url, tmp_path / "x.db", PORT=str(port))
        code, _, err = await run_forked(env, "serve")
    finally:
        blocker.close()
        await blocker.wait_closed()
    assert code == 1
    assert "Traceback" not in err
    failure = [json.loads(line) for line in err.splitlines() if "could not start" in line]
    assert len(failure) == 1
    assert failure[0]["level"] == "error"


async def test_live_serve_names_its_mobizon_and_checks_both_credentials(
    fake_slack: FakeSlack, tmp_path: Path, simulator: tuple[MobizonSimulator, str]
) -> None:
    """Live serve says SMS are real and through which host, after Slack and Mobizon took both."""
    sim, url = simulator
    env = base_env(
        fake_slack.url, tmp_path / "smsbot.db", MOBIZON_API_KEY=MOBIZON_KEY, MOBIZON_API_URL=url
    )
    serve = await ServeProcess.start(env)
    code = await serve.stop()
    assert code == 0
    messages = [r["msg"] for r in serve.records]
    live = next(r for r in serve.records if r["msg"].startswith("LIVE MODE"))
    assert live["msg"] == (
        f"LIVE MODE: SMS go to Mobizon at {url} and are sent for real (each one is billed)"
    )
    assert live["level"] == "info"
    assert "Slack accepted SLACK_BOT_TOKEN: bot smsbot in workspace Fake Team (T1)" in messages
    assert "Mobizon accepted MOBIZON_API_KEY: balance 10000.0000 BRL" in messages
    # the checks come before the server takes requests
    assert messages.index(live["msg"]) < next(
        i for i, m in enumerate(messages) if "listening on" in m
    )
    assert len(fake_slack.called("auth.test")) == 1
    assert sim.count(GET_BALANCE) == 1
    assert [r for r in serve.records if r["level"] not in ("info", "debug")] == []
    for line in serve.lines:
        assert_clean_line(line)


async def test_serve_stops_with_exit_2_when_slack_or_mobizon_refuses_its_credential(
    fake_slack: FakeSlack, tmp_path: Path, simulator: tuple[MobizonSimulator, str]
) -> None:
    """Slack answers invalid_auth, Mobizon code 8: a sentence naming each setting, exit 2, no DB."""
    other = "xoxb-a-token-slack-does-not-know-1234"
    wrong = "not-the-key-mobizon-knows-0123456789"
    env = base_env(
        fake_slack.url,
        tmp_path / "x.db",
        SLACK_BOT_TOKEN=other,
        MOBIZON_API_KEY=wrong,
        MOBIZON_API_URL=simulator[1],
    )
    code, out, err = await run_forked(env, "serve")
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert other not in err
    assert wrong not in err
    refusals = [json.loads(line) for line in err.splitlines() if "cannot start" in line]
    assert [r["level"] for r in refusals] == ["error", "error"]
    assert refusals[0]["msg"].startswith(
        "smsbot cannot start: Slack refused SLACK_BOT_TOKEN (invalid_auth): copy the Bot User "
        "OAuth Token"
    )
    assert refusals[1]["msg"] == (
        f"smsbot cannot start: Mobizon ({simulator[1]}) refused MOBIZON_API_KEY (code 8): copy "
        "the key again from Mobizon's panel (Settings → API); a revoked key stops working"
    )
    assert not any("listening on" in line for line in err.splitlines())
    assert not (tmp_path / "x.db").exists()


async def test_serve_starts_with_a_warning_when_a_check_cannot_be_made(
    fake_slack: FakeSlack, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    """Slack failing with 503 and Mobizon refusing connections at start: two warnings, serve runs."""
    fake_slack.down = True
    nowhere = f"http://127.0.0.1:{refusing_port()}"
    env = base_env(
        fake_slack.url,
        tmp_path / "smsbot.db",
        MOBIZON_API_KEY=MOBIZON_KEY,
        MOBIZON_API_URL=nowhere,
        SMSBOT_POLL_INTERVAL="3600",
    )
    serve = await ServeProcess.start(env)
    try:
        health = await session.get(serve.url + "healthz")
        assert health.status == 200
    finally:
        code = await serve.stop()
    assert code == 0
    warnings = [r["msg"] for r in serve.records if r["level"] == "warning"]
    slack = fake_slack.url.rstrip("/")
    assert warnings == [
        f"start-up check not confirmed: Slack ({slack}) failed with HTTP 503; starting anyway",
        (
            "start-up check not confirmed: Mobizon could not be reached: 127.0.0.1 refused the "
            "connection; starting anyway"
        ),
    ]
    assert not any(r["level"] == "error" for r in serve.records)


DOCKERFILE = Path(__file__).resolve().parents[2] / "Dockerfile"


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_dockerfile_follows_the_operations_contract() -> None:
    """Slim Debian base, installed from pyproject.toml, non-root, DB on the volume, exec-form CMD."""
    steps = _dockerfile_instructions()
    keywords = [k for k, _ in steps]
    args = dict(steps)  # the last of each keyword
    assert steps[0] == ("FROM", "python:3.11-slim-bookworm")
    assert any(
        k == "RUN" and "pip install --no-deps --no-build-isolation /tmp/smsbot" in a
        for k, a in steps
    )
    # the build backend is installed with the dependencies, so the code's layer downloads nothing
    assert any(k == "RUN" and "['build-system']['requires']" in a for k, a in steps)
    assert "COPY" in keywords
    assert args["USER"] not in ("root", "0")
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k == "RUN")
    volume = json.loads(args["VOLUME"])[0]
    env = " ".join(a for k, a in steps if k == "ENV")
    assert f"SMSBOT_DB={volume}/" in env
    assert args["EXPOSE"] == "3000"
    assert json.loads(args["CMD"]) == ["smsbot", "serve"]
    assert "curl" not in args["HEALTHCHECK"]


async def test_dockerfile_healthcheck_passes_on_a_live_bot_and_fails_on_a_dead_one(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    """The HEALTHCHECK command, run as written, exits 0 against serve and non-zero once it stopped."""
    healthcheck = dict(_dockerfile_instructions())["HEALTHCHECK"]
    command: list[str] = json.loads(healthcheck.split(" CMD ", 1)[1])  # bash, as in the image
    serve = await ServeProcess.start(base_env(fake_slack.url, tmp_path / "smsbot.db"))
    port = serve.url.rstrip("/").rsplit(":", 1)[1]
    try:
        code, _, _ = await _run(command, {**os.environ, "PORT": port})
        assert code == 0
    finally:
        assert await serve.stop() == 0
    code, _, err = await _run(command, {**os.environ, "PORT": port})
    assert code != 0
    assert "Connection refused" in err


async def _run(command: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_serve_on_postgresql_sends_and_names_its_engine(
    fake_slack: FakeSlack,
    tmp_path: Path,
    session: aiohttp.ClientSession,
    fresh_postgres_url: str,
) -> None:
    """SMSBOT_DATABASE_URL on a Unix socket: schema made, an SMS sent and posted, a second serves too."""
    env = base_env(fake_slack.url, tmp_path / "unused.db", SMSBOT_DATABASE_URL=fresh_postgres_url)
    serve = await ServeProcess.start(env)
    second: ServeProcess | None = None
    try:
        health = await (await session.get(serve.url + "healthz")).json()
        assert (health["status"], health["engine"]) == ("ok", "postgresql")
        status, _ = await post_command(
            session, serve.url, command_body("send +55 11 98765-4321 hello", fake_slack.url)
        )
        assert status == 200
        (post,) = await fake_slack.wait_for("chat.postMessage", timeout=20)
        assert post.params["channel"] == "C1"
        second = await ServeProcess.start(env)  # replicas share a PostgreSQL database
        health = await (await session.get(second.url + "healthz")).json()
        assert (health["status"], health["engine"]) == ("ok", "postgresql")
        with closing(open_database(fresh_postgres_url)) as db:
            assert run_sql(db, "SELECT count(*) AS n FROM replicas")[0]["n"] == 2
        assert await second.stop() == 0
    finally:
        if second is not None:
            await second.kill()
        assert await serve.stop() == 0
    assert not (tmp_path / "unused.db").exists()
    with closing(open_database(fresh_postgres_url)) as db:
        (row,) = run_sql(db, "SELECT state, slack_ts IS NOT NULL AS posted, sandbox FROM sms")
    assert dict(row) == {"state": "sent", "posted": True, "sandbox": True}
