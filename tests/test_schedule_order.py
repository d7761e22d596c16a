"""The order xdist's workers run the suite in: every test once, long ones first in each run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import pytest

from tests.conftest import LONG_MODULES, long_tests_first


@dataclass(frozen=True)
class FakeItem:
    """What the ordering reads of a test: its node id and its ``slow`` mark."""

    nodeid: str
    slow: bool = False

    def get_closest_marker(self, name: str) -> object | None:
        """The ``slow`` mark when the test has it."""
        return object() if name == "slow" and self.slow else None


QUICK = "tests/test_quick.py::"


def _ordered(workers: int) -> tuple[list[str], list[str]]:
    """Node ids of 40 quick tests, 5 of a long module and one marked slow, before and after."""
    items = [FakeItem(f"{QUICK}test_{n}") for n in range(40)]
    items[5:5] = [FakeItem(f"{min(LONG_MODULES)}::test_{n}") for n in range(5)]
    items.append(FakeItem("tests/test_other.py::test_killed", slow=True))
    ordered = long_tests_first(cast("list[pytest.Item]", items), workers)
    return [i.nodeid for i in items], [i.nodeid for i in ordered]


def test_every_test_is_kept_once_and_the_rest_keep_their_order() -> None:
    """Reordering drops no test, repeats none, and leaves the short ones in file order."""
    before, after = _ordered(4)
    assert sorted(after) == sorted(before)
    assert [n for n in after if n.startswith(QUICK)] == [n for n in before if n.startswith(QUICK)]


def test_each_workers_first_run_starts_with_its_share_of_the_long_tests() -> None:
    """Cut as worksteal cuts the runs (46 tests, 4 workers: 11, 11, 12, 12), each starts long."""
    _, after = _ordered(4)
    runs = [after[0:11], after[11:22], after[22:34], after[34:46]]
    long_at_head = [len(run) - len([n for n in run if n.startswith(QUICK)]) for run in runs]
    assert long_at_head == [2, 2, 1, 1]
    assert all(
        not any(n.startswith(QUICK) for n in run[:count])
        for run, count in zip(runs, long_at_head, strict=True)
    )


def test_the_slow_tests_start_first() -> None:
    """A test marked ``slow`` (mostly waiting on subprocesses) is the first of a worker's run."""
    before, after = _ordered(4)
    assert before.index("tests/test_other.py::test_killed") == len(before) - 1
    assert after[0] == "tests/test_other.py::test_killed"
