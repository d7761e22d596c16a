"""The send service: claim → send → record (its post queued), and the Outcome it returns."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.mobizon import (
    Balance,
    BeforeRequest,
    CampaignInfo,
    ListCriteria,
    MessagePage,
    MobizonClient,
    MobizonError,
    MobizonValidationError,
    OutgoingSms,
    SenderName,
    SendWithheld,
    SentMessage,
    SmsGateway,
    SmsStatus,
    Sort,
)
from bot.simulator import SEND_SMS, MobizonSimulator
from bot.sms.sending.outcomes import (
    ClaimTakenOver,
    Duplicate,
    NotAllowed,
    NotSaved,
    OutcomeUnknown,
    Refused,
    Sent,
    Unsendable,
)
from bot.sms.sending.segments import TooLongError
from bot.sms.sending.service import Claimed, SendService
from bot.sms.sending.text import ControlCharacterError, check_text
from bot.sms.sending.types import Origin, Surface, UnrecordedSends, new_send
from handlers.send_outcomes import render
from storage import claims, messages, outbox
from storage.records import SendState
from storage.store import Store
from tests.conftest import MOBIZON_KEY

NUMBER = "5511987654321"
AT = datetime(2026, 12, 24, 18, 30)  # noqa: DTZ001  # a wall time, as users write it


def origin(key: str = "trigger-1", user: str = "U1") -> Origin:
    """A slash command's origin."""
    return Origin("T1", "C1", user, Surface.SLASH_COMMAND, key, "https://hooks.slack.invalid/r")


class FailingGateway:
    """A gateway whose send raises ``error``; reads are never asked.

    As the client does once a connection is free, it asks ``before_request`` first: a send
    it refuses does not leave.
    """

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.sends = 0

    async def send_sms(
        self,
        sms: OutgoingSms,  # noqa: ARG002
        *,
        before_request: BeforeRequest | None = None,
    ) -> SentMessage:
        """Fail."""
        if before_request is not None and not await before_request():
            raise SendWithheld
        self.sends += 1
        raise self.error

    async def get_sms_status(self, ids: Iterable[int]) -> dict[int, SmsStatus]:
        """Not asked."""
        raise NotImplementedError

    async def list_messages(
        self,
        criteria: ListCriteria | None = None,
        *,
        page: int = 0,
        page_size: int = 25,
        sort: Sort | None = None,
        with_number_info: bool = False,
    ) -> MessagePage:
        """Not asked."""
        raise NotImplementedError

    async def get_balance(self) -> Balance:
        """Not asked."""
        raise NotImplementedError

    async def list_sender_names(self) -> tuple[SenderName, ...]:
        """Not asked."""
        raise NotImplementedError

    async def get_campaign_info(self, campaign_id: int) -> CampaignInfo:
        """Not asked."""
        raise NotImplementedError

    async def delete_campaign(self, campaign_id: int) -> None:
        """Not asked."""
        raise NotImplementedError


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A database as the app opens it."""
    opened = await Store.open(tmp_path / "send.db")
    yield opened
    await opened.close()


@pytest.fixture
async def client(simulator: tuple[MobizonSimulator, str]) -> AsyncIterator[MobizonClient]:
    """The Mobizon client against the simulator on loopback."""
    async with MobizonClient(MOBIZON_KEY, base_url=simulator[1]) as opened:
        yield opened


def service(store: Store, gateway: SmsGateway, **options: object) -> SendService:
    """The service over ``store`` and ``gateway``."""
    return SendService(store, gateway, unrecorded=UnrecordedSends(), **options)  # type: ignore[arg-type]


async def test_a_send_is_claimed_sent_recorded_and_its_post_queued(
    store: Store, client: MobizonClient, simulator: tuple[MobizonSimulator, str]
) -> None:
    """Every field of the OutgoingSms and Origin reaches Mobizon and the record; its post is queued."""
    at = (simulator[0].now() + timedelta(days=2)).replace(microsecond=0)
    sms = OutgoingSms(
        NUMBER, "hello", sender="Shop", schedule=at, validity=60, flash=True, campaign_name="x"
    )
    outcome = await service(store, client, sandbox=True).send(sms, origin())
    assert isinstance(outcome, Sent)
    record = outcome.sms
    (post,) = await store.read(outbox.due_notifications)
    assert (post.kind, post.message_id, post.note) == (
        outbox.NotificationKind.POST,
        record.message_id,
        None,
    )
    assert record.state is SendState.SENT
    assert (record.recipient, record.text, record.sender, record.name) == (
        NUMBER,
        "hello",
        "Shop",
        "x",
    )
    assert (record.deferred_to, record.validity, record.flash, record.sandbox) == (
        f"{at:%Y-%m-%d %H:%M:%S}",
        60,
        True,
        True,
    )
    assert (record.team_id, record.channel_id, record.user_id) == ("T1", "C1", "U1")
    assert record.message_id in simulator[0].messages


async def test_the_same_duplicate_key_sends_once(
    store: Store, client: MobizonClient, simulator: tuple[MobizonSimulator, str]
) -> None:
    """A redelivered request (same duplicate key) is a Duplicate and sends nothing more."""
    svc = service(store, client)
    sms = OutgoingSms(NUMBER, "once")
    first = await svc.send(sms, origin("k"))
    second = await svc.send(sms, origin("k"))
    assert isinstance(first, Sent)
    assert second == Duplicate("k")
    assert len(simulator[0].messages) == 1


async def test_a_user_not_allowed_sends_nothing(store: Store) -> None:
    """A user the settings' rule refuses gets NotAllowed; nothing is claimed or sent."""
    gateway = FailingGateway(RuntimeError("must not be called"))
    svc = service(store, gateway, may_send=lambda user: user == "U1")
    outcome = await svc.send(OutgoingSms(NUMBER, "no"), origin(user="U2"))
    assert outcome == NotAllowed("U2")
    assert gateway.sends == 0
    assert (await store.read(messages.count_by_state))["claimed"] == 0


async def test_a_refusal_and_a_bug_are_told_apart(store: Store) -> None:
    """Mobizon's refusal is Refused (failed); smsbot's own bug is OutcomeUnknown (unknown)."""
    refusal = MobizonValidationError(2, "bad", {"recipient": "wrong"}, sending=True)
    refused = await service(store, FailingGateway(refusal)).send(
        OutgoingSms(NUMBER, "a"), origin("a")
    )
    bug = await service(store, FailingGateway(KeyError("x"))).send(
        OutgoingSms(NUMBER, "b"), origin("b")
    )
    assert refused == Refused(OutgoingSms(NUMBER, "a"), refusal)
    assert bug == OutcomeUnknown(OutgoingSms(NUMBER, "b"), None)
    counts = await store.read(messages.count_by_state)
    assert (counts["failed"], counts["unknown"]) == (1, 1)


async def test_a_lost_answer_is_outcome_unknown(store: Store) -> None:
    """A gateway error that may have sent the SMS is OutcomeUnknown with its sentence."""
    lost = MobizonError("no answer; it may have been sent", outcome_unknown=True)
    outcome = await service(store, FailingGateway(lost)).send(OutgoingSms(NUMBER, "c"), origin())
    assert outcome == OutcomeUnknown(OutgoingSms(NUMBER, "c"), lost)


async def test_only_a_sent_sms_has_a_post_queued(store: Store, client: MobizonClient) -> None:
    """An SMS Mobizon refused is not posted: the outbox holds the post of the one sent only."""
    refusal = MobizonValidationError(2, "bad", {"recipient": "wrong"}, sending=True)
    refused = await service(store, FailingGateway(refusal)).send(
        OutgoingSms(NUMBER, "a"), origin("a")
    )
    sent = await service(store, client).send(OutgoingSms(NUMBER, "d"), origin("d"))
    assert isinstance(refused, Refused)
    assert isinstance(sent, Sent)
    assert sent.sms.state is SendState.SENT
    due = await store.read(outbox.due_notifications)
    assert [(n.kind, n.message_id) for n in due] == [
        (outbox.NotificationKind.POST, sent.sms.message_id)
    ]


def test_new_send_maps_every_field() -> None:
    """The one mapping to storage's claim carries the SMS, the origin and its segments."""
    sms = OutgoingSms(NUMBER, "olá", schedule=AT, campaign_name="n")
    new = new_send(sms, origin("t"), check_text(sms.text))
    assert (new.trigger_id, new.name, new.deferred_to) == ("t", "n", "2026-12-24 18:30:00")
    assert (new.segments, new.encoding) == (1, "UCS-2")
    assert new.response_url == "https://hooks.slack.invalid/r"


@pytest.mark.parametrize("text", ["\x00", "hi\x07", "x" * 1531])
async def test_a_text_no_sms_may_carry_is_unsendable_and_never_claimed(
    store: Store, text: str
) -> None:
    """A control character or a text over the segment limit is Unsendable; nothing is claimed."""
    gateway = FailingGateway(RuntimeError("must not be called"))
    outcome = await service(store, gateway).send(OutgoingSms(NUMBER, text), origin())
    assert isinstance(outcome, Unsendable)
    assert isinstance(outcome.error, ControlCharacterError | TooLongError)
    assert gateway.sends == 0
    assert (await store.read(messages.count_by_state))["claimed"] == 0


async def test_a_claim_taken_over_meanwhile_is_not_sent_from_here(store: Store) -> None:
    """Held up past the lease, its claim taken over: its mark is refused, and nothing goes."""
    gateway = FailingGateway(RuntimeError("must not be called"))
    svc = service(store, gateway, replica="slow")
    claimed = await svc.claim(OutgoingSms(NUMBER, "late"), origin())
    assert isinstance(claimed, Claimed)
    assert await store.write(claims.take_over, claimed.record.id, seen="slow", replica="other")
    outcome = await svc.deliver(claimed)
    assert outcome == ClaimTakenOver(OutgoingSms(NUMBER, "late"))
    assert gateway.sends == 0
    row = await store.read(messages.get_sms, claimed.record.id)
    assert row is not None
    assert (row.state, row.claimed_by) == (SendState.CLAIMED, "other")  # the other one's to send
    assert row.sending_at is None  # never left: the other one sends it at once
    assert "another smsbot process has taken this send over" in (render(outcome) or "")


async def test_a_send_is_marked_as_leaving_by_its_holder_with_or_without_a_replica_id(
    store: Store, client: MobizonClient, simulator: tuple[MobizonSimulator, str]
) -> None:
    """A replica's send and an unnamed process's are marked before they leave; a taken one is not."""
    held = await service(store, client, replica="r1").send(OutgoingSms(NUMBER, "a"), origin("a"))
    unnamed = service(store, client)
    own = await unnamed.send(OutgoingSms(NUMBER, "b"), origin("b"))
    claimed = await unnamed.claim(OutgoingSms(NUMBER, "c"), origin("c"))
    assert isinstance(claimed, Claimed)
    # a claim naming no replica, taken by one: the process without replica id is refused too
    assert await store.write(claims.take_over, claimed.record.id, seen=None, replica="r2")
    taken = await unnamed.deliver(claimed)
    assert isinstance(held, Sent)
    assert isinstance(own, Sent)
    assert taken == ClaimTakenOver(OutgoingSms(NUMBER, "c"))
    for sent in (held.sms, own.sms):
        assert sent.sending_at is not None
        assert sent.sent_at is not None
        assert sent.sending_at <= sent.sent_at
    assert sorted(m.text for m in simulator[0].messages.values()) == ["a", "b"]


async def test_a_send_the_database_will_not_mark_is_not_sent_and_its_claim_goes(
    store: Store,
    client: MobizonClient,
    simulator: tuple[MobizonSimulator, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The mark cannot be written: nothing leaves, the sender is told to try again, no claim stays."""

    def locked(*_args: object, **_kwargs: object) -> bool:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(claims, "start_sending", locked)
    outcome = await service(store, client, replica="r1").send(OutgoingSms(NUMBER, "x"), origin())
    assert outcome == NotSaved(OutgoingSms(NUMBER, "x"), busy=True)
    assert simulator[0].count(SEND_SMS) == 0
    assert (await store.read(messages.count_by_state))["claimed"] == 0  # not sent later either
    assert "Nothing went to Mobizon" in (render(outcome) or "")
