"""Encoding and segment estimates: GSM-7 (160/153) and UCS-2 (70/67), and the 10-segment limit."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sms.sending.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    MAX_SEGMENTS,
    SegmentInfo,
    TooLongError,
    check_length,
    count_segments,
    counted_by_character,
)
from handlers.grammar.send import too_long

EMOJI = "\U0001f600"


def test_gsm7_tables_have_the_standard_sizes() -> None:
    """The basic table holds 127 characters (128 less ESC) and the extension table 10."""
    assert len(GSM7_BASIC) == 127
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION
    assert "\x1b" not in GSM7_BASIC


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Hello, world! 123", "GSM-7"),
        ("Preço: R$ 10", "UCS-2"),  # ç is not in GSM 03.38 (only Ç is)
        ("Çà èé ùì ò ÄÖÑÜ äöñü ß ÆæØøÅå", "GSM-7"),
        ("ΔΦΓΛΩΠΨΣΘΞ @£$¥ ¡¿ §¤", "GSM-7"),
        ("line\nbreak\r", "GSM-7"),
        ("{[~]}^|\\€", "GSM-7"),
        ("não", "UCS-2"),
        (f"hi {EMOJI}", "UCS-2"),
        ("Привет", "UCS-2"),
        ("`backtick`", "UCS-2"),
        ("tab\there", "UCS-2"),
    ],
)
def test_encoding_detection(text: str, encoding: str) -> None:
    """A text is GSM-7 only when every character is in the GSM 03.38 tables, else UCS-2."""
    assert count_segments(text).encoding == encoding


def test_extension_characters_count_double() -> None:
    """Each GSM-7 extension character takes two septets."""
    assert count_segments("a€b").length == 4
    assert count_segments("{}[]").length == 8
    assert count_segments("abc").length == 3


def test_emoji_counts_two_ucs2_units() -> None:
    """An emoji outside the BMP takes two UTF-16 code units; a BMP character takes one."""
    assert count_segments(EMOJI).length == 2
    assert count_segments("ção").length == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SegmentInfo("GSM-7", 0, 0)),
        ("a", SegmentInfo("GSM-7", 1, 1)),
        ("a" * 160, SegmentInfo("GSM-7", 160, 1)),
        ("a" * 161, SegmentInfo("GSM-7", 161, 2)),
        ("a" * 306, SegmentInfo("GSM-7", 306, 2)),
        ("a" * 307, SegmentInfo("GSM-7", 307, 3)),
        ("a" * 1530, SegmentInfo("GSM-7", 1530, 10)),
        ("a" * 1531, SegmentInfo("GSM-7", 1531, 11)),
        ("€" * 80, SegmentInfo("GSM-7", 160, 1)),
        ("€" * 81, SegmentInfo("GSM-7", 162, 2)),
        ("a" * 159 + "€", SegmentInfo("GSM-7", 161, 2)),
        ("ç" * 70, SegmentInfo("UCS-2", 70, 1)),
        ("ç" * 71, SegmentInfo("UCS-2", 71, 2)),
        ("ç" * 134, SegmentInfo("UCS-2", 134, 2)),
        ("ç" * 135, SegmentInfo("UCS-2", 135, 3)),
        ("ç" * 670, SegmentInfo("UCS-2", 670, 10)),
        ("ç" * 671, SegmentInfo("UCS-2", 671, 11)),
        (EMOJI * 35, SegmentInfo("UCS-2", 70, 1)),
        (EMOJI * 36, SegmentInfo("UCS-2", 72, 2)),
    ],
)
def test_segment_counts_at_the_boundaries(text: str, expected: SegmentInfo) -> None:
    """160/153 septets for GSM-7 and 70/67 units for UCS-2, exactly at each boundary."""
    assert count_segments(text) == expected


def test_extension_character_never_straddles_two_parts() -> None:
    """An ESC pair that would straddle a part boundary moves whole to the next part."""
    # 306 septets would fit two parts of 153, but the € at septets 153-154 cannot be split.
    text = "a" * 152 + "€" + "a" * 152
    assert count_segments(text) == SegmentInfo("GSM-7", 306, 3)
    assert count_segments("a" * 151 + "€" + "a" * 153) == SegmentInfo("GSM-7", 306, 2)


def test_emoji_never_straddles_two_parts() -> None:
    """A surrogate pair that would straddle a UCS-2 part boundary moves whole to the next part."""
    text = "ç" * 66 + EMOJI + "ç" * 66
    assert count_segments(text) == SegmentInfo("UCS-2", 134, 3)
    assert count_segments("ç" * 65 + EMOJI + "ç" * 67) == SegmentInfo("UCS-2", 134, 2)


def test_ten_segments_pass_the_check() -> None:
    """check_length lets a text of exactly 10 segments through and returns its estimate."""
    assert check_length("a" * 1530) == SegmentInfo("GSM-7", 1530, MAX_SEGMENTS)
    assert check_length("ç" * 670).segments == MAX_SEGMENTS


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        (
            "a" * 1531,
            "The text is 11 SMS segments long (1,531 GSM-7 characters); the limit is 10.",
        ),
        (
            "ç" * 671,
            "The text is 11 SMS segments long (671 UCS-2 characters); the limit is 10.",
        ),
        (
            "€" * 766,
            "The text is 11 SMS segments long (1,532 GSM-7 characters); the limit is 10.",
        ),
        (
            EMOJI * 1000,
            "The text is 31 SMS segments long (2,000 UCS-2 characters); the limit is 10.",
        ),
    ],
)
def test_more_than_ten_segments_is_refused_naming_the_count(text: str, sentence: str) -> None:
    """A text over 10 segments raises TooLongError with its count, worded naming the count."""
    with pytest.raises(TooLongError) as caught:
        check_length(text)
    assert too_long(caught.value) == sentence
    assert caught.value.info == count_segments(text)
    assert caught.value.limit == 10


#: Characters of every kind the count tells apart: GSM-7's basic table and its extension, other
#: characters of the Basic Multilingual Plane, characters beyond it, and a line break.
_KINDS = st.sampled_from(
    ["a", "é", "\n", "{", "€", "^", "ç", "ã", "Ω", "ę", "世", EMOJI, "\U00010348"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_KINDS, max_size=400).map("".join))
def test_the_shortcuts_count_as_character_by_character(text: str) -> None:
    """Whatever the mix and length, the count equals the one made character by character."""
    assert count_segments(text) == counted_by_character(text)
