"""The Mobizon client's retries, batching, lifetime and secrecy, against loopback gateways."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, quote

import pytest
from aiohttp import web
from yarl import URL

from bot.mobizon import (
    DEFAULT_RETRY,
    DEFAULT_TIMEOUTS,
    ListCriteria,
    MobizonAuthError,
    MobizonClient,
    MobizonError,
    MobizonGatewayError,
    MobizonNetworkError,
    MobizonTimeoutError,
    OutgoingSms,
    RetryPolicy,
    Timeouts,
)
from bot.simulator import GET_SMS_STATUS, LIST, SEND_SMS, MobizonSimulator, SimulatorConfig
from bot.simulator import start_simulator as serve_simulator
from tests.bot.conftest import (
    CaptureGateway,
    ClientFactory,
    PathOnlyAccessLogger,
    Reply,
    Sleeps,
    free_port,
)
from tests.conftest import MOBIZON_KEY


def test_stated_defaults() -> None:
    """Timeouts default to 5 s to connect and 10 s an exchange; reads try 4 times, 0.5 s doubling to 8 s."""
    assert (DEFAULT_TIMEOUTS.connect, DEFAULT_TIMEOUTS.total) == (5.0, 10.0)
    assert (DEFAULT_RETRY.attempts, DEFAULT_RETRY.base_delay, DEFAULT_RETRY.max_delay) == (
        4,
        0.5,
        8.0,
    )


def test_backoff_is_capped_exponential_with_jitter() -> None:
    """Each retry waits a random time between 0 and min(max_delay, base * 2**(n-1))."""
    policy = RetryPolicy(attempts=10, base_delay=0.5, max_delay=3.0)
    for retry_number, cap in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)]:
        delays = {policy.backoff(retry_number) for _ in range(200)}
        assert all(0 <= delay <= cap for delay in delays)
        assert len(delays) > 1  # jitter: not one fixed value


@pytest.mark.parametrize(
    "options",
    [{"attempts": 0}, {"base_delay": -1.0}, {"max_delay": -0.1}],
)
def test_retry_policy_rejects_nonsense(options: dict[str, float]) -> None:
    """A retry policy with no attempts or a negative delay is refused at construction."""
    with pytest.raises(ValueError, match="RetryPolicy"):
        RetryPolicy(**options)  # type: ignore[arg-type]


async def test_send_that_timed_out_was_made_once(
    simulator: tuple[MobizonSimulator, str], make_client: ClientFactory, sleeps: Sleeps
) -> None:
    """A send that timed out is not repeated: the simulator counted exactly one request."""
    sim, url = simulator
    sim.hold(method=SEND_SMS)  # taken, answered only once the test is over
    client = make_client(url, timeouts=Timeouts(connect=2.0, total=0.2))
    with pytest.raises(MobizonTimeoutError) as caught:
        await client.send_sms(OutgoingSms("5511987654321", "only once"))
    assert caught.value.outcome_unknown
    assert "may still have been sent" in str(caught.value)
    assert sim.count(SEND_SMS) == 1
    assert client.requests_made == 1
    assert sleeps.delays == []


@pytest.mark.parametrize("failure", ["html_503", "truncated", "dropped", "code_999", "code_30"])
async def test_send_is_never_retried_once_it_reached_mobizon(
    simulator: tuple[MobizonSimulator, str],
    make_client: ClientFactory,
    sleeps: Sleeps,
    failure: str,
) -> None:
    """5xx, a cut answer, a dropped connection, code 999 or 30: the send is made exactly once."""
    sim, url = simulator
    if failure == "html_503":
        sim.html_failure_next(status=503, method=SEND_SMS)
    elif failure == "truncated":
        sim.truncate_next(method=SEND_SMS)
    elif failure == "dropped":
        sim.drop_connection_next(method=SEND_SMS)
    elif failure == "code_999":
        sim.fail_next(SEND_SMS, 999)
    else:
        sim.rate_limit_next(SEND_SMS)
    client = make_client(url)
    with pytest.raises(MobizonError):
        await client.send_sms(OutgoingSms("5511987654321", "at most once"))
    assert sim.count(SEND_SMS) == 1
    assert sleeps.delays == []


async def test_send_is_retried_after_connection_refused(
    gateway: CaptureGateway, make_client: ClientFactory, sleeps: Sleeps
) -> None:
    """A refused connection proves nothing left, so the send is tried again and succeeds."""
    port = free_port()
    runners: list[web.AppRunner] = []

    async def gateway_comes_up() -> None:
        runner = web.AppRunner(gateway.make_app(), access_log_class=PathOnlyAccessLogger)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)

    sleeps.before_retry = gateway_comes_up
    client = make_client(f"http://127.0.0.1:{port}")
    try:
        sent = await client.send_sms(OutgoingSms("12223334455", "second try"))
    finally:
        for runner in runners:
            await runner.cleanup()
    assert sent.message_id == 6300284
    assert len(sleeps.delays) == 1
    assert client.requests_made == 2
    assert len(gateway.bodies("sendsmsmessage")) == 1


async def test_send_gives_up_when_the_gateway_stays_unreachable(
    make_client: ClientFactory, sleeps: Sleeps
) -> None:
    """A refused send is tried the policy's number of times, then says the SMS was not sent."""
    client = make_client(f"http://127.0.0.1:{free_port()}", retry=RetryPolicy(attempts=3))
    with pytest.raises(MobizonNetworkError) as caught:
        await client.send_sms(OutgoingSms("12223334455", "hi"))
    assert caught.value.never_sent
    assert "The SMS was not sent" in str(caught.value)
    assert client.requests_made == 3
    assert len(sleeps.delays) == 2


async def test_status_answered_code_30_then_0_succeeds(
    simulator: tuple[MobizonSimulator, str], make_client: ClientFactory, sleeps: Sleeps
) -> None:
    """A status call rate limited once is retried after a backoff and returns the statuses."""
    sim, url = simulator
    message = sim.create_message("5511987654321", "hi")
    sim.rate_limit_next(GET_SMS_STATUS)
    client = make_client(url)
    statuses = await client.get_sms_status([message.id])
    assert statuses[message.id].status == "NEW"
    assert sim.count(GET_SMS_STATUS) == 2
    assert len(sleeps.delays) == 1


@pytest.mark.parametrize("method", [GET_SMS_STATUS, LIST])
async def test_5xx_is_retried_for_reads(
    simulator: tuple[MobizonSimulator, str],
    make_client: ClientFactory,
    sleeps: Sleeps,
    method: str,
) -> None:
    """Status and list calls retry two 5xx pages (and a code 999) and then succeed."""
    sim, url = simulator
    sim.html_failure_next(times=2, status=503, method=method)
    sim.fail_next(method, 999)
    client = make_client(url)
    if method == LIST:
        page = await client.list_messages()
        assert page.total == 0
    else:
        assert await client.get_sms_status([1]) == {}
    assert sim.count(method) == 4
    assert len(sleeps.delays) == 3


async def test_read_retries_network_errors_then_gives_up(
    simulator: tuple[MobizonSimulator, str], make_client: ClientFactory, sleeps: Sleeps
) -> None:
    """A dropped connection is retried for reads; persistent failure raises after all attempts."""
    sim, url = simulator
    sim.drop_connection_next(times=1, method=LIST)
    sim.html_failure_next(times=10, status=502, method=GET_SMS_STATUS)
    client = make_client(url, retry=RetryPolicy(attempts=3, base_delay=0.5, max_delay=0.75))
    await client.list_messages()
    assert sim.count(LIST) == 2
    with pytest.raises(MobizonGatewayError):
        await client.get_sms_status([1])
    assert sim.count(GET_SMS_STATUS) == 3
    assert len(sleeps.delays) == 1 + 2
    assert all(0 <= delay <= 0.75 for delay in sleeps.delays)


async def test_a_failing_read_is_tried_4_times_waiting_the_shared_backoff(
    simulator: tuple[MobizonSimulator, str],
    make_client: ClientFactory,
    sleeps: Sleeps,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Default policy: 4 attempts in all, waits of at most 0.5, 1 and 2 s, each retry logged."""
    sim, url = simulator
    sim.html_failure_next(times=10, status=502, method=GET_SMS_STATUS)
    client = make_client(url)
    with (
        caplog.at_level(logging.INFO, logger="bot.mobizon.client"),
        pytest.raises(MobizonGatewayError),
    ):
        await client.get_sms_status([1])
    assert sim.count(GET_SMS_STATUS) == 4
    assert len(sleeps.delays) == 3
    assert all(0 <= d <= cap for d, cap in zip(sleeps.delays, (0.5, 1.0, 2.0), strict=True))
    logged = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert [line.split("; ")[1].split(" in ")[0] for line in logged] == [
        "retry 1 of 3",
        "retry 2 of 3",
        "retry 3 of 3",
    ]


@pytest.mark.parametrize(
    "reply",
    [
        Reply.envelope(8, [], "failed.api.auth"),
        Reply.envelope(1, {"ids": "bad"}, ""),
        Reply(b"Not Found", status=404, content_type="text/plain"),
    ],
)
async def test_reads_do_not_retry_what_cannot_change(
    gateway: CaptureGateway, make_client: ClientFactory, sleeps: Sleeps, reply: Reply
) -> None:
    """A refused key, a validation error or a 4xx page is raised at once, without retrying."""
    gateway.reply(reply)
    client = make_client(gateway.url)
    with pytest.raises(MobizonError):
        await client.get_sms_status([1])
    assert len(gateway.requests) == 1
    assert sleeps.delays == []


async def test_250_ids_go_out_as_100_100_and_50_and_are_merged(
    simulator: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """250 ids (10 unknown, a few repeated) become requests of 100, 100 and 50; unknown are absent."""
    sim, url = simulator
    known = [sim.create_message("5511987654321", f"sms {n}").id for n in range(240)]
    unknown = list(range(1, 11))
    ids = known[:120] + unknown + known[120:]
    client = make_client(url)
    statuses = await client.get_sms_status([*ids, known[0], known[5]])
    sizes = sorted(len(request.params["ids"]) for request in sim.requests)
    assert sizes == [50, 100, 100]
    asked = [
        int(value)
        for request in sim.requests
        for key, value in parse_qsl(request.body.decode())
        if key.startswith("ids[")
    ]
    assert sorted(asked) == sorted(ids)
    assert list(statuses) == known
    assert all(statuses[message_id].id == message_id for message_id in known)


async def test_observer_sees_every_attempt(
    simulator: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """on_request is told the method and outcome of every HTTP attempt, retries included."""
    sim, url = simulator
    seen: list[tuple[str, str]] = []
    sim.html_failure_next(method=LIST)
    sim.rate_limit_next(LIST)
    client = make_client(url, on_request=lambda method, outcome, _s: seen.append((method, outcome)))
    await client.list_messages()
    assert seen == [("list", "gateway_error"), ("list", "api_error"), ("list", "ok")]


async def test_client_lifetime(gateway: CaptureGateway) -> None:
    """One session per client lifetime: usable inside ``async with``, refused after closing."""
    async with MobizonClient(MOBIZON_KEY, base_url=gateway.url) as client:
        await client.get_sms_status([1])
        await client.list_messages()
        session = client._session
        assert session is not None
        assert client._session is session  # the same session served both calls
    assert session.closed
    await client.close()  # closing twice is harmless
    with pytest.raises(RuntimeError, match="closed"):
        await client.get_sms_status([1])


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ({"base_url": "api.mobizon.com.br"}, "base URL"),
        ({"base_url": "ftp://api.mobizon.com.br"}, "base URL"),
        ({"max_concurrency": 0}, "max_concurrency"),
    ],
)
def test_client_refuses_bad_settings(options: dict[str, object], complaint: str) -> None:
    """A base URL without http(s) scheme and host, or no concurrency, is refused at once."""
    with pytest.raises(ValueError, match=complaint):
        MobizonClient(MOBIZON_KEY, **options)  # type: ignore[arg-type]


def test_client_repr_hides_the_key() -> None:
    """The client's repr shows the base URL and never the key."""
    client = MobizonClient(MOBIZON_KEY, base_url="https://api.mobizon.kz/")
    assert repr(client) == "MobizonClient(base_url='https://api.mobizon.kz', api_key='***')"


TRICKY_KEY = "k3y+with/special=chars&more?" + "7" * 20


async def test_api_key_never_in_logs_or_errors(
    caplog: pytest.LogCaptureFixture, make_client: ClientFactory, sleeps: Sleeps
) -> None:
    """No log record (aiohttp's included, at DEBUG) and no error text, repr or traceback has the key."""
    caplog.set_level(logging.DEBUG)
    for name in ("aiohttp", "aiohttp.client", "aiohttp.server", "aiohttp.access", "aiohttp.web"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    errors: list[BaseException] = []
    sim, runner, url = await serve_simulator(SimulatorConfig(api_key=TRICKY_KEY))
    try:
        client = make_client(url, api_key=TRICKY_KEY)
        impatient = make_client(
            url,
            api_key=TRICKY_KEY,
            timeouts=Timeouts(connect=1.0, total=0.5),
            retry=RetryPolicy(attempts=1),
        )
        wrong = make_client(url, api_key=TRICKY_KEY[::-1])
        refused = make_client(f"http://127.0.0.1:{free_port()}", api_key=TRICKY_KEY)
        unresolved = make_client("http://no-such-host.invalid", api_key=TRICKY_KEY)
        sent = await client.send_sms(OutgoingSms("5511987654321", "fine"))
        await client.get_sms_status([sent.message_id])
        await client.list_messages(ListCriteria(recipient="5511"))
        sim.hold(method=LIST)  # answered only once the test is over: the impatient one times out
        sim.html_failure_next(times=10, status=502, method=GET_SMS_STATUS)
        sim.drop_connection_next(times=10, method=SEND_SMS)
        attempts: list[Callable[[], Awaitable[object]]] = [
            impatient.list_messages,
            lambda: client.get_sms_status([1]),
            lambda: client.send_sms(OutgoingSms("5511987654321", "dropped")),
            lambda: wrong.get_sms_status([1]),
            lambda: refused.send_sms(OutgoingSms("5511987654321", "refused")),
            unresolved.list_messages,
        ]
        for attempt in attempts:
            with pytest.raises(MobizonError) as caught:
                await attempt()
            errors.append(caught.value)
        sim._faults.clear()
        sim.truncate_next(method=SEND_SMS)
        with pytest.raises(MobizonGatewayError) as cut:
            await client.send_sms(OutgoingSms("5511987654321", "cut"))
        query_form = URL("/").with_query(k=TRICKY_KEY).raw_query_string[2:]
        sim.fail_next(SEND_SMS, 8, message=f"bad key {TRICKY_KEY} / {query_form}")
        with pytest.raises(MobizonAuthError) as echoed:
            await client.send_sms(OutgoingSms("5511987654321", "echo"))
        errors += [cut.value, echoed.value]
    finally:
        sim.release()
        await runner.cleanup()
    kinds = {type(error).__name__ for error in errors}
    assert kinds == {
        "MobizonTimeoutError",
        "MobizonGatewayError",
        "MobizonAuthError",
        "MobizonNetworkError",
    }
    assert str(echoed.value).startswith("Mobizon refused the API key")
    assert "bad key *** / ***" in str(echoed.value)
    forms = {TRICKY_KEY, quote(TRICKY_KEY, safe=""), quote(TRICKY_KEY), query_form}
    for error in errors:
        rendered = [str(error), repr(error), "".join(traceback.format_exception(error))]
        for text in rendered:
            assert not any(form in text for form in forms), text
        assert error.__cause__ is None
        assert error.__context__ is None
    assert caplog.records  # the client and the simulator did log
    for record in caplog.records:
        texts = [record.getMessage(), repr(record.args), str(record.__dict__)]
        if record.exc_info:
            texts.append("".join(traceback.format_exception(*record.exc_info)))
        for text in texts:
            assert not any(form in text for form in forms), text
