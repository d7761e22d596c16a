"""A send to many's one message in Slack: posted once, edited once an interval, summed up once.

Over the fake Slack Web API on a loopback socket, with the campaign's rows written as the
campaign service and delivery tracking leave them (:mod:`testkit.campaigns`) and an injected
time for every step.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from handlers.campaign_posts import EDIT_INTERVAL, MESSAGE_EVENT, CampaignReporter
from storage import campaign_reports
from storage.engine import Database
from storage.schema import open_database
from storage.store import Store
from testkit.campaigns import (
    T0,
    campaign_row,
    give_up,
    make_campaign,
    numbers,
    set_cost,
    set_state,
    set_status,
    set_statuses,
)
from testkit.slack import BOT_TOKEN, FakeSlack
from testkit.waiting import wait_until
from tests import postgres
from tests.conftest import BotHarness
from tests.handlers.conftest import block_kit_problems, block_texts


@pytest.fixture
async def slack(fake_slack: FakeSlack) -> AsyncIterator[AsyncWebClient]:
    """A Slack Web API client of the fake, without retries (as the notifier's)."""
    async with aiohttp.ClientSession() as session:
        yield AsyncWebClient(
            token=BOT_TOKEN, base_url=fake_slack.url + "api/", session=session, retry_handlers=[]
        )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """One replica's database, a SQLite file."""
    opened = await Store.open(tmp_path / "campaigns.db")
    yield opened
    await opened.close()


def at(seconds: float) -> datetime:
    """``seconds`` after the campaign was made."""
    return T0 + timedelta(seconds=seconds)


def posts(fake: FakeSlack) -> list[dict[str, Any]]:
    """Every chat.postMessage Slack took, oldest first."""
    return [call.params for call in fake.called("chat.postMessage")]


def texts(params: dict[str, Any]) -> str:
    """What a post or an edit shows: its fallback text and every text in its blocks."""
    return str(params.get("text", "")) + "\n" + block_texts(params.get("blocks") or [])


async def test_the_message_is_posted_once_with_who_sent_what_and_the_counts(
    fake_slack: FakeSlack, slack: AsyncWebClient, store: Store
) -> None:
    """One post in the channel: the sender, how many, the text, the counts and a bar; no more."""
    made = await store.write(
        make_campaign, numbers(5), codes=[0, 0, 0, 0, 5], text="Olá <b> *promo*", user="U7"
    )
    await store.write(set_status, made.sms_ids[0], "DELIVRD", now=at(-1))
    reporter = CampaignReporter(store, slack)
    assert await reporter.report_due(at(0)) == 1
    (post,) = posts(fake_slack)
    shown = texts(post)
    assert post["channel"] == "C1"
    assert "SMS to 5 recipients" in shown
    assert "<@U7>" in shown
    assert "&lt;b&gt;" in shown  # the text is escaped, never markup
    assert "waiting 3 · sent 0 · delivered 1 · failed 0" in shown
    assert "not added 1 (1 on Mobizon's stop list)" in shown
    assert "▓▓▓▓▓░░░░░░░░░░░░░░░" in shown  # 1 of 4 final
    assert post["metadata"]["event_type"] == MESSAGE_EVENT
    row = await store.read(campaign_row, made.id)
    assert row["slack_ts"] is not None
    assert row["slack_channel"] == "C1"
    assert await reporter.report_due(at(10)) == 0  # nothing changed
    assert len(fake_slack.calls) == 1


async def test_a_long_text_of_markup_keeps_the_message_within_block_kit_limits(
    fake_slack: FakeSlack, slack: AsyncWebClient, store: Store
) -> None:
    """A 1,600-character text of entities and marks is cut and escaped: Slack would take it."""
    made = await store.write(make_campaign, numbers(12), codes=list(range(12)), text="&<*\n" * 400)
    await store.write(set_statuses, made.sms_ids[:1], "UNDELIV", now=at(-1))
    reporter = CampaignReporter(store, slack)
    await reporter.report_due(at(0))
    message, summary = posts(fake_slack)
    assert block_kit_problems(message["blocks"]) == []
    assert block_kit_problems(summary["blocks"]) == []
    assert "…" in texts(message)


async def test_edits_come_at_most_once_an_interval_while_a_thousand_statuses_arrive(
    fake_slack: FakeSlack, slack: AsyncWebClient, store: Store
) -> None:
    """1,000 statuses over 100 s, a step every second: about 20 edits, one summary, one post."""
    made = await store.write(make_campaign, numbers(1000))
    reporter = CampaignReporter(store, slack)
    for second in range(100):
        batch = made.sms_ids[second * 10 : second * 10 + 10]
        await store.write(set_statuses, batch, "DELIVRD", now=at(second))
        await reporter.report_due(at(second))
    await reporter.report_due(at(100))
    edits = fake_slack.called("chat.update")
    assert 19 <= len(edits) <= 100 // EDIT_INTERVAL.seconds + 1
    message, summary = posts(fake_slack)
    assert "thread_ts" not in message
    assert summary["thread_ts"] == edits[-1].params["ts"]
    assert "Delivered 1,000 of 1,000 (100%)" in texts(summary)
    assert "delivered 1,000" in texts(edits[-1].params)


async def test_edits_are_an_interval_apart_in_the_steps_time(
    fake_slack: FakeSlack, slack: AsyncWebClient, store: Store
) -> None:
    """A change every second: the message is edited at 5, 10, 15 s, never in between."""
    made = await store.write(make_campaign, numbers(30))
    reporter = CampaignReporter(store, slack)
    edited_at = []
    for second in range(16):
        await store.write(set_status, made.sms_ids[second], "ACCEPTD", now=at(second))
        before = len(fake_slack.called("chat.update"))
        await reporter.report_due(at(second))
        if len(fake_slack.called("chat.update")) > before:
            edited_at.append(second)
    assert len(posts(fake_slack)) == 1
    assert edited_at == [5, 10, 15]


async def test_the_summary_is_posted_once_with_the_percent_the_reasons_and_the_cost(
    fake_slack: FakeSlack, slack: AsyncWebClient, store: Store
) -> None:
    """Every SMS final: one thread reply, delivered N of M (P%), failed and not added and why."""
    made = await store.write(make_campaign, numbers(10), codes=[0] * 9 + [5])
    ids = made.sms_ids
    await store.write(set_statuses, ids[:6], "DELIVRD", now=at(-1))
    await store.write(set_status, ids[6], "UNDELIV", now=at(-1))
    await store.write(set_status, ids[7], "REJECTD", now=at(-1))
    await store.write(give_up, ids[8], declined="links are not allowed", now=at(-1))
    reporter = CampaignReporter(store, slack)
    await reporter.report_due(at(0))
    message, summary = posts(fake_slack)
    said = texts(summary)
    assert summary["thread_ts"] is not None
    assert "Delivered 6 of 10 (60%)" in said
    assert "Failed: 3" in said
    assert "UNDELIV (not delivered)" in said
    assert "REJECTD (rejected by the carrier" in said
    assert "declined by Mobizon's moderators: “links are not allowed”" in said
    assert "Not added by Mobizon: 1 (1 on Mobizon's stop list)" in said
    assert "Cost not known yet." in said
    assert fake_slack.shared_files() == []  # 4 not reached: no file
    for later in (10, 20, 30):
        await reporter.report_due(at(later))
    assert len(posts(fake_slack)) == 2
    row = await store.read(campaign_row, made.id)
    assert row["summary_ts"] is not None
    assert "every SMS is final" in texts(message)


async def test_a_cost_stated_after_the_summary_edits_it(
    fake_slack: FakeSlack, slack: AsyncWebClient, store: Store
) -> None:
    """The summary said no cost was known; once Mobizon states them, it says the sum."""
    made = await store.write(make_campaign, numbers(2))
    await store.write(set_statuses, made.sms_ids, "DELIVRD", now=at(-1))
    reporter = CampaignReporter(store, slack)
    await reporter.report_due(at(0))
    _, summary = posts(fake_slack)
    assert "Cost not known yet." in texts(summary)
    await store.write(set_cost, made.sms_ids[0], "0.0625", now=at(1))
    await store.write(set_cost, made.sms_ids[1], "0.0625", now=at(2))
    await reporter.report_due(at(6))
    edits = [call.params for call in fake_slack.called("chat.update")]
    summary_ts = (await store.read(campaign_row, made.id))["summary_ts"]
    (summary_edit,) = [edit for edit in edits if edit["ts"] == summary_ts]
    assert "Cost: 0.125 BRL." in texts(summary_edit)
    assert len(posts(fake_slack)) == 2


async def test_more_than_five_not_reached_come_as_a_csv_file_in_the_thread(
    fake_slack: FakeSlack, slack: AsyncWebClient, store: Store
) -> None:
    """Six not reached: the summary's thread gets a CSV of row, number, status and reason."""
    phones = numbers(8)
    made = await store.write(make_campaign, phones, codes=[0, 0, 0, 0, 0, 0, 0, 5])
    ids = made.sms_ids
    await store.write(set_statuses, ids[:2], "DELIVRD", now=at(-1))
    await store.write(set_statuses, ids[2:6], "UNDELIV", now=at(-1))
    await store.write(give_up, ids[6], now=at(-1))
    reporter = CampaignReporter(store, slack)
    await reporter.report_due(at(0))
    message, _summary = posts(fake_slack)
    (shared,) = fake_slack.shared_files()
    message_ts = (await store.read(campaign_row, made.id))["slack_ts"]
    assert (shared["channel"], shared["thread_ts"]) == ("C1", message_ts)
    assert shared["filename"].endswith(".csv")
    rows = list(csv.reader(io.StringIO(shared["content"].decode("utf-8"))))
    assert rows[0] == ["row", "number", "status", "reason"]
    assert rows[1:] == [
        ["4", phones[2], "UNDELIV", "UNDELIV (not delivered)"],
        ["5", phones[3], "UNDELIV", "UNDELIV (not delivered)"],
        ["6", phones[4], "UNDELIV", "UNDELIV (not delivered)"],
        ["7", phones[5], "UNDELIV", "UNDELIV (not delivered)"],
        ["8", phones[6], "gave_up", "no final status from Mobizon in time"],
        ["9", phones[7], "code 5", "on Mobizon's stop list"],
    ]
    assert "thread_ts" not in message
    await reporter.report_due(at(10))
    assert len(fake_slack.shared_files()) == 1


async def test_a_file_slack_refused_is_uploaded_at_the_next_step(
    fake_slack: FakeSlack, slack: AsyncWebClient, store: Store
) -> None:
    """The summary went, its CSV did not: the next step uploads it, once."""
    made = await store.write(make_campaign, numbers(6))
    await store.write(set_statuses, made.sms_ids, "EXPIRED", now=at(-1))
    fake_slack.fail_next("files.completeUploadExternal", "internal_error")
    reporter = CampaignReporter(store, slack)
    await reporter.report_due(at(0))
    assert len(posts(fake_slack)) == 2
    assert fake_slack.shared_files() == []
    await reporter.report_due(at(1))
    assert len(fake_slack.shared_files()) == 1
    await reporter.report_due(at(2))
    assert len(fake_slack.shared_files()) == 1
    assert len(posts(fake_slack)) == 2


async def test_a_csv_owed_by_a_reporter_that_is_gone_is_uploaded_by_another(
    fake_slack: FakeSlack, slack: AsyncWebClient, store: Store
) -> None:
    """The CSV is owed in the database: a second reporter (another replica) uploads it, once."""
    made = await store.write(make_campaign, numbers(6))
    await store.write(set_statuses, made.sms_ids, "EXPIRED", now=at(-1))
    fake_slack.fail_next("files.completeUploadExternal", "internal_error")
    await CampaignReporter(store, slack).report_due(at(0))  # then this replica is gone
    assert fake_slack.shared_files() == []
    assert (await store.read(campaign_row, made.id))["csv_due_at"] is not None
    other = CampaignReporter(store, slack)
    await other.report_due(at(1))
    assert len(fake_slack.shared_files()) == 1
    assert (await store.read(campaign_row, made.id))["csv_due_at"] is None
    await other.report_due(at(2))
    await CampaignReporter(store, slack).report_due(at(3))
    assert len(fake_slack.shared_files()) == 1
    assert len(posts(fake_slack)) == 2


async def test_a_refused_post_is_tried_again_at_the_next_step_and_made_once(
    fake_slack: FakeSlack, slack: AsyncWebClient, store: Store
) -> None:
    """Slack refuses the first post: the next step posts it, and only one message exists."""
    made = await store.write(make_campaign, numbers(3))
    fake_slack.fail_next("chat.postMessage", "internal_error")
    reporter = CampaignReporter(store, slack)
    assert await reporter.report_due(at(0)) == 0
    assert (await store.read(campaign_row, made.id))["slack_ts"] is None
    assert await reporter.report_due(at(1)) == 1
    assert len(fake_slack.called("chat.postMessage")) == 2
    assert len(fake_slack.messages) == 1


async def test_a_summary_slack_paces_is_posted_next_without_editing_the_message_again(
    fake_slack: FakeSlack, slack: AsyncWebClient, store: Store
) -> None:
    """The final edit went, the summary got a 429: the next step posts the summary alone."""
    made = await store.write(make_campaign, numbers(3))
    reporter = CampaignReporter(store, slack)
    await reporter.report_due(at(0))
    await store.write(set_statuses, made.sms_ids, "DELIVRD", now=at(1))
    fake_slack.rate_limit_next("chat.postMessage", retry_after=1)
    assert await reporter.report_due(at(6)) == 0
    assert len(fake_slack.called("chat.update")) == 1
    for later in (8, 9, 20):
        await reporter.report_due(at(later))
    assert len(fake_slack.called("chat.update")) == 1
    message, refused, summary = posts(fake_slack)  # the 429 is recorded as a call
    assert "thread_ts" not in message
    assert refused["thread_ts"] == summary["thread_ts"] is not None
    assert len(fake_slack.messages) == 2
    assert (await store.read(campaign_row, made.id))["summary_ts"] is not None


async def test_a_post_whose_answer_was_lost_is_found_in_the_channel_not_posted_again(
    fake_slack: FakeSlack, slack: AsyncWebClient, store: Store
) -> None:
    """A replica posted and stopped before recording it: the next finds it by its metadata."""
    made = await store.write(make_campaign, numbers(2))
    (due,) = await store.read(
        campaign_reports.due_reports, now=at(0), interval=EDIT_INTERVAL, limit=10
    )
    claimed = await store.write(
        campaign_reports.claim_report, due, now=at(0), interval=EDIT_INTERVAL
    )
    assert claimed is not None
    earlier = await slack.chat_postMessage(
        channel="C1",
        text="earlier",
        metadata={"event_type": MESSAGE_EVENT, "event_payload": {"campaign": made.id}},
    )
    reporter = CampaignReporter(store, slack)
    assert await reporter.report_due(at(6)) == 1
    assert len(fake_slack.called("chat.postMessage")) == 1  # the earlier one only
    (edit,) = fake_slack.called("chat.update")
    assert edit.params["ts"] == earlier["ts"]
    assert (await store.read(campaign_row, made.id))["slack_ts"] == earlier["ts"]


async def test_a_campaign_still_sending_is_shown_but_not_summed_up(
    fake_slack: FakeSlack, slack: AsyncWebClient, store: Store
) -> None:
    """While recipients are being added, every SMS final is no summary yet."""
    made = await store.write(make_campaign, numbers(2), state="sending")
    await store.write(set_statuses, made.sms_ids, "DELIVRD", now=at(-1))
    reporter = CampaignReporter(store, slack)
    await reporter.report_due(at(0))
    (message,) = posts(fake_slack)
    assert "adding the recipients" in texts(message)


async def test_a_campaign_that_fails_after_its_message_is_edited_once_to_say_so(
    fake_slack: FakeSlack, slack: AsyncWebClient, store: Store
) -> None:
    """A campaign failed after its message was up: one more edit says it was not sent, no summary."""
    made = await store.write(make_campaign, numbers(2), state="sending")
    reporter = CampaignReporter(store, slack)
    await reporter.report_due(at(0))
    (message,) = posts(fake_slack)
    assert "not sent" not in texts(message)
    await store.write(set_state, made.id, "failed")
    await store.write(set_statuses, made.sms_ids, "DELIVRD", now=at(1))  # a change after it
    await reporter.report_due(at(EDIT_INTERVAL.total_seconds() + 2))
    edits = [call.params for call in fake_slack.called("chat.update")]
    assert len(edits) == 1
    assert "not sent" in texts(edits[0])
    await reporter.report_due(at(3 * EDIT_INTERVAL.total_seconds()))
    assert len(posts(fake_slack)) == 1  # no summary of a send that never went


async def test_the_message_is_in_the_workspace_language(
    fake_slack: FakeSlack, slack: AsyncWebClient, store: Store
) -> None:
    """A Portuguese workspace gets the counts and the summary in Portuguese."""
    made = await store.write(make_campaign, numbers(2))
    await store.write(set_statuses, made.sms_ids, "DELIVRD", now=at(-1))
    reporter = CampaignReporter(store, slack, language="pt_BR")
    await reporter.report_due(at(0))
    message, summary = posts(fake_slack)
    assert "entregues 2" in texts(message)
    assert "Entregues 2 de 2 (100%)" in texts(summary)


@pytest.fixture(params=("sqlite", "postgresql"))
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """One database two replicas share: a SQLite file, or this worker's PostgreSQL, emptied."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    url = str(request.getfixturevalue("postgres_url"))
    postgres.empty_tables(url)
    return url


@pytest.fixture
def shared_db(shared_url: str) -> Iterator[Database]:
    """The test's connection to the shared database, schema up to date."""
    database = open_database(shared_url)
    yield database
    database.close()
    database.engine.dispose()


async def test_two_replicas_on_one_database_edit_once_an_interval(
    fake_slack: FakeSlack, slack: AsyncWebClient, shared_url: str, shared_db: Database
) -> None:
    """Two reporters step side by side over 30 s of changes: one post, an edit every 5 s."""
    made = make_campaign(shared_db, numbers(40))
    stores = [await Store.open(shared_url) for _ in range(2)]
    try:
        reporters = [CampaignReporter(store, slack) for store in stores]
        for second in range(31):
            set_status(shared_db, made.sms_ids[second], "DELIVRD", now=at(second))
            for reporter in reporters:
                await reporter.report_due(at(second))
    finally:
        for store in stores:
            await store.close()
    assert len(posts(fake_slack)) == 1
    assert len(fake_slack.called("chat.update")) == 6  # at 5, 10, … 30 s


async def test_the_running_bot_reports_a_campaign_and_no_recipient_on_its_own(
    start_bot: Callable[..., Any],
) -> None:
    """The process's reporter job posts the message and its summary: two posts for six SMS."""
    bot: BotHarness = await start_bot(None)
    made = make_campaign(bot.db, numbers(6))
    set_statuses(bot.db, made.sms_ids, "DELIVRD")
    fake = bot.slack
    await wait_until(lambda: len(posts(fake)) >= 2, what="the campaign's message and summary")
    message, summary = posts(fake)
    assert message["metadata"]["event_payload"] == {"campaign": made.id}
    assert summary["thread_ts"] == campaign_row(bot.db, made.id)["slack_ts"]
    assert "Delivered 6 of 6 (100%)" in texts(summary)
