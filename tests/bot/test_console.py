"""``smsbot console`` driven through stdin: readable answers and delivery.

The command line's own behaviour runs a real process; what the console does with its input runs
in this process, as the command would run it.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import signal
import sys
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from bot.console import session as console
from bot.console.session import _logs_through
from bot.console.slack import ConsoleSlack
from bot.console.text import mrkdwn_to_text, render_blocks
from bot.process.settings import Settings
from bot.simulator import SimulatorConfig, start_simulator
from storage.schema import open_database
from testkit.database import run_sql
from tests.bot.conftest import console_in_process, run_console, sections
from tests.bot.forked import ForkedProcess, start_smsbot
from tests.conftest import MOBIZON_KEY

#: The console's person, as the OS names them.
ANA = {"LOGNAME": "ana", "USER": "ana"}
SCRIPT = """\
/sms help
/sms send +55 11 98765-4321 Hello & <welcome> from the console
/sms status 6300284
/sms find to:5511
what is this
"""


async def test_console_send_status_find_help_and_delivery(tmp_path: Path) -> None:
    """Through stdin: help, a send, its status, a search, then the delivery update, all readable."""
    code, out, err = await run_console(tmp_path, SCRIPT, "--linger", "20", quick=True)
    assert code == 0, err
    assert "Traceback" not in err
    first_line = out.splitlines()[0]
    assert first_line.startswith("smsbot console: SANDBOX")
    assert "SANDBOX MODE" not in err  # the banner says it, in the reader's language

    shown = sections(out)
    headers = [header for header, _ in shown]
    assert (
        headers
        == [
            "reply (only you see this)",  # help
            "bot posted in #CCONSOLE",  # the SMS's message
            "reply (only you see this)",  # status
            "reply (only you see this)",  # find
            *headers[4:],
        ]
    )
    help_text, posted, status, found = (body for _, body in shown[:4])
    assert "Send SMS from Slack with `/sms`" in help_text
    assert "/sms status" in help_text
    assert "SMS to +55 11 98765-4321" in posted
    assert "> Hello & <welcome> from the console" in posted  # Slack's escaping undone
    assert re.search(r"^  To: +\+55 11 98765-4321$", posted, flags=re.MULTILINE)
    assert "Sandbox" in posted
    assert "Status of 1 SMS" in status
    assert "6300284" in status
    assert "SMS found: page 1 of 1, 1 found" in found
    assert "6300284 to +55 11 98765-4321" in found

    # the unknown line got the console's help
    assert "Type /sms commands as in Slack" in out.split("SMS found")[1]

    # the delivery updates: one line per change of the post, and the thread reply as one line;
    # the post itself was printed once. Each is printed as it comes: an early one (ENQUEUD) may
    # come while the input is still read, before the help the last line got; after that help,
    # the input ended, the console prints nothing but them.
    assert "Type /sms commands as in Slack" in shown[-1][1]
    update_line = ("SMS 6300284 to …4321: ", "↳ ")
    after_input = shown[-1][1].split(console.HELP, 1)[1].splitlines()
    assert all(line.startswith(update_line) for line in after_input if line)
    updates = [line for line in out.splitlines() if line.startswith(update_line)]
    assert any(line.startswith("SMS 6300284 to …4321: ✅ DELIVRD (delivered)") for line in updates)
    assert "↳ ✅ SMS 6300284 to +55 11 98765-4321 was delivered. (sandbox)" in updates
    # once final, its cost is looked up and put on the post: the last edit says it
    assert updates[-1].endswith("cost 0.06 BRL")
    assert len(headers) == 4
    assert out.count("Mobizon ids:") == 1

    # rendered from Block Kit into text: no JSON, no Slack markup, no entities, no shortcodes
    for raw in ('"type"', "<@", "&amp;", "&lt;", ":white_check_mark:", ":test_tube:", "*Sandbox*"):
        assert raw not in out


async def test_console_quit_stops_reading(tmp_path: Path) -> None:
    """``quit`` ends the session at once; nothing after it is sent."""
    code, out = await console_in_process(
        tmp_path, "/sms help\nquit\n/sms send +55 11 98765-4321 never\n"
    )
    assert code == 0
    assert "Send SMS from Slack" in out
    assert "bot posted" not in out


def test_block_kit_renders_as_text() -> None:
    """Sections, fields, context and buttons become plain lines; mentions and links are undone."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*SMS* to <@U1|ana> &amp; more"}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "*To*\n+55 11 98765-4321"}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": ":hourglass: _waiting_"}]},
        {
            "type": "actions",
            "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Next"}}],
        },
    ]
    assert render_blocks(blocks) == [
        "SMS to @ana & more",
        "  To:            +55 11 98765-4321",
        "  ⏳ waiting",
        "  [Next]",
    ]
    assert mrkdwn_to_text("see <https://example.com|the site> at 12:30:45") == (
        "see the site at 12:30:45"
    )
    assert render_blocks([], "fallback *text*") == ["fallback text"]
    # a person the console knows by name shows by it, as Slack shows names
    assert mrkdwn_to_text("by <@UCONSOLE> and <@U2>", {"UCONSOLE": "ana"}) == "by @ana and @U2"


async def test_a_second_console_run_in_the_same_folder_tracks_both_sms(tmp_path: Path) -> None:
    """Run again over the same database: a fresh id, and the first run's pending SMS delivered."""
    # the first run ends before its SMS is delivered
    code, out, err = await run_console(
        tmp_path, "/sms send +55 11 98765-4321 first\n", "--linger", "0"
    )
    assert code == 0, err
    assert "message 6300284" in out
    assert "1 SMS still awaits a final status" in out
    code, out, err = await run_console(
        tmp_path, "/sms send +55 11 98765-4321 second\n", "--linger", "20", quick=True
    )
    assert code == 0, err
    assert "could not record" not in out
    assert "Traceback" not in err
    assert "message 6300285" in out
    assert "✅ SMS 6300284 to +55 11 98765-4321 was delivered. (sandbox)" in out
    assert "✅ SMS 6300285 to +55 11 98765-4321 was delivered. (sandbox)" in out
    with closing(open_database(tmp_path / "console.db")) as db:
        rows = run_sql(db, "SELECT message_id, text, state, status FROM sms ORDER BY id")
        assert rows == [
            {"message_id": 6300284, "text": "first", "state": "sent", "status": "DELIVRD"},
            {"message_id": 6300285, "text": "second", "state": "sent", "status": "DELIVRD"},
        ]
        # each SMS's history is its own: NEW then its steps, one final status
        for message_id in (6300284, 6300285):
            finals = [
                row["status"]
                for row in run_sql(
                    db, "SELECT status FROM status_history WHERE message_id = :m", m=message_id
                )
                if row["status"] == "DELIVRD"
            ]
            assert finals == ["DELIVRD"]


async def test_a_second_console_run_sees_the_first_runs_sms_and_balance(tmp_path: Path) -> None:
    """Run again in the same folder: status, find and balance go on from the first run's sandbox."""
    code, out, err = await run_console(
        tmp_path, "/sms send +55 11 98765-4321 first\n", "--linger", "20", quick=True
    )
    assert code == 0, err
    assert "was delivered. (sandbox)" in out
    assert (tmp_path / "console.sandbox.json").is_file()  # beside console.db, as README says
    script = "/sms status 6300284\n/sms find\n/sms balance\n"
    code, out, err = await run_console(tmp_path, script, "--linger", "0")
    assert code == 0, err
    status, found, balance = (body for _, body in sections(out))
    assert "not found at Mobizon" not in status
    assert "6300284" in status
    assert "DELIVRD (delivered)" in status
    assert "1 found" in found
    assert "6300284 to +55 11 98765-4321" in found
    # the first run's segment stays spent: 10,000.00 less 0.06, as the spending total says
    assert "Balance of the Mobizon account: 9,999.94 BRL" in balance
    assert "today cost 0.06 BRL" in balance


async def test_an_exported_key_is_ignored_without_live(tmp_path: Path) -> None:
    """MOBIZON_API_KEY in the shell, no --live: the sandbox runs and says it ignored the key."""
    code, out, err = await run_console(
        tmp_path,
        "/sms send +55 11 98765-4321 hi\n",
        "--linger",
        "20",
        env_extra={
            "MOBIZON_API_KEY": MOBIZON_KEY,
            # were the key used, the send would fail: nothing listens there
            "MOBIZON_API_URL": "http://127.0.0.1:9",
        },
        quick=True,
    )
    assert code == 0, err
    assert out.startswith("smsbot console: SANDBOX")
    assert "MOBIZON_API_KEY is set but ignored" in out
    assert "smsbot console --live" in out
    assert "was delivered. (sandbox)" in out
    assert MOBIZON_KEY not in out + err


async def test_live_needs_a_key(tmp_path: Path) -> None:
    """``--live`` without MOBIZON_API_KEY stops at once with a sentence (exit 2)."""
    code, out, err = await run_console(tmp_path, "/sms help\n", "--live")
    assert code == 2
    assert out == ""
    assert "--live sends real SMS and needs MOBIZON_API_KEY" in err
    assert "Traceback" not in err


async def test_live_sends_through_the_configured_gateway(tmp_path: Path) -> None:
    """``--live`` with a key sends through MOBIZON_API_URL with that key, not the simulator."""
    simulator, runner, url = await start_simulator(SimulatorConfig(api_key=MOBIZON_KEY, speed=20))
    try:
        code, out, err = await run_console(
            tmp_path,
            "/sms send +55 11 98765-4321 for real\n",
            "--live",
            "--linger",
            "20",
            env_extra={"MOBIZON_API_KEY": MOBIZON_KEY, "MOBIZON_API_URL": url},
        )
    finally:
        await runner.cleanup()
    assert code == 0, err
    assert out.startswith("smsbot console: LIVE Mobizon. Real SMS are sent, and billed.")
    assert [m.text for m in simulator.messages.values()] == ["for real"]
    assert "was delivered." in out, err


async def _console_with_open_stdin(tmp_path: Path) -> ForkedProcess:
    """``smsbot console`` on pipes, forked (:mod:`tests.bot.forked`), once its banner is out."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MOBIZON_"))}
    env["SMSBOT_DB"] = str(tmp_path / "console.db")
    process = await start_smsbot("console", env=env, cwd=tmp_path, stdin=True)
    assert process.stdout is not None
    await asyncio.wait_for(process.stdout.readline(), 60)  # the banner: it is up
    return process


async def test_quit_ends_the_console_while_its_input_stays_open(tmp_path: Path) -> None:
    """``quit`` on a pipe that is never closed still ends the process (no reader thread waited for)."""
    process = await _console_with_open_stdin(tmp_path)
    assert process.stdin is not None
    process.stdin.write(b"quit\n")
    await process.stdin.drain()
    try:
        assert await asyncio.wait_for(process.wait(), 20) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_ctrl_c_ends_a_piped_console_without_a_traceback(tmp_path: Path) -> None:
    """SIGINT (Ctrl-C) with the input still open: exit 130 at once, no KeyboardInterrupt traceback."""
    process = await _console_with_open_stdin(tmp_path)
    process.send_signal(signal.SIGINT)
    try:
        assert await asyncio.wait_for(process.wait(), 20) == 130
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.stderr is not None
    err = (await process.stderr.read()).decode()
    assert "Traceback" not in err
    assert "KeyboardInterrupt" not in err


def test_logs_go_through_the_prompt_proxy_while_it_is_up() -> None:
    """At a terminal prompt, log lines meant for stderr go through the given stream, then back."""
    handler: logging.StreamHandler[Any] = logging.StreamHandler(sys.__stderr__)
    root = logging.getLogger()
    root.addHandler(handler)
    proxy = io.StringIO()
    try:
        with _logs_through(proxy):
            assert handler.stream is cast("object", proxy)
        assert handler.stream is sys.__stderr__
    finally:
        root.removeHandler(handler)


async def test_console_cancels_a_scheduled_sms_and_shows_the_balance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the sandbox console: a scheduled SMS is cancelled (post edited, by name), balance shown."""
    at = (datetime.now(UTC) + timedelta(days=2)).replace(hour=14, minute=30)
    script = (
        f'/sms send --at "{at:%Y-%m-%d %H:%M}" +55 11 98765-4321 See you later\n'
        "/sms cancel 6300284\n"
        "/sms balance\n"
    )
    for name, value in ANA.items():
        monkeypatch.setenv(name, value)
    code, out = await console_in_process(
        tmp_path, script, linger=5, env_extra={"MOBIZON_TIMEZONE": "UTC"}
    )
    assert code == 0
    assert "SMS 6300284 is cancelled: it will not be sent." in out
    assert "SMS 6300284 to …4321: 🚫 cancelled by @ana" in out  # the post's edit, one line
    # posts name the OS user typing at the console, not its made-up Slack id
    assert "Sent by:       @ana" in out
    assert "UCONSOLE" not in out
    # the cancelled SMS's cost was given back: the balance is whole and no cost is counted
    assert "Balance of the Mobizon account: 10,000.00 BRL" in out
    assert "today cost 0.00 BRL" in out


async def test_sms_alone_opens_the_compose_form_at_prompts(tmp_path: Path) -> None:
    """``/sms`` alone shows the modal as text, asks each field, re-asks a bad one, then sends."""
    script = "/sms\n12\n+55 11 98765-4321\nHello from the form\n\n\n\n\nquit\n"
    code, out = await console_in_process(tmp_path, script)
    assert code == 0
    assert "[Send an SMS]" in out
    assert "GSM-7 · 19 characters · 1 SMS segment" in out  # the live count, from views.update
    # the bad number was refused as it was typed, with the sentence, and asked again
    assert "Phone number: \n  “12” is" in out
    assert out.count("Phone number: ") == 2
    posted = dict(sections(out))["bot posted in #CCONSOLE"]
    assert "> Hello from the form" in posted


async def test_the_form_checks_each_field_as_it_is_typed(tmp_path: Path) -> None:
    """Too long a text, a past schedule, a bad validity: each refused at once, asked again."""
    script = (
        "/sms\n+55 11 98765-4321\n" + "x" * 1600 + "\nChecked as typed\n\n"
        "2020-01-01 10:00\n\n5\n90\n\n"
    )
    code, out = await console_in_process(tmp_path, script)
    assert code == 0
    asked = out.split("[Send an SMS]")[1]
    assert (
        "Message: \n  The text is 11 SMS segments long (1,600 GSM-7 characters); the limit is 10.\n"
        "Message: \n" in asked
    )
    assert (
        " (Enter to skip): \n  This time has passed; SMS can be scheduled 1 hour to 14 days ahead.\n"
        "Send later [" in asked
    )
    assert "Validity (minutes) (Enter to skip): \n  Give whole minutes from 60 to 1440.\n" in asked
    posted = dict(sections(out))["bot posted in #CCONSOLE"]
    assert "> Checked as typed" in posted
    assert "valid 90 min" in posted
    assert "x" * 100 not in posted


async def test_quit_words_leave_the_form_at_any_prompt(tmp_path: Path) -> None:
    """quit, sair, exit and cancelar close the form at any question; the console goes on."""
    script = (
        "/sms\nquit\n"  # at the number: not taken as a number
        "/sms\n+55 11 98765-4321\nsair\n"  # at the text: not sent as the text
        "/sms\n+55 11 98765-4321\nhi\n\nexit\n"  # at the schedule
        "/sms\n+55 11 98765-4321\nhi\n\n\n\ncancelar\n"  # at the last one
        "/sms help\n"
    )
    code, out = await console_in_process(tmp_path, script)
    assert code == 0
    assert out.count("(the form was closed without sending)") == 4
    assert "is not a phone number" not in out
    assert "bot posted" not in out
    assert "Send SMS from Slack" in out  # the console still read the next command


async def test_the_compose_form_can_be_cancelled(tmp_path: Path) -> None:
    """``cancel`` at a prompt closes the form without sending."""
    code, out = await console_in_process(tmp_path, "/sms\ncancel\nquit\n")
    assert code == 0
    assert "closed without sending" in out
    assert "bot posted" not in out


async def test_the_console_speaks_smsbot_language_throughout(tmp_path: Path) -> None:
    """SMSBOT_LANGUAGE=pt-BR: the console's posts and its replies all use pt-BR formats."""
    at = (datetime.now(UTC) + timedelta(days=2)).replace(hour=14, minute=30)
    script = f'/sms send --at "{at:%Y-%m-%d %H:%M}" +55 11 98765-4321 See you later\n/sms balance\n'
    code, out = await console_in_process(
        tmp_path, script, env_extra={"MOBIZON_TIMEZONE": "UTC", "SMSBOT_LANGUAGE": "pt-BR"}
    )
    assert code == 0
    assert f"{at:%d/%m/%Y} 14:30 UTC" in out  # the channel post's schedule
    assert f"{at:%Y-%m-%d} 14:30" not in out
    assert "R$ 9.999,94" in out  # the balance, after one segment at 0.06


async def test_the_consoles_own_lines_are_in_smsbot_language(tmp_path: Path) -> None:
    """The console's own words (a post's heading) follow SMSBOT_LANGUAGE, not the caller's locale."""
    env = {"SMSBOT_DB": str(tmp_path / "c.db"), "SMSBOT_LANGUAGE": "pt-BR", "TZ": "UTC"}
    settings = Settings.from_env(env, mode="console").sandboxed()
    out = io.StringIO()
    code = await console.run_console(
        settings, stdin=io.StringIO("/sms send +55 11 98765-4321 hi\n"), out=out, linger=0
    )
    assert code == 0
    assert "── o bot publicou em #CCONSOLE" in out.getvalue()


async def test_an_edit_printed_meanwhile_is_no_answer_to_a_command() -> None:
    """A delivery update printed while a command waits for its answer is not taken for it."""
    slack = ConsoleSlack(io.StringIO())
    answered = asyncio.create_task(slack.wait_beyond(slack.shown, slack.opened, 30))
    await asyncio.sleep(0)
    slack.say("SMS 6300284 to …4321: 📤 ENQUEUD (queued for sending)")
    slack.say("↳ ✅ SMS 6300284 to +55 11 98765-4321 was delivered. (sandbox)")
    for _ in range(5):  # let the waiting task see both lines
        await asyncio.sleep(0)
    assert not answered.done()
    slack.show("reply (only you see this)", {"text": "Status of 1 SMS"})
    await asyncio.wait_for(answered, 5)
    assert slack.shown == 1
