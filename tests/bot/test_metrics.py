"""``GET /metrics``: Prometheus text with sends, gateway timings, delivery time, outbox, poll cycles."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from bot.mobizon import REQUEST_METHODS, Balance
from bot.process.metrics import CURRENCIES, STATUSES, Metrics, known_label
from bot.simulator import GET_SMS_STATUS, SEND_SMS, MobizonSimulator
from storage import messages
from testkit.slack import FakeSlack
from tests.conftest import BotHarness

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(bot: BotHarness) -> tuple[str, Samples]:
    """GET /metrics; return its content type and every sample by (name, labels)."""
    async with bot.session.get(bot.url + "metrics") as response:
        assert response.status == 200
        text = await response.text()
        content_type = response.headers["Content-Type"]
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return content_type, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (KeyError when the series is missing)."""
    return samples[(name, frozenset(labels.items()))]


async def until(check: Callable[[], Any], *, within: float = 15.0, interval: float = 0.05) -> None:
    """Wait until the awaitable ``check()`` returns true."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            msg = "condition not met in time"
            raise AssertionError(msg)
        await asyncio.sleep(interval)


async def test_metrics_expose_each_series_after_a_send(
    start_bot: Callable[..., Any],
    simulator: tuple[MobizonSimulator, str],
    fake_slack: FakeSlack,
) -> None:
    """After a delivered send, /metrics shows the send, gateway timings, delivery time and a poll."""
    # DELIVRD after 1 s, not 2: polled while pending at 0.2 s a poll, and a whole second after
    # the send (the times it is measured between are kept to the second)
    simulator[0].set_speed(2.0)
    bot: BotHarness = await start_bot(simulator[1], poll_interval=0.2)
    status, _ = await bot.command("send +55 11 98765-4321 metrics please")
    assert status == 200
    await fake_slack.wait_for("chat.postMessage", 2, timeout=20)  # the message, then the reply
    # the notifier observes the delivery time once it has recorded Slack's acceptance of the reply
    delivered = ("smsbot_delivery_seconds_count", frozenset({("status", "DELIVRD")}))
    (message_id,) = simulator[0].messages

    async def observed() -> bool:
        # the SMS's cost, looked up once it is final (it may be after the reply was posted),
        # edits its post through the outbox too: the outbox is empty for good once it is kept.
        # The cost is read before the scrape: read after, it could be kept (and its edit queued)
        # between the two, and an empty outbox be taken for one with that edit posted.
        sms = messages.get_by_message_id(bot.db, message_id)
        costed = sms is not None and sms.cost is not None
        if not costed:
            return False
        samples = (await scrape(bot))[1]
        return delivered in samples and value(samples, "smsbot_outbox_size") == 0

    await until(observed, within=20)
    content_type, samples = await scrape(bot)
    assert content_type.startswith("text/plain; version=")
    assert value(samples, "smsbot_sms_sent_total", outcome="sent") == 1
    assert value(samples, "smsbot_sms_sent_total", outcome="failed") == 0
    sends = value(
        samples, "smsbot_gateway_request_duration_seconds_count", method=SEND_SMS, outcome="ok"
    )
    assert sends == 1
    send_seconds = value(
        samples, "smsbot_gateway_request_duration_seconds_sum", method=SEND_SMS, outcome="ok"
    )
    assert 0 < send_seconds < 20
    polls = value(
        samples,
        "smsbot_gateway_request_duration_seconds_count",
        method=GET_SMS_STATUS,
        outcome="ok",
    )
    assert polls >= 1
    assert value(samples, "smsbot_delivery_seconds_count", status="DELIVRD") == 1
    # the simulator at speed 2 takes about 1 s from sending to DELIVRD
    assert 0 < value(samples, "smsbot_delivery_seconds_sum", status="DELIVRD") < 30
    assert value(samples, "smsbot_poll_cycle_duration_seconds_count") >= 1
    assert value(samples, "smsbot_poll_cycle_duration_seconds_sum") > 0
    assert value(samples, "smsbot_outbox_size") == 0
    assert value(samples, "smsbot_pending_sms") == 0


async def test_metrics_count_failed_and_unknown_sends_and_a_waiting_outbox(
    start_bot: Callable[..., Any],
    simulator: tuple[MobizonSimulator, str],
    fake_slack: FakeSlack,
) -> None:
    """Refused and unanswered sends are counted apart; undelivered notifications show in the outbox."""
    sim, url = simulator
    bot: BotHarness = await start_bot(url, poll_interval=0.2)
    sim.fail_next(SEND_SMS, 8)
    await bot.command("send +55 11 98765-4321 refused")
    await fake_slack.wait_for_responses(1)
    sim.html_failure_next(method=SEND_SMS, status=502)
    await bot.command("send +55 11 98765-4321 lost in the middle")
    await fake_slack.wait_for_responses(2)
    _, samples = await scrape(bot)
    assert value(samples, "smsbot_sms_sent_total", outcome="failed") == 1
    assert value(samples, "smsbot_sms_sent_total", outcome="unknown") == 1
    assert value(samples, "smsbot_sms_sent_total", outcome="sent") == 0
    assert (
        value(
            samples,
            "smsbot_gateway_request_duration_seconds_count",
            method=SEND_SMS,
            outcome="api_error",
        )
        == 1
    )
    assert (
        value(
            samples,
            "smsbot_gateway_request_duration_seconds_count",
            method=SEND_SMS,
            outcome="gateway_error",
        )
        == 1
    )

    fake_slack.fail_next("chat.update", "internal_error", times=1000)
    await bot.command("send +55 11 98765-4321 updates stuck")
    await fake_slack.wait_for("chat.postMessage")

    async def outbox_waits() -> bool:
        _, now = await scrape(bot)
        return value(now, "smsbot_outbox_size") >= 1

    await until(outbox_waits)
    _, samples = await scrape(bot)
    assert value(samples, "smsbot_sms_sent_total", outcome="sent") == 1


async def test_each_app_has_its_own_registry(
    start_bot: Callable[..., Any],
    simulator: tuple[MobizonSimulator, str],
    fake_slack: FakeSlack,
) -> None:
    """Two apps in one process keep separate counts (a per-app CollectorRegistry)."""
    first: BotHarness = await start_bot(simulator[1])
    second: BotHarness = await start_bot(simulator[1], db_path=str(first.settings.db_path) + "2")
    await first.command("send +55 11 98765-4321 only the first")
    await fake_slack.wait_for("chat.postMessage")
    _, one = await scrape(first)
    _, two = await scrape(second)
    assert value(one, "smsbot_sms_sent_total", outcome="sent") == 1
    assert value(two, "smsbot_sms_sent_total", outcome="sent") == 0


async def test_a_currency_from_outside_is_one_series_named_other(
    start_bot: Callable[..., Any],
    simulator: tuple[MobizonSimulator, str],
    fake_slack: FakeSlack,
) -> None:
    """Balances in made-up currencies all land in smsbot_balance{currency="other"}, not a series each."""
    sim, url = simulator
    bot: BotHarness = await start_bot(url)
    for answered, currency in enumerate(("<!CHANNEL>*X*a1", "<!CHANNEL>*X*b2", "brl"), start=1):
        sim.set_pricing("0.06", currency=currency)
        await bot.command("balance")
        await fake_slack.wait_for_responses(answered)
        if answered == 2:
            _, samples = await scrape(bot)
            balances = {labels for name, labels in samples if name == "smsbot_balance"}
            assert balances == {frozenset({("currency", "other")})}
    _, samples = await scrape(bot)
    balances = {labels for name, labels in samples if name == "smsbot_balance"}
    assert balances == {frozenset({("currency", "other")}), frozenset({("currency", "BRL")})}
    assert value(samples, "smsbot_balance", currency="BRL") == float(sim.balance)


def test_labels_from_outside_take_known_values_only() -> None:
    """Unknown gateway methods, outcomes, send outcomes and statuses are each labelled "other"."""
    metrics = Metrics()
    metrics.gateway_request("<!here>/x", "ok", 0.1)
    metrics.gateway_request("getSMSStatus", "`odd`", 0.1)
    metrics.sms_send("*bold*")
    metrics.balance_seen(Balance(amount=Decimal(5), currency=None))
    text = metrics.exposition().decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    gateway = {
        (s.labels["method"], s.labels["outcome"])
        for s in families["smsbot_gateway_request_duration_seconds"].samples
        if s.name.endswith("_count")
    }
    assert gateway == {("other", "ok"), ("getsmsstatus", "other")}
    sends = {s.labels["outcome"] for s in families["smsbot_sms_sent"].samples}
    assert sends == {"sent", "failed", "unknown", "other"}
    assert {s.labels["currency"] for s in families["smsbot_balance"].samples} == {"other"}
    assert known_label("<!channel>", STATUSES) == "other"
    assert known_label("DELIVRD", STATUSES) == "DELIVRD"
    assert "BRL" in CURRENCIES
    assert {"sendsmsmessage", "user/getownbalance", "campaign/delete"} <= REQUEST_METHODS
