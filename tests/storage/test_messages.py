"""Claiming sends, recording Mobizon's answer, and the queries that find SMS again."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import event

from storage.claims import NewSend, claim_send, record_failed, record_sent, set_slack_message
from storage.delivery import StatusUpdate, apply_status, give_up, status_history
from storage.messages import (
    count_by_state,
    count_pending,
    get_by_message_id,
    get_by_message_ids,
    get_sms,
    highest_ids,
    latest_in_channel,
    overdue,
    pending_sandbox,
    pending_statuses,
    unsettled_sends,
)
from storage.records import (
    MessageIdTakenError,
    SendState,
    SmsNotFoundError,
    SmsRecord,
    SmsStateError,
    sms_from_row,
)
from testkit.database import run_sql

if TYPE_CHECKING:
    from collections.abc import Callable

    from storage.engine import Database

    MakeSms = Callable[..., SmsRecord]

T0 = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)
LOCAL_NOON = datetime(2026, 1, 15, 12, 0, 0)  # noqa: DTZ001  # a wall time, as users write it


def _claim(db: Database, trigger_id: str = "trig-1") -> SmsRecord | None:
    return claim_send(
        db,
        NewSend(
            trigger_id=trigger_id,
            team_id="T1",
            channel_id="C1",
            user_id="U1",
            response_url="https://hooks.slack.invalid/commands/secret-path",
            recipient="5511987654321",
            text="Olá & <bem-vindo>\nline two",
            sender="Alpha",
            segments=2,
            encoding="ucs2",
            name="launch",
            deferred_to="2026-01-16 09:30:00",
            validity=120,
            flash=True,
            sandbox=True,
        ),
        now=T0,
    )


def test_claim_stores_every_field(db: Database) -> None:
    """A claim keeps what the command asked for, in state ``claimed`` with no Mobizon data."""
    sms = _claim(db)
    assert sms is not None
    assert sms == get_sms(db, sms.id)
    assert (sms.trigger_id, sms.team_id, sms.channel_id, sms.user_id) == (
        "trig-1",
        "T1",
        "C1",
        "U1",
    )
    assert sms.text == "Olá & <bem-vindo>\nline two"
    assert (sms.sender, sms.segments, sms.encoding, sms.name) == ("Alpha", 2, "ucs2", "launch")
    assert (sms.deferred_to, sms.validity, sms.flash, sms.sandbox) == (
        "2026-01-16 09:30:00",
        120,
        True,
        True,
    )
    assert sms.state is SendState.CLAIMED
    assert sms.message_id is None
    assert sms.status is None
    assert sms.created_at == T0
    assert sms.updated_at == T0


def test_claim_twice_gives_one_claim(db: Database) -> None:
    """The same Slack trigger claimed twice yields None the second time and one row."""
    assert _claim(db) is not None
    assert _claim(db) is None
    assert count_by_state(db)["claimed"] == 1


def test_response_url_stays_out_of_repr(db: Database) -> None:
    """The response URL (it lets anyone post to the channel) is not in the record's repr."""
    sms = _claim(db)
    assert "secret-path" not in repr(sms)


def test_claim_accepts_a_datetime_and_refuses_a_malformed_deferral(db: Database) -> None:
    """A naive datetime is stored as wall-time text; text that would not sort is refused."""
    sms = claim_send(
        db,
        NewSend(
            trigger_id="t",
            team_id="T1",
            channel_id="C1",
            user_id="U1",
            response_url=None,
            recipient="1",
            text="x",
            sender=None,
            segments=None,
            encoding=None,
            name=None,
            deferred_to=datetime(2026, 2, 1, 8, 5),  # noqa: DTZ001  # wall time by design
            validity=None,
            flash=False,
        ),
    )
    assert sms is not None
    assert sms.deferred_to == "2026-02-01 08:05:00"
    with pytest.raises(ValueError):
        claim_send(
            db,
            NewSend(
                trigger_id="u",
                team_id="T1",
                channel_id="C1",
                user_id="U1",
                response_url=None,
                recipient="1",
                text="x",
                sender=None,
                segments=None,
                encoding=None,
                name=None,
                deferred_to="1/2/2026 8:05",
                validity=None,
                flash=False,
            ),
        )


def test_record_sent_sets_state_status_and_history(db: Database, make_sms: MakeSms) -> None:
    """Recording Mobizon's answer makes the SMS sent with status NEW and a 'command' history row."""
    claimed = make_sms(db)
    later = T0 + timedelta(seconds=3)
    sms = record_sent(db, claimed.id, message_id=555, campaign_id=99, campaign_status=1, now=later)
    assert sms.state is SendState.SENT
    assert (sms.message_id, sms.campaign_id, sms.campaign_status) == (555, 99, 1)
    assert sms.status == "NEW"
    assert sms.sent_at == later
    assert sms.is_pending
    assert [(h.status, h.source) for h in status_history(db, 555)] == [("NEW", "command")]


def test_record_sent_is_idempotent_but_refuses_conflicts(db: Database, make_sms: MakeSms) -> None:
    """Repeating record_sent with the same id changes nothing; another id or a failed SMS raises."""
    sms = make_sms(db, message_id=10)
    again = record_sent(db, sms.id, message_id=10, campaign_id=1, campaign_status=2)
    assert again == sms
    assert len(status_history(db, 10)) == 1
    with pytest.raises(SmsStateError):
        record_sent(db, sms.id, message_id=11, campaign_id=1, campaign_status=2)
    failed = make_sms(db)
    record_failed(db, failed.id, error="refused", outcome_unknown=False)
    with pytest.raises(SmsStateError):
        record_sent(db, failed.id, message_id=12, campaign_id=1, campaign_status=2)
    with pytest.raises(SmsNotFoundError):
        record_sent(db, 999, message_id=13, campaign_id=1, campaign_status=2)


def test_record_failed_distinguishes_refused_from_unknown(db: Database, make_sms: MakeSms) -> None:
    """A refusal is 'failed'; a timeout is 'unknown'; the error text is kept."""
    refused = record_failed(db, make_sms(db).id, error="bad number", outcome_unknown=False)
    timed_out = record_failed(db, make_sms(db).id, error="timeout", outcome_unknown=True)
    assert (refused.state, refused.error) == (SendState.FAILED, "bad number")
    assert (timed_out.state, timed_out.error) == (SendState.UNKNOWN, "timeout")
    assert count_by_state(db) == {"claimed": 0, "sent": 0, "failed": 1, "unknown": 1}


def test_unknown_outcome_can_still_be_recorded_as_sent(db: Database, make_sms: MakeSms) -> None:
    """An SMS whose outcome was unknown becomes sent once Mobizon's message id is found."""
    sms = record_failed(db, make_sms(db).id, error="timeout", outcome_unknown=True)
    sent = record_sent(db, sms.id, message_id=77, campaign_id=1, campaign_status=2)
    assert sent.state is SendState.SENT
    assert sent.error is None


def test_record_failed_never_overwrites_a_sent_sms(db: Database, make_sms: MakeSms) -> None:
    """A sent SMS cannot be marked failed later (it went out); a missing one raises not-found."""
    sms = make_sms(db, message_id=20)
    with pytest.raises(SmsStateError):
        record_failed(db, sms.id, error="late timeout", outcome_unknown=True)
    assert get_sms(db, sms.id) == sms
    with pytest.raises(SmsNotFoundError):
        record_failed(db, 999, error="x", outcome_unknown=False)


def test_record_failed_bounds_the_error_length(db: Database, make_sms: MakeSms) -> None:
    """A huge error text is cut so rows stay small."""
    sms = record_failed(db, make_sms(db).id, error="e" * 10_000, outcome_unknown=False)
    assert sms.error is not None
    assert 0 < len(sms.error) <= 1000


def test_set_slack_message(db: Database, make_sms: MakeSms) -> None:
    """The bot's Slack message (channel, ts) is stored on the SMS; an unknown SMS raises."""
    sms = make_sms(db, message_id=30)
    set_slack_message(db, sms.id, channel="C9", ts="1700000000.000100")
    stored = get_sms(db, sms.id)
    assert stored is not None
    assert (stored.slack_channel, stored.slack_ts) == ("C9", "1700000000.000100")
    with pytest.raises(SmsNotFoundError):
        set_slack_message(db, 999, channel="C9", ts="1")


def test_lookup_by_message_ids(db: Database, make_sms: MakeSms) -> None:
    """Mobizon ids map to our SMS; ids we did not send are simply absent."""
    first = make_sms(db, message_id=101)
    second = make_sms(db, message_id=102)
    make_sms(db)  # claimed, no message id
    assert get_by_message_id(db, 101) == first
    assert get_by_message_id(db, 999) is None
    assert get_by_message_ids(db, [102, 101, 999, 101]) == {101: first, 102: second}
    assert get_by_message_ids(db, []) == {}


def test_lookup_of_many_ids_at_once(db: Database, make_sms: MakeSms) -> None:
    """More ids than SQLite allows as parameters are still found in one call."""
    for message_id in range(1, 51):
        make_sms(db, message_id=message_id)
    found = get_by_message_ids(db, range(1, 40_000))
    assert sorted(found) == list(range(1, 51))


def test_latest_in_channel_newest_first_and_isolated(db: Database, make_sms: MakeSms) -> None:
    """Only sent SMS of the asked team and channel come back, newest first, up to the limit."""
    ours = [make_sms(db, message_id=200 + i) for i in range(4)]
    make_sms(db, message_id=300, channel_id="C2")
    make_sms(db, message_id=301, team_id="T2")
    make_sms(db)  # claimed only
    record_failed(db, make_sms(db).id, error="x", outcome_unknown=False)

    latest = latest_in_channel(db, team_id="T1", channel_id="C1")
    assert [s.message_id for s in latest] == [203, 202, 201, 200]
    assert latest_in_channel(db, team_id="T1", channel_id="C1", limit=2) == [ours[3], ours[2]]
    assert [s.message_id for s in latest_in_channel(db, team_id="T1", channel_id="C2")] == [300]
    assert latest_in_channel(db, team_id="T3", channel_id="C1") == []


def test_pending_statuses_selects_only_open_due_sends(db: Database, make_sms: MakeSms) -> None:
    """Polling skips final, given-up, never-sent and not-yet-due deferred SMS, oldest first."""
    open_now = make_sms(db, message_id=1)
    final = make_sms(db, message_id=2)
    apply_status(db, StatusUpdate(2, "DELIVRD", "2026-01-15 12:01:00", source="webhook"))
    given_up = make_sms(db, message_id=3)
    give_up(db, given_up.id)
    make_sms(db)  # claimed
    record_failed(db, make_sms(db).id, error="refused", outcome_unknown=False)
    record_failed(db, make_sms(db).id, error="timeout", outcome_unknown=True)
    due_deferred = make_sms(db, message_id=4, deferred_to="2026-01-15 11:59:59")
    exactly_now = make_sms(db, message_id=5, deferred_to="2026-01-15 12:00:00")
    make_sms(db, message_id=6, deferred_to="2026-01-15 12:00:01")  # later today
    in_progress = make_sms(db, message_id=7)
    apply_status(db, StatusUpdate(7, "ACCEPTD", "2026-01-15 12:00:30", source="poll"))

    pending = pending_statuses(db, local_now=LOCAL_NOON)
    assert [s.message_id for s in pending] == [1, 4, 5, 7]
    rows = [get_by_message_id(db, s.message_id) for s in pending]
    assert [r.id for r in rows if r] == [
        open_now.id,
        due_deferred.id,
        exactly_now.id,
        in_progress.id,
    ]
    assert final.message_id not in {s.message_id for s in pending}
    assert [s.message_id for s in pending[:2]] == [1, 4]
    later = LOCAL_NOON + timedelta(hours=1)
    assert [s.message_id for s in pending_statuses(db, local_now=later)] == [1, 4, 5, 6, 7]
    assert count_pending(db) == 5
    assert pending_statuses(db, local_now=LOCAL_NOON) == [
        (1, "NEW", None),
        (4, "NEW", None),
        (5, "NEW", None),
        (7, "ACCEPTD", "2026-01-15 12:00:30"),
    ]


def test_pending_statuses_defaults_to_the_local_clock(db: Database, make_sms: MakeSms) -> None:
    """Without local_now, a deferral far in the past is due and one far ahead is not."""
    make_sms(db, message_id=1, deferred_to="2000-01-01 00:00:00")
    make_sms(db, message_id=2, deferred_to="2999-01-01 00:00:00")
    assert [s.message_id for s in pending_statuses(db)] == [1]


def test_overdue_uses_send_time_validity_and_grace(db: Database, make_sms: MakeSms) -> None:
    """An SMS is overdue once send time + validity (default 1440 min) + grace has passed."""
    grace = timedelta(minutes=10)
    default_validity = make_sms(db, message_id=1)  # sent at T0, deadline T0 + 1 day + 10 min
    short = make_sms(db, message_id=2, validity=60)  # deadline T0 + 70 min
    deferred = make_sms(
        db, message_id=3, validity=60, deferred_to="2026-01-15 14:00:00"
    )  # deadline 15:10 wall time
    done = make_sms(db, message_id=4, validity=60)
    apply_status(db, StatusUpdate(4, "UNDELIV", None, source="poll"))

    def overdue_ids(now: datetime, local_now: datetime) -> list[int]:
        return [s.id for s in overdue(db, now=now, grace=grace, local_now=local_now)]

    at = T0 + timedelta(minutes=70)
    assert overdue_ids(at, LOCAL_NOON + timedelta(minutes=70)) == []
    at = T0 + timedelta(minutes=71)
    assert overdue_ids(at, LOCAL_NOON + timedelta(minutes=71)) == [short.id]
    at = T0 + timedelta(hours=3, minutes=11)
    assert overdue_ids(at, LOCAL_NOON + timedelta(hours=3, minutes=11)) == [short.id, deferred.id]
    at = T0 + timedelta(days=1, minutes=11)
    assert overdue_ids(at, LOCAL_NOON + timedelta(days=1, minutes=11)) == [
        default_validity.id,
        short.id,
        deferred.id,
    ]
    assert done.id not in overdue_ids(at, LOCAL_NOON + timedelta(days=9))


def test_given_up_sms_is_no_longer_overdue(db: Database, make_sms: MakeSms) -> None:
    """Giving up takes an SMS out of the overdue list, so it is given up only once."""
    sms = make_sms(db, message_id=1, validity=60)
    now = T0 + timedelta(hours=5)
    assert [s.id for s in overdue(db, now=now, grace=timedelta(0))] == [sms.id]
    give_up(db, sms.id, now=now)
    assert overdue(db, now=now, grace=timedelta(0)) == []


def test_count_by_state_lists_every_state(db: Database) -> None:
    """An empty database still reports every state, at zero."""
    assert count_by_state(db) == {"claimed": 0, "sent": 0, "failed": 0, "unknown": 0}
    assert count_pending(db) == 0


def _query_plans(db: Database, call: Callable[[], object]) -> str:
    """Run ``call``, then EXPLAIN every SELECT it issued, exactly as issued."""
    issued: list[tuple[str, Any]] = []

    def trace(*args: Any) -> None:
        issued.append((args[2], args[3]))  # the statement and its parameters, as sent

    event.listen(db, "before_cursor_execute", trace)
    try:
        call()
    finally:
        event.remove(db, "before_cursor_execute", trace)
    plans: list[str] = []
    explain = "EXPLAIN QUERY PLAN" if db.dialect.name == "sqlite" else "EXPLAIN"
    for sql, params in issued:
        if sql.lstrip().upper().startswith("SELECT"):
            rows = db.exec_driver_sql(f"{explain} {sql}", params).fetchall()
            plans.extend(str(row[-1]) for row in rows)
    assert plans, "the call issued no SELECT"
    return " | ".join(plans)


def test_ten_thousand_pending_rows_use_indexes(db: Database) -> None:
    """With 10,000 pending SMS the hot queries are answered correctly through indexes."""
    # 30,000 rows made by the database itself (one statement, the same on both engines)
    run_sql(
        db,
        """
        WITH RECURSIVE n (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 29999)
        INSERT INTO sms (
            trigger_id, team_id, channel_id, user_id, recipient, text, state, final_at,
            message_id, status, created_at, updated_at, sent_at
        )
        SELECT
            't' || i, 'T1', 'C' || (i % 7), 'U1', '5511987654321', 'x',
            CASE WHEN i % 30 = 0 THEN 'failed' ELSE 'sent' END,
            CASE WHEN i % 3 = 1 THEN NULL ELSE '2026-01-15T12:05:00+00:00' END,
            1000000 + i, 'NEW', :at, :at, :at
        FROM n
        """,
        at="2026-01-15T12:00:00+00:00",
    )
    run_sql(db, "ANALYZE")

    pending = pending_statuses(db, local_now=LOCAL_NOON)
    assert len(pending) == 10_000
    assert [s.message_id for s in pending] == sorted(s.message_id for s in pending)
    found = get_by_message_id(db, 1_000_001)
    assert found is not None
    assert found.trigger_id == "t1"

    pending_plan = _query_plans(db, lambda: pending_statuses(db, local_now=LOCAL_NOON))
    message_plan = _query_plans(db, lambda: get_by_message_id(db, 1_000_001))
    batch_plan = _query_plans(db, lambda: get_by_message_ids(db, range(1_000_000, 1_000_100)))
    channel_plan = _query_plans(
        db, lambda: latest_in_channel(db, team_id="T1", channel_id="C1", limit=10)
    )
    if db.dialect.name == "sqlite":
        assert "USING INDEX sms_pending" in pending_plan
        assert "TEMP B-TREE" not in pending_plan
        assert "(message_id=?)" in message_plan
        assert "SCAN" not in message_plan
        assert "(message_id=?)" in batch_plan
        assert "USING INDEX sms_channel_latest" in channel_plan
        assert "TEMP B-TREE" not in channel_plan
    else:
        assert "using sms_pending" in pending_plan
        assert "Sort" not in pending_plan
        assert "using sms_message_id_key" in message_plan
        assert "Seq Scan" not in message_plan
        assert "using sms_message_id_key" in batch_plan
        # the channel's index, or the primary key read backwards and filtered (as cheap for
        # ten rows of a channel that holds a seventh of them): either way no scan and no sort
        assert "using sms_channel_latest" in channel_plan or (
            "Index Scan Backward using sms_pkey" in channel_plan
        )
        assert "Seq Scan" not in channel_plan
        assert "Sort" not in channel_plan


def test_a_reused_message_id_tracks_neither_sms(db: Database, make_sms: MakeSms) -> None:
    """A second SMS given an id another holds: neither is tracked by it, no status reaches either."""
    first = make_sms(db, message_id=6300284)
    second = make_sms(db)
    with pytest.raises(MessageIdTakenError) as caught:
        record_sent(db, second.id, message_id=6300284, campaign_id=9, campaign_status=2, now=T0)
    assert (caught.value.sms_id, caught.value.holder) == (second.id, first.id)
    assert isinstance(caught.value, SmsStateError)
    newer = get_sms(db, second.id)
    assert newer is not None
    assert (newer.state, newer.message_id) == (SendState.UNKNOWN, None)
    assert "6300284" in (newer.error or "")
    # the newer one is never looked up again as an unsettled send
    assert unsettled_sends(db, claimed_before=T0 + timedelta(days=1), unknown_since=T0) == []
    older = get_sms(db, first.id)
    assert older is not None
    assert older.detached
    assert older.gave_up_at is not None  # its channel is told smsbot stopped waiting
    assert pending_statuses(db) == []
    # a report about that id (now the newer SMS's) never reaches the older SMS's row
    update = StatusUpdate(message_id=6300284, status="DELIVRD", status_ts=None, source="webhook")
    assert apply_status(db, update) is None
    after = get_sms(db, first.id)
    assert after is not None
    assert after.status == "NEW"
    assert [c.status for c in status_history(db, 6300284)] == ["NEW", "GAVEUP"]


def test_highest_ids_and_pending_sandbox_sms(db: Database, make_sms: MakeSms) -> None:
    """The highest ids recorded, whatever the mode; pending sandbox SMS only for the sandbox."""
    assert highest_ids(db) == (None, None)
    live = make_sms(db, message_id=900)
    sandboxed = make_sms(db, message_id=6300284, sandbox=True)
    done = make_sms(db, message_id=6300285, sandbox=True)
    apply_status(
        db, StatusUpdate(message_id=6300285, status="DELIVRD", status_ts=None, source="poll")
    )
    assert highest_ids(db) == (6300285, 6300285 + 1_000_000)
    assert [s.id for s in pending_sandbox(db)] == [sandboxed.id]
    assert done.id not in [s.id for s in pending_sandbox(db)]
    assert [p.message_id for p in pending_statuses(db, sandbox=True)] == [6300284]
    assert [p.message_id for p in pending_statuses(db, sandbox=False)] == [live.message_id]
    assert [p.message_id for p in pending_statuses(db)] == [900, 6300284]


def test_every_record_field_is_read_from_its_column_by_its_type(db: Database) -> None:
    """sms_from_row fills each SmsRecord field from the column of its name, converted by type."""
    claimed = _claim(db)
    assert claimed is not None
    sent = record_sent(db, claimed.id, message_id=71, campaign_id=9, campaign_status=1, now=T0)
    (row,) = run_sql(db, "SELECT * FROM sms")
    columns = set(row)
    assert {f.name for f in dataclasses.fields(SmsRecord)} <= columns
    mapped = sms_from_row(row)
    assert mapped == sent
    assert mapped.flash is True
    assert mapped.sandbox is True
    assert mapped.state is SendState.SENT
    assert mapped.created_at == T0
    assert mapped.sent_at == T0
    assert mapped.final_at is None
    assert mapped.gave_up_at is None
    assert (mapped.message_id, mapped.deferred_to) == (71, "2026-01-16 09:30:00")
