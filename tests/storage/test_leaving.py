"""A send is marked as leaving just before its request goes, by its holder only, once.

A claim without the mark never left: a replica taking it over sends it at once. The mark is
a compare-and-set, so a replica held up past its lease cannot send a claim another took over.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from storage.claims import record_failed, record_sent, start_sending, take_over
from storage.engine import make_engine, parse_database_url
from storage.messages import get_sms
from storage.schema import alembic_config, open_database, utc_text
from testkit.database import run_sql
from tests.storage.conftest import T0

if TYPE_CHECKING:
    from collections.abc import Callable

    from storage.engine import Database
    from storage.records import SmsRecord

    MakeSms = Callable[..., SmsRecord]

LATER = T0 + timedelta(seconds=7)


def mark(db: Database, sms_id: int) -> object:
    """The claim's leaving mark as stored (``None``: it never left)."""
    sms = get_sms(db, sms_id)
    assert sms is not None
    return sms.sending_at


def test_the_holder_marks_its_claim_once(db: Database, make_sms: MakeSms) -> None:
    """The replica holding a claim marks it as leaving; a second mark is refused."""
    claim = make_sms(db, claimed_by="a")
    assert mark(db, claim.id) is None  # claimed: not leaving yet

    assert start_sending(db, claim.id, replica="a", now=LATER)
    assert not start_sending(db, claim.id, replica="a", now=LATER + timedelta(seconds=1))

    assert mark(db, claim.id) == LATER


def test_a_process_without_a_replica_id_marks_only_a_claim_naming_none(
    db: Database, make_sms: MakeSms
) -> None:
    """Without a replica id, a process marks the claims it made (none named), not a replica's."""
    own = make_sms(db)
    named = make_sms(db, claimed_by="a")

    assert start_sending(db, own.id, replica=None, now=LATER)
    assert not start_sending(db, named.id, replica=None, now=LATER)
    assert not start_sending(db, own.id, replica="a", now=LATER)  # none named is not a's

    assert (mark(db, own.id), mark(db, named.id)) == (LATER, None)


def test_a_claim_taken_over_is_refused_to_its_old_holder(db: Database, make_sms: MakeSms) -> None:
    """Held up past its lease, the old holder may no longer send: only the new one marks it."""
    claim = make_sms(db, claimed_by="slow")
    assert take_over(db, claim.id, seen="slow", replica="survivor")

    assert not start_sending(db, claim.id, replica="slow", now=LATER)
    assert start_sending(db, claim.id, replica="survivor", now=LATER)
    assert mark(db, claim.id) == LATER


def test_a_settled_send_is_not_marked(db: Database, make_sms: MakeSms) -> None:
    """A send recorded meanwhile (sent, refused) is not marked: nothing more may leave for it."""
    refused = make_sms(db, claimed_by="a")
    record_failed(db, refused.id, error="refused", outcome_unknown=False)
    sent = make_sms(db, claimed_by="a")
    record_sent(db, sent.id, message_id=7, campaign_id=8, campaign_status=2)

    assert not start_sending(db, refused.id, replica="a", now=LATER)
    assert not start_sending(db, sent.id, replica="a", now=LATER)
    assert (mark(db, refused.id), mark(db, sent.id)) == (None, None)


def test_a_claim_marked_meanwhile_is_not_taken_over_as_never_left(
    db: Database, make_sms: MakeSms
) -> None:
    """Read unmarked, marked by its holder before the takeover: not taken as one that never left."""
    claim = make_sms(db, claimed_by="gone")
    assert start_sending(db, claim.id, replica="gone", now=LATER)  # its holder was quicker

    assert not take_over(db, claim.id, seen="gone", replica="survivor")
    assert take_over(db, claim.id, seen="gone", replica="survivor", left=True)
    never_left = make_sms(db, claimed_by="gone")
    assert not take_over(db, never_left.id, seen="gone", replica="survivor", left=True)
    assert take_over(db, never_left.id, seen="gone", replica="survivor")


def test_a_marked_claim_is_marked_again_only_by_its_new_holder(
    db: Database, make_sms: MakeSms
) -> None:
    """A claim that left but is not at Mobizon is sent again: its taker replaces the mark, once."""
    claim = make_sms(db, claimed_by="gone")
    assert start_sending(db, claim.id, replica="gone", now=LATER)
    unmarked = make_sms(db, claimed_by="survivor")
    assert take_over(db, claim.id, seen="gone", replica="survivor", left=True)
    again = LATER + timedelta(minutes=3)

    assert not start_sending(db, claim.id, replica="gone", now=again, again=True)
    assert not start_sending(db, unmarked.id, replica="survivor", now=again, again=True)
    assert start_sending(db, claim.id, replica="survivor", now=again, again=True)
    assert not start_sending(db, claim.id, replica="survivor", now=again)  # marked: not again

    assert (mark(db, claim.id), mark(db, unmarked.id)) == (again, None)


#: Sends as a release at revision 0010 left them: (state, message id), by trigger id.
_OLD_SENDS = {
    "claimed": ("claimed", None),
    "lost": ("unknown", None),
    "sent": ("sent", 7),
    "refused": ("failed", None),
}


def test_unsettled_sends_of_an_older_release_keep_being_looked_up(database_url: str) -> None:
    """Upgraded, a claim or lost answer of before is marked as leaving when made: looked up, not sent."""
    from alembic import command  # noqa: PLC0415  # Alembic loads slowly

    engine = make_engine(parse_database_url(database_url), keep=False)
    made = utc_text(T0)
    try:
        with engine.connect() as old:
            with old.begin():
                command.upgrade(alembic_config(old), "0010")
            for trigger, (state, message_id) in _OLD_SENDS.items():
                run_sql(
                    old,
                    "INSERT INTO sms (trigger_id, team_id, channel_id, user_id, recipient, text,"
                    " state, message_id, created_at, updated_at) VALUES (:trigger, 'T1', 'C1',"
                    " 'U1', '5511987654321', 'hi', :state, :message_id, :at, :at)",
                    trigger=trigger,
                    state=state,
                    message_id=message_id,
                    at=made,
                )
        upgraded = open_database(database_url)  # migrates to the newest revision
        try:
            rows = run_sql(upgraded, "SELECT id, trigger_id, sending_at FROM sms")
            marks = {row["trigger_id"]: row["sending_at"] for row in rows}
            (claim,) = [row["id"] for row in rows if row["trigger_id"] == "claimed"]
            # it may have left: a replica takes it over to look it up, not to send it at once
            assert not take_over(upgraded, claim, seen=None, replica="new")
            assert take_over(upgraded, claim, seen=None, replica="new", left=True)
        finally:
            upgraded.close()
            upgraded.engine.dispose()
    finally:
        engine.dispose()
    assert marks == {"claimed": made, "lost": made, "sent": None, "refused": None}
