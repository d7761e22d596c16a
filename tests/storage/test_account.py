"""Account records (declines, costs, kept state) and the rule behind `/sms cancel`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot.sms.sending.cancel import cancel_refusal
from handlers.commands.account import cancel_said
from storage import account
from storage.engine import Database
from storage.messages import SmsRecord, get_by_message_id
from storage.outbox import outbox_size
from testkit.database import run_sql

AT = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)


def scheduled(db: Database, make_sms: Callable[..., SmsRecord]) -> SmsRecord:
    """One SMS sent by U1, scheduled for ``AT`` (UTC wall time)."""
    return make_sms(db, message_id=7, deferred_to=AT.replace(tzinfo=None))


def refusal(sms: SmsRecord | None, *, now: datetime, user: str = "U1") -> str | None:
    """The refusal for ``user`` cancelling ``sms`` at ``now``, as told; admins: U9."""
    refused = cancel_refusal(sms, 7, user, allowed_users=frozenset({"U9"}), zone=UTC, now=now)
    return None if refused is None else cancel_said(refused)


def test_cancel_is_allowed_until_5_minutes_before(
    db: Database, make_sms: Callable[..., SmsRecord]
) -> None:
    """Its sender, or an allowed user, may cancel until 5 minutes before; then it is too late."""
    sms = scheduled(db, make_sms)
    assert refusal(sms, now=AT - timedelta(minutes=6)) is None
    assert refusal(sms, now=AT - timedelta(minutes=6), user="U9") is None
    assert "too late" in (refusal(sms, now=AT - timedelta(minutes=4)) or "")
    assert "already been sent" in (refusal(sms, now=AT) or "")


def test_cancel_refusals(db: Database, make_sms: Callable[..., SmsRecord]) -> None:
    """Not ours, someone else's, not scheduled, already cancelled, already final: each refused."""
    sms = scheduled(db, make_sms)
    early = AT - timedelta(hours=1)
    assert "not sent through smsbot" in (refusal(None, now=early) or "")
    assert "Only <@U1>" in (refusal(sms, now=early, user="U2") or "")
    now_sms = dataclasses.replace(sms, deferred_to=None)
    assert "was not scheduled" in (refusal(now_sms, now=early) or "")
    gone = dataclasses.replace(sms, cancelled_by="U9")
    assert "already cancelled by <@U9>" in (refusal(gone, now=early) or "")
    final = dataclasses.replace(sms, status="DELIVRD", final_at=early)
    assert "already been sent" in (refusal(final, now=early) or "")


def test_a_decline_is_written_once_with_its_outbox_row(
    db: Database, make_sms: Callable[..., SmsRecord]
) -> None:
    """A declined campaign's SMS stops being pending and gets one outbox row, written once."""
    sms = make_sms(db, message_id=7)
    before = outbox_size(db)  # its channel post
    run_sql(db, "UPDATE sms SET campaign_status = 1 WHERE message_id = 7")
    assert account.awaiting_moderation(db) == {sms.campaign_id: [7]}
    assert account.record_declined(db, sms.campaign_id or 0, "No links", now=AT) == [7]
    assert account.record_declined(db, sms.campaign_id or 0, "No links", now=AT) == []
    declined = get_by_message_id(db, 7)
    assert declined is not None
    assert (declined.moderation, declined.moderation_comment) == ("declined", "No links")
    assert not declined.is_pending
    assert account.awaiting_moderation(db) == {}
    assert outbox_size(db) == before + 1


def test_low_balance_state_is_kept(db: Database) -> None:
    """The alert's state is stored and overwritten, not duplicated."""
    assert account.get_state(db, account.LOW_BALANCE_KEY) is None
    account.set_state(db, account.LOW_BALANCE_KEY, "low")
    account.set_state(db, account.LOW_BALANCE_KEY, "ok")
    assert account.get_state(db, account.LOW_BALANCE_KEY) == "ok"


def test_a_cost_is_kept_once_and_queues_one_edit(
    db: Database, make_sms: Callable[..., SmsRecord]
) -> None:
    """A stated cost is kept with its currency and queues one post edit; none stated, none."""
    make_sms(db, message_id=7)
    make_sms(db, message_id=8)
    before = outbox_size(db)
    assert account.record_costs(db, [7, 8], {7: Decimal("0.06")}, "BRL", now=AT) == 1
    assert outbox_size(db) == before + 1
    seven = get_by_message_id(db, 7)
    assert seven is not None
    assert (seven.cost, seven.currency) == ("0.06", "BRL")
    eight = get_by_message_id(db, 8)
    assert eight is not None
    assert eight.cost is None
    # stated again (a second lookup): already known, nothing recorded or queued
    assert account.record_costs(db, [7], {7: Decimal("0.06")}, "BRL", now=AT) == 0
    assert outbox_size(db) == before + 1


def test_the_cost_windows_count_only_sms_sent_since_and_not_refunded(
    db: Database, make_sms: Callable[..., SmsRecord]
) -> None:
    """Today's and the week's SMS: sent since the moment asked, leaving out declined and cancelled."""
    now = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)
    today = make_sms(db, message_id=1, now=now - timedelta(hours=2))
    three_days = make_sms(db, message_id=2, now=now - timedelta(days=3))
    make_sms(db, message_id=3, now=now - timedelta(days=8))
    declined = make_sms(db, message_id=4, now=now - timedelta(hours=1))
    cancelled = make_sms(db, message_id=5, now=now - timedelta(hours=1))
    run_sql(db, "UPDATE sms SET moderation = 'declined' WHERE id = :id", id=declined.id)
    run_sql(db, "UPDATE sms SET cancelled_by = 'U9' WHERE id = :id", id=cancelled.id)
    midnight = now.replace(hour=0)
    assert set(account.sent_campaigns_since(db, midnight)) == {today.message_id}
    week = account.sent_campaigns_since(db, now - timedelta(days=7))
    assert set(week) == {today.message_id, three_days.message_id}
    assert week[2] == 1_000_002  # message → its campaign


def test_one_cancel_claim_at_a_time(db: Database, make_sms: Callable[..., SmsRecord]) -> None:
    """A second claim is refused while the first holds; a released claim can be taken again."""
    scheduled(db, make_sms)
    assert account.claim_cancel(db, 7, "U1", now=AT)
    assert not account.claim_cancel(db, 7, "U2", now=AT)
    held = get_by_message_id(db, 7)
    assert held is not None
    assert (held.cancelling_by, held.cancelling_at) == ("U1", AT)
    account.release_cancel(db, 7, "U2")  # not U2's: kept
    assert not account.claim_cancel(db, 7, "U2", now=AT)
    account.release_cancel(db, 7, "U1")
    assert account.claim_cancel(db, 7, "U2", now=AT)


def test_a_cancelled_sms_cannot_be_claimed_and_a_dead_claim_expires(
    db: Database, make_sms: Callable[..., SmsRecord]
) -> None:
    """Recording the cancel ends the claim for good; a claim older than its lifetime is taken over."""
    scheduled(db, make_sms)
    assert account.claim_cancel(db, 7, "U1", now=AT)
    later = AT + account.CANCEL_CLAIM_LIFETIME
    assert not account.claim_cancel(db, 7, "U2", now=later)
    assert account.claim_cancel(db, 7, "U2", now=later + timedelta(seconds=1))
    account.record_cancelled(db, 7, "U2", now=later)
    done = get_by_message_id(db, 7)
    assert done is not None
    assert (done.cancelled_by, done.cancelling_by) == ("U2", None)
    assert not account.claim_cancel(db, 7, "U3", now=later + timedelta(days=1))
