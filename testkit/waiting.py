"""Waiting for something another task or process does: the one polling helper."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Literal, overload

Predicate = Callable[[], object] | Callable[[], Awaitable[object]]

#: The longest pause between two polls of one wait.
LONGEST_INTERVAL = 0.05


@overload
async def wait_until(
    predicate: Predicate,
    *,
    within: float = ...,
    what: str = ...,
    interval: float = ...,
    fail: Literal[True] = ...,
) -> Literal[True]: ...


@overload
async def wait_until(
    predicate: Predicate,
    *,
    within: float = ...,
    what: str = ...,
    interval: float = ...,
    fail: bool,
) -> bool: ...


async def wait_until(
    predicate: Predicate,
    *,
    within: float = 20.0,
    what: str = "the condition",
    interval: float = 0.01,
    fail: bool = True,
) -> bool:
    """Poll ``predicate()`` (plain or async) until it is true, first every ``interval`` seconds.

    The polls space out as the wait goes on (by half again each time, up to
    :data:`LONGEST_INTERVAL`): a short wait is seen within a poll or two, and a long one (a
    process starting, a lease running out) costs a few polls a second, not a hundred. After
    ``within`` seconds: raise AssertionError naming ``what`` (a test fails), or, with
    ``fail=False``, return ``False`` (a benchmark reports it). Deadlines are generous: they
    only bound a broken run, the usual wait is a few polls.
    """
    deadline = time.monotonic() + within
    delay = interval
    while True:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return True
        if time.monotonic() > deadline:
            if not fail:
                return False
            msg = f"timed out after {within:g} s waiting for {what}"
            raise AssertionError(msg)
        await asyncio.sleep(delay)
        delay = max(interval, min(delay * 1.5, LONGEST_INTERVAL))
