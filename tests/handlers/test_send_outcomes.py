"""Each send outcome's sentence, and the wrapper that answers a listener's unexpected error."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.mobizon import MobizonError, MobizonValidationError, OutgoingSms
from bot.sms.sending.outcomes import (
    ClaimTakenOver,
    Duplicate,
    NotAllowed,
    NotSaved,
    Outcome,
    OutcomeUnknown,
    Refused,
    Sent,
    SentIdReused,
    SentNotRecorded,
    SentRecordedLater,
)
from handlers import send_outcomes
from handlers.errors import UNEXPECTED_ERROR, reporting_errors
from handlers.first_posts import FirstPost, PostState
from tests.handlers.test_shown_status import record

SMS = OutgoingSms("5511987654321", "hi")
ADVICE = send_outcomes.check_before_resending(SMS.recipient)


def test_may_have_been_sent_has_one_wording() -> None:
    """A gateway's lost answer and smsbot's own failure end in the same advice."""
    lost = send_outcomes.render(
        OutcomeUnknown(SMS, MobizonError("Mobizon did not answer.", outcome_unknown=True))
    )
    bug = send_outcomes.render(OutcomeUnknown(SMS, None))
    assert lost is not None
    assert bug is not None
    assert lost.endswith(ADVICE)
    assert bug.endswith(ADVICE)
    assert "may or may not have gone out" in bug


def test_every_outcome_has_its_sentence() -> None:
    """Each outcome renders to its own sentence; a duplicate says nothing (the first answers)."""
    outcomes: dict[str, Outcome] = {
        "refused": Refused(
            SMS, MobizonValidationError(2, "Mobizon refused <it>.", {}, sending=True)
        ),
        "not allowed": NotAllowed("U1"),
        "not saved": NotSaved(SMS, busy=True),
        "later": SentRecordedLater(SMS, 7),
        "not recorded": SentNotRecorded(SMS, 7),
        "reused": SentIdReused(SMS, 7),
        "taken over": ClaimTakenOver(SMS),
    }
    said = {kind: send_outcomes.render(outcome) for kind, outcome in outcomes.items()}
    assert send_outcomes.render(Duplicate("k")) is None
    assert "&lt;it&gt;" in (said["refused"] or "")
    assert "SMSBOT_ALLOWED_USERS" in (said["not allowed"] or "")
    assert "*not sent*" in (said["not saved"] or "")
    assert "(its database is busy)" in (said["not saved"] or "")
    assert "Do not send it again" in (said["later"] or "")
    assert "no delivery updates will follow" in (said["not recorded"] or "")
    assert "follows neither" in (said["reused"] or "")
    assert "Do not send it again" in (said["taken over"] or "")


def test_a_sent_sms_is_told_by_what_came_of_its_post() -> None:
    """Posted: nothing to add; refused: Slack's reason and where updates go; not yet: it comes later."""
    sent = Sent(record(message_id=7))
    assert send_outcomes.render(sent, FirstPost(PostState.POSTED)) is None
    refused = send_outcomes.render(sent, FirstPost(PostState.REFUSED, "not_in_channel"))
    assert "I could not post in this channel (not_in_channel)" in (refused or "")
    assert "/invite @smsbot" in (refused or "")
    later = send_outcomes.render(sent, FirstPost(PostState.LATER))
    assert "SMS 7 to +55 11 98765-4321 was sent" in (later or "")
    assert "it will appear here" in (later or "")
    assert send_outcomes.render(sent) == later  # not asked: said to come later
    unchecked = Sent(record(message_id=7, sender="Shop"), sender_unchecked=True)
    assert "“Shop”" in (send_outcomes.render(unchecked, FirstPost(PostState.POSTED)) or "")


class Respond:
    """A stand-in for Bolt's respond: keeps what it was asked to say."""

    response_url = "https://hooks.slack.invalid/r"

    def __init__(self) -> None:
        self.said: list[dict[str, Any]] = []

    async def __call__(self, **kwargs: Any) -> None:
        """Keep the reply."""
        self.said.append(kwargs)


async def test_an_error_before_the_ack_is_the_acks_answer() -> None:
    """A listener that fails before acking is acked with the unexpected-error sentence."""

    async def listener(ack: AsyncAck, respond: Respond) -> None:
        raise KeyError("bug")

    ack, respond = AsyncAck(), Respond()  # type: ignore[no-untyped-call]
    await reporting_errors(listener)(ack=ack, respond=respond)
    assert ack.response is not None
    assert UNEXPECTED_ERROR in str(ack.response.body)
    assert respond.said == []


async def test_an_error_after_the_ack_is_reported_through_respond() -> None:
    """A listener that fails after acking is answered through respond, the ack kept."""

    async def listener(ack: AsyncAck, respond: Respond) -> None:
        await ack()
        raise KeyError("bug")

    ack, respond = AsyncAck(), Respond()  # type: ignore[no-untyped-call]
    await reporting_errors(listener)(ack=ack, respond=respond)
    assert respond.said == [{"text": UNEXPECTED_ERROR, "response_type": "ephemeral"}]
