"""``/sms send`` end to end: signed slash command in, exact bytes at Mobizon, message in the channel."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

from bot.process.logs import ContextFilter
from bot.simulator import MobizonSimulator, SimulatorConfig, start_simulator
from handlers.grammar import HELP_TEXT
from storage import messages, records
from testkit.waiting import wait_until
from tests.conftest import MOBIZON_KEY, BotHarness
from tests.handlers.conftest import block_kit_problems, block_texts, sends, wire_form

pytestmark = pytest.mark.usefixtures("secret_guard")

NUMBER = "5511987654321"
SHOWN = "+55 11 98765-4321"


def ack_text(body: str) -> str:
    """The text of an acknowledgement as Slack shows it (Bolt answers plain text or JSON)."""
    if body.startswith("{"):
        return str(json.loads(body).get("text", ""))
    return body


async def sent_message(bot: BotHarness, count: int = 1) -> dict[str, Any]:
    """Wait for the bot's ``count``-th chat.postMessage and return its parameters."""
    calls = await bot.slack.wait_for("chat.postMessage", count)
    return calls[count - 1].params


@pytest.mark.parametrize("text", ["help", "  HELP  "])
async def test_help(bot: BotHarness, sim: MobizonSimulator, text: str) -> None:
    """``/sms help`` answers the help at once and sends nothing (``/sms`` alone opens the modal)."""
    status, body = await bot.command(text)
    assert status == 200
    assert ack_text(body) == HELP_TEXT
    assert "/sms send" in body
    assert "/sms status" in body
    assert "/sms find" in body
    assert sim.requests == []


@pytest.mark.parametrize(
    ("typed", "text"),
    [
        ("+55 (11) 98765-4321 Your order is ready", "Your order is ready"),
        ("5511987654321 Your order is ready", "Your order is ready"),
        ("(11) 98765-4321 Your order is ready", "Your order is ready"),
        ("+55 11 98765-4321 100 units ready", "100 units ready"),
        ("<tel:+5511987654321|+55 11 98765-4321> Your order is ready", "Your order is ready"),
    ],
)
async def test_number_forms_reach_mobizon_as_international_digits(
    bot: BotHarness, sim: MobizonSimulator, typed: str, text: str
) -> None:
    """Every way people write the number arrives at Mobizon as the same digits, text unchanged."""
    status, body = await bot.command("send " + typed)
    assert (status, body) == (200, "")
    await sent_message(bot)
    assert sends(sim) == [wire_form([("recipient", NUMBER), ("text", text)])]
    request = sim.requests[0]
    assert request.http_method == "POST"
    assert (request.module, request.method) == ("message", "sendsmsmessage")
    assert dict(request.query) == {"output": "json", "api": "v1", "apiKey": sim.config.api_key}


async def test_every_option_reaches_mobizon(bot: BotHarness, sim: MobizonSimulator) -> None:
    """--from, --at, --validity, --flash and --name become exactly Mobizon's form fields."""
    sim.set_sender_names(["SMSBOT", "MyShop"])
    at = (datetime.now() + timedelta(days=2)).replace(hour=14, minute=30, second=0, microsecond=0)  # noqa: DTZ005  # --at is local wall time
    typed = (
        f'send --from MyShop --at "{at:%Y-%m-%d %H:%M}" --validity 120 --flash '
        f'--name "Black Friday" {SHOWN} Sale starts now'
    )
    status, _ = await bot.command(typed)
    assert status == 200
    params = await sent_message(bot)
    assert sends(sim) == [
        wire_form(
            [
                ("recipient", NUMBER),
                ("text", "Sale starts now"),
                ("from", "MyShop"),
                ("params[name]", "Black Friday"),
                ("params[deferredToTs]", f"{at:%Y-%m-%d %H:%M}:00"),
                ("params[validity]", "120"),
                ("params[mclass]", "0"),
            ]
        )
    ]
    shown = block_texts(params["blocks"])
    assert "MyShop" in shown
    zone = at.replace(tzinfo=bot.settings.mobizon_timezone).tzname()
    assert f"scheduled for {at:%Y-%m-%d %H:%M} {zone}" in shown
    assert "valid 120 min" in shown
    assert "flash SMS" in shown
    assert "Black Friday" in shown
    row = messages.get_by_message_id(bot.db, next(iter(sim.messages)))
    assert row is not None
    assert (row.sender, row.validity, row.flash, row.name) == ("MyShop", 120, True, "Black Friday")
    assert row.deferred_to == f"{at:%Y-%m-%d %H:%M}:00"


async def test_options_with_equals_and_em_dash(bot: BotHarness, sim: MobizonSimulator) -> None:
    """``--validity=90`` and an autocorrected ``—from`` are read as the options people meant."""
    sim.set_sender_names(["SMSBOT", "Shop2"])
    await bot.command(f"send --validity=90 \u2014from Shop2 {SHOWN} hi")
    await sent_message(bot)
    assert sends(sim) == [
        wire_form(
            [("recipient", NUMBER), ("text", "hi"), ("from", "Shop2"), ("params[validity]", "90")]
        )
    ]


async def test_text_arrives_as_the_user_meant_it(bot: BotHarness, sim: MobizonSimulator) -> None:
    """``--``, quotes, newlines, Slack's ``&amp;``/``&lt;``/``&gt;``, links and emoji reach Mobizon as typed."""
    # What Slack sends for a text typed as: R&D -- "quoted" 'single' <ok> 🎉 ... on two lines
    slack_text = (
        "R&amp;D -- \"quoted\" 'single' &lt;ok&gt; \U0001f389\n"
        "  --flash is just text here, see <https://shop.example/o/1|shop.example/o/1> "
        "or <mailto:help@shop.example|help@shop.example> &amp;amp;"
    )
    meant = (
        "R&D -- \"quoted\" 'single' <ok> \U0001f389\n"
        "  --flash is just text here, see shop.example/o/1 or help@shop.example &amp;"
    )
    status, _ = await bot.command(f"send {SHOWN} {slack_text}")
    assert status == 200
    params = await sent_message(bot)
    assert sends(sim) == [wire_form([("recipient", NUMBER), ("text", meant)])]
    (simulated,) = sim.messages.values()
    assert simulated.text == meant
    row = messages.get_by_message_id(bot.db, simulated.id)
    assert row is not None
    assert row.text == meant
    assert row.encoding == "UCS-2"
    # shown back in Slack escaped, so Slack displays the characters and not markup
    shown = block_texts(params["blocks"])
    assert "R&amp;D" in shown
    assert "&lt;ok&gt;" in shown
    assert "<ok>" not in shown


async def test_channel_message_and_stored_row(bot: BotHarness, sim: MobizonSimulator) -> None:
    """The result is posted in the channel (blocks + fallback) and one row records the SMS."""
    sim.set_sender_names(["SMSBOT", "MyShop"])
    status, _ = await bot.command(f"send --from MyShop {SHOWN} Your order is ready")
    assert status == 200
    params = await sent_message(bot)
    (simulated,) = sim.messages.values()
    assert params["channel"] == "C1"
    text = params["text"]
    assert str(simulated.id) in text
    assert SHOWN in text
    assert "<@U1>" in text
    assert "NEW" in text
    shown = block_texts(params["blocks"])
    assert f"*To*\n{SHOWN}" in shown
    assert "*From*\nMyShop" in shown
    assert "*Segments*\n1 (GSM-7, 19 characters)" in shown
    assert "*Sent by*\n<@U1>" in shown
    assert f"message {simulated.id} · campaign {simulated.campaign_id}" in shown
    assert "*Status*\n:outbox_tray: NEW" in shown
    assert "Your order is ready" in shown
    assert "awaiting moderation" not in text

    db = bot.db
    # the message's ts is stored just after Slack answers the post
    await wait_until(
        lambda: getattr(messages.get_by_message_id(db, simulated.id), "slack_ts", None),
        what="the channel message's ts to be stored",
    )
    row = messages.get_by_message_id(db, simulated.id)
    assert row is not None
    assert (row.team_id, row.channel_id, row.user_id) == ("T1", "C1", "U1")
    assert row.trigger_id == bot.sent[-1]["trigger_id"]
    assert (row.recipient, row.sender, row.text) == (NUMBER, "MyShop", "Your order is ready")
    assert (row.segments, row.encoding) == (1, "GSM-7")
    assert row.state is records.SendState.SENT
    assert row.status == "NEW"
    assert row.campaign_id == simulated.campaign_id
    assert row.sent_at is not None
    assert row.created_at <= row.sent_at
    calls = bot.slack.called("chat.postMessage")
    assert len(calls) == 1
    posted = [ts for (channel, ts) in bot.slack.messages if channel == "C1"]
    assert (row.slack_channel, row.slack_ts) == ("C1", posted[0])
    assert messages.count_by_state(db)["sent"] == 1


async def test_awaiting_moderation_is_said(bot: BotHarness, sim: MobizonSimulator) -> None:
    """When Mobizon holds the campaign for moderation, the channel message says so."""
    sim.set_moderation(True)
    await bot.command(f"send {SHOWN} Promo")
    params = await sent_message(bot)
    assert "awaiting moderation" in params["text"]
    assert "awaiting moderation" in block_texts(params["blocks"])


async def test_same_command_twice_sends_one_sms(
    bot: BotHarness, sim: MobizonSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """The same signed command delivered twice (same trigger_id) sends one SMS and posts once."""
    raw = urlencode(bot.command_body(f"send {SHOWN} only once"))
    first, second = await asyncio.gather(bot.post_signed(raw), bot.post_signed(raw))
    assert first[0] == second[0] == 200
    await sent_message(bot)
    db = bot.db
    # both deliveries were handled: one sent, the other found the claim taken
    await wait_until(
        lambda: any("duplicate" in r.getMessage() for r in caplog.records),
        what="the duplicate to be noticed",
    )
    assert sim.count("sendSmsMessage") == 1
    assert len(sim.messages) == 1
    assert len(bot.slack.called("chat.postMessage")) == 1
    assert sum(messages.count_by_state(db).values()) == 1


async def test_ack_comes_before_a_slow_gateway(bot: BotHarness, sim: MobizonSimulator) -> None:
    """With Mobizon holding its answers, send, status and find are acknowledged before it answers."""
    sim.hold()
    commands = [f"send {SHOWN} slow gateway", "status 6300284", "find to:5511"]
    acks = await asyncio.gather(*(bot.command(c) for c in commands))
    acked = time.monotonic()
    assert acks == [(200, "")] * 3
    # at the acks, Mobizon had answered nothing: no SMS accepted, nothing posted or replied
    assert sim.messages == {}
    assert bot.slack.called("chat.postMessage") == []
    assert bot.slack.responses == []
    sim.release()
    params = await sent_message(bot)
    responses = await bot.slack.wait_for_responses(2)
    assert bot.slack.called("chat.postMessage")[0].at > acked
    assert all(r.at > acked for r in responses)
    assert len(sim.messages) == 1
    assert str(next(iter(sim.messages))) in params["text"]


async def test_user_outside_allowed_users_sends_nothing(
    start_bot: Any, simulator: tuple[MobizonSimulator, str]
) -> None:
    """With SMSBOT_ALLOWED_USERS set, others may not send; status stays open, find is refused."""
    sim, url = simulator
    bot: BotHarness = await start_bot(url, allowed_users=frozenset({"U2"}))
    status, body = await bot.command(f"send {SHOWN} not allowed", user_id="U1")
    assert status == 200
    assert "may not send SMS" in ack_text(body)
    assert "SMSBOT_ALLOWED_USERS" in ack_text(body)
    status, _ = await bot.command("status", user_id="U1")
    assert status == 200
    status, body = await bot.command("find", user_id="U1")
    assert status == 200
    assert "SMSBOT_READERS" in ack_text(body)
    responses = await bot.slack.wait_for_responses(1)
    assert any("No SMS has been sent from this channel" in r.params["text"] for r in responses)
    assert sim.count("sendSmsMessage") == 0
    assert bot.slack.called("chat.postMessage") == []

    status, body = await bot.command(f"send {SHOWN} allowed", user_id="U2")
    assert (status, body) == (200, "")
    await bot.slack.wait_for("chat.postMessage")
    assert sim.count("sendSmsMessage") == 1


async def test_not_in_channel_joins_then_posts(bot: BotHarness, sim: MobizonSimulator) -> None:
    """When Slack answers not_in_channel, the bot joins the public channel and posts there."""
    bot.slack.not_in_channel.add("C1")
    await bot.command(f"send {SHOWN} hello")
    params = await sent_message(bot, 2)
    assert [c.params["channel"] for c in bot.slack.called("conversations.join")] == ["C1"]
    assert params["channel"] == "C1"
    db = bot.db
    message_id = next(iter(sim.messages))
    # the message's ts is stored just after Slack answers the post
    await wait_until(
        lambda: getattr(messages.get_by_message_id(db, message_id), "slack_ts", None),
        what="the channel message's ts to be stored",
    )
    row = messages.get_by_message_id(db, message_id)
    assert row is not None
    assert row.state is records.SendState.SENT
    assert bot.slack.responses == []


@pytest.mark.parametrize(
    ("channel", "kind"),
    [("G1", "private"), ("D1", "deleted")],
)
async def test_unjoinable_channel_falls_back_to_response_url(
    bot: BotHarness, sim: MobizonSimulator, channel: str, kind: str
) -> None:
    """In a private (or unknown) channel the user is told through response_url how to invite the bot."""
    if kind == "private":
        bot.slack.private_channels.add(channel)
    else:
        bot.slack.deleted_channels.add(channel)
    await bot.command(f"send {SHOWN} hello", channel_id=channel)
    (response,) = await bot.slack.wait_for_responses(1)
    assert response.params["response_type"] == "ephemeral"
    said = response.params["text"]
    assert "/invite @smsbot" in said
    (simulated,) = sim.messages.values()
    assert str(simulated.id) in said
    assert SHOWN in said
    assert len(bot.slack.called("conversations.join")) == 1
    db = bot.db
    row = messages.get_by_message_id(db, simulated.id)
    assert row is not None
    assert row.state is records.SendState.SENT
    assert row.channel_id == channel
    assert row.slack_ts is None


@pytest.mark.parametrize(
    "text",
    ["&" * 1500, "<>" * 700, "a\n" * 700, "\U0001f389" + "&" * 660, "x" * 1530],
    ids=["ampersands", "angles", "newlines", "emoji", "ten-segments"],
)
async def test_longest_texts_fit_in_one_message(
    bot: BotHarness, sim: MobizonSimulator, text: str
) -> None:
    """Even a 10-segment text that escaping makes five times longer is posted within Block Kit's limits."""
    await bot.command(
        f"send {SHOWN} {text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}"
    )
    params = await sent_message(bot)
    assert block_kit_problems(params["blocks"]) == []
    assert sends(sim) == [wire_form([("recipient", NUMBER), ("text", text)])]
    quoted = params["blocks"][0]["text"]["text"]
    assert quoted.endswith("…")


def zone_behind_the_server() -> ZoneInfo:
    """An account zone at least 3 hours behind this machine's, so the two readings differ."""
    server = datetime.now().astimezone().utcoffset() or timedelta()
    for name in ("America/Sao_Paulo", "Pacific/Honolulu", "Etc/GMT+12"):
        zone = ZoneInfo(name)
        if (datetime.now(zone).utcoffset() or timedelta()) <= server - timedelta(hours=3):
            return zone
    pytest.skip("this machine's zone is too far west to test a zone behind it")


async def test_at_and_times_are_the_mobizon_accounts_zone(start_bot: Any) -> None:
    """--at is read in MOBIZON_TIMEZONE and sent as its wall time; times are shown with the zone."""
    zone = zone_behind_the_server()
    sim, runner, url = await start_simulator(
        SimulatorConfig(api_key=MOBIZON_KEY), clock=lambda: datetime.now(zone).replace(tzinfo=None)
    )
    try:
        bot: BotHarness = await start_bot(url, mobizon_timezone=zone)
        # 90 minutes ahead in the account's zone: hours in the past by this machine's clock
        at = (datetime.now(zone) + timedelta(minutes=91)).replace(second=0, microsecond=0)
        status, body = await bot.command(f'send --at "{at:%Y-%m-%d %H:%M}" +55 11 98765-4321 later')
        assert (status, ack_text(body)) == (200, "")
        posted = block_texts((await sent_message(bot))["blocks"])
        (request,) = [r for r in sim.requests if r.method == "sendsmsmessage"]
        params = request.params["params"]
        assert isinstance(params, dict)
        assert params["deferredToTs"] == f"{at:%Y-%m-%d %H:%M}:00"
        assert f"scheduled for {at:%Y-%m-%d %H:%M} {at.tzname()}" in posted

        now_sent = sim.create_message("5511987654321", "now")
        sim.advance(10)
        await bot.command(f"status {now_sent.id}")
        (response,) = await bot.slack.wait_for_responses(1)
        label = datetime.now(zone).tzname()
        assert re.search(
            rf"sent \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d {re.escape(label or '')} · "
            rf"updated \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d {re.escape(label or '')}",
            response.params["text"],
        )
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("{[~]} ok", "1 (GSM-7, 13 characters)"),  # extension characters count twice
        ("Olá 👍", "1 (UCS-2, 6 characters)"),  # an emoji is two UTF-16 units
        ("a", "1 (GSM-7, 1 character)"),
    ],
)
async def test_the_post_counts_characters_as_mobizon_does(
    bot: BotHarness, text: str, shown: str
) -> None:
    """The post's character count is Mobizon's (septets or UTF-16 units), as the too-long refusal's."""
    await bot.command(f"send +55 11 98765-4321 {text}")
    posted = block_texts((await sent_message(bot))["blocks"])
    assert f"*Segments*\n{shown}" in posted


async def test_the_post_does_not_name_a_sender_it_does_not_know(bot: BotHarness) -> None:
    """Without --from the post says Mobizon's default sender is used, not an "account default" name."""
    await bot.command("send +55 11 98765-4321 hello")
    posted = block_texts((await sent_message(bot))["blocks"])
    assert "*From*\nthe Mobizon account's default sender" in posted


class _ContextLines(logging.Handler):
    """Keeps the channel and user the log context gives each line logged while it is installed."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(ContextFilter())
        self.fields: list[tuple[str | None, str | None, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        fields = (getattr(record, "channel", None), getattr(record, "user", None), record.name)
        self.fields.append(fields)


async def test_a_commands_log_lines_name_its_channel_and_user(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """The lines its listener logs, after the ack too, carry the command's channel and user."""
    lines = _ContextLines()
    logger = logging.getLogger("bot.sms")
    logger.addHandler(lines)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        status, _ = await bot.command("send " + SHOWN + " Your order is ready")
        assert status == 200
        await sent_message(bot)
        await wait_until(lambda: bool(lines.fields))
    finally:
        logger.removeHandler(lines)
        logger.setLevel(level)
    assert lines.fields
    assert {(channel, user) for channel, user, _name in lines.fields} == {("C1", "U1")}
