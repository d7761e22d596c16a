"""The database as the async app sees it: storage functions run on threads, never on the loop.

Database calls block: a write can wait up to the busy timeout for another connection's lock. On
the event loop that wait would hold up everything else (Slack's 3-second acks, ``/healthz``,
webhooks). A :class:`Store` owns two connections (of one engine), each on a thread of its own:

- the **writer** (one thread, so writes are serialised in the order they were asked), for every
  function that writes;
- the **reader**, for plain reads: a read never waits for a writer (SQLite's WAL mode,
  PostgreSQL's snapshots), so status reads and the notifier's look at the outbox go on while
  another process holds the write lock.

The storage functions stay synchronous and take a SQLAlchemy ``Connection``:
``await store.write(claims.claim_send, new)`` runs ``claims.claim_send(<connection>, new)`` on
the writer thread, in one transaction (committed when the function returns, rolled back when it
raises). An in-memory database has one connection, so there both run on the writer.

A write with a grouped form (:mod:`storage.grouped`: ``claim_send``'s is ``claim_sends``) is
group-committed: its calls that arrive while the writer is busy are written together in the
writer's next transaction, each caller still given its own answer. A burst of claims is then a
few transactions, not one per claim each waiting for the last.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from sqlalchemy import Connection, Engine

from storage.engine import (
    READ_ONLY,
    DatabaseUrl,
    EngineName,
    is_busy,
    make_engine,
    parse_database_url,
)
from storage.grouped import WriteGroup, Written, grouped_form, write_together
from storage.schema import migrate, upgrade_legacy_file

__all__ = ["RETRY_DELAYS", "Store", "is_busy"]

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

#: Waits between attempts of :meth:`Store.write_retrying` while the database stays locked.
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)


class Store:
    """Runs storage functions off the event loop; :meth:`open` it, :meth:`close` it."""

    def __init__(self, url: str | os.PathLike[str] | DatabaseUrl) -> None:
        self.url = url if isinstance(url, DatabaseUrl) else parse_database_url(url)
        #: The SQLite file's path (``":memory:"`` in memory); for PostgreSQL its safe URL.
        self.path = self.url.address if self.url.engine == "sqlite" else self.url.safe()
        self.memory = self.url.memory
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-writer")
        self._reader = (
            self._writer
            if self.memory
            else ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-reader")
        )
        self._engine: Engine | None = None
        #: The calls waiting for the writer, of each write that has a grouped form.
        self._groups: dict[Callable[..., Any], WriteGroup[Any, Any]] = {}

    @property
    def engine(self) -> EngineName:
        """The database engine: ``"sqlite"`` or ``"postgresql"``."""
        return self.url.engine

    @classmethod
    async def open(cls, url: str | os.PathLike[str] | DatabaseUrl) -> Store:
        """Open the database at ``url``: migrations run on the writer thread."""
        store = cls(url)
        try:
            store._engine = await store._run(store._writer, store._open_engine)
        except BaseException:
            await store.close()
            raise
        return store

    def _open_engine(self) -> Engine:
        """The engine of both threads' connections, the schema brought up to date on it.

        One engine, so the SQL of each statement is compiled once for both threads.
        """
        if self.url.engine == "sqlite" and not self.memory:
            upgrade_legacy_file(self.url.address)
        engine = make_engine(self.url, connections=1 if self.memory else 2)
        try:
            with engine.connect() as db:
                migrate(db)
        except BaseException:
            engine.dispose()
            raise
        return engine

    async def write(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn(db, *args, **kwargs)`` on the writer thread, in a transaction of its own.

        A call of a write that has a grouped form, given one argument, may share its transaction
        with other calls of it that waited for the writer too; its answer is its own.
        """
        if self._engine is None:
            msg = "the database is closed"
            raise RuntimeError(msg)
        many = grouped_form(fn)
        if many is not None and len(args) == 1 and not kwargs:
            group = self._groups.get(fn)
            if group is None:
                group = self._groups[fn] = WriteGroup(functools.partial(self._together, fn, many))
            return cast("T", await group.submit(args[0]))
        return await self._run(
            self._writer, _in_transaction, self._engine, fn, args, kwargs, read_only=False
        )

    async def _together(
        self, one: Callable[..., Any], many: Callable[..., list[Any]], items: list[Any]
    ) -> list[Written[Any]]:
        """Write ``items`` together on the writer thread; each one's answer (or error)."""
        if self._engine is None:
            msg = "the database is closed"
            raise RuntimeError(msg)
        return await self._run(self._writer, write_together, self._engine, one, many, items)

    async def read(
        self, fn: Callable[Concatenate[Connection, P], T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run the read-only ``fn(db, *args, **kwargs)`` on the reader thread."""
        if self._engine is None:
            msg = "the database is closed"
            raise RuntimeError(msg)
        return await self._run(
            self._reader, _in_transaction, self._engine, fn, args, kwargs, read_only=not self.memory
        )

    async def write_retrying(
        self,
        fn: Callable[Concatenate[Connection, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Like :meth:`write`, tried again after :data:`RETRY_DELAYS` while the database is busy.

        For a write that must not be lost, such as recording an SMS Mobizon already took.
        Any other error, or the lock still held after the last attempt, is raised.
        """
        for delay in RETRY_DELAYS:
            try:
                return await self.write(fn, *args, **kwargs)
            except Exception as err:
                if not is_busy(err):
                    raise
                logger.warning(
                    "database locked; write tried again",
                    extra={"write": getattr(fn, "__name__", "?"), "retry_in": delay},
                )
            await asyncio.sleep(delay)
        return await self.write(fn, *args, **kwargs)

    async def close(self) -> None:
        """Close the connections on the writer thread, then stop the threads."""
        if self._engine is not None:
            await self._run(self._writer, self._engine.dispose)
        self._engine = None
        self._reader.shutdown(wait=False)
        self._writer.shutdown(wait=False)

    @staticmethod
    async def _run(
        executor: ThreadPoolExecutor, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, functools.partial(fn, *args, **kwargs))


def _in_transaction(
    engine: Engine,
    fn: Callable[..., T],
    args: tuple[object, ...],
    kwargs: dict[str, object],
    *,
    read_only: bool,
) -> T:
    """Run ``fn`` on a connection of ``engine``; commit what it left open when it returns.

    A storage function commits its own transaction; what it raises rolls back only what it left
    uncommitted (:func:`storage.claims.record_sent` commits a settlement, then raises). A reader's
    connection begins its transactions deferred (:data:`~storage.engine.READ_ONLY`).
    """
    with engine.connect() as db:
        if read_only:
            db.execution_options(**{READ_ONLY: True})
        result = fn(db, *args, **kwargs)
        if db.in_transaction():
            db.commit()
        return result
