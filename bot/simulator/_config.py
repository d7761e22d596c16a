"""The simulator's configuration, the methods it answers and how switches name them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from bot.simulator._form import PhpForm

#: The API key of the seed's curl examples; the ``simulator`` command's default key.
DEFAULT_API_KEY = "K" * 40

#: The Message methods the simulator answers, lowercased as in the URL.
SEND_SMS = "sendsmsmessage"
GET_SMS_STATUS = "getsmsstatus"
LIST = "list"
MESSAGE_METHODS = (SEND_SMS, GET_SMS_STATUS, LIST)

#: The account-level methods the simulator answers, as ``module/method`` lowercased.
GET_BALANCE = "user/getownbalance"
SENDER_NAMES = "alphaname/list"
CAMPAIGN_INFO = "campaign/getinfo"
CAMPAIGN_DELETE = "campaign/delete"
ACCOUNT_METHODS = (GET_BALANCE, SENDER_NAMES, CAMPAIGN_INFO, CAMPAIGN_DELETE)
#: The methods of a send to many, as ``module/method`` lowercased.
CAMPAIGN_CREATE = "campaign/create"
CAMPAIGN_ADD_RECIPIENTS = "campaign/addrecipients"
CAMPAIGN_SEND = "campaign/send"
CAMPAIGN_METHODS = (CAMPAIGN_CREATE, CAMPAIGN_ADD_RECIPIENTS, CAMPAIGN_SEND)
#: Each module the simulator answers, with its methods.
MODULES: dict[str, tuple[str, ...]] = {"message": MESSAGE_METHODS}
for _name in (*ACCOUNT_METHODS, *CAMPAIGN_METHODS):
    _module, _method = _name.split("/")
    MODULES[_module] = (*MODULES.get(_module, ()), _method)

#: What every simulated message segment costs (``segUserBuy``) unless configured otherwise.
SEGMENT_PRICE = Decimal("0.0600")
#: What the simulated sendSmsMessage answers when the balance cannot pay for the SMS.
#: Mobizon documents no distinct code for it: code 1 (validation) with these words is a guess.
INSUFFICIENT_FUNDS_CODE = 1
INSUFFICIENT_FUNDS_MESSAGE = "Insufficient funds on the balance to send the message."


@dataclass(frozen=True)
class SimulatorConfig:
    """How the simulated gateway behaves from the start; switches can change it later.

    ``speed`` 1.0 takes about 2 s from sending to the final status; 10.0 is ten times faster.
    The three rates are the chances (0..1, summing to at most 1) that a message ends
    ``UNDELIV``, ``REJECTD`` or ``EXPIRED`` instead of ``DELIVRD``, drawn from ``seed``.
    ``latency`` delays every answer by that many seconds. With ``moderation`` on, campaigns
    wait in moderation before sending: ``moderation_seconds`` (at speed 1; ``None``: until
    :meth:`MobizonSimulator.moderate` decides), then approved, or declined with
    ``decline_comment`` when that is set. With ``webhook_url`` set, every final status is
    POSTed there as Mobizon's delivery webhook, signed when ``webhook_secret`` is set.

    The account: ``balance`` in ``currency`` to start with, each segment costing
    ``segment_price`` (taken when a send is accepted, given back when its campaign is deleted
    or declined; a send the balance cannot pay for is refused with
    ``insufficient_funds_code`` and ``insufficient_funds_message``), ``sender_names`` (the
    first is the default) for ``alphaname/list``, and ``short_link_base`` for the links
    ``params[shortenLinks]=1`` makes. Numbers on ``stop_list`` (international digits) are
    refused by ``campaign/addrecipients`` with row code 5, as Mobizon's stop list does.
    """

    api_key: str = field(default=DEFAULT_API_KEY, repr=False)
    speed: float = 1.0
    undelivered_rate: float = 0.0
    rejected_rate: float = 0.0
    expired_rate: float = 0.0
    seed: int = 0
    latency: float = 0.0
    moderation: bool = False
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    first_message_id: int = 6300284
    first_campaign_id: int = 855834
    default_sender: str = "SMSBOT"
    moderation_seconds: float | None = 1.0
    decline_comment: str | None = None
    balance: Decimal = Decimal("10000.0000")
    currency: str = "BRL"
    segment_price: Decimal = SEGMENT_PRICE
    sender_names: tuple[str, ...] = ("SMSBOT",)
    short_link_base: str = "https://mbz.io"
    insufficient_funds_code: int = INSUFFICIENT_FUNDS_CODE
    insufficient_funds_message: str = INSUFFICIENT_FUNDS_MESSAGE
    stop_list: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError("speed must be above 0")
        rates = (self.undelivered_rate, self.rejected_rate, self.expired_rate)
        if any(not 0 <= rate <= 1 for rate in rates) or sum(rates) > 1:
            raise ValueError("outcome rates must be within 0..1 and sum to at most 1")
        if self.latency < 0:
            raise ValueError("latency cannot be negative")
        if self.moderation_seconds is not None and self.moderation_seconds < 0:
            raise ValueError("moderation_seconds cannot be negative")
        if self.segment_price < 0:
            raise ValueError("segment_price cannot be negative")
        if self.insufficient_funds_code == 0:
            raise ValueError("insufficient_funds_code must be an error code, not 0")


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the simulator received, exactly as it came (``query`` holds the API key)."""

    module: str
    method: str
    http_method: str
    query: Mapping[str, str] = field(repr=False)
    body: bytes
    params: PhpForm
    at: datetime


#: The modules other than ``message``.
ACCOUNT_MODULES = frozenset(module for module in MODULES if module != "message")


def split_name(name: str) -> tuple[str, str]:
    """``module/method`` as its two parts."""
    module, _, method = name.partition("/")
    return module, method


def method_key(module: str, method: str) -> str:
    """How switches name a method: bare for the Message module, else ``module/method``."""
    return method if module == "message" else f"{module}/{method}"


def method_name(method: str) -> str:
    """Normalize a method named by a switch: ``sendSmsMessage``, ``campaign/getInfo``..."""
    name = method.lower()
    if "/" in name:
        name = method_key(*split_name(name))
    known = (*MESSAGE_METHODS, *ACCOUNT_METHODS, *CAMPAIGN_METHODS)
    if name not in known:
        raise ValueError(f"unknown Mobizon method {method!r}; one of {known}")
    return name
