"""Drain of 1,000 final statuses over 10 channels under Slack's per-channel limit (issue 6, 3).

``smsbot serve`` runs as a subprocess with N sent SMS already in its database (their channel
messages already posted); the bench then POSTs one signed ``DELIVRD`` webhook per SMS. Each
final status owes two Slack posts in the SMS's channel: the ``chat.update`` of its message and
one thread reply. FakeSlack accepts one post per second per channel and answers 429 with
``Retry-After`` beyond that, so the floor is ``2 x N / channels`` posts per channel, one per
second: (2N/C - 1) s after the first post. Prints time to drain against that floor, 429s
received, and updates or replies lost or doubled.

    python bench/drain.py [--statuses 1000] [--channels 10]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

import aiohttp
from _common import (
    MOBIZON_KEY,
    BotProcess,
    SeedSms,
    machine,
    print_table,
    seed_database,
    start_fake_slack,
    webhook_body,
)
from _slack import RecordingSlack

from bot.simulator import SimulatorConfig, start_simulator
from testkit.waiting import wait_until

FIRST_MESSAGE_ID = 9_000_000
SLACK_INTERVAL = 1.0


async def post_webhooks(url: str, message_ids: list[int]) -> list[float]:
    """POST one DELIVRD webhook per message (50 at a time); return each answer's latency."""
    latencies: list[float] = []
    slots = asyncio.Semaphore(50)
    async with aiohttp.ClientSession() as session:

        async def one(event_id: int, message_id: int) -> None:
            async with slots:
                started = time.perf_counter()
                async with session.post(
                    url + "mobizon/webhook",
                    data=webhook_body(event_id, message_id, "DELIVRD"),
                    headers={"Content-Type": "application/json"},
                ) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"webhook answered {response.status}")
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(one(n + 1, mid) for n, mid in enumerate(message_ids)))
    return latencies


async def main() -> None:
    """Seed, start the bot, send the webhooks, wait for the drain, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statuses", type=int, default=1000, help="final statuses (1000)")
    parser.add_argument("--channels", type=int, default=10, help="channels (10)")
    args = parser.parse_args()
    n, channels = int(args.statuses), int(args.channels)
    per_channel = 2 * n / channels
    floor = (per_channel - 1) * SLACK_INTERVAL
    print(f"# drain: {machine()}")
    print(
        f"{n} final statuses over {channels} channels; Slack allows 1 post/s/channel; "
        f"{per_channel:.0f} posts per channel → floor {floor:.0f} s\n",
        flush=True,
    )
    rng = random.Random(6)
    layout = [f"CDRAIN{i % channels}" for i in range(n)]
    rng.shuffle(layout)  # statuses arrive in no particular channel order
    slack = RecordingSlack(per_channel_interval=SLACK_INTERVAL)
    seeds = []
    for i, channel in enumerate(layout):
        ts = f"1700000000.{i:06d}"
        slack.add_message(channel, ts, f"SMS {i}")
        seeds.append(SeedSms(FIRST_MESSAGE_ID + i, channel, ts, status="ACCEPTD"))
    all_ts = [f"1700000000.{i:06d}" for i in range(n)]

    slack, slack_runner = await start_fake_slack(slack)
    _sim, sim_runner, sim_url = await start_simulator(SimulatorConfig(api_key=MOBIZON_KEY))
    try:
        with tempfile.TemporaryDirectory(prefix="smsbot-bench-") as tmp:
            db_path = str(Path(tmp) / "drain.db")
            seed_database(db_path, seeds)
            bot = BotProcess(slack_url=slack.url, mobizon_url=sim_url, db_path=db_path)
            async with bot.running():
                cpu_before = bot.cpu_seconds()
                started = time.monotonic()
                hook_latencies = await post_webhooks(bot.url, [s.message_id for s in seeds])
                webhooks_done = time.monotonic() - started

                def drained() -> bool:
                    replies = slack.count_accepted("chat.postMessage")
                    updates = slack.count_accepted("chat.update")
                    return len(replies) >= n and len(updates) >= n

                finished = await wait_until(
                    drained, within=floor * 3 + 120, interval=0.2, fail=False
                )
                await asyncio.sleep(3)  # let any duplicate show up
                cpu = bot.cpu_seconds() - cpu_before
    finally:
        await sim_runner.cleanup()
        await slack_runner.cleanup()

    report(
        slack,
        all_ts,
        started=started,
        floor=floor,
        finished=finished,
        cpu=cpu,
        channels=channels,
    )
    ends = sorted(
        max(p.at - started for p in slack.accepted if p.channel == channel)
        for channel in set(layout)
    )
    print(
        f"\nwebhooks: {n} answered in {webhooks_done:.1f} s "
        f"(slowest {max(hook_latencies) * 1000:.0f} ms); "
        f"channels finished between {ends[0]:.1f} s and {ends[-1]:.1f} s"
    )


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
