"""The notifier against the fake Slack on a loopback port: edits, thread replies, pacing, failures."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

from handlers.notifier_posts import REPLY_EVENT
from storage import delivery, outbox
from storage.records import SmsRecord
from testkit.slack import FakeSlack
from testkit.waiting import wait_until
from tests.sms.delivery.conftest import (
    NotifierRig,
    channel_message,
    direct_messages,
    outbox_drained,
    posted_earlier,
    report,
    running,
    thread_replies,
)


async def test_final_status_updates_the_message_and_replies_once(rig: NotifierRig) -> None:
    """A delivered SMS: its message shows a check mark and DELIVRD, and one thread reply says so."""
    sms = rig.sms(7, slack=rig.slack)
    report(rig.db, 7, "ENQUEUD", "ACCEPTD", "DELIVRD")
    await rig.drain_all()
    shown = channel_message(rig.slack, sms)
    assert ":white_check_mark: DELIVRD (delivered)" in str(shown["blocks"])
    assert "DELIVRD (delivered)" in shown["text"]
    replies = thread_replies(rig.slack, sms)
    assert [r["text"] for r in replies] == [
        ":white_check_mark: SMS 7 to +55 11 98765-4321 was delivered."
    ]
    # the three rows queued before the drain need a single edit: each shows the SMS as it is now
    assert len(rig.slack.called("chat.update")) == 1


async def test_failed_status_says_what_mobizon_reported(rig: NotifierRig) -> None:
    """Not delivered: a cross mark on the message and a reply with Mobizon's status and meaning."""
    rejected = rig.sms(7, slack=rig.slack)
    expired = rig.sms(8, slack=rig.slack, channel="C2")
    report(rig.db, 7, "REJECTD")
    report(rig.db, 8, "EXPIRED")
    await rig.drain_all()
    assert ":x: REJECTD" in str(channel_message(rig.slack, rejected)["blocks"])
    (reply,) = thread_replies(rig.slack, rejected)
    assert "was not delivered: Mobizon reports REJECTD, rejected by the carrier" in reply["text"]
    assert ":hourglass: EXPIRED" in str(channel_message(rig.slack, expired)["blocks"])
    (reply,) = thread_replies(rig.slack, expired)
    assert "Mobizon reports EXPIRED, validity period ran out" in reply["text"]


async def test_progress_updates_the_message_without_a_reply(rig: NotifierRig) -> None:
    """A non-final status edits the channel message and posts nothing in its thread."""
    sms = rig.sms(7, slack=rig.slack)
    report(rig.db, 7, "ACCEPTD")
    await rig.drain_all()
    assert ":outbox_tray: ACCEPTD (accepted by the carrier)" in str(
        channel_message(rig.slack, sms)["blocks"]
    )
    assert thread_replies(rig.slack, sms) == []
    assert rig.slack.called("chat.postMessage") == []


async def test_about_one_post_per_second_per_channel(rig: NotifierRig) -> None:
    """Posts to one channel are spaced by the pacing interval, waited on the notifier's clock."""
    for message_id in (1, 2, 3):
        rig.sms(message_id, slack=rig.slack, channel="C1")
        report(rig.db, message_id, "ACCEPTD")
    await rig.drain_all()
    c1 = [call.at for call in rig.slack.called("chat.update")]
    assert len(c1) == 3
    # spaced by the 1 s interval (measured on arrival, so allow for loopback jitter); one channel
    # alone, as another channel's wait moves the shared fast-forward clock under a post in flight
    assert all(later - earlier >= 0.95 for earlier, later in itertools.pairwise(c1))
    # the pacing was waited on the notifier's clock, not slept
    assert sum(rig.clock.sleeps) >= 1.9


async def test_another_channel_is_not_held_up_by_a_paced_one(rig: NotifierRig) -> None:
    """A second channel's posts go out while the first channel's queue waits for its pace."""
    for message_id in (1, 2, 3):
        rig.sms(message_id, slack=rig.slack, channel="C1")
        report(rig.db, message_id, "ACCEPTD")
    for message_id in (4, 5):
        rig.sms(message_id, slack=rig.slack, channel="C2")
        report(rig.db, message_id, "ACCEPTD")
    await rig.drain_all()
    updates = rig.slack.called("chat.update")
    c1 = [call.at for call in updates if call.params["channel"] == "C1"]
    c2 = [call.at for call in updates if call.params["channel"] == "C2"]
    assert (len(c1), len(c2)) == (3, 2)
    # C2's first edit did not wait behind C1's queue: one queue would put it after all of C1's
    # (the fast-forward clock jumps when C1 waits, so a starved C2 task may land after C1's second)
    assert c2[0] < c1[2]


async def test_retry_after_is_honoured(rig: NotifierRig) -> None:
    """Slack answers 429 with Retry-After 2, then 200: the update arrives, not sooner than asked."""
    sms = rig.sms(7, slack=rig.slack)
    report(rig.db, 7, "DELIVRD")
    rig.slack.rate_limit_next("chat.update", retry_after=2)
    notifier = rig.notifier()
    async with running(notifier):
        await rig.slack.wait_for("chat.update")
        # time passes on the test's clock, a tenth of a second at a time, until the retry
        for _ in range(600):  # a minute of the clock at most
            if len(rig.slack.called("chat.update")) == 2:
                break
            await rig.clock.sleep(0.1)
            await asyncio.sleep(0.005)
        await outbox_drained(rig.db)
    first, second = rig.slack.called("chat.update")
    assert second.at - first.at >= 2.0
    assert notifier.rate_limited == 1
    assert "DELIVRD" in channel_message(rig.slack, sms)["text"]
    assert len(thread_replies(rig.slack, sms)) == 1


async def test_slack_down_for_three_cycles_then_everything_arrives(rig: NotifierRig) -> None:
    """While Slack answers 503 rows stay queued with backoff; after recovery every update arrives."""
    sent = [rig.sms(message_id, slack=rig.slack) for message_id in (1, 2, 3)]
    report(rig.db, 1, "DELIVRD")
    report(rig.db, 2, "UNDELIV")
    report(rig.db, 3, "ACCEPTD")
    rig.slack.down = True

    def failed_cycles() -> int:
        return min(
            n.attempts
            for n in outbox.due_notifications(rig.db, now=datetime.max.replace(tzinfo=UTC))
        )

    notifier = rig.notifier(per_channel_interval=0.1, retry_base=0.02)
    async with running(notifier):
        await wait_until(lambda: failed_cycles() >= 3, what="three failed cycles")
        assert outbox.outbox_size(rig.db) == 3  # nothing was dropped while Slack was down
        rig.slack.down = False
        await outbox_drained(rig.db)
    assert "DELIVRD" in channel_message(rig.slack, sent[0])["text"]
    assert "UNDELIV" in channel_message(rig.slack, sent[1])["text"]
    assert "ACCEPTD" in channel_message(rig.slack, sent[2])["text"]
    assert [len(thread_replies(rig.slack, sms)) for sms in sent] == [1, 1, 0]


async def test_row_stays_until_slack_accepts_the_reply(rig: NotifierRig) -> None:
    """A refused thread reply keeps the row (its edit marked done, not repeated) until it succeeds."""
    sms = rig.sms(7, slack=rig.slack)
    report(rig.db, 7, "DELIVRD")
    rig.slack.fail_next("chat.postMessage", "internal_error")
    notifier = rig.notifier()
    assert await notifier.drain() == 0
    (row,) = outbox.due_notifications(rig.db, now=datetime.max.replace(tzinfo=UTC))
    assert (row.update_done, row.reply_done, row.attempts) == (True, False, 1)
    assert row.last_error == "internal_error"
    await rig.drain_all(notifier)
    assert len(rig.slack.called("chat.update")) == 1
    assert len(thread_replies(rig.slack, sms)) == 1


async def test_message_gone_sends_the_outcome_to_the_sender(rig: NotifierRig) -> None:
    """Original message deleted or channel gone: the sender gets the outcome in a DM."""
    deleted = rig.sms(7, slack=rig.slack, channel="C1", user="U7")
    del rig.slack.messages[(deleted.slack_channel or "", deleted.slack_ts or "")]
    rig.sms(8, slack=rig.slack, channel="C9", user="U8")
    rig.slack.deleted_channels.add("C9")
    report(rig.db, 7, "DELIVRD")
    report(rig.db, 8, "UNDELIV")
    await rig.drain_all()
    assert {c.params["users"] for c in rig.slack.called("conversations.open")} == {"U7", "U8"}
    (dm7,) = direct_messages(rig.slack, "U7")
    assert "SMS 7" in dm7["text"]
    assert "was delivered" in dm7["text"]
    assert "could not update the channel message" in str(dm7["blocks"])
    (dm8,) = direct_messages(rig.slack, "U8")
    assert "was not delivered" in dm8["text"]
    assert thread_replies(rig.slack, deleted) == []


async def test_a_status_waits_for_the_sms_post_then_replies_in_its_thread(rig: NotifierRig) -> None:
    """A status that beats the SMS's channel post waits behind it, then replies in its thread."""
    sms = rig.sms(7, post_owed=True)  # Mobizon accepted it; its post waits in the outbox
    report(rig.db, 7, "DELIVRD")
    rig.slack.fail_next("chat.postMessage", "internal_error")  # the post is tried again later
    await rig.drain_all()
    now = rig.stored(sms)
    assert now.slack_ts is not None
    (reply,) = thread_replies(rig.slack, now)
    assert "was delivered" in reply["text"]
    assert direct_messages(rig.slack) == []
    chat = [(c.method, c.params.get("thread_ts")) for c in rig.slack.calls if "chat." in c.method]
    assert chat == [
        ("chat.postMessage", None),  # refused for now
        ("chat.postMessage", None),  # the post
        ("chat.update", None),  # the status it waited to edit
        ("chat.postMessage", now.slack_ts),  # and its reply
    ]


async def test_never_posted_message_goes_to_the_sender(rig: NotifierRig) -> None:
    """An SMS whose channel message was never posted (bot not invited) is reported by DM."""
    rig.sms(7, sent_at=datetime.now(UTC) - timedelta(minutes=5))
    report(rig.db, 7, "ACCEPTD", "DELIVRD")
    await rig.drain_all()
    (dm,) = direct_messages(rig.slack)
    assert "was delivered" in dm["text"]
    assert rig.slack.called("chat.update") == []


async def test_give_up_says_so_in_the_thread(rig: NotifierRig) -> None:
    """Giving up edits the message and replies "no final status from Mobizon after …"."""
    sms = rig.sms(7, slack=rig.slack)
    report(rig.db, 7, "ACCEPTD")
    assert delivery.give_up(rig.db, sms.id) is not None
    await rig.drain_all()
    assert "no final status from Mobizon (gave up waiting)" in str(
        channel_message(rig.slack, sms)["blocks"]
    )
    (reply,) = thread_replies(rig.slack, sms)
    assert "no final status from Mobizon after 24 h plus a grace period" in reply["text"]
    assert "last status ACCEPTD" in reply["text"]


def reply_in_slack(slack: FakeSlack, sms: SmsRecord, status: str) -> None:
    """Put the thread reply in Slack as an earlier process would have posted it."""
    assert sms.slack_channel is not None
    metadata = {
        "event_type": REPLY_EVENT,
        "event_payload": {"message_id": sms.message_id, "status": status},
    }
    posted_earlier(
        slack,
        sms.slack_channel,
        "1700009999.000001",
        metadata,
        thread_ts=sms.slack_ts,
        text="delivered",
    )


async def test_reply_posted_before_a_crash_is_not_posted_again(rig: NotifierRig) -> None:
    """A row left by a killed process whose reply Slack already has: found by metadata, not re-sent."""
    sms = rig.sms(7, slack=rig.slack)
    report(rig.db, 7, "DELIVRD")
    (row,) = outbox.due_notifications(rig.db)
    outbox.mark_step_done(rig.db, row.id, "update")
    reply_in_slack(rig.slack, sms, "DELIVRD")
    assert await rig.notifier().drain() == 1
    assert len(thread_replies(rig.slack, sms)) == 1
    assert rig.slack.called("chat.postMessage") == []
    assert len(rig.slack.called("conversations.replies")) == 1
    assert outbox.outbox_size(rig.db) == 0


async def test_rows_from_before_a_restart_are_checked_then_posted_once(rig: NotifierRig) -> None:
    """Without an earlier reply in the thread (or with no history scope), the reply is posted."""
    first = rig.sms(7, slack=rig.slack)
    second = rig.sms(8, slack=rig.slack, channel="C2")
    report(rig.db, 7, "DELIVRD")
    report(rig.db, 8, "UNDELIV")
    reply_in_slack(rig.slack, first, "UNDELIV")  # another status's reply does not count
    rig.slack.fail_next("conversations.replies", "missing_scope")
    await rig.drain_all()
    (reply,) = [r for r in thread_replies(rig.slack, first) if r["text"] != "delivered"]
    assert reply["metadata"] == {
        "event_type": REPLY_EVENT,
        "event_payload": {"message_id": 7, "status": "DELIVRD"},
    }
    assert len(thread_replies(rig.slack, second)) == 1
    assert len(rig.slack.called("conversations.replies")) == 2


async def test_rows_of_this_process_are_not_checked(rig: NotifierRig) -> None:
    """A reply queued after the notifier started needs no look at the thread: one call, one post."""
    notifier = rig.notifier()
    notifier._started -= timedelta(minutes=1)  # as if started a minute ago
    sms = rig.sms(7, slack=rig.slack)
    report(rig.db, 7, "DELIVRD")
    assert await notifier.drain() == 1
    assert len(thread_replies(rig.slack, sms)) == 1
    assert rig.slack.called("conversations.replies") == []
