"""``/sms`` in Portuguese words end to end: signed commands in, the same requests at Mobizon."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from urllib.parse import urlencode

import pytest

from bot.simulator import MobizonSimulator
from handlers import account_words
from handlers.grammar import USAGE, general_usage, help_text
from handlers.views import compose_text
from testkit.waiting import wait_until
from tests.conftest import BotHarness
from tests.handlers.conftest import (
    answered_later,
    block_texts,
    buttons,
    click,
    list_bodies,
    sends,
    shown,
    wire_form,
)

pytestmark = pytest.mark.usefixtures("secret_guard")

NUMBER = "5511987654321"
SHOWN = "+55 11 98765-4321"


async def test_enviar_sends_once(
    bot: BotHarness, sim: MobizonSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """``/sms enviar`` delivered twice by Slack sends one SMS, the text as typed, posted once."""
    raw = urlencode(bot.command_body(f"enviar {SHOWN} Seu pedido está pronto"))
    first, second = await asyncio.gather(bot.post_signed(raw), bot.post_signed(raw))
    assert first == second == (200, "")
    post = (await bot.slack.wait_for("chat.postMessage", 1))[0].params
    assert post["channel"] == "C1"
    await wait_until(
        lambda: any("duplicate" in r.getMessage() for r in caplog.records),
        what="the second delivery to be taken for a duplicate",
    )
    assert sends(sim) == [wire_form([("recipient", NUMBER), ("text", "Seu pedido está pronto")])]
    assert len(bot.slack.called("chat.postMessage")) == 1


async def test_portuguese_options_reach_mobizon_as_the_english_ones(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """--de, --agendar, --validade, --flash, --nome, --encurtar-links: the English request, byte for byte."""
    sim.set_sender_names(["SMSBOT", "MyShop"])
    zone = bot.settings.mobizon_timezone
    at = (datetime.now(zone) + timedelta(days=2)).replace(hour=14, minute=30)
    portuguese = (
        f'enviar --de MyShop --agendar "{at:%Y-%m-%d %H:%M}" --validade 120 --flash '
        f'--nome "Black Friday" --encurtar-links {SHOWN} Promoção começa agora'
    )
    english = (
        f'send --from MyShop --at "{at:%Y-%m-%d %H:%M}" --validity 120 --flash '
        f'--name "Black Friday" --shorten-links {SHOWN} Promoção começa agora'
    )
    assert await bot.command(portuguese) == (200, "")
    await bot.slack.wait_for("chat.postMessage", 1)
    assert await bot.command(english) == (200, "")
    await bot.slack.wait_for("chat.postMessage", 2)
    first, second = sends(sim)
    assert first == second
    assert f"params%5BdeferredToTs%5D={at:%Y-%m-%d}+14%3A30%3A00".encode() in first
    assert b"params%5Bvalidity%5D=120" in first


async def test_a_slashed_date_is_refused_in_english(bot: BotHarness, sim: MobizonSimulator) -> None:
    """In an English workspace ``--agendar 01/12/2026 14:30`` is refused as ambiguous; nothing sent."""
    _, body = await bot.command(f'enviar --agendar "01/12/2026 14:30" {SHOWN} oi')
    sentence, usage = shown(body).split("\n")
    assert sentence == (
        "“01/12/2026 14:30” could be read month first or day first; "
        "write the year first, like 2026-12-01 14:30."
    )
    assert usage == USAGE["send"]
    assert sends(sim) == []


async def test_buscar_with_portuguese_fields_and_its_buttons(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """``buscar para:5511 status:entregue`` asks Mobizon what the English search asks; Next works."""
    for i in range(30):
        sim.create_message(NUMBER, f"pedido {i} pronto")
    sim.create_message("77012345678", "outro")
    sim.advance(120)

    status, body = await bot.command("buscar para:5511 status:entregue")
    assert (status, body) == (200, "")
    (first,) = await bot.slack.wait_for_responses(1)
    assert first.params["response_type"] == "ephemeral"
    assert "page 1 of 2, 30 found" in first.params["text"]
    assert len(re.findall(r"\*\d{7}\* to ", block_texts(first.params["blocks"]))) == 25
    await bot.command("find to:5511 status:DELIVRD")
    await bot.slack.wait_for_responses(2)
    portuguese, english = list_bodies(sim)
    assert (
        portuguese
        == english
        == wire_form(
            [
                ("criteria[to]", "5511"),
                ("criteria[status]", "DELIVRD"),
                ("pagination[currentPage]", "0"),
                ("pagination[pageSize]", "25"),
                ("sort[startSendTs]", "DESC"),
            ]
        )
    )

    # the button carries the Portuguese search and reads it back when clicked
    next_button = buttons(first.params["blocks"])["sms_find_next"]
    assert next_button["value"] == "2 para:5511 status:entregue"
    status, _ = await click(bot, next_button)
    assert status == 200
    await wait_until(lambda: len(bot.slack.responses) == 3, what="the second page")
    assert "page 2 of 2, 30 found" in bot.slack.responses[2].params["text"]
    assert list_bodies(sim)[2] == wire_form(
        [
            ("criteria[to]", "5511"),
            ("criteria[status]", "DELIVRD"),
            ("pagination[currentPage]", "1"),
            ("pagination[pageSize]", "25"),
            ("sort[startSendTs]", "DESC"),
        ]
    )


async def test_buscar_refusal_lists_the_readers_fields(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A bad Portuguese search is answered with the fields (English workspace) and the usage line."""
    _, body = await bot.command("buscar para:5511 cor:azul")
    sentence, usage = shown(body).split("\n")
    assert sentence.startswith("“cor” is not a search field; the fields are to, from, text,")
    assert usage == USAGE["find"]
    assert list_bodies(sim) == []


async def test_saldo_is_balance(bot: BotHarness, sim: MobizonSimulator) -> None:
    """``/sms saldo`` answers what ``/sms balance`` answers."""
    sim.set_pricing("0.25", "BRL")
    sim.set_balance("100")
    assert await bot.command("saldo") == (200, "")
    assert await bot.command("balance") == (200, "")
    portuguese, english = await bot.slack.wait_for_responses(2)
    assert "100" in portuguese.params["text"]
    assert portuguese.params["text"] == english.params["text"]


async def test_cancelar_cancels_a_scheduled_sms(bot: BotHarness, sim: MobizonSimulator) -> None:
    """``/sms cancelar ID`` deletes the scheduled SMS's campaign at Mobizon."""
    zone = bot.settings.mobizon_timezone
    at = (datetime.now(zone) + timedelta(days=2)).replace(hour=14, minute=30)
    await bot.command(f'enviar --agendar "{at:%Y-%m-%d %H:%M}" {NUMBER} Até lá')
    await bot.slack.wait_for("chat.postMessage", 1)
    (message_id,) = sim.messages
    assert await bot.command(f"cancelar {message_id}") == (200, "")
    (answer,) = await bot.slack.wait_for_responses(1)
    assert answer.params["text"] == account_words.cancelled(int(message_id))
    assert [r.method for r in sim.requests].count("delete") == 1


async def test_modelo_adicionar_listar_enviar_remover(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Templates in Portuguese words: saved, listed, sent with --modelo, removed."""
    said = await answered_later(bot, "modelo adicionar pronto Oi {nome}, pedido {pedido} pronto")
    assert said == compose_text.template_added("pronto")
    _, body = await bot.command("modelo listar")
    assert "pronto" in shown(body)
    assert "Oi {nome}" in shown(body)
    status, body = await bot.command(f'enviar --modelo pronto {NUMBER} nome=Ana pedido="A 17"')
    assert (status, body) == (200, "")
    await bot.slack.wait_for("chat.postMessage", 1)
    assert sends(sim) == [
        wire_form([("recipient", NUMBER), ("text", "Oi Ana, pedido A 17 pronto")])
    ]
    said = await answered_later(bot, "modelo remover pronto")
    assert said == compose_text.template_removed("pronto")
    _, body = await bot.command("template list")
    assert "pronto" not in shown(body)


@pytest.mark.parametrize("typed", ["ajuda", "  AJUDA ", "help"])
async def test_ajuda_answers_the_help(bot: BotHarness, sim: MobizonSimulator, typed: str) -> None:
    """``/sms ajuda`` answers the help at once, as ``/sms help`` does, and sends nothing."""
    status, body = await bot.command(typed)
    assert status == 200
    assert shown(body) == help_text()
    assert sim.requests == []


async def test_english_keeps_working_beside_portuguese(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """English and Portuguese words mix in one bot; an unknown word gets the general usage."""
    assert await bot.command(f"send {NUMBER} one") == (200, "")
    await bot.slack.wait_for("chat.postMessage", 1)
    assert await bot.command(f"enviar {NUMBER} dois") == (200, "")
    await bot.slack.wait_for("chat.postMessage", 2)
    assert len(sends(sim)) == 2
    _, body = await bot.command("mandar 5511 oi")
    assert shown(body).split("\n")[-1] == general_usage()
    assert len(sends(sim)) == 2
