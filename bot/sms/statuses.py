"""A status Mobizon stated, as the one status writer takes it (`storage.delivery.StatusUpdate`)."""

from __future__ import annotations

from datetime import datetime

from bot.mobizon import SmsStatus, format_timestamp
from storage import delivery


def status_update(status: SmsStatus, source: delivery.UpdateSource) -> delivery.StatusUpdate:
    """``status`` to write, learned from ``source`` (the poller, a webhook, a command)."""
    return delivery.StatusUpdate(
        message_id=status.id,
        status=status.status,
        status_ts=_text(status.status_updated_at),
        segments=status.segments,
        start_send_ts=_text(status.start_send_at),
        source=source,
    )


def _text(moment: datetime | None) -> str | None:
    return None if moment is None else format_timestamp(moment)
