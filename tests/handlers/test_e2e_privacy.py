"""Who may read which SMS: with SMSBOT_ALLOWED_USERS set, other channels' SMS are for the few."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from bot.simulator import MobizonSimulator
from storage import messages
from testkit.waiting import wait_until
from tests.conftest import BotHarness
from tests.handlers.conftest import block_texts, buttons, click

pytestmark = pytest.mark.usefixtures("secret_guard")

SENDER, READER, OTHER = "U1", "U2", "U3"


@pytest.fixture
async def guarded(
    simulator: tuple[MobizonSimulator, str], start_bot: Callable[..., Any]
) -> BotHarness:
    """The bot with one sender (U1) allowed and one read-only user (U2)."""
    harness: BotHarness = await start_bot(
        simulator[1], allowed_users=frozenset({SENDER}), readers=frozenset({READER})
    )
    return harness


async def sent_from(bot: BotHarness, sim: MobizonSimulator, channel: str) -> int:
    """Send one SMS as U1 from ``channel``; return its Mobizon id."""
    before = sim.count("sendSmsMessage")
    await bot.command("send +55 11 98765-4321 hello", user_id=SENDER, channel_id=channel)
    await wait_until(lambda: sim.count("sendSmsMessage") == before + 1, what="the send")
    db = bot.db
    await wait_until(
        lambda: any(
            s.message_id
            for s in messages.latest_in_channel(db, team_id="T1", channel_id=channel, limit=1)
        ),
        what="the record",
    )
    (sms,) = messages.latest_in_channel(db, team_id="T1", channel_id=channel, limit=1)
    assert sms.message_id is not None
    return sms.message_id


async def test_find_is_refused_to_others_and_says_who_may(
    guarded: BotHarness, sim: MobizonSimulator
) -> None:
    """Someone neither allowed nor a reader is told who may search, and Mobizon is not asked."""
    status, answer = await guarded.command("find to:5511", user_id=OTHER)
    assert status == 200
    assert "SMSBOT_READERS" in answer
    assert "SMSBOT_ALLOWED_USERS" in answer
    assert sim.count("list") == 0


@pytest.mark.parametrize("user", [SENDER, READER])
async def test_find_is_open_to_senders_and_readers(
    guarded: BotHarness, sim: MobizonSimulator, user: str
) -> None:
    """An allowed sender and a read-only reader both get the account's search results."""
    sim.create_message("5511987654321", "hello")
    await guarded.command("find to:5511", user_id=user)
    (response,) = await guarded.slack.wait_for_responses(1)
    assert "SMS found" in response.params["text"]


async def test_status_shows_only_this_channels_sms_to_others(
    guarded: BotHarness, sim: MobizonSimulator
) -> None:
    """Others see the status of SMS sent from their channel; another channel's id is only named."""
    here = await sent_from(guarded, sim, "C1")
    elsewhere = await sent_from(guarded, sim, "C2")
    asked_before = sim.count("getSMSStatus")
    await guarded.command(f"status {here} {elsewhere}", user_id=OTHER, channel_id="C1")
    responses = await guarded.slack.wait_for_responses(1)
    shown = block_texts(responses[-1].params["blocks"])
    lines = {line.split("*")[1]: line for line in shown.splitlines() if line.count("*") >= 2}
    assert "1 segment ·" in lines[str(here)]
    assert f"*{elsewhere}*: not shown" in shown
    assert "SMSBOT_READERS" in shown
    assert sim.count("getSMSStatus") == asked_before + 1


async def test_a_reader_sees_every_channels_status(
    guarded: BotHarness, sim: MobizonSimulator
) -> None:
    """A reader asking from C1 sees the status of an SMS sent from C2."""
    elsewhere = await sent_from(guarded, sim, "C2")
    await guarded.command(f"status {elsewhere}", user_id=READER, channel_id="C1")
    responses = await guarded.slack.wait_for_responses(1)
    shown = block_texts(responses[-1].params["blocks"])
    assert "not shown" not in shown
    assert f"*{elsewhere}*: " in shown


async def test_find_buttons_are_refused_to_others(
    guarded: BotHarness, sim: MobizonSimulator
) -> None:
    """A Next click by someone who may not search gets the refusal, not the next page."""
    for i in range(30):
        sim.create_message("5511987654321", f"hello {i}")
    await guarded.command("find to:5511", user_id=READER)
    (first,) = await guarded.slack.wait_for_responses(1)
    lists = sim.count("list")
    await click(guarded, buttons(first.params["blocks"])["sms_find_next"], user=OTHER)
    second = (await guarded.slack.wait_for_responses(2))[1]
    assert "SMSBOT_READERS" in second.params["text"]
    assert sim.count("list") == lists


async def test_without_lists_everyone_reads_everything(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """With neither list set, /sms find stays open to everyone (the default is unchanged)."""
    sim.create_message("5511987654321", "hello")
    await bot.command("find to:5511", user_id=OTHER)
    (response,) = await bot.slack.wait_for_responses(1)
    assert "SMS found" in response.params["text"]


async def test_status_reads_the_records_once_for_others(
    guarded: BotHarness, sim: MobizonSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checking the channel and showing the costs share one read of the SMS asked for."""
    here = await sent_from(guarded, sim, "C1")
    real = messages.get_by_message_ids
    reads: list[list[int]] = []

    def counted(db: Any, ids: Iterable[int]) -> dict[int, messages.SmsRecord]:
        asked = list(ids)
        reads.append(asked)
        return real(db, asked)

    monkeypatch.setattr(messages, "get_by_message_ids", counted)
    await guarded.command(f"status {here}", user_id=OTHER, channel_id="C1")
    responses = await guarded.slack.wait_for_responses(1)
    assert f"*{here}*: " in block_texts(responses[-1].params["blocks"])
    assert [r for r in reads if here in r] == [[here]]
