"""A `/sms send` is in the database before Slack has its ack: a process killed then loses nothing."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bot.simulator import MobizonSimulator
from handlers import claim_ack
from handlers.claim_ack import CLAIM_BEFORE_ACK
from storage import claims
from testkit.database import run_sql
from testkit.waiting import wait_until
from tests.conftest import BotHarness

PHONE = "+55 11 98765-4321"


async def test_the_claim_is_recorded_before_the_ack_returns(
    bot: BotHarness, sim: MobizonSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim that takes a while still lands before the ack: the row exists as the ack returns."""
    real_claim = claims.claim_send_unless_opted_out

    def slow_claim(*args: Any, **kwargs: Any) -> Any:
        time.sleep(CLAIM_BEFORE_ACK / 2)  # on the writer thread: a busy database, say
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(claims, "claim_send_unless_opted_out", slow_claim)
    sim.hold()  # Mobizon takes its time: the send stays claimed after the ack
    try:
        assert await bot.command(f"send {PHONE} recorded first") == (200, "")
        rows = run_sql(bot.db, "SELECT state, claimed_by, text FROM sms")
        assert [dict(row) for row in rows] == [
            {"state": "claimed", "claimed_by": bot.runtime.replica_id, "text": "recorded first"}
        ]
    finally:
        sim.release()
    await wait_until(
        lambda: run_sql(bot.db, "SELECT state FROM sms")[0]["state"] == "sent",
        what="the send to be recorded",
    )
    assert sim.count("sendSmsMessage") == 1


async def test_a_claim_slower_than_its_bound_is_acked_first_then_sent_once(
    bot: BotHarness, sim: MobizonSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim past CLAIM_BEFORE_ACK: Slack has its ack before the row exists, the SMS goes once."""
    real_claim = claims.claim_send_unless_opted_out

    def slow_claim(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.3)  # on the writer thread: a database slower than the bound
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(claims, "claim_send_unless_opted_out", slow_claim)
    monkeypatch.setattr(claim_ack, "CLAIM_BEFORE_ACK", 0.05)
    assert await bot.command(f"send {PHONE} acked first") == (200, "")
    assert run_sql(bot.db, "SELECT state FROM sms") == []
    await wait_until(
        lambda: [row["state"] for row in run_sql(bot.db, "SELECT state FROM sms")] == ["sent"],
        what="the send to be recorded",
    )
    assert sim.count("sendSmsMessage") == 1
