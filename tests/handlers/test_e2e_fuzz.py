"""Arbitrary ``/sms`` text and mutated payloads through the HTTP endpoint: answered, never a crash."""

from __future__ import annotations

import json
import logging
import random

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from handlers import UNEXPECTED_ERROR
from handlers.commands import sms
from handlers.grammar import HELP_TEXT
from testkit.waiting import wait_until
from tests.conftest import BotHarness
from tests.handlers.conftest import USAGE_PREFIX, shown
from tests.handlers.test_e2e_hostile import (
    BAD_PAYLOADS,
    REMOVED,
    SMS_TEXT,
    TEXT_MARK,
    bot_lines,
    changed,
    payload_of,
    personal_data_in,
)

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


def _paths(node: object, prefix: str = "") -> list[str]:
    """Every dotted path in a payload (list items by index), parents before children."""
    found: list[str] = []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in items:
        path = f"{prefix}{key}"
        found += [path, *_paths(value, path + ".")]
    return found


KINDS = ("view_submission", "block_actions", "shortcut", "message_action")
#: What a mutation puts in a field: Slack's wrong shapes, numbers no picker gives, the SMS text.
ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([1e20, -1e12, 0.5, -0.0]),
    st.text(max_size=12),
    st.just(SMS_TEXT),
    st.lists(st.just(SMS_TEXT), max_size=2),
    st.fixed_dictionaries({"id": st.just(SMS_TEXT)}),
    st.just({}),
    st.just(REMOVED),
)


@st.composite
def mutations(draw: st.DrawFn) -> tuple[str, str, object]:
    """A payload kind, one of its paths, and what to put there."""
    kind = draw(st.sampled_from(KINDS))
    path = draw(st.sampled_from(_paths(payload_of(kind))))
    return kind, path, draw(ODD_VALUES)


def generated_mutations(count: int) -> list[tuple[str, str, object]]:
    """``count`` mutations, the same on every run (a fixed derivation, no shrinking)."""
    found: list[tuple[str, str, object]] = []

    @settings(
        max_examples=count,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(mutations())
    def collect(case: tuple[str, str, object]) -> None:
        found.append(case)

    collect()
    return found


@pytest.fixture(scope="module")
def mutation_cases() -> list[tuple[str, str, object]]:
    """150 mutations, the same on every run, made where a test uses them (not at collection)."""
    return generated_mutations(150)


def test_mutations_cover_every_kind_and_odd_value(
    mutation_cases: list[tuple[str, str, object]],
) -> None:
    """The generated cases reach every payload kind, removals, objects and out-of-range numbers."""
    assert {kind for kind, _, _ in mutation_cases} == set(KINDS)
    values = [value for _, _, value in mutation_cases]
    assert REMOVED in values
    assert any(isinstance(v, dict) for v in values)
    assert any(isinstance(v, float) for v in values)
    assert len({(kind, path) for kind, path, _ in mutation_cases}) > 60


async def test_mutated_payloads_never_crash_nor_log_their_text(
    bot: BotHarness,
    caplog: pytest.LogCaptureFixture,
    mutation_cases: list[tuple[str, str, object]],
) -> None:
    """Listed defects and 150 mutations: no 5xx, bad ones 400, ≤1 WARNING each, no traceback, no text."""
    cases = [(name, payload) for name, payload in BAD_PAYLOADS.items()]
    cases += [(f"{k} {p} = {v!r}"[:120], changed(k, p, v)) for k, p, v in mutation_cases]
    refused = 0
    for name, payload in cases:
        before = len(caplog.records)
        status, answer = await bot.post_payload(payload)
        assert status < 500, name
        assert status in {200, 400, 404}, name
        if name in BAD_PAYLOADS:
            assert status == 400, name
        refused += status == 400
        if payload.get("type") == "view_submission" and status == 200 and answer:
            assert json.loads(answer)["response_action"] in {"errors", "clear"}, name
        window = caplog.records[before:]
        warnings = [r for r in window if r.levelno == logging.WARNING]
        assert len(warnings) <= 1, (name, [r.getMessage() for r in warnings])
    assert refused >= len(BAD_PAYLOADS) + 30
    assert not [r for r in caplog.records if r.levelno > logging.WARNING], [
        r.getMessage() for r in caplog.records if r.levelno > logging.WARNING
    ]
    assert not [r for r in caplog.records if r.exc_info or r.exc_text]
    leaks = [line for line in bot_lines(caplog.records) if personal_data_in(line)]
    assert not leaks, leaks[:3]
    # at WARNING and above, not even the record as logged (before the app's filters) holds it
    loud = [f"{r.getMessage()} {vars(r)}" for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [line for line in loud if TEXT_MARK in line]
