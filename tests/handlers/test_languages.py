"""Each person's language: their Slack locale, asked once an hour, never holding a request long.

Over the fake Slack Web API on a loopback socket (handlers/languages.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from handlers import languages as languages_module
from handlers.i18n import current_locale
from handlers.languages import (
    KEEP_FAILED_SECONDS,
    KEEP_SECONDS,
    PeopleLanguages,
    read_locale_data,
)
from testkit.clock import ManualClock
from testkit.slack import BOT_TOKEN, FakeSlack

#: How long these tests let a request wait for Slack's answer: the loopback fake answers at once,
#: but on a loaded machine not always within the product's LOOKUP_WAIT. They are about which
#: language is chosen and how often Slack is asked; the slow-lookup tests keep a short wait.
PATIENT = 20.0


@pytest.fixture
async def client(fake_slack: FakeSlack) -> AsyncIterator[AsyncWebClient]:
    """A Slack Web API client of the fake (no retries)."""
    async with aiohttp.ClientSession() as session:
        yield AsyncWebClient(
            token=BOT_TOKEN, base_url=fake_slack.url + "api/", session=session, retry_handlers=[]
        )


@pytest.mark.parametrize(
    ("slack_locale", "workspace", "chosen"),
    [
        ("pt-BR", "en", "pt_BR"),
        ("pt-PT", "en", "pt_BR"),  # the same language: better than English
        ("en-US", "pt_BR", "en"),
        ("en-GB", "pt_BR", "en"),
        ("es-ES", "pt_BR", "pt_BR"),  # smsbot does not speak it: the workspace's, not English
        ("ja-JP", "en", "en"),
    ],
)
async def test_a_person_gets_their_slack_language_when_smsbot_speaks_it(
    fake_slack: FakeSlack, client: AsyncWebClient, slack_locale: str, workspace: str, chosen: str
) -> None:
    """users.info's locale, matched by language; any other language gets the workspace's."""
    fake_slack.user_locales["U1"] = slack_locale
    languages = PeopleLanguages(workspace, wait=PATIENT)
    assert await languages.locale_of("U1", client) == chosen
    (call,) = fake_slack.called("users.info")
    assert call.params["user"] == "U1"
    assert call.params["include_locale"] in ("1", "true")


async def test_slack_not_telling_the_locale_gives_the_workspace_language(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    """A user without a locale in the answer, an unknown user, or no user at all: the workspace's."""
    fake_slack.user_names["U1"] = "ana"  # found, but no locale
    languages = PeopleLanguages("pt-BR", wait=PATIENT)
    assert await languages.locale_of("U1", client) == "pt_BR"
    assert await languages.locale_of("UNOBODY", client) == "pt_BR"
    assert await languages.locale_of(None, client) == "pt_BR"
    assert await languages.locale_of("", client) == "pt_BR"
    assert len(fake_slack.called("users.info")) == 2


async def test_one_lookup_per_person_an_hour_however_many_ask_at_once(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    """Fifty requests of one person at once ask Slack once; the answer is kept for an hour."""
    fake_slack.user_locales |= {"U1": "pt-BR", "U2": "en-US"}
    clock = ManualClock()
    languages = PeopleLanguages("en", wait=PATIENT, clock=clock)
    found = await asyncio.gather(*(languages.locale_of("U1", client) for _ in range(50)))
    assert set(found) == {"pt_BR"}
    assert await languages.locale_of("U2", client) == "en"
    assert len(fake_slack.called("users.info")) == 2
    clock.advance(KEEP_SECONDS - 1)
    assert await languages.locale_of("U1", client) == "pt_BR"
    assert len(fake_slack.called("users.info")) == 2
    fake_slack.user_locales["U1"] = "en-US"  # the person changed their Slack language
    clock.advance(2)
    assert await languages.locale_of("U1", client) == "en"
    assert len(fake_slack.called("users.info")) == 3
    assert languages.lookups == 3


async def test_a_failed_lookup_gives_the_workspace_language_and_is_asked_again_later(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    """missing_scope or Slack down: the workspace's language, not asked on every request."""
    fake_slack.user_locales["U1"] = "pt-BR"
    fake_slack.fail_next("users.info", "missing_scope")
    clock = ManualClock()
    languages = PeopleLanguages("en", wait=PATIENT, clock=clock)
    assert await languages.locale_of("U1", client) == "en"
    assert await languages.locale_of("U1", client) == "en"
    assert len(fake_slack.called("users.info")) == 1
    clock.advance(KEEP_FAILED_SECONDS + 1)
    assert await languages.locale_of("U1", client) == "pt_BR"
    fake_slack.down = True  # Slack answers 503 from now on
    assert await PeopleLanguages("en", wait=PATIENT).locale_of("U1", client) == "en"


async def test_a_slow_lookup_does_not_hold_the_request_and_serves_the_next_one(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    """Slack holding its answer: workspace language after a short wait; the lookup serves the next request."""
    fake_slack.user_locales["U1"] = "pt-BR"
    fake_slack.held.add("users.info")
    languages = PeopleLanguages("en", wait=0.05)
    assert await languages.locale_of("U1", client) == "en"
    assert await languages.locale_of("U1", client) == "en"  # still asking: not asked twice
    assert len(fake_slack.called("users.info")) == 1
    fake_slack.release_held()
    assert await languages.locale_of("U1", client, wait=10) == "pt_BR"
    assert len(fake_slack.called("users.info")) == 1


async def test_close_stops_the_lookups_still_running(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    """At shutdown no lookup is left pending."""
    fake_slack.user_locales["U1"] = "pt-BR"
    fake_slack.held.add("users.info")
    languages = PeopleLanguages("en", wait=0.01)
    assert await languages.locale_of("U1", client) == "en"
    (pending,) = languages._pending.values()
    await languages.close()
    assert pending.cancelled()
    fake_slack.release_held()


async def test_the_people_remembered_are_bounded(
    fake_slack: FakeSlack, client: AsyncWebClient
) -> None:
    """Past max_people, the least recently used person is asked again."""
    fake_slack.user_locales |= {"U1": "pt-BR", "U2": "pt-BR", "U3": "pt-BR"}
    languages = PeopleLanguages("en", wait=PATIENT, max_people=2)
    for user in ("U1", "U2", "U3", "U1"):
        assert await languages.locale_of(user, client) == "pt_BR"
    assert [c.params["user"] for c in fake_slack.called("users.info")] == ["U1", "U2", "U3", "U1"]


def test_locale_data_is_read_at_start_and_the_active_language_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """read_locale_data formats in each language it is given, then leaves the locale as it was."""
    shown: list[tuple[str, str]] = []
    for name in ("number", "money", "moment"):
        real = getattr(languages_module, name)

        def record(*args: object, _name: str = name, _real: Any = real) -> str:
            shown.append((_name, current_locale()))
            return str(_real(*args))

        monkeypatch.setattr(languages_module, name, record)
    before = current_locale()
    read_locale_data(("en", "pt_BR"))
    assert shown == [
        (kind, locale) for locale in ("en", "pt_BR") for kind in ("number", "money", "moment")
    ]
    assert current_locale() == before
