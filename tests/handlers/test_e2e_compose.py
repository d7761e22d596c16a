"""The compose modal end to end: ``/sms`` alone opens it, typing counts, submitting sends once."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.simulator import MobizonSimulator
from handlers import send_outcomes
from handlers.mrkdwn import verbatim
from handlers.views import compose_text as say
from handlers.views import listeners
from testkit.waiting import wait_until
from tests.conftest import BotHarness
from tests.handlers.compose_kit import choose_template, keystroke, state, submit
from tests.handlers.conftest import answered_later, refused_url, sends, wire_form

pytestmark = pytest.mark.usefixtures("secret_guard")

NUMBER = "5511987654321"
INPUTS = ["sms_phone", "sms_file", "sms_text", "sms_sender", "sms_at", "sms_validity", "sms_name"]


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The input blocks of a view by block id."""
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


async def open_modal(bot: BotHarness) -> dict[str, Any]:
    """Type ``/sms`` alone and return the modal Slack holds open."""
    status, body = await bot.command("")
    assert (status, body) == (200, "")
    calls = await bot.slack.wait_for("views.open")
    return bot.slack.views[f"V{len(calls):04d}"]


async def test_sms_alone_opens_the_modal(bot: BotHarness, sim: MobizonSimulator) -> None:
    """``/sms`` with no text opens the compose modal with the command's trigger and channel."""
    view = await open_modal(bot)
    call = bot.slack.called("views.open")[0]
    assert call.params["trigger_id"] == bot.sent[0]["trigger_id"]
    assert view["callback_id"] == "sms_compose"
    assert json.loads(view["private_metadata"])["channel"] == "C1"
    found = inputs(view)
    assert list(found) == INPUTS
    assert "phone number" in found["sms_phone"]["label"]["text"].lower()
    assert found["sms_text"]["element"]["multiline"] is True
    assert found["sms_at"]["element"]["type"] == "datetimepicker"
    assert found["sms_sender"]["element"]["type"] == "static_select"
    options = [o["value"] for o in found["sms_sender"]["element"]["options"]]
    assert options == list(sim.config.sender_names)
    assert sends(sim) == []


async def test_the_sender_select_uses_the_cached_sender_names(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """The modal's sender list comes from the one sender-name cache, not a fetch per opening."""
    names = list(sim.config.sender_names)
    first = await open_modal(bot)
    sim.set_sender_names(["Renamed"])
    status, body = await bot.command("")
    assert (status, body) == (200, "")
    calls = await bot.slack.wait_for("views.open", 2)
    second = bot.slack.views[f"V{len(calls):04d}"]
    for view in (first, second):
        options = [o["value"] for o in inputs(view)["sms_sender"]["element"]["options"]]
        assert options == names


async def test_sender_is_free_text_when_mobizon_does_not_list_names(
    start_bot: Callable[..., Any],
) -> None:
    """Without Mobizon's sender names (it cannot be reached) the sender is a text input."""
    bot: BotHarness = await start_bot(refused_url())
    view = await open_modal(bot)
    assert inputs(view)["sms_sender"]["element"]["type"] == "plain_text_input"


async def test_sender_is_free_text_when_mobizon_is_slow_to_list_names(
    bot: BotHarness, sim: MobizonSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sender names not answered within SENDER_NAMES_WAIT: the modal opens with a text input."""
    monkeypatch.setattr(listeners, "SENDER_NAMES_WAIT", 0.1)
    sim.hold(method="alphaname/list")
    try:
        view = await open_modal(bot)
        assert inputs(view)["sms_sender"]["element"]["type"] == "plain_text_input"
        assert sim.count("alphaname/list") == 1  # asked, and not answered in time
    finally:
        sim.release(method="alphaname/list")


async def test_not_opened_for_who_may_not_send(start_bot: Callable[..., Any]) -> None:
    """Someone outside the allow-list is told why, and no modal opens."""
    bot: BotHarness = await start_bot(refused_url(), allowed_users=frozenset({"U2"}))
    status, body = await bot.command("")
    assert status == 200
    assert send_outcomes.not_allowed() in body
    assert bot.slack.called("views.open") == []


async def test_submit_sends_once_and_posts_in_the_channel(
    bot: BotHarness, sim: MobizonSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """A valid submission closes the modal and sends once, even when Slack delivers it twice."""
    view = await open_modal(bot)
    values = state(sms_phone="+55 11 98765-4321", sms_text="Your order is ready")
    assert await submit(bot, view, values) == (200, "")
    posted = await bot.slack.wait_for("chat.postMessage")
    assert posted[0].params["channel"] == "C1"
    assert await submit(bot, view, values) == (200, "")
    await wait_until(
        lambda: any(r.message == "duplicate send ignored" for r in caplog.records),
        within=10,
        what="the second delivery to be taken for a duplicate",
    )
    assert sends(sim) == [wire_form([("recipient", NUMBER), ("text", "Your order is ready")])]


async def test_text_pasted_from_a_post_is_sent_as_typed(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Text copied from smsbot's own post (marked so Slack shows it as typed) is sent without marks."""
    view = await open_modal(bot)
    typed = "Promo *50%* off _today_"
    assert await submit(bot, view, state(sms_phone=NUMBER, sms_text=verbatim(typed))) == (200, "")
    await bot.slack.wait_for("chat.postMessage")
    assert sends(sim) == [wire_form([("recipient", NUMBER), ("text", typed)])]


async def test_every_field_reaches_mobizon(bot: BotHarness, sim: MobizonSimulator) -> None:
    """Sender, a chosen time (sent in the account's zone), validity and name become Mobizon's."""
    view = await open_modal(bot)
    zone = ZoneInfo(str(bot.settings.mobizon_timezone))
    at = (datetime.now(zone) + timedelta(days=2)).replace(second=0, microsecond=0)
    values = state(
        sms_phone=NUMBER,
        sms_text="Sale",
        sms_sender={"type": "static_select", "selected_option": {"value": "SMSBOT"}},
        sms_at={"type": "datetimepicker", "selected_date_time": int(at.timestamp())},
        sms_validity="120",
        sms_name="Black Friday",
    )
    assert await submit(bot, view, values) == (200, "")
    await bot.slack.wait_for("chat.postMessage")
    assert sends(sim) == [
        wire_form(
            [
                ("recipient", NUMBER),
                ("text", "Sale"),
                ("from", "SMSBOT"),
                ("params[name]", "Black Friday"),
                ("params[deferredToTs]", f"{at:%Y-%m-%d %H:%M}:00"),
                ("params[validity]", "120"),
            ]
        )
    ]


@pytest.mark.parametrize(
    ("typed", "block"),
    [
        ({"sms_phone": "12", "sms_text": "hi"}, "sms_phone"),
        ({"sms_phone": "", "sms_text": "hi"}, "sms_phone"),
        ({"sms_phone": NUMBER + " hi", "sms_text": "hi"}, "sms_phone"),
        ({"sms_phone": NUMBER, "sms_text": "   "}, "sms_text"),
        ({"sms_phone": NUMBER, "sms_text": "x" * 1600}, "sms_text"),
        ({"sms_phone": NUMBER, "sms_text": "hi", "sms_validity": "30"}, "sms_validity"),
        ({"sms_phone": NUMBER, "sms_text": "hi", "sms_sender": "bad sender!"}, "sms_sender"),
        ({"sms_phone": NUMBER, "sms_text": "hi", "sms_at": 600}, "sms_at"),
        ({"sms_phone": NUMBER, "sms_text": "hi", "sms_at": 3600 * 24 * 15}, "sms_at"),
        ({"sms_phone": NUMBER, "sms_text": "hi", "sms_at": -60}, "sms_at"),
    ],
    ids=[
        "short-number",
        "no-number",
        "text-after-number",
        "blank-text",
        "too-long",
        "validity",
        "sender",
        "too-soon",
        "too-late",
        "past",
    ],
)
async def test_bad_input_is_shown_on_its_field(
    bot: BotHarness, sim: MobizonSimulator, typed: dict[str, Any], block: str
) -> None:
    """A bad field is answered with response_action errors naming its block; nothing is sent."""
    view = await open_modal(bot)
    fields = dict(typed)  # the parameter itself stays as written, for a repeated run
    if "sms_at" in fields:
        moment = datetime.now().timestamp() + fields["sms_at"]  # noqa: DTZ005  # a Unix time
        fields["sms_at"] = {"type": "datetimepicker", "selected_date_time": int(moment)}
    status, body = await submit(bot, view, state(**fields))
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [block]
    assert answer["errors"][block]
    assert "--" not in answer["errors"][block]  # the form has fields, not command options
    assert sends(sim) == []


async def test_submission_from_who_may_not_send_is_refused(
    simulator: tuple[MobizonSimulator, str], start_bot: Callable[..., Any]
) -> None:
    """A submission from outside the allow-list is answered with an error and sends nothing."""
    bot: BotHarness = await start_bot(simulator[1], allowed_users=frozenset({"U1"}))
    view = await open_modal(bot)
    status, body = await submit(bot, view, state(sms_phone=NUMBER, sms_text="hi"), user="U9")
    assert status == 200
    assert json.loads(body)["response_action"] == "errors"
    assert sends(simulator[0]) == []


async def test_typing_updates_the_count_and_keeps_the_inputs(bot: BotHarness) -> None:
    """A keystroke updates the count with the view's hash; every input keeps its ids."""
    view = await open_modal(bot)
    assert await keystroke(bot, view, "Olá 😀") == (200, "")
    update = (await bot.slack.wait_for("views.update"))[0].params
    assert update["view_id"] == view["id"]
    assert update["hash"] == view["hash"]
    shown = bot.slack.views[view["id"]]
    count = next(b for b in shown["blocks"] if b["block_id"] == "sms_count")
    assert count["elements"][0]["text"] == say.count_line("UCS-2", 6, 1)
    assert [(b["block_id"], b["element"]["action_id"]) for b in inputs(shown).values()] == [
        (b["block_id"], b["element"]["action_id"]) for b in inputs(view).values()
    ]
    assert shown["private_metadata"] == view["private_metadata"]


async def test_count_warns_before_the_limit(bot: BotHarness) -> None:
    """Nine segments of text shows a warning naming the limit of 10."""
    view = await open_modal(bot)
    await keystroke(bot, view, "a" * 153 * 9)
    await bot.slack.wait_for("views.update")
    count = next(b for b in bot.slack.views[view["id"]]["blocks"] if b["block_id"] == "sms_count")
    assert ":warning:" in count["elements"][0]["text"]
    assert "limit of 10" in count["elements"][0]["text"]


async def test_a_stale_keystroke_does_not_overwrite_newer_typing(bot: BotHarness) -> None:
    """An update carrying an old hash is refused by Slack and leaves the newer count shown."""
    view = await open_modal(bot)
    await keystroke(bot, view, "newer text")
    await bot.slack.wait_for("views.update")
    assert await keystroke(bot, view, "old", view_hash=view["hash"]) == (200, "")
    await bot.slack.wait_for("views.update", 2)
    count = next(b for b in bot.slack.views[view["id"]]["blocks"] if b["block_id"] == "sms_count")
    assert "10 characters" in count["elements"][0]["text"]


async def test_a_template_fills_the_text_and_asks_for_its_values(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Choosing a template shows its text and one input per placeholder; submit fills them."""
    await answered_later(bot, "template add ready Hi {name}, order {order} is ready")
    view = await open_modal(bot)
    select = next(b for b in view["blocks"] if b["block_id"] == "sms_template")
    assert [o["value"] for o in select["elements"][0]["options"]] == ["ready"]
    assert await choose_template(bot, view, "ready") == (200, "")
    await bot.slack.wait_for("views.update")
    shown = bot.slack.views[view["id"]]
    found = inputs(shown)
    text_id = next(b for b in found if b.startswith("sms_text"))
    assert text_id != "sms_text"
    assert found[text_id]["element"]["initial_value"] == "Hi {name}, order {order} is ready"
    assert {"sms_ph.name", "sms_ph.order"} <= set(found)
    assert found["sms_phone"] == inputs(view)["sms_phone"]
    values = {
        "values": {
            "sms_phone": {"sms_phone_input": {"type": "plain_text_input", "value": NUMBER}},
            text_id: {
                "sms_text_input": {
                    "type": "plain_text_input",
                    "value": "Hi {name}, order {order} is ready",
                }
            },
            "sms_ph.name": {"sms_ph.name_input": {"type": "plain_text_input", "value": "Ana"}},
            "sms_ph.order": {"sms_ph.order_input": {"type": "plain_text_input", "value": " "}},
        }
    }
    _, body = await submit(bot, shown, values)
    assert json.loads(body)["errors"] == {"sms_ph.order": say.placeholder_missing("order")}
    values["values"]["sms_ph.order"]["sms_ph.order_input"]["value"] = "A17"
    assert await submit(bot, shown, values) == (200, "")
    await bot.slack.wait_for("chat.postMessage")
    text = "Hi Ana, order A17 is ready"
    assert sends(sim) == [wire_form([("recipient", NUMBER), ("text", text)])]


async def test_a_modal_slack_does_not_open_is_explained(bot: BotHarness) -> None:
    """When Slack refuses to open the modal, ``/sms`` alone answers one private sentence why."""
    bot.slack.fail_next("views.open", "expired_trigger_id")
    assert await bot.command("") == (200, "")
    told = await bot.slack.wait_for_responses()
    assert told[0].params["text"] == say.not_opened("expired_trigger_id")
    assert told[0].params["response_type"] == "ephemeral"


async def test_a_refusal_after_a_template_shows_on_the_renamed_text(
    simulator: tuple[MobizonSimulator, str], start_bot: Callable[..., Any]
) -> None:
    """Once a template renamed the message block, a refused submission's error names that block."""
    bot: BotHarness = await start_bot(simulator[1], allowed_users=frozenset({"U1"}))
    await answered_later(bot, "template add ready Hi there")
    view = await open_modal(bot)
    assert await choose_template(bot, view, "ready") == (200, "")
    await bot.slack.wait_for("views.update")
    shown = bot.slack.views[view["id"]]
    text_id = next(b for b in inputs(shown) if b.startswith("sms_text"))
    assert text_id != "sms_text"
    values = {
        "values": {
            "sms_phone": {"sms_phone_input": {"type": "plain_text_input", "value": NUMBER}},
            text_id: {"sms_text_input": {"type": "plain_text_input", "value": "Hi there"}},
        }
    }
    status, body = await submit(bot, shown, values, user="U9")
    assert status == 200
    assert json.loads(body)["errors"] == {text_id: send_outcomes.not_allowed()}
    assert sends(simulator[0]) == []
