"""Latency to the channel: webhook → Slack post, and status change → Slack post (issue 6, 4).

Part A: ``smsbot serve`` (a subprocess) holds 200 sent SMS, each in its own channel; the
bench POSTs one signed ``DELIVRD`` webhook every 50 ms and times each, from the POST to the
moment FakeSlack accepts the ``chat.update`` of that SMS's message (target p99 < 1 s), and to
its thread reply (which the notifier paces one second after the update, per channel).

Part B: the bot polls the in-bench simulator every ``--poll-interval`` seconds (default 5; the
product default is 30) for 100 pending SMS; the bench moves 40 of them to ``DELIVRD`` at random
moments over four intervals and times each change to its ``chat.update`` (target under one
poll interval plus one cycle; the cycle time is read from the bot's ``/metrics``).

    python bench/latency.py [--webhooks 200] [--poll-interval 5] [--changes 40]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
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
    stats_ms,
    webhook_body,
)
from _slack import RecordingSlack

from bot.simulator import MobizonSimulator, SimulatorConfig, start_simulator
from testkit.waiting import wait_until

WEBHOOK_SPACING = 0.05


def _ts(part: int, i: int) -> str:
    return f"17000000{part:02d}.{i:06d}"


async def webhook_part(n: int, sim_url: str, tmp: Path) -> list[list[object]]:
    """Part A: webhook arrival → accepted chat.update / thread reply."""
    slack = RecordingSlack(per_channel_interval=1.0)
    seeds = []
    for i in range(n):
        channel, ts = f"CHOOK{i}", _ts(1, i)
        slack.add_message(channel, ts, f"SMS {i}")
        seeds.append(SeedSms(7_000_000 + i, channel, ts))
    slack, slack_runner = await start_fake_slack(slack)
    seed_database(tmp / "hook.db", seeds)
    sent_at: dict[str, float] = {}
    answers: list[float] = []
    try:
        bot = BotProcess(slack_url=slack.url, mobizon_url=sim_url, database=str(tmp / "hook.db"))
        async with bot.running(), aiohttp.ClientSession() as session:
            await asyncio.sleep(1.0)  # the start-up poll is over
            for event, seed in enumerate(seeds, start=1):
                started = time.monotonic()
                sent_at[seed.slack_ts or ""] = started
                async with session.post(
                    bot.url + "mobizon/webhook",
                    data=webhook_body(event, seed.message_id, "DELIVRD"),
                    headers={"Content-Type": "application/json"},
                ) as response:
                    await response.read()
                answers.append(time.monotonic() - started)
                await asyncio.sleep(max(0.0, WEBHOOK_SPACING - (time.monotonic() - started)))
            await wait_until(
                lambda: len(slack.count_accepted("chat.postMessage")) >= n, within=30, fail=False
            )
    finally:
        await slack_runner.cleanup()
    updates = slack.first_accepted("chat.update")
    replies = slack.first_accepted("chat.postMessage")
    update_lat = [updates[ts] - at for ts, at in sent_at.items() if ts in updates]
    reply_lat = [replies[ts] - at for ts, at in sent_at.items() if ts in replies]
    return [
        ["webhook answered (2xx)", len(answers), *stats_ms(answers), "< 5 s (Mobizon)"],
        ["webhook → chat.update", len(update_lat), *stats_ms(update_lat), "p99 < 1 s"],
        ["webhook → thread reply", len(reply_lat), *stats_ms(reply_lat), "(paced 1 s after)"],
    ]


async def poll_part(
    simulator: MobizonSimulator,
    sim_url: str,
    tmp: Path,
    *,
    interval: float,
    changes: int,
    pending: int = 100,
) -> list[list[object]]:
    """Part B: status change in the simulator → accepted chat.update, under polling."""
    slack = RecordingSlack(per_channel_interval=1.0)
    seeds = []
    for i in range(pending):
        message = simulator.create_message("5511987654321", f"latency SMS {i}")
        simulator.set_status(message.id, "ACCEPTD")
        channel, ts = f"CPOLL{i}", _ts(2, i)
        slack.add_message(channel, ts, f"SMS {i}")
        seeds.append(SeedSms(message.id, channel, ts))
    slack, slack_runner = await start_fake_slack(slack)
    seed_database(tmp / "poll.db", seeds)
    rng = random.Random(4)
    chosen = rng.sample(seeds, changes)
    moments = sorted(rng.uniform(0, 4 * interval) for _ in chosen)
    changed_at: dict[str, float] = {}
    cycle = "?"
    try:
        bot = BotProcess(
            slack_url=slack.url,
            mobizon_url=sim_url,
            database=str(tmp / "poll.db"),
            poll_interval=interval,
        )
        async with bot.running(), aiohttp.ClientSession() as session:
            await asyncio.sleep(1.0)
            origin = time.monotonic()
            for seed, moment in zip(chosen, moments, strict=True):
                await asyncio.sleep(max(0.0, origin + moment - time.monotonic()))
                simulator.set_status(seed.message_id, "DELIVRD")
                changed_at[seed.slack_ts or ""] = time.monotonic()
            await wait_until(
                lambda: len(slack.count_accepted("chat.update")) >= changes,
                within=3 * interval + 30,
                fail=False,
            )
            async with session.get(bot.url + "metrics") as response:
                cycle = _mean_cycle(await response.text())
    finally:
        await slack_runner.cleanup()
    updates = slack.first_accepted("chat.update")
    latencies = [updates[ts] - at for ts, at in changed_at.items() if ts in updates]
    return [
        [
            f"status change → chat.update (poll every {interval:g} s; mean cycle {cycle})",
            len(latencies),
            *stats_ms(latencies),
            f"< {interval:g} s + one cycle",
        ]
    ]


def _mean_cycle(metrics: str) -> str:
    total = re.search(r"^smsbot_poll_cycle_duration_seconds_sum (\S+)", metrics, re.MULTILINE)
    count = re.search(r"^smsbot_poll_cycle_duration_seconds_count (\S+)", metrics, re.MULTILINE)
    if not total or not count or float(count.group(1)) == 0:
        return "?"
    return f"{float(total.group(1)) / float(count.group(1)) * 1000:.0f} ms"


async def main() -> None:
    """Run both parts and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--webhooks", type=int, default=200, help="webhooks in part A (200)")
    parser.add_argument("--poll-interval", type=float, default=5.0, help="part B interval (5 s)")
    parser.add_argument("--changes", type=int, default=40, help="status changes in part B (40)")
    args = parser.parse_args()
    print(f"# latency: {machine()}\n", flush=True)
    simulator, sim_runner, sim_url = await start_simulator(SimulatorConfig(api_key=MOBIZON_KEY))
    try:
        with tempfile.TemporaryDirectory(prefix="smsbot-bench-") as tmp:
            rows = await webhook_part(args.webhooks, sim_url, Path(tmp))
            rows += await poll_part(
                simulator,
                sim_url,
                Path(tmp),
                interval=args.poll_interval,
                changes=args.changes,
            )
    finally:
        await sim_runner.cleanup()
    print_table(["path", "samples", "p50", "p99", "max", "target"], rows)


if __name__ == "__main__":
    asyncio.run(main())
