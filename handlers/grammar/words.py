"""The words of ``/sms`` in each language: one table per kind of word, so a language is data.

Every word of every language is accepted whatever the reader's language (``enviar`` and ``send``
both send); the reader's language only chooses which word a sentence shows, and whether a date
written with slashes is read day first. Each table maps a language to its spellings, each
spelling to its *meaning*: the English word, which the parsers work with. The first spelling of a
meaning in a language is the one shown; the others are accepted too (``enviado-após`` besides
``enviado-apos``).

Words are compared in Unicode NFC form and in lower case, as the English words always were.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from handlers.i18n import DEFAULT_LOCALE, current_locale

__all__ = [
    "FIND_FIELDS",
    "OPTOUT_ACTIONS",
    "SEND_OPTIONS",
    "SORT_KEYS",
    "STATUS_WORDS",
    "SUBCOMMANDS",
    "TEMPLATE_ACTIONS",
    "TEMPLATE_LIST_FIELDS",
    "Words",
    "normal",
    "reader_day_first",
    "reader_language",
]

#: Languages whose people write dates day first (``30/11/2026``); elsewhere slashes are ambiguous.
DAY_FIRST_LANGUAGES = frozenset({"pt"})


def normal(word: str) -> str:
    """``word`` as tables hold it: NFC (one code point per accented letter), lower case."""
    return unicodedata.normalize("NFC", word).lower()


def reader_language() -> str:
    """The language of the active locale (``pt`` for ``pt_BR``), as the tables name languages."""
    return current_locale().replace("-", "_").split("_", 1)[0].lower() or DEFAULT_LOCALE


def reader_day_first() -> bool:
    """Whether the reader's language writes dates day first, so ``01/02/2026`` is 1 February."""
    return reader_language() in DAY_FIRST_LANGUAGES


@dataclass(frozen=True)
class Words:
    """One kind of word: for each language, each accepted spelling and the meaning it has."""

    spellings: Mapping[str, Mapping[str, str]]
    _meanings: dict[str, str] = field(init=False, repr=False, compare=False)
    _languages: dict[str, frozenset[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Index every spelling of every language; one spelling may not mean two things."""
        meanings: dict[str, str] = {}
        languages: dict[str, set[str]] = {}
        for language, table in self.spellings.items():
            for spelling, meaning in table.items():
                if normal(spelling) != spelling:
                    raise ValueError(f"{spelling!r} is not written in NFC lower case")
                if meanings.setdefault(spelling, meaning) != meaning:
                    raise ValueError(
                        f"{spelling!r} means both {meanings[spelling]!r} and {meaning!r}"
                    )
                languages.setdefault(spelling, set()).add(language)
        object.__setattr__(self, "_meanings", meanings)
        object.__setattr__(self, "_languages", {w: frozenset(ls) for w, ls in languages.items()})

    def meaning(self, word: str) -> str | None:
        """What ``word`` means in any language (its English word), or ``None`` if no word."""
        return self._meanings.get(normal(word))

    @property
    def all_spellings(self) -> tuple[str, ...]:
        """Every accepted spelling, in every language."""
        return tuple(self._meanings)

    def spellings_of(self, meaning: str) -> tuple[str, ...]:
        """Every accepted spelling of ``meaning``, in every language."""
        return tuple(w for w, means in self._meanings.items() if means == meaning)

    def word(self, meaning: str, language: str | None = None) -> str:
        """The word shown for ``meaning`` in ``language`` (default: the reader's), else English."""
        for chosen in (language or reader_language(), DEFAULT_LOCALE):
            for spelling, means in self.spellings.get(chosen, {}).items():
                if means == meaning:
                    return spelling
        return meaning

    def listed(self, meanings: tuple[str, ...], language: str | None = None) -> str:
        """``meanings`` as the reader's words, comma-separated: ``para, de, texto``."""
        return ", ".join(self.word(meaning, language) for meaning in meanings)

    def shown(self, typed: str, meaning: str) -> str:
        """The word a sentence shows for ``meaning``, which was typed as ``typed``.

        What was typed when it is a word of the reader's language, or when the reader reads
        English or a language with no words here (a Portuguese word typed by an English reader is
        echoed); otherwise the reader's own word (a Portuguese reader who typed ``to`` reads
        ``para``).
        """
        typed = normal(typed)
        language = reader_language()
        if language not in self.spellings or language == DEFAULT_LOCALE:
            return typed  # English, or a language without words of its own: echo what was typed
        if language in self._languages.get(typed, frozenset()):
            return typed
        return self.word(meaning, language)


#: ``/sms WORD``.
SUBCOMMANDS = Words(
    {
        "en": {
            "send": "send",
            "status": "status",
            "find": "find",
            "help": "help",
            "balance": "balance",
            "cancel": "cancel",
            "template": "template",
            "optout": "optout",
            "opt-out": "optout",
        },
        "pt": {
            "enviar": "send",
            "status": "status",
            "buscar": "find",
            "ajuda": "help",
            "saldo": "balance",
            "cancelar": "cancel",
            "modelo": "template",
            "descadastrar": "optout",
        },
    }
)

#: ``/sms template WORD``.
TEMPLATE_ACTIONS = Words(
    {
        "en": {"add": "add", "list": "list", "remove": "remove"},
        "pt": {"adicionar": "add", "listar": "list", "remover": "remove"},
    }
)

#: ``/sms optout WORD``.
OPTOUT_ACTIONS = Words(
    {
        "en": {"add": "add", "list": "list", "remove": "remove"},
        "pt": {"adicionar": "add", "listar": "list", "remover": "remove"},
    }
)

#: ``/sms template list WORD:value`` and ``/sms optout list WORD:value``.
TEMPLATE_LIST_FIELDS = Words(
    {
        "en": {"page": "page"},
        "pt": {"página": "page", "pagina": "page"},
    }
)

#: ``/sms send --WORD``.
SEND_OPTIONS = Words(
    {
        "en": {
            "from": "from",
            "at": "at",
            "validity": "validity",
            "flash": "flash",
            "name": "name",
            "shorten-links": "shorten-links",
            "gsm": "gsm",
            "template": "template",
        },
        "pt": {
            "de": "from",
            "agendar": "at",
            "validade": "validity",
            "flash": "flash",
            "nome": "name",
            "encurtar-links": "shorten-links",
            "sem-acentos": "gsm",
            "modelo": "template",
        },
    }
)

#: ``/sms find WORD:value``.
FIND_FIELDS = Words(
    {
        "en": {
            "to": "to",
            "from": "from",
            "text": "text",
            "status": "status",
            "campaign": "campaign",
            "group": "group",
            "sent-after": "sent-after",
            "sent-before": "sent-before",
            "updated-after": "updated-after",
            "updated-before": "updated-before",
            "page": "page",
            "size": "size",
            "sort": "sort",
        },
        "pt": {
            "para": "to",
            "de": "from",
            "texto": "text",
            "status": "status",
            "campanha": "campaign",
            "grupo": "group",
            "enviado-apos": "sent-after",
            "enviado-após": "sent-after",
            "enviado-antes": "sent-before",
            "atualizado-apos": "updated-after",
            "atualizado-após": "updated-after",
            "atualizado-antes": "updated-before",
            "pagina": "page",
            "página": "page",
            "tamanho": "size",
            "ordem": "sort",
        },
    }
)

#: ``/sms find sort:WORD``; a meaning is one of Mobizon's sort fields.
SORT_KEYS = Words(
    {
        "en": {
            "id": "id",
            "sent": "startSendTs",
            "updated": "statusUpdateTs",
            "to": "to",
            "from": "from",
            "status": "status",
            "text": "text",
            "segments": "segNum",
            "campaign": "campaignId",
            # Mobizon's own names work too.
            "campaignid": "campaignId",
            "startsendts": "startSendTs",
            "statusupdatets": "statusUpdateTs",
            "segnum": "segNum",
        },
        "pt": {
            "id": "id",
            "enviado": "startSendTs",
            "atualizado": "statusUpdateTs",
            "para": "to",
            "de": "from",
            "status": "status",
            "texto": "text",
            "segmentos": "segNum",
            "campanha": "campaignId",
        },
    }
)

#: ``/sms find status:WORD``; a meaning is one of Mobizon's status codes, which work everywhere.
STATUS_WORDS = Words(
    {
        "en": {
            "new": "NEW",
            "enqueud": "ENQUEUD",
            "acceptd": "ACCEPTD",
            "pdlivrd": "PDLIVRD",
            "delivrd": "DELIVRD",
            "undeliv": "UNDELIV",
            "rejectd": "REJECTD",
            "expired": "EXPIRED",
            "deleted": "DELETED",
            "queued": "ENQUEUD",
            "enqueued": "ENQUEUD",
            "accepted": "ACCEPTD",
            "delivered": "DELIVRD",
            "undelivered": "UNDELIV",
            "rejected": "REJECTD",
        },
        "pt": {
            "novo": "NEW",
            "na-fila": "ENQUEUD",
            "aceito": "ACCEPTD",
            "entregue": "DELIVRD",
            "nao-entregue": "UNDELIV",
            "não-entregue": "UNDELIV",
            "rejeitado": "REJECTD",
            "expirado": "EXPIRED",
            "excluido": "DELETED",
            "excluído": "DELETED",
            # "a mensagem" is feminine: people write these as often as the masculine words.
            "nova": "NEW",
            "aceita": "ACCEPTD",
            "rejeitada": "REJECTD",
            "expirada": "EXPIRED",
            "excluida": "DELETED",
            "excluída": "DELETED",
        },
    }
)
