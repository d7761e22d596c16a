"""One PostgreSQL server for the whole test run, and a database of its own for each worker.

The controller (xdist's, or the one pytest process) makes and starts the server on a thread as
the run begins (``testkit.postgres.BackgroundPostgres``): workers start meanwhile, and the first
test that needs PostgreSQL waits for it. Each worker works in its own database on it, migrated
once; a test's rows are removed before the next test (``DELETE`` on a kept connection, about a
millisecond), and a test that needs a database nobody migrated yet gets a new one.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

from storage.tables import metadata
from testkit.postgres import SUPERUSER, BackgroundPostgres, wait_for_server

if TYPE_CHECKING:
    import psycopg

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


def _cleaner(url: str) -> psycopg.Connection[Any]:
    """The kept connection of :func:`empty_tables` to ``url`` (opened at its first use)."""
    import psycopg  # noqa: PLC0415  # only once a test asks for PostgreSQL

    connection = _CLEANERS.get(url)
    if connection is None or connection.closed:
        connection = psycopg.connect(url, autocommit=True)
        _CLEANERS[url] = connection
    return connection


def _forget_cleaner(url: str) -> None:
    """Close the kept connection to ``url``, if any (before its database is dropped)."""
    connection = _CLEANERS.pop(url, None)
    if connection is not None:
        connection.close()
