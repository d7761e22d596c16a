"""The English message ids a translator works from: plurals, one level of brackets, plain words."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from bot.mobizon import MobizonGatewayError
from bot.sms.delivery.settling import CannotTell
from handlers import blocks
from handlers.delivery_posts import cannot_tell_reason
from handlers.gateway_errors import describe
from handlers.grammar import UsageError
from handlers.grammar.find import parse_find
from handlers.i18n import use_locale
from tests.handlers.conftest import TEMPLATE


def _ids() -> list[str]:
    with TEMPLATE.open("rb") as handle:
        catalog = read_po(handle)
    return [
        text
        for message in catalog
        if message.id
        for text in ((message.id,) if isinstance(message.id, str) else message.id)
    ]


@pytest.mark.parametrize(
    ("at_mobizon", "unanswered", "english", "portuguese"),
    [
        (
            1,
            1,
            (
                "Mobizon has 1 recent SMS with this number and text, "
                "and smsbot has 1 send of it with no answer recorded"
            ),
            (
                "o Mobizon tem 1 SMS recente com este número e texto, "
                "e o smsbot tem 1 envio dele sem resposta registrada"
            ),
        ),
        (
            1234,
            2,
            (
                "Mobizon has 1,234 recent SMS with this number and text, "
                "and smsbot has 2 sends of it with no answer recorded"
            ),
            (
                "o Mobizon tem 1.234 SMS recentes com este número e texto, "
                "e o smsbot tem 2 envios dele sem resposta registrada"
            ),
        ),
    ],
)
def test_why_smsbot_cannot_tell_gives_each_count_its_plural(
    at_mobizon: int, unanswered: int, english: str, portuguese: str
) -> None:
    """Each count of the cannot-tell notice has its own singular and plural, in its language."""
    why = CannotTell(at_mobizon=at_mobizon, unanswered=unanswered)
    with use_locale("en"):
        assert cannot_tell_reason(why) == english
    with use_locale("pt-BR"):
        assert cannot_tell_reason(why) == portuguese


def test_no_id_says_operator() -> None:
    """'Operator' is never used: the phone company is the carrier, the person runs smsbot."""
    said = [text for text in _ids() if re.search(r"\boperator", text, re.IGNORECASE)]
    assert said == []


def test_a_status_meaning_has_no_brackets_of_its_own() -> None:
    """A meaning is shown in brackets after its code, so it holds none itself."""
    assert all("(" not in meaning for meaning in blocks.STATUS_MEANINGS.values())
    with use_locale("pt-BR"):
        words = blocks.status_words("REJECTD")
    assert words.count("(") == 1
    assert words.startswith("REJECTD (rejeitado pela operadora")


def test_the_template_holds_sentences_not_lookup_keys() -> None:
    """The compose form's schedule problems are looked up by key; only the sentences are ids."""
    assert {"past", "soon", "late"}.isdisjoint(_ids())


@pytest.mark.parametrize(
    ("error", "portuguese"),
    [
        (
            MobizonGatewayError("Odd answer", code=77, api_message="Erro estranho."),
            "O Mobizon não conseguiu processar a requisição (código 77: Erro estranho).",
        ),
        (
            MobizonGatewayError("Odd answer", code=77),
            "O Mobizon não conseguiu processar a requisição (código 77).",
        ),
        (
            MobizonGatewayError("Odd answer", http_status=418, api_message="I'm a teapot"),
            "O Mobizon respondeu HTTP 418 (Mobizon: I'm a teapot).",
        ),
    ],
)
def test_a_failure_without_a_known_problem_is_worded_from_its_data(
    error: MobizonGatewayError, portuguese: str
) -> None:
    """Problem.OTHER with a code or an HTTP status gets a translated sentence, Mobizon's words kept."""
    with use_locale("pt-BR"):
        assert describe(error).startswith(portuguese)
        assert "Odd answer" not in describe(error)


def test_a_count_of_campaign_ids_follows_the_readers_number_format() -> None:
    """Too many campaign ids are counted in the reader's format (1.201 in pt-BR)."""
    typed = "campanha:" + ",".join(str(n) for n in range(1, 1202))
    with use_locale("pt-BR"), pytest.raises(UsageError) as caught:
        parse_find(typed)
    assert caught.value.sentence == "“campanha:” tem 1.201 IDs; o Mobizon busca no máximo 100."
