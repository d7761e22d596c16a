"""The /sms status grammar: message ids."""

from __future__ import annotations

import pytest

from handlers.grammar import (
    StatusCommand,
)
from tests.handlers.grammar.helpers import parse

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
