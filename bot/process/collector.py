"""The garbage collector while ``smsbot serve`` serves: its passes wait for a quiet moment.

CPython collects its youngest generation whenever 700 new objects are alive since its last
pass, wherever that falls. In a burst of commands each request waits for its claim's
transaction before its ack, hundreds at once: a pass then walks every waiting request's objects
(and moves them on, to be walked again by the middle generation's passes), and the collector's
time falls on every ack of the burst.

While serving (:func:`quiet_collection`, ``smsbot serve``'s last lifetime):

- start-up's objects are collected once, then frozen (``gc.freeze``): no pass walks the
  modules, the Bolt app, the catalogues or phonenumbers' metadata again;
- every :data:`QUIET_LOOK` seconds, when no HTTP request is waiting for its answer (counted by
  :func:`counting_requests`), the generations due by CPython's own thresholds are collected: a
  burst's garbage after its last answer, not in the middle of it;
- the collector's own passes fall due only after :data:`YOUNG_GENERATION` new objects: a bound
  for a load that never lets up, when no look finds the server quiet.

Socket Mode's requests do not come over HTTP: there every look collects what is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from handlers.languages import read_locale_data

__all__ = [
    "QUIET_LOOK",
    "REQUESTS",
    "YOUNG_GENERATION",
    "InFlightRequests",
    "QuietCollector",
    "counting_requests",
    "quiet_collection",
]

#: Seconds between looks for a moment with no request waiting for its answer.
QUIET_LOOK = 0.25

#: New objects the youngest generation takes before the collector's own pass while serving
#: (CPython's default is 700): a pass that falls due in a burst walks every waiting request's
#: objects, so it is left for a quiet moment (:class:`QuietCollector`) unless this many pile up
#: first, as under a load that never lets up. A burst of 500 commands leaves about a hundred
#: thousand (``bench/RESULTS.md`` section 9).
YOUNG_GENERATION = 200_000


@dataclass(slots=True)
class InFlightRequests:
    """The HTTP requests taken and not yet answered."""

    count: int = 0


#: The process's count of requests in flight, kept by :func:`counting_requests`.
REQUESTS = web.AppKey("requests_in_flight", InFlightRequests)


@web.middleware
async def counting_requests(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Count the request in :data:`REQUESTS` until its handler has its answer."""
    requests = request.app[REQUESTS]
    requests.count += 1
    try:
        return await handler(request)
    finally:
        requests.count -= 1


class QuietCollector:
    """Collects the generations due, by ``thresholds``, whenever no request is in flight."""

    def __init__(self, requests: InFlightRequests, thresholds: tuple[int, int, int]) -> None:
        self._requests = requests
        self._thresholds = thresholds

    def look(self) -> int | None:
        """Collect the oldest generation due, if no request is in flight: which one, or ``None``.

        A generation is due as CPython counts: the youngest after ``thresholds[0]`` new objects,
        an older one after ``thresholds[n]`` passes of the one before it.
        """
        if self._requests.count:
            return None
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] >= self._thresholds[generation]:
                gc.collect(generation)
                return generation
        return None

    async def run(self, every: float) -> None:
        """Look every ``every`` seconds, until cancelled."""
        while True:
            await asyncio.sleep(every)
            self.look()


def quiet_collection(
    look_every: float = QUIET_LOOK,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """The lifetime that keeps the collector's passes out of bursts (see the module's text).

    Given by ``smsbot serve`` as its last lifetime. At shutdown the looks stop, start-up's heap
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
