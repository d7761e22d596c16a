"""Peers that flood or stall the server: bounded log lines, bounded connections."""

from __future__ import annotations

import logging

import pytest

from bot.logs import LogThrottle
from tests.conftest import BotHarness

UNSIGNED = {"Content-Type": "application/x-www-form-urlencoded"}


async def post_unsigned(bot: BotHarness, times: int) -> None:
    """POST an unsigned command to /slack/events ``times`` times; each is refused with 401."""
    for _ in range(times):
        async with bot.session.post(
            bot.url + "slack/events", data="command=%2Fsms&text=help", headers=UNSIGNED
        ) as response:
            assert response.status == 401


def refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The "slack request refused" WARNING lines logged so far."""
    return [r for r in caplog.records if r.getMessage() == "slack request refused"]


async def test_a_flood_of_unsigned_requests_logs_one_line_a_minute(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """Unsigned requests each get 401, but log one WARNING a minute; the next counts those left out."""
    now = [5000.0]
    bot.runtime.log_throttle = LogThrottle(60.0, clock=lambda: now[0])
    caplog.set_level(logging.INFO)
    await post_unsigned(bot, 5)
    (first,) = refusals(caplog)
    assert (first.status, first.reason) == (401, "no Slack signature")  # type: ignore[attr-defined]
    assert not hasattr(first, "suppressed")
    now[0] += 61
    await post_unsigned(bot, 2)
    first_again, second = refusals(caplog)
    assert first_again is first
    assert second.suppressed == 4  # type: ignore[attr-defined]
