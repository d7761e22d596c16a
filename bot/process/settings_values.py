"""Reading and checking one environment variable, for :class:`~bot.process.settings.Settings`.

Each reader takes the variable's value (``None`` when unset or empty) and ``problems``, the
sentences start-up is refused with: a bad value adds one naming its variable (never echoing a
secret) and gives the default, so every bad variable is named at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tzlocal

from bot.process.environment import DEFAULT_LANGUAGE, NAMES, quoted, quotes_problem
from handlers import i18n  # the languages of the catalogue; nothing here is translated

Mode = Literal["http", "socket", "console"]

#: Secrets are masked wherever they appear in logs: a very short one would garble every line.
MIN_SECRET_LENGTH = 8

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")


def server_zone() -> tzinfo:
    """The server's own time zone (``TZ``, else the system's setting); UTC when none is set."""
    return tzlocal.get_localzone()


class Reader:
    """Reads variables for :meth:`Settings.from_env`: trimmed, empty as unset, quotes refused."""

    def __init__(self, env: Mapping[str, str], problems: list[str]) -> None:
        self._env = env
        self._problems = problems
        self._quoted: set[str] = set()

    def get(self, name: str) -> str | None:
        """The value of ``name``, or ``None`` when unset or empty; a quoted value is a problem."""
        if name not in NAMES:  # every variable read is listed, so --help lists it
            raise KeyError(f"{name} is missing from bot.process.environment.VARIABLES")
        value = self._env.get(name, "").strip()
        if quoted(value):
            if name not in self._quoted:
                self._quoted.add(name)
                self._problems.append(quotes_problem(name))
            # checked no further: a second sentence about the quoted value would mislead
            value = value[1:-1].strip()
        return value or None


def language(value: str | None, problems: list[str]) -> str:
    """Read SMSBOT_LANGUAGE: a catalogue language (:func:`handlers.i18n.workspace_locale`).

    ``en`` or ``pt-BR`` (any case, ``pt_BR``, ``pt``, ``en-US`` too); unset, English.
    """
    if value is None:
        return DEFAULT_LANGUAGE
    language = i18n.workspace_locale(value)
    if language is None:
        problems.append(
            f"SMSBOT_LANGUAGE “{value[:20]}” is not a language smsbot speaks: use "
            f"{i18n.language_choices()}."
        )
        return DEFAULT_LANGUAGE
    return language


def low_balance(
    amount: str | None, channel: str | None, problems: list[str]
) -> tuple[Decimal | None, str | None]:
    """Read SMSBOT_LOW_BALANCE (an amount) and SMSBOT_ALERT_CHANNEL (a channel id): both or none."""
    if amount is None and channel is None:
        return None, None
    if amount is None or channel is None:
        problems.append(
            "SMSBOT_LOW_BALANCE and SMSBOT_ALERT_CHANNEL go together: set both for the "
            "low-balance alert, or neither."
        )
        return None, None
    try:
        threshold = Decimal(amount)
    except InvalidOperation:
        threshold = Decimal(-1)
    if not threshold.is_finite() or threshold < 0:
        problems.append(f"SMSBOT_LOW_BALANCE “{amount[:20]}” is not an amount like 50 or 12.5.")
        return None, None
    if not _CHANNEL_ID.fullmatch(channel):
        problems.append(
            "SMSBOT_ALERT_CHANNEL must be a Slack channel id like C0123456789 (in the channel's "
            "details), not its name."
        )
        return None, None
    return threshold, channel


def check_slack_tokens(
    bot_token: str | None, app_token: str | None, signing_secret: str | None, problems: list[str]
) -> None:
    """Name what is missing or malformed among the Slack credentials (never echoing them)."""
    if bot_token is None:
        problems.append("SLACK_BOT_TOKEN is not set: give the bot token (xoxb-…).")
    elif not bot_token.startswith("xoxb-"):
        problems.append("SLACK_BOT_TOKEN must be a bot token starting with xoxb-.")
    if app_token is not None and not app_token.startswith("xapp-"):
        problems.append("SLACK_APP_TOKEN must be an app-level token starting with xapp-.")
    if app_token is None and signing_secret is None:
        problems.append(
            "SLACK_SIGNING_SECRET is not set: it is required in HTTP mode "
            "(Slack app settings → Basic Information → Signing Secret)."
        )


def zone(value: str | None, server_tz: str | None, problems: list[str]) -> tzinfo:
    """Read MOBIZON_TIMEZONE as an IANA name (``America/Sao_Paulo``); unset, the server's zone."""
    if value is None:
        try:
            return server_zone()
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(
                f"MOBIZON_TIMEZONE is not set and the server's time zone (TZ “{server_tz or ''}”)"
                " is not one smsbot can read: set MOBIZON_TIMEZONE to your Mobizon account's "
                "zone as an IANA name, like America/Sao_Paulo or Asia/Almaty."
            )
            return UTC
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            f"MOBIZON_TIMEZONE “{value}” is not a time zone name: give your Mobizon account's "
            "zone as an IANA name, like America/Sao_Paulo or Asia/Almaty."
        )
        return UTC


def check_length(name: str, value: str | None, problems: list[str]) -> None:
    """Refuse a secret too short to be real: masking it would garble every log line."""
    if value is not None and len(value) < MIN_SECRET_LENGTH:
        problems.append(
            f"{name} is too short to be real (under {MIN_SECRET_LENGTH} characters); "
            "copy the whole value."
        )


def mobizon_key(key: str | None, mode: Mode, problems: list[str]) -> str | None:
    """The Mobizon key outside the sandbox (``None``: none set, refused outside the console)."""
    if mode != "console" and key is None:
        # a typo in the key's name must not quietly "work" against the simulator
        problems.append(
            "MOBIZON_API_KEY is not set: give your Mobizon API key, or set SMSBOT_SANDBOX=1 "
            "to run against the built-in Mobizon simulator (nothing is sent for real)."
        )
    check_length("MOBIZON_API_KEY", key, problems)
    return key


def allowed_users(
    value: str, problems: list[str], *, name: str = "SMSBOT_ALLOWED_USERS"
) -> frozenset[str]:
    """Read comma-separated Slack user ids (``SMSBOT_ALLOWED_USERS``, ``SMSBOT_READERS``)."""
    allowed: set[str] = set()
    for raw in value.split(","):
        user = raw.strip()
        if not user:
            continue
        if _USER_ID.match(user):
            allowed.add(user)
        else:
            problems.append(
                f"{name} holds “{user}”, which is not a Slack user id (like U0123ABCD)."
            )
    return frozenset(allowed)


def flag(value: str | None, name: str, problems: list[str]) -> bool:
    """Read a true-or-false variable (1/0, yes/no, on/off, true/false); unset, false."""
    if value is None or value.lower() in ("0", "false", "no", "off"):
        return False
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    problems.append(f"{name} must be true or false (1/0, yes/no), not “{value}”.")
    return False


def url(value: str, name: str, problems: list[str]) -> str:
    """Check a URL has its scheme and host; ``value`` is given back as it is."""
    if not re.match(r"^https?://[^/\s]+", value):
        problems.append(f"{name} must be a URL with its scheme, like https://example.com.")
    return value


def number(
    value: str | None, name: str, problems: list[str], *, at_least: float | None = None
) -> float | None:
    """Seconds: more than 0, or (``at_least``) a finite number of at least that many."""
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        problems.append(f"{name} must be a number of seconds, not “{value}”.")
        return None
    if at_least is not None and not (math.isfinite(number) and number >= at_least):
        problems.append(f"{name} must be at least {at_least:g} seconds, not “{value[:20]}”.")
        return None
    if not number > 0:
        problems.append(f"{name} must be more than 0 seconds.")
        return None
    return number


def port(value: str | None, problems: list[str]) -> int | None:
    """Read PORT: a TCP port number; unset, ``None`` (the default)."""
    if value is None:
        return None
    if not value.isdigit() or not 0 <= int(value) <= 65535:  # noqa: PLR2004  # the TCP port range
        problems.append(f"PORT must be a port number from 0 to 65535, not “{value}”.")
        return None
    return int(value)


def count(value: str | None, name: str, problems: list[str], *, at_least: int) -> int | None:
    """A whole number of at least ``at_least``; unset, ``None`` (the default)."""
    if value is None:
        return None
    if not value.isdigit() or int(value) < at_least:
        problems.append(
            f"{name} must be a whole number of at least {at_least}, not “{value[:20]}”."
        )
        return None
    return int(value)
