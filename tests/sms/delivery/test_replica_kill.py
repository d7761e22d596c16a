"""Two ``smsbot serve`` replicas on one PostgreSQL database, one killed with SIGKILL mid-burst.

Together they behave as one smsbot: a command Slack delivers twice (once to each) sends one SMS;
every acknowledged command is sent once or told to its sender; the survivor takes the dead
replica's work over within its lease and a few heartbeats (its unsent claims, the SMS it polled,
its channels' posts); each pending SMS is polled by one replica per interval, never by both.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.simulator import GET_SMS_STATUS, SEND_SMS, MobizonSimulator, SimulatorConfig
from testkit.database import Readers
from testkit.slack import FakeSlack
from testkit.waiting import wait_until
from tests.bot.serve_process import (
    ServeProcess,
    assert_clean_line,
    base_env,
    command_body,
    post_command,
)
from tests.conftest import MOBIZON_KEY

#: kills `smsbot serve` with SIGKILL: seconds
pytestmark = pytest.mark.slow

#: SMSBOT_REPLICA_LEASE and SMSBOT_POLL_INTERVAL of both replicas (seconds).
LEASE = 3.0
POLL = 1.0
HEARTBEAT = LEASE / 3
#: The burst: FIRST commands to the replicas in turn, then (once both poll SMS) the rest, one
#: every SPACING seconds. The first replica is killed halfway through the rest, which then go to
#: the survivor (a load balancer whose health check on /healthz failed).
BURST = 40
FIRST = 16
SPACING = 0.02
#: Mobizon answers a send after this long: with 4 sends in flight per replica, the killed one
#: leaves sends in flight at Mobizon and claims still waiting for a connection.
SEND_LATENCY = 0.5
CHANNELS = 20
#: The takeover is done within the lease, a few heartbeats and one poll cycle; the margin is
#: for a loaded machine.
TAKEOVER_BOUND = LEASE + 3 * HEARTBEAT + POLL
MARGIN = 3.0


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """Messages stay pending (a final status some 200 s after the send) until the test says."""
    return SimulatorConfig(api_key=MOBIZON_KEY, speed=0.01)


def marker(n: int) -> str:
    """The text of command ``n``: unique, and no marker is part of another."""
    return f"replica burst {n:03d}."


@dataclass
class Burst:
    """What the test fired, what was acknowledged, and when the first replica was killed."""

    acked: dict[str, int] = field(default_factory=dict)  # trigger id -> command number
    acks: Counter[str] = field(default_factory=Counter)  # trigger id -> acks (twice: 2)
    refused: list[int] = field(default_factory=list)  # no ack: the connection broke
    killed_at: float = 0.0  # time.monotonic()
    killed_wall: datetime = field(default_factory=datetime.now)  # the simulator's local time

    async def fire(
        self, http: aiohttp.ClientSession, serve: ServeProcess, body: dict[str, str], n: int
    ) -> None:
        """POST one signed command; note whether Slack would have had its ack."""
        try:
            status, _ = await post_command(http, serve.url, body)
        except aiohttp.ClientError:
            self.refused.append(n)
            return
        if status == 200:
            self.acked[body["trigger_id"]] = n
            self.acks[body["trigger_id"]] += 1
        else:
            self.refused.append(n)


#: The test's reads of the replicas' database (``rows``), closed after it.
READERS = Readers()


@pytest.fixture(autouse=True)
def _readers_closed() -> Iterator[None]:
    """The test's reading connection is closed after it, before its database is given back."""
    yield
    READERS.close()


def rows(url: str, statement: str, **params: object) -> list[dict[str, Any]]:
    """Rows of one statement, read as another process would (on a kept connection of its own)."""
    return READERS.rows(url, statement, **params)


def status_lookups(sim: MobizonSimulator) -> dict[int, list[datetime]]:
    """When each message id was asked about in a getSMSStatus request, oldest first."""
    asked: dict[int, list[datetime]] = {}
    for request in sim.requests:
        if request.method != GET_SMS_STATUS:
            continue
        ids = request.params["ids"]
        assert isinstance(ids, dict)
        for value in ids.values():
            asked.setdefault(int(str(value)), []).append(request.at)
    return asked


@contextlib.asynccontextmanager
async def two_replicas(env: dict[str, str]) -> AsyncIterator[tuple[ServeProcess, ServeProcess]]:
    """Two ``smsbot serve`` on one database, started together; both gone after."""
    started = await asyncio.gather(
        ServeProcess.start(env), ServeProcess.start(env), return_exceptions=True
    )
    ready = [s for s in started if isinstance(s, ServeProcess)]
    try:
        for outcome in started:
            if isinstance(outcome, BaseException):
                raise outcome
        yield ready[0], ready[1]
    finally:
        for serve in ready:
            await serve.kill()


async def test_two_replicas_one_killed_mid_burst_lose_and_double_nothing(
    fake_slack: FakeSlack,
    simulator: tuple[MobizonSimulator, str],
    fresh_postgres_url: str,
    tmp_path: Path,
) -> None:
    """SIGKILL mid-burst: 0 doubled or unknown, ≥95% sent, one post and reply each, quick takeover."""
    sim, sim_url = simulator
    sim.set_latency(SEND_LATENCY, method=SEND_SMS)
    url = fresh_postgres_url
    env = base_env(
        fake_slack.url,
        tmp_path / "unused.db",
        SMSBOT_DATABASE_URL=url,
        MOBIZON_API_KEY=MOBIZON_KEY,
        MOBIZON_API_URL=sim_url,
        SMSBOT_POLL_INTERVAL=f"{POLL:g}",
        SMSBOT_REPLICA_LEASE=f"{LEASE:g}",
    )
    bodies = [
        command_body(
            f"send +55 11 98765-4321 {marker(n)}",
            fake_slack.url,
            n,
            channel_id=f"C{n % CHANNELS:02d}",
            trigger_id=f"1337.42.kill{n}",
        )
        for n in range(BURST)
    ]
    burst = Burst()
    async with two_replicas(env) as replicas, aiohttp.ClientSession() as http:
        # one command Slack delivers twice, once to each replica, then the first of the burst
        await asyncio.gather(*(burst.fire(http, serve, bodies[0], 0) for serve in replicas))
        await asyncio.gather(
            *(burst.fire(http, replicas[n % 2], bodies[n], n) for n in range(1, FIRST))
        )
        ids = {r["pid"]: r["id"] for r in rows(url, "SELECT id, pid FROM replicas")}

        def pollers() -> Counter[str]:
            """How many SMS each replica polls."""
            query = "SELECT polled_by FROM sms WHERE polled_by IS NOT NULL"
            return Counter(r["polled_by"] for r in rows(url, query))

        await wait_until(lambda: bool(pollers()), what="SMS polled")
        # a few poll cycles with both replicas running (each SMS asked about once a cycle)
        await wait_until(
            lambda: min((len(t) for t in status_lookups(sim).values()), default=0) >= 3,
            what="3 poll cycles",
        )
        # the replica killed is one that polls SMS: the survivor must take them over
        busiest = pollers().most_common(1)[0][0]
        doomed, survivor = sorted(replicas, key=lambda s: ids[s.process.pid] != busiest)
        doomed_id, survivor_id = ids[doomed.process.pid], ids[survivor.process.pid]
        fired = []
        for n in range(FIRST, BURST):
            if n == (FIRST + BURST) // 2:
                doomed.process.send_signal(signal.SIGKILL)
                burst.killed_at, burst.killed_wall = time.monotonic(), datetime.now()  # noqa: DTZ005  # the simulator's time
            target = doomed if n % 2 == 0 and not burst.killed_at else survivor
            fired.append(asyncio.create_task(burst.fire(http, target, bodies[n], n)))
            await asyncio.sleep(SPACING)
        await asyncio.gather(*fired)
        assert await doomed.process.wait() == -signal.SIGKILL
        polled = [
            r["message_id"]
            for r in rows(url, "SELECT message_id FROM sms WHERE polled_by = :me", me=doomed_id)
        ]

        def unsettled() -> list[dict[str, Any]]:
            """Acknowledged sends neither sent nor failed (told), nor looked up and told."""
            return rows(
                url,
                "SELECT trigger_id, state, claimed_by, created_at FROM sms "
                "WHERE state NOT IN ('sent', 'failed') AND checked_at IS NULL",
            )

        in_time = await wait_until(
            lambda: not unsettled(), within=TAKEOVER_BOUND + MARGIN, fail=False
        )
        late = unsettled()
        taken_over = await survivor.wait_for_log(lambda r: "taking over" in r["msg"])

        # every SMS Mobizon took goes final now: each gets one reply in its thread
        for message_id in list(sim.messages):
            sim.set_status(message_id, "DELIVRD")
        sent = rows(url, "SELECT text, slack_ts FROM sms WHERE state = 'sent'")
        await wait_until(
            lambda: len(rows(url, "SELECT id FROM sms WHERE final_at IS NOT NULL")) == len(sent),
            within=30,
            what="every sent SMS final",
        )
        await wait_until(
            lambda: not rows(url, "SELECT id FROM outbox"), within=60, what="an empty outbox"
        )
        # as posted: a send settled at the end of the takeover may have been posted since
        sent = rows(url, "SELECT text, slack_ts FROM sms WHERE state = 'sent'")
        owners = {r["replica"] for r in rows(url, "SELECT replica FROM channel_owners")}
        assert await survivor.stop() == 0

    # a command delivered twice, once to each replica, is acknowledged twice and sent once
    assert burst.acks[bodies[0]["trigger_id"]] == 2
    at_mobizon = Counter(message.text for message in sim.messages.values())
    doubled = {text: n for text, n in at_mobizon.items() if n > 1}
    assert doubled == {}, f"SMS doubled at Mobizon: {doubled}"
    recorded = {r["trigger_id"]: r for r in rows(url, "SELECT trigger_id, state FROM sms")}
    unknown = sorted(n for trigger, n in burst.acked.items() if trigger not in recorded)
    assert unknown == [], f"acknowledged commands no replica knows of: {unknown}"

    # every sent SMS: one SMS at Mobizon, one post in its channel, one final reply in its thread
    posts = [
        params
        for (channel, _ts), params in fake_slack.messages.items()
        if channel.startswith("C") and not params.get("thread_ts")
    ]
    unposted = []
    for row in sent:
        assert at_mobizon[row["text"]] == 1
        shown = [p for p in posts if row["text"] in json.dumps(p)]
        assert len(shown) <= 1, f"{row['text']!r} posted {len(shown)} times in its channel"
        if not shown or row["slack_ts"] is None:
            unposted.append(row["text"])
            continue
        replies = [p for p in fake_slack.messages.values() if p.get("thread_ts") == row["slack_ts"]]
        assert len(replies) == 1, f"{row['text']!r} has {len(replies)} thread replies"
        assert "was delivered" in str(replies[0]["text"])
    assert unposted == [], f"sent but never posted in its channel: {unposted}"

    # the survivor took the dead replica's work over within its lease and a few heartbeats
    gone = datetime.fromisoformat(taken_over["ts"]) - burst.killed_wall.astimezone(UTC)
    assert gone.total_seconds() <= LEASE + HEARTBEAT + MARGIN, f"a replica gone after {gone}"
    # (the survivor lets go of its channels once nothing of them is due: the dead one's are gone)
    assert owners <= {survivor_id}, "a channel still posted to by the dead replica"
    asked = status_lookups(sim)
    assert polled, "the dead replica polled nothing: the test proves no takeover of polling"
    for message_id in polled:
        after = [at for at in asked.get(message_id, []) if at > burst.killed_wall]
        assert after, f"message {message_id}, polled by the dead replica, never polled again"
        waited = (after[0] - burst.killed_wall).total_seconds()
        assert waited <= TAKEOVER_BOUND + MARGIN, f"message {message_id} polled {waited:.1f} s on"
    # each pending SMS is polled by one replica: one lookup per interval while both run, and
    # after the takeover (two replicas polling it would ask twice as often)
    taken = burst.killed_wall + timedelta(seconds=TAKEOVER_BOUND)
    for message_id, times in asked.items():
        for window in (
            [t for t in times if t < burst.killed_wall],
            [t for t in times if t > taken],
        ):
            span = (window[-1] - window[0]).total_seconds() if window else 0.0
            assert len(window) <= span / POLL + 2, f"message {message_id} asked too often"

    # every acknowledged command is sent once or told, ≥95% sent, within the takeover
    assert in_time, f"{len(late)} acknowledged sends not settled within the takeover: {late}"
    sent_acked = [t for t in burst.acked if recorded[t]["state"] == "sent"]
    assert len(sent_acked) >= 0.95 * len(burst.acked), f"{len(sent_acked)} of {len(burst.acked)}"
    told = [t for t in burst.acked if recorded[t]["state"] != "sent"]
    assert len(fake_slack.responses) >= len(told)

    for serve in (doomed, survivor):
        for line in serve.lines:
            assert_clean_line(line)
