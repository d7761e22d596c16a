"""Many SMS recorded as sent at once, for tests that need hundreds of them (either engine).

One SMS is recorded as the bot records it by :func:`storage.claims.claim_send`, then
:func:`storage.claims.record_sent`, then the notifier's :func:`storage.outbox.refuse_post` and
:func:`storage.outbox.finish_notification` (Slack refused its channel post). A thousand of
those are fifteen thousand statements and a thousand commits; :func:`record_sent_many` leaves
the same rows with a few statements in one transaction (``tests/storage/test_sent_many.py``
holds it to the rows the storage functions leave).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from storage.claims import NewSend, claim_sends
from storage.engine import Database, write_transaction
from storage.schema import utc_text
from storage.status_writes import write_changes
from storage.tables import sms

#: What :func:`storage.claims.record_sent` sets on a claimed SMS Mobizon accepted.
_SENT = (
    sa.update(sms)
    .where(sms.c.id == sa.bindparam("sms_id"), sms.c.state == "claimed")
    .values(
        state="sent",
        message_id=sa.bindparam("new_message_id"),
        campaign_id=sa.bindparam("new_campaign_id"),
        campaign_status=sa.bindparam("new_campaign_status"),
        error=None,
        sent_at=sa.bindparam("stamp"),
        updated_at=sa.bindparam("stamp"),
    )
)

#: What :func:`storage.outbox.refuse_post` keeps of Slack's refusal of the channel post.
_POST_REFUSED = (
    sa.update(sms)
    .where(sms.c.id == sa.bindparam("sms_id"))
    .values(post_error=sa.bindparam("refusal"), updated_at=sa.bindparam("stamp"))
)


def record_sent_many(
    db: Database,
    sends: Sequence[NewSend],
    message_ids: Sequence[int],
    *,
    now: datetime,
    post_error: str = "not_in_channel",
) -> list[int]:
    """Claim ``sends`` and record each as sent as Mobizon's message ``message_ids[i]``.

    Each is left as one send is at ``now``: state ``sent``, campaign ``message id + 1,000,000``
    (status 2), status ``NEW`` and its history row (source ``command``), its channel post
    refused with ``post_error`` and no outbox row left. All in one transaction; returns the
    SMS ids, in order. Every ``trigger_id`` must be new.
    """
    if len(sends) != len(message_ids):
        raise ValueError("one message id per send")
    stamp = utc_text(now)
    with write_transaction(db):
        claimed = claim_sends(db, sends, now=now)
        ids = []
        for record in claimed:
            if record is None:
                raise ValueError("a send's trigger_id was claimed before")
            ids.append(record.id)
        db.execute(
            _SENT,
            [
                {
                    "sms_id": sms_id,
                    "new_message_id": message_id,
                    "new_campaign_id": message_id + 1_000_000,
                    "new_campaign_status": 2,
                    "stamp": stamp,
                }
                for sms_id, message_id in zip(ids, message_ids, strict=True)
            ],
        )
        write_changes(
            db,
            [
                {
                    "sms_id": sms_id,
                    "new_status": "NEW",
                    "new_status_ts": None,
                    "new_segments": None,
                    "new_start_send_ts": None,
                    "stamp": stamp,
                    "final": False,
                }
                for sms_id in ids
            ],
            [
                {
                    "message_id": message_id,
                    "status": "NEW",
                    "status_ts": None,
                    "source": "command",
                    "recorded_at": stamp,
                }
                for message_id in message_ids
            ],
        )
        db.execute(
            _POST_REFUSED,
            [{"sms_id": sms_id, "refusal": post_error, "stamp": stamp} for sms_id in ids],
        )
    return ids
