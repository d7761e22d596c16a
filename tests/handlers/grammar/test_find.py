"""The /sms find grammar: fields, values, pages, sizes and sorts."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.mobizon import PAGE_SIZES, SORT_FIELDS, ListCriteria, Sort
from handlers.grammar import (
    FindCommand,
)
from tests.handlers.grammar.helpers import BR_MOBILE, find

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
