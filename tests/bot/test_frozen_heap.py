"""``smsbot serve``'s last lifetime: start-up's heap frozen, the collector's passes left for quiet moments."""

from __future__ import annotations

import asyncio
import gc
import weakref
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.process.quiet import (
    REQUESTS,
    YOUNG_GENERATION,
    InFlightRequests,
    counting_requests,
    quiet_collection,
)
from testkit.waiting import wait_until


class _Node:
    """A cycle's member, watched through a weak reference."""

    def __init__(self) -> None:
        self.other: _Node | None = None


async def _ok(_request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def test_start_up_garbage_is_collected_and_the_rest_frozen_until_shutdown() -> None:
    """Garbage left at start is freed, what lives is frozen while serving, thawed at shutdown."""
    before = gc.get_threshold()
    first, second = _Node(), _Node()
    first.other, second.other = second, first
    garbage = weakref.ref(first)
    del first, second
    kept = _Node()
    app = web.Application()
    app.cleanup_ctx.append(quiet_collection())
    app.router.add_get("/", _ok)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        assert garbage() is None
        assert gc.get_freeze_count() > 0
        frozen = gc.get_freeze_count()
        async with aiohttp.ClientSession() as session, session.get(server.make_url("/")) as r:
            assert await r.text() == "ok"
        gc.collect()
        # a full pass leaves the frozen objects frozen: start-up's heap stays out of the
        # generations (a frozen object freed by its last reference going, as the request may
        # free a few, leaves the frozen ones: the count may drop by those, never to a fraction)
        assert gc.get_freeze_count() > frozen // 2
        assert not any(o is kept for o in gc.get_objects())  # in no generation: frozen
    finally:
        await server.close()
    assert gc.get_freeze_count() == 0
    assert any(o is kept for o in gc.get_objects())
    assert gc.get_threshold() == before


async def test_the_young_generation_takes_more_objects_while_serving() -> None:
    """While serving, the collector's own pass falls due after YOUNG_GENERATION new objects, not 700."""
    before = gc.get_threshold()
    app = web.Application()
    app.cleanup_ctx.append(quiet_collection())
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        assert gc.get_threshold() == (YOUNG_GENERATION, *before[1:])
        assert before[0] < YOUNG_GENERATION
        gc.collect()
        made = [[n] for n in range(before[0] * 2)]  # twice the old threshold: no pass yet
        assert gc.get_count()[0] >= len(made)
    finally:
        await server.close()
    assert gc.get_threshold() == before


def _passes() -> tuple[list[int], Any]:
    """The generations the collector passes over from now on, and the callback that lists them."""
    seen: list[int] = []

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(callback)
    return seen, callback


async def test_no_pass_runs_while_a_request_waits_and_one_runs_once_it_is_answered() -> None:
    """Garbage made while a request waits is collected only after its answer, then promptly."""
    release = asyncio.Event()
    entered = asyncio.Event()

    async def waiting(_request: web.Request) -> web.Response:
        entered.set()
        await release.wait()
        return web.Response(text="answered")

    app = web.Application(middlewares=[counting_requests])
    app[REQUESTS] = InFlightRequests()
    app.router.add_get("/", waiting)
    app.cleanup_ctx.append(quiet_collection(look_every=0.01))
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    seen, callback = _passes()
    try:
        async with aiohttp.ClientSession() as session:
            answer = asyncio.ensure_future(session.get(server.make_url("/")))
            await asyncio.wait_for(entered.wait(), 5)
            assert app[REQUESTS].count == 1
            seen.clear()
            cycles = []
            for _ in range(2000):  # far past the 700 that make the youngest generation due
                node = _Node()
                node.other = node
                cycles.append(weakref.ref(node))
            del node
            await asyncio.sleep(0.2)  # twenty looks, all finding the request in flight
            assert seen == []
            assert all(ref() is not None for ref in cycles)
            release.set()
            async with await answer as response:
                assert await response.text() == "answered"
            await wait_until(lambda: all(ref() is None for ref in cycles), what="the cycles freed")
            assert seen
            assert app[REQUESTS].count == 0
    finally:
        gc.callbacks.remove(callback)
        await server.close()
