"""Run every benchmark in turn and print their figures (issue 6).

    python bench/run_all.py            # the issue's numbers: about 30 minutes on 2 cores
    python bench/run_all.py --quick    # scaled down: about 2 minutes, for a smoke run
    python bench/run_all.py --only drain,memory

Each benchmark runs in its own interpreter, one after the other, so none competes with another
for the CPU. Benchmarks print; they never assert timings.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: name -> extra arguments for --quick (the defaults are the issue's numbers)
QUICK: dict[str, list[str]] = {
    "ack": ["--sizes", "20,50"],
    "polling": ["--sizes", "2000", "--cycles", "2"],
    "drain": ["--statuses", "100"],
    "latency": ["--webhooks", "50", "--poll-interval", "2", "--changes", "10"],
    "memory": ["--stored", "20000", "--pending", "2000", "--seconds", "10"],
    "campaign": ["--rows", "1000", "--status-seconds", "10", "--singles", "3"],
    "replicas": [
        "--commands",
        "40",
        "--lease",
        "3",
        "--poll-interval",
        "2",
        "--settle-within",
        "15",
    ],
}


def main() -> int:
    """Run the chosen benchmarks; return non-zero if one of them failed to run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="scaled-down sizes")
    parser.add_argument("--only", default="", help="comma-separated names, e.g. ack,drain")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(QUICK)
    unknown = [n for n in names if n not in QUICK]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; one of {', '.join(QUICK)}")
    failed = []
    for name in names:
        argv = [sys.executable, str(HERE / f"{name}.py"), *(QUICK[name] if args.quick else [])]
        print(f"\n=== {name} {' '.join(argv[2:])}", flush=True)
        started = time.monotonic()
        code = subprocess.call(argv, cwd=HERE.parent)
        print(f"=== {name}: {time.monotonic() - started:.0f} s, exit {code}", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"failed to run: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
