"""Sends whose outcome was never recorded (a crash mid-send, a lost answer) are settled, never re-sent."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.mobizon import MobizonClient, RetryPolicy
from bot.simulator import LIST, SEND_SMS, MobizonSimulator
from bot.sms.delivery.unsettled import LISTING_DELAY, RESEND_LIMIT, UnsettledSends
from handlers.delivery_posts import SlackSettlingPosts
from handlers.first_posts import RECOVERED_NOTE, RESENT_NOTE
from handlers.notifier import Notifier
from storage.claims import NewSend, claim_send, record_failed, record_sent, start_sending
from storage.engine import Database
from storage.messages import get_sms
from storage.records import SendState, SmsRecord
from storage.replicas import LEASE, heartbeat, register
from storage.schema import open_database
from storage.store import Store
from testkit.clock import FastForwardClock
from testkit.database import run_sql
from testkit.slack import FakeSlack
from testkit.waiting import wait_until
from tests.bot.serve_process import ServeProcess, command_body, post_command
from tests.conftest import MOBIZON_KEY
from tests.sms.delivery.conftest import SeedSms, fast_notifier, serve_env

NUMBER = "5511987654321"
STARTED = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
async def gateway(simulator: tuple[MobizonSimulator, str]) -> AsyncIterator[MobizonClient]:
    """A Mobizon client on the simulator that does not retry (each test says what fails)."""
    _, url = simulator
    async with MobizonClient(
        MOBIZON_KEY, base_url=url, retry=RetryPolicy(attempts=1, base_delay=0, max_delay=0)
    ) as client:
        yield client


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP session for response_url posts."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def claim(
    db: Database,
    slack: FakeSlack,
    *,
    at: datetime,
    text: str = "your parcel is here",
    n: int = 1,
    claimed_by: str | None = None,
    left: bool = True,
) -> SmsRecord:
    """A send claimed at ``at`` whose Mobizon answer was never recorded (the process died).

    ``left``: its request was marked as leaving (at ``at``), so it may be at Mobizon; without,
    the process died before its request left.
    """
    claimed = claim_send(
        db,
        NewSend(
            trigger_id=f"trigger-{n}",
            team_id="T1",
            channel_id="C1",
            user_id="U1",
            response_url=f"{slack.url}response/{n}",
            recipient=NUMBER,
            text=text,
            sender=None,
            segments=1,
            encoding="gsm7",
            name=None,
            deferred_to=None,
            validity=None,
            flash=False,
            claimed_by=claimed_by,
        ),
        now=at,
    )
    assert claimed is not None
    if left:
        assert start_sending(db, claimed.id, replica=claimed_by, now=at)
        return state(db, claimed)
    return claimed


@dataclass
class Rig:
    """The component under test, for a process started at ``STARTED``, and what it talks to.

    ``notifier`` makes the channel posts settling queues.
    """

    db: Database
    slack: FakeSlack
    sim: MobizonSimulator
    settler: UnsettledSends
    notifier: Notifier

    def claim(
        self, *, at: datetime, text: str = "your parcel is here", n: int = 1, left: bool = True
    ) -> SmsRecord:
        """A send claimed at ``at`` whose Mobizon answer was never recorded (``left``: see claim)."""
        return claim(self.db, self.slack, at=at, text=text, n=n, left=left)

    def state(self, sms: SmsRecord) -> SmsRecord:
        """The SMS as stored now."""
        return state(self.db, sms)

    async def run(self, now: datetime = STARTED) -> int:
        """One settling pass at ``now``, then the notifier's drain of what it queued."""
        settled = await self.settler.run_once(now=now)
        await self.notifier.drain()
        return settled


@pytest.fixture
def rig(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    simulator: tuple[MobizonSimulator, str],
    gateway: MobizonClient,
    slack_client: AsyncWebClient,
    session: aiohttp.ClientSession,
    clock: FastForwardClock,
) -> Rig:
    """UnsettledSends on a database, the fake Slack and the simulator, with a notifier."""
    settler = UnsettledSends(
        store, gateway, SlackSettlingPosts(slack_client, session), started_at=STARTED
    )
    notifier = fast_notifier(store, slack_client, clock)
    return Rig(db, fake_slack, simulator[0], settler, notifier)


def state(db: Database, sms: SmsRecord) -> SmsRecord:
    """The SMS as stored now."""
    found = get_sms(db, sms.id)
    assert found is not None
    return found


async def test_a_send_mobizon_received_is_tracked_and_posted_not_resent(rig: Rig) -> None:
    """A claim whose SMS Mobizon did receive becomes a sent SMS with its channel message."""
    sms = rig.claim(at=STARTED - timedelta(seconds=5))
    received = rig.sim.create_message(NUMBER, sms.text)

    settled = await rig.run()

    assert settled == 1
    row = rig.state(sms)
    assert row.state is SendState.SENT
    assert row.message_id == received.id
    assert row.slack_ts is not None
    (post,) = rig.slack.called("chat.postMessage")
    assert post.params["channel"] == "C1"
    assert str(received.id) in post.params["text"]
    assert RECOVERED_NOTE in str(post.params["blocks"])
    assert rig.sim.count(SEND_SMS) == 0
    assert rig.slack.responses == []


async def test_an_old_send_mobizon_never_saw_is_reported_not_sent(rig: Rig) -> None:
    """A claim older than the resend limit that Mobizon has no record of is reported, not sent."""
    sms = rig.claim(at=STARTED - RESEND_LIMIT - timedelta(minutes=1))
    rig.sim.create_message(NUMBER, "another text to the same number")

    settled = await rig.run()

    assert settled == 1
    assert rig.state(sms).state is SendState.FAILED
    (notice,) = rig.slack.responses
    assert notice.params["response_type"] == "ephemeral"
    assert "was *not sent*" in notice.params["text"]
    assert "your parcel is here" in notice.params["text"]
    assert rig.slack.called("chat.postMessage") == []
    assert rig.sim.count(SEND_SMS) == 0


async def test_a_recent_send_that_never_reached_mobizon_is_sent_once_and_posted(
    rig: Rig,
) -> None:
    """An interrupted claim Mobizon does not list, under the resend limit, is sent now, once."""
    sms = rig.claim(at=STARTED - LISTING_DELAY - timedelta(seconds=1))

    assert await rig.run() == 1
    assert await rig.run(STARTED + timedelta(minutes=1)) == 0  # settled: not sent again

    assert rig.sim.count(SEND_SMS) == 1
    (message_id,) = rig.sim.messages
    row = rig.state(sms)
    assert (row.state, row.message_id) == (SendState.SENT, message_id)
    assert rig.sim.messages[message_id].text == sms.text
    (post,) = rig.slack.called("chat.postMessage")
    assert post.params["channel"] == "C1"
    assert RESENT_NOTE in str(post.params["blocks"])
    assert rig.slack.responses == []


@pytest.fixture
def replica_settler(
    store: Store,
    gateway: MobizonClient,
    slack_client: AsyncWebClient,
    session: aiohttp.ClientSession,
) -> Callable[[str], UnsettledSends]:
    """Settling as the replica named, started at ``STARTED``."""

    def make(replica: str) -> UnsettledSends:
        posts = SlackSettlingPosts(slack_client, session)
        return UnsettledSends(store, gateway, posts, started_at=STARTED, replica=replica)

    return make


async def test_two_replicas_settling_one_interrupted_claim_send_it_once(
    rig: Rig, replica_settler: Callable[[str], UnsettledSends]
) -> None:
    """Two settlers finding the same claim of a gone replica at once: one of them sends it."""
    rig.claim(at=STARTED - LISTING_DELAY - timedelta(seconds=1))
    settlers = [replica_settler(name) for name in ("replica-a", "replica-b")]

    results = await asyncio.gather(*(s.run_once(now=STARTED) for s in settlers))
    await rig.notifier.drain()

    assert all(results)  # both settled it: one by sending it, the other by finding it taken
    assert rig.sim.count(SEND_SMS) == 1
    assert len(rig.slack.called("chat.postMessage")) == 1


async def test_a_claim_of_a_live_replica_is_left_and_of_a_gone_one_is_sent(
    rig: Rig, replica_settler: Callable[[str], UnsettledSends]
) -> None:
    """A claim is its replica's while that replica's heartbeat holds; after the lease, it is sent."""
    settler = replica_settler("survivor")
    claimed_at = STARTED - LISTING_DELAY - timedelta(seconds=1)
    register(rig.db, "other", host="h", pid=1, now=claimed_at)
    claim(rig.db, rig.slack, at=claimed_at, text="held by another replica", claimed_by="other")
    heartbeat(rig.db, "other", now=STARTED)

    assert await settler.run_once(now=STARTED + LEASE - timedelta(seconds=1)) == 0
    assert rig.sim.count(LIST) == 0  # still its replica's: not even looked up

    assert await settler.run_once(now=STARTED + LEASE + timedelta(seconds=1)) == 1
    assert rig.sim.count(SEND_SMS) == 1
    (row,) = run_sql(rig.db, "SELECT state, claimed_by FROM sms")
    assert dict(row) == {"state": "sent", "claimed_by": "survivor"}


async def test_a_claim_that_never_left_is_sent_at_once_without_a_lookup(rig: Rig) -> None:
    """A previous run's claim not marked as leaving, seconds old: sent now, not looked up first."""
    sms = rig.claim(at=STARTED - timedelta(seconds=5), left=False)

    assert await rig.run() == 1

    assert rig.sim.count(LIST) == 0
    assert rig.sim.count(SEND_SMS) == 1
    (message_id,) = rig.sim.messages
    row = rig.state(sms)
    assert (row.state, row.message_id, row.sending_at) == (SendState.SENT, message_id, STARTED)
    (post,) = rig.slack.called("chat.postMessage")
    assert RESENT_NOTE in str(post.params["blocks"])
    assert rig.slack.responses == []


async def test_claims_that_never_left_are_sent_side_by_side(rig: Rig) -> None:
    """A dead process's queue of unsent claims goes out together, not one Mobizon answer at a time."""
    claims = [
        rig.claim(at=STARTED - timedelta(seconds=5), text=f"queued {n}", n=n, left=False)
        for n in range(3)
    ]
    rig.sim.hold()  # Mobizon takes each send and answers only once released
    settling = asyncio.create_task(rig.run())
    await wait_until(lambda: rig.sim.count(SEND_SMS) == 3, what="the three sends in flight at once")
    rig.sim.release()

    assert await settling == 3
    assert [rig.state(sms).state for sms in claims] == [SendState.SENT] * 3
    assert len(rig.slack.called("chat.postMessage")) == 3


async def test_a_claim_that_never_left_past_the_resend_limit_is_told_not_sent(rig: Rig) -> None:
    """Older than the resend limit, a claim that never left is told as not sent, without a lookup."""
    sms = rig.claim(at=STARTED - RESEND_LIMIT - timedelta(seconds=1), left=False)

    assert await rig.run() == 1

    assert rig.state(sms).state is SendState.FAILED
    assert "never left" in (rig.state(sms).error or "")
    (notice,) = rig.slack.responses
    assert "was *not sent*" in notice.params["text"]
    assert rig.sim.count(LIST) == rig.sim.count(SEND_SMS) == 0


async def test_a_gone_replicas_claim_that_never_left_goes_at_once_and_one_that_left_waits(
    rig: Rig, replica_settler: Callable[[str], UnsettledSends]
) -> None:
    """Once its replica is gone: the unmarked claim is sent at once; the marked one after the delay."""
    settler = replica_settler("survivor")
    claimed_at = STARTED - timedelta(seconds=20)
    register(rig.db, "other", host="h", pid=1, now=claimed_at)
    waiting = claim(
        rig.db, rig.slack, at=claimed_at, text="waiting", n=1, claimed_by="other", left=False
    )
    leaving = claim(rig.db, rig.slack, at=claimed_at, text="leaving", n=2, claimed_by="other")
    gone = claimed_at + LEASE + timedelta(seconds=1)

    assert await settler.run_once(now=gone) == 1
    await rig.notifier.drain()
    assert [m.text for m in rig.sim.messages.values()] == ["waiting"]
    assert rig.sim.count(LIST) == 1  # the one that left is looked up: not listed yet, it waits
    assert (rig.state(waiting).state, rig.state(leaving).state) == (
        SendState.SENT,
        SendState.CLAIMED,
    )
    assert rig.state(waiting).claimed_by == "survivor"

    assert await settler.run_once(now=claimed_at + LISTING_DELAY + timedelta(seconds=1)) == 1
    assert sorted(m.text for m in rig.sim.messages.values()) == ["leaving", "waiting"]
    assert rig.state(leaving).sending_at == claimed_at + LISTING_DELAY + timedelta(seconds=1)
    assert rig.sim.count(SEND_SMS) == 2


async def test_two_replicas_finding_a_claim_that_never_left_send_it_once(
    rig: Rig, replica_settler: Callable[[str], UnsettledSends]
) -> None:
    """Two settlers take a gone replica's unmarked claim at once: one sends it, without lookups."""
    rig.claim(at=STARTED - timedelta(seconds=5), left=False)
    settlers = [replica_settler(name) for name in ("replica-a", "replica-b")]
    for pid, name in enumerate(("replica-a", "replica-b")):
        register(rig.db, name, host="h", pid=pid, now=STARTED)  # each sees the other alive

    await asyncio.gather(*(s.run_once(now=STARTED) for s in settlers))
    await rig.notifier.drain()

    assert rig.sim.count(SEND_SMS) == 1
    assert rig.sim.count(LIST) == 0
    assert len(rig.slack.called("chat.postMessage")) == 1


async def test_a_survivor_dying_while_it_sends_leaves_the_send_looked_up_not_doubled(
    rig: Rig, replica_settler: Callable[[str], UnsettledSends]
) -> None:
    """The survivor marks its send before it leaves: if it dies too, the next one finds it at Mobizon."""
    claimed_at = STARTED - timedelta(seconds=5)
    register(rig.db, "first", host="h", pid=1, now=claimed_at - LEASE)
    register(rig.db, "survivor", host="h", pid=2, now=STARTED)
    sms = claim(rig.db, rig.slack, at=claimed_at, claimed_by="first", left=False)
    rig.sim.hold()  # Mobizon takes the survivor's send and has not answered when it dies
    survivor = asyncio.create_task(replica_settler("survivor").run_once(now=STARTED))
    await wait_until(lambda: rig.sim.count(SEND_SMS) == 1, what="the survivor's send at Mobizon")
    survivor.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await survivor
    rig.sim.release()
    await wait_until(lambda: len(rig.sim.messages) == 1, what="Mobizon to take the send")
    assert (rig.state(sms).claimed_by, rig.state(sms).sending_at) == ("survivor", STARTED)

    last = replica_settler("last")
    assert await last.run_once(now=STARTED + LEASE + timedelta(seconds=1)) == 1
    await rig.notifier.drain()

    (message_id,) = rig.sim.messages
    row = rig.state(sms)
    assert (row.state, row.message_id, row.claimed_by) == (SendState.SENT, message_id, "last")
    assert rig.sim.count(SEND_SMS) == 1
    (post,) = rig.slack.called("chat.postMessage")
    assert RECOVERED_NOTE in str(post.params["blocks"])


async def test_a_fresh_claim_not_found_yet_waits_for_mobizon_to_list_it(rig: Rig) -> None:
    """A claim from the previous process, seconds old and not listed yet, is left for later."""
    sms = rig.claim(at=STARTED - timedelta(seconds=5))

    settled = await rig.run()

    assert settled == 0
    assert rig.state(sms).state is SendState.CLAIMED
    assert rig.slack.responses == []


async def test_an_old_claim_gets_a_direct_message_once_response_url_expired(rig: Rig) -> None:
    """After Slack's response_url has expired, the sender is told in a direct message."""
    sms = rig.claim(at=STARTED - timedelta(hours=2))

    assert await rig.run() == 1

    assert rig.slack.responses == []
    assert len(rig.slack.called("conversations.open")) == 1
    (post,) = rig.slack.called("chat.postMessage")
    assert "was *not sent*" in post.params["text"]
    assert rig.state(sms).state is SendState.FAILED


async def test_claims_of_this_process_are_left_alone(rig: Rig) -> None:
    """A claim made by this process may still wait for a send slot, however old: not touched."""
    sms = rig.claim(at=STARTED + timedelta(seconds=30))

    assert await rig.run(STARTED + timedelta(seconds=60)) == 0
    assert await rig.run(STARTED + timedelta(minutes=10)) == 0

    assert rig.state(sms).state is SendState.CLAIMED
    assert rig.sim.count(LIST) == 0
    assert rig.slack.calls == []


async def test_without_a_start_given_the_process_starts_when_settling_is_made(
    rig: Rig,
    store: Store,
    gateway: MobizonClient,
    slack_client: AsyncWebClient,
    session: aiohttp.ClientSession,
) -> None:
    """As serve builds it (no start time, no newest row): older claims are settled, newer ones not."""
    before = datetime.now(UTC)
    gone = rig.claim(at=before - timedelta(minutes=5), text="claimed before the start", n=1)
    rig.sim.create_message(NUMBER, gone.text)
    settler = UnsettledSends(store, gateway, SlackSettlingPosts(slack_client, session))
    after = datetime.now(UTC)
    ours = rig.claim(at=after + timedelta(seconds=30), text="claimed after the start", n=2)

    settled = await settler.run_once(now=after + timedelta(minutes=1))

    assert (settled, rig.state(gone).state) == (1, SendState.SENT)
    assert rig.state(ours).state is SendState.CLAIMED  # may still be waiting for Mobizon
    assert rig.sim.count(LIST) == 1  # only the gone process's claim was looked up


async def test_mobizon_down_leaves_the_claim_for_the_next_cycle(rig: Rig) -> None:
    """When the lookup fails nothing is concluded; the next cycle settles the claim."""
    sms = rig.claim(at=STARTED - RESEND_LIMIT - timedelta(minutes=1))
    rig.sim.fail_next(LIST, 999)

    assert await rig.run() == 0
    assert rig.state(sms).state is SendState.CLAIMED
    assert rig.slack.responses == []

    assert await rig.run() == 1
    assert rig.state(sms).state is SendState.FAILED
    assert len(rig.slack.responses) == 1


async def test_slack_refusing_the_notice_keeps_the_claim_until_it_is_told(rig: Rig) -> None:
    """The claim is marked failed only after Slack accepted the notice."""
    sms = rig.claim(at=STARTED - timedelta(hours=2))
    rig.slack.fail_next("chat.postMessage", "internal_error")

    assert await rig.run() == 0
    assert rig.state(sms).state is SendState.CLAIMED

    assert await rig.run() == 1
    assert rig.state(sms).state is SendState.FAILED
    assert len(rig.slack.called("chat.postMessage")) == 2


async def test_a_message_another_sms_owns_is_not_adopted(rig: Rig, seed_sms: SeedSms) -> None:
    """The same text to the same number sent earlier by the bot does not count as this send."""
    earlier = rig.sim.create_message(NUMBER, "your parcel is here")
    seed_sms(rig.db, earlier.id, text="your parcel is here", recipient=NUMBER)
    sms = rig.claim(at=STARTED - RESEND_LIMIT - timedelta(minutes=1), n=2)

    assert await rig.run() == 1

    assert rig.state(sms).state is SendState.FAILED
    assert rig.state(sms).message_id is None


async def test_an_older_identical_sms_is_not_taken_for_this_one(
    rig: Rig, seed_sms: SeedSms
) -> None:
    """Yesterday's identical SMS (given out before the bot's last one) is not this send."""
    rig.sim.create_message(NUMBER, "your parcel is here")  # not the bot's, long ago
    later = rig.sim.create_message(NUMBER, "an SMS the bot sent afterwards")
    seed_sms(rig.db, later.id, sent_at=STARTED - timedelta(hours=1), recipient=NUMBER)
    sms = rig.claim(at=STARTED - RESEND_LIMIT - timedelta(minutes=1), n=2)

    assert await rig.run() == 1

    assert rig.state(sms).state is SendState.FAILED
    assert "was *not sent*" in rig.slack.responses[0].params["text"]


async def test_several_candidates_are_reported_and_not_looked_up_again(rig: Rig) -> None:
    """Two fresh identical SMS at Mobizon: the sender is told to check, and the lookup stops."""
    rig.sim.create_message(NUMBER, "your parcel is here")
    rig.sim.create_message(NUMBER, "your parcel is here")
    sms = rig.claim(at=STARTED - timedelta(minutes=5))

    assert await rig.run() == 1
    assert await rig.run() == 0

    row = rig.state(sms)
    assert (row.state, row.message_id) == (SendState.UNKNOWN, None)
    (notice,) = rig.slack.responses
    assert "could not tell whether it was sent" in notice.params["text"]
    assert "/sms find to:5511987654321" in notice.params["text"]
    assert rig.sim.count(LIST) == 1


async def test_a_send_whose_answer_was_lost_is_found_and_tracked(rig: Rig) -> None:
    """An SMS left "unknown" by a timeout is adopted once Mobizon lists it."""
    sms = rig.claim(at=STARTED + timedelta(minutes=1))  # this process: a timeout, not a crash
    record_failed(rig.db, sms.id, error="timed out", outcome_unknown=True)
    received = rig.sim.create_message(NUMBER, sms.text)

    assert await rig.run(STARTED + timedelta(minutes=2)) == 1

    row = rig.state(sms)
    assert (row.state, row.message_id) == (SendState.SENT, received.id)
    assert RECOVERED_NOTE in str(rig.slack.called("chat.postMessage")[0].params["blocks"])


async def test_a_send_whose_answer_was_lost_and_never_arrived_is_reported_not_sent(
    rig: Rig,
) -> None:
    """An "unknown" SMS Mobizon still does not list after a while is reported as not sent."""
    sms = rig.claim(at=STARTED + timedelta(minutes=1))
    record_failed(rig.db, sms.id, error="timed out", outcome_unknown=True)

    assert await rig.run(STARTED + timedelta(minutes=2)) == 0  # too fresh to conclude
    assert await rig.run(STARTED + timedelta(minutes=4)) == 1

    assert rig.state(sms).state is SendState.FAILED
    (notice,) = rig.slack.responses
    assert "was *not sent*: Mobizon's answer was lost" in notice.params["text"]


async def test_unknown_sends_older_than_a_day_are_left_alone(rig: Rig) -> None:
    """The lookup of an "unknown" SMS stops after a day."""
    sms = rig.claim(at=STARTED - timedelta(days=2))
    record_failed(rig.db, sms.id, error="timed out", outcome_unknown=True)

    assert await rig.run() == 0
    assert rig.sim.count(LIST) == 0


async def test_a_resend_in_flight_is_not_taken_for_the_lost_send(rig: Rig) -> None:
    """While the user's resend of a lost SMS is in flight, its message is not adopted by the lost one."""
    lost = rig.claim(at=STARTED - timedelta(minutes=5))
    record_failed(rig.db, lost.id, error="timed out", outcome_unknown=True)
    resend = rig.claim(at=STARTED + timedelta(minutes=1), n=2)  # this process, Mobizon busy
    received = rig.sim.create_message(NUMBER, resend.text)

    assert await rig.run(STARTED + timedelta(minutes=2)) == 0
    assert rig.sim.count(LIST) == 0

    record_sent(
        rig.db, resend.id, message_id=received.id, campaign_id=1, campaign_status=2
    )  # the resend's answer arrives
    assert await rig.run(STARTED + timedelta(minutes=2)) == 1
    assert rig.state(lost).state is SendState.FAILED
    assert rig.state(resend).message_id == received.id


async def test_a_send_mobizon_will_not_search_for_is_reported_and_the_rest_go_on(
    rig: Rig,
) -> None:
    """A validation refusal of the lookup settles that send as "could not tell"; others proceed."""
    refused = rig.claim(at=STARTED - timedelta(minutes=6), text="one", n=1)
    other = rig.claim(at=STARTED - timedelta(minutes=5), text="two", n=2)
    received = rig.sim.create_message(NUMBER, "two")
    rig.sim.fail_next(LIST, 1)

    assert await rig.run() == 2

    assert rig.state(refused).state is SendState.UNKNOWN
    assert "Mobizon would not search for it" in rig.slack.responses[0].params["text"]
    assert rig.state(other).message_id == received.id


def stored_sms(db_path: Path) -> list[dict[str, Any]]:
    """The SMS rows, read as another process would."""
    database = open_database(db_path)
    try:
        return [
            dict(row) for row in run_sql(database, "SELECT state, message_id, slack_ts FROM sms")
        ]
    finally:
        database.close()


@pytest.mark.slow
async def test_sigkill_while_mobizon_answers_is_settled_after_restart(
    tmp_path: Path, fake_slack: FakeSlack, simulator: tuple[MobizonSimulator, str]
) -> None:
    """Killed between the claim and Mobizon's answer, the restarted bot finds the SMS, never re-sends."""
    sim, mobizon_url = simulator
    db_path = tmp_path / "smsbot.db"
    env = serve_env(fake_slack, mobizon_url, db_path)
    first = await ServeProcess.start(env)
    try:
        sim.hold()  # Mobizon takes the send and answers only once released
        async with aiohttp.ClientSession() as http:
            body = command_body("send +55 11 98765-4321 killed mid-send", fake_slack.url)
            assert (await post_command(http, first.url, body))[0] == 200
        await wait_until(lambda: sim.count(SEND_SMS) == 1, what="the send to reach Mobizon")
        first.process.kill()  # SIGKILL while Mobizon has not answered yet
        assert await first.process.wait() == -9
    finally:
        await first.kill()
    assert [row["state"] for row in stored_sms(db_path)] == ["claimed"]
    # restarted at once, maybe in the claim's own second: its row predates the new process
    sim.release()
    await wait_until(lambda: len(sim.messages) == 1, what="Mobizon to finish the send")

    second = await ServeProcess.start(env, quick=True)
    try:
        await wait_until(
            lambda: any(p.get("thread_ts") for p in fake_slack.messages.values()),
            what="the delivery reply in the recovered SMS's thread",
        )
        async with (
            aiohttp.ClientSession() as http,
            http.get(second.url + "metrics") as response,
        ):
            exposition = await response.text()
        await second.stop()
    finally:
        await second.kill()
    (message_id,) = sim.messages
    (row,) = stored_sms(db_path)
    assert (row["state"], row["message_id"]) == ("sent", message_id)
    assert row["slack_ts"] is not None
    first_post = fake_slack.called("chat.postMessage")[0]
    assert RECOVERED_NOTE in str(first_post.params["blocks"])
    (reply,) = [p for p in fake_slack.messages.values() if p.get("thread_ts")]
    assert f"SMS {message_id}" in reply["text"]
    assert sim.count(SEND_SMS) == 1
    # the adopted send is counted as sent by the process that found it
    assert 'smsbot_sms_sent_total{outcome="sent"} 1.0' in exposition


@pytest.mark.parametrize("of_the_gone_process", [True, False])
async def test_a_claim_in_the_second_the_process_started_is_judged_by_its_row(
    rig: Rig,
    store: Store,
    gateway: MobizonClient,
    slack_client: AsyncWebClient,
    session: aiohttp.ClientSession,
    *,
    of_the_gone_process: bool,
) -> None:
    """Claims are stored to the second: one in the start's own second is settled if its row predates the start."""
    started = STARTED + timedelta(milliseconds=600)
    sms = rig.claim(at=STARTED + timedelta(milliseconds=200))  # stored as 12:00:00, like the start
    rig.sim.create_message(NUMBER, sms.text)
    settler = UnsettledSends(
        store,
        gateway,
        SlackSettlingPosts(slack_client, session),
        started_at=started,
        claimed_up_to=sms.id if of_the_gone_process else sms.id - 1,
    )

    settled = await settler.run_once(now=STARTED + timedelta(seconds=5))

    if of_the_gone_process:
        assert (settled, rig.state(sms).state) == (1, SendState.SENT)
    else:  # claimed by this process just after it started: it may still be waiting for Mobizon
        assert (settled, rig.state(sms).state) == (0, SendState.CLAIMED)
        assert rig.sim.count(LIST) == 0
