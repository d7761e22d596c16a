"""Everything that can go wrong talking to Mobizon, as one exception tree.

Each error carries data: Mobizon's response ``code``, its own ``api_message`` (never matched
on), whether the call was a send (``sending``) and whether the SMS may have gone out anyway
(``outcome_unknown``); failures without a code carry a :class:`Problem` and its ``details``.
People read them worded by the Slack side's catalogue (``handlers.gateway_errors.describe``).
``str()`` is the same sentence in English, for logs and the operator. No error ever holds
the API key.

Our exception hierarchy (the refusals, ``MobizonApiError`` and its subclasses, and what each of
Mobizon's codes means are in :mod:`bot.mobizon._refusals`):

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

from collections.abc import Mapping

from bot.mobizon._problems import Problem

__all__ = [
    "MobizonCampaignDeleteUnknownError",
    "MobizonError",
    "MobizonGatewayError",
    "MobizonNetworkError",
    "MobizonTimeoutError",
]


_MAY_HAVE_BEEN_SENT = "The SMS may still have been sent: check its status before sending it again."
_NOT_SENT = "The SMS was not sent; try again in a minute."
_TRY_AGAIN = "Try again in a minute."


def with_period(text: str) -> str:
    """End ``text`` with sentence punctuation exactly once."""
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


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
        what = with_period(problem)
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
        what = with_period(problem)
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
            f"{with_period(problem)} Campaign {self.campaign_id} may or may not have been "
            "deleted: check it before trying again.",
            code=cause.code,
            outcome_unknown=True,
        )
