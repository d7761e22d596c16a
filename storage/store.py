"""The database as the async app sees it: storage functions run on threads, never on the loop.

SQLite calls block: a write can wait up to the busy timeout for another connection's lock. On
the event loop that wait would hold up everything else (Slack's 3-second acks, ``/healthz``,
webhooks). A :class:`Store` owns two connections, each on a thread of its own:

- the **writer** (one thread, so writes are serialised in the order they were asked), for every
  function that writes;
- the **reader**, for plain reads: in WAL mode a read never waits for a writer, so status reads
  and the notifier's look at the outbox go on while another process holds the write lock.

The storage functions stay synchronous and take a :class:`sqlite_utils.Database`:
``await store.write(claims.claim_send, new)`` runs
``claims.claim_send(<writer's Database>, new)`` on the writer thread.
An in-memory database has one connection, so there both run on the writer.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Concatenate, ParamSpec, TypeVar

from sqlite_utils import Database

from storage.schema import BUSY_TIMEOUT_MS, open_database

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

#: Waits between attempts of :meth:`Store.write_retrying` while the database stays locked.
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)


def is_busy(error: BaseException) -> bool:
    """True for SQLite's "database is locked" (or busy): another connection kept the lock."""
    if not isinstance(error, sqlite3.OperationalError):
        return False
    text = str(error).lower()
    return "locked" in text or "busy" in text


class Store:
    """Runs storage functions off the event loop; :meth:`open` it, :meth:`close` it."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self.memory = self.path == ":memory:"
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._reader = (
            self._writer
            if self.memory
            else ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-reader")
        )
        self._write_db: Database | None = None
        self._read_db: Database | None = None

    @classmethod
    async def open(cls, path: str | os.PathLike[str]) -> Store:
        """Open the database at ``path`` (migrations run on the writer thread) and its reader."""
        store = cls(path)
        try:
            store._write_db = await store._run(store._writer, open_database, store.path)
            if store.memory:
                store._read_db = store._write_db
            else:
                store._read_db = await store._run(store._reader, _open_reader, store.path)
        except BaseException:
            await store.close()
            raise
        return store

    async def write(
        self, fn: Callable[Concatenate[Database, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn(db, *args, **kwargs)`` on the writer thread and return what it returns."""
        if self._write_db is None:
            msg = "the database is closed"
            raise RuntimeError(msg)
        return await self._run(self._writer, fn, self._write_db, *args, **kwargs)

    async def read(
        self, fn: Callable[Concatenate[Database, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run the read-only ``fn(db, *args, **kwargs)`` on the reader thread."""
        if self._read_db is None:
            msg = "the database is closed"
            raise RuntimeError(msg)
        return await self._run(self._reader, fn, self._read_db, *args, **kwargs)

    async def write_retrying(
        self,
        fn: Callable[Concatenate[Database, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Like :meth:`write`, tried again after :data:`RETRY_DELAYS` while the database is locked.

        For a write that must not be lost, such as recording an SMS Mobizon already took.
        Any other error, or the lock still held after the last attempt, is raised.
        """
        for delay in RETRY_DELAYS:
            try:
                return await self.write(fn, *args, **kwargs)
            except sqlite3.OperationalError as err:
                if not is_busy(err):
                    raise
                logger.warning(
                    "database locked; write tried again",
                    extra={"write": getattr(fn, "__name__", "?"), "retry_in": delay},
                )
            await asyncio.sleep(delay)
        return await self.write(fn, *args, **kwargs)

    async def close(self) -> None:
        """Close both connections on their own threads, then stop the threads."""
        if self._read_db is not None and self._read_db is not self._write_db:
            await self._run(self._reader, self._read_db.close)
        if self._write_db is not None:
            await self._run(self._writer, self._write_db.close)
        self._read_db = self._write_db = None
        self._reader.shutdown(wait=False)
        self._writer.shutdown(wait=False)

    @staticmethod
    async def _run(
        executor: ThreadPoolExecutor, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, functools.partial(fn, *args, **kwargs))


def _open_reader(path: str) -> Database:
    """A second connection for reads only (the writer already brought the schema up to date)."""
    db = Database(path)
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
        db.execute("PRAGMA query_only = ON")
    except BaseException:
        db.close()
        raise
    return db
