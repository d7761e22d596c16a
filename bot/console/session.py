"""``smsbot console``: the real bot driven from a terminal, without Slack.

The console starts the very same app as ``smsbot serve`` (handlers, storage, delivery tracking) on a
loopback port, plus a small stand-in for Slack's Web API that prints what the bot posts. Each line
typed (or read from stdin) is signed and posted to ``/slack/events`` exactly as Slack would.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import itertools
import json
import logging
import secrets
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TextIO
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bot.console import modal as console_modal
from bot.console.previews import PreviewConfirming
from bot.console.prompts import Input, PipedInput, TerminalInput
from bot.console.slack import ConsoleSlack
from bot.process.app import SANDBOX_LOGGER, create_app
from bot.process.inflight import InFlight
from bot.process.runtime import RUNTIME
from bot.process.settings import Settings
from handlers import formats
from handlers.i18n import N_, ngettext, use_locale
from handlers.i18n import gettext as _
from storage import account, messages, outbox
from storage.records import SmsRecord

CONSOLE_TOKEN = "xoxb-console-not-a-real-token"  # noqa: S105  # accepted only by the console's own fake
#: How long one command's listener may take before the next line is read anyway.
LISTENER_WAIT = 30.0
#: English message id: show it as ``gettext(HELP)``.
HELP = N_(
    "Type /sms commands as in Slack, e.g. `/sms send +55 11 98765-4321 hello` or `/sms help`;\n"
    "`/sms` alone opens the compose form, asked field by field (`cancel` closes it; leave the\n"
    "number empty to give a CSV file's path and send to its numbers).\n"
    "`next` / `previous` press the buttons under the last search; `quit` leaves."
)


def console_settings(settings: Settings, slack_url: str) -> Settings:
    """The process settings, pointed at the console's Slack stand-in on a loopback port."""
    return replace(
        settings,
        slack_bot_token=CONSOLE_TOKEN,
        slack_signing_secret=secrets.token_hex(16),
        slack_app_token=None,
        slack_api_url=slack_url + "api/",
        slack_pacing=False,
        host="127.0.0.1",
        port=0,
    )


@dataclass
class Console(console_modal.ModalFilling, PreviewConfirming):
    """Reads commands, posts them to the bot signed as Slack does, and prints the answers."""

    settings: Settings
    slack: ConsoleSlack
    bot_url: str
    slack_url: str
    session: aiohttp.ClientSession
    out: TextIO
    user_id: str = "UCONSOLE"
    channel_id: str = "CCONSOLE"
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    #: The bot's listener tasks at work; each command's answer is awaited before the next.
    inflight: InFlight = field(default_factory=InFlight)

    async def _finish(self) -> None:
        """Wait for the listeners the last command started (its send, status or search)."""
        pending = [task for task in self.inflight.tasks if not task.done()]
        if pending:
            await asyncio.wait(pending, timeout=LISTENER_WAIT)

    async def _post(self, raw: str) -> tuple[int, str]:
        ts = str(int(time.time()))
        secret = self.settings.slack_signing_secret or ""
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": SignatureVerifier(secret).generate_signature(
                timestamp=ts, body=raw
            )
            or "",
        }
        async with self.session.post(self.bot_url + "slack/events", data=raw, headers=headers) as r:
            return r.status, await r.text()

    async def command(self, line: str) -> None:
        """Send one ``/sms …`` line as a slash command and print the immediate answer."""
        n = next(self._counter)
        text = line.strip().removeprefix("/sms").strip()
        body = {
            "team_id": "TCONSOLE",
            "channel_id": self.channel_id,
            "channel_name": "console",
            "user_id": self.user_id,
            "user_name": self.slack.names.get(self.user_id, "you"),
            "command": "/sms",
            # Slack escapes these three before sending; the bot undoes it
            "text": text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
            "response_url": f"{self.slack_url}response/{n}",
            "trigger_id": f"console.{time.time_ns()}.{n}",
        }
        shown, opened = self.slack.shown, self.slack.opened
        status, answer = await self._post(urlencode(body))
        if status != 200:  # noqa: PLR2004
            self.out.write(_("(the bot answered HTTP %(status)s)") % {"status": status} + "\n")
        elif answer.strip():
            self._print_ack(answer)
        else:
            await self._answered(shown, opened)
            return
        await self._finish()

    async def _answered(self, shown: int, opened: int | None = None) -> None:
        """Wait for the answer of a request Slack acknowledged empty, then for its listeners.

        The listener answers later, in Slack; it may not have reached the gateway yet (so is
        not in ``inflight``): wait for its first message (or modal).
        """
        opened = self.slack.opened if opened is None else opened
        await self.slack.wait_beyond(shown, opened, LISTENER_WAIT)
        await self._finish()

    def _print_ack(self, answer: str) -> None:
        try:
            body = json.loads(answer)
        except ValueError:
            body = {"text": answer}
        self.slack.show(_("reply (only you see this)"), body)

    async def press(self, label: str) -> None:
        """Press the Previous/Next button of the last search results."""
        value = self.slack.last_buttons.get(label)
        if not value:
            button = _("next") if label == "next" else _("previous")
            self.out.write(
                _("There is no “%(button)s” button to press.") % {"button": button} + "\n"
            )
            return
        action_id = "sms_find_next" if label == "next" else "sms_find_previous"
        payload = {
            "type": "block_actions",
            "team": {"id": "TCONSOLE"},
            "user": {"id": self.user_id},
            "channel": {"id": self.channel_id},
            "api_app_id": "ACONSOLE",
            "trigger_id": f"console.{time.time_ns()}",
            "response_url": f"{self.slack_url}response/buttons",
            "actions": [
                {"type": "button", "action_id": action_id, "value": value, "block_id": "b"}
            ],
        }
        self.slack.last_buttons.clear()
        await self._post(urlencode({"payload": json.dumps(payload)}))
        await self._finish()


async def _settled(app: web.Application) -> bool:
    core = app[RUNTIME].core
    if core is None:
        return True
    store = core.store
    pending = await store.read(messages.count_pending)
    if pending:
        return False
    costs_due = await store.read(account.costs_wanted, limit=1)
    if costs_due:
        return False  # a final SMS's cost is still to be put on its post
    return await store.read(outbox.outbox_size) == 0


async def run_console(
    settings: Settings,
    *,
    stdin: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
    linger: float = 60.0,
    announce: Callable[[str], None] | None = None,
) -> int:
    """Run the console until ``quit`` or end of input, then wait ``linger`` s for deliveries.

    Everything it says is in ``SMSBOT_LANGUAGE``: its own lines, and the bot's (the console's
    Slack stand-in tells no person's language, so the workspace's serves every reply too).
    """
    with use_locale(settings.language):
        return await _run_console(settings, stdin=stdin, out=out, linger=linger, announce=announce)


async def _run_console(
    settings: Settings,
    *,
    stdin: TextIO,
    out: TextIO,
    linger: float,
    announce: Callable[[str], None] | None,
) -> int:
    slack = ConsoleSlack(out, names={Console.user_id: person_name()})
    slack_runner = web.AppRunner(slack.make_app(), access_log=None)
    await slack_runner.setup()
    slack_site = web.TCPSite(slack_runner, "127.0.0.1", 0)
    await slack_site.start()
    slack_url = _site_url(slack_runner)
    bot_settings = console_settings(settings, slack_url)
    bot_app = create_app(bot_settings)
    bot_runner = web.AppRunner(bot_app, access_log=None)
    with _quiet(SANDBOX_LOGGER):  # the banner below says it, in the reader's language
        await bot_runner.setup()
    slack.find_sms = _sms_finder(bot_app)
    await web.TCPSite(bot_runner, "127.0.0.1", 0).start()
    interactive = stdin.isatty() and out.isatty()
    tell = announce or (lambda line: out.write(line + "\n"))
    banner = (
        _("smsbot console: SANDBOX, SMS go to the built-in simulator. %(help)s")
        if settings.sandbox
        else _("smsbot console: LIVE Mobizon. Real SMS are sent, and billed. %(help)s")
    )
    tell(banner % {"help": _(HELP)})
    if settings.ignored_api_key:
        tell(
            _(
                "MOBIZON_API_KEY is set but ignored: nothing is sent for real. "
                "Start `smsbot console --live` to send real SMS through Mobizon."
            )
        )
    try:
        with contextlib.ExitStack() as stack:
            if interactive:
                from prompt_toolkit.patch_stdout import patch_stdout  # noqa: PLC0415

                stack.enter_context(patch_stdout(raw=True))
                out = sys.stdout  # the proxy that keeps the prompt below what is printed
                slack.out = out
                stack.enter_context(_logs_through(sys.stderr))
            async with aiohttp.ClientSession() as session:
                console = Console(
                    bot_settings,
                    slack,
                    _site_url(bot_runner),
                    slack_url,
                    session,
                    out,
                    inflight=bot_app[RUNTIME].inflight,
                )
                source: Input = TerminalInput(out) if interactive else PipedInput(stdin, out)
                if await _session(console, source, out) and not interactive:
                    # end of scripted input: let delivery tracking report what is still pending
                    await _wait_settled(bot_app, linger)
                await _say_pending(bot_app, out)
    finally:
        await bot_runner.cleanup()
        await slack_runner.cleanup()
    return 0


async def _session(console: Console, source: Input, out: TextIO) -> bool:
    """Run each line as a command; ``False`` when ``quit`` ended it, ``True`` at end of input."""
    while (line := await source.command()) is not None:
        word = line.strip()
        meaning = console_modal.CONSOLE_WORDS.meaning(word)
        if meaning == "quit":
            return False
        if meaning in {"next", "previous"}:
            await console.press(meaning)
        elif word.startswith(("/sms", "sms ")):
            await console.command(word.removeprefix("sms "))
            if console.slack.open_view is not None:
                await console.fill_modal(source.answer)
            await console.confirm_preview(source.answer)  # a send to many's, when one was shown
        elif word:
            out.write(_(HELP) + "\n")
            out.flush()
    return True


@contextlib.contextmanager
def _logs_through(stream: TextIO) -> Iterator[None]:
    """Point the log handlers that write to the real stderr at ``stream`` for a while.

    At a prompt, a warning written straight to the terminal would cut through the line being
    typed; through prompt_toolkit's proxy it is printed above the prompt, like the bot's posts.
    """
    moved = [
        handler
        for handler in logging.getLogger().handlers
        if isinstance(handler, logging.StreamHandler) and handler.stream is sys.__stderr__
    ]
    for handler in moved:
        handler.setStream(stream)
    try:
        yield
    finally:
        for handler in moved:
            handler.setStream(sys.__stderr__)


async def _say_pending(app: web.Application, out: TextIO) -> None:
    """Say how many SMS still await a final status: the next console here goes on tracking them."""
    core = app[RUNTIME].core
    pending = 0 if core is None else await core.store.read(messages.count_pending)
    if pending:
        said = ngettext(
            "%(count)s SMS still awaits a final status; `smsbot console` started again in this "
            "folder goes on tracking it.",
            "%(count)s SMS still await a final status; `smsbot console` started again in this "
            "folder goes on tracking them.",
            pending,
        )
        out.write(said % {"count": formats.number(pending)} + "\n")
        out.flush()


async def _wait_settled(app: web.Application, linger: float) -> None:
    """Wait until no SMS awaits a final status and the outbox is empty, or ``linger`` s pass."""
    deadline = time.monotonic() + linger
    while not await _settled(app):
        if time.monotonic() >= deadline:
            return
        await asyncio.sleep(0.2)


def person_name() -> str:
    """The console's person as the bot's posts name them: the OS user name, else "you".

    Slack shows a person's name where the bot mentions them; the one typing at this console is
    the OS user, and a name reads the same in every language and in a pasted transcript.
    """
    try:
        return getpass.getuser() or _("you")
    except (OSError, KeyError):  # no user name in the environment nor the password database
        return _("you")


def _sms_finder(app: web.Application) -> Callable[[str, str], Awaitable[SmsRecord | None]]:
    """Finds the SMS of a channel post in the bot's database (``None`` before it is open)."""

    async def find(channel: str, ts: str) -> SmsRecord | None:
        core = app[RUNTIME].core
        if core is None:
            return None
        return await core.store.read(messages.get_by_slack_post, channel, ts)

    return find


@contextlib.contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Let only errors through logger ``name`` for a while."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _site_url(runner: web.AppRunner) -> str:
    addresses = runner.addresses
    host, port = addresses[0][0], addresses[0][1]
    return f"http://{host}:{port}/"
