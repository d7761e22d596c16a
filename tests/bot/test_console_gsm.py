"""The console's compose form offers to send without accents, as the modal does in Slack."""

from __future__ import annotations

from pathlib import Path

from tests.bot.conftest import console_in_process, sections

#: 98 characters: 2 segments in UCS-2, 1 in GSM-7 without its accents.
PORTUGUESE = (
    "Olá, João! Sua encomenda já está pronta para retirada na loja; "
    "a promoção de verão termina amanhã."
)
PLAIN = (
    "Ola, Joao! Sua encomenda ja esta pronta para retirada na loja; "
    "a promocao de verao termina amanha."
)


async def test_the_form_asks_and_sends_without_accents(tmp_path: Path) -> None:
    """After accented text the form shows both counts, asks yes or no, and sends the plain text."""
    script = f"/sms\n+55 11 98765-4321\n{PORTUGUESE}\nmaybe\nyes\n\n\n\n\nquit\n"
    code, out = await console_in_process(tmp_path, script)
    assert code == 0
    assert "UCS-2 · 98 characters · 2 SMS segments" in out
    assert "Without accents: GSM-7 · 98 characters · 1 SMS segment" in out
    assert "Fewer segments (Send without accents: yes/no) (Enter to skip): " in out
    assert "  Answer yes or no.\n" in out
    posted = dict(sections(out))["bot posted in #CCONSOLE"]
    assert f"> {PLAIN}" in posted
    assert "1 (GSM-7, 98 characters)" in posted


async def test_enter_keeps_the_accents(tmp_path: Path) -> None:
    """Enter at the question leaves the text as typed: nothing changes unless chosen."""
    script = f"/sms\n+55 11 98765-4321\n{PORTUGUESE}\n\n\n\n\n\nquit\n"
    code, out = await console_in_process(tmp_path, script)
    assert code == 0
    posted = dict(sections(out))["bot posted in #CCONSOLE"]
    assert f"> {PORTUGUESE}" in posted


async def test_a_plain_text_is_not_asked(tmp_path: Path) -> None:
    """A GSM-7 text has nothing to gain: the question is never asked."""
    script = "/sms\n+55 11 98765-4321\nHello from the form\n\n\n\n\nquit\n"
    code, out = await console_in_process(tmp_path, script)
    assert code == 0
    assert "Fewer segments" not in out
    assert "> Hello from the form" in dict(sections(out))["bot posted in #CCONSOLE"]


async def test_in_portuguese_the_answer_is_sim(tmp_path: Path) -> None:
    """Under pt-BR the question reads sim/não and ``sim`` ticks the choice."""
    script = f"/sms\n+55 11 98765-4321\n{PORTUGUESE}\nsim\n\n\n\n\nsair\n"
    code, out = await console_in_process(tmp_path, script, env_extra={"SMSBOT_LANGUAGE": "pt-BR"})
    assert code == 0
    assert "Menos segmentos (Enviar sem acentos: sim/não)" in out
    assert f"> {PLAIN}" in out
