"""Templates end to end: saved per workspace with ``/sms template``, sent with ``--template``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.simulator import MobizonSimulator
from handlers import send_outcomes
from tests.conftest import BotHarness
from tests.handlers.conftest import refused_url, sends, shown, wire_form

pytestmark = pytest.mark.usefixtures("secret_guard")

NUMBER = "5511987654321"


async def test_add_list_send_remove(bot: BotHarness, sim: MobizonSimulator) -> None:
    """A saved template is listed, sent with its values filled, and gone once removed."""
    _, body = await bot.command("template add ready Hi {name}, order {order} is ready & waiting")
    assert "saved" in shown(body)
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
    _, body = await bot.command("template remove ready")
    assert "removed" in shown(body)
    _, body = await bot.command(f"send --template ready {NUMBER} name=Ana order=1")
    assert "no template named ready" in shown(body)


async def test_a_missing_value_sends_nothing(bot: BotHarness, sim: MobizonSimulator) -> None:
    """A template send without a placeholder's value is refused naming it, with the usage line."""
    await bot.command("template add ready Hi {name}, order {order}")
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
    _, body = await bot.command("template add ready Hi", user_id="U2")
    assert "saved" in shown(body)
    _, body = await bot.command("template remove ready")
    assert shown(body) == send_outcomes.not_allowed()
    _, body = await bot.command("template list")
    assert "ready" in shown(body)
