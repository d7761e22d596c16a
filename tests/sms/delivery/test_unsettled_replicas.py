"""Replicas settling one send of a gone replica at once, on both engines: one of them adopts it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.mobizon import MessagePage, MobizonClient, RetryPolicy
from bot.simulator import SEND_SMS, MobizonSimulator
from bot.sms.delivery.unsettled import UnsettledSends
from handlers.delivery_posts import SlackSettlingPosts
from handlers.first_posts import RECOVERED_NOTE
from storage.claims import NewSend, claim_send, start_sending
from storage.engine import Database
from storage.replicas import register
from storage.schema import open_database
from storage.store import Store
from testkit.clock import FastForwardClock
from testkit.database import run_sql
from testkit.slack import FakeSlack
from tests import postgres
from tests.conftest import MOBIZON_KEY
from tests.sms.delivery.conftest import fast_notifier

NUMBER = "5511987654321"
STARTED = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class MeetingClient(MobizonClient):
    """A Mobizon client whose message list answers once every settler has asked for it.

    So the settlers race: each has found the SMS at Mobizon before either records it.
    """

    met: asyncio.Barrier

    async def list_messages(self, *args: Any, **kwargs: Any) -> MessagePage:  # noqa: D102
        page = await super().list_messages(*args, **kwargs)
        await self.met.wait()
        return page


@pytest.fixture(params=("sqlite", "postgresql"))
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """One database the replicas share: a SQLite file, or this worker's PostgreSQL, emptied."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    url = str(request.getfixturevalue("postgres_url"))
    postgres.empty_tables(url)
    return url


@pytest.fixture
def shared_db(shared_url: str) -> Iterator[Database]:
    """The test's own connection to the shared database, schema up to date."""
    database = open_database(shared_url)
    yield database
    database.close()
    database.engine.dispose()


@pytest.fixture
async def stores(shared_url: str, shared_db: Database) -> AsyncIterator[list[Store]]:
    """Two replicas' stores on the shared database (``shared_db`` migrated it first)."""
    assert shared_db is not None
    opened = [await Store.open(shared_url) for _ in range(2)]
    yield opened
    for store in opened:
        await store.close()


async def test_two_replicas_finding_a_gone_replicas_send_adopt_it_once_and_post_it_once(
    shared_db: Database,
    stores: list[Store],
    simulator: tuple[MobizonSimulator, str],
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: FastForwardClock,
) -> None:
    """Both find the SMS at Mobizon at once: one takes the send over and adopts it; one post."""
    sim, url = simulator
    register(shared_db, "gone", host="h", pid=1, now=STARTED - timedelta(hours=1))
    for replica in ("a", "b"):
        register(shared_db, replica, host="h", pid=2, now=STARTED)
    claimed = claim_send(
        shared_db,
        NewSend(
            trigger_id="t1",
            team_id="T1",
            channel_id="C1",
            user_id="U1",
            response_url=None,
            recipient=NUMBER,
            text="held by a replica that died",
            sender=None,
            segments=1,
            encoding="gsm7",
            name=None,
            deferred_to=None,
            validity=None,
            flash=False,
            claimed_by="gone",
        ),
        now=STARTED - timedelta(minutes=5),
    )
    assert claimed is not None
    # its request left: it is looked up, not sent at once
    assert start_sending(shared_db, claimed.id, replica="gone", now=STARTED - timedelta(minutes=5))
    found = sim.create_message(NUMBER, claimed.text)
    adopted: list[str] = []
    retry = RetryPolicy(attempts=1, base_delay=0, max_delay=0)
    async with (
        MeetingClient(MOBIZON_KEY, base_url=url, retry=retry) as gateway,
        aiohttp.ClientSession() as session,
    ):
        gateway.met = asyncio.Barrier(2)
        settlers = [
            UnsettledSends(
                store,
                gateway,
                SlackSettlingPosts(slack_client, session),
                started_at=STARTED,
                replica=replica,
                on_adopted=lambda replica=replica: adopted.append(replica),  # type: ignore[misc]
            )
            for store, replica in zip(stores, ("a", "b"), strict=True)
        ]
        await asyncio.gather(*(settler.run_once(now=STARTED) for settler in settlers))
        await fast_notifier(stores[0], slack_client, clock).drain()

    assert len(adopted) == 1  # counted as sent once
    (row,) = run_sql(shared_db, "SELECT state, message_id, claimed_by FROM sms")
    assert dict(row) == {"state": "sent", "message_id": found.id, "claimed_by": adopted[0]}
    (post,) = fake_slack.called("chat.postMessage")
    assert post.params["channel"] == "C1"
    assert RECOVERED_NOTE in str(post.params["blocks"])
    assert sim.count(SEND_SMS) == 0
