"""The notifier's waits: the shared backoff after a refusal, Slack's Retry-After after a 429."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict
from slack_sdk.web.async_client import AsyncWebClient

from handlers import notifier as notifier_module
from handlers.notifier import MAX_BACKOFF
from handlers.slack_failures import retry_after
from storage.engine import Database
from storage.store import Store
from testkit.clock import FastForwardClock
from testkit.slack import FakeSlack
from tests.sms.delivery.conftest import (
    SeedSms,
    channel_message,
    fast_notifier,
    outbox_drained,
    report,
    running,
)


async def test_a_refused_update_waits_the_shared_backoff(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    seed_sms: SeedSms,
    clock: FastForwardClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two internal_error answers: retries 1 and 2 wait the one backoff, from retry_base to 300 s."""
    calls: list[tuple[int, float, float]] = []

    def recorded(retry_number: int, *, first: float, cap: float) -> float:
        calls.append((retry_number, first, cap))
        return 0.0

    monkeypatch.setattr(notifier_module, "backoff", recorded)
    sms = seed_sms(db, 7, slack=fake_slack)
    report(db, 7, "ACCEPTD")
    fake_slack.fail_next("chat.update", "internal_error", times=2)
    async with running(fast_notifier(store, slack_client, clock, retry_base=0.2)):
        await outbox_drained(db)
    assert calls == [(1, 0.2, MAX_BACKOFF), (2, 0.2, MAX_BACKOFF)]
    assert "ACCEPTD" in channel_message(fake_slack, sms)["text"]


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "7"}, 7.0),  # header names ignore case, as aiohttp keeps them
        ({"RETRY-AFTER": "2.5"}, 2.5),
        ({"Retry-After": "0"}, 1.0),  # at least one second
        ({"Retry-After": "soon"}, 1.0),
        ({}, 1.0),
    ],
)
def test_retry_after_is_read_from_slacks_headers(headers: dict[str, str], seconds: float) -> None:
    """The wait Slack asks for is read from its headers whatever their case; one second at least."""
    assert retry_after(CIMultiDict(headers)) == seconds
