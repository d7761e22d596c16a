"""Claims written together: each caller gets its own answer, a duplicate key is refused alone.

A burst of ``/sms send`` claims while the writer is busy is written in one transaction
(:mod:`storage.grouped`); none of the promises of one claim alone is weakened by it.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import event, exc

from storage import claims
from storage.claiming import (
    OptedOutNumber,
    claim_send,
    claim_send_unless_opted_out,
    claim_sends,
    claim_sends_unless_opted_out,
)
from storage.messages import count_by_state, get_sms
from storage.optouts import add_optout, remove_optout
from storage.store import Store
from testkit.claims import new_send
from testkit.database import run_sql
from tests import postgres
from tests.conftest import copy_migrated
from tests.storage.conftest import T0

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from storage.engine import Database


def keys(db: Database) -> list[str]:
    """The claimed keys, in the order of their rows."""
    return [row["trigger_id"] for row in run_sql(db, "SELECT trigger_id FROM sms ORDER BY id")]


def test_a_batch_records_all_but_a_duplicate_which_alone_is_refused(db: Database) -> None:
    """In one batch, a key claimed before is refused (None); every other row is recorded."""
    assert claim_send(db, new_send("old"), now=T0) is not None
    answers = claim_sends(db, [new_send("a"), new_send("old"), new_send("b")], now=T0)
    assert [None if a is None else a.trigger_id for a in answers] == ["a", None, "b"]
    assert keys(db) == ["old", "a", "b"]
    for answer in answers:
        assert answer is None or answer == get_sms(db, answer.id)  # the whole row, as stored


def test_a_claims_record_is_its_row_as_stored_with_every_field_given(db: Database) -> None:
    """The record a claim answers (built from what it wrote) equals its row read back, field by field."""
    given = new_send(
        "full",
        response_url="https://hooks.slack.com/commands/T1/1/x",
        sender="ACME",
        segments=2,
        encoding="UCS-2",
        length=90,
        name="spring",
        deferred_to="2026-12-24 09:30:00",
        validity=720,
        flash=True,
        sandbox=True,
        shorten_links=True,
        claimed_by="replica-1",
    )
    (claimed,) = claim_sends(db, [given], now=T0)
    assert claimed is not None
    assert claimed == get_sms(db, claimed.id)
    assert (claimed.flash, claimed.sandbox, claimed.shorten_links) == (True, True, True)
    assert claimed.deferred_to == "2026-12-24 09:30:00"


def test_a_key_twice_in_one_batch_is_claimed_by_its_first(db: Database) -> None:
    """A key given twice in a batch is one row, the first's: the second is told it is a duplicate."""
    answers = claim_sends(db, [new_send("x"), new_send("x", text="second"), new_send("y")], now=T0)
    assert answers[0] is not None
    assert answers[0].text == "text of x"
    assert answers[1] is None
    assert answers[2] is not None
    assert keys(db) == ["x", "y"]
    assert claim_sends(db, [], now=T0) == []


@pytest.fixture
async def store(
    engine: str, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Store]:
    """A store on a migrated, empty database of ``engine``."""
    if engine == "sqlite":
        copy_migrated(request.getfixturevalue("migrated_sqlite"), tmp_path / "claims.db")
        url = f"sqlite:///{tmp_path / 'claims.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        postgres.empty_tables(url)
    opened = await Store.open(url)
    yield opened
    await opened.close()


class Writer:
    """Holds the store's writer thread busy until released, counting the commits meanwhile."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.commits = 0
        self.started, self.release = threading.Event(), threading.Event()

    def _hold(self, _db: Database) -> None:
        self.started.set()
        self.release.wait(30)

    def _count(self, _connection: object) -> None:
        self.commits += 1

    async def busy(self) -> asyncio.Task[None]:
        """Start a write that blocks the writer; the claims asked next queue behind it."""
        task = asyncio.create_task(self.store.write(self._hold))
        await asyncio.to_thread(self.started.wait, 10)
        assert self.store._engine is not None
        event.listen(self.store._engine, "commit", self._count)
        return task


async def test_claims_waiting_for_the_writer_go_in_one_transaction(store: Store) -> None:
    """Claims asked while the writer is busy are written together, each told its own answer."""
    assert await store.write(claims.claim_send, new_send("old")) is not None
    writer = Writer(store)
    holding = await writer.busy()
    asked = [new_send(f"k{i}") for i in range(20)] + [new_send("old"), new_send("k3")]
    answers = [asyncio.create_task(store.write(claims.claim_send, one)) for one in asked]
    await asyncio.sleep(0.05)
    assert not any(answer.done() for answer in answers)  # all wait for the writer
    writer.release.set()
    await holding
    got = await asyncio.gather(*answers)
    assert [None if g is None else g.trigger_id for g in got] == [f"k{i}" for i in range(20)] + [
        None,
        None,
    ]
    # asked while the writer was busy, they were written in one transaction when it was free
    assert writer.commits == 1
    assert (await store.read(count_by_state))["claimed"] == 21


async def test_a_claim_the_database_refuses_fails_alone(store: Store) -> None:
    """A row the database refuses fails its own caller only; the claims written with it stand."""
    writer = Writer(store)
    holding = await writer.busy()
    asked = [new_send("a"), new_send("b"), new_send("bad", channel_id=None), new_send("c")]
    answers = [
        asyncio.create_task(store.write(claims.claim_send, one), name=one.trigger_id)
        for one in asked
    ]
    await asyncio.sleep(0.05)
    writer.release.set()
    await holding
    got = await asyncio.gather(*answers, return_exceptions=True)
    assert isinstance(got[2], exc.IntegrityError)
    assert [getattr(g, "trigger_id", None) for g in got] == ["a", "b", None, "c"]
    assert (await store.read(count_by_state))["claimed"] == 3


def test_one_claim_alone_is_one_insert_in_one_transaction(db: Database) -> None:
    """A claim alone costs one insert, its row returned by it (no read after), and is committed."""
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement.split(maxsplit=1)[0].upper())

    event.listen(db, "before_cursor_execute", seen)
    assert claim_send(db, new_send("solo"), now=T0) is not None
    assert not db.in_transaction()
    assert [s for s in statements if s != "BEGIN"] == ["INSERT"]


async def test_a_claim_whose_caller_stopped_waiting_is_not_written(store: Store) -> None:
    """A claim still queued when its caller is cancelled is dropped; the others are written."""
    writer = Writer(store)
    holding = await writer.busy()
    first = asyncio.create_task(store.write(claims.claim_send, new_send("first")))
    await asyncio.sleep(0.05)  # its turn has gone to the writer, behind the busy write
    queued = [asyncio.create_task(store.write(claims.claim_send, new_send(k))) for k in "abc"]
    await asyncio.sleep(0.05)
    queued[1].cancel()
    writer.release.set()
    await holding
    assert await first is not None
    assert [getattr(await queued[i], "trigger_id", None) for i in (0, 2)] == ["a", "c"]
    assert queued[1].cancelled()
    assert sorted(await store.read(keys)) == ["a", "c", "first"]


LISTED = "5511912340000"


def test_a_send_to_a_listed_number_claims_nothing_and_leaves_its_key_free(db: Database) -> None:
    """In a batch, a number on the opt-out list is refused and unwritten; the others are claimed."""
    add_optout(db, recipient=LISTED, user_id="U1")
    asked = [new_send("a"), new_send("out", recipient=LISTED), new_send("b")]
    answers = claim_sends_unless_opted_out(db, asked, now=T0)
    assert answers[1] == OptedOutNumber(LISTED)
    assert [getattr(a, "trigger_id", None) for a in answers] == ["a", None, "b"]
    assert keys(db) == ["a", "b"]
    remove_optout(db, recipient=LISTED)
    again = claim_send_unless_opted_out(db, new_send("out", recipient=LISTED), now=T0)
    assert getattr(again, "trigger_id", None) == "out"  # its key was not taken by the refusal


def test_the_list_is_read_before_the_duplicate_key(db: Database) -> None:
    """A key claimed before, its number listed since: told opted out, as the list comes first."""
    assert claim_send_unless_opted_out(db, new_send("k", recipient=LISTED), now=T0) is not None
    add_optout(db, recipient=LISTED, user_id="U1")
    answer = claim_send_unless_opted_out(db, new_send("k", recipient=LISTED), now=T0)
    assert answer == OptedOutNumber(LISTED)
    assert claim_sends_unless_opted_out(db, [], now=T0) == []


async def test_checked_claims_waiting_for_the_writer_go_in_one_transaction(store: Store) -> None:
    """Checked claims asked while the writer is busy are one transaction, each its own answer."""
    await store.write(add_optout, recipient=LISTED, user_id="U1")
    writer = Writer(store)
    holding = await writer.busy()
    asked = [new_send("a"), new_send("out", recipient=LISTED), new_send("b"), new_send("a")]
    answers = [
        asyncio.create_task(store.write(claims.claim_send_unless_opted_out, one)) for one in asked
    ]
    await asyncio.sleep(0.05)
    assert not any(answer.done() for answer in answers)  # all wait for the writer
    writer.release.set()
    await holding
    got = await asyncio.gather(*answers)
    assert got[1] == OptedOutNumber(LISTED)
    assert [getattr(g, "trigger_id", None) for g in got] == ["a", None, "b", None]
    assert writer.commits == 1
    assert (await store.read(count_by_state))["claimed"] == 2
