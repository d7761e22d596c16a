"""The Mobizon simulator in its own process, with a small control API for the benchmarks.

``python bench/_sim_server.py --latency 0.05`` serves the simulator on 127.0.0.1 and prints its
base URL on the first line. Besides Mobizon's ``/service/...`` it answers:

- ``POST /bench/populate?n=N&status=S``: create N messages pinned to status S; JSON list of ids;
- ``POST /bench/set_status`` with JSON ``{"ids": [...], "status": "DELIVRD"}``;
- ``GET /bench/counts``: requests received so far, per Message method.

Running it apart keeps the benchmark process's CPU figures free of the simulator's work.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from aiohttp import web

from bot.simulator import MESSAGE_METHODS, MobizonSimulator, SimulatorConfig


def build(simulator: MobizonSimulator) -> web.Application:
    """The simulator's application plus the control routes."""
    app = simulator.make_app()

    async def populate(request: web.Request) -> web.Response:
        n = int(request.query["n"])
        status = request.query.get("status", "ACCEPTD")
        ids = []
        for i in range(n):
            message = simulator.create_message("5511987654321", f"benchmark SMS {i}")
            simulator.set_status(message.id, status)
            ids.append(message.id)
        return web.json_response(ids)

    async def set_status(request: web.Request) -> web.Response:
        body = await request.json()
        for message_id in body["ids"]:
            simulator.set_status(int(message_id), str(body["status"]))
        return web.json_response({"ok": True})

    async def counts(_request: web.Request) -> web.Response:
        found = dict.fromkeys(MESSAGE_METHODS, 0)
        for recorded in simulator.requests:
            found[recorded.method] = found.get(recorded.method, 0) + 1
        return web.json_response(found)

    app.router.add_post("/bench/populate", populate)
    app.router.add_post("/bench/set_status", set_status)
    app.router.add_get("/bench/counts", counts)
    return app


async def serve(latency: float, api_key: str) -> None:
    """Serve until SIGTERM or SIGINT; print the base URL first."""
    simulator = MobizonSimulator(SimulatorConfig(api_key=api_key, latency=latency))
    runner = web.AppRunner(build(simulator), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    sys.stdout.write(f"http://{host}:{port}\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--api-key", required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.latency, args.api_key))
