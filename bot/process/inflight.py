"""Graceful shutdown's view of the listeners: their tasks at work, waited for at shutdown.

Each Slack listener's task is tracked as it starts (the one listener wrapper,
:func:`handlers.errors.reporting_errors`, calls :meth:`InFlight.track_current` through the
services' ``on_listener_start``), so a stop lets a send, a status or a search finish, and the
SMS be recorded and its message posted.
"""

from __future__ import annotations

import asyncio
import logging

logger = logging.getLogger(__name__)


class InFlight:
    """The Slack listeners' tasks (each started after its ack) that have not finished."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[object]] = set()

    def track_current(self) -> None:
        """Remember the running task until it is done."""
        task = asyncio.current_task()
        if task is not None and task not in self.tasks:
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def wait(self, deadline: float) -> None:
        """Let the tasks finish within ``deadline`` seconds; cancel the ones still running."""
        pending = [task for task in self.tasks if not task.done()]
        if not pending:
            return
        logger.info("waiting for sends in flight", extra={"count": len(pending)})
        _, late = await asyncio.wait(pending, timeout=deadline)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late, timeout=1.0)
            logger.warning(
                "sends still in flight at the shutdown deadline were cancelled",
                extra={"count": len(late)},
            )
