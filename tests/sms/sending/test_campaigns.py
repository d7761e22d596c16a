"""The campaign service over the simulator: prepared, confirmed once, run once as one campaign."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import sqlalchemy as sa

from bot.mobizon import AddedRecipient, CampaignRecipient, MobizonClient, NewCampaign
from bot.simulator import (
    CAMPAIGN_ADD_RECIPIENTS,
    CAMPAIGN_CREATE,
    CAMPAIGN_DELETE,
    CAMPAIGN_SEND,
    MobizonSimulator,
    SimulatorConfig,
)
from bot.sms.sending.campaign_types import (
    AlreadyDecided,
    CampaignDuplicate,
    CampaignNotAllowed,
    CampaignNotSent,
    CampaignOptions,
    CampaignRequest,
    CampaignStarted,
    Cancelled,
    Confirmed,
    Expired,
    NoneLeft,
    NotYours,
    Prepared,
    RowUnsendable,
)
from bot.sms.sending.campaigns import CampaignLimits, CampaignService
from bot.sms.sending.recipients import LeftOutReason, MissingPlaceholders, TooManyRecipients
from bot.sms.sending.types import Origin, Surface
from storage import campaign_takeover, campaigns, optouts
from storage.engine import Database
from storage.messages import get_by_message_id
from storage.store import Store
from storage.tables import outbox, sms
from testkit.clock import ManualClock
from tests.conftest import MOBIZON_KEY

T0 = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
STOPPED = "5521999990005"
OPTED = "5511912345678"


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """The simulator with one number on Mobizon's stop list."""
    return SimulatorConfig(api_key=MOBIZON_KEY, speed=1.0, stop_list=frozenset({STOPPED}))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A database as the app opens it."""
    opened = await Store.open(tmp_path / "campaigns.db")
    yield opened
    await opened.close()


@pytest.fixture
async def client(simulator: tuple[MobizonSimulator, str]) -> AsyncIterator[MobizonClient]:
    """The Mobizon client against the simulator on loopback."""
    async with MobizonClient(MOBIZON_KEY, base_url=simulator[1]) as opened:
        yield opened


@pytest.fixture
def clock() -> ManualClock:
    """The service's time, moved by hand."""
    return ManualClock(T0)


def service(
    store: Store, client: MobizonClient, clock: ManualClock, **options: object
) -> CampaignService:
    """The service over ``store`` and the simulator."""
    return CampaignService(store, client, clock=clock, replica="replica-a", **options)  # type: ignore[arg-type]


def origin(key: str = "trigger-1", user: str = "U1") -> Origin:
    """A slash command's origin."""
    return Origin("T1", "C1", user, Surface.SLASH_COMMAND, key, "https://hooks.slack.invalid/r")


def typed(numbers: str, text: str = "Pedido pronto", key: str = "trigger-1") -> CampaignRequest:
    """A typed list's request."""
    return CampaignRequest(text=text, origin=origin(key), typed=numbers)


def numbers(count: int) -> list[str]:
    """``count`` distinct mobile numbers in international digits."""
    return [f"55119{index:08d}" for index in range(count)]


def bodies(sim: MobizonSimulator, method: str) -> list[list[tuple[str, str]]]:
    """The form fields of every request of ``method`` the simulator received, in order."""
    return [
        parse_qsl(request.body.decode(), keep_blank_values=True)
        for request in sim.requests
        if f"{request.module}/{request.method}" == method
    ]


def count_rows(db: Database, table: sa.Table) -> int:
    """How many rows ``table`` holds."""
    return int(db.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


async def test_a_file_is_previewed_with_counts_left_out_rows_and_the_first_text(
    store: Store, client: MobizonClient, clock: ManualClock
) -> None:
    """Unreadable, duplicate and opted-out rows are left out with their rows; placeholders filled."""
    await store.write(optouts.add_optout, recipient=OPTED, user_id="U9")
    csv = (
        "telefone;nome\n"
        "+55 11 98765-4321;Ana\n"
        "not a number;Bia\n"
        f"{OPTED};Caio\n"
        "5511987654321;Ana again\n"
        "5511900000001;Duda com um nome bem comprido para passar de um segmento, çãõ é ê\n"
    ).encode()
    request = CampaignRequest(
        text="Olá {nome}, seu pedido está pronto",
        origin=origin(),
        csv=csv,
        source="clientes.csv",
    )
    prepared = await service(store, client, clock).prepare(request)
    assert isinstance(prepared, Prepared)
    assert prepared.needs_confirmation  # any file waits for confirmation
    preview = prepared.preview
    assert (preview.recipients, preview.entries) == (2, 5)
    assert [(entry.row, entry.reason) for entry in preview.left_out] == [
        (3, LeftOutReason.UNREADABLE),
        (4, LeftOutReason.OPTED_OUT),
        (5, LeftOutReason.DUPLICATE),
    ]
    assert (preview.first_number, preview.first_text) == (
        "5511987654321",
        "Olá Ana, seu pedido está pronto",
    )
    assert (preview.segments_min, preview.segments_max, preview.segments_total) == (1, 2, 3)
    assert preview.placeholders == ("nome",)
    assert preview.expires_at == T0 + timedelta(minutes=15)
    assert preview.cost is None  # no SMS cost known yet
    stored = await store.read(campaigns.get_campaign, prepared.campaign_id)
    assert stored is not None
    assert (stored.state, stored.template, stored.left_out) == ("preview", True, 3)


async def test_a_short_list_is_stored_confirmed_and_its_cost_estimated(
    store: Store, client: MobizonClient, clock: ManualClock
) -> None:
    """At or under the threshold: no confirmation; the estimate is recent cost per segment."""
    sent = await _single_send_with_cost(store, Decimal("0.30"), segments=2)
    assert sent
    prepared = await service(store, client, clock).prepare(typed(", ".join(numbers(10))))
    assert isinstance(prepared, Prepared)
    assert not prepared.needs_confirmation
    assert prepared.preview.expires_at is None
    cost = prepared.preview.cost
    assert cost is not None
    assert (cost.per_segment, cost.total, cost.currency) == (
        Decimal("0.1500"),
        Decimal("1.5000"),
        "BRL",
    )
    stored = await store.read(campaigns.get_campaign, prepared.campaign_id)
    assert stored is not None
    assert stored.state == "confirmed"
    longer = await service(store, client, clock).prepare(
        typed(", ".join(numbers(11)), key="trigger-2")
    )
    assert isinstance(longer, Prepared)
    assert longer.needs_confirmation


async def _single_send_with_cost(store: Store, cost: Decimal, *, segments: int) -> bool:
    """An SMS sent before, its cost known."""

    def write(db: Database) -> bool:
        with db.begin():
            db.execute(
                sa.insert(sms).values(
                    trigger_id="earlier",
                    team_id="T1",
                    channel_id="C1",
                    user_id="U1",
                    recipient="5511987654321",
                    text="x",
                    segments=segments,
                    state="sent",
                    message_id=1,
                    cost=str(cost),
                    currency="BRL",
                    created_at="2026-01-14T12:00:00+00:00",
                    updated_at="2026-01-14T12:00:00+00:00",
                )
            )
        return True

    return await store.write(write)


async def test_refusals_come_before_anything_is_stored(
    store: Store, client: MobizonClient, clock: ManualClock
) -> None:
    """Not allowed, too many, none left, a missing placeholder, an unsendable row: nothing stored."""
    limited = service(
        store,
        client,
        clock,
        may_send=lambda user: user == "U1",
        limits=CampaignLimits(max_recipients=3),
    )
    not_allowed = CampaignRequest(text="x", origin=origin(user="U2"), typed=numbers(1)[0])
    assert await limited.prepare(not_allowed) == CampaignNotAllowed("U2")
    assert await limited.prepare(typed(", ".join(numbers(4)))) == TooManyRecipients(4, 3)
    await store.write(optouts.add_optout, recipient=OPTED, user_id="U9")
    nobody = await limited.prepare(typed(f"{OPTED}, nonsense"))
    assert isinstance(nobody, NoneLeft)
    assert [entry.reason for entry in nobody.left_out] == [
        LeftOutReason.OPTED_OUT,
        LeftOutReason.UNREADABLE,
    ]
    assert isinstance(
        await limited.prepare(typed(numbers(1)[0], "Olá {nome}")), MissingPlaceholders
    )
    csv = f"phone,code\n5511900000001,ok\n5511900000002,{'x' * 2000}\n".encode()
    unsendable = await limited.prepare(
        CampaignRequest(text="Code {code}", origin=origin(), csv=csv, source="f.csv")
    )
    assert isinstance(unsendable, RowUnsendable)
    assert unsendable.row == 3
    assert await store.read(campaigns.campaign_by_trigger, "trigger-1") is None


async def test_opted_out_numbers_do_not_count_against_the_limit(
    store: Store, client: MobizonClient, clock: ManualClock
) -> None:
    """Four numbers, one opted out, under a limit of three: three recipients, not a refusal."""
    listed = numbers(4)
    await store.write(optouts.add_optout, recipient=listed[1], user_id="U9")
    limited = service(store, client, clock, limits=CampaignLimits(max_recipients=3))
    prepared = await limited.prepare(typed(", ".join(listed)))
    assert isinstance(prepared, Prepared)
    assert prepared.preview.recipients == 3


async def test_a_preview_is_confirmed_once_by_its_asker_before_it_expires(
    store: Store, client: MobizonClient, clock: ManualClock
) -> None:
    """Another user is refused, the asker confirms once, a second confirm does nothing."""
    campaigns_service = service(store, client, clock)
    prepared = await campaigns_service.prepare(typed(", ".join(numbers(12))))
    assert isinstance(prepared, Prepared)
    assert await campaigns_service.confirm(prepared.campaign_id, "U2") == NotYours("U1")
    assert await campaigns_service.confirm(prepared.campaign_id, "U1") == Confirmed(
        prepared.campaign_id, 12
    )
    assert await campaigns_service.confirm(prepared.campaign_id, "U1") == AlreadyDecided(
        "confirmed"
    )
    assert await campaigns_service.cancel(prepared.campaign_id, "U1") == AlreadyDecided("confirmed")
    late = await campaigns_service.prepare(typed(", ".join(numbers(12)), key="trigger-2"))
    assert isinstance(late, Prepared)
    clock.advance(15 * 60)
    assert await campaigns_service.confirm(late.campaign_id, "U1") == Expired(
        T0 + timedelta(minutes=15)
    )
    cancelled = await campaigns_service.prepare(typed(", ".join(numbers(12)), key="trigger-3"))
    assert isinstance(cancelled, Prepared)
    assert await campaigns_service.cancel(cancelled.campaign_id, "U1") == Cancelled(
        cancelled.campaign_id
    )
    assert await campaigns_service.run(cancelled.campaign_id) == AlreadyDecided("cancelled")
    assert await campaigns_service.prepare(typed(numbers(1)[0], key="trigger-3")) == (
        CampaignDuplicate(cancelled.campaign_id)
    )


async def test_a_confirmed_campaign_runs_as_one_mobizon_campaign_in_sequential_chunks(
    store: Store,
    client: MobizonClient,
    clock: ManualClock,
    simulator: tuple[MobizonSimulator, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Create, 1,100 recipients in three requests one after another, send; SMS rows recorded."""
    sim = simulator[0]
    listed = [*numbers(1099), STOPPED]
    campaigns_service = service(store, client, clock)
    prepared = await campaigns_service.prepare(
        CampaignRequest(
            text="Pedido pronto",
            origin=origin(),
            typed=", ".join(listed),
            options=CampaignOptions(sender="ACME", name="Pedidos", validity=120),
        )
    )
    assert isinstance(prepared, Prepared)
    await campaigns_service.confirm(prepared.campaign_id, "U1")
    original = client.add_campaign_recipients
    in_flight, most = 0, 0

    async def watched(
        campaign_id: int, recipients: Sequence[CampaignRecipient], *, template: bool
    ) -> tuple[AddedRecipient, ...]:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        try:
            return await original(campaign_id, recipients, template=template)
        finally:
            in_flight -= 1

    monkeypatch.setattr(client, "add_campaign_recipients", watched)
    outcome = await campaigns_service.run(prepared.campaign_id)
    assert most == 1  # one request at a time: the campaign is locked while one is added
    assert isinstance(outcome, CampaignStarted)
    assert (outcome.added, outcome.awaiting_moderation) == (1099, False)
    assert [(row.number, row.code) for row in outcome.refused] == [(STOPPED, 5)]
    created = bodies(sim, CAMPAIGN_CREATE)
    assert len(created) == 1
    assert ("data[type]", "2") in created[0]
    assert {("data[from]", "ACME"), ("data[name]", "Pedidos"), ("data[validity]", "120")} <= set(
        created[0]
    )
    assert [len(body) - 1 for body in bodies(sim, CAMPAIGN_ADD_RECIPIENTS)] == [500, 500, 100]
    assert sim.count(CAMPAIGN_SEND) == 1
    stored = await store.read(campaigns.get_campaign, prepared.campaign_id)
    assert stored is not None
    assert (stored.state, stored.mobizon_id, stored.claimed_by) == (
        "sent",
        outcome.mobizon_id,
        "replica-a",
    )
    rows = await store.read(campaigns.campaign_recipients_of, prepared.campaign_id)
    assert rows[-1].code == 5
    assert rows[-1].sms_id is None
    first = sim.bulk_campaigns[outcome.mobizon_id].message_ids[0]
    recorded = await store.read(get_by_message_id, first)
    assert recorded is not None
    assert (recorded.recipient, recorded.campaign_id, recorded.trigger_id, recorded.sender) == (
        listed[0],
        outcome.mobizon_id,
        "trigger-1#1",
        "ACME",
    )
    assert recorded.is_pending
    assert await store.read(count_rows, outbox) == 0
    assert await campaigns_service.run(prepared.campaign_id) == AlreadyDecided("sent")
    assert sim.count(CAMPAIGN_CREATE) == 1


async def test_a_template_campaign_sends_each_recipient_its_values(
    store: Store,
    client: MobizonClient,
    clock: ManualClock,
    simulator: tuple[MobizonSimulator, str],
) -> None:
    """Type 3 with the placeholders' values: Mobizon's text for each is the preview's."""
    sim = simulator[0]
    csv = b"Celular;Nome Completo\n5511900000001;Ana Maria\n5511900000002;Bia\n"
    campaigns_service = service(store, client, clock)
    prepared = await campaigns_service.prepare(
        CampaignRequest(text="Olá { nome completo }!", origin=origin(), csv=csv, source="a.csv")
    )
    assert isinstance(prepared, Prepared)
    await campaigns_service.confirm(prepared.campaign_id, "U1")
    outcome = await campaigns_service.run(prepared.campaign_id)
    assert isinstance(outcome, CampaignStarted)
    created = bodies(sim, CAMPAIGN_CREATE)[0]
    assert ("data[type]", "3") in created
    assert ("data[text]", "Olá {nome_completo}!") in created
    texts = [sim.messages[m].text for m in sim.bulk_campaigns[outcome.mobizon_id].message_ids]
    assert texts == ["Olá Ana Maria!", "Olá Bia!"]
    assert prepared.preview.first_text == "Olá Ana Maria!"


async def test_a_failing_addrecipients_sends_nothing_and_fails_the_campaign(
    store: Store,
    client: MobizonClient,
    clock: ManualClock,
    simulator: tuple[MobizonSimulator, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second chunk refused: the Mobizon campaign is deleted, never sent; ours is failed."""
    sim = simulator[0]
    campaigns_service = service(store, client, clock)
    prepared = await campaigns_service.prepare(typed(", ".join(numbers(600))))
    assert isinstance(prepared, Prepared)
    await campaigns_service.confirm(prepared.campaign_id, "U1")
    original = client.add_campaign_recipients
    calls = 0

    async def second_refused(
        campaign_id: int, recipients: Sequence[CampaignRecipient], *, template: bool
    ) -> tuple[AddedRecipient, ...]:
        nonlocal calls
        calls += 1
        if calls == 2:
            sim.fail_next(CAMPAIGN_ADD_RECIPIENTS, 12, message="Campaign is locked.")
        return await original(campaign_id, recipients, template=template)

    monkeypatch.setattr(client, "add_campaign_recipients", second_refused)
    outcome = await campaigns_service.run(prepared.campaign_id)
    assert isinstance(outcome, CampaignNotSent)
    assert outcome.error is not None
    assert not outcome.outcome_unknown
    assert sim.count(CAMPAIGN_SEND) == 0
    assert sim.count(CAMPAIGN_DELETE) == 1
    stored = await store.read(campaigns.get_campaign, prepared.campaign_id)
    assert stored is not None
    assert stored.state == "failed"
    mobizon_id = stored.mobizon_id
    assert mobizon_id is not None
    assert sim.bulk_campaigns[mobizon_id].deleted_at is not None
    first = await store.read(get_by_message_id, sim.bulk_campaigns[mobizon_id].message_ids[0])
    assert first is not None
    assert (first.state, first.is_pending) == ("failed", False)
    assert await campaigns_service.run(prepared.campaign_id) == AlreadyDecided("failed")


async def test_two_runs_at_once_send_once(
    store: Store,
    client: MobizonClient,
    clock: ManualClock,
    simulator: tuple[MobizonSimulator, str],
) -> None:
    """Two runs of one confirmed campaign together: one Mobizon campaign, one send."""
    sim = simulator[0]
    campaigns_service = service(store, client, clock)
    prepared = await campaigns_service.prepare(typed(", ".join(numbers(3))))
    assert isinstance(prepared, Prepared)
    outcomes = await asyncio.gather(
        campaigns_service.run(prepared.campaign_id), campaigns_service.run(prepared.campaign_id)
    )
    assert sorted(type(outcome).__name__ for outcome in outcomes) == [
        "AlreadyDecided",
        "CampaignStarted",
    ]
    assert (sim.count(CAMPAIGN_CREATE), sim.count(CAMPAIGN_SEND)) == (1, 1)


async def confirmed(
    store: Store, client: MobizonClient, clock: ManualClock, count: int
) -> tuple[CampaignService, Prepared]:
    """The service, and a campaign of ``count`` typed numbers prepared and confirmed by its asker."""
    campaigns_service = service(store, client, clock)
    prepared = await campaigns_service.prepare(typed(", ".join(numbers(count))))
    assert isinstance(prepared, Prepared)
    await campaigns_service.confirm(prepared.campaign_id, "U1")
    return campaigns_service, prepared


async def taken_over(store: Store, campaign_id: int) -> None:
    """Another replica takes the campaign over, as one does when this replica's lease lapsed."""
    taken = await store.write(
        campaign_takeover.take_over_campaign,
        campaign_id,
        seen="replica-a",
        replica="replica-b",
    )
    assert taken is not None


def sms_rows_of(db: Database, campaign_id: int) -> int:
    """How many SMS rows belong to campaign ``campaign_id``."""
    query = sa.select(sa.func.count()).select_from(sms).where(sms.c.campaign == campaign_id)
    return int(db.execute(query).scalar_one())


async def test_a_run_taken_over_between_two_chunks_stops_and_deletes_its_mobizon_campaign(
    store: Store,
    client: MobizonClient,
    clock: ManualClock,
    simulator: tuple[MobizonSimulator, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A replica that stalled past its lease after a chunk records nothing more and sends nothing."""
    sim = simulator[0]
    campaigns_service, prepared = await confirmed(store, client, clock, 600)
    original = client.add_campaign_recipients

    async def then_stalled(
        campaign_id: int, recipients: Sequence[CampaignRecipient], *, template: bool
    ) -> tuple[AddedRecipient, ...]:
        answer = await original(campaign_id, recipients, template=template)
        await taken_over(store, prepared.campaign_id)
        return answer

    monkeypatch.setattr(client, "add_campaign_recipients", then_stalled)
    outcome = await campaigns_service.run(prepared.campaign_id)
    assert outcome == AlreadyDecided("sending", taken_over=True)
    assert (sim.count(CAMPAIGN_ADD_RECIPIENTS), sim.count(CAMPAIGN_SEND)) == (1, 0)
    assert sim.count(CAMPAIGN_DELETE) == 1
    stored = await store.read(campaigns.get_campaign, prepared.campaign_id)
    assert stored is not None
    assert (stored.state, stored.claimed_by) == ("sending", "replica-b")
    assert stored.mobizon_id is not None
    assert sim.bulk_campaigns[stored.mobizon_id].deleted_at is not None
    assert await store.read(sms_rows_of, prepared.campaign_id) == 0
    rows = await store.read(campaigns.campaign_recipients_of, prepared.campaign_id)
    assert {row.code for row in rows} == {None}


async def test_a_run_taken_over_before_it_recorded_its_mobizon_campaign_deletes_it(
    store: Store,
    client: MobizonClient,
    clock: ManualClock,
    simulator: tuple[MobizonSimulator, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The Mobizon campaign made as the lease lapsed is nobody's: deleted, never filled nor sent."""
    sim = simulator[0]
    campaigns_service, prepared = await confirmed(store, client, clock, 3)
    original = client.create_campaign

    async def then_stalled(campaign: NewCampaign) -> int:
        made = await original(campaign)
        await taken_over(store, prepared.campaign_id)
        return made

    monkeypatch.setattr(client, "create_campaign", then_stalled)
    assert await campaigns_service.run(prepared.campaign_id) == AlreadyDecided(
        "sending", taken_over=True
    )
    assert (sim.count(CAMPAIGN_CREATE), sim.count(CAMPAIGN_DELETE)) == (1, 1)
    assert (sim.count(CAMPAIGN_ADD_RECIPIENTS), sim.count(CAMPAIGN_SEND)) == (0, 0)
    stored = await store.read(campaigns.get_campaign, prepared.campaign_id)
    assert stored is not None
    assert (stored.mobizon_id, stored.claimed_by) == (None, "replica-b")


async def test_a_run_taken_over_after_its_last_chunk_does_not_send(
    store: Store,
    client: MobizonClient,
    clock: ManualClock,
    simulator: tuple[MobizonSimulator, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Filled, then the lease lapsed before ``campaign/send``: not sent, deleted, left to the other."""
    sim = simulator[0]
    campaigns_service, prepared = await confirmed(store, client, clock, 3)
    original = store.write_retrying

    async def stalled_before_sending(fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        if fn is campaigns.still_running:
            await taken_over(store, prepared.campaign_id)
        return await original(fn, *args, **kwargs)

    monkeypatch.setattr(store, "write_retrying", stalled_before_sending)
    assert await campaigns_service.run(prepared.campaign_id) == AlreadyDecided(
        "sending", taken_over=True
    )
    assert (sim.count(CAMPAIGN_ADD_RECIPIENTS), sim.count(CAMPAIGN_SEND)) == (1, 0)
    assert sim.count(CAMPAIGN_DELETE) == 1
    stored = await store.read(campaigns.get_campaign, prepared.campaign_id)
    assert stored is not None
    assert stored.claimed_by == "replica-b"
    assert await store.read(sms_rows_of, prepared.campaign_id) == 3
