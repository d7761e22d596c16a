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
from typing import TYPE_CHECKING

from aiohttp import web

from bot.logs import configure_logging
from bot.settings import Mode, Settings, SettingsError

if TYPE_CHECKING:
    from bot.simulator import SimulatorConfig

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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smsbot",
        description="Send SMS from Slack through Mobizon and see delivery reported in the channel.",
    )
    parser.add_argument("--version", action="version", version=f"smsbot {installed_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the Slack app (HTTP on HOST:PORT, or Socket Mode)")
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
    args = _parser().parse_args(argv)
    if args.command == "simulator":
        return _run_simulator(args)
    mode: Mode = "console" if args.command == "console" else "http"
    try:
        settings = Settings.from_env(os.environ, mode=mode)
    except SettingsError as err:
        print(err, file=sys.stderr)  # noqa: T201  # start-up errors go to the operator's terminal
        return 2
    if args.command == "console":
        if not args.live:
            # real SMS cost money: a key exported in the shell is not enough to send them
            settings = settings.sandboxed()
        elif settings.sandbox:
            print(  # noqa: T201  # start-up errors go to the operator's terminal
                "smsbot cannot start: --live sends real SMS and needs MOBIZON_API_KEY "
                "(and SMSBOT_SANDBOX unset).",
                file=sys.stderr,
            )
            return 2
    from bot.simulator import DEFAULT_API_KEY  # noqa: PLC0415  # after the settings are read

    configure_logging(
        # the sandbox simulator's key is not secret, but it stays out of logs all the same
        secrets=(*settings.secrets(), DEFAULT_API_KEY) if settings.sandbox else settings.secrets(),
        fmt=settings.log_format,
        mask_numbers=not settings.show_full_numbers,
        level=logging.WARNING if mode == "console" else logging.INFO,
    )
    if args.command == "console":
        from bot.console import run_console  # noqa: PLC0415  # only this command needs it

        try:
            return asyncio.run(run_console(settings, linger=args.linger))
        except KeyboardInterrupt:  # Ctrl-C while a command ran: asyncio.run cleaned up
            return 130
    return asyncio.run(serve(settings))


async def serve(settings: Settings) -> int:
    """Serve until SIGTERM or SIGINT, then shut down gracefully; return the exit code.

    Shutting down: stop taking requests (HTTP and Socket Mode), let the sends in flight finish,
    flush the outbox within a deadline, close the database.
    """
    from bot.app import create_app  # noqa: PLC0415  # imported after logging is set up

    runner = web.AppRunner(
        create_app(settings), handle_signals=False, shutdown_timeout=HTTP_SHUTDOWN_TIMEOUT
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
