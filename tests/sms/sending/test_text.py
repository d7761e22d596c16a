"""The rule every SMS text meets: no control character but line breaks and tab (pure)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sms.sending.segments import MAX_SEGMENTS, TooLongError, count_segments, max_length
from bot.sms.sending.text import ControlCharacter, ControlCharacterError, check_text, find_control


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("\x00", ControlCharacter("\x00", 1)),
        ("Hi\x07 there", ControlCharacter("\x07", 3)),
        ("escape \x1b[31m", ControlCharacter("\x1b", 8)),
        ("delete\x7f", ControlCharacter("\x7f", 7)),
        ("C1 \x85 next line", ControlCharacter("\x85", 4)),
        ("lone \ud800 surrogate", ControlCharacter("\ud800", 6)),
        ("vertical\x0btab", ControlCharacter("\x0b", 9)),
    ],
)
def test_control_characters_are_found_with_their_place(text: str, found: ControlCharacter) -> None:
    """The first control character is found, with its position counted from 1."""
    assert find_control(text) == found
    with pytest.raises(ControlCharacterError) as caught:
        check_text(text)
    assert caught.value.found == found


@pytest.mark.parametrize(
    "text",
    ["line one\nline two", "windows\r\nline", "a\ttab", "emoji 👩\u200d💻 joined", "Olá, ação"],
)
def test_line_breaks_tabs_and_format_characters_pass(text: str) -> None:
    """Newline, CR, tab and format characters such as the emoji joiner are text an SMS carries."""
    assert find_control(text) is None
    assert check_text(text) == count_segments(text)


def test_the_code_reads_as_unicode() -> None:
    """A control character is named as U+XXXX, never shown raw."""
    assert ControlCharacter("\x00", 1).code == "U+0000"
    assert ControlCharacter("\x85", 1).code == "U+0085"


def test_a_control_character_is_told_before_the_length() -> None:
    """A text both too long and holding a control character is refused for the character."""
    with pytest.raises(ControlCharacterError):
        check_text("x" * 5000 + "\x00")
    with pytest.raises(TooLongError):
        check_text("x" * 5000)


def test_the_longest_text_of_each_encoding_fits_the_limit() -> None:
    """max_length is the longest text of plain characters that still fits MAX_SEGMENTS."""
    for char, encoding in (("a", "GSM-7"), ("ã", "UCS-2")):
        longest = max_length(encoding)  # type: ignore[arg-type]
        assert count_segments(char * longest).segments == MAX_SEGMENTS
        assert count_segments(char * (longest + 1)).segments == MAX_SEGMENTS + 1


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_the_printable_shortcut_finds_what_a_look_at_each_character_finds(text: str) -> None:
    """Any text: the control character or surrogate found is the first its category names."""
    first = next(
        (
            ControlCharacter(char, position)
            for position, char in enumerate(text, start=1)
            if char not in "\n\r\t" and unicodedata.category(char) in {"Cc", "Cs"}
        ),
        None,
    )
    assert find_control(text) == first
