"""Connecting to the database, SQLite or PostgreSQL, and the transactions every query runs in.

One database URL names the engine (``SMSBOT_DATABASE_URL``):

- ``sqlite:///path/smsbot.db`` (or a plain path): a file in WAL mode. Each write transaction
  starts with ``BEGIN IMMEDIATE``, so a read-then-write never fails half way on a lock another
  process took in between; it waits up to :data:`BUSY_TIMEOUT_MS` instead. ``sqlite://`` (or
  ``:memory:``) is a private in-memory database (tests).
- ``postgresql://…``: any libpq URI, handed to psycopg 3 as written (a Unix socket as
  ``?host=/var/run/postgresql``, several hosts, ``sslmode``…). A row lock is waited for up to
  the same bound (``lock_timeout``).

Every storage function takes a SQLAlchemy :class:`~sqlalchemy.engine.Connection` and runs in
the transaction open on it, or in one of its own (:func:`transactional`), so a function called
alone commits, and functions called inside :func:`write_transaction` commit together.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, Dialect, Engine, Table, create_engine, event, exc, pool, util
from sqlalchemy.dialects import sqlite

from storage.url import DatabaseUrl, DatabaseUrlError, EngineName, parse_database_url

P = ParamSpec("P")
T = TypeVar("T")
#: A value an ``IN`` list holds: an id or a name.
K = TypeVar("K", int, str)

#: Milliseconds a writer waits for another connection's lock before giving up: long enough for
#: another process's short writes, short enough that a ``/sms send`` whose claim cannot be
#: written is refused ("not sent, try again") within a few seconds.
BUSY_TIMEOUT_MS = 3000

#: Seconds a pooled PostgreSQL connection may sit unused before its next use pings the server
#: first. A connection in steady use (a burst's claims, a poll cycle) is not pinged: a ping is a
#: round trip, a fifth of a claim's. One idle for longer is (a server restarted, a proxy that
#: closes idle connections): when the ping fails, the pool connects afresh instead.
PING_AFTER_IDLE = 1.0

#: A connection, as every storage function takes it (its first argument).
Database = Connection

__all__ = [
    "BUSY_TIMEOUT_MS",
    "READ_ONLY",
    "Database",
    "DatabaseUrl",
    "DatabaseUrlError",
    "EngineName",
    "chunks",
    "dialect_insert",
    "is_busy",
    "make_engine",
    "parse_database_url",
    "reading",
    "transactional",
    "write_transaction",
]

#: SQLSTATEs of PostgreSQL errors that mean "another transaction held what this one needed":
#: lock_not_available, serialization_failure, deadlock_detected. Trying again is safe.
_PG_BUSY_STATES = frozenset({"55P03", "40001", "40P01"})

#: The execution option that marks a connection as a reader's: on SQLite its transactions begin
#: deferred (a read never waits for a writer in WAL mode), not with the write lock.
READ_ONLY = "smsbot_read_only"


def make_engine(url: DatabaseUrl, *, keep: bool = True, connections: int = 1) -> Engine:
    """An engine for ``url`` of at most ``connections`` connections.

    With ``keep`` the connections stay open between uses (a :class:`~storage.store.Store`'s
    threads); without, closing a connection closes it. A connection given the :data:`READ_ONLY`
    execution option begins its SQLite transactions deferred.
    """
    if url.engine == "postgresql":
        engine = _postgres_engine(url, keep=keep, connections=connections)
    else:
        engine = _sqlite_engine(url, keep=keep, connections=connections)
    _share_compiled_sql(engine)
    return engine


#: Per engine kind: the first engine's dialect, once it has connected, and the SQL compiled for
#: it. Every later engine of the kind uses both, so a statement is compiled once per process,
#: not once per engine (a process that opens many databases, like the test suite, otherwise
#: compiles each statement again for each).
_SHARED: dict[str, tuple[Dialect, util.LRUCache[Any, Any]]] = {}
_SHARED_LOCK = threading.Lock()


def _share_compiled_sql(engine: Engine) -> None:
    name = engine.dialect.name
    shared = False

    @event.listens_for(engine, "connect")
    def _after_first_connect(_dbapi_connection: object, _record: object) -> None:
        nonlocal shared
        if shared:
            return
        shared = True
        # the engine's own dialect is set up by now (its first connection initialised it)
        with _SHARED_LOCK:
            dialect, cache = _SHARED.setdefault(name, (engine.dialect, util.LRUCache(1000)))
        engine.dialect = dialect
        engine.update_execution_options(compiled_cache=cache)


def _pool_options(*, keep: bool, connections: int) -> dict[str, Any]:
    if keep:
        return {"poolclass": pool.QueuePool, "pool_size": connections, "max_overflow": 0}
    return {"poolclass": pool.NullPool}


def _sqlite_engine(url: DatabaseUrl, *, keep: bool, connections: int) -> Engine:
    if url.memory:
        # one connection shared by every use, so the database lives as long as the engine
        engine = create_engine(
            "sqlite://",
            poolclass=pool.StaticPool,
            connect_args={"check_same_thread": False},
        )
    else:
        engine = create_engine(
            f"sqlite:///{url.address}",
            **_pool_options(keep=keep, connections=connections),
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # the driver's own implicit transactions off: this module says when a transaction begins
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        if not url.memory:
            _enable_wal(cursor)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")

    return engine


def _enable_wal(cursor: sqlite3.Cursor) -> None:
    """Put the file in WAL mode (once per file; a no-op after), waiting out other openers.

    Switching needs the file to itself, and SQLite answers "locked" at once rather than wait
    when another connection opens it at the same moment (processes starting together).
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as err:
            if not is_busy(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
        else:
            return


def _postgres_engine(url: DatabaseUrl, *, keep: bool, connections: int) -> Engine:
    import psycopg  # noqa: PLC0415  # loaded only for PostgreSQL
    from psycopg.types.array import ListBinaryDumper  # noqa: PLC0415  # as psycopg

    def connect() -> psycopg.Connection[Any]:
        connection = psycopg.connect(url.address)
        # lists (the array parameters of batch writes, storage.arrays) go in PostgreSQL's binary
        # format: no element quoted and escaped in Python, as the text format does
        connection.adapters.register_dumper(list, ListBinaryDumper)
        with connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = {BUSY_TIMEOUT_MS:d}")
            cursor.execute("SET TIME ZONE 'UTC'")
        connection.commit()
        return connection

    # the libpq URI goes to psycopg as written: every form libpq takes works, and the password
    # never passes through SQLAlchemy's URL (its repr, its errors)
    engine = create_engine(
        "postgresql+psycopg://",
        creator=connect,
        **_pool_options(keep=keep, connections=connections),
    )
    if keep:
        _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection as it is taken, when it sat unused for :data:`PING_AFTER_IDLE`.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout. A dead connection found by the ping
    is replaced (the pool connects afresh, as its ``checkout`` event's contract says); one that
    dies while in use fails that one operation and has the pool's other connections replaced.
    """

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: object, record: pool.ConnectionPoolEntry) -> None:
        record.info["returned"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(
        dbapi_connection: Any,  # noqa: ANN401  # the driver's connection
        record: pool.ConnectionPoolEntry,
        _proxy: object,
    ) -> None:
        returned = record.info.get("returned")
        if returned is None or time.monotonic() - returned < PING_AFTER_IDLE:
            return  # just connected, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.DisconnectionError from error
            raise


def transactional(
    fn: Callable[Concatenate[Connection, P], T],
) -> Callable[Concatenate[Connection, P], T]:
    """Run a storage function in the transaction open on its connection, or in its own.

    Called alone it commits (or rolls back on an exception); called inside another storage
    function or :func:`write_transaction`, it is part of that transaction.
    """

    @functools.wraps(fn)
    def run(db: Connection, /, *args: P.args, **kwargs: P.kwargs) -> T:
        if db.in_transaction():
            return fn(db, *args, **kwargs)
        with db.begin():
            return fn(db, *args, **kwargs)

    return run


def reading(fn: Callable[Concatenate[Connection, P], T]) -> Callable[Concatenate[Connection, P], T]:
    """Like :func:`transactional`, for a function that only reads.

    The transaction it opens begins deferred on SQLite (:data:`READ_ONLY`), so a read never
    takes the write lock: in WAL mode it waits for no writer, and no writer waits for it.
    """

    @functools.wraps(fn)
    def run(db: Connection, /, *args: P.args, **kwargs: P.kwargs) -> T:
        if db.in_transaction():
            return fn(db, *args, **kwargs)
        previous = db.get_execution_options().get(READ_ONLY, False)
        db.execution_options(**{READ_ONLY: True})
        try:
            transaction = db.begin()
        finally:
            db.execution_options(**{READ_ONLY: previous})
        with transaction:
            return fn(db, *args, **kwargs)

    return run


@contextmanager
def write_transaction(db: Connection) -> Iterator[Connection]:
    """Run the block as one transaction; inside an open one, as a savepoint.

    On SQLite it holds the write lock from its first statement (``BEGIN IMMEDIATE``), so a
    read-then-write sees the latest data instead of failing on a lock taken in between.
    """
    if db.in_transaction():
        with db.begin_nested():
            yield db
        return
    with db.begin():
        yield db


def is_busy(error: BaseException) -> bool:
    """True when another connection held what a statement needed past the wait allowed.

    SQLite's "database is locked" (or busy), PostgreSQL's lock timeout, serialization failure
    or deadlock: the write may be tried again.
    """
    original = error.orig if isinstance(error, exc.DBAPIError) else error
    if isinstance(original, sqlite3.OperationalError):
        text = str(original).lower()
        return "locked" in text or "busy" in text
    # psycopg's errors carry their SQLSTATE (psycopg is only loaded once PostgreSQL is used)
    if type(original).__module__.startswith("psycopg"):
        return getattr(original, "sqlstate", None) in _PG_BUSY_STATES
    return False


def dialect_insert(db: Connection | str, table: Table) -> sqlite.Insert:
    """An ``INSERT`` into ``table`` in ``db``'s dialect (or one named), knowing ``ON CONFLICT``.

    Typed as SQLite's: PostgreSQL's has the same ``on_conflict_do_*`` and ``excluded``.
    """
    name = db if isinstance(db, str) else db.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects import postgresql  # noqa: PLC0415  # only with PostgreSQL

        return postgresql.insert(table)  # type: ignore[return-value]  # same interface
    return sqlite.insert(table)


def chunks(values: Iterable[K], size: int = 500) -> Iterator[list[K]]:
    """``values`` sorted and without repeats, ``size`` at a time: bounded ``IN`` lists."""
    ordered = sorted(set(values))
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]
