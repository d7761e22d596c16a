"""Templates end to end: saved per workspace with ``/sms template``, sent with ``--template``."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from bot.simulator import MobizonSimulator
from handlers import send_outcomes
from handlers.views import compose_text
from tests.conftest import BotHarness
from tests.handlers.conftest import answered_later, refused_url, sends, shown, wire_form

pytestmark = pytest.mark.usefixtures("secret_guard")

NUMBER = "5511987654321"


async def test_add_list_send_remove(bot: BotHarness, sim: MobizonSimulator) -> None:
    """A saved template is listed, sent with its values filled, and gone once removed."""
    said = await answered_later(
        bot, "template add ready Hi {name}, order {order} is ready & waiting"
    )
    assert "saved" in said
    _, body = await bot.command("template list")
    assert "ready" in shown(body)
    assert "&amp; waiting" in shown(body)
    _, body = await bot.command("template list", team_id="T2")
    assert "No templates" in shown(body)
    status, body = await bot.command(f'send --template ready {NUMBER} name=Ana order="A 17"')
    assert (status, body) == (200, "")
    await bot.slack.wait_for("chat.postMessage")
    text = "Hi Ana, order A 17 is ready & waiting"
    assert sends(sim) == [wire_form([("recipient", NUMBER), ("text", text)])]
    assert "removed" in await answered_later(bot, "template remove ready")
    _, body = await bot.command(f"send --template ready {NUMBER} name=Ana order=1")
    assert "no template named ready" in shown(body)


async def test_a_missing_value_sends_nothing(bot: BotHarness, sim: MobizonSimulator) -> None:
    """A template send without a placeholder's value is refused naming it, with the usage line."""
    await answered_later(bot, "template add ready Hi {name}, order {order}")
    _, body = await bot.command(f"send --template ready {NUMBER} name=Ana")
    text = shown(body)
    assert "{order}" in text
    assert text.rsplit("\n", 1)[-1].startswith("Usage: /sms send --template")
    assert sends(sim) == []


async def test_only_allowed_users_save_or_remove(start_bot: Callable[..., Any]) -> None:
    """Someone outside the allow-list may list templates but not save or remove them."""
    bot: BotHarness = await start_bot(refused_url(), allowed_users=frozenset({"U2"}))
    _, body = await bot.command("template add ready Hi")
    assert shown(body) == send_outcomes.not_allowed()
    assert "saved" in await answered_later(bot, "template add ready Hi", user_id="U2")
    _, body = await bot.command("template remove ready")
    assert shown(body) == send_outcomes.not_allowed()
    _, body = await bot.command("template list")
    assert "ready" in shown(body)


async def test_saving_is_acked_while_the_database_is_locked(bot: BotHarness) -> None:
    """A save is acked at once though another connection holds the write lock, and told after."""
    other = sqlite3.connect(bot.settings.db_path, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        before = len(bot.slack.responses)
        assert await bot.command("template add ready Hi") == (200, "")
    finally:
        other.rollback()
        other.close()
    told = await bot.slack.wait_for_responses(before + 1)
    assert told[before].params["text"] == compose_text.template_added("ready")
    _, body = await bot.command("template list")
    assert "ready" in shown(body)


async def test_a_taken_name_and_an_unknown_one_are_told_after_the_ack(bot: BotHarness) -> None:
    """Saving a name taken and removing one unknown are answered after the ack, nothing changed."""
    await answered_later(bot, "template add ready Hi")
    said = await answered_later(bot, "template add ready Bye")
    assert said == compose_text.template_taken("ready")
    assert await answered_later(bot, "template remove gone") == compose_text.template_unknown(
        "gone"
    )
    _, body = await bot.command("template list")
    assert "Hi" in shown(body)
