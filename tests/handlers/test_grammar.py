"""The ``/sms`` grammar: command text in, a typed command (or a sentence and usage line) out."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.mobizon.types import PAGE_SIZES, SORT_FIELDS, ListCriteria, Sort
from handlers.grammar import (
    BUTTON_VALUE_LIMIT,
    GENERAL_USAGE,
    HELP_TEXT,
    USAGE,
    Command,
    FindCommand,
    HelpCommand,
    SendCommand,
    StatusCommand,
    UsageError,
    decode_find,
    encode_find,
    parse_command,
    unescape_slack,
)
from handlers.mrkdwn import escape

NOW = datetime(2026, 11, 25, 12, 0)  # noqa: DTZ001 - the grammar works in naive local time
BR_MOBILE = "5511987654321"
EMOJI = "\U0001f600"


def parse(text: str, *, now: datetime = NOW, region: str = "BR") -> Command:
    """Parse ``text`` as /sms command text with the test's clock and region."""
    return parse_command(text, default_region=region, now=now)


def send(text: str, *, now: datetime = NOW) -> SendCommand:
    """Parse ``text`` and insist it is a send command."""
    command = parse(text, now=now)
    assert isinstance(command, SendCommand)
    return command


def find(text: str) -> FindCommand:
    """Parse ``text`` and insist it is a find command."""
    command = parse(text)
    assert isinstance(command, FindCommand)
    return command


def refusal(text: str, *, now: datetime = NOW) -> UsageError:
    """Parse ``text`` and return the UsageError it must raise."""
    with pytest.raises(UsageError) as caught:
        parse(text, now=now)
    return caught.value


# ---------------------------------------------------------------- help


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP", " Help me"])
def test_help(text: str) -> None:
    """Nothing, or help in any case, is the help command."""
    assert parse(text) == HelpCommand()


def test_help_text_names_every_option_and_find_field() -> None:
    """The help text shows every send option and every find field."""
    for option in ("--from", "--at", "--validity", "--flash", "--name"):
        assert option in HELP_TEXT
    for field in ("to:", "from:", "text:", "status:", "campaign:", "group:", "page:", "size:"):
        assert f"`{field}`" in HELP_TEXT
    for field in ("sent-after:", "sent-before:", "updated-after:", "updated-before:", "sort:"):
        assert field in HELP_TEXT
    assert set(USAGE) == {"help", "send", "status", "find"}
    assert all(line.startswith("Usage: /sms ") for line in [*USAGE.values(), GENERAL_USAGE])


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


@pytest.mark.parametrize(
    ("text", "count"),
    [("a" * 1531, "11"), ("ç" * 671, "11"), ("€" * 1000, "14")],
)
def test_send_text_over_ten_segments_is_refused(text: str, count: str) -> None:
    """A text over 10 segments is refused with a sentence naming the segment count."""
    error = refusal(f"send {BR_MOBILE} {text}")
    assert f"is {count} SMS segments long" in error.sentence
    assert error.usage == USAGE["send"]


# ---------------------------------------------------------------- Slack escaping


@pytest.mark.parametrize(
    ("escaped", "plain"),
    [
        ("a &amp; b", "a & b"),
        ("&lt;b&gt;", "<b>"),
        ("&amp;lt;", "&lt;"),
        ("<tel:+5511987654321|+55 11 98765-4321>", "+55 11 98765-4321"),
        ("<tel:+5511987654321>", "+5511987654321"),
        ("<mailto:a@b.co|a@b.co>", "a@b.co"),
        ("<mailto:a@b.co>", "a@b.co"),
        ("<https://x.co/?a=1&amp;b=2>", "https://x.co/?a=1&b=2"),
        ("<http://x.co|x.co>", "x.co"),
        ("<@U123|ana>", "@ana"),
        ("<@U123>", "@U123"),
        ("<#C123|general>", "#general"),
        ("<!here>", "@here"),
        ("<!subteam^S1|@team>", "@team"),
        ("no markup", "no markup"),
    ],
)
def test_unescape_slack(escaped: str, plain: str) -> None:
    """Slack's entity escapes and link/mention markup become readable text."""
    assert unescape_slack(escaped) == plain


def test_escape_slack_round_trips() -> None:
    """mrkdwn.escape is undone by unescape_slack."""
    text = "a & b <c> &amp; <tel:1|2>"
    assert unescape_slack(escape(text)) == text


# ---------------------------------------------------------------- status


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("status", ()),
        ("status   ", ()),
        ("status 6300284", (6300284,)),
        ("status 6300284, 6300285 6300290", (6300284, 6300285, 6300290)),
        ("status 1,2,,3 ,4\n5", (1, 2, 3, 4, 5)),
        ("status 7 7 8 7", (7, 8)),
        ("STATUS 9223372036854775807", (9223372036854775807,)),
    ],
)
def test_status_ids(text: str, ids: tuple[int, ...]) -> None:
    """Ids separated by spaces and/or commas, in order, repeats dropped; none means latest."""
    assert parse(text) == StatusCommand(ids)


def test_status_any_number_of_ids() -> None:
    """150 ids are all kept (the handler batches them by 100)."""
    ids = list(range(1000, 1150))
    command = parse("status " + ", ".join(map(str, ids)))
    assert command == StatusCommand(tuple(ids))


# ---------------------------------------------------------------- find


def test_find_defaults() -> None:
    """A bare find searches everything, page 1 of 25, newest first."""
    command = find("find")
    assert command == FindCommand()
    assert command.criteria == ListCriteria()
    assert (command.page, command.wire_page, command.page_size) == (1, 0, 25)
    assert command.sort == Sort("startSendTs", descending=True)


def test_find_every_field() -> None:
    """Each DESIGN.md field maps onto its message/list criterion."""
    command = find(
        'find to:5511 from:MyShop text:"Your order is ready" status:delivrd campaign:12,13 '
        'group:7,vip sent-after:2026-01-01 sent-before:"2026-01-31 18:30" '
        "updated-after:2026-02-01 14:00 updated-before:2026-02-02 page:3 size:100 sort:to"
    )
    assert command.criteria == ListCriteria(
        recipient="5511",
        sender="MyShop",
        text="Your order is ready",
        status="DELIVRD",
        campaign_ids=(12, 13),
        groups=("7", "vip"),
        sent_from=datetime(2026, 1, 1, 0, 0),  # noqa: DTZ001 - naive local time
        sent_to=datetime(2026, 1, 31, 18, 30),  # noqa: DTZ001
        updated_from=datetime(2026, 2, 1, 14, 0),  # noqa: DTZ001
        updated_to=datetime(2026, 2, 2, 23, 59, 59),  # noqa: DTZ001
    )
    assert (command.page, command.wire_page, command.page_size) == (3, 2, 100)
    assert command.sort == Sort("to", descending=False)


@pytest.mark.parametrize(("page", "wire"), [("1", 0), ("2", 1), ("10", 9), ("1000000", 999999)])
def test_find_page_is_one_based_for_people(page: str, wire: int) -> None:
    """page:N for people is N-1 on the wire."""
    command = find(f"find page:{page}")
    assert command.page == int(page)
    assert command.wire_page == wire


@pytest.mark.parametrize("size", PAGE_SIZES)
def test_find_sizes(size: int) -> None:
    """size: takes 25, 50 or 100."""
    assert find(f"find size:{size}").page_size == size


@pytest.mark.parametrize(
    ("value", "sort"),
    [
        ("sent", Sort("startSendTs", descending=False)),
        ("-sent", Sort("startSendTs", descending=True)),
        ("updated", Sort("statusUpdateTs", descending=False)),
        ("-updated", Sort("statusUpdateTs", descending=True)),
        ("segments", Sort("segNum", descending=False)),
        ("-campaign", Sort("campaignId", descending=True)),
        ("+status", Sort("status", descending=False)),
        ("-TEXT", Sort("text", descending=True)),
        ("from", Sort("from", descending=False)),
        ("-startSendTs", Sort("startSendTs", descending=True)),
        ("id", Sort("id", descending=False)),
        ("-id", Sort("id", descending=True)),
        ("-ID", Sort("id", descending=True)),
    ],
)
def test_find_sort(value: str, sort: Sort) -> None:
    """sort:field is ascending, sort:-field descending, with friendly aliases."""
    assert find(f"find sort:{value}").sort == sort


@pytest.mark.parametrize("field", SORT_FIELDS)
def test_find_sort_accepts_every_mobizon_field(field: str) -> None:
    """Every field Mobizon sorts by is accepted under its own name."""
    assert find(f"find sort:-{field}").sort == Sort(field, descending=True)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('find text:"it\u2019s here"', "it\u2019s here"),
        ("find text:it's", "it's"),
        ("find text:'Joe\u2019s sale'", "Joe\u2019s sale"),
        ("find text:\u201ccurly quoted\u201d", "curly quoted"),
        ('find text: "value as next word"', "value as next word"),
        ("find text:C:\\path\\to", "C:\\path\\to"),
        ('find text:"Fish &amp; chips &lt;3"', "Fish & chips <3"),
        ('find text:"page:2 size:50"', "page:2 size:50"),
        ("find TEXT:Hi", "Hi"),
    ],
)
def test_find_text_is_kept_as_typed(text: str, value: str) -> None:
    """Quoted values keep apostrophes, curly quotes, backslashes and colons exactly."""
    assert find(text).criteria.text == value


@pytest.mark.parametrize(
    ("text", "recipient"),
    [
        ("find to:5511", "5511"),
        ("find to:+55 11 98765-4321 status:new", BR_MOBILE),
        ("find to:(11) 98765-4321", "11987654321"),
        ('find to:"+55 11 98765-4321"', BR_MOBILE),
        ("find to: 98765", "98765"),
    ],
)
def test_find_to_takes_the_digits(text: str, recipient: str) -> None:
    """to: keeps the digits of a number or part of one, even written with spaces."""
    assert find(text).criteria.recipient == recipient


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("DELIVRD", "DELIVRD"),
        ("delivered", "DELIVRD"),
        ("queued", "ENQUEUD"),
        ("Rejected", "REJECTD"),
        ("undelivered", "UNDELIV"),
        ("new", "NEW"),
        ("expired", "EXPIRED"),
    ],
)
def test_find_status_names(value: str, status: str) -> None:
    """status: takes Mobizon's names or plain words for them."""
    assert find(f"find status:{value}").criteria.status == status


def test_find_repeated_ids_are_dropped() -> None:
    """campaign: and group: drop repeats and keep the order."""
    command = find("find campaign:3,1,3 group:b,a,b")
    assert command.criteria.campaign_ids == (3, 1)
    assert command.criteria.groups == ("b", "a")


# ---------------------------------------------------------------- find buttons


def test_encode_decode_round_trip() -> None:
    """decode_find(encode_find(c)) gives back the same command, for every field."""
    command = find(
        'find to:5511 from:Shop text:"caf\u00e9 & \u201cbar\u201d" status:DELIVRD campaign:1,2 '
        "group:g1 sent-after:2026-01-01 sent-before:2026-01-31 updated-after:2026-02-01 "
        'updated-before:"2026-02-02 10:30" page:4 size:50 sort:-segments'
    )
    value = encode_find(command)
    assert decode_find(value) == command
    assert len(value) <= BUTTON_VALUE_LIMIT
    assert decode_find(encode_find(FindCommand())) == FindCommand()


def test_encode_find_is_compact_json() -> None:
    """The button value is compact JSON holding only the criteria that are set."""
    value = encode_find(find("find to:5511 page:2"))
    assert json.loads(value) == {
        "v": 1,
        "c": {"recipient": "5511"},
        "p": 2,
        "n": 25,
        "s": "-startSendTs",
    }
    assert " " not in value


def test_neighbouring_pages_round_trip() -> None:
    """A command with its page moved (as the Previous/Next buttons do) survives the trip."""
    command = find("find status:new sort:sent")
    for page in (1, 2, 999999, 1000001):
        moved = replace(command, page=page)
        assert decode_find(encode_find(moved)) == moved


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not json",
        "[]",
        "null",
        '{"v":2,"c":{},"p":1,"n":25,"s":"-startSendTs"}',
        '{"v":1,"c":{},"p":0,"n":25,"s":"-startSendTs"}',
        '{"v":1,"c":{},"p":1,"n":30,"s":"-startSendTs"}',
        '{"v":1,"c":{},"p":1,"n":25,"s":"-bogus"}',
        '{"v":1,"c":{},"p":true,"n":25,"s":"-startSendTs"}',
        '{"v":1,"c":{},"p":"1","n":25,"s":"-startSendTs"}',
        '{"v":1,"c":[],"p":1,"n":25,"s":"-startSendTs"}',
        '{"v":1,"c":{"evil":1},"p":1,"n":25,"s":"-startSendTs"}',
        '{"v":1,"c":{"recipient":5},"p":1,"n":25,"s":"-startSendTs"}',
        '{"v":1,"c":{"campaign_ids":["1"]},"p":1,"n":25,"s":"-startSendTs"}',
        '{"v":1,"c":{"sent_from":"yesterday"},"p":1,"n":25,"s":"-startSendTs"}',
        '{"v":1,"c":{"sent_from":"2026-01-01T00:00:00+03:00"},"p":1,"n":25,"s":"-startSendTs"}',
        '{"v":1,"c":{},"n":25,"s":"-startSendTs"}',
        "[" * 5000,
        "x" * 10000,
    ],
)
def test_decode_find_refuses_what_it_did_not_make(value: str) -> None:
    """An old, altered or foreign button value is refused with a sentence and the find usage."""
    with pytest.raises(UsageError) as caught:
        decode_find(value)
    assert "run /sms find again" in caught.value.sentence
    assert caught.value.usage == USAGE["find"]


def test_find_too_long_for_a_button_is_refused() -> None:
    """A search whose button value would exceed Slack's limit is refused up front."""
    error = refusal("find text:" + "x" * 2000)
    assert error.sentence == "The search is too long; shorten its values."
    assert error.usage == USAGE["find"]


# ---------------------------------------------------------------- bad input

SEND, STATUS, FIND = USAGE["send"], USAGE["status"], USAGE["find"]

BAD_INPUTS: list[tuple[str, str, str]] = [
    ("frobnicate", GENERAL_USAGE, "I don't know the command “frobnicate”"),
    ("sned 5511987654321 hi", GENERAL_USAGE, "I don't know the command “sned”"),
    ("send", SEND, "Give the phone number and the text to send."),
    ("send   ", SEND, "Give the phone number and the text to send."),
    ("send --flash", SEND, "Give the phone number and the text to send."),
    ("send 5511987654321", SEND, "Give the text to send after the number +55 11 98765-4321."),
    ("send 5511987654321   \n  ", SEND, "Give the text to send after the number"),
    ("send hello there", SEND, "“hello” is not a phone number I can send to"),
    ("send 123 hi", SEND, "“123” is not a phone number I can send to"),
    ("send 98765-4321 hi", SEND, "“98765-4321” is not a phone number"),
    ("send +55 11 1234 hi", SEND, "“+55 11 1234” is not a phone number"),
    ("send 51 98765-4321 oi", SEND, "could be +51 987 654 321 or +55 51 98765-4321"),
    ("send --to 5511987654321 hi", SEND, "“--to” is not an option of /sms send"),
    ("send -- 5511987654321 hi", SEND, "“--” is not an option of /sms send"),
    ("send --flash --flash 5511987654321 hi", SEND, "“--flash” is given twice"),
    ("send --from A --from B 5511987654321 hi", SEND, "“--from” is given twice"),
    ("send --flash=yes 5511987654321 hi", SEND, "“--flash” takes no value."),
    ("send --from", SEND, "“--from” needs a value: the sender name."),
    ("send --from --flash 5511987654321 hi", SEND, "“--from” needs a value"),
    ('send --from "" 5511987654321 hi', SEND, "“--from” needs a value"),
    ('send --from "My Shop" 5511987654321 hi', SEND, "may hold only letters A-Z and digits"),
    ("send --from ABCDEFGHIJKL 5511987654321 hi", SEND, "is 12 characters long"),
    ("send --from 1234567890123456 5511987654321 hi", SEND, "is 16 digits long"),
    ("send --from Loja\u00e7 5511987654321 hi", SEND, "may hold only letters A-Z and digits"),
    ('send --name "" 5511987654321 hi', SEND, "“--name” needs a value: the campaign name."),
    ('send --name "   " 5511987654321 hi', SEND, "“--name” needs a value"),
    (
        'send --name "Black Friday 5511987654321 hi',
        SEND,
        "The quote after “--name” is never closed.",
    ),
    (
        "send --validity 59 5511987654321 hi",
        SEND,
        "“--validity 59” must be whole minutes from 60 to 1440.",
    ),
    ("send --validity 1441 5511987654321 hi", SEND, "“--validity 1441” must be whole minutes"),
    ("send --validity 2h 5511987654321 hi", SEND, "“--validity 2h” must be whole minutes"),
    ("send --validity 90.5 5511987654321 hi", SEND, "“--validity 90.5” must be whole minutes"),
    ("send --validity \u0661\u0662\u0660 5511987654321 hi", SEND, "must be whole minutes"),
    ("send --validity", SEND, "“--validity” needs a value: minutes from 60 to 1440."),
    ("send --at tomorrow 5511987654321 hi", SEND, "“--at tomorrow” is not a date and time"),
    ("send --at 2026-11-26 5511987654321 hi", SEND, "“--at 2026-11-26” is not a date and time"),
    (
        'send --at "2026-11-26 13:00:00" 5511987654321 hi',
        SEND,
        "is not a date and time like 2026-12-01 14:30.",
    ),
    ('send --at "26/11/2026 13:00" 5511987654321 hi', SEND, "is not a date and time"),
    (
        'send --at "2026-02-30 13:00" 5511987654321 hi',
        SEND,
        "“2026-02-30 13:00” is not a real date and time.",
    ),
    ('send --at "2026-11-26 25:00" 5511987654321 hi', SEND, "is not a real date and time."),
    (
        "send --at 2026-11-25 12:59 5511987654321 hi",
        SEND,
        "is less than 1 hour from now (2026-11-25 12:00)",
    ),
    ("send --at 2026-11-20 12:00 5511987654321 hi", SEND, "is in the past"),
    (
        "send --at 2026-12-09 12:01 5511987654321 hi",
        SEND,
        "is more than 14 days from now (2026-11-25 12:00)",
    ),
    ("send 5511987654321 " + "a" * 1531, SEND, "The text is 11 SMS segments long"),
    ("status abc", STATUS, "“abc” is not a message id"),
    ("status 0", STATUS, "“0” is not a message id"),
    ("status -5", STATUS, "“-5” is not a message id"),
    ("status 12 3.5", STATUS, "“3.5” is not a message id"),
    ("status 9223372036854775808", STATUS, "“9223372036854775808” is not a message id"),
    ("status #123", STATUS, "“#123” is not a message id"),
    ("find nocolon", FIND, "“nocolon” is not FIELD:VALUE"),
    ("find foo:bar", FIND, "“foo” is not a search field"),
    ("find to:", FIND, "“to:” needs a value."),
    ("find to:abc", FIND, "“to:abc” needs the digits of a number"),
    ("find status:lost", FIND, "“status:lost” is not a status"),
    ("find page:0", FIND, "“page:0” must be a page number from 1."),
    ("find page:two", FIND, "“page:two” must be a page number from 1."),
    ("find page:1000001", FIND, "must be a page number from 1."),
    ("find size:30", FIND, "“size:30” must be 25, 50 or 100."),
    ("find sort:price", FIND, "“sort:price” is not a sort field"),
    ("find sort:-", FIND, "“sort:-” is not a sort field"),
    ("find campaign:1,x", FIND, "“x” in campaign: is not a campaign id"),
    ("find campaign:" + ",".join(map(str, range(1, 102))), FIND, "“campaign:” has 101 ids"),
    ("find group:,,", FIND, "“group:” needs group ids"),
    ("find sent-after:yesterday", FIND, "“sent-after:yesterday” is not a date"),
    ("find sent-before:2026-13-01", FIND, "“2026-13-01” is not a real date and time."),
    (
        "find sent-after:2026-02-01 sent-before:2026-01-01",
        FIND,
        "“sent-after” is later than “sent-before”",
    ),
    (
        "find updated-after:2026-02-01 updated-before:2026-01-01",
        FIND,
        "“updated-after” is later than “updated-before”",
    ),
    ("find to:1 to:2", FIND, "“to” is given twice"),
    ('find text:"unclosed', FIND, "The quote after “text:” is never closed."),
    ('find "', FIND, "The quote in the search is never closed."),
    ('find "text:a b"', FIND, "put the field before the quote"),
]


@pytest.mark.parametrize(("text", "usage", "fragment"), BAD_INPUTS)
def test_bad_input_gets_a_sentence_and_the_usage_line(text: str, usage: str, fragment: str) -> None:
    """Each bad input raises UsageError with a sentence naming the problem and the right usage."""
    error = refusal(text)
    assert fragment in error.sentence
    assert error.sentence.endswith(".")
    assert "\n" not in error.sentence
    assert error.usage == usage
    assert str(error) == f"{error.sentence}\n{usage}"


def test_there_are_at_least_25_distinct_bad_inputs() -> None:
    """The bad-input table covers at least 25 distinct inputs across all subcommands."""
    texts = {text for text, _, _ in BAD_INPUTS}
    assert len(texts) == len(BAD_INPUTS) >= 25
    assert {usage for _, usage, _ in BAD_INPUTS} == {SEND, STATUS, FIND, GENERAL_USAGE}


def test_sentences_quote_at_most_40_characters_of_input() -> None:
    """A long bad value is shortened in the sentence, so the reply stays readable."""
    error = refusal("send --validity " + "9" * 500 + " 5511987654321 hi")
    assert "…" in error.sentence
    assert len(error.sentence) < 120
