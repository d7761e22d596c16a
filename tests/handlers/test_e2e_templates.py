"""Templates end to end: saved per workspace with ``/sms template``, sent with ``--template``."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

import storage.engine
from bot.simulator import MobizonSimulator
from handlers import send_outcomes
from handlers.commands.templates import PAGE_SIZE
from handlers.mrkdwn import unformatted
from handlers.views import compose_text
from storage import templates
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


#: Slack refuses a message of more than this many characters.
SLACK_MESSAGE_LIMIT = 40_000


async def test_a_body_no_sms_can_carry_is_not_saved(bot: BotHarness) -> None:
    """A 30,000-character body is refused in the ack with the limit, and nothing is saved."""
    status, body = await bot.command("template add long " + "x" * 30_000)
    said = shown(body)
    assert status == 200
    assert "197 SMS segments" in said
    assert "at most 10 segments, 1,530 GSM-7 characters" in said
    assert said.rsplit("\n", 1)[-1].startswith("Usage: /sms template")
    assert templates.list_templates(bot.db, team_id="T1") == []


async def test_a_body_cannot_forge_an_entry_of_the_list(bot: BotHarness) -> None:
    """A body with line breaks and list markup stays on its own entry's line, breaks shown as ↵."""
    assert "saved" in await answered_later(bot, "template add ready Hi\n• *fake*: forged\r\nbye")
    _, body = await bot.command("template list")
    lines = shown(body).split("\n")
    assert lines == ["*Templates*", f"• *ready*: “Hi ↵ • {unformatted('*fake*')}: forged ↵ bye”"]


async def test_the_list_is_paged_within_slacks_limits(bot: BotHarness) -> None:
    """40 long templates: each page stays under 40,000 characters and says how to see the rest."""
    body_text = "Order & <stock> " * 95  # 1,520 characters, every & < > escaped longer
    for number in range(40):
        templates.add_template(
            bot.db, team_id="T1", name=f"t{number:02d}", text=body_text, user_id="U1"
        )
    _, first = await bot.command("template list")
    _, second = await bot.command("template list page:2")
    _, third = await bot.command("template list page:3")
    for page in (first, second):
        assert len(shown(page)) < SLACK_MESSAGE_LIMIT
        assert shown(page).count("\n• *t") == PAGE_SIZE
    assert shown(first).startswith("*Templates 1 to 20 of 40*")
    assert shown(first).endswith(
        "20 more templates not shown: `/sms template list page:2` shows them."
    )
    assert "• *t19*" in shown(first)
    assert "• *t20*" not in shown(first)
    assert shown(second).startswith("*Templates 21 to 40 of 40*")
    assert "• *t39*" in shown(second)
    assert "not shown" not in shown(second)
    assert "no page 3" in shown(third)


async def test_a_busy_database_is_told_when_saving_or_removing(
    start_bot: Callable[..., Any],
    simulator: tuple[MobizonSimulator, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another connection holding the write lock past the busy timeout: told busy, not an error."""
    # the bot's connections (all of them: the writer may take either) give up after 50 ms, not 3 s
    monkeypatch.setattr(storage.engine, "BUSY_TIMEOUT_MS", 50)
    bot: BotHarness = await start_bot(simulator[1])
    assert "saved" in await answered_later(bot, "template add ready Hi")
    other = sqlite3.connect(bot.settings.db_path, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        added = await answered_later(bot, "template add other Bye")
        removed = await answered_later(bot, "template remove ready")
    finally:
        other.rollback()
        other.close()
    assert added == compose_text.template_busy(adding=True)
    assert removed == compose_text.template_busy(adding=False)
    assert "busy" in added
    assert "try again in a moment" in removed.lower()
    assert [t.name for t in templates.list_templates(bot.db, team_id="T1")] == ["ready"]


async def test_a_value_with_a_control_character_sends_nothing(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A placeholder's value holding a NUL is refused naming the placeholder; nothing is sent."""
    await answered_later(bot, "template add ready Hi {name}")
    _, body = await bot.command(f"send --template ready {NUMBER} name=Ana\x00")
    assert "value of {name} holds a control character (U+0000" in shown(body)
    assert sends(sim) == []


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            " ".join(f"{{p{n}}}" for n in range(150)),
            "150 placeholders; a template may have at most 20",
        ),
        ("x" * 30_000, "197 SMS segments"),
        ("Hi {name}\x00", "control character (U+0000, character 10)"),
    ],
    ids=["placeholders", "length", "nul"],
)
async def test_a_template_saved_before_the_limits_is_refused_as_such(
    bot: BotHarness, sim: MobizonSimulator, text: str, said: str
) -> None:
    """A stored template breaking today's limits is refused saying how, not asking for values."""
    templates.add_template(bot.db, team_id="T1", name="old", text=text, user_id="U1")
    _, body = await bot.command(f"send --template old {NUMBER} name=Ana")
    refused = shown(body)
    assert refused.startswith("The template old breaks today's limits:")
    assert said in refused
    assert "“/sms template remove old”" in refused
    assert "Give a value" not in refused
    assert refused.rsplit("\n", 1)[-1].startswith("Usage: /sms send --template")
    assert sends(sim) == []


async def test_the_list_shows_a_stored_control_character_visibly(bot: BotHarness) -> None:
    """A template stored with a NUL and a DEL is listed with their pictures, never the bytes."""
    templates.add_template(bot.db, team_id="T1", name="old", text="Hi\x00 there\x7f", user_id="U1")
    _, body = await bot.command("template list")
    assert "\x00" not in body
    assert "\x7f" not in body
    assert shown(body).split("\n") == ["*Templates*", "• *old*: “Hi\u2400 there\u2421”"]
