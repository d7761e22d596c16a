"""The opt-out list's service and the send service's check of it, over a real database."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.mobizon import OutgoingSms
from bot.sms.sending.optouts import (
    AlreadyOptedOut,
    NotOptedOut,
    OptOutAdded,
    OptOutList,
    OptOutRemoved,
    OptOutsBusy,
    OptOutService,
)
from bot.sms.sending.outcomes import NotAllowed, NotSaved, OptedOut
from storage import messages, optouts
from storage.store import Store
from tests.sms.sending.test_service import FailingGateway, origin, service

NUMBER = "5511987654321"
OTHER = "5511912345678"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A database as the app opens it."""
    opened = await Store.open(tmp_path / "optouts.db")
    yield opened
    await opened.close()


def keeping(store: Store) -> OptOutService:
    """The service, for which only U1 may send."""
    return OptOutService(store, may_send=lambda user: user == "U1")


async def test_a_number_is_added_listed_and_removed(store: Store) -> None:
    """Add, add again, list, remove, remove again: each answered with its own value."""
    svc = keeping(store)
    assert await svc.add(recipient=NUMBER, user_id="U1") == OptOutAdded(NUMBER)
    assert await svc.add(recipient=NUMBER, user_id="U1") == AlreadyOptedOut(NUMBER)
    listed = await svc.listed(page=1, size=10, user_id="U1")
    assert isinstance(listed, OptOutList)
    assert [(e.recipient, e.added_by) for e in listed.entries] == [(NUMBER, "U1")]
    assert (listed.total, listed.pages, listed.first) == (1, 1, 1)
    assert await svc.remove(recipient=NUMBER, user_id="U1") == OptOutRemoved(NUMBER)
    assert await svc.remove(recipient=NUMBER, user_id="U1") == NotOptedOut(NUMBER)


async def test_who_may_not_send_may_not_keep_or_read_the_list(store: Store) -> None:
    """Someone the send rule refuses is NotAllowed for all three, and nothing changes."""
    svc = keeping(store)
    await svc.add(recipient=NUMBER, user_id="U1")
    assert await svc.add(recipient=OTHER, user_id="U2") == NotAllowed("U2")
    assert await svc.remove(recipient=NUMBER, user_id="U2") == NotAllowed("U2")
    assert await svc.listed(page=1, size=10, user_id="U2") == NotAllowed("U2")
    assert await store.read(optouts.is_opted_out, NUMBER)
    assert not await store.read(optouts.is_opted_out, OTHER)


async def test_pages_count_the_whole_list(store: Store) -> None:
    """25 numbers, 10 a page: three pages, the last with five, numbered from 21."""
    svc = keeping(store)
    for n in range(25):
        await svc.add(recipient=f"55119876543{n:02d}", user_id="U1")
    last = await svc.listed(page=3, size=10, user_id="U1")
    assert isinstance(last, OptOutList)
    assert (len(last.entries), last.total, last.pages, last.first) == (5, 25, 3, 21)


async def test_a_locked_database_is_told_busy(store: Store) -> None:
    """Another connection holding the write lock: adding and removing say busy, nothing changed."""
    svc = keeping(store)
    await store.write(lambda db: db.exec_driver_sql("PRAGMA busy_timeout = 50"))
    other = sqlite3.connect(store.path, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    try:
        assert await svc.add(recipient=NUMBER, user_id="U1") == OptOutsBusy(NUMBER, adding=True)
        assert await svc.remove(recipient=NUMBER, user_id="U1") == OptOutsBusy(NUMBER, adding=False)
    finally:
        other.rollback()
        other.close()
    assert not await store.read(optouts.is_opted_out, NUMBER)


async def test_a_send_to_a_number_on_the_list_is_refused_before_anything_is_written(
    store: Store,
) -> None:
    """OptedOut, the gateway never asked, no claim recorded; another number still goes on."""
    await store.write(optouts.add_optout, recipient=NUMBER, user_id="U1")
    gateway = FailingGateway(RuntimeError("must not be called"))
    svc = service(store, gateway)
    sms = OutgoingSms(NUMBER, "Sale today")
    assert await svc.send(sms, origin()) == OptedOut(sms)
    assert gateway.sends == 0
    assert sum((await store.read(messages.count_by_state)).values()) == 0
    claimed = await svc.claim(OutgoingSms(OTHER, "Sale today"), origin("trigger-2"))
    assert not isinstance(claimed, OptedOut | NotSaved)


async def test_a_number_taken_off_the_list_may_be_sent_to_again(store: Store) -> None:
    """Once removed, the same number is claimed as any other."""
    await store.write(optouts.add_optout, recipient=NUMBER, user_id="U1")
    await store.write(optouts.remove_optout, recipient=NUMBER)
    svc = service(store, FailingGateway(RuntimeError("unused")))
    claimed = await svc.claim(OutgoingSms(NUMBER, "Hi"), origin())
    assert not isinstance(claimed, OptedOut | NotSaved)
    assert (await store.read(messages.count_by_state))["claimed"] == 1
