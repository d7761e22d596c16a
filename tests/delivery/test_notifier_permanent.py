"""Slack refusing an update for good (the sender's account is gone) does not loop forever."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlite_utils import Database

from bot.delivery.notifier import PERMANENT_ATTEMPTS
from storage.delivery import outbox_size
from tests.delivery.conftest import SeedSms, direct_messages, outbox_drained, running
from tests.delivery.test_notifier import fast_notifier, report
from tests.fakes.slack import FakeSlack


async def test_a_permanently_refused_update_is_dropped_after_a_few_attempts(
    db: Database,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    seed_sms: SeedSms,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """user_not_found on the DM, attempt after attempt: the row goes, with an error logged."""
    seed_sms(db, 7, channel="C1", user="U7")  # never posted in the channel: outcome goes by DM
    fake_slack.fail_next("chat.postMessage", "user_not_found", times=PERMANENT_ATTEMPTS)
    report(db, 7, "DELIVRD")
    assert outbox_size(db) == 1
    with caplog.at_level(logging.ERROR, logger="bot.delivery.notifier"):
        async with running(
            fast_notifier(db, slack_client, retry_base=0.01, post_grace=timedelta(0))
        ):
            await outbox_drained(db)
    assert len(fake_slack.called("chat.postMessage")) == PERMANENT_ATTEMPTS
    assert direct_messages(fake_slack, "U7") == []
    (dropped,) = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert getattr(dropped, "error", None) == "user_not_found"


async def test_a_passing_refusal_is_retried_until_slack_takes_it(
    db: Database, fake_slack: FakeSlack, slack_client: AsyncWebClient, seed_sms: SeedSms
) -> None:
    """Fewer refusals than the limit: the update still arrives."""
    seed_sms(db, 8, channel="C1", user="U8")
    fake_slack.fail_next("chat.postMessage", "user_not_found", times=PERMANENT_ATTEMPTS - 1)
    report(db, 8, "DELIVRD")
    async with running(fast_notifier(db, slack_client, retry_base=0.01, post_grace=timedelta(0))):
        await outbox_drained(db)
    (dm,) = direct_messages(fake_slack, "U8")
    assert "was delivered" in dm["text"]
