"""The mrkdwn helpers: outside text shown as typed, and quoting a short piece of it."""

from __future__ import annotations

import html

import pytest

from handlers.mrkdwn import (
    MARK,
    escape,
    escape_short,
    short,
    unformatted,
    unmarked,
    verbatim,
    verbatim_pieces,
)


def test_short_keeps_what_fits_and_marks_a_cut() -> None:
    """Text up to the limit is kept whole; longer text is cut to the limit, ending in “…”."""
    assert short("x" * 40) == "x" * 40
    assert short("x" * 41) == "x" * 39 + "…"
    assert short("abcdef", 4) == "abc…"
    assert len(short("y" * 500, 100)) == 100


def test_escape_short_cuts_before_escaping() -> None:
    """An escaped entity is never cut in half: the text is cut first, then escaped."""
    assert escape_short("<" * 50, 5) == "&lt;" * 4 + "…"


M = MARK


def test_verbatim_marks_every_formatting_character_and_escapes_entities() -> None:
    """``*``, ``_``, ``~`` and backticks get a mark on each side; ``&``, ``<``, ``>`` are escaped."""
    assert MARK == "\u00ad"
    assert verbatim("*b* _i_ ~s~ `c`") == (
        f"{M}*{M}b{M}*{M} {M}_{M}i{M}_{M} {M}~{M}s{M}~{M} {M}`{M}c{M}`{M}"
    )
    assert verbatim("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"


def test_verbatim_keeps_quotes_and_emoji_codes_from_rendering() -> None:
    """A ``>`` opening a line is marked (no quote), as is the colon opening an emoji code."""
    assert verbatim("> a\nb > c\n>d") == f"{M}&gt; a\nb &gt; c\n{M}&gt;d"
    assert verbatim("so :rage: now") == f"so :{M}rage: now"


def test_verbatim_leaves_ids_numbers_and_times_alone() -> None:
    """Digits, ids, times, phone numbers and plain words carry no mark: they copy exactly."""
    for plain in ("6300284", "+55 11 98765-4321", "12:30:45", "2026-12-01", "R$ 1.234,50", "Olá"):
        assert verbatim(plain) == plain


def test_unformatted_marks_without_escaping() -> None:
    """For words put into a sentence escaped later: marked, entities left for that escape."""
    assert unformatted("<*x*>") == f"<{M}*{M}x{M}*{M}>"
    assert escape(unformatted("<*x*>")) == verbatim("<*x*>")


def test_short_marks_what_it_quotes_after_cutting() -> None:
    """A quoted piece of typed text is cut to its limit, then marked."""
    assert short("*" * 50, 3) == f"{M}*{M}{M}*{M}…"
    assert escape_short("a_b", 10) == f"a{M}_{M}b"


def test_verbatim_pieces_is_one_piece_a_character() -> None:
    """Each character's piece, so a quote is cut between characters, never inside a mark."""
    assert verbatim_pieces("a*<") == ["a", f"{M}*{M}", "&lt;"]
    assert "".join(verbatim_pieces("> *x*")) == verbatim("> *x*")


@pytest.mark.parametrize(
    "text", ["*x* _y_ ~z~ `w`", "> q\n>> r :rage: 12:30:45", "**__~~``", "a\u00adb", "\u00ad*"]
)
def test_unmarked_undoes_exactly_the_marks(text: str) -> None:
    """Removing the marks gives back the text as typed, a soft hyphen someone typed included."""
    assert unmarked(unformatted(text)) == text
    assert html.unescape(unmarked(verbatim(text))) == text
