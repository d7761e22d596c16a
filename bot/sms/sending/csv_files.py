"""A CSV file of recipients, from its bytes to its rows and its number column (pure functions).

- Text: UTF-8, with or without a byte order mark, else Windows-1252. Bytes that are neither, or
  a control character other than tab and line breaks (a NUL byte…), mean the file is not text.
- Separator: comma or semicolon (Brazilian spreadsheets export ``;``): the one that splits more
  of the first rows into several fields, then more of them as wide as the first; a tie is a
  comma. Fields
  may be quoted (``"Silva, Ana"``), quotes doubled inside.
- Rows are numbered as a spreadsheet numbers them: the first record of the file is row 1 (a
  quoted field's line breaks do not start a row). Blank rows (nothing but spaces and
  separators) are skipped.
- Header: the first row, unless one of its values reads as a phone number: then the file has no
  header and every row is a recipient.
- The number column is the first headed ``phone``, ``telefone``, ``celular``, ``numero`` or
  ``número``, ``recipient`` or ``to`` (matched by
  :func:`~bot.sms.sending.placeholders.column_key`: case, accents and spaces ignored), else the
  first column whose values read as numbers: more than half of its values in the first
  :data:`SAMPLE_ROWS` rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.sms.phones import read_number
from bot.sms.sending.placeholders import column_key

#: Header names of the number column, as :func:`column_key` gives them.
NUMBER_COLUMN_NAMES = frozenset({"phone", "telefone", "celular", "numero", "recipient", "to"})
#: How many rows the separator and the number column are judged on.
SAMPLE_ROWS = 20
#: The separators a file may use, the first winning a tie.
SEPARATORS = (",", ";")

#: A row whose cells hold only these is blank, whichever separator split it.
_BLANK = " \t\r\n" + "".join(SEPARATORS)
#: Control characters an SMS cannot carry (all but tab and line breaks): the file is not text.
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class CsvRowError(ValueError):
    """The file cannot be split into rows from ``row`` on (a quote never closed, most often)."""

    def __init__(self, row: int) -> None:
        super().__init__(f"row {row}")
        self.row = row


@dataclass(frozen=True, slots=True)
class Row:
    """One record of the file: its ``number`` as a spreadsheet shows it, and its ``cells``."""

    number: int
    cells: tuple[str, ...]

    def cell(self, column: int) -> str:
        """The value in ``column``, without surrounding spaces; empty when the row is short."""
        return self.cells[column].strip() if column < len(self.cells) else ""


@dataclass(frozen=True, slots=True)
class Table:
    """The file as rows: its ``header`` (empty when it has none) and the rows after it."""

    separator: str
    header: tuple[str, ...]
    rows: tuple[Row, ...]


def decode(data: bytes) -> str | None:
    """The text of ``data`` (UTF-8 with or without BOM, else Windows-1252); ``None``: not text."""
    if b"\x00" in data:
        return None
    body = data.removeprefix(codecs.BOM_UTF8)
    text: str | None = None
    for encoding in ("utf-8", "cp1252"):
        try:
            text = body.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None or _NOT_TEXT.search(text):
        return None
    return text


def read_table(text: str, default_region: str) -> Table:
    """Split ``text`` into its header and rows; raise :class:`CsvRowError` where it cannot."""
    separator = max(SEPARATORS, key=lambda candidate: _fit(text, candidate))
    rows = _rows(text, separator)
    if rows and any(read_number(cell, default_region) for cell in rows[0].cells):
        return Table(separator, (), tuple(rows))
    if not rows:
        return Table(separator, (), ())
    return Table(separator, tuple(cell.strip() for cell in rows[0].cells), tuple(rows[1:]))


def number_column(table: Table, default_region: str) -> int | None:
    """The index of the number column (by its name, else by its values); ``None``: there is none."""
    for index, name in enumerate(table.header):
        if column_key(name) in NUMBER_COLUMN_NAMES:
            return index
    sample = table.rows[:SAMPLE_ROWS]
    width = max((len(row.cells) for row in sample), default=0)
    for index in range(width):
        values = [value for row in sample if (value := row.cell(index))]
        numbers = sum(len(read_number(value, default_region)) == 1 for value in values)
        if values and numbers * 2 > len(values):
            return index
    return None


def _fit(text: str, separator: str) -> tuple[int, int, int]:
    """How well ``separator`` splits the first rows, best highest.

    First the rows it splits into more than one field, then the rows as wide as the first; a
    tie goes to the earlier of :data:`SEPARATORS`.
    """
    rank = -SEPARATORS.index(separator)
    try:
        sample = _rows(text, separator, limit=SAMPLE_ROWS)
    except CsvRowError:
        return (0, 0, rank)
    split = sum(len(row.cells) > 1 for row in sample)
    same = sum(len(row.cells) == len(sample[0].cells) for row in sample)
    return (split, same, rank)


def _rows(text: str, separator: str, limit: int | None = None) -> list[Row]:
    """The records of ``text`` with a value, up to ``limit``, numbered from 1 counting all."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    rows: list[Row] = []
    number = 0
    try:
        for cells in reader:
            number += 1
            if any(cell.strip(_BLANK) for cell in cells):
                rows.append(Row(number, tuple(cells)))
                if limit is not None and len(rows) >= limit:
                    break
    except csv.Error as error:
        raise CsvRowError(number + 1) from error
    return rows


def column_names(header: Sequence[str]) -> tuple[str, ...]:
    """The header's names with a value, as written (for saying which columns a file has)."""
    return tuple(name for name in header if name)
