"""Whose language a sentence is in: the person's own Slack language, or the workspace's.

A person's own replies (ephemeral answers, direct messages, modals) follow their Slack language
(``users.info`` with ``include_locale``, which needs the ``users:read`` scope) when smsbot speaks
it (:data:`handlers.i18n.LANGUAGES`); otherwise, and whenever Slack does not tell it in time, the
workspace language (``SMSBOT_LANGUAGE``). Everything posted in a channel is in the workspace
language, since a channel is shared: rendering there sets it explicitly (``use_locale``).

Each person's language is asked once an hour at most: :class:`PeopleLanguages` keeps the answers
(bounded, with a TTL), asks Slack once per person however many requests wait for it, and waits
only briefly. A lookup that takes longer goes on in the background and serves the person's next
request; the one waiting gets the workspace language, so an ack never waits on Slack for long.

:func:`language_middleware` is the Bolt middleware that sets the active locale for the rest of a
request (its task: aiohttp and Socket Mode give each request one); listeners Bolt runs on tasks
after the ack copy it with the rest of the context.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from cachetools import TLRUCache
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.sms.clock import SYSTEM_CLOCK, Clock
from handlers.formats import moment, money, number
from handlers.i18n import LANGUAGES, normalize_locale, set_locale, spoken_locale, use_locale
from handlers.middleware import RequestStep
from handlers.posting import error_name

logger = logging.getLogger(__name__)

#: How long a request waits for a person's language before using the workspace's: well within
#: Slack's 3 seconds for an ack, or for opening a modal with the request's ``trigger_id``.
LOOKUP_WAIT: Final = 0.5
#: How long background work (delivery tracking's direct messages) waits for a person's language.
BACKGROUND_WAIT: Final = 2.0
#: How long one ``users.info`` may take in the background before it counts as failed.
LOOKUP_TIMEOUT: Final = 10.0
#: How long a person's language is kept.
KEEP_SECONDS: Final = 3600.0
#: How long a failed lookup is remembered (Slack unreachable, ``missing_scope``): not asked again
#: on every request meanwhile, asked again soon after.
KEEP_FAILED_SECONDS: Final = 300.0
#: At most this many people are remembered (least recently used ones are forgotten first).
MAX_PEOPLE: Final = 10_000


@dataclass(frozen=True, slots=True)
class _Known:
    """What is known of a person: the locale smsbot speaks to them, ``None`` if Slack told none."""

    locale: str | None
    failed: bool = False


class PeopleLanguages:
    """Each person's language, from their Slack locale, kept an hour; the workspace's otherwise.

    ``workspace`` is ``SMSBOT_LANGUAGE`` as a catalogue name (``en``, ``pt_BR``). ``clock``'s
    monotonic time is what the cache expires entries by (tests move it).
    """

    def __init__(
        self,
        workspace: str,
        *,
        wait: float = LOOKUP_WAIT,
        keep: float = KEEP_SECONDS,
        keep_failed: float = KEEP_FAILED_SECONDS,
        max_people: int = MAX_PEOPLE,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.workspace = normalize_locale(workspace)
        self._wait = wait

        def expires(_user: str, known: _Known, now: float) -> float:
            return now + (keep_failed if known.failed else keep)

        self._known: TLRUCache[str, _Known, float] = TLRUCache(max_people, expires, clock.monotonic)
        self._pending: dict[str, asyncio.Task[_Known]] = {}
        #: How many times Slack was asked (``users.info``), for tests and figures.
        self.lookups = 0

    async def locale_of(
        self, user_id: str | None, client: AsyncWebClient, *, wait: float | None = None
    ) -> str:
        """The locale of ``user_id``'s own replies: their Slack language, else the workspace's.

        Waits at most ``wait`` seconds (default: the instance's) for Slack; a lookup still
        running then is left to finish in the background, for the person's next request.
        """
        if not user_id:
            return self.workspace
        known = self._known.get(user_id)
        if known is None:
            try:
                async with asyncio.timeout(self._wait if wait is None else wait):
                    known = await asyncio.shield(self._lookup(user_id, client))
            except TimeoutError:
                logger.info("a person's language was not known in time; the workspace's is used")
                return self.workspace
        return known.locale or self.workspace

    def _lookup(self, user_id: str, client: AsyncWebClient) -> asyncio.Task[_Known]:
        """The one lookup of ``user_id`` in flight, started when there is none."""
        task = self._pending.get(user_id)
        if task is None:
            task = asyncio.create_task(self._ask_slack(user_id, client), name="users.info")
            self._pending[user_id] = task
            task.add_done_callback(lambda _done: self._pending.pop(user_id, None))
        return task

    async def _ask_slack(self, user_id: str, client: AsyncWebClient) -> _Known:
        """Ask Slack for ``user_id``'s locale and keep the answer (a failure is kept shorter)."""
        self.lookups += 1
        try:
            async with asyncio.timeout(LOOKUP_TIMEOUT):
                answer = await client.users_info(user=user_id, include_locale=True)
            user: Any = answer.get("user")
            tag = user.get("locale") if isinstance(user, dict) else None
            known = _Known(spoken_locale(tag if isinstance(tag, str) else None))
        except Exception as err:  # noqa: BLE001  # any failure: the workspace language serves
            logger.info("could not get a person's Slack language", extra={"error": error_name(err)})
            known = _Known(None, failed=True)
        self._known[user_id] = known
        return known

    async def close(self) -> None:
        """Stop the lookups still running (at shutdown)."""
        pending = list(self._pending.values())
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)


def language_middleware(languages: PeopleLanguages) -> AsyncMiddleware:
    """A Bolt middleware setting the locale of the rest of the request, its listeners' tasks too.

    The person's language (:meth:`PeopleLanguages.locale_of`), else the workspace's.
    """
    return _ChooseLanguage(languages)


class _ChooseLanguage(RequestStep):
    """:func:`language_middleware`."""

    def __init__(self, languages: PeopleLanguages) -> None:
        self._languages = languages

    async def before(self, req: AsyncBoltRequest) -> None:
        """The person's language (else the workspace's) set for the rest of the request."""
        context = req.context
        client = context.client
        if client is None:
            locale = self._languages.workspace
        else:
            locale = await self._languages.locale_of(context.user_id, client)
        # for the rest of the request's task: Bolt runs the listeners once every middleware has
        # returned, and the listener's own task (after the ack) copies it
        set_locale(locale)


def read_locale_data(languages: tuple[str, ...] = LANGUAGES) -> None:
    """Have Babel read the data of each language smsbot speaks now, not at its first use.

    Babel reads a locale's CLDR tables the first time a number, an amount or a time is shown in
    it: tens of milliseconds on the event loop, which at start hold up no one.
    """
    sample = datetime(2026, 1, 1, tzinfo=UTC)
    for name in languages:
        with use_locale(name):
            number(1)
            money(Decimal(1), "BRL")
            moment(sample)
