"""Peak RSS of ``smsbot serve`` with 100,000 SMS stored and 10,000 pending (issue 6, 5).

The database holds 90,000 final SMS and 10,000 pending ones that the in-bench simulator knows
(it reports them ``ACCEPTD`` while the database still says ``NEW``, so the first poll cycle
changes all 10,000 and queues 10,000 Slack updates: the heaviest moment). The bot polls every
2 s; midway the bench fires 100 concurrent ``/sms send``. Peak RSS is the child's ``VmHWM``
from ``/proc`` (target < 150 MB).

    python bench/memory.py [--stored 100000] [--pending 10000] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
import time
from pathlib import Path

import aiohttp
from _common import (
    MOBIZON_KEY,
    BotProcess,
    SeedSms,
    command_request,
    machine,
    print_table,
    seed_database,
    start_fake_slack,
)
from _slack import RecordingSlack

from bot.simulator import SimulatorConfig, start_simulator

MIB = 1024


async def main() -> None:
    """Seed, run the bot for a while under load, print its memory figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=100_000, help="SMS in the database")
    parser.add_argument("--pending", type=int, default=10_000, help="of which pending")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to run (30)")
    args = parser.parse_args()
    print(f"# memory: {machine()}\n", flush=True)
    simulator, sim_runner, sim_url = await start_simulator(
        SimulatorConfig(api_key=MOBIZON_KEY, latency=0.05)
    )
    slack = RecordingSlack()
    seeds = []
    for i in range(args.pending):
        message = simulator.create_message("5511987654321", f"memory SMS {i}")
        simulator.set_status(message.id, "ACCEPTD")
        channel, ts = f"CMEM{i % 100}", f"1700000300.{i:06d}"
        slack.add_message(channel, ts, f"SMS {i}")
        seeds.append(SeedSms(message.id, channel, ts, status="NEW"))
    seeds.extend(
        SeedSms(20_000_000 + i, f"CMEM{i % 100}", f"1700000400.{i:06d}", "DELIVRD", final=True)
        for i in range(args.stored - args.pending)
    )
    slack, slack_runner = await start_fake_slack(slack)
    samples: list[int] = []
    try:
        with tempfile.TemporaryDirectory(prefix="smsbot-bench-") as tmp:
            db_path = Path(tmp) / "memory.db"
            seed_database(db_path, seeds)
            db_size = db_path.stat().st_size
            bot = BotProcess(
                slack_url=slack.url, mobizon_url=sim_url, database=str(db_path), poll_interval=2.0
            )
            async with bot.running(), aiohttp.ClientSession() as session:
                idle = bot.vm_rss_kib()
                started = time.monotonic()
                burst_done = False
                while time.monotonic() - started < args.seconds:
                    samples.append(bot.vm_rss_kib())
                    if not burst_done and time.monotonic() - started > args.seconds / 2:
                        burst_done = True
                        await asyncio.gather(*(_send(session, bot.url, i) for i in range(100)))
                    await asyncio.sleep(0.25)
                peak = bot.vm_hwm_kib()
                async with session.get(bot.url + "metrics") as response:
                    metrics = await response.text()
    finally:
        await sim_runner.cleanup()
        await slack_runner.cleanup()
    print_table(
        [
            "stored / pending",
            "database file",
            "RSS after start",
            "RSS at end",
            "peak RSS (VmHWM)",
            "target",
            "poll cycles",
            "outbox left",
            "Slack updates posted",
        ],
        [
            [
                f"{args.stored:,} / {args.pending:,}",
                f"{db_size / MIB / MIB:.1f} MiB",
                f"{idle / MIB:.0f} MiB",
                f"{samples[-1] / MIB:.0f} MiB" if samples else "?",
                f"{peak / MIB:.0f} MiB ({peak * 1024 / 1e6:.0f} MB)",
                "< 150 MB",
                _metric(metrics, "smsbot_poll_cycle_duration_seconds_count"),
                _metric(metrics, "smsbot_outbox_size"),
                len(slack.count_accepted("chat.update")),
            ]
        ],
    )


async def _send(session: aiohttp.ClientSession, url: str, i: int) -> None:
    body, headers = command_request(f"send +55 11 98765-4321 memory {i}", trigger=f"mem.{i}")
    async with session.post(url + "slack/events", data=body, headers=headers) as response:
        await response.read()


def _metric(text: str, name: str) -> str:
    found = re.search(rf"^{name} (\S+)", text, re.MULTILINE)
    return f"{float(found.group(1)):.0f}" if found else "?"


if __name__ == "__main__":
    asyncio.run(main())
