"""The notifier under failures: permanent refusals, a bad row, Slack unwell while checking a thread."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from handlers import blocks
from handlers import notifier as notifier_module
from handlers.slack_failures import PERMANENT_ATTEMPTS
from storage import outbox
from storage.engine import Database
from storage.outbox import outbox_size
from storage.records import SmsRecord
from storage.store import Store
from testkit.clock import FastForwardClock
from testkit.slack import FakeSlack
from testkit.waiting import wait_until
from tests.sms.delivery.conftest import (
    SeedSms,
    channel_message,
    direct_messages,
    fast_notifier,
    outbox_drained,
    report,
    running,
    thread_replies,
)


async def test_a_permanently_refused_update_is_dropped_after_a_few_attempts(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: FastForwardClock,
    seed_sms: SeedSms,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """user_not_found on the DM, attempt after attempt: the row goes, with an error logged."""
    seed_sms(db, 7, channel="C1", user="U7")  # never posted in the channel: outcome goes by DM
    fake_slack.fail_next("chat.postMessage", "user_not_found", times=PERMANENT_ATTEMPTS)
    report(db, 7, "DELIVRD")
    assert outbox_size(db) == 1
    with caplog.at_level(logging.ERROR, logger="handlers.notifier"):
        async with running(fast_notifier(store, slack_client, clock, retry_base=0.01)):
            await outbox_drained(db)
            # the row goes first, then the error is logged
            await wait_until(
                lambda: any("dropped" in r.getMessage() for r in caplog.records),
                what="the dropped notification's log line",
            )
    assert len(fake_slack.called("chat.postMessage")) == PERMANENT_ATTEMPTS
    assert direct_messages(fake_slack, "U7") == []
    (dropped,) = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert getattr(dropped, "error", None) == "user_not_found"


async def test_a_passing_refusal_is_retried_until_slack_takes_it(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: FastForwardClock,
    seed_sms: SeedSms,
) -> None:
    """Fewer refusals than the limit: the update still arrives."""
    seed_sms(db, 8, channel="C1", user="U8")
    fake_slack.fail_next("chat.postMessage", "user_not_found", times=PERMANENT_ATTEMPTS - 1)
    report(db, 8, "DELIVRD")
    async with running(fast_notifier(store, slack_client, clock, retry_base=0.01)):
        await outbox_drained(db)
    (dm,) = direct_messages(fake_slack, "U8")
    assert "was delivered" in dm["text"]


async def test_a_permanently_refused_edit_still_sends_the_outcome(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: FastForwardClock,
    seed_sms: SeedSms,
) -> None:
    """invalid_blocks on the chat.update: the edit is skipped, the thread reply still goes out."""
    sms = seed_sms(db, 7, slack=fake_slack)
    fake_slack.fail_next("chat.update", "invalid_blocks", times=1_000)
    report(db, 7, "DELIVRD")
    async with running(fast_notifier(store, slack_client, clock)):
        await outbox_drained(db)
    (reply,) = thread_replies(fake_slack, sms)
    assert "was delivered" in reply["text"]
    assert len(fake_slack.called("chat.update")) == 1


def longest_backoff(retry_number: int, *, first: float, cap: float) -> float:
    """The longest wait the backoff may pick: no jitter, for a test that must not see a retry."""
    return min(cap, first * 2.0 ** (retry_number - 1))


async def test_a_row_that_breaks_is_put_off_and_its_channel_goes_on(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: FastForwardClock,
    seed_sms: SeedSms,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug on one SMS's update does not block later updates in the same channel."""
    seed_sms(db, 7, slack=fake_slack)
    second = seed_sms(db, 8, slack=fake_slack)
    real = blocks.sms_message

    def broken(sms: SmsRecord, **kwargs: Any) -> blocks.SlackMessage:
        if sms.message_id == 7:
            msg = "simulated rendering bug"
            raise RuntimeError(msg)
        return real(sms, **kwargs)

    monkeypatch.setattr(blocks, "sms_message", broken)
    # the full jitter could pick a wait under the test's length: take the backoff's upper limit
    monkeypatch.setattr(notifier_module, "backoff", longest_backoff)
    report(db, 7, "ACCEPTD")
    report(db, 8, "ACCEPTD")
    async with running(fast_notifier(store, slack_client, clock, retry_base=30.0)):
        await outbox_drained_but(db, keep=1)
    assert "ACCEPTD" in channel_message(fake_slack, second)["text"]
    (stuck,) = outbox.due_notifications(db, now=datetime.now(UTC) + timedelta(hours=1))
    assert (stuck.message_id, stuck.attempts) == (7, 1)
    assert any("simulated rendering bug" in str(r.exc_info) for r in caplog.records)


async def test_slack_unwell_while_checking_the_thread_does_not_double_the_reply(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: FastForwardClock,
    seed_sms: SeedSms,
) -> None:
    """A row from before a restart whose thread lookup fails with internal_error waits, then posts once."""
    sms = seed_sms(db, 7, slack=fake_slack)
    report(db, 7, "DELIVRD")
    fake_slack.fail_next("conversations.replies", "internal_error")
    async with running(fast_notifier(store, slack_client, clock)):
        await outbox_drained(db)
    assert len(thread_replies(fake_slack, sms)) == 1
    assert len(fake_slack.called("conversations.replies")) == 2


async def outbox_drained_but(db: Database, *, keep: int, within: float = 20.0) -> None:
    """Wait until only ``keep`` rows are left in the outbox."""
    await wait_until(
        lambda: outbox_size(db) <= keep,
        within=within,
        what=f"the outbox to drain down to {keep} rows",
    )


async def test_a_direct_message_slack_took_before_a_restart_is_not_sent_again(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: FastForwardClock,
    seed_sms: SeedSms,
) -> None:
    """Killed after Slack took the outcome's DM but before it was recorded: the restart sends none."""
    seed_sms(db, 7, sent_at=datetime.now(UTC) - timedelta(hours=1))  # never posted in a channel
    report(db, 7, "DELIVRD")
    fake_slack.held.add("chat.postMessage")  # Slack takes the DM; its answer never comes back
    first = asyncio.create_task(fast_notifier(store, slack_client, clock).drain())
    try:
        await wait_until(lambda: direct_messages(fake_slack), what="Slack to take the DM")
        assert len(direct_messages(fake_slack)) == 1
    finally:
        first.cancel()  # the process dies here
        with contextlib.suppress(asyncio.CancelledError):
            await first
        fake_slack.release_held()
        fake_slack.held.discard("chat.postMessage")
    assert outbox_size(db) == 1
    async with running(fast_notifier(store, slack_client, clock)):  # the next process
        await outbox_drained(db)
    assert len(direct_messages(fake_slack)) == 1
    # each process looked in the DM before sending (the row is older than both)
    assert len(fake_slack.called("conversations.history")) == 2
