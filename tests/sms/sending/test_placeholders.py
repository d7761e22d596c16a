"""``{placeholders}`` found in a text and filled per recipient; names matched as headers are."""

from __future__ import annotations

import pytest

from bot.sms.sending.placeholders import PlaceholderText, column_key


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("nome", "nome"),
        ("  Nome ", "nome"),
        ("NOME", "nome"),
        ("Número", "numero"),
        ("ENDEREÇO", "endereco"),
        ("Nome completo", "nome_completo"),
        ("nome-completo", "nome_completo"),
        ("nome__completo", "nome_completo"),
        ("Straße", "strasse"),
    ],
)
def test_column_keys_ignore_case_accents_and_spaces(name: str, key: str) -> None:
    """A header or placeholder is matched by its key: no accents, case folded, separators one _."""
    assert column_key(name) == key


def test_placeholders_are_found_once_each_in_order() -> None:
    """Each placeholder is named once, as first written, in the order it first appears."""
    text = PlaceholderText.of("Oi {Nome}, {cidade} e {nome} de novo; { endereço }")
    assert text.names == ("Nome", "cidade", "endereço")
    assert text.keys == ("nome", "cidade", "endereco")


@pytest.mark.parametrize("text", ["{}", "{ }", "{1}", "{a: b}", "{{", "price {10%}", "no braces"])
def test_other_braces_are_plain_text(text: str) -> None:
    """Braces around anything but a name are text, filled back as written."""
    template = PlaceholderText.of(text)
    assert template.names == ()
    assert template.fill({"a": "x"}) == text


def test_fill_replaces_every_placeholder_by_its_key() -> None:
    """Placeholders written in any case or accents take their column's value."""
    template = PlaceholderText.of("Olá {NOME}, seu pedido em {Endereço} ({nome})")
    filled = template.fill({"nome": "Ana", "endereco": "Rua A, 1"})
    assert filled == "Olá Ana, seu pedido em Rua A, 1 (Ana)"


def test_a_value_that_looks_like_a_placeholder_is_not_filled_again() -> None:
    """A value holding braces is put in as it is, never read for placeholders itself."""
    template = PlaceholderText.of("{a}{b}")
    assert template.fill({"a": "{b}", "b": "x"}) == "{b}x"


def test_missing_names_the_placeholders_no_column_fills() -> None:
    """The placeholders whose key is not among the columns are named as written."""
    template = PlaceholderText.of("{Nome} {CIDADE} {bairro}")
    assert template.missing({"nome", "bairro"}) == ("CIDADE",)
    assert template.missing({"nome", "cidade", "bairro"}) == ()
