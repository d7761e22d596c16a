"""The compose modal's submission read back: the SMS it asks for, or each field's error (pure).

The fields follow the ``/sms send`` grammar's rules for its options; the text is checked early,
with the send service's own check, so a refusal is a field error and the modal stays open.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.mobizon import OutgoingSms
from bot.sms.sending.campaign_types import CampaignOptions
from bot.sms.sending.gsm_spelling import NoPlainForm, spelt_to_send
from bot.sms.sending.placeholders import PlaceholderText
from bot.sms.sending.recipients import MissingPlaceholders
from bot.sms.sending.segments import TooLongError
from bot.sms.sending.text import ControlCharacterError, check_text
from handlers.campaign_answers import prepare_refused
from handlers.grammar.send import (  # one rule for both surfaces
    _check_name,
    _check_sender,
    _check_validity,
    schedule_problem,
    text_refused,
)
from handlers.grammar.templates import PLACEHOLDER, value_problem
from handlers.grammar.usage import UsageError
from handlers.grammar.words import SEND_OPTIONS
from handlers.i18n import gettext as _
from handlers.views import compose_text as say
from handlers.views.compose import (
    AT,
    CHANNEL,
    GSM,
    GSM_CHOSEN,
    NAME,
    PLACEHOLDER_PREFIX,
    SENDER,
    TEXT_ACTION,
    VALIDITY,
    ComposeMeta,
    action_id,
    text_block_id,
)
from handlers.views.compose_fields import Fields
from handlers.views.compose_recipients import ManyRecipients, read_recipients


@dataclass(frozen=True, slots=True)
class Submission:
    """A valid submission: the SMS to send and the channel to post it in."""

    sms: OutgoingSms
    channel_id: str | None


@dataclass(frozen=True, slots=True)
class ManySubmission:
    """A valid send to many: its text, where its recipients come from, its options and channel.

    The recipients are read (a file fetched from Slack) once the modal has closed.
    """

    text: str
    recipients: ManyRecipients
    options: CampaignOptions
    channel_id: str | None


def _check_values(filled: Mapping[str, str], errors: dict[str, str]) -> None:
    """An error on each placeholder's field whose value is missing or cannot be sent."""
    for name, value in filled.items():
        if PLACEHOLDER_PREFIX + name in errors:  # unreadable: said so
            continue
        problem = say.placeholder_missing(name) if not value.strip() else value_problem(name, value)
        if problem is not None:
            errors[PLACEHOLDER_PREFIX + name] = problem


def read_submission(
    view: Mapping[str, Any], *, default_region: str, now: datetime
) -> Submission | ManySubmission | dict[str, str]:
    """The SMS a submitted compose modal asks for, or the errors to show by block id.

    One number and no file is a :class:`Submission`; many numbers or a CSV file a
    :class:`ManySubmission`. ``now`` is aware, in the Mobizon account's zone: a chosen time is
    sent in that zone.
    """
    state = view.get("state")
    errors: dict[str, str] = {}
    fields = Fields(state.get("values") if isinstance(state, dict) else None, errors, action_id)
    meta = ComposeMeta.load(view.get("private_metadata"))
    recipient = read_recipients(
        fields,
        chosen_id=meta.file_id,
        chosen_name=meta.file_name,
        region=default_region,
        errors=errors,
    )
    text_id = text_block_id(view)
    text = fields.typed(text_id, TEXT_ACTION)
    filled = {
        b.removeprefix(PLACEHOLDER_PREFIX): fields.typed(b)
        for b in fields.values
        if b.startswith(PLACEHOLDER_PREFIX)
    }
    _check_values(filled, errors)
    if filled and not any(b.startswith(PLACEHOLDER_PREFIX) for b in errors):
        text = PLACEHOLDER.sub(lambda m: filled.get(m.group(1), m.group(0)), text)
    plain = GSM_CHOSEN in fields.ticked(GSM)  # "send without accents" ticked
    if text_id in errors:  # unreadable: said so
        pass
    elif not text.strip():
        errors[text_id] = _(say.TEXT_EMPTY)
    else:
        text = _without_accents(text, errors) if plain else text
        try:
            check_text(text)
        except (ControlCharacterError, TooLongError) as err:
            errors[text_id] = text_refused(err)
    sender = _checked(
        fields.typed(SENDER).strip(), SENDER, _check_sender, now, errors, option="from"
    )
    validity = _checked(
        fields.typed(VALIDITY).strip(), VALIDITY, _check_validity, now, errors, option="validity"
    )
    if VALIDITY in errors:
        # the form has no --validity option to quote: say what the field takes
        errors[VALIDITY] = _(say.VALIDITY_BAD)
    campaign = _checked(fields.typed(NAME).strip(), NAME, _check_name, now, errors, option="name")
    at = _read_at(fields.moment(AT), now, errors)
    channel = meta.channel_id
    if CHANNEL in fields.values:
        channel = fields.conversation(CHANNEL)
    if isinstance(recipient, ManyRecipients):
        options = CampaignOptions(
            sender=sender if isinstance(sender, str) else None,
            schedule=at,
            validity=validity if isinstance(validity, int) else None,
            name=campaign if isinstance(campaign, str) else None,
        )
        return _many(ManySubmission(text, recipient, options, channel), text_id, errors)
    if errors or recipient is None:
        return errors
    sms = OutgoingSms(
        recipient=recipient,
        text=text,
        sender=sender if isinstance(sender, str) else None,
        schedule=at,
        validity=validity if isinstance(validity, int) else None,
        campaign_name=campaign if isinstance(campaign, str) else None,
    )
    return Submission(sms, channel)


def _many(
    many: ManySubmission, text_id: str, errors: dict[str, str]
) -> ManySubmission | dict[str, str]:
    """A send to many, or the errors: a typed list cannot fill the text's placeholders."""
    unfilled = PlaceholderText.of(many.text).names
    if many.recipients.typed is not None and unfilled and text_id not in errors:
        errors[text_id] = prepare_refused(MissingPlaceholders(unfilled)) or ""
    return errors or many


def _without_accents(text: str, errors: dict[str, str]) -> str:
    """The GSM-7 spelling of ``text`` (itself when GSM-7), or an error on the checkbox.

    A text holding a control character is kept, for the text rule to refuse on the message.
    """
    spelt = spelt_to_send(text)
    if isinstance(spelt, NoPlainForm):
        errors[GSM] = say.no_plain_form(spelt.character)
        return text
    return spelt


def _checked(
    typed: str,
    block_id: str,
    check: Any,  # noqa: ANN401  # the grammar's option checks
    now: datetime,
    errors: dict[str, str],
    *,
    option: str,
) -> object:
    if not typed:
        return None
    try:
        return check(typed, now, SEND_OPTIONS.word(option))
    except UsageError as err:
        errors[block_id] = err.sentence
        return None


#: What the form says of each ``schedule_problem`` (English message ids of compose_text).
_SCHEDULE_PROBLEMS = {"past": say.AT_PAST, "soon": say.AT_TOO_SOON, "late": say.AT_TOO_LATE}


def _read_at(chosen: int | None, now: datetime, errors: dict[str, str]) -> datetime | None:
    if chosen is None:
        return None
    at = datetime.fromtimestamp(chosen, tz=UTC).astimezone(now.tzinfo)
    problem = schedule_problem(at, now)
    if problem is None:
        return at
    errors[AT] = _(_SCHEDULE_PROBLEMS[problem])
    return None
