"""The Mobizon client's sends to many (campaign create, add recipients, send) against the simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import parse_qsl

import pytest

from bot.mobizon import (
    MAX_FORM_FIELDS,
    MAX_RECIPIENTS_PER_REQUEST,
    REQUEST_METHODS,
    CampaignRecipient,
    CampaignType,
    MessageStatus,
    MobizonCampaignNotFoundError,
    MobizonClient,
    MobizonGatewayError,
    MobizonValidationError,
    NewCampaign,
    RecipientProblem,
)
from bot.simulator import (
    CAMPAIGN_ADD_RECIPIENTS,
    CAMPAIGN_SEND,
    MobizonSimulator,
    SimulatorConfig,
    start_simulator,
)
from testkit.waiting import wait_until
from tests.bot.conftest import ClientFactory, wall
from tests.conftest import MOBIZON_KEY

T0 = wall("2026-01-15 12:00:00")
STOPPED = "5521999990005"


def numbers(count: int) -> list[str]:
    """``count`` distinct Brazilian mobile numbers in international digits."""
    return [f"55119{index:08d}" for index in range(count)]


@pytest.fixture
async def sim_url() -> AsyncIterator[tuple[MobizonSimulator, str]]:
    """The simulator at a fixed time, one number on its stop list, and its URL."""
    config = SimulatorConfig(api_key=MOBIZON_KEY, stop_list=frozenset({STOPPED}))
    sim, runner, url = await start_simulator(config, clock=lambda: T0)
    yield sim, url
    await runner.cleanup()


@pytest.fixture
def sim(sim_url: tuple[MobizonSimulator, str]) -> MobizonSimulator:
    """The simulator."""
    return sim_url[0]


@pytest.fixture
def client(sim_url: tuple[MobizonSimulator, str], make_client: ClientFactory) -> MobizonClient:
    """A client of the simulator."""
    return make_client(sim_url[1])


def add_bodies(sim: MobizonSimulator) -> list[list[tuple[str, str]]]:
    """The form fields of every addrecipients request the simulator received, in order."""
    return [
        parse_qsl(request.body.decode(), keep_blank_values=True)
        for request in sim.requests
        if f"{request.module}/{request.method}" == CAMPAIGN_ADD_RECIPIENTS
    ]


async def test_campaign_is_created_filled_in_chunks_and_sent(
    sim: MobizonSimulator, client: MobizonClient
) -> None:
    """1,100 numbers go in three requests of at most 500, one after another, then out."""
    campaign_id = await client.create_campaign(NewCampaign(text="Pedido pronto", sender="ACME"))
    recipients = [CampaignRecipient(number) for number in numbers(1100)]
    sim.hold()
    adding = asyncio.ensure_future(
        client.add_recipients_in_chunks(campaign_id, recipients, template=False)
    )
    await wait_until(lambda: sim.count(CAMPAIGN_ADD_RECIPIENTS) == 1, what="the first chunk")
    for _ in range(20):  # the client had every chance to start the next one
        await asyncio.sleep(0)
    assert sim.count(CAMPAIGN_ADD_RECIPIENTS) == 1
    sim.release()
    result = await adding
    bodies = add_bodies(sim)
    assert [len(body) - 1 for body in bodies] == [500, 500, 100]  # each also carries its id
    assert bodies[0][:2] == [("id", str(campaign_id)), ("recipients[0]", "5511900000000")]
    assert result.complete
    assert len(result.added) == 1100
    assert [row.recipient for row in result.rows] == numbers(1100)
    sent = await client.send_campaign(campaign_id)
    assert (sent.campaign_id, sent.awaiting_moderation) == (campaign_id, False)
    assert sim.count(CAMPAIGN_SEND) == 1
    assert {sim.messages[row.message_id or 0].sender for row in result.added} == {"ACME"}


async def test_template_chunks_stay_under_1000_fields(
    sim: MobizonSimulator, client: MobizonClient
) -> None:
    """1,200 recipients with two values each go in 4 requests, none over 1,000 fields."""
    campaign = NewCampaign(text="Olá {nome}, pedido {pedido} pronto", template=True)
    campaign_id = await client.create_campaign(campaign)
    recipients = [
        CampaignRecipient(number, {"nome": f"Cliente {index}", "pedido": str(1000 + index)})
        for index, number in enumerate(numbers(1200))
    ]
    result = await client.add_recipients_in_chunks(campaign_id, recipients, template=True)
    bodies = add_bodies(sim)
    assert len(bodies) >= 3
    assert all(len(body) <= MAX_FORM_FIELDS for body in bodies)
    assert sum(1 for body in bodies for key, _ in body if key.endswith("[recipient]")) == 1200
    assert all(("params[placeholdersFlag]", "3") in body for body in bodies)
    assert ("recipients[0][nome]", "Cliente 0") in bodies[0]
    assert len(result.added) == 1200
    last = result.rows[-1].message_id
    assert last is not None
    assert sim.messages[last].text == "Olá Cliente 1199, pedido 2199 pronto"
    assert sim.bulk_campaigns[campaign_id].order.type == CampaignType.TEMPLATE


async def test_each_row_code_is_data_with_its_meaning(
    sim: MobizonSimulator, client: MobizonClient
) -> None:
    """Stop list (5), bad number (3), duplicate (4) and a missing value (20) come back as rows."""
    campaign_id = await client.create_campaign(NewCampaign(text="Oi {nome}", template=True))
    good = numbers(2)
    rows = await client.add_campaign_recipients(
        campaign_id,
        [
            CampaignRecipient(good[0], {"nome": "Ana"}),
            CampaignRecipient(STOPPED, {"nome": "Bia"}),
            CampaignRecipient("12345", {"nome": "Caio"}),
            CampaignRecipient(good[0], {"nome": "Ana"}),
            CampaignRecipient(good[1]),
        ],
        template=True,
    )
    assert [(row.code, row.problem) for row in rows] == [
        (0, None),
        (5, RecipientProblem.STOP_LIST),
        (3, RecipientProblem.NOT_INTERNATIONAL),
        (4, RecipientProblem.DUPLICATE),
        (20, RecipientProblem.PLACEHOLDERS_MISSING),
    ]
    assert [row.added for row in rows] == [True, False, False, False, False]
    assert rows[0].message_id in sim.messages
    assert rows[1].message_id is None
    # none added at all (Mobizon's code 99) is rows too, not an error
    again = await client.add_campaign_recipients(
        campaign_id, [CampaignRecipient(STOPPED, {"nome": "Bia"})], template=True
    )
    assert [row.problem for row in again] == [RecipientProblem.STOP_LIST]


async def test_campaign_messages_move_through_statuses(
    sim: MobizonSimulator, client: MobizonClient
) -> None:
    """Added messages stay NEW until the campaign is sent, then reach DELIVRD by getSMSStatus."""
    campaign_id = await client.create_campaign(NewCampaign(text="Aviso"))
    result = await client.add_recipients_in_chunks(
        campaign_id, [CampaignRecipient(number) for number in numbers(3)], template=False
    )
    ids = [row.message_id for row in result.added if row.message_id is not None]
    sim.advance(10)
    before = await client.get_sms_status(ids)
    assert {status.status for status in before.values()} == {MessageStatus.NEW}
    await client.send_campaign(campaign_id)
    sim.advance(0.5)
    midway = await client.get_sms_status(ids)
    assert {status.status for status in midway.values()} == {MessageStatus.ENQUEUD}
    sim.advance(2)
    after = await client.get_sms_status(ids)
    assert sorted(after) == sorted(ids)
    assert {status.status for status in after.values()} == {MessageStatus.DELIVRD}
    info = await client.get_campaign_info(campaign_id)
    assert info.counters is not None
    assert info.counters.messages["DELIVRD"] == 3


async def test_create_sends_every_option_a_single_send_has(
    sim: MobizonSimulator, client: MobizonClient
) -> None:
    """Sender, name, schedule, validity, flash and link shortening reach campaign/create."""
    at = T0 + timedelta(hours=2)
    campaign = NewCampaign(
        text="Promo https://example.com/x",
        sender="ACME",
        name="Black Friday",
        schedule=at,
        validity=120,
        flash=True,
        shorten_links=True,
    )
    campaign_id = await client.create_campaign(campaign)
    order = sim.bulk_campaigns[campaign_id].order
    assert (order.type, order.sender, order.name) == (2, "ACME", "Black Friday")
    assert (order.deferred_to, order.validity, order.mclass, order.shorten_links) == (
        at,
        120,
        0,
        1,
    )
    rows = await client.add_campaign_recipients(
        campaign_id, [CampaignRecipient(numbers(1)[0])], template=False
    )
    assert rows[0].message_id is not None
    assert sim.messages[rows[0].message_id].text.startswith("Promo https://mbz.io/")


async def test_moderated_campaign_says_so(sim: MobizonSimulator, client: MobizonClient) -> None:
    """With moderation on, campaign/send answers 1: the campaign waits for a moderator."""
    sim.set_moderation(True)
    campaign_id = await client.create_campaign(NewCampaign(text="Aviso"))
    await client.add_campaign_recipients(
        campaign_id, [CampaignRecipient(numbers(1)[0])], template=False
    )
    assert (await client.send_campaign(campaign_id)).awaiting_moderation


async def test_refused_create_add_and_send_are_error_values(
    sim: MobizonSimulator, client: MobizonClient
) -> None:
    """A wrong option, an unknown campaign and a second send are errors carrying Mobizon's code."""
    with pytest.raises(MobizonValidationError) as refused:
        await client.create_campaign(NewCampaign(text="Oi", validity=30))
    assert "validity" in refused.value.fields
    with pytest.raises(MobizonCampaignNotFoundError) as missing:
        await client.add_campaign_recipients(
            424242, [CampaignRecipient("5511900000001")], template=False
        )
    assert (missing.value.code, missing.value.campaign_id) == (2, 424242)
    with pytest.raises(MobizonCampaignNotFoundError):
        await client.send_campaign(424242)
    campaign_id = await client.create_campaign(NewCampaign(text="Oi"))
    await client.add_campaign_recipients(
        campaign_id, [CampaignRecipient("5511900000001")], template=False
    )
    await client.send_campaign(campaign_id)
    with pytest.raises(MobizonGatewayError) as again:
        await client.send_campaign(campaign_id)
    assert again.value.code == 10
    assert sim.count(CAMPAIGN_SEND) == 3  # never repeated


async def test_a_failed_chunk_stops_and_keeps_the_rows_before_it(
    sim_url: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """The second of three chunks refused: the first's rows stand, the third is never offered."""
    sim, url = sim_url

    def observe(method: str, outcome: str, _seconds: float) -> None:
        if method == CAMPAIGN_ADD_RECIPIENTS and outcome == "ok":
            sim.fail_next(CAMPAIGN_ADD_RECIPIENTS, 10, message="Campaign is locked.")

    client = make_client(url, on_request=observe)
    campaign_id = await client.create_campaign(NewCampaign(text="Oi"))
    recipients = [CampaignRecipient(number) for number in numbers(1100)]
    result = await client.add_recipients_in_chunks(campaign_id, recipients, template=False)
    assert isinstance(result.failure, MobizonGatewayError)
    assert result.failure.code == 10
    assert not result.complete
    assert len(result.added) == 500
    assert result.not_offered == 100
    assert sim.count(CAMPAIGN_ADD_RECIPIENTS) == 2  # the refused one was not repeated


def test_every_campaign_method_is_observed() -> None:
    """The request observer names the three campaign methods, so metrics count them."""
    assert {"campaign/create", "campaign/addrecipients", "campaign/send"} <= REQUEST_METHODS
    assert MAX_RECIPIENTS_PER_REQUEST == 500
