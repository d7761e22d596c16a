"""The simulator's number info with and without phonenumbers' carrier data (phonenumberslite)."""

from __future__ import annotations

import sys

import phonenumbers
import pytest

from bot.simulator import _sms


def test_number_info_without_carrier_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the carrier data (phonenumberslite), the country is still named, the operator null."""
    _sms.number_info.cache_clear()
    monkeypatch.setitem(sys.modules, "phonenumbers.carrier", None)  # importing it fails
    monkeypatch.delattr(phonenumbers, "carrier", raising=False)  # even after an earlier import
    try:
        assert _sms.number_info("5511987654321") == ("BR", None)
        assert _sms.number_info("77011234567") == ("KZ", None)
        assert _sms.number_info("999") == (None, None)
    finally:
        _sms.number_info.cache_clear()
