"""How a read words an SMS's status (Mobizon's, unless smsbot kept a final one), and its counts (pure)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from handlers.blocks import sms_message
from handlers.lookup_blocks import shown_status
from storage.records import SendState, SmsRecord
from tests.handlers.conftest import block_texts

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


def test_the_post_shows_the_length_the_send_counted_and_none_for_older_rows() -> None:
    """The post's character count is the stored one (not a recount); a pre-0012 row shows none."""
    counted = block_texts(sms_message(record(segments=1, encoding="GSM-7", length=42)).blocks)
    older = block_texts(sms_message(record(segments=1, encoding="GSM-7")).blocks)
    assert "*Segments*\n1 (GSM-7, 42 characters)" in counted  # "hi" would recount to 2
    assert "*Segments*\n1 (GSM-7)" in older
