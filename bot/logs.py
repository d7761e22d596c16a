"""Logging: one line per event, JSON when not on a terminal, secrets and phone numbers kept out."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

from bot.redact import RedactingFilter, mask_phone, redact

# 10 to 15 digits standing alone: a phone number (Slack ts and Mobizon ids don't match)
_PHONE = re.compile(r"(?<![\w.])\+?\d{10,15}(?![\w.])")

# attributes every LogRecord has; anything else came through ``extra=`` and is logged as a field
_STANDARD = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


#: Fields every log record of the current request (or listener task) carries: channel, user.
_CONTEXT: ContextVar[dict[str, str]] = ContextVar("smsbot_log_context", default={})  # noqa: B039  # never mutated, only replaced

#: Loggers that speak too much at INFO for a long-running service.
_QUIET = ("aiohttp.access", "apscheduler")


def bind_log_context(**fields: str | None) -> None:
    """Add ``fields`` (those not None) to every record logged from here on in this context.

    Tasks started afterwards (Bolt runs each listener in one) inherit them.
    """
    _CONTEXT.set({**_CONTEXT.get(), **{k: v for k, v in fields.items() if v}})


@contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Add ``fields`` to the records logged inside the ``with`` block only."""
    token = _CONTEXT.set({**_CONTEXT.get(), **{k: v for k, v in fields.items() if v}})
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
    """Mask every phone-number-looking run of digits in ``text`` but its last 4 digits."""
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), text)


class PhoneMaskingFilter(logging.Filter):
    """Mask phone numbers in a record's message and extra fields (logs keep the last 4 digits)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        record.msg = mask_phones(record.getMessage())
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, mask_phones(value))
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
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    return handler


def install_filters(
    handler: logging.Handler, *, secrets: Iterable[str], mask_numbers: bool = True
) -> None:
    """Put the context, secret and (unless turned off) phone-masking filters on ``handler``."""
    secrets = list(secrets)
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter(secrets))
    handler.addFilter(ExtraRedactingFilter(secrets))
    if mask_numbers:
        handler.addFilter(PhoneMaskingFilter())
