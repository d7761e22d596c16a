"""Quiet moments: the HTTP requests waiting for their answer, and the work that waits for none.

A burst of commands is hundreds of requests at once, each waiting for its claim's transaction
before its ack. Work that is not an ack but falls inside the burst is paid by every ack of it.
Two kinds of it wait here for the requests in flight (:data:`REQUESTS`, counted by
:func:`counting_requests`) to be answered:

- **A send's request to Mobizon** (:meth:`InFlightRequests.quiet`, waited for between a send's
  ack and its delivery): it leaves once the acks are out, or after :data:`ACKS_FIRST` seconds
  under a load that never lets up. A lone command's SMS leaves at once.
- **The garbage collector's passes** (:func:`quiet_collection`, ``smsbot serve``'s last
  lifetime). CPython collects its youngest generation whenever 700 new objects are alive since
  its last pass, wherever that falls: in a burst, a pass walks every waiting request's objects
  (and moves them on, to be walked again by the middle generation's passes). While serving,
  start-up's objects are collected once, then frozen (``gc.freeze``: no pass walks the modules,
  the Bolt app, the catalogues or phonenumbers' metadata again); every :data:`QUIET_LOOK`
  seconds, with no request in flight, the generations due by CPython's own thresholds are
  collected; and the collector's own passes fall due only after :data:`YOUNG_GENERATION` new
  objects, a bound for a load that never lets up.

Socket Mode's requests do not come over HTTP: there, sends leave at once and every look
collects what is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from handlers.languages import read_locale_data

__all__ = [
    "ACKS_FIRST",
    "QUIET_LOOK",
    "REQUESTS",
    "YOUNG_GENERATION",
    "InFlightRequests",
    "QuietCollector",
    "counting_requests",
    "quiet_collection",
]

#: Seconds a send's request to Mobizon waits at most for the requests in flight to be answered.
ACKS_FIRST = 1.0

#: Seconds between looks for a moment with no request waiting for its answer.
QUIET_LOOK = 0.25

#: New objects the youngest generation takes before the collector's own pass while serving
#: (CPython's default is 700): a pass that falls due in a burst walks every waiting request's
#: objects, so it is left for a quiet moment (:class:`QuietCollector`) unless this many pile up
#: first, as under a load that never lets up (a burst of 500 commands leaves about 36,000).
YOUNG_GENERATION = 200_000


@dataclass(slots=True)
class InFlightRequests:
    """The HTTP requests taken and not yet answered, and whoever waits for there to be none.

    The waiters of one busy spell share one timer, armed by the first of them: each waiter goes
    on when the last request is answered, or when that timer ends (at most :data:`ACKS_FIRST`
    seconds after it began waiting). A timer of its own for each of a burst's sends would be
    hundreds of entries in the event loop's heap, each pushed and cancelled while the burst's
    acks wait for the same loop.
    """

    count: int = 0
    _waiting: list[asyncio.Future[None]] = field(default_factory=list, init=False, repr=False)
    _bound: asyncio.TimerHandle | None = field(default=None, init=False, repr=False)

    def started(self) -> None:
        """A request was taken."""
        self.count += 1

    def answered(self) -> None:
        """A request has its answer: with none left in flight, every waiter goes on."""
        self.count -= 1
        if not self.count and self._waiting:
            self._release()

    async def quiet(self) -> None:
        """Return once no request is in flight, or at most :data:`ACKS_FIRST` seconds later."""
        if not self.count:
            return
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._waiting.append(waiter)
        if self._bound is None:
            self._bound = loop.call_later(ACKS_FIRST, self._release)
        await waiter

    def _release(self) -> None:
        """Every waiter goes on, in the order they came; the spell's timer is done."""
        if self._bound is not None:
            self._bound.cancel()
            self._bound = None
        waiting, self._waiting = self._waiting, []
        for waiter in waiting:
            if not waiter.done():  # a waiter cancelled meanwhile is only forgotten
                waiter.set_result(None)


#: The process's count of requests in flight, kept by :func:`counting_requests`.
REQUESTS = web.AppKey("requests_in_flight", InFlightRequests)


@web.middleware
async def counting_requests(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Count the request in :data:`REQUESTS` until its handler has its answer."""
    requests = request.app[REQUESTS]
    requests.started()
    try:
        return await handler(request)
    finally:
        requests.answered()


class QuietCollector:
    """Collects the generations due, by ``thresholds``, whenever no request is in flight."""

    def __init__(self, requests: InFlightRequests, thresholds: tuple[int, int, int]) -> None:
        self._requests = requests
        self._thresholds = thresholds

    def look(self) -> None:
        """Collect the oldest generation due, if no request is in flight.

        A generation is due as CPython counts: the youngest after ``thresholds[0]`` new objects,
        an older one after ``thresholds[n]`` passes of the one before it.
        """
        if self._requests.count:
            return
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] >= self._thresholds[generation]:
                gc.collect(generation)
                return

    async def run(self, every: float) -> None:
        """Look every ``every`` seconds, until cancelled."""
        while True:
            await asyncio.sleep(every)
            self.look()


def quiet_collection(
    look_every: float = QUIET_LOOK,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """The lifetime that keeps the collector's passes out of bursts (see the module's text).

    Given by ``smsbot serve`` as its last lifetime; an app without :data:`REQUESTS` counts no
    requests, so every look collects what is due. At shutdown the looks stop, start-up's heap
    is unfrozen and the collector's thresholds are restored. Babel's locale data, read at a
    first use, is read before the freeze (:func:`read_locale_data`).
    """

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        read_locale_data()
        gc.collect()
        gc.freeze()
        thresholds = gc.get_threshold()
        requests = app.get(REQUESTS) or InFlightRequests()
        collector = QuietCollector(requests, thresholds)
        gc.set_threshold(YOUNG_GENERATION, *thresholds[1:])
        looking = asyncio.create_task(collector.run(look_every))
        try:
            yield
        finally:
            looking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await looking
            gc.set_threshold(*thresholds)
            gc.unfreeze()

    return lifetime
