"""Outside text reaches Slack shown as typed: its mrkdwn formatting characters never format.

Each test asserts the exact text Slack was given: every ``*``, ``_``, ``~`` and backtick that
smsbot did not write carries a soft hyphen on each side (handlers.mrkdwn), and ours do not.
"""

from __future__ import annotations

from bot.simulator import MobizonSimulator
from handlers.grammar import USAGE
from storage.messages import get_by_message_id
from tests.conftest import BotHarness
from tests.handlers.conftest import answer, shown
from tests.sms.delivery.conftest import channel_message, outbox_drained, thread_replies
from tests.sms.delivery.test_moderation import held_sms, watch

NUMBER = "5511987654321"
SHOWN_NUMBER = "+55 11 98765-4321"
M = "\u00ad"
#: Text from outside that mrkdwn would render as bold, italic, struck and code.
FORMATTED = "*x* _y_ ~z~ `w`"
#: How Slack must be given it: every formatting character marked on both sides.
AS_TYPED = f"{M}*{M}x{M}*{M} {M}_{M}y{M}_{M} {M}~{M}z{M}~{M} {M}`{M}w{M}`{M}"


async def test_sms_text_is_quoted_as_typed_and_sent_unchanged(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """The channel post quotes the SMS text as typed; Mobizon and the database get it unchanged."""
    await bot.command(f"send {NUMBER} {FORMATTED}")
    (post,) = await bot.slack.wait_for("chat.postMessage", 1)
    assert post.params["blocks"][0]["text"] == {
        "type": "mrkdwn",
        "text": f"*SMS to {SHOWN_NUMBER}*\n> {AS_TYPED}",
    }
    (message,) = sim.messages.values()
    assert message.text == FORMATTED
    stored = get_by_message_id(bot.db, message.id)
    assert stored is not None
    assert stored.text == FORMATTED


async def test_moderator_comment_is_shown_as_typed_in_the_edit_and_the_reply(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A moderator's comment is shown as typed in the edited post and in the thread reply."""
    sms = await held_sms(bot, sim)
    sim.moderate(sms.campaign_id or 0, approve=False, comment=FORMATTED)
    assert await watch(bot).run_once() == 1
    await outbox_drained(bot.db)
    declined = f":no_entry: declined by Mobizon's moderators, not sent: “{AS_TYPED}”"
    edited = channel_message(bot.slack, sms)
    assert edited["blocks"][1]["fields"][5] == {"type": "mrkdwn", "text": f"*Status*\n{declined}"}
    (reply,) = thread_replies(bot.slack, sms)
    said = (
        f":no_entry: SMS {sms.message_id} to {SHOWN_NUMBER} was declined by Mobizon's "
        f"moderators and will not be sent. The moderator's comment: “{AS_TYPED}”."
    )
    assert reply["text"] == said
    assert reply["blocks"] == [{"type": "section", "text": {"type": "mrkdwn", "text": said}}]


async def test_status_from_mobizon_is_shown_as_typed(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """``/sms status``: a status Mobizon reports that mrkdwn would format is shown as typed."""
    message = sim.create_message(NUMBER, "hello")
    sim.set_status(message.id, "*X*_Y_")
    await bot.command(f"status {message.id}")
    (response,) = await bot.slack.wait_for_responses(1)
    line = response.params["blocks"][1]["text"]["text"]
    marked = f"{M}*{M}X{M}*{M}{M}_{M}Y{M}_{M}"
    assert line.startswith(f":outbox_tray: *{message.id}*: “{marked}” (unknown status) · "), line


async def test_find_shows_sender_text_and_status_as_typed(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """``/sms find``: the sender name, text and status Mobizon lists are shown as typed."""
    message = sim.create_message(NUMBER, FORMATTED, sender="_Shop_")
    sim.set_status(message.id, "~X~")
    await bot.command("find to:5511")
    (response,) = await bot.slack.wait_for_responses(1)
    first, second = response.params["blocks"][1]["text"]["text"].split("\n")
    assert first.startswith(
        f":outbox_tray: *{message.id}* to {SHOWN_NUMBER} from {M}_{M}Shop{M}_{M} · "
        f"“{M}~{M}X{M}~{M}” (unknown) · "
    ), first
    assert second == f"      _{AS_TYPED}_"


async def test_mobizon_error_message_is_shown_as_typed(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A refusal quoting Mobizon's own words shows them as typed."""
    sim.fail_next("sendSmsMessage", 1, data={"text": FORMATTED})
    await bot.command(f"send {NUMBER} hello")
    said = await answer(bot, 1)
    assert said == (
        f":warning: SMS to {SHOWN_NUMBER}: Mobizon refused the message: text: {AS_TYPED}. "
        "The SMS was not sent."
    )


async def test_sender_names_from_mobizon_are_shown_as_typed(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """The account's sender names Mobizon lists in a refusal are shown as typed."""
    sim.set_sender_names(["My_Shop_", "*Big*"])
    await bot.command(f"send --from Nobody {NUMBER} hello")
    said = await answer(bot, 1)
    assert f"`My{M}_{M}Shop{M}_{M}`, `{M}*{M}Big{M}*{M}`" in said, said


async def test_a_refusal_echoes_what_was_typed_as_typed(bot: BotHarness) -> None:
    """A refusal quoting the typed input shows it as typed, its own formatting intact."""
    status, body = await bot.command("status *12* _x_")
    assert status == 200
    assert shown(body) == (
        f"“{M}*{M}12{M}*{M}” is not a message id; ids are whole numbers above 0, separated by "
        "spaces or commas.\n" + USAGE["status"]
    )
