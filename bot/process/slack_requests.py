"""``POST /slack/events`` before Bolt: verify Slack's signature, read the body, refuse the rest.

Bolt's own path has three faults this module closes:

- it parses the body before checking the signature, so a malformed body (invalid UTF-8, a
  ``payload=`` that is not JSON, ``{oops`` as JSON) raised an exception and logged an ERROR
  traceback for anyone, without a secret;
- it logs the raw body of a request whose signature fails (numbers, SMS texts, response URLs);
- its ``parse_body`` takes any form body holding the substring ``payload`` for an
  interactivity payload, so ``/sms send … your payload has shipped`` was dropped with a 404
  (a Bolt bug, reported with a reproduction in ``docs/bolt-payload-parsing.md``: once Bolt
  reads such bodies right, :class:`ReadBoltRequest` can go).

Here the signature is checked first, on the raw bytes (401, one WARNING line without the body);
then the body is decoded and read: a form with a ``command`` field is a slash command whatever
its text says, a form whose ``payload`` field is a JSON object is an interactivity payload, and
anything else unreadable is answered 400. A command or payload whose fields are not of the
shapes Slack sends (:mod:`bot.process.slack_payloads`) is answered 400 too, before Bolt builds its
context
from them. Bolt then gets the body already read; it does not check the signature again (its
own check is off: ``bot.process.app.make_bolt_app``).
"""

from __future__ import annotations

import copy
import hmac
import json
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.process.logs import LogThrottle
from bot.process.slack_payloads import PayloadShapeError, check_command, check_payload

logger = logging.getLogger(__name__)

#: Slack refuses requests older than this itself; the same window as Bolt's verifier.
MAX_REQUEST_AGE = 5 * 60
#: Slack's payloads are small; anything bigger is not Slack.
MAX_BODY = 1024 * 1024


class BadSlackRequestError(Exception):
    """The request is not one Slack sent: ``status`` is the HTTP answer, the text says why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def verify_signature(
    secret: str, raw: bytes, headers: Mapping[str, str], *, now: float | None = None
) -> None:
    """Raise :class:`BadSlackRequestError` (401) unless Slack signed ``raw`` in the last 5 min."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not timestamp or not signature:
        raise BadSlackRequestError(401, "no Slack signature")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:  # noqa: PLR2004
        raise BadSlackRequestError(401, "the request timestamp is not a number")
    moment = time.time() if now is None else now
    if abs(moment - int(timestamp)) > MAX_REQUEST_AGE:
        raise BadSlackRequestError(401, "the request timestamp is over 5 minutes off")
    # by hand, over the raw bytes: slack_sdk's SignatureVerifier decodes the body first, and a
    # body that is not UTF-8 must be refused as unsigned or unreadable, not crash
    base = b"v0:" + timestamp.encode() + b":" + raw
    expected = "v0=" + hmac.new(secret.encode(), base, "sha256").hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise BadSlackRequestError(401, "the Slack signature does not match")


def read_body(raw: bytes, content_type: str) -> tuple[str, dict[str, Any]]:
    """Decode and read a Slack request body: ``(text, fields)``; 400 when it is unreadable.

    A form body with a ``command`` field is a slash command, whatever its text holds; a form
    body whose only meaning is a ``payload`` field is an interactivity payload (a JSON object).
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadSlackRequestError(400, "the body is not UTF-8") from None
    if not text:
        return text, {}
    if content_type == "application/json" or text.startswith(("{", "[")):
        return text, _json_object(text, "the body")
    try:
        form = read_form(text)
    except (UnicodeDecodeError, ValueError):
        raise BadSlackRequestError(400, "the form body cannot be read") from None
    # a payload field, not the word anywhere in the body as Bolt has it: see the report
    # in docs/bolt-payload-parsing.md
    if "command" not in form and "payload" in form:
        return text, _json_object(form["payload"], "the payload field")
    return text, form


def read_form(text: str) -> dict[str, str]:
    """A form body's fields, as ``parse_qsl`` reads them (a name given twice keeps its last).

    The reading of ``dict(parse_qsl(text, keep_blank_values=True, errors="strict"))``, by the
    same :func:`~urllib.parse.unquote`, without what ``parse_qsl`` spends on every field
    whatever it holds (its result type, a call to decode where nothing is escaped): a slash
    command's dozen fields are read in about 60% of its time. Raises
    :class:`UnicodeDecodeError` when an escape is not UTF-8.
    """
    form: dict[str, str] = {}
    for field in text.split("&"):
        if field:
            name, _, value = field.partition("=")
            form[_form_text(name)] = _form_text(value)
    return form


def _form_text(part: str) -> str:
    """A form field's name or value as typed: ``+`` is a space, ``%XX`` an escaped byte."""
    if "+" in part:
        part = part.replace("+", " ")
    return unquote(part, errors="strict") if "%" in part else part


def _finite(text: str) -> float:
    """A JSON number as a float; ``1e400`` (infinity once read) is refused."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _no_constant(name: str) -> object:
    """Refuse ``NaN`` and ``Infinity``, which are not JSON."""
    raise ValueError(f"{name} is not JSON")


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise BadSlackRequestError(400, f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise BadSlackRequestError(400, f"{what} is not a JSON object")
    return value


def check_fields(body: object) -> None:
    """Refuse (400) a command or payload whose fields are not of the shapes listeners rely on.

    The shapes are :mod:`bot.process.slack_payloads`'s; the reason names the field, never its value.
    """
    if not isinstance(body, dict):
        raise BadSlackRequestError(400, "the payload is not a JSON object")
    if not body or "ssl_check" in body or body.get("type") == "url_verification":
        return  # Bolt answers these itself, from no field of ours
    try:
        if "command" in body:
            check_command(body)
        else:
            check_payload(body)
    except PayloadShapeError as err:
        raise BadSlackRequestError(400, str(err)) from None


class ReadBoltRequest(AsyncBoltRequest):
    """A Bolt request built from a body this module already read (not Bolt's ``parse_body``).

    Works around Bolt's reading of form bodies that mention ``payload``
    (``docs/bolt-payload-parsing.md``).
    """

    def __init__(
        self,
        *,
        raw: str,
        body: dict[str, Any],
        query: str | dict[str, Sequence[str]],
        headers: Mapping[str, str | Sequence[str]],
        context: dict[str, Any] | None = None,
    ) -> None:
        # Bolt's constructor takes a body already read only for Socket Mode, and builds the
        # context from it as for any request (team, user, channel, response_url…). The request
        # then becomes an HTTP one again: Bolt checks its signature over the raw body.
        super().__init__(
            body=body, query=query, headers=dict(headers), context=context, mode="socket_mode"
        )
        self.raw_body = raw
        self.mode = "http"

    def to_copyable(self) -> AsyncBoltRequest:
        """A copy read the same way (Bolt's own copy would parse the raw body again)."""
        return ReadBoltRequest(
            raw=self.raw_body,
            body=copy.deepcopy(self.body),
            query=self.query,
            headers=self.headers,
            context=self.context.to_copyable(),
        )


async def to_bolt_request(
    request: web.Request, secret: str, *, clock: Callable[[], float] = time.time
) -> AsyncBoltRequest:
    """Check and read ``request``; raise :class:`BadSlackRequestError` when it is not Slack's."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise BadSlackRequestError(413, "the body is too large")
    raw = await request.read()
    if len(raw) > MAX_BODY:
        raise BadSlackRequestError(413, "the body is too large")
    verify_signature(secret, raw, request.headers, now=clock())
    text, body = read_body(raw, request.content_type)
    check_fields(body)
    return ReadBoltRequest(raw=text, body=body, query=request.query_string, headers=request.headers)


def log_refusal(err: BadSlackRequestError, throttle: LogThrottle) -> None:
    """A WARNING line for a refused request, naming only the reason.

    Each reason logs at most one line a minute (``throttle``); the next counts those left out.
    """
    dropped = throttle.admit((err.status, str(err)))
    if dropped is not None:
        fields: dict[str, object] = {"reason": str(err), "status": err.status}
        if dropped:
            fields["suppressed"] = dropped
        logger.warning("slack request refused", extra=fields)


def refusal(err: BadSlackRequestError, throttle: LogThrottle) -> web.Response:
    """The answer to a refused request, after :func:`log_refusal`."""
    log_refusal(err, throttle)
    return web.json_response({"ok": False, "error": str(err)}, status=err.status)
