"""The /sms send grammar: numbers, options and the text exactly as typed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.grammar import (
    USAGE,
    SendCommand,
)
from tests.handlers.grammar.helpers import BR_MOBILE, EMOJI, NOW, parse, refusal, send

# ---------------------------------------------------------------- send: numbers


@pytest.mark.parametrize(
    "number",
    ["+55 (11) 98765-4321", "5511987654321", "(11) 98765-4321", "+55 11 98765-4321"],
)
def test_send_number_forms(number: str) -> None:
    """Each documented number form becomes 5511987654321 and the rest is the text."""
    command = send(f"send {number} Your order is ready")
    assert command == SendCommand(recipient=BR_MOBILE, text="Your order is ready")


def test_send_number_ends_before_100() -> None:
    """In "+55 11 98765-4321 100 units ready" the number ends before 100."""
    assert send("send +55 11 98765-4321 100 units ready").text == "100 units ready"


def test_send_number_from_slack_tel_markup() -> None:
    """A number Slack turned into a tel: link is read from its label."""
    command = send("send <tel:+5511987654321|+55 11 98765-4321> hi")
    assert (command.recipient, command.text) == (BR_MOBILE, "hi")


def test_send_uses_the_default_region() -> None:
    """A national number is read in the default region passed in."""
    command = parse("send (650) 253-0000 hello", region="US")
    assert isinstance(command, SendCommand)
    assert command.recipient == "16502530000"


def test_send_subcommand_is_case_insensitive() -> None:
    """SEND works like send."""
    assert send(f"SEND {BR_MOBILE} hi").text == "hi"


# ---------------------------------------------------------------- send: options


def test_send_with_every_option() -> None:
    """All five options before the number are read, quoted values included."""
    command = send(
        'send --from MyShop --at "2026-11-26 13:00" --validity 120 --flash '
        f'--name "Black Friday" {BR_MOBILE} Sale starts now'
    )
    assert command == SendCommand(
        recipient=BR_MOBILE,
        text="Sale starts now",
        sender="MyShop",
        at=datetime(2026, 11, 26, 13, 0),  # noqa: DTZ001 - naive local time
        validity=120,
        flash=True,
        name="Black Friday",
    )


@pytest.mark.parametrize(
    ("options", "field", "value"),
    [
        ("--from 12345", "sender", "12345"),
        ("--from 123456789012345", "sender", "123456789012345"),
        ("--from Abc12345678", "sender", "Abc12345678"),
        ("--from=Shop", "sender", "Shop"),
        ("--FROM Shop", "sender", "Shop"),
        ("\u2014from Shop", "sender", "Shop"),
        ("\u2013from Shop", "sender", "Shop"),
        ("--name 'Spring sale'", "name", "Spring sale"),
        ("--name \u201cSpring sale\u201d", "name", "Spring sale"),
        ("--name \u2018Joe\u2019s sale\u2019", "name", "Joe\u2019s sale"),
        ('--name "Tom & Jerry"', "name", "Tom & Jerry"),
        ("--name &quot;x", "name", "&quot;x"),
        ("--name promo", "name", "promo"),
        ("--validity 60", "validity", 60),
        ("--validity 1440", "validity", 1440),
        ("--validity=0090", "validity", 90),
        ("--flash", "flash", True),
        ("--at 2026-11-25 13:00", "at", datetime(2026, 11, 25, 13, 0)),  # noqa: DTZ001
        ("--at 2026-11-25T13:00", "at", datetime(2026, 11, 25, 13, 0)),  # noqa: DTZ001
        ("--at '2026-12-09 12:00'", "at", datetime(2026, 12, 9, 12, 0)),  # noqa: DTZ001
        ("--at=2026-12-01 9:05", "at", datetime(2026, 12, 1, 9, 5)),  # noqa: DTZ001
    ],
)
def test_send_option_values(options: str, field: str, value: object) -> None:
    """Each option's value is read as written: one word, quoted (straight or curly), or =value."""
    command = send(f"send {options} {BR_MOBILE} hi")
    assert getattr(command, field) == value
    assert command.text == "hi"


def test_send_options_after_the_number_are_text() -> None:
    """Options after the number are part of the SMS text, not options."""
    command = send(f"send {BR_MOBILE} --flash --from X hi")
    assert command.text == "--flash --from X hi"
    assert command.flash is False
    assert command.sender is None


def test_send_schedule_bounds_are_relative_to_now() -> None:
    """--at may be 1 hour to 14 days after the injected now, both ends included."""
    assert send(f"send --at 2026-11-25 13:00 {BR_MOBILE} hi").at == NOW + timedelta(hours=1)
    assert send(f"send --at 2026-12-09 12:00 {BR_MOBILE} hi").at == NOW + timedelta(days=14)
    later = NOW + timedelta(days=10)
    assert send(f"send --at 2026-12-09 12:00 {BR_MOBILE} hi", now=later).at is not None
    early = refusal(f"send --at 2026-12-05 12:59 {BR_MOBILE} hi", now=later)
    assert "less than 1 hour from now (2026-12-05 12:00)" in early.sentence


@pytest.mark.parametrize("typed", ["2026-11-26 13:00", "2026-12-05 11:59", "2026-12-05 12:00"])
def test_send_schedule_in_the_past_is_called_past(typed: str) -> None:
    """An --at that has already come is refused as being in the past, not as too soon."""
    past = refusal(f"send --at {typed} {BR_MOBILE} hi", now=NOW + timedelta(days=10))
    assert past.sentence == (
        f"“--at {typed}” is in the past (it is 2026-12-05 12:00 now); "
        "SMS can be scheduled 1 hour to 14 days ahead."
    )


def test_send_schedule_is_read_in_the_zone_of_now() -> None:
    """An aware now (the Mobizon account's zone) makes --at that zone's wall time, and says so."""
    zone = ZoneInfo("America/Sao_Paulo")
    aware = NOW.replace(tzinfo=zone)
    command = send(f"send --at 2026-11-25 13:00 {BR_MOBILE} hi", now=aware)
    assert command.at == datetime(2026, 11, 25, 13, 0, tzinfo=zone)
    early = refusal(f"send --at 2026-11-25 12:30 {BR_MOBILE} hi", now=aware)
    assert "“--at 2026-11-25 12:30 -03” is less than 1 hour from now (2026-11-25 12:00 -03)" in (
        early.sentence
    )
    past = refusal(f"send --at 2026-11-24 12:30 {BR_MOBILE} hi", now=aware.astimezone(UTC))
    assert "“--at 2026-11-24 12:30 UTC” is in the past (it is 2026-11-25 15:00 UTC now)" in (
        past.sentence
    )


# ---------------------------------------------------------------- send: text


def test_send_text_is_verbatim() -> None:
    """Dashes, quotes, newlines, emoji and spacing in the text arrive exactly as typed."""
    text = f"-- \"quoted\" 'single' \u201ccurly\u201d\nline 2\n\n  indented -- --flash {EMOJI}  end"
    assert send(f"send {BR_MOBILE} {text}").text == text


def test_send_text_undoes_slack_escapes_and_markup() -> None:
    """&amp; &lt; &gt; and tel/mailto/http link markup become what the user typed."""
    command = send(
        f"send {BR_MOBILE} Fish &amp; chips &lt;3 &gt;_&lt; call <tel:+5511912345678|+55 11 91234-5678>, "
        "mail <mailto:ana@example.com|ana@example.com>, see <https://example.com/a?b=1&amp;c=2|example.com/a?b=1&amp;c=2> "
        "or <http://example.org>"
    )
    assert command.text == (
        "Fish & chips <3 >_< call +55 11 91234-5678, mail ana@example.com, "
        "see example.com/a?b=1&c=2 or http://example.org"
    )


def test_send_text_escaped_twice_is_undone_once() -> None:
    """A literal "&amp;" typed by the user (sent as &amp;amp;) stays "&amp;"."""
    assert send(f"send {BR_MOBILE} &amp;amp; &amp;lt;").text == "&amp; &lt;"


def test_send_text_of_ten_segments_passes() -> None:
    """A 1530-character GSM-7 text (10 segments) is accepted."""
    assert len(send(f"send {BR_MOBILE} " + "a" * 1530).text) == 1530


@pytest.mark.parametrize(("typed", "code"), [("a\x01b", "U+0001"), ("\x00bad", "U+0000")])
def test_a_campaign_name_with_a_control_character_is_refused(typed: str, code: str) -> None:
    """``--name`` holding a control character is refused, naming it: a name is one line of text."""
    error = refusal(f'send --name "{typed}" {BR_MOBILE} hi')
    assert f"control character ({code})" in error.sentence
    assert error.usage == USAGE["send"]


def test_send_text_keeps_line_breaks_and_tabs() -> None:
    """Newline and tab are text: a multi-line SMS is sent as typed."""
    assert send(f"send {BR_MOBILE} line one\n\tline two").text == "line one\n\tline two"


def test_send_shorten_links_flag() -> None:
    """``--shorten-links`` (and its em-dash form) asks Mobizon to shorten the text's links."""
    assert send("send --shorten-links 5511987654321 see https://x.example/a").shorten_links
    assert send("send \u2014shorten-links 5511987654321 hi").shorten_links
    assert not send("send 5511987654321 hi").shorten_links
