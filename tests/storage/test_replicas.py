"""Replicas on one database: heartbeats and leases, and pending SMS polled by one replica each."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from storage import replicas
from storage.claims import record_failed, take_over
from storage.messages import get_sms
from storage.outbox import channel_share, own_channels, owned_channels
from storage.polling import (
    claim_pending_statuses,
    poll_share,
    poll_share_would_change,
    polled_statuses,
)
from storage.records import SendState
from storage.replicas import (
    LEASE,
    deregister,
    heartbeat,
    heartbeat_every,
    lease_cutoff,
    live_replicas,
    register,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from storage.engine import Database
    from storage.records import SmsRecord

    MakeSms = Callable[..., SmsRecord]

from tests.storage.conftest import T0


def _polled_by(db: Database, replica: str, at: datetime) -> list[int]:
    """The pending SMS ``replica`` polls in a cycle at ``at``."""
    rows = claim_pending_statuses(db, replica=replica, live_cutoff=lease_cutoff(at))
    return [row.message_id for row in rows]


def test_a_replica_is_live_while_its_heartbeat_holds(db: Database) -> None:
    """Registered and heartbeating: live; silent past the lease: not; deregistered: gone."""
    register(db, "a", host="h1", pid=10, now=T0)
    register(db, "b", host="h2", pid=20, now=T0)
    assert [r.id for r in live_replicas(db, now=T0 + LEASE)] == ["a", "b"]
    assert heartbeat(db, "a", now=T0 + timedelta(seconds=10))
    assert [r.id for r in live_replicas(db, now=T0 + LEASE + timedelta(seconds=1))] == ["a"]
    deregister(db, "a")
    assert not heartbeat(db, "a", now=T0 + timedelta(seconds=20))  # taken for gone
    assert [r.id for r in live_replicas(db, now=T0)] == ["b"]


def test_only_one_forgets_every_other_replica(db: Database) -> None:
    """A process that owns the database alone (SQLite) forgets the rows of earlier processes."""
    register(db, "earlier", host="h", pid=1, now=T0)
    register(db, "now", host="h", pid=2, now=T0, only_one=True)
    assert [r.id for r in live_replicas(db, now=T0)] == ["now"]


def test_each_pending_sms_is_polled_by_one_replica_until_it_is_gone(
    db: Database, make_sms: MakeSms
) -> None:
    """Two live replicas take about half each, never the same SMS; one gone, the other has all."""
    for message_id in (1, 2, 3):
        make_sms(db, message_id=message_id)
    register(db, "a", host="h", pid=1, now=T0)
    register(db, "b", host="h", pid=2, now=T0)

    assert poll_share_would_change(db, replica="a", live_cutoff=lease_cutoff(T0))
    assert _polled_by(db, "a", T0) == [1, 2]  # its share: 3 over 2 live replicas, rounded up
    assert not poll_share_would_change(
        db, replica="a", live_cutoff=lease_cutoff(T0)
    )  # nothing to write
    assert [row.message_id for row in polled_statuses(db, replica="a")] == [1, 2]
    assert _polled_by(db, "b", T0) == [3]  # the rest: asked once per cycle, not twice
    assert not poll_share_would_change(db, replica="b", live_cutoff=lease_cutoff(T0))
    make_sms(db, message_id=4)
    assert _polled_by(db, "a", T0 + timedelta(seconds=1)) == [1, 2]  # a holds its share
    assert _polled_by(db, "b", T0 + timedelta(seconds=1)) == [3, 4]  # a new one: b's share

    heartbeat(db, "b", now=T0 + LEASE)  # a stops; b goes on
    later = T0 + LEASE + timedelta(seconds=1)
    assert _polled_by(db, "b", later) == [1, 2, 3, 4]
    assert _polled_by(db, "a", later) == []  # a back from a pause: b keeps them while alive


def test_a_replica_lets_go_of_more_than_its_share_for_the_other_to_take(
    db: Database, make_sms: MakeSms
) -> None:
    """A replica that was alone keeps half once another is live; the other takes the rest."""
    for message_id in range(1, 11):
        make_sms(db, message_id=message_id)
    register(db, "a", host="h", pid=1, now=T0)
    assert _polled_by(db, "a", T0) == list(range(1, 11))  # alone: every pending SMS
    register(db, "b", host="h", pid=2, now=T0 + timedelta(seconds=1))
    later = T0 + timedelta(seconds=2)
    assert poll_share_would_change(db, replica="a", live_cutoff=lease_cutoff(later))
    assert _polled_by(db, "a", later) == [1, 2, 3, 4, 5]  # lets go of its newest five
    assert _polled_by(db, "b", later) == [6, 7, 8, 9, 10]
    for replica in ("a", "b"):  # now both hold their share: a cycle writes nothing
        assert not poll_share_would_change(db, replica=replica, live_cutoff=lease_cutoff(later))
    share = poll_share(db, replica="a", live_cutoff=lease_cutoff(later))
    assert (share.pending, share.mine, share.unheld, share.live, share.share) == (10, 5, 0, 2, 5)


def test_a_dead_replicas_share_is_split_between_the_live_ones(
    db: Database, make_sms: MakeSms
) -> None:
    """Three replicas hold a third each; one gone, each of the other two takes half of its SMS."""
    for message_id in range(1, 10):
        make_sms(db, message_id=message_id)
    for pid, replica in enumerate("abc"):
        register(db, replica, host="h", pid=pid, now=T0)
    assert [_polled_by(db, replica, T0) for replica in "abc"] == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    for replica in "ab":  # c stops; a and b go on
        heartbeat(db, replica, now=T0 + LEASE)
    later = T0 + LEASE + timedelta(seconds=1)
    polled = {replica: _polled_by(db, replica, later) for replica in "ab"}
    assert polled == {"a": [1, 2, 3, 7, 8], "b": [4, 5, 6, 9]}
    assert _polled_by(db, "a", later) == [1, 2, 3, 7, 8]  # settled: the same next cycle


def test_the_lease_is_well_under_the_takeover_bound() -> None:
    """A dead replica's work is taken within 30 s: the lease plus a heartbeat fit in it."""
    assert timedelta(seconds=30) >= LEASE + replicas.HEARTBEAT_EVERY
    assert replicas.HEARTBEAT_EVERY == heartbeat_every(LEASE) == timedelta(seconds=5)


def test_a_shorter_lease_takes_a_silent_replica_for_gone_sooner(
    db: Database, make_sms: MakeSms
) -> None:
    """With a 3 s lease a replica silent for 4 s is gone and its SMS polled by another; beats 1 s."""
    short = timedelta(seconds=3)
    assert heartbeat_every(short) == timedelta(seconds=1)
    make_sms(db, message_id=1)
    register(db, "a", host="h", pid=1, now=T0)
    register(db, "b", host="h", pid=2, now=T0)
    assert _polled_by(db, "a", T0) == [1]

    later = T0 + timedelta(seconds=4)
    heartbeat(db, "b", now=later)  # a stops; b goes on
    assert [r.id for r in live_replicas(db, now=later)] == ["a", "b"]  # the default: 15 s
    assert [r.id for r in live_replicas(db, now=later, lease=short)] == ["b"]
    assert claim_pending_statuses(db, replica="b", live_cutoff=lease_cutoff(later)) == []
    taken = claim_pending_statuses(db, replica="b", live_cutoff=lease_cutoff(later, short))
    assert [row.message_id for row in taken] == [1]


def test_each_channel_is_posted_to_by_one_replica_until_it_is_gone(db: Database) -> None:
    """A channel's outbox rows go to one replica at a time: its owner keeps it while alive."""
    register(db, "a", host="h", pid=1, now=T0)
    register(db, "b", host="h", pid=2, now=T0)
    cutoff = lease_cutoff(T0)

    assert own_channels(db, ["C1", "C2"], replica="a", live_cutoff=cutoff, now=T0) == ["C1"]
    assert own_channels(db, ["C2", "C1", "C3"], replica="b", live_cutoff=cutoff, now=T0) == [
        "C2",
        "C3",
    ]
    assert own_channels(db, ["C3", "C1", "C2"], replica="a", live_cutoff=cutoff, now=T0) == ["C1"]
    assert owned_channels(db, ["C1", "C2", "C3"], replica="a") == {"C1"}

    heartbeat(db, "b", now=T0 + LEASE)  # a stops; b goes on
    later = lease_cutoff(T0 + LEASE + timedelta(seconds=1))
    assert own_channels(db, ["C1", "C2", "C3"], replica="b", live_cutoff=later) == [
        "C1",
        "C2",
        "C3",
    ]
    assert own_channels(db, ["C1"], replica="a", live_cutoff=later) == []


def test_only_a_gone_owners_channels_are_orphaned(db: Database) -> None:
    """Of the channels a replica may take, only those a gone replica owned may hold its posts."""
    register(db, "gone", host="h", pid=1, now=T0)
    assert own_channels(db, ["C1"], replica="gone", live_cutoff=lease_cutoff(T0), now=T0) == ["C1"]
    later = T0 + LEASE + timedelta(seconds=1)
    register(db, "a", host="h", pid=2, now=later)
    share = channel_share(db, ["C1", "C2"], replica="a", live_cutoff=lease_cutoff(later))
    assert (share.unheld, share.orphaned) == (["C1", "C2"], frozenset({"C1"}))


def test_live_replicas_split_the_due_channels(db: Database) -> None:
    """Ten due channels, two live replicas: each takes five, whichever looks first."""
    register(db, "a", host="h", pid=1, now=T0)
    register(db, "b", host="h", pid=2, now=T0)
    cutoff = lease_cutoff(T0)
    due = [f"C{n}" for n in range(10)]
    share = channel_share(db, due, replica="a", live_cutoff=cutoff)
    assert (share.share, share.to_take, share.settled) == (5, due[:5], False)
    assert own_channels(db, due, replica="a", live_cutoff=cutoff, now=T0) == due[:5]
    assert own_channels(db, due, replica="b", live_cutoff=cutoff, now=T0) == due[5:]
    for replica in ("a", "b"):  # each holds its share: the next look writes nothing
        assert channel_share(db, due, replica=replica, live_cutoff=cutoff).settled


def test_a_replica_lets_go_of_its_channels_with_nothing_due(db: Database) -> None:
    """Channels done for, held over a lease, go back to no one: the next burst is split afresh."""
    register(db, "a", host="h", pid=1, now=T0)
    cutoff = lease_cutoff(T0)
    assert own_channels(db, ["C1", "C2"], replica="a", live_cutoff=cutoff, now=T0) == ["C1", "C2"]
    soon = T0 + timedelta(seconds=1)
    register(db, "b", host="h", pid=2, now=soon)
    assert channel_share(db, ["C1"], replica="a", live_cutoff=lease_cutoff(soon)).settled
    later = T0 + LEASE + timedelta(seconds=1)
    for replica in ("a", "b"):
        heartbeat(db, replica, now=later)
    cutoff = lease_cutoff(later)
    # C1 is still due: a keeps it, even over its share; C2 is done: a lets it go
    share = channel_share(db, ["C1"], replica="a", live_cutoff=cutoff)
    assert (set(share.mine), set(share.idle), share.settled) == ({"C1"}, {"C2"}, False)
    assert own_channels(db, ["C1"], replica="a", live_cutoff=cutoff, now=later) == ["C1"]
    assert owned_channels(db, ["C1", "C2"], replica="a") == {"C1"}
    assert own_channels(db, ["C2", "C1"], replica="b", live_cutoff=cutoff, now=later) == ["C2"]
    assert own_channels(db, [], replica="a", live_cutoff=cutoff, now=later) == []  # C1 done too
    assert own_channels(db, ["C1", "C2"], replica="b", live_cutoff=cutoff, now=later) == ["C2"]
    assert own_channels(db, ["C1", "C2"], replica="a", live_cutoff=cutoff, now=later) == ["C1"]


def test_an_unsettled_send_is_taken_over_once_in_the_state_it_was_read(
    db: Database, make_sms: MakeSms
) -> None:
    """A gone replica's send goes to the first replica that asks, in the state it read, only."""
    claim = make_sms(db, claimed_by="gone")
    assert take_over(db, claim.id, seen="gone", replica="a")
    assert not take_over(db, claim.id, seen="gone", replica="b")  # a got there first
    lost = make_sms(db, claimed_by="gone")
    record_failed(db, lost.id, error="timed out", outcome_unknown=True)
    assert not take_over(db, lost.id, seen="gone", replica="a")  # not a claim any more
    assert take_over(db, lost.id, seen="gone", replica="b", state=SendState.UNKNOWN)
    assert not take_over(db, lost.id, seen="gone", replica="a", state=SendState.UNKNOWN)
    holders = {
        sms.id: sms.claimed_by for sms in (get_sms(db, claim.id), get_sms(db, lost.id)) if sms
    }
    assert holders == {claim.id: "a", lost.id: "b"}
