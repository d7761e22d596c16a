"""Numbers, money and times follow the active locale, through Babel (handlers/formats.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.sms.sending.segments import TooLongError, count_segments
from handlers import account_words, blocks, formats
from handlers.grammar.send import too_long
from handlers.i18n import use_locale
from handlers.views.compose import ComposeMeta, compose_view
from handlers.views.compose_text import count_line

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
MOMENT = datetime(2026, 11, 30, 14, 30, 5, tzinfo=SAO_PAULO)


@pytest.mark.parametrize(
    ("locale", "count", "shown"),
    [
        ("en", 12_345, "12,345"),
        ("en", 7, "7"),
        ("pt-BR", 12_345, "12.345"),
        ("pt-BR", 1_000_000, "1.000.000"),
        ("pt-PT", 12_345, "12 345"),  # CLDR's European Portuguese groups with a space
    ],
)
def test_counts_are_grouped_as_the_locale_groups_them(locale: str, count: int, shown: str) -> None:
    """12,345 in English, 12.345 in Brazilian Portuguese."""
    with use_locale(locale):
        assert formats.number(count) == shown


@pytest.mark.parametrize(
    ("locale", "amount", "currency", "shown"),
    [
        ("en", "123.45", "BRL", "123.45 BRL"),
        ("en", "12345.5", "BRL", "12,345.50 BRL"),
        ("en", "0.0625", "BRL", "0.0625 BRL"),  # a cost's decimals are kept, not rounded away
        ("en", "100", "KZT", "100.00 KZT"),
        ("pt-BR", "123.45", "BRL", "R$ 123,45"),
        ("pt-BR", "12345.5", "BRL", "R$ 12.345,50"),
        ("pt-BR", "0.0625", "BRL", "R$ 0,0625"),
        ("pt-BR", "12.340", "BRL", "R$ 12,34"),
        ("pt-BR", "3", "USD", "US$ 3,00"),
        ("pt-BR", "3", "brl", "R$ 3,00"),  # the code in any case
    ],
)
def test_money_follows_the_locale_and_keeps_every_decimal(
    locale: str, amount: str, currency: str, shown: str
) -> None:
    """R$ 123,45 in pt-BR, 123.45 BRL in English; 0.0625 stays 0.0625."""
    with use_locale(locale):
        assert formats.money(Decimal(amount), currency) == shown


def test_money_in_an_unknown_currency_is_a_plain_amount_with_its_code_escaped() -> None:
    """A currency Babel does not know is written after the plain amount, as text, never markup."""
    with use_locale("pt-BR"):
        assert formats.money(Decimal("1234.5"), "<XYZ>") == "1.234,50 &lt;XYZ&gt;"
        assert formats.money(Decimal("0.125"), None) == "0,125"
    with use_locale("en"):
        assert formats.money(Decimal("1234.5"), "ZZZ1") == "1,234.50 ZZZ1"
        assert formats.money(Decimal(2), "") == "2.00"


@pytest.mark.parametrize(
    ("locale", "seconds", "shown"),
    [
        ("en", True, "2026-11-30 14:30:05 -03"),
        ("en", False, "2026-11-30 14:30 -03"),
        ("pt-BR", True, "30/11/2026 14:30:05 -03"),
        ("pt-BR", False, "30/11/2026 14:30 -03"),
    ],
)
def test_times_keep_english_iso_and_use_cldr_short_in_portuguese(
    locale: str, seconds: bool, shown: str
) -> None:
    """English keeps 2026-11-30 14:30 (unambiguous); pt-BR reads 30/11/2026 14:30; zone kept."""
    with use_locale(locale):
        assert formats.moment(MOMENT, seconds=seconds) == shown


def test_a_time_is_shown_in_its_own_zone_and_a_naive_one_as_it_is() -> None:
    """No conversion: a UTC time stays UTC, a naive time gets no zone; none is a dash."""
    utc = MOMENT.astimezone(ZoneInfo("UTC"))
    with use_locale("pt-BR"):
        assert formats.moment(utc) == "30/11/2026 17:30:05 UTC"
        assert formats.moment(MOMENT.replace(tzinfo=None), seconds=False) == "30/11/2026 14:30"
        assert formats.moment(None) == "—"


def test_the_people_facing_sentences_use_the_formats() -> None:
    """Balances, costs, counts, the too-long refusal and the compose count follow the locale."""
    long_text = "a" * 2_000
    info = count_segments(long_text)
    with use_locale("pt-BR"):
        assert account_words.cost_note("0.0625", "BRL") == "custo: R$ 0,0625"
        assert "R$ 1.234,50" in account_words.balance_text(
            Decimal("1234.5"), "BRL", Decimal(0), Decimal(1), None
        )
        assert blocks.characters(2_000) == "2.000 caracteres"
        assert blocks.when(MOMENT) == "30/11/2026 14:30:05 -03"
        assert "(2.000 caracteres GSM-7)" in too_long(TooLongError(info))
        assert "2.000 caracteres" in count_line("GSM-7", 2_000, 14)
    with use_locale("en"):
        assert account_words.cost_note("0.0625", "BRL") == "cost 0.0625 BRL"
        assert blocks.characters(2_000) == "2,000 characters"
        assert "(2,000 GSM-7 characters)" in too_long(TooLongError(info))
        assert blocks.when(MOMENT) == "2026-11-30 14:30:05 -03"


@pytest.mark.parametrize(
    ("zone", "english", "portuguese"),
    [
        (ZoneInfo("Etc/UTC"), "UTC", "UTC"),  # a container's zone, when TZ is unset
        (ZoneInfo("UTC"), "UTC", "UTC"),
        (UTC, "UTC", "UTC"),
        (SAO_PAULO, "Brasilia Time", "horário de Brasília"),
        (ZoneInfo("Brazil/East"), "Brasilia Time", "horário de Brasília"),  # an alias
        (ZoneInfo("America/Manaus"), "Amazon Time", "horário do Amazonas"),
        (ZoneInfo("Etc/GMT+3"), "UTC-03:00", "UTC-03:00"),  # POSIX sign: three hours behind
        (timezone(timedelta(hours=5, minutes=30)), "UTC+05:30", "UTC+05:30"),
    ],
)
def test_a_zone_is_named_as_people_call_it(zone: tzinfo, english: str, portuguese: str) -> None:
    """Etc/UTC reads UTC, America/Sao_Paulo horário de Brasília: never a tz database key."""
    with use_locale("en"):
        assert formats.zone_name(zone) == english
    with use_locale("pt-BR"):
        assert formats.zone_name(zone) == portuguese


def test_the_compose_hint_names_the_accounts_zone_in_the_readers_language() -> None:
    """The send-later hint says horário de Brasília in Portuguese, Brasilia Time in English."""

    def hint(locale: str) -> str:
        with use_locale(locale):
            view = compose_view(meta=ComposeMeta("C1"), zone=SAO_PAULO, sender_names=["A"])
            return json.dumps(view.to_dict(), ensure_ascii=False)

    assert "the Mobizon account's time zone is Brasilia Time." in hint("en")
    assert "o fuso horário da conta do Mobizon é o horário de Brasília." in hint("pt-BR")
    assert "America/Sao_Paulo" not in hint("en") + hint("pt-BR")


def test_a_moment_given_a_zone_is_shown_in_it_and_a_naive_one_as_it_is() -> None:
    """An aware time is converted to the account's zone when one is given; a wall time is not."""
    zone = ZoneInfo("America/Sao_Paulo")
    aware = datetime(2026, 11, 25, 12, 15, tzinfo=UTC)
    assert formats.moment(aware, seconds=False, zone=zone) == "2026-11-25 09:15 -03"
    assert formats.moment(aware, seconds=False) == "2026-11-25 12:15 UTC"
    naive = datetime(2026, 11, 25, 12, 15)  # noqa: DTZ001  # a wall time, no zone by design
    assert formats.moment(naive, seconds=False, zone=zone) == "2026-11-25 12:15"
