"""The recipients of a send to many, read from a typed list or a CSV file (pure, no I/O).

:func:`read_list` reads ``5511987654321, +55 11 91234-5678`` (commas, spaces after them) or one
number per line; :func:`read_csv` reads a file's bytes by the rules of
:mod:`~bot.sms.sending.csv_files`, each column other than the number's filling the text's
``{placeholders}`` (:mod:`~bot.sms.sending.placeholders`; of two columns whose names match
alike, the first fills it). Every number is read as a single send reads its number
(:func:`~bot.sms.phones.read_number`, in the default region).

Either answers :class:`Recipients` (who gets the text, in order, and who was left out, why, and
in which row) or one refusal value, checked in this order: the file is not text
(:class:`NotText`) or cannot be split into rows (:class:`UnreadableRow`); it holds nothing
(:class:`NoEntries`); it has no number column (:class:`NoNumberColumn`); the text names a
placeholder no column fills (:class:`MissingPlaceholders`), before any number is read; more
than ``limit`` would receive it (:class:`TooManyRecipients`). Sentences are the surfaces' to word.

Rows are numbered as people see them: a file's rows as its spreadsheet numbers them (the header
is row 1), a list's numbers from 1 in the order typed, blank ones not counted. A row is left
out when its number is empty (a file's row with other values), cannot be read, could be two
numbers, repeats an earlier row's number (the first is kept), or is in ``excluded`` (the
opt-out list, checked after duplicates).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from bot.sms.phones import read_number
from bot.sms.sending.csv_files import (
    CsvRowError,
    Table,
    column_names,
    decode,
    number_column,
    read_table,
)
from bot.sms.sending.placeholders import PlaceholderText, column_key

_LIST_SEPARATOR = re.compile(r"[,\n\r]")


class LeftOutReason(enum.StrEnum):
    """Why a row gets no SMS."""

    EMPTY = "empty"
    """The row has values, but none in the number column."""
    UNREADABLE = "unreadable"
    """Not a phone number we can send to."""
    AMBIGUOUS = "ambiguous"
    """Bare digits naming two numbers (``readings`` holds both); neither is guessed."""
    DUPLICATE = "duplicate"
    """The same number as an earlier row (``duplicate_of``), which is kept."""
    OPTED_OUT = "opted_out"
    """On the opt-out list."""


@dataclass(frozen=True, slots=True)
class Recipient:
    """One recipient: its number, row, text filled and the values of the text's placeholders.

    ``number`` is in international digits without ``+``; ``values`` are by :func:`column_key`.
    """

    number: str
    row: int
    text: str
    values: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A row that gets no SMS: its ``row``, ``reason``, the number as ``typed`` and as read."""

    row: int
    reason: LeftOutReason
    typed: str
    number: str | None = None
    """The international digits, for a duplicate or an opted-out number."""
    duplicate_of: int | None = None
    """The row kept, for a duplicate."""
    readings: tuple[str, ...] = ()
    """Both readings, for an ambiguous number."""


@dataclass(frozen=True, slots=True)
class Recipients:
    """Who gets the text, in the order given, and who was left out, in row order.

    ``entries`` counts the rows (or list items) read; ``columns`` are the file's column names,
    ``number_column`` the number's (``None`` for a list, a file without a header, or a column
    without a name); ``placeholders`` the keys of the text's placeholders, each once.
    """

    recipients: tuple[Recipient, ...]
    left_out: tuple[LeftOut, ...]
    entries: int
    columns: tuple[str, ...] = ()
    number_column: str | None = None
    placeholders: tuple[str, ...] = ()

    def left_out_for(self, reason: LeftOutReason) -> tuple[LeftOut, ...]:
        """The rows left out for ``reason``."""
        return tuple(entry for entry in self.left_out if entry.reason is reason)


@dataclass(frozen=True, slots=True)
class NotText:
    """The file is not text in UTF-8 or Windows-1252 (a spreadsheet's own format, an image…)."""


@dataclass(frozen=True, slots=True)
class UnreadableRow:
    """The file cannot be split into rows from ``row`` on (most often a quote never closed)."""

    row: int


@dataclass(frozen=True, slots=True)
class NoEntries:
    """Nothing to read: an empty file or list, or (``header_only``) a header and no rows."""

    header_only: bool = False


@dataclass(frozen=True, slots=True)
class NoNumberColumn:
    """No column is named as a number column, nor holds numbers; ``columns`` are its names."""

    columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MissingPlaceholders:
    """The text's placeholders that no column fills.

    ``names`` are as written in the text; ``columns`` the file's placeholder columns (none for a
    list).
    """

    names: tuple[str, ...]
    columns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TooManyRecipients:
    """More than ``limit`` would receive it; ``entries`` is how many rows (or items) were given."""

    entries: int
    limit: int


#: Why nothing can be sent: one of these values.
Refusal = (
    NotText | UnreadableRow | NoEntries | NoNumberColumn | MissingPlaceholders | TooManyRecipients
)
#: What reading recipients answers.
Reading = Recipients | Refusal


def split_list(text: str) -> list[str]:
    """The items of a typed list: separated by commas or line breaks, stripped, blanks dropped."""
    return [item for piece in _LIST_SEPARATOR.split(text) if (item := piece.strip())]


def read_list(
    typed: str,
    text: str,
    *,
    default_region: str,
    limit: int,
    excluded: Collection[str] = frozenset(),
) -> Reading:
    """The recipients of the typed list ``typed`` for ``text`` (which can hold no placeholder)."""
    items = split_list(typed)
    if not items:
        return NoEntries()
    template = PlaceholderText.of(text)
    if template.names:
        return MissingPlaceholders(template.names)
    no_values: dict[str, str] = {}
    rows = ((row, item, no_values) for row, item in enumerate(items, start=1))
    return _collect(rows, len(items), _Rules(template, default_region, limit, excluded))


def read_csv(
    data: bytes,
    text: str,
    *,
    default_region: str,
    limit: int,
    excluded: Collection[str] = frozenset(),
) -> Reading:
    """The recipients of the CSV file ``data`` for ``text``, its placeholders filled per row."""
    table = _table(data, default_region)
    if not isinstance(table, Table):
        return table
    number_at = number_column(table, default_region)
    if number_at is None:
        return NoNumberColumn(column_names(table.header))
    filled: dict[str, int] = {}
    for index, name in enumerate(table.header):
        if index != number_at and name:
            filled.setdefault(column_key(name), index)
    template = PlaceholderText.of(text)
    if missing := template.missing(filled):
        placeholder_columns = tuple(n for i, n in enumerate(table.header) if i != number_at and n)
        return MissingPlaceholders(missing, placeholder_columns)
    used = [(key, filled[key]) for key in template.keys]
    rows = (
        (row.number, row.cell(number_at), {key: row.cell(at) for key, at in used})
        for row in table.rows
    )
    result = _collect(rows, len(table.rows), _Rules(template, default_region, limit, excluded))
    if not isinstance(result, Recipients):
        return result
    header = table.header[number_at] if number_at < len(table.header) else ""
    return Recipients(
        result.recipients,
        result.left_out,
        result.entries,
        column_names(table.header),
        header or None,
        template.keys,
    )


def _table(data: bytes, default_region: str) -> Table | NotText | UnreadableRow | NoEntries:
    """The file's header and rows, or why it has none."""
    decoded = decode(data)
    if decoded is None:
        return NotText()
    try:
        table = read_table(decoded, default_region)
    except CsvRowError as error:
        return UnreadableRow(error.row)
    return table if table.rows else NoEntries(header_only=bool(table.header))


@dataclass(frozen=True, slots=True)
class _Rules:
    """How every row of one reading is read."""

    template: PlaceholderText
    default_region: str
    limit: int
    excluded: Collection[str]


def _collect(
    rows: Iterable[tuple[int, str, dict[str, str]]], entries: int, rules: _Rules
) -> Recipients | TooManyRecipients:
    """Read each row's number and keep it, or leave it out with its reason, in row order."""
    recipients: list[Recipient] = []
    left_out: list[LeftOut] = []
    kept: dict[str, int] = {}
    readings_of: dict[str, tuple[str, ...]] = {}
    for row, typed, values in rows:
        if not typed:
            left_out.append(LeftOut(row, LeftOutReason.EMPTY, typed))
            continue
        readings = readings_of.get(typed)
        if readings is None:
            readings = readings_of[typed] = read_number(typed, rules.default_region)
        if len(readings) != 1:
            reason = LeftOutReason.AMBIGUOUS if readings else LeftOutReason.UNREADABLE
            left_out.append(LeftOut(row, reason, typed, readings=readings))
            continue
        number = readings[0]
        if (first := kept.get(number)) is not None:
            left_out.append(LeftOut(row, LeftOutReason.DUPLICATE, typed, number, first))
            continue
        kept[number] = row
        if number in rules.excluded:
            left_out.append(LeftOut(row, LeftOutReason.OPTED_OUT, typed, number))
            continue
        if len(recipients) == rules.limit:
            return TooManyRecipients(entries, rules.limit)
        recipients.append(Recipient(number, row, rules.template.fill(values), values))
    return Recipients(tuple(recipients), tuple(left_out), entries)
