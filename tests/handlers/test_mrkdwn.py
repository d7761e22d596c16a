"""The mrkdwn helpers: quoting a short piece of outside text."""

from __future__ import annotations

from handlers.mrkdwn import escape_short, short


def test_short_keeps_what_fits_and_marks_a_cut() -> None:
    """Text up to the limit is kept whole; longer text is cut to the limit, ending in “…”."""
    assert short("x" * 40) == "x" * 40
    assert short("x" * 41) == "x" * 39 + "…"
    assert short("abcdef", 4) == "abc…"
    assert len(short("y" * 500, 100)) == 100


def test_escape_short_cuts_before_escaping() -> None:
    """An escaped entity is never cut in half: the text is cut first, then escaped."""
    assert escape_short("<" * 50, 5) == "&lt;" * 4 + "…"
