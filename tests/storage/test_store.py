"""The Store: storage functions run on its threads, reads pass a blocked writer, locked writes retry."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import exc

import storage.store
from storage import claims, messages, records
from storage.engine import Database
from storage.schema import open_database
from storage.store import Store, is_busy
from testkit.database import run_sql

CLAIM: dict[str, Any] = {
    "team_id": "T1",
    "channel_id": "C1",
    "user_id": "U1",
    "response_url": None,
    "recipient": "5511987654321",
    "text": "hello",
    "sender": None,
    "segments": 1,
    "encoding": "GSM-7",
    "name": None,
    "deferred_to": None,
    "validity": None,
    "flash": False,
}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A store on a fresh database file."""
    opened = await Store.open(tmp_path / "store.db")
    yield opened
    await opened.close()


@contextmanager
def write_lock(path: str) -> Iterator[threading.Event]:
    """Another connection holds the write lock until the yielded event is set."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        locked.set()
        release.wait(30)
        conn.execute("ROLLBACK")
        conn.close()

    holder = threading.Thread(target=hold)
    holder.start()
    locked.wait(10)
    try:
        yield release
    finally:
        release.set()
        holder.join()


def thread_id(_db: Database) -> int:
    """The thread a storage call runs on."""
    return threading.get_ident()


async def test_calls_run_on_the_stores_threads_not_the_event_loops(store: Store) -> None:
    """Reads and writes run on threads of their own, never on the event loop's thread."""
    loop_thread = threading.get_ident()
    writer, reader = await store.write(thread_id), await store.read(thread_id)
    assert loop_thread not in (writer, reader)
    assert writer != reader
    assert await store.write(thread_id) == writer  # one writer thread: writes are serialised


async def test_a_read_passes_a_write_waiting_for_the_lock(store: Store) -> None:
    """While a write waits for another process's lock, a read on the read connection answers."""
    with write_lock(store.path) as release:
        waiting = asyncio.create_task(
            store.write(claims.claim_send, claims.NewSend(trigger_id="t1", **CLAIM))
        )
        counts = await store.read(messages.count_by_state)
        assert not waiting.done()  # the writer is still blocked ...
        assert counts["claimed"] == 0  # ... and the read was answered meanwhile
        release.set()
        claimed = await waiting
    assert claimed is not None
    assert (await store.read(messages.count_by_state))["claimed"] == 1


async def test_a_locked_write_fails_with_a_busy_error(store: Store) -> None:
    """A write that cannot get the lock within the busy timeout raises "database is locked"."""
    await store.write(lambda db: db.exec_driver_sql("PRAGMA busy_timeout = 50"))
    with write_lock(store.path), pytest.raises(exc.OperationalError) as raised:
        await store.write(claims.claim_send, claims.NewSend(trigger_id="t1", **CLAIM))
    assert is_busy(raised.value)
    assert not is_busy(sqlite3.OperationalError("no such table: sms"))


async def test_write_retrying_outlasts_a_lock(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """write_retrying tries again while the lock is held and succeeds once it is released."""
    await store.write(lambda db: db.exec_driver_sql("PRAGMA busy_timeout = 20"))
    monkeypatch.setattr(storage.store, "RETRY_DELAYS", (0.05,) * 200)
    with write_lock(store.path) as release:
        task = asyncio.create_task(
            store.write_retrying(claims.claim_send, claims.NewSend(trigger_id="t1", **CLAIM))
        )
        await asyncio.sleep(0.3)  # several attempts fail meanwhile
        assert not task.done()
        release.set()
        claimed = await task
    assert claimed is not None
    assert claimed.state is records.SendState.CLAIMED


def test_a_read_takes_no_write_lock_on_any_connection(tmp_path: Path) -> None:
    """A storage read on a writer's connection answers while another process holds the write lock."""
    path = str(tmp_path / "reads.db")
    db = open_database(path)
    try:
        claims.claim_send(db, claims.NewSend(trigger_id="t1", **CLAIM))
        run_sql(db, "PRAGMA busy_timeout = 50")
        with write_lock(path):
            assert messages.count_by_state(db)["claimed"] == 1  # no wait, no "locked"
            with pytest.raises(exc.OperationalError, match="locked"):
                claims.claim_send(db, claims.NewSend(trigger_id="t2", **CLAIM))
    finally:
        db.close()
