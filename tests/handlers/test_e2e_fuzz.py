"""Arbitrary ``/sms`` text through the HTTP endpoint: always acknowledged, answered, never a crash."""

from __future__ import annotations

import logging
import random

import pytest

from handlers import UNEXPECTED_ERROR
from handlers.commands import sms
from handlers.grammar import HELP_TEXT
from testkit.waiting import wait_until
from tests.conftest import BotHarness
from tests.handlers.conftest import USAGE_PREFIX, shown

pytestmark = pytest.mark.usefixtures("secret_guard")

# pieces of real commands, Slack's escaping and markup, and troublemakers
TOKENS = [
    "send", "status", "find", "help", "SEND", "--from", "--at", "--validity", "--flash",
    "--name", "--", "\u2014from", "=", "+55", "(11)", "98765-4321", "5511987654321", "11",
    "100", "0", "-1", "1440", "2026-12-01", "14:30", '"', "'", "\u201c", "&amp;", "&lt;",
    "&gt;", "<tel:+5511987654321|+55 11 98765-4321>", "<https://x.example|x>", "<@U1>",
    "<!channel>", "\U0001f389", "\n", "\\", ",", ":", "to:", "page:", "size:50", "sort:-sent",
    "text:", "sent-after:", "status:DELIVRD", "campaign:1,2", "x" * 200, "\u00e3", "\t",
]  # fmt: skip


async def test_arbitrary_commands_are_always_answered(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """200 random commands: each is acknowledged, and answered with help, a usage line or work."""
    rng = random.Random(20261125)
    accepted = 0
    for _ in range(200):
        words = rng.choices(TOKENS, k=rng.randint(0, 12))
        if rng.random() < 0.5:
            words.insert(0, rng.choice(["send", "status", "find"]))
        typed = rng.choice([" ", "", "  "]).join(words)
        if rng.random() < 0.3:  # a well-formed start, so many texts are really sent
            options = rng.choice(["", "--flash ", "--validity 90 ", '--name "a b" '])
            typed = f"send {options}+55 11 98765-4321 {typed}"
        status, body = await bot.command(typed)
        assert status == 200, typed
        text = shown(body)
        if not text:
            accepted += 1
            continue
        assert text == HELP_TEXT or text.rsplit("\n", 1)[-1].startswith(USAGE_PREFIX), typed
    assert accepted >= 20
    # every accepted command is answered: a channel post for a send, the compose modal for an
    # empty command, a private reply otherwise
    await wait_until(
        lambda: (
            (
                len(bot.slack.called("chat.postMessage"))
                + len(bot.slack.called("views.open"))
                + len(bot.slack.responses)
            )
            >= accepted
        ),
        what="every accepted command to be answered",
    )
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_bug_in_the_grammar_is_still_answered_in_time(
    bot: BotHarness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If reading the command itself fails, the user still gets a sentence in the ack, and it is logged."""

    def broken(*_args: object, **_kwargs: object) -> None:
        msg = "simulated grammar bug"
        raise IndexError(msg)

    monkeypatch.setattr(sms, "parse_command", broken)
    status, body = await bot.command("send +55 11 98765-4321 hi")
    assert status == 200
    assert shown(body) == UNEXPECTED_ERROR
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]
    assert errors
    assert "simulated grammar bug" in logging.Formatter().format(errors[0])
