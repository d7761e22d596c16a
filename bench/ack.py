"""Ack latency of ``/sms send`` bursts on ``smsbot serve``, next to a bare Bolt app (issue 6, 1).

Fires 100 and then 500 concurrent Slack-signed ``/sms send`` commands at ``smsbot serve`` (a
subprocess, sandbox off) whose Mobizon is an in-bench simulator answering after 1 s and whose
Slack is an in-bench FakeSlack; prints ack p50/p99/max and commands per second, next to the
same bursts against a bare Bolt ``AsyncApp`` whose ``/sms`` only acks (the framework's floor).
Then waits for every SMS to be sent and posted and checks none was lost or doubled (every
command is in one channel, whose first posts the notifier paces at one per 1.05 s: about 9
minutes for 500). Last, a burst of ``/sms`` alone (the compose modal, issue 12): its acks, and
how long until Slack was asked to open each modal (``views.open``, which Slack takes within 3 s
of the command). ``--engine postgresql`` runs smsbot on a PostgreSQL server started for the run.
``--ack-only`` measures the acks alone, in rounds on fresh processes, with a third one beside the
floor and smsbot: the floor that records each command's claim before its ack, as smsbot must
(``_floor_claim.py``), to tell the cost of that record from the cost of the rest of smsbot.

    python bench/ack.py [--sizes 100,500] [--latency 1.0] [--modal 100] [--engine sqlite|postgresql]
    python bench/ack.py --ack-only [--rounds 10] [--sizes 100,500] [--engine sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from _common import (
    MOBIZON_KEY,
    BotProcess,
    FakeSlack,
    add_engine_option,
    bench_databases,
    command_request,
    machine,
    percentile,
    print_table,
    read_rows,
    start_fake_slack,
    stats_ms,
)

from bot.simulator import SEND_SMS, MobizonSimulator, SimulatorConfig, start_simulator
from handlers.pacing import PER_CHANNEL_INTERVAL
from testkit.waiting import wait_until

SLACK_ACK_LIMIT = 3.0
#: The issue's bound on smsbot's ack p99 over the bare Bolt floor's.
RATIO_TARGET = 1.5
#: The targets of ``--ack-only``'s rounds, and the floor that claims (``bench/_floor_claim.py``).
FLOOR = "bare Bolt (floor)"
CLAIMING = "floor + claim"
SMSBOT = "smsbot"
CLAIM_FLOOR = "bench/_floor_claim.py"
_MESSAGE_ID = re.compile(r"message (\d+) · campaign")


@dataclass(frozen=True, slots=True)
class Burst:
    """What one burst of concurrent commands measured."""

    target: str
    size: int
    latencies: list[float]
    seconds: float
    statuses: Counter[int]
    #: The server's CPU time (all its threads) from the gate to the last answer, per command.
    cpu_ms: float | None = None


async def burst(
    session: aiohttp.ClientSession,
    url: str,
    size: int,
    *,
    label: str,
    target: str,
    modal: bool = False,
    pid: int | None = None,
) -> Burst:
    """POST ``size`` signed commands at once; time each from its POST to its full answer.

    With the server's ``pid``, also its CPU time over the burst (its threads' ``schedstat``).
    """
    requests = [
        command_request(
            "" if modal else f"send +55 11 98765-4321 bench {label} {i}",
            trigger=f"{label}.{i}",
            channel="C1",
        )
        for i in range(size)
    ]
    go = asyncio.Event()

    async def one(body: str, headers: dict[str, str]) -> tuple[float, int]:
        await go.wait()
        started = time.perf_counter()
        async with session.post(url + "slack/events", data=body, headers=headers) as response:
            await response.read()
            return time.perf_counter() - started, response.status

    tasks = [asyncio.create_task(one(body, headers)) for body, headers in requests]
    await asyncio.sleep(0.05)  # every task waits at the gate
    # this process (the client, FakeSlack, the simulator) collects its garbage before the burst,
    # not during it: a pass of its collector inside the burst would delay every answer it times
    gc.collect()
    gc.disable()
    try:
        cpu_before = None if pid is None else cpu_seconds(pid)
        started = time.perf_counter()
        go.set()
        results = await asyncio.gather(*tasks)
        seconds = time.perf_counter() - started
    finally:
        gc.enable()
    cpu = None if pid is None or cpu_before is None else cpu_seconds(pid) - cpu_before
    return Burst(
        target=target,
        size=size,
        latencies=[latency for latency, _ in results],
        seconds=seconds,
        statuses=Counter(status for _, status in results),
        cpu_ms=None if cpu is None else cpu * 1000 / size,
    )


def cpu_seconds(pid: int) -> float:
    """CPU seconds process ``pid`` has used so far (all its threads).

    From each thread's ``schedstat`` (nanoseconds): ``/proc/<pid>/stat`` counts in 10 ms ticks,
    as coarse as a whole 100-burst's difference between two servers.
    """
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):  # a thread that ended meanwhile
            continue
    return total / 1e9


def posted_message_ids(slack: FakeSlack) -> Counter[int]:
    """Mobizon message ids named by the channel posts (not thread replies) FakeSlack received."""
    found: Counter[int] = Counter()
    for call in slack.called("chat.postMessage"):
        if call.params.get("thread_ts"):
            continue
        match = _MESSAGE_ID.search(json.dumps(call.params, ensure_ascii=False))
        if match:
            found[int(match.group(1))] += 1
    return found


def sent_ids(simulator: MobizonSimulator, label: str) -> Counter[int]:
    """Simulator message ids per command of one burst (keyed by command number)."""
    prefix = f"bench {label} "
    per_command: Counter[int] = Counter()
    for message in simulator.messages.values():
        if message.text.startswith(prefix):
            per_command[int(message.text.removeprefix(prefix))] += 1
    return per_command


async def check_delivery(
    simulator: MobizonSimulator,
    *,
    slack: FakeSlack,
    database: str,
    size: int,
    label: str,
    latency: float,
) -> list[object]:
    """Wait for every SMS of a burst to be sent and posted; say what was lost or doubled."""
    started = time.perf_counter()
    ids_of_burst = {
        m.id for m in simulator.messages.values() if m.text.startswith(f"bench {label} ")
    }

    def done() -> bool:
        mine = {m.id for m in simulator.messages.values() if m.text.startswith(f"bench {label} ")}
        ids_of_burst.update(mine)
        posted = posted_message_ids(slack)
        return len(mine) >= size and all(posted[i] >= 1 for i in mine)

    # MobizonClient sends at most max_concurrency (4) at a time: size / 4 * latency seconds;
    # the notifier makes the first posts, paced like every post in one channel (all are in C1)
    slowest = max(size / 4 * latency, size * PER_CHANNEL_INTERVAL)
    await wait_until(done, within=slowest * 1.5 + 60, interval=0.25, fail=False)
    all_sent = time.perf_counter() - started
    await asyncio.sleep(2)  # let any late duplicate show up
    per_command = sent_ids(simulator, label)
    lost_sends = sum(1 for i in range(size) if per_command[i] == 0)
    doubled_sends = sum(1 for i in range(size) if per_command[i] > 1)
    posted = posted_message_ids(slack)
    burst_ids = {m.id for m in simulator.messages.values() if m.text.startswith(f"bench {label} ")}
    lost_posts = sum(1 for i in burst_ids if posted[i] == 0)
    doubled_posts = sum(1 for i in burst_ids if posted[i] > 1)
    (rows,) = read_rows(
        database,
        "SELECT count(*) AS sent, count(slack_ts) AS posted FROM sms "
        "WHERE text LIKE :pattern AND state = 'sent'",
        pattern=f"bench {label} %",
    )
    return [
        size,
        len(burst_ids),
        f"{lost_sends} / {doubled_sends}",
        len([i for i in burst_ids if posted[i]]),
        f"{lost_posts} / {doubled_posts}",
        f"{rows['sent']} sent, {rows['posted']} with ts",
        f"{all_sent:.1f} s ({size / all_sent:.1f} SMS/s)",
    ]


async def open_modals(
    session: aiohttp.ClientSession, url: str, slack: FakeSlack, size: int, bursts: list[Burst]
) -> tuple[int, float]:
    """A burst of ``/sms`` alone, added to ``bursts``: modals opened, and the last one's time."""
    opened_before = len(slack.called("views.open"))
    started = time.monotonic()  # FakeSlack records calls on this clock
    measured = await burst(
        session, url, size, label="modal", target="smsbot, /sms alone (modal)", modal=True
    )
    await wait_until(
        lambda: len(slack.called("views.open")) >= opened_before + size, within=30, fail=False
    )
    opens = slack.called("views.open")[opened_before:]
    bursts.append(measured)
    return len(opens), max((c.at - started for c in opens), default=0.0)


def floor_process(
    slack_url: str, sim_url: str, database: str, *, script: str = "bench/_floor_bolt.py"
) -> BotProcess:
    """The bare Bolt app (``bench/_floor_bolt.py``, or ``script``) as a process, on the fakes."""
    return BotProcess(
        slack_url=slack_url,
        mobizon_url=sim_url,
        database=database,
        argv=(script,),
        extra_env={"SLACK_API_URL": slack_url + "api/"},
    )


async def fresh_bursts(
    session: aiohttp.ClientSession,
    sizes: list[int],
    bursts: list[Burst],
    *,
    urls: tuple[str, str],
    new_database: Callable[[str], str],
    simulator: MobizonSimulator,
    rounds: int = 1,
    sends_during: bool = False,
) -> int:
    """Each size's rounds, each on fresh processes; smsbot's peak RSS (KiB).

    The three processes of a round (the bare floor, the floor that claims each command before
    its ack, smsbot) start together and first take the same warm-up, a burst of the same size,
    not measured (a process just started runs a burst about twice as slowly as one that has
    served a few: Python specialises its code as it runs it; a floor long warm against a
    smsbot just started measured the start, not the app). Then each takes one burst, one right
    after the other, so all meet the same load on a shared machine, each first in turn and the
    order reversed every other round. No wait for the sends: the processes are killed after
    their bursts; each smsbot and each claiming floor has a database of its own.

    The simulator holds every ``sendSmsMessage`` meanwhile (unless ``sends_during``): smsbot,
    like both floors, meets its measured burst with nothing else to do. Otherwise the warm-up's
    SMS leave four at a time while the rounds run, and each that comes back (its record, its
    channel post) takes the process's CPU from whichever burst it falls in: work only smsbot
    has, from commands that are not the ones measured.
    """
    if not sends_during:
        simulator.hold(method=SEND_SMS)
    peak_rss = 0
    try:
        for size in sizes:
            for turn in range(rounds):
                databases = (new_database(f"ack{size}r{turn}"), new_database(f"claim{size}r{turn}"))
                rss = await _round(session, size, turn, bursts, urls=urls, databases=databases)
                peak_rss = max(peak_rss, rss)
    finally:
        simulator.release(method=SEND_SMS)
    return peak_rss


async def _round(
    session: aiohttp.ClientSession,
    size: int,
    turn: int,
    bursts: list[Burst],
    *,
    urls: tuple[str, str],
    databases: tuple[str, str],
) -> int:
    """One round of :func:`fresh_bursts` (its bursts added to ``bursts``); smsbot's peak RSS.

    ``databases``: smsbot's (the bare floor opens none), then the claiming floor's.
    """
    slack_url, sim_url = urls
    database, claims = databases
    floor = floor_process(slack_url, sim_url, database)
    claiming = floor_process(slack_url, sim_url, claims, script=CLAIM_FLOOR)
    bot = BotProcess(slack_url=slack_url, mobizon_url=sim_url, database=database)
    async with floor.running(), claiming.running(), bot.running():
        processes = [(floor, FLOOR), (claiming, CLAIMING), (bot, SMSBOT)]
        for process, _ in processes:  # the warm-up: a burst of the same size
            await burst(session, process.url, size, label=f"w{size}r{turn}", target="warm")
        await asyncio.sleep(1)
        # each takes the first place in turn, and the order runs both ways
        shift = turn % len(processes)
        order = processes[shift:] + processes[:shift]
        for process, target in order if turn % 2 == 0 else reversed(order):
            label = f"{target.split()[0]}{size}r{turn}"
            bursts.append(
                await burst(session, process.url, size, label=label, target=target, pid=process.pid)
            )
        rss = bot.vm_hwm_kib()
        for process, _ in processes:  # the sends are not waited for (a stop would)
            await process.kill()
    return rss


async def one_bot(
    session: aiohttp.ClientSession,
    sizes: list[int],
    bursts: list[Burst],
    checks: list[list[object]],
    *,
    bot: BotProcess,
    database: str,
    simulator: MobizonSimulator,
    slack: FakeSlack,
    args: argparse.Namespace,
) -> tuple[int, tuple[int, float]]:
    """Every burst on one smsbot, each sent and posted before the next; peak RSS, modals."""
    modal_open = (0, 0.0)
    async with bot.running():
        await burst(session, bot.url, 4, label="warm", target="warm-up")
        await check_delivery(
            simulator, slack=slack, database=database, size=4, label="warm", latency=args.latency
        )
        for size in sizes:
            bursts.append(
                await burst(session, bot.url, size, label=f"b{size}", target="smsbot", pid=bot.pid)
            )
            checks.append(
                await check_delivery(
                    simulator,
                    slack=slack,
                    database=database,
                    size=size,
                    label=f"b{size}",
                    latency=args.latency,
                )
            )
            print(f"(smsbot burst of {size} done)", flush=True)
        if args.modal:
            modal_open = await open_modals(session, bot.url, slack, args.modal, bursts)
        return bot.vm_hwm_kib(), modal_open


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,500", help="burst sizes (default 100,500)")
    parser.add_argument("--latency", type=float, default=1.0, help="simulator latency (s)")
    parser.add_argument("--modal", type=int, default=100, help="modal-open burst size (0: none)")
    parser.add_argument(
        "--ack-only",
        action="store_true",
        help="acks only: each burst on a fresh smsbot and database, no wait for its sends",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=10,
        help="with --ack-only: rounds per size, each a burst on a fresh floor, a fresh floor "
        "that claims and a fresh smsbot (default 10; their latencies are pooled)",
    )
    parser.add_argument(
        "--sends-during",
        action="store_true",
        help="with --ack-only: let the warm-up's SMS go to the simulator while the rounds run "
        "(by default it holds them, so no process has other work during its measured burst)",
    )
    add_engine_option(parser)
    return parser.parse_args()


def pooled_row(size: int, target: str, of: list[Burst]) -> list[object]:
    """One table row for every burst of ``target`` at ``size``: their latencies pooled."""
    latencies = [x for b in of for x in b.latencies]
    p50, p99, worst = stats_ms(latencies)
    bad = sum(n for b in of for status, n in b.statuses.items() if status != 200)
    slow = sum(1 for x in latencies if x >= SLACK_ACK_LIMIT)
    cpus = [b.cpu_ms for b in of if b.cpu_ms is not None]
    return [
        target,
        size,
        len(of),
        p50,
        p99,
        worst,
        f"{statistics.median(size / b.seconds for b in of):.0f}",
        f"{bad} / {slow}",
        f"{statistics.median(cpus):.2f} ms" if cpus else "",
    ]


def ratio_row(size: int, bursts: list[Burst], target: str, base: str) -> list[object]:
    """``target``'s p99 over ``base``'s at ``size``: pooled, and each round's (median, range)."""
    bases = [b for b in bursts if b.size == size and b.target == base]
    tops = [b for b in bursts if b.size == size and b.target == target]
    pooled = percentile([x for b in tops for x in b.latencies], 99) / percentile(
        [x for b in bases for x in b.latencies], 99
    )
    rounds = [
        percentile(top.latencies, 99) / percentile(under.latencies, 99)
        for under, top in zip(bases, tops, strict=True)
    ]
    within = sum(1 for r in rounds if r <= RATIO_TARGET)
    return [
        f"{target} / {base}",
        size,
        f"{pooled:.2f}x",
        f"{statistics.median(rounds):.2f}x",
        f"{min(rounds):.2f} to {max(rounds):.2f}x",
        f"{within} of {len(rounds)}",
        f"{max(x for b in tops for x in b.latencies):.2f} s",
    ]


def ratio_rows(sizes: list[int], bursts: list[Burst]) -> list[list[object]]:
    """Each size's smsbot over the floor; with the claiming floor, also the two parts of that."""
    pairs = [(SMSBOT, FLOOR)]
    if any(b.target == CLAIMING for b in bursts):
        pairs += [(CLAIMING, FLOOR), (SMSBOT, CLAIMING)]
    return [ratio_row(size, bursts, target, base) for target, base in pairs for size in sizes]


def print_report(sizes: list[int], bursts: list[Burst], checks: list[list[object]]) -> None:
    """The ack table, each size's ratio to the floor, and the loss check when it ran."""
    print("\n## Ack latency (POST to full answer), bursts fired at once, rounds pooled\n")
    print_table(
        [
            "target",
            "concurrent",
            "bursts",
            "p50",
            "p99",
            "max",
            "commands/s (median)",
            "non-200 / ≥3 s",
            "server CPU / command (median)",
        ],
        [
            pooled_row(size, target, [b for b in bursts if (b.size, b.target) == (size, target)])
            for size, target in sorted({(b.size, b.target) for b in bursts})
        ],
    )
    print("\n## Ratio to the floor (target: smsbot p99 within 1.5x the floor's)\n")
    print_table(
        [
            "p99 of",
            "concurrent",
            "p99 / floor p99, rounds pooled",
            "each round's: median",
            "range",
            "rounds within 1.5x",
            "slowest ack",
        ],
        ratio_rows(sizes, bursts),
    )
    if checks:
        print("\n## No SMS lost or doubled (simulator sends, channel posts, database rows)\n")
        print_table(
            [
                "commands",
                "SMS sent",
                "sends lost / doubled",
                "posted",
                "posts lost / doubled",
                "database",
                "all sent+posted after",
            ],
            checks,
        )


async def main() -> None:
    """Run the floor and smsbot bursts, then the loss check, and print the tables."""
    args = _arguments()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"# ack: {machine()}")
    print(
        f"simulator latency {args.latency:g} s; bursts {sizes}; Slack's ack limit 3 s; "
        f"smsbot's database: {args.engine}\n"
    )

    slack, slack_runner = await start_fake_slack(FakeSlack())
    simulator, sim_runner, sim_url = await start_simulator(
        SimulatorConfig(api_key=MOBIZON_KEY, latency=args.latency)
    )
    connector = aiohttp.TCPConnector(limit=0)
    session = aiohttp.ClientSession(connector=connector)
    bursts: list[Burst] = []
    modal_open = (0, 0.0)
    checks: list[list[object]] = []
    peak_rss = 0
    with bench_databases(args.engine) as databases:
        database = databases.new("ack")
        try:
            if args.ack_only:
                peak_rss = await fresh_bursts(
                    session,
                    sizes,
                    bursts,
                    urls=(slack.url, sim_url),
                    new_database=databases.new,
                    simulator=simulator,
                    rounds=args.rounds,
                    sends_during=args.sends_during,
                )
            else:
                floor = floor_process(slack.url, sim_url, database)
                async with floor.running():
                    await burst(session, floor.url, 5, label="floor-warm", target="warm-up")
                    bursts.extend(
                        [
                            await burst(
                                session,
                                floor.url,
                                size,
                                label=f"floor{size}",
                                target=FLOOR,
                                pid=floor.pid,
                            )
                            for size in sizes
                        ]
                    )
            if not args.ack_only:
                bot = BotProcess(slack_url=slack.url, mobizon_url=sim_url, database=database)
                peak_rss, modal_open = await one_bot(
                    session,
                    sizes,
                    bursts,
                    checks,
                    bot=bot,
                    database=database,
                    simulator=simulator,
                    slack=slack,
                    args=args,
                )
        finally:
            await session.close()
            await sim_runner.cleanup()
            await slack_runner.cleanup()

    print_report(sizes, bursts, checks)
    if args.modal and not args.ack_only:
        print(
            f"\n## /sms alone: {modal_open[0]} of {args.modal} modals asked of Slack "
            f"(views.open), the last {modal_open[1]:.2f} s after the burst began (limit 3 s)"
        )
    print(
        f"\nsimulator sendSmsMessage total: {simulator.count(SEND_SMS)}; "
        f"FakeSlack 429s: {slack.rate_limited_count}; "
        f"smsbot peak RSS {peak_rss / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    asyncio.run(main())
