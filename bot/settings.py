"""Settings: read once, at the edge, from the environment into one frozen object."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import tzlocal

from bot.environment import (
    CONSOLE_POLL_INTERVAL,
    DEFAULT_DB,
    DEFAULT_HOST,
    DEFAULT_LANGUAGE,
    DEFAULT_MOBIZON_API_URL,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_PORT,
    DEFAULT_REGION,
    DEFAULT_REPLICA_LEASE,
    DEFAULT_SLACK_API_URL,
    MIN_REPLICA_LEASE,
    NAMES,
    SANDBOX_POLL_INTERVAL,
    quoted,
    quotes_problem,
)
from storage.url import DatabaseUrl, DatabaseUrlError, parse_database_url

Mode = Literal["http", "socket", "console"]

#: ``SMSBOT_LANGUAGE``'s values (as people write them, any case, ``-`` or ``_``) and the locale
#: each names, as the sentence catalogue names it. ``pt`` alone is Brazilian Portuguese, the one
#: Portuguese smsbot speaks (``pt-PT`` is refused rather than silently served Brazilian).
LANGUAGES = {"en": "en", "en-us": "en", "en-gb": "en", "pt-br": "pt_BR", "pt": "pt_BR"}
#: Secrets are masked wherever they appear in logs: a very short one would garble every line.
MIN_SECRET_LENGTH = 8

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def server_zone() -> tzinfo:
    """The server's own time zone (``TZ``, else the system's setting); UTC when none is set."""
    return tzlocal.get_localzone()


class _Reader:
    """Reads variables for :meth:`Settings.from_env`: trimmed, empty as unset, quotes refused."""

    def __init__(self, env: Mapping[str, str], problems: list[str]) -> None:
        self._env = env
        self._problems = problems
        self._quoted: set[str] = set()

    def get(self, name: str) -> str | None:
        """The value of ``name``, or ``None`` when unset or empty; a quoted value is a problem."""
        if name not in NAMES:  # every variable read is listed, so --help lists it
            raise KeyError(f"{name} is missing from bot.environment.VARIABLES")
        value = self._env.get(name, "").strip()
        if quoted(value):
            if name not in self._quoted:
                self._quoted.add(name)
                self._problems.append(quotes_problem(name))
            # checked no further: a second sentence about the quoted value would mislead
            value = value[1:-1].strip()
        return value or None


class SettingsError(Exception):
    """Start-up refused: one or more environment variables are missing or malformed."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("smsbot cannot start:\n" + "\n".join(f"- {p}" for p in problems))


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the process needs from its environment (DESIGN.md, "Operator contract")."""

    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    #: Whether channel posts keep Slack's pace (about one a second per channel); the console's
    #: Slack stand-in runs in this process and has no rate limit.
    slack_pacing: bool = True
    mobizon_api_key: str | None = field(default=None, repr=False)
    mobizon_api_url: str = DEFAULT_MOBIZON_API_URL
    mobizon_webhook_secret: str | None = field(default=None, repr=False)
    db_path: str = DEFAULT_DB
    #: ``SMSBOT_DATABASE_URL`` as given (it may hold a password); unset: SQLite at ``db_path``.
    database_url: str | None = field(default=None, repr=False)
    poll_interval: float = DEFAULT_POLL_INTERVAL
    #: ``SMSBOT_REPLICA_LEASE``: seconds a replica's heartbeat holds its work; it beats every third.
    replica_lease: float = DEFAULT_REPLICA_LEASE
    allowed_users: frozenset[str] = frozenset()
    readers: frozenset[str] = frozenset()
    default_region: str = DEFAULT_REGION
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    show_full_numbers: bool = False
    log_format: Literal["auto", "json", "text"] = "auto"
    #: The Mobizon account's time zone: every time sent to or read from Mobizon is in it.
    mobizon_timezone: tzinfo = field(default_factory=server_zone)
    #: True when a MOBIZON_API_KEY was set but left unused because the sandbox was asked for.
    ignored_api_key: bool = False
    #: ``SMSBOT_LOW_BALANCE``: alert in ``alert_channel`` when the balance drops below it.
    low_balance: Decimal | None = None
    #: ``SMSBOT_ALERT_CHANNEL``: the Slack channel id the low-balance alert goes to.
    alert_channel: str | None = None
    #: ``SMSBOT_LANGUAGE``: the workspace language (``en`` or ``pt_BR``), used for everything
    #: posted in a channel, and for a person whose Slack language smsbot does not speak.
    language: str = DEFAULT_LANGUAGE

    @property
    def sandbox(self) -> bool:
        """True when no Mobizon key is set: the built-in simulator stands in for Mobizon."""
        return not self.mobizon_api_key

    @property
    def database(self) -> DatabaseUrl:
        """Where the database is: ``SMSBOT_DATABASE_URL``, else SQLite at ``SMSBOT_DB``."""
        return parse_database_url(self.database_url or self.db_path)

    @property
    def socket_mode(self) -> bool:
        """True when an app-level token is set: Slack is reached over Socket Mode."""
        return bool(self.slack_app_token)

    def secrets(self) -> tuple[str, ...]:
        """Every secret value in force, for log redaction."""
        values = (
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.mobizon_api_key,
            self.mobizon_webhook_secret,
            self.database.password(),
        )
        return tuple(v for v in values if v)

    def sandboxed(self) -> Settings:
        """These settings with the Mobizon key dropped: the built-in simulator, nothing sent."""
        if self.sandbox:
            return self
        return replace(self, mobizon_api_key=None, ignored_api_key=True)

    def may_send(self, user_id: str) -> bool:
        """True when ``user_id`` may send SMS (an empty allow-list lets everyone)."""
        return not self.allowed_users or user_id in self.allowed_users

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], *, mode: Mode = "http", sandbox: bool = False
    ) -> Settings:
        """Read settings from ``env``; raise :class:`SettingsError` naming every bad variable.

        ``serve`` needs ``MOBIZON_API_KEY``, or ``SMSBOT_SANDBOX=1`` to run against the built-in
        simulator; the console runs the sandbox unless ``MOBIZON_API_KEY`` is set (the command
        line asks for the sandbox with ``sandbox`` without ``--live``). ``SMSBOT_SANDBOX=1``
        wins over a key, and in the sandbox the key is not read at all (only noted as set).
        A value wrapped in quotes is refused, naming its variable.
        """
        problems: list[str] = []
        get = _Reader(env, problems).get

        bot_token = get("SLACK_BOT_TOKEN")
        signing_secret = get("SLACK_SIGNING_SECRET")
        app_token = get("SLACK_APP_TOKEN")
        if mode != "console":
            _check_slack_tokens(bot_token, app_token, signing_secret, problems)

        slack_api_url = _url(
            get("SLACK_API_URL") or DEFAULT_SLACK_API_URL, "SLACK_API_URL", problems
        )
        if not slack_api_url.endswith("/"):
            slack_api_url += "/"
        mobizon_api_url = _url(
            get("MOBIZON_API_URL") or DEFAULT_MOBIZON_API_URL, "MOBIZON_API_URL", problems
        ).rstrip("/")

        poll_interval = _number(get("SMSBOT_POLL_INTERVAL"), "SMSBOT_POLL_INTERVAL", problems)
        replica_lease = _number(
            get("SMSBOT_REPLICA_LEASE"),
            "SMSBOT_REPLICA_LEASE",
            problems,
            at_least=MIN_REPLICA_LEASE,
        )
        port = _port(get("PORT"), problems)
        allowed = _allowed_users(get("SMSBOT_ALLOWED_USERS") or "", problems)
        readers = _allowed_users(get("SMSBOT_READERS") or "", problems, name="SMSBOT_READERS")

        region = (get("SMSBOT_DEFAULT_REGION") or DEFAULT_REGION).upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            problems.append(
                f"SMSBOT_DEFAULT_REGION “{region}” is not a two-letter region code (like BR or KZ)."
            )

        log_format = (get("SMSBOT_LOG_FORMAT") or "auto").lower()
        if log_format not in ("auto", "json", "text"):
            problems.append("SMSBOT_LOG_FORMAT must be auto, json or text.")
            log_format = "auto"

        for name in ("SLACK_SIGNING_SECRET", "MOBIZON_WEBHOOK_SECRET"):
            _check_length(name, get(name), problems)

        zone = _zone(get("MOBIZON_TIMEZONE"), get("TZ"), problems)

        show_full_numbers = _flag(
            get("SMSBOT_SHOW_FULL_NUMBERS"), "SMSBOT_SHOW_FULL_NUMBERS", problems
        )
        sandboxed = _flag(get("SMSBOT_SANDBOX"), "SMSBOT_SANDBOX", problems) or sandbox
        # in the sandbox the key is not read, only noted as set: it is never checked nor used
        ignored_api_key = sandboxed and bool(env.get("MOBIZON_API_KEY", "").strip())
        api_key = None if sandboxed else _mobizon_key(get("MOBIZON_API_KEY"), mode, problems)

        low_balance, alert_channel = _low_balance(
            get("SMSBOT_LOW_BALANCE"), get("SMSBOT_ALERT_CHANNEL"), problems
        )

        language = _language(get("SMSBOT_LANGUAGE"), problems)
        webhook_secret = get("MOBIZON_WEBHOOK_SECRET")
        db_path = get("SMSBOT_DB") or DEFAULT_DB
        database_url = get("SMSBOT_DATABASE_URL")
        if database_url is not None:
            try:
                parse_database_url(database_url)
            except DatabaseUrlError as err:
                problems.append(f"SMSBOT_DATABASE_URL: {err}")
        host = get("HOST") or DEFAULT_HOST

        if problems:
            raise SettingsError(problems)
        if poll_interval is None:
            # the simulator delivers in seconds: poll it often enough to show that
            poll_interval = (
                CONSOLE_POLL_INTERVAL
                if mode == "console"
                else DEFAULT_POLL_INTERVAL
                if api_key
                else SANDBOX_POLL_INTERVAL
            )
        return cls(
            slack_bot_token=bot_token,
            slack_signing_secret=signing_secret,
            slack_app_token=app_token,
            slack_api_url=slack_api_url,
            mobizon_api_key=api_key,
            mobizon_api_url=mobizon_api_url,
            mobizon_webhook_secret=webhook_secret,
            db_path=db_path,
            database_url=database_url,
            poll_interval=poll_interval,
            replica_lease=DEFAULT_REPLICA_LEASE if replica_lease is None else replica_lease,
            allowed_users=allowed,
            readers=readers,
            default_region=region,
            host=host,
            port=DEFAULT_PORT if port is None else port,
            show_full_numbers=show_full_numbers,
            log_format=log_format,  # type: ignore[arg-type]  # checked against the three values above
            mobizon_timezone=zone,
            ignored_api_key=ignored_api_key,
            low_balance=low_balance,
            alert_channel=alert_channel,
            language=language,
        )


def _language(value: str | None, problems: list[str]) -> str:
    """Read SMSBOT_LANGUAGE: ``en`` or ``pt-BR`` (any case, ``pt_BR`` too); unset, English."""
    if value is None:
        return DEFAULT_LANGUAGE
    language = LANGUAGES.get(value.lower().replace("_", "-"))
    if language is None:
        problems.append(
            f"SMSBOT_LANGUAGE “{value[:20]}” is not a language smsbot speaks: use en (English) "
            "or pt-BR (Brazilian Portuguese)."
        )
        return DEFAULT_LANGUAGE
    return language


def _low_balance(
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


_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")


def _check_slack_tokens(
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


def _zone(value: str | None, server_tz: str | None, problems: list[str]) -> tzinfo:
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


def _check_length(name: str, value: str | None, problems: list[str]) -> None:
    """Refuse a secret too short to be real: masking it would garble every log line."""
    if value is not None and len(value) < MIN_SECRET_LENGTH:
        problems.append(
            f"{name} is too short to be real (under {MIN_SECRET_LENGTH} characters); "
            "copy the whole value."
        )


def _mobizon_key(key: str | None, mode: Mode, problems: list[str]) -> str | None:
    """The Mobizon key outside the sandbox (``None``: none set, refused outside the console)."""
    if mode != "console" and key is None:
        # a typo in the key's name must not quietly "work" against the simulator
        problems.append(
            "MOBIZON_API_KEY is not set: give your Mobizon API key, or set SMSBOT_SANDBOX=1 "
            "to run against the built-in Mobizon simulator (nothing is sent for real)."
        )
    _check_length("MOBIZON_API_KEY", key, problems)
    return key


def _allowed_users(
    value: str, problems: list[str], *, name: str = "SMSBOT_ALLOWED_USERS"
) -> frozenset[str]:
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


def _flag(value: str | None, name: str, problems: list[str]) -> bool:
    if value is None or value.lower() in ("0", "false", "no", "off"):
        return False
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    problems.append(f"{name} must be true or false (1/0, yes/no), not “{value}”.")
    return False


def _url(value: str, name: str, problems: list[str]) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        problems.append(f"{name} must be a URL with its scheme, like https://example.com.")
    return value


def _number(
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


def _port(value: str | None, problems: list[str]) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or not 0 <= int(value) <= 65535:  # noqa: PLR2004  # the TCP port range
        problems.append(f"PORT must be a port number from 0 to 65535, not “{value}”.")
        return None
    return int(value)
