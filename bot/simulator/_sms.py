"""What the simulated gateway derives from an SMS: segments, number info, its time format."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache, lru_cache

import phonenumbers

from bot.mobizon import TIMESTAMP_FORMAT

#: Mobizon's timestamp format (``startSendTs``, ``statusUpdateTs``, ``deferredToTs``).

# GSM 03.38 basic character set; every one of these costs one septet.
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# GSM 03.38 extension table: each costs an escape plus the character, two septets.
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

_GSM7_SINGLE, _GSM7_PART = 160, 153
_UCS2_SINGLE, _UCS2_PART = 70, 67


def segment_count(text: str) -> int:
    """Count the SMS segments ``text`` takes (GSM-7 when it fits that alphabet, else UCS-2)."""
    if all(char in _GSM7_BASIC or char in _GSM7_EXTENSION for char in text):
        units = sum(2 if char in _GSM7_EXTENSION else 1 for char in text)
        single, part = _GSM7_SINGLE, _GSM7_PART
    else:
        # UCS-2 on the air is UTF-16: characters outside the BMP take two code units.
        units = len(text.encode("utf-16-le")) // 2
        single, part = _UCS2_SINGLE, _UCS2_PART
    if units <= single:
        return 1
    return -(-units // part)


@lru_cache(maxsize=4096)
def number_info(recipient: str) -> tuple[str | None, str | None]:
    """Return the ISO-3166 alpha-2 country and the operator name of an international number."""
    try:
        number = phonenumbers.parse(f"+{recipient}")
    except phonenumbers.NumberParseException:
        return None, None
    region = phonenumbers.region_code_for_number(number) or (
        phonenumbers.region_code_for_country_code(number.country_code or 0)
    )
    return (region if region and region != "ZZ" else None), _operator(number)


def _operator(number: phonenumbers.PhoneNumber) -> str | None:
    """The operator's name from phonenumbers' carrier data; ``None`` without that data.

    smsbot depends on ``phonenumberslite``, which leaves the carrier and geocoding data out
    (about 48 MB the bot never uses): the simulator then reports no operator, as Mobizon does
    for numbers it cannot place. With the full ``phonenumbers`` installed, it names one.
    """
    name_for_number = _carrier_names()
    return None if name_for_number is None else name_for_number(number, "en") or None


@cache
def _carrier_names() -> Callable[[phonenumbers.PhoneNumber, str], str] | None:
    """Phonenumbers' ``carrier.name_for_number``, or ``None`` without the carrier data.

    Looked for once: an import that failed would otherwise be tried again for every number.
    """
    try:
        from phonenumbers import carrier  # noqa: PLC0415  # absent from phonenumberslite
    except ImportError:
        return None
    names: Callable[[phonenumbers.PhoneNumber, str], str] = carrier.name_for_number
    return names


def format_timestamp(moment: datetime | None) -> str | None:
    """Format a moment the way Mobizon does, or ``None`` for "not yet"."""
    return None if moment is None else moment.strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> datetime | None:
    """Parse Mobizon's ``YYYY-MM-DD HH:MM:SS`` (naive local time); ``None`` when malformed."""
    try:
        return datetime.strptime(text.strip(), TIMESTAMP_FORMAT)  # noqa: DTZ007 - Mobizon's times are naive local time
    except ValueError:
        return None
