"""One list of languages: every catalogue has its words, and every table of words its catalogue."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from bot.console import modal as console_modal
from handlers import i18n
from handlers.grammar import words
from handlers.grammar.words import DAY_FIRST_LANGUAGES, Words


def word_tables() -> dict[str, Words]:
    """Every table of words: the ``/sms`` grammar's and the console's, by name."""
    found = {name: value for name, value in vars(words).items() if isinstance(value, Words)}
    return {**found, "CONSOLE_WORDS": console_modal.CONSOLE_WORDS}


def mismatches(locales: Iterable[str], tables: dict[str, Words]) -> set[tuple[str, str]]:
    """(table, language) pairs where a catalogue's language has no words, or words no catalogue.

    Tables name languages (``pt``), the catalogue locales (``pt_BR``).
    """
    languages = {locale.split("_", 1)[0] for locale in locales}
    return {
        (name, language)
        for name, table in tables.items()
        for language in languages.symmetric_difference(table.spellings)
    }


def test_every_catalogue_has_its_word_tables_and_every_table_its_catalogue() -> None:
    """Each language smsbot speaks (its catalogues) has words in every table, and no other does."""
    tables = word_tables()
    assert {"SUBCOMMANDS", "SEND_OPTIONS", "FIND_FIELDS", "CONSOLE_WORDS"} <= tables.keys()
    assert mismatches(i18n.LANGUAGES, tables) == set()
    assert {locale.split("_", 1)[0] for locale in i18n.LANGUAGES} >= DAY_FIRST_LANGUAGES


def test_a_catalogue_without_words_is_caught(tmp_path: Path) -> None:
    """A new catalogue (de) without its words, or words for a language without one, is named."""
    root = tmp_path
    for locale in ("pt_BR", "de"):
        target = root / locale / "LC_MESSAGES"
        target.mkdir(parents=True)
        with (target / f"{i18n.DOMAIN}.mo").open("wb") as handle:
            write_mo(handle, Catalog(locale=locale, domain=i18n.DOMAIN))
    locales = i18n.available_locales(root)
    assert locales == ("de", "en", "pt_BR")
    tables = {"SUBCOMMANDS": words.SUBCOMMANDS}
    assert mismatches(locales, tables) == {("SUBCOMMANDS", "de")}
    assert mismatches(("en",), tables) == {("SUBCOMMANDS", "pt")}
