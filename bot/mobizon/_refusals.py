"""Mobizon refused the request: a non-zero response code, and the exception each code means.

``MobizonApiError`` and its subclasses (their place in the tree is drawn in
:mod:`bot.mobizon._errors`), the campaign refusals of ``campaign/getInfo`` and ``campaign/delete``,
:func:`error_for` (one code to its exception) and :func:`is_insufficient_funds`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from bot.mobizon._api_data import domain_of, fields_of, messages_of, redact_data
from bot.mobizon._errors import MobizonError, MobizonGatewayError, with_period
from bot.mobizon._problems import Problem
from bot.mobizon._redact import redact

__all__ = [
    "MobizonAccessDeniedError",
    "MobizonAccountBlockedError",
    "MobizonApiError",
    "MobizonAuthError",
    "MobizonCampaignNotDeletableError",
    "MobizonCampaignNotFoundError",
    "MobizonLimitError",
    "MobizonMalformedRequestError",
    "MobizonNotFoundError",
    "MobizonRateLimitedError",
    "MobizonValidationError",
    "MobizonWrongServerError",
    "error_for",
    "is_insufficient_funds",
]


def _quoted(api_message: str) -> str:
    """Mobizon's own words, for people, or nothing when it said nothing."""
    api_message = api_message.strip().rstrip(".")
    return f" (Mobizon: {api_message})" if api_message else ""


class MobizonApiError(MobizonError):
    """Catch this when Mobizon refused the request: sending it again unchanged won't help.

    ``api_message`` is Mobizon's localized text; ``data`` is its ``data`` as received.
    """

    #: What the error means, as the start of the sentence; subclasses say more.
    summary: ClassVar[str] = "Mobizon refused the request"

    def __init__(self, code: int, api_message: str, data: object, *, sending: bool = False) -> None:
        self.api_message = api_message
        self.data = data
        self.code = code
        sentence = self._describe(sending=sending)
        if sending:
            sentence = f"{sentence} The SMS was not sent."
        super().__init__(sentence, code=code, sending=sending)

    def _describe(self, *, sending: bool) -> str:  # noqa: ARG002 - subclasses use it
        """Build the sentence people read."""
        return with_period(f"{self.summary}{_quoted(self.api_message)}")


class MobizonValidationError(MobizonApiError):
    """Catch this when Mobizon said a parameter is wrong; ``fields`` says which and why."""

    def __init__(self, code: int, api_message: str, data: object, *, sending: bool = False) -> None:
        self.fields: dict[str, list[str]] = fields_of(data)
        super().__init__(code, api_message, data, sending=sending)

    def _describe(self, *, sending: bool) -> str:
        subject = "the message" if sending else "the request"
        parts = [
            f"{name}: {'; '.join(m.rstrip('.') for m in messages)}"
            if name
            else "; ".join(m.rstrip(".") for m in messages)
            for name, messages in self.fields.items()
        ]
        reason = "; ".join(parts) or self.api_message.strip() or "a parameter is wrong"
        return with_period(f"Mobizon refused {subject}: {reason}")


class MobizonNotFoundError(MobizonApiError):
    """Catch this when Mobizon found nothing for the given ids, or this account can't see them."""

    summary = (
        "Mobizon found no such record, or this account has no access to it; check the message ids"
    )


#: What codes 4, 5, 6 and 11 say was wrong with the request.
_MALFORMED: dict[int, str] = {
    4: "it names a module Mobizon does not have",
    5: "it names a method Mobizon does not have",
    6: "it asks for an output format Mobizon does not serve",
    11: "required parameters are missing",
}


class MobizonMalformedRequestError(MobizonApiError):
    """Catch this when Mobizon could not take the request as made (codes 4, 5, 6, 11).

    The request was malformed or incomplete, so Mobizon did nothing with it: a send was not
    sent, and asking again unchanged gets the same answer. A bug on smsbot's side, or a
    Mobizon API change: whoever runs smsbot should report it.
    """

    def _describe(self, *, sending: bool) -> str:  # noqa: ARG002 - same signature as the base
        what = _MALFORMED.get(self.code or 0, "it is malformed")
        return with_period(
            f"Mobizon could not take the request: {what}{_quoted(self.api_message)}; "
            "whoever runs smsbot should report this smsbot problem"
        )


class MobizonAuthError(MobizonApiError):
    """Catch this when Mobizon refused the API key (bad, expired or revoked)."""

    summary = "Mobizon refused the API key; whoever runs smsbot should check MOBIZON_API_KEY"


class MobizonAccessDeniedError(MobizonApiError):
    """Catch this when the API key may not call this Mobizon method."""

    summary = (
        "This Mobizon API key is not allowed to use this method; whoever runs smsbot should "
        "allow it in Mobizon's control panel"
    )


class MobizonLimitError(MobizonApiError):
    """Catch this when a parameter broke one of Mobizon's limits (e.g. over 100 ids)."""

    summary = (
        "Mobizon refused the request because a value is over its limit; "
        "ask for less at once (at most 100 message ids)"
    )


class MobizonWrongServerError(MobizonApiError):
    """Catch this when the account belongs to another Mobizon server; ``domain`` names it."""

    def __init__(self, code: int, api_message: str, data: object, *, sending: bool = False) -> None:
        self.domain: str | None = domain_of(data)
        super().__init__(code, api_message, data, sending=sending)

    def _describe(self, *, sending: bool) -> str:  # noqa: ARG002 - same signature as the base
        if self.domain is None:
            return (
                "This Mobizon account belongs to another API server; whoever runs smsbot "
                "should set MOBIZON_API_URL to the server shown in Mobizon's control panel"
                f"{_quoted(self.api_message)}."
            )
        url = self.domain if "://" in self.domain else f"https://{self.domain}"
        return (
            f"This Mobizon account belongs to the API server {self.domain}; "
            f"whoever runs smsbot should set MOBIZON_API_URL to {url}."
        )


class MobizonAccountBlockedError(MobizonApiError):
    """Catch this when the Mobizon account is blocked or deleted."""

    summary = (
        "The Mobizon account is blocked or deleted; whoever runs smsbot should contact "
        "Mobizon support"
    )


class MobizonRateLimitedError(MobizonApiError):
    """Catch this when Mobizon asks to slow down; wait and try again."""

    summary = "Mobizon is getting too many requests right now; wait a minute and try again"


class MobizonCampaignNotFoundError(MobizonNotFoundError):
    """Catch this when Mobizon knows no campaign ``campaign_id`` (or it is deleted, or not ours).

    Code 2 of ``campaign/getInfo`` and ``campaign/delete``; ``api_message`` is Mobizon's text.
    """

    def __init__(
        self, campaign_id: int, code: int = 2, api_message: str = "", data: object = None
    ) -> None:
        self.campaign_id = campaign_id
        super().__init__(code, api_message, data)

    def _describe(self, *, sending: bool) -> str:  # noqa: ARG002 - same signature as the base
        return with_period(
            f"Mobizon has no campaign {self.campaign_id}, or this account cannot see it"
            f"{_quoted(self.api_message)}"
        )


class MobizonCampaignNotDeletableError(MobizonApiError):
    """Catch this when Mobizon refused to delete campaign ``campaign_id`` (code 10).

    Mobizon deletes a campaign only before sending starts, and a scheduled one only until
    5 minutes before its start: too late, already sending or sent. Nothing was deleted.
    """

    def __init__(
        self, campaign_id: int, code: int = 10, api_message: str = "", data: object = None
    ) -> None:
        self.campaign_id = campaign_id
        super().__init__(code, api_message, data)

    def _describe(self, *, sending: bool) -> str:  # noqa: ARG002 - same signature as the base
        return with_period(
            f"Mobizon cannot delete campaign {self.campaign_id} any more: its sending has "
            f"started or starts in less than 5 minutes{_quoted(self.api_message)}"
        )


# Mobizon documents no code for a send the balance cannot pay for; these are the words its
# localized ``message`` is likely to use (English, Portuguese, Russian, Ukrainian).
_INSUFFICIENT_FUNDS = (
    "insufficient funds",
    "insufficient balance",
    "not enough funds",
    "not enough money",
    "not enough balance",
    "low balance",
    "saldo insuficiente",
    "sem saldo",
    "недостаточно средств",
    "недостаточно денег",
    "недостатньо коштів",
)


def is_insufficient_funds(error: MobizonError) -> bool:
    """Tell whether Mobizon's words say the balance could not pay (a guess from its text).

    No code is documented for it, so this reads ``api_message`` (and ``data``'s texts) in
    the languages Mobizon answers in. False means "not recognised", not "not that": show
    Mobizon's own words then.
    """
    api_message = getattr(error, "api_message", None)
    texts = [api_message or "", *messages_of(getattr(error, "data", None))]
    said = " ".join(texts).casefold()
    return any(phrase in said for phrase in _INSUFFICIENT_FUNDS)


_API_ERRORS: dict[int, type[MobizonApiError]] = {
    1: MobizonValidationError,
    2: MobizonNotFoundError,
    4: MobizonMalformedRequestError,
    5: MobizonMalformedRequestError,
    6: MobizonMalformedRequestError,
    8: MobizonAuthError,
    9: MobizonAccessDeniedError,
    11: MobizonMalformedRequestError,
    12: MobizonLimitError,
    13: MobizonWrongServerError,
    14: MobizonAccountBlockedError,
    30: MobizonRateLimitedError,
}


def error_for(
    code: int,
    message: str,
    data: object,
    *,
    sending: bool = False,
    secrets: Iterable[str] = (),
) -> MobizonError:
    """Map one non-zero Mobizon response code to its exception.

    ``sending`` is True for ``sendSmsMessage``: the sentence then speaks of the SMS, and a
    gateway failure (3, 999, or an undocumented code) leaves the outcome unknown. Every secret
    in ``secrets`` (the API key) is removed from ``message`` and from ``data`` (code 1's ``data``
    can echo the request's fields back) before either reaches a sentence or an attribute.
    """
    if code == 0:
        raise ValueError("code 0 is Mobizon's success, not an error")
    secrets = list(secrets)
    message = redact(message, secrets)
    data = redact_data(data, secrets)
    error_class = _API_ERRORS.get(code)
    if error_class is not None:
        return error_class(code, message, data, sending=sending)
    said = message.strip().rstrip(".")
    detail = f"code {code}: {said}" if said else f"code {code}"
    return MobizonGatewayError(
        f"Mobizon failed to handle the request ({detail})",
        code=code,
        api_message=message,
        data=data,
        sending=sending,
        outcome_unknown=True,
        reason=Problem.FAILURE_CODE,
    )
