"""Serving a simulator on a loopback port: for tests and the sandbox, or until interrupted."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable
from datetime import datetime, tzinfo
from pathlib import Path

from aiohttp import web

from bot.simulator._config import SimulatorConfig
from bot.simulator._requests import RedactingAccessLogger
from bot.simulator._simulator import MobizonSimulator


async def start_simulator(
    config: SimulatorConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Callable[[], datetime] | None = None,
    state_path: Path | None = None,
    timezone: tzinfo | None = None,
) -> tuple[MobizonSimulator, web.AppRunner, str]:
    """Serve a new simulator on ``host:port`` (0: any free port), its state kept in ``state_path``.

    Returns the simulator, the runner (the caller awaits ``runner.cleanup()``) and the
    base URL, e.g. ``http://127.0.0.1:40123``.
    """
    simulator = MobizonSimulator(config, clock=clock, state_path=state_path, timezone=timezone)
    runner = web.AppRunner(simulator.make_app(), access_log_class=RedactingAccessLogger)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError:
        await runner.cleanup()
        raise
    bound_host, bound_port = runner.addresses[0][:2]
    shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
    return simulator, runner, f"http://{shown_host}:{bound_port}"


def run(host: str, port: int, config: SimulatorConfig) -> None:
    """Serve the simulator until SIGINT or SIGTERM; print one line with its URL and key."""
    asyncio.run(_serve(host, port, config))


async def _serve(host: str, port: int, config: SimulatorConfig) -> None:
    _simulator, runner, url = await start_simulator(config, host=host, port=port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        sys.stdout.write(f"Mobizon simulator on {url} (API key {config.api_key})\n")
        sys.stdout.flush()
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await runner.cleanup()
