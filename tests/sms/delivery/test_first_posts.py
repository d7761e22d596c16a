"""The SMS's first channel post, made by the notifier from its outbox row, and what its sender hears."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from handlers.first_posts import POST_EVENT, FirstPost, PostState
from storage import outbox
from storage.engine import Database
from storage.messages import get_sms
from storage.records import SmsRecord
from storage.replicas import lease_cutoff, register
from storage.store import Store
from testkit.clock import FastForwardClock
from testkit.database import run_sql
from testkit.slack import FakeSlack
from testkit.waiting import wait_until
from tests.sms.delivery.conftest import (
    SeedSms,
    direct_messages,
    fast_notifier,
    outbox_drained,
    report,
    running,
    thread_replies,
)


def now_of(db: Database, sms: SmsRecord) -> SmsRecord:
    """The SMS as stored now."""
    found = get_sms(db, sms.id)
    assert found is not None
    return found


async def test_a_sender_waiting_for_the_post_hears_it_was_posted(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: FastForwardClock,
    seed_sms: SeedSms,
) -> None:
    """The notifier makes the post when asked, stores its ts, and tells the waiting surface."""
    sms = seed_sms(db, 7, post_owed=True)
    notifier = fast_notifier(store, slack_client, clock)
    async with running(notifier):
        told = await notifier.first_posts.wait(sms, within=10)
        await outbox_drained(db)
    assert told == FirstPost(PostState.POSTED)
    (post,) = fake_slack.called("chat.postMessage")
    assert post.params["channel"] == "C1"
    assert post.params["metadata"]["event_type"] == POST_EVENT
    stored = now_of(db, sms)
    assert stored.slack_channel == "C1"
    assert ("C1", stored.slack_ts) in fake_slack.messages


async def test_a_post_slack_refuses_is_told_with_why_and_the_updates_go_to_the_sender(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: FastForwardClock,
    seed_sms: SeedSms,
) -> None:
    """A private channel the bot is not in: the sender hears why, and the outcome comes by DM."""
    fake_slack.private_channels.add("G1")
    sms = seed_sms(db, 7, channel="G1", post_owed=True)
    notifier = fast_notifier(store, slack_client, clock)
    async with running(notifier):
        told = await notifier.first_posts.wait(sms, within=10)
        assert told == FirstPost(PostState.REFUSED, "not_in_channel")
        assert now_of(db, sms).post_error == "not_in_channel"
        report(db, 7, "DELIVRD")
        await outbox_drained(db)
    assert [c.params["channel"] for c in fake_slack.called("conversations.join")] == ["G1"]
    (dm,) = direct_messages(fake_slack)
    assert "was delivered" in dm["text"]
    assert fake_slack.called("chat.update") == []


async def test_a_post_slack_cannot_take_now_is_told_to_come_later_at_once_and_made_later(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: FastForwardClock,
    seed_sms: SeedSms,
) -> None:
    """Slack down: the sender hears at the first failed attempt, not at the wait's end; it is posted later."""
    sms = seed_sms(db, 7, post_owed=True)
    fake_slack.down = True
    notifier = fast_notifier(store, slack_client, clock)
    async with running(notifier):
        loop = asyncio.get_running_loop()
        asked = loop.time()
        told = await notifier.first_posts.wait(sms, within=60)
        assert loop.time() - asked < 30
        assert told == FirstPost(PostState.LATER)
        fake_slack.down = False
        await outbox_drained(db)
    assert now_of(db, sms).slack_ts is not None


async def test_the_post_another_replica_makes_is_told_from_the_database(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: FastForwardClock,
    seed_sms: SeedSms,
) -> None:
    """The channel's owner posts; the replica whose surface waits learns of it from the database."""
    now = datetime.now(UTC)
    for replica in ("owner", "other"):
        register(db, replica, host="h", pid=1, now=now)
    outbox.own_channels(db, ["C1"], replica="owner", live_cutoff=lease_cutoff(now))
    sms = seed_sms(db, 7, post_owed=True)
    owner = fast_notifier(store, slack_client, clock, replica="owner")
    other = fast_notifier(store, slack_client, clock, replica="other")  # never drains C1
    async with running(owner), running(other):
        told = await other.first_posts.wait(sms, within=10)
    assert told == FirstPost(PostState.POSTED)
    assert len(fake_slack.called("chat.postMessage")) == 1
    assert now_of(db, sms).slack_ts is not None


async def test_a_gone_replicas_post_is_made_by_a_live_one(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: FastForwardClock,
    seed_sms: SeedSms,
) -> None:
    """A replica that recorded a send and died owned its channel: a live replica makes the post."""
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    register(db, "gone", host="h", pid=1, now=long_ago)
    outbox.own_channels(db, ["C1"], replica="gone", live_cutoff=lease_cutoff(long_ago))
    sms = seed_sms(db, 7, post_owed=True, claimed_by="gone")
    register(db, "alive", host="h", pid=2)
    async with running(fast_notifier(store, slack_client, clock, replica="alive")):
        await outbox_drained(db)
    assert now_of(db, sms).slack_ts is not None
    (post,) = fake_slack.called("chat.postMessage")
    assert post.params["channel"] == "C1"
    owners = run_sql(db, "SELECT channel, replica FROM channel_owners")
    assert [tuple(row.values()) for row in owners] == [("C1", "alive")]


async def test_a_post_made_before_a_crash_is_found_not_made_again(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: FastForwardClock,
    seed_sms: SeedSms,
) -> None:
    """A post Slack took just before the process died (its ts never stored) is found by its metadata."""
    sms = seed_sms(db, 7, post_owed=True)
    ts = "1700000999.000999"
    fake_slack.messages[("C1", ts)] = {
        "channel": "C1",
        "text": "SMS 7",
        "metadata": {"event_type": POST_EVENT, "event_payload": {"message_id": 7}},
    }
    report(db, 7, "DELIVRD")
    async with running(fast_notifier(store, slack_client, clock)):  # started after the row
        await outbox_drained(db)
    assert [c for c in fake_slack.called("chat.postMessage") if "thread_ts" not in c.params] == []
    stored = now_of(db, sms)
    assert stored.slack_ts == ts
    (reply,) = thread_replies(fake_slack, stored)
    assert "was delivered" in reply["text"]


async def test_a_post_a_gone_replica_made_is_found_by_the_replica_taking_its_channel(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: FastForwardClock,
    seed_sms: SeedSms,
) -> None:
    """A replica started before the row, taking a dead owner's channel, finds its post first."""
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    register(db, "gone", host="h", pid=1, now=long_ago)
    outbox.own_channels(db, ["C1"], replica="gone", live_cutoff=lease_cutoff(long_ago))
    register(db, "alive", host="h", pid=2)
    notifier = fast_notifier(store, slack_client, clock, replica="alive")  # started first
    queued = clock.now() + timedelta(milliseconds=500)  # then the row, then the takeover
    sms = seed_sms(db, 7, post_owed=True, claimed_by="gone", sent_at=queued)
    clock.skipped += 1.0
    ts = "1700000999.000999"  # the gone owner's post, made just before it died
    fake_slack.messages[("C1", ts)] = {
        "channel": "C1",
        "text": "SMS 7",
        "metadata": {"event_type": POST_EVENT, "event_payload": {"message_id": 7}},
    }
    async with running(notifier):
        await outbox_drained(db)
    assert fake_slack.called("chat.postMessage") == []
    assert now_of(db, sms).slack_ts == ts


async def test_a_late_post_says_why_under_it(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: FastForwardClock,
    seed_sms: SeedSms,
) -> None:
    """The note a post row carries (recorded late, found, sent again) is said under the post."""
    seed_sms(db, 7, post_owed=True, note=outbox.PostNote.LATE)
    async with running(fast_notifier(store, slack_client, clock)):
        await wait_until(lambda: fake_slack.called("chat.postMessage"), what="the post")
    (post,) = fake_slack.called("chat.postMessage")
    assert "database was busy when Mobizon took this SMS" in str(post.params["blocks"])


async def test_a_stopping_process_stops_waiting_for_posts(
    db: Database,
    store: Store,
    slack_client: AsyncWebClient,
    clock: FastForwardClock,
    seed_sms: SeedSms,
) -> None:
    """Once the process stops, a surface waiting for its post hears at once that it comes later."""
    sms = seed_sms(db, 7, post_owed=True)
    notifier = fast_notifier(store, slack_client, clock)  # not running: nobody makes the post
    waiting = asyncio.create_task(notifier.first_posts.wait(sms, within=60))
    await asyncio.sleep(0)  # it starts waiting
    assert not waiting.done()
    notifier.first_posts.release()
    assert await asyncio.wait_for(waiting, 5) == FirstPost(PostState.LATER)
    assert await asyncio.wait_for(notifier.first_posts.wait(sms, within=60), 5) == FirstPost(
        PostState.LATER
    )
    assert outbox.first_post(db, 7).waiting  # the outbox keeps it for the flush or the next start
