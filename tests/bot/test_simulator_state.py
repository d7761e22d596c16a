"""The simulator keeps its state in a file when given one: a second run continues the first."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.mobizon import FINAL_MESSAGE_STATUSES, MessageStatus
from bot.simulator import SimulatorConfig, start_simulator, state_beside
from bot.simulator._state import write_atomically
from storage.status import FINAL_STATUSES, DeliveryStatus
from tests.bot.test_simulator_account import T0, Account
from tests.conftest import MOBIZON_KEY

CONFIG = SimulatorConfig(api_key=MOBIZON_KEY, balance=Decimal("10.0000"))


@contextlib.asynccontextmanager
async def serve(
    path: Path | None, now: datetime = T0, zone: tzinfo | None = None
) -> AsyncIterator[Account]:
    """A fixed-clock simulator keeping its state in ``path``; cleaned up (and saved) after."""
    sim, runner, url = await start_simulator(
        CONFIG, clock=lambda: now, state_path=path, timezone=zone
    )
    try:
        async with aiohttp.ClientSession() as session:
            yield Account(sim, url, session)
    finally:
        await runner.cleanup()


async def test_a_second_run_continues_the_first(tmp_path: Path) -> None:
    """Messages, statuses, a deleted campaign, the balance and the ids all survive a restart."""
    path = tmp_path / "smsbot.sandbox.json"
    later = (T0 + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    async with serve(path) as first:
        sent = await first.send("delivered by the next run")
        scheduled = await first.send("never sent", deferredToTs=later)
        assert await first.data("campaign/delete", [("id", scheduled["campaignId"])]) is True
        # written as each send and deletion is answered, not only at the end
        kept = json.loads(path.read_text(encoding="utf-8"))
        assert [m["text"] for m in kept["messages"]] == ["delivered by the next run", "never sent"]
    async with serve(path, T0 + timedelta(minutes=1)) as second:
        statuses = await second.data(
            "message/getSMSStatus",
            [("ids[0]", sent["messageId"]), ("ids[1]", scheduled["messageId"])],
        )
        assert [s["status"] for s in statuses] == ["DELIVRD", "NEW"]
        assert (await second.info(scheduled["campaignId"]))["isDeleted"] == "1"
        found = await second.data("message/list")
        assert found["totalItemCount"] == "2"
        # one segment spent, the deleted campaign's given back
        assert await second.balance() == "9.9400"
        again = await second.send("third")
        assert int(again["messageId"]) == int(scheduled["messageId"]) + 1
        assert int(again["campaignId"]) == int(scheduled["campaignId"]) + 1
        uuids = {m.uuid for m in second.sim.messages.values()}
        assert len(uuids) == 3  # the new run draws fresh ones


async def test_a_run_in_another_zone_reads_the_same_instants(tmp_path: Path) -> None:
    """Kept in Almaty and read in São Paulo, an SMS's times are the same instants, still delivered."""
    path = tmp_path / "smsbot.sandbox.json"
    almaty, sao_paulo = ZoneInfo("Asia/Almaty"), ZoneInfo("America/Sao_Paulo")
    async with serve(path, T0, almaty) as first:
        sent = await first.send("kept across zones")
        message_id = int(sent["messageId"])
        before = first.sim.messages[message_id]
    kept = json.loads(path.read_text(encoding="utf-8"))["messages"][0]
    assert datetime.fromisoformat(kept["created_at"]) == T0.replace(tzinfo=almaty)
    later = T0.replace(tzinfo=almaty).astimezone(sao_paulo).replace(tzinfo=None)
    async with serve(path, later + timedelta(minutes=1), sao_paulo) as second:
        after = second.sim.messages[message_id]
        assert after.created_at == later  # the same instant, as São Paulo's wall time
        assert [(s, m.replace(tzinfo=sao_paulo)) for s, m in after.timeline] == [
            (s, m.replace(tzinfo=almaty)) for s, m in before.timeline
        ]
        (status,) = await second.data("message/getSMSStatus", [("ids[0]", str(message_id))])
        assert status["status"] == "DELIVRD"


async def test_a_state_of_naive_times_is_read_as_before(tmp_path: Path) -> None:
    """A file of naive wall times, as written before offsets were kept, is read as those times."""
    path = tmp_path / "smsbot.sandbox.json"
    async with serve(path, T0, ZoneInfo("Asia/Almaty")) as first:
        message_id = int((await first.send("from an older file"))["messageId"])
    data = json.loads(path.read_text(encoding="utf-8").replace("+05:00", ""))
    path.write_text(json.dumps({**data, "version": 1}), encoding="utf-8")
    async with serve(path, T0, ZoneInfo("America/Sao_Paulo")) as second:
        assert second.sim.messages[message_id].created_at == T0


async def test_without_a_state_path_the_simulator_forgets() -> None:
    """The standalone simulator (no state path) starts empty every time."""
    async with serve(None) as first:
        await first.send("gone")
    async with serve(None) as second:
        assert second.sim.state_path is None
        assert second.sim.messages == {}
        assert await second.balance() == "10.0000"


async def test_an_unreadable_state_is_set_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A state file that is not the simulator's is kept aside, said once, and the run starts empty."""
    path = tmp_path / "smsbot.sandbox.json"
    path.write_text('{"version": 1, "messages": [{"id": "x"}]}', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="bot.simulator"):
        async with serve(path) as sim:
            assert sim.sim.messages == {}
    assert (tmp_path / "smsbot.sandbox.json.unreadable").is_file()
    assert json.loads(path.read_text(encoding="utf-8"))["messages"] == []
    assert [r.getMessage() for r in caplog.records if "cannot be read" in r.getMessage()]


def test_a_write_cut_short_leaves_the_previous_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that dies before its rename leaves the file as it was, and no stray file."""
    path = tmp_path / "state.json"
    write_atomically(path, '{"a": 1}')

    def killed(_fd: int) -> None:
        raise OSError("killed")

    monkeypatch.setattr(os, "fsync", killed)
    with pytest.raises(OSError, match="killed"):
        write_atomically(path, '{"a": 2, "half":')
    assert path.read_text(encoding="utf-8") == '{"a": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_the_state_lives_beside_the_database() -> None:
    """``smsbot.db`` keeps its sandbox in ``smsbot.sandbox.json``; an in-memory one keeps none."""
    assert state_beside("data/smsbot.db") == Path("data/smsbot.sandbox.json")
    assert state_beside("smsbot") == Path("smsbot.sandbox.json")
    assert state_beside(":memory:") is None


def test_the_gateway_and_storage_name_the_same_statuses() -> None:
    """The simulator's status names (the gateway's types) are the ones storage tracks."""
    assert {s.value for s in MessageStatus} == {s.value for s in DeliveryStatus}
    assert {s.value for s in FINAL_MESSAGE_STATUSES} == {s.value for s in FINAL_STATUSES}
