"""Shared helpers of the /sms grammar's unit tests: the test's clock, region and parse shortcuts."""

from __future__ import annotations

from datetime import datetime

import pytest

from handlers.grammar import AnyCommand, FindCommand, SendCommand, UsageError, parse_command

NOW = datetime(2026, 11, 25, 12, 0)  # noqa: DTZ001 - the grammar works in naive local time
BR_MOBILE = "5511987654321"
EMOJI = "\U0001f600"


def parse(text: str, *, now: datetime = NOW, region: str = "BR") -> AnyCommand:
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
