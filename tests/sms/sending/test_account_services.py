"""The domain's services besides sending: cancel, statuses, find, balance and templates.

Each runs over a real database and the Mobizon client against the simulator on loopback, and
answers with a value; what it writes goes through storage as the listeners' did.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.mobizon import ListCriteria, MobizonClient, OutgoingSms
from bot.simulator import MobizonSimulator
from bot.sms.sending.account import AccountServices, account_services
from bot.sms.sending.balance import BalanceFound, BalanceUnknown
from bot.sms.sending.cancel import AlreadyCancelled, Cancelled, NotOurs, NotYours, TooLate
from bot.sms.sending.lookups import AllHidden, Found, LookupFailed, NoneSentHere, Statuses
from bot.sms.sending.outcomes import NotAllowed, Sent
from bot.sms.sending.service import SendService
from bot.sms.sending.templates import (
    TemplateAdded,
    TemplateRemoved,
    TemplateTaken,
    TemplateUnknown,
)
from bot.sms.sending.types import Origin, Surface, UnrecordedSends
from storage import delivery, messages, outbox, templates
from storage.records import SmsRecord
from storage.store import Store
from tests.conftest import MOBIZON_KEY

NUMBER = "5511987654321"


class Wakes:
    """Counts the notifier's wake-ups."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        """One more."""
        self.count += 1


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A database as the app opens it."""
    opened = await Store.open(tmp_path / "account.db")
    yield opened
    await opened.close()


@pytest.fixture
async def client(simulator: tuple[MobizonSimulator, str]) -> AsyncIterator[MobizonClient]:
    """The Mobizon client against the simulator on loopback; its retries' backoff is not waited."""
    async with MobizonClient(MOBIZON_KEY, base_url=simulator[1], sleep=no_backoff) as opened:
        yield opened


async def no_backoff(_seconds: float) -> None:
    """Between two attempts, only let the other tasks run (the delay itself proves nothing here)."""
    await asyncio.sleep(0)


@pytest.fixture
def wakes() -> Wakes:
    """The notifier's wake-ups, counted."""
    return Wakes()


@pytest.fixture
def services(store: Store, client: MobizonClient, wakes: Wakes) -> AccountServices:
    """The services as the process builds them: U1 and U9 may send, U9 cancels anyone's SMS."""
    return account_services(
        store,
        client,
        may_send=lambda user: user in {"U1", "U9"},
        allowed_users=frozenset({"U9"}),
        zone=UTC,
        wake_notifier=wakes,
    )


async def send(
    store: Store,
    client: MobizonClient,
    *,
    key: str,
    channel: str = "C1",
    at: datetime | None = None,
) -> SmsRecord:
    """Send one SMS through the send service (scheduled ``at``, a wall time) and return it."""
    sent = await SendService(store, client, unrecorded=UnrecordedSends()).send(
        OutgoingSms(NUMBER, "hello", schedule=at),
        Origin("T1", channel, "U1", Surface.SLASH_COMMAND, key),
    )
    assert isinstance(sent, Sent)
    assert sent.sms.message_id is not None
    return sent.sms


async def test_a_cancel_deletes_records_and_wakes_the_notifier(
    store: Store,
    client: MobizonClient,
    services: AccountServices,
    wakes: Wakes,
    sim: MobizonSimulator,
) -> None:
    """A scheduled SMS is deleted at Mobizon, recorded cancelled (its post's edit queued), once."""
    at = (sim.now() + timedelta(days=2)).replace(microsecond=0, tzinfo=None)
    sms = await send(store, client, key="k", at=at)
    message_id = sms.message_id or 0
    now = at.replace(tzinfo=UTC) - timedelta(days=1)
    cancels = services.cancels
    assert await cancels.cancel(message_id, "U2", now=now) == NotYours(message_id, "U1")
    assert await cancels.cancel(12345, "U1", now=now) == NotOurs(12345)
    assert await cancels.cancel(message_id, "U1", now=now) == Cancelled(message_id)
    assert sum(r.method == "delete" for r in sim.requests) == 1
    assert wakes.count == 1
    row = await store.read(messages.get_by_message_id, message_id)
    assert row is not None
    assert (row.cancelled_by, row.status, row.is_pending) == ("U1", "DELETED", False)
    assert any(n.message_id == message_id for n in await store.read(outbox.due_notifications))
    again = await cancels.cancel(message_id, "U9", now=now)
    assert again == AlreadyCancelled(message_id, "U1")
    assert sum(r.method == "delete" for r in sim.requests) == 1


async def test_a_refused_delete_is_told_and_wakes_nobody(
    store: Store,
    client: MobizonClient,
    services: AccountServices,
    wakes: Wakes,
    sim: MobizonSimulator,
) -> None:
    """Mobizon refusing the delete is TooLate; nothing is recorded, the claim is released."""
    at = (sim.now() + timedelta(days=2)).replace(microsecond=0, tzinfo=None)
    sms = await send(store, client, key="k", at=at)
    message_id = sms.message_id or 0
    sim.fail_next("campaign/delete", code=10)
    now = at.replace(tzinfo=UTC) - timedelta(days=1)
    assert await services.cancels.cancel(message_id, "U1", now=now) == TooLate(message_id)
    row = await store.read(messages.get_by_message_id, message_id)
    assert row is not None
    assert (row.cancelled_by, row.cancelling_by) == (None, None)
    assert wakes.count == 0


async def test_statuses_apply_what_mobizon_says_as_a_command(
    store: Store,
    client: MobizonClient,
    services: AccountServices,
    wakes: Wakes,
    sim: MobizonSimulator,
) -> None:
    """A status learned by asking is applied (source "command"), its edit queued, once."""
    sms = await send(store, client, key="k")
    message_id = sms.message_id or 0
    sim.set_status(message_id, "DELIVRD")
    found = await services.lookups.statuses(
        [message_id], team_id="T1", channel_id="C1", anywhere=True
    )
    assert isinstance(found, Statuses)
    assert [s.status for s in found.found] == ["DELIVRD"]
    assert message_id in found.settled
    stored = await store.read(messages.get_by_message_id, message_id)
    assert stored is not None
    assert (stored.status, stored.is_pending) == ("DELIVRD", False)
    history = await store.read(delivery.status_history, message_id)
    assert (history[-1].status, history[-1].source) == ("DELIVRD", "command")
    assert wakes.count == 1
    # asked again: nothing moves forward, nothing is written, nobody is woken
    await services.lookups.statuses([message_id], team_id="T1", channel_id="C1", anywhere=True)
    assert len(await store.read(delivery.status_history, message_id)) == len(history)
    assert wakes.count == 1


async def test_statuses_hide_other_channels_and_show_the_latest(
    store: Store, client: MobizonClient, services: AccountServices, sim: MobizonSimulator
) -> None:
    """Others' channels are hidden; no ids is the channel's latest; none sent, NoneSentHere."""
    here = await send(store, client, key="a", channel="C1")
    there = await send(store, client, key="b", channel="C2")
    lookups = services.lookups
    hidden = await lookups.statuses(
        [there.message_id or 0], team_id="T1", channel_id="C1", anywhere=False
    )
    assert hidden == AllHidden((there.message_id or 0,))
    latest = await lookups.statuses([], team_id="T1", channel_id="C1", anywhere=False)
    assert isinstance(latest, Statuses)
    assert latest.latest
    assert [s.id for s in latest.found] == [here.message_id]
    nothing = await lookups.statuses([], team_id="T1", channel_id="C9", anywhere=False)
    assert nothing == NoneSentHere()
    sim.fail_next("message/getsmsstatus", code=999, times=10)
    failed = await lookups.statuses(
        [here.message_id or 0], team_id="T1", channel_id="C1", anywhere=True
    )
    assert isinstance(failed, LookupFailed)


async def test_find_is_the_gateway_search_with_our_records(
    store: Store, client: MobizonClient, services: AccountServices, sim: MobizonSimulator
) -> None:
    """A search answers Mobizon's page, with smsbot's records of its SMS; a failure is a value."""
    sms = await send(store, client, key="k")
    found = await services.lookups.find(
        ListCriteria(recipient="5511"), page=0, page_size=25, sort=None
    )
    assert isinstance(found, Found)
    assert [i.id for i in found.page.items] == [sms.message_id]
    assert list(found.settled) == [sms.message_id]
    sim.fail_next("message/list", code=999, times=10)
    failed = await services.lookups.find(ListCriteria(), page=0, page_size=25, sort=None)
    assert isinstance(failed, LookupFailed)


async def test_balance_adds_costs_and_keeps_those_of_final_sms(
    store: Store,
    client: MobizonClient,
    services: AccountServices,
    wakes: Wakes,
    sim: MobizonSimulator,
) -> None:
    """The balance and the costs; a final SMS's cost is kept (its edit queued), asked once."""
    sim.set_pricing("0.25", "BRL")
    sim.set_balance("100")
    final = await send(store, client, key="a")
    pending = await send(store, client, key="b")
    sim.set_status(final.message_id or 0, "DELIVRD")
    await services.lookups.statuses(
        [final.message_id or 0], team_id="T1", channel_id="C1", anywhere=True
    )
    woken = wakes.count
    found = await services.balance.balance()
    assert isinstance(found, BalanceFound)
    assert (found.balance.amount, found.balance.currency) == (Decimal("99.50"), "BRL")
    assert (found.today, found.last_week, found.costs_error) == (
        Decimal("0.50"),
        Decimal("0.50"),
        None,
    )
    kept = await store.read(messages.get_by_message_id, final.message_id or 0)
    assert kept is not None
    assert (Decimal(kept.cost or "0"), kept.currency) == (Decimal("0.25"), "BRL")
    left = await store.read(messages.get_by_message_id, pending.message_id or 0)
    assert left is not None
    assert left.cost is None
    assert wakes.count == woken + 1
    lists = sum(r.method == "list" for r in sim.requests)
    again = await services.balance.balance()
    assert isinstance(again, BalanceFound)
    assert again.last_week == Decimal("0.50")
    # only the pending SMS's cost is asked again: one request, not a page per SMS
    assert sum(r.method == "list" for r in sim.requests) == lists + 1


async def test_balance_unknown_is_a_value(services: AccountServices, sim: MobizonSimulator) -> None:
    """Mobizon not stating the balance is BalanceUnknown, carrying its error."""
    sim.fail_next("user/getownbalance", code=999, times=10)
    assert isinstance(await services.balance.balance(), BalanceUnknown)


async def test_templates_are_saved_and_removed_by_who_may_send(
    store: Store, services: AccountServices
) -> None:
    """Saving and removing answer each case; someone who may not send changes nothing."""
    keeping = services.templates
    add = {"team_id": "T1", "name": "ready", "text": "Hi"}
    assert await keeping.add(**add, user_id="U1") == TemplateAdded("ready")
    assert await keeping.add(**add, user_id="U1") == TemplateTaken("ready")
    assert await keeping.remove(team_id="T1", name="ready", user_id="U2") == NotAllowed("U2")
    assert [t.name for t in await store.read(templates.list_templates, team_id="T1")] == ["ready"]
    assert await keeping.remove(team_id="T1", name="ready", user_id="U1") == TemplateRemoved(
        "ready"
    )
    assert await keeping.remove(team_id="T1", name="ready", user_id="U1") == TemplateUnknown(
        "ready"
    )
    assert await keeping.add(**add, user_id="U2") == NotAllowed("U2")
    assert await store.read(templates.list_templates, team_id="T1") == []
