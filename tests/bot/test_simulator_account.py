"""The simulator's account methods over raw HTTP: balance, sender names, campaigns, moderation."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from bot.cli import _parser, main, simulator_config
from bot.simulator import (
    CAMPAIGN_DELETE,
    CAMPAIGN_INFO,
    DELETE_DEADLINE,
    GET_BALANCE,
    INSUFFICIENT_FUNDS_MESSAGE,
    LIST,
    SENDER_NAMES,
    MobizonSimulator,
    SimulatorConfig,
    start_simulator,
)
from tests.bot.conftest import wall
from tests.conftest import MOBIZON_KEY

T0 = wall("2026-01-15 12:00:00")
NUMBER = "5511987654321"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Account:
    """A simulator at a fixed time (moved only by ``advance``), spoken to as raw HTTP."""

    def __init__(self, sim: MobizonSimulator, url: str, session: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.url = url
        self.session = session

    async def call(self, path: str, body: list[tuple[str, str]] | None = None) -> dict[str, Any]:
        """POST a form to ``/service/<path>``; return the decoded envelope."""
        async with self.session.post(
            f"{self.url}/service/{path}",
            params={"output": "json", "api": "v1", "apiKey": MOBIZON_KEY},
            data=urlencode(body or []),
            headers=FORM,
        ) as response:
            assert response.status == 200
            envelope: dict[str, Any] = json.loads(await response.read())
        return envelope

    async def data(self, path: str, body: list[tuple[str, str]] | None = None) -> Any:
        """POST and return ``data`` of a successful (code 0) answer."""
        envelope = await self.call(path, body)
        assert envelope["code"] == 0, envelope
        return envelope["data"]

    async def send(self, text: str = "hello", **params: str) -> dict[str, Any]:
        """SendSmsMessage with ``params[...]``; the successful answer's data."""
        body = [("recipient", NUMBER), ("text", text)]
        body += [(f"params[{key}]", value) for key, value in params.items()]
        data: dict[str, Any] = await self.data("message/sendSmsMessage", body)
        return data

    async def info(self, campaign_id: object) -> dict[str, Any]:
        """campaign/getInfo's data."""
        data: dict[str, Any] = await self.data("campaign/getInfo", [("id", str(campaign_id))])
        return data

    async def balance(self) -> str:
        """The balance as the gateway writes it."""
        return str((await self.data("user/getOwnBalance"))["balance"])


@contextlib.asynccontextmanager
async def serve(config: SimulatorConfig) -> AsyncIterator[Account]:
    """Serve a fixed-clock simulator; clean up after."""
    sim, runner, url = await start_simulator(config, clock=lambda: T0)
    try:
        async with aiohttp.ClientSession() as session:
            yield Account(sim, url, session)
    finally:
        await runner.cleanup()


@pytest.fixture
def config() -> SimulatorConfig:
    """10 BRL at 0.0950 per segment, no moderation."""
    return SimulatorConfig(
        api_key=MOBIZON_KEY,
        balance=Decimal("10.0000"),
        currency="BRL",
        segment_price=Decimal("0.0950"),
    )


@pytest.fixture
async def acc(config: SimulatorConfig) -> AsyncIterator[Account]:
    """The account simulator."""
    async with serve(config) as account:
        yield account


async def test_balance_answers_four_decimals_and_the_currency(acc: Account) -> None:
    """The balance method answers the balance as a 4-decimal string and the ISO currency."""
    assert await acc.data("user/getOwnBalance") == {"balance": "10.0000", "currency": "BRL"}
    assert acc.sim.count(GET_BALANCE) == 1


async def test_balance_goes_down_per_segment(acc: Account) -> None:
    """A 1-segment and a 3-segment (UCS-2, 150 chars) send take 4 x 0.0950 off the balance."""
    await acc.send("short")
    await acc.send("ж" * 150)
    assert await acc.balance() == "9.6200"
    assert acc.sim.balance == Decimal("9.6200")


async def test_insufficient_funds_refuses_the_send(acc: Account) -> None:
    """A send costing more than the balance answers code 1 with Mobizon-like words; nothing sent."""
    acc.sim.set_balance(Decimal("0.1000"))
    envelope = await acc.call(
        "message/sendSmsMessage", [("recipient", NUMBER), ("text", "x" * 200)]
    )
    assert envelope == {"code": 1, "data": [], "message": INSUFFICIENT_FUNDS_MESSAGE}
    assert acc.sim.messages == {}
    await acc.send("fits")
    assert await acc.balance() == "0.0050"


async def test_insufficient_funds_code_is_configurable() -> None:
    """The refusal's code and words can be set, e.g. to code 15 as an operation error."""
    config = SimulatorConfig(
        api_key=MOBIZON_KEY,
        balance=Decimal(0),
        insufficient_funds_code=15,
        insufficient_funds_message="Saldo insuficiente.",
    )
    async with serve(config) as acc:
        envelope = await acc.call("message/sendSmsMessage", [("recipient", NUMBER), ("text", "x")])
    assert (envelope["code"], envelope["message"]) == (15, "Saldo insuficiente.")


async def test_sender_names_page_like_a_list(acc: Account) -> None:
    """alphaname/list pages the configured names (25 by default), the first the default one."""
    acc.sim.set_sender_names([f"S{index}" for index in range(30)])
    first = await acc.data("alphaname/list")
    assert first["totalItemCount"] == "30"
    assert [item["alphaname"]["name"] for item in first["items"]] == [f"S{i}" for i in range(25)]
    assert [item["isDefault"] for item in first["items"][:2]] == ["1", "0"]
    second = await acc.data(
        "alphaname/list", [("pagination[currentPage]", "1"), ("pagination[pageSize]", "25")]
    )
    assert [item["alphaname"]["name"] for item in second["items"]] == [
        f"S{i}" for i in range(25, 30)
    ]
    bad = await acc.call("alphaname/list", [("pagination[pageSize]", "1000")])
    assert bad["code"] == 12
    assert acc.sim.count(SENDER_NAMES) == 3
    assert acc.sim.count(LIST) == 0


async def test_campaign_info_counts_and_costs(acc: Account) -> None:
    """Campaign info counters put the message, its segments and its cost under its status."""
    sent = await acc.send("y" * 200)
    info = await acc.info(sent["campaignId"])
    assert info["id"] == sent["campaignId"]
    assert (info["moderationStatus"], info["commonStatus"]) == (
        "AUTO_READY_FOR_SEND",
        "READY_FOR_SEND",
    )
    counters = info["counters"]
    assert (counters["totalNewSegNum"], counters["totalNewMsgCost"]) == ("2", "0.1900")
    assert (counters["totalCost"], counters["userCurrency"]) == ("0.1900", "BRL")
    acc.sim.advance(0.5)
    assert (await acc.info(sent["campaignId"]))["commonStatus"] == "RUNNING"
    acc.sim.advance(5)
    done = await acc.info(sent["campaignId"])
    assert done["commonStatus"] == "DONE"
    assert done["counters"]["totalDelivrdMsgCost"] == "0.1900"
    assert done["counters"]["totalNewMsgCost"] == "0.0000"
    assert done["endSendTs"] is not None
    assert done["isDeleted"] == "0"


async def test_campaign_methods_need_a_known_id(acc: Account) -> None:
    """Without id: code 11; an unknown id: code 2, for getInfo and delete alike."""
    assert (await acc.call("campaign/getInfo"))["code"] == 11
    assert (await acc.call("campaign/getInfo", [("id", "12345")]))["code"] == 2
    assert (await acc.call("campaign/delete", [("id", "12345")]))["code"] == 2
    assert acc.sim.count(CAMPAIGN_INFO) == 2
    assert acc.sim.count(CAMPAIGN_DELETE) == 1


async def test_delete_until_five_minutes_before_the_start(acc: Account) -> None:
    """A campaign deferred by 2 h is deletable at exactly 5 minutes before, not a second later."""
    later = (T0 + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S")
    kept = await acc.send("a", deferredToTs=later)
    gone = await acc.send("b", deferredToTs=later)
    acc.sim.advance((timedelta(hours=2) - DELETE_DEADLINE).total_seconds())
    deleted = await acc.call("campaign/delete", [("id", gone["campaignId"])])
    assert deleted == {"code": 0, "data": True, "message": ""}
    acc.sim.advance(1)
    refused = await acc.call("campaign/delete", [("id", kept["campaignId"])])
    assert refused["code"] == 10
    info = await acc.info(gone["campaignId"])
    assert (info["isDeleted"], info["deletedTs"]) == ("1", "2026-01-15 13:55:00")
    assert await acc.balance() == "9.9050"
    acc.sim.advance(3600)
    assert acc.sim.state(int(gone["messageId"])).status == "NEW"
    assert acc.sim.state(int(kept["messageId"])).status == "DELIVRD"


async def test_sent_campaign_cannot_be_deleted(acc: Account) -> None:
    """Once sending started, delete answers code 10 and the message goes on."""
    sent = await acc.send()
    acc.sim.advance(0.5)
    assert (await acc.call("campaign/delete", [("id", sent["campaignId"])]))["code"] == 10
    acc.sim.advance(5)
    assert acc.sim.state(int(sent["messageId"])).status == "DELIVRD"


async def test_campaign_in_moderation_can_be_deleted(acc: Account) -> None:
    """A campaign held by moderation has not started: delete takes it away."""
    acc.sim.set_moderation(True)
    acc.sim.set_moderation_timeline(None)
    sent = await acc.send()
    assert sent["status"] == 1
    assert (await acc.call("campaign/delete", [("id", sent["campaignId"])]))["code"] == 0


async def test_moderation_declines_on_a_timeline() -> None:
    """Set to decline after 60 s: MODERATION, then DECLINED with the comment; refunded; stays NEW."""
    config = SimulatorConfig(
        api_key=MOBIZON_KEY,
        moderation=True,
        moderation_seconds=60,
        decline_comment="Links are not allowed",
        balance=Decimal(1),
        segment_price=Decimal("0.5"),
    )
    async with serve(config) as acc:
        sent = await acc.send("see www.example.com")
        assert sent["status"] == 1
        waiting = await acc.info(sent["campaignId"])
        assert (waiting["moderationStatus"], waiting["commonStatus"]) == (
            "MODERATION",
            "MODERATION",
        )
        assert waiting["globalComment"] is None
        assert await acc.balance() == "0.5000"
        acc.sim.advance(60)
        declined = await acc.info(sent["campaignId"])
        assert (declined["moderationStatus"], declined["commonStatus"]) == ("DECLINED", "DECLINED")
        assert declined["globalComment"] == "Links are not allowed"
        assert await acc.balance() == "1.0000"
        acc.sim.advance(86400)
        assert acc.sim.state(int(sent["messageId"])).status == "NEW"
        listed = await acc.data("message/list", [("criteria[campaignStatus]", "DECLINED")])
        assert [item["id"] for item in listed["items"]] == [sent["messageId"]]


async def test_moderation_every_campaign_by_config() -> None:
    """With moderation on in the config, every send answers status 1 and is approved on time."""
    config = SimulatorConfig(api_key=MOBIZON_KEY, moderation=True, moderation_seconds=30)
    async with serve(config) as acc:
        first, second = await acc.send("a"), await acc.send("b")
        assert [first["status"], second["status"]] == [1, 1]
        acc.sim.advance(29)
        assert acc.sim.state(int(first["messageId"])).status == "NEW"
        acc.sim.advance(5)
        info = await acc.info(first["campaignId"])
        assert info["moderationStatus"] == "READY_FOR_SEND"
        assert acc.sim.state(int(first["messageId"])).status == "DELIVRD"


async def test_moderate_switch_decides_held_campaigns(acc: Account) -> None:
    """A held campaign waits a day until moderate(); then approve sends, decline never does."""
    acc.sim.set_moderation(True)
    acc.sim.set_moderation_timeline(None)
    approved, declined = await acc.send("a"), await acc.send("b")
    acc.sim.advance(86400)
    assert (await acc.info(approved["campaignId"]))["moderationStatus"] == "MODERATION"
    acc.sim.moderate(int(approved["campaignId"]), approve=True)
    acc.sim.moderate(int(declined["campaignId"]), approve=False, comment="Spam")
    with pytest.raises(ValueError, match="not waiting in moderation"):
        acc.sim.moderate(int(declined["campaignId"]), approve=True)
    with pytest.raises(KeyError):
        acc.sim.moderate(1, approve=True)
    acc.sim.advance(5)
    assert acc.sim.state(int(approved["messageId"])).status == "DELIVRD"
    assert acc.sim.state(int(declined["messageId"])).status == "NEW"
    assert (await acc.info(declined["campaignId"]))["globalComment"] == "Spam"
    assert await acc.balance() == "9.9050"


async def test_shorten_links_rewrites_the_stored_text(acc: Account) -> None:
    """params[shortenLinks]=1 replaces each link by an mbz.io one; 0 leaves the text alone."""
    text = "Pay at https://pay.example.com/x?id=9, docs: www.example.org!"
    short = await acc.send(text, shortenLinks="1")
    plain = await acc.send(text, shortenLinks="0")
    stored = acc.sim.messages[int(short["messageId"])].text
    assert stored.startswith("Pay at https://mbz.io/")
    assert stored.endswith("!")
    assert sorted(acc.sim.short_links.values()) == [
        "https://pay.example.com/x?id=9",
        "www.example.org",
    ]
    assert all(link in stored for link in acc.sim.short_links)
    assert acc.sim.messages[int(plain["messageId"])].text == text
    bad = await acc.call(
        "message/sendSmsMessage",
        [("recipient", NUMBER), ("text", "x"), ("params[shortenLinks]", "2")],
    )
    assert bad["code"] == 1


async def test_message_list_has_the_configured_segment_price(acc: Account) -> None:
    """message/list items carry segUserBuy at the configured price; set_pricing changes new ones."""
    await acc.send("a")
    acc.sim.set_pricing(Decimal("0.1200"), "USD")
    await acc.send("b")
    listed = await acc.data("message/list")
    assert [item["segUserBuy"] for item in listed["items"]] == ["0.0950", "0.1200"]
    assert (await acc.data("user/getOwnBalance"))["currency"] == "USD"


async def test_switches_address_account_methods(acc: Account) -> None:
    """fail_next, rate limits and counts name account methods as module/method, any case."""
    acc.sim.fail_next("campaign/getInfo", 3)
    acc.sim.rate_limit_next("User/GetOwnBalance")
    sent = await acc.send()
    assert (await acc.call("campaign/getInfo", [("id", sent["campaignId"])]))["code"] == 3
    assert (await acc.call("user/getOwnBalance"))["code"] == 30
    assert (await acc.call("user/getOwnBalance"))["code"] == 0
    assert acc.sim.count("campaign/GETINFO") == 1
    with pytest.raises(ValueError, match="unknown Mobizon method"):
        acc.sim.fail_next("campaign/list", 3)


@pytest.mark.parametrize(
    "bad",
    [{"moderation_seconds": -1.0}, {"segment_price": Decimal(-1)}, {"insufficient_funds_code": 0}],
)
def test_account_config_refuses_nonsense(bad: dict[str, Any]) -> None:
    """A negative moderation time or price, or code 0 for a refusal, is refused."""
    with pytest.raises(ValueError):
        SimulatorConfig(**bad)


def test_simulator_command_sets_up_the_account() -> None:
    """`smsbot simulator` options set moderation, balance, currency, price and sender names."""
    args = _parser().parse_args(
        [
            "simulator",
            "--moderation",
            "decline",
            "--moderation-seconds",
            "30",
            "--decline-comment",
            "No links",
            "--balance",
            "5",
            "--currency",
            "usd",
            "--segment-price",
            "0.0950",
            "--sender-name",
            "ACME",
            "--sender-name",
            "SHOP",
        ]
    )
    config = simulator_config(args, None)
    assert (config.moderation, config.moderation_seconds, config.decline_comment) == (
        True,
        30.0,
        "No links",
    )
    assert (config.balance, config.currency, config.segment_price) == (
        Decimal(5),
        "USD",
        Decimal("0.0950"),
    )
    assert config.sender_names == ("ACME", "SHOP")
    plain = simulator_config(_parser().parse_args(["simulator"]), None)
    assert (plain.moderation, plain.decline_comment, plain.sender_names) == (
        False,
        None,
        ("SMSBOT",),
    )


@pytest.mark.parametrize(
    "argv", [["--balance", "-1"], ["--segment-price", "abc"], ["--speed", "0"]]
)
def test_simulator_command_refuses_bad_options(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A negative balance, a price that is no number or speed 0: one sentence and exit 2."""
    handlers = list(logging.getLogger().handlers)
    try:
        code: object = main(["simulator", *argv])
    except SystemExit as stopped:  # argparse refuses the option itself
        code = stopped.code
    assert code == 2
    assert logging.getLogger().handlers == handlers  # logging untouched by a refused start
    err = capsys.readouterr().err
    assert "smsbot simulator: " in err
    assert "Traceback" not in err
