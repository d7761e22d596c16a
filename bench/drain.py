"""Drain of 1,000 final statuses over 10 channels under Slack's per-channel limit (issue 6, 3).

``smsbot serve`` runs as a subprocess with N sent SMS already in its database (their channel
messages already posted); the bench then POSTs one signed ``DELIVRD`` webhook per SMS. Each
final status owes two Slack posts in the SMS's channel: the ``chat.update`` of its message and
one thread reply. FakeSlack accepts one post per second per channel and answers 429 with
``Retry-After`` beyond that, so the floor is ``2 x N / channels`` posts per channel, one per
second: (2N/C - 1) s after the first post. Prints time to drain against that floor, 429s
received, and updates or replies lost or doubled.

With ``--replicas 2`` (PostgreSQL only, issue 19) two ``smsbot serve`` share one database, each
registered with its own replica id and heartbeating, and the webhooks go to them in turn (a load
balancer). Both post to the one FakeSlack, each through its own API URL, so every accepted post
says which replica made it. Also prints how the channels split between the replicas: the
``channel_owners`` table against the posts each replica made.

    python bench/drain.py [--statuses 1000] [--channels 10] [--engine sqlite|postgresql]
                          [--replicas 1|2]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
from _common import (
    MOBIZON_KEY,
    BotProcess,
    SeedSms,
    add_engine_option,
    bench_databases,
    machine,
    print_table,
    read_rows,
    seed_database,
    start_fake_slack,
    webhook_body,
)
from _slack import RecordingSlack

from bot.simulator import SimulatorConfig, start_simulator
from testkit.waiting import wait_until

FIRST_MESSAGE_ID = 9_000_000
SLACK_INTERVAL = 1.0


#: Seconds before a webhook answered 503 (its write not taken within the bot's deadline) is sent
#: again: Mobizon resends any answer but 2xx, much later; the bench only needs every event in.
BUSY_RETRY = 1.0


async def post_webhooks(urls: list[str], message_ids: list[int]) -> tuple[list[float], int]:
    """POST one DELIVRD webhook per message (50 at a time), to ``urls`` in turn.

    Returns each one's latency (to its 200) and how many answers were 503 (busy, sent again).
    """
    latencies: list[float] = []
    busy = 0
    slots = asyncio.Semaphore(50)
    async with aiohttp.ClientSession() as session:

        async def one(event_id: int, message_id: int) -> None:
            nonlocal busy
            url = urls[event_id % len(urls)]
            async with slots:
                started = time.perf_counter()
                while True:
                    async with session.post(
                        url + "mobizon/webhook",
                        data=webhook_body(event_id, message_id, "DELIVRD"),
                        headers={"Content-Type": "application/json"},
                    ) as response:
                        await response.read()
                    if response.status != 503:
                        break
                    busy += 1
                    await asyncio.sleep(BUSY_RETRY)
                if response.status != 200:
                    raise RuntimeError(f"webhook answered {response.status}")
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(one(n + 1, mid) for n, mid in enumerate(message_ids)))
    return latencies, busy


@dataclass(frozen=True, slots=True)
class Replica:
    """One ``smsbot serve`` as the database knows it at the end of the run."""

    name: str  # r1, r2: the API URL it called Slack through
    replica_id: str
    heartbeat_age: float  # seconds from its last heartbeat to the end of the run
    owned: list[str]  # the channels ``channel_owners`` gives it


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statuses", type=int, default=1000, help="final statuses (1000)")
    parser.add_argument("--channels", type=int, default=10, help="channels (10)")
    parser.add_argument(
        "--replicas", type=int, default=1, choices=(1, 2), help="smsbot serve processes (1)"
    )
    add_engine_option(parser)
    args = parser.parse_args()
    if args.replicas > 1 and args.engine != "postgresql":
        parser.error("--replicas 2 needs --engine postgresql (SQLite has one process)")
    return args


def replicas_at_end(database: str, bots: list[BotProcess], names: list[str]) -> list[Replica]:
    """Each bot's replica id, how old its last heartbeat is, and the channels it owns."""
    now = datetime.now(UTC)
    registered = {r["pid"]: r for r in read_rows(database, "SELECT * FROM replicas")}
    owners = read_rows(database, "SELECT channel, replica FROM channel_owners ORDER BY channel")
    found = []
    for bot, name in zip(bots, names, strict=True):
        row = registered.get(bot.pid)
        if row is None:
            found.append(Replica(name, "(not registered)", float("nan"), []))
            continue
        beat = datetime.fromisoformat(str(row["heartbeat_at"]))
        found.append(
            Replica(
                name,
                str(row["id"]),
                (now - beat).total_seconds(),
                [str(o["channel"]) for o in owners if o["replica"] == row["id"]],
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one drain measured (times on ``time.monotonic()``)."""

    started: float  # the first webhook
    webhooks_done: float  # s until every webhook was answered
    hook_latencies: list[float]
    hooks_busy: int
    finished: bool
    cpu: float  # the bots' CPU seconds, added up
    replicas: list[Replica]


def seed_layout(n: int, channels: int, slack: RecordingSlack) -> list[SeedSms]:
    """N sent SMS over the channels in shuffled order, their channel messages already in Slack."""
    rng = random.Random(6)
    layout = [f"CDRAIN{i % channels}" for i in range(n)]
    rng.shuffle(layout)  # statuses arrive in no particular channel order
    seeds = []
    for i, channel in enumerate(layout):
        ts = f"1700000000.{i:06d}"
        slack.add_message(channel, ts, f"SMS {i}")
        seeds.append(SeedSms(FIRST_MESSAGE_ID + i, channel, ts, status="ACCEPTD"))
    return seeds


async def run_drain(
    args: argparse.Namespace, slack: RecordingSlack, sim_url: str, seeds: list[SeedSms]
) -> Outcome:
    """Seed the database, start the bot(s), send the webhooks and wait for the drain."""
    n = len(seeds)
    floor = (2 * n / args.channels - 1) * SLACK_INTERVAL
    names = [f"r{k + 1}" for k in range(args.replicas)]
    with bench_databases(args.engine) as databases:
        database = databases.new("drain")
        seed_database(database, seeds)
        bots = [
            BotProcess(
                slack_url=slack.url,
                mobizon_url=sim_url,
                database=database,
                extra_env={"SLACK_API_URL": slack.api_url(name)},
            )
            for name in names
        ]
        try:
            await asyncio.gather(*(bot.start() for bot in bots))
            cpu_before = sum(bot.cpu_seconds() for bot in bots)
            started = time.monotonic()
            hook_latencies, hooks_busy = await post_webhooks(
                [bot.url for bot in bots], [s.message_id for s in seeds]
            )
            webhooks_done = time.monotonic() - started

            def drained() -> bool:
                replies = slack.count_accepted("chat.postMessage")
                updates = slack.count_accepted("chat.update")
                return len(replies) >= n and len(updates) >= n

            finished = await wait_until(drained, within=floor * 3 + 120, interval=0.2, fail=False)
            await asyncio.sleep(3)  # let any duplicate show up
            return Outcome(
                started=started,
                webhooks_done=webhooks_done,
                hook_latencies=hook_latencies,
                hooks_busy=hooks_busy,
                finished=finished,
                cpu=sum(bot.cpu_seconds() for bot in bots) - cpu_before,
                replicas=replicas_at_end(database, bots, names),
            )
        finally:
            for bot in bots:  # before the database's server stops
                await bot.stop()


async def main() -> None:
    """Seed, start the bot(s), send the webhooks, wait for the drain, print the figures."""
    args = _arguments()
    n, channels = int(args.statuses), int(args.channels)
    per_channel = 2 * n / channels
    floor = (per_channel - 1) * SLACK_INTERVAL
    print(f"# drain: {machine()}")
    print(
        f"{n} final statuses over {channels} channels; Slack allows 1 post/s/channel; "
        f"{per_channel:.0f} posts per channel → floor {floor:.0f} s; database {args.engine}, "
        f"{args.replicas} smsbot serve\n",
        flush=True,
    )
    slack = RecordingSlack(per_channel_interval=SLACK_INTERVAL)
    seeds = seed_layout(n, channels, slack)
    slack, slack_runner = await start_fake_slack(slack)
    _sim, sim_runner, sim_url = await start_simulator(SimulatorConfig(api_key=MOBIZON_KEY))
    try:
        outcome = await run_drain(args, slack, sim_url, seeds)
    finally:
        await sim_runner.cleanup()
        await slack_runner.cleanup()

    started = outcome.started
    report(
        slack,
        [seed.slack_ts or "" for seed in seeds],
        started=started,
        floor=floor,
        finished=outcome.finished,
        cpu=outcome.cpu,
        channels=channels,
    )
    used = sorted({seed.channel for seed in seeds})
    ends = sorted(
        max((p.at - started for p in slack.accepted if p.channel == c), default=0.0) for c in used
    )
    print(
        f"\nwebhooks: {n} answered in {outcome.webhooks_done:.1f} s "
        f"(slowest {max(outcome.hook_latencies) * 1000:.0f} ms; {outcome.hooks_busy} answered 503 "
        f"and sent again {BUSY_RETRY:.0f} s later), to {args.replicas} smsbot serve "
        f"in turn; channels finished between {ends[0]:.1f} s and {ends[-1]:.1f} s"
    )
    if slack.refused:
        times = ", ".join(f"{at - started:.1f}" for _channel, at, _via in slack.refused[:20])
        more = " …" if len(slack.refused) > 20 else ""
        print(f"429s at (s after the first webhook): {times}{more}")
    report_replicas(slack, outcome.replicas, channels=used)


def report_replicas(slack: RecordingSlack, replicas: list[Replica], channels: list[str]) -> None:
    """Per replica: its id, heartbeat, the channels it owns and those it posted to."""
    posted: dict[str, Counter[str]] = {}
    for post in slack.accepted:
        posted.setdefault(post.via, Counter())[post.channel] += 1
    shared = [c for c in channels if sum(1 for counts in posted.values() if counts[c]) > 1]
    print("\n## Replicas\n")
    print_table(
        [
            "smsbot serve",
            "replica id",
            "last heartbeat (s before the end)",
            "channels owned (channel_owners)",
            "channels posted to",
            "posts accepted",
        ],
        [
            [
                r.name,
                r.replica_id,
                f"{r.heartbeat_age:.1f}",
                f"{len(r.owned)}: {' '.join(r.owned)}",
                len(posted.get(r.name, {})),
                sum(posted.get(r.name, Counter()).values()),
            ]
            for r in replicas
        ],
    )
    print(f"\nchannels posted to by more than one replica: {len(shared)} {' '.join(shared)}")


def lost_doubled(counts: dict[str, int], keys: list[str]) -> str:
    """``lost / doubled``: keys never accepted, keys accepted more than once."""
    lost = sum(1 for key in keys if key not in counts)
    doubled = sum(1 for key in keys if counts.get(key, 0) > 1)
    return f"{lost} / {doubled}"


def report(
    slack: RecordingSlack,
    all_ts: list[str],
    *,
    started: float,
    floor: float,
    finished: bool,
    cpu: float,
    channels: int,
) -> None:
    """Print the drain table."""
    wanted = set(all_ts)
    last = max((p.at for p in slack.accepted if p.ts in wanted), default=started)
    drain = last - started
    updates = slack.count_accepted("chat.update")
    replies = slack.count_accepted("chat.postMessage")
    print_table(
        [
            "statuses",
            "channels",
            "floor",
            "time to drain",
            "vs floor",
            "429s received",
            "updates lost / doubled",
            "replies lost / doubled",
            "bot CPU",
        ],
        [
            [
                len(all_ts),
                channels,
                f"{floor:.0f} s",
                f"{drain:.1f} s" + ("" if finished else " (NOT finished)"),
                f"+{(drain / floor - 1) * 100:.1f}%" if floor else "-",
                slack.rate_limited_count,
                lost_doubled(updates, all_ts),
                lost_doubled(replies, all_ts),
                f"{cpu:.1f} s",
            ]
        ],
    )
    print(
        "('updates doubled' counts a status-line edit landing twice for one SMS: harmless; "
        "'replies doubled' would be a user-visible duplicate)"
    )


if __name__ == "__main__":
    asyncio.run(main())
