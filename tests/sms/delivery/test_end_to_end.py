"""The whole bot with the simulator and fake Slack: both status sources, one thread reply."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.mobizon import SmsStatus
from bot.simulator import GET_SMS_STATUS, MobizonSimulator
from bot.sms.delivery.poller import Poller
from storage import delivery
from storage.messages import get_by_message_id
from testkit.waiting import wait_until
from tests.conftest import WEBHOOK_SECRET, BotHarness
from tests.sms.delivery.conftest import (
    SeedSms,
    bot_db,
    bot_store,
    channel_message,
    event,
    outbox_drained,
    post,
    thread_replies,
)

#: An SMS id the simulator does not know, so the bot's own scheduled polls never hear of it.
SMS_ID = 7_000_001


class MobizonSays:
    """A gateway that reports DELIVRD for every id; with ``webhook``, only after posting it."""

    def __init__(self, bot: BotHarness, webhook: dict[str, Any] | None = None) -> None:
        self._bot = bot
        self._webhook = webhook
        self.answers: list[dict[int, SmsStatus]] = []

    async def get_sms_status(self, ids: Iterable[int]) -> dict[int, SmsStatus]:
        """Answer like Mobizon's getSMSStatus (see the class)."""
        at = datetime(2026, 1, 15, 11, 42, 8)  # noqa: DTZ001  # Mobizon's naive local time
        answer = {i: SmsStatus(i, "DELIVRD", 1, at, at) for i in ids}
        if self._webhook is not None:
            assert (await post(self._bot, self._webhook))[0] == 200
        self.answers.append(answer)
        return answer


async def test_webhook_and_poll_report_the_same_final_status_once(
    start_bot: Callable[..., Any],
    simulator: tuple[MobizonSimulator, str],
    seed_sms: SeedSms,
) -> None:
    """The webhook lands while a poll asking about the SMS is in flight: one reply, one change."""
    bot: BotHarness = await start_bot(simulator[1], mobizon_webhook_secret=WEBHOOK_SECRET)
    db = bot_db(bot)
    sms = seed_sms(db, SMS_ID, slack=bot.slack)
    gateway = MobizonSays(bot, webhook=event(26, SMS_ID))
    poller = Poller(bot_store(bot), gateway, on_change=bot.runtime.wake_notifier)

    report = await poller.run_once()
    assert gateway.answers[0][SMS_ID].status == "DELIVRD"  # the poll saw it too ...
    assert report.changed == 0  # ... but the webhook had already applied it
    await outbox_drained(db)
    assert len(thread_replies(bot.slack, sms)) == 1
    history = delivery.status_history(db, SMS_ID)
    assert [(h.status, h.source) for h in history] == [("NEW", "command"), ("DELIVRD", "webhook")]


async def test_poll_first_then_webhook_posts_once(
    start_bot: Callable[..., Any],
    simulator: tuple[MobizonSimulator, str],
    seed_sms: SeedSms,
) -> None:
    """The poller applies DELIVRD and Slack gets it; Mobizon's webhook afterwards adds nothing."""
    bot: BotHarness = await start_bot(simulator[1], mobizon_webhook_secret=WEBHOOK_SECRET)
    db = bot_db(bot)
    sms = seed_sms(db, SMS_ID, slack=bot.slack)
    poller = Poller(bot_store(bot), MobizonSays(bot), on_change=bot.runtime.wake_notifier)
    assert (await poller.run_once()).changed == 1
    await outbox_drained(db)
    assert await post(bot, event(26, SMS_ID)) == (200, {"ok": True, "duplicate": False})
    await outbox_drained(db)
    assert len(thread_replies(bot.slack, sms)) == 1
    assert len(bot.slack.called("chat.update")) == 1
    history = delivery.status_history(db, SMS_ID)
    assert [(h.status, h.source) for h in history] == [("NEW", "command"), ("DELIVRD", "poll")]


async def test_sms_from_slack_is_reported_once_with_webhooks_and_polling_on(
    start_bot: Callable[..., Any],
    simulator: tuple[MobizonSimulator, str],
) -> None:
    """/sms send, then Mobizon's webhook and a 0.3 s poll both see DELIVRD: one thread reply."""
    sim, url = simulator
    sim.set_speed(2.0)  # final after 1 s: some three polls of the SMS while it is pending
    bot: BotHarness = await start_bot(url, mobizon_webhook_secret=WEBHOOK_SECRET, poll_interval=0.3)
    sim.configure_webhook(bot.url + "mobizon/webhook", WEBHOOK_SECRET)
    status, _body = await bot.command("send +55 11 98765-4321 hello from the channel")
    assert status == 200
    db = bot_db(bot)
    await wait_until(lambda: len(sim.messages) == 1, what="the SMS at Mobizon")
    (message_id,) = sim.messages

    def reported() -> bool:
        sms = get_by_message_id(db, message_id)
        return sms is not None and sms.is_final and sms.slack_ts is not None

    await wait_until(reported, what="a final status")
    await wait_until(lambda: any(a.accepted for a in sim.webhook_attempts), what="the webhook")
    await outbox_drained(db)
    sms = get_by_message_id(db, message_id)
    assert sms is not None
    assert sms.status == "DELIVRD"
    assert sim.count(GET_SMS_STATUS) >= 1  # polling ran alongside the webhook
    assert len(thread_replies(bot.slack, sms)) == 1
    assert "DELIVRD (delivered)" in channel_message(bot.slack, sms)["text"]
    finals = [h for h in delivery.status_history(db, message_id) if h.status == "DELIVRD"]
    assert len(finals) == 1


async def test_running_bot_gives_up_in_the_channel(
    start_bot: Callable[..., Any],
    simulator: tuple[MobizonSimulator, str],
    seed_sms: SeedSms,
) -> None:
    """An SMS Mobizon never finalises gets "no final status from Mobizon after …" in its thread."""
    _sim, url = simulator
    bot: BotHarness = await start_bot(url, poll_interval=0.3)
    db = bot_db(bot)
    sms = seed_sms(db, 424242, slack=bot.slack, sent_at=datetime.now(UTC) - timedelta(hours=26))
    await wait_until(lambda: len(thread_replies(bot.slack, sms)) == 1, what="the give-up reply")
    (reply,) = thread_replies(bot.slack, sms)
    assert "no final status from Mobizon after 24 h plus a grace period" in reply["text"]
    await outbox_drained(db)
