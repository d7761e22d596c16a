"""The /sms grammar's entry: help, unknown subcommands, and every bad input's sentence and usage."""

from __future__ import annotations

import pytest

from handlers.grammar import (
    GENERAL_USAGE,
    HELP_TEXT,
    USAGE,
    BalanceCommand,
    CancelCommand,
    HelpCommand,
)
from tests.handlers.grammar.helpers import parse, refusal

# ---------------------------------------------------------------- help


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP", " Help me"])
def test_help(text: str) -> None:
    """Nothing, or help in any case, is the help command."""
    assert parse(text) == HelpCommand()


def test_help_text_names_every_option_and_find_field() -> None:
    """The help text shows every send option and every find field."""
    for option in ("--from", "--at", "--validity", "--flash", "--name", "--shorten-links"):
        assert option in HELP_TEXT
    for field in ("to:", "from:", "text:", "status:", "campaign:", "group:", "page:", "size:"):
        assert f"`{field}`" in HELP_TEXT
    for field in ("sent-after:", "sent-before:", "updated-after:", "updated-before:", "sort:"):
        assert field in HELP_TEXT
    assert set(USAGE) == {
        "help",
        "send",
        "send --template",
        "status",
        "find",
        "template",
        "optout",
        "balance",
        "cancel",
    }
    assert all(line.startswith("Usage: /sms ") for line in [*USAGE.values(), GENERAL_USAGE])


def test_help_and_general_usage_name_every_command() -> None:
    """The help and the general usage line both name compose, template, balance and cancel."""
    for words in ("/sms template add", "/sms send --template", "/sms balance", "/sms cancel"):
        assert words in HELP_TEXT
    assert "`/sms` alone opens a form" in HELP_TEXT
    for words in ("/sms (the compose form)", "/sms template", "/sms balance", "/sms cancel ID"):
        assert words in GENERAL_USAGE
    for command in ("send", "status", "find", "template", "balance", "cancel", "help"):
        assert f"/sms {command}" in GENERAL_USAGE


# ---------------------------------------------------------------- bad input

SEND, STATUS, FIND = USAGE["send"], USAGE["status"], USAGE["find"]
BALANCE, CANCEL = USAGE["balance"], USAGE["cancel"]

BAD_INPUTS: list[tuple[str, str, str]] = [
    ("balance now", BALANCE, "takes nothing after it"),
    ("cancel", CANCEL, "Give the message id"),
    ("cancel 12 13", CANCEL, "one SMS at a time"),
    ("cancel abc", CANCEL, "“abc” is not a message id"),
    ("send --shorten-links=1 5511987654321 hi", SEND, "“--shorten-links” takes no value"),
    ("frobnicate", GENERAL_USAGE, "I don't know the command “frobnicate”"),
    ("sned 5511987654321 hi", GENERAL_USAGE, "I don't know the command “sned”"),
    ("send", SEND, "Give the phone number and the text to send."),
    ("send   ", SEND, "Give the phone number and the text to send."),
    ("send --flash", SEND, "Give the phone number and the text to send."),
    ("send 5511987654321", SEND, "Give the text to send after the number +55 11 98765-4321."),
    ("send 5511987654321   \n  ", SEND, "Give the text to send after the number"),
    ("send hello there", SEND, "“hello” is not a phone number I can send to"),
    ("send 123 hi", SEND, "“123” is not a phone number I can send to"),
    ("send 98765-4321 hi", SEND, "“98765-4321” is not a phone number"),
    ("send +55 11 1234 hi", SEND, "“+55 11 1234” is not a phone number"),
    ("send 51 98765-4321 oi", SEND, "could be +51 987 654 321 or +55 51 98765-4321"),
    ("send --to 5511987654321 hi", SEND, "“--to” is not an option of /sms send"),
    ("send -- 5511987654321 hi", SEND, "“--” is not an option of /sms send"),
    ("send --flash --flash 5511987654321 hi", SEND, "“--flash” is given twice"),
    ("send --from A --from B 5511987654321 hi", SEND, "“--from” is given twice"),
    ("send --flash=yes 5511987654321 hi", SEND, "“--flash” takes no value."),
    ("send --from", SEND, "“--from” needs a value: the sender name."),
    ("send --from --flash 5511987654321 hi", SEND, "“--from” needs a value"),
    ('send --from "" 5511987654321 hi', SEND, "“--from” needs a value"),
    ('send --from "My Shop" 5511987654321 hi', SEND, "may hold only letters A-Z and digits"),
    ("send --from ABCDEFGHIJKL 5511987654321 hi", SEND, "is 12 characters long"),
    ("send --from 1234567890123456 5511987654321 hi", SEND, "is 16 digits long"),
    ("send --from Loja\u00e7 5511987654321 hi", SEND, "may hold only letters A-Z and digits"),
    ('send --name "" 5511987654321 hi', SEND, "“--name” needs a value: the campaign name."),
    ('send --name "   " 5511987654321 hi', SEND, "“--name” needs a value"),
    (
        'send --name "Black Friday 5511987654321 hi',
        SEND,
        "The quote after “--name” is never closed.",
    ),
    (
        "send --validity 59 5511987654321 hi",
        SEND,
        "“--validity 59” must be whole minutes from 60 to 1440.",
    ),
    ("send --validity 1441 5511987654321 hi", SEND, "“--validity 1441” must be whole minutes"),
    ("send --validity 2h 5511987654321 hi", SEND, "“--validity 2h” must be whole minutes"),
    ("send --validity 90.5 5511987654321 hi", SEND, "“--validity 90.5” must be whole minutes"),
    ("send --validity \u0661\u0662\u0660 5511987654321 hi", SEND, "must be whole minutes"),
    ("send --validity", SEND, "“--validity” needs a value: minutes from 60 to 1440."),
    ("send --at tomorrow 5511987654321 hi", SEND, "“--at tomorrow” is not a date and time"),
    ("send --at 2026-11-26 5511987654321 hi", SEND, "“--at 2026-11-26” is not a date and time"),
    (
        'send --at "2026-11-26 13:00:00" 5511987654321 hi',
        SEND,
        "is not a date and time like 2026-12-01 14:30.",
    ),
    (
        'send --at "26/11/2026 13:00" 5511987654321 hi',
        SEND,
        "could be read month first or day first; write the year first, like 2026-12-01 14:30.",
    ),
    (
        'send --at "2026-02-30 13:00" 5511987654321 hi',
        SEND,
        "“2026-02-30 13:00” is not a real date and time.",
    ),
    ('send --at "2026-11-26 25:00" 5511987654321 hi', SEND, "is not a real date and time."),
    (
        "send --at 2026-11-25 12:59 5511987654321 hi",
        SEND,
        "is less than 1 hour from now (2026-11-25 12:00)",
    ),
    ("send --at 2026-11-20 12:00 5511987654321 hi", SEND, "is in the past"),
    (
        "send --at 2026-12-09 12:01 5511987654321 hi",
        SEND,
        "is more than 14 days from now (2026-11-25 12:00)",
    ),
    ("status abc", STATUS, "“abc” is not a message id"),
    ("status 0", STATUS, "“0” is not a message id"),
    ("status -5", STATUS, "“-5” is not a message id"),
    ("status 12 3.5", STATUS, "“3.5” is not a message id"),
    ("status 9223372036854775808", STATUS, "“9223372036854775808” is not a message id"),
    ("status #123", STATUS, "“#123” is not a message id"),
    ("find nocolon", FIND, "“nocolon” is not FIELD:VALUE"),
    ("find foo:bar", FIND, "“foo” is not a search field"),
    ("find to:", FIND, "“to:” needs a value."),
    ("find to:abc", FIND, "“to:abc” needs the digits of a number"),
    ("find status:lost", FIND, "“status:lost” is not a status"),
    ("find page:0", FIND, "“page:0” must be a page number from 1."),
    ("find page:two", FIND, "“page:two” must be a page number from 1."),
    ("find page:1000001", FIND, "must be a page number from 1."),
    ("find size:30", FIND, "“size:30” must be 25, 50 or 100."),
    ("find sort:price", FIND, "“sort:price” is not a sort field"),
    ("find sort:-", FIND, "“sort:-” is not a sort field"),
    ("find campaign:1,x", FIND, "“x” is not a campaign id (in “campaign:”)"),
    ("find campaign:" + ",".join(map(str, range(1, 102))), FIND, "“campaign:” has 101 ids"),
    ("find group:,,", FIND, "“group:” needs group ids"),
    ("find sent-after:yesterday", FIND, "“sent-after:yesterday” is not a date"),
    ("find sent-before:2026-13-01", FIND, "“2026-13-01” is not a real date and time."),
    (
        "find sent-after:2026-02-01 sent-before:2026-01-01",
        FIND,
        "“sent-after” is later than “sent-before”",
    ),
    (
        "find updated-after:2026-02-01 updated-before:2026-01-01",
        FIND,
        "“updated-after” is later than “updated-before”",
    ),
    ("find to:1 to:2", FIND, "“to” is given twice"),
    ('find text:"unclosed', FIND, "The quote after “text:” is never closed."),
    ('find "', FIND, "The quote in the search is never closed."),
    ('find "text:a b"', FIND, "put the field before the quote"),
]


@pytest.mark.parametrize(("text", "usage", "fragment"), BAD_INPUTS)
def test_bad_input_gets_a_sentence_and_the_usage_line(text: str, usage: str, fragment: str) -> None:
    """Each bad input raises UsageError with a sentence naming the problem and the right usage."""
    error = refusal(text)
    assert fragment in error.sentence
    assert error.sentence.endswith(".")
    assert "\n" not in error.sentence
    assert error.usage == usage
    assert str(error) == f"{error.sentence}\n{usage}"


def test_there_are_at_least_25_distinct_bad_inputs() -> None:
    """The bad-input table covers at least 25 distinct inputs across all subcommands."""
    texts = {text for text, _, _ in BAD_INPUTS}
    assert len(texts) == len(BAD_INPUTS) >= 25
    assert {usage for _, usage, _ in BAD_INPUTS} == {
        SEND,
        STATUS,
        FIND,
        BALANCE,
        CANCEL,
        GENERAL_USAGE,
    }


def test_sentences_quote_at_most_40_characters_of_input() -> None:
    """A long bad value is shortened in the sentence, so the reply stays readable."""
    error = refusal("send --validity " + "9" * 500 + " 5511987654321 hi")
    assert "…" in error.sentence
    assert len(error.sentence) < 120


def test_balance_and_cancel_commands() -> None:
    """``balance`` takes nothing; ``cancel`` takes exactly one message id."""
    assert parse("balance") == BalanceCommand()
    assert parse("CANCEL 6300284") == CancelCommand(6300284)
