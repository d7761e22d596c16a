"""``POST /mobizon/webhook``: Mobizon's delivery reports, verified, deduplicated and applied."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from storage import delivery
from storage.store import Store, is_busy

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
#: Seconds a webhook waits for its write before answering 503 (Mobizon retries non-2xx answers,
#: the first time a minute later, and waits 5 s for an answer).
WRITE_WAIT = 0.8


#: Ids must fit SQLite's 64-bit integers (Mobizon's are far smaller).
_SQLITE_INT_LIMIT = 2**63


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
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise BadReportError("body is not JSON") from err
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
    except (KeyError, TypeError, ValueError) as err:
        raise BadReportError(f"missing or malformed field: {err}") from None
    if not report.status:
        raise BadReportError("data.status is empty")
    for name, value in (("eventId", report.event_id), ("messageId", report.message_id)):
        if not 0 < value < _SQLITE_INT_LIMIT:
            raise BadReportError(f"{name} is out of range")
    return report


def expected_sign(report: DeliveryReport, secret: str) -> str:
    """``sha1(eventId|attempt|eventCreateTs|secret)`` in lowercase hex, as Mobizon signs."""
    payload = f"{report.event_id}|{report.attempt}|{report.created}|{secret}"
    return hashlib.sha1(payload.encode()).hexdigest()  # noqa: S324  # Mobizon's scheme, not ours


def make_handler(
    store: Callable[[], Store], secret: str | None, on_change: Callable[[], None]
) -> Callable[[web.Request], Any]:
    """Build the webhook route: 400 malformed, 403 bad sign, 503 database busy, 200 otherwise.

    Every answer is fast: when the event cannot be written within :data:`WRITE_WAIT` (another
    process holds the database's lock), 503 asks Mobizon to send it again later.
    """

    async def mobizon_webhook(request: web.Request) -> web.Response:
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
                logger.warning(
                    "webhook with a bad sign refused", extra={"event_id": report.event_id}
                )
                return web.json_response({"ok": False, "error": "bad sign"}, status=403)
        # the event id and the status it carries are written in one transaction: a retry of an
        # event already applied changes nothing, and a crash before the commit loses nothing
        # a write still running when the wait ends commits or not; either way the retry is safe
        try:
            async with asyncio.timeout(WRITE_WAIT):
                first_time, applied = await store().write(
                    delivery.apply_webhook_event,
                    report.event_id,
                    delivery.StatusUpdate(
                        message_id=report.message_id,
                        status=report.status,
                        status_ts=report.status_ts,
                        segments=report.segments,
                        source="webhook",
                    ),
                )
        except (TimeoutError, sqlite3.OperationalError) as err:
            if isinstance(err, sqlite3.OperationalError) and not is_busy(err):
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
