"""The runtime's groups of resources, its health probes, in-flight tracking and Slack clients."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler

from bot.inflight import InFlight, TrackedGateway
from bot.mobizon import BeforeRequest, MobizonClient, OutgoingSms, SentMessage
from bot.runtime import Core, Health, NotStartedError, Runtime
from bot.sending.outcomes import OutcomeUnknown, Sent
from bot.sending.types import Origin, Surface
from bot.settings import Settings
from bot.simulator import MobizonSimulator
from bot.slack_client import make_slack_client
from storage.store import Store
from testkit.slack import FakeSlack
from tests.conftest import MOBIZON_KEY

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


async def test_only_the_tracked_gateway_keeps_its_callers(
    simulator: tuple[MobizonSimulator, str],
) -> None:
    """A send through the tracked wrapper keeps its task for shutdown; one to the bare client not."""
    inflight = InFlight()
    async with MobizonClient(MOBIZON_KEY, base_url=simulator[1]) as client:
        await asyncio.create_task(client.send_sms(OutgoingSms("5511987654321", "a")))
        assert inflight.tasks == set()
        tracked = TrackedGateway(client, inflight)
        seen: list[bool] = []

        async def send() -> None:
            await tracked.send_sms(OutgoingSms("5511987654321", "b"))
            seen.append(asyncio.current_task() in inflight.tasks)

        await asyncio.create_task(send())
    assert seen == [True]


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

    async def send() -> None:
        origin = Origin("T1", "C1", "U1", Surface.SLASH_COMMAND, "t-1", "https://r.invalid/1")
        sending = runtime.services().sending
        outcome = await sending.send(OutgoingSms("5511987654321", "hi"), origin)
        seen.extend([type(outcome), asyncio.current_task() in runtime.inflight.tasks])

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
