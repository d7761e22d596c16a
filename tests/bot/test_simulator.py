"""The Mobizon simulator behaves like the gateway: envelope, codes, lists, lifecycle, webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import re
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.mobizon import ListCriteria, MobizonTimeoutError, OutgoingSms, RetryPolicy, Sort, Timeouts
from bot.simulator import (
    DEFAULT_API_KEY,
    GET_SMS_STATUS,
    LIST,
    SEND_SMS,
    MobizonSimulator,
    SimulatorConfig,
    sign,
    start_simulator,
)
from bot.simulator._webhooks import WebhookOutbox
from testkit.waiting import wait_until
from tests.bot.conftest import ClientFactory, free_port, wall
from tests.conftest import MOBIZON_KEY

T0 = wall("2026-01-15 12:00:00")
SEED_SEND = "recipient=12223334455&text=Test+sms+message&from=YourAlpha&params%5Bvalidity%5D=1440"
SEED_STATUS = "ids%5B0%5D=123&ids%5B1%5D=556&ids%5B2%5D=988"
SEED_LIST = (
    "criteria%5Bfrom%5D=Alpha&pagination%5BcurrentPage%5D=2"
    "&pagination%5BpageSize%5D=50&sort%5BcampaignId%5D=ASC"
)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
WEBHOOK_SECRET = "simulated-webhook-secret"


async def call(
    session: aiohttp.ClientSession,
    url: str,
    method: str,
    body: str | list[tuple[str, str]] = "",
    *,
    key: str = MOBIZON_KEY,
) -> dict[str, Any]:
    """POST a form to ``<url>/service/message/<method>`` as the seed's curls do; decode the answer."""
    raw = body if isinstance(body, str) else urlencode(body)
    async with session.post(
        f"{url}/service/message/{method}",
        params={"output": "json", "api": "v1", "apiKey": key},
        data=raw,
        headers=FORM,
    ) as response:
        assert response.status == 200
        envelope: dict[str, Any] = json.loads(await response.read())
    return envelope


class Gateway:
    """A simulator served on a loopback port with a fixed clock, and raw HTTP access to it."""

    def __init__(self, sim: MobizonSimulator, url: str, session: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.url = url
        self.session = session

    async def call(
        self, method: str, body: str | list[tuple[str, str]] = "", *, key: str = MOBIZON_KEY
    ) -> dict[str, Any]:
        """POST a form to ``message/<method>``; return the decoded envelope."""
        return await call(self.session, self.url, method, body, key=key)

    async def data(self, method: str, body: str | list[tuple[str, str]] = "") -> Any:
        """POST and return ``data`` of a successful (code 0) answer."""
        envelope = await self.call(method, body)
        assert envelope["code"] == 0, envelope
        return envelope["data"]


@contextlib.asynccontextmanager
async def serve(config: SimulatorConfig) -> AsyncIterator[Gateway]:
    """Serve a fixed-clock simulator and yield raw access to it; clean up after."""
    sim, runner, url = await start_simulator(config, clock=lambda: T0)
    try:
        async with aiohttp.ClientSession() as session:
            yield Gateway(sim, url, session)
    finally:
        await runner.cleanup()


@pytest.fixture
def config() -> SimulatorConfig:
    """Speed 1, every message delivered, no moderation."""
    return SimulatorConfig(api_key=MOBIZON_KEY)


@pytest.fixture
async def gw(config: SimulatorConfig) -> AsyncIterator[Gateway]:
    """The simulator at a fixed time (it only moves with ``advance``)."""
    async with serve(config) as gateway:
        yield gateway


# -- envelope, numbers as strings, codes --------------------------------------------------


async def test_send_answers_the_envelope_with_strings_for_ids(gw: Gateway) -> None:
    """The seed's send answers code 0 with string ids and an integer campaign status 2."""
    envelope = await gw.call(SEND_SMS, SEED_SEND)
    assert envelope == {
        "code": 0,
        "data": {"campaignId": "855834", "messageId": "6300284", "status": 2},
        "message": "",
    }
    message = gw.sim.messages[6300284]
    assert (message.recipient, message.text, message.sender, message.validity) == (
        "12223334455",
        "Test sms message",
        "YourAlpha",
        1440,
    )


async def test_status_reports_strings_and_null_timestamps(gw: Gateway) -> None:
    """GetSMSStatus of a new message gives string id and segNum and null timestamps."""
    sent = await gw.data(SEND_SMS, SEED_SEND)
    data = await gw.data(GET_SMS_STATUS, [("ids[0]", sent["messageId"]), ("ids[1]", "1")])
    assert data == [
        {
            "id": sent["messageId"],
            "status": "NEW",
            "segNum": "1",
            "startSendTs": None,
            "statusUpdateTs": None,
        }
    ]


async def test_status_takes_ids_as_a_comma_string(gw: Gateway) -> None:
    """Ids may be one comma-separated string, as the seed allows; unknown ids are left out."""
    first = (await gw.data(SEND_SMS, SEED_SEND))["messageId"]
    second = (await gw.data(SEND_SMS, SEED_SEND))["messageId"]
    data = await gw.data(GET_SMS_STATUS, [("ids", f"{first}, 42,{second}")])
    assert [entry["id"] for entry in data] == [first, second]


async def test_wrong_key_is_code_8(gw: Gateway) -> None:
    """Any method called with a wrong API key answers code 8 failed.api.auth."""
    for method in (SEND_SMS, GET_SMS_STATUS, LIST):
        envelope = await gw.call(method, SEED_STATUS, key="wrong")
        assert envelope == {"code": 8, "data": [], "message": "failed.api.auth"}
    assert gw.sim.messages == {}


async def test_no_ids_is_code_2_and_101_ids_is_code_12(gw: Gateway) -> None:
    """GetSMSStatus answers code 2 without ids and code 12 for more than 100; 100 is fine."""
    assert (await gw.call(GET_SMS_STATUS, ""))["code"] == 2
    many = [(f"ids[{n}]", str(n + 1)) for n in range(101)]
    assert (await gw.call(GET_SMS_STATUS, many))["code"] == 12
    assert (await gw.call(GET_SMS_STATUS, many[:100]))["code"] == 0


async def test_invalid_send_is_code_1_naming_each_field(gw: Gateway) -> None:
    """A send with a bad number, no text, bad validity, time and class answers code 1 per field."""
    later = (T0 + timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M:%S")
    envelope = await gw.call(
        SEND_SMS,
        [
            ("recipient", "+55 11"),
            ("text", "  "),
            ("params[validity]", "30"),
            ("params[deferredToTs]", later),
            ("params[mclass]", "2"),
            ("params[shortenLinks]", "yes"),
        ],
    )
    assert envelope["code"] == 1
    assert set(envelope["data"]) == {
        "recipient",
        "text",
        "validity",
        "deferredToTs",
        "mclass",
        "shortenLinks",
    }
    assert all(isinstance(text, str) and text for text in envelope["data"].values())
    assert gw.sim.messages == {}


async def test_unknown_module_or_method(gw: Gateway) -> None:
    """Other modules and methods answer codes 4 and 5, like the gateway."""
    async with gw.session.post(
        f"{gw.url}/service/nosuchmodule/list", params={"apiKey": MOBIZON_KEY}
    ) as response:
        assert (await response.json())["code"] == 4
    async with gw.session.post(
        f"{gw.url}/service/campaign/list", params={"apiKey": MOBIZON_KEY}
    ) as response:
        assert (await response.json())["code"] == 5
    assert (await gw.call("delete", ""))["code"] == 5


async def test_forced_codes_and_rate_limits(gw: Gateway) -> None:
    """fail_next answers a chosen code and data once; rate_limit_next answers code 30."""
    gw.sim.fail_next(SEND_SMS, 12, data={"text": "too long"})
    gw.sim.rate_limit_next(LIST, times=2)
    assert await gw.call(SEND_SMS, SEED_SEND) == {
        "code": 12,
        "data": {"text": "too long"},
        "message": "A parameter violates a limit.",
    }
    assert (await gw.call(SEND_SMS, SEED_SEND))["code"] == 0
    codes = [(await gw.call(LIST, ""))["code"] for _ in range(3)]
    assert codes == [30, 30, 0]


async def test_rate_limit_per_second(gw: Gateway) -> None:
    """With at most 2 calls a second, a burst of 5 gets two answers and three code 30."""
    gw.sim.set_rate_limit(GET_SMS_STATUS, 2)
    envelopes = await asyncio.gather(*(gw.call(GET_SMS_STATUS, "ids=1") for _ in range(5)))
    assert sorted(envelope["code"] for envelope in envelopes) == [0, 0, 30, 30, 30]
    gw.sim.set_rate_limit(GET_SMS_STATUS, None)
    assert (await gw.call(GET_SMS_STATUS, "ids=1"))["code"] == 0


# -- list: pagination, fields, criteria, sort ---------------------------------------------


def fill(sim: MobizonSimulator, count: int) -> list[int]:
    """Create ``count`` messages directly; return their ids."""
    return [sim.create_message(f"55119876{n:05d}", f"text {n}").id for n in range(count)]


async def test_list_pages_are_0_based_in_sizes_25_50_100(gw: Gateway) -> None:
    """60 messages: page 0 of 25 has the first 25, page 2 the last 10, page 3 none; count "60"."""
    ids = [str(message_id) for message_id in fill(gw.sim, 60)]

    async def page(number: int, size: int) -> tuple[list[str], str]:
        data = await gw.data(
            LIST, [("pagination[currentPage]", str(number)), ("pagination[pageSize]", str(size))]
        )
        return [item["id"] for item in data["items"]], data["totalItemCount"]

    assert await page(0, 25) == (ids[:25], "60")
    assert await page(1, 25) == (ids[25:50], "60")
    assert await page(2, 25) == (ids[50:], "60")
    assert await page(3, 25) == ([], "60")
    assert await page(1, 50) == (ids[50:], "60")
    assert await page(0, 100) == (ids, "60")
    default = await gw.data(LIST, "")
    assert len(default["items"]) == 25
    for size in ("10", "200", "abc"):
        bad = await gw.call(LIST, [("pagination[pageSize]", size)])
        assert bad["code"] == 1
        assert "pageSize" in bad["data"]


async def test_list_items_have_every_field_as_the_gateway_writes_it(gw: Gateway) -> None:
    """Items carry the seed's fields with strings for numbers; number info is null unless asked."""
    gw.sim.create_message("5511987654321", "Olá", sender="Alpha", groups=("7", "9"))
    [item] = (await gw.data(LIST, ""))["items"]
    assert set(item) == {
        "id",
        "campaignId",
        "segNum",
        "segUserBuy",
        "from",
        "to",
        "text",
        "status",
        "groups",
        "uuid",
        "startSendTs",
        "statusUpdateTs",
        "countryA2",
        "operatorName",
    }
    assert (item["countryA2"], item["operatorName"]) == (None, None)
    [without] = (await gw.data(LIST, "withNumberInfo=0"))["items"]
    assert (without["countryA2"], without["operatorName"]) == (None, None)
    assert (item["id"], item["campaignId"], item["segNum"], item["segUserBuy"]) == (
        "6300284",
        "855834",
        "1",
        "0.0600",
    )
    assert (item["from"], item["to"], item["text"], item["groups"]) == (
        "Alpha",
        "5511987654321",
        "Olá",
        "7,9",
    )
    assert (item["status"], item["startSendTs"], item["statusUpdateTs"]) == ("NEW", None, None)
    assert re.fullmatch(r"[0-9a-f-]{36}", item["uuid"])
    [detailed] = (await gw.data(LIST, "withNumberInfo=1"))["items"]
    assert detailed["countryA2"] == "BR"
    assert "operatorName" in detailed


async def test_every_search_criterion_filters(gw: Gateway, make_client: ClientFactory) -> None:
    """Each criterion of the seed's table, sent by the client, selects the right messages."""
    sim = gw.sim
    a = sim.create_message("380971234567", "Hello", sender="Alpha", groups=("7",))
    sim.advance(3600)  # a is delivered an hour before the others are created
    b = sim.create_message("5511987654321", "Hello world", sender="Beta", groups=("9",))
    c = sim.create_message("5521987654321", "Hello", sender="Alpha", groups=("7", "9"))
    sim.set_status(c.id, "UNDELIV")
    client = make_client(gw.url)
    hour_ago = T0 + timedelta(minutes=30)

    async def ids(**criteria: Any) -> list[int]:
        page = await client.list_messages(ListCriteria(**criteria))
        assert page.total == len(page.items)
        return sorted(item.id for item in page.items)

    assert await ids() == [a.id, b.id, c.id]
    assert await ids(campaign_ids=(a.campaign_id, c.campaign_id)) == [a.id, c.id]
    assert await ids(sender="Alpha") == [a.id, c.id]
    assert await ids(recipient="38097") == [a.id]
    assert await ids(recipient="987654321") == [b.id, c.id]
    assert await ids(text="Hello") == [a.id, c.id]
    assert await ids(status="DELIVRD") == [a.id]
    assert await ids(status="UNDELIV") == [c.id]
    assert await ids(status="NEW") == [b.id]
    assert await ids(groups=("9",)) == [b.id, c.id]
    assert await ids(campaign_status="DONE") == [a.id, c.id]
    assert await ids(campaign_status="NOT_YET_SENT") == [b.id]
    assert await ids(campaign_created_from=hour_ago) == [b.id, c.id]
    assert await ids(campaign_created_to=hour_ago) == [a.id]
    assert await ids(campaign_sent_from=hour_ago) == [c.id]
    assert await ids(campaign_sent_to=hour_ago) == [a.id]
    assert await ids(sent_from=T0) == [a.id, c.id]
    assert await ids(sent_to=hour_ago) == [a.id]
    assert await ids(updated_from=hour_ago) == [c.id]
    assert await ids(updated_to=hour_ago) == [a.id]
    assert await ids(sender="Alpha", groups=("9",), status="UNDELIV") == [c.id]
    bad = await gw.call(LIST, [("criteria[startSendTsFrom]", "yesterday")])
    assert bad["code"] == 1


async def test_sort_by_each_field_both_ways(gw: Gateway, make_client: ClientFactory) -> None:
    """sort[field]=ASC|DESC orders the list; unsent messages (null times) come first ascending."""
    sim = gw.sim
    first = sim.create_message("5511900000003", "b " * 100, sender="Beta")
    sim.advance(10)
    second = sim.create_message("5511900000001", "c", sender="Alpha")
    third = sim.create_message("5511900000002", "a", sender="Gamma")
    client = make_client(gw.url)

    async def order(field: str, descending: bool = False) -> list[int]:
        page = await client.list_messages(sort=Sort(field, descending))
        return [item.id for item in page.items]

    assert await order("to") == [second.id, third.id, first.id]
    assert await order("to", descending=True) == [first.id, third.id, second.id]
    assert await order("from") == [second.id, first.id, third.id]
    assert await order("text") == [third.id, first.id, second.id]
    assert await order("segNum", descending=True) == [first.id, second.id, third.id]
    assert await order("campaignId", descending=True) == [third.id, second.id, first.id]
    assert await order("startSendTs") == [second.id, third.id, first.id]
    assert await order("statusUpdateTs", descending=True) == [first.id, second.id, third.id]
    assert await order("status") == [first.id, second.id, third.id]  # DELIVRD < NEW
    bad = await gw.call(LIST, [("sort[price]", "ASC")])
    assert bad["code"] == 1


# -- lifecycle -----------------------------------------------------------------------------


async def test_lifecycle_advances_with_time(gw: Gateway) -> None:
    """NEW -> ENQUEUD -> ACCEPTD -> DELIVRD as the clock advances, with timestamps set on the way."""
    message_id = int((await gw.data(SEND_SMS, SEED_SEND))["messageId"])

    async def status() -> tuple[str, str | None, str | None]:
        [entry] = await gw.data(GET_SMS_STATUS, f"ids={message_id}")
        return entry["status"], entry["startSendTs"], entry["statusUpdateTs"]

    assert await status() == ("NEW", None, None)
    gw.sim.advance(0.5)
    assert await status() == ("ENQUEUD", "2026-01-15 12:00:00", "2026-01-15 12:00:00")
    gw.sim.advance(0.5)
    assert await status() == ("ACCEPTD", "2026-01-15 12:00:00", "2026-01-15 12:00:00")
    gw.sim.advance(1.5)
    assert await status() == ("DELIVRD", "2026-01-15 12:00:00", "2026-01-15 12:00:02")
    gw.sim.advance(3600)
    assert (await status())[0] == "DELIVRD"


async def test_speed_makes_the_lifecycle_faster(gw: Gateway) -> None:
    """At speed 10 a message is final after 0.2 simulated seconds instead of 2."""
    gw.sim.set_speed(10.0)
    fast = gw.sim.create_message("5511987654321", "fast")
    gw.sim.set_speed(1.0)
    slow = gw.sim.create_message("5511987654321", "slow")
    gw.sim.advance(0.25)
    assert gw.sim.state(fast.id).status == "DELIVRD"
    assert gw.sim.state(slow.id).status == "ENQUEUD"


@pytest.mark.parametrize(
    ("rates", "path"),
    [
        ({"undelivered": 1.0}, ["ENQUEUD", "ACCEPTD", "UNDELIV"]),
        ({"rejected": 1.0}, ["ENQUEUD", "REJECTD"]),
        ({"expired": 1.0}, ["ENQUEUD", "ACCEPTD", "EXPIRED"]),
        ({}, ["ENQUEUD", "ACCEPTD", "DELIVRD"]),
    ],
)
async def test_failure_outcomes(gw: Gateway, rates: dict[str, float], path: list[str]) -> None:
    """Each failure outcome at rate 1 is reached through its own steps (REJECTD skips ACCEPTD)."""
    gw.sim.set_outcome_rates(**rates)
    message = gw.sim.create_message("5511987654321", "x")
    seen = ["NEW"]
    for _ in range(30):
        gw.sim.advance(0.1)
        status = gw.sim.state(message.id).status
        if status != seen[-1]:
            seen.append(status)
    assert seen == ["NEW", *path]


async def test_outcomes_follow_the_configured_rates() -> None:
    """Over 2000 messages the outcomes come out near the configured rates, reproducibly by seed."""

    def outcomes(seed: int) -> Counter[str]:
        sim = MobizonSimulator(
            SimulatorConfig(undelivered_rate=0.2, rejected_rate=0.1, expired_rate=0.05, seed=seed),
            clock=lambda: T0,
        )
        return Counter(sim.create_message("5511987654321", "x").outcome for _ in range(2000))

    counts = outcomes(7)
    assert counts == outcomes(7)
    assert 300 <= counts["UNDELIV"] <= 500
    assert 140 <= counts["REJECTD"] <= 260
    assert 60 <= counts["EXPIRED"] <= 140
    assert counts["DELIVRD"] == 2000 - counts["UNDELIV"] - counts["REJECTD"] - counts["EXPIRED"]


@pytest.mark.parametrize(
    "bad", [{"speed": 0.0}, {"latency": -1.0}, {"undelivered_rate": 0.7, "rejected_rate": 0.4}]
)
def test_config_refuses_nonsense(bad: dict[str, float]) -> None:
    """Speed 0, negative latency and rates summing over 1 are refused."""
    with pytest.raises(ValueError):
        SimulatorConfig(**bad)  # type: ignore[arg-type]


async def test_moderation_holds_the_campaign(gw: Gateway, make_client: ClientFactory) -> None:
    """With moderation on, send answers status 1 and the message waits in MODERATION, then goes."""
    gw.sim.set_moderation(True)
    client = make_client(gw.url)
    sent = await client.send_sms(OutgoingSms("5511987654321", "moderated"))
    assert sent.awaiting_moderation
    moderated = await client.list_messages(ListCriteria(campaign_status="MODERATION"))
    assert [item.id for item in moderated.items] == [sent.message_id]
    gw.sim.advance(0.9)
    assert gw.sim.state(sent.message_id).status == "NEW"
    gw.sim.advance(3.0)
    assert gw.sim.state(sent.message_id).status == "DELIVRD"


async def test_deferred_message_waits_for_its_time(gw: Gateway, make_client: ClientFactory) -> None:
    """A send deferred by two hours stays NEW (campaign DEFERRED) until then, then proceeds."""
    client = make_client(gw.url)
    sent = await client.send_sms(
        OutgoingSms("5511987654321", "later", schedule=T0 + timedelta(hours=2))
    )
    deferred = await client.list_messages(ListCriteria(campaign_status="DEFERRED"))
    assert [item.id for item in deferred.items] == [sent.message_id]
    gw.sim.advance(7199)
    assert (await client.get_sms_status([sent.message_id]))[sent.message_id].status == "NEW"
    gw.sim.advance(3)
    statuses = await client.get_sms_status([sent.message_id])
    assert statuses[sent.message_id].status == "DELIVRD"
    assert statuses[sent.message_id].start_send_at == T0 + timedelta(hours=2)


# -- webhooks ------------------------------------------------------------------------------


class Receiver:
    """A webhook endpoint on a loopback port that records bodies and answers queued statuses."""

    def __init__(self) -> None:
        self.bodies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.statuses: list[int] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        """Record the JSON body; answer the next queued status (default 200)."""
        await self.bodies.put(await request.json())
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    async def next(self) -> dict[str, Any]:
        """The next webhook body, waiting up to 10 s."""
        return await asyncio.wait_for(self.bodies.get(), 10)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A webhook receiver on a loopback port."""
    hooks = Receiver()
    app = web.Application()
    app.router.add_post("/mobizon/webhook", hooks.handle)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    hooks.url = str(server.make_url("/mobizon/webhook"))
    yield hooks
    await server.close()


async def test_signed_webhook_on_final_status(gw: Gateway, receiver: Receiver) -> None:
    """Reaching a final status POSTs Mobizon's delivery report, signed with the secret."""
    gw.sim.configure_webhook(receiver.url, WEBHOOK_SECRET)
    message_id = int((await gw.data(SEND_SMS, SEED_SEND))["messageId"])
    gw.sim.advance(1.0)
    assert await gw.sim.deliver_webhooks_now() == 0  # nothing is final yet
    assert receiver.bodies.empty()
    gw.sim.advance(1.5)
    body = await receiver.next()
    expected_sign = hashlib.sha1(  # noqa: S324 - Mobizon's algorithm
        f"{body['eventId']}|1|{body['eventCreateTs']}|{WEBHOOK_SECRET}".encode()
    ).hexdigest()
    assert body == {
        "eventId": 1,
        "eventType": "sms-delivery-report",
        "eventCreateTs": "2026-01-15 12:00:02",
        "webhookId": 1,
        "attempt": 1,
        "data": {
            "campaignId": 855834,
            "messageId": message_id,
            "segNum": 1,
            "statusUpdateTs": "2026-01-15 12:00:02",
            "status": "DELIVRD",
            "to": "12223334455",
        },
        "sign": expected_sign,
    }
    assert sign(1, 1, "2026-01-15 12:00:02", WEBHOOK_SECRET) == expected_sign


async def test_webhook_is_retried_with_the_same_event_until_accepted(
    gw: Gateway, receiver: Receiver
) -> None:
    """A 500 answer makes the simulator retry: same eventId, next attempt, new signature."""
    receiver.statuses = [500]
    gw.sim.configure_webhook(receiver.url, WEBHOOK_SECRET)
    message = gw.sim.create_message("5511987654321", "x")
    gw.sim.set_status(message.id, "REJECTD")
    first = await receiver.next()
    assert await gw.sim.deliver_webhooks_now() == 1
    second = await receiver.next()
    assert (first["eventId"], first["attempt"]) == (second["eventId"], 1)
    assert second["attempt"] == 2
    assert second["data"]["status"] == "REJECTD"
    assert second["sign"] == sign(second["eventId"], 2, second["eventCreateTs"], WEBHOOK_SECRET)
    assert [attempt.accepted for attempt in gw.sim.webhook_attempts] == [False, True]


async def test_webhook_gives_up_after_ten_retries(gw: Gateway) -> None:
    """An unreachable webhook URL is tried once and retried 10 times, like Mobizon, then left."""
    gw.sim.configure_webhook(f"http://127.0.0.1:{free_port()}/mobizon/webhook", WEBHOOK_SECRET)
    message = gw.sim.create_message("5511987654321", "x")
    gw.sim.set_status(message.id, "EXPIRED")
    for _ in range(13):
        await gw.sim.deliver_webhooks_now()
    attempts = gw.sim.webhook_attempts
    assert [attempt.attempt for attempt in attempts] == list(range(1, 12))
    assert {attempt.event_id for attempt in attempts} == {1}
    assert all(not attempt.accepted and attempt.error for attempt in attempts)


async def json_call(gw: Gateway, path: str, body: object, **query: str) -> dict[str, Any]:
    """POST ``body`` as JSON to ``/service/<path>``, as some published clients do."""
    params = {"output": "json", "api": "v1", "apiKey": MOBIZON_KEY, **query}
    async with gw.session.post(f"{gw.url}/service/{path}", params=params, json=body) as response:
        assert response.status == 200
        envelope: dict[str, Any] = json.loads(await response.read())
    return envelope


async def test_json_bodies_on_camelcase_paths_are_served(gw: Gateway) -> None:
    """JSON bodies to Message/SendSmsMessage, Message/GetSMSStatus and Message/List work like forms."""
    sent = await json_call(
        gw,
        "Message/SendSmsMessage",
        {"recipient": "5511987654321", "text": "Olá", "from": "Alpha", "params": {"validity": 60}},
    )
    assert sent["code"] == 0, sent
    message_id = int(sent["data"]["messageId"])
    assert gw.sim.messages[message_id].validity == 60
    assert gw.sim.messages[message_id].sender == "Alpha"

    status = await json_call(gw, "Message/GetSMSStatus", {"ids": [message_id, 1]})
    assert status["code"] == 0, status
    assert [entry["id"] for entry in status["data"]] == [str(message_id)]

    listed = await json_call(
        gw,
        "MESSAGE/list",
        {
            "criteria": {"to": "5511"},
            "pagination": {"currentPage": 0, "pageSize": 25},
            "sort": {"id": "DESC"},
            "withNumberInfo": 1,
        },
    )
    assert listed["code"] == 0, listed
    (item,) = listed["data"]["items"]
    assert (item["id"], item["countryA2"]) == (str(message_id), "BR")
    assert gw.sim.count("sendSmsMessage") == 1


async def test_json_body_may_carry_the_api_key(gw: Gateway) -> None:
    """The key in the JSON body is checked like the one in the query; a wrong one is code 8."""
    async with gw.session.post(
        f"{gw.url}/service/message/getSMSStatus",
        params={"output": "json"},
        json={"ids": "6300284", "apiKey": MOBIZON_KEY},
    ) as response:
        assert (await response.json())["code"] == 0
    async with gw.session.post(
        f"{gw.url}/service/message/getSMSStatus", json={"ids": [1], "apiKey": "wrong"}
    ) as response:
        assert (await response.json())["code"] == 8


async def test_webhook_retries_follow_mobizons_schedule_at_speed_1(receiver: Receiver) -> None:
    """Retries come 1, 2, 3 … 10 minutes apart (the last 55 min after the first try), then stop."""
    receiver.statuses = [500] * 20
    outbox = WebhookOutbox(receiver.url, WEBHOOK_SECRET)
    outbox.add({"messageId": 1, "status": "DELIVRD"}, "2026-01-15 12:00:02")
    tried_at: list[float] = []
    async with aiohttp.ClientSession() as session:
        clock = 0.0
        while clock <= 2 * 3600:  # an injected loop clock, walked in 10 s steps over two hours
            before = len(outbox.attempts)
            await outbox.send_due(session, now=T0, loop_time=clock, speed=1.0, everything=False)
            tried_at += [clock] * (len(outbox.attempts) - before)
            clock += 10.0
    assert [attempt.attempt for attempt in outbox.attempts] == list(range(1, 12))
    gaps = [later - earlier for earlier, later in itertools.pairwise(tried_at)]
    assert gaps == [60.0 * minutes for minutes in range(1, 11)]
    assert tried_at[-1] == 55 * 60.0
    assert outbox.events == []  # settled: nothing more is sent for it


async def test_webhook_retries_are_speed_times_faster(receiver: Receiver) -> None:
    """At --speed 60 the same schedule runs in seconds: 1 s, 2 s, 3 s … apart."""
    receiver.statuses = [500, 500, 500]
    outbox = WebhookOutbox(receiver.url, None)
    outbox.add({"messageId": 1}, "2026-01-15 12:00:02")
    tried_at: list[float] = []
    async with aiohttp.ClientSession() as session:
        for clock in (0.0, 0.5, 0.9, 1.0, 2.9, 3.0, 5.9, 6.0):
            before = len(outbox.attempts)
            await outbox.send_due(session, now=T0, loop_time=clock, speed=60.0, everything=False)
            tried_at += [clock] * (len(outbox.attempts) - before)
    assert tried_at == [0.0, 1.0, 3.0, 6.0]
    assert [attempt.accepted for attempt in outbox.attempts] == [False, False, False, True]


async def test_unsigned_webhook_without_secret(receiver: Receiver, config: SimulatorConfig) -> None:
    """With webhook_url in the config and no secret, reports are sent without a sign field."""
    configured = SimulatorConfig(api_key=config.api_key, webhook_url=receiver.url)
    async with serve(configured) as gateway:
        message = gateway.sim.create_message("5511987654321", "x")
        gateway.sim.advance(5)
        body = await receiver.next()
        assert body["data"]["messageId"] == message.id
        assert "sign" not in body


# -- switches ------------------------------------------------------------------------------


async def test_latency_switch_delays_one_method(gw: Gateway, make_client: ClientFactory) -> None:
    """A latency on list makes a short-timeout list fail while status still answers in time."""
    gw.sim.set_latency(1.0, method=LIST)  # two and a half times the client's total timeout
    client = make_client(
        gw.url, timeouts=Timeouts(connect=1.0, total=0.4), retry=RetryPolicy(attempts=1)
    )
    assert await client.get_sms_status([1]) == {}
    with pytest.raises(MobizonTimeoutError):
        await client.list_messages()
    gw.sim.set_latency(0.0, method=LIST)
    assert (await client.list_messages()).total == 0


async def test_html_failure_switch(gw: Gateway) -> None:
    """html_failure_next answers an nginx error page with the given status, then JSON again."""
    gw.sim.html_failure_next(times=2, status=503)
    for _ in range(2):
        async with gw.session.post(f"{gw.url}/service/message/list") as response:
            assert response.status == 503
            assert response.content_type == "text/html"
            assert "503 Service Unavailable" in await response.text()
    assert (await gw.call(LIST, ""))["code"] == 0


async def test_truncate_switch_sends_half_the_json_after_acting(gw: Gateway) -> None:
    """truncate_next cuts the answer after the send took effect: the message exists."""
    gw.sim.truncate_next(method=SEND_SMS, close_connection=False)
    async with gw.session.post(
        f"{gw.url}/service/message/sendsmsmessage",
        params={"apiKey": MOBIZON_KEY},
        data=SEED_SEND,
        headers=FORM,
    ) as response:
        raw = await response.read()
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    assert raw.startswith(b'{"code": 0')
    assert len(gw.sim.messages) == 1


async def test_drop_switch_closes_without_acting(gw: Gateway) -> None:
    """drop_connection_next closes the connection unanswered, and the send had no effect."""
    gw.sim.drop_connection_next(method=SEND_SMS)
    with pytest.raises(aiohttp.ClientError):
        await gw.call(SEND_SMS, SEED_SEND)
    assert gw.sim.messages == {}
    assert gw.sim.count(SEND_SMS) == 1


async def test_requests_are_recorded(gw: Gateway) -> None:
    """Every request is recorded with its method, decoded params and raw body; repr hides the key."""
    await gw.call(SEND_SMS, SEED_SEND)
    [request] = gw.sim.requests
    assert (request.module, request.method, request.http_method) == ("message", SEND_SMS, "POST")
    assert request.body == SEED_SEND.encode()
    assert request.params == {
        "recipient": "12223334455",
        "text": "Test sms message",
        "from": "YourAlpha",
        "params": {"validity": "1440"},
    }
    assert MOBIZON_KEY not in repr(request)
    assert MOBIZON_KEY not in repr(gw.sim.config)


# -- standalone ------------------------------------------------------------------------------


async def test_standalone_simulator_answers_the_seed_requests(tmp_path: Path) -> None:
    """`python -m bot simulator --port 0` starts, answers the seed's curls, codes 8, 2 and 12, stops."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "simulator",
        "--port",
        "0",
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        found = re.fullmatch(r"Mobizon simulator on (http://\S+) \(API key (\S+)\)\n", line)
        assert found, line
        url, key = found.groups()
        assert key == DEFAULT_API_KEY
        async with aiohttp.ClientSession() as session:
            sent = await call(session, url, SEND_SMS, SEED_SEND, key=key)
            assert sent["code"] == 0
            assert sent["data"]["status"] == 2
            message_id = sent["data"]["messageId"]
            statuses = await call(session, url, GET_SMS_STATUS, SEED_STATUS, key=key)
            assert statuses == {"code": 0, "data": [], "message": ""}
            own = await call(session, url, GET_SMS_STATUS, f"ids%5B0%5D={message_id}", key=key)
            assert own["data"][0]["id"] == message_id
            listed = await call(session, url, LIST, SEED_LIST, key=key)
            assert listed == {
                "code": 0,
                "data": {"items": [], "totalItemCount": "0"},
                "message": "",
            }
            mine = await call(session, url, LIST, "criteria%5Bfrom%5D=YourAlpha", key=key)
            assert [item["id"] for item in mine["data"]["items"]] == [message_id]
            assert (await call(session, url, GET_SMS_STATUS, SEED_STATUS, key="wrong"))["code"] == 8
            assert (await call(session, url, GET_SMS_STATUS, "", key=key))["code"] == 2
            many = "&".join(f"ids%5B{n}%5D={n}" for n in range(101))
            assert (await call(session, url, GET_SMS_STATUS, many, key=key))["code"] == 12
    finally:
        if process.returncode is None:
            process.terminate()
        _, errors = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, errors.decode()


async def test_held_answers_wait_for_release(gw: Gateway, make_client: ClientFactory) -> None:
    """hold() keeps every answer back (the request is recorded) until release() lets it go."""
    client = make_client(gw.url)
    gw.sim.hold()
    asked = asyncio.create_task(client.get_sms_status([1]))
    await wait_until(lambda: gw.sim.count("getSmsStatus") == 1, what="the request")
    for _ in range(20):
        await asyncio.sleep(0.01)
    assert not asked.done()
    gw.sim.release()
    assert await asked == {}


async def test_a_held_method_waits_while_others_answer(
    gw: Gateway, make_client: ClientFactory
) -> None:
    """hold(method=...) keeps back only that method's answers, until released (by name or all)."""
    client = make_client(gw.url)
    gw.sim.hold(method="getSmsStatus")
    asked = asyncio.create_task(client.get_sms_status([1]))
    await wait_until(lambda: gw.sim.count("getSmsStatus") == 1, what="the request")
    assert (await client.list_messages()).total == 0  # another method answers meanwhile
    assert not asked.done()
    gw.sim.release(method="getSmsStatus")
    assert await asked == {}
    gw.sim.hold(method="getSmsStatus")
    asked = asyncio.create_task(client.get_sms_status([1]))
    await wait_until(lambda: gw.sim.count("getSmsStatus") == 2, what="the second request")
    assert not asked.done()
    gw.sim.release()  # releasing everything releases a held method too
    assert await asked == {}
