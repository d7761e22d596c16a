"""A campaign's SMS queue no outbox row: each change marks its campaign changed instead."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa

from storage import account, campaigns, delivery
from storage.campaigns import ChunkRow
from storage.delivery import StatusUpdate
from storage.outbox import NotificationKind
from storage.tables import outbox
from tests.storage.conftest import T0
from tests.storage.test_campaigns import sending

if TYPE_CHECKING:
    from collections.abc import Callable

    from storage.engine import Database
    from storage.records import SmsRecord

LATER = T0 + timedelta(seconds=7, milliseconds=250)
#: ``changed_at`` as :data:`LATER` writes it, to the millisecond.
LATER_TEXT = "2026-01-15T12:00:07.250+00:00"


def queued(db: Database) -> list[tuple[int, str]]:
    """Every outbox row: (message id, kind)."""
    rows = db.execute(sa.select(outbox.c.message_id, outbox.c.kind).order_by(outbox.c.id))
    return [(int(m), str(k)) for m, k in rows]


def campaign_sms(db: Database) -> int:
    """A sending campaign with SMS 5001 and 5002 recorded; its id."""
    record = sending(db)
    campaigns.record_chunk(db, record.id, [ChunkRow(2, 0, 5001), ChunkRow(3, 0, 5002)], now=T0)
    return record.id


def changed_at(db: Database, campaign_id: int) -> str | None:
    """The campaign's ``changed_at``."""
    record = campaigns.get_campaign(db, campaign_id)
    assert record is not None
    return record.changed_at


def test_a_status_change_of_a_campaign_sms_queues_nothing(db: Database) -> None:
    """One status, or a batch of them: no outbox row, and the campaign changed at that moment."""
    campaign_id = campaign_sms(db)
    applied = delivery.apply_status(
        db, StatusUpdate(5001, "DELIVRD", None, source="webhook"), now=LATER
    )
    assert applied is not None
    assert applied.notification_id is None
    assert changed_at(db, campaign_id) == LATER_TEXT
    later = LATER + timedelta(seconds=1)
    changed = delivery.apply_statuses(
        db,
        [StatusUpdate(5002, "ACCEPTD", None, source="poll")],
        now=later,
    )
    assert changed == [5002]
    assert queued(db) == []
    assert changed_at(db, campaign_id) == "2026-01-15T12:00:08.250+00:00"


def test_a_batch_with_single_sends_queues_theirs_only(
    db: Database, make_sms: Callable[..., SmsRecord]
) -> None:
    """In one poll batch a single send gets its status row; the campaign's SMS none."""
    campaign_sms(db)
    make_sms(db, message_id=7)
    make_sms(db, message_id=8)
    delivery.apply_statuses(
        db,
        [
            StatusUpdate(7, "DELIVRD", None, source="poll"),
            StatusUpdate(5001, "DELIVRD", None, source="poll"),
            StatusUpdate(8, "ACCEPTD", None, source="poll"),
        ],
        now=LATER,
    )
    assert queued(db) == [(7, "post"), (8, "post"), (7, "status"), (8, "status")]


def test_a_give_up_cost_and_decline_of_campaign_sms_queue_nothing(db: Database) -> None:
    """Giving up, a cost, a moderator's decline: the campaign changes, no outbox row."""
    campaign_id = campaign_sms(db)
    sms = delivery.apply_status(db, StatusUpdate(5001, "DELIVRD", None, source="poll"), now=T0)
    assert sms is not None
    account.record_costs(db, [5001], {5001: Decimal("0.25")}, "BRL", now=T0)
    gave_up = delivery.give_up(db, sms.sms.id + 1, now=T0)  # 5002, still pending
    assert gave_up is not None
    assert gave_up.notification_id is None
    assert queued(db) == []
    other = sending(db, trigger="trig-9", mobizon_id=901)
    campaigns.record_chunk(db, other.id, [ChunkRow(2, 0, 6001)], now=T0)
    assert account.record_declined(db, 901, "no links", now=LATER) == [6001]
    assert queued(db) == []
    assert changed_at(db, other.id) == LATER_TEXT
    assert changed_at(db, campaign_id) == "2026-01-15T12:00:00.000+00:00"


def test_single_sends_queue_as_before(db: Database, make_sms: Callable[..., SmsRecord]) -> None:
    """A single send still gets its post, status, cost and give-up rows."""
    make_sms(db, message_id=7)
    sms = make_sms(db, message_id=8)
    delivery.apply_status(db, StatusUpdate(7, "DELIVRD", None, source="webhook"), now=T0)
    account.record_costs(db, [7], {7: Decimal("0.25")}, "BRL", now=T0)
    delivery.give_up(db, sms.id, now=T0)
    assert queued(db) == [
        (7, NotificationKind.POST.value),
        (8, NotificationKind.POST.value),
        (7, NotificationKind.STATUS.value),
        (7, NotificationKind.COST.value),
        (8, NotificationKind.GIVEUP.value),
    ]
