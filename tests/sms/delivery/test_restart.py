"""Restart safety: ``smsbot serve`` killed with SIGKILL before Slack took the news, then restarted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.simulator import MobizonSimulator
from testkit.database import Readers
from testkit.slack import FakeSlack
from testkit.waiting import wait_until
from tests.bot.serve_process import ServeProcess
from tests.sms.delivery.conftest import serve_and_send, serve_env

#: every test here kills `smsbot serve` with SIGKILL and starts it again: seconds each
pytestmark = pytest.mark.slow


#: The test's reads of the database ``smsbot serve`` writes, closed after each test.
READERS = Readers()


@pytest.fixture(autouse=True)
def _readers_closed() -> Iterator[None]:
    """The test's reading connection is closed after it."""
    yield
    READERS.close()


def final_row(db_path: Path) -> dict[str, Any] | None:
    """The outbox row of the SMS's final status, read as another process would."""
    rows = READERS.rows(
        db_path,
        "SELECT outbox.* FROM outbox JOIN sms USING (message_id) "
        "WHERE sms.final_at IS NOT NULL AND outbox.status = sms.status",
    )
    return rows[0] if rows else None


def outbox_rows(db_path: Path) -> int:
    """How many notifications wait in the outbox."""
    return int(READERS.rows(db_path, "SELECT count(*) AS n FROM outbox")[0]["n"])


def freeze(sim: MobizonSimulator) -> None:
    """Stop the simulator's time: an SMS stays NEW until the test moves it on (``advance``)."""
    frozen = sim.now()
    sim._clock = lambda: frozen


def replies(slack: FakeSlack) -> list[dict[str, Any]]:
    """Thread replies Slack accepted (the SMS's own message is the only top-level post)."""
    return [params for params in slack.messages.values() if params.get("thread_ts")]


@pytest.mark.parametrize(
    ("refused", "update_done"),
    [
        pytest.param("chat.update", 0, id="killed-before-the-edit"),
        pytest.param("chat.postMessage", 1, id="killed-after-the-edit-before-the-reply"),
    ],
)
async def test_sigkill_between_status_change_and_slack_post(
    tmp_path: Path,
    fake_slack: FakeSlack,
    simulator: tuple[MobizonSimulator, str],
    refused: str,
    update_done: int,
) -> None:
    """After SIGKILL with the final status stored but not in Slack, a restart posts one reply."""
    sim, mobizon_url = simulator
    db_path = tmp_path / "smsbot.db"
    env = serve_env(fake_slack, mobizon_url, db_path)
    freeze(sim)
    first = await serve_and_send(env, fake_slack, "survive a crash")
    try:
        await wait_until(lambda: len(fake_slack.messages) == 1, what="the SMS's channel message")
        # from now on Slack refuses this step, so the final status waits in the outbox
        fake_slack.fail_next(refused, "internal_error", times=1_000_000)
        sim.advance(60)  # Mobizon has the final status only now
        await wait_until(
            lambda: (row := final_row(db_path)) is not None and row["attempts"] >= 1,
            what="a failed attempt to post the final status",
        )
        row = final_row(db_path)
        assert row is not None
        assert (row["update_done"], row["reply_done"]) == (update_done, 0)
        first.process.kill()  # SIGKILL: no shutdown flush, no clean-up
        assert await first.process.wait() == -9
    finally:
        await first.kill()
    assert replies(fake_slack) == []

    fake_slack.clear_failures(refused)
    second = await ServeProcess.start(env, quick=True)
    try:
        await wait_until(lambda: outbox_rows(db_path) == 0, what="the outbox to drain")
        await second.stop()
    finally:
        await second.kill()
    (reply,) = replies(fake_slack)
    (message_id,) = sim.messages
    assert f"SMS {message_id}" in reply["text"]
    assert "was delivered" in reply["text"]
    (original,) = [p for p in fake_slack.messages.values() if not p.get("thread_ts")]
    assert "DELIVRD (delivered)" in original["text"]


async def test_sigkill_after_slack_took_the_reply_before_it_was_recorded(
    tmp_path: Path,
    fake_slack: FakeSlack,
    simulator: tuple[MobizonSimulator, str],
) -> None:
    """Killed while Slack's answer to the reply is on its way: the restart finds it, posts none."""
    sim, mobizon_url = simulator
    db_path = tmp_path / "smsbot.db"
    env = serve_env(fake_slack, mobizon_url, db_path)
    freeze(sim)
    first = await serve_and_send(env, fake_slack, "survive a crash")
    try:
        await wait_until(lambda: len(fake_slack.messages) == 1, what="the SMS's channel message")
        fake_slack.held.add("chat.postMessage")  # Slack posts the reply; its answer is held
        sim.advance(60)  # Mobizon has the final status only now
        await wait_until(lambda: len(replies(fake_slack)) == 1, what="Slack to take the reply")
        row = final_row(db_path)
        assert row is not None
        assert row["reply_done"] == 0  # the bot has not heard back
        first.process.kill()
        assert await first.process.wait() == -9
    finally:
        fake_slack.release_held()
        await first.kill()

    second = await ServeProcess.start(env, quick=True)
    try:
        await wait_until(lambda: outbox_rows(db_path) == 0, what="the outbox to drain")
        await second.stop()
    finally:
        await second.kill()
    assert len(replies(fake_slack)) == 1
    assert len(fake_slack.called("conversations.replies")) == 1
