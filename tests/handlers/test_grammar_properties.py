"""Properties of the ``/sms`` grammar over generated input (hypothesis)."""

from __future__ import annotations

import string
from collections.abc import Callable
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.mobizon.types import PAGE_SIZES, SORT_FIELDS, ListCriteria, Sort
from bot.sending.segments import MAX_SEGMENTS, count_segments
from handlers.grammar import (
    GENERAL_USAGE,
    USAGE,
    FindCommand,
    HelpCommand,
    SendCommand,
    StatusCommand,
    UsageError,
    decode_find,
    encode_find,
    parse_command,
)
from handlers.mrkdwn import escape

NOW = datetime(2026, 11, 25, 12, 0)  # noqa: DTZ001 - the grammar works in naive local time
BR_MOBILE = "5511987654321"
COMMANDS = (HelpCommand, SendCommand, StatusCommand, FindCommand)
USAGE_LINES = {*USAGE.values(), GENERAL_USAGE}

PROPERTY = settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Words the grammar gives meaning to, so generated text reaches deep into every branch.
GRAMMAR_WORDS = st.sampled_from(
    [
        "send",
        "status",
        "find",
        "help",
        "--from",
        "--at",
        "--validity",
        "--flash",
        "--name",
        "\u2014from",
        "=",
        '"',
        "'",
        "\u201c",
        "\u201d",
        "\u2019",
        "+55",
        "(11)",
        "98765-4321",
        BR_MOBILE,
        "51",
        "2026-11-26",
        "13:00",
        "2026-02-30",
        "120",
        "60",
        "1441",
        "to:",
        "from:",
        "text:",
        "status:",
        "campaign:",
        "group:",
        "sent-after:",
        "sent-before:2026-01-01",
        "updated-after:",
        "page:",
        "page:2",
        "size:50",
        "sort:-sent",
        "sort:",
        "&amp;",
        "&lt;",
        "&gt;",
        "<tel:+5511987654321|+55 11 98765-4321>",
        "<https://x.co|x.co>",
        "<",
        ">",
        "|",
        ",",
        "0",
        "-",
        "\n",
        "\\",
        "\U0001f600",
        "\u20ac",
    ]
)
GRAMMAR_TEXT = st.lists(st.one_of(GRAMMAR_WORDS, st.text(max_size=6)), max_size=14).map(" ".join)


def outcome(call: Callable[[], object]) -> object:
    """Return what ``call`` returns, or the UsageError it raises (anything else propagates)."""
    try:
        return call()
    except UsageError as error:
        return error


def check_outcome(text: str) -> None:
    """Parse ``text``: a command comes back, or a UsageError with a sentence and a usage line."""
    result = outcome(lambda: parse_command(text, default_region="BR", now=NOW))
    if isinstance(result, UsageError):
        assert result.sentence.strip()
        assert result.sentence.endswith(".")
        assert result.usage in USAGE_LINES
        assert str(result) == f"{result.sentence}\n{result.usage}"
    else:
        assert isinstance(result, COMMANDS)


@PROPERTY
@given(st.text())
def test_arbitrary_text_gives_a_command_or_a_usage_error(text: str) -> None:
    """For any text at all, parse_command returns a command or raises UsageError, nothing else."""
    check_outcome(text)
    check_outcome("send " + text)
    check_outcome("find " + text)
    check_outcome("status " + text)


@PROPERTY
@given(GRAMMAR_TEXT)
def test_grammar_shaped_text_gives_a_command_or_a_usage_error(text: str) -> None:
    """Text built from the grammar's own words never raises anything but UsageError."""
    check_outcome(text)
    check_outcome("send " + text)
    check_outcome("find " + text)


@PROPERTY
@given(st.text())
def test_decode_find_refuses_anything_it_did_not_make(value: str) -> None:
    """decode_find on arbitrary text returns a FindCommand or raises UsageError, nothing else."""
    result = outcome(lambda: decode_find(value))
    if isinstance(result, UsageError):
        assert result.usage == USAGE["find"]
    else:
        assert isinstance(result, FindCommand)


# ---------------------------------------------------------------- send round trip

PHONE_FORMS = st.sampled_from(
    ["+55 (11) 98765-4321", BR_MOBILE, "(11) 98765-4321", "+55 11 98765-4321", "+5511987654321"]
)
SMS_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=400
).filter(
    lambda text: (
        not text[0].isspace()
        and bool(text.strip())
        and 0 < count_segments(text).segments <= MAX_SEGMENTS
    )
)
SENDERS = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=11),
    st.text(alphabet=string.digits, min_size=1, max_size=15),
)
NAMES = st.text(
    alphabet=string.ascii_letters + string.digits + " &<>-_.,!?:;()[]{}@#%*+/\u00e9\u00e7",
    min_size=1,
    max_size=40,
).filter(lambda name: name == name.strip() and bool(name))
SCHEDULES = st.integers(min_value=60, max_value=14 * 24 * 60).map(
    lambda minutes: NOW + timedelta(minutes=minutes)
)


@st.composite
def send_commands(draw: st.DrawFn) -> tuple[str, SendCommand]:
    """A valid /sms send command as Slack would deliver it, and what it must parse to."""
    expected = SendCommand(
        recipient=BR_MOBILE,
        text=draw(SMS_TEXT),
        sender=draw(st.none() | SENDERS),
        at=draw(st.none() | SCHEDULES),
        validity=draw(st.none() | st.integers(min_value=60, max_value=1440)),
        flash=draw(st.booleans()),
        name=draw(st.none() | NAMES),
    )
    options = []
    if expected.sender is not None:
        options.append(f"--from {expected.sender}")
    if expected.at is not None:
        options.append(
            draw(st.sampled_from(['--at "{}"', "--at {}", "--at='{}'"])).format(
                f"{expected.at:%Y-%m-%d %H:%M}"
            )
        )
    if expected.validity is not None:
        options.append(f"--validity {expected.validity}")
    if expected.flash:
        options.append("--flash")
    if expected.name is not None:
        options.append(f'--name "{expected.name}"')
    options = draw(st.permutations(options))
    separator = draw(st.sampled_from([" ", "  ", "\n", " \n "]))
    typed = " ".join(["send", *options, draw(PHONE_FORMS)]) + separator + expected.text
    # Slack escapes &, < and > in what the user typed before it reaches the bot.
    return escape(typed), expected


@PROPERTY
@given(send_commands())
def test_valid_send_commands_round_trip_exactly(case: tuple[str, SendCommand]) -> None:
    """For generated valid send commands, every option and the text come back exactly."""
    typed, expected = case
    assert parse_command(typed, default_region="BR", now=NOW) == expected


# ---------------------------------------------------------------- find round trip

MOMENTS = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - naive local time
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
)
FIND_COMMANDS = st.builds(
    FindCommand,
    criteria=st.builds(
        ListCriteria,
        campaign_ids=st.lists(st.integers(1, 2**63 - 1), max_size=5).map(tuple),
        sender=st.none() | st.text(max_size=20),
        recipient=st.none() | st.text(alphabet=string.digits, min_size=1, max_size=15),
        text=st.none() | st.text(max_size=80),
        status=st.none() | st.sampled_from(["NEW", "DELIVRD", "UNDELIV"]),
        groups=st.lists(st.text(min_size=1, max_size=10), max_size=3).map(tuple),
        sent_from=st.none() | MOMENTS,
        sent_to=st.none() | MOMENTS,
        updated_from=st.none() | MOMENTS,
        updated_to=st.none() | MOMENTS,
    ),
    page=st.integers(min_value=1, max_value=10**6),
    page_size=st.sampled_from(PAGE_SIZES),
    sort=st.builds(Sort, st.sampled_from(SORT_FIELDS), descending=st.booleans()),
)


@PROPERTY
@given(FIND_COMMANDS)
def test_find_commands_round_trip_through_a_button_value(command: FindCommand) -> None:
    """decode_find(encode_find(c)) == c for generated find commands."""
    assert decode_find(encode_find(command)) == command
