"""Fixtures for delivery tracking tests: a database, SMS already sent, notifiers, webhook reports."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.simulator import sign
from bot.sms.clock import Clock
from handlers.notifier import Notifier
from storage.claims import NewSend, claim_send, record_sent
from storage.delivery import StatusUpdate, apply_status
from storage.engine import Database
from storage.messages import get_sms
from storage.outbox import PostNote, finish_notification, outbox_size, record_post, refuse_post
from storage.records import SmsRecord
from storage.schema import open_database, write_transaction
from storage.store import Store
from testkit.clock import FastForwardClock
from testkit.database import run_sql
from testkit.slack import BOT_TOKEN, FakeSlack
from testkit.waiting import wait_until
from tests.bot.serve_process import ServeProcess, base_env, command_body, post_command
from tests.conftest import MOBIZON_KEY, WEBHOOK_SECRET, BotHarness, copy_migrated

SeedSms = Callable[..., SmsRecord]


@pytest.fixture
def db(tmp_path: Path, migrated_sqlite: Path) -> Iterator[Database]:
    """A fresh, migrated database file (the test's own connection: storage calls run inline)."""
    copy_migrated(migrated_sqlite, tmp_path / "delivery.db")
    database = open_database(tmp_path / "delivery.db")
    yield database
    database.close()


@pytest.fixture
async def store(db: Database, tmp_path: Path) -> AsyncIterator[Store]:
    """The same database file as ``db``, as the app uses it: storage calls off the event loop."""
    opened = await Store.open(tmp_path / "delivery.db")
    yield opened
    await opened.close()


def post_original(slack: FakeSlack, channel: str, text: str = "SMS sent") -> str:
    """Put a bot message in the fake Slack as the ``/sms send`` listener would; return its ts."""
    slack._ts += 1  # the fake's own ts counter, so later posts never clash
    ts = f"{1_600_000_000 + slack._ts}.{slack._ts:06d}"
    slack.messages[(channel, ts)] = {"channel": channel, "text": text}
    return ts


def _post_settled(
    db: Database, sms: SmsRecord, slack: FakeSlack | None, channel: str, now: datetime
) -> None:
    """The notifier's work on the SMS's post row, done at ``now``: posted in ``slack``, else refused."""
    (row,) = run_sql(
        db, "SELECT id FROM outbox WHERE message_id = :id AND kind = 'post'", id=sms.message_id
    )
    if slack is not None:
        record_post(db, sms.id, channel=channel, ts=post_original(slack, channel), now=now)
    else:
        refuse_post(db, sms.id, error="not_in_channel", now=now)
    finish_notification(db, row["id"])


@pytest.fixture
def seed_sms() -> SeedSms:
    """Record one SMS as sent: ``seed_sms(db, message_id, slack=fake, channel="C1", ...)``.

    With ``slack`` its channel message exists in the fake and its ts is stored, as after the
    notifier posted it; without, Slack refused its post (``not_in_channel``: its updates go to
    its sender), or with ``post_owed`` its post waits in the outbox (said with ``note``).
    ``sent_at`` backdates the send, and is when every seeding write says it happened (the
    real clock's time when not given); other fields go to claim_send.
    """
    counter = itertools.count(1)

    def seed(
        db: Database,
        message_id: int,
        *,
        slack: FakeSlack | None = None,
        channel: str = "C1",
        user: str = "U1",
        sent_at: datetime | None = None,
        post_owed: bool = False,
        note: PostNote | None = None,
        **fields: Any,
    ) -> SmsRecord:
        n = next(counter)
        values: dict[str, Any] = {
            "trigger_id": f"seed-{n}-{message_id}",
            "team_id": "T1",
            "channel_id": channel,
            "user_id": user,
            "response_url": None,
            "recipient": "5511987654321",
            "text": f"hello {n}",
            "sender": None,
            "segments": 1,
            "encoding": "gsm7",
            "name": None,
            "deferred_to": None,
            "validity": None,
            "flash": False,
        }
        values.update(fields)
        when = sent_at or datetime.now(UTC)
        with write_transaction(db):  # one commit: seeding hundreds stays quick
            claimed = claim_send(db, NewSend(**values), now=when)
            assert claimed is not None
            sms = record_sent(
                db,
                claimed.id,
                message_id=message_id,
                campaign_id=message_id + 1_000_000,
                campaign_status=2,
                note=note,
                now=when,
            )
            if not post_owed:
                _post_settled(db, sms, slack, channel, when)
        found = get_sms(db, sms.id)
        assert found is not None
        return found

    return seed


@pytest.fixture
async def slack_client(fake_slack: FakeSlack) -> AsyncIterator[AsyncWebClient]:
    """A Slack Web API client for the fake, without retry handlers (as the notifier's)."""
    async with aiohttp.ClientSession() as session:
        yield AsyncWebClient(
            token=BOT_TOKEN,
            base_url=fake_slack.url + "api/",
            session=session,
            retry_handlers=[],
        )


@contextlib.asynccontextmanager
async def running(notifier: Notifier) -> AsyncIterator[Notifier]:
    """Run the notifier's drain loop in the background for the block."""
    task = asyncio.create_task(notifier.run())
    try:
        yield notifier
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def outbox_drained(db: Database, *, within: float = 20.0) -> None:
    """Wait until no notification is left in the outbox."""
    await wait_until(lambda: outbox_size(db) == 0, within=within, what="an empty outbox")


def thread_replies(slack: FakeSlack, sms: SmsRecord) -> list[dict[str, Any]]:
    """Messages Slack accepted in the thread of the SMS's channel message."""
    return [
        params
        for (channel, _ts), params in slack.messages.items()
        if channel == sms.slack_channel and params.get("thread_ts") == sms.slack_ts
    ]


def direct_messages(slack: FakeSlack, user: str = "U1") -> list[dict[str, Any]]:
    """Messages Slack accepted in the DM the fake opens with ``user``."""
    dm = "D" + user.removeprefix("U")
    return [params for (channel, _ts), params in slack.messages.items() if channel == dm]


def channel_message(slack: FakeSlack, sms: SmsRecord) -> dict[str, Any]:
    """The SMS's channel message as Slack now shows it."""
    assert sms.slack_channel is not None
    assert sms.slack_ts is not None
    return slack.messages[(sms.slack_channel, sms.slack_ts)]


def serve_env(slack: FakeSlack, mobizon_url: str, db_path: Path) -> dict[str, str]:
    """The environment of a ``smsbot serve`` on the fake Slack and the simulator, polling fast."""
    return base_env(
        slack.url,
        db_path,
        MOBIZON_API_KEY=MOBIZON_KEY,
        MOBIZON_API_URL=mobizon_url,
        SMSBOT_POLL_INTERVAL="0.3",
    )


async def serve_and_send(
    env: dict[str, str], slack: FakeSlack, text: str, *, quick: bool = False
) -> ServeProcess:
    """Start ``smsbot serve`` and have it take ``/sms send +55 11 98765-4321 <text>``.

    ``quick``: its Slack pacing skips its sleeps (:mod:`tests.bot.forked`).
    """
    process = await ServeProcess.start(env, quick=quick)
    try:
        async with aiohttp.ClientSession() as session:
            body = command_body(f"send +55 11 98765-4321 {text}", slack.url)
            status, _ = await post_command(session, process.url, body)
    except BaseException:
        await process.kill()
        raise
    assert status == 200
    return process


def report(db: Database, message_id: int, *statuses: str) -> None:
    """Apply statuses to an SMS as the poller would, one second apart."""
    for n, status in enumerate(statuses):
        ts = f"2026-01-15 11:00:{n:02d}"
        assert apply_status(db, StatusUpdate(message_id, status, ts, source="poll")) is not None


def fast_notifier(
    store: Store, client: AsyncWebClient, clock: Clock, **options: object
) -> Notifier:
    """A notifier with Slack's pacing on a clock that skips its sleeps, short idle waits."""
    values: dict[str, object] = {"idle_wait": 0.05, "retry_base": 0.2, "clock": clock}
    values.update(options)
    return Notifier(store, client, **values)  # type: ignore[arg-type]


@dataclass
class NotifierRig:
    """What the notifier's tests share: a database, the fake Slack, its client, a fast clock."""

    db: Database
    store: Store
    slack: FakeSlack
    client: AsyncWebClient
    clock: FastForwardClock
    seed: SeedSms

    def sms(self, message_id: int, **options: Any) -> SmsRecord:
        """Record SMS ``message_id`` as sent, with :func:`seed_sms`'s options."""
        return self.seed(self.db, message_id, **options)

    def stored(self, sms: SmsRecord) -> SmsRecord:
        """The SMS as stored now."""
        found = get_sms(self.db, sms.id)
        assert found is not None
        return found

    def notifier(self, **options: object) -> Notifier:
        """A notifier on the fake Slack and the fast clock (:func:`fast_notifier`'s options)."""
        return fast_notifier(self.store, self.client, self.clock, **options)

    async def drain_all(self, notifier: Notifier | None = None) -> None:
        """Run ``notifier`` (a new one unless given) until the outbox is empty."""
        async with running(notifier or self.notifier()):
            await outbox_drained(self.db)


@pytest.fixture
def rig(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: FastForwardClock,
    seed_sms: SeedSms,
) -> NotifierRig:
    """The notifier's tests' database, fake Slack, client and clock (no notifier runs yet)."""
    return NotifierRig(db, store, fake_slack, slack_client, clock, seed_sms)


def posted_earlier(
    slack: FakeSlack, channel: str, ts: str, metadata: dict[str, Any], **fields: Any
) -> None:
    """Put a message in Slack as an earlier process posted it, unrecorded: found by ``metadata``."""
    slack.messages[(channel, ts)] = {"channel": channel, **fields, "metadata": metadata}


def event(
    event_id: int,
    message_id: int,
    status: str = "DELIVRD",
    *,
    attempt: int = 1,
    secret: str | None = WEBHOOK_SECRET,
    status_ts: str = "2026-01-15 11:42:08",
    created: str | None = None,
) -> dict[str, Any]:
    """A delivery report as Mobizon posts it, signed with ``secret`` (unsigned when None).

    ``created`` (``eventCreateTs``) is now, in UTC, unless given.
    """
    created = created or datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    body: dict[str, Any] = {
        "eventId": event_id,
        "eventType": "sms-delivery-report",
        "eventCreateTs": created,
        "webhookId": 1,
        "attempt": attempt,
        "data": {
            "campaignId": 245455096,
            "messageId": message_id,
            "segNum": 1,
            "statusUpdateTs": status_ts,
            "status": status,
            "to": "5511987654321",
        },
    }
    if secret is not None:
        body["sign"] = sign(event_id, attempt, created, secret)
    return body


async def post(bot: BotHarness, body: dict[str, Any] | bytes) -> tuple[int, dict[str, Any]]:
    """POST a webhook body to the bot; return the HTTP status and its JSON answer."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with bot.session.post(
        bot.url + "mobizon/webhook", data=raw, headers={"Content-Type": "application/json"}
    ) as resp:
        return resp.status, await resp.json()


def bot_db(bot: BotHarness) -> Database:
    """The test's own connection to the running bot's database."""
    return bot.db


def bot_store(bot: BotHarness) -> Store:
    """The running bot's store (its database, off the event loop)."""
    return bot.runtime.started().store
