"""Logging: one line per event, JSON when not on a terminal, secrets and phone numbers kept out."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

from bot.mobizon import RedactingFilter, mask_phone, redact

# What people write between a number's digits (README: "+55 (11) 98765-4321", "11.98765.4321"),
# plain or URL-encoded as a form body carries it: %20 space, %28 ( %29 ), %2B +, %2D -, %2E .
_SEPARATOR = r"(?:[ \t\-().+/]|%2[0589bBdDeEfF])"
# 10 to 15 digits standing alone, with up to 3 separators between two digits: a phone number.
# Not inside a word (ids like s_8772895239673), not a Slack ts (1700000001.000001: its digit run
# goes on after a dot), not a date ("2026-01-15 11:42"), and found after an encoded "+" or "(".
_PHONE = re.compile(
    r"(?:(?<![\w.%])\+)?(?:(?<=%2[bB8])|(?<=%20)|(?<![\w.%]))(?!\d{4}-\d\d-\d\d)"
    rf"\d(?:{_SEPARATOR}{{0,3}}\d){{9,14}}(?!\w|\.\d)"
)
# Values that are personal data whatever they hold, in a form body or a JSON/dict rendering:
# the SMS text a command carries and the response URL (a credential to answer the user).
_SENSITIVE_FORM_FIELD = re.compile(r"(?P<key>\b(?:text|response_url)=)[^&\s]*")
_SENSITIVE_QUOTED_FIELD = re.compile(
    r"""(?P<key>(?P<q>['"])(?:text|response_url)(?P=q)\s*:\s*)"""
    r"""(?P<open>['"])(?:\\.|(?!(?P=open)).)*(?P=open)""",
    re.DOTALL,
)
# Slack's response URLs, plain or URL-encoded, wherever they appear.
_RESPONSE_URL = re.compile(r"https?(?::|%3[aA])(?://|%2[fF]%2[fF])hooks\.slack\.com[^\s'\"&,)]*")
#: What a hidden value is replaced with.
HIDDEN = "[hidden]"

# attributes every LogRecord has; anything else came through ``extra=`` and is logged as a field
_STANDARD = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


#: Fields every log record of the current request (or listener task) carries: channel, user.
_CONTEXT: ContextVar[dict[str, str]] = ContextVar("smsbot_log_context", default={})  # noqa: B039  # never mutated, only replaced

#: Loggers that speak too much at INFO for a long-running service: WARNING and up only.
QUIET_LOGGERS = ("aiohttp.access", "apscheduler")

#: Bolt's logger, given the configured level itself: Bolt words a DEBUG line for each
#: middleware and listener of every request whenever its logger's own level is unset (it reads
#: ``logger.level``, not the level in effect), only for the line to be dropped.
BOLT_LOGGER = "slack_bolt"


#: Seconds between two lines of the same repeated warning (a flood of refused requests).
REPEAT_WARNING_SECONDS = 60.0


class LogThrottle:
    """Lets a repeated log line through at most once per ``every`` seconds for each key.

    Anyone can send requests that are refused: one WARNING each would let them fill the log.
    Keys must come from a small set of our own (such as a refusal's reason), as each is kept.
    """

    def __init__(
        self,
        every: float = REPEAT_WARNING_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._every = every
        self._clock = clock
        self._last: dict[Hashable, float] = {}
        self._dropped: dict[Hashable, int] = {}

    def admit(self, key: Hashable) -> int | None:
        """``None`` to drop the line; else how many of ``key``'s were dropped since the last."""
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self._every:
            self._dropped[key] = self._dropped.get(key, 0) + 1
            return None
        self._last[key] = now
        return self._dropped.pop(key, 0)


def bind_log_context(**fields: str | None) -> None:
    """Add ``fields`` (those not None) to every record logged from here on in this context.

    Tasks started afterwards (Bolt runs each listener in one) inherit them.
    """
    _CONTEXT.set({**_CONTEXT.get(), **_strings(fields)})


def _strings(fields: dict[str, str | None]) -> dict[str, str]:
    """The fields that are non-empty strings (an id that is an object would log what it holds)."""
    return {key: value for key, value in fields.items() if isinstance(value, str) and value}


@contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Add ``fields`` to the records logged inside the ``with`` block only."""
    token = _CONTEXT.set({**_CONTEXT.get(), **_strings(fields)})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


class ContextFilter(logging.Filter):
    """Give a record the bound context fields (channel, user) it does not already have."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the fields in place; never drops the record."""
        for key, value in _CONTEXT.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class ExtraRedactingFilter(logging.Filter):
    """Remove secrets from a record's extra fields (the message is the RedactingFilter's job)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite string extras in place; never drops the record."""
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, redact(value, self._secrets))
        return True


def mask_phones(text: str) -> str:
    """Mask every phone number in ``text`` (written in any accepted form) but its last 4 digits."""
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), text)


def hide_personal_fields(text: str) -> str:
    """Hide SMS texts and response URLs that a request body or a payload rendering carries."""
    text = _RESPONSE_URL.sub(HIDDEN, text)
    text = _SENSITIVE_QUOTED_FIELD.sub(lambda m: f"{m.group('key')}'{HIDDEN}'", text)
    return _SENSITIVE_FORM_FIELD.sub(lambda m: m.group("key") + HIDDEN, text)


class PhoneMaskingFilter(logging.Filter):
    """Mask phone numbers in a record's message, traceback and extra fields (last 4 digits kept)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        record.msg = mask_phones(record.getMessage())
        record.args = None
        if record.exc_text:
            record.exc_text = mask_phones(record.exc_text)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, mask_phones(value))
        return True


#: Libraries that put request and response bodies in their log lines.
_BODY_LOGGERS = ("slack_bolt", "slack_sdk", "aiohttp")
#: Libraries whose every URL is a response URL (Bolt's ``respond`` and ours post through it).
_RESPONSE_URL_LOGGERS = ("slack_sdk.webhook",)
_ANY_URL = re.compile(r"https?://\S+?(?=[,\s]|$)")
#: Where such a line starts to quote a body; the rest of the line is dropped.
_BODY_MARKERS = ("body:", "body=", "(signature:", "request (", "payload:", "params:")


class PersonalDataFilter(logging.Filter):
    """Keep SMS texts and response URLs out of every record (numbers: PhoneMaskingFilter).

    Slack's libraries quote whole request bodies (a command's text, its response URL) in some
    lines: Bolt's "Invalid request signature detected (…, body: …)", its "no response for the
    request ({body})", slack_sdk's DEBUG "Sending a request - url: …, body: …". Such lines keep
    their words and lose the quoted part; every record also loses ``text=``/``response_url=``
    values and Slack response URLs wherever they appear.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        message = record.getMessage()
        if record.name.startswith(_RESPONSE_URL_LOGGERS):
            # every URL slack_sdk's webhook client speaks of is a response URL
            message = _ANY_URL.sub(HIDDEN, message)
        if record.name.startswith(_BODY_LOGGERS):
            for marker in _BODY_MARKERS:
                at = message.find(marker)
                if at >= 0:
                    message = message[: at + len(marker)] + " " + HIDDEN
        record.msg = hide_personal_fields(message)
        record.args = None
        if record.exc_text:
            record.exc_text = hide_personal_fields(record.exc_text)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, hide_personal_fields(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, extra fields, and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` as one line of JSON."""
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, int | float | bool | None) else str(value)
        # the RedactingFilter turns exc_info into a cleaned exc_text
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """A readable line for terminals, with the extra fields as ``key=value``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` with its extra fields appended."""
        line = super().format(record)
        extras = [
            f"{k}={v}"
            for k, v in vars(record).items()
            if k not in _STANDARD and not k.startswith("_")
        ]
        if extras:
            first, sep, rest = line.partition("\n")
            line = f"{first} [{' '.join(extras)}]{sep}{rest}"
        return line


def configure_logging(
    *,
    secrets: Iterable[str],
    fmt: Literal["auto", "json", "text"] = "auto",
    mask_numbers: bool = True,
    level: int = logging.INFO,
) -> logging.Handler:
    """Send every log record to stderr through the redaction (and phone-masking) filters."""
    handler = logging.StreamHandler(sys.stderr)
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    handler.setFormatter(JsonFormatter() if use_json else TextFormatter())
    install_filters(handler, secrets=secrets, mask_numbers=mask_numbers)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    logging.getLogger(BOLT_LOGGER).setLevel(level)
    return handler


def install_filters(
    handler: logging.Handler, *, secrets: Iterable[str], mask_numbers: bool = True
) -> None:
    """Put the context, secret and (unless turned off) phone-masking filters on ``handler``."""
    secrets = list(secrets)
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter(secrets))
    handler.addFilter(ExtraRedactingFilter(secrets))
    handler.addFilter(PersonalDataFilter())
    if mask_numbers:
        handler.addFilter(PhoneMaskingFilter())
