"""The SMS row as the rest of smsbot reads it: :class:`SmsRecord`, its states and its errors.

:func:`sms_from_row` maps a ``SELECT * FROM sms`` row onto the record field by field, by the
fields' own types (a flag, a state, a UTC time), so a new column is one field, not a mapping.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from storage.schema import parse_utc

#: Longest error text kept on a row (Mobizon's messages are short; stack traces are not wanted).
MAX_ERROR_LENGTH = 1000


class SendState(StrEnum):
    """Where the send itself stands (not the delivery: that is ``SmsRecord.status``)."""

    CLAIMED = "claimed"  # taken from Slack, Mobizon not yet answered
    SENT = "sent"  # Mobizon accepted it and gave a message id
    FAILED = "failed"  # Mobizon refused it; nothing was sent
    UNKNOWN = "unknown"  # the request left but no answer came back (timeout, 5xx)


class SmsNotFoundError(LookupError):
    """No SMS has the local id asked for."""


class SmsStateError(ValueError):
    """The SMS is not in a state that allows the requested change (e.g. failing a sent SMS)."""


class MessageIdTakenError(SmsStateError):
    """Mobizon gave a new SMS a message id another SMS already holds.

    Mobizon numbers its messages once, so the gateway that answered has forgotten the earlier
    one (a restarted simulator, another account over the same database). Statuses asked for that
    id now describe the new SMS: neither SMS can be tracked by it any more.
    """

    def __init__(self, sms_id: int, message_id: int, holder: int) -> None:
        self.sms_id = sms_id
        self.message_id = message_id
        self.holder = holder
        super().__init__(f"SMS {sms_id}: message id {message_id} is already held by SMS {holder}")


@dataclass(frozen=True, slots=True)
class SmsRecord:
    """One SMS as stored: what was asked in Slack, what Mobizon answered, and where it stands.

    ``created_at`` ... ``gave_up_at`` are UTC; ``status_ts`` / ``start_send_ts`` are Mobizon's own
    ``YYYY-MM-DD HH:MM:SS`` text and ``deferred_to`` is the wall time the user wrote, all in the
    Mobizon account's time zone (``MOBIZON_TIMEZONE``).
    """

    id: int
    trigger_id: str
    team_id: str
    channel_id: str
    user_id: str
    response_url: str | None = field(repr=False)  # lets anyone post to the channel for a while
    recipient: str
    sender: str | None
    text: str
    segments: int | None
    encoding: str | None
    name: str | None
    deferred_to: str | None
    validity: int | None
    flash: bool
    state: SendState
    error: str | None
    message_id: int | None
    campaign_id: int | None
    campaign_status: int | None
    status: str | None
    status_ts: str | None
    start_send_ts: str | None
    slack_channel: str | None
    slack_ts: str | None
    created_at: datetime
    sent_at: datetime | None
    updated_at: datetime
    final_at: datetime | None
    gave_up_at: datetime | None
    sandbox: bool
    cancelled_by: str | None = None
    moderation: str | None = None
    moderation_comment: str | None = None
    cost: str | None = None
    currency: str | None = None
    #: Who is cancelling the SMS at Mobizon right now (``/sms cancel``), and since when.
    cancelling_by: str | None = None
    cancelling_at: datetime | None = None
    #: A sent SMS whose Mobizon id was given to a later SMS: no status reported for it applies.
    detached: bool = False
    #: Whether Mobizon was asked to shorten the text's links.
    shorten_links: bool = False
    #: The replica whose claim it is, and the replica that polls its status.
    claimed_by: str | None = None
    polled_by: str | None = None
    #: Slack's reason it would not take the SMS's channel post (its updates go to its sender).
    post_error: str | None = None
    #: When its request was about to leave for Mobizon; ``None``: it never left.
    sending_at: datetime | None = None
    #: the text's length in its encoding's units, as the send counted it (``None`` before 0012)
    length: int | None = None

    @property
    def is_final(self) -> bool:
        """True once Mobizon reported a status it never changes again."""
        return self.final_at is not None

    @property
    def is_pending(self) -> bool:
        """True while the SMS was sent and its delivery is still being tracked."""
        return self.state is SendState.SENT and self.final_at is None and self.gave_up_at is None


#: How a column's value becomes its field, by the field's type; others are taken as stored.
_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "bool": bool,
    "SendState": SendState,
    "datetime": datetime.fromisoformat,
    "datetime | None": parse_utc,
}
_COLUMNS = tuple((f.name, _CONVERTERS.get(str(f.type))) for f in fields(SmsRecord))
#: Fields a row written before their migration lacks: they keep their default.
_LATER = frozenset(f.name for f in fields(SmsRecord) if f.default is not MISSING)


def sms_from_row(row: Mapping[Any, Any]) -> SmsRecord:
    """Build an :class:`SmsRecord` from a ``SELECT * FROM sms`` row (extra columns ignored).

    A column added by a later migration may be missing (a row read while an older database is
    upgraded): its field keeps its default.
    """
    values = dict(row)  # a plain dict: a result row's own key lookups cost far more
    return SmsRecord(
        **{
            name: values[name] if convert is None else convert(values[name])
            for name, convert in _COLUMNS
            if name in values or name not in _LATER
        }
    )
