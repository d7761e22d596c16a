"""The sentence catalogue: every sentence people read goes through :func:`gettext` here.

Message ids are the English sentences themselves, so English needs no translation and another
language is one file, ``handlers/locale/<lang>/LC_MESSAGES/smsbot.po`` (compiled to ``.mo``,
committed, installed as package data). Placeholders are named, ``%(name)s``, so a translator
sees what each one is and may move it.

The language is not passed around: the active locale lives in a :class:`~contextvars.ContextVar`
(each asyncio task has its own copy), set with :func:`use_locale` where a request starts. A locale
with no catalogue falls back to its language (``pt_BR`` → ``pt``), then to another catalogue of
the same language (``pt_PT`` → ``pt_BR``), then to the default (English).

Which locale a request gets is chosen in :mod:`handlers.languages`: a person's Slack language when
smsbot speaks it (:func:`spoken_locale`), else the workspace's (``SMSBOT_LANGUAGE``).

Modeled on ``aiogram.utils.i18n``: one :class:`I18n` object over the compiled catalogues.
"""

from __future__ import annotations

import functools
import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Final

from babel import Locale, UnknownLocaleError
from babel.support import LazyProxy

__all__ = [
    "DEFAULT_LOCALE",
    "DOMAIN",
    "LANGUAGES",
    "LOCALE_DIR",
    "N_",
    "I18n",
    "available_locales",
    "current_locale",
    "gettext",
    "language_choices",
    "lazy_gettext",
    "ngettext",
    "normalize_locale",
    "set_locale",
    "spoken_locale",
    "use_i18n",
    "use_locale",
    "workspace_locale",
]

#: The gettext domain: the catalogue files are ``smsbot.pot``, ``smsbot.po`` and ``smsbot.mo``.
DOMAIN: Final = "smsbot"
#: Where the catalogues live, inside the installed package.
LOCALE_DIR: Final = Path(__file__).parent / "locale"
#: The language of the message ids.
DEFAULT_LOCALE: Final = "en"


def _catalogue_files(path: Path, domain: str) -> dict[str, Path]:
    """Each locale that has a compiled catalogue in ``path``, and its ``.mo`` file."""
    return {mo.parent.parent.name: mo for mo in sorted(path.glob(f"*/LC_MESSAGES/{domain}.mo"))}


def available_locales(
    path: Path = LOCALE_DIR, *, domain: str = DOMAIN, default: str = DEFAULT_LOCALE
) -> tuple[str, ...]:
    """The locales that have a compiled catalogue in ``path``, plus ``default``, sorted.

    As aiogram's ``I18n.available_locales``: a language is spoken once its catalogue is there
    (the message ids' own language needs none).
    """
    return tuple(sorted({default, *_catalogue_files(path, domain)}))


#: The languages smsbot speaks, as the catalogue names them (the one list, read from the
#: catalogue directory): ``SMSBOT_LANGUAGE``'s choices, and what a person's Slack language is
#: matched against. The ``/sms`` grammar and the console have words for each.
LANGUAGES: Final = available_locales()


@functools.lru_cache(maxsize=256)  # every sentence asks: Babel's parse costs more than the lookup
def normalize_locale(tag: str) -> str:
    """``tag`` as gettext names it: ``pt-br``, ``pt_br`` and ``PT-BR`` all give ``pt_BR``.

    Raises :class:`ValueError` when ``tag`` names no language Babel knows.
    """
    cleaned = tag.strip().replace("-", "_")
    try:
        return str(Locale.parse(cleaned))
    except (UnknownLocaleError, ValueError) as error:
        raise ValueError(f"{tag!r} is not a language tag such as en or pt-BR") from error


def spoken_locale(tag: str | None) -> str | None:
    """The language of :data:`LANGUAGES` that serves the locale ``tag``; ``None`` when none does.

    ``pt-BR`` gives ``pt_BR``, and so does ``pt-PT`` (the same language, better than another);
    ``en-US`` and ``en-GB`` give ``en``; ``es-ES``, junk and ``None`` give ``None``.
    """
    if not tag:
        return None
    try:
        name = normalize_locale(tag)
    except ValueError:
        return None
    if name in LANGUAGES:
        return name
    language = name.split("_", 1)[0]
    return next((known for known in LANGUAGES if known.split("_", 1)[0] == language), None)


def workspace_locale(tag: str, languages: tuple[str, ...] = LANGUAGES) -> str | None:
    """The locale of ``languages`` that ``tag`` names as a workspace language; ``None`` if none.

    Stricter than :func:`spoken_locale`, since the operator chooses it: a locale itself
    (``pt-BR``, ``pt_br``, ``EN``), a variant of a language spoken without a region (``en-US``
    gives ``en``), or a bare language spoken in one region only (``pt`` gives ``pt_BR``). A
    region of its own (``pt-PT``) is refused rather than silently served another's.
    """
    try:
        parsed = Locale.parse(tag.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return None
    if parsed.script or parsed.variant:
        return None  # en-Latn, en-US-POSIX: not a way people name a language
    name, language = str(parsed), parsed.language
    if name in languages:
        return name
    if language in languages:
        return language
    kin = [known for known in languages if known.split("_", 1)[0] == language]
    return kin[0] if parsed.territory is None and len(kin) == 1 else None


def language_choices(languages: tuple[str, ...] = LANGUAGES) -> str:
    """``languages`` as an operator writes and reads them: ``en (English) or pt-BR (…)``."""
    english = Locale.parse(DEFAULT_LOCALE)
    named = [
        f"{locale.replace('_', '-')} ({english.languages.get(locale) or locale})"
        for locale in languages
    ]
    return " or ".join([", ".join(named[:-1]), named[-1]] if len(named) > 1 else named)


class I18n:
    """The compiled catalogues of one directory, and the lookup with its fallback.

    ``path`` holds ``<locale>/LC_MESSAGES/<domain>.mo`` files; ``default`` is the language of
    the message ids, used when a locale has no catalogue.
    """

    def __init__(
        self, path: Path = LOCALE_DIR, *, domain: str = DOMAIN, default: str = DEFAULT_LOCALE
    ) -> None:
        self.path = path
        self.domain = domain
        self.default = normalize_locale(default)
        self._catalogues: dict[str, _gettext.NullTranslations] = {}
        for locale, mo in _catalogue_files(path, domain).items():
            with mo.open("rb") as handle:
                self._catalogues[locale] = _gettext.GNUTranslations(handle)

    @property
    def available(self) -> tuple[str, ...]:
        """The locales that have a compiled catalogue, sorted."""
        return tuple(sorted(self._catalogues))

    @property
    def available_locales(self) -> tuple[str, ...]:
        """The locales spoken: those with a catalogue, plus the default (the ids' language)."""
        return tuple(sorted({self.default, *self._catalogues}))

    def resolve(self, locale: str | None) -> str:
        """The locale whose catalogue serves ``locale``.

        Itself, else its language (``pt_BR`` → ``pt``), else another of its language (``pt_PT``
        → ``pt_BR``: closer than English), else the default.
        """
        if locale:
            try:
                name = normalize_locale(locale)
            except ValueError:
                return self.default
            if name in self._catalogues:
                return name
            language = name.split("_", 1)[0]
            if language in self._catalogues:
                return language
            kin = [known for known in self._catalogues if known.split("_", 1)[0] == language]
            if kin:
                return min(kin)
        return self.default

    def translations(self, locale: str | None) -> _gettext.NullTranslations:
        """The catalogue for ``locale`` after fallback; the ids themselves when there is none."""
        return self._catalogues.get(self.resolve(locale)) or _gettext.NullTranslations()

    def gettext(self, message: str, locale: str | None = None) -> str:
        """``message`` in ``locale`` (the active one when None)."""
        return self.translations(locale or current_locale()).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int, locale: str | None = None) -> str:
        """The form for ``n`` of ``singular``/``plural`` in ``locale`` (None: the active one)."""
        return self.translations(locale or current_locale()).ngettext(singular, plural, n)


_locale: ContextVar[str] = ContextVar("smsbot_locale", default=DEFAULT_LOCALE)
_i18n: ContextVar[I18n | None] = ContextVar("smsbot_i18n", default=None)
_installed: I18n | None = None


def _active() -> I18n:
    """The catalogues in use: the ones set with :func:`use_i18n`, else the installed ones."""
    global _installed  # noqa: PLW0603  # loaded once, on first use
    chosen = _i18n.get()
    if chosen is not None:
        return chosen
    if _installed is None:
        _installed = I18n()
    return _installed


def current_locale() -> str:
    """The locale of the current request (or task): what :func:`gettext` translates into."""
    return _locale.get()


@contextmanager
def use_locale(locale: str | None) -> Iterator[str]:
    """Translate into ``locale`` inside the block (None: the default); yields its normal name."""
    name = DEFAULT_LOCALE if not locale else normalize_locale(locale)
    token = _locale.set(name)
    try:
        yield name
    finally:
        _locale.reset(token)


def set_locale(locale: str | None) -> str:
    """Translate into ``locale`` for the rest of the current task; returns its normal name.

    For a request's task (a Bolt middleware: Bolt runs the listeners after every middleware has
    returned, so a ``with`` block around ``next()`` would end too early). Tasks started
    afterwards (Bolt runs a listener on one after the ack) inherit it; each request has a task
    of its own, so it ends with the request. Elsewhere prefer :func:`use_locale`.
    """
    name = DEFAULT_LOCALE if not locale else normalize_locale(locale)
    _locale.set(name)
    return name


@contextmanager
def use_i18n(i18n: I18n) -> Iterator[I18n]:
    """Look sentences up in ``i18n``'s catalogues inside the block (tests, other directories)."""
    token = _i18n.set(i18n)
    try:
        yield i18n
    finally:
        _i18n.reset(token)


def gettext(message: str) -> str:
    """``message`` (an English sentence, the message id) in the active locale."""
    return _active().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for ``n`` of an English ``singular``/``plural`` pair, in the active locale.

    The result still holds its placeholders: ``ngettext("%(n)d SMS", "%(n)d SMS", n) % {"n": n}``.
    """
    return _active().ngettext(singular, plural, n)


def lazy_gettext(message: str) -> Any:  # noqa: ANN401  # a LazyProxy stands in for a str
    """``message`` translated each time it is turned into text, in the locale active then."""
    return LazyProxy(gettext, message, enable_cache=False)


def N_(message: str) -> str:  # noqa: N802  # the name xgettext and Babel know
    """Mark ``message`` for the catalogue without translating it now (module constants).

    Translate it where it is shown: ``gettext(CONSTANT)``.
    """
    return message
