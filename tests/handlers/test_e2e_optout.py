"""The opt-out list end to end: kept with ``/sms optout``, and every surface refuses its numbers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.mobizon import OutgoingSms
from bot.simulator import MobizonSimulator
from bot.sms.sending.outcomes import OptedOut
from handlers import send_outcomes
from handlers.commands.optout import PAGE_SIZE
from storage import messages, optouts
from tests.conftest import BotHarness
from tests.handlers.compose_kit import state, submit
from tests.handlers.conftest import answered_later, refused_url, sends, shown

pytestmark = pytest.mark.usefixtures("secret_guard")

NUMBER = "5511987654321"
SHOWN = "+55 11 98765-4321"
#: Slack refuses a message of more than this many characters.
SLACK_MESSAGE_LIMIT = 40_000


def refused_here() -> str:
    """The sentence a send to NUMBER gets while it is on the list."""
    return send_outcomes.opted_out(OptedOut(OutgoingSms(NUMBER, "")))


async def test_add_list_remove_as_typed(bot: BotHarness) -> None:
    """A number typed any way is kept as digits, listed as posts show it, and removed."""
    said = await answered_later(bot, "optout add +55 (11) 98765-4321")
    assert SHOWN in said
    assert "on the opt-out list now" in said
    assert optouts.is_opted_out(bot.db, NUMBER)
    _, body = await bot.command("optout list")
    listed = shown(body).split("\n")
    assert listed[0] == "*Opt-out list: 1 number*"
    assert listed[1].startswith(f"• {SHOWN}, added by <@U1> on ")
    said = await answered_later(bot, "descadastrar remover (11) 98765-4321")
    assert "off the opt-out list" in said
    assert not optouts.is_opted_out(bot.db, NUMBER)
    _, body = await bot.command("optout list")
    assert "No number is on the opt-out list" in shown(body)


async def test_adding_twice_and_removing_one_not_listed_say_so(bot: BotHarness) -> None:
    """A second add and a removal of a number not on the list each say nothing changed."""
    await answered_later(bot, f"optout add {NUMBER}")
    said = await answered_later(bot, "optout add +55 11 98765-4321")
    assert said == f"{SHOWN} is on the opt-out list already; nothing changed."
    said = await answered_later(bot, "optout remove +55 11 91234-5678")
    assert said == "+55 11 91234-5678 is not on the opt-out list; nothing changed."
    assert optouts.optout_page(bot.db, offset=0, limit=10).total == 1


async def test_a_number_that_cannot_be_read_is_told_with_the_usage_line(
    bot: BotHarness,
) -> None:
    """An unreadable number is answered in the ack, with the usage line; nothing is kept."""
    status, body = await bot.command("optout add 12345")
    lines = shown(body).split("\n")
    assert status == 200
    assert "“12345” is not a phone number" in lines[0]
    assert lines[-1].startswith("Usage: /sms optout add PHONE")
    assert optouts.optout_page(bot.db, offset=0, limit=10).total == 0


async def test_only_who_may_send_keeps_or_reads_the_list(start_bot: Callable[..., Any]) -> None:
    """Someone outside the allow-list may not add, remove or list; an allowed user may."""
    bot: BotHarness = await start_bot(refused_url(), allowed_users=frozenset({"U2"}))
    for typed in (f"optout add {NUMBER}", f"optout remove {NUMBER}", "optout list"):
        _, body = await bot.command(typed)
        assert shown(body) == send_outcomes.not_allowed()
    assert "now" in await answered_later(bot, f"optout add {NUMBER}", user_id="U2")
    _, body = await bot.command("optout list", user_id="U2")
    assert SHOWN in shown(body)


async def test_the_list_is_paged_within_slacks_limits(bot: BotHarness) -> None:
    """120 numbers: pages of PAGE_SIZE, each well under Slack's limit, saying how to see more."""
    for n in range(120):
        optouts.add_optout(bot.db, recipient=f"5511987654{n:03d}", user_id="U1")
    _, first = await bot.command("optout list")
    _, last = await bot.command("descadastrar listar pagina:3")
    _, past = await bot.command("optout list page:4")
    assert len(shown(first)) < SLACK_MESSAGE_LIMIT
    assert shown(first).count("\n• ") == PAGE_SIZE
    assert shown(first).startswith(f"*Opt-out list: numbers 1 to {PAGE_SIZE} of 120*")
    assert shown(first).endswith("70 more numbers not shown: `/sms optout list page:2` shows them.")
    assert shown(last).startswith("*Opt-out list: numbers 101 to 120 of 120*")
    assert "not shown" not in shown(last)
    assert "no page 4" in shown(past)


async def test_a_slash_command_send_to_a_listed_number_is_refused(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """/sms send to an opted-out number is refused with the sentence; nothing sent or recorded."""
    await answered_later(bot, f"optout add {NUMBER}")
    status, body = await bot.command("send +55 11 98765-4321 Sale today")
    assert status == 200
    said = shown(body)
    assert said == refused_here()
    assert "opt-out list" in said
    assert sends(sim) == []
    assert sum(messages.count_by_state(bot.db).values()) == 0
    await answered_later(bot, f"optout remove {NUMBER}")
    assert await bot.command("send +55 11 98765-4321 Sale today") == (200, "")
    await bot.slack.wait_for("chat.postMessage")
    assert len(sends(sim)) == 1


async def test_a_template_send_to_a_listed_number_is_refused(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """/sms send --template meets the same check: refused with the sentence, nothing sent."""
    await answered_later(bot, "template add ready Hi {name}")
    await answered_later(bot, f"optout add {NUMBER}")
    _, body = await bot.command(f"send --template ready {NUMBER} name=Ana")
    assert shown(body) == refused_here()
    assert sends(sim) == []


async def test_the_compose_modal_refuses_a_listed_number(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A modal submission to an opted-out number closes, tells the sentence, sends nothing."""
    await answered_later(bot, f"optout add {NUMBER}")
    assert await bot.command("") == (200, "")
    calls = await bot.slack.wait_for("views.open")
    view = bot.slack.views[f"V{len(calls):04d}"]
    status, body = await submit(bot, view, state(sms_phone=SHOWN, sms_text="Sale today"))
    assert status == 200
    assert body == ""  # the modal closes: the refusal is told after it
    (told,) = await bot.slack.wait_for("chat.postEphemeral")
    assert told.params["text"] == refused_here()
    assert sends(sim) == []
    assert bot.slack.called("chat.postMessage") == []


async def test_a_portuguese_reader_keeps_the_list_in_portuguese(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A pt-BR user: the words descadastrar, adicionar, listar; answers and refusals in Portuguese."""
    bot.slack.user_locales["U1"] = "pt-BR"
    said = await answered_later(bot, "descadastrar adicionar (11) 98765-4321")
    assert said.endswith(
        f"{SHOWN} agora está na lista de descadastro: o smsbot não envia SMS para ele."
    )
    _, body = await bot.command("descadastrar listar")
    assert shown(body).startswith(
        "*Lista de descadastro: 1 número*\n• +55 11 98765-4321, adicionado"
    )
    _, body = await bot.command("descadastrar adicionar 12345")
    assert shown(body).split("\n")[-1].startswith("Uso: /sms descadastrar adicionar TELEFONE")
    _, body = await bot.command("enviar +55 11 98765-4321 Promoção hoje")
    assert "*não foi enviado*: o número está na lista de descadastro" in shown(body)
    assert sends(sim) == []
