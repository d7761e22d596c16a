"""Settings: defaults, Socket Mode's app token, and refusals that name each bad variable."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.process.environment import VARIABLES
from bot.process.settings import Settings, SettingsError
from handlers import i18n
from storage import replicas
from testkit.slack import BOT_TOKEN
from tests.conftest import MOBIZON_KEY, SIGNING_SECRET, WEBHOOK_SECRET

APP_TOKEN = "xapp-1-A0123-4567-abcdef0123456789"
HTTP_ENV = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}
SANDBOX_ENV = {**HTTP_ENV, "SMSBOT_SANDBOX": "1"}


def problems_of(env: dict[str, str], **kwargs: str) -> list[str]:
    """The problems :meth:`Settings.from_env` names for ``env`` (fails if it accepts it)."""
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env, **kwargs)  # type: ignore[arg-type]
    return caught.value.problems


def test_defaults_follow_the_operator_contract() -> None:
    """With the Slack credentials and the sandbox flag set, the rest takes its documented default."""
    settings = Settings.from_env(SANDBOX_ENV)
    assert settings.sandbox
    assert not settings.socket_mode
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.mobizon_api_url == "https://api.mobizon.com.br"
    assert settings.db_path == "smsbot.db"
    assert settings.poll_interval == 5.0  # sandbox: the simulator delivers in seconds
    assert settings.allowed_users == frozenset()
    assert settings.default_region == "BR"
    assert (settings.host, settings.port) == ("0.0.0.0", 3000)  # noqa: S104  # the contract's default
    assert settings.show_full_numbers is False
    assert settings.log_format == "auto"
    assert settings.replica_lease == replicas.LEASE.total_seconds() == 15.0
    live = Settings.from_env({**HTTP_ENV, "MOBIZON_API_KEY": MOBIZON_KEY})
    assert not live.sandbox
    assert live.poll_interval == 30.0


def test_every_variable_is_read() -> None:
    """Each documented variable reaches its setting, trimmed and normalised."""
    settings = Settings.from_env(
        {
            **HTTP_ENV,
            "SLACK_API_URL": "http://127.0.0.1:9000/api",
            "MOBIZON_API_KEY": MOBIZON_KEY,
            "MOBIZON_API_URL": "https://api.mobizon.kz/",
            "MOBIZON_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "SMSBOT_DB": "/data/smsbot.db",
            "SMSBOT_DATABASE_URL": "postgresql://smsbot:pg-password-1@db.internal:5432/smsbot",
            "SMSBOT_POLL_INTERVAL": "12.5",
            "SMSBOT_REPLICA_LEASE": " 2.5 ",
            "SMSBOT_ALLOWED_USERS": " U0123ABCD, W0456EFGH ",
            "SMSBOT_READERS": "U0999ZZZZ ,",
            "SMSBOT_DEFAULT_REGION": "kz",
            "SMSBOT_SHOW_FULL_NUMBERS": "yes",
            "SMSBOT_LOG_FORMAT": "TEXT",
            "HOST": "127.0.0.1",
            "PORT": "8080",
        }
    )
    assert settings.slack_api_url == "http://127.0.0.1:9000/api/"
    assert settings.mobizon_api_url == "https://api.mobizon.kz"
    assert settings.mobizon_webhook_secret == WEBHOOK_SECRET
    assert settings.db_path == "/data/smsbot.db"
    assert settings.poll_interval == 12.5
    assert settings.replica_lease == 2.5
    assert settings.allowed_users == frozenset({"U0123ABCD", "W0456EFGH"})
    assert settings.readers == frozenset({"U0999ZZZZ"})
    assert settings.default_region == "KZ"
    assert settings.show_full_numbers is True
    assert settings.log_format == "text"
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.database.safe() == "postgresql://smsbot@db.internal:5432/smsbot"
    assert set(settings.secrets()) == {
        BOT_TOKEN,
        SIGNING_SECRET,
        MOBIZON_KEY,
        WEBHOOK_SECRET,
        "pg-password-1",
    }


def test_an_app_token_turns_on_socket_mode_without_a_signing_secret() -> None:
    """SLACK_APP_TOKEN (xapp-) selects Socket Mode, where no signing secret is needed."""
    settings = Settings.from_env(
        {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "SMSBOT_SANDBOX": "1"}
    )
    assert settings.socket_mode
    assert settings.slack_signing_secret is None
    assert APP_TOKEN in settings.secrets()


def test_a_malformed_app_token_is_refused_without_echoing_it() -> None:
    """An app token that is not xapp- is named as the problem, and its value is not shown."""
    token = "xoxb-pasted-the-wrong-token-123"
    problems = problems_of({**SANDBOX_ENV, "SLACK_APP_TOKEN": token})
    assert problems == ["SLACK_APP_TOKEN must be an app-level token starting with xapp-."]
    assert token not in str(SettingsError(problems))


def test_every_problem_is_named_in_one_refusal() -> None:
    """All bad variables are reported together, each in a sentence naming it."""
    problems = problems_of(
        {
            "SLACK_BOT_TOKEN": "xapp-wrong-kind",
            "SLACK_API_URL": "slack.com/api",
            "SMSBOT_POLL_INTERVAL": "-3",
            "SMSBOT_REPLICA_LEASE": "soon",
            "PORT": "http",
            "SMSBOT_ALLOWED_USERS": "U0123ABCD,@ana",
            "SMSBOT_READERS": "bob",
            "SMSBOT_DEFAULT_REGION": "Brazil",
            "SMSBOT_LOG_FORMAT": "xml",
            "SMSBOT_SHOW_FULL_NUMBERS": "maybe",
        }
    )
    named = [p.split(" ", 1)[0] for p in problems]
    assert named == [
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_API_URL",
        "SMSBOT_POLL_INTERVAL",
        "SMSBOT_REPLICA_LEASE",
        "PORT",
        "SMSBOT_ALLOWED_USERS",
        "SMSBOT_READERS",
        "SMSBOT_DEFAULT_REGION",
        "SMSBOT_LOG_FORMAT",
        "SMSBOT_SHOW_FULL_NUMBERS",
        "MOBIZON_API_KEY",
    ]
    assert all(p.endswith(".") for p in problems)
    assert "xapp-wrong-kind" not in "\n".join(problems)
    assert str(SettingsError(problems)).startswith("smsbot cannot start:\n- ")


def test_secrets_too_short_to_be_real_are_refused() -> None:
    """A secret of a few characters is refused: it would be masked all over the logs."""
    problems = problems_of(
        {**SANDBOX_ENV, "SLACK_SIGNING_SECRET": "s", "MOBIZON_WEBHOOK_SECRET": "abc1234"}
    )
    assert problems == [
        "SLACK_SIGNING_SECRET is too short to be real (under 8 characters); copy the whole value.",
        "MOBIZON_WEBHOOK_SECRET is too short to be real (under 8 characters); copy the whole value.",
    ]


def test_serve_without_a_key_needs_the_sandbox_asked_for() -> None:
    """No MOBIZON_API_KEY and no SMSBOT_SANDBOX=1: start-up stops with a sentence naming both."""
    no_key = (
        "MOBIZON_API_KEY is not set: give your Mobizon API key, or set SMSBOT_SANDBOX=1 to run "
        "against the built-in Mobizon simulator (nothing is sent for real)."
    )
    assert problems_of(HTTP_ENV) == [no_key]
    assert problems_of({**HTTP_ENV, "SMSBOT_SANDBOX": "maybe"}) == [
        "SMSBOT_SANDBOX must be true or false (1/0, yes/no), not “maybe”.",
        no_key,
    ]
    assert problems_of({**HTTP_ENV, "SMSBOT_SANDBOX": "0"})  # 0 is not a yes
    assert Settings.from_env(SANDBOX_ENV).sandbox


def test_the_sandbox_flag_wins_over_a_key() -> None:
    """SMSBOT_SANDBOX=1 with a key set: the sandbox runs, and the key is noted as ignored."""
    settings = Settings.from_env({**SANDBOX_ENV, "MOBIZON_API_KEY": MOBIZON_KEY})
    assert settings.sandbox
    assert settings.mobizon_api_key is None
    assert settings.ignored_api_key
    assert not Settings.from_env(SANDBOX_ENV).ignored_api_key
    live = Settings.from_env({**HTTP_ENV, "MOBIZON_API_KEY": MOBIZON_KEY})
    assert not live.ignored_api_key
    assert live.sandboxed().sandbox
    assert live.sandboxed().ignored_api_key


def test_the_console_needs_no_slack_credentials() -> None:
    """``smsbot console`` starts with an empty environment: sandbox, polling every second."""
    settings = Settings.from_env({}, mode="console")
    assert settings.sandbox
    assert settings.poll_interval == 1.0


def test_settings_repr_hides_secrets() -> None:
    """Printing the settings object shows no token, key or secret."""
    settings = Settings.from_env(
        {**HTTP_ENV, "MOBIZON_API_KEY": MOBIZON_KEY, "MOBIZON_WEBHOOK_SECRET": WEBHOOK_SECRET}
    )
    shown = repr(settings)
    for secret in settings.secrets():
        assert secret not in shown


def test_mobizon_timezone_is_read_as_an_iana_zone() -> None:
    """MOBIZON_TIMEZONE names the account's zone; unset, it is the server's own (TZ)."""
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    import tzlocal  # noqa: PLC0415

    settings = Settings.from_env({**SANDBOX_ENV, "MOBIZON_TIMEZONE": "America/Sao_Paulo"})
    assert settings.mobizon_timezone == ZoneInfo("America/Sao_Paulo")
    assert Settings.from_env(SANDBOX_ENV).mobizon_timezone == tzlocal.get_localzone()


def test_an_unreadable_server_zone_stops_start_up_naming_the_variable(tmp_path: Path) -> None:
    """Without MOBIZON_TIMEZONE and with a TZ that names no zone, start-up says to set it (exit 2)."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--linger", "0"],
        input="quit\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "TZ": "Foo/Bar"},
    )
    assert done.returncode == 2
    assert "MOBIZON_TIMEZONE is not set and the server's time zone (TZ “Foo/Bar”)" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("name", ["Mars/Olympus", "BRT", "../etc/passwd", "America/Sao Paulo"])
def test_a_bad_mobizon_timezone_stops_start_up_naming_the_variable(name: str) -> None:
    """A zone name that is not an IANA name is refused with a sentence naming MOBIZON_TIMEZONE."""
    (problem,) = problems_of({**SANDBOX_ENV, "MOBIZON_TIMEZONE": name})
    assert problem.startswith(f"MOBIZON_TIMEZONE “{name}” is not a time zone name")
    assert "America/Sao_Paulo" in problem


@pytest.mark.parametrize(
    ("value", "language"),
    [
        ("en", "en"),
        ("EN", "en"),
        ("en-US", "en"),
        ("pt-BR", "pt_BR"),
        ("pt-br", "pt_BR"),
        ("pt_BR", "pt_BR"),
        ("pt", "pt_BR"),
    ],
)
def test_smsbot_language_reads_english_and_brazilian_portuguese(value: str, language: str) -> None:
    """SMSBOT_LANGUAGE takes en or pt-BR (pt, en-US too) in any case, with - or _; unset, English."""
    assert Settings.from_env({**SANDBOX_ENV, "SMSBOT_LANGUAGE": value}).language == language
    assert Settings.from_env(SANDBOX_ENV).language == "en"


@pytest.mark.parametrize("value", ["es", "pt-PT", "fr-FR", "português", "english"])
def test_a_language_smsbot_does_not_speak_stops_start_up(value: str) -> None:
    """Any other SMSBOT_LANGUAGE is refused with a sentence naming the variable and the choices."""
    (problem,) = problems_of({**SANDBOX_ENV, "SMSBOT_LANGUAGE": value})
    assert problem.startswith(f"SMSBOT_LANGUAGE “{value}” is not a language smsbot speaks")
    assert "en (English) or pt-BR (Brazilian Portuguese)" in problem


def test_smsbot_language_offers_exactly_the_languages_smsbot_speaks() -> None:
    """SMSBOT_LANGUAGE takes each catalogue's language, and its refusal names every one."""
    for locale in i18n.LANGUAGES:
        tag = locale.replace("_", "-")
        assert Settings.from_env({**SANDBOX_ENV, "SMSBOT_LANGUAGE": tag}).language == locale
    (problem,) = problems_of({**SANDBOX_ENV, "SMSBOT_LANGUAGE": "es"})
    for locale in i18n.LANGUAGES:
        assert f"{locale.replace('_', '-')} (" in problem


#: A good value of every variable smsbot reads (a new variable must be added here).
GOOD_VALUES = {
    "SLACK_BOT_TOKEN": BOT_TOKEN,
    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    "SLACK_APP_TOKEN": APP_TOKEN,
    "SLACK_API_URL": "https://slack.com/api/",
    "MOBIZON_API_KEY": MOBIZON_KEY,
    "SMSBOT_SANDBOX": "0",
    "MOBIZON_API_URL": "https://api.mobizon.kz",
    "MOBIZON_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "MOBIZON_TIMEZONE": "America/Sao_Paulo",
    "SMSBOT_DB": "/data/smsbot.db",
    "SMSBOT_DATABASE_URL": "sqlite:///data/smsbot.db",
    "SMSBOT_POLL_INTERVAL": "10",
    "SMSBOT_REPLICA_LEASE": "15",
    "SMSBOT_ALLOWED_USERS": "U0123ABCD",
    "SMSBOT_READERS": "U0456EFGH",
    "SMSBOT_DEFAULT_REGION": "BR",
    "SMSBOT_CONFIRM_ABOVE": "20",
    "SMSBOT_MAX_RECIPIENTS": "5000",
    "HOST": "127.0.0.1",
    "PORT": "8080",
    "SMSBOT_LOG_FORMAT": "json",
    "SMSBOT_SHOW_FULL_NUMBERS": "0",
    "SMSBOT_LOW_BALANCE": "50",
    "SMSBOT_ALERT_CHANNEL": "C0123456789",
    "SMSBOT_LANGUAGE": "pt-BR",
    "TZ": "America/Sao_Paulo",
}


def test_good_values_cover_every_variable() -> None:
    """The table below tests every variable the settings read, and they are accepted as they are."""
    assert set(GOOD_VALUES) == {variable.name for variable in VARIABLES}
    assert Settings.from_env(GOOD_VALUES).socket_mode


@pytest.mark.parametrize("quote", ['"', "'"])
@pytest.mark.parametrize("name", sorted(GOOD_VALUES))
def test_a_value_wrapped_in_quotes_is_refused_naming_its_variable(name: str, quote: str) -> None:
    """`NAME="value"` (as docker --env-file passes it): one sentence about the quotes, no value."""
    value = GOOD_VALUES[name]
    problems = problems_of({**GOOD_VALUES, name: f"{quote}{value}{quote}"})
    (problem,) = problems
    assert problem == (
        f"{name} is wrapped in quotes: remove the quotes around {name}; docker --env-file keeps "
        "them as part of the value."
    )
    assert value not in str(SettingsError(problems))


def test_quotes_only_on_one_side_or_inside_are_not_mistaken_for_wrapping() -> None:
    """A quote that does not wrap the whole value is not a quoting mistake."""
    for value in ("\"my db'.sqlite", '"', "it's.db", "'"):
        assert Settings.from_env({**SANDBOX_ENV, "SMSBOT_DB": value}).db_path == value


def test_in_the_sandbox_the_key_is_not_read() -> None:
    """SMSBOT_SANDBOX=1 with a short or quoted key: accepted (the key is only noted as set)."""
    for key in ("short", f'"{MOBIZON_KEY}"', "x"):
        settings = Settings.from_env({**SANDBOX_ENV, "MOBIZON_API_KEY": key})
        assert settings.sandbox
        assert settings.mobizon_api_key is None
        assert settings.ignored_api_key
    console = Settings.from_env({"MOBIZON_API_KEY": "short"}, mode="console", sandbox=True)
    assert console.sandbox
    assert console.ignored_api_key
    # outside the sandbox the same key is read, and refused
    assert problems_of({**HTTP_ENV, "MOBIZON_API_KEY": "short"}) == [
        "MOBIZON_API_KEY is too short to be real (under 8 characters); copy the whole value."
    ]


def _configuration_table() -> list[tuple[list[str], str]]:
    """README's Configuration table: each row's variable names and its default cell."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        names = re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0]) if line.startswith("| `") else []
        if names:
            rows.append((names, cells[-1]))
    return rows


def test_serve_help_lists_every_variable_of_the_readme_with_its_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`smsbot serve --help` names each variable README's table names, with the same default."""
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--help"])
    assert stopped.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    table = _configuration_table()
    assert len(table) >= 20
    for names, default in table:
        literals = re.findall(r"`([^`]+)`", default) if default.startswith("`") else []
        for index, name in enumerate(names):
            [line] = [line for line in lines if line.split()[:1] == [name]]
            assert "[default: " in line
            if literals:
                assert literals[min(index, len(literals) - 1)] in line.split("[default: ")[1]


def test_the_database_url_picks_the_engine_and_its_password_is_a_secret() -> None:
    """SMSBOT_DATABASE_URL wins over SMSBOT_DB; a PostgreSQL password is redacted like a token."""
    url = "postgresql://smsbot:pg-password-1@/smsbot?host=/var/run/postgresql"
    settings = Settings.from_env({**SANDBOX_ENV, "SMSBOT_DB": "x.db", "SMSBOT_DATABASE_URL": url})
    assert settings.database.engine == "postgresql"
    assert "pg-password-1" in settings.secrets()
    assert "pg-password-1" not in repr(settings)
    assert settings.database.safe() == "postgresql://smsbot@/smsbot?host=/var/run/postgresql"
    assert Settings.from_env({**SANDBOX_ENV, "SMSBOT_DB": "x.db"}).database.address == "x.db"
    sqlite = Settings.from_env({**SANDBOX_ENV, "SMSBOT_DATABASE_URL": "sqlite:///data/s.db"})
    assert (sqlite.database.engine, sqlite.database.address) == ("sqlite", "data/s.db")


def test_a_database_url_of_another_engine_is_refused_with_the_forms_that_work() -> None:
    """mysql://… is refused at start, naming the variable and the two forms smsbot takes."""
    problems = problems_of({**SANDBOX_ENV, "SMSBOT_DATABASE_URL": "mysql://u:secret-pw@h/db"})
    (problem,) = problems
    assert problem.startswith("SMSBOT_DATABASE_URL: mysql:// is not a database smsbot runs on")
    assert "postgresql://" in problem
    assert "secret-pw" not in problem


@pytest.mark.parametrize("value", ["soon", "0", "0.5", "-15", "inf", "nan", "15s"])
def test_a_replica_lease_that_is_not_at_least_a_second_stops_start_up(value: str) -> None:
    """SMSBOT_REPLICA_LEASE must be a number of seconds of at least 1: anything else is named."""
    (problem,) = problems_of({**SANDBOX_ENV, "SMSBOT_REPLICA_LEASE": value})
    assert problem.startswith("SMSBOT_REPLICA_LEASE must be ")
    assert "seconds" in problem
    assert f"“{value}”" in problem


def test_a_replica_lease_of_a_second_or_more_is_taken() -> None:
    """The shortest lease taken is 1 s (tests use a few); fractions are kept."""
    for value, seconds in (("1", 1.0), ("2.5", 2.5), ("60", 60.0)):
        settings = Settings.from_env({**SANDBOX_ENV, "SMSBOT_REPLICA_LEASE": value})
        assert settings.replica_lease == seconds


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SMSBOT_CONFIRM_ABOVE", "-1"),
        ("SMSBOT_CONFIRM_ABOVE", "ten"),
        ("SMSBOT_CONFIRM_ABOVE", "2.5"),
        ("SMSBOT_MAX_RECIPIENTS", "0"),
        ("SMSBOT_MAX_RECIPIENTS", "10k"),
    ],
)
def test_a_send_to_many_limit_that_is_not_a_whole_number_stops_start_up(
    name: str, value: str
) -> None:
    """The confirmation threshold (0 or more) and the recipient limit (1 or more) are counts."""
    (problem,) = problems_of({**SANDBOX_ENV, name: value})
    assert problem.startswith(f"{name} must be a whole number of at least ")
    assert f"“{value}”" in problem


def test_the_send_to_many_limits_are_read_with_their_defaults() -> None:
    """Unset: 10 and 10,000; set: as given (0 previews every send to many)."""
    defaults = Settings.from_env(SANDBOX_ENV)
    assert (defaults.confirm_above, defaults.max_recipients) == (10, 10_000)
    given = Settings.from_env(
        {**SANDBOX_ENV, "SMSBOT_CONFIRM_ABOVE": "0", "SMSBOT_MAX_RECIPIENTS": "250"}
    )
    assert (given.confirm_above, given.max_recipients) == (0, 250)


def test_the_help_names_every_catalogue_language_and_the_source_default() -> None:
    """`serve --help`'s SMSBOT_LANGUAGE line names each catalogue's language; its default is English."""
    (language,) = [variable for variable in VARIABLES if variable.name == "SMSBOT_LANGUAGE"]
    assert all(code.replace("_", "-") in language.meaning for code in i18n.LANGUAGES)
    assert language.default == i18n.DEFAULT_LOCALE == "en"
