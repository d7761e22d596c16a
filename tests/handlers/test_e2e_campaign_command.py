"""``/sms send`` to a list end to end: signed command in, one Mobizon campaign out, the preview.

A list at or under ``SMSBOT_CONFIRM_ABOVE`` goes at once as one campaign; a longer one is a
preview whose "Send to N" only its asker may press, once, before it expires; "Cancel" sends
nothing; a redelivered command makes no second campaign.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.simulator import MobizonSimulator, SimulatorConfig
from handlers.campaign_preview import CANCEL_ACTION, CONFIRM_ACTION
from storage import campaigns as stored
from storage.engine import write_transaction
from storage.schema import utc_text
from storage.tables import campaigns
from testkit.waiting import wait_until
from tests.conftest import MOBIZON_KEY, BotHarness
from tests.handlers.conftest import USAGE_PREFIX, block_texts, buttons, click, sends, shown

pytestmark = pytest.mark.usefixtures("secret_guard")

#: Twelve Brazilian mobiles, as a list is typed: with spaces after the commas.
TWELVE = [f"55119876543{n:02d}" for n in range(12)]
STOPPED = "5511987654302"


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """The simulator, with one number on Mobizon's stop list."""
    return SimulatorConfig(api_key=MOBIZON_KEY, speed=1.0, stop_list=frozenset({STOPPED}))


def campaign_calls(sim: MobizonSimulator, method: str) -> list[Any]:
    """The simulator's requests to ``campaign/<method>``, oldest first."""
    return [r for r in sim.requests if r.module == "campaign" and r.method == method]


async def told_after_ack(bot: BotHarness, text: str, **overrides: str) -> dict[str, Any]:
    """Send ``/sms text``, check its ack is empty, and return the response that follows it."""
    before = len(bot.slack.responses)
    assert await bot.command(text, **overrides) == (200, "")
    responses = await bot.slack.wait_for_responses(before + 1)
    answer = responses[before].params
    assert answer["response_type"] == "ephemeral"
    return dict(answer)


async def next_response(bot: BotHarness, before: int) -> dict[str, Any]:
    """The response_url post after the first ``before`` ones."""
    return dict((await bot.slack.wait_for_responses(before + 1))[before].params)


async def preview_of_twelve(bot: BotHarness, **overrides: str) -> dict[str, Any]:
    """Ask for a send to the twelve numbers and return its preview's parameters."""
    preview = await told_after_ack(bot, "send " + ", ".join(TWELVE) + " Olá a todos", **overrides)
    assert "blocks" in preview
    return preview


async def test_three_numbers_go_at_once_as_one_mobizon_campaign(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Three numbers: no preview, one campaign of three (no single sends), the asker told."""
    said = await told_after_ack(
        bot, "send +55 11 98765-4300, 5511987654301, (11) 98765-4303 Olá a todos"
    )
    assert said["text"].startswith(":outbox_tray: Sending to 3 numbers…")
    assert "blocks" not in said
    assert sends(sim) == []
    assert len(campaign_calls(sim, "create")) == 1
    assert len(campaign_calls(sim, "send")) == 1
    (campaign,) = sim.bulk_campaigns.values()
    assert sorted(campaign.numbers) == ["5511987654300", "5511987654301", "5511987654303"]


async def test_every_option_reaches_the_campaign(bot: BotHarness, sim: MobizonSimulator) -> None:
    """--from, --name, --validity, --flash and --gsm apply to the campaign as to one SMS."""
    await told_after_ack(
        bot,
        "send --from MyShop --name Promo --validity 120 --flash --gsm "
        "5511987654300, 5511987654301 Promoção hoje",
    )
    (create,) = campaign_calls(sim, "create")
    form = create.body.decode()
    assert "MyShop" in form
    assert "Promo" in form
    assert "Promocao+hoje" in form


async def test_twelve_numbers_are_previewed_and_sent_only_when_confirmed(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Twelve: a preview with Send to 12; nothing reaches Mobizon until the asker's click."""
    preview = await preview_of_twelve(bot)
    shown_preview = block_texts(preview["blocks"])
    assert "*Preview: this SMS goes to 12 numbers.*" in shown_preview
    assert "*The first SMS, to +55 11 98765-4300:*" in shown_preview
    assert "> Olá a todos" in shown_preview
    assert "Cost: no cost known yet" in shown_preview
    found = buttons(preview["blocks"])
    assert found[CONFIRM_ACTION]["text"]["text"] == "Send to 12"
    assert sim.requests == []
    before = len(bot.slack.responses)
    await click(bot, found[CONFIRM_ACTION])
    confirmed = await next_response(bot, before)
    assert confirmed["replace_original"] is True
    assert confirmed["text"] == ":outbox_tray: Confirmed: sending to 12 numbers…"
    outcome = await next_response(bot, before + 1)
    assert outcome["replace_original"] is True
    assert outcome["text"].startswith(":outbox_tray: Sending to 11 numbers…")
    assert "on Mobizon's stop list (code 5): +55 11 98765-4302" in outcome["text"]
    assert len(campaign_calls(sim, "create")) == 1
    assert sends(sim) == []


async def test_the_preview_names_the_options_every_sms_goes_with(
    start_bot: Any, simulator: tuple[MobizonSimulator, str]
) -> None:
    """A list sent with --from, --at and --flash: the preview says so, in the account's zone."""
    zone = ZoneInfo("America/Sao_Paulo")  # not this machine's zone: a time shown in UTC would fail
    bot: BotHarness = await start_bot(simulator[1], mobizon_timezone=zone)
    at = (datetime.now(zone) + timedelta(days=2)).replace(hour=9, minute=30, second=0)
    preview = await told_after_ack(
        bot,
        f'send --from MyShop --at "{at:%Y-%m-%d %H:%M}" --flash ' + ", ".join(TWELVE) + " Oi",
    )
    shown_preview = block_texts(preview["blocks"])
    assert "Options: from MyShop · scheduled for " in shown_preview
    assert f"scheduled for {at:%Y-%m-%d %H:%M} -03 · flash SMS." in shown_preview
    assert "-03; after that the preview expires" in shown_preview  # the time to confirm by too


async def test_a_click_by_someone_else_sends_nothing(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Another user's click is refused to them, ephemerally; the preview stays and nothing goes."""
    preview = await preview_of_twelve(bot)
    before = len(bot.slack.responses)
    await click(bot, buttons(preview["blocks"])[CONFIRM_ACTION], user="U2")
    refused = await next_response(bot, before)
    assert refused["text"].startswith("Only <@U1>, who asked for this send, can confirm")
    assert refused["replace_original"] is False
    await click(bot, buttons(preview["blocks"])[CANCEL_ACTION], user="U2")
    assert (await next_response(bot, before + 1))["text"].startswith("Only <@U1>")
    assert sim.requests == []
    campaign = stored.campaign_by_trigger(bot.db, bot.sent[-1]["trigger_id"])
    assert campaign is not None
    assert campaign.state == "preview"


async def test_two_clicks_make_one_campaign(bot: BotHarness, sim: MobizonSimulator) -> None:
    """Send to 12 pressed twice at once: one Mobizon campaign; the other click says why not."""
    preview = await preview_of_twelve(bot)
    confirm = buttons(preview["blocks"])[CONFIRM_ACTION]
    before = len(bot.slack.responses)
    await asyncio.gather(click(bot, confirm), click(bot, confirm))
    answers = [r.params["text"] for r in await bot.slack.wait_for_responses(before + 3)]
    assert "This send was confirmed already; it is sent once, not again." in answers
    assert len(campaign_calls(sim, "create")) == 1
    assert len(campaign_calls(sim, "send")) == 1


async def test_cancel_sends_nothing_and_a_later_confirm_neither(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Cancel replaces the preview; Send to 12 pressed after it sends nothing and says why."""
    preview = await preview_of_twelve(bot)
    found = buttons(preview["blocks"])
    before = len(bot.slack.responses)
    await click(bot, found[CANCEL_ACTION])
    cancelled = await next_response(bot, before)
    assert cancelled["text"] == "Cancelled; nothing was sent."
    assert cancelled["replace_original"] is True
    await click(bot, found[CONFIRM_ACTION])
    late = await next_response(bot, before + 1)
    assert late["text"] == "This send was cancelled already; nothing was sent."
    assert sim.requests == []


async def test_a_confirm_after_expiry_sends_nothing(bot: BotHarness, sim: MobizonSimulator) -> None:
    """A preview past its expiry cannot be confirmed: the click says so and nothing is sent."""
    preview = await preview_of_twelve(bot)
    campaign_id = int(buttons(preview["blocks"])[CONFIRM_ACTION]["value"])
    with write_transaction(bot.db) as db:
        db.execute(
            sa.update(campaigns)
            .where(campaigns.c.id == campaign_id)
            .values(expires_at=utc_text(datetime(2026, 1, 1, tzinfo=UTC)))
        )
    before = len(bot.slack.responses)
    await click(bot, buttons(preview["blocks"])[CONFIRM_ACTION])
    late = await next_response(bot, before)
    assert late["text"].startswith("This preview expired at ")
    assert late["replace_original"] is False
    assert sim.requests == []


async def test_an_opted_out_number_is_left_out_and_counted(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A number on the opt-out list gets nothing: the answer names its row and why."""
    assert await bot.command("optout add +55 11 98765-4301") == (200, "")
    await bot.slack.wait_for_responses(1)
    said = await told_after_ack(bot, "send 5511987654300, 5511987654301, 5511987654303 Oi")
    assert said["text"].startswith(":outbox_tray: Sending to 2 numbers…")
    assert "*Left out: 1 row*" in said["text"]
    assert "• row 2, +55 11 98765-4301: on the opt-out list" in said["text"]
    (campaign,) = sim.bulk_campaigns.values()
    assert "5511987654301" not in campaign.numbers


async def test_the_preview_counts_what_it_leaves_out(bot: BotHarness) -> None:
    """Unreadable, repeated and opted-out rows are counted in the preview with their rows."""
    assert await bot.command(f"optout add {TWELVE[5]}") == (200, "")
    await bot.slack.wait_for_responses(1)
    typed = ", ".join([*TWELVE, "123", TWELVE[0]])
    preview = await told_after_ack(bot, f"send {typed} Oi")
    text = block_texts(preview["blocks"])
    assert "*Preview: this SMS goes to 11 numbers.*" in text
    assert "3 of the 14 given are left out (below)." in text
    assert "• row 6, +55 11 98765-4305: on the opt-out list" in text
    assert "• row 13, “123”: not a phone number I can send to" in text
    assert "• row 14, +55 11 98765-4300: the same number as row 1" in text


async def test_a_redelivered_command_makes_one_campaign(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Slack delivers the same command twice (same trigger_id): one campaign, one answer."""
    raw = urlencode(bot.command_body("send 5511987654300, 5511987654301 Oi"))
    assert await bot.post_signed(raw) == (200, "")
    await bot.slack.wait_for_responses(1)
    assert await bot.post_signed(raw) == (200, "")
    await wait_until(lambda: not bot.runtime.inflight.tasks, what="the second delivery's listener")
    assert len(campaign_calls(sim, "create")) == 1
    assert len(bot.slack.responses) == 1
    assert bot.slack.responses[0].params["text"].startswith(":outbox_tray: Sending to 2 numbers…")


async def test_too_many_numbers_are_refused_with_the_limit(start_bot: Any, simulator: Any) -> None:
    """More than SMSBOT_MAX_RECIPIENTS: refused with both numbers and the usage line, none sent."""
    sim, url = simulator
    bot: BotHarness = await start_bot(url, max_recipients=2)
    status, body = await bot.command("send 5511987654300, 5511987654301, 5511987654303 Oi")
    lines = shown(body).split("\n") if body else []
    if not lines:  # the refusal came after the ack
        lines = str((await bot.slack.wait_for_responses(1))[0].params["text"]).split("\n")
    assert status == 200
    assert lines[0].startswith("That is 3 numbers; one send may go to at most 2 numbers.")
    assert lines[-1].startswith(USAGE_PREFIX)
    assert sim.requests == []


async def test_a_list_with_a_placeholder_is_refused(bot: BotHarness, sim: MobizonSimulator) -> None:
    """A list cannot fill {nome}: refused before anything is sent, saying what would."""
    status, body = await bot.command("send 5511987654300, 5511987654301 Oi {nome}")
    said = shown(body) or str((await bot.slack.wait_for_responses(1))[0].params["text"])
    assert status == 200
    assert "The text has the placeholder “{nome}”" in said
    assert sim.requests == []


async def test_a_portuguese_reader_gets_the_preview_in_portuguese(bot: BotHarness) -> None:
    """pt-BR: `enviar` with a list, the preview and its buttons in Portuguese."""
    bot.slack.user_locales["U1"] = "pt-BR"
    preview = await told_after_ack(bot, "enviar " + ", ".join(TWELVE) + " Oi")
    assert "*Prévia: este SMS vai para 12 números.*" in block_texts(preview["blocks"])
    assert buttons(preview["blocks"])[CONFIRM_ACTION]["text"]["text"] == "Enviar para 12"
