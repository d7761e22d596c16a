"""Logs: one line per event, JSON off a terminal, request fields, no secrets, numbers masked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.process.logs import (
    BOLT_LOGGER,
    QUIET_LOGGERS,
    JsonFormatter,
    LogThrottle,
    TextFormatter,
    configure_logging,
    install_filters,
    log_context,
)
from bot.simulator import MobizonSimulator
from testkit.slack import FakeSlack
from tests.conftest import MOBIZON_KEY, SECRETS, BotHarness, full_number_in


class _Lines(logging.Handler):
    """A handler that formats every record through the app's filters into a list of lines."""

    def __init__(self, formatter: logging.Formatter, *, mask_numbers: bool = True) -> None:
        super().__init__()
        self.setFormatter(formatter)
        install_filters(self, secrets=SECRETS, mask_numbers=mask_numbers)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def _fail(error: Exception) -> None:
    raise error


@pytest.fixture
def json_lines() -> Iterator[_Lines]:
    """JSON lines of every record logged under ``smsbot.test`` and ``handlers``."""
    handler = _Lines(JsonFormatter())
    loggers = [logging.getLogger(name) for name in ("smsbot.test", "handlers", "bot")]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)


@pytest.fixture
def restore_root() -> Iterator[None]:
    """Put the root logger's handlers and levels back after a test that reconfigures them."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in (*QUIET_LOGGERS, BOLT_LOGGER)}
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name, quiet_level in quiet.items():
        logging.getLogger(name).setLevel(quiet_level)


def test_a_json_line_per_event_even_with_a_traceback(json_lines: _Lines) -> None:
    """Each record is one JSON object on one line: message, level, extras and the traceback."""
    log = logging.getLogger("smsbot.test")
    try:
        _fail(RuntimeError("boom\nsecond line"))
    except RuntimeError:
        log.exception("it failed", extra={"sms_id": 6300284, "channel": "C1"})
    [line] = json_lines.lines
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["msg"] == "it failed"
    assert entry["level"] == "error"
    assert entry["logger"] == "smsbot.test"
    assert entry["sms_id"] == 6300284
    assert entry["channel"] == "C1"
    assert "RuntimeError: boom" in entry["exc"]
    assert entry["ts"].endswith("+00:00")


def test_secrets_never_reach_a_line(json_lines: _Lines) -> None:
    """Secrets in the message, its arguments, extra fields or an exception are replaced by ***."""
    log = logging.getLogger("smsbot.test")
    log.info("key %s in args", MOBIZON_KEY, extra={"error": f"url?apiKey={MOBIZON_KEY}"})
    log.warning(f"token {SECRETS[0]} in the message")  # noqa: G004  # a careless call, on purpose
    try:
        _fail(ValueError(f"signing secret {SECRETS[1]}"))
    except ValueError:
        log.exception("failed")
    assert len(json_lines.lines) == 3
    for line in json_lines.lines:
        for secret in SECRETS:
            assert secret not in line
    assert "***" in json.loads(json_lines.lines[0])["error"]


def test_phone_numbers_keep_only_their_last_four_digits(json_lines: _Lines) -> None:
    """Numbers in messages and extras are masked but their last 4 digits; ids and ts are kept."""
    log = logging.getLogger("smsbot.test")
    log.info(
        "sending to %s (+5511987654321) as sms 6300284 ts 1700000001.000001",
        "5511987654321",
        extra={"recipient": "+5511912345678"},
    )
    entry = json.loads(json_lines.lines[0])
    assert entry["msg"] == (
        "sending to *********4321 (*********4321) as sms 6300284 ts 1700000001.000001"
    )
    assert entry["recipient"] == "*********5678"
    assert not full_number_in(json_lines.lines[0])


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter()])
def test_a_number_inside_a_traceback_is_masked(formatter: logging.Formatter) -> None:
    """An exception whose message carries a number is logged with that number masked."""
    handler = _Lines(formatter)
    log = logging.getLogger("smsbot.test.traceback")
    log.addHandler(handler)
    try:
        _fail(ValueError("Mobizon refused +55 11 98765-4321 and 5511912345678"))
    except ValueError:
        log.exception("send failed")
    finally:
        log.removeHandler(handler)
    [line] = handler.lines
    assert "ValueError: Mobizon refused *********4321 and *********5678" in line
    assert not full_number_in(line)


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("1133334444", "******4444"),  # a São Paulo landline: 10 digits
        ("(11) 3333-4444", "(******4444"),  # the mask starts at the first digit
        ("+55 11 3333-4444", "********4444"),
    ],
)
def test_a_ten_digit_landline_is_masked(json_lines: _Lines, written: str, masked: str) -> None:
    """A landline number (10 digits, or 12 with the country code) keeps only its last 4 digits."""
    logging.getLogger("smsbot.test").info("calling %s now", written)
    entry = json.loads(json_lines.lines[0])
    assert entry["msg"] == f"calling {masked} now"


@pytest.mark.raw_logs
def test_full_numbers_shown_when_configured() -> None:
    """With SMSBOT_SHOW_FULL_NUMBERS the mask is off (secrets are still removed)."""
    handler = _Lines(JsonFormatter(), mask_numbers=False)
    log = logging.getLogger("smsbot.test.raw")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("to 5511987654321 with %s", MOBIZON_KEY)
    finally:
        log.removeHandler(handler)
        log.propagate = True
    entry = json.loads(handler.lines[0])
    assert entry["msg"] == "to 5511987654321 with ***"


def test_context_fields_are_added_to_records(json_lines: _Lines) -> None:
    """Fields bound for a request (channel, user) appear on its records, without overriding extras."""
    log = logging.getLogger("smsbot.test")
    with log_context(channel="C9", user="U9"):
        log.info("inside", extra={"channel": "C1"})
    log.info("outside")
    inside, outside = (json.loads(line) for line in json_lines.lines)
    assert (inside["channel"], inside["user"]) == ("C1", "U9")
    assert "user" not in outside


async def test_a_send_logs_sms_id_channel_and_user(
    json_lines: _Lines,
    start_bot: Callable[..., Any],
    simulator: tuple[MobizonSimulator, str],
    fake_slack: FakeSlack,
) -> None:
    """The bot's log line for a send names the SMS id, the Slack channel, the user and the surface."""
    bot: BotHarness = await start_bot(simulator[1])
    await bot.command("send +55 11 98765-4321 log me", channel_id="C7", user_id="U7")
    await fake_slack.wait_for("chat.postMessage")
    entries = [json.loads(line) for line in json_lines.lines]
    sent = [e for e in entries if e["msg"] == "sms sent"]
    assert len(sent) == 1
    assert sent[0]["sms_id"] == 6300284
    assert sent[0]["channel"] == "C7"
    assert sent[0]["user"] == "U7"
    assert sent[0]["surface"] == "slash_command"


@pytest.mark.usefixtures("restore_root")
def test_json_off_a_terminal_and_text_on_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """``auto`` writes JSON when stderr is not a terminal and readable text when it is."""

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream, is_json in ((io.StringIO(), True), (Tty(), False)):
        monkeypatch.setattr("sys.stderr", stream)
        logging.getLogger("apscheduler").setLevel(logging.NOTSET)  # quieted by what follows
        handler = configure_logging(secrets=SECRETS, fmt="auto")
        assert isinstance(handler.formatter, JsonFormatter if is_json else TextFormatter)
        logging.getLogger("smsbot.test").info("hello", extra={"sms_id": 1})
        line = stream.getvalue().strip()
        if is_json:
            assert json.loads(line)["msg"] == "hello"
        else:
            assert line.endswith("INFO    smsbot.test: hello [sms_id=1]")
        assert logging.getLogger("apscheduler").level == logging.WARNING
        # Bolt's own level, not an unset one, so it words no DEBUG line it would drop
        assert logging.getLogger(BOLT_LOGGER).level == logging.INFO


def test_bolt_and_slack_sdk_body_lines_lose_the_body() -> None:
    """Bolt's invalid-signature line and slack_sdk's request line keep no text, number or URL."""
    body = (
        "token=x&command=%2Fsms&text=send+%2B55+%2811%29+98765-4321+Secretword+1234"
        "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1%2F1%2Fabc&user_id=U1"
    )
    lines = [
        logging.makeLogRecord(
            {
                "name": "slack_bolt.App",
                "levelno": logging.INFO,
                "levelname": "INFO",
                "msg": f"Invalid request signature detected (signature: v0=1, timestamp: 1, body: {body})",
            }
        ),
        logging.makeLogRecord(
            {
                "name": "slack_sdk.webhook.async_client",
                "levelno": logging.DEBUG,
                "levelname": "DEBUG",
                "msg": "Sending a request - url: http://127.0.0.1:9/response/7, body: "
                '{"text": "Secretword to +55 11 98765-4321"}',
            }
        ),
        logging.makeLogRecord(
            {"name": "smsbot", "levelno": logging.INFO, "levelname": "INFO", "msg": body}
        ),
    ]
    pipeline = logging.Handler()
    install_filters(pipeline, secrets=())
    for record in lines:
        pipeline.filter(record)
        for formatter in (JsonFormatter(), TextFormatter()):
            line = formatter.format(record)
            assert "Secretword" not in line, line
            assert "98765" not in line, line
            assert "hooks.slack.com" not in line, line
            assert "/response/7" not in line, line


def test_a_throttle_lets_one_line_a_minute_through_and_counts_the_rest() -> None:
    """Within a minute only the first line of a key passes; the next one counts those dropped."""
    now = [1000.0]
    throttle = LogThrottle(60.0, clock=lambda: now[0])
    assert throttle.admit("unsigned") == 0
    assert [throttle.admit("unsigned") for _ in range(5)] == [None] * 5
    assert throttle.admit("bad timestamp") == 0  # another reason is not held back
    now[0] += 59.9
    assert throttle.admit("unsigned") is None
    now[0] += 0.1
    assert throttle.admit("unsigned") == 6
    assert throttle.admit("unsigned") is None
    now[0] += 60
    assert throttle.admit("unsigned") == 1
