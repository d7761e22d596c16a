"""Sending without accents end to end: ``--gsm`` and the modal's choice, as Mobizon receives them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.simulator import MobizonSimulator
from handlers.grammar import USAGE
from handlers.grammar.send import no_plain_form
from handlers.views import compose_text as say
from storage import messages
from tests.conftest import BotHarness
from tests.handlers.compose_kit import keystroke, state, submit
from tests.handlers.conftest import block_texts, sends, shown, wire_form

pytestmark = pytest.mark.usefixtures("secret_guard")

NUMBER = "5511987654321"
SHOWN = "+55 11 98765-4321"
EMOJI = "\U0001f600"
#: 98 characters: 2 segments in UCS-2, 1 in GSM-7 without its accents.
PORTUGUESE = (
    "Olá, João! Sua encomenda já está pronta para retirada na loja; "
    "a promoção de verão termina amanhã."
)
PLAIN = (
    "Ola, Joao! Sua encomenda ja esta pronta para retirada na loja; "
    "a promocao de verao termina amanha."
)
#: The ``sms_gsm`` checkbox as Slack sends it, ticked.
TICKED = {
    "type": "checkboxes",
    "selected_options": [
        {"text": {"type": "plain_text", "text": "Send without accents"}, "value": "gsm"}
    ],
}


async def posted(bot: BotHarness) -> dict[str, Any]:
    """The bot's first chat.postMessage in the channel."""
    return (await bot.slack.wait_for("chat.postMessage"))[0].params


async def open_modal(bot: BotHarness) -> dict[str, Any]:
    """Type ``/sms`` alone and return the modal Slack holds open."""
    assert await bot.command("") == (200, "")
    calls = await bot.slack.wait_for("views.open")
    return bot.slack.views[f"V{len(calls):04d}"]


def block(view: dict[str, Any], block_id: str) -> dict[str, Any] | None:
    """The block ``block_id`` of ``view``, or None."""
    return next((b for b in view["blocks"] if b.get("block_id") == block_id), None)


# ---------------------------------------------------------------- /sms send --gsm


async def test_gsm_sends_the_text_without_accents(bot: BotHarness, sim: MobizonSimulator) -> None:
    """``--gsm`` sends the GSM-7 spelling in 1 segment; the post shows what was sent."""
    status, body = await bot.command(f"send --gsm {SHOWN} {PORTUGUESE}")
    assert (status, body) == (200, "")
    params = await posted(bot)
    assert sends(sim) == [wire_form([("recipient", NUMBER), ("text", PLAIN)])]
    shown_text = block_texts(params["blocks"])
    assert PLAIN in shown_text
    assert PORTUGUESE not in shown_text
    assert "*Segments*\n1 (GSM-7, 98 characters)" in shown_text
    (simulated,) = sim.messages.values()
    row = messages.get_by_message_id(bot.db, simulated.id)
    assert row is not None
    assert (row.text, row.encoding, row.segments) == (PLAIN, "GSM-7", 1)


async def test_without_gsm_the_accents_are_sent(bot: BotHarness, sim: MobizonSimulator) -> None:
    """Nothing changes unless asked: the same text without ``--gsm`` goes as typed, 2 segments."""
    assert await bot.command(f"send {SHOWN} {PORTUGUESE}") == (200, "")
    params = await posted(bot)
    assert sends(sim) == [wire_form([("recipient", NUMBER), ("text", PORTUGUESE)])]
    assert "*Segments*\n2 (UCS-2, 98 characters)" in block_texts(params["blocks"])


async def test_portuguese_option_word(bot: BotHarness, sim: MobizonSimulator) -> None:
    """``/sms enviar --sem-acentos`` is ``--gsm``; a GSM-7 text among accents keeps é and à."""
    assert await bot.command(f"enviar --sem-acentos {SHOWN} Até às “9h” — ação") == (200, "")
    await posted(bot)
    assert sends(sim) == [wire_form([("recipient", NUMBER), ("text", 'Até às "9h" - acao')])]


async def test_a_gsm7_text_is_sent_as_is(bot: BotHarness, sim: MobizonSimulator) -> None:
    """A text GSM-7 already holds goes unchanged under ``--gsm``."""
    text = "Your order {A17} is ready: 10€, café"
    assert await bot.command(f"send --gsm {SHOWN} {text}") == (200, "")
    await posted(bot)
    assert sends(sim) == [wire_form([("recipient", NUMBER), ("text", text)])]


async def test_no_gsm7_spelling_is_refused_with_the_usage_line(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """An emoji has no plain form: the refusal names it, the usage line follows, nothing is sent."""
    status, body = await bot.command(f"send --gsm {SHOWN} Olá {EMOJI}")
    assert status == 200
    sentence, _, usage = shown(body).rpartition("\n")
    assert sentence == no_plain_form(EMOJI, "gsm")
    assert usage == USAGE["send"]
    assert sim.requests == []
    assert bot.slack.called("chat.postMessage") == []


# ---------------------------------------------------------------- the compose modal


async def test_the_modal_shows_both_counts_and_offers_the_choice(bot: BotHarness) -> None:
    """Typing accented text shows the UCS-2 count and the count without accents, and a checkbox."""
    view = await open_modal(bot)
    assert block(view, "sms_gsm") is None
    assert await keystroke(bot, view, PORTUGUESE) == (200, "")
    await bot.slack.wait_for("views.update")
    shown_view = bot.slack.views[view["id"]]
    count = block(shown_view, "sms_count")
    assert count is not None
    assert count["elements"][0]["text"] == (
        say.count_line("UCS-2", 98, 2) + "\n" + say.without_accents_line(98, 1)
    )
    choice = block(shown_view, "sms_gsm")
    assert choice is not None
    assert choice["optional"] is True
    assert choice["element"]["type"] == "checkboxes"
    assert [o["value"] for o in choice["element"]["options"]] == ["gsm"]
    assert "initial_options" not in choice["element"]  # never ticked for the person
    ids = [b["block_id"] for b in shown_view["blocks"]]
    assert ids.index("sms_gsm") == ids.index("sms_count") + 1


@pytest.mark.parametrize("text", [f"Olá {EMOJI}", "Plain text, café", "中文"])
async def test_no_choice_where_there_is_nothing_to_gain(bot: BotHarness, text: str) -> None:
    """A GSM-7 text, or one with no GSM-7 spelling, shows one count and no checkbox."""
    view = await open_modal(bot)
    await keystroke(bot, view, PORTUGUESE)
    await bot.slack.wait_for("views.update")
    accented = bot.slack.views[view["id"]]
    assert block(accented, "sms_gsm") is not None
    await keystroke(bot, accented, text)
    await bot.slack.wait_for("views.update", 2)
    shown_view = bot.slack.views[view["id"]]
    assert block(shown_view, "sms_gsm") is None
    count = block(shown_view, "sms_count")
    assert count is not None
    assert "\n" not in count["elements"][0]["text"]


async def test_ticked_the_modal_sends_without_accents(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """The checkbox ticked on submit: Mobizon receives the GSM-7 spelling, the post shows it."""
    view = await open_modal(bot)
    await keystroke(bot, view, PORTUGUESE)
    await bot.slack.wait_for("views.update")
    shown_view = bot.slack.views[view["id"]]
    values = state(sms_phone=NUMBER, sms_text=PORTUGUESE, sms_gsm=TICKED)
    assert await submit(bot, shown_view, values) == (200, "")
    params = await posted(bot)
    assert sends(sim) == [wire_form([("recipient", NUMBER), ("text", PLAIN)])]
    assert PLAIN in block_texts(params["blocks"])
    assert "*Segments*\n1 (GSM-7, 98 characters)" in block_texts(params["blocks"])


async def test_unticked_the_modal_sends_as_typed(bot: BotHarness, sim: MobizonSimulator) -> None:
    """The checkbox left empty: the accents reach Mobizon."""
    view = await open_modal(bot)
    await keystroke(bot, view, PORTUGUESE)
    await bot.slack.wait_for("views.update")
    unticked = {"type": "checkboxes", "selected_options": []}
    values = state(sms_phone=NUMBER, sms_text=PORTUGUESE, sms_gsm=unticked)
    assert await submit(bot, bot.slack.views[view["id"]], values) == (200, "")
    await posted(bot)
    assert sends(sim) == [wire_form([("recipient", NUMBER), ("text", PORTUGUESE)])]


async def test_ticked_with_no_spelling_is_a_field_error(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Ticked, but the text now holds an emoji: an error on the checkbox, the modal stays open."""
    view = await open_modal(bot)
    values = state(sms_phone=NUMBER, sms_text=f"ação {EMOJI}", sms_gsm=TICKED)
    status, body = await submit(bot, view, values)
    assert status == 200
    assert json.loads(body) == {
        "response_action": "errors",
        "errors": {"sms_gsm": say.no_plain_form(EMOJI)},
    }
    assert sends(sim) == []


async def test_an_unreadable_choice_is_a_field_error(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A checkbox state Slack could not have sent is said so on its field; nothing is sent."""
    view = await open_modal(bot)
    broken = {"type": "checkboxes", "selected_options": "gsm"}
    values = state(sms_phone=NUMBER, sms_text=PORTUGUESE, sms_gsm=broken)
    _, body = await submit(bot, view, values)
    assert list(json.loads(body)["errors"]) == ["sms_gsm"]
    assert sends(sim) == []
