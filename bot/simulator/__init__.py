"""A faithful fake of Mobizon's Message API and account methods, for tests and sandbox mode.

``MobizonSimulator`` is the gateway (state, switches, the aiohttp app); ``start_simulator``
serves one on a loopback port; ``run`` serves one until interrupted (``python -m bot simulator``).

Modules: ``_form`` decodes PHP-style form bodies, ``_sms`` counts segments and knows the
time format, ``_messages`` holds messages and their lifecycle, ``_methods`` answers the
three Message methods, ``_account`` the account-level ones (balance, sender names, campaign
info and delete, short links), ``_bulk`` a send to many's campaigns (``campaign/create``,
``addrecipients``, ``send``; their forms in ``_bulk_methods``, their ``getinfo`` in
``_bulk_info``), ``_webhooks`` sends delivery reports, ``_config`` holds the
configuration and the method names, ``_requests`` the HTTP side (checks, latency, faults),
``_account_state`` the account (balance, campaigns, refunds), ``_state`` keeps all of it in a
file across runs (the sandbox's, beside its database), ``_simulator`` ties them together
(messages, their clock, webhooks), and ``_serve`` serves one on a port.
"""

from bot.simulator._account import DELETE_DEADLINE
from bot.simulator._config import (
    ACCOUNT_METHODS,
    CAMPAIGN_ADD_RECIPIENTS,
    CAMPAIGN_CREATE,
    CAMPAIGN_DELETE,
    CAMPAIGN_INFO,
    CAMPAIGN_METHODS,
    CAMPAIGN_SEND,
    DEFAULT_API_KEY,
    GET_BALANCE,
    GET_SMS_STATUS,
    INSUFFICIENT_FUNDS_CODE,
    INSUFFICIENT_FUNDS_MESSAGE,
    LIST,
    MESSAGE_METHODS,
    SEND_SMS,
    SENDER_NAMES,
    RecordedRequest,
    SimulatorConfig,
)
from bot.simulator._form import PhpForm, PhpValue
from bot.simulator._messages import MessageState, SimulatedMessage
from bot.simulator._serve import run, start_simulator
from bot.simulator._simulator import MobizonSimulator
from bot.simulator._state import state_beside
from bot.simulator._webhooks import WebhookAttempt, sign

__all__ = [
    "ACCOUNT_METHODS",
    "CAMPAIGN_ADD_RECIPIENTS",
    "CAMPAIGN_CREATE",
    "CAMPAIGN_DELETE",
    "CAMPAIGN_INFO",
    "CAMPAIGN_METHODS",
    "CAMPAIGN_SEND",
    "DEFAULT_API_KEY",
    "DELETE_DEADLINE",
    "GET_BALANCE",
    "GET_SMS_STATUS",
    "INSUFFICIENT_FUNDS_CODE",
    "INSUFFICIENT_FUNDS_MESSAGE",
    "LIST",
    "MESSAGE_METHODS",
    "SENDER_NAMES",
    "SEND_SMS",
    "MessageState",
    "MobizonSimulator",
    "PhpForm",
    "PhpValue",
    "RecordedRequest",
    "SimulatedMessage",
    "SimulatorConfig",
    "WebhookAttempt",
    "run",
    "sign",
    "start_simulator",
    "state_beside",
]
