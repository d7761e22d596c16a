"""Mobizon failures worded from the data the gateway's exceptions carry, through the catalogue."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from bot.mobizon import (
    MobizonAuthError,
    MobizonCampaignDeleteUnknownError,
    MobizonCampaignNotDeletableError,
    MobizonCampaignNotFoundError,
    MobizonClient,
    MobizonError,
    MobizonGatewayError,
    Problem,
    Timeouts,
    error_for,
)
from bot.mobizon._failures import broken_connection as _broken_connection
from bot.mobizon._failures import connect_failure as _connect_failure
from bot.mobizon._failures import http_failure as _http_failure
from handlers import gateway_errors, i18n
from handlers.gateway_errors import describe
from handlers.i18n import I18n, use_i18n, use_locale

CODES = (1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 30, 77, 999)
DATA: tuple[object, ...] = ([], {"recipient": ["bad number."]}, {"domain": "api.mobizon.kz"})


def _connector_error(os_error: OSError) -> aiohttp.ClientConnectorError:
    blank: list[Any] = [None] * len(ConnectionKey._fields)
    key = ConnectionKey(*blank)._replace(host="api.mobizon.kz", port=443)
    return aiohttp.ClientConnectorError(key, os_error)


def _every_error() -> list[MobizonError]:
    """One of each error the gateway raises, for reads and for sends."""
    errors: list[MobizonError] = []
    for sending in (False, True):
        for code in CODES:
            for message in ("", "Erro interno.", "failed.api.auth"):
                errors.extend(error_for(code, message, data, sending=sending) for data in DATA)
        for status, location, body in (
            (301, "https://api.mobizon.kz/service", b""),
            (302, None, b""),
            (429, None, b""),
            (404, None, b"<html>"),
            (502, None, b"<html>"),
            (200, None, b""),
            (200, None, b"{not json"),
        ):
            errors.append(_http_failure(status, location, body, sending=sending))
        errors.extend(
            _connect_failure(_connector_error(os_error), "h.test", sending=sending)
            for os_error in (
                ConnectionRefusedError(errno.ECONNREFUSED, "refused"),
                OSError(errno.EHOSTUNREACH, "Multiple exceptions"),
                OSError(None, "Multiple exceptions"),
            )
        )
        errors.extend(
            _broken_connection(broken, sending=sending)
            for broken in (
                aiohttp.ServerDisconnectedError(),
                aiohttp.ClientOSError(errno.ECONNRESET, "reset"),
                aiohttp.ClientPayloadError("odd"),
            )
        )
        client = MobizonClient("k", timeouts=Timeouts(connect=2.5, total=20))
        errors.append(client._timeout(aiohttp.ConnectionTimeoutError(), sending=sending))
        errors.append(client._timeout(aiohttp.ServerTimeoutError(), sending=sending))
    errors.append(MobizonGatewayError("Mobizon's answer was cut off", reason=Problem.CUT_OFF))
    errors.append(MobizonCampaignNotFoundError(7, api_message="Kampaniya ne naydena"))
    errors.append(MobizonCampaignNotDeletableError(7))
    errors.append(
        MobizonCampaignDeleteUnknownError(7, _http_failure(502, None, b"", sending=False))
    )
    return errors


def test_every_error_is_worded_from_its_data_as_in_english() -> None:
    """describe() gives every gateway error's sentence, word for word the English one."""
    errors = _every_error()
    assert len(errors) > 300
    with use_locale("en"):
        for error in errors:
            assert describe(error) == str(error), repr(error)


def test_every_error_starts_as_a_sentence() -> None:
    """Each worded error starts with a capital and ends with a full stop."""
    for error in _every_error():
        text = describe(error)
        assert text[0].isupper(), text
        assert text.endswith("."), text


def test_every_problem_has_its_words() -> None:
    """Each Problem but OTHER is worded in the catalogue, so a new one cannot go unworded."""
    assert set(gateway_errors._PROBLEMS) == set(Problem) - {Problem.OTHER}


def test_errors_carry_data_not_only_a_sentence() -> None:
    """The code, Mobizon's words, what happened and whether the SMS may have left are data."""
    error = error_for(999, "Internal error.", None, sending=True)
    assert isinstance(error, MobizonGatewayError)
    assert (error.code, error.api_message, error.problem) == (
        999,
        "Internal error.",
        Problem.FAILURE_CODE,
    )
    assert error.sending
    assert error.outcome_unknown
    failure = _http_failure(301, "https://api.mobizon.kz/x", b"", sending=False)
    assert (failure.problem, failure.details) == (
        Problem.REDIRECT,
        {"status": 301, "target": "api.mobizon.kz"},
    )
    assert not failure.outcome_unknown


def test_a_translation_words_the_error_and_keeps_mobizons_message(tmp_path: Path) -> None:
    """In another locale the sentence is translated; Mobizon's own message is shown as written."""
    catalog = Catalog(locale="pt_BR", domain=i18n.DOMAIN)
    catalog.add(
        "Mobizon refused the API key; whoever runs smsbot should check MOBIZON_API_KEY%(said)s.",
        "O Mobizon recusou a chave de API; o operador deve conferir MOBIZON_API_KEY%(said)s.",
    )
    catalog.add(" (Mobizon: %(message)s)", " (Mobizon: %(message)s)")
    catalog.add("%(refusal)s The SMS was not sent.", "%(refusal)s O SMS não foi enviado.")
    folder = tmp_path / "pt_BR" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / f"{i18n.DOMAIN}.mo").open("wb") as handle:
        write_mo(handle, catalog)
    error = error_for(8, "Invalid API key.", [], sending=True)
    assert isinstance(error, MobizonAuthError)
    with use_i18n(I18n(tmp_path)), use_locale("pt-BR"):
        assert describe(error) == (
            "O Mobizon recusou a chave de API; o operador deve conferir MOBIZON_API_KEY "
            "(Mobizon: Invalid API key). O SMS não foi enviado."
        )


@pytest.mark.parametrize("sending", [False, True])
def test_an_error_without_data_falls_back_to_its_english(sending: bool) -> None:
    """A gateway error raised with words only (Problem.OTHER) is still told, in English."""
    error = MobizonGatewayError("Something odd", sending=sending, outcome_unknown=True)
    assert describe(error) == str(error)
