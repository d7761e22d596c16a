"""The Previous/Next buttons' value: the page and the search as typed, parsed again."""

from __future__ import annotations

from dataclasses import replace

import pytest

from handlers.grammar import (
    USAGE,
    FindCommand,
    UsageError,
    find_button_value,
    parse_find_button,
)
from handlers.grammar.find import BUTTON_VALUE_LIMIT, MAX_FIND_TEXT
from tests.handlers.grammar.helpers import find, parse, refusal


def test_button_value_is_the_page_and_the_search_as_typed() -> None:
    """The value is the page, a space, then the search exactly as typed (unescaped, stripped)."""
    command = parse('find  to:5511   text:"a &amp; b"  page:2 ')
    assert isinstance(command, FindCommand)
    assert command.source == 'to:5511   text:"a & b"  page:2'
    assert find_button_value(command, 3) == '3 to:5511   text:"a & b"  page:2'


def test_a_button_gives_back_the_search_at_its_page() -> None:
    """Parsing a button value gives the same search, every field, at the button's page."""
    command = find(
        'find to:5511 from:Shop text:"caf\u00e9 & \u201cbar\u201d" status:DELIVRD campaign:1,2 '
        "group:g1 sent-after:2026-01-01 sent-before:2026-01-31 updated-after:2026-02-01 "
        'updated-before:"2026-02-02 10:30" page:4 size:50 sort:-segments'
    )
    for page in (1, 3, 5, 999999, 1000001):
        value = find_button_value(command, page)
        assert parse_find_button(value) == replace(command, page=page)
        assert len(value) <= BUTTON_VALUE_LIMIT
    assert parse_find_button(find_button_value(find("find"), 2)) == FindCommand(page=2)


def test_a_button_keeps_its_search_text_for_the_next_button() -> None:
    """The search a button gives back carries its text, so the next page's buttons work too."""
    command = find("find status:new sort:sent")
    moved = parse_find_button(find_button_value(command, 2))
    assert moved.source == command.source
    assert parse_find_button(find_button_value(moved, 3)) == replace(command, page=3)


def test_the_longest_search_fits_a_button_at_any_page() -> None:
    """A search of the longest length allowed fits Slack's button value at a 15-digit page."""
    command = find("find text:" + "x" * (MAX_FIND_TEXT - len("text:")))
    value = find_button_value(command, 10**15 - 1)
    assert len(value) == BUTTON_VALUE_LIMIT
    assert parse_find_button(value) == replace(command, page=10**15 - 1)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "1",
        "not a button",
        " to:5511",
        "0 to:5511",
        "-1 to:5511",
        "1.5 to:5511",
        "\u0661 to:5511",  # an Arabic-Indic digit is not a page
        "1000000000000000 to:5511",  # past the page budget of the value
        "2 to:",  # a search the grammar refuses
        "2 bogus:1",
        '2 text:"never closed',
        "2 text:" + "x" * 2000,  # longer than a button can carry
        '{"v":1,"c":{},"p":1,"n":25,"s":"-startSendTs"}',  # the former JSON value
        "x" * 10000,
    ],
)
def test_parse_find_button_refuses_what_it_did_not_make(value: str) -> None:
    """An old, altered or foreign button value is refused with a sentence and the find usage."""
    with pytest.raises(UsageError) as caught:
        parse_find_button(value)
    assert "run /sms find again" in caught.value.sentence
    assert caught.value.usage == USAGE["find"]


def test_find_too_long_for_a_button_is_refused() -> None:
    """A search whose button value would exceed Slack's limit is refused up front."""
    error = refusal("find text:" + "x" * 2000)
    assert error.sentence == "The search is too long; shorten its values."
    assert error.usage == USAGE["find"]
    assert isinstance(parse("find text:" + "x" * (MAX_FIND_TEXT - len("text:"))), FindCommand)
    too_long = refusal("find text:" + "x" * (MAX_FIND_TEXT - len("text:") + 1))
    assert too_long.sentence == "The search is too long; shorten its values."
