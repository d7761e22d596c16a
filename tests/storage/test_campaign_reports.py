"""A campaign's one message on both engines: when it is due, its counts, one claim an interval."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from storage import campaign_files
from storage.campaign_reports import (
    CampaignReport,
    campaign_cost,
    claim_report,
    due_reports,
    record_message,
    record_summary,
    release_report,
    unreached,
)
from storage.engine import Database
from testkit.campaigns import (
    T0,
    campaign_row,
    give_up,
    make_campaign,
    numbers,
    set_cost,
    set_state,
    set_status,
)

EVERY = timedelta(seconds=5)


def _claim(db: Database, seconds: float) -> CampaignReport | None:
    now = T0 + timedelta(seconds=seconds)
    due = due_reports(db, now=now, interval=EVERY)
    assert len(due) <= 1
    return claim_report(db, due[0], now=now, interval=EVERY) if due else None


def test_counts_sort_every_sms_by_state_and_the_rows_not_added_by_code(db: Database) -> None:
    """Waiting, sent, delivered, failed (statuses, given up, declined) and not added are counted."""
    made = make_campaign(db, numbers(10), codes=[0, 0, 0, 0, 0, 0, 0, 0, 5, 3])
    one, two, three, four, five, six, seven, _eight = made.sms_ids
    set_status(db, one, "ENQUEUD")
    set_status(db, two, "ACCEPTD")
    set_status(db, three, "PDLIVRD")
    set_status(db, four, "DELIVRD")
    set_status(db, five, "UNDELIV")
    give_up(db, six)
    give_up(db, seven, declined="no links")
    report = _claim(db, 0)
    assert report is not None
    counts = report.counts
    assert (counts.waiting, counts.sent, counts.delivered, counts.failed) == (2, 2, 1, 3)
    assert counts.failures == {"UNDELIV": 1, "gave_up": 1, "declined": 1}
    assert counts.not_added == {5: 1, 3: 1}
    assert counts.added == 8
    assert counts.pending == 4
    assert not report.finished


def test_a_message_is_due_once_an_interval_and_only_after_a_change(db: Database) -> None:
    """Not posted: due; posted and unchanged: not due; changed: due again, an interval apart."""
    made = make_campaign(db, numbers(3))
    first = _claim(db, 0)
    assert first is not None
    assert first.slack_ts is None
    record_message(db, first.id, channel="C1", ts="1.1")
    assert _claim(db, 10) is None  # nothing changed since
    set_status(db, made.sms_ids[0], "DELIVRD", now=T0 + timedelta(seconds=11))
    second = _claim(db, 12)
    assert second is not None
    assert second.slack_ts == "1.1"
    assert second.counts.delivered == 1
    set_status(db, made.sms_ids[1], "DELIVRD", now=T0 + timedelta(seconds=13))
    assert _claim(db, 14) is None  # shown 2 s ago
    assert _claim(db, 17) is not None


def test_a_change_is_shown_no_sooner_than_the_interval_after_the_last_edit(db: Database) -> None:
    """Changes keep coming; the campaign is claimed at 0, 5 and 10 s, never in between."""
    made = make_campaign(db, numbers(20))
    claimed = []
    for second in range(13):
        set_status(db, made.sms_ids[second], "ACCEPTD", now=T0 + timedelta(seconds=second))
        report = _claim(db, second)
        if report is not None:
            claimed.append(second)
            record_message(db, report.id, channel="C1", ts="1.1")
    assert claimed == [0, 5, 10]


def test_two_replicas_claim_one_campaign_once(db: Database) -> None:
    """Both read it due; the compare-and-set on reported_at lets only the first take it."""
    make_campaign(db, numbers(2))
    now = T0
    seen_by_one = due_reports(db, now=now, interval=EVERY)
    seen_by_two = due_reports(db, now=now, interval=EVERY)
    assert claim_report(db, seen_by_one[0], now=now, interval=EVERY) is not None
    assert claim_report(db, seen_by_two[0], now=now, interval=EVERY) is None


def test_a_released_claim_is_due_again_at_once(db: Database) -> None:
    """Slack refused the post: the claim is given back and the next step may try again."""
    make_campaign(db, numbers(2))
    report = _claim(db, 0)
    assert report is not None
    release_report(db, report)
    again = _claim(db, 1)
    assert again is not None
    assert again.previous is None


def test_a_finished_campaign_is_due_for_its_summary_until_it_is_recorded(db: Database) -> None:
    """Every SMS final and the campaign sent: due though nothing changed; not after the summary."""
    made = make_campaign(db, numbers(2), state="sending")
    report = _claim(db, 0)
    assert report is not None
    record_message(db, report.id, channel="C1", ts="1.1")
    for sms_id in made.sms_ids:
        set_status(db, sms_id, "DELIVRD", now=T0)
    assert _claim(db, 2) is None  # the interval
    during = _claim(db, 5)
    assert during is not None
    assert not during.finished  # still sending: more recipients may come
    set_state(db, made.id, "sent")
    finished = _claim(db, 10)
    assert finished is not None
    assert finished.finished
    assert _claim(db, 20) is not None  # its summary is still owed
    record_summary(db, made.id, "1.2")
    assert _claim(db, 30) is None
    row = campaign_row(db, made.id)
    assert (row["slack_ts"], row["summary_ts"]) == ("1.1", "1.2")


def test_a_cost_known_after_the_summary_edits_the_message_again(db: Database) -> None:
    """A change after the summary (a cost) is due like any other."""
    made = make_campaign(db, numbers(1))
    set_status(db, made.sms_ids[0], "DELIVRD", now=T0 - timedelta(seconds=1))
    report = _claim(db, 0)
    assert report is not None
    record_message(db, report.id, channel="C1", ts="1.1")
    record_summary(db, report.id, "1.2")
    assert _claim(db, 10) is None
    set_cost(db, made.sms_ids[0], "0.25", now=T0 + timedelta(seconds=11))
    again = _claim(db, 12)
    assert again is not None
    assert again.summary_ts == "1.2"


def test_a_change_in_the_second_of_the_last_edit_is_shown_once_more(db: Database) -> None:
    """A change stamped with the claim's own second may have missed its counts: one more edit."""
    made = make_campaign(db, numbers(2))
    set_status(db, made.sms_ids[0], "ACCEPTD", now=T0)
    report = _claim(db, 0)
    assert report is not None
    record_message(db, report.id, channel="C1", ts="1.1")
    assert _claim(db, 5) is not None
    assert _claim(db, 10) is None


def test_campaigns_in_preview_or_failed_are_not_reported(db: Database) -> None:
    """Only sending and sent campaigns have a message."""
    make_campaign(db, numbers(1), state="preview")
    make_campaign(db, numbers(1), state="failed")
    make_campaign(db, numbers(1), state="cancelled")
    assert due_reports(db, now=T0, interval=EVERY) == []


def test_the_unreached_are_listed_by_row_with_their_outcome_or_code(db: Database) -> None:
    """Failed SMS with their status or reason, rows not added with their code, in row order."""
    made = make_campaign(db, numbers(5), codes=[0, 5, 0, 0, 0])
    first, third, fourth, fifth = made.sms_ids
    set_status(db, first, "REJECTD")
    set_status(db, third, "DELIVRD")
    give_up(db, fourth)
    set_status(db, fifth, "ACCEPTD")
    found = unreached(db, made.id)
    phones = numbers(5)
    assert [(one.row, one.number, one.outcome, one.code) for one in found] == [
        (2, phones[0], "REJECTD", None),
        (3, phones[1], None, 5),
        (5, phones[3], "gave_up", None),
    ]


def test_the_cost_is_the_sum_of_the_recorded_costs_and_says_when_some_are_missing(
    db: Database,
) -> None:
    """Costs add up per currency; a declined SMS is not charged; a missing one leaves it partial."""
    made = make_campaign(db, numbers(4))
    one, two, three, four = made.sms_ids
    set_cost(db, one, "0.0625")
    set_cost(db, two, "0.125")
    give_up(db, three, declined="no")
    cost = campaign_cost(db, made.id)
    assert cost.amounts == {"BRL": Decimal("0.1875")}
    assert (cost.known, cost.charged, cost.complete) == (2, 3, False)
    set_cost(db, four, "0.0625")
    assert campaign_cost(db, made.id).complete


def test_an_owed_csv_is_taken_by_one_replica_and_due_again_after_its_lease(db: Database) -> None:
    """A CSV owed with the summary goes to one taker; untaken after the lease, or until uploaded."""
    made = make_campaign(db, numbers(2))
    record_message(db, made.id, channel="C1", ts="1.1")
    record_summary(db, made.id, "1.2", csv_owed_from=T0)
    first = campaign_files.take_owed_csvs(db, now=T0)
    assert [(o.campaign_id, o.channel, o.thread_ts) for o in first] == [(made.id, "C1", "1.1")]
    assert campaign_files.take_owed_csvs(db, now=T0 + timedelta(seconds=1)) == []
    later = T0 + campaign_files.CSV_LEASE + timedelta(seconds=1)
    assert [o.campaign_id for o in campaign_files.take_owed_csvs(db, now=later)] == [made.id]
    campaign_files.uploaded(db, made.id)
    assert campaign_files.take_owed_csvs(db, now=later + campaign_files.CSV_LEASE * 2) == []
