"""Settings: read once, at the edge, from the environment into one frozen object."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import tzinfo
from decimal import Decimal
from typing import Literal

import phonenumbers

from bot.process import settings_values as read
from bot.process.environment import (
    CONSOLE_POLL_INTERVAL,
    DEFAULT_CONFIRM_ABOVE,
    DEFAULT_DB,
    DEFAULT_HOST,
    DEFAULT_LANGUAGE,
    DEFAULT_MAX_RECIPIENTS,
    DEFAULT_MOBIZON_API_URL,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_PORT,
    DEFAULT_REGION,
    DEFAULT_REPLICA_LEASE,
    DEFAULT_SLACK_API_URL,
    MIN_REPLICA_LEASE,
    SANDBOX_POLL_INTERVAL,
)
from bot.process.settings_values import MIN_SECRET_LENGTH, Mode, server_zone
from storage.url import DatabaseUrl, DatabaseUrlError, parse_database_url

__all__ = ["MIN_SECRET_LENGTH", "Mode", "Settings", "SettingsError", "server_zone"]


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
    #: ``SMSBOT_CONFIRM_ABOVE``: a typed list of more recipients is previewed and confirmed first.
    confirm_above: int = DEFAULT_CONFIRM_ABOVE
    #: ``SMSBOT_MAX_RECIPIENTS``: the most recipients one send to many may have.
    max_recipients: int = DEFAULT_MAX_RECIPIENTS

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
        get = read.Reader(env, problems).get

        bot_token = get("SLACK_BOT_TOKEN")
        signing_secret = get("SLACK_SIGNING_SECRET")
        app_token = get("SLACK_APP_TOKEN")
        if mode != "console":
            read.check_slack_tokens(bot_token, app_token, signing_secret, problems)

        slack_api_url = read.url(
            get("SLACK_API_URL") or DEFAULT_SLACK_API_URL, "SLACK_API_URL", problems
        )
        if not slack_api_url.endswith("/"):
            slack_api_url += "/"
        mobizon_api_url = read.url(
            get("MOBIZON_API_URL") or DEFAULT_MOBIZON_API_URL, "MOBIZON_API_URL", problems
        ).rstrip("/")

        poll_interval = read.number(get("SMSBOT_POLL_INTERVAL"), "SMSBOT_POLL_INTERVAL", problems)
        replica_lease = read.number(
            get("SMSBOT_REPLICA_LEASE"),
            "SMSBOT_REPLICA_LEASE",
            problems,
            at_least=MIN_REPLICA_LEASE,
        )
        port = read.port(get("PORT"), problems)
        allowed = read.allowed_users(get("SMSBOT_ALLOWED_USERS") or "", problems)
        readers = read.allowed_users(get("SMSBOT_READERS") or "", problems, name="SMSBOT_READERS")

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
            read.check_length(name, get(name), problems)

        zone = read.zone(get("MOBIZON_TIMEZONE"), get("TZ"), problems)

        show_full_numbers = read.flag(
            get("SMSBOT_SHOW_FULL_NUMBERS"), "SMSBOT_SHOW_FULL_NUMBERS", problems
        )
        sandboxed = read.flag(get("SMSBOT_SANDBOX"), "SMSBOT_SANDBOX", problems) or sandbox
        # in the sandbox the key is not read, only noted as set: it is never checked nor used
        ignored_api_key = sandboxed and bool(env.get("MOBIZON_API_KEY", "").strip())
        api_key = None if sandboxed else read.mobizon_key(get("MOBIZON_API_KEY"), mode, problems)

        low_balance, alert_channel = read.low_balance(
            get("SMSBOT_LOW_BALANCE"), get("SMSBOT_ALERT_CHANNEL"), problems
        )

        language = read.language(get("SMSBOT_LANGUAGE"), problems)
        confirm_above = read.count(
            get("SMSBOT_CONFIRM_ABOVE"), "SMSBOT_CONFIRM_ABOVE", problems, at_least=0
        )
        max_recipients = read.count(
            get("SMSBOT_MAX_RECIPIENTS"), "SMSBOT_MAX_RECIPIENTS", problems, at_least=1
        )
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
            confirm_above=DEFAULT_CONFIRM_ABOVE if confirm_above is None else confirm_above,
            max_recipients=DEFAULT_MAX_RECIPIENTS if max_recipients is None else max_recipients,
        )
