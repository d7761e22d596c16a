"""The wire format of a send to many: campaign forms out, recipient rows in, requests cut to size."""

from __future__ import annotations

import pytest

from bot.mobizon import CampaignRecipient, NewCampaign, RecipientProblem
from bot.mobizon._campaign_wire import (
    add_recipients_pairs,
    create_pairs,
    fields_of_request,
    parse_added_rows,
    parse_campaign_id,
    parse_send_status,
    recipient_chunks,
)
from bot.mobizon._wire import MalformedAnswerError, encode_form


def test_a_plain_campaign_sends_only_its_type_and_text() -> None:
    """Options left unset stay off the wire, as a single send's do."""
    assert create_pairs(NewCampaign(text="Oi")) == [("data[type]", "2"), ("data[text]", "Oi")]


def test_bulk_recipients_are_an_indexed_list() -> None:
    """``recipients[0]=N``: never a bare key repeated, which a PHP server would collapse."""
    pairs = add_recipients_pairs(
        7, [CampaignRecipient("551100"), CampaignRecipient("551101")], template=False
    )
    assert encode_form(pairs) == b"id=7&recipients%5B0%5D=551100&recipients%5B1%5D=551101"


def test_template_recipients_carry_their_values_and_refuse_missing_ones() -> None:
    """Each recipient is a map of its number and values; placeholdersFlag 3 refuses a gap."""
    pairs = add_recipients_pairs(7, [CampaignRecipient("551100", {"nome": "Ana"})], template=True)
    assert pairs == [
        ("id", "7"),
        ("recipients[0][recipient]", "551100"),
        ("recipients[0][nome]", "Ana"),
        ("params[placeholdersFlag]", "3"),
    ]


def test_chunks_hold_at_most_500_recipients_and_1000_fields() -> None:
    """Plain lists cut at 500; three values a recipient cut where 1,000 fields would pass."""
    plain = [CampaignRecipient(f"5511{index:09d}") for index in range(1001)]
    assert [len(chunk) for chunk in recipient_chunks(plain, template=False)] == [500, 500, 1]
    values = {"a": "1", "b": "2", "c": "3"}
    rich = [CampaignRecipient(f"5511{index:09d}", values) for index in range(600)]
    chunks = list(recipient_chunks(rich, template=True))
    assert [len(chunk) for chunk in chunks] == [249, 249, 102]
    assert all(fields_of_request(chunk, template=True) <= 1000 for chunk in chunks)
    assert [recipient for chunk in chunks for recipient in chunk] == rich


def test_oversized_requests_are_refused_before_sending() -> None:
    """501 recipients, or one recipient whose values cannot fit, are a ValueError."""
    with pytest.raises(ValueError, match="500"):
        add_recipients_pairs(7, [CampaignRecipient("551100")] * 501, template=False)
    huge = CampaignRecipient("551100", {f"v{index}": "x" for index in range(999)})
    with pytest.raises(ValueError, match="too many values"):
        list(recipient_chunks([huge], template=True))


def test_rows_are_read_in_every_known_shape() -> None:
    """Ids as strings, rows as an object keyed by index, unknown codes kept as OTHER."""
    rows = parse_added_rows(
        {
            "0": {"recipient": "551100", "code": "0", "messageId": "6300284", "number": "551100"},
            "1": {"recipient": None, "code": 77, "messageId": None, "number": "x"},
        }
    )
    assert [(row.message_id, row.code, row.problem) for row in rows] == [
        (6300284, 0, None),
        (None, 77, RecipientProblem.OTHER),
    ]
    with pytest.raises(MalformedAnswerError):
        parse_added_rows([{"recipient": "551100", "code": 0, "messageId": None}])


def test_create_and_send_answers_are_read_from_strings_or_numbers() -> None:
    """The new campaign's id and the send's status, however Mobizon writes the number."""
    assert (parse_campaign_id("855834"), parse_campaign_id(855834)) == (855834, 855834)
    assert (parse_send_status(1), parse_send_status("2")) == (1, 2)
    with pytest.raises(MalformedAnswerError):
        parse_campaign_id(None)
