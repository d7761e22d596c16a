"""Background work: channel posts in the workspace language, a person's DM or notice in theirs.

Background work has no request, so its language is set explicitly. The notifier (settling's posts too), settling's notices and the balance alert against the fake Slack on a loopback port;
the product's own pt_BR catalogue shows which language each text is in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.mobizon import Balance
from bot.sms.delivery.settling import NotSent
from handlers import delivery_posts, notifier_posts
from handlers.delivery_posts import SlackSettlingPosts
from handlers.i18n import use_locale
from handlers.languages import PeopleLanguages
from handlers.notifier import Notifier
from handlers.posting import post_balance_alert
from storage.delivery import StatusUpdate, apply_status
from storage.engine import Database
from storage.outbox import PostNote
from storage.store import Store
from testkit.clock import FastForwardClock
from testkit.slack import FakeSlack
from tests.handlers.conftest import block_texts
from tests.sms.delivery.conftest import (
    SeedSms,
    channel_message,
    direct_messages,
    fast_notifier,
    outbox_drained,
    running,
    thread_replies,
)


@pytest.fixture(autouse=True)
def _patient_language_lookups(monkeypatch: pytest.MonkeyPatch) -> None:
    """Background posts wait for the fake's users.info as long as it takes.

    It answers at once, but on a loaded machine not always within BACKGROUND_WAIT; these tests
    are about which language each text is in, not about that wait.
    """
    monkeypatch.setattr(notifier_posts, "BACKGROUND_WAIT", 20.0)
    monkeypatch.setattr(delivery_posts, "BACKGROUND_WAIT", 20.0)


def delivered(db: Database, message_id: int) -> None:
    """Mobizon reports the SMS delivered."""
    update = StatusUpdate(message_id, "DELIVRD", "2026-01-15 11:00:00", source="poll")
    assert apply_status(db, update) is not None


def notifier(
    store: Store, client: AsyncWebClient, clock: FastForwardClock, language: str
) -> Notifier:
    """A notifier for workspace ``language`` that knows each person's language."""
    return fast_notifier(
        store, client, clock, language=language, languages=PeopleLanguages(language)
    )


async def test_a_portuguese_workspace_edits_and_replies_in_portuguese_and_dms_the_sender_in_theirs(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: FastForwardClock,
    seed_sms: SeedSms,
) -> None:
    """pt-BR workspace: edit and thread reply in Portuguese whoever sent it; an en-US DM in English."""
    fake_slack.user_locales |= {"U7": "en-US", "U8": "en-US"}
    in_channel = seed_sms(db, 7, slack=fake_slack, user="U7")
    gone = seed_sms(db, 8, slack=fake_slack, channel="C2", user="U8")
    del fake_slack.messages[(gone.slack_channel or "", gone.slack_ts or "")]
    delivered(db, 7)
    delivered(db, 8)
    with use_locale("en"):
        async with running(notifier(store, slack_client, clock, "pt_BR")):
            await outbox_drained(db)
    edited = channel_message(fake_slack, in_channel)
    assert "*Para*\n+55 11 98765-4321" in block_texts(edited["blocks"])
    assert " enviado por <@U7>: " in edited["text"]
    (reply,) = thread_replies(fake_slack, in_channel)
    assert reply["text"] == ":white_check_mark: O SMS 7 para +55 11 98765-4321 foi entregue."
    (dm,) = direct_messages(fake_slack, "U8")
    assert dm["text"] == ":white_check_mark: SMS 8 to +55 11 98765-4321 was delivered."
    assert "I could not update the channel message" in str(dm["blocks"])


async def test_an_english_workspace_posts_in_english_and_dms_a_portuguese_sender_in_portuguese(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    clock: FastForwardClock,
    seed_sms: SeedSms,
) -> None:
    """En workspace, pt-BR senders: thread reply in English (whatever the context), the DM in Portuguese."""
    fake_slack.user_locales |= {"U7": "pt-BR", "U8": "pt-BR"}
    in_channel = seed_sms(db, 7, slack=fake_slack, user="U7")
    gone = seed_sms(db, 8, slack=fake_slack, channel="C2", user="U8")
    del fake_slack.messages[(gone.slack_channel or "", gone.slack_ts or "")]
    delivered(db, 7)
    delivered(db, 8)
    with use_locale("pt_BR"):
        async with running(notifier(store, slack_client, clock, "en")):
            await outbox_drained(db)
    (reply,) = thread_replies(fake_slack, in_channel)
    assert reply["text"] == ":white_check_mark: SMS 7 to +55 11 98765-4321 was delivered."
    assert "*To*\n+55 11 98765-4321" in block_texts(
        channel_message(fake_slack, in_channel)["blocks"]
    )
    (dm,) = direct_messages(fake_slack, "U8")
    assert dm["text"] == ":white_check_mark: O SMS 8 para +55 11 98765-4321 foi entregue."
    assert "Não consegui atualizar a mensagem do canal" in str(dm["blocks"])


async def test_the_balance_alert_is_in_the_workspace_language(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    """The low-balance alert is a channel post: the workspace's language and money format."""
    balance = Balance(Decimal("12.5"), "BRL")
    with use_locale("en"):
        await post_balance_alert(
            slack_client, "C9", Decimal(50), low=True, balance=balance, language="pt_BR"
        )
    with use_locale("pt_BR"):
        await post_balance_alert(
            slack_client, "C9", Decimal(50), low=True, balance=balance, language="en"
        )
    first, second = (c.params["text"] for c in fake_slack.called("chat.postMessage"))
    assert first.startswith(
        ":warning: O saldo do Mobizon está baixo: R$ 12,50, abaixo de R$ 50,00."
    )
    assert second.startswith(":warning: The Mobizon balance is low: 12.50 BRL, below 50.00 BRL.")


async def test_settling_posts_in_the_channel_in_the_workspace_language_and_tells_the_sender_in_theirs(
    db: Database,
    store: Store,
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    seed_sms: SeedSms,
    clock: FastForwardClock,
) -> None:
    """A recovered SMS's post and note in the workspace's English; the pt-BR sender's notice in Portuguese."""
    fake_slack.user_locales["U7"] = "pt-BR"
    sms = seed_sms(db, 7, user="U7", post_owed=True, note=PostNote.RECOVERED)
    async with aiohttp.ClientSession() as session:
        posts = SlackSettlingPosts(
            slack_client, session, language="en", languages=PeopleLanguages("en")
        )
        with use_locale("pt_BR"):
            await fast_notifier(store, slack_client, clock, language="en").drain()
        await posts.tell_not_sent(sms, NotSent.RESTARTED, datetime.now(UTC))
    post, notice = fake_slack.called("chat.postMessage")
    assert post.params["channel"] == "C1"
    assert "*To*\n+55 11 98765-4321" in block_texts(post.params["blocks"])
    assert "Mobizon's answer to this send was not recorded" in str(post.params["blocks"])
    assert notice.params["channel"] == "D7"
    assert "o smsbot reiniciou antes de o Mobizon responder" in notice.params["text"]
