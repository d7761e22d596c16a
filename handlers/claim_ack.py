"""The order every surface sends in: claim the send, acknowledge the request, then deliver it.

A send is recorded before Slack hears the ack: a process killed after the ack leaves a claim
another replica (or the next start) settles, never a request nobody knows of. Slack wants the
ack within 3 s, so a database slower than :data:`CLAIM_BEFORE_ACK` gets the ack first and the
claim just after.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.mobizon import OutgoingSms
from bot.sms.sending.outcomes import Outcome
from bot.sms.sending.service import Claimed
from bot.sms.sending.types import Origin
from handlers.context import Services

#: Seconds a send's claim may take before the request is acknowledged anyway (Slack: 3 s).
CLAIM_BEFORE_ACK = 0.5

#: Acknowledges the request. It is given the claim's refusal when one came in time (``None``
#: when the send is claimed, or its claim is still on its way) and returns True when its ack
#: told that refusal (a modal's field error), so it is not told again.
AckWith = Callable[[Outcome | None], Awaitable[bool]]


async def claim_ack_deliver(
    ack: AckWith, svc: Services, sms: OutgoingSms, source: Origin
) -> Outcome | None:
    """Claim the send, acknowledge the request, then send it; the outcome to tell.

    ``None`` when the ack told the claim's refusal already. When the ack raises, Slack never
    heard it and the person is told the request failed: the claim is released, nothing is sent.

    The claim is awaited here, not in a task of its own: a timer gives the ack first (in a task)
    only when the claim outlasts :data:`CLAIM_BEFORE_ACK`. Each command of a burst then costs
    its event loop one timer, not a task, a waiter and their callbacks. The send leaves once
    no other request waits for its answer (:attr:`Services.after_acks`, bounded).
    """
    loop = asyncio.get_running_loop()
    early: asyncio.Future[bool] | None = None

    def ack_first() -> None:
        nonlocal early
        early = asyncio.ensure_future(ack(None))  # the claim still on its way: nothing to tell

    timer = loop.call_later(CLAIM_BEFORE_ACK, ack_first)
    try:
        claimed = await svc.sending.claim(sms, source)
    finally:
        timer.cancel()
    try:
        if early is None:
            told = await ack(None if isinstance(claimed, Claimed) else claimed)
        else:
            told = await early
    except BaseException:
        await svc.sending.release(claimed)
        raise
    if not isinstance(claimed, Claimed):
        return None if told else claimed
    if svc.after_acks is not None:
        await svc.after_acks()  # the acks of a burst first: each waits on this process's CPU
    return await svc.sending.deliver(claimed)
