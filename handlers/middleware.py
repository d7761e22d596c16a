"""A Bolt middleware that does one thing to each request, then passes it on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

__all__ = ["RequestStep"]


class RequestStep(AsyncMiddleware):
    """Runs :meth:`before` on each request, then the rest of Bolt's chain.

    A Bolt middleware class, not a function: for a function middleware Bolt builds every keyword
    argument it could be given, on every request.
    """

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,  # noqa: ARG002  # Bolt passes it
        next: Callable[[], Awaitable[BoltResponse]],  # noqa: A002  # Bolt passes it by this name
    ) -> BoltResponse | None:
        """Bolt's call: :meth:`before`, then the next middleware (or the listener)."""
        await self.before(req)
        return await next()

    async def before(self, req: AsyncBoltRequest) -> None:
        """What this step does to ``req`` (its context) before the listener runs."""
        raise NotImplementedError
