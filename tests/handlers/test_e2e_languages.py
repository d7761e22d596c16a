"""Whose language, end to end: a person's replies in their Slack language, channel posts in the workspace's.

Signed requests to the bot, the fake Slack and the simulator on loopback sockets;
``SMSBOT_LANGUAGE`` sets the workspace language.

Which language was chosen shows in the formats (``R$ 100,00``, ``30/11/2026 14:30``, ``2.000``)
and in the product's own Portuguese sentences (the pt_BR catalogue).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.simulator import MobizonSimulator
from handlers import i18n
from handlers.commands import account as account_command
from handlers.i18n import current_locale
from handlers.languages import LOOKUP_WAIT
from testkit.waiting import wait_until
from tests.conftest import BotHarness
from tests.handlers.conftest import answer, block_texts, sends

pytestmark = pytest.mark.usefixtures("secret_guard")

NUMBER = "5511987654321"
TEMPLATE = Path(i18n.__file__).parent / "locale" / f"{i18n.DOMAIN}.pot"


#: How long a request of these tests may wait for the person's language: the fake Slack answers
#: users.info at once, but on a loaded machine not always within LOOKUP_WAIT.
PATIENT = 20.0


def patient(bot: BotHarness) -> BotHarness:
    """Have ``bot`` wait for Slack's answer on a person's language as long as it takes.

    These tests prove which language a request gets once Slack has told it, not how long a
    request waits (the users.info test below keeps LOOKUP_WAIT for that).
    """
    bot.runtime.people_languages()._wait = PATIENT
    return bot


def two_days_ahead(bot: BotHarness) -> datetime:
    """14:30 two days from now, in the Mobizon account's zone."""
    zone = bot.settings.mobizon_timezone
    return (datetime.now(zone) + timedelta(days=2)).replace(hour=14, minute=30, second=0)


async def send_later(bot: BotHarness, at: datetime, **overrides: str) -> dict[str, Any]:
    """``/sms send --at`` from U1 in C1; the channel post it makes."""
    status, body = await bot.command(
        f'send --at "{at:%Y-%m-%d %H:%M}" {NUMBER} See you', **overrides
    )
    assert (status, body) == (200, "")
    (post,) = await bot.slack.wait_for("chat.postMessage", 1)
    return post.params


async def test_a_portuguese_reader_in_an_english_workspace(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A pt-BR user: acks and replies in Portuguese and pt-BR formats; the channel post in English."""
    patient(bot)
    bot.slack.user_locales["U1"] = "pt-BR"
    sim.set_balance("1234.5")
    # the ack itself (bad input answered at once): the number follows pt-BR
    status, body = await bot.command(f"send {NUMBER} {'a' * 2000}")
    assert status == 200
    assert "(2.000 caracteres GSM-7)" in body
    assert "Uso: /sms enviar [--de REMETENTE]" in body
    # a reply after the ack, from the listener's task
    assert (await bot.command("balance"))[1] == ""
    said = await answer(bot, 1)
    assert "*Saldo da conta do Mobizon*: R$ 1.234,50" in said
    assert (await bot.command("status", channel_id="C2"))[1] == ""
    assert await answer(bot, 2) == "Nenhum SMS foi enviado neste canal ainda."
    # the channel is shared: its post is in the workspace's English, times as ever
    at = two_days_ahead(bot)
    post = await send_later(bot, at)
    shown = block_texts(post["blocks"])
    assert post["text"].startswith("SMS ")
    assert " sent by <@U1>: " in post["text"]
    assert "*To*\n+55 11 98765-4321" in shown
    assert f"scheduled for {at:%Y-%m-%d} 14:30" in shown
    assert "Para" not in shown
    assert "agendado" not in shown
    # four commands of one person: Slack was asked their language once
    assert [c.params["user"] for c in bot.slack.called("users.info")] == ["U1"]


async def test_a_portuguese_workspace_with_an_english_reader(
    start_bot: Callable[..., Any],
    simulator: tuple[MobizonSimulator, str],
) -> None:
    """pt-BR workspace: channel posts in Portuguese, an en-US user's replies in English, es-ES's in Portuguese."""
    sim, url = simulator
    bot = patient(await start_bot(url, language="pt_BR"))
    bot.slack.user_locales |= {"U1": "en-US", "U3": "es-ES"}
    sim.set_balance("1234.5")
    assert (await bot.command("balance"))[1] == ""
    assert "*Balance of the Mobizon account*: 1,234.50 BRL" in await answer(bot, 1)
    assert (await bot.command("balance", user_id="U3"))[1] == ""
    assert "*Saldo da conta do Mobizon*: R$ 1.234,50" in await answer(bot, 2)
    at = two_days_ahead(bot)
    post = await send_later(bot, at)
    shown = block_texts(post["blocks"])
    assert " enviado por <@U1>: " in post["text"]
    assert "*Para*\n+55 11 98765-4321" in shown
    assert f"agendado para {at:%d/%m/%Y} 14:30" in shown


async def test_users_info_failing_or_slow_gives_the_workspace_language_and_a_quick_ack(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """users.info refused or held: workspace English, ack well under 3 s; once answered, their own language."""
    bot.slack.user_locales |= {"U1": "pt-BR", "U2": "pt-BR"}
    sim.set_balance("10")
    bot.slack.fail_next("users.info", "missing_scope")
    assert (await bot.command("balance"))[1] == ""
    assert "*Balance of the Mobizon account*: 10.00 BRL" in await answer(bot, 1)
    bot.slack.held.add("users.info")
    started = time.monotonic()
    status, body = await bot.command("help", user_id="U2")
    took = time.monotonic() - started
    assert status == 200
    assert body.startswith("*Send SMS from Slack with `/sms`*")
    assert LOOKUP_WAIT <= took < 2.5  # waited briefly for Slack, then answered anyway
    assert (await bot.command("balance", user_id="U2"))[1] == ""
    assert "10.00 BRL" in await answer(bot, 2)
    bot.slack.release_held()
    languages = bot.runtime.languages
    assert languages is not None
    await wait_until(lambda: not languages._pending, what="the lookup that went on")
    assert (await bot.command("balance", user_id="U2"))[1] == ""
    assert "*Saldo da conta do Mobizon*: R$ 10,00" in await answer(bot, 3)
    assert [c.params["user"] for c in bot.slack.called("users.info")] == ["U1", "U2"]


async def test_a_listener_running_after_the_ack_keeps_the_requests_language(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bolt runs the listener on a task that outlives the ack: it still sees the chosen locale."""
    patient(bot)
    bot.slack.user_locales["U1"] = "pt-BR"
    acked = asyncio.Event()
    seen: list[str] = []

    async def balance(*_args: object, **_kwargs: object) -> None:
        await acked.wait()  # the HTTP answer (the ack) has reached Slack by now
        seen.append(current_locale())

    monkeypatch.setattr(account_command, "balance", balance)
    assert await bot.command("balance") == (200, "")
    acked.set()
    await wait_until(lambda: bool(seen), what="the listener after the ack")
    assert seen == ["pt_BR"]


async def test_the_compose_modal_is_in_the_persons_language(bot: BotHarness) -> None:
    """``/sms`` alone opens the modal titled in the opener's language."""
    patient(bot)
    bot.slack.user_locales |= {"U1": "pt-BR", "U2": "en-US"}
    assert await bot.command("") == (200, "")
    assert await bot.command("", user_id="U2") == (200, "")
    opened = await bot.slack.wait_for("views.open", 2)
    titles = sorted(
        (call.params["view"] if isinstance(call.params["view"], dict) else {})
        .get("title", {})
        .get("text")
        for call in opened
    )
    assert titles == ["Enviar um SMS", "Send an SMS"]


async def test_the_help_shows_the_readers_own_words(bot: BotHarness) -> None:
    """``/sms help`` or ``ajuda``: a pt-BR reader gets the Portuguese help with enviar, an English one send."""
    patient(bot)
    bot.slack.user_locales |= {"U1": "pt-BR", "U2": "en-US"}
    status, portuguese = await bot.command("help")
    assert status == 200
    assert "`/sms enviar +55 11 98765-4321" in portuguese
    assert "`/sms buscar para:" in portuguese
    assert "/sms send" not in portuguese
    status, english = await bot.command("ajuda", user_id="U2")
    assert status == 200
    assert "`/sms send +55 11 98765-4321" in english
    assert "/sms enviar" not in english


async def test_a_refusal_and_its_usage_line_are_in_the_readers_language(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Bad input from a pt-BR reader: a Portuguese sentence and a usage line in Portuguese words."""
    patient(bot)
    bot.slack.user_locales["U1"] = "pt-BR"
    status, body = await bot.command("enviar --validade 5 +55 11 98765-4321 oi")
    assert status == 200
    assert "“--validade 5” precisa ser um número inteiro de minutos, de 60 a 1440." in body
    assert "Uso: /sms enviar [--de REMETENTE]" in body
    assert sends(sim) == []
