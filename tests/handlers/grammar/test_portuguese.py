"""The /sms grammar's Portuguese words, day-first dates, and sentences in the reader's words."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from bot.mobizon import ListCriteria, Sort
from handlers.grammar import (
    USAGE,
    BalanceCommand,
    CancelCommand,
    FindCommand,
    HelpCommand,
    SendCommand,
    StatusCommand,
    TemplateAddCommand,
    TemplateListCommand,
    TemplateRemoveCommand,
    TemplateSendCommand,
    find_button_value,
    parse_find_button,
)
from handlers.grammar.words import (
    FIND_FIELDS,
    SEND_OPTIONS,
    SORT_KEYS,
    STATUS_WORDS,
    SUBCOMMANDS,
    TEMPLATE_ACTIONS,
    Words,
    reader_day_first,
    reader_language,
)
from handlers.i18n import I18n, use_i18n, use_locale
from tests.handlers.grammar.helpers import BR_MOBILE, NOW, find, parse, refusal, send

FIELD_LIST_EN = (
    "to, from, text, status, campaign, group, sent-after, sent-before, updated-after, "
    "updated-before, page, size, sort"
)
FIELD_LIST_PT = (
    "para, de, texto, status, campanha, grupo, enviado-apos, enviado-antes, atualizado-apos, "
    "atualizado-antes, pagina, tamanho, ordem"
)


@pytest.fixture
def ids_only(tmp_path: Path) -> Iterator[I18n]:
    """Sentences stay the English message ids in any locale: only the grammar's words change."""
    with use_i18n(I18n(tmp_path)) as chosen:
        yield chosen


@pytest.fixture
def pt(ids_only: I18n) -> Iterator[str]:
    """The reader's language is Brazilian Portuguese (sentences themselves kept as ids)."""
    with use_locale("pt-BR") as name:
        yield name


@pytest.fixture
def en(ids_only: I18n) -> Iterator[str]:
    """The reader's language is English."""
    with use_locale("en") as name:
        yield name


# ---------------------------------------------------------------- the vocabulary


@pytest.mark.parametrize(
    ("words", "portuguese"),
    [
        (
            SUBCOMMANDS,
            {
                "send": ["enviar"],
                "status": ["status"],
                "find": ["buscar"],
                "help": ["ajuda"],
                "balance": ["saldo"],
                "cancel": ["cancelar"],
                "template": ["modelo"],
            },
        ),
        (TEMPLATE_ACTIONS, {"add": ["adicionar"], "list": ["listar"], "remove": ["remover"]}),
        (
            SEND_OPTIONS,
            {
                "from": ["de"],
                "at": ["agendar"],
                "validity": ["validade"],
                "flash": ["flash"],
                "name": ["nome"],
                "shorten-links": ["encurtar-links"],
                "template": ["modelo"],
            },
        ),
        (
            FIND_FIELDS,
            {
                "to": ["para"],
                "from": ["de"],
                "text": ["texto"],
                "status": ["status"],
                "campaign": ["campanha"],
                "group": ["grupo"],
                "sent-after": ["enviado-apos", "enviado-após"],
                "sent-before": ["enviado-antes"],
                "updated-after": ["atualizado-apos", "atualizado-após"],
                "updated-before": ["atualizado-antes"],
                "page": ["pagina", "página"],
                "size": ["tamanho"],
                "sort": ["ordem"],
            },
        ),
        (
            SORT_KEYS,
            {
                "id": ["id"],
                "startSendTs": ["enviado"],
                "statusUpdateTs": ["atualizado"],
                "to": ["para"],
                "from": ["de"],
                "status": ["status"],
                "text": ["texto"],
                "segNum": ["segmentos"],
                "campaignId": ["campanha"],
            },
        ),
    ],
)
def test_every_word_of_the_vocabulary_is_in_its_table(
    words: Words, portuguese: dict[str, list[str]]
) -> None:
    """Each Portuguese word of the fixed vocabulary means its English twin; the first is shown."""
    for meaning, spellings in portuguese.items():
        for spelling in spellings:
            assert words.meaning(spelling) == meaning, spelling
        assert words.word(meaning, "pt") == spellings[0]


def test_the_status_words_of_the_vocabulary() -> None:
    """na-fila, aceito, entregue, (n)ão-entregue, rejeitado and Mobizon's codes are statuses."""
    expected = {
        "na-fila": "ENQUEUD",
        "aceito": "ACCEPTD",
        "entregue": "DELIVRD",
        "nao-entregue": "UNDELIV",
        "não-entregue": "UNDELIV",
        "rejeitado": "REJECTD",
        "novo": "NEW",
        "expirado": "EXPIRED",
        "excluido": "DELETED",
        "excluído": "DELETED",
        "queued": "ENQUEUD",
        "enqueued": "ENQUEUD",
        "delivered": "DELIVRD",
    }
    expected |= {code: code for code in ("NEW", "ENQUEUD", "ACCEPTD", "PDLIVRD", "DELIVRD")}
    for word, code in expected.items():
        assert STATUS_WORDS.meaning(word) == code, word


def test_a_spelling_with_two_meanings_is_refused() -> None:
    """A table where one word would mean two things cannot be built: the clash shows at import."""
    with pytest.raises(ValueError, match="means both"):
        Words({"en": {"send": "send"}, "pt": {"send": "find"}})
    with pytest.raises(ValueError, match="NFC lower case"):
        Words({"pt": {"Enviar": "send"}})


def test_the_reader_language_and_its_dates() -> None:
    """pt-BR and pt read dates day first; English does not."""
    with use_locale("pt-BR"):
        assert (reader_language(), reader_day_first()) == ("pt", True)
    with use_locale("pt"):
        assert reader_day_first()
    with use_locale("en"):
        assert (reader_language(), reader_day_first()) == ("en", False)


# ---------------------------------------------------------------- subcommands


@pytest.mark.parametrize("locale", ["en", "pt-BR"])
def test_portuguese_subcommands_in_every_language(locale: str) -> None:
    """enviar, status, buscar, ajuda, saldo, cancelar and modelo work whatever the language."""
    with use_locale(locale):
        assert send(f"enviar {BR_MOBILE} Olá") == SendCommand(recipient=BR_MOBILE, text="Olá")
        assert parse("status 7, 8") == StatusCommand((7, 8))
        assert parse("buscar") == FindCommand()
        assert parse("ajuda") == HelpCommand()
        assert parse("saldo") == BalanceCommand()
        assert parse("cancelar 6300284") == CancelCommand(6300284)
        assert parse("modelo listar") == TemplateListCommand()
        # English keeps working in Portuguese
        assert send(f"send {BR_MOBILE} hi") == SendCommand(recipient=BR_MOBILE, text="hi")
        assert parse("help") == HelpCommand()


def test_portuguese_subcommands_ignore_case() -> None:
    """ENVIAR and Buscar work like enviar and buscar, as SEND works like send."""
    assert send(f"ENVIAR {BR_MOBILE} oi").text == "oi"
    assert parse("Buscar para:5511") == find("find to:5511")
    assert parse("  AJUDA  ") == HelpCommand()


def test_template_words_in_portuguese() -> None:
    """The template words adicionar, listar and remover, mixed with the English words both ways."""
    assert parse("modelo adicionar pronto Oi {nome}") == TemplateAddCommand("pronto", "Oi {nome}")
    assert parse("modelo remover pronto") == TemplateRemoveCommand("pronto")
    assert parse("template adicionar x hi") == TemplateAddCommand("x", "hi")
    assert parse("modelo add x hi") == TemplateAddCommand("x", "hi")
    assert parse("MODELO LISTAR") == TemplateListCommand()


@pytest.mark.parametrize(
    "typed",
    [
        f"enviar --modelo pronto {BR_MOBILE} nome=Ana",
        f"enviar --MODELO=pronto {BR_MOBILE} nome=Ana",
        f"send --modelo pronto {BR_MOBILE} nome=Ana",
        f"enviar --template pronto {BR_MOBILE} nome=Ana",
    ],
)
def test_template_send_with_the_portuguese_option(typed: str) -> None:
    """--modelo NOME sends a template, under either subcommand word."""
    assert parse(typed) == TemplateSendCommand("pronto", BR_MOBILE, (("nome", "Ana"),))


def test_an_unknown_portuguese_looking_word_is_still_refused() -> None:
    """A word in neither language is refused with the general usage line."""
    error = refusal("mandar 5511 oi")
    assert "“mandar”" in error.sentence


# ---------------------------------------------------------------- send options


def test_every_portuguese_option_of_send() -> None:
    """--de, --agendar, --validade, --flash, --nome and --encurtar-links mean the English ones."""
    command = send(
        'enviar --de MinhaLoja --agendar "2026-11-26 13:00" --validade 120 --flash '
        f'--nome "Black Friday" --encurtar-links {BR_MOBILE} Promoção começa agora'
    )
    assert command == send(
        'send --from MinhaLoja --at "2026-11-26 13:00" --validity 120 --flash '
        f'--name "Black Friday" --shorten-links {BR_MOBILE} Promoção começa agora'
    )
    assert command.sender == "MinhaLoja"
    assert command.at == datetime(2026, 11, 26, 13, 0)  # noqa: DTZ001
    assert (command.validity, command.flash, command.shorten_links) == (120, True, True)
    assert command.name == "Black Friday"


def test_portuguese_and_english_options_mix() -> None:
    """Options of both languages may be mixed, upper case and em dashes as in English."""
    command = send(f"send --DE Loja \u2014validity 90 --nome=x {BR_MOBILE} oi")
    assert (command.sender, command.validity, command.name) == ("Loja", 90, "x")


def test_an_option_given_in_both_languages_is_given_twice(pt: str) -> None:
    """--from and --de are one option: giving both is refused, naming it in the reader's words."""
    error = refusal(f"enviar --from A --de B {BR_MOBILE} oi")
    assert error.sentence == "“--de” is given twice; give each option once."
    assert error.usage == USAGE["send"]
    error = refusal(f"enviar --de A --from B {BR_MOBILE} oi")
    assert error.sentence == "“--de” is given twice; give each option once."


def test_an_english_reader_sees_the_option_as_typed(en: str) -> None:
    """An English reader who typed --flash=1 in Portuguese or English reads what was typed."""
    assert refusal(f"send --from A --de B {BR_MOBILE} oi").sentence.startswith("“--de” is given")
    assert refusal(f"send --de A --from B {BR_MOBILE} oi").sentence.startswith("“--from” is")
    assert refusal(f"send --encurtar-links=1 {BR_MOBILE} oi").sentence == (
        "“--encurtar-links” takes no value."
    )


# ---------------------------------------------------------------- day-first dates


@pytest.mark.parametrize(
    "when",
    ['"26/11/2026 13:00"', "26/11/2026 13:00", "=26/11/2026 13:00", '"2026-11-26 13:00"'],
)
def test_agendar_reads_day_first_in_portuguese(pt: str, when: str) -> None:
    """In pt-BR, --agendar 26/11/2026 13:00 is 26 November; ISO keeps working."""
    separator = "" if when.startswith("=") else " "
    command = send(f"enviar --agendar{separator}{when} {BR_MOBILE} Até amanhã")
    assert command.at == datetime(2026, 11, 26, 13, 0)  # noqa: DTZ001
    assert command.text == "Até amanhã"


def test_day_first_means_day_first(pt: str) -> None:
    """01/12/2026 is 1 December (not 12 January); one-digit days and months are read too."""
    assert send(f'enviar --at "01/12/2026 09:30" {BR_MOBILE} oi').at == datetime(  # noqa: DTZ001
        2026, 12, 1, 9, 30
    )
    assert send(f"enviar --agendar 1/12/2026 9:30 {BR_MOBILE} oi").at == datetime(  # noqa: DTZ001
        2026, 12, 1, 9, 30
    )


@pytest.mark.parametrize(
    ("when", "sentence"),
    [
        (
            "25/11/2026 11:00",
            "“--agendar 25/11/2026 11:00” is in the past (it is 25/11/2026 12:00 now)",
        ),
        ("25/11/2026 12:30", "“--agendar 25/11/2026 12:30” is less than 1 hour from now"),
        ("10/12/2026 12:01", "“--agendar 10/12/2026 12:01” is more than 14 days from now"),
        ("31/02/2026 12:00", "“31/02/2026 12:00” is not a real date and time."),
        ("26/11/2026", "“--agendar 26/11/2026” is not a date and time like 01/12/2026 14:30."),
        (
            "26/11/26 13:00",
            "“--agendar 26/11/26 13:00” is not a date and time like 01/12/2026 14:30.",
        ),
    ],
)
def test_day_first_schedules_keep_the_rules(pt: str, when: str, sentence: str) -> None:
    """Day-first times still have to be 1 hour to 14 days ahead, real, and carry a time."""
    error = refusal(f'enviar --agendar "{when}" {BR_MOBILE} oi', now=NOW)
    assert error.sentence.startswith(sentence), error.sentence
    assert error.usage == USAGE["send"]


@pytest.mark.parametrize("when", ['"26/11/2026 13:00"', "26/11/2026 13:00", '"1/12/2026 13:00"'])
def test_english_refuses_slashed_dates(en: str, when: str) -> None:
    """In English a slashed date could be month or day first: refused, pointing at ISO."""
    error = refusal(f"send --at {when} {BR_MOBILE} hi")
    shown = when.strip('"')
    assert error.sentence == (
        f"“{shown}” could be read month first or day first; "
        "write the year first, like 2026-12-01 14:30."
    )
    assert error.usage == USAGE["send"]


# ---------------------------------------------------------------- find


def test_every_portuguese_field_means_its_english_one() -> None:
    """A search in Portuguese words is the same search as in English."""
    portuguese = find(
        'buscar para:5511 de:MinhaLoja texto:"Seu pedido está pronto" status:entregue '
        "campanha:12,13 grupo:7,vip enviado-apos:2026-01-01 enviado-antes:2026-01-31 "
        "atualizado-apos:2026-02-01 atualizado-antes:2026-02-02 pagina:3 tamanho:100 ordem:para"
    )
    english = find(
        'find to:5511 from:MinhaLoja text:"Seu pedido está pronto" status:delivrd '
        "campaign:12,13 group:7,vip sent-after:2026-01-01 sent-before:2026-01-31 "
        "updated-after:2026-02-01 updated-before:2026-02-02 page:3 size:100 sort:to"
    )
    assert portuguese == english
    assert portuguese.criteria.recipient == "5511"
    assert portuguese.criteria.status == "DELIVRD"
    assert (portuguese.page, portuguese.page_size) == (3, 100)
    assert portuguese.criteria.sent_to == datetime(2026, 1, 31, 23, 59, 59)  # noqa: DTZ001


@pytest.mark.parametrize(
    ("accented", "plain"),
    [
        ("enviado-após:2026-01-01", "enviado-apos:2026-01-01"),
        ("atualizado-após:2026-01-01", "atualizado-apos:2026-01-01"),
        ("página:2", "pagina:2"),
        ("status:não-entregue", "status:nao-entregue"),
        ("status:excluído", "status:excluido"),
        ("PÁGINA:2", "pagina:2"),
    ],
)
def test_accented_and_plain_spellings_agree(accented: str, plain: str) -> None:
    """Accented and unaccented spellings mean the same, decomposed accents (NFD) included."""
    assert find(f"buscar {accented}") == find(f"buscar {plain}")
    decomposed = unicodedata.normalize("NFD", accented)
    assert decomposed != accented
    assert find(f"buscar {decomposed}") == find(f"buscar {plain}")


def test_english_and_portuguese_fields_mix() -> None:
    """Fields of both languages in one search, the number's spaces and times read as in English."""
    command = find("find para:+55 11 9876 status:delivered enviado-apos:2026-01-01 14:30 size:50")
    assert command.criteria == ListCriteria(
        recipient="55119876",
        status="DELIVRD",
        sent_from=datetime(2026, 1, 1, 14, 30),  # noqa: DTZ001
    )
    assert command.page_size == 50
    assert find("buscar to:5511 status:entregue") == find("find para:5511 status:DELIVRD")


@pytest.mark.parametrize(
    ("word", "code"),
    [
        ("na-fila", "ENQUEUD"),
        ("aceito", "ACCEPTD"),
        ("entregue", "DELIVRD"),
        ("ENTREGUE", "DELIVRD"),
        ("nao-entregue", "UNDELIV"),
        ("não-entregue", "UNDELIV"),
        ("rejeitado", "REJECTD"),
        ("novo", "NEW"),
        ("expirado", "EXPIRED"),
        ("excluido", "DELETED"),
        ("nova", "NEW"),
        ("aceita", "ACCEPTD"),
        ("rejeitada", "REJECTD"),
        ("expirada", "EXPIRED"),
        ("excluída", "DELETED"),
        ("DELIVRD", "DELIVRD"),
        ("pdlivrd", "PDLIVRD"),
    ],
)
def test_portuguese_status_words(word: str, code: str) -> None:
    """Each Portuguese status word, and Mobizon's codes, search for their status."""
    assert find(f"buscar status:{word}").criteria.status == code


@pytest.mark.parametrize(
    ("word", "sort"),
    [
        ("id", Sort("id")),
        ("enviado", Sort("startSendTs")),
        ("-enviado", Sort("startSendTs", descending=True)),
        ("atualizado", Sort("statusUpdateTs")),
        ("-ATUALIZADO", Sort("statusUpdateTs", descending=True)),
        ("para", Sort("to")),
        ("de", Sort("from")),
        ("status", Sort("status")),
        ("texto", Sort("text")),
        ("segmentos", Sort("segNum")),
        ("+campanha", Sort("campaignId")),
        ("-sent", Sort("startSendTs", descending=True)),
    ],
)
def test_portuguese_sort_keys(word: str, sort: Sort) -> None:
    """ordem: takes the Portuguese keys; a leading - still means largest or newest first."""
    assert find(f"buscar ordem:{word}").sort == sort
    assert find(f"find sort:{word}").sort == sort


def test_a_field_in_both_languages_is_given_twice() -> None:
    """to: and para: are one field: giving both is refused."""
    error = refusal("buscar to:5511 para:5512")
    assert "given twice" in error.sentence
    assert error.usage == USAGE["find"]


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("enviado-apos:30/11/2026", datetime(2026, 11, 30)),  # noqa: DTZ001
        ('enviado-apos:"30/11/2026 14:30"', datetime(2026, 11, 30, 14, 30)),  # noqa: DTZ001
        ("enviado-apos:30/11/2026 14:30", datetime(2026, 11, 30, 14, 30)),  # noqa: DTZ001
        ("sent-after:1/2/2026", datetime(2026, 2, 1)),  # noqa: DTZ001
        ("enviado-apos:2026-11-30", datetime(2026, 11, 30)),  # noqa: DTZ001
    ],
)
def test_find_dates_day_first_in_portuguese(pt: str, typed: str, value: datetime) -> None:
    """In pt-BR find's dates may be day first, with or without a time; ISO keeps working."""
    assert find(f"buscar {typed}").criteria.sent_from == value


def test_find_before_dates_day_first_cover_the_whole_day(pt: str) -> None:
    """enviado-antes:30/11/2026 reaches the end of that day, as the ISO date does."""
    command = find("buscar enviado-antes:30/11/2026 atualizado-antes:01/12/2026")
    assert command.criteria.sent_to == datetime(2026, 11, 30, 23, 59, 59)  # noqa: DTZ001
    assert command.criteria.updated_to == datetime(2026, 12, 1, 23, 59, 59)  # noqa: DTZ001


def test_find_refuses_impossible_day_first_dates(pt: str) -> None:
    """31/02/2026 is no date, day first or not."""
    error = refusal("buscar enviado-apos:31/02/2026")
    assert error.sentence == "“31/02/2026” is not a real date and time."


@pytest.mark.parametrize("typed", ["sent-after:30/11/2026", 'sent-before:"01/02/2026 10:00"'])
def test_english_refuses_slashed_find_dates(en: str, typed: str) -> None:
    """In English a slashed find date is refused, pointing at the year-first form."""
    error = refusal(f"find {typed}")
    assert error.sentence.endswith(
        "could be read month first or day first; write the year first, like 2026-01-31."
    )
    assert error.usage == USAGE["find"]


# ---------------------------------------------------------------- sentences in the reader's words


def test_field_list_in_the_readers_words(pt: str) -> None:
    """Under pt-BR the list of fields is the Portuguese one, whatever was typed."""
    error = refusal("buscar foo:1")
    assert error.sentence == f"“foo” is not a search field; the fields are {FIELD_LIST_PT}."
    error = refusal("find bare")
    assert error.sentence == f"“bare” is not FIELD:VALUE; the fields are {FIELD_LIST_PT}."


def test_field_list_in_english(en: str) -> None:
    """Under English the list of fields is the English one, even after a Portuguese search."""
    error = refusal("buscar para:1 foo:1")
    assert error.sentence == f"“foo” is not a search field; the fields are {FIELD_LIST_EN}."


@pytest.mark.parametrize(
    ("typed", "sentence"),
    [
        ("buscar para:1 para:2", "“para” is given twice; give each field once."),
        ("buscar to:1 to:2", "“para” is given twice; give each field once."),
        ("find página:1 page:2", "“pagina” is given twice; give each field once."),
        ("buscar página:1 página:2", "“página” is given twice; give each field once."),
        ("buscar texto:", "“texto:” needs a value."),
        ("find text:", "“texto:” needs a value."),
        ("buscar para:abc", "“para:abc” needs the digits of a number, or part of them."),
        ("buscar grupo:,", "“grupo:” needs group ids, separated by commas."),
        ("buscar status:feito", "“status:feito” is not a status; use one of"),
        ("buscar enviado-apos:ontem", "“enviado-apos:ontem” is not a date like 2026-01-31"),
        ("find sent-after:ontem", "“enviado-apos:ontem” is not a date like 2026-01-31"),
        ("buscar pagina:0", "“pagina:0” must be a page number from 1."),
        ("find size:30", "“tamanho:30” must be 25, 50 or 100."),
        (
            "buscar ordem:preço",
            (
                "“ordem:preço” is not a sort field; use id, enviado, atualizado, para, de, "
                "status, texto, segmentos, campanha, with"
            ),
        ),
        ("buscar campanha:1,x", "“x” is not a campaign id (in “campanha:”)"),
        (
            "buscar enviado-apos:2026-02-01 enviado-antes:2026-01-01",
            "“enviado-apos” is later than “enviado-antes”, so nothing can match.",
        ),
        (
            "find sent-after:2026-02-01 sent-before:2026-01-01",
            "“enviado-apos” is later than “enviado-antes”, so nothing can match.",
        ),
    ],
)
def test_errors_name_portuguese_fields_in_portuguese(pt: str, typed: str, sentence: str) -> None:
    """Under pt-BR a sentence names a field by its Portuguese word (accented as typed)."""
    assert refusal(typed).sentence.startswith(sentence)


@pytest.mark.parametrize(
    ("typed", "sentence"),
    [
        ("buscar para:1 para:2", "“para” is given twice; give each field once."),
        ("find to:1 to:2", "“to” is given twice; give each field once."),
        ("find texto:", "“texto:” needs a value."),
        ("find text:", "“text:” needs a value."),
        ("find pagina:0", "“pagina:0” must be a page number from 1."),
        ("find tamanho:30", "“tamanho:30” must be 25, 50 or 100."),
        ("find ordem:x", "“ordem:x” is not a sort field; use id, sent, updated, to, from, status"),
        ("find sort:x", "“sort:x” is not a sort field; use id, sent, updated, to, from, status"),
        ("find campanha:1,x", "“x” is not a campaign id (in “campanha:”)"),
        ("find enviado-após:ontem", "“enviado-após:ontem” is not a date like 2026-01-31"),
        (
            "find enviado-apos:2026-02-01 sent-before:2026-01-01",
            "“enviado-apos” is later than “sent-before”, so nothing can match.",
        ),
    ],
)
def test_an_english_reader_sees_portuguese_fields_as_typed(
    en: str, typed: str, sentence: str
) -> None:
    """Under English a Portuguese field typed is echoed as typed; English ones stay English."""
    assert refusal(typed).sentence.startswith(sentence)


# ---------------------------------------------------------------- Previous/Next buttons


@pytest.mark.parametrize("clicker", ["pt-BR", "en"])
def test_a_portuguese_search_survives_its_buttons(clicker: str) -> None:
    """A Portuguese search with a day-first date is read again the same by its buttons."""
    with use_locale("pt-BR"):
        command = find(
            'buscar para:5511 status:entregue enviado-apos:"30/11/2026 14:30" '
            "enviado-antes:01/12/2026 ordem:-enviado tamanho:50 página:2"
        )
    assert command.criteria.sent_from == datetime(2026, 11, 30, 14, 30)  # noqa: DTZ001
    assert command.sort == Sort("startSendTs", descending=True)
    value = find_button_value(command, 3)
    assert value.startswith("3 para:5511 status:entregue")
    with use_locale(clicker):
        assert parse_find_button(value) == replace(command, page=3)


def test_a_language_without_words_of_its_own_echoes_as_typed(ids_only: I18n) -> None:
    """A reader in a language with no table (German) reads the field as typed, like English."""
    with use_locale("de"):
        assert refusal("buscar para:1 para:2").sentence.startswith("“para” is given twice")
        assert refusal("find to:1 to:2").sentence.startswith("“to” is given twice")
        assert refusal("find foo:1").sentence.endswith(f"the fields are {FIELD_LIST_EN}.")
        assert "could be read month first" in refusal("find sent-after:1/2/2026").sentence


# ---------------------------------------------------------------- options named in refusals


@pytest.mark.parametrize(
    ("typed", "sentence"),
    [
        (f"enviar --validity 5 {BR_MOBILE} oi", "“--validade 5” must be whole minutes"),
        (f"enviar --validade 5 {BR_MOBILE} oi", "“--validade 5” must be whole minutes"),
        (f"enviar {BR_MOBILE} --de", None),  # after the number it is text: no refusal
        ("enviar --de", "“--de” needs a value: the sender name."),
        ("enviar --from", "“--de” needs a value: the sender name."),
        ("enviar --agendar", "“--agendar” needs a value: a date and time like 01/12/2026 14:30."),
        ("enviar --modelo", "“--modelo” needs a value: the template's name."),
        ("enviar --template", "“--modelo” needs a value: the template's name."),
        (
            f"enviar --preço 1 {BR_MOBILE} oi",
            (
                "“--preço” is not an option of /sms send; the options are --de, --agendar, "
                "--validade, --flash, --nome, --encurtar-links, --sem-acentos."
            ),
        ),
    ],
)
def test_refusals_name_options_in_portuguese(pt: str, typed: str, sentence: str | None) -> None:
    """Under pt-BR an option is named by its Portuguese word, whichever language was typed."""
    if sentence is None:
        assert send(typed).text
    else:
        assert refusal(typed).sentence.startswith(sentence)


@pytest.mark.parametrize(
    ("typed", "sentence"),
    [
        (f"send --validade 5 {BR_MOBILE} hi", "“--validade 5” must be whole minutes"),
        (f"send --validity 5 {BR_MOBILE} hi", "“--validity 5” must be whole minutes"),
        ("send --de", "“--de” needs a value: the sender name."),
        ("send --at", "“--at” needs a value: a date and time like 2026-12-01 14:30."),
        ("send --modelo", "“--modelo” needs a value: the template's name."),
        (
            f"send --price 1 {BR_MOBILE} hi",
            (
                "“--price” is not an option of /sms send; the options are --from, --at, "
                "--validity, --flash, --name, --shorten-links, --gsm."
            ),
        ),
    ],
)
def test_an_english_reader_sees_options_as_typed(en: str, typed: str, sentence: str) -> None:
    """Under English an option is echoed as typed, and the option list is the English one."""
    assert refusal(typed).sentence.startswith(sentence)
