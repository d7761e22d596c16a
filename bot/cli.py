"""The command line: ``smsbot serve``, ``smsbot console``, ``smsbot simulator`` (same as ``python -m bot``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from aiohttp import web

from bot.logs import configure_logging
from bot.settings import Mode, Settings, SettingsError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smsbot",
        description="Send SMS from Slack through Mobizon and see delivery reported in the channel.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the Slack app (HTTP on HOST:PORT, or Socket Mode)")
    con = sub.add_parser("console", help="drive the bot from this terminal, without Slack")
    con.add_argument(
        "--linger",
        type=float,
        default=60.0,
        help="after the end of input, wait this many seconds for pending deliveries (default 60)",
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command named on the command line; return the process exit code."""
    args = _parser().parse_args(argv)
    if args.command == "simulator":
        from bot.simulator import SimulatorConfig, run  # noqa: PLC0415  # only this command needs it

        configure_logging(secrets=(), fmt="auto")
        secret = args.webhook_secret or os.environ.get("MOBIZON_WEBHOOK_SECRET") or None
        run(
            args.host,
            args.port,
            SimulatorConfig(speed=args.speed, webhook_url=args.webhook_url, webhook_secret=secret),
        )
        return 0
    mode: Mode = "console" if args.command == "console" else "http"
    try:
        settings = Settings.from_env(os.environ, mode=mode)
    except SettingsError as err:
        print(err, file=sys.stderr)  # noqa: T201  # start-up errors go to the operator's terminal
        return 2
    configure_logging(
        secrets=settings.secrets(),
        fmt=settings.log_format,
        mask_numbers=not settings.show_full_numbers,
        level=logging.WARNING if mode == "console" else logging.INFO,
    )
    if args.command == "console":
        from bot.console import run_console  # noqa: PLC0415  # only this command needs it

        return asyncio.run(run_console(settings, linger=args.linger))
    from bot.app import create_app  # noqa: PLC0415  # imported after logging is set up

    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        print=None,
        shutdown_timeout=10.0,
    )
    return 0
