"""The Mobizon client's account methods (balance, sender names, campaigns), over loopback gateways."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest

from bot.mobizon import (
    Balance,
    CampaignInfo,
    CommonStatus,
    MobizonAuthError,
    MobizonCampaignDeleteUnknownError,
    MobizonCampaignNotDeletableError,
    MobizonCampaignNotFoundError,
    MobizonError,
    MobizonGatewayError,
    MobizonNetworkError,
    MobizonNotFoundError,
    MobizonValidationError,
    ModerationStatus,
    OutgoingSms,
    RetryPolicy,
    error_for,
    is_insufficient_funds,
)
from bot.mobizon._account_wire import parse_campaign_info
from bot.mobizon._wire import MalformedAnswerError
from bot.simulator import (
    CAMPAIGN_DELETE,
    CAMPAIGN_INFO,
    GET_BALANCE,
    SEND_SMS,
    SENDER_NAMES,
    MobizonSimulator,
    SimulatorConfig,
    start_simulator,
)
from tests.bot.conftest import CaptureGateway, ClientFactory, Reply, Sleeps, free_port, wall
from tests.conftest import MOBIZON_KEY

T0 = wall("2026-01-15 12:00:00")
NUMBER = "5511987654321"

# campaign/getInfo as captured from Mobizon (api.mobizon.kz), the campaign id shortened.
CAPTURED_CAMPAIGN: dict[str, object] = {
    "moderationReason": None,
    "onPartnerModeration": 1,
    "moderationStatus": "READY_FOR_SEND",
    "commonStatus": "SENT",
    "currency": None,
    "groupsList": [],
    "id": "70000001234",
    "userId": "88296",
    "type": "2",
    "msgType": "SMS",
    "partnerModStatus": "AUTO_READY_FOR_SEND",
    "sendStatus": "SENT",
    "deletedTs": None,
    "deferredToTs": None,
    "createTs": "2026-06-24 23:13:22",
    "startSendTs": "2026-06-24 23:13:22",
    "endSendTs": "2026-06-24 23:13:22",
    "name": None,
    "from": "MOBINFO",
    "text": "capture test",
    "extra": {"validity": "1440", "mclass": "1"},
    "globalComment": None,
    "counters": {
        "campaignId": "70000001234",
        "updateTs": "2026-06-24 23:13:22",
        "totalNewSegNum": "0",
        "totalEnqueudSegNum": "0",
        "totalDelivrdSegNum": "1",
        "totalSegNum": "1",
        "totalNewMsgNum": "0",
        "totalDelivrdMsgNum": "1",
        "totalMsgNum": "1",
        "totalCost": "16.2000",
        "totalNewMsgCost": "0.0000",
        "totalDelivrdMsgCost": "16.2000",
        "userCurrency": "KZT",
        "recipientsRejected": "0",
        "totalPartnerCost": None,
    },
}

# alphaname/list as captured from Mobizon, personal data left out.
CAPTURED_SENDER_NAMES: dict[str, object] = {
    "items": [
        {
            "userId": "88296",
            "alphanameId": "58356",
            "isDefault": "1",
            "globalStatus": "1",
            "partnerStatus": "1",
            "statusUpdateTs": "2025-02-04 09:26:57",
            "details": {"description": "All about IT in Kazakhstan"},
            "globalComment": "",
            "id": "7719",
            "description": None,
            "alphaname": {"id": "58356", "name": "Profit", "type": "3"},
        }
    ],
    "totalItemCount": "1",
}


@pytest.fixture
def account_config() -> SimulatorConfig:
    """An account with 10.0000 BRL, 0.0950 per segment, two sender names."""
    return SimulatorConfig(
        api_key=MOBIZON_KEY,
        balance=Decimal("10.0000"),
        currency="BRL",
        segment_price=Decimal("0.0950"),
        sender_names=("SMSBOT", "ACME"),
    )


@pytest.fixture
async def account(account_config: SimulatorConfig) -> AsyncIterator[tuple[MobizonSimulator, str]]:
    """The simulator at a fixed time (it moves only with ``advance``), and its URL."""
    sim, runner, url = await start_simulator(account_config, clock=lambda: T0)
    yield sim, url
    await runner.cleanup()


# -- balance ------------------------------------------------------------------------------


async def test_balance_is_exact_and_drops_per_segment(
    account: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """get_balance reads a Decimal and the currency; a 2-segment send takes 2 x 0.0950."""
    sim, url = account
    client = make_client(url)
    assert await client.get_balance() == Balance(Decimal("10.0000"), "BRL")
    await client.send_sms(OutgoingSms(NUMBER, "x" * 161))
    balance = await client.get_balance()
    assert balance.amount == Decimal("9.8100")
    assert sim.count(GET_BALANCE) == 2


async def test_balance_request_is_the_official_clients(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """get_balance POSTs an empty form to /service/user/getownbalance with the key in the query."""
    gateway.reply(Reply.envelope(0, {"balance": "0.0000", "currency": "KZT"}))
    balance = await make_client(gateway.url).get_balance()
    assert balance == Balance(Decimal("0.0000"), "KZT")
    [request] = gateway.requests
    assert (request.http_method, request.path, request.body) == (
        "POST",
        "/service/user/getownbalance",
        b"",
    )
    assert request.query == {"output": "json", "api": "v1", "apiKey": MOBIZON_KEY}


async def test_balance_read_is_retried_after_an_outage(
    account: tuple[MobizonSimulator, str], make_client: ClientFactory, sleeps: Sleeps
) -> None:
    """A 502 page on getOwnBalance is retried like any read, then the balance comes."""
    sim, url = account
    sim.html_failure_next(times=2, status=502, method=GET_BALANCE)
    balance = await make_client(url).get_balance()
    assert balance.amount == Decimal("10.0000")
    assert sim.count(GET_BALANCE) == 3
    assert len(sleeps.delays) == 2


async def test_unreadable_balance_is_a_gateway_error(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """Code 0 without a balance raises a readable MobizonGatewayError, not a parsing crash."""
    gateway.reply(Reply.envelope(0, {"currency": "BRL"}))
    with pytest.raises(MobizonGatewayError, match="balance could not be read"):
        await make_client(gateway.url).get_balance()


def test_balance_needs_an_amount() -> None:
    """parse_balance refuses an answer without ``balance`` and keeps the amount exact."""
    from bot.mobizon._account_wire import parse_balance  # noqa: PLC0415 - the function under test

    with pytest.raises(MalformedAnswerError):
        parse_balance({"currency": "BRL"})
    assert parse_balance({"balance": 12.5, "currency": "brl"}) == Balance(Decimal("12.5"), "BRL")


@pytest.mark.parametrize("currency", ["<!CHANNEL>*X*", "R$", "BRLX" * 1000, " ", None, 5])
def test_a_currency_not_shaped_like_a_code_is_unknown(currency: object) -> None:
    """A currency Mobizon states that is not three letters is not shown or counted: unknown."""
    from bot.mobizon._account_wire import parse_balance  # noqa: PLC0415 - the function under test

    assert parse_balance({"balance": "1", "currency": currency}).currency is None


# -- sender names -------------------------------------------------------------------------


async def test_sender_names_are_read_from_every_page(
    account: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """230 sender names come back whole and in order, in three pages of at most 100."""
    sim, url = account
    names = [f"NAME{index:03d}" for index in range(230)]
    sim.set_sender_names(names)
    found = await make_client(url).list_sender_names()
    assert [sender.name for sender in found] == names
    assert found[0].is_default
    assert not found[1].is_default
    assert sim.count(SENDER_NAMES) == 3
    pages = [dict(parse_qsl(r.body.decode())) for r in sim.requests if r.module == "alphaname"]
    assert [page["pagination[currentPage]"] for page in pages] == ["0", "1", "2"]
    assert {page["pagination[pageSize]"] for page in pages} == {"100"}


async def test_sender_names_read_the_captured_shape(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """Mobizon's captured alphaname/list answer gives name, id, statuses, default and description."""
    gateway.reply(Reply.envelope(0, CAPTURED_SENDER_NAMES))
    [sender] = await make_client(gateway.url).list_sender_names()
    assert sender.name == "Profit"
    assert sender.alphaname_id == 58356
    assert (sender.global_status, sender.partner_status) == ("1", "1")
    assert sender.is_default
    assert sender.description == "All about IT in Kazakhstan"
    assert gateway.requests[0].path == "/service/alphaname/list"


async def test_sender_names_stop_on_a_short_page_without_total(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """Without totalItemCount the client stops at the first page shorter than asked; nameless skipped."""
    items = [{"alphaname": {"name": f"N{index}"}} for index in range(100)]
    gateway.reply(
        Reply.envelope(0, {"items": items}),
        Reply.envelope(0, {"items": [{"alphaname": {"name": "LAST"}}, {"alphaname": {}}]}),
    )
    found = await make_client(gateway.url).list_sender_names()
    assert len(found) == 101
    assert found[-1].name == "LAST"
    assert len(gateway.requests) == 2


async def test_unreadable_sender_names_are_a_gateway_error(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """An alphaname/list answer that is not a page raises a readable MobizonGatewayError."""
    gateway.reply(Reply.envelope(0, "nonsense"))
    with pytest.raises(MobizonGatewayError, match="sender names could not be read"):
        await make_client(gateway.url).list_sender_names()


# -- campaign info ------------------------------------------------------------------------


async def test_campaign_info_follows_a_send_with_its_cost(
    account: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """GetInfo shows an unmoderated campaign running, then DONE with the delivered cost in BRL."""
    sim, url = account
    client = make_client(url)
    sent = await client.send_sms(OutgoingSms(NUMBER, "hello"))
    info = await client.get_campaign_info(sent.campaign_id)
    assert info.id == sent.campaign_id
    assert info.moderation_status == ModerationStatus.AUTO_READY_FOR_SEND
    assert not info.awaiting_moderation
    assert not info.declined
    assert not info.is_deleted
    sim.advance(5)
    done = await client.get_campaign_info(sent.campaign_id)
    assert done.common_status == CommonStatus.DONE
    assert done.start_send_at is not None
    assert done.end_send_at is not None
    assert done.counters is not None
    assert done.counters.costs["DELIVRD"] == Decimal("0.0950")
    assert done.counters.costs["NEW"] == Decimal("0.0000")
    assert done.counters.messages["DELIVRD"] == 1
    assert (done.total_cost, done.currency) == (Decimal("0.0950"), "BRL")
    assert sim.count(CAMPAIGN_INFO) == 2


async def test_campaign_info_reads_the_captured_answer(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """Mobizon's captured getInfo parses: statuses, times, counters with Decimal costs, currency."""
    gateway.reply(Reply.envelope(0, CAPTURED_CAMPAIGN))
    info = await make_client(gateway.url).get_campaign_info(70000001234)
    assert (info.moderation_status, info.common_status) == ("READY_FOR_SEND", "SENT")
    assert info.start_send_at == wall("2026-06-24 23:13:22")
    assert info.deferred_to is None
    assert info.global_comment is None
    assert not info.is_deleted
    assert info.counters is not None
    assert info.counters.total_cost == Decimal("16.2000")
    assert info.counters.costs["DELIVRD"] == Decimal("16.2000")
    assert info.counters.segments == {"NEW": 0, "ENQUEUD": 0, "DELIVRD": 1}
    assert info.counters.currency == "KZT"
    assert dict(parse_qsl(gateway.requests[0].body.decode())) == {"id": "70000001234"}
    assert gateway.requests[0].path == "/service/campaign/getinfo"


def test_campaign_info_tolerates_missing_and_odd_fields() -> None:
    """Only the campaign is needed: missing fields are None, junk counters ignored, id from the ask."""
    info = parse_campaign_info(
        {"counters": {"totalCost": "n/a", "totalNewMsgNum": "x", "totalDelivrdMsgNum": 2}},
        campaign_id=42,
    )
    assert info == CampaignInfo(
        id=42,
        moderation_status=None,
        common_status=None,
        global_comment=None,
        deferred_to=None,
        created_at=None,
        start_send_at=None,
        end_send_at=None,
        is_deleted=False,
        counters=info.counters,
    )
    assert info.counters is not None
    assert info.counters.total_cost is None
    assert info.counters.messages == {"DELIVRD": 2}
    assert parse_campaign_info({"id": 7, "deletedTs": "2026-01-01 00:00:00"}).is_deleted
    assert parse_campaign_info({"id": 7, "isDeleted": "1"}).is_deleted
    with pytest.raises(MalformedAnswerError):
        parse_campaign_info({"moderationStatus": "MODERATION"})


async def test_unknown_campaign_is_a_typed_not_found(
    account: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """GetInfo of an unknown campaign raises MobizonCampaignNotFoundError carrying its id."""
    _sim, url = account
    with pytest.raises(MobizonCampaignNotFoundError) as caught:
        await make_client(url).get_campaign_info(999)
    assert (caught.value.campaign_id, caught.value.code) == (999, 2)
    assert isinstance(caught.value, MobizonNotFoundError)


# -- moderation ---------------------------------------------------------------------------


async def test_declined_campaign_is_seen_with_the_comment(
    account: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """A held campaign answers status 1, then getInfo shows DECLINED with the moderator's words."""
    sim, url = account
    sim.set_moderation(True)
    sim.set_moderation_timeline(None)
    client = make_client(url)
    sent = await client.send_sms(OutgoingSms(NUMBER, "buy now"))
    assert sent.awaiting_moderation
    sim.advance(3600)
    waiting = await client.get_campaign_info(sent.campaign_id)
    assert waiting.awaiting_moderation
    assert waiting.common_status == CommonStatus.MODERATION
    sim.moderate(sent.campaign_id, approve=False, comment="Forbidden content")
    declined = await client.get_campaign_info(sent.campaign_id)
    assert declined.declined
    assert declined.moderation_status == ModerationStatus.DECLINED
    assert declined.global_comment == "Forbidden content"
    sim.advance(3600)
    statuses = await client.get_sms_status([sent.message_id])
    assert statuses[sent.message_id].status == "NEW"


async def test_approved_campaign_goes_out(
    account: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """A held campaign approved by the moderator is READY_FOR_SEND, then delivered."""
    sim, url = account
    sim.set_moderation(True)
    sim.set_moderation_timeline(None)
    client = make_client(url)
    sent = await client.send_sms(OutgoingSms(NUMBER, "hello"))
    sim.moderate(sent.campaign_id, approve=True)
    info = await client.get_campaign_info(sent.campaign_id)
    assert info.moderation_status == ModerationStatus.READY_FOR_SEND
    assert not info.awaiting_moderation
    assert not info.declined
    sim.advance(5)
    statuses = await client.get_sms_status([sent.message_id])
    assert statuses[sent.message_id].status == "DELIVRD"


# -- campaign delete ----------------------------------------------------------------------


async def test_scheduled_campaign_is_deleted(
    account: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """A campaign scheduled in 2 hours is deleted; getInfo says so; a second delete is not found."""
    sim, url = account
    client = make_client(url)
    sent = await client.send_sms(OutgoingSms(NUMBER, "later", schedule=T0 + timedelta(hours=2)))
    await client.delete_campaign(sent.campaign_id)
    info = await client.get_campaign_info(sent.campaign_id)
    assert info.is_deleted
    assert (await client.get_balance()).amount == Decimal("10.0000")
    with pytest.raises(MobizonCampaignNotFoundError) as caught:
        await client.delete_campaign(sent.campaign_id)
    assert caught.value.campaign_id == sent.campaign_id
    sim.advance(3 * 3600)
    assert (await client.get_sms_status([sent.message_id]))[sent.message_id].status == "NEW"
    body = next(r.body for r in sim.requests if r.module == "campaign" and r.method == "delete")
    assert body == f"id={sent.campaign_id}".encode()


async def test_too_late_to_delete_is_typed(
    account: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """Inside the last 5 minutes, or once sent, delete raises MobizonCampaignNotDeletableError."""
    sim, url = account
    client = make_client(url)
    scheduled = await client.send_sms(
        OutgoingSms(NUMBER, "later", schedule=T0 + timedelta(hours=1))
    )
    sent = await client.send_sms(OutgoingSms(NUMBER, "now"))
    sim.advance(56 * 60)
    for campaign_id in (scheduled.campaign_id, sent.campaign_id):
        with pytest.raises(MobizonCampaignNotDeletableError) as caught:
            await client.delete_campaign(campaign_id)
        assert (caught.value.campaign_id, caught.value.code) == (campaign_id, 10)
    assert sim.count(CAMPAIGN_DELETE) == 2


@pytest.mark.parametrize("fault", ["drop", "truncate", "code 3", "html 502"])
async def test_delete_with_unknown_outcome_is_not_repeated(
    account: tuple[MobizonSimulator, str],
    make_client: ClientFactory,
    sleeps: Sleeps,
    fault: str,
) -> None:
    """A delete whose answer is lost is sent once and raises MobizonCampaignDeleteUnknownError."""
    sim, url = account
    client = make_client(url)
    sent = await client.send_sms(OutgoingSms(NUMBER, "later", schedule=T0 + timedelta(hours=2)))
    if fault == "drop":
        sim.drop_connection_next(method=CAMPAIGN_DELETE)
    elif fault == "truncate":
        sim.truncate_next(method=CAMPAIGN_DELETE)
    elif fault == "code 3":
        sim.fail_next(CAMPAIGN_DELETE, 3)
    else:
        sim.html_failure_next(status=502, method=CAMPAIGN_DELETE)
    with pytest.raises(MobizonCampaignDeleteUnknownError) as caught:
        await client.delete_campaign(sent.campaign_id)
    assert caught.value.outcome_unknown
    assert caught.value.campaign_id == sent.campaign_id
    assert isinstance(caught.value.cause, MobizonError)
    assert "may or may not have been deleted" in str(caught.value)
    assert "SMS" not in str(caught.value)
    assert sim.count(CAMPAIGN_DELETE) == 1
    assert sleeps.delays == []
    # the truncated answer came after the deletion took effect: getInfo tells the truth
    info = await client.get_campaign_info(sent.campaign_id)
    assert info.is_deleted == (fault == "truncate")


async def test_delete_never_sent_is_retried_and_plain(
    make_client: ClientFactory, sleeps: Sleeps
) -> None:
    """A refused connection proves nothing left: delete retries, then raises a MobizonNetworkError."""
    client = make_client(f"http://127.0.0.1:{free_port()}", retry=RetryPolicy(attempts=3))
    with pytest.raises(MobizonNetworkError) as caught:
        await client.delete_campaign(5)
    assert not isinstance(caught.value, MobizonCampaignDeleteUnknownError)
    assert caught.value.never_sent
    assert not caught.value.outcome_unknown
    assert len(sleeps.delays) == 2


async def test_delete_refusals_pass_through(
    account: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """A refused key on delete is a MobizonAuthError, and no deletion is in doubt."""
    _sim, url = account
    client = make_client(url, api_key="wrong-key")
    with pytest.raises(MobizonAuthError) as caught:
        await client.delete_campaign(5)
    assert not caught.value.outcome_unknown


async def test_request_observer_names_account_methods(
    account: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """The request observer names account methods module/method, Message methods bare."""
    _sim, url = account
    seen: list[str] = []
    client = make_client(url, on_request=lambda method, _outcome, _s: seen.append(method))
    sent = await client.send_sms(OutgoingSms(NUMBER, "later", schedule=T0 + timedelta(hours=2)))
    await client.get_balance()
    await client.list_sender_names()
    await client.get_campaign_info(sent.campaign_id)
    await client.delete_campaign(sent.campaign_id)
    assert seen == [
        "sendsmsmessage",
        "user/getownbalance",
        "alphaname/list",
        "campaign/getinfo",
        "campaign/delete",
    ]


# -- message cost, links, funds -----------------------------------------------------------


async def test_message_list_carries_the_segment_price(
    account: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """message/list items expose segUserBuy as a Decimal, and the message's cost."""
    _sim, url = account
    client = make_client(url)
    await client.send_sms(OutgoingSms(NUMBER, "y" * 200))
    [item] = (await client.list_messages()).items
    assert item.segment_price == Decimal("0.0950")
    assert item.cost == Decimal("0.1900")


async def test_shortened_links_are_stored_short(
    account: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """shorten_links=True sends params[shortenLinks]=1 and the stored text holds an mbz.io link."""
    sim, url = account
    client = make_client(url)
    sent = await client.send_sms(
        OutgoingSms(NUMBER, "See https://example.com/a?b=1.", shorten_links=True)
    )
    [item] = (await client.list_messages()).items
    assert item.text.startswith("See https://mbz.io/")
    assert item.text.endswith(".")
    short = item.text.removeprefix("See ").removesuffix(".")
    assert sim.short_links == {short: "https://example.com/a?b=1"}
    assert sim.messages[sent.message_id].shorten_links == 1


async def test_send_the_balance_cannot_pay_for_is_refused(
    account: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """With 0.05 left, a 0.0950 send is refused (code 1, "Insufficient funds"), nothing sent."""
    sim, url = account
    sim.set_balance("0.05")
    client = make_client(url)
    with pytest.raises(MobizonValidationError) as caught:
        await client.send_sms(OutgoingSms(NUMBER, "too dear"))
    assert caught.value.code == 1
    assert is_insufficient_funds(caught.value)
    assert "Insufficient funds" in str(caught.value)
    assert "The SMS was not sent." in str(caught.value)
    assert sim.messages == {}
    assert sim.count(SEND_SMS) == 1
    assert (await client.get_balance()).amount == Decimal("0.0500")


@pytest.mark.parametrize(
    ("code", "message", "data", "expected"),
    [
        (1, "Insufficient funds on the balance.", [], True),
        (15, "Saldo insuficiente para envio", [], True),
        (1, "Validation error.", {"balance": "Недостаточно средств на балансе"}, True),
        (1, "Validation error.", {"recipient": "Wrong number"}, False),
        (999, "General service error.", None, False),
    ],
)
def test_insufficient_funds_is_recognised_in_mobizons_words(
    code: int, message: str, data: object, expected: bool
) -> None:
    """is_insufficient_funds reads English, Portuguese and Russian wording, and nothing else."""
    assert is_insufficient_funds(error_for(code, message, data, sending=True)) is expected
