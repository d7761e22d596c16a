"""A compose modal's send is in the database before its submission is acknowledged (the modal closes).

Whichever way the modal was opened (``/sms`` alone, "Send as SMS" on a message, the global "Send
an SMS"), a process killed once the modal closed leaves a claim the others know of.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from typing import Any

import pytest
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.simulator import MobizonSimulator
from handlers import claim_ack
from handlers.errors import UNEXPECTED_ERROR
from handlers.i18n import gettext as _
from handlers.views import compose_text as say
from storage import claims
from testkit.database import run_sql
from testkit.waiting import wait_until
from tests.conftest import BotHarness
from tests.handlers.compose_kit import global_shortcut, message_shortcut, state, submit
from tests.handlers.conftest import sends

pytestmark = pytest.mark.usefixtures("secret_guard")

NUMBER = "5511987654321"
TEXT = "Your order is ready"
#: Slack closes a request it has no answer to after 3 seconds.
SLACK_ACK_WINDOW = 3.0
#: How long a held claim waits at most, so a failing test ends rather than hangs.
HELD_AT_MOST = 20.0

#: The ways the compose modal is opened, and the channel each posts its SMS in.
PATHS = {"sms alone": "C1", "send as sms": "C7", "send an sms": "C9"}


async def open_by(bot: BotHarness, path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Open the compose modal the way ``path`` names; the view and a valid submission of it."""
    before = len(bot.slack.called("views.open"))
    if path == "sms alone":
        assert await bot.command("") == (200, "")
    elif path == "send as sms":
        assert await message_shortcut(bot, "hello") == (200, "")
    else:
        assert await global_shortcut(bot) == (200, "")
    calls = await bot.slack.wait_for("views.open", before + 1)
    view = bot.slack.views[f"V{len(calls):04d}"]
    values: dict[str, Any] = {"sms_phone": NUMBER, "sms_text": TEXT}
    if path == "send an sms":
        values["sms_channel"] = {"type": "conversations_select", "selected_conversation": "C9"}
    return view, state(**values)


def rows(bot: BotHarness) -> list[dict[str, Any]]:
    """The sms table's rows: what was claimed, by whom, for which view and channel."""
    found = run_sql(bot.db, "SELECT state, claimed_by, trigger_id, channel_id, text FROM sms")
    return [dict(row) for row in found]


def field_errors(body: str) -> dict[str, str]:
    """The field errors a submission was answered with (the modal stays open)."""
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    errors: dict[str, str] = answer["errors"]
    return errors


async def sent_once(bot: BotHarness, sim: MobizonSimulator, channel: str) -> None:
    """Wait for the claimed send to be sent and posted; it went to Mobizon once."""
    await wait_until(
        lambda: [r["state"] for r in rows(bot)] == ["sent"], what="the send to be recorded"
    )
    posted = await bot.slack.wait_for("chat.postMessage")
    assert posted[0].params["channel"] == channel
    assert len(sends(sim)) == 1


@pytest.mark.parametrize("path", list(PATHS))
async def test_the_claim_is_recorded_before_the_modal_closes(
    bot: BotHarness, sim: MobizonSimulator, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """A claim that takes a while still lands before the ack: the row exists as the ack returns."""
    view, values = await open_by(bot, path)
    real_claim = claims.claim_send_unless_opted_out

    def slow_claim(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.25)  # on the writer thread: a busy database, say
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(claims, "claim_send_unless_opted_out", slow_claim)
    # the bound, well within Slack's 3 s, so that a loaded machine still claims within it
    monkeypatch.setattr(claim_ack, "CLAIM_BEFORE_ACK", 2.0)
    sim.hold()  # Mobizon takes its time: the send stays claimed after the ack
    try:
        assert await submit(bot, view, values) == (200, "")
        assert rows(bot) == [
            {
                "state": "claimed",
                "claimed_by": bot.runtime.replica_id,
                "trigger_id": f"view:{view['id']}",
                "channel_id": PATHS[path],
                "text": TEXT,
            }
        ]
    finally:
        sim.release()
    await sent_once(bot, sim, PATHS[path])


@pytest.mark.parametrize("path", list(PATHS))
async def test_a_failed_ack_releases_the_claim(
    bot: BotHarness, sim: MobizonSimulator, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """An ack that fails after the claim: the claim is forgotten, nothing sent, the modal says so."""
    view, values = await open_by(bot, path)
    real_claim = claims.claim_send_unless_opted_out
    claimed: list[object] = []

    def counted_claim(*args: Any, **kwargs: Any) -> Any:
        found = real_claim(*args, **kwargs)
        claimed.append(found)
        return found

    real_ack = AsyncAck.__call__

    async def failing_ack(self: AsyncAck, *args: Any, **kwargs: Any) -> Any:
        if not args and not kwargs:  # the empty ack that would close the modal
            msg = "the ack did not reach Slack"
            raise RuntimeError(msg)
        return await real_ack(self, *args, **kwargs)

    monkeypatch.setattr(claims, "claim_send_unless_opted_out", counted_claim)
    monkeypatch.setattr(AsyncAck, "__call__", failing_ack)
    status, body = await submit(bot, view, values)
    assert status == 200
    assert field_errors(body) == {"sms_phone": _(UNEXPECTED_ERROR)}
    assert len(claimed) == 1
    assert claimed[0] is not None  # it was claimed, then released
    assert rows(bot) == []
    assert sends(sim) == []


@pytest.mark.parametrize("path", list(PATHS))
async def test_a_database_slower_than_the_rule_still_closes_the_modal_in_time(
    bot: BotHarness, sim: MobizonSimulator, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """A claim held until after the ack: the modal closes within Slack's 3 s, then it is sent."""
    view, values = await open_by(bot, path)
    real_claim = claims.claim_send_unless_opted_out
    held = threading.Event()

    def held_claim(*args: Any, **kwargs: Any) -> Any:
        held.wait(HELD_AT_MOST)  # on the writer thread: a database that does not answer
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(claims, "claim_send_unless_opted_out", held_claim)
    try:
        async with asyncio.timeout(SLACK_ACK_WINDOW):
            assert await submit(bot, view, values) == (200, "")
        assert rows(bot) == []  # acknowledged while the claim was still held
    finally:
        held.set()
    await sent_once(bot, sim, PATHS[path])


@pytest.mark.parametrize("path", list(PATHS))
async def test_a_claim_the_database_cannot_save_keeps_the_modal_open(
    bot: BotHarness, sim: MobizonSimulator, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """A claim refused (the database locked): the modal stays open saying nothing was sent; again sends."""
    view, values = await open_by(bot, path)
    real_claim = claims.claim_send_unless_opted_out

    def locked_claim(*_args: Any, **_kwargs: Any) -> Any:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(claims, "claim_send_unless_opted_out", locked_claim)
    status, body = await submit(bot, view, values)
    assert status == 200
    assert field_errors(body) == {"sms_text": _(say.NOT_SAVED_BUSY)}
    assert rows(bot) == []
    assert sends(sim) == []
    monkeypatch.setattr(claims, "claim_send_unless_opted_out", real_claim)
    assert await submit(bot, view, values) == (200, "")  # the same modal, submitted again
    await sent_once(bot, sim, PATHS[path])
    assert bot.slack.called("chat.postEphemeral") == []  # said in the modal, not again


async def test_a_claim_failing_otherwise_says_nothing_was_sent(
    bot: BotHarness, sim: MobizonSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim that fails for another reason than a lock gets its own sentence in the modal."""
    view, values = await open_by(bot, "sms alone")

    def broken_claim(*_args: Any, **_kwargs: Any) -> Any:
        msg = "disk I/O error"
        raise sqlite3.OperationalError(msg)

    monkeypatch.setattr(claims, "claim_send_unless_opted_out", broken_claim)
    status, body = await submit(bot, view, values)
    assert status == 200
    assert field_errors(body) == {"sms_text": _(say.NOT_SAVED)}
    assert sends(sim) == []


async def test_a_claim_refused_after_a_slow_ack_is_told_privately(
    bot: BotHarness, sim: MobizonSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The modal closed before the claim was refused: the person is told in the channel instead."""
    view, values = await open_by(bot, "send as sms")
    held = threading.Event()

    def held_locked_claim(*_args: Any, **_kwargs: Any) -> Any:
        held.wait(HELD_AT_MOST)
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(claims, "claim_send_unless_opted_out", held_locked_claim)
    try:
        assert await submit(bot, view, values) == (200, "")
    finally:
        held.set()
    told = await bot.slack.wait_for("chat.postEphemeral")
    assert (told[0].params["channel"], told[0].params["user"]) == ("C7", "U1")
    assert "*not sent*" in told[0].params["text"]
    assert sends(sim) == []
