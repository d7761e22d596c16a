"""The example commands of the README and of the help parse, in every language they are read in."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from handlers.grammar import USAGE, AnyCommand, general_usage, help_text, usage_line
from handlers.grammar.words import SEND_OPTIONS, SUBCOMMANDS, TEMPLATE_ACTIONS
from handlers.i18n import DEFAULT_LOCALE, I18n, use_locale
from tests.handlers.grammar.helpers import parse

README = Path(__file__).parents[3] / "README.md"
#: The README's readers are English or Brazilian; every locale with a catalogue reads the help.
LOCALES = sorted({DEFAULT_LOCALE, "pt_BR", *I18n().available})
# A usage line's or syntax line's placeholders: not an example to run.
_SYNTAX = re.compile(r"\[|…|\||\b(?:PHONE|TEXT|NAME|ID|SENDER|TELEFONE|TEXTO|NOME)\b")
_CODE_BLOCK = re.compile(r"```[a-z]*\n(.*?)```", re.DOTALL)
_INLINE = re.compile(r"`(/sms(?: [^`]*)?)`")


def _examples(text: str, *, blocks: bool) -> list[str]:
    """The ``/sms …`` commands written in ``text``, in code blocks and inline code."""
    lines = [
        line.strip()
        for block in (_CODE_BLOCK.findall(text) if blocks else [])
        for line in block.splitlines()
        if line.strip().startswith("/sms")
    ]
    found = lines + [e for e in _INLINE.findall(text) if not _names_a_command(e)]
    return [e for e in dict.fromkeys(found) if e != "/sms" and not _SYNTAX.search(e)]


def _names_a_command(mention: str) -> bool:
    """Tell whether inline ``/sms send`` or ``/sms send --template`` names a command (no example)."""
    return all(
        SUBCOMMANDS.meaning(word) or SEND_OPTIONS.meaning(word.removeprefix("--"))
        for word in mention.split()[1:]
    )


def _parses(example: str) -> AnyCommand:
    """Parse an example as Slack would send it after ``/sms``."""
    return parse(example.removeprefix("/sms").strip())


README_EXAMPLES = _examples(README.read_text(encoding="utf-8"), blocks=True)


def test_the_readme_has_examples_in_both_languages() -> None:
    """The README shows examples with English words and with Portuguese ones."""
    assert "/sms send +55 11 98765-4321 Your order is ready" in README_EXAMPLES
    assert any(e.startswith("/sms enviar") for e in README_EXAMPLES)
    assert any(e.startswith("/sms buscar") for e in README_EXAMPLES)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("example", README_EXAMPLES)
def test_every_readme_example_parses(locale: str, example: str) -> None:
    """Each README example is a valid command whatever the reader's language."""
    with use_locale(locale):
        _parses(example)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_help_example_parses_in_its_language(locale: str) -> None:
    """Each example of the help, in each language's help, is a command the grammar accepts."""
    with use_locale(locale):
        examples = _examples(help_text(), blocks=False)
        assert len(examples) >= 10
        for example in examples:
            _parses(example)


@pytest.mark.parametrize("locale", LOCALES)
def test_usage_lines_use_words_the_grammar_knows(locale: str) -> None:
    """In each language the usage lines name subcommands, template actions and options it reads."""
    with use_locale(locale):
        lines = [usage_line(command) for command in USAGE] + [general_usage()]
    for line in lines:
        for subcommand in re.findall(r"/sms (\w+)", line):
            assert SUBCOMMANDS.meaning(subcommand) is not None, (subcommand, line)
        for option in re.findall(r"--([\w-]+)", line):
            assert SEND_OPTIONS.meaning(option) is not None, (option, line)
        for actions in re.findall(r"/sms \w+ (\w+(?:\|\w+)+)", line):
            for action in actions.split("|"):
                assert TEMPLATE_ACTIONS.meaning(action) is not None, (action, line)
