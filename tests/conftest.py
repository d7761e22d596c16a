"""Shared fixtures: the fake Slack API, the Mobizon simulator and the bot, each on a loopback port."""

from __future__ import annotations

import gc

# Importing and collecting the suite builds a heap of a few hundred thousand objects that live
# as long as the process; the collector's full passes walked it again and again as it grew. Off
# until the tests are collected, then that heap is frozen (pytest_collection_finish).
gc.disable()

import asyncio
import atexit
import copy
import json
import logging
import os
import re
import shutil
import signal
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus, urlencode

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from slack_sdk.signature import SignatureVerifier

from bot.process.app import GATEWAY_SLEEP, create_app
from bot.process.logs import QUIET_LOGGERS, JsonFormatter, TextFormatter, install_filters
from bot.process.runtime import RUNTIME, Runtime
from bot.process.settings import Settings
from bot.process.tracking import NOTIFIER_CLOCK
from bot.simulator import DEFAULT_API_KEY, MobizonSimulator, SimulatorConfig, start_simulator
from storage.engine import Database
from storage.schema import open_database
from testkit.clock import FastForwardClock
from testkit.slack import BOT_TOKEN, FakeSlack
from testkit.waiting import wait_until
from tests import postgres
from tests.bytecode import precompile

SIGNING_SECRET = "fake-signing-secret-1234567890abcdef"
MOBIZON_KEY = "fake-mobizon-key-" + "9" * 23
WEBHOOK_SECRET = "fake-webhook-secret-42"
SECRETS = (BOT_TOKEN, SIGNING_SECRET, MOBIZON_KEY, WEBHOOK_SECRET)

#: Every secret a log line must not hold: the test settings' and the simulator's default key.
ALL_SECRETS = (*SECRETS, DEFAULT_API_KEY)

#: A full phone number in a log line: 10 or more digits standing alone (not part of an identifier
#: like s_8772895239673, nor a Slack ts like 1700000001.000001).
FULL_NUMBER = re.compile(r"(?<![\w.])\d{10,}(?!\w|\.\d)")

#: A phone number written with separators, as people type them: +55 (11) 98765-4321,
#: 11 98765-4321, +55.11.98765.4321. Groups of at most five digits (a Slack ts has a ten-digit
#: one), not part of a time (2026-11-30 09:15) nor an address (127.0.0.1:8080).
SPACED_NUMBER = re.compile(
    r"(?<![\w.:+\-])\+?\(?\d{1,5}\)?(?:[ .\-]\(?\d{1,5}\)?){2,}(?![\w:]|\.\d)"
)


def pytest_configure(config: pytest.Config) -> None:
    """As the controller, start the run's PostgreSQL server; as xdist's, compile once for all."""
    _interrupt_without_asyncio()
    _quiet_loggers_as_the_app_has_them()
    if hasattr(config, "workerinput"):
        return
    if getattr(config.option, "numprocesses", None):
        gc.enable()  # xdist's controller collects no tests: only its workers do
    # No test speaks TLS (every peer is on loopback, over HTTP): with no CA file to read, each
    # process the run starts (xdist's workers, every smsbot) spares the ~40 ms aiohttp spends
    # loading the system's certificates into two SSL contexts as it is imported.
    os.environ["SSL_CERT_FILE"] = os.devnull
    _temporary_files_in_memory()
    postgres.start(config)
    if getattr(config.option, "numprocesses", None):
        precompile(config)


#: A file system in memory, where the run's temporary folders go when it is there (pytest makes
#: its folders there private to the user, and checks their owner).
MEMORY_FILES = Path("/dev/shm")  # noqa: S108


def _temporary_files_in_memory() -> None:
    """Put the run's ``tmp_path`` folders in memory, unless told where (``PYTEST_DEBUG_TEMPROOT``).

    Most tests write a database or two under ``tmp_path`` (a copy of the migrated one, its WAL),
    and pytest removes the folders of older runs as a run ends: thousands of files made and
    deleted on a disk cost seconds of system time, in memory a fraction of it. As pytest
    makes them there, the folders are private to the run's user; no test depends on the disk.
    """
    if os.access(MEMORY_FILES, os.W_OK | os.X_OK):
        os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", str(MEMORY_FILES))


def _quiet_loggers_as_the_app_has_them() -> None:
    """APScheduler's and aiohttp's access lines from WARNING up, as ``configure_logging`` sets them.

    The app never writes their INFO lines (a dozen per bot started and one per HTTP request):
    the suite-wide log check need not make and format them either. A test that looks at them
    lowers the level itself (``tests/handlers/test_e2e_hostile.py``).
    """
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def _interrupt_without_asyncio() -> None:
    """Let Ctrl-C raise KeyboardInterrupt as Python's own handler does, from a handler of ours.

    ``asyncio.Runner`` puts a SIGINT handler of its own around every ``run`` (pytest-asyncio
    makes several at each test) only while Python's default one is installed; taking it back,
    it asks for the handler in place, and ``signal`` formats that handler, and the task it holds,
    into an error message it then drops: about 0.6 ms of each asynchronous test.
    """

    def interrupt(signum: int, frame: Any) -> None:
        signal.default_int_handler(signum, frame)

    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, interrupt)


def pytest_sessionstart(session: pytest.Session) -> None:
    """With no ``--log-file``, pytest's log file handler formats every record for /dev/null: not."""
    plugin = session.config.pluginmanager.get_plugin("logging-plugin")
    handler = getattr(plugin, "log_file_handler", None)
    if isinstance(handler, logging.FileHandler) and handler.baseFilename == os.devnull:
        handler.setLevel(logging.CRITICAL + 1)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The tests are collected: what was imported and built for them is kept out of full passes.

    Collected once (collection's garbage is not kept), then frozen (``gc.freeze``): the
    collector, on again, looks only at what the tests make, and pytest's last passes at exit
    are short (and so again after each module: ``pytest_runtest_teardown``). ``smsbot serve``
    freezes its own start-up heap the same way.
    """
    gc.collect()
    gc.freeze()
    gc.enable()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After a module's last test (its fixtures gone): its garbage collected, what lives frozen.

    What lives on is the process's (caches, the modules' own state): the full passes that the
    next modules' tests set off then look only at what those tests make, not at everything the
    worker made before them.
    """
    if nextitem is None or nextitem.path != item.path:
        gc.collect()
        gc.freeze()


#: The key of xdist's ``--dist`` in a worker's input (a worker's own options say "no").
DIST_INPUT = "smsbot_dist"

#: Modules whose tests take seconds each, mostly waiting (smsbot subprocesses, consoles, lock
#: timeouts, Slack's pacing) or computing (property tests, fuzzing): with the tests marked
#: ``slow`` (SIGKILL and restart), the long ones.
LONG_MODULES = frozenset(
    {
        "tests/bot/test_console.py",
        "tests/bot/test_console_portuguese.py",
        "tests/bot/test_console_terminal.py",
        "tests/bot/test_metrics.py",
        "tests/bot/test_serve.py",
        "tests/bot/test_socket_mode.py",
        "tests/sms/delivery/test_end_to_end.py",
        "tests/sms/delivery/test_locked_database.py",
        "tests/sms/delivery/test_moderation.py",
        "tests/handlers/grammar/test_properties.py",
        "tests/handlers/test_e2e_cancel.py",
        "tests/handlers/test_e2e_fuzz.py",
    }
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """As an xdist worker under ``--dist worksteal``: each worker's share starts with long tests.

    Worksteal gives each of the n workers one run of consecutive tests, and moves tests from
    the end of a busy worker's run to an idle one. Left in file order, the long tests sit in
    a few runs and end the suite late, one after another; spread at the head of every run they
    start at once, and the short ones fill in around them. Only the order changes.
    """
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None or workerinput.get(DIST_INPUT) != "worksteal":
        return
    items[:] = long_tests_first(items, int(workerinput["workercount"]))


def _is_slow(item: pytest.Item) -> bool:
    return item.get_closest_marker("slow") is not None


def _is_long(item: pytest.Item) -> bool:
    return item.nodeid.split("::", 1)[0] in LONG_MODULES or _is_slow(item)


def long_tests_first(items: list[pytest.Item], workers: int) -> list[pytest.Item]:
    """``items`` in the order that puts long tests at the head of each worker's first run.

    The runs are cut as worksteal cuts them: worker k takes ``left // (workers - k)`` tests.
    The ``slow`` ones come first (they wait on subprocesses most of their time: begun first,
    their waits overlap the other workers' start).
    """
    long = sorted((item for item in items if _is_long(item)), key=lambda item: not _is_slow(item))
    rest = iter([item for item in items if not _is_long(item)])
    ordered: list[pytest.Item] = []
    left = len(items)
    for k in range(workers):
        size = left // (workers - k)
        left -= size
        head = long[k::workers]
        ordered += head + [item for _, item in zip(range(size - len(head)), rest, strict=False)]
    ordered += rest
    return ordered


def pytest_configure_node(node: Any) -> None:
    """As xdist's controller, tell each worker the run's ``--dist`` and its PostgreSQL server."""
    node.workerinput[DIST_INPUT] = str(node.config.getoption("dist"))
    postgres.hand_over(node.config, node.workerinput)


def pytest_unconfigure(config: pytest.Config) -> None:
    """As the controller, stop the run's PostgreSQL server."""
    if not hasattr(config, "workerinput"):
        postgres.stop(config)


@pytest.fixture(scope="session")
def postgres_server(pytestconfig: pytest.Config) -> str:
    """The libpq URL of the run's PostgreSQL server (its ``postgres`` database)."""
    return postgres.server_url(pytestconfig)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: str) -> Iterator[str]:
    """The PostgreSQL database of this test process, migrated once; tests empty it before use."""
    url = postgres.create_database(postgres_server, "worker")
    open_database(url).close()
    yield url
    postgres.drop_database(postgres_server, url)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite database file of this test process, made once.

    :func:`copy_migrated` puts a copy where a test's bot or database is to be made: each is
    spared the migration (a few milliseconds), and still opens, checks and uses the file as it
    opens any existing one.
    """
    path = tmp_path_factory.mktemp("migrated") / "smsbot.db"
    open_database(path).close()  # the last connection gone, the file holds it all (no WAL left)
    return path


def copy_migrated(template: Path, where: str | os.PathLike[str]) -> None:
    """Copy the migrated database ``template`` to ``where``, unless something is there already."""
    if not os.path.lexists(where):
        shutil.copyfile(template, where)


@pytest.fixture
def fresh_postgres_url(postgres_server: str) -> Iterator[str]:
    """An empty PostgreSQL database of this test's own (no schema yet), emptied after it."""
    url = postgres.take_database(postgres_server)
    yield url
    postgres.give_back(postgres_server, url)


def full_number_in(line: str) -> bool:
    """Whether ``line`` shows a full phone number: as digits, with separators, or URL-encoded."""
    decoded = unquote_plus(unquote_plus(line))
    if FULL_NUMBER.search(line) or FULL_NUMBER.search(decoded):
        return True
    return any(
        sum(c.isdigit() for c in match.group()) >= 10 for match in SPACED_NUMBER.finditer(decoded)
    )


def refusing_port() -> int:
    """A loopback port that refuses connections for the rest of the session.

    Its socket stays bound and never listens: a port only probed and closed could be taken by
    another server meanwhile (of this xdist worker or another), and answer. The test itself may
    still start a server on it (the socket allows address reuse, as asyncio's servers ask).
    """
    held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    held.bind(("127.0.0.1", 0))
    atexit.register(held.close)
    port: int = held.getsockname()[1]
    return port


class KeepRecords(logging.Handler):
    """Keeps a copy of every record from ``level`` up as it was logged (before any filter rewrites it)."""

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__(level=level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep a copy of ``record``."""
        self.records.append(copy.copy(record))


def formatted_lines(
    records: list[logging.LogRecord], secrets: tuple[str, ...] = ALL_SECRETS
) -> list[str]:
    """Each record as the app writes it, in JSON and in text, through the app's filters."""
    pipeline = logging.Handler()
    install_filters(pipeline, secrets=secrets)
    formatters = (JsonFormatter(), TextFormatter())
    lines: list[str] = []
    for record in records:
        clean = copy.copy(record)
        pipeline.filter(clean)  # as every handler of the app's filters it, once
        lines.extend(formatter.format(copy.copy(clean)) for formatter in formatters)
    return lines


def leaks_in(line: str) -> bool:
    """Whether a log line holds a secret or a full phone number."""
    return any(secret in line for secret in ALL_SECRETS) or full_number_in(line)


def log_leaks(records: list[logging.LogRecord]) -> list[str]:
    """The lines, formatted as the app formats them (filters included), that leak a secret or number."""
    return [line for line in formatted_lines(records) if leaks_in(line)]


@pytest.fixture(autouse=True)
def _logs_keep_secrets_and_numbers_out(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every INFO+ log record of every test, formatted by the app, holds no secret and no full number.

    A test that logs raw data on purpose opts out with ``@pytest.mark.raw_logs``.
    """
    if request.node.get_closest_marker("raw_logs") is not None:
        yield
        return
    keeper = KeepRecords()
    root = logging.getLogger()
    level = root.level
    root.addHandler(keeper)
    if level == logging.NOTSET or level > logging.INFO:
        root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(keeper)
        root.setLevel(level)
    leaks = log_leaks(keeper.records)
    assert not leaks, "log lines leak a secret or a full phone number:\n" + "\n".join(leaks)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A fake Slack Web API on a loopback port."""
    fake = FakeSlack()
    server = TestServer(fake.make_app(), host="127.0.0.1", port=0)
    await server.start_server()
    fake.url = str(server.make_url("/"))
    yield fake
    await server.close()


@pytest.fixture
def clock(fake_slack: FakeSlack) -> FastForwardClock:
    """A clock whose sleeps return at once, shared by the notifier and the fake Slack's pacing.

    The bots ``start_bot`` starts run their notifier on it: their posts are paced as Slack asks
    (on this clock) without the test waiting through the pacing, nor through the outbox's
    flush at their stop.
    """
    fast = FastForwardClock()
    fake_slack.clock = fast.monotonic
    return fast


@pytest.fixture
def simulator_config() -> SimulatorConfig:
    """The simulator's settings; override in a test module to change them."""
    return SimulatorConfig(api_key=MOBIZON_KEY, speed=1.0)


@pytest.fixture
async def simulator(
    simulator_config: SimulatorConfig,
) -> AsyncIterator[tuple[MobizonSimulator, str]]:
    """The Mobizon simulator on a loopback port, with its base URL."""
    sim, runner, url = await start_simulator(simulator_config)
    yield sim, url
    sim.release()  # answers a failed test held back must not hold up the shutdown
    await runner.cleanup()


@pytest.fixture
def sim(simulator: tuple[MobizonSimulator, str]) -> MobizonSimulator:
    """The simulator behind the ``bot`` fixture."""
    return simulator[0]


@dataclass
class BotHarness:
    """The running bot and a way to talk to it as Slack does."""

    url: str
    app: web.Application
    slack: FakeSlack
    settings: Settings
    session: aiohttp.ClientSession
    _trigger: int = 0
    sent: list[dict[str, str]] = field(default_factory=list)
    _db: Database | None = None

    @property
    def runtime(self) -> Runtime:
        """The bot's runtime objects (database, gateway, …)."""
        return self.app[RUNTIME]

    @property
    def db(self) -> Database:
        """A connection of the test's own to the bot's database file, for synchronous checks."""
        if self._db is None:
            self._db = open_database(self.settings.db_path)
        return self._db

    async def first_poll_cycle_done(self) -> None:
        """Wait until the poll cycle the bot runs as it starts is over.

        It settles, polls, watches moderation and looks up costs; on a loaded machine it may
        still be at work when a test drives its own poller, watch or lookup, and take their
        changes first.
        """

        async def over() -> bool:
            async with self.session.get(self.url + "metrics") as response:
                text = await response.text()
            ran = re.search(r"^smsbot_poll_cycle_duration_seconds_count (\S+)$", text, re.MULTILINE)
            running = [t for t in asyncio.all_tasks() if t.get_name() == "poll cycle"]
            return ran is not None and float(ran.group(1)) >= 1 and not running

        await wait_until(over, what="the start-up poll cycle to end")

    def close(self) -> None:
        """Close the test's own connection."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def command_body(self, text: str, **overrides: str) -> dict[str, str]:
        """A slash-command payload as Slack sends it."""
        self._trigger += 1
        body = {
            "token": "legacy-verification-token",
            "team_id": "T1",
            "team_domain": "acme",
            "channel_id": "C1",
            "channel_name": "support",
            "user_id": "U1",
            "user_name": "ana",
            "command": "/sms",
            "text": text,
            "api_app_id": "A1",
            "response_url": f"{self.slack.url}response/{self._trigger}",
            "trigger_id": f"1337.42.trigger{self._trigger}",
        }
        body.update(overrides)
        return body

    async def post_signed(
        self, raw: str, *, timestamp: int | None = None, secret: str = SIGNING_SECRET
    ) -> tuple[int, str]:
        """POST ``raw`` to /slack/events signed the way Slack signs it; return status and body."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=raw) or ""
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        }
        async with self.session.post(self.url + "slack/events", data=raw, headers=headers) as resp:
            return resp.status, await resp.text()

    async def command(self, text: str, **overrides: str) -> tuple[int, str]:
        """Send ``/sms text`` signed; return the HTTP status and the ack body."""
        body = self.command_body(text, **overrides)
        self.sent.append(body)
        return await self.post_signed(urlencode(body))

    async def post_payload(self, payload: dict[str, Any]) -> tuple[int, str]:
        """Post an interactivity payload (a click, a view submission, a shortcut) signed."""
        return await self.post_signed(urlencode({"payload": json.dumps(payload)}))


SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(tmp_path: Path) -> SettingsFactory:
    """Build settings for a bot wired to the fakes; keyword arguments override fields."""

    def build(slack: FakeSlack, mobizon_url: str | None, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "slack_bot_token": BOT_TOKEN,
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": slack.url + "api/",
            "mobizon_api_key": MOBIZON_KEY if mobizon_url else None,
            "mobizon_api_url": mobizon_url or "http://127.0.0.1:9",
            "db_path": str(tmp_path / "smsbot.db"),
            "poll_interval": 3600.0,
            "host": "127.0.0.1",
            "port": 0,
        }
        values.update(overrides)
        return Settings(**values)

    return build


@pytest.fixture
async def start_bot(
    fake_slack: FakeSlack,
    make_settings: SettingsFactory,
    migrated_sqlite: Path,
    clock: FastForwardClock,
) -> AsyncIterator[Callable[..., Any]]:
    """Start the bot on a loopback port with the given settings; everything is closed after.

    A SQLite database not there yet starts as a copy of the migrated one (``migrated_sqlite``).
    The bot's notifier runs on ``clock``: its pacing is kept, its sleeps skipped. The Mobizon
    client's waits between the tries of a call are skipped too, on a clock of their own.
    """
    gateway_clock = FastForwardClock()
    servers: list[TestServer] = []
    sessions: list[aiohttp.ClientSession] = []
    harnesses: list[BotHarness] = []

    async def start(mobizon_url: str | None, **overrides: Any) -> BotHarness:
        settings = make_settings(fake_slack, mobizon_url, **overrides)
        where = settings.database
        if where.engine == "sqlite" and not where.memory:
            copy_migrated(migrated_sqlite, where.address)
        app = create_app(settings)
        app[NOTIFIER_CLOCK] = clock
        app[GATEWAY_SLEEP] = gateway_clock.sleep
        server = TestServer(app, host="127.0.0.1", port=0)
        await server.start_server()
        servers.append(server)
        session = aiohttp.ClientSession()
        sessions.append(session)
        harness = BotHarness(str(server.make_url("/")), app, fake_slack, settings, session)
        harnesses.append(harness)
        return harness

    yield start
    for harness in harnesses:
        harness.close()
    for session in sessions:
        await session.close()
    for server in servers:
        await server.close()


@pytest.fixture
async def bot(simulator: tuple[MobizonSimulator, str], start_bot: Callable[..., Any]) -> BotHarness:
    """The bot wired to the fake Slack and the simulator (as if it were the real Mobizon)."""
    harness: BotHarness = await start_bot(simulator[1])
    return harness
