"""``POST /mobizon/webhook``: Mobizon's delivery reports, verified, deduplicated and applied."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from bot.mobizon import parse_timestamp
from storage import delivery, webhooks
from storage.store import Store, is_busy

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
#: Seconds a webhook waits for its write before answering 503 (Mobizon retries non-2xx answers,
#: the first time a minute later, and waits 5 s for an answer).
WRITE_WAIT = 0.5


#: Ids must fit SQLite's 64-bit integers (Mobizon's are far smaller).
_SQLITE_INT_LIMIT = 2**63

#: Events older than this are refused. Mobizon's last retry comes about an hour after the event,
#: so nothing older is a retry; ``sign`` does not cover ``data``, so an old event replayed with
#: another message id and status would otherwise be applied.
MAX_EVENT_AGE = timedelta(days=1)
#: ``eventCreateTs`` is Mobizon's wall time, in a zone it does not name: UTC-12 to UTC+14 apart
#: from this server's UTC. An event is judged on its age read in every such zone.
CLOCK_SKEW = timedelta(hours=14)
#: How far Mobizon's clock may run ahead of this server's, on top of its zone.
CLOCK_DRIFT = timedelta(minutes=5)
#: How long event ids must be remembered so that no event can be applied twice: an event is
#: first accepted as early as ``CLOCK_SKEW + CLOCK_DRIFT`` before its stamp, and last accepted
#: ``MAX_EVENT_AGE + CLOCK_SKEW`` after it.
EVENT_ID_MEMORY_FLOOR = MAX_EVENT_AGE + 2 * CLOCK_SKEW + CLOCK_DRIFT


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """One ``sms-delivery-report`` event as Mobizon posts it."""

    event_id: int
    attempt: int
    created: str
    sign: str | None
    message_id: int
    status: str
    status_ts: str | None
    segments: int | None


class BadReportError(ValueError):
    """The webhook body is not a delivery report we can read."""


def parse_report(raw: bytes) -> DeliveryReport:
    """Read a webhook body; raise :class:`BadReportError` saying what is wrong."""
    try:
        body = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadReportError("body is not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise BadReportError("body has no data object")
    data: dict[str, Any] = body["data"]
    try:
        report = DeliveryReport(
            event_id=int(body["eventId"]),
            attempt=int(body.get("attempt", 1)),
            created=str(body["eventCreateTs"]),
            sign=str(body["sign"]) if body.get("sign") is not None else None,
            message_id=int(data["messageId"]),
            status=str(data["status"]).strip(),
            status_ts=str(data["statusUpdateTs"]) if data.get("statusUpdateTs") else None,
            segments=int(data["segNum"]) if data.get("segNum") not in (None, "") else None,
        )
    except (KeyError, TypeError, ValueError, OverflowError) as err:
        raise BadReportError(f"missing or malformed field: {_short(str(err))}") from None
    if not report.status:
        raise BadReportError("data.status is empty")
    for name, value in (("eventId", report.event_id), ("messageId", report.message_id)):
        if not 0 < value < _SQLITE_INT_LIMIT:
            raise BadReportError(f"{name} is out of range")
    return report


def _no_constant(name: str) -> object:
    """Refuse ``NaN`` and ``Infinity``, which are not JSON."""
    raise ValueError(f"{name} is not JSON")


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def event_age_problem(created: str, now: datetime) -> str | None:
    """Why an event stamped ``created`` (Mobizon's wall time) is refused at ``now``, or None.

    Too old: even read in the zone that makes it youngest (UTC+14), it is older than
    :data:`MAX_EVENT_AGE`. From the future: even read in UTC-12, it is ahead of ``now``.
    """
    try:
        stamp = parse_timestamp(created).replace(tzinfo=UTC)
    except ValueError:
        return "eventCreateTs is not a YYYY-MM-DD HH:MM:SS time"
    apparent_age = now - stamp
    if apparent_age > MAX_EVENT_AGE + CLOCK_SKEW:
        return "event is too old to be a delivery (or a retry of one)"
    if apparent_age < -CLOCK_SKEW - CLOCK_DRIFT:
        return "eventCreateTs is in the future"
    return None


def expected_sign(report: DeliveryReport, secret: str) -> str:
    """``sha1(eventId|attempt|eventCreateTs|secret)`` in lowercase hex, as Mobizon signs."""
    payload = f"{report.event_id}|{report.attempt}|{report.created}|{secret}"
    return hashlib.sha1(payload.encode()).hexdigest()  # noqa: S324  # Mobizon's scheme, not ours


async def _checked_report(
    request: web.Request, secret: str | None, now: datetime
) -> DeliveryReport | web.Response:
    """The request's report once it is readable, signed and fresh; otherwise the refusal to send."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return web.json_response({"ok": False, "error": "body too large"}, status=413)
    raw = await request.read()
    if len(raw) > MAX_BODY:
        return web.json_response({"ok": False, "error": "body too large"}, status=413)
    try:
        report = parse_report(raw)
    except BadReportError as err:
        return web.json_response({"ok": False, "error": str(err)}, status=400)
    if secret is not None:
        sign = (report.sign or "").lower().encode()
        if not hmac.compare_digest(sign, expected_sign(report, secret).encode()):
            logger.warning("webhook with a bad sign refused", extra={"event_id": report.event_id})
            return web.json_response({"ok": False, "error": "bad sign"}, status=403)
    problem = event_age_problem(report.created, now)
    if problem is not None:
        logger.warning(
            "webhook event refused", extra={"event_id": report.event_id, "reason": problem}
        )
        return web.json_response({"ok": False, "error": problem}, status=400)
    return report


def make_handler(
    store: Callable[[], Store],
    secret: str | None,
    on_change: Callable[[], None],
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sandbox: bool | None = None,
) -> Callable[[web.Request], Any]:
    """Build the webhook route: 400 malformed or too old, 403 bad sign, 503 busy, 200 otherwise.

    Every answer is fast: when the event cannot be written within :data:`WRITE_WAIT` (another
    process holds the database's lock), 503 asks Mobizon to send it again later.

    With ``sandbox`` set, reports apply only to SMS sent in that mode (see ``apply_status``).
    """

    async def mobizon_webhook(request: web.Request) -> web.Response:
        # the webhook's clock judges the event's age and dates its id, which pruning counts from
        now = clock()
        report = await _checked_report(request, secret, now)
        if isinstance(report, web.Response):
            return report
        # the event id and the status it carries are written in one transaction: a retry of an
        # event already applied changes nothing, and a crash before the commit loses nothing
        # a write still running when the wait ends commits or not; either way the retry is safe
        try:
            async with asyncio.timeout(WRITE_WAIT):
                first_time, applied = await store().write(
                    webhooks.apply_webhook_event,
                    report.event_id,
                    delivery.StatusUpdate(
                        message_id=report.message_id,
                        status=report.status,
                        status_ts=report.status_ts,
                        segments=report.segments,
                        source="webhook",
                    ),
                    received_at=now,
                    sandbox=sandbox,
                )
        except Exception as err:
            if not (isinstance(err, TimeoutError) or is_busy(err)):
                raise
            logger.warning(
                "webhook not recorded: the database is busy; Mobizon will send it again",
                extra={"event_id": report.event_id},
            )
            return web.json_response({"ok": False, "error": "busy, try again"}, status=503)
        if applied is not None:
            on_change()
        logger.info(
            "webhook received",
            extra={
                "event_id": report.event_id,
                "sms_id": report.message_id,
                "duplicate": not first_time,
                "applied": applied is not None,
            },
        )
        return web.json_response({"ok": True, "duplicate": not first_time})

    return mobizon_webhook
