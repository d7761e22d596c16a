"""A claim to record, for tests and benchmarks: one SMS to one number from channel C1."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from storage.claims import NewSend

_CLAIM = NewSend(
    trigger_id="t0",
    team_id="T1",
    channel_id="C1",
    user_id="U1",
    response_url=None,
    recipient="5511987654321",
    text="hello",
    sender=None,
    segments=1,
    encoding="GSM-7",
    name=None,
    deferred_to=None,
    validity=None,
    flash=False,
)


def new_send(trigger_id: str, **fields: Any) -> NewSend:  # noqa: ANN401
    """A claim keyed ``trigger_id`` with the text ``text of <trigger_id>``; ``fields`` change it."""
    return replace(_CLAIM, **{"trigger_id": trigger_id, "text": f"text of {trigger_id}", **fields})
