"""The floor with a durable claim, for ``ack.py``: a bare Bolt app whose ``/sms`` claims, then acks.

What smsbot's ack must do at the least, and nothing more: record the command before it is
acknowledged (issue 19: "a command is durably recorded before it is acknowledged"), through the
same storage as smsbot (:class:`storage.store.Store`: the claim group-committed on its writer
thread, the opt-out list read in the claim's transaction), the request answered at the ack as
smsbot's are (Bolt's ``process_before_response``), its garbage collected as ``smsbot serve``'s is
(:mod:`bot.process.quiet`: start-up's heap frozen, passes left for quiet moments). No
grammar, no phone number, no language, no delivery after the ack. Between the bare floor
(``_floor_bolt.py``) and smsbot it tells what the durable record costs and what the rest of
smsbot's path costs.

Reads what ``_floor_bolt.py`` reads, and the database as ``smsbot serve`` does
(``SMSBOT_DATABASE_URL``, else the SQLite file ``SMSBOT_DB``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

from _floor_bolt import bolt_app, run, served
from aiohttp import web
from slack_bolt.context.ack.async_ack import AsyncAck

from bot.process.quiet import (
    REQUESTS,
    InFlightRequests,
    counting_requests,
    quiet_collection,
)
from storage.claiming import NewSend
from storage.claims import claim_send_unless_opted_out
from storage.store import Store
from testkit.claims import new_send

STORE = web.AppKey("store", Store)

#: The number every command of ``ack.py`` names (``+55 11 98765-4321``), as smsbot stores it.
RECIPIENT = "+5511987654321"


def claim_of(command: dict[str, Any]) -> NewSend:
    """The claim of an ``ack.py`` command: its fields as they came, its whole text as the SMS.

    The number is not read from the text (reading it is smsbot's work, not the claim's): every
    command of the benchmark names the same one.
    """
    text = str(command["text"])
    return new_send(
        command["trigger_id"],
        team_id=command["team_id"],
        channel_id=command["channel_id"],
        user_id=command["user_id"],
        response_url=command.get("response_url"),
        recipient=RECIPIENT,
        text=text,
        length=len(text),
    )


def build() -> web.Application:
    """The bare app with a claim: one command listener that claims, then calls ``ack()``."""
    # answered when the listener returns, as smsbot's requests are (it returns at its ack): with
    # Bolt's default, each request waiting for its claim would wake every 10 ms to look for the
    # ack, which smsbot does not pay, and the difference would not be the claim's alone
    app = bolt_app(process_before_response=True)
    web_app = served(app)

    async def store_open(opened: web.Application) -> AsyncIterator[None]:
        url = os.environ.get("SMSBOT_DATABASE_URL") or os.environ["SMSBOT_DB"]
        opened[STORE] = await Store.open(url)
        yield
        await opened[STORE].close()

    web_app.cleanup_ctx.append(store_open)
    # the collector as smsbot serve runs it: without, the passes that fall due while 500 requests
    # wait for their claims would be counted as the claim's cost (1.6x the floor at 500 with
    # CPython's default, 1.0-1.1x with smsbot's)
    web_app.middlewares.append(counting_requests)
    web_app[REQUESTS] = InFlightRequests()
    web_app.cleanup_ctx.append(quiet_collection())

    @app.command("/sms")
    async def claim_then_ack(ack: AsyncAck, command: dict[str, Any]) -> None:
        await web_app[STORE].write(claim_send_unless_opted_out, claim_of(command))
        await ack()

    return web_app


if __name__ == "__main__":
    run(build())
