"""Mobizon's wire format for sends to many: ``campaign/create``, ``addrecipients`` and ``send``.

The same rules as :mod:`bot.mobizon._wire`: form pairs out (``data[type]=3``,
``recipients[0][recipient]=...``), every known answer shape in. Recipients go as lists, at most
:data:`MAX_RECIPIENTS_PER_REQUEST` a request and never more than :data:`MAX_FORM_FIELDS` form
fields (Mobizon runs on PHP, whose ``max_input_vars`` is 1,000 by default):
:func:`recipient_chunks` cuts a list so.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import tzinfo

from bot.mobizon._campaign_types import AddedRecipient, CampaignRecipient, NewCampaign
from bot.mobizon._wire import (
    MalformedAnswerError,
    Pairs,
    _records,
    _required_int,
    _text,
    format_timestamp,
    parse_int,
)

__all__ = [
    "MAX_FORM_FIELDS",
    "MAX_RECIPIENTS_PER_REQUEST",
    "PLACEHOLDERS_REFUSE",
    "add_recipients_pairs",
    "create_pairs",
    "fields_of_request",
    "parse_added_rows",
    "parse_campaign_id",
    "parse_send_status",
    "recipient_chunks",
]

#: ``campaign/addrecipients`` refuses more recipients than this in one request.
MAX_RECIPIENTS_PER_REQUEST = 500
#: The most form fields one request carries (PHP's default ``max_input_vars``).
MAX_FORM_FIELDS = 1000
#: ``params[placeholdersFlag]=3``: a recipient missing a placeholder's value is refused
#: (code 20) rather than sent the text with the placeholder as typed.
PLACEHOLDERS_REFUSE = "3"
# id, and for a template params[placeholdersFlag]: the fields every request carries
_FIXED_FIELDS = 1
_TEMPLATE_FIXED_FIELDS = 2


def create_pairs(campaign: NewCampaign, zone: tzinfo | None = None) -> Pairs:
    """Form pairs of ``campaign/create``: only the options ``campaign`` sets."""
    pairs: Pairs = [("data[type]", str(int(campaign.type))), ("data[text]", campaign.text)]
    if campaign.sender is not None:
        pairs.append(("data[from]", campaign.sender))
    if campaign.name is not None:
        pairs.append(("data[name]", campaign.name))
    if campaign.schedule is not None:
        pairs.append(("data[deferredToTs]", format_timestamp(campaign.schedule, zone)))
    if campaign.validity is not None:
        pairs.append(("data[validity]", str(campaign.validity)))
    if campaign.flash:
        pairs.append(("data[mclass]", "0"))
    if campaign.shorten_links:
        pairs.append(("data[shortenLinks]", "1"))
    return pairs


def _fields(recipient: CampaignRecipient, *, template: bool) -> int:
    """How many form fields ``recipient`` takes in a request."""
    return 1 + len(recipient.values) if template else 1


def fields_of_request(recipients: Sequence[CampaignRecipient], *, template: bool) -> int:
    """How many form fields one ``addrecipients`` request for ``recipients`` carries."""
    fixed = _TEMPLATE_FIXED_FIELDS if template else _FIXED_FIELDS
    return fixed + sum(_fields(recipient, template=template) for recipient in recipients)


def recipient_chunks(
    recipients: Sequence[CampaignRecipient], *, template: bool
) -> Iterator[Sequence[CampaignRecipient]]:
    """Cut ``recipients`` into requests' worth, in order: at most 500 and 1,000 fields each.

    Raises ValueError for a recipient whose values alone would not fit in one request.
    """
    fixed = _TEMPLATE_FIXED_FIELDS if template else _FIXED_FIELDS
    start, fields = 0, fixed
    for index, recipient in enumerate(recipients):
        needed = _fields(recipient, template=template)
        if fixed + needed > MAX_FORM_FIELDS:
            raise ValueError(f"recipient {index} has too many values for one request")
        full = index - start >= MAX_RECIPIENTS_PER_REQUEST or fields + needed > MAX_FORM_FIELDS
        if full:
            yield recipients[start:index]
            start, fields = index, fixed
        fields += needed
    if start < len(recipients):
        yield recipients[start:]


def add_recipients_pairs(
    campaign_id: int, recipients: Sequence[CampaignRecipient], *, template: bool
) -> Pairs:
    """Form pairs of one ``campaign/addrecipients`` request of recipients as a list.

    A bulk campaign's are ``recipients[0]=N``; a template's ``recipients[0][recipient]=N`` and
    ``recipients[0][<placeholder>]=value``, with ``params[placeholdersFlag]=3``. Raises
    ValueError beyond 500 recipients or 1,000 fields (see :func:`recipient_chunks`).
    """
    if len(recipients) > MAX_RECIPIENTS_PER_REQUEST:
        raise ValueError(f"at most {MAX_RECIPIENTS_PER_REQUEST} recipients a request")
    if fields_of_request(recipients, template=template) > MAX_FORM_FIELDS:
        raise ValueError(f"at most {MAX_FORM_FIELDS} form fields a request")
    pairs: Pairs = [("id", str(campaign_id))]
    for index, recipient in enumerate(recipients):
        if not template:
            pairs.append((f"recipients[{index}]", recipient.number))
            continue
        pairs.append((f"recipients[{index}][recipient]", recipient.number))
        values = recipient.values.items()
        pairs += [(f"recipients[{index}][{name}]", value) for name, value in values]
    if template:
        pairs.append(("params[placeholdersFlag]", PLACEHOLDERS_REFUSE))
    return pairs


def parse_campaign_id(data: object) -> int:
    """Read the ``data`` of a successful ``campaign/create``: the new campaign's id."""
    if isinstance(data, Mapping):
        data = data.get("id", data.get("campaignId"))
    return _required_int(data, "id")


def parse_send_status(data: object) -> int:
    """Read the ``data`` of a successful ``campaign/send``: 1 moderation, 2 sending started."""
    if isinstance(data, Mapping):
        data = data.get("status")
    return _required_int(data, "status")


def _row(record: Mapping[str, object]) -> AddedRecipient:
    """One row of ``campaign/addrecipients``."""
    code = _required_int(record.get("code"), "code")
    try:
        message_id = parse_int(record.get("messageId"))
    except MalformedAnswerError:
        message_id = None
    return AddedRecipient(
        recipient=_text(record.get("recipient")),
        code=code,
        message_id=message_id if code == 0 else None,
        number=_text(record.get("number")),
    )


def parse_added_rows(data: object) -> list[AddedRecipient]:
    """Read the rows of ``campaign/addrecipients`` (codes 0, 98 and 99 carry them)."""
    rows = [_row(record) for record in _records(data, "recipients")]
    for row in rows:
        if row.code == 0 and row.message_id is None:
            raise MalformedAnswerError("an added recipient has no messageId")
    return rows
