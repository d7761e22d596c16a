"""How many SMS segments a text takes, estimated before sending (pure functions).

Mobizon's ``segNum`` is the authority once a message is sent; this is the usual estimate:
GSM-7 texts take 160 septets in one segment or 153 per part, extension characters count twice
and never straddle two parts; any other text is UCS-2, 70 UTF-16 code units in one segment or
67 per part, and a surrogate pair (an emoji) never straddles two parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: The most segments one SMS may take before the bot refuses to send it.
MAX_SEGMENTS = 10

#: GSM 03.38 basic character set (one septet each); ESC is left out because it is not text.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: GSM 03.38 extension table: each is sent as ESC plus a septet, so it counts twice.
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
_GSM7 = GSM7_BASIC | GSM7_EXTENSION

_GSM7_SINGLE, _GSM7_PART = 160, 153
_UCS2_SINGLE, _UCS2_PART = 70, 67
_BMP_LIMIT = 0xFFFF
_BMP_TOP = chr(_BMP_LIMIT)


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """The encoding a text needs, its length in that encoding's units, and its segment count.

    ``length`` is in septets for GSM-7 (extension characters count 2) and in UTF-16 code units
    for UCS-2 (an emoji counts 2).
    """

    encoding: Literal["GSM-7", "UCS-2"]
    length: int
    segments: int


class TooLongError(ValueError):
    """The text takes more than :data:`MAX_SEGMENTS` segments; ``info`` says by how much.

    It carries data, not a sentence: the surface words it for people.
    """

    def __init__(self, info: SegmentInfo) -> None:
        super().__init__(f"{info.segments} segments, more than {MAX_SEGMENTS}")
        self.info = info
        self.limit = MAX_SEGMENTS


def count_segments(text: str) -> SegmentInfo:
    """Estimate the encoding, length and segment count of ``text`` as one SMS.

    The empty text counts as 0 segments: nothing would be sent (the ``/sms`` grammar never
    lets an empty text through).
    """
    # the common texts first, without a look at each character: every character one unit
    if GSM7_BASIC.issuperset(text):
        return SegmentInfo("GSM-7", len(text), _parts(len(text), _GSM7_SINGLE, _GSM7_PART))
    if not _GSM7.issuperset(text) and max(text) <= _BMP_TOP:
        return SegmentInfo("UCS-2", len(text), _parts(len(text), _UCS2_SINGLE, _UCS2_PART))
    return counted_by_character(text)


def counted_by_character(text: str) -> SegmentInfo:
    """:func:`count_segments` worked out character by character (what its shortcuts must equal)."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text):
        units = [2 if char in GSM7_EXTENSION else 1 for char in text]
        return SegmentInfo("GSM-7", sum(units), _pack(units, _GSM7_SINGLE, _GSM7_PART))
    units = [2 if ord(char) > _BMP_LIMIT else 1 for char in text]
    return SegmentInfo("UCS-2", sum(units), _pack(units, _UCS2_SINGLE, _UCS2_PART))


def _parts(units: int, single: int, part: int) -> int:
    """The parts ``units`` characters of one unit each take (what :func:`_pack` counts for them)."""
    if units <= single:
        return 1 if units else 0
    return -(-units // part)


def check_length(text: str) -> SegmentInfo:
    """Count the segments of ``text`` and refuse a text longer than :data:`MAX_SEGMENTS`.

    Raises :class:`TooLongError` carrying the count.
    """
    info = count_segments(text)
    if info.segments > MAX_SEGMENTS:
        raise TooLongError(info)
    return info


def max_length(encoding: Literal["GSM-7", "UCS-2"]) -> int:
    """The longest text of ``encoding`` that fits :data:`MAX_SEGMENTS`, in its units.

    Exact for texts without extension characters or emoji, which may leave a part short by one.
    """
    part = _GSM7_PART if encoding == "GSM-7" else _UCS2_PART
    return MAX_SEGMENTS * part


def _pack(units: list[int], single: int, part: int) -> int:
    """Count the parts needed for characters of the given unit sizes, never splitting one."""
    total = sum(units)
    if total == 0:
        return 0
    if total <= single:
        return 1
    parts, used = 1, 0
    for size in units:
        if used + size > part:
            parts, used = parts + 1, 0
        used += size
    return parts
