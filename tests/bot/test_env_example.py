"""``.env.example`` lists every variable smsbot reads, each with a comment saying what it is."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Variables the settings read through their ``get`` helper, plus ones read elsewhere.
READ_ELSEWHERE = {"TZ", "MOBIZON_TIMEZONE", "SMSBOT_READERS"}


def test_env_example_lists_every_variable_with_a_comment() -> None:
    """Each variable the settings read appears once in .env.example, right under its comment."""
    settings_source = (ROOT / "bot" / "process" / "settings.py").read_text()
    read = set(re.findall(r'get\("([A-Z_]+)"\)', settings_source)) | READ_ELSEWHERE
    assert {"MOBIZON_API_KEY", "SMSBOT_SANDBOX", "SLACK_BOT_TOKEN"} <= read
    lines = (ROOT / ".env.example").read_text().splitlines()
    listed: dict[str, int] = {}
    for number, line in enumerate(lines):
        match = re.match(r"^#?([A-Z][A-Z0-9_]*)=", line)
        if match:
            name = match.group(1)
            assert name not in listed, f"{name} is listed twice"
            listed[name] = number
            above = number - 1  # variables grouped under one comment share it
            while above > 0 and re.match(r"^#?[A-Z][A-Z0-9_]*=", lines[above]):
                above -= 1
            assert lines[above].startswith("# "), f"{name} has no comment above it"
    assert read <= set(listed), f"missing from .env.example: {sorted(read - set(listed))}"
    assert set(listed) <= read, f"not read by smsbot: {sorted(set(listed) - read)}"
