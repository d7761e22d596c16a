"""The recipients of a send to many, read from a typed list or a CSV file's bytes (pure)."""

from __future__ import annotations

import codecs

import pytest

from bot.sms.sending.recipients import (
    LeftOut,
    LeftOutReason,
    MissingPlaceholders,
    NoEntries,
    NoNumberColumn,
    NotText,
    Reading,
    Recipient,
    Recipients,
    TooManyRecipients,
    UnreadableRow,
    read_csv,
    read_list,
    split_list,
)

ANA = "5511987654321"
BIA = "5511912345678"
CAIO = "5521998765432"


def csv_reading(
    text: str,
    message: str = "Oi",
    *,
    encoding: str = "utf-8",
    limit: int = 10_000,
    excluded: frozenset[str] = frozenset(),
) -> Reading:
    """``text`` as a file's bytes in ``encoding``, read for ``message``."""
    data = text.encode(encoding)
    return read_csv(data, message, default_region="BR", limit=limit, excluded=excluded)


def recipients_of(reading: Reading) -> Recipients:
    """The recipients of a reading that must not be refused."""
    assert isinstance(reading, Recipients), reading
    return reading


def numbers_and_rows(reading: Reading) -> list[tuple[str, int]]:
    """Each recipient's number and row, in order."""
    return [(r.number, r.row) for r in recipients_of(reading).recipients]


# -- typed lists -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        f"{ANA}, +55 11 91234-5678",
        f"{ANA},+55 11 91234-5678",
        f"{ANA}\n+55 11 91234-5678",
        f"{ANA}\r\n(11) 91234-5678\r\n",
        f"\n  {ANA} ,\n\n, +55 (11) 91234-5678,",
    ],
)
def test_a_typed_list_reads_each_number_in_order(typed: str) -> None:
    """Commas (spaces after them allowed) or lines separate numbers; blank items are skipped."""
    reading = read_list(typed, "Olá", default_region="BR", limit=10)
    assert recipients_of(reading).recipients == (
        Recipient(ANA, 1, "Olá", {}),
        Recipient(BIA, 2, "Olá", {}),
    )
    assert recipients_of(reading).entries == 2


def test_split_list_drops_blank_items_and_spaces() -> None:
    """The items of a list are what stands between commas and line breaks, stripped."""
    assert split_list(" a , b\n\n c,,\r\nd ") == ["a", "b", "c", "d"]


def test_a_list_reads_numbers_in_the_default_region() -> None:
    """A national number in a list is read in the region given."""
    reading = read_list("(202) 555-0143", "Hi", default_region="US", limit=10)
    assert numbers_and_rows(reading) == [("12025550143", 1)]


def test_a_list_leaves_out_what_it_cannot_send_to_with_its_place() -> None:
    """Unreadable, ambiguous, repeated and opted-out numbers are left out with their item number."""
    typed = f"{ANA}, abc, 51 98765-4321, +55 11 98765-4321, {BIA}, 123"
    reading = recipients_of(read_list(typed, "Oi", default_region="BR", limit=10, excluded={BIA}))
    assert [r.number for r in reading.recipients] == [ANA]
    assert reading.left_out == (
        LeftOut(2, LeftOutReason.UNREADABLE, "abc"),
        LeftOut(
            3, LeftOutReason.AMBIGUOUS, "51 98765-4321", readings=("51987654321", "5551987654321")
        ),
        LeftOut(4, LeftOutReason.DUPLICATE, "+55 11 98765-4321", ANA, duplicate_of=1),
        LeftOut(5, LeftOutReason.OPTED_OUT, BIA, BIA),
        LeftOut(6, LeftOutReason.UNREADABLE, "123"),
    )
    assert reading.entries == 6


def test_a_number_with_text_after_it_is_not_read_as_a_list_item() -> None:
    """An item must be a number and nothing else: ``5511… Olá`` is unreadable, not guessed."""
    reading = recipients_of(read_list(f"{ANA} Olá", "Oi", default_region="BR", limit=10))
    assert reading.recipients == ()
    assert reading.left_out_for(LeftOutReason.UNREADABLE)[0].typed == f"{ANA} Olá"


@pytest.mark.parametrize("typed", ["", "  ", ",\n, ,"])
def test_an_empty_list_is_refused(typed: str) -> None:
    """A list with no item is a refusal value, not an empty send."""
    assert read_list(typed, "Oi", default_region="BR", limit=10) == NoEntries()


def test_a_list_has_no_column_to_fill_a_placeholder() -> None:
    """A placeholder in a list's text is refused, naming it, before any number is read."""
    reading = read_list("abc, def", "Oi {nome}, {Nome} {cidade}", default_region="BR", limit=1)
    assert reading == MissingPlaceholders(("nome", "cidade"))


# -- CSV files: text and separators -------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("cp1252", b"")],
)
def test_each_encoding_reads_the_same(encoding: str, bom: bytes) -> None:
    """UTF-8 with or without a BOM and Windows-1252 give the same names, accents and all."""
    data = bom + "Telefone;Nome;Endereço\n11 98765-4321;João;Rua São Bento\n".encode(encoding)
    reading = recipients_of(read_csv(data, "Olá {nome}, {endereço}", default_region="BR", limit=10))
    assert reading.columns == ("Telefone", "Nome", "Endereço")
    assert reading.number_column == "Telefone"
    assert reading.recipients == (
        Recipient(ANA, 2, "Olá João, Rua São Bento", {"nome": "João", "endereco": "Rua São Bento"}),
    )


@pytest.mark.parametrize("separator", [",", ";"])
def test_either_separator_is_detected(separator: str) -> None:
    """A comma- or semicolon-separated file splits into its columns."""
    text = f"nome{separator}phone\nAna{separator}{ANA}\nBia{separator}{BIA}\n"
    reading = csv_reading(text, "Oi {nome}")
    assert [r.text for r in recipients_of(reading).recipients] == ["Oi Ana", "Oi Bia"]


def test_a_one_column_header_does_not_hide_the_separator() -> None:
    """A header of one name over rows of two fields is still split by the rows' separator."""
    reading = recipients_of(csv_reading(f"nome\nAna,{ANA}\nBia,{BIA}\n"))
    assert [r.number for r in reading.recipients] == [ANA, BIA]
    assert reading.number_column is None


def test_commas_inside_a_semicolon_file_stay_in_their_field() -> None:
    """A Brazilian export with commas in its values is still split at the semicolons."""
    text = f"nome;telefone;valor\nSilva, Ana;{ANA};1,50\nSouza, Bia;{BIA};2,00\n"
    reading = recipients_of(csv_reading(text, "{nome}: R$ {valor}"))
    assert [r.text for r in reading.recipients] == ["Silva, Ana: R$ 1,50", "Souza, Bia: R$ 2,00"]


@pytest.mark.parametrize("separator", [",", ";"])
def test_quoted_fields_keep_separators_quotes_and_line_breaks(separator: str) -> None:
    """A quoted field keeps the separator, doubled quotes and line breaks; rows count records."""
    s = separator
    text = (
        f'"obs{s} extra"{s}phone{s}nome\n'
        f'x{s}{ANA}{s}"Silva{s} ""Ana"""\n'
        f'"y\nz"{s}{BIA}{s}"Bia\nSouza"\n'
        f"w{s}abc{s}Caio\n"
    )
    reading = recipients_of(csv_reading(text, "Oi {nome}"))
    assert reading.columns == (f"obs{s} extra", "phone", "nome")
    assert [r.text for r in reading.recipients] == [f'Oi Silva{s} "Ana"', "Oi Bia\nSouza"]
    assert reading.left_out == (LeftOut(4, LeftOutReason.UNREADABLE, "abc"),)


def test_blank_rows_are_skipped_but_counted_in_row_numbers() -> None:
    """Rows with no value are no recipient, and later rows keep their spreadsheet number."""
    text = f"phone;nome\n\n;\n{ANA};Ana\r\n \r\n{BIA};Bia\n\n"
    assert numbers_and_rows(csv_reading(text)) == [(ANA, 4), (BIA, 6)]


# -- CSV files: the number column -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "phone",
        "telefone",
        "celular",
        "numero",
        "número",
        "recipient",
        "to",
        " Telefone ",
        "NÚMERO",
        "Phone",
        "TO",
    ],
)
def test_the_number_column_is_found_by_each_name(name: str) -> None:
    """Any of the number column's names, in any case, accents and spaces, is the number column."""
    text = f"código,{name},nome\n{CAIO},{ANA},Ana\n"
    reading = recipients_of(csv_reading(text, "{nome} {Código}"))
    assert reading.number_column == name.strip()
    assert reading.recipients == (
        Recipient(ANA, 2, f"Ana {CAIO}", {"nome": "Ana", "codigo": CAIO}),
    )


def test_the_first_named_column_wins() -> None:
    """With two number-named columns the first is the number, the other a placeholder."""
    text = f"nome,celular,telefone\nAna,{ANA},{BIA}\n"
    reading = recipients_of(csv_reading(text, "{telefone}"))
    assert reading.number_column == "celular"
    assert [(r.number, r.text) for r in reading.recipients] == [(ANA, BIA)]


def test_of_two_columns_named_alike_the_first_fills_the_placeholder() -> None:
    """Two headers with the same key: the first column's values fill the placeholder."""
    text = f"Nome,phone,NOME\nAna,{ANA},Bia\n"
    reading = recipients_of(csv_reading(text, "{nome}"))
    assert [r.text for r in reading.recipients] == ["Ana"]


def test_without_a_named_column_the_first_holding_numbers_is_used() -> None:
    """No column named as a number: the first whose values read as numbers is the number column."""
    text = f"id,nome,contato,outro\n1,Ana,{ANA},{BIA}\n2,Bia,abc,{ANA}\n3,Caio,{CAIO},{CAIO}\n"
    reading = recipients_of(csv_reading(text, "{nome} {outro}"))
    assert reading.number_column == "contato"
    assert [r.number for r in reading.recipients] == [ANA, CAIO]
    assert reading.left_out == (LeftOut(3, LeftOutReason.UNREADABLE, "abc"),)


def test_a_column_of_mostly_other_values_is_not_the_number_column() -> None:
    """One number among words does not make a column the number column."""
    text = f"nome,obs\nAna,{ANA}\nBia,x\nCaio,y\n"
    reading = csv_reading(text)
    assert reading == NoNumberColumn(("nome", "obs"))


def test_a_file_without_a_header_is_all_recipients() -> None:
    """When the first row holds a number, it is a recipient too, not a header."""
    text = f"Ana;{ANA}\nBia;{BIA}\n"
    reading = recipients_of(csv_reading(text))
    assert numbers_and_rows(reading) == [(ANA, 1), (BIA, 2)]
    assert reading.columns == ()
    assert reading.number_column is None


def test_a_file_without_a_header_has_no_placeholders() -> None:
    """With no header no column has a name, so a placeholder is missing."""
    assert csv_reading(f"Ana;{ANA}\n", "Oi {nome}") == MissingPlaceholders(("nome",))


# -- CSV files: placeholders -------------------------------------------------------------------


def test_placeholders_are_filled_per_row_in_any_case_and_accents() -> None:
    """Each recipient's text has its own row's values; names match headers as keys."""
    text = f" Nome ;Telefone;CIDADE\n Ana ;{ANA};São Paulo\nBia;{BIA};\n"
    reading = recipients_of(csv_reading(text, "Olá {NOME} de {cidade}!"))
    assert [(r.text, dict(r.values)) for r in reading.recipients] == [
        ("Olá Ana de São Paulo!", {"nome": "Ana", "cidade": "São Paulo"}),
        ("Olá Bia de !", {"nome": "Bia", "cidade": ""}),
    ]
    assert reading.placeholders == ("nome", "cidade")


def test_a_short_row_fills_its_missing_cells_empty() -> None:
    """A row with fewer cells than the header fills the rest as empty values."""
    text = f"phone,nome,cidade\n{ANA},Ana\n"
    reading = recipients_of(csv_reading(text, "{nome}/{cidade}"))
    assert [r.text for r in reading.recipients] == ["Ana/"]


def test_a_missing_placeholder_is_refused_before_anything_else() -> None:
    """A placeholder no column fills is refused, naming it, though every number is bad too."""
    text = "phone;Nome;Cidade\nabc;Ana;Rio\n;Bia;Rio\n"
    reading = csv_reading(text, "Oi {nome} de {bairro} e {Estado}", limit=0)
    assert reading == MissingPlaceholders(("bairro", "Estado"), ("Nome", "Cidade"))


def test_the_number_column_is_no_placeholder() -> None:
    """The number column fills no placeholder: every other column does."""
    reading = csv_reading(f"telefone,nome\n{ANA},Ana\n", "{nome} {telefone}")
    assert reading == MissingPlaceholders(("telefone",), ("nome",))


def test_a_text_without_placeholders_is_the_same_for_everyone() -> None:
    """Without placeholders every recipient gets the text as written, and no values."""
    reading = recipients_of(csv_reading(f"phone,nome\n{ANA},Ana\n{BIA},Bia\n", "Oi {}"))
    assert [(r.text, dict(r.values)) for r in reading.recipients] == [("Oi {}", {})] * 2
    assert reading.placeholders == ()


# -- CSV files: rows left out ---------------------------------------------------------------------


def test_rows_left_out_carry_their_reason_and_row_number() -> None:
    """Empty, unreadable, ambiguous, repeated and opted-out numbers are left out, in row order."""
    text = (
        "nome;telefone\n"
        f"Ana;{ANA}\n"  # 2
        "Bia;\n"  # 3
        "Caio;11 1234\n"  # 4
        "Dani;51 98765-4321\n"  # 5
        "Eva;+55 (11) 98765-4321\n"  # 6
        f"Fabi;{BIA}\n"  # 7
        f"Gil;{BIA}\n"  # 8
        f"Hugo;{CAIO}\n"  # 9
    )
    reading = recipients_of(csv_reading(text, "{nome}", excluded=frozenset({BIA})))
    assert reading.recipients == (
        Recipient(ANA, 2, "Ana", {"nome": "Ana"}),
        Recipient(CAIO, 9, "Hugo", {"nome": "Hugo"}),
    )
    assert reading.left_out == (
        LeftOut(3, LeftOutReason.EMPTY, ""),
        LeftOut(4, LeftOutReason.UNREADABLE, "11 1234"),
        LeftOut(
            5, LeftOutReason.AMBIGUOUS, "51 98765-4321", readings=("51987654321", "5551987654321")
        ),
        LeftOut(6, LeftOutReason.DUPLICATE, "+55 (11) 98765-4321", ANA, duplicate_of=2),
        LeftOut(7, LeftOutReason.OPTED_OUT, BIA, BIA),
        LeftOut(8, LeftOutReason.DUPLICATE, BIA, BIA, duplicate_of=7),
    )
    assert reading.entries == 8
    assert [e.row for e in reading.left_out_for(LeftOutReason.DUPLICATE)] == [6, 8]


# -- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"PK\x03\x04\x14\x00\x06\x00",
        "phone\n5511987654321\n".encode("utf-16"),
        b"phone\n\x81\x8d\n",
        b"phone\n5511987654321\x07\n",
        "phone\n5511987654321\x85\n".encode(),
        b"phone\n5511987654321\x0c\n",
    ],
)
def test_a_file_that_is_not_text_is_refused(data: bytes) -> None:
    """Binary files, UTF-16, bytes neither encoding has and control characters are not text."""
    assert read_csv(data, "Oi", default_region="BR", limit=10) == NotText()


@pytest.mark.parametrize(
    ("data", "header_only"),
    [(b"", False), (b" \r\n\n,,\n", False), (codecs.BOM_UTF8, False), (b"nome;telefone\r\n", True)],
)
def test_an_empty_file_is_refused(data: bytes, header_only: bool) -> None:
    """A file with no rows, or only a header, is refused, saying which."""
    reading = read_csv(data, "Oi", default_region="BR", limit=10)
    assert reading == NoEntries(header_only=header_only)


def test_a_file_without_numbers_has_no_number_column() -> None:
    """No column named or holding numbers: refused, with the file's column names."""
    assert csv_reading("nome;cidade\nAna;Rio\n") == NoNumberColumn(("nome", "cidade"))


def test_a_quote_never_closed_is_an_unreadable_row() -> None:
    """A field that runs on past any sensible length is refused with the row it starts in."""
    text = f'phone,nome\n{ANA},Ana\n{BIA},"Bia\n' + "x" * 200_000 + "\n"
    assert csv_reading(text) == UnreadableRow(3)


# -- limits ------------------------------------------------------------------------------------


def test_the_limit_counts_recipients_not_rows_left_out() -> None:
    """Exactly ``limit`` recipients pass, rows left out not counted; one more is refused."""
    rows = f"{ANA}\nabc\n{ANA}\n{BIA}\n{CAIO}"
    reading = recipients_of(csv_reading(f"phone\n{rows}\n", limit=3))
    assert len(reading.recipients) == 3
    assert csv_reading(f"phone\n{rows}\n", limit=2) == TooManyRecipients(entries=5, limit=2)


def test_opted_out_numbers_do_not_count_toward_the_limit() -> None:
    """A number on the opt-out list is left out before the count."""
    typed = f"{ANA}, {BIA}, {CAIO}"
    reading = read_list(typed, "Oi", default_region="BR", limit=2, excluded=frozenset({BIA}))
    assert [r.number for r in recipients_of(reading).recipients] == [ANA, CAIO]
    refused = read_list(typed, "Oi", default_region="BR", limit=2)
    assert refused == TooManyRecipients(entries=3, limit=2)


def test_ten_thousand_rows_are_all_read() -> None:
    """A 10,000-row file at the default limit gives 10,000 recipients with their own texts."""
    rows = "\n".join(f"Cliente {n};+55 11 9{n:04d}-{n:04d}" for n in range(10_000))
    reading = recipients_of(csv_reading(f"nome;celular\n{rows}\n", "Oi {nome}"))
    assert len(reading.recipients) == 10_000
    assert reading.left_out == ()
    last = reading.recipients[-1]
    assert (last.number, last.row, last.text) == ("5511999999999", 10_001, "Oi Cliente 9999")
