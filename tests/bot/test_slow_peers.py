"""Peers that flood or stall the server: bounded log lines, bounded connections."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import pytest
from yarl import URL

from bot.process import app as app_module
from bot.process.logs import LogThrottle
from tests.conftest import BotHarness

#: The body timeout the tests run with: short, so nothing waits through the real one.
SHORT_BODY_TIMEOUT = 0.3

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


async def trickle(writer: asyncio.StreamWriter) -> None:
    """Send one byte of the body every 50 ms until the server closes the connection."""
    with contextlib.suppress(ConnectionError):
        while not writer.is_closing():
            writer.write(b"a")
            await writer.drain()
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("path", ["/slack/events", "/mobizon/webhook"])
@pytest.mark.parametrize("stalls", [True, False], ids=["stalled", "trickled"])
async def test_a_body_that_does_not_arrive_in_time_gets_408_and_a_closed_connection(
    bot: BotHarness,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    path: str,
    stalls: bool,  # a parameter
) -> None:
    """Headers promising 1000 bytes, then a few, stalled or trickled: 408 and closed within the bound."""
    monkeypatch.setattr(app_module, "BODY_READ_TIMEOUT", SHORT_BODY_TIMEOUT)
    url = URL(bot.url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {url.host}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nabc"
    )
    started = time.monotonic()
    writer.write(head.encode())
    sender = None if stalls else asyncio.create_task(trickle(writer))
    answer: bytes | None = None
    try:
        answer = await asyncio.wait_for(reader.read(), timeout=SHORT_BODY_TIMEOUT + 3)
    except ConnectionResetError:
        # bytes still trickling in when the server closes make its kernel answer with a reset,
        # which may discard the 408 before it is read: the connection was closed all the same
        assert not stalls
    finally:
        if sender is not None:
            await sender
        writer.close()
    assert time.monotonic() - started < SHORT_BODY_TIMEOUT + 2
    if answer is not None:
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert b"Connection: close" in answer
    warned = [r for r in caplog.records if r.getMessage().startswith("request body not received")]
    assert len(warned) == 1
