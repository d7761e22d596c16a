"""``smsbot serve``'s last lifetime: start-up's objects frozen out of collections, a larger young one."""

from __future__ import annotations

import gc
import weakref

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.process.app import YOUNG_GENERATION, startup_heap_frozen


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
    app.cleanup_ctx.append(startup_heap_frozen)
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
    """While serving, a collection falls due after YOUNG_GENERATION new objects, not 700."""
    before = gc.get_threshold()
    app = web.Application()
    app.cleanup_ctx.append(startup_heap_frozen)
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
