"""A faithful fake of Mobizon's Message API, for tests, benchmarks and sandbox mode.

``MobizonSimulator`` is the gateway (state, switches, the aiohttp app); ``start_simulator``
serves one on a loopback port; ``run`` serves one until interrupted (``python -m bot simulator``).

Modules: ``_form`` decodes PHP-style form bodies, ``_sms`` counts segments and knows the
time format, ``_messages`` holds messages and their lifecycle, ``_methods`` answers the
three methods, ``_webhooks`` sends delivery reports, ``_simulator`` ties them together.
"""

from bot.simulator._form import PhpForm, PhpValue
from bot.simulator._messages import MessageState, SimulatedMessage
from bot.simulator._simulator import (
    DEFAULT_API_KEY,
    GET_SMS_STATUS,
    LIST,
    MESSAGE_METHODS,
    SEND_SMS,
    MobizonSimulator,
    RecordedRequest,
    SimulatorConfig,
    run,
    start_simulator,
)
from bot.simulator._webhooks import WebhookAttempt, sign

__all__ = [
    "DEFAULT_API_KEY",
    "GET_SMS_STATUS",
    "LIST",
    "MESSAGE_METHODS",
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
]
