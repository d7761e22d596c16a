"""The domain's services besides sending, built together: what listeners call and render.

Listeners hold these, never the gateway: each call answers with a value (one of a closed union
where there are several outcomes) that the surface words for people.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, tzinfo

from bot.mobizon import Balance, SmsGateway
from bot.sms.clock import SYSTEM_CLOCK, Clock
from bot.sms.sending.balance import BalanceService
from bot.sms.sending.cancel import CancelService
from bot.sms.sending.lookups import Lookups
from bot.sms.sending.optouts import OptOutService
from bot.sms.sending.templates import TemplateService
from storage.store import Store


@dataclass(frozen=True, slots=True)
class AccountServices:
    """Cancel a scheduled SMS, look SMS up, the balance and costs, templates, the opt-out list."""

    cancels: CancelService
    lookups: Lookups
    balance: BalanceService
    templates: TemplateService
    optouts: OptOutService


def account_services(
    store: Store,
    gateway: SmsGateway,
    *,
    may_send: Callable[[str], bool] = lambda _user: True,
    allowed_users: frozenset[str] = frozenset(),
    zone: tzinfo = UTC,
    sandbox: bool = False,
    on_balance: Callable[[Balance], None] | None = None,
    wake_notifier: Callable[[], None] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> AccountServices:
    """The services over one database and one gateway.

    ``may_send`` is the send service's rule (who may send, and so keep templates and the
    opt-out list);
    ``allowed_users`` may cancel anyone's SMS; ``zone`` is the Mobizon account's; ``sandbox``
    the mode of the gateway; ``on_balance`` is told each balance Mobizon states;
    ``wake_notifier`` is told when a change is queued for the channel posts; ``clock`` is the
    process's.
    """
    return AccountServices(
        cancels=CancelService(
            store,
            gateway,
            allowed_users=allowed_users,
            zone=zone,
            wake_notifier=wake_notifier,
            clock=clock,
        ),
        lookups=Lookups(store, gateway, sandbox=sandbox, wake_notifier=wake_notifier),
        balance=BalanceService(
            store,
            gateway,
            zone=zone,
            sandbox=sandbox,
            on_balance=on_balance,
            wake_notifier=wake_notifier,
        ),
        templates=TemplateService(store, may_send=may_send),
        optouts=OptOutService(store, may_send=may_send),
    )
