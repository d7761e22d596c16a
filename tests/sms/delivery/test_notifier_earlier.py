"""Looking in the fake Slack for an earlier post by its message metadata, as the notifier does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.notifier_earlier import earlier_posts
from testkit.slack import FakeSlack

EVENT = "smsbot_test_post"


def marked(message: dict[str, Any], message_id: int = 7) -> bool:
    """Whether ``message`` carries this test's metadata for SMS ``message_id``."""
    metadata = message.get("metadata") or {}
    return metadata.get("event_type") == EVENT and (
        metadata.get("event_payload", {}).get("message_id") == message_id
    )


def history(client: AsyncWebClient) -> Callable[[], Awaitable[Any]]:
    """Read channel C1's history with its messages' metadata."""
    return lambda: client.conversations_history(channel="C1", include_all_metadata=True)


def put(slack: FakeSlack, ts: str, message_id: int | None, **fields: Any) -> None:
    """A message in C1, marked for SMS ``message_id`` unless None."""
    message: dict[str, Any] = {"channel": "C1", "text": "SMS", **fields}
    if message_id is not None:
        message["metadata"] = {"event_type": EVENT, "event_payload": {"message_id": message_id}}
    slack.messages[("C1", ts)] = message


async def test_the_post_is_found_among_others_by_its_metadata(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    """Only the message whose metadata names the SMS is returned, with its ts."""
    put(fake_slack, "1700000001.000001", None)
    put(fake_slack, "1700000002.000002", 8)
    put(fake_slack, "1700000003.000003", 7)
    found = await earlier_posts(history(slack_client), marked, sms_id=7, what="the SMS")
    assert found is not None
    assert [message["ts"] for message in found] == ["1700000003.000003"]


async def test_a_thread_is_read_the_same_way(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    """A reply in an SMS's thread (conversations.replies) is found by its metadata too."""
    put(fake_slack, "1700000001.000001", None)
    put(fake_slack, "1700000002.000002", 7, thread_ts="1700000001.000001")
    found = await earlier_posts(
        lambda: slack_client.conversations_replies(
            channel="C1", ts="1700000001.000001", include_all_metadata=True
        ),
        marked,
        sms_id=7,
        what="the outcome",
    )
    assert found is not None
    assert [message["ts"] for message in found] == ["1700000002.000002"]


async def test_nothing_there_is_an_empty_list(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    """Slack answered and no message is the post: an empty list, not "could not look"."""
    put(fake_slack, "1700000002.000002", 8)
    assert await earlier_posts(history(slack_client), marked, sms_id=7, what="the SMS") == []
    assert len(fake_slack.called("conversations.history")) == 1


async def test_a_refusal_for_good_means_post_without_looking(
    fake_slack: FakeSlack, slack_client: AsyncWebClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Without the history scope there is no answer (None), and the log says it is posted."""
    put(fake_slack, "1700000003.000003", 7)
    fake_slack.fail_next("conversations.history", "missing_scope")
    assert await earlier_posts(history(slack_client), marked, sms_id=7, what="the SMS") is None
    assert "could not look for an earlier post of the SMS; posting it" in caplog.messages


@pytest.mark.parametrize("failure", ["internal_error", "ratelimited"])
async def test_a_refusal_that_may_pass_is_raised(
    fake_slack: FakeSlack, slack_client: AsyncWebClient, failure: str
) -> None:
    """Slack unwell or rate limiting: the error is raised, so the row is retried, not posted."""
    put(fake_slack, "1700000003.000003", 7)
    if failure == "ratelimited":
        fake_slack.rate_limit_next("conversations.history", retry_after=1)
    else:
        fake_slack.fail_next("conversations.history", failure)
    with pytest.raises(SlackApiError):
        await earlier_posts(history(slack_client), marked, sms_id=7, what="the SMS")
