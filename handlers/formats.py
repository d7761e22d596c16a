"""Numbers, money and times for people, in the active locale (:func:`handlers.i18n.current_locale`).

Everything goes through Babel (CLDR): ``12.345`` and ``R$ 123,45`` and ``30/11/2026 14:30`` in
Brazilian Portuguese. English keeps smsbot's own unambiguous forms, written as Babel patterns:
times as ``2026-11-30 14:30`` (CLDR's English short form, ``11/30/26, 2:30 PM``, reads either
way round) and money as ``12.34 BRL``. A time is shown with its zone's abbreviation (``-03``)
when it has one.

Babel's non-breaking spaces (``R$ 123,45``) become plain spaces: Slack and terminals show them
alike, and copied text stays plain.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, tzinfo
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.dates import (
    format_datetime,
    get_date_format,
    get_datetime_format,
    get_time_format,
    get_timezone_name,
)
from babel.numbers import format_currency, format_decimal, is_currency

from handlers.i18n import DEFAULT_LOCALE, current_locale
from handlers.mrkdwn import verbatim

__all__ = ["moment", "money", "number", "zone_name"]

#: English times: ISO-like, as smsbot always showed them.
_ENGLISH_MOMENT = {True: "yyyy-MM-dd HH:mm:ss", False: "yyyy-MM-dd HH:mm"}
#: English money: the amount, then the currency's code (``1,234.50 BRL``).
_ENGLISH_MONEY = "#,##0.00 ¤¤"
#: An amount in no known currency: at least two decimals, and every decimal it has.
_PLAIN_AMOUNT = "#,##0.00"
#: CLDR's territories of a zone that is no country's: unknown (``Etc/UTC``) and the world.
_NO_COUNTRY = frozenset({"ZZ", "001"})
_SPACES = str.maketrans({"\xa0": " ", "\u202f": " "})


@functools.lru_cache(maxsize=32)
def _locale(name: str) -> Locale:
    """Babel's locale for a catalogue name (``pt_BR``); English for anything Babel cannot read."""
    try:
        return Locale.parse(name)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LOCALE)


def _active() -> Locale:
    return _locale(current_locale())


def _english(locale: Locale) -> bool:
    return locale.language == "en"


def number(value: int | Decimal) -> str:
    """A count for people: ``12,345`` in English, ``12.345`` in Brazilian Portuguese."""
    return format_decimal(value, locale=_active()).translate(_SPACES)


def money(amount: Decimal, currency: str | None) -> str:
    """An amount with its currency: ``12.34 BRL`` in English, ``R$ 12,34`` in Portuguese.

    Every decimal Mobizon states is kept (a segment may cost ``0.0625``), and at least two are
    shown. A currency Babel does not know is written after the plain amount, escaped; without
    one, the amount alone.
    """
    locale = _active()
    code = (currency or "").strip().upper()
    if code and is_currency(code):
        shown = format_currency(
            amount,
            code,
            format=_ENGLISH_MONEY if _english(locale) else None,
            locale=locale,
            decimal_quantization=False,
        )
        return shown.translate(_SPACES)
    plain = format_decimal(
        amount, format=_PLAIN_AMOUNT, locale=locale, decimal_quantization=False
    ).translate(_SPACES)
    return f"{plain} {verbatim(currency.strip())}" if currency and currency.strip() else plain


def _moment_pattern(locale: Locale, *, seconds: bool) -> str:
    """The date-and-time pattern: smsbot's own in English, CLDR's short date otherwise."""
    if _english(locale):
        return _ENGLISH_MOMENT[seconds]
    date = get_date_format("short", locale=locale).pattern
    time = get_time_format("medium" if seconds else "short", locale=locale).pattern
    both = str(get_datetime_format("short", locale=locale))
    return both.replace("{1}", date).replace("{0}", time)


def moment(value: datetime | None, *, seconds: bool = True, zone: tzinfo | None = None) -> str:
    """A time for people, in its own zone, named when known: ``2026-12-01 14:30:05 -03``.

    Brazilian Portuguese: ``01/12/2026 14:30:05 -03``. ``—`` when there is no time. Given
    ``zone`` (the Mobizon account's), an aware time is shown in it instead.
    """
    if value is None:
        return "—"
    if zone is not None and value.tzinfo is not None:
        value = value.astimezone(zone)
    locale = _active()
    pattern = _moment_pattern(locale, seconds=seconds)
    # shown in its own zone (the one given above, if any; a naive time as it is)
    text = format_datetime(value, pattern, tzinfo=value.tzinfo, locale=locale).translate(_SPACES)
    name = value.tzname()
    return f"{text} {name}" if name else text


def zone_name(zone: tzinfo) -> str:
    """A time zone as people call it: ``Brasilia Time``, ``horário de Brasília``, ``UTC``.

    A zone of no country (``Etc/UTC``, ``Etc/GMT+3``, a fixed offset) is its offset from UTC:
    ``UTC``, ``UTC-03:00``; one of no country whose offset changes keeps its name (``CET``).
    """
    key = str(getattr(zone, "key", "") or "")
    canonical = get_global("zone_aliases").get(key, key)
    if get_global("zone_territories").get(canonical, "ZZ") not in _NO_COUNTRY:
        locale = _active()
        name = str(get_timezone_name(zone, "long", locale=locale))
        # "Horário de Brasília" is CLDR's stand-alone form; in a sentence it is lower case
        if not _english(locale) and name[1:2].islower():
            name = name[0].lower() + name[1:]
        return name
    winter, summer = (datetime(2026, month, 1, tzinfo=UTC).astimezone(zone) for month in (1, 7))
    offset = winter.utcoffset()
    if offset is None or offset != summer.utcoffset():
        return key or str(winter.tzname() or "UTC")
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
