"""Hostile and broken requests at ``POST /slack/events``: what they get, and what the logs keep."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Iterator
from urllib.parse import quote, quote_plus, unquote_plus, urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.simulator import MobizonSimulator
from bot.slack_requests import ReadBoltRequest, read_body
from testkit.waiting import wait_until
from tests.conftest import (
    SIGNING_SECRET,
    BotHarness,
    KeepRecords,
    formatted_lines,
    full_number_in,
)
from tests.handlers.conftest import block_texts, buttons, click

#: Every way the README lets a person write the one number, 55 11 98765-4321.
NUMBER_FORMS = (
    "+55 (11) 98765-4321",
    "+55 11 98765-4321",
    "5511987654321",
    "+5511987654321",
    "(11) 98765-4321",
    "11 98765-4321",
    "+55.11.98765.4321",
    "+55-11-98765-4321",
)
#: A word that only the SMS texts of these tests hold.
TEXT_MARK = "Zanzibarcode"


@pytest.fixture
def all_logs() -> Iterator[KeepRecords]:
    """Every record at every level, DEBUG included, while the test runs."""
    keep = KeepRecords(level=logging.DEBUG)
    root = logging.getLogger()
    level = root.level
    root.addHandler(keep)
    root.setLevel(logging.DEBUG)
    try:
        yield keep
    finally:
        root.removeHandler(keep)
        root.setLevel(level)


_FAKE_PATHS = re.compile(r"\"POST /(?:response|api|service)/")


def bot_lines(records: list[logging.LogRecord]) -> list[str]:
    """The bot's records as the app writes them, without the fakes' own access lines."""
    return formatted_lines(
        [
            record
            for record in records
            if not (record.name == "aiohttp.access" and _FAKE_PATHS.search(record.getMessage()))
        ]
    )


def personal_data_in(line: str) -> list[str]:
    """What personal data ``line`` shows: the number (or its hidden digits), an SMS text, a response URL."""
    found = []
    decoded = unquote_plus(unquote_plus(line))
    digits = re.sub(r"[\s().+\-/]", "", decoded)
    if full_number_in(line) or "98765" in digits:
        found.append("number")
    if TEXT_MARK.lower() in decoded.lower():
        found.append("text")
    if "/response/" in decoded or "hooks.slack.com" in decoded:
        found.append("response_url")
    return found


def signed_headers(
    raw: bytes | str, *, ts: str | None = None, secret: str = SIGNING_SECRET
) -> dict[str, str]:
    """Headers Slack would send with ``raw``, signed with ``secret``."""
    stamp = ts or str(int(time.time()))
    body = raw.decode() if isinstance(raw, bytes) else raw
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body) or ""
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }


async def post_raw(bot: BotHarness, raw: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST bytes to /slack/events as they are; return the status and the answer."""
    async with bot.session.post(bot.url + "slack/events", data=raw, headers=headers) as resp:
        return resp.status, await resp.text()


@pytest.mark.raw_logs
async def test_no_log_line_holds_a_number_text_or_response_url(
    bot: BotHarness, sim: MobizonSimulator, all_logs: KeepRecords
) -> None:
    """Forged, stale and real commands with the number in every form: no line at any level leaks."""
    for n, form in enumerate(NUMBER_FORMS):
        text = f"send {form} {TEXT_MARK} {n}"
        raw = urlencode(bot.command_body(text))
        # a forged signature, a rotated secret, a 10-minute-old stamp: refused
        assert (await bot.post_signed(raw, secret="not-the-signing-secret-123"))[0] == 401
        assert (await bot.post_signed(raw, timestamp=int(time.time()) - 600))[0] == 401
        # the form encoded as a browser would (%20 spaces), signed: accepted, sent
        percent = urlencode(bot.command_body(text), quote_via=quote)
        assert (await bot.post_signed(percent))[0] == 200
    await wait_until(lambda: sim.count("sendSmsMessage") == len(NUMBER_FORMS), what="the sends")
    await bot.command("find to:5511987654321")
    await bot.slack.wait_for_responses(1)
    lines = bot_lines(all_logs.records)
    assert lines, "the requests were logged"
    leaks = [(kinds, line) for line in lines if (kinds := personal_data_in(line))]
    assert not leaks, "\n".join(f"{kinds}: {line}" for kinds, line in leaks)


def test_leak_check_sees_every_form() -> None:
    """The log scan above finds the number in every accepted form, encoded or not, and the text."""
    for form in NUMBER_FORMS:
        assert personal_data_in(f"body: text=send+{quote(form)}") == ["number"]
        assert personal_data_in(f"x {form} y") == ["number"]
    assert personal_data_in(f"text=hi+{TEXT_MARK}") == ["text"]


def test_suite_number_check_sees_every_form() -> None:
    """The check every test's logs go through finds the number in every form, encoded or not."""
    for form in NUMBER_FORMS:
        assert full_number_in(f"body: text=send+{quote(form)}"), form
        assert full_number_in(f"body: text=send+{quote_plus(form)}"), form
        assert full_number_in(f"x {form} y"), form
    assert full_number_in("text=send+%2B5511987654321")
    for harmless in (
        "2026-11-30 09:15:23,123 INFO smsbot: ok",
        "slack ts 1700000001.000001",
        "127.0.0.1:54321 POST /slack/events 200",
        "to +55 11 *****-4321 id s_8772895239673",
    ):
        assert not full_number_in(harmless), harmless


async def test_a_command_saying_payload_is_a_command(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Text and a channel name holding "payload" are read as a command (Bolt answered 404)."""
    status, _ = await bot.command(
        "send +55 11 98765-4321 your payload has shipped", channel_name="payload-team"
    )
    assert status == 200
    await wait_until(lambda: sim.count("sendSmsMessage") == 1, what="the send")
    (post,) = await bot.slack.wait_for("chat.postMessage")
    assert "your payload has shipped" in block_texts(post.params["blocks"])


async def test_payload_buttons_keep_working(bot: BotHarness, sim: MobizonSimulator) -> None:
    """An interactivity payload (the find Next button) is still read as one."""
    for i in range(30):
        sim.create_message("5511987654321", f"payload {i}")
    await bot.command("find to:5511")
    (first,) = await bot.slack.wait_for_responses(1)
    status, _ = await click(bot, buttons(first.params["blocks"])["sms_find_next"])
    assert status == 200
    second = (await bot.slack.wait_for_responses(2))[1]
    assert "page 2 of 2" in second.params["text"]


def test_form_with_payload_word_and_command_is_a_command() -> None:
    """The body reader keeps a command a command, and reads a payload field as JSON."""
    raw = urlencode({"command": "/sms", "text": "payload", "user_id": "U1", "channel_id": "C1"})
    _, body = read_body(raw.encode(), "application/x-www-form-urlencoded")
    assert body["command"] == "/sms"
    assert body["text"] == "payload"
    _, action = read_body(
        urlencode({"payload": json.dumps({"type": "block_actions"})}).encode(),
        "application/x-www-form-urlencoded",
    )
    assert action == {"type": "block_actions"}


def test_a_copy_of_the_request_is_read_the_same_way() -> None:
    """Bolt's request copy (lazy listeners) keeps the command a command, not Bolt's reading."""
    raw = urlencode({"command": "/sms", "text": "payload", "user_id": "U1", "channel_id": "C1"})
    _, body = read_body(raw.encode(), "application/x-www-form-urlencoded")
    request = ReadBoltRequest(raw=raw, body=body, query="", headers={})
    copied = request.to_copyable()
    assert copied.body["command"] == "/sms"
    assert copied.context.user_id == "U1"


MALFORMED = {
    "invalid UTF-8": b"command=%2Fsms&text=\xff\xfe&user_id=U1&channel_id=C1",
    "payload= with broken JSON": b"payload=%7Bnot+json",
    "a payload that is a list": b"payload=%5B1%2C2%5D",
    "{oops as JSON": b"{oops",
    "deeply nested JSON": b"[" * 100_000 + b"]" * 100_000,
    "deeply nested payload": b"payload=" + b"%5B" * 50_000,
    "1e400 in a payload": b"payload=%7B%22type%22%3A1e400%7D",
}


@pytest.mark.parametrize("name", list(MALFORMED))
async def test_malformed_signed_bodies_get_400_and_one_warning(
    bot: BotHarness, sim: MobizonSimulator, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    """A signed but unreadable body gets 400 and at most one WARNING, no traceback, no ERROR."""
    raw = MALFORMED[name]
    headers = signed_headers(b"")
    # sign the exact bytes (slack_sdk's helper wants text, and these are not always UTF-8)
    base = b"v0:" + headers["X-Slack-Request-Timestamp"].encode() + b":" + raw
    digest = hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    headers["X-Slack-Signature"] = "v0=" + digest
    if name == "{oops as JSON":
        headers["Content-Type"] = "application/json"
    caplog.set_level(logging.DEBUG)
    status, _ = await post_raw(bot, raw, headers)
    assert status == 400
    assert_one_warning_at_most(caplog)
    assert sim.requests == []


@pytest.mark.parametrize("stamp", ["abc", "1e9", "-1", "99999999999999999999999", " 17"])
async def test_non_numeric_timestamp_gets_401_and_one_warning(
    bot: BotHarness, caplog: pytest.LogCaptureFixture, stamp: str
) -> None:
    """A timestamp that is not a number gets 401 and at most one WARNING, no traceback."""
    raw = urlencode(bot.command_body("help"))
    caplog.set_level(logging.DEBUG)
    status, _ = await post_raw(bot, raw.encode(), signed_headers(raw, ts=stamp))
    assert status == 401
    assert_one_warning_at_most(caplog)


def assert_one_warning_at_most(caplog: pytest.LogCaptureFixture) -> None:
    """At most one WARNING line, nothing above it, and no traceback at all."""
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    worse = [r for r in caplog.records if r.levelno > logging.WARNING]
    traced = [r for r in caplog.records if r.exc_info or r.exc_text]
    assert len(warnings) <= 1, [r.getMessage() for r in warnings]
    assert not worse, [r.getMessage() for r in worse]
    assert not traced


async def test_signed_command_without_user_id_gets_400(
    bot: BotHarness, sim: MobizonSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """A signed command that names no user is refused with 400 (it was a 500)."""
    body = bot.command_body("send +55 11 98765-4321 hi")
    del body["user_id"]
    status, _ = await bot.post_signed(urlencode(body))
    assert status == 400
    assert_one_warning_at_most(caplog)
    assert sim.requests == []
