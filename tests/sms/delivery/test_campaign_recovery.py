"""Sends to many a killed replica left, taken over by a live one: sent once, or told as not sent.

Each test runs a campaign as replica ``dead`` over the simulator on loopback and kills it (an
exception no handler catches, as a SIGKILL leaves the database) at one point of its run; then the
dead replica's heartbeat goes stale and replica ``live`` runs its recovery step.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import RowMapping

from bot.mobizon import MobizonClient, RetryPolicy
from bot.simulator import (
    CAMPAIGN_ADD_RECIPIENTS,
    CAMPAIGN_CREATE,
    CAMPAIGN_DELETE,
    CAMPAIGN_INFO,
    CAMPAIGN_SEND,
    MobizonSimulator,
)
from bot.sms.delivery.campaign_recovery import TOO_LATE, CampaignNotSentWhy, CampaignRecovery
from bot.sms.delivery.unsettled import RESEND_LIMIT
from bot.sms.sending.campaign_types import CampaignRequest, Prepared
from bot.sms.sending.campaigns import CampaignLimits, CampaignService
from bot.sms.sending.types import Origin, Surface
from handlers.campaign_notices import SlackCampaignNotices, not_sent_text
from handlers.i18n import use_locale
from storage import campaigns, replicas
from storage.campaign_records import CampaignRecord
from storage.engine import Database
from storage.store import Store
from testkit.clock import ManualClock
from testkit.database import run_sql
from testkit.slack import FakeSlack
from tests.conftest import MOBIZON_KEY

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LEASE = replicas.LEASE


class Killed(BaseException):
    """The process died here: nothing after it runs, no handler records anything."""


@pytest.fixture
async def gateway(simulator: tuple[MobizonSimulator, str]) -> AsyncIterator[MobizonClient]:
    """A Mobizon client on the simulator that does not retry."""
    async with MobizonClient(
        MOBIZON_KEY, base_url=simulator[1], retry=RetryPolicy(attempts=1, base_delay=0, max_delay=0)
    ) as client:
        yield client


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP session for response_url posts."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@dataclass
class Rig:
    """A dead replica's campaign service, the survivor's recovery, and what they talk to."""

    db: Database
    store: Store
    sim: MobizonSimulator
    gateway: MobizonClient
    slack: FakeSlack
    clock: ManualClock
    notices: SlackCampaignNotices

    def recovery(self, replica: str = "live") -> CampaignRecovery:
        """The recovery step of live replica ``replica``."""
        return CampaignRecovery(
            self.store, self.gateway, self.notices, replica=replica, lease=LEASE, clock=self.clock
        )

    async def left_by_dead(
        self, count: int, *, kill: str, after: int = 1, before: bool = False
    ) -> int:
        """Prepare a campaign of ``count`` numbers and run it as ``dead``, killed at ``kill``.

        ``kill`` names a gateway method; the ``after``-th call of it is killed, once its request
        reached Mobizon (or, with ``before``, before it leaves). Returns the campaign's id.
        """
        await self.store.write(replicas.register, "dead", host="h", pid=1, now=self.clock.now())
        dead = CampaignService(
            self.store,
            _killed_at(self.gateway, kill, after, before=before),
            replica="dead",
            clock=self.clock,
            limits=CampaignLimits(confirm_above=count),
        )
        origin = Origin(
            "T1", "C1", "U1", Surface.SLASH_COMMAND, "trigger-1", f"{self.slack.url}response/1"
        )
        request = CampaignRequest(
            text="Pedido pronto", origin=origin, typed=", ".join(NUMBERS[:count])
        )
        prepared = await dead.prepare(request)
        assert isinstance(prepared, Prepared)
        assert not prepared.needs_confirmation
        with pytest.raises(Killed):
            await dead.run(prepared.campaign_id)
        return prepared.campaign_id

    async def later(self, by: timedelta) -> None:
        """Move time on by ``by``; ``live`` registers (or beats) at the new time."""
        self.clock.at += by
        if not await self.store.write(replicas.heartbeat, "live", now=self.clock.now()):
            await self.store.write(replicas.register, "live", host="h", pid=2, now=self.clock.now())

    async def campaign(self, campaign_id: int) -> CampaignRecord:
        """The campaign as stored now."""
        found = await self.store.read(campaigns.get_campaign, campaign_id)
        assert found is not None
        return found

    def sms_of(self, campaign_id: int) -> list[RowMapping]:
        """The SMS rows of the campaign."""
        return run_sql(self.db, "SELECT * FROM sms WHERE campaign = :c ORDER BY id", c=campaign_id)

    def sent_at_mobizon(self) -> Counter[str]:
        """How many SMS each number got from campaigns Mobizon sent (and did not delete)."""
        got: Counter[str] = Counter()
        for bulk in self.sim.bulk_campaigns.values():
            if bulk.sent_at is not None and bulk.deleted_at is None:
                got.update(self.sim.messages[m].recipient for m in bulk.message_ids)
        return got


#: Distinct mobile numbers in international digits.
NUMBERS = [f"55119{index:08d}" for index in range(1200)]


def _killed_at(gateway: MobizonClient, method: str, after: int, *, before: bool) -> MobizonClient:
    """``gateway`` with its ``after``-th call of ``method`` killed (the request left first)."""
    original: Callable[..., Awaitable[Any]] = getattr(gateway, method)
    calls = 0

    async def dying(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == after:
            if before:
                raise Killed
            await original(*args, **kwargs)
            raise Killed
        return await original(*args, **kwargs)

    class Dying:
        def __getattr__(self, name: str) -> Any:
            return dying if name == method else getattr(gateway, name)

    return Dying()  # type: ignore[return-value]


@pytest.fixture
def rig(
    db: Database,
    store: Store,
    simulator: tuple[MobizonSimulator, str],
    gateway: MobizonClient,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    session: aiohttp.ClientSession,
) -> Rig:
    """A campaign service and recovery on one database, the simulator and the fake Slack."""
    return Rig(
        db,
        store,
        simulator[0],
        gateway,
        fake_slack,
        ManualClock(T0),
        SlackCampaignNotices(slack_client, session),
    )


def tracked(row: RowMapping) -> bool:
    """Whether the SMS row is tracked (sent, not final, not given up on)."""
    return row["state"] == "sent" and row["final_at"] is None and row["gave_up_at"] is None


async def test_a_campaign_killed_before_mobizon_had_its_id_is_run_once_by_the_survivor(
    rig: Rig,
) -> None:
    """Killed as ``campaign/create`` answered: two survivors at once run it once, every number once."""
    campaign_id = await rig.left_by_dead(3, kill="create_campaign")
    left = await rig.campaign(campaign_id)
    assert (left.state, left.claimed_by, left.mobizon_id) == ("sending", "dead", None)
    await rig.later(LEASE + timedelta(seconds=1))
    await rig.store.write(replicas.register, "live-2", host="h", pid=3, now=rig.clock.now())
    settled = await asyncio.gather(rig.recovery().run_once(), rig.recovery("live-2").run_once())
    assert sorted(settled) == [0, 1]
    done = await rig.campaign(campaign_id)
    assert done.state == "sent"
    assert done.claimed_by in {"live", "live-2"}
    assert rig.sim.count(CAMPAIGN_SEND) == 1
    assert rig.sent_at_mobizon() == Counter(NUMBERS[:3])
    rows = rig.sms_of(campaign_id)
    assert [row["campaign_id"] for row in rows] == [done.mobizon_id] * 3
    assert all(tracked(row) for row in rows)
    assert await rig.recovery().run_once() == 0


async def test_a_campaign_killed_after_two_of_three_chunks_is_deleted_and_sent_again(
    rig: Rig,
) -> None:
    """Its Mobizon campaign (holding an unrecorded chunk) deleted; a new one reaches each number once."""
    campaign_id = await rig.left_by_dead(1100, kill="add_campaign_recipients", after=3)
    left = await rig.campaign(campaign_id)
    old = left.mobizon_id
    assert old is not None
    assert len(rig.sms_of(campaign_id)) == 1000  # two chunks recorded; the third never was
    assert len(rig.sim.bulk_campaigns[old].message_ids) == 1100  # Mobizon added all three
    await rig.later(LEASE + timedelta(seconds=1))
    assert await rig.recovery().run_once() == 1
    assert rig.sim.bulk_campaigns[old].deleted_at is not None
    assert rig.sim.bulk_campaigns[old].sent_at is None
    done = await rig.campaign(campaign_id)
    assert (done.state, done.claimed_by) == ("sent", "live")
    assert done.mobizon_id not in {None, old}
    assert (rig.sim.count(CAMPAIGN_CREATE), rig.sim.count(CAMPAIGN_SEND)) == (2, 1)
    assert rig.sim.count(CAMPAIGN_ADD_RECIPIENTS) == 6
    assert rig.sent_at_mobizon() == Counter(NUMBERS[:1100])
    rows = rig.sms_of(campaign_id)
    assert len(rows) == 1100
    assert {row["campaign_id"] for row in rows} == {done.mobizon_id}
    assert all(tracked(row) for row in rows)
    assert {row["trigger_id"] for row in rows} == {f"trigger-1#{n}" for n in range(1, 1101)}
    detached = run_sql(rig.db, "SELECT * FROM sms WHERE campaign_id = :m", m=old)
    assert len(detached) == 1000
    assert all(r["state"] == "failed" and r["detached"] and r["campaign"] is None for r in detached)
    recipients = await rig.store.read(campaigns.campaign_recipients_of, campaign_id)
    assert {r.code for r in recipients} == {0}
    assert rig.slack.responses == []


async def test_a_campaign_whose_send_left_unanswered_is_found_started_and_not_sent_again(
    rig: Rig,
) -> None:
    """``campaign/send`` reached Mobizon, its answer lost with the process: recorded sent as is."""
    campaign_id = await rig.left_by_dead(4, kill="send_campaign")
    left = await rig.campaign(campaign_id)
    assert (left.state, left.sent_at) == ("sending", None)
    rig.sim.advance(1)  # Mobizon is sending it
    await rig.later(LEASE + timedelta(seconds=1))
    assert await rig.recovery().run_once() == 1
    done = await rig.campaign(campaign_id)
    assert (done.state, done.mobizon_id, done.mobizon_status) == ("sent", left.mobizon_id, 2)
    assert (rig.sim.count(CAMPAIGN_SEND), rig.sim.count(CAMPAIGN_DELETE)) == (1, 0)
    assert rig.sim.count(CAMPAIGN_CREATE) == 1
    assert rig.sent_at_mobizon() == Counter(NUMBERS[:4])
    rows = rig.sms_of(campaign_id)
    assert len(rows) == 4
    assert all(tracked(row) and row["campaign_status"] == 2 for row in rows)


async def test_a_campaign_left_longer_than_the_limit_is_failed_deleted_and_its_asker_told(
    rig: Rig,
) -> None:
    """Not sent late: its Mobizon campaign deleted, it is failed, the asker told to send again."""
    campaign_id = await rig.left_by_dead(3, kill="send_campaign", before=True)
    left = await rig.campaign(campaign_id)
    assert left.mobizon_id is not None
    await rig.later(RESEND_LIMIT + timedelta(seconds=1))
    assert await rig.recovery().run_once() == 1
    done = await rig.campaign(campaign_id)
    assert (done.state, done.error) == ("failed", TOO_LATE)
    assert rig.sim.bulk_campaigns[left.mobizon_id].deleted_at is not None
    assert rig.sim.count(CAMPAIGN_SEND) == 0
    assert rig.sent_at_mobizon() == Counter()
    assert not any(tracked(row) for row in rig.sms_of(campaign_id))
    (notice,) = rig.slack.responses
    assert notice.params["response_type"] == "ephemeral"
    assert "3 numbers was *not sent*" in notice.params["text"]
    assert "Send it again" in notice.params["text"]
    assert "Pedido pronto" in notice.params["text"]


async def test_a_confirmed_campaign_never_taken_past_the_limit_is_told_in_a_dm(
    rig: Rig,
) -> None:
    """Its process died between confirm and run; past response_url's life the asker gets a DM."""
    campaign_id = await rig.left_by_dead(2, kill="create_campaign", before=True)
    # as if the process died before it took the campaign: confirmed, nobody's
    run_sql(
        rig.db,
        "UPDATE campaigns SET state = 'confirmed', claimed_by = NULL WHERE id = :c",
        c=campaign_id,
    )
    await rig.later(timedelta(minutes=26))
    assert await rig.recovery().run_once() == 1
    done = await rig.campaign(campaign_id)
    assert done.state == "failed"
    assert rig.sim.count(CAMPAIGN_CREATE) == 0
    assert rig.slack.responses == []
    (dm,) = rig.slack.called("chat.postMessage")
    assert "*not sent*" in dm.params["text"]


async def test_a_live_replicas_campaign_is_never_taken(rig: Rig) -> None:
    """Its holder's heartbeat holds: however long it runs, no step of another replica touches it."""
    campaign_id = await rig.left_by_dead(3, kill="send_campaign", before=True)
    for _ in range(3):
        await rig.later(LEASE - timedelta(seconds=1))
        await rig.store.write(replicas.heartbeat, "dead", now=rig.clock.now())
        assert await rig.recovery().run_once() == 0
    held = await rig.campaign(campaign_id)
    assert (held.state, held.claimed_by) == ("sending", "dead")
    assert rig.sim.count(CAMPAIGN_DELETE) == 0
    assert rig.sim.count(CAMPAIGN_SEND) == 0
    assert rig.slack.responses == []


async def test_a_campaign_mobizon_cannot_tell_about_is_handed_back_and_settled_next_step(
    rig: Rig,
) -> None:
    """``campaign/getinfo`` fails: nothing is decided, the gone holder keeps it, the next step sends it."""
    campaign_id = await rig.left_by_dead(3, kill="send_campaign", before=True)
    await rig.later(LEASE + timedelta(seconds=1))
    rig.sim.fail_next(CAMPAIGN_INFO, 999)
    assert await rig.recovery().run_once() == 0
    waiting = await rig.campaign(campaign_id)
    assert (waiting.state, waiting.claimed_by) == ("sending", "dead")
    assert (rig.sim.count(CAMPAIGN_DELETE), rig.sim.count(CAMPAIGN_SEND)) == (0, 0)
    assert await rig.recovery().run_once() == 1
    done = await rig.campaign(campaign_id)
    assert (done.state, done.claimed_by) == ("sent", "live")
    assert rig.sent_at_mobizon() == Counter(NUMBERS[:3])


async def test_the_asker_is_told_in_portuguese(rig: Rig) -> None:
    """The notice goes through the catalogue: pt-BR says nothing was sent, with its plural."""
    campaign_id = await rig.left_by_dead(3, kill="create_campaign", before=True)
    campaign = await rig.campaign(campaign_id)
    with use_locale("pt_BR"):
        text = not_sent_text(campaign, CampaignNotSentWhy.TOO_LATE)
    assert text.startswith(":warning: Seu envio para 3 números *não foi enviado*")
    assert "Nada foi enviado" in text
    assert text.endswith("> Pedido pronto")
