"""The opt-out list on both engines: one row per number, who added it and when, paged by number."""

from __future__ import annotations

from storage.engine import Database
from storage.optouts import (
    OptOut,
    add_optout,
    is_opted_out,
    opted_out_among,
    optout_page,
    remove_optout,
)
from tests.storage.conftest import T0

NUMBER = "5511987654321"


def test_a_number_is_added_once_with_who_and_when(db: Database) -> None:
    """The first add keeps its user and time; a second add of the number changes nothing."""
    assert add_optout(db, recipient=NUMBER, user_id="U1", now=T0)
    assert not add_optout(db, recipient=NUMBER, user_id="U2")
    page = optout_page(db, offset=0, limit=10)
    assert page.entries == (OptOut(NUMBER, "U1", "2026-01-15T12:00:00+00:00"),)
    assert page.total == 1
    assert is_opted_out(db, NUMBER)
    assert not is_opted_out(db, "5511912345678")


def test_a_number_removed_is_off_the_list_and_removing_twice_says_so(db: Database) -> None:
    """Removing a listed number frees it; removing it again, or one never listed, is False."""
    add_optout(db, recipient=NUMBER, user_id="U1", now=T0)
    assert remove_optout(db, recipient=NUMBER)
    assert not remove_optout(db, recipient=NUMBER)
    assert not remove_optout(db, recipient="5511912345678")
    assert not is_opted_out(db, NUMBER)
    assert optout_page(db, offset=0, limit=10).total == 0
    assert add_optout(db, recipient=NUMBER, user_id="U2", now=T0)


def test_pages_follow_the_digits_and_count_the_whole_list(db: Database) -> None:
    """Numbers come in the order of their digits, ``limit`` at a time, the total on each page."""
    numbers = [f"55119876543{n:02d}" for n in range(25)]
    for number in reversed(numbers):
        add_optout(db, recipient=number, user_id="U1", now=T0)
    first = optout_page(db, offset=0, limit=10)
    last = optout_page(db, offset=20, limit=10)
    assert [e.recipient for e in first.entries] == numbers[:10]
    assert [e.recipient for e in last.entries] == numbers[20:]
    assert (first.total, last.total) == (25, 25)
    assert optout_page(db, offset=30, limit=10).entries == ()


def test_the_numbers_of_a_long_list_on_the_opt_out_list_are_found(db: Database) -> None:
    """Among 1,200 numbers (three batches) the listed ones, and only they, are found."""
    listed = {"5511900000007", "5511900000600", "5511900001199"}
    for number in listed:
        add_optout(db, recipient=number, user_id="U1")
    asked = [f"55119{n:08d}" for n in range(1200)]
    assert opted_out_among(db, asked) == listed
    assert opted_out_among(db, []) == set()
