"""``/sms status`` and ``/sms find`` end to end: batches, the channel's latest, criteria, pages."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest

from bot.simulator import MobizonSimulator
from bot.simulator._form import as_list
from storage import delivery, messages
from testkit.waiting import wait_until
from tests.conftest import BotHarness
from tests.handlers.conftest import (
    answered_later,
    block_kit_problems,
    block_texts,
    buttons,
    click,
    list_bodies,
    wire_form,
)

pytestmark = pytest.mark.usefixtures("secret_guard")

NUMBER = "5511987654321"
STATUS_LINE = re.compile(
    r"\*(?P<id>\d+)\*: (?P<code>[A-Z]+) \((?P<words>[a-z ,]+)\) · (?P<seg>\d+) segments? · "
    r"sent (?P<sent>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (?P<zone>\S+) · "
    r"updated (?P<updated>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (?P<zone2>\S+)"
)


async def test_status_of_150_ids(bot: BotHarness, sim: MobizonSimulator) -> None:
    """150 ids are asked in two batches; each known id shows code, words, segments and times."""
    known = [sim.create_message(NUMBER, f"message {i}").id for i in range(140)]
    sim.advance(120)  # every message reached its final status
    unknown = list(range(1, 11))
    ids = known + unknown
    typed = " ".join(f"{i}," if n % 3 == 0 else str(i) for n, i in enumerate(ids))
    status, body = await bot.command("status " + typed)
    assert (status, body) == (200, "")
    (response,) = await bot.slack.wait_for_responses(1)
    assert response.params["response_type"] == "ephemeral"

    batches = [as_list(r.params.get("ids")) for r in sim.requests if r.method == "getsmsstatus"]
    assert sorted(len(b) for b in batches) == [50, 100]
    assert sorted(int(i) for b in batches for i in b) == sorted(ids)

    shown = block_texts(response.params["blocks"])
    lines = {int(m["id"]): m for m in STATUS_LINE.finditer(shown)}
    assert sorted(lines) == sorted(known)
    for message_id in known:
        line = lines[message_id]
        assert (line["code"], line["words"]) == ("DELIVRD", "delivered")
        assert line["seg"] == "1"
        assert line["sent"] <= line["updated"]
        assert line["zone"] == line["zone2"] != ""
    for message_id in unknown:
        assert f"*{message_id}*: not found at Mobizon" in shown
    assert " 1 segment · " in shown
    assert "segment(s)" not in shown
    assert "Status of 150 SMS" in shown


async def test_status_without_ids_lists_this_channels_latest(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """With no ids, the latest 10 SMS sent from this channel are shown, refreshed from Mobizon."""

    def recorded() -> int:
        return messages.count_by_state(bot.db)["sent"]

    # one after the other, each recorded (its channel post, paced, may still be on its way)
    for n in range(12):
        await bot.command(f"send +55 11 98765-4321 number {n}")
        await wait_until(lambda n=n: recorded() == n + 1, what=f"send {n} to be recorded")
    await bot.command("send +55 11 98765-4321 elsewhere", channel_id="C2")
    await wait_until(lambda: recorded() == 13, what="the send elsewhere to be recorded")
    sent = sorted(sim.messages)
    in_c1, in_c2 = sent[:12], sent[12]
    newest = in_c1[-10:]
    sim.set_status(newest[-1], "UNDELIV")  # Mobizon knows more than the bot's database

    already = len(sim.requests)  # the delivery poller may have asked about the sends meanwhile
    await bot.command("status")
    (response,) = await bot.slack.wait_for_responses(1)
    assert response.params["response_type"] == "ephemeral"
    shown = block_texts(response.params["blocks"])
    assert "Latest 10 SMS sent from this channel" in shown
    listed = [int(m) for m in re.findall(r"\*(\d{7})\*", shown)]
    assert listed == list(reversed(newest))
    assert in_c2 not in listed
    assert not set(in_c1[:2]) & set(listed)
    assert f"*{newest[-1]}*: UNDELIV" in shown
    (asked,) = [r for r in sim.requests[already:] if r.method == "getsmsstatus"]
    assert sorted(int(i) for i in as_list(asked.params.get("ids"))) == newest


async def test_status_without_ids_in_a_quiet_channel(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """With no ids and nothing sent from the channel, the user is told so and Mobizon is not asked."""
    await bot.command("status", channel_id="C9")
    (response,) = await bot.slack.wait_for_responses(1)
    assert response.params["text"] == "No SMS has been sent from this channel yet."
    assert sim.requests == []


async def test_find_maps_every_field_onto_the_wire(bot: BotHarness, sim: MobizonSimulator) -> None:
    """Every find field becomes its message/list criterion; page is 0-based on the wire."""
    typed = (
        'find to:"+55 11 9876" from:MyShop text:"Your order is ready" status:delivered '
        "campaign:855834,855835 group:7,8 sent-after:2026-01-01 "
        'sent-before:"2026-01-31 14:30" updated-after:2026-01-02 updated-before:2026-02-01 '
        "page:2 size:50 sort:segments"
    )
    status, body = await bot.command(typed)
    assert (status, body) == (200, "")
    (response,) = await bot.slack.wait_for_responses(1)
    assert response.params["response_type"] == "ephemeral"
    assert list_bodies(sim) == [
        wire_form(
            [
                ("criteria[campaignIds]", "855834,855835"),
                ("criteria[from]", "MyShop"),
                ("criteria[to]", "55119876"),
                ("criteria[text]", "Your order is ready"),
                ("criteria[status]", "DELIVRD"),
                ("criteria[groups]", "7,8"),
                ("criteria[startSendTsFrom]", "2026-01-01 00:00:00"),
                ("criteria[startSendTsTo]", "2026-01-31 14:30:00"),
                ("criteria[statusUpdateTsFrom]", "2026-01-02 00:00:00"),
                ("criteria[statusUpdateTsTo]", "2026-02-01 23:59:59"),
                ("pagination[currentPage]", "1"),
                ("pagination[pageSize]", "50"),
                ("sort[segNum]", "ASC"),
            ]
        )
    ]


@pytest.mark.parametrize(
    ("typed", "tail"),
    [
        (
            "find",
            [
                ("pagination[currentPage]", "0"),
                ("pagination[pageSize]", "25"),
                ("sort[startSendTs]", "DESC"),
            ],
        ),
        (
            "find size:100 sort:-updated",
            [
                ("pagination[currentPage]", "0"),
                ("pagination[pageSize]", "100"),
                ("sort[statusUpdateTs]", "DESC"),
            ],
        ),
        (
            "find page:3 size:25 sort:to",
            [("pagination[currentPage]", "2"), ("pagination[pageSize]", "25"), ("sort[to]", "ASC")],
        ),
        (
            "find sort:id",
            [("pagination[currentPage]", "0"), ("pagination[pageSize]", "25"), ("sort[id]", "ASC")],
        ),
        (
            "find sort:-id",
            [
                ("pagination[currentPage]", "0"),
                ("pagination[pageSize]", "25"),
                ("sort[id]", "DESC"),
            ],
        ),
        (
            "find sort:-status page:1",
            [
                ("pagination[currentPage]", "0"),
                ("pagination[pageSize]", "25"),
                ("sort[status]", "DESC"),
            ],
        ),
    ],
)
async def test_find_pages_sizes_and_sort_on_the_wire(
    bot: BotHarness, sim: MobizonSimulator, typed: str, tail: list[tuple[str, str]]
) -> None:
    """Pages (1-based → 0-based), sizes and sort (default newest first) reach Mobizon as asked."""
    await bot.command(typed)
    await bot.slack.wait_for_responses(1)
    assert list_bodies(sim) == [wire_form(tail)]


async def test_find_results_and_the_next_button(bot: BotHarness, sim: MobizonSimulator) -> None:
    """Results read "page X of Y, N found"; Next and Previous (signed clicks) fetch the neighbours."""
    for i in range(60):
        sim.create_message(NUMBER, f"order {i} is ready")
    for i in range(5):
        sim.create_message("77012345678", f"other {i}")
    sim.advance(120)

    await bot.command("find to:5511 size:25")
    (first,) = await bot.slack.wait_for_responses(1)
    assert first.params["response_type"] == "ephemeral"
    assert "page 1 of 3, 60 found" in first.params["text"]
    shown = block_texts(first.params["blocks"])
    assert "+55 11 98765-4321" in shown
    assert "DELIVRD" in shown
    assert len(re.findall(r"\*\d{7}\* to ", shown)) == 25
    assert set(buttons(first.params["blocks"])) == {"sms_find_next"}
    # the button carries the page and the search as typed, parsed again when clicked
    assert buttons(first.params["blocks"])["sms_find_next"]["value"] == "2 to:5511 size:25"

    status, _ = await click(bot, buttons(first.params["blocks"])["sms_find_next"])
    assert status == 200
    await wait_until(lambda: len(bot.slack.responses) == 2, what="the second page")
    second = bot.slack.responses[1]
    assert second.params["replace_original"] is True
    assert "page 2 of 3, 60 found" in second.params["text"]
    assert set(buttons(second.params["blocks"])) == {"sms_find_previous", "sms_find_next"}
    # the click asked for the next page of the same search, 0-based on the wire
    assert list_bodies(sim)[1] == wire_form(
        [
            ("criteria[to]", "5511"),
            ("pagination[currentPage]", "1"),
            ("pagination[pageSize]", "25"),
            ("sort[startSendTs]", "DESC"),
        ]
    )

    await click(bot, buttons(second.params["blocks"])["sms_find_next"])
    await wait_until(lambda: len(bot.slack.responses) == 3, what="the third page")
    third = bot.slack.responses[2]
    assert "page 3 of 3, 60 found" in third.params["text"]
    assert len(re.findall(r"\*\d{7}\* to ", block_texts(third.params["blocks"]))) == 10
    assert set(buttons(third.params["blocks"])) == {"sms_find_previous"}

    await click(bot, buttons(third.params["blocks"])["sms_find_previous"])
    await wait_until(lambda: len(bot.slack.responses) == 4, what="the previous page")
    assert "page 2 of 3, 60 found" in bot.slack.responses[3].params["text"]
    assert b"pagination%5BcurrentPage%5D=1" in list_bodies(sim)[3]


@pytest.mark.parametrize(
    "value",
    [
        '{"v":1,"c":{},"p":2,"n":25,"s":"-startSendTs"}',  # a button from before this format
        "0 to:5511",
        "2 bogus:<!channel>",
    ],
)
async def test_altered_button_value_is_answered(
    bot: BotHarness, sim: MobizonSimulator, value: str
) -> None:
    """A button whose value was altered or is old is answered with a sentence; Mobizon is not asked."""
    forged = {
        "action_id": "sms_find_next",
        "text": {"type": "plain_text", "text": "Next →"},
        "value": value,
    }
    status, _ = await click(bot, forged)
    assert status == 200
    (response,) = await bot.slack.wait_for_responses(1)
    assert "run /sms find again" in response.params["text"]
    assert "<!channel>" not in response.params["text"]
    assert sim.requests == []


async def test_status_and_find_are_only_shown_to_the_user(bot: BotHarness) -> None:
    """Lookups are answered privately through response_url; nothing is posted in the channel."""
    await bot.command("find")
    await bot.command("status 6300284")
    responses = await bot.slack.wait_for_responses(2)
    assert {r.params["response_type"] for r in responses} == {"ephemeral"}
    assert bot.slack.called("chat.postMessage") == []


async def test_status_of_thousands_of_ids_stays_within_slack_limits(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """3,000 ids are asked in 30 batches; the answer fits Slack and says how many were not shown."""
    ids = list(range(1, 3001))
    await bot.command("status " + ",".join(map(str, ids)))
    (response,) = await bot.slack.wait_for_responses(1)
    assert sim.count("getSMSStatus") == 30
    blocks = response.params["blocks"]
    assert block_kit_problems(blocks) == []
    shown = block_texts(blocks)
    listed = len(re.findall(r"\*\d+\*: not found at Mobizon", shown))
    assert 0 < listed < 3000
    assert f"… and {3000 - listed} more not shown here" in shown


async def test_find_sort_by_id_lists_in_id_order(bot: BotHarness, sim: MobizonSimulator) -> None:
    """`/sms find sort:-id` and `sort:id` answer with the SMS in descending and ascending id order."""
    made = [sim.create_message(NUMBER, f"order {i}").id for i in range(3)]
    await bot.command("find sort:-id")
    (descending,) = await bot.slack.wait_for_responses(1)
    await bot.command("find sort:id")
    ascending = (await bot.slack.wait_for_responses(2))[1]
    for response, expected in ((descending, made[::-1]), (ascending, made)):
        shown = [int(i) for i in re.findall(r"\*(\d+)\* to", response.params["text"])]
        assert shown == expected


async def test_sandbox_status_times_show_the_delivery_taking_seconds(start_bot: Any) -> None:
    """In the sandbox, a delivered SMS's status reads "sent T · updated T+2 s", not sent == updated."""
    bot: BotHarness = await start_bot(None)  # no Mobizon key: the built-in simulator
    sim = bot.runtime.started().simulator
    assert sim is not None
    sim._clock = lambda: datetime(2026, 11, 30, 3, 46, 26)  # a whole second, frozen  # noqa: DTZ001  # the simulator keeps naive wall time
    await bot.command("send +55 11 98765-4321 hello")
    await bot.slack.wait_for("chat.postMessage", 1)
    (message_id,) = sim.messages
    sim.advance(30)  # long after its final status
    await bot.command(f"status {message_id}")
    responses = await bot.slack.wait_for_responses(1)
    match = STATUS_LINE.search(responses[-1].params["text"])
    assert match is not None
    assert match["code"] == "DELIVRD"
    assert (match["sent"], match["updated"]) == ("2026-11-30 03:46:26", "2026-11-30 03:46:28")


HOSTILE = "<!channel> <https://evil.example|x> & <@U999>"


async def test_find_results_from_outside_are_escaped(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Texts, senders and statuses Mobizon lists are shown escaped: no live mention or link."""
    message = sim.create_message(NUMBER, f"hi {HOSTILE}", sender=HOSTILE)
    sim.set_status(message.id, HOSTILE)
    await bot.command("find to:5511")
    (response,) = await bot.slack.wait_for_responses(1)
    shown = response.params["text"] + block_texts(response.params["blocks"])
    for live in ("<!channel>", "<https://evil.example", "<@U999>"):
        assert live not in shown, shown
    assert "&lt;!channel&gt;" in shown
    assert "(unknown)" in shown


async def test_status_freshens_the_channel_post(bot: BotHarness, sim: MobizonSimulator) -> None:
    """What ``/sms status`` learns edits the SMS's post and answers its thread, before any poll."""
    await bot.first_poll_cycle_done()  # the next poll is an hour away
    await bot.command(f"send {NUMBER} hello")
    await bot.slack.wait_for("chat.postMessage", 1)
    (message_id,) = sim.messages
    sim.set_status(message_id, "DELIVRD")
    said = await answered_later(bot, f"status {message_id}")
    assert "DELIVRD" in said
    updates = await bot.slack.wait_for("chat.update", 1)
    assert "DELIVRD" in block_texts(updates[-1].params["blocks"])
    replies = await bot.slack.wait_for("chat.postMessage", 2)
    assert "was delivered" in str(replies[-1].params["text"])
    history = delivery.status_history(bot.db, message_id)
    assert [(h.status, h.source) for h in history][-1] == ("DELIVRD", "command")
