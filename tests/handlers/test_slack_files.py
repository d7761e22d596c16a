"""Reading a CSV file from Slack (files.info, then url_private with the bot token) against the fake."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from handlers.slack_files import (
    MAX_BYTES,
    FileProblem,
    FileRefused,
    SlackFile,
    read_csv_file,
    refused_sentence,
)
from testkit.slack import BOT_TOKEN, FakeSlack
from tests.handlers.conftest import refused_url

pytestmark = pytest.mark.usefixtures("secret_guard")

CSV = b"telefone;nome\n5511987654321;Ana\n"


@pytest.fixture
async def client(fake_slack: FakeSlack) -> AsyncIterator[AsyncWebClient]:
    """The bot's Web API client, pointed at the fake Slack, with its own session."""
    async with aiohttp.ClientSession() as session:
        yield AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.url + "api/", session=session)


async def test_a_csv_file_is_read_with_the_bot_token(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    """files.info, then url_private with the token as Bearer: the file's name and bytes."""
    info = fake_slack.add_file("clientes.csv", CSV)
    read = await read_csv_file(client, info["id"])
    assert read == SlackFile(info["id"], "clientes.csv", CSV)
    assert [c.params["file"] for c in fake_slack.called("files.info")] == [info["id"]]
    assert fake_slack.downloads == [(info["id"], True)]


async def test_a_file_that_is_not_csv_is_refused_unread(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    """A spreadsheet's own format is refused with a sentence naming the file; nothing downloaded."""
    info = fake_slack.add_file("clientes.xlsx", b"PK\x03\x04", filetype="xlsx")
    read = await read_csv_file(client, info["id"])
    assert read == FileRefused(FileProblem.NOT_CSV, name="clientes.xlsx")
    assert "clientes.xlsx" in refused_sentence(read)
    assert "CSV" in refused_sentence(read)
    assert fake_slack.downloads == []


async def test_a_file_too_big_is_refused_before_download(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    """A file whose size Slack gives as over the cap is refused without reading it."""
    info = fake_slack.add_file("big.csv", CSV)
    info["size"] = MAX_BYTES + 1
    read = await read_csv_file(client, info["id"])
    assert isinstance(read, FileRefused)
    assert read.problem is FileProblem.TOO_BIG
    assert "5 MB" in refused_sentence(read)
    assert fake_slack.downloads == []


async def test_bytes_past_the_cap_stop_the_download(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    """A file larger than its stated size is cut off at the cap and refused."""
    info = fake_slack.add_file("grows.csv", b"telefone\n" + b"5511987654321\n" * 100)
    read = await read_csv_file(client, info["id"], max_bytes=200)
    assert isinstance(read, FileRefused)
    assert read.problem is FileProblem.TOO_BIG


@pytest.mark.parametrize(
    ("error", "problem"),
    [("file_deleted", FileProblem.GONE), ("file_not_found", FileProblem.NOT_SHARED)],
)
async def test_a_file_gone_or_not_shared_is_said_so(
    fake_slack: FakeSlack, client: AsyncWebClient, error: str, problem: FileProblem
) -> None:
    """files.info's errors become a refusal with its own sentence; nothing is downloaded."""
    fake_slack.fail_next("files.info", error)
    read = await read_csv_file(client, "F0009")
    assert read == FileRefused(problem, error=error)
    assert refused_sentence(read).startswith(":no_entry:")
    assert fake_slack.downloads == []


async def test_a_file_not_shared_with_the_bot_is_not_found(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    """A file the bot may not see is refused as not shared."""
    info = fake_slack.add_file("private.csv", CSV, shared=False)
    read = await read_csv_file(client, info["id"])
    assert isinstance(read, FileRefused)
    assert read.problem is FileProblem.NOT_SHARED


async def test_the_token_goes_to_slack_hosts_only(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    """A file whose address is not on Slack's host is not fetched: the token stays home."""
    info = fake_slack.add_file("elsewhere.csv", CSV)
    info["url_private"] = info["url_private_download"] = "https://files.example.org/x.csv"
    read = await read_csv_file(client, info["id"])
    assert isinstance(read, FileRefused)
    assert read.problem is FileProblem.UNREADABLE
    assert fake_slack.downloads == []


async def test_a_failed_download_keeps_the_token_out_of_logs_and_errors(
    fake_slack: FakeSlack, client: AsyncWebClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A download whose connection is refused is a refusal naming no token, nor does any log line."""
    caplog.set_level(logging.DEBUG)
    info = fake_slack.add_file("down.csv", CSV)
    info["url_private_download"] = refused_url() + "/files-pri/x/down.csv"
    read = await read_csv_file(client, info["id"])
    assert isinstance(read, FileRefused)
    assert read.problem is FileProblem.UNREADABLE
    assert BOT_TOKEN not in repr(read)
    assert BOT_TOKEN not in refused_sentence(read)
    assert all(BOT_TOKEN not in record.getMessage() for record in caplog.records)
    assert any("could not be read" in record.getMessage() for record in caplog.records)
