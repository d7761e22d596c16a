"""A send to many from the compose modal: many numbers or a CSV file, acknowledged, then previewed."""

from __future__ import annotations

import json
from contextlib import closing
from typing import Any

import pytest

from bot.simulator import MobizonSimulator
from handlers.i18n import gettext as _
from handlers.views import compose_text as say
from storage.schema import open_database
from testkit.database import run_sql
from testkit.waiting import wait_until
from tests.conftest import BotHarness
from tests.handlers.compose_kit import message_shortcut, state, submit
from tests.handlers.conftest import block_texts, buttons, click, sends

pytestmark = pytest.mark.usefixtures("secret_guard")

NUMBER = "5511987654321"
#: Twelve numbers: more than SMSBOT_CONFIRM_ABOVE (10), so a preview comes first.
TWELVE = [f"55119876543{n:02d}" for n in range(10, 22)]
CSV = b"telefone;nome\n5511987654321;Ana\n5511912345678;Bruno\n"


async def open_modal(bot: BotHarness) -> dict[str, Any]:
    """Type ``/sms`` alone and return the modal Slack holds open."""
    assert await bot.command("") == (200, "")
    calls = await bot.slack.wait_for("views.open")
    return bot.slack.views[f"V{len(calls):04d}"]


def chosen(file_id: str) -> dict[str, Any]:
    """The file input's state once a file is chosen, as Slack sends it."""
    return {"type": "file_input", "files": [{"id": file_id, "name": "clientes.csv"}]}


async def preview(bot: BotHarness) -> dict[str, Any]:
    """The one preview posted privately to the asker after the modal closed."""
    (told,) = await bot.slack.wait_for("chat.postEphemeral")
    return told.params


def campaign_requests(sim: MobizonSimulator) -> list[str]:
    """The campaign methods the simulator received, in order."""
    return [r.method for r in sim.requests if r.method in {"create", "addrecipients", "send"}]


async def test_many_numbers_get_a_preview_in_the_channel(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """Twelve numbers, one per line: the modal closes, the asker sees a preview with its buttons."""
    view = await open_modal(bot)
    values = state(sms_phone="\n".join(TWELVE), sms_text="Your order is ready")
    assert await submit(bot, view, values) == (200, "")
    told = await preview(bot)
    assert (told["channel"], told["user"]) == ("C1", "U1")
    shown = buttons(told["blocks"])
    assert shown["campaign_confirm"]["text"]["text"] == "Send to 12"
    assert "campaign_cancel" in shown
    assert "Your order is ready" in block_texts(told["blocks"])
    assert sends(sim) == []
    assert campaign_requests(sim) == []


async def test_a_csv_file_with_placeholders_previews_the_first_text(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A file chosen in the form: read from Slack, previewed with the first row's text filled."""
    info = bot.slack.add_file("clientes.csv", CSV)
    view = await open_modal(bot)
    values = state(sms_file=chosen(info["id"]), sms_text="Olá {nome}, seu pedido chegou")
    assert await submit(bot, view, values) == (200, "")
    told = await preview(bot)
    text = block_texts(told["blocks"])
    assert "Olá Ana, seu pedido chegou" in text
    assert buttons(told["blocks"])["campaign_confirm"]["text"]["text"] == "Send to 2"
    assert bot.slack.downloads == [(info["id"], True)]
    assert campaign_requests(sim) == []


async def test_confirming_the_preview_sends_the_campaign(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """The "Send to N" button of the modal's preview creates, fills and sends one Mobizon campaign."""
    info = bot.slack.add_file("clientes.csv", CSV)
    view = await open_modal(bot)
    values = state(sms_file=chosen(info["id"]), sms_text="Olá {nome}")
    assert await submit(bot, view, values) == (200, "")
    told = await preview(bot)
    await click(bot, buttons(told["blocks"])["campaign_confirm"], channel="C1")
    confirmed, ran = await bot.slack.wait_for_responses(2)
    assert confirmed.params["text"] == ":outbox_tray: Confirmed: sending to 2 numbers…"
    assert ran.params["text"].startswith(":outbox_tray: Sending to 2 numbers…")
    assert campaign_requests(sim) == ["create", "addrecipients", "send"]
    (campaign,) = sim.bulk_campaigns.values()
    assert sorted(campaign.numbers) == ["5511912345678", "5511987654321"]
    assert sends(sim) == []


async def test_a_placeholder_no_column_fills_is_said_after_reading(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """A placeholder the file has no column for: the modal closed, a sentence names it."""
    info = bot.slack.add_file("clientes.csv", CSV)
    view = await open_modal(bot)
    values = state(sms_file=chosen(info["id"]), sms_text="Olá {apelido}")
    assert await submit(bot, view, values) == (200, "")
    told = await preview(bot)
    assert "blocks" not in told or not told["blocks"]
    assert "{apelido}" in told["text"]
    assert "nome" in told["text"]
    assert campaign_requests(sim) == []


async def test_a_file_that_is_not_csv_is_said_so(bot: BotHarness, sim: MobizonSimulator) -> None:
    """A spreadsheet's own format is refused in a sentence; nothing is downloaded or sent."""
    info = bot.slack.add_file("clientes.xlsx", b"PK\x03\x04", filetype="xlsx")
    view = await open_modal(bot)
    values = state(sms_file=chosen(info["id"]), sms_text="Olá")
    assert await submit(bot, view, values) == (200, "")
    told = await preview(bot)
    assert "clientes.xlsx" in told["text"]
    assert bot.slack.downloads == []
    assert campaign_requests(sim) == []


async def test_the_submission_is_acknowledged_before_the_file_is_read(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """The modal closes while Slack still holds files.info: the file is read after the ack."""
    info = bot.slack.add_file("clientes.csv", CSV)
    view = await open_modal(bot)
    bot.slack.held.add("files.info")
    values = state(sms_file=chosen(info["id"]), sms_text="Olá {nome}")
    assert await submit(bot, view, values) == (200, "")
    assert bot.slack.called("chat.postEphemeral") == []
    bot.slack.release_held()
    told = await preview(bot)
    assert "Send to 2" in json.dumps(told["blocks"])


@pytest.mark.parametrize(
    ("typed", "sentence"),
    [
        ({"sms_text": "hi"}, say.PHONE_OR_FILE_EMPTY),
        (
            {"sms_phone": NUMBER, "sms_file": chosen("F0001"), "sms_text": "hi"},
            say.NUMBERS_AND_FILE,
        ),
    ],
    ids=["neither", "both"],
)
async def test_numbers_or_a_file_is_a_field_error_before_closing(
    bot: BotHarness, sim: MobizonSimulator, typed: dict[str, Any], sentence: str
) -> None:
    """Neither numbers nor a file, or both: the number field says so and the modal stays open."""
    view = await open_modal(bot)
    status, body = await submit(bot, view, state(**typed))
    assert status == 200
    assert json.loads(body) == {"response_action": "errors", "errors": {"sms_phone": _(sentence)}}
    assert bot.slack.called("files.info") == []
    assert sends(sim) == []


async def test_a_list_cannot_fill_placeholders(bot: BotHarness, sim: MobizonSimulator) -> None:
    """A typed list with a placeholder in the text: a field error on the message, nothing sent."""
    view = await open_modal(bot)
    values = state(sms_phone=", ".join(TWELVE[:2]), sms_text="Olá {nome}")
    status, body = await submit(bot, view, values)
    assert status == 200
    errors = json.loads(body)["errors"]
    assert list(errors) == ["sms_text"]
    assert "{nome}" in errors["sms_text"]
    assert campaign_requests(sim) == []


async def test_one_number_is_still_a_single_send(bot: BotHarness, sim: MobizonSimulator) -> None:
    """One number and no file: one sendSmsMessage and its channel post, no preview, no campaign."""
    view = await open_modal(bot)
    assert await submit(bot, view, state(sms_phone=NUMBER + ",", sms_text="hi")) == (200, "")
    posted = await bot.slack.wait_for("chat.postMessage")
    assert posted[0].params["channel"] == "C1"
    assert len(sends(sim)) == 1
    assert bot.slack.called("chat.postEphemeral") == []
    assert campaign_requests(sim) == []


async def test_the_shortcut_on_a_message_with_a_csv_opens_the_modal_with_it(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """The "Send as SMS" shortcut on a message with a CSV: the modal names the file; submitted, it previews."""
    info = bot.slack.add_file("clientes.csv", CSV)
    files = [{"id": info["id"], "name": "clientes.csv", "filetype": "csv"}]
    assert await message_shortcut(bot, "Olá {nome}", files=files) == (200, "")
    await bot.slack.wait_for("views.open")
    view = bot.slack.views["V0001"]
    meta = json.loads(view["private_metadata"])
    assert meta["channel"] == "C7"
    assert meta["file"]["id"] == info["id"]
    note = next(b for b in view["blocks"] if b.get("block_id") == "sms_file_note")
    assert "clientes.csv" in block_texts([note])
    assert await submit(bot, view, state(sms_text="Olá {nome}")) == (200, "")
    told = await preview(bot)
    assert told["channel"] == "C7"
    assert "Olá Ana" in block_texts(told["blocks"])


@pytest.mark.parametrize(
    "files",
    [
        [{"id": "F0042", "name": "photo.png", "filetype": "png"}],
        [{"id": "not an id", "name": "x.csv", "filetype": "csv"}, "F0043"],
    ],
    ids=["an-image", "unreadable"],
)
async def test_the_shortcut_on_a_message_without_a_csv_is_unchanged(
    bot: BotHarness, files: list[Any]
) -> None:
    """A message with no CSV file it can read opens the modal as before: no file chosen."""
    assert await message_shortcut(bot, "hello", files=files) == (200, "")
    await bot.slack.wait_for("views.open")
    view = bot.slack.views["V0001"]
    assert json.loads(view["private_metadata"]) == {"channel": "C7", "surface": "message_shortcut"}
    assert all(b.get("block_id") != "sms_file_note" for b in view["blocks"])


async def test_a_submission_slack_delivers_twice_previews_once(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """The same view submitted twice: one campaign prepared, one preview, nothing more said."""
    info = bot.slack.add_file("clientes.csv", CSV)
    view = await open_modal(bot)
    values = state(sms_file=chosen(info["id"]), sms_text="Olá {nome}")
    assert await submit(bot, view, values) == (200, "")
    await preview(bot)
    assert await submit(bot, view, values) == (200, "")
    await bot.slack.wait_for("files.info", 2)
    inflight = bot.runtime.inflight
    await wait_until(lambda: not inflight.tasks, what="the second submission's listener")
    assert len(bot.slack.called("chat.postEphemeral")) == 1
    with closing(open_database(bot.settings.db_path)) as db:
        assert len(run_sql(db, "SELECT id FROM campaigns")) == 1


async def test_a_file_chosen_in_the_form_replaces_the_messages(
    bot: BotHarness, sim: MobizonSimulator
) -> None:
    """After the shortcut chose a message's file, a file chosen in the form is the one read."""
    first = bot.slack.add_file("antigo.csv", CSV)
    second = bot.slack.add_file("novo.csv", b"telefone,nome\n5511955554444,Carla\n")
    files = [{"id": first["id"], "name": "antigo.csv", "filetype": "csv"}]
    assert await message_shortcut(bot, "Olá {nome}", files=files) == (200, "")
    await bot.slack.wait_for("views.open")
    view = bot.slack.views["V0001"]
    values = state(sms_file=chosen(second["id"]), sms_text="Olá {nome}")
    assert await submit(bot, view, values) == (200, "")
    told = await preview(bot)
    assert "Olá Carla" in block_texts(told["blocks"])
    assert bot.slack.downloads == [(second["id"], True)]
