"""Keep secrets and phone numbers out of logs and messages (the gateway scrubs its own errors).

Use :func:`redact` on any text that might hold a secret, :class:`RedactingFilter` on every
log handler, and :func:`mask_phone` wherever a recipient's number is logged.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus

from yarl import URL

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["REDACTED", "RedactingFilter", "mask_phone", "redact"]

#: What a secret is replaced with.
REDACTED = "***"

_VISIBLE_PHONE_DIGITS = 4
# Attributes every LogRecord has; any other came through ``extra=``.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_PERCENT_ESCAPE = re.compile(r"%[0-9A-F]{2}")


@functools.lru_cache(maxsize=256)
def _encodings(secret: str) -> frozenset[str]:
    """``secret`` as written and in every way a URL may encode it (query strings included)."""
    forms = {
        secret,
        quote(secret),
        quote(secret, safe=""),
        quote_plus(secret),
        quote_plus(secret, safe=""),
        # yarl (aiohttp's URLs, hence its exception texts) keeps "/" and "?" in a query value.
        URL("/").with_query({"k": secret}).raw_query_string.removeprefix("k="),
    }
    # Percent escapes are case-insensitive: %2b is %2B.
    return frozenset(
        forms | {_PERCENT_ESCAPE.sub(lambda m: m.group(0).lower(), form) for form in forms}
    )


def _forms(secrets: Iterable[str]) -> list[str]:
    """Each non-empty secret in all its forms, longest first so no part survives."""
    forms = {form for secret in secrets if secret for form in _encodings(secret)}
    return sorted(forms, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    """Return ``text`` with each non-empty secret, plain or URL-encoded, replaced by ``***``."""
    for form in _forms(secrets):
        text = text.replace(form, REDACTED)
    return text


def mask_phone(number: str) -> str:
    """Hide a phone number but its last 4 digits: ``+55 11 98765-4321`` -> ``*********4321``.

    Numbers of 4 digits or fewer are hidden entirely.
    """
    digits = "".join(char for char in number if char.isdigit())
    if len(digits) <= _VISIBLE_PHONE_DIGITS:
        return "*" * len(digits)
    hidden = len(digits) - _VISIBLE_PHONE_DIGITS
    return "*" * hidden + digits[hidden:]


class RedactingFilter(logging.Filter):
    """A log filter that removes secrets from a record before any handler formats it.

    Install one on every handler (a filter on a logger does not see records
    propagated from child loggers). It rewrites the message (``msg % args``), the
    formatted exception, the stack and every ``extra=`` field (aiohttp's access log
    passes the request line, query string and all, as one), and drops the live
    exception object, whose text would otherwise be formatted again without redaction.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._forms = _forms(secrets)

    def _clean(self, text: str) -> str:
        for form in self._forms:
            text = text.replace(form, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record`` in place; never drops it."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            # A malformed call must not hide the log line, nor a secret in its arguments.
            message = f"{record.msg!s} {record.args!r}"
        record.msg = self._clean(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        record.exc_info = None
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in _STANDARD_ATTRIBUTES and value is not None:
                if isinstance(value, str):
                    setattr(record, name, self._clean(value))
                elif not isinstance(value, int | float | bool):
                    # A dict or object: formatters print its str(); print it clean instead.
                    setattr(record, name, self._clean(str(value)))
        return True
