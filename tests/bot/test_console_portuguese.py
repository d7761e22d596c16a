"""``smsbot console`` with ``/sms`` in Portuguese words, reading stdin (in-process, and as a real process)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.console import session as console
from bot.process.settings import Settings
from tests.bot.conftest import console_in_process, run_console, sections

SCRIPT = """\
/sms ajuda
/sms enviar +55 11 98765-4321 Olá do console
/sms buscar para:5511 ordem:-enviado tamanho:25
/sms buscar para:5511 cor:azul
"""


async def test_console_reads_portuguese_words(tmp_path: Path) -> None:
    """Through stdin: ajuda, enviar and buscar answer as help, send and find do."""
    code, out = await console_in_process(tmp_path, SCRIPT, linger=1)
    assert code == 0
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


async def test_the_compose_form_at_prompts_speaks_portuguese(tmp_path: Path) -> None:
    """pt-BR: the form's own words are Portuguese and its schedule is typed day first."""
    at = (datetime.now(UTC) + timedelta(days=2)).replace(hour=14, minute=30)
    # accented text: Enter at "send without accents" keeps them
    script = f"/sms\n+55 11 98765-4321\nOlá do formulário\n\n\n{at:%d/%m/%Y} 14:30\n\n\n"
    env = {"SMSBOT_DB": str(tmp_path / "c.db"), "SMSBOT_LANGUAGE": "pt-BR", "TZ": "UTC"}
    env["MOBIZON_TIMEZONE"] = "Etc/UTC"  # a container's zone: shown as people say it
    settings = Settings.from_env(env, mode="console").sandboxed()
    out = io.StringIO()
    code = await console.run_console(settings, stdin=io.StringIO(script), out=out, linger=0)
    text = out.getvalue()
    assert code == 0
    assert "• Remetente (opcional)" in text
    assert "Agendar envio [DD/MM/AAAA HH:MM, UTC] (Enter para pular): " in text
    assert "Remetente (opções: SMSBOT) (Enter para pular): " in text  # no [default] look
    for english in ("optional", "Enter to skip", "one of", "YYYY", "Etc/"):
        assert english not in text
    assert f"agendado para {at:%d/%m/%Y} 14:30 UTC" in text


async def test_a_bad_schedule_in_the_form_is_asked_again_in_portuguese(tmp_path: Path) -> None:
    """pt-BR: a schedule the form cannot read gets a Portuguese sentence and the question again."""
    script = "/sms\n+55 11 98765-4321\nOi\n\namanhã\ncancelar\ncancel\n"
    env = {"SMSBOT_DB": str(tmp_path / "c.db"), "SMSBOT_LANGUAGE": "pt-BR", "TZ": "UTC"}
    settings = Settings.from_env(env, mode="console").sandboxed()
    out = io.StringIO()
    code = await console.run_console(settings, stdin=io.StringIO(script), out=out, linger=0)
    text = out.getvalue()
    assert code == 0
    assert "Escreva a data e a hora assim: 01/12/2026 14:30." in text
    assert "(o formulário foi fechado sem enviar)" in text
    assert "o bot publicou" not in text


async def test_the_consoles_own_words_work_in_portuguese(tmp_path: Path) -> None:
    """próxima, anterior, cancelar and sair do what next, previous, cancel and quit do."""
    sends = "".join(f"/sms enviar +55 11 98765-43{n:02} teste {n}\n" for n in range(26))
    script = (
        sends + "/sms buscar tamanho:25\npróxima\nanterior\nproxima\n"
        "/sms\ncancelar\nsair\n/sms ajuda\n"
    )
    env = {"SMSBOT_DB": str(tmp_path / "c.db"), "SMSBOT_LANGUAGE": "pt-BR", "TZ": "UTC"}
    settings = Settings.from_env(env, mode="console").sandboxed()
    out = io.StringIO()
    code = await console.run_console(settings, stdin=io.StringIO(script), out=out, linger=0)
    text = out.getvalue()
    assert code == 0
    pages = [line for line in text.splitlines() if line.startswith("SMS encontrados: página")]
    assert [p.split(",")[0] for p in pages] == [
        "SMS encontrados: página 1 de 2",
        "SMS encontrados: página 2 de 2",
        "SMS encontrados: página 1 de 2",
        "SMS encontrados: página 2 de 2",
    ]
    assert "(o formulário foi fechado sem enviar)" in text
    assert "Envie SMS pelo Slack" not in text  # `sair` ended it before the help


async def test_the_consoles_intro_names_the_portuguese_words(tmp_path: Path) -> None:
    """pt-BR: the intro tells to type próxima, anterior, cancelar and sair, not the English words."""
    env = {"SMSBOT_DB": str(tmp_path / "c.db"), "SMSBOT_LANGUAGE": "pt-BR", "TZ": "UTC"}
    settings = Settings.from_env(env, mode="console").sandboxed()
    out = io.StringIO()
    code = await console.run_console(
        settings, stdin=io.StringIO("o que é isso\n"), out=out, linger=0
    )
    text = out.getvalue()
    assert code == 0
    for word in ("`próxima`", "`anterior`", "`cancelar`", "`sair`"):
        assert text.count(word) == 2, word  # the intro, and the help an unknown line gets
    for english in ("`next`", "`previous`", "`cancel`", "`quit`"):
        assert english not in text


async def test_the_portuguese_console_words_work_in_english_too(tmp_path: Path) -> None:
    """In English, cancelar still closes the form and sair still ends the console."""
    env = {"SMSBOT_DB": str(tmp_path / "c.db"), "TZ": "UTC"}
    settings = Settings.from_env(env, mode="console").sandboxed()
    out = io.StringIO()
    script = "/sms\nCancelar\n/sms help\nSAIR\n/sms help\n"
    code = await console.run_console(settings, stdin=io.StringIO(script), out=out, linger=0)
    text = out.getvalue()
    assert code == 0
    closed = text.index("(the form was closed without sending)")
    assert text.count("Send SMS from Slack") == 1  # the help between cancelar and sair
    assert text.index("Send SMS from Slack") > closed


async def test_the_portuguese_console_checks_as_typed_and_prints_one_line_per_change(
    tmp_path: Path,
) -> None:
    """pt-BR: a bad number refused as typed, one Portuguese line per edit, no English warning."""
    script = "/sms\n12\nsair\n/sms enviar +55 11 98765-4321 Oi\n"
    code, out, err = await run_console(
        tmp_path,
        script,
        "--linger",
        "20",
        env_extra={"SMSBOT_LANGUAGE": "pt-BR", "LOGNAME": "ana", "USER": "ana"},
        quick=True,
    )
    assert code == 0, err
    assert out.startswith("Console do smsbot: SANDBOX, os SMS vão para o simulador embutido.")
    assert "SANDBOX MODE" not in err  # the banner said it, in Portuguese
    assert "Número de telefone: \n  Não consigo enviar para “12”" in out
    assert "(o formulário foi fechado sem enviar)" in out
    assert "Enviado por:   @ana" in out
    lines = out.splitlines()
    assert any(line.startswith("SMS 6300284 para …4321: ✅ DELIVRD (entregue)") for line in lines)
    assert "↳ ✅ O SMS 6300284 para +55 11 98765-4321 foi entregue. (sandbox)" in lines
    assert out.count("IDs no Mobizon:") == 1  # the post printed once, its edits one line each
