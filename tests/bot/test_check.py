"""``smsbot check`` as a process, and the start-up checks it shares with ``serve``."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.cli import check, main
from bot.process.preflight import Outcome, check_api_url, check_mobizon, check_slack
from bot.process.settings import Settings
from bot.simulator import GET_BALANCE, MobizonSimulator
from testkit.slack import BOT_TOKEN, FakeSlack
from tests.bot.serve_process import base_env, run_cli
from tests.conftest import ALL_SECRETS, MOBIZON_KEY, SIGNING_SECRET, WEBHOOK_SECRET, refusing_port


def _live_env(slack: FakeSlack, mobizon_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    live = {"MOBIZON_API_KEY": MOBIZON_KEY, "MOBIZON_API_URL": mobizon_url}
    return base_env(slack.url, tmp_path / "smsbot.db", **(live | extra))


def _assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in ALL_SECRETS:
            assert secret not in text


async def test_check_prints_what_it_found_and_exits_0(
    fake_slack: FakeSlack, tmp_path: Path, simulator: tuple[MobizonSimulator, str]
) -> None:
    """All good: the database, LIVE and its host, HTTP mode, the webhook secret, both checks ok."""
    sim, url = simulator
    env = _live_env(fake_slack, url, tmp_path, MOBIZON_WEBHOOK_SECRET=WEBHOOK_SECRET)
    code, out, err = await run_cli(env, "check")
    assert code == 0, err
    assert out.splitlines() == [
        f"database:       SQLite at {tmp_path / 'smsbot.db'} (not created yet)",
        f"Mobizon:        LIVE: real SMS, each one billed, through Mobizon at {url}",
        "Slack mode:     HTTP: Slack events at /slack/events on 127.0.0.1:0",
        "webhook secret: set (Mobizon webhooks must be signed)",
        "Slack token:    ok: Slack accepted SLACK_BOT_TOKEN: bot smsbot in workspace Fake Team (T1)",
        "Mobizon key:    ok: Mobizon accepted MOBIZON_API_KEY: balance 10000.0000 BRL",
        "result: every check passed (exit 0)",
    ]
    assert err == ""
    assert len(fake_slack.called("auth.test")) == 1
    assert sim.count(GET_BALANCE) == 1
    assert not (tmp_path / "smsbot.db").exists()  # check opens no database
    _assert_no_secret(out, err)


async def _check(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, list[str], str]:
    """``smsbot check``'s work in this process: its exit code, its lines and stderr."""
    code = await check(Settings.from_env(env))
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


async def test_check_in_the_sandbox_reads_no_key_and_says_nothing_is_sent(
    fake_slack: FakeSlack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Sandbox and Socket Mode: SANDBOX said, the key not checked, the webhook secret unset."""
    env = base_env(
        fake_slack.url,
        tmp_path / "smsbot.db",
        SLACK_APP_TOKEN="xapp-1-A0123-4567-abcdef0123456789",
        MOBIZON_API_KEY="short",  # set with SMSBOT_SANDBOX=1: not read, so not refused
        SMSBOT_SANDBOX="1",
    )
    code, lines, _ = await _check(env, capsys)
    assert code == 0
    assert (
        "Mobizon:        SANDBOX: the built-in Mobizon simulator; nothing is sent for real" in lines
    )
    assert "Slack mode:     Socket Mode (SLACK_APP_TOKEN)" in lines
    assert "webhook secret: not set: unsigned Mobizon webhooks are accepted" in lines
    assert "Mobizon key:    skipped: the sandbox reads no MOBIZON_API_KEY" in lines


async def test_check_exits_2_naming_a_refused_setting(
    fake_slack: FakeSlack,
    tmp_path: Path,
    simulator: tuple[MobizonSimulator, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A revoked Slack token and a wrong Mobizon key: both named, exit 2, neither value shown."""
    fake_slack.token_revoked = True
    wrong = "not-the-key-mobizon-knows-0123456789"
    env = _live_env(fake_slack, simulator[1], tmp_path, MOBIZON_API_KEY=wrong)
    code, lines, err = await _check(env, capsys)
    assert code == 2
    assert lines[-3].startswith(
        "Slack token:    refused: Slack refused SLACK_BOT_TOKEN (invalid_auth)"
    )
    assert lines[-2].startswith(
        f"Mobizon key:    refused: Mobizon ({simulator[1]}) refused MOBIZON_API_KEY (code 8)"
    )
    assert lines[-1] == "result: a setting was refused: serve would not start (exit 2)"
    assert wrong not in "\n".join(lines) + err
    _assert_no_secret(*lines, err)


async def test_check_exits_1_when_a_check_cannot_be_made(
    fake_slack: FakeSlack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Mobizon refusing connections: "not confirmed" with the reason, exit 1."""
    env = _live_env(fake_slack, f"http://127.0.0.1:{refusing_port()}", tmp_path)
    code, lines, _ = await _check(env, capsys)
    assert code == 1
    assert lines[-2] == (
        "Mobizon key:    not confirmed: Mobizon could not be reached: 127.0.0.1 refused the "
        "connection"
    )
    assert lines[-1] == (
        "result: a check could not be made (warning): serve would start and warn (exit 1)"
    )


def test_check_refuses_bad_settings_like_serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Settings smsbot cannot start with: the same sentences as serve on stderr, exit 2."""
    env = base_env("http://127.0.0.1:9/", tmp_path / "x.db", SLACK_BOT_TOKEN=f'"{BOT_TOKEN}"')
    for name in [*os.environ]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["check"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        "SLACK_BOT_TOKEN is wrapped in quotes: remove the quotes around SLACK_BOT_TOKEN"
        in captured.err
    )
    _assert_no_secret(captured.err)


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """A loopback server that takes connections and never answers: its URL."""
    connections: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    for writer in connections:
        writer.close()
    server.close()
    await server.wait_closed()


def _settings(slack_url: str, mobizon_url: str) -> Settings:
    return Settings(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=slack_url + "/api/",
        mobizon_api_key=MOBIZON_KEY,
        mobizon_api_url=mobizon_url,
    )


async def test_a_silent_peer_is_not_confirmed_within_the_deadline(silent_server: str) -> None:
    """Slack and Mobizon accepting connections and never answering: each check ends at its deadline."""
    settings = _settings(silent_server, silent_server)
    async with asyncio.timeout(5):
        slack = await check_slack(settings, deadline=0.2)
        mobizon = await check_mobizon(settings, deadline=0.2)
    assert slack.outcome is Outcome.UNCONFIRMED
    assert mobizon.outcome is Outcome.UNCONFIRMED
    assert "did not answer" in slack.sentence
    assert "did not answer within 0.2 s" in mobizon.sentence


async def test_a_wrong_mobizon_server_names_mobizon_api_url() -> None:
    """Mobizon's code 13 (another API server): refused, naming MOBIZON_API_URL and the server."""

    async def wrong_server(_request: web.Request) -> web.Response:
        return web.json_response({"code": 13, "data": "api.mobizon.kz", "message": "wrong"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", wrong_server)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        url = str(server.make_url("")).rstrip("/")
        finding = await check_mobizon(_settings(url, url), deadline=2)
    finally:
        await server.close()
    assert finding.outcome is Outcome.REFUSED
    assert finding.sentence.endswith("set MOBIZON_API_URL to https://api.mobizon.kz")


async def test_slack_answers_are_judged_refused_or_not_confirmed(
    fake_slack: FakeSlack, simulator: tuple[MobizonSimulator, str]
) -> None:
    """A revoked token and a URL that is not Slack are refused; rate limiting is not confirmed."""
    settings = _settings(fake_slack.url.rstrip("/"), simulator[1])
    fake_slack.fail_next("auth.test", "ratelimited")
    limited = await check_slack(settings, deadline=2)
    assert (limited.outcome, limited.sentence) == (
        Outcome.UNCONFIRMED,
        "Slack answered auth.test with ratelimited",
    )
    fake_slack.token_revoked = True
    revoked = await check_slack(settings, deadline=2)
    assert revoked.outcome is Outcome.REFUSED
    assert "SLACK_BOT_TOKEN (invalid_auth)" in revoked.sentence
    not_slack = await check_slack(_settings(simulator[1], simulator[1]), deadline=2)
    assert not_slack.outcome is Outcome.REFUSED
    assert not_slack.sentence == (
        f"{simulator[1]} does not answer as Slack's Web API (HTTP 404): check SLACK_API_URL "
        f"(set to {simulator[1]}; unset, it is https://slack.com/api/)"
    )


def test_the_advice_about_slack_api_url_says_unset_only_of_slacks_own() -> None:
    """SLACK_API_URL set: its origin, without path or credentials; Slack's own: said so."""
    assert check_api_url("http://user:pw@127.0.0.1:18802/api/") == (
        "check SLACK_API_URL (set to http://127.0.0.1:18802; unset, it is https://slack.com/api/)"
    )
    assert check_api_url("https://slack.com/api/") == (
        "check SLACK_API_URL (it is Slack's own, https://slack.com/api/)"
    )


async def test_mobizon_answers_are_judged_refused_or_not_confirmed(
    simulator: tuple[MobizonSimulator, str],
) -> None:
    """A blocked account is refused naming the key; a 502 page is an outage, not confirmed."""
    sim, url = simulator
    settings = _settings(url, url)
    sim.fail_next(GET_BALANCE, 14)
    blocked = await check_mobizon(settings, deadline=2)
    assert blocked.outcome is Outcome.REFUSED
    assert "the account of MOBIZON_API_KEY is blocked or deleted (code 14)" in blocked.sentence
    sim.html_failure_next(status=502)
    outage = await check_mobizon(settings, deadline=2)
    assert (outage.outcome, outage.sentence) == (
        Outcome.UNCONFIRMED,
        "Mobizon failed with HTTP 502",
    )
    ok = await check_mobizon(settings, deadline=2)
    assert ok.outcome is Outcome.OK
    assert ok.found == {"balance": "10000.0000", "currency": "BRL"}


async def test_a_server_that_is_not_mobizon_names_mobizon_api_url(fake_slack: FakeSlack) -> None:
    """MOBIZON_API_URL at a server answering 404 pages: refused, naming MOBIZON_API_URL."""
    not_mobizon = fake_slack.url.rstrip("/")
    finding = await check_mobizon(_settings(not_mobizon, not_mobizon), deadline=2)
    assert finding.outcome is Outcome.REFUSED
    assert finding.sentence == (
        f"{not_mobizon} does not answer as Mobizon's API (HTTP 404): check MOBIZON_API_URL "
        "(your account's server, like https://api.mobizon.com.br)"
    )
