"""Sends a crash cut short between the claim and Mobizon's answer are settled, never re-sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlite_utils import Database

from bot.delivery.interrupted import IN_FLIGHT_LIMIT, RECOVERED_NOTE, InterruptedSends
from bot.mobizon import MobizonClient, RetryPolicy
from bot.simulator import LIST, SEND_SMS, MobizonSimulator
from storage import SendState, SmsRecord, claim_send, get_sms
from tests.bot.serve_process import ServeProcess, base_env, command_body, post_command
from tests.conftest import MOBIZON_KEY
from tests.delivery.conftest import SeedSms, eventually
from tests.fakes.slack import FakeSlack

NUMBER = "5511987654321"
STARTED = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
async def gateway(simulator: tuple[MobizonSimulator, str]) -> AsyncIterator[MobizonClient]:
    """A Mobizon client on the simulator that does not retry (each test says what fails)."""
    _, url = simulator
    async with MobizonClient(
        MOBIZON_KEY, base_url=url, retry=RetryPolicy(attempts=1, base_delay=0, max_delay=0)
    ) as client:
        yield client


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP session for response_url posts."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def claim(
    db: Database, slack: FakeSlack, *, at: datetime, text: str = "your parcel is here", n: int = 1
) -> SmsRecord:
    """A send claimed at ``at`` whose Mobizon answer was never recorded (the process died)."""
    claimed = claim_send(
        db,
        trigger_id=f"trigger-{n}",
        team_id="T1",
        channel_id="C1",
        user_id="U1",
        response_url=f"{slack.url}response/{n}",
        recipient=NUMBER,
        text=text,
        sender=None,
        segments=1,
        encoding="gsm7",
        name=None,
        deferred_to=None,
        validity=None,
        flash=False,
        now=at,
    )
    assert claimed is not None
    return claimed


def settler(
    db: Database, gateway: MobizonClient, slack: AsyncWebClient, session: aiohttp.ClientSession
) -> InterruptedSends:
    """The component under test, for a process started at ``STARTED``."""
    return InterruptedSends(db, gateway, slack, session, started_at=STARTED)


def state(db: Database, sms: SmsRecord) -> SmsRecord:
    """The SMS as stored now."""
    found = get_sms(db, sms.id)
    assert found is not None
    return found


async def test_a_send_mobizon_received_is_tracked_and_posted_not_resent(
    db: Database,
    fake_slack: FakeSlack,
    simulator: tuple[MobizonSimulator, str],
    gateway: MobizonClient,
    slack_client: AsyncWebClient,
    session: aiohttp.ClientSession,
) -> None:
    """A claim whose SMS Mobizon did receive becomes a sent SMS with its channel message."""
    sim, _ = simulator
    sms = claim(db, fake_slack, at=STARTED - timedelta(seconds=5))
    received = sim.create_message(NUMBER, sms.text)

    settled = await settler(db, gateway, slack_client, session).run_once(now=STARTED)

    assert settled == 1
    row = state(db, sms)
    assert row.state is SendState.SENT
    assert row.message_id == received.id
    assert row.slack_ts is not None
    (post,) = fake_slack.called("chat.postMessage")
    assert post.params["channel"] == "C1"
    assert str(received.id) in post.params["text"]
    assert RECOVERED_NOTE in str(post.params["blocks"])
    assert sim.count(SEND_SMS) == 0
    assert fake_slack.responses == []


async def test_a_send_mobizon_never_saw_is_reported_not_sent(
    db: Database,
    fake_slack: FakeSlack,
    simulator: tuple[MobizonSimulator, str],
    gateway: MobizonClient,
    slack_client: AsyncWebClient,
    session: aiohttp.ClientSession,
) -> None:
    """A claim Mobizon has no record of is reported through response_url and marked failed."""
    sim, _ = simulator
    sms = claim(db, fake_slack, at=STARTED - IN_FLIGHT_LIMIT - timedelta(seconds=1))
    sim.create_message(NUMBER, "another text to the same number")

    settled = await settler(db, gateway, slack_client, session).run_once(now=STARTED)

    assert settled == 1
    assert state(db, sms).state is SendState.FAILED
    (notice,) = fake_slack.responses
    assert notice.params["response_type"] == "ephemeral"
    assert "was *not sent*" in notice.params["text"]
    assert "your parcel is here" in notice.params["text"]
    assert fake_slack.called("chat.postMessage") == []
    assert sim.count(SEND_SMS) == 0


async def test_a_fresh_claim_not_found_yet_waits_for_mobizon_to_list_it(
    db: Database,
    fake_slack: FakeSlack,
    gateway: MobizonClient,
    slack_client: AsyncWebClient,
    session: aiohttp.ClientSession,
) -> None:
    """A claim from the previous process, seconds old and not listed yet, is left for later."""
    sms = claim(db, fake_slack, at=STARTED - timedelta(seconds=5))

    settled = await settler(db, gateway, slack_client, session).run_once(now=STARTED)

    assert settled == 0
    assert state(db, sms).state is SendState.CLAIMED
    assert fake_slack.responses == []


async def test_an_old_claim_gets_a_direct_message_once_response_url_expired(
    db: Database,
    fake_slack: FakeSlack,
    gateway: MobizonClient,
    slack_client: AsyncWebClient,
    session: aiohttp.ClientSession,
) -> None:
    """After Slack's response_url has expired, the sender is told in a direct message."""
    sms = claim(db, fake_slack, at=STARTED - timedelta(hours=2))

    assert await settler(db, gateway, slack_client, session).run_once(now=STARTED) == 1

    assert fake_slack.responses == []
    assert len(fake_slack.called("conversations.open")) == 1
    (post,) = fake_slack.called("chat.postMessage")
    assert "was *not sent*" in post.params["text"]
    assert state(db, sms).state is SendState.FAILED


async def test_claims_of_this_process_in_flight_are_left_alone(
    db: Database,
    fake_slack: FakeSlack,
    simulator: tuple[MobizonSimulator, str],
    gateway: MobizonClient,
    slack_client: AsyncWebClient,
    session: aiohttp.ClientSession,
) -> None:
    """A claim made after the process started, younger than any send lasts, is not touched."""
    sim, _ = simulator
    sms = claim(db, fake_slack, at=STARTED + timedelta(seconds=30))

    now = STARTED + timedelta(seconds=60)
    assert await settler(db, gateway, slack_client, session).run_once(now=now) == 0

    assert state(db, sms).state is SendState.CLAIMED
    assert sim.count(LIST) == 0
    assert fake_slack.calls == []


async def test_mobizon_down_leaves_the_claim_for_the_next_cycle(
    db: Database,
    fake_slack: FakeSlack,
    simulator: tuple[MobizonSimulator, str],
    gateway: MobizonClient,
    slack_client: AsyncWebClient,
    session: aiohttp.ClientSession,
) -> None:
    """When the lookup fails nothing is concluded; the next cycle settles the claim."""
    sim, _ = simulator
    sms = claim(db, fake_slack, at=STARTED - timedelta(minutes=5))
    sim.fail_next(LIST, 999)
    interrupted = settler(db, gateway, slack_client, session)

    assert await interrupted.run_once(now=STARTED) == 0
    assert state(db, sms).state is SendState.CLAIMED
    assert fake_slack.responses == []

    assert await interrupted.run_once(now=STARTED) == 1
    assert state(db, sms).state is SendState.FAILED
    assert len(fake_slack.responses) == 1


async def test_slack_refusing_the_notice_keeps_the_claim_until_it_is_told(
    db: Database,
    fake_slack: FakeSlack,
    gateway: MobizonClient,
    slack_client: AsyncWebClient,
    session: aiohttp.ClientSession,
) -> None:
    """The claim is marked failed only after Slack accepted the notice."""
    sms = claim(db, fake_slack, at=STARTED - timedelta(hours=2))
    fake_slack.fail_next("chat.postMessage", "internal_error")
    interrupted = settler(db, gateway, slack_client, session)

    assert await interrupted.run_once(now=STARTED) == 0
    assert state(db, sms).state is SendState.CLAIMED

    assert await interrupted.run_once(now=STARTED) == 1
    assert state(db, sms).state is SendState.FAILED
    assert len(fake_slack.called("chat.postMessage")) == 2


async def test_a_message_another_sms_owns_is_not_adopted(
    db: Database,
    fake_slack: FakeSlack,
    simulator: tuple[MobizonSimulator, str],
    gateway: MobizonClient,
    slack_client: AsyncWebClient,
    session: aiohttp.ClientSession,
    seed_sms: SeedSms,
) -> None:
    """The same text to the same number sent earlier by the bot does not count as this send."""
    sim, _ = simulator
    earlier = sim.create_message(NUMBER, "your parcel is here")
    seed_sms(db, earlier.id, text="your parcel is here", recipient=NUMBER)
    sms = claim(db, fake_slack, at=STARTED - timedelta(minutes=5), n=2)

    assert await settler(db, gateway, slack_client, session).run_once(now=STARTED) == 1

    assert state(db, sms).state is SendState.FAILED
    assert state(db, sms).message_id is None


def stored_sms(db_path: Path) -> list[dict[str, Any]]:
    """The SMS rows, read as another process would."""
    database = Database(db_path)
    try:
        return list(database.query("SELECT state, message_id, slack_ts FROM sms"))
    finally:
        database.close()


async def test_sigkill_while_mobizon_answers_is_settled_after_restart(
    tmp_path: Path, fake_slack: FakeSlack, simulator: tuple[MobizonSimulator, str]
) -> None:
    """Killed between the claim and Mobizon's answer, the restarted bot finds the SMS, never re-sends."""
    sim, mobizon_url = simulator
    sim.set_latency(2.0, method=SEND_SMS)
    db_path = tmp_path / "smsbot.db"
    env = base_env(
        fake_slack.url,
        db_path,
        MOBIZON_API_KEY=MOBIZON_KEY,
        MOBIZON_API_URL=mobizon_url,
        SMSBOT_POLL_INTERVAL="0.3",
    )
    first = await ServeProcess.start(env)
    try:
        async with aiohttp.ClientSession() as http:
            body = command_body("send +55 11 98765-4321 killed mid-send", fake_slack.url)
            assert (await post_command(http, first.url, body))[0] == 200
        await eventually(lambda: sim.count(SEND_SMS) == 1, what="the send to reach Mobizon")
        first.process.kill()  # SIGKILL while Mobizon has not answered yet
        assert await first.process.wait() == -9
    finally:
        await first.kill()
    assert [row["state"] for row in stored_sms(db_path)] == ["claimed"]
    await eventually(lambda: len(sim.messages) == 1, what="Mobizon to finish the send")

    second = await ServeProcess.start(env)
    try:
        await eventually(
            lambda: any(p.get("thread_ts") for p in fake_slack.messages.values()),
            what="the delivery reply in the recovered SMS's thread",
        )
        await second.stop()
    finally:
        await second.kill()
    (message_id,) = sim.messages
    (row,) = stored_sms(db_path)
    assert (row["state"], row["message_id"]) == ("sent", message_id)
    assert row["slack_ts"] is not None
    first_post = fake_slack.called("chat.postMessage")[0]
    assert RECOVERED_NOTE in str(first_post.params["blocks"])
    (reply,) = [p for p in fake_slack.messages.values() if p.get("thread_ts")]
    assert f"SMS {message_id}" in reply["text"]
    assert sim.count(SEND_SMS) == 1
