"""The simulator answers a send to many's campaign methods as Mobizon's docs say, over HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.simulator import MobizonSimulator, SimulatorConfig, start_simulator
from tests.bot.conftest import wall
from tests.conftest import MOBIZON_KEY

T0 = wall("2026-01-15 12:00:00")
STOPPED = "5521999990005"


class Campaigns:
    """A fixed-clock simulator on a loopback port, called with raw forms."""

    def __init__(self, sim: MobizonSimulator, url: str, session: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.url = url
        self.session = session

    async def call(self, method: str, pairs: list[tuple[str, str]]) -> dict[str, Any]:
        """POST ``pairs`` to ``campaign/<method>``; return the decoded envelope."""
        async with self.session.post(
            f"{self.url}/service/campaign/{method}",
            params={"output": "json", "api": "v1", "apiKey": MOBIZON_KEY},
            data=urlencode(pairs),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as response:
            assert response.status == 200
            envelope: dict[str, Any] = json.loads(await response.read())
        return envelope

    async def create(self, text: str, kind: int = 2, **data: str) -> int:
        """Create a campaign; its id."""
        pairs = [("data[type]", str(kind)), ("data[text]", text)]
        pairs += [(f"data[{key}]", value) for key, value in data.items()]
        envelope = await self.call("create", pairs)
        assert envelope["code"] == 0, envelope
        return int(envelope["data"])


@pytest.fixture
async def gw() -> AsyncIterator[Campaigns]:
    """The simulator with one number on its stop list, at a fixed time."""
    config = SimulatorConfig(api_key=MOBIZON_KEY, stop_list=frozenset({STOPPED}))
    sim, runner, url = await start_simulator(config, clock=lambda: T0)
    try:
        async with aiohttp.ClientSession() as session:
            yield Campaigns(sim, url, session)
    finally:
        await runner.cleanup()


def template_rows(count: int, start: int = 0) -> list[tuple[str, str]]:
    """``recipients[i][recipient]``, ``[nome]`` and ``[pedido]`` for ``count`` recipients."""
    pairs: list[tuple[str, str]] = []
    for index in range(count):
        pairs += [
            (f"recipients[{index}][recipient]", f"55119{start + index:08d}"),
            (f"recipients[{index}][nome]", f"Ana {index}"),
            (f"recipients[{index}][pedido]", str(index)),
        ]
    return pairs


async def test_a_request_of_more_than_1000_fields_is_read(gw: Campaigns) -> None:
    """500 template recipients with two values (1,502 fields) are all added, each text filled."""
    campaign_id = await gw.create("Oi {nome}, pedido {pedido}", kind=3)
    pairs = [("id", str(campaign_id)), *template_rows(500), ("params[placeholdersFlag]", "3")]
    assert len(pairs) > 1000
    envelope = await gw.call("addrecipients", pairs)
    assert envelope["code"] == 0
    rows = envelope["data"]
    assert len(rows) == 500
    assert rows[499] == {
        "recipient": "5511900000499",
        "code": 0,
        "messageId": rows[499]["messageId"],
        "number": "5511900000499",
    }
    assert gw.sim.messages[int(rows[499]["messageId"])].text == "Oi Ana 499, pedido 499"


@pytest.mark.parametrize(
    ("flag", "code", "text"),
    [("1", 0, "Oi Bia, pedido {pedido}"), ("2", 0, "Oi Bia, pedido "), ("3", 20, None)],
)
async def test_missing_placeholders_follow_the_flag(
    gw: Campaigns, flag: str, code: int, text: str | None
) -> None:
    """A value missing is kept as typed (1), removed (2) or refuses the recipient (3, code 20)."""
    campaign_id = await gw.create("Oi {nome}, pedido {pedido}", kind=3)
    envelope = await gw.call(
        "addrecipients",
        [
            ("id", str(campaign_id)),
            ("recipients[0][recipient]", "5511900000001"),
            ("recipients[0][nome]", "Bia"),
            ("params[placeholdersFlag]", flag),
        ],
    )
    row = envelope["data"][0]
    assert (envelope["code"], row["code"]) == ((0, code) if code == 0 else (99, code))
    if text is None:
        assert row["messageId"] is None
    else:
        assert gw.sim.messages[int(row["messageId"])].text == text


async def test_bulk_recipients_as_a_string_and_their_codes(gw: Campaigns) -> None:
    """A comma string is read too; stop list (5), bad number (3), duplicate (4): code 98."""
    campaign_id = await gw.create("Aviso")
    envelope = await gw.call(
        "addrecipients",
        [
            ("id", str(campaign_id)),
            ("recipients", f"+55 11 90000-0001,{STOPPED},123,5511900000001"),
        ],
    )
    assert envelope["code"] == 98
    assert envelope["message"]
    assert [(row["recipient"], row["code"]) for row in envelope["data"]] == [
        ("5511900000001", 0),
        (STOPPED, 5),
        ("123", 3),
        ("5511900000001", 4),
    ]
    assert envelope["data"][0]["number"] == "+55 11 90000-0001"


async def test_requests_mobizon_refuses(gw: Campaigns) -> None:
    """Over 500 recipients (12), none (11), an unknown campaign (2), a wrong option (1)."""
    campaign_id = await gw.create("Aviso")
    many = [(f"recipients[{index}]", f"55119{index:08d}") for index in range(501)]
    assert (await gw.call("addrecipients", [("id", str(campaign_id)), *many]))["code"] == 12
    assert (await gw.call("addrecipients", [("id", str(campaign_id))]))["code"] == 11
    unknown = [("id", "999"), ("recipients[0]", "5511900000001")]
    assert (await gw.call("addrecipients", unknown))["code"] == 2
    assert (await gw.call("send", [("id", "999")]))["code"] == 2
    refused = await gw.call("create", [("data[text]", "Oi"), ("data[validity]", "30")])
    assert (refused["code"], list(refused["data"])) == (1, ["validity"])
    # nothing added yet: the campaign cannot be sent
    assert (await gw.call("send", [("id", str(campaign_id))]))["code"] == 10


async def test_campaign_info_counts_its_messages(gw: Campaigns) -> None:
    """Getinfo of a campaign of many sums its messages; it is DONE once every one is final."""
    campaign_id = await gw.create("Aviso")
    added = [("id", str(campaign_id)), ("recipients[0]", "5511900000001")]
    added.append(("recipients[1]", "5511900000002"))
    assert (await gw.call("addrecipients", added))["code"] == 0
    before = await gw.call("getinfo", [("id", str(campaign_id))])
    assert before["data"]["counters"]["totalNewMsgNum"] == "2"
    assert (await gw.call("send", [("id", str(campaign_id))]))["data"] == 2
    gw.sim.advance(3)
    after = (await gw.call("getinfo", [("id", str(campaign_id))]))["data"]
    assert after["commonStatus"] == "DONE"
    assert after["counters"]["totalDelivrdMsgNum"] == "2"
    assert after["counters"]["totalCost"] == "0.1200"
    assert gw.sim.balance == Decimal("10000.0000") - Decimal("0.1200")
    # the campaign is sent: no more recipients, no second send, no deletion
    assert (await gw.call("addrecipients", added))["code"] == 10
    assert (await gw.call("send", [("id", str(campaign_id))]))["code"] == 10
    assert (await gw.call("delete", [("id", str(campaign_id))]))["code"] == 10


async def test_unsent_campaign_is_deleted(gw: Campaigns) -> None:
    """A campaign not sent yet is deleted: its messages never go out, it is no longer found."""
    campaign_id = await gw.create("Aviso")
    rows = (
        await gw.call(
            "addrecipients", [("id", str(campaign_id)), ("recipients[0]", "5511900000001")]
        )
    )["data"]
    assert (await gw.call("delete", [("id", str(campaign_id))]))["code"] == 0
    assert (await gw.call("send", [("id", str(campaign_id))]))["code"] == 2
    info = (await gw.call("getinfo", [("id", str(campaign_id))]))["data"]
    assert info["isDeleted"] == "1"
    gw.sim.advance(60)
    assert gw.sim.state(int(rows[0]["messageId"])).status == "NEW"


async def test_campaign_send_is_refused_when_the_balance_cannot_pay(gw: Campaigns) -> None:
    """A campaign costing more than the balance is refused, nothing charged."""
    gw.sim.set_balance("0.0500")
    campaign_id = await gw.create("Aviso")
    await gw.call("addrecipients", [("id", str(campaign_id)), ("recipients[0]", "5511900000001")])
    envelope = await gw.call("send", [("id", str(campaign_id))])
    assert envelope["code"] == gw.sim.config.insufficient_funds_code
    assert gw.sim.balance == Decimal("0.0500")


async def test_campaign_messages_are_reported_to_webhooks(gw: Campaigns) -> None:
    """Each message of a sent campaign POSTs its delivery report with the campaign's id."""
    bodies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def handle(request: web.Request) -> web.Response:
        await bodies.put(await request.json())
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", handle)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        gw.sim.configure_webhook(str(server.make_url("/hook")))
        campaign_id = await gw.create("Oi {nome}", kind=3)
        pairs = [("id", str(campaign_id)), *template_rows(2)]
        rows = (await gw.call("addrecipients", pairs))["data"]
        await gw.call("send", [("id", str(campaign_id))])
        gw.sim.advance(3)  # wakes the simulator's webhook sender
        reports = [(await asyncio.wait_for(bodies.get(), 10))["data"] for _ in range(2)]
    finally:
        await server.close()
    assert sorted(report["messageId"] for report in reports) == sorted(
        int(row["messageId"]) for row in rows
    )
    assert {(report["campaignId"], report["status"]) for report in reports} == {
        (campaign_id, "DELIVRD")
    }


async def test_a_campaign_of_many_is_moderated_as_one(gw: Campaigns) -> None:
    """Held for moderation then declined: every message stays NEW, getinfo gives the comment."""
    gw.sim.set_moderation(True)
    gw.sim.set_moderation_timeline(None)
    campaign_id = await gw.create("Aviso")
    pairs = [("id", str(campaign_id)), ("recipients[0]", "5511900000001")]
    pairs.append(("recipients[1]", "5511900000002"))
    rows = (await gw.call("addrecipients", pairs))["data"]
    assert (await gw.call("send", [("id", str(campaign_id))]))["data"] == 1
    held = (await gw.call("getinfo", [("id", str(campaign_id))]))["data"]
    assert (held["moderationStatus"], held["commonStatus"]) == ("MODERATION", "MODERATION")
    gw.sim.moderate(campaign_id, approve=False, comment="Texto proibido")
    gw.sim.advance(60)
    declined = (await gw.call("getinfo", [("id", str(campaign_id))]))["data"]
    assert (declined["commonStatus"], declined["globalComment"]) == ("DECLINED", "Texto proibido")
    assert {gw.sim.state(int(row["messageId"])).status for row in rows} == {"NEW"}
    assert gw.sim.balance == Decimal("10000.0000")
