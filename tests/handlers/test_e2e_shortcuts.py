"""The shortcuts end to end: "Send as SMS" on a message and the global "Send an SMS"."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from bot.simulator import MobizonSimulator
from handlers import send_outcomes
from handlers.i18n import gettext as _
from handlers.shortcuts import listeners as shortcut_listeners
from handlers.views import channel_check
from handlers.views import compose_text as say
from testkit.waiting import wait_until
from tests.conftest import BotHarness
from tests.handlers.compose_kit import global_shortcut, message_shortcut, state, submit
from tests.handlers.conftest import refused_url, sends, wire_form

pytestmark = pytest.mark.usefixtures("secret_guard")

NUMBER = "5511987654321"


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    """The block of ``view`` with ``block_id``."""
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


async def test_send_as_sms_fills_plain_text_and_posts_in_its_channel(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """The message's markup becomes plain text in the modal; the SMS is posted in its channel."""
    bot.slack.user_names["U5"] = "bruno"
    bot.slack.channel_names["C3"] = "billing"
    raw = "Hi <@U5>, see <#C3> &amp; <https://x.example/o?id=1|your order>"
    assert await message_shortcut(bot, raw) == (200, "")
    await bot.slack.wait_for("views.open")
    view = bot.slack.views["V0001"]
    text = block(view, "sms_text")["element"]["initial_value"]
    assert text == "Hi @bruno, see #billing & your order (https://x.example/o?id=1)"
    assert json.loads(view["private_metadata"])["channel"] == "C7"
    assert await submit(bot, view, state(sms_phone=NUMBER, sms_text=text)) == (200, "")
    posted = await bot.slack.wait_for("chat.postMessage")
    assert posted[0].params["channel"] == "C7"
    assert sends(sim) == [wire_form([("recipient", NUMBER), ("text", text)])]


async def test_send_as_sms_refused_for_who_may_not_send(start_bot: Callable[..., Any]) -> None:
    """Someone outside the allow-list is told why in the channel, and no modal opens."""
    bot: BotHarness = await start_bot(refused_url(), allowed_users=frozenset({"U2"}))
    assert await message_shortcut(bot, "hello") == (200, "")
    told = await bot.slack.wait_for("chat.postEphemeral")
    assert told[0].params["text"] == send_outcomes.not_allowed()
    assert bot.slack.called("views.open") == []


async def test_global_shortcut_picks_a_channel_defaulting_to_the_dm(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """The global shortcut asks where to post, defaulting to the user's DM with the bot."""
    assert await global_shortcut(bot) == (200, "")
    await bot.slack.wait_for("views.open")
    view = bot.slack.views["V0001"]
    picker = block(view, "sms_channel")["element"]
    assert picker["type"] == "conversations_select"
    assert picker["initial_conversation"] == "D1"
    values = state(
        sms_phone=NUMBER,
        sms_text="hi",
        sms_channel={"type": "conversations_select", "selected_conversation": "C9"},
    )
    assert await submit(bot, view, values) == (200, "")
    posted = await bot.slack.wait_for("chat.postMessage")
    assert posted[0].params["channel"] == "C9"
    assert len(sends(sim)) == 1


async def pick_and_submit(bot: BotHarness, channel: str, *, user: str = "U1") -> tuple[int, str]:
    """Open the global shortcut's form as ``user`` and submit an SMS to be posted in ``channel``."""
    opened = len(bot.slack.called("views.open"))
    await global_shortcut(bot, user=user)
    await bot.slack.wait_for("views.open", opened + 1)
    values = state(
        sms_phone=NUMBER,
        sms_text="hi",
        sms_channel={"type": "conversations_select", "selected_conversation": channel},
    )
    return await submit(bot, bot.slack.views[max(bot.slack.views)], values, user=user)


def picker_error(body: str) -> dict[str, str]:
    """The field errors of a submission's answer."""
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    errors: dict[str, str] = answer["errors"]
    return errors


async def test_global_shortcut_refuses_a_channel_the_person_is_not_in(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A channel picked by someone not in it gets a field error: nothing sent, nothing posted."""
    bot.slack.channel_members["C9"] = ["U2", "UBOT"]
    status, body = await pick_and_submit(bot, "C9")
    assert status == 200
    assert picker_error(body) == {"sms_channel": _(channel_check.NOT_A_MEMBER)}
    assert sends(sim) == []
    assert bot.slack.called("chat.postMessage") == []
    assert bot.slack.called("conversations.join") == []


async def test_global_shortcut_sends_for_a_member_of_a_large_channel(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A member listed on the second page of a big channel's members may post there."""
    bot.slack.channel_members["C9"] = [f"U{n:05d}" for n in range(1500)] + ["U1"]
    assert await pick_and_submit(bot, "C9") == (200, "")
    posted = await bot.slack.wait_for("chat.postMessage")
    assert posted[0].params["channel"] == "C9"
    assert len(sends(sim)) == 1
    assert [c.params.get("cursor") for c in bot.slack.called("conversations.members")] == [
        None,
        "1000",
    ]


async def test_a_failed_membership_lookup_sends_nothing(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """When Slack fails to list the channel's members, the picker says so and nothing is sent."""
    bot.slack.fail_next("conversations.members", "fatal_error")
    status, body = await pick_and_submit(bot, "C9")
    assert status == 200
    assert picker_error(body) == {"sms_channel": channel_check.check_failed("fatal_error")}
    assert sends(sim) == []
    assert bot.slack.called("chat.postMessage") == []


async def test_a_private_channel_without_smsbot_is_refused(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A private channel smsbot was not invited to gets a field error asking to invite it."""
    bot.slack.private_channels.add("C8")
    status, body = await pick_and_submit(bot, "C8")
    assert status == 200
    assert picker_error(body) == {"sms_channel": _(channel_check.NOT_REACHABLE)}
    assert sends(sim) == []


async def test_the_dm_default_sends_and_another_dm_is_refused(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """The default, the sender's DM with smsbot, is posted in; someone else's DM is refused."""
    status, body = await pick_and_submit(bot, "D7")
    assert status == 200
    assert picker_error(body) == {"sms_channel": _(channel_check.NOT_REACHABLE)}
    assert sends(sim) == []
    assert await pick_and_submit(bot, "D1") == (200, "")
    posted = await bot.slack.wait_for("chat.postMessage")
    assert posted[0].params["channel"] == "D1"
    assert len(sends(sim)) == 1
    assert bot.slack.called("conversations.members") == []


async def test_global_shortcut_needs_a_channel(bot: BotHarness, sim: MobizonSimulator) -> None:
    """A global-shortcut modal submitted without a channel is answered with an error on the picker."""
    await global_shortcut(bot)
    await bot.slack.wait_for("views.open")
    values = state(
        sms_phone=NUMBER,
        sms_text="hi",
        sms_channel={"type": "conversations_select", "selected_conversation": None},
    )
    status, body = await submit(bot, bot.slack.views["V0001"], values)
    assert status == 200
    assert list(json.loads(body)["errors"]) == ["sms_channel"]
    assert sends(sim) == []


async def test_a_slow_name_lookup_does_not_keep_the_modal_closed(bot: BotHarness) -> None:
    """When users.info does not answer, the modal still opens in time, the mention left as an id."""
    bot.slack.user_names["U5"] = "bruno"
    bot.slack.held = {"users.info"}
    try:
        assert await message_shortcut(bot, "Hi <@U5>") == (200, "")
        await bot.slack.wait_for("views.open", timeout=3.0)  # Slack's trigger lasts 3 s
    finally:
        bot.slack.release_held()
    text = block(bot.slack.views["V0001"], "sms_text")["element"]["initial_value"]
    assert text == "Hi @U5"


async def test_global_shortcut_refused_for_who_may_not_send(start_bot: Callable[..., Any]) -> None:
    """Someone outside the allow-list is told why in a direct message, and no modal opens."""
    bot: BotHarness = await start_bot(refused_url(), allowed_users=frozenset({"U2"}))
    assert await global_shortcut(bot) == (200, "")
    told = await bot.slack.wait_for("chat.postMessage")
    assert (told[0].params["channel"], told[0].params["text"]) == (
        "U1",
        send_outcomes.not_allowed(),
    )
    assert bot.slack.called("views.open") == []


async def test_send_as_sms_tells_why_the_modal_did_not_open(bot: BotHarness) -> None:
    """When Slack refuses the modal, the person is told privately in the message's channel."""
    bot.slack.fail_next("views.open", "expired_trigger_id")
    assert await message_shortcut(bot, "hello") == (200, "")
    told = await bot.slack.wait_for("chat.postEphemeral")
    assert (told[0].params["channel"], told[0].params["user"], told[0].params["text"]) == (
        "C7",
        "U1",
        say.not_opened("expired_trigger_id"),
    )


async def test_global_shortcut_tells_why_the_modal_did_not_open(bot: BotHarness) -> None:
    """When Slack refuses the global shortcut's modal, the person is told in their DM with me."""
    bot.slack.fail_next("views.open", "expired_trigger_id")
    assert await global_shortcut(bot) == (200, "")
    told = await bot.slack.wait_for("chat.postEphemeral")
    assert (told[0].params["channel"], told[0].params["text"]) == (
        "D1",
        say.not_opened("expired_trigger_id"),
    )


async def test_names_are_looked_up_while_the_sender_names_are(
    bot: BotHarness, sim: MobizonSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A mention's name and Mobizon's sender names are fetched at once, not one after the other.

    users.info is answered only once Mobizon was asked for the sender names (held meanwhile):
    looked up one after the other, the name would give up waiting and stay an id. The name's
    wait is made generous, so that a loaded machine cannot make it give up early.
    """
    monkeypatch.setattr(shortcut_listeners, "NAME_WAIT", 5.0)
    bot.slack.user_names["U5"] = "bruno"
    bot.slack.held = {"users.info"}
    sim.hold()

    def asked() -> int:
        return sum((r.module, r.method) == ("alphaname", "list") for r in sim.requests)

    before = asked()

    async def release_when_asked() -> None:
        await wait_until(
            lambda: asked() > before or bool(bot.slack.called("views.open")),
            what="the sender names to be asked for",
        )
        bot.slack.release_held()

    releasing = asyncio.create_task(release_when_asked())
    try:
        assert await message_shortcut(bot, "Hi <@U5>") == (200, "")
        await bot.slack.wait_for("views.open")
    finally:
        bot.slack.release_held()
        sim.release()
        await releasing
    assert block(bot.slack.views["V0001"], "sms_text")["element"]["initial_value"] == "Hi @bruno"
