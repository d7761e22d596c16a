"""Everything that can go wrong talking to Mobizon, as one exception tree.

Each error carries data: Mobizon's response ``code``, its own ``api_message`` (never matched
on), whether the call was a send (``sending``) and whether the SMS may have gone out anyway
(``outcome_unknown``); failures without a code carry a :class:`Problem` and its ``details``.
People read them worded by the Slack side's catalogue (``handlers.gateway_errors.describe``).
``str()`` is the same sentence in English, for logs and the operator. No error ever holds
the API key.

Our exception hierarchy:

* MobizonError
  + MobizonApiError - Mobizon understood the request and refused it (a non-zero code).
    - MobizonValidationError ....... code 1
    - MobizonNotFoundError ......... code 2
    - MobizonMalformedRequestError . codes 4, 5, 6 and 11
    - MobizonAuthError ............. code 8
    - MobizonAccessDeniedError ..... code 9
    - MobizonLimitError ............ code 12
    - MobizonWrongServerError ...... code 13
    - MobizonAccountBlockedError ... code 14
    - MobizonRateLimitedError ...... code 30
    - MobizonCampaignNotFoundError . code 2 of campaign/getInfo and campaign/delete
    - MobizonCampaignNotDeletableError  code 10 of campaign/delete
  + MobizonGatewayError - Mobizon failed: codes 3, 10, 15 and 999, any other code, HTTP 5xx,
    an error page, a redirect, or a body that is not Mobizon's JSON envelope.
  + MobizonNetworkError - the connection failed: refused, reset, DNS failure.
    - MobizonTimeoutError
  + MobizonCampaignDeleteUnknownError - campaign/delete failed in a way that leaves unknown
    whether the campaign was deleted (its ``cause`` is one of the errors above).

``MobizonGatewayError`` is deliberately *not* a ``MobizonApiError``, even when it carries
a code (3, 999, ...): those codes say Mobizon broke, not that it refused the request, so
they are handled like an outage (read calls retry them; a send's outcome is unknown).
Their ``code``, ``api_message`` and ``data`` are still there to read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from bot.mobizon.api_data import domain_of, fields_of, messages_of, redact_data
from bot.mobizon.problems import Problem
from bot.mobizon.redact import redact

__all__ = [
    "MobizonAccessDeniedError",
    "MobizonAccountBlockedError",
    "MobizonApiError",
    "MobizonAuthError",
    "MobizonCampaignDeleteUnknownError",
    "MobizonCampaignNotDeletableError",
    "MobizonCampaignNotFoundError",
    "MobizonError",
    "MobizonGatewayError",
    "MobizonLimitError",
    "MobizonMalformedRequestError",
    "MobizonNetworkError",
    "MobizonNotFoundError",
    "MobizonRateLimitedError",
    "MobizonTimeoutError",
    "MobizonValidationError",
    "MobizonWrongServerError",
    "Problem",
    "error_for",
    "is_insufficient_funds",
]


_MAY_HAVE_BEEN_SENT = "The SMS may still have been sent: check its status before sending it again."
_NOT_SENT = "The SMS was not sent; try again in a minute."
_TRY_AGAIN = "Try again in a minute."


def _with_period(text: str) -> str:
    """End ``text`` with sentence punctuation exactly once."""
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _quoted(api_message: str) -> str:
    """Mobizon's own words, for people, or nothing when it said nothing."""
    api_message = api_message.strip().rstrip(".")
    return f" (Mobizon: {api_message})" if api_message else ""


def _outcome(*, sending: bool, outcome_unknown: bool) -> str:
    """Say whether the SMS may have gone out, and what to do: the closing sentence."""
    if not sending:
        return _TRY_AGAIN
    return _MAY_HAVE_BEEN_SENT if outcome_unknown else _NOT_SENT


class MobizonError(Exception):
    """Catch this to handle every failure of a Mobizon call in one place.

    ``code`` is Mobizon's response code when it answered with one, else ``None``.
    ``outcome_unknown`` is True only for a send whose SMS may have gone out anyway.
    """

    def __init__(
        self,
        sentence: str,
        *,
        code: int | None = None,
        outcome_unknown: bool = False,
        sending: bool = False,
        what_failed: str | None = None,
    ) -> None:
        super().__init__(sentence)
        #: The sentence without its closing advice (whether to try again): what failed.
        self.what_failed = sentence if what_failed is None else what_failed
        self.code = code
        self.outcome_unknown = outcome_unknown
        #: True when the failed call was a send (``sendSmsMessage``).
        self.sending = sending

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={str(self)!r})"


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
        return _with_period(f"{self.summary}{_quoted(self.api_message)}")


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
        return _with_period(f"Mobizon refused {subject}: {reason}")


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
        return _with_period(
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


class MobizonGatewayError(MobizonError):
    """Catch this when Mobizon failed or answered something unreadable; often passes.

    ``http_status`` is the HTTP status when it matters; ``code``, ``api_message`` and
    ``data`` are set when Mobizon answered with a failure code such as 3 or 999.
    """

    def __init__(
        self,
        problem: str,
        *,
        code: int | None = None,
        api_message: str | None = None,
        data: object = None,
        http_status: int | None = None,
        sending: bool = False,
        outcome_unknown: bool = False,
        reason: Problem = Problem.OTHER,
        details: Mapping[str, object] | None = None,
    ) -> None:
        self.api_message = api_message
        self.data = data
        self.http_status = http_status
        self.problem = reason
        self.details: dict[str, object] = dict(details or {})
        outcome_unknown = sending and outcome_unknown
        what = _with_period(problem)
        sentence = f"{what} {_outcome(sending=sending, outcome_unknown=outcome_unknown)}"
        super().__init__(
            sentence,
            code=code,
            outcome_unknown=outcome_unknown,
            sending=sending,
            what_failed=what,
        )


class MobizonNetworkError(MobizonError):
    """Catch this when Mobizon could not be reached or the connection broke.

    ``never_sent`` is True only when the request provably never left this machine
    (the connection was never made: refused, DNS failure): only then is a send safe to repeat.
    """

    def __init__(
        self,
        problem: str,
        *,
        never_sent: bool,
        sending: bool = False,
        reason: Problem = Problem.OTHER,
        details: Mapping[str, object] | None = None,
    ) -> None:
        self.never_sent = never_sent
        self.problem = reason
        self.details: dict[str, object] = dict(details or {})
        outcome_unknown = sending and not never_sent
        what = _with_period(problem)
        sentence = f"{what} {_outcome(sending=sending, outcome_unknown=outcome_unknown)}"
        super().__init__(
            sentence, outcome_unknown=outcome_unknown, sending=sending, what_failed=what
        )


class MobizonTimeoutError(MobizonNetworkError):
    """Catch this when Mobizon did not answer in time (connect, exchange or call deadline).

    ``never_sent`` is True only when the deadline passed before the request left (waiting for a
    free lane, or between tries of a connection that was never made).
    """

    def __init__(
        self,
        problem: str,
        *,
        sending: bool = False,
        never_sent: bool = False,
        reason: Problem = Problem.TIMEOUT,
        details: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(
            problem, never_sent=never_sent, sending=sending, reason=reason, details=details
        )


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
        return _with_period(
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
        return _with_period(
            f"Mobizon cannot delete campaign {self.campaign_id} any more: its sending has "
            f"started or starts in less than 5 minutes{_quoted(self.api_message)}"
        )


class MobizonCampaignDeleteUnknownError(MobizonError):
    """Catch this when ``campaign/delete`` may or may not have deleted ``campaign_id``.

    The request left this machine but no readable answer came back (connection broken,
    timeout, HTTP 5xx, an unreadable body, or a failure code such as 3 or 999). It was not
    repeated. ``cause`` is the failure; ``campaign/getInfo`` (``is_deleted``) tells the truth.
    """

    def __init__(self, campaign_id: int, cause: MobizonError) -> None:
        self.campaign_id = campaign_id
        self.cause = cause
        problem = str(cause.args[0]) if cause.args else type(cause).__name__
        # the cause's closing sentence speaks of reads ("Try again in a minute."): drop it
        problem = problem.removesuffix(_TRY_AGAIN).strip()
        super().__init__(
            f"{_with_period(problem)} Campaign {self.campaign_id} may or may not have been "
            "deleted: check it before trying again.",
            code=cause.code,
            outcome_unknown=True,
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
