"""The Mobizon client's wire format, proven on the bytes a loopback gateway receives."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest

from bot.mobizon import ListCriteria, MessageItem, OutgoingSms, SmsStatus, Sort
from bot.simulator import MobizonSimulator
from tests.bot.conftest import CaptureGateway, ClientFactory, Reply, wall
from tests.conftest import MOBIZON_KEY

FORM = "application/x-www-form-urlencoded"
TRICKY_TEXT = (
    "Pay R$ 10 & get 5% off + free? a/b \\ c #1 \"quoted\" 'single'\n"
    "line two\r\nação é ü ñ 😀 👍🏽 end="
)


def fields(body: bytes) -> list[str]:
    """The ``key=value`` parts of a form body, sorted: the seed's bytes, order aside."""
    return sorted(body.decode("ascii").split("&"))


async def test_get_sms_status_body_equals_seed_curl(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """GetSMSStatus for ids 123, 556, 988 puts the seed's exact bytes on the wire."""
    client = make_client(gateway.url)
    await client.get_sms_status([123, 556, 988])
    [request] = gateway.requests
    assert fields(request.body) == fields(b"ids%5B0%5D=123&ids%5B1%5D=556&ids%5B2%5D=988")


async def test_send_sms_body_equals_seed_curl(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """SendSmsMessage with sender and validity puts the seed's exact bytes on the wire."""
    client = make_client(gateway.url)
    await client.send_sms(
        OutgoingSms("12223334455", "Test sms message", sender="YourAlpha", validity=1440)
    )
    [request] = gateway.requests
    assert fields(request.body) == fields(
        b"recipient=12223334455&text=Test+sms+message&from=YourAlpha&params%5Bvalidity%5D=1440"
    )


async def test_list_body_equals_seed_curl(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """message/list with sender, page 2 of 50 and campaignId ascending matches the seed's bytes."""
    client = make_client(gateway.url)
    await client.list_messages(
        ListCriteria(sender="Alpha"), page=2, page_size=50, sort=Sort("campaignId")
    )
    [request] = gateway.requests
    assert fields(request.body) == fields(
        b"criteria%5Bfrom%5D=Alpha&pagination%5BcurrentPage%5D=2"
        b"&pagination%5BpageSize%5D=50&sort%5BcampaignId%5D=ASC"
    )


@pytest.mark.parametrize("method", ["sendsmsmessage", "getsmsstatus", "list"])
async def test_every_method_posts_a_form_to_the_lowercased_path(
    gateway: CaptureGateway, make_client: ClientFactory, method: str
) -> None:
    """Each method is a form POST to /service/message/<lowercase> with output, api and apiKey."""
    client = make_client(gateway.url)
    if method == "sendsmsmessage":
        await client.send_sms(OutgoingSms("12223334455", "hi"))
    elif method == "getsmsstatus":
        await client.get_sms_status([1])
    else:
        await client.list_messages()
    [request] = gateway.requests
    assert request.http_method == "POST"
    assert request.path == f"/service/message/{method}"
    assert request.query == {"output": "json", "api": "v1", "apiKey": MOBIZON_KEY}
    assert request.content_type == FORM


async def test_tricky_text_is_encoded_like_php(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """Reserved characters, quotes, newlines, accents and emoji are percent-encoded, never raw."""
    client = make_client(gateway.url)
    await client.send_sms(OutgoingSms("12223334455", TRICKY_TEXT))
    [request] = gateway.requests
    raw = request.body.decode("ascii")  # UTF-8 percent-encoded: plain ASCII on the wire
    assert raw.count("&") == 1  # only the separator between recipient and text
    assert "#" not in raw
    assert "?" not in raw
    assert dict(parse_qsl(raw, keep_blank_values=True))["text"] == TRICKY_TEXT


async def test_tricky_text_arrives_unchanged_at_the_gateway(
    simulator: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """The simulated gateway stores the tricky text exactly and lists it back exactly."""
    sim, url = simulator
    client = make_client(url)
    sent = await client.send_sms(OutgoingSms("5511987654321", TRICKY_TEXT))
    assert sim.messages[sent.message_id].text == TRICKY_TEXT
    page = await client.list_messages(ListCriteria(text=TRICKY_TEXT))
    assert [item.text for item in page.items] == [TRICKY_TEXT]


async def test_send_sends_only_the_parameters_given(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """Without options only recipient and text go out; with all, each lands in its params[] key."""
    client = make_client(gateway.url)
    await client.send_sms(OutgoingSms("12223334455", "hello"))
    await client.send_sms(
        OutgoingSms(
            "12223334455",
            "hello",
            sender="Alpha",
            campaign_name="Campaign one",
            schedule=wall("2026-12-24 18:30:05"),
            validity=60,
            flash=True,
            shorten_links=True,
        )
    )
    bare, full = (parse_qsl(body.decode()) for body in gateway.bodies("sendsmsmessage"))
    assert bare == [("recipient", "12223334455"), ("text", "hello")]
    assert dict(full) == {
        "recipient": "12223334455",
        "text": "hello",
        "from": "Alpha",
        "params[name]": "Campaign one",
        "params[deferredToTs]": "2026-12-24 18:30:05",
        "params[validity]": "60",
        "params[mclass]": "0",
        "params[shortenLinks]": "1",
    }


async def test_every_search_criterion_reaches_the_wire(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """Each field of ListCriteria becomes its criteria[...] key of the seed's table, formatted."""
    client = make_client(gateway.url)
    moment = wall("2026-01-15 11:42:08")
    criteria = ListCriteria(
        campaign_ids=(855834, 855835),
        sender="Alpha",
        recipient="38097",
        text="Exact text & more",
        status="DELIVRD",
        groups=("7", "9"),
        campaign_status="DONE",
        campaign_created_from=moment,
        campaign_created_to=moment.replace(hour=12),
        campaign_sent_from=moment.replace(hour=13),
        campaign_sent_to=moment.replace(hour=14),
        sent_from=moment.replace(hour=15),
        sent_to=moment.replace(hour=16),
        updated_from=moment.replace(hour=17),
        updated_to=moment.replace(hour=18),
    )
    await client.list_messages(
        criteria, page=0, page_size=100, sort=Sort("statusUpdateTs", descending=True)
    )
    [body] = gateway.bodies("list")
    pairs = parse_qsl(body.decode(), keep_blank_values=True)
    assert len(pairs) == len(dict(pairs))  # no key repeated: PHP would keep only the last
    assert dict(pairs) == {
        "criteria[campaignIds]": "855834,855835",
        "criteria[from]": "Alpha",
        "criteria[to]": "38097",
        "criteria[text]": "Exact text & more",
        "criteria[status]": "DELIVRD",
        "criteria[groups]": "7,9",
        "criteria[campaignStatus]": "DONE",
        "criteria[campaignCreateTsFrom]": "2026-01-15 11:42:08",
        "criteria[campaignCreateTsTo]": "2026-01-15 12:42:08",
        "criteria[campaignSentTsFrom]": "2026-01-15 13:42:08",
        "criteria[campaignSentTsTo]": "2026-01-15 14:42:08",
        "criteria[startSendTsFrom]": "2026-01-15 15:42:08",
        "criteria[startSendTsTo]": "2026-01-15 16:42:08",
        "criteria[statusUpdateTsFrom]": "2026-01-15 17:42:08",
        "criteria[statusUpdateTsTo]": "2026-01-15 18:42:08",
        "pagination[currentPage]": "0",
        "pagination[pageSize]": "100",
        "sort[statusUpdateTs]": "DESC",
    }


async def test_list_defaults_and_number_info(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """No criteria: page 0 of 25 and no sort; with_number_info adds withNumberInfo=1."""
    client = make_client(gateway.url)
    await client.list_messages()
    await client.list_messages(with_number_info=True)
    plain, with_info = (parse_qsl(body.decode()) for body in gateway.bodies("list"))
    assert plain == [("pagination[currentPage]", "0"), ("pagination[pageSize]", "25")]
    assert ("withNumberInfo", "1") in with_info


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"page_size": 30}, "page_size"),
        ({"page": -1}, "page"),
        ({"sort": Sort("price")}, "sort field"),
    ],
)
async def test_list_refuses_what_mobizon_would_reject_before_any_request(
    gateway: CaptureGateway, make_client: ClientFactory, options: dict[str, object], complaint: str
) -> None:
    """A page size other than 25/50/100, a negative page or an unknown sort field never leave."""
    client = make_client(gateway.url)
    with pytest.raises(ValueError, match=complaint):
        await client.list_messages(**options)  # type: ignore[arg-type]
    assert gateway.requests == []


async def test_no_ids_make_no_request(gateway: CaptureGateway, make_client: ClientFactory) -> None:
    """get_sms_status of no ids answers an empty dict without asking Mobizon (which says code 2)."""
    client = make_client(gateway.url)
    assert await client.get_sms_status([]) == {}
    assert gateway.requests == []


async def test_send_answer_with_strings_for_numbers(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """The send answer's ids come as strings and its campaign status 1 means awaiting moderation."""
    gateway.reply(Reply.envelope(0, {"campaignId": "855834", "messageId": "6300284", "status": 1}))
    gateway.reply(Reply.envelope(0, {"campaignId": 855835, "messageId": 6300285, "status": "2"}))
    client = make_client(gateway.url)
    moderated = await client.send_sms(OutgoingSms("12223334455", "one"))
    sent = await client.send_sms(OutgoingSms("12223334455", "two"))
    assert (moderated.message_id, moderated.campaign_id, moderated.campaign_status) == (
        6300284,
        855834,
        1,
    )
    assert moderated.awaiting_moderation
    assert (sent.message_id, sent.campaign_id, sent.campaign_status) == (6300285, 855835, 2)
    assert not sent.awaiting_moderation


async def test_status_answer_tolerates_every_known_shape(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """Statuses parse from strings or ints, null or dashed timestamps, and unknown statuses stay."""
    gateway.reply(
        Reply.envelope(
            0,
            [
                {
                    "id": "123",
                    "status": "DELIVRD",
                    "segNum": "1",
                    "startSendTs": "2026-01-15 11:42:00",
                    "statusUpdateTs": "2026-01-15 11:42:08",
                },
                {
                    "id": 556,
                    "status": "NEW",
                    "segNum": 2,
                    "startSendTs": None,
                    "statusUpdateTs": None,
                },
                {
                    "id": "988",
                    "status": "UNKNOWN",
                    "segNum": None,
                    "startSendTs": "2026-01-15 11-40-00",
                    "statusUpdateTs": "0000-00-00 00:00:00",
                },
            ],
        )
    )
    client = make_client(gateway.url)
    statuses = await client.get_sms_status([123, 556, 988, 4])
    assert statuses == {
        123: SmsStatus(123, "DELIVRD", 1, wall("2026-01-15 11:42:00"), wall("2026-01-15 11:42:08")),
        556: SmsStatus(556, "NEW", 2, None, None),
        988: SmsStatus(988, "UNKNOWN", None, wall("2026-01-15 11:40:00"), None),
    }


async def test_status_answer_as_php_object_is_a_list(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """A PHP array that arrives as a JSON object keyed by index still reads as the statuses."""
    gateway.reply(
        Reply.envelope(0, {"0": {"id": "7", "status": "ACCEPTD", "segNum": "1"}}),
    )
    client = make_client(gateway.url)
    statuses = await client.get_sms_status([7])
    assert statuses[7].status == "ACCEPTD"


SEED_ITEM = {
    "id": "6300284",
    "campaignId": "855834",
    "segNum": "2",
    "segUserBuy": "0.0600",
    "from": "Alpha",
    "to": "12223334455",
    "text": "Test sms message",
    "status": "DELIVRD",
    "groups": "7,9",
    "uuid": "3f0a37cf-5e27-4e06-9550-4b6d700b4b65",
    "countryA2": "US",
    "operatorName": "Verizon",
    "startSendTs": "2026-01-15 11:42:00",
    "statusUpdateTs": "2026-01-15 11:42:08",
}


async def test_list_parses_every_field_of_the_seed(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """Every field of the seed's List of Messages is read, numbers from strings or ints."""
    unsent = {
        "id": 6300285,
        "campaignId": 855835,
        "segNum": 1,
        "segUserBuy": 0.06,
        "from": "Alpha",
        "to": "5511987654321",
        "text": "Later",
        "status": "PENDING_REVIEW",
        "groups": None,
        "uuid": None,
        "startSendTs": None,
        "statusUpdateTs": None,
    }
    gateway.reply(Reply.envelope(0, {"items": [SEED_ITEM, unsent], "totalItemCount": "57"}))
    client = make_client(gateway.url)
    page = await client.list_messages(page=1, page_size=50)
    assert page.total == 57
    assert (page.page, page.page_size, page.page_count) == (1, 50, 2)
    assert page.items == (
        MessageItem(
            id=6300284,
            campaign_id=855834,
            segments=2,
            segment_price=Decimal("0.0600"),
            sender="Alpha",
            recipient="12223334455",
            text="Test sms message",
            status="DELIVRD",
            groups="7,9",
            uuid="3f0a37cf-5e27-4e06-9550-4b6d700b4b65",
            country="US",
            operator="Verizon",
            start_send_at=wall("2026-01-15 11:42:00"),
            status_updated_at=wall("2026-01-15 11:42:08"),
        ),
        MessageItem(
            id=6300285,
            campaign_id=855835,
            segments=1,
            segment_price=Decimal("0.06"),
            sender="Alpha",
            recipient="5511987654321",
            text="Later",
            status="PENDING_REVIEW",
            groups=None,
            uuid=None,
            country=None,
            operator=None,
            start_send_at=None,
            status_updated_at=None,
        ),
    )


async def test_list_of_nothing(gateway: CaptureGateway, make_client: ClientFactory) -> None:
    """An empty page (items [] or null, count "0") is an empty result of one page."""
    gateway.reply(Reply.envelope(0, {"items": None, "totalItemCount": "0"}))
    client = make_client(gateway.url)
    page = await client.list_messages()
    assert (page.items, page.total, page.page_count) == ((), 0, 1)


async def test_times_go_out_and_come_back_in_the_account_zone(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """With the account's zone, aware times are sent as its wall time and times read carry it."""
    from datetime import UTC  # noqa: PLC0415
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    sao_paulo = ZoneInfo("America/Sao_Paulo")
    client = make_client(gateway.url, timezone=sao_paulo)
    at = datetime(2026, 12, 1, 17, 30, tzinfo=UTC)  # 14:30 in São Paulo
    await client.send_sms(OutgoingSms("12223334455", "hello", schedule=at))
    (sent,) = gateway.bodies("sendsmsmessage")
    assert dict(parse_qsl(sent.decode()))["params[deferredToTs]"] == "2026-12-01 14:30:00"

    gateway.reply(Reply.envelope(0, {"items": [], "totalItemCount": "0"}))
    await client.list_messages(
        ListCriteria(sent_from=at, sent_to=wall("2026-12-01 23:59:59")), page_size=25
    )
    (listed,) = gateway.bodies("list")
    criteria = dict(parse_qsl(listed.decode()))
    assert criteria["criteria[startSendTsFrom]"] == "2026-12-01 14:30:00"
    assert criteria["criteria[startSendTsTo]"] == "2026-12-01 23:59:59"  # naive: as typed

    gateway.reply(
        Reply.envelope(
            0,
            [
                {
                    "id": "1",
                    "status": "DELIVRD",
                    "segNum": "1",
                    "startSendTs": "2026-12-01 14:30:00",
                    "statusUpdateTs": "2026-12-01 14:30:07",
                }
            ],
        )
    )
    status = (await client.get_sms_status([1]))[1]
    assert status.status_updated_at == datetime(2026, 12, 1, 14, 30, 7, tzinfo=sao_paulo)
    assert status.start_send_at is not None
    assert status.start_send_at.tzname() == "-03"
