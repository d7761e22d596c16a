"""Send to many: a 10,000-row CSV from the compose modal, previewed, confirmed, sent (issue 21).

``smsbot serve`` runs as a subprocess; its Slack is an in-bench FakeSlack holding a CSV file of
``--rows`` rows (``telefone;nome;cidade``, every number different) that ``files.info`` describes
and ``url_private`` serves; its Mobizon is an in-bench simulator answering after
``--mobizon-latency`` that records when each request began and ended. The bench:

1. opens the compose modal (``/sms`` alone) and submits it with the file and a text of two
   placeholders (a signed ``view_submission``): the submission's ack (Slack's limit: 3 s), then
   how long after the ack the preview (``chat.postEphemeral`` with "Send to N") reached Slack;
2. clicks "Send to N" (a signed ``block_actions``, ``campaign_confirm``): the
   ``campaign/addrecipients`` requests (three form fields a recipient, at most 1,000 fields a
   request: 31 for 10,000 rows) and whether any two overlapped;
3. reads the bot's RSS (``/proc``) before the submission and once the campaign is sent;
4. moves the 10,000 messages to their final statuses over ``--status-seconds`` (``--failed`` of
   them ``UNDELIV``, the rest ``DELIVRD``) with one signed delivery webhook each, as Mobizon
   does, and counts the campaign message's ``chat.update`` edits and their spacing, the summary
   replies in its thread, the CSV files uploaded there and any other post in the channel;
5. times a handful of ``/sms send`` acks (another channel) before, during the statuses and after.

Prints the figures against the issue's targets. It never asserts a timing.

    python bench/campaign.py [--rows 10000] [--engine sqlite|postgresql] [--status-seconds 60]
                             [--failed 0.01] [--mobizon-latency 0.1] [--singles 10]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import os
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from _common import (
    MOBIZON_KEY,
    BotProcess,
    add_engine_option,
    bench_databases,
    command_request,
    machine,
    payload_request,
    print_table,
    read_rows,
    start_fake_slack,
    stats_ms,
    webhook_body,
)
from _slack import Accepted, RecordingSlack
from aiohttp import web

from bot.simulator import MobizonSimulator, SimulatorConfig
from handlers.campaign_posts import CSV_ABOVE, EDIT_INTERVAL
from handlers.campaign_preview import CONFIRM_ACTION
from handlers.views.compose import action_id
from testkit.waiting import wait_until

SLACK_ACK_LIMIT = 3.0
PREVIEW_LIMIT = 3.0
RSS_LIMIT_MB = 50.0
#: An edit is timed here when Slack took it, not when the reporter claimed it (its interval's
#: clock): a step's database work and a loaded machine move it by up to this much.
JITTER = 1.0
#: Mobizon's limit of form fields in one ``campaign/addrecipients`` request.
FIELDS_PER_REQUEST = 1000
CAMPAIGN_CHANNEL = "CCAMPAIGN"
SINGLES_CHANNEL = "CSINGLE"
TEXT = "Olá {nome}, seu pedido em {cidade} está pronto."
ADD_RECIPIENTS = "/service/campaign/addrecipients"
SEND = "/service/campaign/send"
MB = 1e6


def csv_bytes(rows: int) -> bytes:
    """A file of ``rows`` recipients as a spreadsheet in Brazil exports it, each number new."""
    lines = ["telefone;nome;cidade"]
    lines += [f"(11) 9{80_000_000 + row};Cliente {row};São Paulo" for row in range(rows)]
    return "\r\n".join(lines).encode("cp1252")


@dataclass(frozen=True, slots=True)
class Span:
    """One request the simulator answered: its path, and when it began and ended (monotonic)."""

    path: str
    began: float
    ended: float


async def start_timed_simulator(
    config: SimulatorConfig,
) -> tuple[MobizonSimulator, web.AppRunner, str, list[Span]]:
    """The simulator on a loopback port, each request's :class:`Span` recorded."""
    simulator = MobizonSimulator(config)
    app = simulator.make_app()
    spans: list[Span] = []

    @web.middleware
    async def timing(request: web.Request, handler: Any) -> web.StreamResponse:  # noqa: ANN401
        began = time.monotonic()
        try:
            response: web.StreamResponse = await handler(request)
            return response
        finally:
            spans.append(Span(request.path.lower(), began, time.monotonic()))

    app.middlewares.append(timing)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return simulator, runner, f"http://{host}:{port}", spans


@dataclass
class Singles:
    """``/sms send`` acks, in seconds, by when they were sent."""

    before: list[float] = field(default_factory=list)
    during: list[float] = field(default_factory=list)
    after: list[float] = field(default_factory=list)
    sent: int = 0

    async def send(self, session: aiohttp.ClientSession, bot_url: str, into: list[float]) -> None:
        """One ``/sms send`` in the singles' channel, its ack timed into ``into``."""
        self.sent += 1
        body, headers = command_request(
            f"send +55 11 98765-4321 single {self.sent}",
            trigger=f"single.{self.sent}",
            channel=SINGLES_CHANNEL,
        )
        seconds, _status, _text, _ended = await timed_post(
            session, bot_url + "slack/events", body, headers
        )
        into.append(seconds)

    async def burst(
        self, session: aiohttp.ClientSession, bot_url: str, into: list[float], n: int
    ) -> None:
        """``n`` sends one after another, a short pause between them."""
        for _ in range(n):
            await self.send(session, bot_url, into)
            await asyncio.sleep(0.2)


async def timed_post(
    session: aiohttp.ClientSession, url: str, body: str, headers: dict[str, str]
) -> tuple[float, int, str, float]:
    """POST ``body``: seconds to its full answer, its status, its text, and when it ended."""
    started = time.monotonic()
    async with session.post(url, data=body, headers=headers) as response:
        text = await response.text()
    ended = time.monotonic()
    return ended - started, response.status, text, ended


def interaction(kind: str, **fields: object) -> dict[str, object]:
    """An interactivity payload of ``kind`` from U1 in the bench's team."""
    return {
        "type": kind,
        "team": {"id": "TBENCH", "domain": "bench"},
        "user": {"id": "U1", "username": "bench", "team_id": "TBENCH"},
        "api_app_id": "ABENCH",
        "token": "legacy",
        **fields,
    }


def submission(view: dict[str, Any], file_info: dict[str, Any]) -> dict[str, object]:
    """The compose modal submitted with the file chosen and :data:`TEXT` typed."""
    values = {
        "sms_file": {
            action_id("sms_file"): {
                "type": "file_input",
                "files": [{"id": file_info["id"], "name": file_info["name"]}],
            }
        },
        "sms_text": {action_id("sms_text"): {"type": "plain_text_input", "value": TEXT}},
    }
    return interaction(
        "view_submission",
        trigger_id="1337.42.submit",
        view={**view, "state": {"values": values}},
    )


def click(button: dict[str, Any], response_url: str) -> dict[str, object]:
    """A click on the preview's ``button`` (an ephemeral message in the campaign's channel)."""
    return interaction(
        "block_actions",
        container={"type": "message", "message_ts": "1700000000.000001", "is_ephemeral": True},
        trigger_id="1337.42.click",
        channel={"id": CAMPAIGN_CHANNEL, "name": "campaign"},
        response_url=response_url,
        actions=[
            {
                "type": "button",
                "action_id": button["action_id"],
                "block_id": "campaign_preview",
                "text": button["text"],
                "value": button["value"],
                "action_ts": "1700000001.000002",
            }
        ],
    )


def confirm_button(blocks: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The preview's "Send to N" button, if it has one."""
    for block in blocks:
        if block.get("type") == "actions":
            for element in block["elements"]:
                if element.get("action_id") == CONFIRM_ACTION:
                    found: dict[str, Any] = element
                    return found
    return None


async def post_statuses(
    simulator: MobizonSimulator,
    bot_url: str,
    outcomes: list[tuple[int, str]],
    seconds: float,
) -> tuple[list[float], int, float]:
    """Each message to its status, evenly over ``seconds``, with one delivery webhook each.

    Returns each webhook's latency (to its 200), how many were answered 503 (busy: sent again a
    second later) and how long until the last was answered.
    """
    latencies: list[float] = []
    busy = 0
    slots = asyncio.Semaphore(50)
    started = time.monotonic()
    gap = seconds / max(1, len(outcomes))
    async with aiohttp.ClientSession() as session:

        async def one(event_id: int, message_id: int, status: str) -> None:
            nonlocal busy
            async with slots:
                began = time.monotonic()
                while True:
                    async with session.post(
                        bot_url + "mobizon/webhook",
                        data=webhook_body(event_id, message_id, status),
                        headers={"Content-Type": "application/json"},
                    ) as response:
                        await response.read()
                    if response.status != 503:
                        break
                    busy += 1
                    await asyncio.sleep(1.0)
                if response.status != 200:
                    raise RuntimeError(f"webhook answered {response.status}")
                latencies.append(time.monotonic() - began)

        tasks = []
        for n, (message_id, status) in enumerate(outcomes):
            delay = started + n * gap - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            simulator.set_status(message_id, status)
            tasks.append(asyncio.create_task(one(n + 1, message_id, status)))
        await asyncio.gather(*tasks)
    return latencies, busy, time.monotonic() - started


@dataclass
class Run:
    """What one send to many measured (times on ``time.monotonic()``)."""

    rows: int
    submit_ack: float = math.nan
    submit_answer: str = ""
    preview_after: float = math.nan
    button_text: str = ""
    click_ack: float = math.nan
    click_to_send: float = math.nan
    rss_before: int = 0
    rss_sent: int = 0
    hwm_sent: int = 0
    rss_end: int = 0
    hwm_end: int = 0
    failed: int = 0
    statuses_started: float = math.nan
    statuses_seconds: float = math.nan
    hook_latencies: list[float] = field(default_factory=list)
    hooks_busy: int = 0
    summary_after: float = math.nan
    finished: bool = False
    campaign_state: str = "?"
    final_sms: int = 0
    singles: Singles = field(default_factory=Singles)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="rows in the CSV file (10000)")
    parser.add_argument(
        "--status-seconds",
        type=float,
        default=60.0,
        help="over how long the final statuses arrive (60)",
    )
    parser.add_argument(
        "--failed", type=float, default=0.01, help="share of the messages undelivered (0.01)"
    )
    parser.add_argument(
        "--mobizon-latency", type=float, default=0.1, help="seconds before each answer (0.1)"
    )
    parser.add_argument("--singles", type=int, default=10, help="/sms send before and after (10)")
    add_engine_option(parser)
    return parser.parse_args()


async def open_modal(session: aiohttp.ClientSession, bot: BotProcess, slack: RecordingSlack) -> Any:  # noqa: ANN401
    """``/sms`` alone in the campaign's channel; the modal Slack was asked to open."""
    body, headers = command_request("", trigger="1337.42.open", channel=CAMPAIGN_CHANNEL)
    _seconds, status, _text, _ended = await timed_post(
        session, bot.url + "slack/events", body, headers
    )
    if status != 200:
        raise RuntimeError(f"/sms answered {status}")
    await slack.wait_for("views.open", timeout=30)
    return slack.views["V0001"]


@dataclass(frozen=True, slots=True)
class World:
    """The bot and the fakes it talks to, and the file in Slack."""

    bot: BotProcess
    slack: RecordingSlack
    simulator: MobizonSimulator
    spans: list[Span]
    file_info: dict[str, Any]


async def send_to_many(args: argparse.Namespace, world: World) -> Run:
    """Submit, preview, confirm, send, move every status, and wait for the summary."""
    bot, slack, simulator, spans = world.bot, world.slack, world.simulator, world.spans
    run = Run(rows=args.rows)
    async with aiohttp.ClientSession() as session:
        await run.singles.burst(session, bot.url, run.singles.before, args.singles)
        view = await open_modal(session, bot, slack)
        await asyncio.sleep(2)  # the modal's own work settles
        run.rss_before = bot.vm_rss_kib()

        body, headers = payload_request(submission(view, world.file_info))
        run.submit_ack, status, run.submit_answer, acked = await timed_post(
            session, bot.url + "slack/events", body, headers
        )
        if status != 200:
            raise RuntimeError(f"the submission answered {status}: {run.submit_answer[:200]}")
        (told,) = await slack.wait_for("chat.postEphemeral", timeout=60)
        run.preview_after = told.at - acked
        button = confirm_button(told.params.get("blocks") or [])
        if button is None:
            raise RuntimeError(f"the preview has no button: {str(told.params)[:300]}")
        run.button_text = str(button["text"]["text"])

        body, headers = payload_request(click(button, slack.url + "response/confirm"))
        run.click_ack, status, _text, clicked = await timed_post(
            session, bot.url + "slack/events", body, headers
        )
        if status != 200:
            raise RuntimeError(f"the click answered {status}")
        await wait_until(
            lambda: any(span.path == SEND for span in spans), within=300, interval=0.05
        )
        run.click_to_send = next(s.ended for s in spans if s.path == SEND) - clicked
        run.rss_sent, run.hwm_sent = bot.vm_rss_kib(), bot.vm_hwm_kib()

        (campaign,) = simulator.bulk_campaigns.values()
        ids = list(campaign.message_ids)
        random.Random(21).shuffle(ids)
        run.failed = round(len(ids) * args.failed)
        outcomes = [(mid, "UNDELIV" if n < run.failed else "DELIVRD") for n, mid in enumerate(ids)]
        random.Random(6).shuffle(outcomes)
        run.statuses_started = time.monotonic()
        during = asyncio.create_task(
            singles_during(session, bot.url, run.singles, args.status_seconds)
        )
        run.hook_latencies, run.hooks_busy, run.statuses_seconds = await post_statuses(
            simulator, bot.url, outcomes, args.status_seconds
        )
        await during

        def summed_up() -> bool:
            replies = summary_replies(slack)
            uploaded = any(f.get("channel") == CAMPAIGN_CHANNEL for f in slack.shared_files())
            return bool(replies) and (uploaded or run.failed <= CSV_ABOVE)

        run.finished = await wait_until(summed_up, within=180, interval=0.1, fail=False)
        last_status = run.statuses_started + run.statuses_seconds
        first_reply = min((p.at for p in summary_replies(slack)), default=math.nan)
        run.summary_after = first_reply - last_status
        await asyncio.sleep(EDIT_INTERVAL.total_seconds() * 2)  # any late edit or second reply
        await run.singles.burst(session, bot.url, run.singles.after, args.singles)
        run.rss_end, run.hwm_end = bot.vm_rss_kib(), bot.vm_hwm_kib()
    return run


async def singles_during(
    session: aiohttp.ClientSession, bot_url: str, singles: Singles, seconds: float
) -> None:
    """A ``/sms send`` every few seconds while the statuses arrive."""
    started = time.monotonic()
    while time.monotonic() - started < seconds - 1:
        await singles.send(session, bot_url, singles.during)
        await asyncio.sleep(max(1.0, seconds / 12))


def summary_replies(slack: RecordingSlack) -> list[Accepted]:
    """The replies Slack took in a thread of the campaign's channel."""
    return [
        p
        for p in slack.accepted
        if p.channel == CAMPAIGN_CHANNEL and p.method == "chat.postMessage" and p.ts
    ]


def refused_at(slack: RecordingSlack, run: Run) -> str:
    """When Slack answered 429 in the campaign's channel, in s after the first status."""
    times = [
        at - run.statuses_started
        for channel, at, _via in slack.refused
        if channel == CAMPAIGN_CHANNEL
    ]
    return ", ".join(f"{t:.1f}" for t in times[:20]) + (" ..." if len(times) > 20 else "")


def overlaps(spans: list[Span]) -> int:
    """How many requests began before the one before them had been answered."""
    ordered = sorted(spans, key=lambda span: span.began)
    return sum(1 for a, b in itertools.pairwise(ordered) if b.began < a.ended)


def gaps(times: list[float]) -> list[float]:
    """Seconds between consecutive moments."""
    ordered = sorted(times)
    return [b - a for a, b in itertools.pairwise(ordered)]


def met(ok: bool) -> str:
    """``yes`` or ``**no**``."""
    return "yes" if ok else "**no**"


def ms(seconds: float) -> str:
    """Seconds written in milliseconds."""
    return f"{seconds * 1000:.0f} ms"


def report(args: argparse.Namespace, run: Run, slack: RecordingSlack, spans: list[Span]) -> None:
    """The figures against the targets."""
    adds = [span for span in spans if span.path == ADD_RECIPIENTS]
    placeholders = len(re.findall(r"\{\w+\}", TEXT))
    fields_each = 1 + placeholders
    least = math.ceil(args.rows / min(500, FIELDS_PER_REQUEST // fields_each))
    overlapping = overlaps(adds)
    top = [
        p
        for p in slack.accepted
        if p.channel == CAMPAIGN_CHANNEL and p.method == "chat.postMessage" and not p.ts
    ]
    message_ts = [
        str(c.params.get("ts"))
        for c in slack.called("chat.update")
        if c.params.get("channel") == CAMPAIGN_CHANNEL
    ]
    campaign_ts = message_ts[0] if message_ts else ""
    edits = [p.at for p in slack.accepted if p.method == "chat.update" and p.ts == campaign_ts]
    edits_during = [
        at
        for at in edits
        if run.statuses_started <= at <= run.statuses_started + run.statuses_seconds
    ]
    replies = summary_replies(slack)
    uploads = [f for f in slack.shared_files() if f.get("channel") == CAMPAIGN_CHANNEL]
    posts = [
        p
        for p in slack.accepted
        if p.channel == CAMPAIGN_CHANNEL and p.method == "chat.postMessage"
    ]
    other_posts = len(posts) - min(1, len(top)) - min(1, len(replies))
    other_edits = sum(
        1 for p in slack.accepted if p.channel == CAMPAIGN_CHANNEL and p.method == "chat.update"
    ) - len(edits)
    spacing = gaps(edits_during)
    median_gap = sorted(spacing)[len(spacing) // 2] if spacing else math.nan
    growth = (run.rss_sent - run.rss_before) * 1024 / MB
    peak_growth = (run.hwm_sent - run.rss_before) * 1024 / MB
    interval = EDIT_INTERVAL.total_seconds()
    csv_owed = 1 if run.failed > CSV_ABOVE else 0
    webhooks = "p50 / p99 / max " + " / ".join(stats_ms(run.hook_latencies))
    rows: list[list[object]] = [
        ["submission's ack", ms(run.submit_ack), "< 3 s", met(run.submit_ack < SLACK_ACK_LIMIT)],
        [
            "preview after the ack",
            ms(run.preview_after),
            "< 3 s",
            met(run.preview_after < PREVIEW_LIMIT),
        ],
        [
            "the preview's button",
            f'"{run.button_text}"',
            f"Send to {args.rows:,}",
            met(run.button_text.replace(",", "") == f"Send to {args.rows}"),
        ],
        ["click's ack", ms(run.click_ack), "< 3 s", met(run.click_ack < SLACK_ACK_LIMIT)],
        [
            "`campaign/addrecipients` requests",
            len(adds),
            f">= {least} ({fields_each} fields a recipient)",
            met(len(adds) >= least),
        ],
        [
            "of them begun before the one before was answered",
            overlapping,
            "0",
            met(not overlapping),
        ],
        ["click to `campaign/send` answered", f"{run.click_to_send:.1f} s", "-", ""],
        [
            "RSS growth, before the submission to the campaign sent",
            f"{growth:.1f} MB ({run.rss_before / 1024:.0f} to {run.rss_sent / 1024:.0f} MiB)",
            "< 50 MB",
            met(growth < RSS_LIMIT_MB),
        ],
        ["peak RSS (VmHWM) over RSS before the submission", f"{peak_growth:.1f} MB", "-", ""],
        [
            "final statuses (one webhook each)",
            (
                f"{args.rows:,} over {run.statuses_seconds:.1f} s, {run.failed} UNDELIV; webhooks "
                f"{webhooks}, {run.hooks_busy} answered 503"
            ),
            "-",
            "",
        ],
        [
            "campaign message edits while they arrived (as Slack took them)",
            (
                f"{len(edits_during)} (in all {len(edits)}); apart: min "
                f"{min(spacing, default=math.nan):.1f} s, median {median_gap:.1f} s; "
                f"all edits min {min(gaps(edits), default=math.nan):.1f} s"
            ),
            f"one per {interval:.0f} s (± {JITTER:.0f} s: claimed at a step, taken later)",
            met(min(gaps(edits), default=interval) >= interval - JITTER),
        ],
        ["summary replies in its thread", len(replies), "1", met(len(replies) == 1)],
        ["summary after the last status", f"{run.summary_after:.1f} s", "-", ""],
        ["CSV files in its thread", len(uploads), csv_owed, met(len(uploads) == csv_owed)],
        [
            "other posts in the campaign's channel (per recipient)",
            f"{other_posts} (edits of other messages, the summary's: {other_edits})",
            "0",
            met(other_posts == 0),
        ],
        ["campaign message posted", len(top), "1", met(len(top) == 1)],
        [
            "campaign state / its SMS rows final",
            f"{run.campaign_state} / {run.final_sms:,}",
            f"sent / {args.rows:,}",
            met(run.campaign_state == "sent" and run.final_sms == args.rows),
        ],
    ]
    print_table(["measure", "figure", "target", "met?"], rows)
    print()
    print_table(
        ["`/sms send` acks", "n", "p50", "p99", "max"],
        [
            [name, len(values), *stats_ms(values)]
            for name, values in (
                ("before the campaign", run.singles.before),
                ("while its statuses arrive", run.singles.during),
                ("after it", run.singles.after),
            )
        ],
    )
    print(
        f"\nbot RSS at the end {run.rss_end / 1024:.0f} MiB, peak {run.hwm_end / 1024:.0f} MiB; "
        f"Slack 429s {slack.rate_limited_count} (at {refused_at(slack, run)}); "
        f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


async def main() -> None:
    """Start the fakes and the bot, run the send to many, print the figures."""
    args = _arguments()
    print(f"# campaign: {machine()}")
    print(
        f"{args.rows:,} rows, text {TEXT!r}; database {args.engine}; Mobizon answers after "
        f"{args.mobizon_latency:g} s; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        "\n",
        flush=True,
    )
    slack, slack_runner = await start_fake_slack(RecordingSlack(per_channel_interval=1.0))
    file_info = slack.add_file("clientes.csv", csv_bytes(args.rows))
    simulator, sim_runner, sim_url, spans = await start_timed_simulator(
        SimulatorConfig(api_key=MOBIZON_KEY, latency=args.mobizon_latency, speed=0.001)
    )
    try:
        with bench_databases(args.engine) as databases:
            database = databases.new("campaign")
            bot = BotProcess(slack_url=slack.url, mobizon_url=sim_url, database=database)
            async with bot.running():
                run = await send_to_many(args, World(bot, slack, simulator, spans, file_info))
            (row,) = read_rows(database, "SELECT id, state FROM campaigns")
            run.campaign_state = str(row["state"])
            (count,) = read_rows(
                database,
                "SELECT COUNT(*) AS n FROM sms WHERE campaign = :id AND final_at IS NOT NULL",
                id=row["id"],
            )
            run.final_sms = int(str(count["n"]))
    finally:
        await sim_runner.cleanup()
        await slack_runner.cleanup()
    report(args, run, slack, spans)


if __name__ == "__main__":
    asyncio.run(main())
