"""Bad ``/sms`` input through the HTTP endpoint: a sentence and the usage line, nothing sent."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest

from bot.simulator import MobizonSimulator
from handlers.grammar import GENERAL_USAGE, USAGE
from tests.conftest import BotHarness
from tests.handlers.conftest import USAGE_PREFIX, shown

pytestmark = pytest.mark.usefixtures("secret_guard")

PHONE = "+55 11 98765-4321"
_LATER = datetime.now() + timedelta(days=30)  # noqa: DTZ005  # --at is local wall time

# (what the user typed after /sms, the usage line that must follow the sentence)
BAD_INPUTS: list[tuple[str, str]] = [
    ("frob", GENERAL_USAGE),
    ("sned +55 11 98765-4321 typo", GENERAL_USAGE),
    ("send", USAGE["send"]),
    (f"send {PHONE}", USAGE["send"]),
    (f"send {PHONE}   \n  ", USAGE["send"]),
    ("send 12345 hello", USAGE["send"]),
    ("send +55 11 1234 hello", USAGE["send"]),
    ("send hello world", USAGE["send"]),
    (f"send --bogus {PHONE} hi", USAGE["send"]),
    ("send --from", USAGE["send"]),
    (f"send --from ThisSenderIsTooLong {PHONE} hi", USAGE["send"]),
    (f"send --from My-Shop! {PHONE} hi", USAGE["send"]),
    (f"send --from A --from B {PHONE} hi", USAGE["send"]),
    (f"send --validity 59 {PHONE} hi", USAGE["send"]),
    (f"send --validity 1441 {PHONE} hi", USAGE["send"]),
    (f"send --validity soon {PHONE} hi", USAGE["send"]),
    (f'send --at "2020-01-01 10:00" {PHONE} hi', USAGE["send"]),
    (f'send --at "{_LATER:%Y-%m-%d %H:%M}" {PHONE} hi', USAGE["send"]),
    (f"send --at tomorrow {PHONE} hi", USAGE["send"]),
    (f'send --at "2027-02-30 10:00" {PHONE} hi', USAGE["send"]),
    (f"send --flash=yes {PHONE} hi", USAGE["send"]),
    (f'send --name "" {PHONE} hi', USAGE["send"]),
    (f'send --name "never closed {PHONE} hi', USAGE["send"]),
    (f"send {PHONE} " + "x" * 1600, USAGE["send"]),
    (f"send {PHONE} " + "\u00e3" * 700, USAGE["send"]),
    ("status abc", USAGE["status"]),
    ("status 0", USAGE["status"]),
    ("status 6300284,-5", USAGE["status"]),
    ("status 99999999999999999999", USAGE["status"]),
    ("find bogus:1", USAGE["find"]),
    ("find to", USAGE["find"]),
    ("find to:abc", USAGE["find"]),
    ("find status:sleeping", USAGE["find"]),
    ("find size:10", USAGE["find"]),
    ("find page:0", USAGE["find"]),
    ("find sort:color", USAGE["find"]),
    ("find campaign:x", USAGE["find"]),
    ("find sent-after:2026-13-01", USAGE["find"]),
    ("find sent-after:2026-02-01 sent-before:2026-01-01", USAGE["find"]),
    ('find text:"never closed', USAGE["find"]),
    ("find to:5511 to:5521", USAGE["find"]),
]


def shown_unescaped(body: str) -> str:
    """The text Slack shows for an acknowledgement body, with Slack's escaping undone."""
    text = shown(body)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _test_id(typed: str) -> str:
    # the same on every xdist worker, even when they collect a minute apart
    return typed.replace(_LATER.strftime("%Y-%m-%d %H:%M"), "IN-30-DAYS")[:40]


@pytest.mark.parametrize(("typed", "usage"), BAD_INPUTS, ids=[_test_id(b[0]) for b in BAD_INPUTS])
async def test_bad_input_gets_a_sentence_and_the_usage_line(
    bot: BotHarness,
    sim: MobizonSimulator,
    caplog: pytest.LogCaptureFixture,
    typed: str,
    usage: str,
) -> None:
    """The user is answered at once with one sentence and the usage line; Mobizon is never called."""
    status, body = await bot.command(typed)
    assert status == 200
    sentence, _, last = shown_unescaped(body).rpartition("\n")
    assert last == usage
    assert last.startswith(USAGE_PREFIX)
    assert sentence
    assert "\n" not in sentence
    assert sentence[0].isupper() or sentence[0] == "\u201c"
    assert sentence.endswith("."), sentence
    assert "Traceback" not in body
    assert sim.requests == []
    assert bot.slack.called("chat.postMessage") == []
    assert bot.slack.responses == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_there_are_at_least_twenty_bad_inputs() -> None:
    """The table above covers at least 20 distinct bad inputs across every subcommand."""
    assert len({typed for typed, _ in BAD_INPUTS}) >= 20
    assert {usage for _, usage in BAD_INPUTS} == {
        GENERAL_USAGE,
        USAGE["send"],
        USAGE["status"],
        USAGE["find"],
    }


async def test_user_text_in_an_error_is_escaped_for_slack(bot: BotHarness) -> None:
    """Text the user typed is echoed escaped, so Slack shows it instead of reading it as markup."""
    # the user typed: /sms <!channel> — Slack escapes the angle brackets in the command text
    status, body = await bot.command("&lt;!channel&gt;")
    assert status == 200
    assert "&lt;!channel&gt;" in body
    assert "<!channel>" not in body


async def test_too_long_text_names_the_segment_count(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A text over 10 segments is refused with its segment count, before any request to Mobizon."""
    status, body = await bot.command(f"send {PHONE} " + "x" * 1600)
    assert status == 200
    assert "11" in shown_unescaped(body).split("\n")[0]
    assert sim.requests == []
