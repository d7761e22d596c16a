"""Properties of the ``/sms`` grammar over generated input (hypothesis)."""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import get_args

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.mobizon import PAGE_SIZES, SORT_FIELDS, ListCriteria, Sort
from bot.sms.sending.segments import MAX_SEGMENTS, count_segments
from handlers.grammar import (
    GENERAL_USAGE,
    USAGE,
    AnyCommand,
    FindCommand,
    SendCommand,
    UsageError,
    find_button_value,
    parse_command,
    parse_find_button,
)
from handlers.mrkdwn import escape, unmarked

NOW = datetime(2026, 11, 25, 12, 0)  # noqa: DTZ001 - the grammar works in naive local time
BR_MOBILE = "5511987654321"
#: Every command parse_command may return (``saldo`` or ``cancelar 1`` are commands too).
COMMANDS = get_args(AnyCommand)
USAGE_LINES = {*USAGE.values(), GENERAL_USAGE}

#: Twice Hypothesis's default number of examples per property, each run a new draw (no database).
PROPERTY = settings(
    max_examples=200,
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
@example("SALDO")  # found by a random run: every kind of command counts, not only the first four
@example("cancelar 6300284")
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
@given(st.text() | st.builds("{} {}".format, st.integers(-5, 10**16), GRAMMAR_TEXT))
def test_parse_find_button_refuses_anything_it_did_not_make(value: str) -> None:
    """parse_find_button on any text returns a FindCommand or raises UsageError, nothing else."""
    result = outcome(lambda: parse_find_button(value))
    if isinstance(result, UsageError):
        assert result.usage == USAGE["find"]
    else:
        assert isinstance(result, FindCommand)


# ---------------------------------------------------------------- send round trip

PHONE_FORMS = st.sampled_from(
    ["+55 (11) 98765-4321", BR_MOBILE, "(11) 98765-4321", "+55 11 98765-4321", "+5511987654321"]
)
# Control characters an SMS may hold are line breaks and tab; the grammar refuses the others.
SMS_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"])
    | st.sampled_from("\n\r\t"),
    min_size=1,
    max_size=400,
).filter(
    lambda text: (
        not text[0].isspace()
        and bool(text.strip())
        and 0 < count_segments(text).segments <= MAX_SEGMENTS
        # the marks smsbot puts beside formatting in its messages are dropped when typed back
        and unmarked(text) == text
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
# What the composites below draw, made once (a strategy made at each draw is validated again).
MAYBE_SENDER = st.none() | SENDERS
MAYBE_SCHEDULE = st.none() | SCHEDULES
MAYBE_VALIDITY = st.none() | st.integers(min_value=60, max_value=1440)
MAYBE_NAME = st.none() | NAMES
AT_FORMS = st.sampled_from(['--at "{}"', "--at {}", "--at='{}'"])
SEPARATORS = st.sampled_from([" ", "  ", "\n", " \n "])


@st.composite
def send_commands(draw: st.DrawFn) -> tuple[str, SendCommand]:
    """A valid /sms send command as Slack would deliver it, and what it must parse to."""
    expected = SendCommand(
        recipient=BR_MOBILE,
        text=draw(SMS_TEXT),
        sender=draw(MAYBE_SENDER),
        at=draw(MAYBE_SCHEDULE),
        validity=draw(MAYBE_VALIDITY),
        flash=draw(st.booleans()),
        name=draw(MAYBE_NAME),
    )
    options = []
    if expected.sender is not None:
        options.append(f"--from {expected.sender}")
    if expected.at is not None:
        options.append(draw(AT_FORMS).format(f"{expected.at:%Y-%m-%d %H:%M}"))
    if expected.validity is not None:
        options.append(f"--validity {expected.validity}")
    if expected.flash:
        options.append("--flash")
    if expected.name is not None:
        options.append(f'--name "{expected.name}"')
    options = draw(st.permutations(options))
    separator = draw(SEPARATORS)
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
).map(lambda moment: moment.replace(microsecond=0))
WORD = st.text(alphabet=string.ascii_letters + string.digits + "&<>-_.:", min_size=1, max_size=10)
# Anything but a double quote (which would close the value) and what Slack never sends.
# Nor a soft hyphen beside a formatting character (``*\u00ad``): that is the mark smsbot puts
# there in its messages, dropped when typed back (as in SMS_TEXT).
QUOTED = st.text(
    alphabet=st.characters(blacklist_characters='"\u201c\u201d\u201e', blacklist_categories=["Cs"]),
    min_size=1,
    max_size=80,
).filter(lambda text: unmarked(text) == text)
# What find_commands draws, made once (a strategy made at each draw is validated again).
MAYBE_MOMENT = st.none() | MOMENTS
CAMPAIGN_IDS = st.lists(st.integers(1, 2**63 - 1), max_size=5, unique=True)
MAYBE_WORD = st.none() | WORD
MAYBE_RECIPIENT = st.none() | st.text(alphabet=string.digits, min_size=1, max_size=15)
MAYBE_QUOTED = st.none() | QUOTED
MAYBE_STATUS = st.none() | st.sampled_from(["NEW", "DELIVRD", "UNDELIV"])
GROUPS = st.lists(WORD.filter(lambda g: "," not in g), max_size=3, unique=True)
PAGES = st.integers(min_value=1, max_value=10**6)
SIZES = st.sampled_from(PAGE_SIZES)
SORTS = st.builds(Sort, st.sampled_from(SORT_FIELDS), descending=st.booleans())


def _when(moment: datetime) -> str:
    """A moment as find text takes it: quoted date and time to the second."""
    return f'"{moment:%Y-%m-%d %H:%M:%S}"'


def _ordered(pair: tuple[datetime | None, datetime | None]) -> tuple[datetime | None, ...]:
    """An after/before pair in order, so the search can match something."""
    low, high = pair
    return tuple(sorted(pair)) if low is not None and high is not None else pair  # type: ignore[type-var]


@st.composite
def find_commands(draw: st.DrawFn) -> tuple[str, FindCommand]:
    """Typed find text (escaped the way Slack escapes it) and the command it must give."""
    sent_from, sent_to = _ordered((draw(MAYBE_MOMENT), draw(MAYBE_MOMENT)))
    updated_from, updated_to = _ordered((draw(MAYBE_MOMENT), draw(MAYBE_MOMENT)))
    expected = FindCommand(
        criteria=ListCriteria(
            campaign_ids=tuple(draw(CAMPAIGN_IDS)),
            sender=draw(MAYBE_WORD),
            recipient=draw(MAYBE_RECIPIENT),
            text=draw(MAYBE_QUOTED),
            status=draw(MAYBE_STATUS),
            groups=tuple(draw(GROUPS)),
            sent_from=sent_from,
            sent_to=sent_to,
            updated_from=updated_from,
            updated_to=updated_to,
        ),
        page=draw(PAGES),
        page_size=draw(SIZES),
        sort=draw(SORTS),
    )
    criteria = expected.criteria
    pairs = [
        f"to:{criteria.recipient}" if criteria.recipient else None,
        f"from:{criteria.sender}" if criteria.sender else None,
        f'text:"{criteria.text}"' if criteria.text else None,
        f"status:{criteria.status}" if criteria.status else None,
        "campaign:" + ",".join(map(str, criteria.campaign_ids)) if criteria.campaign_ids else None,
        "group:" + ",".join(criteria.groups) if criteria.groups else None,
        f"sent-after:{_when(sent_from)}" if sent_from else None,
        f"sent-before:{_when(sent_to)}" if sent_to else None,
        f"updated-after:{_when(updated_from)}" if updated_from else None,
        f"updated-before:{_when(updated_to)}" if updated_to else None,
        f"page:{expected.page}",
        f"size:{expected.page_size}",
        "sort:" + ("-" if expected.sort.descending else "") + expected.sort.field,
    ]
    typed = " ".join(draw(st.permutations([pair for pair in pairs if pair is not None])))
    return escape("find " + typed), expected


@PROPERTY
@given(find_commands(), st.integers(min_value=1, max_value=10**15 - 1))
def test_find_commands_round_trip_through_a_button_value(
    case: tuple[str, FindCommand], page: int
) -> None:
    """Generated find text parses to its command, and its buttons give it back at their page."""
    typed, expected = case
    command = parse_command(typed, default_region="BR", now=NOW)
    assert command == expected
    assert isinstance(command, FindCommand)
    assert parse_find_button(find_button_value(command, page)) == replace(expected, page=page)


@PROPERTY
@given(GRAMMAR_TEXT, st.integers(min_value=1, max_value=10**15 - 1))
def test_any_accepted_search_survives_its_buttons(text: str, page: int) -> None:
    """Whatever find text the grammar accepts, its button value parses back to it at the page."""
    command = outcome(lambda: parse_command("find " + text, default_region="BR", now=NOW))
    if isinstance(command, FindCommand):
        assert parse_find_button(find_button_value(command, page)) == replace(command, page=page)
