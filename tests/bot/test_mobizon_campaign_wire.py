"""The wire format of a send to many, as a capturing gateway sees it: forms out, answers in."""

from __future__ import annotations

import pytest

from bot.mobizon import (
    CampaignRecipient,
    MobizonGatewayError,
    NewCampaign,
    Problem,
    RecipientProblem,
)
from tests.bot.conftest import CaptureGateway, ClientFactory, Reply


async def test_a_plain_campaign_sends_only_its_type_and_text(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """Options left unset stay off the wire, as a single send's do; the id may be a string."""
    gateway.reply(Reply.envelope(0, "855834"))
    client = make_client(gateway.url)
    assert await client.create_campaign(NewCampaign(text="Oi")) == 855834
    assert gateway.requests[0].path == "/service/campaign/create"
    assert gateway.bodies("create") == [b"data%5Btype%5D=2&data%5Btext%5D=Oi"]


async def test_bulk_recipients_are_an_indexed_list(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """``recipients[0]=N``: never a bare key repeated, which a PHP server would collapse."""
    gateway.reply(Reply.envelope(0, []))
    client = make_client(gateway.url)
    recipients = [CampaignRecipient("551100"), CampaignRecipient("551101")]
    await client.add_campaign_recipients(7, recipients, template=False)
    assert gateway.bodies("addrecipients") == [
        b"id=7&recipients%5B0%5D=551100&recipients%5B1%5D=551101"
    ]


async def test_rows_are_read_in_every_known_shape(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """Ids as strings, rows as an object keyed by index, code 98, an unknown code as OTHER."""
    rows = {
        "0": {"recipient": "551100", "code": "0", "messageId": "6300284", "number": "551100"},
        "1": {"recipient": None, "code": 77, "messageId": None, "number": "x"},
    }
    gateway.reply(Reply.envelope(98, rows, "Not all added"))
    client = make_client(gateway.url)
    template = [CampaignRecipient("551100", {"nome": "Ana"}), CampaignRecipient("x")]
    answer = await client.add_campaign_recipients(7, template, template=True)
    assert [(row.message_id, row.code, row.problem) for row in answer] == [
        (6300284, 0, None),
        (None, 77, RecipientProblem.OTHER),
    ]


async def test_an_added_row_without_its_message_is_unreadable(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """A row said added but with no messageId cannot be tracked: a gateway error, not a row."""
    gateway.reply(Reply.envelope(0, [{"recipient": "551100", "code": 0, "messageId": None}]))
    client = make_client(gateway.url)
    with pytest.raises(MobizonGatewayError) as unreadable:
        await client.add_campaign_recipients(7, [CampaignRecipient("551100")], template=False)
    assert unreadable.value.problem == Problem.UNREADABLE_CAMPAIGN
    assert len(gateway.requests) == 1


async def test_oversized_requests_are_refused_before_sending(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """501 recipients, or one recipient whose values cannot fit, are a ValueError, no request."""
    client = make_client(gateway.url)
    with pytest.raises(ValueError, match="500"):
        await client.add_campaign_recipients(7, [CampaignRecipient("551100")] * 501, template=False)
    huge = CampaignRecipient("551100", {f"v{index}": "x" for index in range(999)})
    with pytest.raises(ValueError, match="too many values"):
        await client.add_recipients_in_chunks(7, [huge], template=True)
    assert gateway.requests == []


async def test_chunks_are_cut_where_1000_fields_would_pass(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """Three values a recipient: 249 a request (998 fields), in order, nothing left out."""
    client = make_client(gateway.url)
    values = {"a": "1", "b": "2", "c": "3"}
    rich = [CampaignRecipient(f"5511{index:09d}", values) for index in range(600)]
    await client.add_recipients_in_chunks(7, rich, template=True)
    bodies = gateway.bodies("addrecipients")
    counts = [body.count(b"%5Brecipient%5D=") for body in bodies]
    assert counts == [249, 249, 102]
    assert [body.count(b"&") + 1 for body in bodies] == [998, 998, 410]


async def test_send_answer_is_read_from_a_string(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """campaign/send's status, however Mobizon writes the number; 1 is moderation."""
    gateway.reply(Reply.envelope(0, "1"))
    client = make_client(gateway.url)
    sent = await client.send_campaign(855834)
    assert (sent.campaign_id, sent.status, sent.awaiting_moderation) == (855834, 1, True)
    assert gateway.bodies("send") == [b"id=855834"]
