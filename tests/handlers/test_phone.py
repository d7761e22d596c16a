"""Phone numbers as people paste them, turned into the international digits Mobizon wants."""

from __future__ import annotations

import pytest

from handlers.phone import EXAMPLE_NUMBER, PhoneNumberError, format_phone, parse_phone

BR_MOBILE = "5511987654321"


@pytest.mark.parametrize(
    "written",
    [
        "+55 (11) 98765-4321",
        "5511987654321",
        "(11) 98765-4321",
        "+55 11 98765-4321",
        "+5511987654321",
        "+55 11 98765 4321",
        "55 (11) 98765-4321",
        "11 98765-4321",
        "011 98765-4321",
        "(11)98765-4321",
        "+55.11.98765.4321",
    ],
)
def test_number_forms_become_international_digits(written: str) -> None:
    """Every way people write a São Paulo mobile becomes 5511987654321 (default region BR)."""
    digits, end = parse_phone(f"{written} hello", "BR")
    assert digits == BR_MOBILE
    assert f"{written} hello"[end:] == " hello"


def test_number_ends_before_a_number_in_the_text() -> None:
    """In "+55 11 98765-4321 100 units ready" the number ends before 100."""
    text = "+55 11 98765-4321 100 units ready"
    digits, end = parse_phone(text, "BR")
    assert digits == BR_MOBILE
    assert text[end:] == " 100 units ready"


def test_digits_after_a_variable_length_number_are_not_guessed_into_it() -> None:
    """A spaced number whose prefix is valid too (+49 30 1234567 8 Uhr) is refused naming both."""
    with pytest.raises(PhoneNumberError) as caught:
        parse_phone("+49 30 1234567 8 Uhr morgen", "BR")
    assert "+493012345678" in str(caught.value)
    assert "+49301234567 with the text starting “8”" in str(caught.value)
    assert "without spaces" in str(caught.value)


def test_a_number_written_in_one_piece_ends_there() -> None:
    """A number in one piece (+493012345678 8 Uhr) ends there; the text starts with 8."""
    text = "+493012345678 8 Uhr"
    digits, end = parse_phone(text, "BR")
    assert digits == "493012345678"
    assert text[end:] == " 8 Uhr"


def test_national_number_ends_before_a_number_in_the_text() -> None:
    """A national number followed by digits keeps the digits in the text."""
    text = "(11) 98765-4321 2 boxes, 30 kg"
    digits, end = parse_phone(text, "BR")
    assert digits == BR_MOBILE
    assert text[end:] == " 2 boxes, 30 kg"


@pytest.mark.parametrize("space", [" ", "  ", "\t", "\u00a0", "\u2003", "\n", " \t "])
def test_the_text_starts_just_past_the_number_whatever_the_spaces(space: str) -> None:
    """Pieces split by tabs, no-break or em spaces: the offset is just past the number's end."""
    text = f"{space}+55{space}11{space}98765-4321{space}11 units{space}ready"
    digits, end = parse_phone(text, "BR")
    assert digits == BR_MOBILE
    assert text[end:] == f"{space}11 units{space}ready"


def test_tokens_in_count_of_tokens_out() -> None:
    """Given tokens, parse_phone says how many of them the number used."""
    assert parse_phone(["+55", "11", "98765-4321", "100", "units"], "BR") == (BR_MOBILE, 3)
    assert parse_phone(["5511987654321", "hi"], "BR") == (BR_MOBILE, 1)


def test_default_region_reads_national_numbers() -> None:
    """A number without a country code is read in the default region given."""
    assert parse_phone("(650) 253-0000 hi", "US")[0] == "16502530000"
    assert parse_phone("(650) 253-0000 hi", "us")[0] == "16502530000"
    assert parse_phone("+1 650 253 0000 hi", "BR")[0] == "16502530000"


def test_foreign_number_with_plus_is_kept() -> None:
    """A number with + and another country code is sent to that country."""
    assert parse_phone("+51 987 654 321 hola", "BR")[0] == "51987654321"


@pytest.mark.parametrize(
    ("written", "readings"),
    [
        ("51 98765-4321", ("+51 987 654 321", "+55 51 98765-4321")),
        ("81987654321", ("+81 987-65-4321", "+55 81 98765-4321")),
        ("49 3456-7890", ("+49 345 67890", "+55 49 3456-7890")),
    ],
)
def test_ambiguous_bare_digits_are_refused(written: str, readings: tuple[str, str]) -> None:
    """Bare digits valid both abroad and in the default region are refused, naming both readings."""
    with pytest.raises(PhoneNumberError) as caught:
        parse_phone(f"{written} hi", "BR")
    sentence = caught.value.sentence
    assert all(reading in sentence for reading in readings)
    assert written in sentence
    assert sentence.endswith(".")


def test_parentheses_or_plus_settle_the_ambiguity() -> None:
    """The area code in parentheses, a trunk 0 or a + makes an ambiguous number clear."""
    assert parse_phone("(51) 98765-4321 oi", "BR")[0] == "5551987654321"
    assert parse_phone("051 98765-4321 oi", "BR")[0] == "5551987654321"
    assert parse_phone("+55 51 98765-4321 oi", "BR")[0] == "5551987654321"
    assert parse_phone("+51 98765-4321 oi", "BR")[0] == "51987654321"


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("123 hi", "“123”"),
        ("98765-4321 hi", "“98765-4321”"),
        ("abc hi", "“abc”"),
        ("+55 11 1234 hi", "“+55 11 1234”"),
        ("+999 1234567 hi", "“+999 1234567”"),
        ("(11) hi", "“(11)”"),
        ("5511987654321x hi", "“5511987654321x”"),
    ],
)
def test_invalid_numbers_are_refused_with_a_sentence(text: str, quoted: str) -> None:
    """A text that does not start with a valid number is refused, quoting what was typed."""
    with pytest.raises(PhoneNumberError) as caught:
        parse_phone(text, "BR")
    sentence = caught.value.sentence
    assert quoted in sentence
    assert EXAMPLE_NUMBER in sentence
    assert sentence.endswith(".")
    assert str(caught.value) == sentence


def test_missing_number_is_refused() -> None:
    """An empty text asks for a phone number."""
    with pytest.raises(PhoneNumberError, match="Give a phone number"):
        parse_phone("   ", "BR")
    with pytest.raises(PhoneNumberError, match="Give a phone number"):
        parse_phone([], "BR")


def test_long_typed_text_is_shortened_in_the_sentence() -> None:
    """The sentence quotes at most 40 characters of a long bad number."""
    with pytest.raises(PhoneNumberError) as caught:
        parse_phone("1-" * 60 + " hi", "BR")
    assert "…" in caught.value.sentence
    assert len(caught.value.sentence) < 200


def test_format_phone_for_reading() -> None:
    """Stored digits are shown in international format, and odd digits as + and the digits."""
    assert format_phone(BR_MOBILE) == "+55 11 98765-4321"
    assert format_phone("16502530000") == "+1 650-253-0000"
    assert format_phone("") == "+"
    assert format_phone("12") == "+12"
