"""The claims of a burst alone: N concurrent ``Store.write(claim_send)`` in one process (issue 19).

The part of a ``/sms send`` ack that writes the command to the database before the ack, without
Slack, Bolt or HTTP: a :class:`~storage.store.Store` opened on a fresh database of the engine, a
warm-up, then each burst of concurrent claims fired at once, timed from the burst's start to each
claim's answer; then the same keys again, every one refused as a duplicate. Each burst runs on a
database of its own, ``--runs`` times.

    python bench/claims.py [--sizes 100,500] [--runs 3] [--engine sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from _common import add_engine_option, bench_databases, machine, print_table, stats_ms

from storage.claims import NewSend, claim_send
from storage.store import Store
from testkit.claims import new_send


async def claim_burst(store: Store, size: int, label: str) -> tuple[list[float], float, int]:
    """Claim ``size`` sends at once: each claim's latency, the whole burst's, duplicates refused."""
    news = [new_send(f"{label}.{i}") for i in range(size)]
    started = time.perf_counter()

    async def one(new: NewSend) -> float:
        claimed = await store.write(claim_send, new)
        if claimed is None:
            raise RuntimeError("a new key was refused")
        return time.perf_counter() - started

    latencies = await asyncio.gather(*(one(new) for new in news))
    seconds = time.perf_counter() - started
    again = await asyncio.gather(*(store.write(claim_send, new) for new in news))
    return list(latencies), seconds, sum(1 for a in again if a is None)


async def main() -> None:
    """Every size, ``--runs`` times, each on a fresh database; one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,500", help="burst sizes (default 100,500)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each size (default 3)")
    add_engine_option(parser)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"# claims: {machine()}\nengine: {args.engine}\n")
    rows = []
    with bench_databases(args.engine) as databases:
        for run in range(1, args.runs + 1):
            for size in sizes:
                store = await Store.open(databases.new(f"claims{size}r{run}"))
                try:
                    await claim_burst(store, 5, "warm")
                    latencies, seconds, refused = await claim_burst(store, size, "b")
                finally:
                    await store.close()
                p50, p99, worst = stats_ms(latencies)
                rows.append([size, run, p50, p99, worst, f"{size / seconds:.0f}", refused])
    print_table(
        ["concurrent", "run", "p50", "p99", "max", "claims/s", "duplicates refused after"], rows
    )


if __name__ == "__main__":
    asyncio.run(main())
