"""Start-up checks: whether Slack takes the bot token and Mobizon the key (and which Mobizon).

``smsbot serve`` runs them before it opens anything and ``smsbot check`` prints them. Each check
has a short deadline and both run at once. A refusal names the setting to fix; a check that could
not be made (no connection, a timeout, a 5xx) is only "not confirmed". No sentence holds a secret.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from yarl import URL

from bot.mobizon import (
    MobizonAccountBlockedError,
    MobizonAuthError,
    MobizonClient,
    MobizonError,
    MobizonGatewayError,
    MobizonWrongServerError,
    Problem,
    RetryPolicy,
    Timeouts,
)
from bot.process.environment import DEFAULT_SLACK_API_URL
from storage.url import DatabaseUrl

if TYPE_CHECKING:
    from bot.mobizon import Balance
    from bot.process.settings import Settings

#: Seconds each check may take: start-up (and /healthz readiness) waits at most this long.
CHECK_DEADLINE = 5.0

#: auth.test errors that mean the token itself is refused (Slack's documented token errors).
_TOKEN_REFUSED = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
        "no_permission",
        "team_access_not_granted",
        "org_login_required",
    }
)
#: Answers of a server that does not speak the API it was set as (a wrong URL, not an outage).
_NOT_THE_API = frozenset(
    {Problem.REDIRECT, Problem.HTTP_CLIENT_ERROR, Problem.EMPTY_ANSWER, Problem.UNREADABLE_ANSWER}
)
_HTTP_SERVER_ERROR = 500
_HTTP_TOO_MANY_REQUESTS = 429
_SLACK_ERROR = re.compile(r"[a-z0-9_.]{1,60}")


class Outcome(StrEnum):
    """How a check ended."""

    OK = "ok"
    #: A setting is wrong: ``serve`` stops (exit 2).
    REFUSED = "refused"
    #: The check could not be made (network, timeout, an outage): ``serve`` warns and goes on.
    UNCONFIRMED = "not confirmed"
    #: Nothing to check (the sandbox has no Mobizon key).
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Finding:
    """One check's result: what was checked, how it ended, and a sentence saying so."""

    subject: str
    outcome: Outcome
    sentence: str
    #: What the check found, for logs (team and bot, balance and currency); never a secret.
    found: dict[str, str] = field(default_factory=dict)


def origin(url: str) -> str:
    """The scheme, host and port of ``url``: what it talks to, without path or credentials."""
    return str(URL(url).origin())


def plain(text: object, limit: int = 80) -> str:
    """Outside text made safe for a terminal line: no control characters, at most ``limit``."""
    cleaned = "".join(ch for ch in str(text) if unicodedata.category(ch)[0] != "C")
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


async def run_checks(
    settings: Settings, *, deadline: float = CHECK_DEADLINE
) -> tuple[Finding, Finding]:
    """Check the Slack token and the Mobizon key at once, each within ``deadline`` seconds."""
    slack, mobizon = await asyncio.gather(
        check_slack(settings, deadline=deadline), check_mobizon(settings, deadline=deadline)
    )
    return slack, mobizon


async def check_slack(settings: Settings, *, deadline: float = CHECK_DEADLINE) -> Finding:
    """Ask Slack's ``auth.test`` whether it takes ``SLACK_BOT_TOKEN``."""
    subject = "Slack token"
    where = origin(settings.slack_api_url)
    try:
        async with aiohttp.ClientSession() as session, asyncio.timeout(deadline):
            client = AsyncWebClient(
                token=settings.slack_bot_token,
                base_url=settings.slack_api_url,
                session=session,
                retry_handlers=[],  # one attempt: the deadline is short
            )
            answer = await client.auth_test()
    except SlackApiError as error:
        return _slack_refusal(subject, settings.slack_api_url, error)
    except TimeoutError:
        sentence = f"Slack ({where}) did not answer auth.test within {deadline:g} s"
        return Finding(subject, Outcome.UNCONFIRMED, sentence)
    except (aiohttp.ClientError, OSError) as error:
        # by type only: aiohttp's own text can carry the URL
        sentence = f"Slack could not be reached at {where} ({type(error).__name__})"
        return Finding(subject, Outcome.UNCONFIRMED, sentence)
    found = {
        "bot": plain(answer.get("user") or "?", 40),
        "team": plain(answer.get("team") or "?", 60),
        "team_id": plain(answer.get("team_id") or "?", 20),
    }
    sentence = (
        f"Slack accepted SLACK_BOT_TOKEN: bot {found['bot']} in workspace "
        f"{found['team']} ({found['team_id']})"
    )
    return Finding(subject, Outcome.OK, sentence, found)


def _slack_refusal(subject: str, api_url: str, error: SlackApiError) -> Finding:
    """Judge a failed auth.test: the token refused, a wrong SLACK_API_URL, or an outage."""
    where = origin(api_url)
    response = error.response
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    data = getattr(response, "data", None)
    said = data.get("error") if isinstance(data, dict) else None
    if isinstance(said, str):
        code = said if _SLACK_ERROR.fullmatch(said) else "an unexpected error"
        if said in _TOKEN_REFUSED:
            sentence = (
                f"Slack refused SLACK_BOT_TOKEN ({code}): copy the Bot User OAuth Token (xoxb-…) "
                "again from the Slack app's Install App page (reinstalling the app changes it)"
            )
            return Finding(subject, Outcome.REFUSED, sentence)
        sentence = f"Slack answered auth.test with {code}"
        return Finding(subject, Outcome.UNCONFIRMED, sentence)
    if isinstance(status, int) and (
        status >= _HTTP_SERVER_ERROR or status == _HTTP_TOO_MANY_REQUESTS
    ):
        sentence = f"Slack ({where}) failed with HTTP {status}"
        return Finding(subject, Outcome.UNCONFIRMED, sentence)
    sentence = f"{where} does not answer as Slack's Web API (HTTP {status}): " + check_api_url(
        api_url
    )
    return Finding(subject, Outcome.REFUSED, sentence)


def check_api_url(api_url: str) -> str:
    """The advice about SLACK_API_URL when ``api_url`` does not answer as Slack.

    Names the origin it is set to (never its path or credentials), or says it is Slack's own.
    """
    if api_url == DEFAULT_SLACK_API_URL:
        # unset or set to this: either way it is Slack's own
        return f"check SLACK_API_URL (it is Slack's own, {DEFAULT_SLACK_API_URL})"
    return f"check SLACK_API_URL (set to {origin(api_url)}; unset, it is {DEFAULT_SLACK_API_URL})"


async def check_mobizon(settings: Settings, *, deadline: float = CHECK_DEADLINE) -> Finding:
    """Ask Mobizon's ``user/getownbalance`` whether it takes ``MOBIZON_API_KEY`` (live only)."""
    subject = "Mobizon key"
    if settings.sandbox:
        sentence = "the sandbox reads no MOBIZON_API_KEY"
        return Finding(subject, Outcome.SKIPPED, sentence)
    where = origin(settings.mobizon_api_url)
    client = MobizonClient(
        settings.mobizon_api_key or "",
        base_url=settings.mobizon_api_url,
        timeouts=Timeouts(connect=deadline, total=deadline, deadline=deadline),
        retry=RetryPolicy(attempts=1),  # one attempt: the deadline is short
        timezone=settings.mobizon_timezone,
    )
    try:
        async with client, asyncio.timeout(deadline):
            balance = await client.get_balance()
    except MobizonError as error:
        return _mobizon_refusal(subject, where, error)
    except TimeoutError:
        sentence = f"Mobizon ({where}) did not answer within {deadline:g} s"
        return Finding(subject, Outcome.UNCONFIRMED, sentence)
    return _balance_found(subject, balance)


def _balance_found(subject: str, balance: Balance) -> Finding:
    # the gateway reads a currency only when it is shaped like an ISO code
    found = {"balance": str(balance.amount), "currency": balance.currency or ""}
    amount = f"{found['balance']} {found['currency']}".strip()
    sentence = f"Mobizon accepted MOBIZON_API_KEY: balance {amount}"
    return Finding(subject, Outcome.OK, sentence, found)


def _mobizon_refusal(subject: str, where: str, error: MobizonError) -> Finding:
    """Judge a failed balance read: the key refused, a wrong MOBIZON_API_URL, or an outage."""
    refused: str | None = None
    if isinstance(error, MobizonAuthError):
        refused = (
            f"Mobizon ({where}) refused MOBIZON_API_KEY (code 8): copy the key again from "
            "Mobizon's panel (Settings → API); a revoked key stops working"
        )
    elif isinstance(error, MobizonAccountBlockedError):
        refused = (
            f"Mobizon ({where}) says the account of MOBIZON_API_KEY is blocked or deleted "
            "(code 14): contact Mobizon support"
        )
    elif isinstance(error, MobizonWrongServerError):
        domain = plain(error.domain, 60) if error.domain else None
        target = f"https://{domain}" if domain and "://" not in domain else domain
        server = target or "the server Mobizon's panel shows"
        refused = (
            f"Mobizon ({where}) says MOBIZON_API_KEY belongs to another API server (code 13): "
            f"set MOBIZON_API_URL to {server}"
        )
    elif isinstance(error, MobizonGatewayError) and error.problem in _NOT_THE_API:
        status = f" (HTTP {error.http_status})" if error.http_status else ""
        refused = (
            f"{where} does not answer as Mobizon's API{status}: check MOBIZON_API_URL "
            "(your account's server, like https://api.mobizon.com.br)"
        )
    if refused is not None:
        return Finding(subject, Outcome.REFUSED, refused)
    # the client's sentences carry no key and no URL; the closing advice and period are ours
    return Finding(subject, Outcome.UNCONFIRMED, error.what_failed.rstrip("."))


def exit_code(findings: tuple[Finding, ...]) -> int:
    """``smsbot check``'s exit code: 2 when a setting was refused, 1 when a check was not made."""
    outcomes = {finding.outcome for finding in findings}
    if Outcome.REFUSED in outcomes:
        return 2
    return 1 if Outcome.UNCONFIRMED in outcomes else 0


def _database_row(where: DatabaseUrl) -> str:
    """The database line of the report: the engine and where, never a password."""
    if where.engine == "postgresql":
        return f"PostgreSQL at {where.safe()}"
    if where.memory:
        return "SQLite in memory (nothing kept)"
    database = Path(where.address).resolve()
    return f"SQLite at {database}" + ("" if database.exists() else " (not created yet)")


def report(settings: Settings, findings: tuple[Finding, ...]) -> list[str]:
    """What ``smsbot check`` prints: the settings in force, then each check's finding."""
    where = settings.database
    if settings.sandbox:
        mobizon = "SANDBOX: the built-in Mobizon simulator; nothing is sent for real"
    else:
        mobizon = (
            f"LIVE: real SMS, each one billed, through Mobizon at "
            f"{origin(settings.mobizon_api_url)}"
        )
    if settings.socket_mode:
        slack_mode = "Socket Mode (SLACK_APP_TOKEN)"
    else:
        slack_mode = f"HTTP: Slack events at /slack/events on {settings.host}:{settings.port}"
    webhook = (
        "set (Mobizon webhooks must be signed)"
        if settings.mobizon_webhook_secret
        else "not set: unsigned Mobizon webhooks are accepted"
    )
    rows = [
        ("database", _database_row(where)),
        ("Mobizon", mobizon),
        ("Slack mode", slack_mode),
        ("webhook secret", webhook),
    ]
    rows += [(finding.subject, f"{finding.outcome}: {finding.sentence}") for finding in findings]
    width = max(len(name) for name, _ in rows) + 1
    lines = [f"{name + ':':<{width}} {text}" for name, text in rows]
    verdict = {
        0: "every check passed",
        1: "a check could not be made (warning): serve would start and warn",
        2: "a setting was refused: serve would not start",
    }
    code = exit_code(findings)
    lines.append(f"result: {verdict[code]} (exit {code})")
    return lines
