"""The one listener wrapper: the request is answered at the ack, the listener runs on, held."""

from __future__ import annotations

import asyncio
from typing import Any

from handlers import errors


class _Ack:
    """Bolt's ``ack`` as the wrapper uses it: a call that records its answer."""

    def __init__(self) -> None:
        self.response: object | None = None

    async def __call__(self, **kwargs: Any) -> object:  # Bolt's ack takes anything
        self.response = kwargs or "ok"
        return self.response


async def test_the_wrapper_returns_at_the_ack_and_holds_the_listener_until_it_ends() -> None:
    """Bolt gets control back at the ack; the listener's task is held (not left to the GC) until done."""
    release = asyncio.Event()
    finished: list[str] = []

    async def listener(ack: Any) -> None:  # Bolt's ack
        await ack()
        await release.wait()
        finished.append("done")

    ack = _Ack()
    before = set(errors._RUNNING)  # another test's, in this process
    await asyncio.wait_for(errors.reporting_errors(listener)(ack=ack), timeout=1)
    assert ack.response == "ok"
    assert finished == []
    held = list(errors._RUNNING - before)  # this listener's task, held
    assert len(held) == 1
    release.set()
    await asyncio.wait_for(held[0], timeout=1)
    assert finished == ["done"]
    assert held[0] not in errors._RUNNING


async def test_a_listener_that_ends_without_acking_still_lets_the_request_be_answered() -> None:
    """A listener that returns without calling ack ends the wrapper too: Bolt is never left waiting."""

    async def listener(ack: Any) -> None:  # never acks
        return

    before = set(errors._RUNNING)  # another test's, in this process
    await asyncio.wait_for(errors.reporting_errors(listener)(ack=_Ack()), timeout=1)
    await asyncio.sleep(0)
    assert errors._RUNNING - before == set()  # its task ended and was let go
