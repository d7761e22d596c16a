"""``/sms cancel`` under contention, and how a cancelled SMS reads in ``/sms status`` and ``/sms find``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.simulator import MobizonSimulator
from bot.sms.sending import cancel as cancelling
from handlers import account_words as words
from storage import account, messages
from testkit.waiting import wait_until
from tests.conftest import BotHarness
from tests.handlers.conftest import answered_later
from tests.handlers.test_e2e_account import send_scheduled

pytestmark = pytest.mark.usefixtures("secret_guard")

PEOPLE = tuple(f"U{n}" for n in range(1, 11))


def deletes(sim: MobizonSimulator) -> int:
    """How many campaign/delete requests reached the simulator."""
    return sum(r.method == "delete" for r in sim.requests)


@pytest.fixture
async def team_bot(
    simulator: tuple[MobizonSimulator, str], start_bot: Callable[..., Any]
) -> BotHarness:
    """The bot with ten people who may each cancel any SMS (SMSBOT_ALLOWED_USERS)."""
    harness: BotHarness = await start_bot(simulator[1], allowed_users=frozenset(PEOPLE))
    return harness


async def test_ten_cancels_at_once_ask_mobizon_once(
    team_bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Ten people cancelling one SMS together: one delete, one "cancelled", nine "already by"."""
    bot = team_bot
    message_id = await send_scheduled(bot, sim)
    before = len(bot.slack.responses)
    sim.hold()  # the first delete stays at Mobizon while the others arrive
    try:
        acks = await asyncio.gather(
            *(bot.command(f"cancel {message_id}", user_id=person) for person in PEOPLE)
        )
        assert acks == [(200, "")] * len(PEOPLE)
        await wait_until(lambda: deletes(sim) >= 1, what="the first campaign/delete")
    finally:
        sim.release()
    told = await bot.slack.wait_for_responses(before + len(PEOPLE))
    row = messages.get_by_message_id(bot.db, message_id)
    assert row is not None
    assert row.cancelled_by in PEOPLE
    assert row.cancelling_by is None
    assert sorted(str(r.params["text"]) for r in told[before:]) == sorted(
        [words.cancelled(message_id)]
        + [words.cancel_already_cancelled(message_id, row.cancelled_by)] * 9
    )
    assert deletes(sim) == 1


async def test_a_refused_cancel_leaves_the_sms_cancellable(
    team_bot: BotHarness, sim: MobizonSimulator
) -> None:
    """When Mobizon refuses the delete, the SMS is not left "being cancelled": a retry works."""
    bot = team_bot
    message_id = await send_scheduled(bot, sim)
    sim.fail_next("campaign/delete", code=10)
    said = await answered_later(bot, f"cancel {message_id}")
    assert said == words.cancel_too_late(message_id)
    row = messages.get_by_message_id(bot.db, message_id)
    assert row is not None
    assert (row.cancelled_by, row.cancelling_by) == (None, None)
    said = await answered_later(bot, f"cancel {message_id}", user_id="U2")
    assert said == words.cancelled(message_id)
    assert deletes(sim) == 2


async def test_a_cancel_elsewhere_is_waited_for_and_a_dead_one_taken_over(
    team_bot: BotHarness, sim: MobizonSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's live cancel is named; one left by a dead process expires and is redone.

    Once done, a later cancel by someone else is told who cancelled it.
    """
    bot = team_bot
    message_id = await send_scheduled(bot, sim)
    monkeypatch.setattr(cancelling, "CANCEL_WAIT", 0.3)
    assert account.claim_cancel(bot.db, message_id, "U9")  # another process, still at Mobizon
    said = await answered_later(bot, f"cancel {message_id}")
    assert said == words.cancel_in_progress(message_id, "U9")
    assert deletes(sim) == 0
    account.release_cancel(bot.db, message_id, "U9")
    long_ago = datetime.now(UTC) - 2 * account.CANCEL_CLAIM_LIFETIME
    assert account.claim_cancel(bot.db, message_id, "U9", now=long_ago)  # its process died
    assert await answered_later(bot, f"cancel {message_id}") == words.cancelled(message_id)
    assert deletes(sim) == 1
    said = await answered_later(bot, f"cancel {message_id}", user_id="U2")
    assert said == words.cancel_already_cancelled(message_id, "U1")
    assert deletes(sim) == 1


async def test_a_cancelled_sms_reads_as_cancelled_in_status_and_find(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """After a cancel, ``/sms status ID`` and ``/sms find`` show it cancelled, not Mobizon's NEW."""
    message_id = await send_scheduled(bot, sim)
    assert await answered_later(bot, f"cancel {message_id}") == words.cancelled(message_id)
    said = await answered_later(bot, f"status {message_id}")
    assert f":no_entry_sign: *{message_id}*: cancelled by <@U1> · " in said
    assert "NEW" not in said
    found = await answered_later(bot, "find to:5511")
    assert f":no_entry_sign: *{message_id}* to " in found
    assert "· cancelled by <@U1> ·" in found
    assert "NEW" not in found


async def test_a_delete_whose_record_failed_keeps_its_claim(
    team_bot: BotHarness, sim: MobizonSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mobizon deleted the campaign but the record failed: the claim stays, Mobizon is not asked again."""
    bot = team_bot
    message_id = await send_scheduled(bot, sim)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(account, "record_cancelled", broken)
    monkeypatch.setattr(cancelling, "CANCEL_WAIT", 0.2)
    await answered_later(bot, f"cancel {message_id}")
    row = messages.get_by_message_id(bot.db, message_id)
    assert row is not None
    assert (row.cancelled_by, row.cancelling_by) == (None, "U1")
    said = await answered_later(bot, f"cancel {message_id}", user_id="U2")
    assert said == words.cancel_in_progress(message_id, "U1")
    assert deletes(sim) == 1
