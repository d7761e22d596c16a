"""The domain's reading of phone numbers: a whole list item or CSV cell read as one number."""

from __future__ import annotations

import phonenumbers
import pytest

from bot.sms.phones import format_phone, read_number, valid_readings

BR_MOBILE = "5511987654321"


@pytest.mark.parametrize(
    "written",
    ["+55 (11) 98765-4321", "5511987654321", "(11) 98765-4321", "  +55 11 98765 4321  "],
)
def test_a_whole_number_reads_as_its_international_digits(written: str) -> None:
    """A piece of text that is one number reads as its digits, as a single send reads it."""
    assert read_number(written, "BR") == (BR_MOBILE,)


@pytest.mark.parametrize(
    "written", ["", "   ", "Ana", "5511987654321 Ana", "12345", "tel 11 98765-4321"]
)
def test_anything_but_a_whole_number_has_no_reading(written: str) -> None:
    """Words, text after the number, or digits that are no number read as nothing."""
    assert read_number(written, "BR") == ()


def test_bare_digits_naming_two_numbers_give_both_readings() -> None:
    """``51 98765-4321`` (Peru, or Porto Alegre?) gives both readings for the caller to refuse."""
    assert read_number("51 98765-4321", "BR") == ("51987654321", "5551987654321")


def test_the_default_region_reads_national_numbers() -> None:
    """A national number is read in the region given, not always Brazil."""
    assert valid_readings("(202) 555-0143", "us") == ("12025550143",)
    assert read_number("(202) 555-0143", "BR") == ()


def test_more_pieces_than_a_number_has_are_not_read() -> None:
    """A run of more than ten number-looking pieces is no number (bounds the work)."""
    assert read_number(" ".join(["1"] * 11), "BR") == ()


def test_format_phone_shows_digits_as_people_read_them() -> None:
    """Stored digits are shown in international form; digits that do not parse keep a +."""
    assert format_phone(BR_MOBILE) == "+55 11 98765-4321"
    assert format_phone("999") == "+999"


def test_a_number_read_again_is_not_parsed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """A command's number, read, checked and shown, is parsed by phonenumbers once each way."""
    parsed: list[str] = []
    real_parse = phonenumbers.parse

    def counting_parse(number: str, region: str | None = None) -> phonenumbers.PhoneNumber:
        parsed.append(number)
        return real_parse(number, region)

    monkeypatch.setattr(phonenumbers, "parse", counting_parse)
    valid_readings.cache_clear()
    format_phone.cache_clear()
    unusual = "+55 11 98765-4399"
    first = valid_readings(unusual, "BR")
    assert first == ("5511987654399",)
    reads = len(parsed)
    assert reads >= 1
    assert valid_readings(unusual, "BR") == first
    shown = format_phone("5511987654399")
    after_show = len(parsed)
    assert format_phone("5511987654399") == shown == "+55 11 98765-4399"
    assert len(parsed) == after_show == reads + 1
