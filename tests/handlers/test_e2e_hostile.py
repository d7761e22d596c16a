"""Hostile and broken requests at ``POST /slack/events``: what they get, and what the logs keep."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus, urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.process.logs import BOLT_LOGGER, QUIET_LOGGERS, ContextFilter, log_context
from bot.process.slack_requests import ReadBoltRequest, read_body
from bot.simulator import MobizonSimulator
from handlers import UNEXPECTED_ERROR
from handlers.views import listeners
from testkit.waiting import wait_until
from tests.conftest import (
    SIGNING_SECRET,
    BotHarness,
    KeepRecords,
    formatted_lines,
    full_number_in,
)
from tests.handlers.compose_kit import state, submit
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
    # the app's WARNING (and Bolt's INFO), lowered
    quiet = [logging.getLogger(name) for name in (*QUIET_LOGGERS, BOLT_LOGGER)]
    levels = [logger.level for logger in (root, *quiet)]
    root.addHandler(keep)
    for logger in (root, *quiet):
        logger.setLevel(logging.DEBUG)
    try:
        yield keep
    finally:
        root.removeHandler(keep)
        for logger, level in zip((root, *quiet), levels, strict=True):
            logger.setLevel(level)


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


#: An SMS text and a number only the payloads below hold: no log line may show either.
SMS_TEXT = f"{TEXT_MARK} order 5511987654321 is ready"


def payload_of(kind: str) -> dict[str, Any]:
    """A well-formed signed payload of ``kind`` as Slack sends it, carrying :data:`SMS_TEXT`."""
    common: dict[str, Any] = {
        "type": kind,
        "team": {"id": "T1", "domain": "acme"},
        "user": {"id": "U1", "username": "ana", "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy-verification-token",
        "trigger_id": "1337.42.abc123",
    }
    view = {
        "id": "V0001",
        "hash": "V0001.1",
        "type": "modal",
        "callback_id": "sms_compose",
        "private_metadata": json.dumps({"channel": "C1", "surface": "modal"}),
        "blocks": [{"type": "input", "block_id": "sms_text"}],
    }
    if kind == "view_submission":
        # a phone field holding the text: answered with a field error, nothing sent
        values = state(sms_phone=SMS_TEXT, sms_text=SMS_TEXT)
        return {**common, "view": {**view, "state": values}}
    if kind == "block_actions":
        action = {
            "type": "plain_text_input",
            "action_id": "sms_text_input",
            "block_id": "sms_text",
            "value": SMS_TEXT,
            "action_ts": "1700000001.000002",
        }
        return {**common, "view": view, "actions": [action]}
    if kind == "shortcut":
        return {**common, "callback_id": "compose_sms"}
    message = {"type": "message", "text": SMS_TEXT, "user": "U2", "ts": "1700000000.000001"}
    return {
        **common,
        "callback_id": "send_as_sms",
        "channel": {"id": "C1", "name": "support"},
        "message": message,
        "response_url": "https://hooks.slack.com/actions/T1/1/secret",
    }


def changed(kind: str, path: str, value: object) -> dict[str, Any]:
    """:func:`payload_of` ``kind`` with the field at dotted ``path`` set to ``value`` (or removed)."""
    payload = payload_of(kind)
    *parents, last = path.split(".")
    node: Any = payload
    for name in parents:
        node = node[int(name)] if isinstance(node, list) else node[name]
    if value is REMOVED:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return payload


#: Marks a field removed in :func:`changed`.
REMOVED = object()

#: Signed payloads of a shape Slack never sends, each a 500 with a traceback before.
BAD_PAYLOADS: dict[str, dict[str, Any]] = {
    "a missing type": changed("view_submission", "type", REMOVED),
    "a type that is an object": changed("shortcut", "type", {"kind": SMS_TEXT}),
    "a type smsbot does not take": changed("shortcut", "type", "interactive_message"),
    "team as a number": changed("view_submission", "team", 5),
    "team.id as a list": changed("block_actions", "team.id", ["T1"]),
    "actions: []": changed("block_actions", "actions", []),
    "actions missing": changed("block_actions", "actions", REMOVED),
    "an action that is a string": changed("block_actions", "actions", [SMS_TEXT]),
    "an action's value as an object": changed("block_actions", "actions.0.value", {"t": 1}),
    "user.id as an object": changed("view_submission", "user.id", {"text": SMS_TEXT}),
    "user.id not a user id": changed("block_actions", "user.id", SMS_TEXT),
    "user missing": changed("shortcut", "user", REMOVED),
    "user as a string": changed("message_action", "user", "U1"),
    "channel as a number": changed("message_action", "channel", 5),
    "channel.id not a channel id": changed("message_action", "channel.id", SMS_TEXT),
    "message as a list": changed("message_action", "message", [SMS_TEXT]),
    "a view that is a list": changed("view_submission", "view", []),
    "view.id not a view id": changed("view_submission", "view.id", SMS_TEXT),
    "view.state as a list": changed("view_submission", "view.state", []),
    "view.state.values as a string": changed("view_submission", "view.state.values", SMS_TEXT),
    "a block's state as a number": changed("view_submission", "view.state.values.sms_text", 7),
    "a submission without callback_id": changed("view_submission", "view.callback_id", REMOVED),
    "a view without its type": changed("view_submission", "view.type", REMOVED),
    "a workflow step's view": changed("view_submission", "view.type", "workflow_step"),
    "a workflow step": changed("view_submission", "workflow_step", {"step_id": SMS_TEXT}),
    "a button on a view without its type": changed("block_actions", "view.type", REMOVED),
    "trigger_id as a number": changed("shortcut", "trigger_id", 1e20),
    "trigger_id holding text": changed("shortcut", "trigger_id", SMS_TEXT),
    "callback_id as an object": changed("shortcut", "callback_id", {"id": SMS_TEXT}),
    "enterprise as a number": changed("view_submission", "enterprise", 5),
    "is_enterprise_install as a string": changed("block_actions", "is_enterprise_install", "y"),
    "authorizations as an object": changed("shortcut", "authorizations", {"team_id": "T1"}),
    "an event inside a payload": changed("block_actions", "event", {"channel": {"x": 1}}),
    "response_url as a number": changed("message_action", "response_url", -1e12),
}


@pytest.mark.parametrize("name", list(BAD_PAYLOADS))
async def test_malformed_payloads_get_400_and_one_short_warning(
    bot: BotHarness, sim: MobizonSimulator, all_logs: KeepRecords, name: str
) -> None:
    """A signed payload of a wrong shape: 400, one WARNING naming the field, no payload text logged."""
    status, answer = await bot.post_payload(BAD_PAYLOADS[name])
    assert status == 400, answer
    warnings = [r for r in all_logs.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings] == ["slack request refused"]
    reason = str(getattr(warnings[0], "reason", ""))
    assert reason.startswith(("the payload's type", "the ")), reason
    assert TEXT_MARK not in reason
    assert not [r for r in all_logs.records if r.exc_info or r.exc_text]
    lines = bot_lines(all_logs.records)
    assert not [line for line in lines if personal_data_in(line)]
    assert bot.slack.calls == []
    assert sim.requests == []


@pytest.mark.parametrize("kind", ["view_submission", "block_actions", "shortcut", "message_action"])
async def test_well_formed_payloads_pass_the_check_and_log_no_text(
    bot: BotHarness, all_logs: KeepRecords, kind: str
) -> None:
    """Each base payload above is taken (not 400), and no line at any level shows its text or number."""
    status, answer = await bot.post_payload(payload_of(kind))
    assert status == 200, answer
    if kind in {"shortcut", "message_action"}:
        await bot.slack.wait_for("views.open")
    elif kind == "block_actions":
        await bot.slack.wait_for("views.update")
    else:
        assert json.loads(answer)["response_action"] == "errors"
    lines = bot_lines(all_logs.records)
    assert lines
    assert not [line for line in lines if personal_data_in(line)]
    assert not [r for r in all_logs.records if r.levelno >= logging.WARNING]


#: Modal fields Slack could not have sent; each is an error on its field, nothing is sent.
UNREADABLE_FIELDS: dict[str, tuple[str, dict[str, Any]]] = {
    "a time of 1e20": ("sms_at", {"type": "datetimepicker", "selected_date_time": 1e20}),
    "a time of -1e12": ("sms_at", {"type": "datetimepicker", "selected_date_time": -1e12}),
    "a time of -1": ("sms_at", {"type": "datetimepicker", "selected_date_time": -1}),
    "a huge whole time": ("sms_at", {"type": "datetimepicker", "selected_date_time": 10**30}),
    "a time as a string": ("sms_at", {"type": "datetimepicker", "selected_date_time": "soon"}),
    "a time as a bool": ("sms_at", {"type": "datetimepicker", "selected_date_time": True}),
    "a select without selected_option": ("sms_sender", {"type": "static_select"}),
    "a select option without value": (
        "sms_sender",
        {"type": "static_select", "selected_option": {"text": "x"}},
    ),
    "a select option as a string": (
        "sms_sender",
        {"type": "static_select", "selected_option": SMS_TEXT},
    ),
    "a text input holding a number": ("sms_text", {"type": "plain_text_input", "value": 5}),
    "a text input holding a list": ("sms_name", {"type": "plain_text_input", "value": [SMS_TEXT]}),
    "a phone holding an object": ("sms_phone", {"type": "plain_text_input", "value": {"a": 1}}),
}


@pytest.mark.parametrize("name", list(UNREADABLE_FIELDS))
async def test_unreadable_modal_fields_are_field_errors(
    bot: BotHarness, sim: MobizonSimulator, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    """A modal field Slack could not have sent is an error on that field (JSON), never a 500."""
    block, entry = UNREADABLE_FIELDS[name]
    caplog.set_level(logging.DEBUG)
    status, _ = await bot.command("")
    assert status == 200
    await bot.slack.wait_for("views.open")
    view = bot.slack.views["V0001"]
    typed: dict[str, Any] = {"sms_phone": "+55 11 98765-4321", "sms_text": "Your order is ready"}
    typed[block] = entry
    status, answer = await submit(bot, view, state(**typed))
    assert status == 200, answer
    errors = json.loads(answer)
    assert errors["response_action"] == "errors"
    assert list(errors["errors"]) == [block]
    assert "could not read" in errors["errors"][block]
    assert_one_warning_at_most(caplog)
    assert sim.requests == [] or "sendsmsmessage" not in {r.method for r in sim.requests}


async def test_a_listener_failing_on_a_submission_answers_json(
    bot: BotHarness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A modal submission whose listener fails gets a field error Slack reads, not plain text."""

    def broken(*_args: object, **_kwargs: object) -> None:
        msg = "simulated reading bug"
        raise IndexError(msg)

    monkeypatch.setattr(listeners, "read_submission", broken)
    status, answer = await bot.post_payload(changed("view_submission", "user.id", "U1"))
    assert status == 200
    body = json.loads(answer)
    assert body["response_action"] == "errors"
    assert body["errors"] == {"sms_phone": UNEXPECTED_ERROR}
    assert [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_payload_no_listener_takes_logs_one_warning_without_its_ids(
    bot: BotHarness, all_logs: KeepRecords
) -> None:
    """A shortcut and a submission no listener takes: one WARNING each, naming only the type."""
    shortcut = changed("shortcut", "callback_id", SMS_TEXT)
    status, _ = await bot.post_payload(shortcut)
    assert status == 404
    submission = changed("view_submission", "view.callback_id", SMS_TEXT)
    status, answer = await bot.post_payload(submission)
    assert (status, answer) == (200, "")
    warnings = [r for r in all_logs.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings] == ["no listener takes this Slack request"] * 2
    assert [getattr(r, "payload_type", None) for r in warnings] == ["shortcut", "view_submission"]
    raw = [r.getMessage() + str(vars(r)) for r in all_logs.records]
    assert not [line for line in raw if TEXT_MARK in line]


def test_only_string_ids_reach_the_log_context() -> None:
    """An id that is not a string (an object holding SMS text) never becomes a log field."""
    record = logging.makeLogRecord({"msg": "x"})
    with log_context(user={"text": SMS_TEXT}, channel="C1"):  # type: ignore[arg-type]  # as a forged payload would
        ContextFilter().filter(record)
    assert not hasattr(record, "user")
    assert getattr(record, "channel", None) == "C1"


async def test_a_command_without_a_response_url_is_refused_at_the_edge(
    bot: BotHarness, sim: MobizonSimulator, all_logs: KeepRecords
) -> None:
    """A signed command with nowhere to answer after its ack: 400, one WARNING, no traceback."""
    body = bot.command_body("balance")
    del body["response_url"]
    status, _ = await bot.post_signed(urlencode(body))
    assert status == 400
    warnings = [r for r in all_logs.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings] == ["slack request refused"]
    assert not [r for r in all_logs.records if r.exc_info or r.exc_text]
    assert sim.requests == []


async def test_a_response_url_that_cannot_be_reached_is_a_warning(
    bot: BotHarness, sim: MobizonSimulator, all_logs: KeepRecords
) -> None:
    """Slack's response URL unreachable after the ack: WARNINGs naming no URL, no ERROR, no traceback."""
    dead = "http://127.0.0.1:9/commands/T1/1/secret-part"
    assert await bot.command("balance", response_url=dead) == (200, "")
    await wait_until(
        lambda: any("could not be reached" in r.getMessage() for r in all_logs.records),
        what="the unreachable response URL to be logged",
    )
    assert not [r for r in all_logs.records if r.levelno >= logging.ERROR]
    assert not [r for r in all_logs.records if r.exc_info or r.exc_text]
    assert not [line for line in bot_lines(all_logs.records) if "secret-part" in line]


async def test_a_forged_channel_in_the_modals_metadata_posts_nowhere(
    bot: BotHarness, sim: MobizonSimulator, all_logs: KeepRecords
) -> None:
    """private_metadata naming no channel id (text, a number): nothing sent, nothing of it logged."""
    forged = json.dumps({"channel": f"C1 5511987654321 {TEXT_MARK}", "surface": "modal"})
    view = {
        "id": "V0001",
        "type": "modal",
        "callback_id": "sms_compose",
        "private_metadata": forged,
        "blocks": [],
    }
    status, answer = await submit(
        bot, view, state(sms_phone="5511987654321", sms_text=f"hi {TEXT_MARK}")
    )
    assert status == 200
    assert json.loads(answer)["response_action"] == "errors"
    assert sim.requests == []
    assert bot.slack.called("chat.postMessage") == []
    assert not [line for line in bot_lines(all_logs.records) if TEXT_MARK in line]
