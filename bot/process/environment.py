"""The environment variables smsbot reads: their names, defaults and meanings, in one table.

:mod:`bot.process.settings` reads only the variables listed here, and ``smsbot serve --help`` lists
them from here, so the help cannot drift from what is read.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.i18n import DEFAULT_LOCALE, LANGUAGES

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_MOBIZON_API_URL = "https://api.mobizon.com.br"
DEFAULT_DB = "smsbot.db"
DEFAULT_POLL_INTERVAL = 30.0
SANDBOX_POLL_INTERVAL = 5.0
CONSOLE_POLL_INTERVAL = 1.0
DEFAULT_REGION = "BR"
DEFAULT_HOST = "0.0.0.0"  # noqa: S104  # the contract: serve on every interface by default
DEFAULT_PORT = 3000
#: The catalogue's source language; the others are those with a compiled catalogue.
DEFAULT_LANGUAGE = DEFAULT_LOCALE
#: Seconds a replica's heartbeat holds its work (storage.replicas.LEASE); it beats every third.
DEFAULT_REPLICA_LEASE = 15.0
#: The shortest lease taken: under it, a busy moment could pass a live replica for dead.
MIN_REPLICA_LEASE = 1.0
#: A typed list of more recipients than this gets a preview to confirm (a file always does).
DEFAULT_CONFIRM_ABOVE = 10
#: The most recipients one send to many may have.
DEFAULT_MAX_RECIPIENTS = 10_000


@dataclass(frozen=True, slots=True)
class Variable:
    """One environment variable: its name, its default (in words) and what it sets."""

    name: str
    default: str
    meaning: str


VARIABLES: tuple[Variable, ...] = (
    Variable("SLACK_BOT_TOKEN", "required", "the bot token, xoxb-…"),
    Variable("SLACK_SIGNING_SECRET", "required in HTTP mode", "Slack's request signing secret"),
    Variable("SLACK_APP_TOKEN", "unset", "app-level token xapp-…: Socket Mode instead of HTTP"),
    Variable("SLACK_API_URL", DEFAULT_SLACK_API_URL, "Slack Web API base URL"),
    Variable(
        "MOBIZON_API_KEY", "required unless SMSBOT_SANDBOX=1", "Mobizon API key (real SMS, billed)"
    ),
    Variable(
        "SMSBOT_SANDBOX",
        "unset",
        "1: the built-in Mobizon simulator, nothing sent; MOBIZON_API_KEY is not read",
    ),
    Variable("MOBIZON_API_URL", DEFAULT_MOBIZON_API_URL, "your account's Mobizon API server"),
    Variable("MOBIZON_WEBHOOK_SECRET", "unset", "the secret key set on the Mobizon webhook"),
    Variable("MOBIZON_TIMEZONE", "the server's zone", "the Mobizon account's IANA time zone"),
    Variable(
        "SMSBOT_DB", DEFAULT_DB, "the SQLite database file (when SMSBOT_DATABASE_URL is unset)"
    ),
    Variable(
        "SMSBOT_DATABASE_URL",
        "sqlite:///$SMSBOT_DB",
        "sqlite:///path/smsbot.db or postgresql://user:password@host:port/dbname",
    ),
    Variable(
        "SMSBOT_POLL_INTERVAL",
        f"{DEFAULT_POLL_INTERVAL:g} ({SANDBOX_POLL_INTERVAL:g} in sandbox)",
        "seconds between status polls",
    ),
    Variable(
        "SMSBOT_REPLICA_LEASE",
        f"{DEFAULT_REPLICA_LEASE:g}",
        "seconds without a heartbeat before a replica's work is taken over",
    ),
    Variable("SMSBOT_ALLOWED_USERS", "empty: everyone", "Slack user ids who may send, with commas"),
    Variable("SMSBOT_READERS", "empty", "Slack user ids who may read every channel's SMS"),
    Variable("SMSBOT_DEFAULT_REGION", DEFAULT_REGION, "region of numbers without a country code"),
    Variable(
        "SMSBOT_CONFIRM_ABOVE",
        str(DEFAULT_CONFIRM_ABOVE),
        "a send to more numbers than this is previewed and confirmed first (0: every send to many)",
    ),
    Variable(
        "SMSBOT_MAX_RECIPIENTS",
        str(DEFAULT_MAX_RECIPIENTS),
        "the most recipients one send to many may have",
    ),
    Variable("HOST", DEFAULT_HOST, "address the HTTP server listens on"),
    Variable("PORT", str(DEFAULT_PORT), "port the HTTP server listens on"),
    Variable("SMSBOT_LOG_FORMAT", "auto", "json, text, or auto (text on a terminal)"),
    Variable("SMSBOT_SHOW_FULL_NUMBERS", "unset", "1: log phone numbers in full, not masked"),
    Variable("SMSBOT_LOW_BALANCE", "unset", "alert when the balance drops below this amount"),
    Variable("SMSBOT_ALERT_CHANNEL", "unset", "the channel id the low-balance alert goes to"),
    Variable(
        "SMSBOT_LANGUAGE",
        DEFAULT_LANGUAGE,
        "the workspace language, " + " or ".join(code.replace("_", "-") for code in LANGUAGES),
    ),
    Variable("TZ", "the system's", "the server's time zone (MOBIZON_TIMEZONE's default)"),
)

NAMES = frozenset(variable.name for variable in VARIABLES)

_QUOTES = ("'", '"')


def quoted(value: str) -> bool:
    """True when ``value`` is wrapped in a matching pair of single or double quotes.

    ``docker --env-file`` passes ``NAME="value"`` with its quotes, where a shell would drop them.
    """
    return len(value) >= 2 and value[0] in _QUOTES and value[-1] == value[0]  # noqa: PLR2004  # a pair


def quotes_problem(name: str) -> str:
    """The sentence refusing a quoted value (the value itself is never shown)."""
    return (
        f"{name} is wrapped in quotes: remove the quotes around {name}; docker --env-file "
        "keeps them as part of the value."
    )


def variables_help() -> str:
    """The environment variables, one a line with their default, for ``--help``."""
    width = max(len(variable.name) for variable in VARIABLES)
    lines = ["environment variables (read once, at start):"]
    lines += [
        f"  {variable.name:<{width}}  {variable.meaning} [default: {variable.default}]"
        for variable in VARIABLES
    ]
    lines.append("Values are taken as written: no quotes around them.")
    return "\n".join(lines)
