"""The command line (``smsbot`` or ``python -m bot``): ``serve``, ``console`` and ``simulator``."""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import logging
import os
import signal
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.process.settings import Mode, Settings
    from bot.simulator import SimulatorConfig

# Each command imports its own machinery when it runs (``--version`` and a refused setting need
# none of aiohttp, Bolt, the listeners or SQLAlchemy): the imports are the most of a short run.

logger = logging.getLogger("bot.cli")

#: How long the server waits for HTTP requests in progress when it stops.
HTTP_SHUTDOWN_TIMEOUT = 10.0
#: Connections the kernel queues for the server while it is busy: Slack sends commands in bursts,
#: and a connection refused by a full queue is retried only after 1 s (aiohttp's default: 128).
LISTEN_BACKLOG = 1024


def installed_version() -> str:
    """The version of the installed smsbot package, from its metadata."""
    try:
        return importlib.metadata.version("smsbot")
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"


def _amount(text: str) -> Decimal:
    """Read an amount of money (``10``, ``0.0950``) for a command-line option."""
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not an amount such as 10 or 0.0950")
    return amount


_EXIT_CODES = (
    "exit codes: 0 every check passed; 1 a check could not be made (no connection, a timeout,\n"
    "an outage: the setting may be right); 2 a setting is missing, malformed or refused."
)


class _Command(argparse.ArgumentParser):
    """A command; with ``variables``, its help ends with the environment variables smsbot reads.

    The table is made when the help is shown, not each time the command line is read.
    """

    def __init__(self, *args: Any, variables: bool = False, **kwargs: Any) -> None:  # noqa: ANN401  # argparse's own
        super().__init__(*args, **kwargs)
        self._variables = variables
        self._epilog = self.epilog

    def format_help(self) -> str:
        """The help, with the table of every variable read (:mod:`bot.process.environment`)."""
        if self._variables:
            from bot.process.environment import variables_help  # noqa: PLC0415  # help only

            parts = (self._epilog, variables_help())
            self.epilog = "\n\n".join(part for part in parts if part)
        return super().format_help()


def _parser() -> argparse.ArgumentParser:
    version = f"smsbot {installed_version()}"
    parser = argparse.ArgumentParser(
        prog="smsbot",
        description="Send SMS from Slack through Mobizon and see delivery reported in the channel.",
        epilog="`smsbot serve --help` lists the environment variables smsbot reads.",
    )
    parser.add_argument("--version", action="version", version=version)
    # not required: ``smsbot`` alone prints this help
    sub = parser.add_subparsers(
        dest="command", metavar="{serve,check,console,simulator}", parser_class=_Command
    )
    sub.add_parser(
        "serve",
        help="run the Slack app (HTTP on HOST:PORT, or Socket Mode)",
        description="Run the Slack app. At start it says whether SMS are real (and through which "
        "Mobizon) or simulated, and checks SLACK_BOT_TOKEN and MOBIZON_API_KEY: a refused one "
        "stops it (exit 2); one that cannot be checked (no connection) is a warning.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        variables=True,
    )
    sub.add_parser(
        "check",
        help="check the settings `serve` would use (Slack token, Mobizon key); say what it found",
        description="Check the settings `smsbot serve` would start with, as it does at start: "
        "the database, live or sandbox and which Mobizon, Slack's answer to SLACK_BOT_TOKEN, "
        "Mobizon's to MOBIZON_API_KEY (with the balance), the webhook secret, HTTP or Socket "
        "Mode. Nothing is sent and the database is not opened.",
        epilog=_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        variables=True,
    )
    con = sub.add_parser("console", help="drive the bot from this terminal, without Slack")
    con.add_argument(
        "--linger",
        type=float,
        default=60.0,
        help="after the end of piped input, wait this many seconds for pending deliveries "
        "(default 60)",
    )
    con.add_argument(
        "--live",
        action="store_true",
        help="send real SMS through Mobizon with MOBIZON_API_KEY (default: the built-in simulator)",
    )
    sim = sub.add_parser("simulator", help="run the Mobizon simulator on its own")
    sim.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sim.add_argument("--port", type=int, default=8099, help="port to listen on (default 8099)")
    sim.add_argument("--speed", type=float, default=1.0, help="how much faster statuses advance")
    sim.add_argument("--webhook-url", default=None, help="POST delivery webhooks to this URL")
    sim.add_argument(
        "--webhook-secret",
        default=None,
        help="sign webhooks with this secret (default: $MOBIZON_WEBHOOK_SECRET if set)",
    )
    sim.add_argument(
        "--moderation",
        choices=("off", "approve", "decline"),
        default="off",
        help="hold every campaign in moderation, then approve or decline it (default off)",
    )
    sim.add_argument(
        "--moderation-seconds",
        type=float,
        default=1.0,
        help="how long moderation takes at --speed 1 (default 1)",
    )
    sim.add_argument(
        "--decline-comment",
        default="Declined by the simulated moderator",
        help="the moderator's comment on declined campaigns",
    )
    sim.add_argument(
        "--balance", type=_amount, default=Decimal(10000), help="starting balance (default 10000)"
    )
    sim.add_argument("--currency", default="BRL", help="the account's currency (default BRL)")
    sim.add_argument(
        "--segment-price",
        type=_amount,
        default=Decimal("0.0600"),
        help="what each SMS segment costs (default 0.0600)",
    )
    sim.add_argument(
        "--sender-name",
        action="append",
        dest="sender_names",
        help="a sender name of the account (repeat for more; default SMSBOT)",
    )
    for command in sub.choices.values():
        command.add_argument("--version", action="version", version=version)
    return parser


def simulator_config(args: argparse.Namespace, webhook_secret: str | None) -> SimulatorConfig:
    """The standalone simulator's settings from the ``simulator`` command's options.

    Raises ValueError, in words, for settings the simulator refuses (e.g. ``--speed 0``).
    """
    from bot.simulator import SimulatorConfig  # noqa: PLC0415  # only this command needs it

    return SimulatorConfig(
        speed=args.speed,
        webhook_url=args.webhook_url,
        webhook_secret=webhook_secret,
        moderation=args.moderation != "off",
        moderation_seconds=args.moderation_seconds,
        decline_comment=args.decline_comment if args.moderation == "decline" else None,
        balance=args.balance,
        currency=args.currency.strip().upper(),
        segment_price=args.segment_price,
        sender_names=tuple(args.sender_names or ("SMSBOT",)),
    )


def _run_simulator(args: argparse.Namespace) -> int:
    """``smsbot simulator``: a standalone fake Mobizon until interrupted."""
    from bot.process.logs import configure_logging  # noqa: PLC0415
    from bot.simulator import run  # noqa: PLC0415  # only this command needs it

    secret = args.webhook_secret or os.environ.get("MOBIZON_WEBHOOK_SECRET") or None
    try:
        config = simulator_config(args, secret)
    except ValueError as err:
        print(f"smsbot simulator: {err}", file=sys.stderr)  # noqa: T201  # the operator's terminal
        return 2
    configure_logging(secrets=(), fmt="auto")  # only once the options are good
    run(args.host, args.port, config)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command named on the command line; return the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "simulator":
        return _run_simulator(args)
    settings = _read_settings(args)
    if settings is None:
        return 2
    from bot.process.logs import configure_logging  # noqa: PLC0415  # after the settings are read
    from bot.simulator import DEFAULT_API_KEY  # noqa: PLC0415

    configure_logging(
        # the sandbox simulator's key is not secret, but it stays out of logs all the same
        secrets=(*settings.secrets(), DEFAULT_API_KEY) if settings.sandbox else settings.secrets(),
        fmt=settings.log_format,
        mask_numbers=not settings.show_full_numbers,
        level=logging.INFO if args.command == "serve" else logging.WARNING,
    )
    if args.command == "console":
        return _run_console(settings, linger=args.linger)
    return asyncio.run(check(settings) if args.command == "check" else serve(settings))


def _run_console(settings: Settings, *, linger: float) -> int:
    from bot.console.session import run_console  # noqa: PLC0415  # only this command needs it
    from storage.owner import DatabaseInUseError, own_database  # noqa: PLC0415

    try:
        owner = own_database(settings.database)
    except DatabaseInUseError as err:
        print(f"smsbot cannot start: {err}", file=sys.stderr)  # noqa: T201  # the operator's terminal
        return 2
    try:
        return asyncio.run(run_console(settings, linger=linger))
    except KeyboardInterrupt:  # Ctrl-C while a command ran: asyncio.run cleaned up
        return 130
    finally:
        if owner is not None:
            owner.release()


def _read_settings(args: argparse.Namespace) -> Settings | None:
    """The settings of ``serve``, ``check`` or ``console``; ``None`` once refusals are printed."""
    from bot.process.settings import Settings, SettingsError  # noqa: PLC0415

    mode: Mode = "console" if args.command == "console" else "http"
    # the console runs the simulator unless --live: a key exported in the shell is not enough
    # to send real SMS (which cost money), and it is not even read
    sandbox = args.command == "console" and not args.live
    try:
        settings = Settings.from_env(os.environ, mode=mode, sandbox=sandbox)
    except SettingsError as err:
        print(err, file=sys.stderr)  # noqa: T201  # start-up errors go to the operator's terminal
        return None
    if args.command == "console" and args.live and settings.sandbox:
        print(  # noqa: T201  # start-up errors go to the operator's terminal
            "smsbot cannot start: --live sends real SMS and needs MOBIZON_API_KEY "
            "(and SMSBOT_SANDBOX unset).",
            file=sys.stderr,
        )
        return None
    return settings


async def check(settings: Settings) -> int:
    """``smsbot check``: run the start-up checks, print what they found; return the exit code."""
    from bot.process.preflight import exit_code, report, run_checks  # noqa: PLC0415

    findings = await run_checks(settings)
    for line in report(settings, findings):
        print(line)  # noqa: T201  # the operator's terminal
    return exit_code(findings)


async def _start_checks(settings: Settings) -> bool:
    """Say what this run talks to, run the start-up checks and log them; True when one refused."""
    from bot.process.preflight import Outcome, origin, run_checks  # noqa: PLC0415

    if not settings.sandbox:
        host = origin(settings.mobizon_api_url)
        logger.info(
            "LIVE MODE: SMS go to Mobizon at %s and are sent for real (each one is billed)",
            host,
            extra={"mobizon": host, "live": True},
        )
    refused = False
    for finding in await run_checks(settings):
        if finding.outcome is Outcome.OK:
            logger.info("%s", finding.sentence, extra=finding.found)
        elif finding.outcome is Outcome.UNCONFIRMED:
            logger.warning("start-up check not confirmed: %s; starting anyway", finding.sentence)
        elif finding.outcome is Outcome.REFUSED:
            logger.error("smsbot cannot start: %s", finding.sentence)
            refused = True
    return refused


async def serve(settings: Settings) -> int:
    """Serve until SIGTERM or SIGINT, then shut down gracefully; return the exit code.

    Starting: say whether SMS are real, check the Slack token and the Mobizon key (a refusal
    stops it with exit code 2). Shutting down: stop taking requests (HTTP and Socket Mode), let
    the sends in flight finish, flush the outbox within a deadline, close the database. On a
    SQLite file another process runs on, refused with exit code 2.
    """
    if await _start_checks(settings):
        return 2
    from storage.owner import DatabaseInUseError, own_database  # noqa: PLC0415  # loads SQLAlchemy

    try:
        owner = own_database(settings.database)
    except DatabaseInUseError as err:
        logger.error("smsbot cannot start: %s", err)  # noqa: TRY400  # the sentence is enough
        return 2
    try:
        return await _serve(settings)
    finally:
        if owner is not None:
            owner.release()


async def _serve(settings: Settings) -> int:
    """Serve (the database is this process's to use) until SIGTERM or SIGINT."""
    from aiohttp import web  # noqa: PLC0415

    from bot.process.app import create_app  # noqa: PLC0415  # after logging
    from bot.process.quiet import quiet_collection  # noqa: PLC0415  # after logging

    runner = web.AppRunner(
        create_app(settings, extra_lifetimes=(quiet_collection(),)),
        handle_signals=False,
        shutdown_timeout=HTTP_SHUTDOWN_TIMEOUT,
    )
    try:
        await runner.setup()
        await web.TCPSite(runner, settings.host, settings.port, backlog=LISTEN_BACKLOG).start()
    except Exception as err:  # noqa: BLE001  # any start-up failure: one sentence, exit 1
        logger.error("smsbot could not start: %s", err)  # noqa: TRY400  # the sentence is enough
        await runner.cleanup()
        return 1
    stop = asyncio.Event()
    received: list[str] = []

    def on_signal(sig: signal.Signals) -> None:
        received.append(sig.name)
        stop.set()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    host, port = runner.addresses[0][:2]
    logger.info(
        "smsbot listening on http://%s:%s (%s)",
        host,
        port,
        "Slack over Socket Mode" if settings.socket_mode else "Slack events at /slack/events",
        extra={"port": port},
    )
    await stop.wait()
    logger.info(
        "%s received: no new requests; finishing sends in flight and flushing the outbox",
        received[0] if received else "stop",
    )
    await runner.cleanup()
    logger.info("smsbot stopped")
    return 0
