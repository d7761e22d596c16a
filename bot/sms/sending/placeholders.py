"""``{placeholders}`` in a text sent to many, filled per recipient from a CSV file's columns.

A placeholder is written ``{name}``: a letter or ``_`` first, then letters (accented too), digits,
``_``, ``-`` or spaces, at most 40 characters, with spaces inside the braces ignored. Braces
around anything else (``{}``, ``{1}``, ``{a: b}``) are plain text.

A placeholder and a column header match by their :func:`column_key`: accents, case and the
surrounding spaces are ignored, and any run of spaces, ``_`` and ``-`` counts as one ``_``. So
``{Nome}``, ``{nome}`` and ``{NOME}`` are all filled from a column headed ``nome`` or ``Nome``,
and ``{endereco}``, ``{endereço}`` and ``{Endereço}`` from one headed ``Endereço``; ``{nome
completo}``, ``{nome_completo}`` and ``{Nome-Completo}`` from one headed ``Nome completo``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass

_PLACEHOLDER = re.compile(r"\{\s*([^\W\d][\w\- ]{0,39}?)\s*\}")
_SEPARATORS = re.compile(r"[\s_\-]+")


def column_key(name: str) -> str:
    """The key a column header or a placeholder name is matched by (``" Endereço "``: ``endereco``).

    Accents are dropped (Unicode decomposition, combining marks removed), case is folded, the
    ends are stripped, and each run of spaces, ``_`` and ``-`` inside becomes one ``_``.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SEPARATORS.sub("_", bare.casefold().strip()).strip("_")


@dataclass(frozen=True, slots=True)
class PlaceholderText:
    """A text split once into its literal pieces and its placeholders, to fill it many times.

    ``names`` are the placeholders as written, each key once, in the order they first appear;
    ``keys`` their :func:`column_key`, in the same order.
    """

    pieces: tuple[str, ...]
    """Literal text and placeholder keys, alternating: literal, key, literal, …, literal."""
    names: tuple[str, ...]
    keys: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> PlaceholderText:
        """Split ``text`` at its placeholders."""
        pieces: list[str] = []
        names: dict[str, str] = {}
        start = 0
        for match in _PLACEHOLDER.finditer(text):
            key = column_key(match.group(1))
            pieces += [text[start : match.start()], key]
            names.setdefault(key, match.group(1))
            start = match.end()
        pieces.append(text[start:])
        return cls(tuple(pieces), tuple(names.values()), tuple(names))

    def missing(self, keys: Collection[str]) -> tuple[str, ...]:
        """The placeholders, as written, whose key is not among ``keys``."""
        return tuple(
            name for name, key in zip(self.names, self.keys, strict=True) if key not in keys
        )

    def fill(self, values: Mapping[str, str]) -> str:
        """The text with each placeholder replaced by its key's value (empty when it has none)."""
        if len(self.pieces) == 1:
            return self.pieces[0]
        return "".join(
            piece if index % 2 == 0 else values.get(piece, "")
            for index, piece in enumerate(self.pieces)
        )
