"""``smsbot console`` driven through stdin, as a real process: readable answers and delivery."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path
from typing import Any

from bot.console import mrkdwn_to_text, render_blocks

SMSBOT = Path(sys.executable).with_name("smsbot")

SCRIPT = """\
/sms help
/sms send +55 11 98765-4321 Hello & <welcome> from the console
/sms status 6300284
/sms find to:5511
what is this
"""


async def run_console(tmp_path: Path, script: str, *args: str) -> tuple[int, str, str]:
    """Run ``smsbot console`` in ``tmp_path`` with ``script`` on stdin; return code, out, err."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MOBIZON_"))}
    env["SMSBOT_DB"] = str(tmp_path / "console.db")
    env["PYTHONIOENCODING"] = "utf-8"
    process = await asyncio.create_subprocess_exec(
        str(SMSBOT),
        "console",
        *args,
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(script.encode()), 90)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def sections(out: str) -> list[tuple[str, str]]:
    """Split the console's output into (header, body) per message it printed."""
    parts = re.split(r"^── (.+?) ─+$", out, flags=re.MULTILINE)
    return list(zip(parts[1::2], (p.strip("\n") for p in parts[2::2]), strict=True))


async def test_console_send_status_find_help_and_delivery(tmp_path: Path) -> None:
    """Through stdin: help, a send, its status, a search, then the delivery update, all readable."""
    code, out, err = await run_console(tmp_path, SCRIPT, "--linger", "20")
    assert code == 0, err
    assert "Traceback" not in err
    first_line = out.splitlines()[0]
    assert first_line.startswith("smsbot console: SANDBOX")

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

    # the delivery update arrives after the input ended: the message updated, then a thread reply
    assert "bot updated its message in #CCONSOLE" in headers[4:]
    final = dict(shown[4:])
    assert "✅ DELIVRD (delivered)" in final["bot updated its message in #CCONSOLE"]
    assert "was delivered. (sandbox)" in final["thread reply in #CCONSOLE"]
    assert headers[-1] == "thread reply in #CCONSOLE"

    # rendered from Block Kit into text: no JSON, no Slack markup, no entities, no shortcodes
    for raw in ('"type"', "<@", "&amp;", "&lt;", ":white_check_mark:", ":test_tube:", "*Sandbox*"):
        assert raw not in out


async def test_console_quit_stops_reading(tmp_path: Path) -> None:
    """``quit`` ends the session at once; nothing after it is sent."""
    code, out, _ = await run_console(
        tmp_path, "/sms help\nquit\n/sms send +55 11 98765-4321 never\n", "--linger", "0"
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
