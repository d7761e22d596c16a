"""``smsbot console`` meets the SMS text rule as Slack does: a control character is refused."""

from __future__ import annotations

import io
from pathlib import Path

from bot.console import session as console
from bot.process.settings import Settings


async def test_a_control_character_typed_in_the_console_is_not_sent(tmp_path: Path) -> None:
    """A send whose text holds a control character is refused in the console; nothing is posted."""
    env = {"SMSBOT_DB": str(tmp_path / "c.db"), "TZ": "UTC"}
    settings = Settings.from_env(env, mode="console").sandboxed()
    out = io.StringIO()
    code = await console.run_console(
        settings,
        stdin=io.StringIO("/sms send +55 11 98765-4321 ring\x07 the bell\n"),
        out=out,
        linger=0,
    )
    assert code == 0
    assert "control character (U+0007, character 5)" in out.getvalue()
    assert "bot posted" not in out.getvalue()
