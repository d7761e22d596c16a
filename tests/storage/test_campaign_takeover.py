"""Campaigns a gone replica left, on both engines: found, taken once, detached, withdrawn."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from storage import campaign_takeover, campaigns, replicas
from storage.campaigns import ChunkRow
from storage.engine import make_engine, parse_database_url
from storage.messages import get_by_message_id
from storage.tables import campaign_recipients
from storage.tables import campaigns as campaigns_table
from storage.tables import sms as sms_table
from tests import postgres
from tests.storage.conftest import T0
from tests.storage.test_campaigns import created, new_campaign

if TYPE_CHECKING:
    from storage.engine import Database

LEASE = timedelta(seconds=15)
NOW = T0 + timedelta(minutes=1)


def cutoff() -> str:
    """The lease cutoff at :data:`NOW`."""
    return replicas.lease_cutoff(NOW, LEASE)


def abandoned(db: Database) -> list[int]:
    """The ids of the campaigns left behind at :data:`NOW`."""
    found = campaign_takeover.abandoned_campaigns(db, live_cutoff=cutoff(), idle_before=NOW - LEASE)
    return [campaign.id for campaign in found]


def held(db: Database, replica: str | None, *, trigger: str, mobizon_id: int | None = None) -> int:
    """A confirmed campaign taken by ``replica`` (as Mobizon campaign ``mobizon_id``, if given)."""
    record = created(db, confirmed=True, trigger=trigger)
    campaigns.take_for_sending(db, record.id, replica, now=T0)
    if mobizon_id is not None:
        campaigns.record_mobizon_id(db, record.id, mobizon_id, now=T0)
    return record.id


def test_a_gone_replicas_campaign_is_listed_and_a_live_ones_is_not(db: Database) -> None:
    """Stale heartbeat or no row: left behind; a fresh heartbeat keeps its campaign; no confirmed."""
    replicas.register(db, "dead", host="h", pid=1, now=T0)
    replicas.register(db, "live", host="h", pid=2, now=NOW)
    stale = held(db, "dead", trigger="a")
    vanished = held(db, "never-registered", trigger="b")
    held(db, "live", trigger="c")
    nobody_recent = held(db, None, trigger="d")
    waiting = created(db, confirmed=True, trigger="e")  # confirmed at T0: a minute ago
    created(db, trigger="f")  # a preview is never taken
    assert abandoned(db) == [stale, vanished, nobody_recent, waiting.id]
    campaigns.take_for_sending(db, waiting.id, "live", now=NOW)
    assert waiting.id not in abandoned(db)


def test_a_campaign_confirmed_within_the_lease_is_not_listed(db: Database) -> None:
    """A campaign its process is about to run (confirmed a moment ago) is left to that process."""
    record = campaigns.create_campaign(
        db, new_campaign(confirmed=True, trigger="fresh"), now=NOW - timedelta(seconds=5)
    )
    assert record is not None
    assert abandoned(db) == []


def test_of_two_replicas_taking_a_campaign_over_one_gets_it(db: Database) -> None:
    """A compare-and-set on ``claimed_by``: the second taker, reading the old holder, gets None."""
    campaign_id = held(db, "dead", trigger="a")
    first = campaign_takeover.take_over_campaign(
        db, campaign_id, seen="dead", replica="live-1", now=NOW
    )
    assert first is not None
    assert first.claimed_by == "live-1"
    assert (
        campaign_takeover.take_over_campaign(
            db, campaign_id, seen="dead", replica="live-2", now=NOW
        )
        is None
    )
    assert campaign_takeover.hand_back(db, campaign_id, replica="live-1", to="dead")
    assert not campaign_takeover.hand_back(db, campaign_id, replica="live-1", to="dead")
    back = campaigns.get_campaign(db, campaign_id)
    assert back is not None
    assert (back.claimed_by, back.updated_at) == ("dead", first.updated_at)


def test_detaching_frees_the_rows_and_keys_for_a_new_mobizon_campaign(db: Database) -> None:
    """Old SMS failed, detached, out of the campaign; codes cleared; the same rows record anew."""
    campaign_id = held(db, "me", trigger="t", mobizon_id=900)
    campaigns.record_chunk(db, campaign_id, [ChunkRow(2, 0, 5001), ChunkRow(3, 5)], now=T0)
    assert (
        campaign_takeover.detach_mobizon_campaign(db, campaign_id, replica="other", error="x")
        is None
    )
    fresh = campaign_takeover.detach_mobizon_campaign(
        db, campaign_id, replica="me", error="deleted", now=NOW
    )
    assert fresh is not None
    assert (fresh.mobizon_id, fresh.state, fresh.claimed_by) == (None, "sending", "me")
    old = get_by_message_id(db, 5001)
    assert old is not None
    assert (old.state, old.detached, old.is_pending, old.trigger_id) == (
        "failed",
        True,
        False,
        "t#2~900",
    )
    assert db.execute(sms_table.select().where(sms_table.c.campaign == campaign_id)).all() == []
    rows = campaigns.campaign_recipients_of(db, campaign_id)
    assert [(r.code, r.sms_id) for r in rows] == [(None, None)] * 3
    campaigns.record_mobizon_id(db, campaign_id, 901, now=NOW)
    assert campaigns.record_chunk(db, campaign_id, [ChunkRow(2, 0, 6001)], now=NOW) == 1
    again = get_by_message_id(db, 6001)
    assert again is not None
    assert (again.trigger_id, again.campaign_id, again.is_pending) == ("t#2", 901, True)


def test_a_writer_that_lost_the_campaign_cannot_close_it(db: Database) -> None:
    """With its holder given, sent or failed is recorded only by the replica holding it."""
    campaign_id = held(db, "dead", trigger="a", mobizon_id=900)
    campaign_takeover.take_over_campaign(db, campaign_id, seen="dead", replica="live", now=NOW)
    assert not campaigns.record_campaign_failed(db, campaign_id, error="x", holder="dead")
    assert not campaigns.record_campaign_sent(db, campaign_id, 2, holder="dead")
    assert campaigns.record_campaign_sent(db, campaign_id, 2, holder="live")


def test_a_confirmed_campaign_is_withdrawn_once_and_a_taken_one_never(db: Database) -> None:
    """Withdrawn: cancelled, never listed; one taken for sending stays as it is."""
    waiting = created(db, confirmed=True, trigger="a")
    assert campaign_takeover.withdraw_campaign(db, waiting.id, now=T0)
    assert not campaign_takeover.withdraw_campaign(db, waiting.id, now=T0)
    assert campaigns.get_campaign(db, waiting.id).state == "cancelled"  # type: ignore[union-attr]
    assert abandoned(db) == []
    taken = held(db, "me", trigger="b")
    assert not campaign_takeover.withdraw_campaign(db, taken, now=T0)
    assert campaigns.get_campaign(db, taken).state == "sending"  # type: ignore[union-attr]


def test_a_writer_that_lost_the_campaign_cannot_go_on_filling_it(db: Database) -> None:
    """After a takeover the old holder records no Mobizon id, no chunk, and may not send."""
    campaign_id = held(db, "stalled", trigger="a")
    assert not campaigns.record_mobizon_id(db, campaign_id, 900, holder="other", now=NOW)
    assert campaigns.record_mobizon_id(db, campaign_id, 900, holder="stalled", now=NOW)
    assert not campaigns.record_mobizon_id(db, campaign_id, 901, holder="stalled", now=NOW)
    assert campaigns.still_running(db, campaign_id, 900, holder="stalled", now=NOW)
    assert not campaigns.still_running(db, campaign_id, 901, holder="stalled", now=NOW)
    taken = campaign_takeover.take_over_campaign(
        db, campaign_id, seen="stalled", replica="survivor", now=NOW
    )
    assert taken is not None
    assert not campaigns.still_running(db, campaign_id, 900, holder="stalled", now=NOW)
    with pytest.raises(campaign_takeover.NotHeldError):
        campaigns.record_chunk(
            db, campaign_id, [ChunkRow(2, 0, 5001)], holder="stalled", mobizon_id=900, now=NOW
        )
    assert get_by_message_id(db, 5001) is None
    assert [r.code for r in campaigns.campaign_recipients_of(db, campaign_id)] == [None] * 3
    fresh = campaign_takeover.detach_mobizon_campaign(
        db, campaign_id, replica="survivor", error="deleted", now=NOW
    )
    assert fresh is not None
    assert not campaigns.record_mobizon_id(db, campaign_id, 900, holder="stalled", now=NOW)
    assert campaigns.record_mobizon_id(db, campaign_id, 902, holder="survivor", now=NOW)
    with pytest.raises(campaign_takeover.NotHeldError):  # the survivor's, from another campaign
        campaigns.record_chunk(
            db, campaign_id, [ChunkRow(2, 0, 5001)], holder="survivor", mobizon_id=900, now=NOW
        )
    assert (
        campaigns.record_chunk(
            db, campaign_id, [ChunkRow(2, 0, 6001)], holder="survivor", mobizon_id=902, now=NOW
        )
        == 1
    )


def test_on_postgresql_a_detach_waits_for_a_chunk_being_recorded_without_deadlock(
    postgres_url: str,
) -> None:
    """Detaching locks the campaign's row first, as recording a chunk does: it waits, no deadlock."""
    postgres.empty_tables(postgres_url)
    engine = make_engine(parse_database_url(postgres_url), keep=False, connections=3)
    with engine.connect() as setup:
        campaign_id = held(setup, "stalled", trigger="a", mobizon_id=900)
        campaign_takeover.take_over_campaign(
            setup, campaign_id, seen="stalled", replica="survivor", now=NOW
        )
        setup.commit()
    detached: list[object] = []
    with engine.connect() as chunk, engine.connect() as survivor:
        # a chunk write as the stalled replica makes it: the campaign's row first, then its rows
        chunk.execute(
            sa.select(campaigns_table.c.id)
            .where(campaigns_table.c.id == campaign_id)
            .with_for_update()
        )

        def detach() -> None:
            detached.append(
                campaign_takeover.detach_mobizon_campaign(
                    survivor, campaign_id, replica="survivor", error="deleted", now=NOW
                )
            )

        thread = threading.Thread(target=detach)
        thread.start()
        waiting = sa.text(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        deadline = time.monotonic() + 5
        while chunk.execute(waiting).scalar_one() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        chunk.execute(
            sa.update(campaign_recipients).where(campaign_recipients.c.campaign == campaign_id),
            {"code": 0},
        )
        chunk.commit()
        thread.join(5)
    engine.dispose()
    assert not thread.is_alive()
    assert len(detached) == 1
    assert detached[0] is not None
