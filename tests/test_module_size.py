"""No production module grows past 400 lines (modules that mix concerns; issue 20 lowered 500 to 400)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Longest a module of the product may be, in lines.
MAX_LINES = 400


def test_no_production_module_is_over_400_lines() -> None:
    """Every module under bot/, handlers/, storage/ and testkit/ has at most 400 lines."""
    too_long = {
        path.relative_to(ROOT).as_posix(): length
        for folder in ("bot", "handlers", "storage", "testkit")
        for path in (ROOT / folder).rglob("*.py")
        if (length := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert too_long == {}
