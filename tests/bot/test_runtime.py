"""The runtime's groups of resources, its health probes, in-flight tracking and Slack clients."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler

from bot.mobizon import BeforeRequest, MobizonClient, OutgoingSms, SentMessage
from bot.process.inflight import InFlight
from bot.process.runtime import RUNTIME, Core, Health, NotStartedError, Runtime
from bot.process.settings import Settings
from bot.process.slack_client import make_slack_client
from bot.simulator import SEND_SMS, MobizonSimulator
from bot.sms.sending.campaign_types import CampaignRequest, Prepared
from bot.sms.sending.outcomes import OutcomeUnknown, Sent
from bot.sms.sending.recipients import TooManyRecipients
from bot.sms.sending.types import Origin, Surface
from handlers.context import Services, watch_listeners
from handlers.errors import reporting_errors
from storage.store import Store
from testkit.slack import FakeSlack
from testkit.waiting import wait_until
from tests.conftest import MOBIZON_KEY, BotHarness

SEND_OUTCOMES = ("sent", "failed", "unknown")


def test_nothing_is_handed_out_before_it_is_open(
    fake_slack: FakeSlack, make_settings: Callable[..., Settings]
) -> None:
    """Before its lifetimes ran, the runtime has no core and refuses to build services."""
    runtime = Runtime(make_settings(fake_slack, None))
    assert runtime.core is None
    with pytest.raises(NotStartedError):
        runtime.started()
    with pytest.raises(NotStartedError):
        runtime.services()
    runtime.wake_notifier()  # no tracking yet: nothing to wake, no error


def test_health_names_each_probe_it_watches() -> None:
    """The scheduler is always checked; Socket Mode only once its probe is set."""
    health = Health()
    assert health.checks() == {"scheduler": False}
    health.scheduler = lambda: True
    health.slack_socket = lambda: False
    assert health.checks() == {"scheduler": True, "slack_socket": False}


async def test_a_listener_is_in_flight_from_its_start_to_its_end(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A /sms send's listener task is kept while Mobizon answers, for shutdown, then let go."""
    sim.hold()  # Mobizon takes the send and answers only once released
    try:
        status, _ = await bot.command("send 5511987654321 hi")
        assert status == 200
        await wait_until(lambda: sim.count(SEND_SMS) == 1)
        pending = [task for task in bot.runtime.inflight.tasks if not task.done()]
        assert len(pending) == 1
    finally:
        sim.release()
    await wait_until(lambda: not bot.runtime.inflight.tasks, what="the listener let go")
    assert pending[0].done()
    assert not pending[0].cancelled()


async def test_only_a_listeners_task_is_kept() -> None:
    """The wrapper tracks the listener's own task when the request is watched; nothing else."""
    inflight = InFlight()
    seen: list[bool] = []

    async def listener(ack: object) -> None:  # Bolt passes it
        seen.append(asyncio.current_task() in inflight.tasks)

    async def request(watched: bool) -> None:  # the services middleware, then Bolt's listener
        hook = inflight.track_current if watched else None
        watch_listeners(_services_with(hook))
        await asyncio.ensure_future(reporting_errors(listener)(ack=None))  # as Bolt does
        seen.append(asyncio.current_task() in inflight.tasks)  # the request's own task: never

    await asyncio.create_task(request(watched=False))
    await asyncio.create_task(request(watched=True))
    assert seen == [False, False, True, False]
    assert inflight.tasks == set()  # finished tasks are let go


def _services_with(on_listener_start: Callable[[], None] | None) -> Services:
    """Services carrying only the listener-start hook (the rest is never touched here)."""
    unused: Any = None
    return Services(
        store=unused, sending=unused, account=unused, on_listener_start=on_listener_start
    )


class BrokenClient(MobizonClient):
    """A client whose send breaks on smsbot's side (a bug, not an answer of Mobizon)."""

    async def send_sms(
        self,
        sms: OutgoingSms,  # noqa: ARG002
        *,
        before_request: BeforeRequest | None = None,  # noqa: ARG002
    ) -> SentMessage:
        """Break."""
        raise RuntimeError("a bug")


@pytest.mark.parametrize(
    ("client_type", "outcome_type", "sent"),
    [(MobizonClient, Sent, 1), (BrokenClient, OutcomeUnknown, 0)],
)
async def test_the_listeners_sends_are_counted_and_kept_in_flight(
    fake_slack: FakeSlack,
    make_settings: Callable[..., Settings],
    simulator: tuple[MobizonSimulator, str],
    tmp_path: Path,
    client_type: type[MobizonClient],
    outcome_type: type[object],
    sent: int,
) -> None:
    """A listener's send is waited for and counted when Mobizon took it; a bug of ours counts nowhere."""
    runtime = Runtime(make_settings(fake_slack, simulator[1]))
    seen: list[object] = []

    async def listener(ack: object) -> None:  # Bolt passes it
        origin = Origin("T1", "C1", "U1", Surface.SLASH_COMMAND, "t-1", "https://r.invalid/1")
        sending = runtime.services().sending
        outcome = await sending.send(OutgoingSms("5511987654321", "hi"), origin)
        seen.extend([type(outcome), asyncio.current_task() in runtime.inflight.tasks])

    async def send() -> None:  # the request: the services middleware, then the listener's task
        watch_listeners(runtime.services())
        await asyncio.ensure_future(reporting_errors(listener)(ack=None))  # as Bolt does

    store = await Store.open(tmp_path / "listener.db")
    try:
        async with client_type(MOBIZON_KEY, base_url=simulator[1]) as client:
            runtime.core = Core(store, client)
            await asyncio.create_task(send())
    finally:
        await store.close()
    assert seen == [outcome_type, True]
    counted = {o: runtime.metrics.sms_sent.labels(outcome=o)._value.get() for o in SEND_OUTCOMES}
    assert counted == {"sent": sent, "failed": 0, "unknown": 0}


async def test_shutdown_cancels_what_outlives_the_deadline() -> None:
    """A listener still working at the deadline is cancelled; one that finished is not waited."""
    inflight = InFlight()
    never = asyncio.Event()

    async def stuck() -> None:
        inflight.track_current()
        await never.wait()

    task = asyncio.create_task(stuck())
    await asyncio.sleep(0)
    await inflight.wait(0.01)
    assert task.cancelled()


async def test_one_construction_two_retry_rules(
    fake_slack: FakeSlack, make_settings: Callable[..., Settings]
) -> None:
    """Listeners' client retries 429s only; the notifier's retries nothing (it paces itself)."""
    settings = make_settings(fake_slack, None)
    async with aiohttp.ClientSession() as session:
        listeners = make_slack_client(settings, session)
        notifier = make_slack_client(settings, session, retry_rate_limits=False)
    kinds: list[Any] = [type(handler) for handler in listeners.retry_handlers]
    assert kinds == [AsyncRateLimitErrorRetryHandler]
    assert notifier.retry_handlers == []
    assert listeners.base_url == notifier.base_url == settings.slack_api_url


async def test_the_campaign_service_is_wired_with_the_settings_limits(
    start_bot: Callable[..., Any], simulator: tuple[MobizonSimulator, str]
) -> None:
    """Listeners' campaign service takes SMSBOT_CONFIRM_ABOVE and SMSBOT_MAX_RECIPIENTS."""
    harness: BotHarness = await start_bot(simulator[1], confirm_above=2, max_recipients=3)
    campaigns = harness.app[RUNTIME].services().campaigns
    assert campaigns is not None
    numbers = [f"55119{n:08d}" for n in range(4)]

    def request(count: int, key: str) -> CampaignRequest:
        origin = Origin("T1", "C1", "U1", Surface.SLASH_COMMAND, key, "https://r.invalid/1")
        return CampaignRequest("Oi", origin, typed=", ".join(numbers[:count]))

    assert await campaigns.prepare(request(4, "t-1")) == TooManyRecipients(4, 3)
    prepared = await campaigns.prepare(request(3, "t-2"))
    assert isinstance(prepared, Prepared)
    assert prepared.needs_confirmation
