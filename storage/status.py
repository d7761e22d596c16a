"""Mobizon delivery statuses and the rules for moving between them (pure functions)."""

from __future__ import annotations

from enum import StrEnum


class DeliveryStatus(StrEnum):
    """The message statuses Mobizon documents. Unknown strings are kept as plain ``str``."""

    NEW = "NEW"
    ENQUEUD = "ENQUEUD"
    ACCEPTD = "ACCEPTD"
    PDLIVRD = "PDLIVRD"
    DELIVRD = "DELIVRD"
    UNDELIV = "UNDELIV"
    REJECTD = "REJECTD"
    EXPIRED = "EXPIRED"
    DELETED = "DELETED"


FINAL_STATUSES = frozenset(
    {
        DeliveryStatus.DELIVRD,
        DeliveryStatus.UNDELIV,
        DeliveryStatus.REJECTD,
        DeliveryStatus.EXPIRED,
        DeliveryStatus.DELETED,
    }
)

# Progress order of the non-final statuses; unknown statuses rank with NEW.
_RANK: dict[str, int] = {
    DeliveryStatus.NEW: 0,
    DeliveryStatus.ENQUEUD: 1,
    DeliveryStatus.ACCEPTD: 2,
    DeliveryStatus.PDLIVRD: 3,
}
_FINAL_RANK = 10


def is_final(status: str) -> bool:
    """True when ``status`` is one Mobizon never changes again."""
    return status in FINAL_STATUSES


def rank(status: str) -> int:
    """Order statuses by progress: final ones above every non-final one."""
    if is_final(status):
        return _FINAL_RANK
    return _RANK.get(status, 0)


def should_apply(
    current: str | None,
    current_ts: str | None,
    new: str,
    new_ts: str | None,
) -> bool:
    """Decide whether an update to ``new`` may replace ``current`` (statuses move forward only).

    Timestamps are Mobizon's ``YYYY-MM-DD HH:MM:SS`` strings, which sort as text.

    - A final status is never replaced, not even by another final status.
    - A final status replaces any non-final one: it is Mobizon's last word on the SMS, and
      refusing it over a clock disagreement would leave the SMS pending until tracking gives up.
    - Between non-final statuses, an older ``statusUpdateTs`` never overwrites a newer one,
      a lower rank never replaces a higher one, and an equal rank (an unknown status against
      ``NEW``) replaces the current one only when it is newer, or the current one carries no
      timestamp (the ``NEW`` the bot wrote itself when Mobizon accepted the SMS).
    """
    if current is None:
        return True
    if new == current or is_final(current):
        return False
    if is_final(new):
        return True
    if current_ts is not None and new_ts is not None and new_ts < current_ts:
        return False
    if rank(new) != rank(current):
        return rank(new) > rank(current)
    return current_ts is None or (new_ts is not None and new_ts > current_ts)
