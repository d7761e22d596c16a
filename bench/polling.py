"""Cost of one status-poll cycle with 10,000 and 50,000 pending SMS (issue 6, 2).

The bot's own ``Poller`` and ``MobizonClient`` run in this process against the simulator in a
subprocess (``_sim_server.py``, every answer after 50 ms), so the CPU figures are the poller's
alone. The database holds N sent SMS that the simulator knows, pinned to ``ACCEPTD``.
Cycle 1 finds every SMS changed (NEW → ACCEPTD: N status writes and outbox rows); the later
cycles find nothing new, which is the steady state. Per cycle: getSMSStatus requests (target
ceil(N/100)), wall time, CPU seconds, and time inside ``storage`` functions (the database + row
mapping).

    python bench/polling.py [--sizes 10000,50000] [--cycles 4] [--latency 0.05]
                            [--engine sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import inspect
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from _common import (
    MOBIZON_KEY,
    SeedSms,
    SimulatorProcess,
    add_engine_option,
    bench_databases,
    machine,
    print_table,
    seed_database,
)

import bot.sms.delivery.poller
import storage.delivery
import storage.messages
from bot.mobizon import MobizonClient
from bot.sms.delivery.poller import Poller
from storage.store import Store

#: Requests in flight per cycle: the Poller's own limit (MobizonClient's default is also 4).
CLIENT_CONCURRENCY = int(getattr(bot.sms.delivery.poller, "CONCURRENCY", 4))


class StorageTimer:
    """Adds up wall time spent in the public functions of the storage modules (outermost calls)."""

    def __init__(self, *modules: ModuleType) -> None:
        self.seconds = 0.0
        self.calls = 0
        self.by_function: dict[str, float] = {}
        self._depth = 0
        self._originals: list[tuple[ModuleType, str, Any]] = []
        for module in modules:
            for name, value in vars(module).items():
                if (
                    inspect.isfunction(value)
                    and not name.startswith("_")
                    and value.__module__ == module.__name__
                ):
                    self._originals.append((module, name, value))
                    setattr(module, name, self._wrap(value))

    def _wrap(self, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401  # any storage function
            if self._depth:
                return func(*args, **kwargs)
            self._depth += 1
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spent = time.perf_counter() - started
                self.seconds += spent
                self.calls += 1
                name = func.__name__
                self.by_function[name] = self.by_function.get(name, 0.0) + spent
                self._depth -= 1

        return timed

    def take(self) -> tuple[float, int, str]:
        """Seconds, calls and the three costliest functions since the last take."""
        seconds, calls = self.seconds, self.calls
        top = sorted(self.by_function.items(), key=lambda item: -item[1])[:3]
        costliest = ", ".join(f"{name} {spent * 1000:.0f}" for name, spent in top)
        self.seconds, self.calls, self.by_function = 0.0, 0, {}
        return seconds, calls, costliest

    def restore(self) -> None:
        """Put the original functions back."""
        for module, name, value in self._originals:
            setattr(module, name, value)


@dataclass(frozen=True, slots=True)
class Cycle:
    """One measured poll cycle."""

    pending: int
    number: int
    requests: int
    changed: int
    seconds: float
    cpu: float
    storage_seconds: float
    storage_calls: int
    costliest: str
    latency: float

    def row(self) -> list[object]:
        """One table row."""
        target = math.ceil(self.pending / 100)
        floor = target / CLIENT_CONCURRENCY * self.latency
        return [
            f"{self.pending:,}",
            self.number,
            f"{self.changed:,}",
            f"{self.requests} (target {target})",
            f"{self.seconds:.2f} s (floor {floor:.2f})",
            f"{self.cpu:.2f} s",
            f"{self.storage_seconds * 1000:.0f} ms / {self.storage_calls:,} calls",
            self.costliest,
        ]


async def measure(pending: int, cycles: int, latency: float, database: str) -> list[Cycle]:
    """Fill the simulator and ``database`` with ``pending`` SMS; run and time ``cycles`` cycles."""
    found: list[Cycle] = []
    async with SimulatorProcess(latency=latency) as sim:
        ids = await sim.populate(pending, "ACCEPTD")
        seed_database(database, (SeedSms(i, f"C{i % 10}", None, status="NEW") for i in ids))
        store = await Store.open(database)
        timer = StorageTimer(storage.messages, storage.delivery)
        try:
            async with MobizonClient(MOBIZON_KEY, base_url=sim.url) as client:
                poller = Poller(store, client)
                for number in range(1, cycles + 1):
                    before = (await sim.counts())["getsmsstatus"]
                    timer.take()
                    cpu0, wall0 = time.process_time(), time.perf_counter()
                    report = await poller.run_once()
                    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
                    storage_seconds, storage_calls, costliest = timer.take()
                    after = (await sim.counts())["getsmsstatus"]
                    found.append(
                        Cycle(
                            pending=pending,
                            number=number,
                            requests=after - before,
                            changed=report.changed,
                            seconds=wall,
                            cpu=cpu,
                            storage_seconds=storage_seconds,
                            storage_calls=storage_calls,
                            costliest=costliest,
                            latency=latency,
                        )
                    )
                    print(f"  {pending} pending, cycle {number}: {wall:.2f} s", flush=True)
        finally:
            timer.restore()
            await store.close()
    return found


async def main() -> None:
    """Measure each size and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,50000", help="pending SMS (default 10000,50000)")
    parser.add_argument("--cycles", type=int, default=4, help="cycles per size (default 4)")
    parser.add_argument("--latency", type=float, default=0.05, help="simulator latency (s)")
    add_engine_option(parser)
    args = parser.parse_args()
    print(f"# polling: {machine()}")
    print(
        f"simulator latency {args.latency * 1000:.0f} ms per request; client concurrency "
        f"{CLIENT_CONCURRENCY}; floor = ceil(N/100) / {CLIENT_CONCURRENCY} x latency\n"
    )
    cycles: list[Cycle] = []
    with bench_databases(args.engine) as databases:
        for size in (int(s) for s in args.sizes.split(",")):
            database = databases.new(f"poll_{size}")
            cycles.extend(await measure(size, args.cycles, args.latency, database))
    print("\n## Poll cycles (cycle 1: every SMS changed; later cycles: steady state)\n")
    print_table(
        [
            "pending",
            "cycle",
            "changed",
            "getSMSStatus requests",
            "cycle time",
            "CPU",
            f"time in storage ({args.engine})",
            "costliest storage calls (ms)",
        ],
        [c.row() for c in cycles],
    )


if __name__ == "__main__":
    asyncio.run(main())
