"""``smsbot console`` with ``/sms`` in Portuguese words, as a real process reading stdin."""

from __future__ import annotations

from pathlib import Path

from tests.bot.test_console import run_console, sections

SCRIPT = """\
/sms ajuda
/sms enviar +55 11 98765-4321 Olá do console
/sms buscar para:5511 ordem:-enviado tamanho:25
/sms buscar para:5511 cor:azul
"""


async def test_console_reads_portuguese_words(tmp_path: Path) -> None:
    """Through stdin: ajuda, enviar and buscar answer as help, send and find do."""
    code, out, err = await run_console(tmp_path, SCRIPT, "--linger", "1")
    assert code == 0, err
    assert "Traceback" not in err
    shown = sections(out)
    headers = [header for header, _ in shown]
    assert headers[:4] == [
        "reply (only you see this)",  # ajuda
        "bot posted in #CCONSOLE",  # the SMS's message
        "reply (only you see this)",  # buscar
        "reply (only you see this)",  # the bad search
    ]
    help_text, posted, found, refused = (body for _, body in shown[:4])
    assert "Send SMS from Slack with `/sms`" in help_text
    assert "> Olá do console" in posted
    assert "SMS found: page 1 of 1, 1 found" in found
    assert "6300284 to +55 11 98765-4321" in found
    assert "“cor” is not a search field" in refused
    assert "Usage: /sms find" in refused
