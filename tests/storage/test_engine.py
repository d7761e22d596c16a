"""A pooled PostgreSQL connection: pinged after it sat unused, replaced when the ping fails."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from sqlalchemy import exc, text

import storage.engine
from storage.engine import make_engine, parse_database_url

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import Engine


@pytest.fixture
def pooled(postgres_url: str) -> Iterator[Engine]:
    """An engine of one kept connection to this worker's PostgreSQL database."""
    engine = make_engine(parse_database_url(postgres_url), keep=True, connections=1)
    yield engine
    engine.dispose()


def _server_pid(engine: Engine) -> int:
    """The server process of the connection ``engine`` gives."""
    with engine.connect() as db:
        return int(db.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(url: str, pid: int) -> None:
    """End the server process ``pid`` as an administrator (or a restart) would, and wait for it."""
    with psycopg.connect(url, autocommit=True) as admin:
        ended = admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,)).fetchone()
    assert ended == (True,)


def _count_pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Count the pings of ``engine``'s connections (once it has connected)."""
    pings: list[object] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:  # the driver's connection
        pings.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return pings


def test_a_connection_used_a_moment_ago_is_not_pinged(
    pooled: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection taken again within PING_AFTER_IDLE costs no ping: the same server process."""
    monkeypatch.setattr(storage.engine, "PING_AFTER_IDLE", 60.0)
    first = _server_pid(pooled)
    pings = _count_pings(pooled, monkeypatch)
    assert [_server_pid(pooled) for _ in range(3)] == [first] * 3
    assert pings == []


def test_a_connection_idle_longer_is_pinged_and_kept_when_alive(
    pooled: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past PING_AFTER_IDLE the next use pings first; a live connection is kept."""
    monkeypatch.setattr(storage.engine, "PING_AFTER_IDLE", 0.0)
    first = _server_pid(pooled)  # connected: the engine's dialect is the process's shared one
    pings = _count_pings(pooled, monkeypatch)
    assert _server_pid(pooled) == first
    assert len(pings) == 1


@pytest.fixture
def dropped(pooled: Engine, postgres_url: str) -> int:
    """The server process of ``pooled``'s one connection, ended while the connection sat in the pool."""
    pid = _server_pid(pooled)
    _terminate(postgres_url, pid)
    return pid


def test_a_connection_the_server_closed_while_idle_is_replaced(
    pooled: Engine, dropped: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pooled connection the server dropped fails its ping: the next use gets a new one."""
    monkeypatch.setattr(storage.engine, "PING_AFTER_IDLE", 0.0)
    assert _server_pid(pooled) != dropped


def test_without_the_ping_a_dropped_connection_fails_one_use(
    pooled: Engine, dropped: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the ping saves: a connection dropped within PING_AFTER_IDLE fails once, then heals."""
    monkeypatch.setattr(storage.engine, "PING_AFTER_IDLE", 60.0)
    with pytest.raises(exc.DBAPIError) as failed:
        _server_pid(pooled)
    assert failed.value.connection_invalidated
    assert _server_pid(pooled) != dropped
