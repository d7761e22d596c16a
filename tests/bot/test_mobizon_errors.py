"""Mobizon's answers and failures become one exception tree of sentences people can act on."""

from __future__ import annotations

import errno
import re
import socket
from typing import Any

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey

from bot.mobizon import (
    MobizonAccessDeniedError,
    MobizonAccountBlockedError,
    MobizonApiError,
    MobizonAuthError,
    MobizonError,
    MobizonGatewayError,
    MobizonLimitError,
    MobizonMalformedRequestError,
    MobizonNetworkError,
    MobizonNotFoundError,
    MobizonRateLimitedError,
    MobizonTimeoutError,
    MobizonValidationError,
    MobizonWrongServerError,
    OutgoingSms,
    Problem,
    RetryPolicy,
    Timeouts,
    error_for,
)
from bot.mobizon import _errors as errors_module
from bot.mobizon._failures import connect_failure
from bot.simulator import SEND_SMS, MobizonSimulator
from handlers.gateway_errors import describe
from handlers.i18n import use_locale
from handlers.mrkdwn import unmarked
from tests.bot.conftest import CaptureGateway, ClientFactory, Reply, free_port
from tests.conftest import MOBIZON_KEY

ONE_TRY = RetryPolicy(attempts=1)

ALL_ERRORS: list[type[MobizonError]] = [
    MobizonError,
    MobizonApiError,
    MobizonValidationError,
    MobizonNotFoundError,
    MobizonMalformedRequestError,
    MobizonAuthError,
    MobizonAccessDeniedError,
    MobizonLimitError,
    MobizonWrongServerError,
    MobizonAccountBlockedError,
    MobizonRateLimitedError,
    MobizonGatewayError,
    MobizonNetworkError,
    MobizonTimeoutError,
]

CODES: list[tuple[int, type[MobizonError]]] = [
    (1, MobizonValidationError),
    (2, MobizonNotFoundError),
    (3, MobizonGatewayError),
    (4, MobizonMalformedRequestError),
    (5, MobizonMalformedRequestError),
    (6, MobizonMalformedRequestError),
    (8, MobizonAuthError),
    (9, MobizonAccessDeniedError),
    (10, MobizonGatewayError),
    (11, MobizonMalformedRequestError),
    (12, MobizonLimitError),
    (13, MobizonWrongServerError),
    (14, MobizonAccountBlockedError),
    (30, MobizonRateLimitedError),
    (999, MobizonGatewayError),
    (77, MobizonGatewayError),
]


def assert_sentence(error: BaseException) -> None:
    """``error`` reads as plain sentences: capitalised, punctuated, no internals, no secrets.

    The words people read come from the catalogue (:func:`handlers.gateway_errors.describe`,
    worded from the error's data); they are the English ``str()`` word for word (Mobizon's own
    words in them marked to show as typed in Slack).
    """
    text = str(error)
    assert isinstance(error, MobizonError)
    assert unmarked(describe(error)) == text
    assert re.match(r"^[A-Z]", text), text
    assert text.endswith("."), text
    assert "\n" not in text
    for internal in ("Traceback", "aiohttp", "Client", "Error(", "None", "127.0.0.1:", "{", "["):
        assert internal not in text, text
    assert MOBIZON_KEY not in text
    assert MOBIZON_KEY not in repr(error)


def test_docstring_draws_the_whole_tree() -> None:
    """The errors module's docstring draws every exception class, and the tree matches the code."""
    doc = errors_module.__doc__ or ""
    assert "exception hierarchy" in doc
    for error_class in ALL_ERRORS:
        assert error_class.__name__ in doc
        assert error_class.__doc__, error_class.__name__
    for error_class in ALL_ERRORS[2:11]:
        assert issubclass(error_class, MobizonApiError)
    assert not issubclass(MobizonGatewayError, MobizonApiError)
    assert issubclass(MobizonTimeoutError, MobizonNetworkError)
    assert all(issubclass(error_class, MobizonError) for error_class in ALL_ERRORS)


@pytest.mark.parametrize(("code", "error_class"), CODES)
async def test_each_code_maps_to_its_exception(
    gateway: CaptureGateway, make_client: ClientFactory, code: int, error_class: type[MobizonError]
) -> None:
    """A read call answered a documented (or unknown) code raises that code's exception."""
    gateway.reply(Reply.envelope(code, [], "Mobizon's own words"))
    client = make_client(gateway.url, retry=ONE_TRY)
    with pytest.raises(MobizonError) as caught:
        await client.list_messages()
    assert type(caught.value) is error_class
    assert caught.value.code == code
    assert "Mobizon's own words" in str(caught.value)
    assert_sentence(caught.value)


@pytest.mark.parametrize(("code", "error_class"), CODES)
async def test_each_code_on_a_send_says_what_became_of_the_sms(
    gateway: CaptureGateway, make_client: ClientFactory, code: int, error_class: type[MobizonError]
) -> None:
    """A refused send says the SMS was not sent; a gateway failure says it may have gone out."""
    gateway.reply(Reply.envelope(code, [], ""))
    client = make_client(gateway.url)
    with pytest.raises(MobizonError) as caught:
        await client.send_sms(OutgoingSms("12223334455", "hi"))
    error = caught.value
    assert type(error) is error_class
    assert len(gateway.requests) == 1  # a send is never repeated after Mobizon answered
    if issubclass(error_class, MobizonApiError):
        assert not error.outcome_unknown
        assert "The SMS was not sent." in str(error)
    else:
        assert error.outcome_unknown
        assert "may still have been sent" in str(error)
    assert_sentence(error)


@pytest.mark.parametrize("code", [4, 5, 6, 11])
async def test_malformed_request_codes_are_refusals_never_retried(
    gateway: CaptureGateway, make_client: ClientFactory, code: int
) -> None:
    """Codes 4, 5, 6, 11: a read is asked once (no retry), a send was not sent."""
    gateway.reply(*[Reply.envelope(code, [], "Faltam parâmetros")] * 2)
    client = make_client(gateway.url, retry=RetryPolicy(attempts=4, base_delay=0))
    with pytest.raises(MobizonMalformedRequestError) as read:
        await client.get_sms_status([1])
    assert len(gateway.requests) == 1
    assert "Faltam parâmetros" in str(read.value)
    with pytest.raises(MobizonMalformedRequestError) as sent:
        await client.send_sms(OutgoingSms("12223334455", "hi"))
    assert len(gateway.requests) == 2
    assert not sent.value.outcome_unknown
    assert "The SMS was not sent." in str(sent.value)
    assert "may still have been sent" not in str(sent.value)


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"recipient": "Wrong number."}, {"recipient": ["Wrong number."]}),
        (
            {"recipient": ["Wrong number.", "Too short."]},
            {"recipient": ["Wrong number.", "Too short."]},
        ),
        ({"params": {"validity": ["Out of range."]}}, {"params": ["Out of range."]}),
        (
            [{"text": "Empty text."}, {"from": ["Unknown sender."]}],
            {"text": ["Empty text."], "from": ["Unknown sender."]},
        ),
        (["Something is wrong."], {"": ["Something is wrong."]}),
        ("Text is required.", {"": ["Text is required."]}),
        ({"recipient": "", "text": None, "from": 42}, {"from": ["42"]}),
    ],
)
async def test_validation_error_carries_per_field_messages_in_any_shape(
    gateway: CaptureGateway,
    make_client: ClientFactory,
    data: object,
    fields: dict[str, list[str]],
) -> None:
    """Code 1's data becomes field -> messages whatever its shape, and the sentence names them."""
    gateway.reply(Reply.envelope(1, data, "Validation error"))
    client = make_client(gateway.url)
    with pytest.raises(MobizonValidationError) as caught:
        await client.send_sms(OutgoingSms("12223334455", "hi"))
    error = caught.value
    assert error.fields == fields
    assert error.data == data
    text = str(error)
    assert text.startswith("Mobizon refused the message: ")
    for name, messages in fields.items():
        if name:
            assert f"{name}: " in text
        for message in messages:
            assert message.rstrip(".") in text
    assert_sentence(error)


async def test_validation_error_without_details_uses_mobizon_message(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """Code 1 with empty data falls back on Mobizon's message for the reason."""
    gateway.reply(Reply.envelope(1, [], "Parâmetro inválido"))
    client = make_client(gateway.url)
    with pytest.raises(MobizonValidationError) as caught:
        await client.list_messages()
    assert str(caught.value) == "Mobizon refused the request: Parâmetro inválido."


@pytest.mark.parametrize(
    "data",
    [
        "api.mobizon.kz",
        {"domain": "api.mobizon.kz"},
        {"server": {"host": "api.mobizon.kz"}},
        ["api.mobizon.kz"],
        {"unexpected": "api.mobizon.kz"},
    ],
)
async def test_wrong_server_names_the_right_domain(
    gateway: CaptureGateway, make_client: ClientFactory, data: object
) -> None:
    """Code 13 tells the operator which MOBIZON_API_URL to set, whatever shape data has."""
    gateway.reply(Reply.envelope(13, data, "Wrong server"))
    client = make_client(gateway.url)
    with pytest.raises(MobizonWrongServerError) as caught:
        await client.get_sms_status([1])
    assert caught.value.domain == "api.mobizon.kz"
    assert str(caught.value) == (
        "This Mobizon account belongs to the API server api.mobizon.kz; "
        "whoever runs smsbot should set MOBIZON_API_URL to https://api.mobizon.kz."
    )


async def test_wrong_server_without_a_domain_still_says_what_to_do(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """Code 13 with no domain in data points the operator at Mobizon's control panel."""
    gateway.reply(Reply.envelope(13, [], ""))
    client = make_client(gateway.url)
    with pytest.raises(MobizonWrongServerError) as caught:
        await client.get_sms_status([1])
    assert caught.value.domain is None
    assert "MOBIZON_API_URL" in str(caught.value)
    assert_sentence(caught.value)


async def test_auth_error_names_the_setting(
    simulator: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """A wrong key (code 8 from the simulator) tells the operator to check MOBIZON_API_KEY."""
    _sim, url = simulator
    client = make_client(url, api_key="wrong-key-0123456789")
    with pytest.raises(MobizonAuthError) as caught:
        await client.get_sms_status([1])
    assert str(caught.value) == (
        "Mobizon refused the API key; whoever runs smsbot should check MOBIZON_API_KEY "
        "(Mobizon: failed.api.auth)."
    )
    assert "wrong-key-0123456789" not in repr(caught.value)


async def test_mobizon_message_echoing_the_key_is_redacted(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """A Mobizon message that quotes the API key never puts it into the exception text."""
    gateway.reply(Reply.envelope(8, [], f"key {MOBIZON_KEY} is not valid"))
    client = make_client(gateway.url)
    with pytest.raises(MobizonAuthError) as caught:
        await client.get_sms_status([1])
    assert "key *** is not valid" in str(caught.value)
    assert_sentence(caught.value)


async def test_html_502_is_a_clear_gateway_error(
    simulator: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """An nginx 502 page instead of JSON raises a gateway error naming HTTP 502."""
    sim, url = simulator
    sim.html_failure_next(times=10, status=502)
    client = make_client(url, retry=ONE_TRY)
    with pytest.raises(MobizonGatewayError) as caught:
        await client.get_sms_status([1])
    assert caught.value.http_status == 502
    assert str(caught.value) == "Mobizon failed with HTTP 502. Try again in a minute."


async def test_html_502_on_a_send_warns_it_may_have_gone_out(
    simulator: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """A 502 page answering a send is not retried and says to check before sending again."""
    sim, url = simulator
    sim.html_failure_next(status=502, method=SEND_SMS)
    client = make_client(url)
    with pytest.raises(MobizonGatewayError) as caught:
        await client.send_sms(OutgoingSms("5511987654321", "hi"))
    assert caught.value.outcome_unknown
    assert str(caught.value) == (
        "Mobizon failed with HTTP 502. "
        "The SMS may still have been sent: check its status before sending it again."
    )
    assert sim.count(SEND_SMS) == 1


@pytest.mark.parametrize("close_connection", [True, False])
async def test_truncated_json_is_a_clear_gateway_error(
    simulator: tuple[MobizonSimulator, str], make_client: ClientFactory, close_connection: bool
) -> None:
    """Half a JSON body (cut mid-stream, or complete but half) raises a readable gateway error."""
    sim, url = simulator
    sim.truncate_next(close_connection=close_connection)
    client = make_client(url, retry=ONE_TRY)
    with pytest.raises(MobizonGatewayError) as caught:
        await client.list_messages()
    assert "cut off" in str(caught.value)
    assert_sentence(caught.value)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(b"", status=200), "Mobizon's answer was empty. Try again in a minute."),
        (
            Reply(b"<html>maintenance</html>", status=200, content_type="text/html"),
            "Mobizon's answer could not be read (cut off or not JSON). Try again in a minute.",
        ),
        (
            Reply(b"Not Found", status=404, content_type="text/plain"),
            (
                "Mobizon answered HTTP 404 instead of an API response; "
                "whoever runs smsbot should check MOBIZON_API_URL. Try again in a minute."
            ),
        ),
        (
            Reply(b'{"code": 0, "data": {"items": "nonsense"}}'),
            "Mobizon's list of messages could not be read. Try again in a minute.",
        ),
    ],
)
async def test_unreadable_answers_are_clear_gateway_errors(
    gateway: CaptureGateway, make_client: ClientFactory, reply: Reply, expected: str
) -> None:
    """Empty bodies, HTML with 200, a 404 page and a malformed data each get their own sentence."""
    gateway.reply(reply)
    client = make_client(gateway.url, retry=ONE_TRY)
    with pytest.raises(MobizonGatewayError) as caught:
        await client.list_messages()
    assert str(caught.value) == expected


async def test_timeout_is_a_clear_error(
    simulator: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """An answer slower than the total timeout raises MobizonTimeoutError naming the limit."""
    sim, url = simulator
    sim.hold()  # no answer until the test is over: slower than any timeout
    client = make_client(url, retry=ONE_TRY, timeouts=Timeouts(connect=2.0, total=0.25))
    with pytest.raises(MobizonTimeoutError) as caught:
        await client.get_sms_status([1])
    assert str(caught.value) == "Mobizon did not answer within 0.25 s. Try again in a minute."
    assert not caught.value.never_sent


async def test_refused_connection_is_a_clear_error(make_client: ClientFactory) -> None:
    """A refused connection names the host and proves the request never left."""
    client = make_client(f"http://127.0.0.1:{free_port()}", retry=ONE_TRY)
    with pytest.raises(MobizonNetworkError) as caught:
        await client.send_sms(OutgoingSms("12223334455", "hi"))
    error = caught.value
    assert error.never_sent
    assert not error.outcome_unknown
    assert str(error) == (
        "Mobizon could not be reached: 127.0.0.1 refused the connection. "
        "The SMS was not sent; try again in a minute."
    )
    assert error.__cause__ is None
    assert error.__context__ is None


async def test_refused_by_every_address_of_a_host(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host with two addresses that both refuse (dual-stack localhost) still reads "refused"."""
    port = free_port()
    real_getaddrinfo = socket.getaddrinfo

    def two_addresses(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "dual.test":
            return real_getaddrinfo(host, *args, **kwargs)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", two_addresses)
    client = make_client(f"http://dual.test:{port}", retry=ONE_TRY)
    with pytest.raises(MobizonNetworkError) as caught:
        await client.send_sms(OutgoingSms("12223334455", "hi"))
    assert caught.value.never_sent
    assert_sentence(caught.value)
    assert str(caught.value) == (
        "Mobizon could not be reached: dual.test refused the connection. "
        "The SMS was not sent; try again in a minute."
    )


@pytest.mark.parametrize(
    ("os_error", "expected"),
    [
        (
            OSError(errno.EHOSTUNREACH, "Multiple exceptions: Connect call failed ('::1', 443)"),
            (
                "Mobizon could not be reached: the connection to api.mobizon.kz failed "
                "(no route to host). The SMS was not sent; try again in a minute."
            ),
        ),
        (
            OSError(None, "Multiple exceptions: [Errno 113] ..., [Errno 101] ..."),
            (
                "Mobizon could not be reached: the connection to api.mobizon.kz failed. "
                "The SMS was not sent; try again in a minute."
            ),
        ),
    ],
)
def test_other_connect_failures_read_cleanly(os_error: OSError, expected: str) -> None:
    """Unreachable hosts are described by errno in words, never by aiohttp's address list."""
    blank: list[Any] = [None] * len(ConnectionKey._fields)
    key = ConnectionKey(*blank)._replace(host="api.mobizon.kz", port=443)
    error = connect_failure(
        aiohttp.ClientConnectorError(key, os_error), "api.mobizon.kz", sending=True
    )
    assert error.never_sent
    assert str(error) == expected
    assert_sentence(error)


async def test_dns_failure_is_a_clear_error(make_client: ClientFactory) -> None:
    """A host name that does not resolve says so and names the setting to check."""
    client = make_client("http://no-such-host.invalid", retry=ONE_TRY)
    with pytest.raises(MobizonNetworkError) as caught:
        await client.get_sms_status([1])
    assert caught.value.never_sent
    assert str(caught.value).startswith(
        "Mobizon could not be reached: the name no-such-host.invalid could not be resolved"
    )
    assert_sentence(caught.value)


async def test_dropped_connection_is_a_clear_error(
    simulator: tuple[MobizonSimulator, str], make_client: ClientFactory
) -> None:
    """A connection closed without an answer is a network error that may have sent the SMS."""
    sim, url = simulator
    sim.drop_connection_next(method=SEND_SMS)
    client = make_client(url)
    with pytest.raises(MobizonNetworkError) as caught:
        await client.send_sms(OutgoingSms("5511987654321", "hi"))
    assert not caught.value.never_sent
    assert caught.value.outcome_unknown
    assert_sentence(caught.value)
    assert str(caught.value) == (
        "Mobizon closed the connection before answering. "
        "The SMS may still have been sent: check its status before sending it again."
    )
    assert sim.count(SEND_SMS) == 1


def test_error_for_refuses_success() -> None:
    """Code 0 is not an error: asking error_for to map it is a programming mistake."""
    with pytest.raises(ValueError, match="success"):
        error_for(0, "", [])


@pytest.mark.parametrize(("code", "error_class"), CODES)
@pytest.mark.parametrize("sending", [True, False])
def test_every_error_text_is_an_actionable_sentence(
    code: int, error_class: type[MobizonError], sending: bool
) -> None:
    """Each mapped error, with or without Mobizon's words, reads as sentences with a next step."""
    for message in ("", "failed.api.auth", "Erro interno."):
        error = error_for(code, message, [], sending=sending)
        assert type(error) is error_class
        assert_sentence(error)
        text = str(error)
        next_step = ("runs smsbot should", "try again", "Try again", "check", "ask for less")
        if error_class is not MobizonValidationError:  # its next step is to fix the named field
            assert any(step in text for step in next_step), text
        assert repr(error).startswith(f"{error_class.__name__}(code={code}")


async def test_validation_data_echoing_the_key_is_redacted(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """Code 1's data quoting the API key (in a value or a key) never reaches the error's text or data."""
    gateway.reply(
        Reply.envelope(
            1,
            {"apiKey": [f"{MOBIZON_KEY} is not valid"], f"echo {MOBIZON_KEY}": {"x": MOBIZON_KEY}},
            "validation failed",
        )
    )
    client = make_client(gateway.url)
    with pytest.raises(MobizonValidationError) as caught:
        await client.send_sms(OutgoingSms("5511987654321", "hi"))
    error = caught.value
    assert MOBIZON_KEY not in str(error)
    assert MOBIZON_KEY not in repr(error.data)
    assert MOBIZON_KEY not in repr(error.fields)
    assert "apiKey: *** is not valid" in str(error)


async def test_an_unreadable_answer_to_a_send_is_worded_in_the_readers_language(
    gateway: CaptureGateway, make_client: ClientFactory
) -> None:
    """A send's answer without its ids is UNREADABLE_SENT, so pt-BR readers get Portuguese."""
    gateway.reply(Reply(b'{"code": 0, "data": {}}'))
    client = make_client(gateway.url, retry=ONE_TRY)
    with pytest.raises(MobizonGatewayError) as caught:
        await client.send_sms(OutgoingSms("5511987654321", "hi"))
    assert caught.value.problem is Problem.UNREADABLE_SENT
    with use_locale("pt-BR"):
        assert describe(caught.value).startswith(
            "O Mobizon aceitou o SMS, mas não foi possível ler a resposta."
        )
