"""The /sms send grammar for a list of numbers: where the list ends and the text begins."""

from __future__ import annotations

import pytest

from handlers.grammar import USAGE, SendCommand
from handlers.grammar.commands import SendManyCommand
from tests.handlers.grammar.helpers import BR_MOBILE, parse, refusal

OTHER = "5511912345678"


def many(text: str) -> SendManyCommand:
    """Parse ``text`` and insist it is a send to many."""
    command = parse(text)
    assert isinstance(command, SendManyCommand)
    return command


def test_the_issue_example_is_two_numbers_and_the_text() -> None:
    """`+55 11 98765-4321, 5511912345678 Olá a todos`: both numbers as typed, then the text."""
    command = many("send +55 11 98765-4321, 5511912345678 Olá a todos")
    assert command.recipients == ("+55 11 98765-4321", OTHER)
    assert command.text == "Olá a todos"
    assert command.typed == "+55 11 98765-4321, 5511912345678"


@pytest.mark.parametrize(
    ("typed", "recipients"),
    [
        ("+55 (11) 98765-4321,(11) 91234-5678", ("+55 (11) 98765-4321", "(11) 91234-5678")),
        ("+55.11.98765.4321 ,  +5511912345678", ("+55.11.98765.4321", "+5511912345678")),
        ("5511987654321,5511912345678,5511912340000", (BR_MOBILE, OTHER, "5511912340000")),
        ("55 11   98765-4321,\n5511912345678", ("55 11 98765-4321", OTHER)),
    ],
)
def test_numbers_with_spaces_dashes_parentheses_and_plus(
    typed: str, recipients: tuple[str, ...]
) -> None:
    """Every way a number is written stays one item; spaces inside an item are made single."""
    command = many(f"send {typed} Hello")
    assert (command.recipients, command.text) == (recipients, "Hello")


def test_commas_in_the_text_stay_in_the_text() -> None:
    """The text after the last number keeps its commas and starts where the number ends."""
    command = many(f"send {BR_MOBILE}, {OTHER} Olá, Ana, tudo bem?")
    assert command.text == "Olá, Ana, tudo bem?"


def test_a_text_starting_with_digits_and_a_comma_is_text() -> None:
    """`… 5511912345678 100, 200 units`: the last number ends before 100, not a third item."""
    command = many(f"send {BR_MOBILE}, {OTHER} 100, 200 units")
    assert command.recipients == (BR_MOBILE, OTHER)
    assert command.text == "100, 200 units"


def test_every_option_applies_to_the_list() -> None:
    """Options before the list are read as for one number, the text spelt without accents."""
    command = many(
        f'send --from MyShop --validity 120 --flash --name "Promo" --gsm {BR_MOBILE}, {OTHER} '
        "Promoção hoje"
    )
    assert command == SendManyCommand(
        recipients=(BR_MOBILE, OTHER),
        text="Promocao hoje",
        sender="MyShop",
        validity=120,
        flash=True,
        name="Promo",
    )


def test_portuguese_words_read_a_list_too() -> None:
    """`enviar --de Loja a, b texto` is the same send to many."""
    command = many(f"enviar --de Loja {BR_MOBILE}, {OTHER} Oi")
    assert (command.recipients, command.sender, command.text) == ((BR_MOBILE, OTHER), "Loja", "Oi")


@pytest.mark.parametrize(
    "typed",
    [
        f"send {BR_MOBILE} Olá, tudo bem?",
        f"send {BR_MOBILE} 100, 200 units",
        f"send {BR_MOBILE} , then a comma",
        f"send +55 11 98765-4321 Hi {OTHER}, and you",
    ],
)
def test_one_number_stays_a_single_send_as_before(typed: str) -> None:
    """One number, whatever commas the text holds, is the single send it always was."""
    command = parse(typed)
    assert isinstance(command, SendCommand)
    assert command.recipient == BR_MOBILE


def test_one_number_and_a_comma_is_refused_as_before() -> None:
    """`5511987654321, Olá` is no list: refused as it always was, nothing guessed."""
    error = refusal(f"send {BR_MOBILE}, Olá")
    assert "is not a phone number" in error.sentence
    assert error.usage == USAGE["send"]


def test_an_item_that_is_no_number_stays_to_be_left_out() -> None:
    """`123` between two numbers is an item: the campaign leaves it out, by its row."""
    command = many(f"send {BR_MOBILE}, 123, {OTHER} Hi")
    assert command.recipients == (BR_MOBILE, "123", OTHER)


def test_an_empty_item_is_dropped() -> None:
    """`a,, b` and `a, , b`: blanks between commas are not items."""
    assert many(f"send {BR_MOBILE},, {OTHER} Hi").recipients == (BR_MOBILE, OTHER)
    assert many(f"send {BR_MOBILE}, , {OTHER} Hi").recipients == (BR_MOBILE, OTHER)


def test_a_trailing_comma_ends_the_list_before_a_word() -> None:
    """`a, b, Olá, Ana`: the list ended with a comma, and the text is all that follows it."""
    command = many(f"send {BR_MOBILE}, {OTHER}, Olá, Ana")
    assert command.recipients == (BR_MOBILE, OTHER)
    assert command.text == "Olá, Ana"


def test_a_trailing_comma_before_digits_is_refused() -> None:
    """`a, b, 100 units`: 100 could be a number typed wrong; refused, saying so, not sent as text."""
    error = refusal(f"send {BR_MOBILE}, {OTHER}, 100 units")
    assert error.sentence.startswith("“100” is not a phone number I can send to;")
    assert error.sentence.endswith("If that is the text, remove the comma before it.")
    assert error.usage == USAGE["send"]


@pytest.mark.parametrize("typo", ["551198765OO12", "+5511987650O12", "(11)98765-OO12"])
def test_a_number_mistyped_with_letters_after_the_list_is_refused(typo: str) -> None:
    """`a, b, 551198765OO12, c Hi`: the mistyped number (and c) never become the SMS's text."""
    error = refusal(f"send {BR_MOBILE}, {OTHER}, {typo}, 5511987650003 Hi")
    assert error.sentence.startswith(f"“{typo}")
    assert error.sentence.endswith("If that is the text, remove the comma before it.")


def test_a_word_with_digits_after_the_list_is_still_text() -> None:
    """`a, b, Pedido#12345678 pronto`: a word that does not start as a number is the text."""
    command = many(f"send {BR_MOBILE}, {OTHER}, Pedido#12345678 pronto")
    assert command.recipients == (BR_MOBILE, OTHER)
    assert command.text == "Pedido#12345678 pronto"


@pytest.mark.parametrize("typed", [f"send {BR_MOBILE}, {OTHER}", f"send {BR_MOBILE}, {OTHER},"])
def test_a_list_without_text_is_refused(typed: str) -> None:
    """A list with nothing after it asks for the text, naming the last number."""
    error = refusal(typed)
    assert error.sentence == f"Give the text to send after the number {OTHER}."
    assert error.usage == USAGE["send"]


def test_an_ambiguous_last_number_is_refused() -> None:
    """The last number is read as one number is: two readings are refused, not guessed."""
    error = refusal(f"send {BR_MOBILE}, 51 98765-4321 Oi")
    assert "could be" in error.sentence


def test_an_ambiguous_item_before_a_comma_is_kept_to_be_left_out() -> None:
    """An item with two readings is an item: the campaign leaves it out as ambiguous."""
    command = many(f"send 51 98765-4321, {OTHER} Oi")
    assert command.recipients == ("51 98765-4321", OTHER)


def test_one_number_a_spaced_comma_and_digits_is_still_the_text() -> None:
    """`5511987654321 , 100 units` was always the text `, 100 units`: it stays so."""
    command = parse(f"send {BR_MOBILE} , 100 units")
    assert isinstance(command, SendCommand)
    assert command.text == ", 100 units"
