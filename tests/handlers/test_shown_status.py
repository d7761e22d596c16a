"""How a read words an SMS's status: Mobizon's, unless smsbot kept a final one (pure)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from handlers.lookup_blocks import shown_status
from storage.records import SendState, SmsRecord

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def record(**fields: Any) -> SmsRecord:
    """A sent SMS record, with ``fields`` changed."""
    values: dict[str, Any] = {f.name: None for f in dataclasses.fields(SmsRecord)}
    values |= {
        "id": 1,
        "trigger_id": "t1",
        "team_id": "T1",
        "channel_id": "C1",
        "user_id": "U1",
        "recipient": "5511987654321",
        "text": "hi",
        "flash": False,
        "state": SendState.SENT,
        "message_id": 7,
        "created_at": T0,
        "updated_at": T0,
        "sandbox": False,
    }
    return SmsRecord(**values | fields)


def test_a_kept_final_status_wins_over_mobizons_stale_one() -> None:
    """A cancel reads as cancelled by whom; another kept final status replaces Mobizon's."""
    cancelled = record(status="DELETED", final_at=T0, cancelled_by="U5")
    assert shown_status("NEW", cancelled) == (":no_entry_sign:", "cancelled by <@U5>")
    assert shown_status("NEW", cancelled, code=True)[1] == "cancelled by <@U5>"
    delivered = record(status="DELIVRD", final_at=T0)
    assert shown_status("ACCEPTD", delivered, code=True) == (":white_check_mark:", "DELIVRD")
    tracking = record(status="NEW")
    assert shown_status("ACCEPTD", tracking, code=True) == (":outbox_tray:", "ACCEPTD")
    assert shown_status("ACCEPTD", None, code=True) == (":outbox_tray:", "ACCEPTD")
