"""Account jobs among replicas: one replica a turn, turns taken over, a change posted by one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import closing
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from storage import account, turns
from storage.replicas import LEASE, deregister, heartbeat, lease_cutoff, register
from storage.schema import open_database
from tests.storage.conftest import T0

if TYPE_CHECKING:
    from storage.engine import Database

T = TypeVar("T")

#: The interval of the job in these tests.
EVERY = timedelta(seconds=30)
JOB = "watch-moderation"
KEY = account.LOW_BALANCE_KEY
#: The replicas asking at the same moment.
REPLICAS = ("a", "b", "c", "d")


def take(db: Database, replica: str, at: datetime) -> bool:
    """Whether ``replica`` takes the job's turn at ``at``."""
    return turns.take_turn(
        db, JOB, replica=replica, every=EVERY, live_cutoff=lease_cutoff(at), now=at
    )


def is_open(db: Database, replica: str, at: datetime) -> bool:
    """Whether the read says ``replica`` could take the turn at ``at``."""
    return turns.turn_open(
        db, JOB, replica=replica, every=EVERY, live_cutoff=lease_cutoff(at), now=at
    )


def two_replicas(db: Database, at: datetime = T0) -> None:
    """Replicas ``a`` and ``b``, both live at ``at``."""
    register(db, "a", host="h", pid=1, now=at)
    register(db, "b", host="h", pid=2, now=at)


def test_of_two_replicas_one_takes_the_turn_and_keeps_it_at_each_of_its_runs(db: Database) -> None:
    """The first to ask runs the job; the other does not, and the read tells it without a write."""
    two_replicas(db)
    assert is_open(db, "a", T0)  # no turn yet: anyone's
    assert take(db, "a", T0)
    assert not is_open(db, "b", T0 + timedelta(seconds=1))
    assert not take(db, "b", T0 + timedelta(seconds=1))
    # its holder runs at each of its runs, however its timer's ticks fall
    heartbeat(db, "a", now=T0 + timedelta(seconds=10))
    heartbeat(db, "b", now=T0 + timedelta(seconds=10))
    assert is_open(db, "a", T0 + timedelta(seconds=12))
    assert take(db, "a", T0 + timedelta(seconds=12))
    assert not take(db, "b", T0 + timedelta(seconds=13))


def test_a_turn_comes_back_after_a_whole_interval_without_its_holder(db: Database) -> None:
    """A holder that lets a whole interval pass (its run stuck) gives the turn to the next to ask."""
    two_replicas(db)
    assert take(db, "a", T0)
    for seconds in (5, 10, 15, 20, 25, 30):  # both stay live; a does not run the job
        heartbeat(db, "a", now=T0 + timedelta(seconds=seconds))
        heartbeat(db, "b", now=T0 + timedelta(seconds=seconds))
    assert not take(db, "b", T0 + EVERY - timedelta(milliseconds=1))
    assert take(db, "b", T0 + EVERY)
    assert not take(db, "a", T0 + EVERY + timedelta(milliseconds=1))  # b's now: one run, not two


def test_a_dead_replicas_turn_is_taken_once_its_lease_lapses_or_it_stops(db: Database) -> None:
    """Killed: its turn goes to another once its heartbeat is stale; stopped cleanly: at once."""
    two_replicas(db)
    assert take(db, "a", T0)
    heartbeat(db, "b", now=T0 + LEASE)  # a is killed; b goes on
    assert not take(db, "b", T0 + LEASE)  # a's lease still holds
    assert take(db, "b", T0 + LEASE + timedelta(seconds=1))  # before the interval is over
    deregister(db, "b")  # b stops
    assert take(db, "a", T0 + LEASE + timedelta(seconds=2))


def test_a_new_process_on_sqlite_takes_its_first_turn_at_once(db: Database) -> None:
    """A restart forgets the earlier process (one process per file): its first run is not delayed."""
    register(db, "before", host="h", pid=1, now=T0)
    assert take(db, "before", T0)
    register(db, "after", host="h", pid=2, now=T0 + timedelta(seconds=1), only_one=True)
    assert take(db, "after", T0 + timedelta(seconds=1))


def test_each_job_has_a_turn_of_its_own(db: Database) -> None:
    """Holding one job's turn says nothing of another's."""
    two_replicas(db)
    assert take(db, "a", T0)
    assert turns.take_turn(
        db, "check-balance", replica="b", every=EVERY, live_cutoff=lease_cutoff(T0), now=T0
    )


def at_once(url: str, fn: Callable[[Database, str], T]) -> list[T]:
    """``fn(connection, name)`` for replicas a to d, each a thread and connection, together."""
    start = threading.Barrier(len(REPLICAS))
    results: list[T] = []
    lock = threading.Lock()

    def run(name: str) -> None:
        with closing(open_database(url)) as own:
            start.wait()
            result = fn(own, name)
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run, args=(name,)) for name in REPLICAS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_replicas_asking_for_a_turn_at_the_same_moment_get_one(database_url: str) -> None:
    """Four replicas take a first turn, then a due one, at the same instant: one wins each time."""
    with closing(open_database(database_url)) as db:
        for n, name in enumerate(REPLICAS):
            register(db, name, host="h", pid=n, now=T0)

    def first(own: Database, name: str) -> bool:
        return take(own, name, T0)

    assert sorted(at_once(database_url, first)) == [False, False, False, True]
    later = T0 + EVERY + timedelta(seconds=1)  # due for anyone; the holder is one of them
    with closing(open_database(database_url)) as db:
        for name in REPLICAS:
            heartbeat(db, name, now=later)
        holder = turns.kept_value(db, turns.turn_key(JOB), live_cutoff=lease_cutoff(later))
        assert holder.stored in REPLICAS

    def due(own: Database, name: str) -> bool:
        return name != holder.stored and take(own, name, later)

    assert sum(at_once(database_url, due)) == 1


def test_a_change_is_claimed_by_one_replica_and_settled_by_it(db: Database) -> None:
    """Two replicas saw the same value: one claims the change; a post settles it, a failure undoes it."""
    two_replicas(db)
    seen = turns.kept_value(db, KEY, live_cutoff=lease_cutoff(T0))
    assert (seen.stored, seen.value) == (None, None)
    assert turns.claim_change(db, KEY, "low", seen=None, replica="a", now=T0)
    assert not turns.claim_change(db, KEY, "low", seen=None, replica="b", now=T0)
    claimed = turns.kept_value(db, KEY, live_cutoff=lease_cutoff(T0))
    assert (claimed.value, claimed.posting, claimed.by, claimed.by_live) == (None, "low", "a", True)
    assert not turns.settle_change(db, KEY, "low", posting="low", replica="b", now=T0)
    assert turns.settle_change(db, KEY, "low", posting="low", replica="a", now=T0)
    assert account.get_state(db, KEY) == "low"

    # the recovery note: its post fails, the old value is kept and the next check tries again
    assert not turns.claim_change(db, KEY, "ok", seen=None, replica="b", now=T0)
    assert turns.claim_change(db, KEY, "ok", seen="low", replica="b", now=T0)
    assert not turns.claim_change(db, KEY, "ok", seen="low", replica="a", now=T0)
    assert turns.settle_change(db, KEY, "low", posting="ok", replica="b", now=T0)
    assert turns.kept_value(db, KEY, live_cutoff=lease_cutoff(T0)).value == "low"


def test_a_claim_left_by_a_dead_replica_is_seen_as_such_and_taken_from_it(db: Database) -> None:
    """The replica posting a change was killed: once its lease lapses, another claims the change."""
    two_replicas(db)
    assert turns.claim_change(db, KEY, "low", seen=None, replica="a", now=T0)
    later = T0 + LEASE + timedelta(seconds=1)
    heartbeat(db, "b", now=later)
    left = turns.kept_value(db, KEY, live_cutoff=lease_cutoff(later))
    assert (left.posting, left.by, left.by_live) == ("low", "a", False)
    assert turns.claim_change(db, KEY, "low", seen=left.stored, replica="b", now=later)
    assert not turns.settle_change(db, KEY, "low", posting="low", replica="a", now=later)
    assert turns.settle_change(db, KEY, "low", posting="low", replica="b", now=later)
    assert account.get_state(db, KEY) == "low"


def test_replicas_claiming_a_change_at_the_same_moment_get_one_claim(database_url: str) -> None:
    """Four replicas that saw the balance fine claim the alert at the same instant: one posts it."""

    def claim(own: Database, name: str) -> bool:
        return turns.claim_change(own, KEY, "low", seen=None, replica=name, now=T0)

    with closing(open_database(database_url)):
        pass  # the schema, made once before the replicas ask
    assert sorted(at_once(database_url, claim)) == [False, False, False, True]
    with closing(open_database(database_url)) as db:
        account.set_state(db, KEY, "ok")

    def claim_from_ok(own: Database, name: str) -> bool:
        return turns.claim_change(own, KEY, "low", seen="ok", replica=name, now=T0)

    assert sorted(at_once(database_url, claim_from_ok)) == [False, False, False, True]
