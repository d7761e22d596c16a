"""One PostgreSQL server for the whole test run, and a database of its own for each worker.

The controller (xdist's, or the one pytest process) makes and starts the server on a thread as
the run begins (``testkit.postgres.BackgroundPostgres``): workers start meanwhile, and the first
test that needs PostgreSQL waits for it. Each worker works in its own database on it, migrated
once; a test's rows are removed before the next test (``DELETE`` on a kept connection, about a
millisecond), and a test that needs a database nobody migrated yet gets an empty one: a new one,
or one an earlier test of the worker used, emptied (:func:`take_database`, :func:`give_back`).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

from storage.engine import make_engine, parse_database_url
from storage.tables import metadata
from testkit.postgres import SUPERUSER, BackgroundPostgres, wait_for_server

if TYPE_CHECKING:
    import psycopg
    from sqlalchemy import Engine

#: Where the controller keeps its server, and the key it hands the directory to workers by.
SERVER_KEY = pytest.StashKey[BackgroundPostgres]()
WORKER_INPUT = "smsbot_postgres_directory"


def start(config: pytest.Config) -> None:
    """As the controller: start the run's server in the background."""
    config.stash[SERVER_KEY] = BackgroundPostgres()


def hand_over(config: pytest.Config, workerinput: dict[str, object]) -> None:
    """As the controller: tell a worker where the server is."""
    server = config.stash.get(SERVER_KEY, None)
    if server is not None:
        workerinput[WORKER_INPUT] = str(server.directory)


def stop(config: pytest.Config) -> None:
    """As the controller: stop the run's server."""
    server = config.stash.get(SERVER_KEY, None)
    if server is not None:
        server.stop()


def server_url(config: pytest.Config) -> str:
    """The libpq URL of the run's server's ``postgres`` database, once it accepts connections."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        directory = Path(str(workerinput[WORKER_INPUT]))
    else:
        directory = config.stash[SERVER_KEY].directory
    return wait_for_server(directory)


def database_url(server: str, name: str) -> str:
    """The URL of database ``name`` on the server at ``server``."""
    host = server.split("?host=", 1)[1]
    return f"postgresql://{SUPERUSER}@/{quote(name)}?host={host}"


def create_database(server: str, prefix: str = "t") -> str:
    """Create a new, empty database on the server; its URL."""
    import psycopg  # noqa: PLC0415  # only once a test asks for PostgreSQL
    from psycopg import sql  # noqa: PLC0415

    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url(server, name)


def drop_database(server: str, url: str) -> None:
    """Drop a database made by :func:`create_database`, ending its sessions."""
    import psycopg  # noqa: PLC0415  # only once a test asks for PostgreSQL
    from psycopg import sql  # noqa: PLC0415

    _forget_cleaner(url)
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(str(name)))
        )


#: Databases of this test process that earlier tests used and :func:`give_back` emptied.
_SPARE: list[str] = []

#: What an emptied database is made of, as ``CREATE DATABASE`` makes it: its ``public`` schema,
#: owned by the database's owner, and the system's schemas.
_EMPTIED = (
    "DROP SCHEMA IF EXISTS public CASCADE",
    "CREATE SCHEMA public AUTHORIZATION pg_database_owner",
    "GRANT USAGE ON SCHEMA public TO PUBLIC",
)

#: Anything in a database besides what ``CREATE DATABASE`` makes: then it is dropped, not reused.
_LEFT_OVER = """
SELECT (SELECT count(*) FROM pg_namespace WHERE nspname <> 'public'
            AND nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema')
     + (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public')
     + (SELECT count(*) FROM pg_db_role_setting WHERE setdatabase = (
            SELECT oid FROM pg_database WHERE datname = current_database()))
     + (SELECT count(*) FROM pg_extension WHERE extname <> 'plpgsql')
     + (SELECT count(*) FROM pg_event_trigger)
     + (SELECT count(*) FROM pg_largeobject_metadata)
"""


def take_database(server: str) -> str:
    """An empty database (no schema yet) on the server, this test's until :func:`give_back`.

    ``CREATE DATABASE`` costs the server about 0.2 CPU-s (it copies ``template1``); emptying
    one an earlier test used costs it about 0.02.
    """
    return _SPARE.pop() if _SPARE else create_database(server)


def give_back(server: str, url: str) -> None:
    """Empty ``url`` for the next test that takes one: its sessions ended, its schema dropped.

    A database that still holds anything ``CREATE DATABASE`` would not have made is dropped.
    """
    import psycopg  # noqa: PLC0415  # only once a test asks for PostgreSQL

    _forget_cleaner(url)
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in _EMPTIED:
            conn.execute(statement)
        row = conn.execute(_LEFT_OVER).fetchone()
    if row is None or row[0]:
        drop_database(server, url)
    else:
        _SPARE.append(url)


#: The connection :func:`empty_tables` uses, by database URL: one per worker's database, kept.
_CLEANERS: dict[str, psycopg.Connection[Any]] = {}


def empty_tables(url: str) -> None:
    """Remove every row of the schema's tables and restart their ids (between two tests).

    ``DELETE`` rather than ``TRUNCATE``: the tables hold a few rows, and ``TRUNCATE`` makes new
    files for every table and index (tens of milliseconds of the server's CPU at each test).
    Each id sequence restarts where ``TRUNCATE ... RESTART IDENTITY`` restarts it, its start.
    """
    from psycopg import sql  # noqa: PLC0415  # only once a test asks for PostgreSQL

    connection = _cleaner(url)
    with connection.transaction():
        for table in reversed(metadata.sorted_tables):  # rows that refer to others go first
            connection.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table.name)))
        connection.execute(
            "SELECT setval(s.seqrelid, s.seqstart, false) FROM pg_sequence s"
            " JOIN pg_class c ON c.oid = s.seqrelid"
            " WHERE c.relnamespace = current_schema()::regnamespace"
        )


#: The engine :func:`kept_engine` gives, by database URL: one per worker's database.
_KEPT: dict[str, Engine] = {}


def kept_engine(url: str) -> Engine:
    """An engine of one connection to ``url`` that stays open from test to test.

    A connection that closes as it is given back costs each test a new server process: about
    3 ms of the server's CPU to start, 8 ms with its first statement (the tables' catalog
    entries looked up again), more as the test touches more tables; a kept one has them all.
    Given back, the connection's transaction is rolled back (the pool's reset), so each test
    finds it as a new one.
    """
    engine = _KEPT.get(url)
    if engine is None:
        engine = make_engine(parse_database_url(url), keep=True)
        _KEPT[url] = engine
    return engine


def _cleaner(url: str) -> psycopg.Connection[Any]:
    """The kept connection of :func:`empty_tables` to ``url`` (opened at its first use)."""
    import psycopg  # noqa: PLC0415  # only once a test asks for PostgreSQL

    connection = _CLEANERS.get(url)
    if connection is None or connection.closed:
        connection = psycopg.connect(url, autocommit=True)
        _CLEANERS[url] = connection
    return connection


def _forget_cleaner(url: str) -> None:
    """Close the kept connections to ``url``, if any (before its database is dropped)."""
    kept = _KEPT.pop(url, None)
    if kept is not None:
        kept.dispose()
    connection = _CLEANERS.pop(url, None)
    if connection is not None:
        connection.close()
