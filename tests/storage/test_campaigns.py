"""Campaigns on both engines: stored once, decided once by their asker, sent by one replica."""

from __future__ import annotations

import threading
from contextlib import closing
from datetime import timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from storage import campaigns
from storage.campaigns import ChunkRow, NewCampaign, NewRecipient, Refusal
from storage.messages import get_by_message_id
from storage.schema import open_database
from storage.tables import campaign_recipients, outbox, status_history
from storage.tables import sms as sms_table
from tests.storage.conftest import T0

if TYPE_CHECKING:
    from storage.engine import Database

LATER = T0 + timedelta(minutes=15)


def new_campaign(
    count: int = 3, *, trigger: str = "trig-1", confirmed: bool = False, template: bool = False
) -> NewCampaign:
    """A campaign of ``count`` recipients (rows 2, 3, …, as a file numbers them)."""
    return NewCampaign(
        trigger_id=trigger,
        team_id="T1",
        channel_id="C1",
        user_id="U1",
        response_url=None,
        text="Olá {nome}" if template else "Hello",
        template=template,
        recipients=[
            NewRecipient(
                row=n + 2,
                number=f"55119{n:08d}",
                text=f"Olá {n}" if template else "Hello",
                segments=1 + n % 2,
                values={"nome": str(n)} if template else None,
            )
            for n in range(count)
        ],
        left_out=2,
        source="list.csv",
        sender="Loja",
        confirmed=confirmed,
        expires_at=None if confirmed else LATER,
    )


def created(db: Database, **options: object) -> campaigns.CampaignRecord:
    """A stored campaign."""
    record = campaigns.create_campaign(db, new_campaign(**options), now=T0)  # type: ignore[arg-type]
    assert record is not None
    return record


def test_a_campaign_is_stored_with_its_counts_and_recipients_once(db: Database) -> None:
    """Its counts come from its recipients, stored in order; the same trigger id again is None."""
    record = created(db, template=True)
    assert (record.state, record.recipients, record.left_out) == ("preview", 3, 2)
    assert (record.segments_min, record.segments_max, record.segments_total) == (1, 2, 4)
    assert record.expires_at == "2026-01-15T12:15:00+00:00"
    assert record.template
    assert campaigns.create_campaign(db, new_campaign(template=True), now=T0) is None
    rows = campaigns.campaign_recipients_of(db, record.id)
    assert [(r.row, r.number, r.text, r.values) for r in rows][1] == (
        3,
        "5511900000001",
        "Olá 1",
        {"nome": "1"},
    )
    assert campaigns.get_campaign(db, record.id) == record


def test_a_campaign_that_needs_no_confirmation_is_stored_confirmed(db: Database) -> None:
    """Stored confirmed, it can be taken for sending at once, by one replica only."""
    record = created(db, confirmed=True)
    assert (record.state, record.confirmed_at) == ("confirmed", "2026-01-15T12:00:00+00:00")
    taken = campaigns.take_for_sending(db, record.id, "replica-a", now=T0)
    assert taken is not None
    assert (taken.state, taken.claimed_by) == ("sending", "replica-a")
    assert campaigns.take_for_sending(db, record.id, "replica-b", now=T0) is None


def test_the_askers_user_id_from_another_workspace_decides_nothing(db: Database) -> None:
    """The same user id clicking from another workspace is another person: refused, still a preview."""
    record = created(db)
    for decide in (campaigns.confirm_campaign, campaigns.cancel_campaign):
        refused = decide(db, record.id, "U1", team_id="T9", now=T0)
        assert isinstance(refused, campaigns.DecisionRefused)
        assert refused.reason is Refusal.NOT_YOURS
    still = campaigns.get_campaign(db, record.id)
    assert still is not None
    assert still.state == "preview"
    confirmed = campaigns.confirm_campaign(db, record.id, "U1", team_id="T1", now=T0)
    assert isinstance(confirmed, campaigns.CampaignRecord)
    assert confirmed.state == "confirmed"


def test_a_preview_is_confirmed_once_by_its_asker_before_it_expires(db: Database) -> None:
    """Another user, a second confirm, a confirm after expiry: each refused, saying why."""
    record = created(db)
    other = campaigns.confirm_campaign(db, record.id, "U2", now=T0)
    assert isinstance(other, campaigns.DecisionRefused)
    assert other.reason is Refusal.NOT_YOURS
    assert campaigns.take_for_sending(db, record.id, "a", now=T0) is None  # not confirmed yet
    confirmed = campaigns.confirm_campaign(db, record.id, "U1", now=T0 + timedelta(minutes=1))
    assert isinstance(confirmed, campaigns.CampaignRecord)
    assert confirmed.state == "confirmed"
    again = campaigns.confirm_campaign(db, record.id, "U1", now=T0 + timedelta(minutes=2))
    assert isinstance(again, campaigns.DecisionRefused)
    assert again.reason is Refusal.DECIDED
    assert again.campaign is not None
    assert again.campaign.state == "confirmed"
    late = created(db, trigger="trig-2")
    expired = campaigns.confirm_campaign(db, late.id, "U1", now=LATER)
    assert isinstance(expired, campaigns.DecisionRefused)
    assert expired.reason is Refusal.EXPIRED
    assert campaigns.get_campaign(db, late.id).state == "preview"  # type: ignore[union-attr]
    missing = campaigns.confirm_campaign(db, 999, "U1", now=T0)
    assert missing == campaigns.DecisionRefused(Refusal.MISSING, None)


def test_a_cancelled_preview_cannot_be_confirmed(db: Database) -> None:
    """Cancel is the same compare-and-set: after it, a confirm is told it was decided."""
    record = created(db)
    cancelled = campaigns.cancel_campaign(db, record.id, "U1", now=T0)
    assert isinstance(cancelled, campaigns.CampaignRecord)
    assert cancelled.state == "cancelled"
    refused = campaigns.confirm_campaign(db, record.id, "U1", now=T0)
    assert isinstance(refused, campaigns.DecisionRefused)
    assert refused.reason is Refusal.DECIDED


def test_two_confirms_at_once_on_two_connections_one_wins(database_url: str) -> None:
    """Two connections confirm the same preview at the same instant: exactly one changes it."""
    with closing(open_database(database_url)) as db:
        record = created(db)
    start = threading.Barrier(2)
    results: list[object] = []
    lock = threading.Lock()

    def confirm() -> None:
        with closing(open_database(database_url)) as own:
            start.wait()
            result = campaigns.confirm_campaign(own, record.id, "U1", now=T0)
        with lock:
            results.append(result)

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [r for r in results if isinstance(r, campaigns.CampaignRecord)]
    lost = [r for r in results if isinstance(r, campaigns.DecisionRefused)]
    assert len(won) == 1
    assert [r.reason for r in lost] == [Refusal.DECIDED]


def sending(
    db: Database, count: int = 3, *, mobizon_id: int = 900, **options: object
) -> campaigns.CampaignRecord:
    """A campaign taken for sending as Mobizon campaign ``mobizon_id``."""
    record = created(db, confirmed=True, count=count, **options)
    campaigns.take_for_sending(db, record.id, "replica-a", now=T0)
    campaigns.record_mobizon_id(db, record.id, mobizon_id, now=T0)
    return record


def test_a_chunk_records_sms_rows_for_added_recipients_and_every_rows_code(db: Database) -> None:
    """Added rows become sent SMS tracked like any; a stop-list row keeps its code; no outbox."""
    record = sending(db, template=True)
    rows = [
        ChunkRow(2, 0, 5001, "GSM-7", 5),
        ChunkRow(3, 5),  # Mobizon's stop list
        ChunkRow(4, 0, 5002, "GSM-7", 5),
    ]
    assert campaigns.record_chunk(db, record.id, rows, now=T0) == 2
    assert campaigns.record_chunk(db, record.id, rows, now=T0) == 0  # the same answer again
    sms = get_by_message_id(db, 5001)
    assert sms is not None
    assert (sms.state, sms.status, sms.campaign_id, sms.trigger_id) == (
        "sent",
        "NEW",
        900,
        "trig-1#2",
    )
    assert (sms.recipient, sms.text, sms.segments, sms.encoding, sms.length) == (
        "5511900000000",
        "Olá 0",
        1,
        "GSM-7",
        5,
    )
    assert (sms.sender, sms.channel_id, sms.user_id, sms.slack_channel) == (
        "Loja",
        "C1",
        "U1",
        None,
    )
    assert sms.is_pending
    stored = campaigns.campaign_recipients_of(db, record.id)
    assert [(r.row, r.code, r.sms_id is not None) for r in stored] == [
        (2, 0, True),
        (3, 5, False),
        (4, 0, True),
    ]
    assert db.execute(sa.select(sa.func.count()).select_from(outbox)).scalar() == 0
    history = db.execute(sa.select(status_history.c.message_id, status_history.c.status)).all()
    assert sorted(history) == [(5001, "NEW"), (5002, "NEW")]
    assert campaigns.get_campaign(db, record.id).changed_at is not None  # type: ignore[union-attr]


def test_a_sent_campaign_gives_its_status_to_its_sms(db: Database) -> None:
    """``campaign/send``'s status is kept on the campaign and its SMS (the moderation watch's)."""
    record = sending(db)
    campaigns.record_chunk(db, record.id, [ChunkRow(2, 0, 5001)], now=T0)
    assert campaigns.record_campaign_sent(db, record.id, 1, now=T0)
    assert not campaigns.record_campaign_sent(db, record.id, 1, now=T0)
    done = campaigns.get_campaign(db, record.id)
    assert done is not None
    assert (done.state, done.mobizon_status, done.mobizon_id) == ("sent", 1, 900)
    assert get_by_message_id(db, 5001).campaign_status == 1  # type: ignore[union-attr]
    assert not campaigns.record_campaign_failed(db, record.id, error="late", now=T0)


def test_a_failed_campaign_stops_tracking_the_sms_never_sent(db: Database) -> None:
    """Failed before ``campaign/send``: its added SMS are failed too, and no longer polled."""
    record = sending(db)
    campaigns.record_chunk(db, record.id, [ChunkRow(2, 0, 5001)], now=T0)
    assert campaigns.record_campaign_failed(db, record.id, error="refused", now=T0)
    failed = campaigns.get_campaign(db, record.id)
    assert failed is not None
    assert (failed.state, failed.error) == ("failed", "refused")
    sms = get_by_message_id(db, 5001)
    assert sms is not None
    assert (sms.state, sms.is_pending) == ("failed", False)


def test_ten_thousand_recipients_are_stored_with_their_sms(db: Database) -> None:
    """A campaign of 10,000 recipients is stored whole, and its 20 chunks make 10,000 SMS rows."""
    record = created(db, count=10_000, confirmed=True)
    count = db.execute(
        sa.select(sa.func.count())
        .select_from(campaign_recipients)
        .where(campaign_recipients.c.campaign == record.id)
    ).scalar()
    assert count == 10_000
    campaigns.take_for_sending(db, record.id, "a", now=T0)
    campaigns.record_mobizon_id(db, record.id, 900, now=T0)
    for first in range(0, 10_000, 500):
        rows = [ChunkRow(n + 2, 0, 100_000 + n, "GSM-7", 5) for n in range(first, first + 500)]
        campaigns.record_chunk(db, record.id, rows, now=T0)
    sms_count = db.execute(
        sa.select(sa.func.count()).select_from(sms_table).where(sms_table.c.campaign == record.id)
    ).scalar()
    assert sms_count == 10_000
