"""Reading the recipients of a send to many: a CSV file's bytes to its recipients (issue 21).

Pure work, no server: a generated file of ``--rows`` rows (``nome;telefone;cidade``, Windows-1252,
semicolons, a few duplicates, unreadable and empty numbers), read by
:func:`~bot.sms.sending.recipients.read_csv` with a text of two placeholders, ``--runs`` times;
then the same numbers typed as a list. Prints the time of each run and the rows per second.

    python bench/recipients.py [--rows 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from _common import machine, print_table

from bot.sms.sending.recipients import Reading, Recipients, read_csv, read_list

TEXT = "Olá {nome}, seu pedido em {cidade} está pronto."


def csv_bytes(rows: int) -> bytes:
    """A file of ``rows`` rows as a Brazilian spreadsheet exports it; every 100th row is bad."""
    lines = ["Nome;Telefone;Cidade"]
    for row in range(rows):
        if row % 100 == 99:
            earlier = f"+55 11 9{row - 1:04d}-{(row - 1) % 10000:04d}"
            number = ("", "abc", earlier)[row // 100 % 3]
        else:
            number = f"(11) 9{row:04d}-{row % 10000:04d}"
        lines.append(f"Cliente {row};{number};São Paulo")
    return "\r\n".join(lines).encode("cp1252")


def timed(read: Callable[[], Reading], runs: int) -> list[float]:
    """Seconds per run of ``read``, each checked to answer :class:`Recipients`."""
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        result = read()
        seconds.append(time.perf_counter() - start)
        assert isinstance(result, Recipients), result
    return seconds


def main() -> None:
    """Time the file and the list; one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="rows (default 10000)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each (default 5)")
    args = parser.parse_args()
    print(f"# recipients: {machine()}\n")
    data = csv_bytes(args.rows)
    typed = "\n".join(line.split(";")[1] for line in data.decode("cp1252").splitlines()[1:])
    result = read_csv(data, TEXT, default_region="BR", limit=args.rows)
    assert isinstance(result, Recipients), result
    print(f"{len(result.recipients)} recipients, {len(result.left_out)} left out\n")
    rows = []
    for name, read in (
        ("CSV file", lambda: read_csv(data, TEXT, default_region="BR", limit=args.rows)),
        ("typed list", lambda: read_list(typed, "Oi", default_region="BR", limit=args.rows)),
    ):
        seconds = timed(read, args.runs)
        best, worst = min(seconds), max(seconds)
        rows.append(
            [
                name,
                args.rows,
                f"{best * 1000:.0f} ms",
                f"{worst * 1000:.0f} ms",
                f"{args.rows / best:,.0f}",
            ]
        )
    print_table(["input", "rows", "fastest", "slowest", "rows/s"], rows)


if __name__ == "__main__":
    main()
