"""How a listener's failure is answered: Slack unreachable, or a picked channel Slack won't judge."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import pytest
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from handlers.errors import reporting_errors
from handlers.views import channel_check


async def test_slack_unreachable_before_the_ack_still_answers_the_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A listener failing on Slack's network before its ack: the request is acked, one WARNING."""

    async def listener(ack: AsyncAck, body: dict[str, Any]) -> None:
        raise aiohttp.ClientConnectionError

    ack = AsyncAck()  # type: ignore[no-untyped-call]  # Bolt's is untyped
    with caplog.at_level(logging.WARNING):
        await reporting_errors(listener)(ack=ack, body={"type": "block_actions"})
    assert ack.response is not None
    assert [r.levelno for r in caplog.records] == [logging.WARNING]


class _NoScopeClient:
    """A Slack client answering conversations.members with ``missing_scope``."""

    async def conversations_members(self, **_params: Any) -> AsyncSlackResponse:
        answer = {"ok": False, "error": "missing_scope", "needed": "groups:read"}
        response = AsyncSlackResponse(
            client=None,
            http_verb="POST",
            api_url="conversations.members",
            req_args={},
            data=answer,
            headers={},
            status_code=200,
        )
        raise SlackApiError("missing_scope", response)  # type: ignore[no-untyped-call]


async def test_a_missing_scope_is_a_failed_check_not_advice_to_invite(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A workspace without groups:read yet: the pick is refused as unchecked, and it is logged."""
    with caplog.at_level(logging.WARNING):
        said = await channel_check.channel_refusal(
            _NoScopeClient(),  # type: ignore[arg-type]  # the one method the check calls
            channel_id="G0PRIVATE",
            user_id="U1",
        )
    assert said == channel_check.check_failed("missing_scope")
    assert any(getattr(r, "error", None) == "missing_scope" for r in caplog.records)
