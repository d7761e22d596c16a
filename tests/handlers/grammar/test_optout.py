"""``/sms optout add|list|remove``: numbers read as sends read them, words in both languages."""

from __future__ import annotations

import pytest

from handlers.grammar import (
    GENERAL_USAGE,
    HELP_TEXT,
    OptOutAddCommand,
    OptOutListCommand,
    OptOutRemoveCommand,
)
from tests.handlers.grammar.helpers import BR_MOBILE, parse, refusal

OPTOUT_USAGE = "Usage: /sms optout add PHONE | /sms optout list [page:N] | /sms optout remove PHONE"


@pytest.mark.parametrize(
    "typed",
    [
        f"optout add {BR_MOBILE}",
        "optout add +55 (11) 98765-4321",
        "optout add (11) 98765-4321",
        "opt-out add +55 11 98765-4321  ",
        "descadastrar adicionar +55 11 98765-4321",
        "DESCADASTRAR ADD 11 98765-4321",
    ],
)
def test_a_number_to_add_is_read_as_a_send_reads_it(typed: str) -> None:
    """Any way a send accepts the number, in either language's words, gives its E.164 digits."""
    assert parse(typed) == OptOutAddCommand(BR_MOBILE)


@pytest.mark.parametrize(
    "typed", ["optout remove +55 11 98765-4321", "descadastrar remover (11) 98765-4321"]
)
def test_a_number_to_remove_is_read_the_same_way(typed: str) -> None:
    """The words remove and remover read the number as add does."""
    assert parse(typed) == OptOutRemoveCommand(BR_MOBILE)


def test_the_list_takes_a_page_in_either_language() -> None:
    """The words list and listar show page 1, or the page asked with page: or página:."""
    assert parse("optout list") == OptOutListCommand(1)
    assert parse("descadastrar listar") == OptOutListCommand(1)
    assert parse("optout list page:3") == OptOutListCommand(3)
    assert parse("descadastrar listar página:2") == OptOutListCommand(2)


def test_a_number_in_another_region_is_read_in_the_default_region() -> None:
    """Without a country code the number is read in the region the bot is set to."""
    assert parse("optout add (212) 555-0123", region="US") == OptOutAddCommand("12125550123")


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("optout add 12345", "“12345” is not a phone number I can send to"),
        ("optout add hello", "“hello” is not a phone number I can send to"),
        ("optout add", "Give the phone number to add to the opt-out list."),
        ("optout remove", "Give the phone number to take off the opt-out list."),
        ("optout add +55 11 98765-4321 please", "nothing after it: “please” is too much"),
        ("optout", "Say what to do with the opt-out list: add, list or remove."),
        ("optout drop 5511987654321", "“drop” is not what to do with the opt-out list"),
        ("optout list all", "takes only a page after it, like page:2"),
        ("optout list page:0", "“page:0” must be a page number from 1."),
    ],
)
def test_bad_input_is_told_with_the_usage_line(typed: str, said: str) -> None:
    """Every bad opt-out command gets a sentence saying what is wrong, then the usage line."""
    error = refusal(typed)
    assert said in error.sentence
    assert error.usage == OPTOUT_USAGE


def test_help_and_usage_name_the_opt_out_commands() -> None:
    """The help shows the three commands and the general usage line names the subcommand."""
    for words in ("/sms optout add", "/sms optout list", "/sms optout remove"):
        assert words in HELP_TEXT
    assert "/sms optout add|list|remove" in GENERAL_USAGE
    assert "optout" in refusal("nosuch 5511").sentence
