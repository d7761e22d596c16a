"""The account commands end to end: ``/sms balance``, ``/sms cancel``, short links, lack of funds."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from bot.simulator import MobizonSimulator
from bot.sms.sending import balance as account
from storage import messages
from tests.conftest import BotHarness
from tests.handlers.conftest import answer, block_texts

pytestmark = pytest.mark.usefixtures("secret_guard")

NUMBER = "5511987654321"


async def send_scheduled(bot: BotHarness, sim: MobizonSimulator) -> int:
    """Send an SMS scheduled two days ahead and return its message id once posted."""
    zone = bot.settings.mobizon_timezone
    at = (datetime.now(zone) + timedelta(days=2)).replace(hour=14, minute=30)
    status, _ = await bot.command(f'send --at "{at:%Y-%m-%d %H:%M}" {NUMBER} See you')
    assert status == 200
    await bot.slack.wait_for("chat.postMessage", 1)
    (message_id,) = sim.messages
    return int(message_id)


async def test_balance_shows_amount_and_cost_of_todays_sms(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """``/sms balance`` shows Mobizon's balance and what today's SMS through smsbot cost."""
    sim.set_pricing("0.25", "BRL")
    sim.set_balance("100")
    await bot.command(f"send {NUMBER} hello")
    await bot.slack.wait_for("chat.postMessage", 1)
    status, body = await bot.command("balance")
    assert (status, body) == (200, "")
    said = await answer(bot, 1)
    assert "99.75 BRL" in said
    assert "today cost 0.25 BRL" in said
    assert "last 7 days 0.25 BRL" in said
    assert 'smsbot_balance{currency="BRL"} 99.75' in bot.runtime.metrics.exposition().decode()


async def test_balance_answers_in_time_when_the_costs_take_long(
    bot: BotHarness, sim: MobizonSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Costs still coming when the command's time is up: the balance is answered without them."""
    sim.set_balance("100")
    await bot.command(f"send {NUMBER} hello")
    await bot.slack.wait_for("chat.postMessage", 1)
    monkeypatch.setattr(account, "BALANCE_WITHIN", 0.3)
    sim.hold(method="message/list")  # the costs come only once the answer is checked
    started = time.monotonic()
    await bot.command("balance")
    said = await answer(bot, 1)
    assert time.monotonic() - started < 1.2
    assert "99.94 BRL" in said
    assert "Mobizon did not answer within 0.3 s." in said
    sim.release(method="message/list")


async def test_cancel_a_scheduled_sms(bot: BotHarness, sim: MobizonSimulator) -> None:
    """``/sms cancel`` deletes the campaign, the post says who cancelled, tracking stops."""
    message_id = await send_scheduled(bot, sim)
    await bot.command(f"cancel {message_id}")
    assert "is cancelled" in await answer(bot, 1)
    assert any(r.method == "delete" for r in sim.requests)
    updates = await bot.slack.wait_for("chat.update", 1)
    assert "cancelled by <@U1>" in block_texts(updates[0].params["blocks"])
    row = messages.get_by_message_id(bot.db, message_id)
    assert row is not None
    assert (row.cancelled_by, row.is_pending) == ("U1", False)
    await bot.command(f"cancel {message_id}")
    assert "already cancelled by <@U1>" in await answer(bot, 2)


async def test_cancel_refusals(bot: BotHarness, sim: MobizonSimulator) -> None:
    """Unknown ids, SMS sent at once and other people's SMS are refused with a sentence."""
    await bot.command("cancel 99999")
    assert "not sent through smsbot" in await answer(bot, 1)
    await bot.command(f"send {NUMBER} now")
    await bot.slack.wait_for("chat.postMessage", 1)
    (now_id,) = sim.messages
    await bot.command(f"cancel {now_id}")
    assert "was not scheduled" in await answer(bot, 2)
    scheduled = await send_scheduled_second(bot, sim, now_id)
    await bot.command(f"cancel {scheduled}", user_id="U2")
    assert "Only <@U1>" in await answer(bot, 3)
    assert not any(r.method == "delete" for r in sim.requests)


async def send_scheduled_second(bot: BotHarness, sim: MobizonSimulator, first: int) -> int:
    """Send a second, scheduled SMS and return its message id."""
    zone = bot.settings.mobizon_timezone
    at = (datetime.now(zone) + timedelta(days=2)).replace(hour=14, minute=30)
    await bot.command(f'send --at "{at:%Y-%m-%d %H:%M}" {NUMBER} later')
    await bot.slack.wait_for("chat.postMessage", 2)
    return int(next(i for i in sim.messages if i != first))


async def test_shorten_links_reaches_mobizon(bot: BotHarness, sim: MobizonSimulator) -> None:
    """``--shorten-links`` sends ``params[shortenLinks]=1``."""
    await bot.command(f"send --shorten-links {NUMBER} see https://example.com/order/1")
    await bot.slack.wait_for("chat.postMessage", 1)
    sent = next(r for r in sim.requests if r.method == "sendsmsmessage")
    assert b"params%5BshortenLinks%5D=1" in sent.body


async def test_lack_of_funds_points_at_balance(bot: BotHarness, sim: MobizonSimulator) -> None:
    """A send the balance cannot pay for is refused and points at ``/sms balance``."""
    sim.set_balance(Decimal(0))
    await bot.command(f"send {NUMBER} hello")
    said = await answer(bot, 1)
    assert "/sms balance" in said
    assert not bot.slack.called("chat.postMessage")


async def test_unknown_sender_is_refused_with_the_valid_names(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """``--from`` not among the account's sender names is refused, naming the valid ones."""
    sim.set_sender_names(["SMSBOT", "MyShop"])
    await bot.command(f"send --from Nobody {NUMBER} hello")
    said = await answer(bot, 1)
    assert "“Nobody” is not a sender name" in said
    assert "`SMSBOT`, `MyShop`" in said
    assert not any(r.method == "sendsmsmessage" for r in sim.requests)
    await bot.command(f"send --from MyShop {NUMBER} hello")
    await bot.slack.wait_for("chat.postMessage", 1)
    # the unknown name was looked up afresh once; the known one came from the cache
    assert sum(r.module == "alphaname" for r in sim.requests) == 2


async def test_a_new_sender_name_is_fetched_on_demand(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A name missing from the cached list is looked up afresh, so a new name works at once."""
    await bot.command(f"send --from SMSBOT {NUMBER} hello")
    await bot.slack.wait_for("chat.postMessage", 1)
    sim.set_sender_names(["SMSBOT", "NewName"])
    await bot.command(f"send --from NewName {NUMBER} hello")
    await bot.slack.wait_for("chat.postMessage", 2)
    assert sum(r.method == "sendsmsmessage" for r in sim.requests) == 2
    assert sum(r.module == "alphaname" for r in sim.requests) == 2  # cached, then on demand


async def test_sender_names_unavailable_do_not_block_sending(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """When ``alphaname/list`` fails, the send goes on (Mobizon still checks the sender)."""
    sim.fail_next("alphaname/list", code=3, times=8, message="Internal error")
    await bot.command(f"send --from MyShop {NUMBER} hello")
    await bot.slack.wait_for("chat.postMessage", 1)
    assert any(r.method == "sendsmsmessage" for r in sim.requests)
    assert "could not check the sender “MyShop”" in await answer(bot, 1)
