"""The sentence catalogue: locale from a ContextVar, fallback, and committed files kept current."""

from __future__ import annotations

import ast
import asyncio
import fnmatch
import io
import re
import tomllib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages import frontend
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.util import pathmatch

from handlers import account_words, blocks, i18n, lookup_blocks
from handlers.grammar import GENERAL_USAGE, UsageError, help_text, parse_command
from handlers.i18n import (
    LOCALE_DIR,
    I18n,
    gettext,
    ngettext,
    normalize_locale,
    use_i18n,
    use_locale,
)
from tests.handlers.conftest import PO_FILES, TEMPLATE

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

_PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +\-]*\d*(?:\.\d+)?[sdfr]|%%")


def _placeholders(text: str) -> set[str]:
    """The named placeholders of a sentence (``%(name)s``); ``%%`` is not one."""
    return {m.group(1) for m in _PLACEHOLDER.finditer(text) if m.group(1)}


def _write_catalogue(
    root: Path, locale: str, messages: dict[str | tuple[str, str], object]
) -> None:
    """Compile a tiny catalogue for ``locale`` into ``root`` (a test stands in for a language)."""
    catalog = Catalog(locale=locale, domain=i18n.DOMAIN)
    for msgid, msgstr in messages.items():
        catalog.add(msgid, msgstr)  # type: ignore[arg-type]
    target = root / locale / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / f"{i18n.DOMAIN}.mo").open("wb") as handle:
        write_mo(handle, catalog)


@pytest.fixture
def portuguese(tmp_path: Path) -> I18n:
    """Catalogues with a few Brazilian Portuguese sentences of the real catalogue."""
    _write_catalogue(
        tmp_path,
        "pt_BR",
        {
            "No SMS to show.": "Nenhum SMS para mostrar.",
            # CLDR gives Portuguese three forms: one, many (a million), other
            ("%(count)s segment", "%(count)s segments"): (
                "%(count)s segmento",
                "%(count)s de segmentos",
                "%(count)s segmentos",
            ),
            "Give the phone number and the text to send.": "Informe o número e o texto a enviar.",
            GENERAL_USAGE: "Uso: /sms send [OPÇÕES] TELEFONE TEXTO…",
        },
    )
    _write_catalogue(tmp_path, "de", {"No SMS to show.": "Keine SMS anzuzeigen."})
    return I18n(tmp_path)


def test_normalize_locale_reads_slack_and_posix_spellings() -> None:
    """pt-br, pt_BR and PT-BR all name pt_BR; en stays en."""
    assert normalize_locale("pt-br") == "pt_BR"
    assert normalize_locale("PT-BR") == "pt_BR"
    assert normalize_locale("pt_BR") == "pt_BR"
    assert normalize_locale("en") == "en"
    with pytest.raises(ValueError, match="not a language tag"):
        normalize_locale("not a language")


@pytest.mark.parametrize(
    ("slack", "spoken"),
    [
        ("pt-BR", "pt_BR"),
        ("pt-PT", "pt_BR"),
        ("en-US", "en"),
        ("en-GB", "en"),
        ("es-ES", None),
        ("ja-JP", None),
        ("", None),
        (None, None),
        ("not a locale", None),
    ],
)
def test_spoken_locale_matches_a_slack_locale_to_a_language_smsbot_speaks(
    slack: str | None, spoken: str | None
) -> None:
    """Slack's locale maps onto en or pt_BR by its language; others (es-ES) onto nothing."""
    assert i18n.spoken_locale(slack) == spoken


def test_without_a_catalogue_the_english_id_is_the_sentence() -> None:
    """English needs no translation: the message id comes back, plurals by count."""
    with use_locale("en"):
        assert gettext("No SMS to show.") == "No SMS to show."
        assert blocks.segments(1) == "1 segment"
        assert blocks.segments(2_000) == "2,000 segments"


def test_a_translated_sentence_is_used_when_the_locale_is_set(portuguese: I18n) -> None:
    """With pt-BR active (from the ContextVar), rendering code gets the Portuguese sentence."""
    with use_i18n(portuguese):
        report = lookup_blocks.status_report([], [], title="Status")
        assert "No SMS to show." in report.text
        with use_locale("pt-br") as name:
            assert name == "pt_BR"
            assert "Nenhum SMS para mostrar." in lookup_blocks.status_report([], [], title="x").text
            assert blocks.segments(1) == "1 segmento"
            assert blocks.segments(3) == "3 segmentos"
            assert blocks.segments(1_000_000) == "1.000.000 de segmentos"  # and its number
            with pytest.raises(UsageError) as caught:
                parse_command("bogus", default_region="BR", now=NOW)
            assert caught.value.usage == "Uso: /sms send [OPÇÕES] TELEFONE TEXTO…"
        assert gettext("No SMS to show.") == "No SMS to show."


def test_the_languages_spoken_are_the_catalogues_plus_the_ids_language(
    portuguese: I18n, tmp_path: Path
) -> None:
    """LANGUAGES is read from the catalogue directory: its compiled catalogues, and English."""
    assert portuguese.available_locales == ("de", "en", "pt_BR")
    assert i18n.available_locales(tmp_path) == ("de", "en", "pt_BR")
    assert i18n.available_locales(tmp_path / "none") == ("en",)
    assert i18n.LANGUAGES == I18n().available_locales == i18n.available_locales()
    assert set(i18n.LANGUAGES) == {po.parts[-3] for po in PO_FILES} | {"en"}


def test_a_workspace_language_names_one_of_the_catalogues() -> None:
    """SMSBOT_LANGUAGE's reading: a locale, a language's region or one region's language."""
    spoken = ("de", "en", "pt_BR")
    for tag, locale in {
        "DE": "de",
        "de-AT": "de",
        "en-US": "en",
        "pt": "pt_BR",
        "PT_br": "pt_BR",
        "pt-PT": None,
        "es": None,
        "english": None,
        "": None,
    }.items():
        assert i18n.workspace_locale(tag, spoken) == locale, tag
    assert i18n.workspace_locale("pt", ("pt_BR", "pt_PT")) is None  # which one: not guessed
    assert i18n.language_choices(spoken) == (
        "de (German), en (English) or pt-BR (Brazilian Portuguese)"
    )
    assert i18n.language_choices(("en",)) == "en (English)"


def test_fallback_goes_to_the_language_then_its_kin_then_the_default(portuguese: I18n) -> None:
    """de_AT uses the de catalogue; pt_PT has none but gets pt_BR's (not English); junk: English."""
    with use_i18n(portuguese):
        with use_locale("de-AT"):
            assert gettext("No SMS to show.") == "Keine SMS anzuzeigen."
        with use_locale("pt-PT"):
            assert gettext("No SMS to show.") == "Nenhum SMS para mostrar."
        assert portuguese.resolve("pt") == "pt_BR"
        assert portuguese.resolve("es-ES") == "en"
        assert portuguese.resolve("xx-nonsense") == "en"
        assert portuguese.resolve(None) == "en"
        assert portuguese.available == ("de", "pt_BR")
        # an untranslated sentence falls back to its English id, with the plural rule of English
        with use_locale("pt_BR"):
            assert ngettext("%(n)s SMS", "%(n)s SMSes", 2) == "%(n)s SMSes"


async def test_each_task_keeps_its_own_locale(portuguese: I18n) -> None:
    """Two requests handled at once each read their own locale: the ContextVar is per task."""

    async def render(locale: str, started: asyncio.Event, other: asyncio.Event) -> str:
        with use_locale(locale):
            started.set()
            await other.wait()  # both tasks are now inside their use_locale block
            return gettext("No SMS to show.")

    first, second = asyncio.Event(), asyncio.Event()
    with use_i18n(portuguese):
        results = await asyncio.gather(render("pt_BR", first, second), render("en", second, first))
    assert list(results) == ["Nenhum SMS para mostrar.", "No SMS to show."]


def test_lazy_gettext_translates_when_shown(portuguese: I18n) -> None:
    """A lazy sentence follows the locale active when it is turned into text, not when made."""
    lazy = i18n.lazy_gettext("No SMS to show.")
    with use_i18n(portuguese):
        assert str(lazy) == "No SMS to show."
        with use_locale("pt_BR"):
            assert str(lazy) == "Nenhum SMS para mostrar."


def test_the_help_is_in_the_catalogue() -> None:
    """The help text is a catalogue message, and help_text() returns it."""
    with TEMPLATE.open("rb") as handle:
        template = read_po(handle)
    assert help_text().startswith("*Send SMS from Slack with `/sms`*")
    assert help_text() in template


def _extracted_ids() -> set[object]:
    """The message ids the code holds now, extracted with Babel as the README's command does."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = frontend.parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None}
    return {
        message[2]
        for message in extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)
    }


def _ids(catalog: Catalog) -> set[object]:
    return {message.id for message in catalog if message.id}


def test_the_template_is_current() -> None:
    """smsbot.pot holds exactly the sentences in the code: rerun `pybabel extract` when not."""
    with TEMPLATE.open("rb") as handle:
        template = read_po(handle)
    code = _extracted_ids()
    assert _ids(template) == code, (
        "handlers/locale/smsbot.pot is stale: run the extract and update commands in README.md"
    )


@pytest.mark.parametrize("po", PO_FILES, ids=lambda p: p.parts[-3])
def test_each_translation_follows_the_template(po: Path) -> None:
    """Every .po has the template's messages (`pybabel update` was run), none obsolete."""
    with TEMPLATE.open("rb") as handle:
        template = read_po(handle)
    with po.open("rb") as handle:
        catalog = read_po(handle)
    assert _ids(catalog) == _ids(template), f"{po} is stale: run `pybabel update` (README.md)"


@pytest.mark.parametrize("po", PO_FILES, ids=lambda p: p.parts[-3])
def test_each_compiled_catalogue_matches_its_po(po: Path) -> None:
    """The committed .mo is the .po compiled now: run `pybabel compile` when it is not."""
    with po.open("rb") as handle:
        catalog = read_po(handle)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run `pybabel compile` (README.md)"
    assert mo.read_bytes() == compiled.getvalue(), f"{mo} is stale: run `pybabel compile`"


@pytest.mark.parametrize("po", PO_FILES, ids=lambda p: p.parts[-3])
def test_translations_keep_their_placeholders(po: Path) -> None:
    """A translation names the same placeholders as its English id (none dropped or renamed)."""
    with po.open("rb") as handle:
        catalog = read_po(handle)
    for message in catalog:
        ids = (message.id,) if isinstance(message.id, str) else tuple(message.id)
        strings = (
            (message.string,) if isinstance(message.string, str) else tuple(message.string or ())
        )
        wanted = set().union(*(_placeholders(text) for text in ids))
        for text in strings:
            if text:
                assert _placeholders(text) == wanted, f"{po}: {message.id!r} -> {text!r}"


def test_the_placeholder_check_sees_a_dropped_name() -> None:
    """The check above would catch a translation that renamed a placeholder."""
    assert _placeholders("SMS %(id)s to %(recipient)s, 100%%") == {"id", "recipient"}
    assert _placeholders("SMS %(ident)s para %(recipient)s") != _placeholders(
        "SMS %(id)s to %(recipient)s"
    )


def test_the_installed_catalogues_are_found() -> None:
    """The package's own locale directory is read: every committed .mo is available."""
    assert set(I18n().available) == {po.parts[-3] for po in PO_FILES}
    assert PO_FILES, "at least one catalogue is committed"


def test_the_catalogue_files_are_package_data() -> None:
    """Pyproject's package data names every catalogue file, so `pip install .` installs them."""
    with (ROOT / "pyproject.toml").open("rb") as handle:
        globs = tomllib.load(handle)["tool"]["setuptools"]["package-data"]["handlers"]
    files = [p for p in LOCALE_DIR.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".pot", ".po", ".mo"}
    for path in files:
        relative = path.relative_to(ROOT / "handlers").as_posix()
        assert any(fnmatch.fnmatch(relative, glob) for glob in globs), relative


@pytest.fixture
def pseudo(tmp_path: Path) -> I18n:
    """Every message of the template pseudo-translated as ⟦English⟧ (placeholders kept), as eo."""
    with TEMPLATE.open("rb") as handle:
        template = read_po(handle)
    catalog = Catalog(locale="eo", domain=i18n.DOMAIN)
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, str):
            catalog.add(message.id, f"⟦{message.id}⟧")
        else:
            catalog.add(message.id, tuple(f"⟦{form}⟧" for form in message.id))
    target = tmp_path / "eo" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / f"{i18n.DOMAIN}.mo").open("wb") as handle:
        write_mo(handle, catalog)
    return I18n(tmp_path)


@pytest.mark.parametrize(
    "typed",
    [
        "bogus",
        "send",
        "send --bogus 5511987654321 hi",
        "send --flash=1 5511987654321 hi",
        "send --shorten-links=1 5511987654321 hi",
        "send --from ABCDEFGHIJKLMNOP 5511987654321 hi",
        "send --at 2020-01-01 10:00 5511987654321 hi",
        "send --validity 5 5511987654321 hi",
        "send 123 hi",
        "send 5511987654321",
        "status x",
        "find nonsense",
        "find size:7",
        'find text:"open',
        "balance now",
        "cancel",
        "cancel 1 2",
        "cancel x",
        "template",
        "template frob",
        "template add",
        "template add bad/name hi",
        "send --template",
        "send --template ready",
        "send --template ready 5511987654321 nokey",
    ],
)
def test_every_refusal_of_the_grammar_comes_from_the_catalogue(pseudo: I18n, typed: str) -> None:
    """With a pseudo-translation active, each refusal and its usage line is the translated one."""
    with use_i18n(pseudo), use_locale("eo"), pytest.raises(UsageError) as caught:
        parse_command(typed, default_region="BR", now=NOW)
    assert caught.value.sentence.startswith("⟦"), caught.value.sentence
    assert caught.value.sentence.endswith("⟧"), caught.value.sentence
    assert caught.value.usage.startswith("⟦Usage: /sms"), caught.value.usage


def test_help_and_status_words_come_from_the_catalogue(pseudo: I18n) -> None:
    """The help, a status in words and the list messages are all translated ones."""
    with use_i18n(pseudo), use_locale("eo"):
        assert help_text().startswith("⟦*Send SMS from Slack")
        assert blocks.status_words("DELIVRD") == "⟦DELIVRD (⟦delivered⟧)⟧"
        assert (
            lookup_blocks.status_report([], [7], title="t").text
            == "t\n⟦:grey_question: *7*: not found at Mobizon⟧"
        )


def test_the_account_sentences_come_from_the_catalogue(pseudo: I18n) -> None:
    """The balance, cancel, moderation and sender sentences are the translated ones."""
    with use_i18n(pseudo), use_locale("eo"):
        assert account_words.cancelled(7) == "⟦SMS 7 is cancelled: it will not be sent.⟧"
        # the amount follows the locale too (CLDR's Esperanto)
        assert account_words.cost_note("0.25", "BRL") == "⟦cost 0,25 R$⟧"
        alert = account_words.low_balance_alert(Decimal(3), "BRL", Decimal(10))
        assert alert.startswith("⟦:warning:")
        assert "⟦Check the account's balance with `/sms balance`.⟧" in alert
        assert account_words.declined_note(None).startswith("⟦:no_entry:")
        assert account_words.unknown_sender("X", ()).endswith("⟦none⟧.⟧")


def test_every_module_that_translates_is_extracted() -> None:
    """Each module calling gettext is in babel.cfg, so its sentences reach the catalogue."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, _options = frontend.parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    patterns = [pattern for pattern, _method in method_map]
    translating = [
        path.relative_to(ROOT).as_posix()
        for folder in ("bot", "handlers", "storage")
        for path in (ROOT / folder).rglob("*.py")
        if _imports_a_translation_function(path) and path.name != "i18n.py"
    ]
    missed = [path for path in translating if not any(pathmatch(p, path) for p in patterns)]
    assert translating
    assert missed == []


_TRANSLATING = frozenset({"gettext", "ngettext", "lazy_gettext", "N_"})


def _imports_a_translation_function(path: Path) -> bool:
    """Whether ``path`` imports one of the catalogue's lookup functions (not only its lists)."""
    source = path.read_text(encoding="utf-8")
    if "handlers.i18n" not in source:
        return False  # no import from it: not parsed
    tree = ast.parse(source)
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == "handlers.i18n"
        and any(alias.name in _TRANSLATING for alias in node.names)
        for node in ast.walk(tree)
    )
