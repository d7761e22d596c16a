"""The SMS's first channel post, made by the notifier from its outbox row, and what its sender hears."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from handlers.first_posts import POST_EVENT, FirstPost, PostState
from storage import outbox
from storage.replicas import lease_cutoff, register
from testkit.database import run_sql
from testkit.waiting import wait_until
from tests.sms.delivery.conftest import (
    NotifierRig,
    direct_messages,
    outbox_drained,
    posted_earlier,
    report,
    running,
    thread_replies,
)

#: The metadata of SMS 7's post, as the notifier marks it.
POST_METADATA = {"event_type": POST_EVENT, "event_payload": {"message_id": 7}}


async def test_a_sender_waiting_for_the_post_hears_it_was_posted(rig: NotifierRig) -> None:
    """The notifier makes the post when asked, stores its ts, and tells the waiting surface."""
    sms = rig.sms(7, post_owed=True)
    notifier = rig.notifier()
    async with running(notifier):
        told = await notifier.first_posts.wait(sms, within=10)
        await outbox_drained(rig.db)
    assert told == FirstPost(PostState.POSTED)
    (post,) = rig.slack.called("chat.postMessage")
    assert post.params["channel"] == "C1"
    assert post.params["metadata"]["event_type"] == POST_EVENT
    stored = rig.stored(sms)
    assert stored.slack_channel == "C1"
    assert ("C1", stored.slack_ts) in rig.slack.messages


async def test_a_post_slack_refuses_is_told_with_why_and_the_updates_go_to_the_sender(
    rig: NotifierRig,
) -> None:
    """A private channel the bot is not in: the sender hears why, and the outcome comes by DM."""
    rig.slack.private_channels.add("G1")
    sms = rig.sms(7, channel="G1", post_owed=True)
    notifier = rig.notifier()
    async with running(notifier):
        told = await notifier.first_posts.wait(sms, within=10)
        assert told == FirstPost(PostState.REFUSED, "not_in_channel")
        assert rig.stored(sms).post_error == "not_in_channel"
        report(rig.db, 7, "DELIVRD")
        await outbox_drained(rig.db)
    assert [c.params["channel"] for c in rig.slack.called("conversations.join")] == ["G1"]
    (dm,) = direct_messages(rig.slack)
    assert "was delivered" in dm["text"]
    assert rig.slack.called("chat.update") == []


async def test_a_post_slack_cannot_take_now_is_told_to_come_later_at_once_and_made_later(
    rig: NotifierRig,
) -> None:
    """Slack down: the sender hears at the first failed attempt, not at the wait's end; it is posted later."""
    sms = rig.sms(7, post_owed=True)
    rig.slack.down = True
    notifier = rig.notifier()
    async with running(notifier):
        loop = asyncio.get_running_loop()
        asked = loop.time()
        told = await notifier.first_posts.wait(sms, within=60)
        assert loop.time() - asked < 30
        assert told == FirstPost(PostState.LATER)
        rig.slack.down = False
        await outbox_drained(rig.db)
    assert rig.stored(sms).slack_ts is not None


async def test_the_post_another_replica_makes_is_told_from_the_database(rig: NotifierRig) -> None:
    """The channel's owner posts; the replica whose surface waits learns of it from the database."""
    now = datetime.now(UTC)
    for replica in ("owner", "other"):
        register(rig.db, replica, host="h", pid=1, now=now)
    outbox.own_channels(rig.db, ["C1"], replica="owner", live_cutoff=lease_cutoff(now))
    sms = rig.sms(7, post_owed=True)
    owner = rig.notifier(replica="owner")
    other = rig.notifier(replica="other")  # never drains C1
    async with running(owner), running(other):
        told = await other.first_posts.wait(sms, within=10)
    assert told == FirstPost(PostState.POSTED)
    assert len(rig.slack.called("chat.postMessage")) == 1
    assert rig.stored(sms).slack_ts is not None


async def test_a_gone_replicas_post_is_made_by_a_live_one(rig: NotifierRig) -> None:
    """A replica that recorded a send and died owned its channel: a live replica makes the post."""
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    register(rig.db, "gone", host="h", pid=1, now=long_ago)
    outbox.own_channels(rig.db, ["C1"], replica="gone", live_cutoff=lease_cutoff(long_ago))
    sms = rig.sms(7, post_owed=True, claimed_by="gone")
    register(rig.db, "alive", host="h", pid=2)
    await rig.drain_all(rig.notifier(replica="alive"))
    assert rig.stored(sms).slack_ts is not None
    (post,) = rig.slack.called("chat.postMessage")
    assert post.params["channel"] == "C1"
    owners = run_sql(rig.db, "SELECT channel, replica FROM channel_owners")
    assert [tuple(row.values()) for row in owners] == [("C1", "alive")]


async def test_a_post_made_before_a_crash_is_found_not_made_again(rig: NotifierRig) -> None:
    """A post Slack took just before the process died (its ts never stored) is found by its metadata."""
    sms = rig.sms(7, post_owed=True)
    ts = "1700000999.000999"
    posted_earlier(rig.slack, "C1", ts, POST_METADATA, text="SMS 7")
    report(rig.db, 7, "DELIVRD")
    await rig.drain_all()  # a notifier started after the row
    assert [c for c in rig.slack.called("chat.postMessage") if "thread_ts" not in c.params] == []
    stored = rig.stored(sms)
    assert stored.slack_ts == ts
    (reply,) = thread_replies(rig.slack, stored)
    assert "was delivered" in reply["text"]


async def test_a_post_a_gone_replica_made_is_found_by_the_replica_taking_its_channel(
    rig: NotifierRig,
) -> None:
    """A replica started before the row, taking a dead owner's channel, finds its post first."""
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    register(rig.db, "gone", host="h", pid=1, now=long_ago)
    outbox.own_channels(rig.db, ["C1"], replica="gone", live_cutoff=lease_cutoff(long_ago))
    register(rig.db, "alive", host="h", pid=2)
    notifier = rig.notifier(replica="alive")  # started first
    queued = rig.clock.now() + timedelta(milliseconds=500)  # then the row, then the takeover
    sms = rig.sms(7, post_owed=True, claimed_by="gone", sent_at=queued)
    rig.clock.skipped += 1.0
    ts = "1700000999.000999"  # the gone owner's post, made just before it died
    posted_earlier(rig.slack, "C1", ts, POST_METADATA, text="SMS 7")
    await rig.drain_all(notifier)
    assert rig.slack.called("chat.postMessage") == []
    assert rig.stored(sms).slack_ts == ts


async def test_a_channel_taken_from_no_owner_is_posted_to_without_looking_back(
    rig: NotifierRig,
) -> None:
    """A replica taking a channel nobody held (never owned, or let go idle) posts without a lookup."""
    register(rig.db, "alive", host="h", pid=2)
    notifier = rig.notifier(replica="alive")  # started first
    queued = rig.clock.now() + timedelta(milliseconds=500)  # then the row, then the take
    rig.sms(7, post_owed=True, claimed_by="alive", sent_at=queued)
    rig.clock.skipped += 1.0
    await rig.drain_all(notifier)
    assert len(rig.slack.called("chat.postMessage")) == 1
    assert rig.slack.called("conversations.history") == []


async def test_a_late_post_says_why_under_it(rig: NotifierRig) -> None:
    """The note a post row carries (recorded late, found, sent again) is said under the post."""
    rig.sms(7, post_owed=True, note=outbox.PostNote.LATE)
    async with running(rig.notifier()):
        await wait_until(lambda: rig.slack.called("chat.postMessage"), what="the post")
    (post,) = rig.slack.called("chat.postMessage")
    assert "database was busy when Mobizon took this SMS" in str(post.params["blocks"])


async def test_a_stopping_process_stops_waiting_for_posts(rig: NotifierRig) -> None:
    """Once the process stops, a surface waiting for its post hears at once that it comes later."""
    sms = rig.sms(7, post_owed=True)
    notifier = rig.notifier()  # not running: nobody makes the post
    waiting = asyncio.create_task(notifier.first_posts.wait(sms, within=60))
    await asyncio.sleep(0)  # it starts waiting
    assert not waiting.done()
    notifier.first_posts.release()
    assert await asyncio.wait_for(waiting, 5) == FirstPost(PostState.LATER)
    assert await asyncio.wait_for(notifier.first_posts.wait(sms, within=60), 5) == FirstPost(
        PostState.LATER
    )
    # the outbox keeps it for the flush or the next start
    assert outbox.first_post(rig.db, 7).waiting
