"""Each channel drains on a task of its own: no channel's backlog or pacing holds up another."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from slack_sdk.web.async_client import AsyncWebClient

from bot.sms.clock import SystemClock
from bot.sms.delivery.webhook import make_handler
from handlers.notifier import Notifier
from storage import outbox
from storage.engine import Database
from storage.records import SmsRecord
from storage.store import Store
from testkit.clock import FastForwardClock
from testkit.slack import FakeSlack
from tests.sms.delivery.conftest import (
    SeedSms,
    channel_message,
    event,
    fast_notifier,
    outbox_drained,
    report,
    running,
    thread_replies,
)


def update_times(slack: FakeSlack, channel: str) -> list[float]:
    """When the fake received each ``chat.update`` of one channel, oldest first."""
    return [call.at for call in slack.called("chat.update") if call.params["channel"] == channel]


def notifier_tasks() -> list[asyncio.Task[object]]:
    """The channel tasks of any notifier still alive in this event loop."""
    return [task for task in asyncio.all_tasks() if task.get_name().startswith("notifier ")]


def queue_backlog(db: Database, slack: FakeSlack, seed_sms: SeedSms, channel: str) -> None:
    """Queue 20 progress updates (message ids 1-20) in ``channel``."""
    for message_id in range(1, 21):
        seed_sms(db, message_id, slack=slack, channel=channel)
        report(db, message_id, "ACCEPTD")


async def test_a_busy_channel_does_not_hold_up_another(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: FastForwardClock,
    seed_sms: SeedSms,
) -> None:
    """Channel A drains 20 queued updates; B's one update, queued meanwhile, goes out before A ends."""
    queue_backlog(db, fake_slack, seed_sms, "CA")
    notifier = fast_notifier(store, slack_client, clock, per_channel_interval=0.2)
    async with running(notifier):
        await fake_slack.wait_for("chat.update", 2)  # A's drain is under way
        seed_sms(db, 99, slack=fake_slack, channel="CB")
        report(db, 99, "ACCEPTD")
        notifier.wake()
        await outbox_drained(db)
    in_a = update_times(fake_slack, "CA")
    (in_b,) = update_times(fake_slack, "CB")
    assert len(in_a) == 20
    assert in_b < in_a[-1]


async def test_one_channels_backlog_does_not_fill_the_batch(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: FastForwardClock,
    seed_sms: SeedSms,
) -> None:
    """20 older rows of A and a batch of 5: B's newer row still goes out before A's sixth update."""
    queue_backlog(db, fake_slack, seed_sms, "CA")
    seed_sms(db, 99, slack=fake_slack, channel="CB")
    report(db, 99, "ACCEPTD")
    notifier = fast_notifier(store, slack_client, clock, per_channel_interval=0.2, batch=5)
    async with running(notifier):
        await outbox_drained(db)
    in_a = update_times(fake_slack, "CA")
    (in_b,) = update_times(fake_slack, "CB")
    assert len(in_a) == 20
    assert in_b < in_a[5]


@pytest.fixture
async def webhook_url(store: Store) -> AsyncIterator[tuple[str, list[Notifier]]]:
    """``POST /mobizon/webhook`` (unsigned) on a loopback port, waking the notifier put in the list."""
    woken: list[Notifier] = []

    def wake() -> None:
        for notifier in woken:
            notifier.wake()

    app = web.Application()
    app.router.add_post("/mobizon/webhook", make_handler(lambda: store, None, wake))
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield str(server.make_url("/mobizon/webhook")), woken
    finally:
        await server.close()


async def test_a_webhook_update_does_not_wait_for_another_channels_pacing(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    seed_sms: SeedSms,
    webhook_url: tuple[str, list[Notifier]],
) -> None:
    """A's reply waits out a 30 s pacing; B's webhook status is posted meanwhile, woken at once."""
    url, woken = webhook_url
    in_a = seed_sms(db, 1, slack=fake_slack, channel="CA")
    in_b = seed_sms(db, 2, slack=fake_slack, channel="CB")
    report(db, 1, "DELIVRD")
    # without wake() nothing would be looked at again for 30 s
    # the real clock: A's reply must still be waiting for its slot when B's update goes out
    notifier = fast_notifier(
        store, slack_client, SystemClock(), per_channel_interval=30.0, idle_wait=30.0
    )
    woken.append(notifier)
    async with running(notifier), aiohttp.ClientSession() as session:
        await fake_slack.wait_for("chat.update", 1)  # A's update; its reply is 30 s away
        body = json.dumps(event(1, 2, "DELIVRD", secret=None))
        async with session.post(url, data=body) as answer:
            assert answer.status == 200
        _, second = await fake_slack.wait_for("chat.update", 2)
        assert second.params["channel"] == "CB"
        assert thread_replies(fake_slack, in_a) == []  # A is still waiting for its slot
    assert "DELIVRD" in channel_message(fake_slack, in_b)["text"]
    assert notifier_tasks() == []  # leaving run() cancelled both channels' tasks


async def test_shutdown_drain_flushes_after_run_is_cancelled(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: FastForwardClock,
    seed_sms: SeedSms,
) -> None:
    """Run cancelled mid-backlog leaves no task; drain(deadline) then posts every row left, once."""
    sent: list[SmsRecord] = []
    for n in range(9):
        sent.append(seed_sms(db, n + 1, slack=fake_slack, channel=f"C{n % 3}"))
        report(db, n + 1, "DELIVRD")
    notifier = fast_notifier(store, slack_client, clock, per_channel_interval=0.2)
    async with running(notifier):
        await fake_slack.wait_for("chat.update", 2)
    assert notifier_tasks() == []
    # a write the cancelled run queued may still finish on the writer thread: wait behind it
    left = await store.write(outbox.outbox_size)
    assert left > 0
    assert await notifier.drain(deadline=time.monotonic() - 1) == 0  # past its deadline: no row
    assert outbox.outbox_size(db) == left
    assert await notifier.drain(deadline=time.monotonic() + 60) == left
    assert outbox.outbox_size(db) == 0
    for sms in sent:
        assert "DELIVRD" in channel_message(fake_slack, sms)["text"]
        assert len(thread_replies(fake_slack, sms)) == 1


async def test_a_reply_cut_off_by_shutdown_is_not_posted_twice(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: FastForwardClock,
    seed_sms: SeedSms,
) -> None:
    """Run cancelled while Slack takes a thread reply: the shutdown drain finds it, posts no other."""
    notifier = fast_notifier(store, slack_client, clock)
    notifier._started -= timedelta(minutes=1)  # the row is this process's own: no check by default
    sms = seed_sms(db, 7, slack=fake_slack)
    report(db, 7, "DELIVRD")
    fake_slack.held.add("chat.postMessage")  # the reply takes effect; its answer never comes
    async with running(notifier):
        await fake_slack.wait_for("chat.postMessage", 1)
    fake_slack.release_held()
    assert await notifier.drain(deadline=time.monotonic() + 30) == 1
    assert len(thread_replies(fake_slack, sms)) == 1
    assert len(fake_slack.called("chat.postMessage")) == 1
    assert len(fake_slack.called("conversations.replies")) == 1
