"""Secrets and phone numbers are kept out of texts and log records."""

from __future__ import annotations

import logging
import sys
from urllib.parse import quote, quote_plus

import pytest
from yarl import URL

from bot.mobizon import REDACTED, RedactingFilter, mask_phone, redact

KEY = "k3y+with/special=chars&more? and%percent"


@pytest.mark.parametrize(
    "form",
    [
        KEY,
        quote(KEY),
        quote(KEY, safe=""),
        quote_plus(KEY),
        quote_plus(KEY, safe=""),
        quote(KEY, safe="").lower(),
        URL("/").with_query(apiKey=KEY).raw_query_string.removeprefix("apiKey="),
    ],
)
def test_redact_removes_every_encoding_of_a_secret(form: str) -> None:
    """The secret is replaced whether plain, percent-encoded, plus-encoded or as yarl writes it."""
    text = f"GET https://api.mobizon.kz/service/message/list?apiKey={form}&output=json failed"
    cleaned = redact(text, [KEY])
    assert cleaned == (
        f"GET https://api.mobizon.kz/service/message/list?apiKey={REDACTED}&output=json failed"
    )


def test_redact_leaves_other_text_and_ignores_empty_secrets() -> None:
    """Text without secrets is unchanged, and an empty secret does not blank everything."""
    assert redact("nothing to hide", ["", "xyz"]) == "nothing to hide"
    assert redact("a xyz b xyz", ["xyz", ""]) == "a *** b ***"


def test_redact_handles_overlapping_secrets() -> None:
    """When one secret contains another, no part of the longer one survives."""
    assert redact("token abc123456", ["abc", "abc123456"]) == "token ***"


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+55 11 98765-4321", "*********4321"),
        ("5511987654321", "*********4321"),
        ("4321", "****"),
        ("12", "**"),
        ("", ""),
    ],
)
def test_mask_phone_keeps_only_the_last_four_digits(number: str, masked: str) -> None:
    """A phone number keeps its last 4 digits; short ones are hidden entirely."""
    assert mask_phone(number) == masked


def make_record(msg: str, args: tuple[object, ...] | None, **extra: object) -> logging.LogRecord:
    """A log record as a logger would build it."""
    record = logging.LogRecord("test", logging.ERROR, __file__, 1, msg, args, None)
    for name, value in extra.items():
        setattr(record, name, value)
    return record


def test_filter_cleans_message_arguments_exception_and_stack() -> None:
    """The filter rewrites msg % args, the traceback and the stack, and keeps the record."""
    try:
        raise RuntimeError(f"boom with {quote(KEY, safe='')}")  # noqa: TRY301 - a real traceback is needed
    except RuntimeError:
        exc_info = sys.exc_info()
    record = make_record("calling %s with %r", ("mobizon", KEY))
    record.exc_info = exc_info
    record.stack_info = f"Stack (most recent call last):\n  key={KEY}"
    assert RedactingFilter([KEY]).filter(record)
    formatted = logging.Formatter().format(record)
    assert KEY not in formatted
    assert quote(KEY, safe="") not in formatted
    assert "calling mobizon with '***'" in formatted
    assert "RuntimeError: boom with ***" in formatted
    assert record.exc_info is None
    assert record.args is None


def test_filter_keeps_a_malformed_record_without_the_secret() -> None:
    """A record whose args do not fit its message is still logged, minus the secret."""
    record = make_record("two %s %s", (KEY,))
    assert RedactingFilter([KEY]).filter(record)
    message = record.getMessage()
    assert "two %s %s" in message
    assert KEY not in message
    assert REDACTED in message


def test_filter_on_a_handler_cleans_records_from_every_logger(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Installed on a handler, the filter cleans records propagated from child loggers too."""
    redacting = RedactingFilter([KEY])
    caplog.handler.addFilter(redacting)
    try:
        with caplog.at_level(logging.DEBUG):
            logging.getLogger("aiohttp.client").debug("url %s", f"/x?apiKey={quote_plus(KEY)}")
            logging.getLogger("bot.deep.child").warning("key=%s", KEY)
    finally:
        caplog.handler.removeFilter(redacting)
    assert [record.getMessage() for record in caplog.records] == ["url /x?apiKey=***", "key=***"]


def test_filter_cleans_extra_fields() -> None:
    """Fields passed with ``extra=`` (aiohttp's access log sends the request line so) are cleaned."""
    record = make_record(
        "access",
        None,
        first_request_line=f"POST /service/message/list?apiKey={quote_plus(KEY)} HTTP/1.1",
        request_header={"Referer": KEY},
        response_status=200,
    )
    assert RedactingFilter([KEY]).filter(record)
    assert vars(record)["first_request_line"] == "POST /service/message/list?apiKey=*** HTTP/1.1"
    assert vars(record)["request_header"] == "{'Referer': '***'}"
    assert vars(record)["response_status"] == 200
