"""The poller against the Mobizon simulator on a loopback port: batching, scheduling, backoff, giving up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.mobizon import (
    MAX_IDS_PER_STATUS_REQUEST,
    MobizonClient,
    MobizonRateLimitedError,
    RetryPolicy,
    SmsStatus,
)
from bot.simulator import GET_SMS_STATUS, MobizonSimulator, SimulatorConfig
from bot.sms.delivery.poller import CHUNK, Poller
from storage import outbox
from storage.engine import Database
from storage.messages import get_by_message_id, get_by_message_ids
from storage.replicas import register
from storage.schema import wall_text
from storage.store import Store
from testkit.claims import new_send
from testkit.clock import ManualClock
from testkit.sent import record_sent_many
from testkit.waiting import wait_until
from tests.conftest import MOBIZON_KEY
from tests.sms.delivery.conftest import SeedSms


@pytest.fixture
async def client(simulator: tuple[MobizonSimulator, str]) -> AsyncIterator[MobizonClient]:
    """A Mobizon client for the simulator that does not retry (the poller's backoff is tested)."""
    async with MobizonClient(
        MOBIZON_KEY, base_url=simulator[1], retry=RetryPolicy(attempts=1)
    ) as gateway:
        yield gateway


def asked_ids(sim: MobizonSimulator, since: int = 0) -> list[list[int]]:
    """The ids of each getSMSStatus request the simulator received, from request ``since`` on."""
    batches = []
    for request in sim.requests[since:]:
        if request.method != GET_SMS_STATUS:
            continue
        ids = request.params["ids"]
        assert isinstance(ids, dict)
        batches.append([int(str(v)) for v in ids.values()])
    return batches


def seed_from_simulator(
    db: Database, sim: MobizonSimulator, count: int, **fields: Any
) -> list[int]:
    """Send ``count`` SMS through the simulator and record them as the bot's, in one transaction.

    Each is left as :func:`seed_sms` leaves one (sent now, its channel post refused).
    """
    ids = [sim.create_message("5511987654321", f"hello {n}").id for n in range(count)]
    sends = [
        new_send(f"seed-{n}-{i}", text=f"hello {n}", encoding="gsm7", **fields)
        for n, i in enumerate(ids)
    ]
    record_sent_many(db, sends, ids, now=datetime.now(UTC))
    return ids


# the lifecycle slowed a thousandfold: none of the 250 ends while a loaded machine seeds them
@pytest.mark.parametrize(
    "simulator_config", [SimulatorConfig(api_key=MOBIZON_KEY, speed=0.001)], ids=["slow"]
)
async def test_250_pending_sms_take_three_requests_and_final_ones_are_not_asked_again(
    db: Database,
    store: Store,
    simulator: tuple[MobizonSimulator, str],
    client: MobizonClient,
) -> None:
    """250 pending SMS are asked in 3 requests of at most 100 ids; once final, never again."""
    sim, _url = simulator
    ids = seed_from_simulator(db, sim, 250)
    poller = Poller(store, client)

    report = await poller.run_once()
    first = asked_ids(sim)
    assert sim.count(GET_SMS_STATUS) == 3
    assert (report.asked, report.requests, report.failed_batches) == (250, 3, 0)
    assert all(len(batch) <= MAX_IDS_PER_STATUS_REQUEST for batch in first)
    assert sorted(i for batch in first for i in batch) == ids

    sim.advance(3600)  # every message reaches its final status
    before = len(sim.requests)
    report = await poller.run_once()
    assert sim.count(GET_SMS_STATUS) == 6
    assert report.changed == 250
    assert len(asked_ids(sim, before)) == 3
    assert all(s is not None and s.is_final for s in (get_by_message_id(db, i) for i in ids))

    report = await poller.run_once()
    assert sim.count(GET_SMS_STATUS) == 6  # nothing left to ask
    assert (report.asked, report.requests) == (0, 0)


async def test_final_sms_drop_out_of_the_batches(
    db: Database,
    store: Store,
    simulator: tuple[MobizonSimulator, str],
    client: MobizonClient,
) -> None:
    """Only the SMS still pending are asked about: final ones leave the next cycle's requests."""
    sim, _url = simulator
    ids = seed_from_simulator(db, sim, 5)
    for message_id in ids[:2]:
        sim.set_status(message_id, "DELIVRD")
    poller = Poller(store, client)
    await poller.run_once()
    before = len(sim.requests)
    await poller.run_once()
    assert asked_ids(sim, before) == [ids[2:]]


async def test_scheduled_sms_is_not_asked_before_its_time(
    db: Database,
    store: Store,
    simulator: tuple[MobizonSimulator, str],
    client: MobizonClient,
    seed_sms: SeedSms,
) -> None:
    """An SMS sent with --at is left out of polls until its time comes, then asked."""
    sim, _url = simulator
    now = datetime.now(UTC)
    at = now.astimezone() + timedelta(hours=2)
    scheduled = sim.create_message(
        "5511987654321", "later", deferred_to=at.replace(tzinfo=None, microsecond=0)
    )
    seed_sms(db, scheduled.id, deferred_to=wall_text(at))
    (now_id,) = seed_from_simulator(db, sim, 1)

    await Poller(store, client, clock=ManualClock(now)).run_once()
    assert asked_ids(sim) == [[now_id]]

    before = len(sim.requests)
    await Poller(store, client, clock=ManualClock(now + timedelta(hours=2, minutes=1))).run_once()
    assert asked_ids(sim, before) == [[scheduled.id, now_id]]


async def test_scheduled_sms_is_due_and_overdue_by_the_account_zone(
    db: Database,
    store: Store,
    simulator: tuple[MobizonSimulator, str],
    client: MobizonClient,
    seed_sms: SeedSms,
) -> None:
    """--at is the Mobizon account's wall time: the poller asks, and gives up, by that zone's clock."""
    sim, _url = simulator
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    # 10:00 in Almaty (+05) is 05:00 UTC, long past; 18:00 in Almaty is 13:00 UTC
    far_east = ZoneInfo("Asia/Almaty")
    soon = seed_sms(db, 501, deferred_to="2026-11-30 18:00:00", validity=60)
    seed_sms(db, 502, deferred_to="2026-11-29 10:00:00", validity=60)

    poller = Poller(store, client, clock=ManualClock(now), timezone=far_east)
    report = await poller.run_once()
    assert asked_ids(sim) == [[502]]  # 17:00 in Almaty: only yesterday's is due
    assert report.gave_up == 1  # yesterday 10:00 + 60 min + grace is long gone
    still = get_by_message_id(db, soon.message_id or 0)
    assert still is not None
    assert still.gave_up_at is None

    later = now + timedelta(hours=1, minutes=1)  # 18:01 in Almaty
    before = len(sim.requests)
    await Poller(store, client, clock=ManualClock(later), timezone=far_east).run_once()
    assert asked_ids(sim, before) == [[501]]


class CountingGateway:
    """Wraps the client and records the ids of each getSMSStatus call made to it."""

    def __init__(self, inner: MobizonClient) -> None:
        self._inner = inner
        self.calls: list[list[int]] = []

    async def get_sms_status(self, ids: Iterable[int]) -> dict[int, SmsStatus]:
        """Answer like Mobizon's getSMSStatus (see the class)."""
        asked = list(ids)
        self.calls.append(asked)
        return await self._inner.get_sms_status(asked)


async def test_the_poller_hands_chunks_and_the_client_makes_requests_of_100(
    db: Database,
    store: Store,
    simulator: tuple[MobizonSimulator, str],
    client: MobizonClient,
) -> None:
    """1,000 pending SMS reach the gateway in calls of CHUNK ids, sent as 10 requests of 100."""
    sim, _url = simulator
    ids = seed_from_simulator(db, sim, 1000)
    gateway = CountingGateway(client)
    report = await Poller(store, gateway).run_once()
    assert [len(call) for call in gateway.calls] == [CHUNK, CHUNK, 1000 - 2 * CHUNK]
    assert sorted(i for call in gateway.calls for i in call) == sorted(ids)
    assert report.requests == 10
    assert sim.count(GET_SMS_STATUS) == 10


class WritesFirstGateway(CountingGateway):
    """Holds every call after the first until the first call's statuses are in the database."""

    def __init__(self, inner: MobizonClient, db: Database) -> None:
        super().__init__(inner)
        self._db = db

    async def get_sms_status(self, ids: Iterable[int]) -> dict[int, SmsStatus]:
        """Answer like Mobizon's getSMSStatus, a later call only once the first is written."""
        asked = list(ids)
        self.calls.append(asked)
        if len(self.calls) > 1:
            await wait_until(self._first_written, within=10, what="the first chunk's writes")
        return await self._inner.get_sms_status(asked)

    def _first_written(self) -> bool:
        # one read of the whole chunk: the wait asks every 10 ms
        first = get_by_message_ids(self._db, self.calls[0])
        return all(
            (sms := first.get(i)) is not None and sms.status == "DELIVRD" for i in self.calls[0]
        )


async def test_a_chunk_is_written_while_the_next_is_still_being_asked(
    db: Database,
    store: Store,
    simulator: tuple[MobizonSimulator, str],
    client: MobizonClient,
) -> None:
    """The first chunk's statuses and outbox rows are written before later chunks are answered."""
    sim, _url = simulator
    ids = seed_from_simulator(db, sim, CHUNK + 10)
    for message_id in ids:
        sim.set_status(message_id, "DELIVRD")
    gateway = WritesFirstGateway(client, db)
    report = await Poller(store, gateway).run_once()
    assert (report.changed, report.failed_batches) == (CHUNK + 10, 0)
    assert [len(call) for call in gateway.calls] == [CHUNK, 10]
    # the cycle's end means every write is done: each status with its outbox row
    found = [get_by_message_id(db, message_id) for message_id in ids]
    assert all(sms is not None and sms.status == "DELIVRD" for sms in found)
    assert outbox.outbox_size(db) == CHUNK + 10


class FailingLaterGateway(WritesFirstGateway):
    """Fails every call after the first, once the first is written (a rate limit, say)."""

    async def get_sms_status(self, ids: Iterable[int]) -> dict[int, SmsStatus]:
        """The first call answered; later ones refused with code 30 once it is written."""
        asked = list(ids)
        self.calls.append(asked)
        if len(self.calls) == 1:
            return await self._inner.get_sms_status(asked)
        await wait_until(self._first_written, within=10, what="the first chunk's writes")
        raise MobizonRateLimitedError(30, "Too many requests", [])


async def test_a_failed_chunk_fails_the_cycle_and_keeps_what_was_written(
    db: Database,
    store: Store,
    simulator: tuple[MobizonSimulator, str],
    client: MobizonClient,
) -> None:
    """A rate-limited chunk fails the cycle (backoff); the chunk answered before stays written."""
    sim, _url = simulator
    ids = seed_from_simulator(db, sim, 2 * CHUNK + 1)
    for message_id in ids:
        sim.set_status(message_id, "DELIVRD")
    gateway = FailingLaterGateway(client, db)
    poller = Poller(store, gateway)
    report = await poller.run_once()
    assert (report.changed, report.failed_batches) == (CHUNK, 1)
    assert outbox.outbox_size(db) == CHUNK
    assert (await poller.run_once()).skipped  # the backoff, as for a whole failed cycle


async def test_a_cycle_keeps_the_clients_limit_of_requests_in_flight(
    db: Database,
    store: Store,
    simulator: tuple[MobizonSimulator, str],
    client: MobizonClient,
) -> None:
    """With every answer held, a 1,000-SMS cycle has 4 getSMSStatus requests out, no more."""
    sim, _url = simulator
    seed_from_simulator(db, sim, 1000)
    sim.hold()
    cycle = asyncio.create_task(Poller(store, client).run_once())
    try:
        await wait_until(lambda: sim.count(GET_SMS_STATUS) >= 4, what="4 requests out")
        more = await wait_until(lambda: sim.count(GET_SMS_STATUS) > 4, within=0.5, fail=False)
        assert not more
        assert sim.count(GET_SMS_STATUS) == 4
    finally:
        sim.release()
    report = await cycle
    assert (report.requests, sim.count(GET_SMS_STATUS)) == (10, 10)


async def test_rate_limit_backs_off_for_growing_numbers_of_cycles(
    db: Database,
    store: Store,
    simulator: tuple[MobizonSimulator, str],
    client: MobizonClient,
) -> None:
    """Code 30 skips the next cycle, twice in a row skips two; success resets the backoff."""
    sim, _url = simulator
    seed_from_simulator(db, sim, 3)
    sim.rate_limit_next(GET_SMS_STATUS, times=2)
    poller = Poller(store, client)
    outcomes = []
    for _cycle in range(8):
        report = await poller.run_once()
        outcomes.append("skip" if report.skipped else "fail" if report.failed_batches else "ok")
    assert outcomes == ["fail", "skip", "fail", "skip", "skip", "ok", "ok", "ok"]
    assert sim.count(GET_SMS_STATUS) == 5


async def test_gateway_errors_back_off_too(
    db: Database,
    store: Store,
    simulator: tuple[MobizonSimulator, str],
    client: MobizonClient,
) -> None:
    """An HTML 502 page from the gateway counts as a failure: the next cycle is skipped."""
    sim, _url = simulator
    ids = seed_from_simulator(db, sim, 2)
    sim.html_failure_next(status=502, method=GET_SMS_STATUS)
    sim.set_status(ids[0], "DELIVRD")
    poller = Poller(store, client)
    assert (await poller.run_once()).failed_batches == 1
    assert (await poller.run_once()).skipped
    sim.advance(3600)
    report = await poller.run_once()
    assert (report.failed_batches, report.changed) == (0, 2)
    sms = get_by_message_id(db, ids[0])
    assert sms is not None
    assert sms.status == "DELIVRD"


async def test_gives_up_only_after_validity_and_grace(
    db: Database,
    store: Store,
    simulator: tuple[MobizonSimulator, str],
    client: MobizonClient,
    seed_sms: SeedSms,
) -> None:
    """An SMS without a final status is given up after validity + grace, not before."""
    now = datetime.now(UTC)
    old = seed_sms(db, 501, sent_at=now - timedelta(hours=25, minutes=1))  # 24 h + 1 h grace
    young = seed_sms(db, 502, sent_at=now - timedelta(hours=24, minutes=31))
    short = seed_sms(db, 503, sent_at=now - timedelta(minutes=61), validity=60)
    woke = asyncio.Event()
    poller = Poller(
        store, client, clock=ManualClock(now), grace=timedelta(minutes=30), on_change=woke.set
    )

    report = await poller.run_once()
    assert report.gave_up == 2
    assert woke.is_set()
    due = outbox.due_notifications(db)
    gave_up = {n.message_id for n in due if n.kind is outbox.NotificationKind.GIVEUP}
    assert gave_up == {old.message_id, young.message_id}
    assert short.message_id not in gave_up  # 60 min validity + 30 min grace not over yet

    report = await poller.run_once()
    assert report.gave_up == 0
    assert report.asked == 1  # given-up SMS are no longer asked about


async def test_a_poller_asks_only_about_sms_sent_in_its_mode(
    db: Database,
    store: Store,
    simulator: tuple[MobizonSimulator, str],
    client: MobizonClient,
) -> None:
    """A sandbox poller never asks about live SMS, nor a live one about the sandbox's ids."""
    sim, _url = simulator
    (sandboxed,) = seed_from_simulator(db, sim, 1, sandbox=True)
    (live,) = seed_from_simulator(db, sim, 1)
    await Poller(store, client, sandbox=True).run_once()
    assert asked_ids(sim) == [[sandboxed]]
    before = len(sim.requests)
    await Poller(store, client, sandbox=False).run_once()
    assert asked_ids(sim, before) == [[live]]


async def test_two_replicas_poll_half_each_and_never_the_same_sms(
    db: Database,
    store: Store,
    simulator: tuple[MobizonSimulator, str],
    client: MobizonClient,
) -> None:
    """A replica alone asks about all; with a second live, each asks about its half, once."""
    sim, _url = simulator
    ids = seed_from_simulator(db, sim, 10)
    now = datetime.now(UTC)
    register(db, "a", host="h", pid=1, now=now)
    a, b = CountingGateway(client), CountingGateway(client)
    first = Poller(store, a, replica="a", clock=ManualClock(now))
    await first.run_once()
    assert sorted(a.calls[0]) == ids  # alone: every pending SMS
    register(db, "b", host="h", pid=2, now=now)
    second = Poller(store, b, replica="b", clock=ManualClock(now))
    for _interval in range(2):  # each interval: each SMS asked by one replica, half each
        a.calls.clear()
        b.calls.clear()
        await first.run_once()
        await second.run_once()
        asked_a = [i for call in a.calls for i in call]
        asked_b = [i for call in b.calls for i in call]
        assert (len(asked_a), len(asked_b)) == (5, 5)
        assert sorted(asked_a + asked_b) == ids
