"""``/sms send --gsm``: the text sent in its GSM-7 spelling, only when the person asks for it."""

from __future__ import annotations

import pytest

from handlers.grammar import USAGE
from handlers.i18n import use_locale
from tests.handlers.grammar.helpers import BR_MOBILE, EMOJI, refusal, send


def test_gsm_sends_the_text_without_accents() -> None:
    """``--gsm`` replaces the text by its GSM-7 spelling: accents GSM-7 lacks, quotes, dashes."""
    command = send(f"send --gsm {BR_MOBILE} Olá “João” — até já…")
    assert command.text == 'Ola "Joao" - até ja...'
    assert command.recipient == BR_MOBILE


def test_without_gsm_the_text_is_kept_as_typed() -> None:
    """Nothing is changed unless asked: the same text without ``--gsm`` keeps every accent."""
    assert send(f"send {BR_MOBILE} Olá “João” — até já…").text == "Olá “João” — até já…"


def test_a_gsm7_text_is_sent_as_is() -> None:
    """A text GSM-7 already holds is sent unchanged under ``--gsm``."""
    text = "Your order is ready: café {A17}\n  see you"
    assert send(f"send --gsm {BR_MOBILE} {text}").text == text


@pytest.mark.parametrize("typed", ["--sem-acentos", "\u2014gsm", "--GSM", "--Sem-Acentos"])
def test_every_spelling_of_the_option(typed: str) -> None:
    """The Portuguese word, an autocorrected dash and any case all mean ``--gsm``."""
    assert send(f"send {typed} {BR_MOBILE} ação").text == "acao"


def test_gsm_combines_with_other_options() -> None:
    """``--gsm`` sits among the other options in any order."""
    command = send(f"send --flash --gsm --name Verão {BR_MOBILE} Promoção")
    assert (command.text, command.flash, command.name) == ("Promocao", True, "Verão")


def test_a_text_with_no_gsm7_spelling_is_refused_with_the_character() -> None:
    """An emoji has no plain form: the refusal names it and its code, with the usage line."""
    error = refusal(f"send --gsm {BR_MOBILE} Olá {EMOJI}")
    assert error.sentence == (
        f"“--gsm” cannot send this text without accents: “{EMOJI}” (U+1F600) has no plain form "
        "an SMS of 160 characters can carry. Remove it, or leave out “--gsm”."
    )
    assert error.usage == USAGE["send"]
    assert "[--gsm]" in error.usage


def test_the_refusal_names_the_option_as_typed_in_portuguese() -> None:
    """A Portuguese reader who typed ``--sem-acentos`` reads it back, in Portuguese."""
    with use_locale("pt_BR"):
        error = refusal(f"enviar --sem-acentos {BR_MOBILE} 中文")
        assert "“--sem-acentos”" in error.sentence
        assert "“中”" in error.sentence
        assert error.sentence.startswith("“--sem-acentos” não")


def test_gsm_takes_no_value() -> None:
    """``--gsm=yes`` is refused as a flag given a value."""
    assert refusal(f"send --gsm=yes {BR_MOBILE} hi").sentence == "“--gsm” takes no value."


def test_a_control_character_is_left_for_the_send_service() -> None:
    """A NUL is no reason to refuse ``--gsm`` here: the text goes on, for the send rule to refuse."""
    assert send(f"send --gsm {BR_MOBILE} ação\x00").text == "ação\x00"
