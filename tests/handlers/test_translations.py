"""The translations: every catalogue message translated, and pt-BR read through handlers.i18n."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from handlers import account_words, blocks, i18n, lookup_blocks
from handlers.grammar import UsageError, help_text, parse_command
from handlers.grammar.usage import GENERAL_USAGE, USAGE, usage_line
from handlers.i18n import gettext, ngettext, use_locale
from tests.handlers.conftest import PO_FILES, TEMPLATE

#: The catalogues that translate: English is the language of the message ids themselves.
TRANSLATIONS = [po for po in PO_FILES if po.parts[-3] != i18n.DEFAULT_LOCALE]
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def untranslated(template: Catalog, catalog: Catalog) -> list[str]:
    """The template's messages ``catalog`` leaves untranslated: missing, fuzzy or empty.

    A plural message needs every one of the language's forms (``nplurals`` of its header).
    """
    gaps: list[str] = []
    for message in template:
        if not message.id:
            continue  # the header
        key = message.id if isinstance(message.id, str) else message.id[0]
        found = catalog.get(message.id)
        if found is None:
            gaps.append(f"missing: {key!r}")
            continue
        if found.fuzzy:
            gaps.append(f"fuzzy: {key!r}")
            continue
        if isinstance(message.id, str):
            if not isinstance(found.string, str) or not found.string:
                gaps.append(f"empty: {key!r}")
            continue
        forms = tuple(found.string) if isinstance(found.string, list | tuple) else ()
        if len(forms) != catalog.num_plurals or not all(forms):
            gaps.append(f"plural form empty: {key!r}")
    return gaps


def test_there_is_a_translation_to_check() -> None:
    """At least one non-English catalogue is committed (pt_BR), so the check below checks."""
    assert "pt_BR" in {po.parts[-3] for po in TRANSLATIONS}


@pytest.mark.parametrize("po", TRANSLATIONS, ids=lambda p: p.parts[-3])
def test_every_message_of_the_template_is_translated(po: Path) -> None:
    """No catalogue message is left without its translation (empty, a plural form empty, fuzzy)."""
    gaps = untranslated(_read(TEMPLATE), _read(po))
    assert not gaps, f"{po} leaves {len(gaps)} untranslated:\n" + "\n".join(gaps)


def test_the_translation_check_sees_a_missing_one() -> None:
    """The check above names a message that is absent, empty, fuzzy, or lacks a plural form."""
    template = Catalog(locale="en", domain=i18n.DOMAIN)
    for msgid in ("Done.", "Absent.", "Empty.", "Fuzzy.", ("%(n)s SMS", "%(n)s SMS")):
        template.add(msgid, "" if isinstance(msgid, str) else ("", ""))
    catalog = Catalog(locale="pt_BR", domain=i18n.DOMAIN)
    assert catalog.num_plurals == 3
    catalog.add("Done.", "Feito.")
    catalog.add("Empty.", "")
    catalog.add("Fuzzy.", "Impreciso.", flags=["fuzzy"])
    catalog.add(("%(n)s SMS", "%(n)s SMS"), ("%(n)s SMS", "", "%(n)s SMS"))
    assert untranslated(template, catalog) == [
        "missing: 'Absent.'",
        "empty: 'Empty.'",
        "fuzzy: 'Fuzzy.'",
        "plural form empty: '%(n)s SMS'",
    ]
    # once complete, nothing is named
    complete = Catalog(locale="pt_BR", domain=i18n.DOMAIN)
    for msgid, msgstr in (("Done.", "Feito."), ("Absent.", "Ausente."), ("Empty.", "Vazio.")):
        complete.add(msgid, msgstr)
    complete.add("Fuzzy.", "Impreciso.")
    complete.add(("%(n)s SMS", "%(n)s SMS"), ("%(n)s SMS", "%(n)s de SMS", "%(n)s SMS"))
    assert untranslated(template, complete) == []


def test_pt_br_renders_real_sentences_in_portuguese() -> None:
    """With pt-BR active, the installed catalogue gives Portuguese sentences and plural forms."""
    with use_locale("pt-BR"):
        assert gettext("No SMS to show.") == "Nenhum SMS para mostrar."
        assert "Nenhum SMS para mostrar." in lookup_blocks.status_report([], [], title="t").text
        assert account_words.cancelled(7) == "O SMS 7 foi cancelado: ele não será enviado."
        assert blocks.status_words("DELIVRD") == "DELIVRD (entregue)"
        # plurals: Portuguese has one (0 and 1), many (whole millions) and other
        assert blocks.segments(1) == "1 segmento"
        assert blocks.segments(5) == "5 segmentos"
        assert blocks.segments(1_000_000).endswith(" de segmentos")
        assert blocks.characters(1) == "1 caractere"
        assert blocks.characters(5) == "5 caracteres"
        status_of = ("Status of %(count)s SMS", "Status of %(count)s SMS")
        assert ngettext(*status_of, 1) % {"count": 1} == "Status de 1 SMS"
        assert ngettext(*status_of, 5) % {"count": 5} == "Status de 5 SMS"
        with pytest.raises(UsageError) as caught:
            parse_command("send 5511987654321", default_region="BR", now=NOW)
        assert caught.value.sentence == (
            "Informe o texto a enviar depois do número +55 11 98765-4321."
        )
        assert caught.value.usage.startswith("Uso: /sms enviar [--de REMETENTE]")
        assert help_text().startswith("*Envie SMS pelo Slack com `/sms`*")
    with use_locale("en"):
        assert blocks.segments(5) == "5 segments"


#: The English command words that pt-BR help and usage lines show in Portuguese.
_ENGLISH_WORDS = re.compile(
    r"/sms (?:send|find|help|balance|cancel|template)\b"
    r"|--(?:from|at|validity|name|shorten-links|template)\b"
    r"|`(?:to|from|text|campaign|group|sent-after|sent-before|updated-after|updated-before"
    r"|page|size|sort):"
)


def test_pt_br_help_and_usage_lines_show_the_portuguese_command_words() -> None:
    """In pt-BR the help and every usage line use enviar, --de, buscar, para: …, never send."""
    with use_locale("pt-BR"):
        shown = [help_text(), gettext(GENERAL_USAGE), *(usage_line(name) for name in USAGE)]
        for text in shown:
            assert not _ENGLISH_WORDS.search(text), text
        assert '`/sms enviar --agendar "01/12/2026 14:30" --validade 120' in help_text()
        assert "`/sms buscar para:5511 status:DELIVRD`" in help_text()
        assert usage_line("cancel") == "Uso: /sms cancelar ID"
    with use_locale("en"):
        assert _ENGLISH_WORDS.search(help_text())


def test_pt_br_zero_takes_the_singular_as_cldr_says() -> None:
    """Zero is CLDR's "one" in Portuguese (i = 0..1): 0 caractere, 0 segmento; English says 0 characters."""
    rule = Locale.parse("pt_BR").plural_form
    assert rule(0) == rule(1) == "one"
    with use_locale("pt-BR"):
        assert blocks.characters(0) == "0 caractere"
        assert blocks.segments(0) == "0 segmento"
        assert ngettext("%(count)s SMS segment", "%(count)s SMS segments", 0) % {"count": 0} == (
            "0 segmento de SMS"
        )
    with use_locale("en"):
        assert blocks.characters(0) == "0 characters"
