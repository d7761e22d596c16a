"""The GSM-7 spelling of a text: accents and typography made plain, or none at all (pure)."""

from __future__ import annotations

import unicodedata

import pytest

from bot.sms.sending.gsm_spelling import NoPlainForm, gsm7_spelling, spelt_to_send, without_gsm7
from bot.sms.sending.segments import GSM7_BASIC, GSM7_EXTENSION, count_segments

#: 98 characters of accented Portuguese.
PORTUGUESE = (
    "Olá, João! Sua encomenda já está pronta para retirada na loja; "
    "a promoção de verão termina amanhã."
)


def test_a_portuguese_text_drops_from_two_segments_to_one() -> None:
    """98 accented characters take 2 UCS-2 segments; their GSM-7 spelling takes 1."""
    assert len(PORTUGUESE) == 98
    assert count_segments(PORTUGUESE).encoding == "UCS-2"
    assert count_segments(PORTUGUESE).segments == 2
    spelt = gsm7_spelling(PORTUGUESE)
    assert spelt == (
        "Ola, Joao! Sua encomenda ja esta pronta para retirada na loja; "
        "a promocao de verao termina amanha."
    )
    info = count_segments(spelt)
    assert (info.encoding, info.length, info.segments) == ("GSM-7", 98, 1)


@pytest.mark.parametrize(
    ("text", "spelt"),
    [
        ("ã õ â ê ô á í ó ú ç", "a o a e o a i o u c"),
        ("Ã Õ Â Ê Ô Á Í Ó Ú À È Ì Ò Ù", "A O A E O A I O U A E I O U"),
        ("ï ë ÿ ý Ï Ë Ý ĉ ş ž", "i e y y I E Y c s z"),
        ("“aspas” \u2018simples\u2019 «assim» „baixo“", '"aspas" \'simples\' "assim" "baixo"'),
        ("a \u2013 b — c \u2010 d \u2212 e", "a - b - c - d - e"),
        ("espere…", "espere..."),
        ("R$\u00a010 às\u202f18h\u2009ok\tfim", "R$ 10 às 18h ok fim"),
        ("nº 5, 1ª vez", "no 5, 1a vez"),
        ("zero\u200bwidth soft\u00adhyphen", "zerowidth softhyphen"),
        ("it\u2019s `code` \u00b4x", "it's 'code' 'x"),
        ("ﬁm ™", "fim TM"),
        ("Œuvre łódź", "OEuvre lodz"),
    ],
)
def test_characters_gsm7_lacks_become_their_plain_forms(text: str, spelt: str) -> None:
    """Accented letters lose accents GSM-7 lacks; quotes, dashes, ellipsis and spaces go plain."""
    assert gsm7_spelling(text) == spelt
    assert count_segments(spelt).encoding == "GSM-7"


def test_characters_gsm7_holds_are_kept() -> None:
    """é, à, è, ù, ì, ò, ü, ñ, Ç, É, Ä, Ø, ß and the extension table stay as they are."""
    kept = "é à è ù ì ò ü ñ ä ö å ø æ Ç É Ä Ö Ñ Ü Å Ø Æ ß € [ ] { } ~ ^ | \\"
    mixed = kept + " ã"
    assert gsm7_spelling(mixed) == kept + " a"


def test_a_gsm7_text_comes_back_unchanged() -> None:
    """A text GSM-7 already holds is its own spelling, the very same string."""
    text = "Your order is ready: café à 10€ {ok}\nline two"
    assert gsm7_spelling(text) is text


def test_every_gsm7_character_is_its_own_spelling() -> None:
    """Each character of both GSM 03.38 tables (the basic one and the extension) is kept."""
    every = "".join(sorted(GSM7_BASIC | GSM7_EXTENSION))
    assert gsm7_spelling(every + "ã") == every + "a"


def test_an_accent_typed_as_a_combining_mark_joins_its_letter() -> None:
    """An acute typed as U+0301 after e is é, which GSM-7 holds; a tilde after a is a."""
    decomposed = unicodedata.normalize("NFD", "café são")
    assert decomposed != "café são"
    assert gsm7_spelling(decomposed) == "café sao"


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("Olá 😀", "😀"),
        ("pedido 中文", "中"),
        ("Привет", "П"),
        ("30°C ação", "°"),
        ("½ kg", "½"),
        ("ação ❤️", "❤"),
        ("spacing ¨ diaeresis", "¨"),
    ],
)
def test_no_spelling_when_a_character_has_no_gsm7_form(text: str, first: str) -> None:
    """An emoji, CJK, Cyrillic or a symbol with no plain form leaves the text without a spelling."""
    assert gsm7_spelling(text) is None
    assert without_gsm7(text) == first


def test_every_character_of_a_spellable_text_has_a_form() -> None:
    """``without_gsm7`` names nothing in a text that has a GSM-7 spelling."""
    assert without_gsm7(PORTUGUESE) is None
    assert without_gsm7("plain") is None


def test_what_send_without_accents_sends() -> None:
    """The spelling to send; a character without a plain form named; control characters kept."""
    assert spelt_to_send("Olá, ação") == "Ola, acao"
    assert spelt_to_send("Olá 😀") == NoPlainForm("😀")
    assert spelt_to_send("Olá\x07") == "Olá\x07"  # the send's text rule refuses it in its words
