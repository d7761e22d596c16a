"""The opt-out list at the console: kept with ``/sms optout``, its numbers refused by every send."""

from __future__ import annotations

from pathlib import Path

from tests.bot.conftest import console_in_process, sections

REFUSED = "was not sent: the number is on the opt-out list"


async def test_the_console_keeps_the_list_and_refuses_its_numbers(tmp_path: Path) -> None:
    """Added at the console: a typed send and the form's send are both refused; none is posted."""
    script = (
        "/sms optout add +55 11 98765-4321\n"
        "/sms optout list\n"
        "/sms send +55 11 98765-4321 Sale today\n"
        "/sms\n+55 11 98765-4321\nSale today\n\n\n\n\n"
    )
    code, out = await console_in_process(tmp_path, script)
    assert code == 0
    assert "+55 11 98765-4321 is on the opt-out list now" in out
    assert "Opt-out list: 1 number" in out
    assert out.count(REFUSED) == 2
    assert not any(header.startswith("bot posted") for header, _ in sections(out))
