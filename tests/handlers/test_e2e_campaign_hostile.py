"""A send to many as a demanding user and an attacker use it, over signed ``/slack/events``.

Forged and racing clicks, a click after a restart, hostile CSV cells (formulas, mrkdwn,
mentions), the recipient limit, a too-long row, a redelivered command, a long typed list, a
campaign Mobizon refuses whole, and a summary whose counts must add up; the logs never keep a
number or a text.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from contextlib import closing
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.simulator import MobizonSimulator, SimulatorConfig, start_simulator
from handlers.campaign_preview import CANCEL_ACTION, CONFIRM_ACTION
from handlers.send_outcomes import not_allowed
from storage.schema import open_database
from testkit.campaigns import numbers
from testkit.clock import FastForwardClock
from testkit.database import run_sql
from testkit.waiting import wait_until
from tests.conftest import MOBIZON_KEY, BotHarness, KeepRecords
from tests.handlers.compose_kit import state, submit
from tests.handlers.conftest import (
    block_kit_problems,
    block_texts,
    buttons,
    click,
    refused_url,
    sends,
)
from tests.handlers.test_e2e_hostile import TEXT_MARK, all_logs, bot_lines, personal_data_in

__all__ = ["all_logs"]  # the fixture, shared with the other hostile tests

pytestmark = pytest.mark.usefixtures("secret_guard")

#: Twelve numbers: more than SMSBOT_CONFIRM_ABOVE (10), so a preview comes first.
TWELVE = numbers(12)
#: Six of them on Mobizon's stop list: more than the summary's CSV threshold (5) not reached.
STOPPED = frozenset(TWELVE[6:])
#: Cells a spreadsheet would run as formulas (OWASP's list of leading characters).
FORMULAS = ('=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "=1+1", "+cmd")
#: Slack mrkdwn and mentions a hostile CSV or text may hold.
MARKUP = "<!channel> <@U9> *bold* & <http://evil.example|x>"


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """The simulator: fast statuses, half of the twelve on Mobizon's stop list."""
    return SimulatorConfig(api_key=MOBIZON_KEY, speed=50.0, stop_list=STOPPED)


async def open_modal(bot: BotHarness) -> dict[str, Any]:
    """Type ``/sms`` alone and return the modal Slack holds open."""
    before = len(bot.slack.called("views.open"))
    assert await bot.command("") == (200, "")
    calls = await bot.slack.wait_for("views.open", before + 1)
    return bot.slack.views[f"V{len(calls):04d}"]


async def send_file(bot: BotHarness, data: bytes, text: str, *, name: str = "c.csv") -> str:
    """Submit the compose modal with a CSV file and ``text``; the ephemeral answer's JSON."""
    info = bot.slack.add_file(name, data)
    view = await open_modal(bot)
    before = len(bot.slack.called("chat.postEphemeral"))
    chosen = {"type": "file_input", "files": [{"id": info["id"], "name": name}]}
    assert await submit(bot, view, state(sms_file=chosen, sms_text=text)) == (200, "")
    told = (await bot.slack.wait_for("chat.postEphemeral", before + 1))[before].params
    return str(told.get("text", "")) + "\n" + block_texts(told.get("blocks") or [])


async def file_preview(bot: BotHarness, data: bytes, text: str) -> dict[str, Any]:
    """Submit a CSV file and return the preview's blocks (with its buttons)."""
    before = len(bot.slack.called("chat.postEphemeral"))
    await send_file(bot, data, text)
    told = bot.slack.called("chat.postEphemeral")[before].params
    assert "blocks" in told, told.get("text")
    return dict(told)


async def command_preview(bot: BotHarness, text: str, **overrides: str) -> dict[str, Any]:
    """Send ``/sms text`` (a list needing confirmation); its preview's parameters."""
    before = len(bot.slack.responses)
    assert await bot.command(text, **overrides) == (200, "")
    preview = dict((await bot.slack.wait_for_responses(before + 1))[before].params)
    assert "blocks" in preview, preview.get("text")
    return preview


async def settled(bot: BotHarness) -> None:
    """Every listener the bot started has finished."""
    await wait_until(lambda: not bot.runtime.inflight.tasks, what="the listeners")


def campaign_requests(sim: MobizonSimulator) -> list[str]:
    """The campaign methods the simulator received (opening the modal asks for sender names)."""
    return [r.method for r in sim.requests if r.module == "campaign"]


def campaign_calls(sim: MobizonSimulator, method: str) -> int:
    """How many ``campaign/<method>`` requests the simulator received."""
    return sum(1 for r in sim.requests if r.module == "campaign" and r.method == method)


def campaign_rows(bot: BotHarness) -> list[Any]:
    """Every campaign row, oldest first."""
    with closing(open_database(bot.settings.db_path)) as db:
        return run_sql(db, "SELECT id, state, user_id, recipients FROM campaigns ORDER BY id")


def response_texts(bot: BotHarness, since: int) -> list[str]:
    """The texts of the response_url posts after the first ``since``."""
    return [str(r.params.get("text", "")) for r in bot.slack.responses[since:]]


def csv_of(header: list[str], rows: list[list[str]]) -> bytes:
    """A CSV file's bytes as a spreadsheet writes them: ``header``, then ``rows``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([header, *rows])
    return out.getvalue().encode()


def markup_left_raw(text: str) -> list[str]:
    """The pieces of :data:`MARKUP` that ``text`` would let Slack read as markup."""
    raw = ["<!channel>", "<@U9>", "*bold*", "& ", "<http://evil.example|x>"]
    return [piece for piece in raw if piece in text]


# --- forged and racing clicks ----------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "-1", "1e3", " 7", "١٢", "9" * 19, ""])
async def test_a_button_value_that_is_no_id_does_nothing(
    bot: BotHarness, sim: MobizonSimulator, value: str
) -> None:
    """A tampered value (not a number, negative, too big for an id) is refused; nothing is sent."""
    preview = await command_preview(bot, "send " + ", ".join(TWELVE[:11]) + " Oi")
    forged = {**buttons(preview["blocks"])[CONFIRM_ACTION], "value": value}
    before = len(bot.slack.responses)
    assert (await click(bot, forged))[0] == 200
    said = (await bot.slack.wait_for_responses(before + 1))[before].params
    assert said["text"] == "This button names no send I know; nothing was done."
    assert said["replace_original"] is False
    assert [row.state for row in campaign_rows(bot)] == ["preview"]
    assert campaign_requests(sim) == []


async def test_a_huge_id_names_no_campaign(bot: BotHarness, sim: MobizonSimulator) -> None:
    """The largest id a button may carry (18 digits) finds no campaign; nothing is sent."""
    preview = await command_preview(bot, "send " + ", ".join(TWELVE[:11]) + " Oi")
    forged = {**buttons(preview["blocks"])[CONFIRM_ACTION], "value": "9" * 18}
    before = len(bot.slack.responses)
    await click(bot, forged)
    said = (await bot.slack.wait_for_responses(before + 1))[before].params["text"]
    assert said == "I cannot find this send any more; nothing was sent."
    assert campaign_requests(sim) == []


async def test_another_askers_campaign_id_is_refused(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """U1's own button carrying U2's campaign id confirms nothing: only U2 may decide it."""
    theirs = await command_preview(bot, "send " + ", ".join(TWELVE[:11]) + " Oi", user_id="U2")
    mine = await command_preview(bot, "send " + ", ".join(TWELVE[1:]) + " Oi")
    their_id = buttons(theirs["blocks"])[CONFIRM_ACTION]["value"]
    before = len(bot.slack.responses)
    for action in (CONFIRM_ACTION, CANCEL_ACTION):
        await click(bot, {**buttons(mine["blocks"])[action], "value": their_id})
    await bot.slack.wait_for_responses(before + 2)
    answers = response_texts(bot, before)
    assert len(answers) == 2
    assert all(a.startswith("Only <@U2>, who asked for this send") for a in answers)
    assert [row.state for row in campaign_rows(bot)] == ["preview", "preview"]
    assert campaign_requests(sim) == []


async def test_a_click_from_another_team_decides_nothing(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """The asker's user id in a click from another workspace neither confirms nor cancels."""
    preview = await command_preview(bot, "send " + ", ".join(TWELVE[:11]) + " Oi")
    found = buttons(preview["blocks"])
    before = len(bot.slack.responses)
    for action in (CONFIRM_ACTION, CANCEL_ACTION):
        assert (await bot.post_payload(click_payload(bot, found[action], team="T2")))[0] == 200
    await bot.slack.wait_for_responses(before + 2)
    await settled(bot)
    answers = response_texts(bot, before)
    assert len(answers) == 2
    assert all(a.startswith("Only <@U1>, who asked for this send") for a in answers)
    assert [row.state for row in campaign_rows(bot)] == ["preview"]
    assert campaign_requests(sim) == []


def click_payload(bot: BotHarness, button: dict[str, Any], *, team: str) -> dict[str, Any]:
    """A ``block_actions`` payload for ``button`` clicked by U1 of workspace ``team``."""
    return {
        "type": "block_actions",
        "team": {"id": team, "domain": "other"},
        "user": {"id": "U1", "username": "ana", "team_id": team},
        "api_app_id": "A1",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": "1700000000.000001", "is_ephemeral": True},
        "trigger_id": "1337.42.otherteam",
        "channel": {"id": "C1", "name": "support"},
        "response_url": f"{bot.slack.url}response/otherteam",
        "actions": [
            {
                "type": "button",
                "action_id": button["action_id"],
                "block_id": "campaign_preview",
                "text": button["text"],
                "value": button["value"],
                "action_ts": "1700000001.000002",
            }
        ],
    }


async def test_confirm_racing_cancel_has_one_winner(bot: BotHarness, sim: MobizonSimulator) -> None:
    """Send and Cancel clicked at once: either it is sent once, or cancelled and nothing goes."""
    preview = await command_preview(bot, "send " + ", ".join(TWELVE[:11]) + " Oi")
    found = buttons(preview["blocks"])
    before = len(bot.slack.responses)
    await asyncio.gather(click(bot, found[CONFIRM_ACTION]), click(bot, found[CANCEL_ACTION]))
    await bot.slack.wait_for_responses(before + 2)
    await settled(bot)
    answers = response_texts(bot, before)
    (row,) = campaign_rows(bot)
    if row.state == "cancelled":
        assert answers.count("Cancelled; nothing was sent.") == 1
        assert "This send was cancelled already; nothing was sent." in answers
        assert campaign_requests(sim) == []
    else:
        assert row.state == "sent"
        assert "This send was confirmed already; it is sent once, not again." in answers
        assert "Cancelled; nothing was sent." not in answers
        assert campaign_calls(sim, "send") == 1


async def test_a_confirm_whose_response_url_fails_still_sends(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Slack's response URL unreachable at the click: the confirmed campaign is still sent, once."""
    preview = await command_preview(bot, "send " + ", ".join(TWELVE[:11]) + " Oi")
    payload = click_payload(bot, buttons(preview["blocks"])[CONFIRM_ACTION], team="T1")
    payload["response_url"] = refused_url() + "/response/gone"
    assert (await bot.post_payload(payload))[0] == 200
    await settled(bot)
    (row,) = campaign_rows(bot)
    assert row.state == "sent"
    assert campaign_calls(sim, "send") == 1


async def test_a_preview_survives_a_restart(
    start_bot: Any, simulator: tuple[MobizonSimulator, str]
) -> None:
    """A preview made by one process is confirmed by a click another process on its database takes."""
    sim, url = simulator
    first: BotHarness = await start_bot(url)
    preview = await command_preview(first, "send " + ", ".join(TWELVE[:11]) + " Oi")
    again: BotHarness = await start_bot(url)  # a new process: nothing of the preview in memory
    before = len(again.slack.responses)
    await click(again, buttons(preview["blocks"])[CONFIRM_ACTION])
    confirmed, ran = (await again.slack.wait_for_responses(before + 2))[before:]
    assert confirmed.params["text"] == ":outbox_tray: Confirmed: sending to 11 numbers…"
    assert ran.params["text"].startswith(":outbox_tray: Sending to 6 numbers…")
    assert campaign_calls(sim, "create") == 1
    assert campaign_calls(sim, "send") == 1


async def test_a_sender_removed_before_the_click_cannot_confirm(
    start_bot: Any, simulator: tuple[MobizonSimulator, str]
) -> None:
    """Restarted with SMSBOT_ALLOWED_USERS no longer naming the asker: the click sends nothing."""
    sim, url = simulator
    first: BotHarness = await start_bot(url)
    preview = await command_preview(first, "send " + ", ".join(TWELVE[:11]) + " Oi")
    again: BotHarness = await start_bot(url, allowed_users=frozenset({"U2"}))
    before = len(again.slack.responses)
    await click(again, buttons(preview["blocks"])[CONFIRM_ACTION])
    said = (await again.slack.wait_for_responses(before + 1))[before].params
    await settled(again)
    assert said["text"] == not_allowed()
    assert said["replace_original"] is False
    assert [row.state for row in campaign_rows(again)] == ["preview"]
    assert campaign_requests(sim) == []


# --- hostile input ---------------------------------------------------------------------------


async def test_markup_in_cells_and_text_is_shown_as_typed_in_the_preview(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Mentions, links, *bold* and & in a placeholder value or a number cell never act in the preview."""
    rows = [[TWELVE[0], MARKUP], [MARKUP, "Bruno"]]
    preview = await file_preview(bot, csv_of(["telefone", "nome"], rows), "Oi {nome} " + MARKUP)
    shown = block_texts(preview["blocks"])
    assert markup_left_raw(shown) == []
    assert shown.count("&lt;!channel&gt;") >= 3  # the text, the value, the row left out
    assert "• row 3, “&lt;!channel&gt;" in shown
    assert campaign_requests(sim) == []


async def test_markup_in_a_placeholder_name_is_escaped_in_the_refusal(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A column named with markup, and a placeholder no column fills: the refusal shows both inert."""
    data = csv_of(["telefone", "<!channel> *x*"], [[TWELVE[0], "Ana"]])
    said = await send_file(bot, data, "Oi {apelido_<b>} {outro}")
    assert "“{outro}”" in said
    assert "&lt;!channel&gt;" in said
    assert markup_left_raw(said) == []
    assert campaign_requests(sim) == []


async def test_rows_left_out_full_of_markup_keep_the_preview_within_block_kit(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Twenty unreadable cells of “<” and “&” (each escaped 4 or 5 times longer): a preview Slack takes."""
    hostile = [["<" * 60 if n % 2 else "&" * 60, "x"] for n in range(20)]
    preview = await file_preview(
        bot, csv_of(["telefone", "nome"], [[TWELVE[0], "Ana"], *hostile]), "Oi"
    )
    assert block_kit_problems(preview["blocks"]) == []
    shown = block_texts(preview["blocks"])
    assert "*Left out: 20 rows*" in shown
    assert "more rows." in shown
    assert campaign_requests(sim) == []


async def test_a_file_of_thousands_of_columns_is_refused_in_a_message_slack_takes(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """3,000 columns and a placeholder none fills: the refusal names a few, counts the rest, stays short."""
    header = ["telefone", *(f"coluna{n}" for n in range(1, 3000))]
    said = await send_file(bot, csv_of(header, [[TWELVE[0], *["x"] * 2999]]), "Oi {nome}")
    assert "No column of the file fills the placeholder “{nome}”" in said
    assert "“coluna1”" in said
    assert "and 2,979 more" in said
    assert len(said) < 4000
    assert campaign_requests(sim) == []


async def test_a_file_over_the_limit_is_refused_with_the_number_and_nothing_stored(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """10,001 numbers under the default SMSBOT_MAX_RECIPIENTS: refused saying both, no row stored."""
    data = csv_of(["telefone"], [[number] for number in numbers(10_001)])
    said = await send_file(bot, data, "Oi")
    assert "That is 10,001 numbers; one send may go to at most 10,000 numbers." in said
    with closing(open_database(bot.settings.db_path)) as db:
        assert run_sql(db, "SELECT count(*) AS n FROM campaigns")[0].n == 0
        assert run_sql(db, "SELECT count(*) AS n FROM campaign_recipients")[0].n == 0
    assert campaign_requests(sim) == []


async def test_a_value_that_makes_a_text_too_long_names_its_row(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """One row's value pushes its text past 10 segments: refused naming that row, nothing stored."""
    rows = [[TWELVE[0], "Ana"], [TWELVE[1], "Bruno"], [TWELVE[2], "x" * 1600]]
    said = await send_file(bot, csv_of(["telefone", "nome"], rows), "Oi {nome}")
    assert "Nothing was sent: the text of row 4 cannot be sent." in said
    assert campaign_rows(bot) == []
    assert campaign_requests(sim) == []


async def test_a_redelivered_command_previews_once(bot: BotHarness, sim: MobizonSimulator) -> None:
    """Twelve numbers, the same command delivered twice: one campaign, one preview."""
    raw = urlencode(bot.command_body("send " + ", ".join(TWELVE) + " Oi"))
    assert await bot.post_signed(raw) == (200, "")
    await bot.slack.wait_for_responses(1)
    assert await bot.post_signed(raw) == (200, "")
    await settled(bot)
    assert len(campaign_rows(bot)) == 1
    assert len(bot.slack.responses) == 1
    assert "blocks" in bot.slack.responses[0].params
    assert campaign_requests(sim) == []


async def test_250_typed_numbers_fit_one_command(bot: BotHarness, sim: MobizonSimulator) -> None:
    """250 numbers typed in one command (under Slack's 4,000 characters): previewed, sent in one request."""
    many = numbers(300)[50:]  # none of them on the stop list
    text = "send " + ", ".join(many) + " Oi"
    assert len(text) <= 4000
    preview = await command_preview(bot, text)
    shown = block_texts(preview["blocks"])
    assert "*Preview: this SMS goes to 250 numbers.*" in shown
    assert "Every number given gets it." in shown
    before = len(bot.slack.responses)
    await click(bot, buttons(preview["blocks"])[CONFIRM_ACTION])
    ran = (await bot.slack.wait_for_responses(before + 2))[before + 1].params["text"]
    assert ran.startswith(":outbox_tray: Sending to 250 numbers…")
    assert campaign_calls(sim, "addrecipients") == 1
    (campaign,) = sim.bulk_campaigns.values()
    assert len(campaign.numbers) == 250


async def test_a_mistyped_number_after_the_list_is_refused_not_sent_as_text(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A third number typed with letters (O for 0) is refused: its digits and the next number never become the SMS."""
    typo = TWELVE[2][:-3] + "OO" + TWELVE[2][-1]
    text = f"send {TWELVE[0]}, {TWELVE[1]}, {typo}, {TWELVE[3]} Oi"
    status, body = await bot.command(text)
    said = body or str((await bot.slack.wait_for_responses(1))[0].params["text"])
    assert status == 200
    assert typo in said
    assert "If that is the text, remove the comma before it." in said
    await settled(bot)
    assert campaign_rows(bot) == []
    assert campaign_requests(sim) == []
    assert sends(sim) == []


async def test_opted_out_and_stop_listed_numbers_are_named_as_such(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """An opted-out number is left out as such in the preview; a stop-listed one as Mobizon's."""
    assert await bot.command(f"optout add {TWELVE[1]}") == (200, "")
    await bot.slack.wait_for_responses(1)
    preview = await command_preview(bot, "send " + ", ".join(TWELVE) + " Oi")
    shown = block_texts(preview["blocks"])
    assert "• row 2, +55 11 98765-0001: on the opt-out list" in shown
    before = len(bot.slack.responses)
    await click(bot, buttons(preview["blocks"])[CONFIRM_ACTION])
    ran = (await bot.slack.wait_for_responses(before + 2))[before + 1].params["text"]
    assert ran.startswith(":outbox_tray: Sending to 5 numbers…")
    assert "*Mobizon did not add 6 numbers:*" in ran
    assert "on Mobizon's stop list (code 5): +55 11 98765-0006" in ran


# --- the campaign's message, its summary, its CSV, its logs ---------------------------------


async def run_to_summary(
    bot: BotHarness, sim: MobizonSimulator, clock: FastForwardClock, data: bytes, text: str
) -> tuple[str, str, bytes]:
    """Send ``data`` with ``text``, confirm, let every status come: the message, summary and CSV."""
    preview = await file_preview(bot, data, text)
    before = len(bot.slack.responses)
    await click(bot, buttons(preview["blocks"])[CONFIRM_ACTION])
    await bot.slack.wait_for_responses(before + 2)
    sim.advance(600)
    tracking = bot.runtime.tracking
    assert tracking is not None
    await tracking.poller.run_once()

    def summary_posted() -> bool:
        clock.skipped += 10  # past the reporter's edit interval
        return any(c.params.get("thread_ts") for c in bot.slack.called("chat.postMessage"))

    await wait_until(summary_posted, what="the campaign's summary")
    await wait_until(lambda: bool(bot.slack.shared_files()), what="the CSV of the unreached")

    def final_message() -> dict[str, Any] | None:
        shown = [
            c.params for c in bot.slack.calls if c.method in {"chat.postMessage", "chat.update"}
        ]
        final = [p for p in shown if not p.get("thread_ts") and "every SMS is final" in str(p)]
        return final[-1] if final else None

    await wait_until(lambda: final_message() is not None, what="the message's last edit")
    message = final_message()
    assert message is not None
    summary = next(c for c in bot.slack.called("chat.postMessage") if c.params.get("thread_ts"))
    (shared,) = bot.slack.shared_files()
    return (
        str(message["text"]) + "\n" + block_texts(message["blocks"]),
        str(summary.params["text"]) + "\n" + block_texts(summary.params["blocks"]),
        bytes(shared["content"]),
    )


async def test_summary_counts_add_up_and_the_csv_runs_no_formula(
    bot: BotHarness, sim: MobizonSimulator, clock: FastForwardClock
) -> None:
    """Hostile cells: a summary whose counts add up (left out too), a CSV with no live formula."""
    assert await bot.command(f"optout add {TWELVE[0]}") == (200, "")
    await bot.slack.wait_for_responses(1)
    rows = [[number, FORMULAS[i % len(FORMULAS)]] for i, number in enumerate(TWELVE)]
    rows += [[FORMULAS[0], "Ana"], [f"+{TWELVE[3]}", MARKUP]]
    message, summary, content = await run_to_summary(
        bot, sim, clock, csv_of(["telefone", "nome"], rows), "Oi {nome} " + MARKUP
    )
    # 14 rows: 1 opted out, 1 unreadable, 1 duplicate; 11 recipients, 6 of them not added
    (row,) = campaign_rows(bot)
    assert row.recipients == 11
    assert "Delivered 5 of 11 (45%)." in summary
    assert "Not added by Mobizon: 6 (6 on Mobizon's stop list)." in summary
    assert "Left out before sending (opt-out list, repeated or unreadable numbers): 3." in summary
    assert "*Left out before sending*\n3" in message
    counted = re.search(
        r"waiting (\d+) · sent (\d+) · delivered (\d+) · failed (\d+) · not added (\d+)", message
    )
    assert counted is not None
    assert [int(n) for n in counted.groups()] == [0, 0, 5, 0, 6]
    assert "on Mobizon's stop list" in message
    assert markup_left_raw(message) == []
    assert markup_left_raw(summary) == []
    cells = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    assert len(cells) == 1 + 6
    assert all(cell[:1] not in {"=", "+", "-", "@", "\t", "\r"} for line in cells for cell in line)
    assert {line[1] for line in cells[1:]} == set(STOPPED)


async def test_summary_counts_add_up_with_undelivered_ones(
    start_bot: Any, clock: FastForwardClock
) -> None:
    """Some undelivered, some not added: delivered + failed + not added = recipients, in the summary."""
    config = SimulatorConfig(
        api_key=MOBIZON_KEY, speed=50.0, stop_list=STOPPED, undelivered_rate=0.5, seed=7
    )
    sim, runner, url = await start_simulator(config)
    try:
        bot: BotHarness = await start_bot(url)
        rows = [[number, "Ana"] for number in TWELVE]
        _message, summary, content = await run_to_summary(
            bot, sim, clock, csv_of(["telefone", "nome"], rows), "Oi {nome}"
        )
    finally:
        sim.release()
        await runner.cleanup()
    with closing(open_database(bot.settings.db_path)) as db:
        (campaign_id,) = [r.id for r in run_sql(db, "SELECT id FROM campaigns")]
        sms_rows = run_sql(db, f"SELECT status FROM sms WHERE campaign = {campaign_id}")  # noqa: S608
    delivered = sum(1 for r in sms_rows if r.status == "DELIVRD")
    failed = len(sms_rows) - delivered
    assert 0 < failed < 6
    assert f"Delivered {delivered} of 12 " in summary
    assert f"Failed: {failed} (" in summary
    assert "Not added by Mobizon: 6 " in summary
    assert delivered + failed + 6 == 12
    lines = list(csv.reader(io.StringIO(content.decode("utf-8"))))
    assert len(lines) == 1 + failed + 6


@pytest.mark.raw_logs
async def test_no_log_line_of_a_campaign_holds_a_number_or_its_text(
    bot: BotHarness, sim: MobizonSimulator, clock: FastForwardClock, all_logs: KeepRecords
) -> None:
    """A file sent to many, confirmed, reported: no log line at any level holds a number or a text."""
    rows = [[number, TEXT_MARK] for number in TWELVE] + [["123", "x"], [TWELVE[0], "dup"]]
    await run_to_summary(
        bot, sim, clock, csv_of(["telefone", "nome"], rows), f"Oi {{nome}} {TEXT_MARK}"
    )
    lines = bot_lines(all_logs.records)
    assert any("campaign" in line for line in lines)
    leaks = [(kinds, line) for line in lines if (kinds := personal_data_in(line))]
    assert not leaks, "\n".join(f"{kinds}: {line}" for kinds, line in leaks)
