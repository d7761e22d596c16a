"""The preview of a send to many and the sentences of its answers, rendered from domain values."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.mobizon import AddedRecipient, MobizonValidationError
from bot.sms.sending.campaign_types import (
    AlreadyDecided,
    CampaignDuplicate,
    CampaignMissing,
    CampaignNotAllowed,
    CampaignNotSaved,
    CampaignNotSent,
    CampaignOptions,
    CampaignStarted,
    CostEstimate,
    Expired,
    NoneLeft,
    NotYours,
    Prepared,
    PrepareRefusal,
    Preview,
    RowUnsendable,
)
from bot.sms.sending.recipients import (
    LeftOut,
    LeftOutReason,
    MissingPlaceholders,
    NoEntries,
    NoNumberColumn,
    NotText,
    TooManyRecipients,
    UnreadableRow,
)
from bot.sms.sending.segments import TooLongError, count_segments
from handlers import campaign_answers, send_outcomes
from handlers.campaign_preview import (
    CANCEL_ACTION,
    CONFIRM_ACTION,
    LEFT_OUT_SHOWN,
    campaign_id_of,
    options_line,
    preview_message,
)
from handlers.i18n import use_locale
from handlers.mrkdwn import escape_short
from tests.handlers.conftest import block_kit_problems, block_texts, buttons

LEFT_OUT = (
    LeftOut(2, LeftOutReason.UNREADABLE, "123"),
    LeftOut(4, LeftOutReason.DUPLICATE, "5511987654321", "5511987654321", duplicate_of=1),
    LeftOut(5, LeftOutReason.OPTED_OUT, "(11) 91234-0000", "5511912340000"),
    LeftOut(6, LeftOutReason.AMBIGUOUS, "51 98765-4321", readings=("5551987654321", "51987654321")),
)
PREVIEW = Preview(
    recipients=12,
    left_out=LEFT_OUT,
    entries=16,
    segments_min=2,
    segments_max=2,
    segments_total=24,
    cost=CostEstimate(Decimal("0.05"), Decimal("1.20"), "BRL"),
    first_number="5511987654321",
    first_text="Promoção: <b>hoje</b> & amanhã",
    source=None,
    placeholders=(),
    expires_at=datetime(2026, 11, 25, 12, 15, tzinfo=UTC),
)
PREPARED = Prepared(campaign_id=42, preview=PREVIEW, needs_confirmation=True)


def test_the_preview_says_who_gets_it_who_not_and_why() -> None:
    """How many, each row left out with its reason and row, segments, cost and the first SMS."""
    message = preview_message(PREPARED)
    shown = block_texts(message.blocks)
    assert "*Preview: this SMS goes to 12 numbers.* Nothing is sent until you confirm." in shown
    assert "4 of the 16 given are left out (below)." in shown
    assert "*Left out: 4 rows*" in shown
    assert "• row 2, “123”: not a phone number I can send to" in shown
    assert "• row 4, +55 11 98765-4321: the same number as row 1" in shown
    assert "• row 5, +55 11 91234-0000: on the opt-out list" in shown
    assert "• row 6, “51 98765-4321”: could be +55 51 98765-4321 or +51 987 654 321" in shown
    assert "Each SMS: 2 segments; 24 segments in all." in shown
    assert "Cost: about 1.20 BRL (0.05 BRL a segment, as recent SMS cost)." in shown
    assert "*The first SMS, to +55 11 98765-4321:*" in shown
    assert "Confirm by 2026-11-25 12:15" in shown
    assert block_kit_problems(message.blocks) == []


def test_the_first_sms_is_quoted_as_typed_never_as_markup() -> None:
    """Slack's markup characters in the text are escaped in the quote."""
    shown = block_texts(preview_message(PREPARED).blocks)
    assert "> Promoção: &lt;b&gt;hoje&lt;/b&gt; &amp; amanhã" in shown


def test_the_buttons_carry_the_campaign_id() -> None:
    """A primary "Send to 12" and a "Cancel", both with the campaign id as their value."""
    found = buttons(preview_message(PREPARED).blocks)
    assert found[CONFIRM_ACTION]["text"]["text"] == "Send to 12"
    assert found[CONFIRM_ACTION]["style"] == "primary"
    assert found[CANCEL_ACTION]["text"]["text"] == "Cancel"
    assert {b["value"] for b in found.values()} == {"42"}
    assert campaign_id_of(found[CONFIRM_ACTION]["value"]) == 42


@pytest.mark.parametrize("value", ["", "x", "-1", "4.2", "1" * 19, None])
def test_a_button_value_that_is_no_campaign_id_is_none(value: object) -> None:
    """Only digits (that fit a database id) are a campaign id."""
    assert campaign_id_of(value) is None


def test_a_range_of_segments_and_no_cost_known() -> None:
    """Segments vary by recipient: the range; no SMS price known yet: said so, no number."""
    preview = replace(PREVIEW, segments_min=1, segments_max=3, segments_total=20, cost=None)
    shown = block_texts(preview_message(replace(PREPARED, preview=preview)).blocks)
    assert "Each SMS: 1 to 3 segments; 20 segments in all." in shown
    assert "Cost: no cost known yet" in shown
    assert "about" not in shown


def test_nothing_left_out_says_everyone_gets_it() -> None:
    """With no row left out there is no left-out section."""
    preview = replace(PREVIEW, left_out=(), entries=12)
    shown = block_texts(preview_message(replace(PREPARED, preview=preview)).blocks)
    assert "Every number given gets it." in shown
    assert "Left out" not in shown


def test_many_rows_left_out_are_counted_past_the_first_few() -> None:
    """500 rows left out: the first LEFT_OUT_SHOWN named, the rest counted, within Block Kit."""
    many = tuple(LeftOut(row, LeftOutReason.UNREADABLE, "x" * 300) for row in range(1, 501))
    preview = replace(PREVIEW, left_out=many, entries=512)
    message = preview_message(replace(PREPARED, preview=preview))
    shown = block_texts(message.blocks)
    assert shown.count("• row ") == LEFT_OUT_SHOWN
    assert f"…and {500 - LEFT_OUT_SHOWN} more rows." in shown
    assert block_kit_problems(message.blocks) == []


@pytest.mark.parametrize("locale", ["en", "pt_BR"])
@pytest.mark.parametrize("reason", [LeftOutReason.UNREADABLE, LeftOutReason.AMBIGUOUS])
def test_rows_left_out_as_markup_fit_their_section(locale: str, reason: LeftOutReason) -> None:
    """Rows typed as “&” and “<” (escaped five and four times longer) still fit one section, counted."""
    readings = ("5551987654321", "51987654321") if reason is LeftOutReason.AMBIGUOUS else ()
    many = tuple(
        LeftOut(10_000 + n, reason, ("&" if n % 2 else "<") * 60, readings=readings)
        for n in range(20)
    )
    with use_locale(locale):
        message = preview_message(replace(PREPARED, preview=replace(PREVIEW, left_out=many)))
    assert block_kit_problems(message.blocks) == []
    lines = message.blocks[1]["text"]["text"].split("\n")
    named = sum(line.startswith("• ") for line in lines)
    assert 0 < named < LEFT_OUT_SHOWN
    assert f"{20 - named} " in lines[-1]


def test_a_long_first_sms_fits_its_section() -> None:
    """A text of 1,530 characters of markup still fits one section, cut and marked."""
    preview = replace(PREVIEW, first_text="&<>" * 510)
    message = preview_message(replace(PREPARED, preview=preview))
    assert block_kit_problems(message.blocks) == []
    quoted = block_texts(message.blocks[2:3])
    assert quoted.endswith("…")
    assert len(quoted) <= 3000


def test_a_text_with_accents_offers_to_go_without_them() -> None:
    """The typed text takes fewer segments without accents: the preview says how many, and how."""
    text = "Promoção válida até amanhã, não perca! " * 2
    each = count_segments(text).segments
    preview = replace(PREVIEW, segments_min=each, segments_max=each, segments_total=12 * each)
    shown = block_texts(preview_message(replace(PREPARED, preview=preview), typed_text=text).blocks)
    assert "Without accents each SMS would be 1 segment (12 segments in all)" in shown
    assert "`--gsm`" in shown


def test_the_preview_speaks_portuguese() -> None:
    """In pt-BR: the title, the buttons and the money as Brazilians write them."""
    with use_locale("pt_BR"):
        message = preview_message(PREPARED)
    shown = block_texts(message.blocks)
    assert "12 números" in shown
    assert "R$ 1,20" in shown
    assert buttons(message.blocks)[CONFIRM_ACTION]["text"]["text"] == "Enviar para 12"
    assert buttons(message.blocks)[CANCEL_ACTION]["text"]["text"] == "Cancelar"


#: Every option a send to many takes, as a surface reads them.
EVERY_OPTION = CampaignOptions(
    sender="MyShop",
    schedule=datetime(2026, 12, 8, 9, 30, tzinfo=ZoneInfo("America/Sao_Paulo")),
    validity=120,
    flash=True,
    name="Natal *2026*",
    shorten_links=True,
)


def test_the_preview_names_every_option_each_sms_goes_with() -> None:
    """What is confirmed is what is sent: sender, time (in its zone), validity, flash, name, links."""
    message = preview_message(replace(PREPARED, preview=replace(PREVIEW, options=EVERY_OPTION)))
    shown = block_texts(message.blocks)
    assert (
        "Options: from MyShop · scheduled for 2026-12-08 09:30 -03 · valid 120 min · flash SMS"
        f" · campaign “{escape_short('Natal *2026*', 100)}” · links shortened."
    ) in shown
    assert "*2026*" not in shown  # the name's markup characters are escaped, not read as bold
    assert block_kit_problems(message.blocks) == []


def test_a_preview_without_options_has_no_options_line() -> None:
    """No option given: no line about them (the default sender and sent at once go unsaid)."""
    assert options_line(CampaignOptions()) is None
    assert "Options:" not in block_texts(preview_message(PREPARED).blocks)


def test_the_options_speak_portuguese() -> None:
    """In pt-BR: the sender, the time as Brazilians write it, and the shortened links."""
    with use_locale("pt_BR"):
        line = options_line(EVERY_OPTION)
    assert line is not None
    assert line.startswith("Opções: remetente MyShop · agendado para 08/12/2026 09:30 -03")
    assert line.endswith("links encurtados.")


REFUSALS: list[tuple[PrepareRefusal, str]] = [
    (TooManyRecipients(12001, 10000), "That is 12,001 numbers; one send may go to at most 10,000"),
    (MissingPlaceholders(("nome",)), "The text has the placeholder “{nome}”"),
    (
        MissingPlaceholders(("nome", "pedido"), ("name",)),
        "No column of the file fills the placeholders “{nome}”, “{pedido}”; its columns are “name”",
    ),
    (NoneLeft(LEFT_OUT[:1], 1), "Nothing was sent: the 1 number given is left out."),
    (NoEntries(), "There is no number to send to."),
    (NoEntries(header_only=True), "The file has a header row and no rows under it"),
    (NotText(), "The file is not a CSV text file"),
    (UnreadableRow(7), "The file cannot be read from row 7 on"),
    (NoNumberColumn(("nome", "<b>")), "Its columns: “nome”, “&lt;b&gt;”."),
    (CampaignNotSaved(busy=True), "its database is busy"),
]


@pytest.mark.parametrize(("refusal", "expected"), REFUSALS)
def test_every_refusal_to_prepare_has_its_sentence(refusal: PrepareRefusal, expected: str) -> None:
    """Each refusal says what is wrong, with its numbers and names."""
    said = campaign_answers.prepare_refused(refusal)
    assert said is not None
    assert expected in said


def test_a_row_whose_text_is_too_long_names_the_row_and_the_rule() -> None:
    """The row's text is worded as a single send's too-long text is."""
    error = TooLongError(count_segments("ç" * 700))
    said = campaign_answers.prepare_refused(RowUnsendable(3, error))
    assert said is not None
    assert said.startswith("Nothing was sent: the text of row 3 cannot be sent. The text is ")


def test_none_left_lists_why() -> None:
    """Nobody to send to: the rows left out are listed with their reasons."""
    said = campaign_answers.prepare_refused(NoneLeft(LEFT_OUT, 4))
    assert said is not None
    assert "none of the 4 numbers given is left to send to" in said
    assert "• row 5, +55 11 91234-0000: on the opt-out list" in said


def test_who_may_not_send_and_a_redelivery() -> None:
    """Not allowed: the single send's sentence; a redelivered command: nothing to say."""
    said = campaign_answers.prepare_refused(CampaignNotAllowed("U9"))
    assert said == send_outcomes.not_allowed()
    assert campaign_answers.prepare_refused(CampaignDuplicate(42)) is None


def test_each_refused_confirmation_says_why() -> None:
    """Another user, expiry, a second click, a cancelled or missing campaign: each its reason."""
    expired = datetime(2026, 11, 25, 12, 15, tzinfo=UTC)
    said = {
        "not yours": campaign_answers.confirm_refused(NotYours("U1")),
        "expired": campaign_answers.confirm_refused(Expired(expired)),
        "twice": campaign_answers.confirm_refused(AlreadyDecided("sending")),
        "cancelled": campaign_answers.confirm_refused(AlreadyDecided("cancelled")),
        "missing": campaign_answers.confirm_refused(CampaignMissing(42)),
    }
    assert said["not yours"].startswith("Only <@U1>, who asked for this send, can confirm")
    assert "expired at 2026-11-25 12:15" in said["expired"]
    assert said["twice"] == "This send was confirmed already; it is sent once, not again."
    assert said["cancelled"] == "This send was cancelled already; nothing was sent."
    assert "cannot find" in said["missing"]


def test_a_run_lost_to_another_process_says_it_goes_out_from_there() -> None:
    """The clicker whose process lost the run is told another sends it once, in both languages."""
    lost = AlreadyDecided("sending", taken_over=True)
    said = campaign_answers.confirm_refused(lost)
    assert said.startswith("This send was taken over by another smsbot process")
    assert "it goes out once" in said
    assert "confirmed already" not in said
    with use_locale("pt_BR"):
        assert campaign_answers.ran(lost).startswith(":warning: Este envio foi assumido")
    failed_since = AlreadyDecided("failed", taken_over=True)  # too late, failed by the other
    assert campaign_answers.confirm_refused(failed_since).startswith("This send was tried already")


def test_an_expiry_is_told_in_the_accounts_zone() -> None:
    """A late click hears the expiry in the Mobizon account's zone, as the preview showed it."""
    expired = Expired(datetime(2026, 11, 25, 12, 15, tzinfo=UTC))
    said = campaign_answers.confirm_refused(expired, zone=ZoneInfo("America/Sao_Paulo"))
    assert "expired at 2026-11-25 09:15 -03" in said


def test_a_started_campaign_says_how_many_and_what_mobizon_refused() -> None:
    """Sending to N, and Mobizon's refused rows by reason (code 5: its stop list)."""
    refused = tuple(AddedRecipient(None, 5, None, f"55119123400{n:02d}") for n in range(7))
    refused = (*refused, AddedRecipient(None, 6, None, "x"))
    outcome = CampaignStarted(42, 900, 3, refused, awaiting_moderation=False)
    said = campaign_answers.ran(outcome)
    lines = said.split("\n")
    assert lines[0] == ":outbox_tray: Sending to 3 numbers…"
    assert lines[1] == "*Mobizon did not add 8 numbers:*"
    assert lines[2].startswith("• on Mobizon's stop list (code 5): +55 11 91234-0000, ")
    assert lines[2].endswith(" and 2 more")
    assert lines[3] == "• the account may not send to its country (code 6): “x”"


def test_a_started_campaign_tells_left_out_rows_and_moderation() -> None:
    """A list sent at once: what was left out follows; a held campaign says it waits."""
    said = campaign_answers.ran(
        CampaignStarted(42, 900, 2, (), awaiting_moderation=True), LEFT_OUT[:1]
    )
    assert "Mobizon holds it for its moderators first" in said
    assert "• row 2, “123”: not a phone number I can send to" in said


def test_a_campaign_not_sent_says_why() -> None:
    """Mobizon's refusal is worded by the gateway's words; a lost answer says to look first."""
    error = MobizonValidationError(2, "bad", None)
    assert "*not sent*" in campaign_answers.ran(CampaignNotSent(42, error))
    unknown = campaign_answers.ran(CampaignNotSent(42, None, outcome_unknown=True))
    assert "may or may not have started" in unknown
    assert "smsbot's side" in unknown


def test_cancelled_and_confirmed() -> None:
    """The sentences that replace the preview."""
    assert campaign_answers.cancelled() == "Cancelled; nothing was sent."
    assert campaign_answers.confirmed(12) == ":outbox_tray: Confirmed: sending to 12 numbers…"
