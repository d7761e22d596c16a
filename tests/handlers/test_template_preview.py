"""The list's one-line preview of a template's text (a pure function)."""

from __future__ import annotations

from handlers.commands.templates import PREVIEW, preview


def test_control_characters_are_pictured_or_coded_and_tab_kept() -> None:
    """C0 controls and DEL show as control pictures, a C1 control as its code; tab stays."""
    assert preview("a\x00b\x1bc\x7fd\x90e\tf") == "a\u2400b\u241bc\u2421dU+0090e\tf"


def test_a_long_text_of_controls_is_cut_and_marked() -> None:
    """30,000 NULs preview as at most PREVIEW characters, marked cut."""
    shown = preview("\x00" * 30_000)
    assert len(shown) == PREVIEW
    assert shown.endswith("…")
    assert "\x00" not in shown
