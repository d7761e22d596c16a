"""Bounds on what is typed, end to end: control characters, and templates in the compose modal.

Control characters other than line breaks and tab are refused on every surface before anything
reaches Mobizon; a template the form cannot show within Slack's limits is not shown.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.simulator import MobizonSimulator
from handlers.grammar.templates import MAX_PLACEHOLDERS
from storage import templates
from tests.conftest import BotHarness
from tests.handlers.compose_kit import choose_template, message_shortcut, state, submit
from tests.handlers.conftest import answered_later, sends, shown
from tests.handlers.test_e2e_compose import inputs, open_modal

pytestmark = pytest.mark.usefixtures("secret_guard")

NUMBER = "5511987654321"
#: Slack refuses a modal of more blocks than this.
SLACK_VIEW_BLOCKS = 100


async def test_a_nul_typed_as_percent_00_is_not_sent(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """``/sms send 5511987654321 %00`` (Slack delivers a NUL) is refused with the usage line."""
    status, body = await bot.command(f"send {NUMBER} \x00")
    said = shown(body)
    assert status == 200
    assert "control character (U+0000, character 1)" in said
    assert said.rsplit("\n", 1)[-1].startswith("Usage: /sms send")
    assert sends(sim) == []


#: Texts the send service refuses, and what the refusal names: too many segments, a control character.
REFUSED_TEXTS = [
    ("a" * 1531, "is 11 SMS segments long"),
    ("ç" * 671, "is 11 SMS segments long"),
    ("€" * 1000, "is 14 SMS segments long"),
    ("hi\x07 you", "control character (U+0007"),
]


async def test_the_send_service_refusal_of_a_text_is_the_commands_answer(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A text over 10 segments or holding a control character: the ack names why, then usage."""
    for text, fragment in REFUSED_TEXTS:
        status, body = await bot.command(f"send {NUMBER} {text}")
        said = shown(body)
        assert status == 200
        assert fragment in said
        assert said.rsplit("\n", 1)[-1].startswith("Usage: /sms send")
    assert sends(sim) == []
    assert not bot.slack.called("chat.postMessage")


async def test_a_filled_template_too_long_is_refused_with_its_usage(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A template whose filled text is over 10 segments is refused with the template usage line."""
    await answered_later(bot, "template add long Hi {name}")
    _, body = await bot.command(f"send --template long {NUMBER} name={'a' * 1530}")
    said = shown(body)
    assert "is 11 SMS segments long" in said
    assert said.rsplit("\n", 1)[-1].startswith("Usage: /sms send --template")
    assert sends(sim) == []


async def test_the_modal_refuses_a_control_character_on_the_message(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A message holding a control character is a field error on the message; nothing is sent."""
    view = await open_modal(bot)
    _, body = await submit(bot, view, state(sms_phone=NUMBER, sms_text="Hi\x1b[31m there"))
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == ["sms_text"]
    assert "control character (U+001B, character 3)" in answer["errors"]["sms_text"]
    assert sends(sim) == []


async def test_a_campaign_name_with_a_control_character_is_not_sent(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A campaign name holding a control character: refused by the command and by the form."""
    status, body = await bot.command(f'send --name "a\x01b" {NUMBER} hi')
    assert status == 200
    assert "control character (U+0001)" in shown(body)
    view = await open_modal(bot)
    values = state(sms_phone=NUMBER, sms_text="hi", sms_name="\x00bad")
    _, answer = await submit(bot, view, values)
    assert "control character (U+0000)" in json.loads(answer)["errors"]["sms_name"]
    assert sends(sim) == []


async def test_the_message_shortcut_text_meets_the_same_rule(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A message holding a control character opens the form; sending it as is is refused."""
    assert await message_shortcut(bot, "ring\x07 the bell") == (200, "")
    await bot.slack.wait_for("views.open")
    view = bot.slack.views["V0001"]
    typed = inputs(view)["sms_text"]["element"]["initial_value"]
    _, body = await submit(bot, view, state(sms_phone=NUMBER, sms_text=typed))
    assert "control character (U+0007" in json.loads(body)["errors"]["sms_text"]
    assert sends(sim) == []


async def test_a_placeholder_value_with_a_control_character_is_a_field_error(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A value holding a control character is an error on its placeholder's input."""
    templates.add_template(bot.db, team_id="T1", name="hi", text="Hi {name}", user_id="U1")
    view = await open_modal(bot)
    assert await choose_template(bot, view, "hi") == (200, "")
    await bot.slack.wait_for("views.update")
    filled = bot.slack.views[view["id"]]
    text_id = next(b for b in inputs(filled) if b.startswith("sms_text"))
    values = state(sms_phone=NUMBER, **{"sms_ph.name": "Ana\x00"})
    values["values"][text_id] = {
        "sms_text_input": {"type": "plain_text_input", "value": "Hi {name}"}
    }
    _, body = await submit(bot, filled, values)
    errors = json.loads(body)["errors"]
    assert list(errors) == ["sms_ph.name"]
    assert "value of {name} holds a control character (U+0000" in errors["sms_ph.name"]
    assert sends(sim) == []


def _placeholders(count: int) -> str:
    return " ".join(f"{{p{i}}}" for i in range(count))


async def test_a_template_stored_beyond_the_cap_is_not_spread_over_the_modal(
    bot: BotHarness,
) -> None:
    """150 placeholders saved before the cap: the modal stays small and says why it is not used."""
    templates.add_template(bot.db, team_id="T1", name="huge", text=_placeholders(150), user_id="U1")
    view = await open_modal(bot)
    assert await choose_template(bot, view, "huge") == (200, "")
    await bot.slack.wait_for("views.update")
    after = bot.slack.views[view["id"]]
    assert len(after["blocks"]) <= SLACK_VIEW_BLOCKS
    assert inputs(after).keys() == inputs(view).keys()  # no placeholder inputs, message unchanged
    count = next(b for b in after["blocks"] if b["block_id"] == "sms_count")
    note = count["elements"][0]["text"]
    assert "150 placeholders" in note
    assert "at most 20" in note


async def test_a_template_at_the_cap_gets_one_input_per_placeholder(bot: BotHarness) -> None:
    """A template of 20 placeholders fills the form with 20 inputs, within Slack's limits."""
    text = _placeholders(MAX_PLACEHOLDERS)
    templates.add_template(bot.db, team_id="T1", name="full", text=text, user_id="U1")
    view = await open_modal(bot)
    assert await choose_template(bot, view, "full") == (200, "")
    await bot.slack.wait_for("views.update")
    after: dict[str, Any] = bot.slack.views[view["id"]]
    assert len([b for b in inputs(after) if b.startswith("sms_ph.")]) == MAX_PLACEHOLDERS
    assert len(after["blocks"]) <= SLACK_VIEW_BLOCKS
