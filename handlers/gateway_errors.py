"""Mobizon's failures in words for people, from the data the gateway's exceptions carry.

The gateway (``bot/mobizon``) raises exceptions that hold data: the response ``code``,
Mobizon's own ``api_message`` (shown as Mobizon wrote it, never translated), which
:class:`~bot.mobizon.Problem` occurred with its ``details``, ``sending`` and
``outcome_unknown`` (whether the SMS may have gone out). :func:`describe` words them through
the sentence catalogue, in the active locale. Mobizon's own words in it are already
:func:`~handlers.mrkdwn.unformatted` (shown as typed); escape the whole before Slack renders it
(:func:`handlers.mrkdwn.escape`).
"""

from __future__ import annotations

from bot.mobizon import (
    MobizonAccessDeniedError,
    MobizonAccountBlockedError,
    MobizonApiError,
    MobizonAuthError,
    MobizonCampaignDeleteUnknownError,
    MobizonCampaignNotDeletableError,
    MobizonCampaignNotFoundError,
    MobizonError,
    MobizonGatewayError,
    MobizonLimitError,
    MobizonMalformedRequestError,
    MobizonNetworkError,
    MobizonNotFoundError,
    MobizonRateLimitedError,
    MobizonValidationError,
    MobizonWrongServerError,
    Problem,
)
from handlers.i18n import N_
from handlers.i18n import gettext as _
from handlers.mrkdwn import unformatted

__all__ = ["describe"]


def _with_period(text: str) -> str:
    """End ``text`` with sentence punctuation exactly once."""
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _said(api_message: str | None) -> str:
    """Mobizon's own words in brackets, as it wrote them, or nothing when it said nothing."""
    api_message = (api_message or "").strip().rstrip(".")
    shown = {"message": unformatted(api_message)}
    return _(" (Mobizon: %(message)s)") % shown if api_message else ""


def _closing(error: MobizonError) -> str:
    """Whether the SMS may have gone out, and what to do: the closing sentence."""
    if not error.sending:
        return _("Try again in a minute.")
    if error.outcome_unknown:
        return _("The SMS may still have been sent: check its status before sending it again.")
    return _("The SMS was not sent; try again in a minute.")


#: What each refusal means, by exception type (the most specific type first).
_SUMMARIES: tuple[tuple[type[MobizonApiError], str], ...] = (
    (
        MobizonNotFoundError,
        N_(
            "Mobizon found no such record, or this account has no access to it; check the "
            "message ids%(said)s."
        ),
    ),
    (
        MobizonAuthError,
        N_(
            "Mobizon refused the API key; whoever runs smsbot should check MOBIZON_API_KEY%(said)s."
        ),
    ),
    (
        MobizonAccessDeniedError,
        N_(
            "This Mobizon API key is not allowed to use this method; whoever runs smsbot should "
            "allow it in Mobizon's control panel%(said)s."
        ),
    ),
    (
        MobizonLimitError,
        N_(
            "Mobizon refused the request because a value is over its limit; "
            "ask for less at once (at most 100 message ids)%(said)s."
        ),
    ),
    (
        MobizonAccountBlockedError,
        N_(
            "The Mobizon account is blocked or deleted; whoever runs smsbot should contact Mobizon "
            "support%(said)s."
        ),
    ),
    (
        MobizonRateLimitedError,
        N_("Mobizon is getting too many requests right now; wait a minute and try again%(said)s."),
    ),
)

#: What codes 4, 5, 6 and 11 say was wrong with the request.
_MALFORMED: dict[int, str] = {
    4: N_("it names a module Mobizon does not have"),
    5: N_("it names a method Mobizon does not have"),
    6: N_("it asks for an output format Mobizon does not serve"),
    11: N_("required parameters are missing"),
}


def _validation(error: MobizonValidationError) -> str:
    """Mobizon's reasons field by field, as it wrote them."""
    parts = [
        f"{name}: {'; '.join(m.rstrip('.') for m in messages)}"
        if name
        else "; ".join(m.rstrip(".") for m in messages)
        for name, messages in error.fields.items()
    ]
    said = "; ".join(parts) or error.api_message.strip()
    reason = unformatted(said) if said else _("a parameter is wrong")
    sentence = (
        _("Mobizon refused the message: %(reason)s")
        if error.sending
        else _("Mobizon refused the request: %(reason)s")
    )
    return _with_period(sentence % {"reason": reason})


def _wrong_server(error: MobizonWrongServerError) -> str:
    if error.domain is None:
        return _(
            "This Mobizon account belongs to another API server; whoever runs smsbot should set "
            "MOBIZON_API_URL to the server shown in Mobizon's control panel%(said)s."
        ) % {"said": _said(error.api_message)}
    url = error.domain if "://" in error.domain else f"https://{error.domain}"
    return _(
        "This Mobizon account belongs to the API server %(domain)s; "
        "whoever runs smsbot should set MOBIZON_API_URL to %(url)s."
    ) % {"domain": unformatted(error.domain), "url": unformatted(url)}


def _refusal(error: MobizonApiError) -> str:  # noqa: PLR0911  # one return per kind of refusal
    """A refusal (an API code) in words, without the closing sentence."""
    said = _said(error.api_message)
    if isinstance(error, MobizonValidationError):
        return _validation(error)
    if isinstance(error, MobizonCampaignNotFoundError):
        return _with_period(
            _("Mobizon has no campaign %(campaign)s, or this account cannot see it%(said)s")
            % {"campaign": error.campaign_id, "said": said}
        )
    if isinstance(error, MobizonCampaignNotDeletableError):
        return _with_period(
            _(
                "Mobizon cannot delete campaign %(campaign)s any more: its sending has "
                "started or starts in less than 5 minutes%(said)s"
            )
            % {"campaign": error.campaign_id, "said": said}
        )
    if isinstance(error, MobizonMalformedRequestError):
        what = _MALFORMED.get(error.code or 0)
        return _(
            "Mobizon could not take the request: %(what)s%(said)s; "
            "whoever runs smsbot should report this smsbot problem."
        ) % {"what": _(what) if what else _("it is malformed"), "said": said}
    if isinstance(error, MobizonWrongServerError):
        return _wrong_server(error)
    for kind, summary in _SUMMARIES:
        if isinstance(error, kind):
            return _(summary) % {"said": said}
    return _("Mobizon refused the request%(said)s.") % {"said": said}


#: Each problem in words; its placeholders are named after the error's ``details``.
_PROBLEMS: dict[Problem, str] = {
    Problem.UNREACHABLE_NAME: N_(
        "Mobizon could not be reached: the name %(host)s could not be resolved "
        "(check MOBIZON_API_URL and the network)."
    ),
    Problem.UNREACHABLE_REFUSED: N_(
        "Mobizon could not be reached: %(host)s refused the connection."
    ),
    Problem.UNREACHABLE_TLS: N_(
        "Mobizon could not be reached: the secure connection to %(host)s failed."
    ),
    Problem.UNREACHABLE: N_("Mobizon could not be reached: the connection to %(host)s failed."),
    Problem.CONNECT_TIMEOUT: N_(
        "Mobizon could not be reached: no connection within %(seconds)s s."
    ),
    Problem.TIMEOUT: N_("Mobizon did not answer within %(seconds)s s."),
    Problem.DISCONNECTED: N_("Mobizon closed the connection before answering."),
    Problem.RESET: N_("The connection to Mobizon was reset."),
    Problem.CONNECTION_FAILED: N_("The connection to Mobizon failed (%(error_type)s)."),
    Problem.REDIRECT: N_(
        "Mobizon redirected the request (HTTP %(status)s); "
        "whoever runs smsbot should check MOBIZON_API_URL."
    ),
    Problem.HTTP_TOO_MANY: N_("Mobizon is getting too many requests right now (HTTP 429)."),
    Problem.HTTP_CLIENT_ERROR: N_(
        "Mobizon answered HTTP %(status)s instead of an API response; "
        "whoever runs smsbot should check MOBIZON_API_URL."
    ),
    Problem.HTTP_SERVER_ERROR: N_("Mobizon failed with HTTP %(status)s."),
    Problem.FAILURE_CODE: N_("Mobizon failed to handle the request (code %(code)s)."),
    Problem.EMPTY_ANSWER: N_("Mobizon's answer was empty."),
    Problem.UNREADABLE_ANSWER: N_("Mobizon's answer could not be read (cut off or not JSON)."),
    Problem.CUT_OFF: N_("Mobizon's answer was cut off."),
    Problem.UNREADABLE_SENT: N_("Mobizon accepted the SMS but its answer could not be read."),
    Problem.UNREADABLE_LIST: N_("Mobizon's list of messages could not be read."),
    Problem.UNREADABLE_BALANCE: N_("Mobizon's answer about the balance could not be read."),
    Problem.UNREADABLE_SENDER_NAMES: N_("Mobizon's list of sender names could not be read."),
    Problem.UNREADABLE_CAMPAIGN: N_("Mobizon's answer about the campaign could not be read."),
    Problem.UNREADABLE_STATUSES: N_("Mobizon's delivery statuses could not be read."),
}

#: The same problems when a detail more is known (the OS's reason, the redirect's target...).
_PROBLEMS_WITH: dict[tuple[Problem, str], str] = {
    (Problem.UNREACHABLE, "reason"): N_(
        "Mobizon could not be reached: the connection to %(host)s failed (%(reason)s)."
    ),
    (Problem.REDIRECT, "target"): N_(
        "Mobizon redirected the request to %(target)s (HTTP %(status)s); "
        "whoever runs smsbot should check MOBIZON_API_URL."
    ),
    (Problem.FAILURE_CODE, "message"): N_(
        "Mobizon failed to handle the request (code %(code)s: %(message)s)."
    ),
}


def _worded(error: MobizonNetworkError | MobizonGatewayError) -> str | None:
    """The problem of an outage, a broken connection or an unreadable answer; None without data."""
    # the details come from outside (a host, the OS's reason, a redirect's target): as typed
    values: dict[str, object] = {
        key: unformatted(value) if isinstance(value, str) else value
        for key, value in error.details.items()
    }
    if isinstance(error, MobizonGatewayError):
        values.setdefault("status", error.http_status)
        values["code"] = error.code
        values["message"] = unformatted((error.api_message or "").strip().rstrip("."))
    seconds = values.get("seconds")
    if isinstance(seconds, int | float):
        values["seconds"] = f"{seconds:g}"
    template = next(
        (
            text
            for (problem, detail), text in _PROBLEMS_WITH.items()
            if problem == error.problem and values.get(detail)
        ),
        _PROBLEMS.get(error.problem),
    )
    return _(template) % values if template else None


def _problem(error: MobizonError) -> str:
    """What went wrong, without the closing sentence."""
    if isinstance(error, MobizonApiError):
        return _refusal(error)
    found = None
    if isinstance(error, MobizonNetworkError | MobizonGatewayError):
        found = _worded(error)
    if found is not None:
        return found
    if isinstance(error, MobizonGatewayError):
        # Problem.OTHER: what the gateway knows still makes a sentence (Mobizon's words as written)
        said = unformatted((error.api_message or "").strip().rstrip("."))
        if error.code is not None:
            template = _PROBLEMS_WITH[Problem.FAILURE_CODE, "message"] if said else None
            template = template or _PROBLEMS[Problem.FAILURE_CODE]
            return _(template) % {"code": error.code, "message": said}
        if error.http_status is not None:
            return _("Mobizon answered HTTP %(status)s%(said)s.") % {
                "status": error.http_status,
                "said": _said(error.api_message),
            }
    # no data to word it from (Problem.OTHER): the gateway's English sentence, less its closing
    return unformatted(error.what_failed)


def describe(error: MobizonError) -> str:
    """One or two plain sentences saying what failed and what to do, in the active locale."""
    if isinstance(error, MobizonCampaignDeleteUnknownError):
        return _(
            "%(problem)s Campaign %(campaign)s may or may not have been deleted: "
            "check it before trying again."
        ) % {"problem": _problem(error.cause), "campaign": error.campaign_id}
    if isinstance(error, MobizonApiError):
        refusal = _refusal(error)
        if error.sending:
            return _("%(refusal)s The SMS was not sent.") % {"refusal": refusal}
        return refusal
    return _("%(problem)s %(closing)s") % {"problem": _problem(error), "closing": _closing(error)}
