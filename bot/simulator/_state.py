"""The simulator's state in a file: what a sandbox keeps from one run to the next.

A mixin of :class:`~bot.simulator.MobizonSimulator`. With a state path, the simulator starts
from what that file holds (messages, campaigns and their moderation, the balance, the ids
handed out, short links) and writes it back after every request that changed it and when its
app stops. Each write goes to a temporary file beside it that is then renamed over it, so a
process killed mid-write leaves the previous state whole, never half of one.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import json
import logging
import os
import random
from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.simulator._config import SimulatorConfig
from bot.simulator._messages import SimulatedMessage

logger = logging.getLogger(__name__)

#: The layout of the file; a file of another version is set aside, not misread.
STATE_VERSION = 1
_MOMENTS = frozenset({"created_at", "deferred_to", "moderated_until", "deleted_at"})


class StateFileError(ValueError):
    """The state file exists but cannot be read as a simulator's state."""


class KeptState:
    """Reads the simulator's state from its file at start and writes it back after changes."""

    _config: SimulatorConfig
    messages: dict[int, SimulatedMessage]
    short_links: dict[str, str]
    _next_message_id: int
    _next_campaign_id: int
    _campaigns: dict[int, int]
    _balance_base: Decimal
    _charged: Decimal
    _refunded: set[int]
    _refunds_due: list[tuple[datetime, int]]
    _outcomes: random.Random
    _uuids: random.Random
    _links: random.Random
    _created: datetime

    if TYPE_CHECKING:  # the simulator's own, found at run time on the subclass

        def _queue_final(self, message: SimulatedMessage) -> None:
            raise NotImplementedError

    def _init_state(self, path: Path | None) -> None:
        self._state_path = path
        self._state_lock: asyncio.Lock | None = None
        if path is None:
            return
        try:
            data = read_state(path)
            if data is not None:
                self._restore(data)
        except StateFileError as error:
            aside = path.with_name(path.name + ".unreadable")
            path.replace(aside)
            logger.warning(
                "the simulator's state in %s cannot be read (%s): it is kept as %s and the "
                "simulator starts empty",
                path,
                error,
                aside,
            )

    @property
    def state_path(self) -> Path | None:
        """The file the simulator keeps its state in, or ``None`` when it forgets at exit."""
        return self._state_path

    async def save_state(self) -> None:
        """Write the state to its file now (nothing without a state path)."""
        path = self._state_path
        if path is None:
            return
        if self._state_lock is None:
            self._state_lock = asyncio.Lock()
        async with self._state_lock:  # one write at a time, each with the latest state
            text = json.dumps(self._snapshot(), separators=(",", ":"))
            await asyncio.to_thread(write_atomically, path, text)

    def _snapshot(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "next_message_id": self._next_message_id,
            "next_campaign_id": self._next_campaign_id,
            "balance_base": str(self._balance_base),
            "charged": str(self._charged),
            "refunded": sorted(self._refunded),
            "created": self._created.isoformat(),
            "short_links": self.short_links,
            "messages": [_message_data(message) for message in self.messages.values()],
        }

    def _restore(self, data: dict[str, Any]) -> None:
        """Take over the state an earlier run of the simulator wrote."""
        try:
            restored = [_message_from(item) for item in data["messages"]]
            next_ids = int(data["next_message_id"]), int(data["next_campaign_id"])
            balance_base, charged = Decimal(data["balance_base"]), Decimal(data["charged"])
            refunded = {int(message_id) for message_id in data["refunded"]}
            created = datetime.fromisoformat(data["created"])
            short_links = {str(k): str(v) for k, v in dict(data["short_links"]).items()}
        except (KeyError, TypeError, ValueError, ArithmeticError) as error:
            raise StateFileError(f"a malformed entry: {type(error).__name__}") from error
        for message in restored:
            self.messages[message.id] = message
            self._campaigns[message.campaign_id] = message.id
            self._queue_final(message)
            if message.declined and message.id not in refunded and message.moderated_until:
                heapq.heappush(self._refunds_due, (message.moderated_until, message.id))
        self._next_message_id = max(self._next_message_id, next_ids[0])
        self._next_campaign_id = max(self._next_campaign_id, next_ids[1])
        self._balance_base, self._charged, self._refunded = balance_base, charged, refunded
        self._created = created
        self.short_links.update(short_links)
        # fresh draws, not the first run's again (its uuids and short links are taken)
        seed, taken = self._config.seed, len(self.messages)
        self._outcomes = random.Random(f"{seed}-{taken}")
        self._uuids = random.Random(f"uuid-{seed}-{taken}")
        self._links = random.Random(f"links-{seed}-{len(self.short_links)}")


def state_beside(database: str) -> Path | None:
    """Where a sandbox keeps its simulator's state: ``smsbot.db`` -> ``smsbot.sandbox.json``.

    ``None`` for an in-memory database, which keeps nothing either.
    """
    if database == ":memory:":
        return None
    return Path(database).with_suffix(".sandbox.json")


def read_state(path: Path) -> dict[str, Any] | None:
    """The state in ``path``; ``None`` when there is no file, StateFileError when unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise StateFileError(type(error).__name__) from error
    try:
        data = json.loads(text)
    except ValueError as error:
        raise StateFileError("not JSON") from error
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        raise StateFileError(f"not a version {STATE_VERSION} state")
    return data


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step: readers see the old file or the new one."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def _message_data(message: SimulatedMessage) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for item in fields(message):
        value = getattr(message, item.name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        elif item.name == "timeline":
            value = [[status, moment.isoformat()] for status, moment in value]
        data[item.name] = value
    return data


def _message_from(data: dict[str, Any]) -> SimulatedMessage:
    values = dict(data)
    for name in _MOMENTS:
        if values.get(name) is not None:
            values[name] = datetime.fromisoformat(values[name])
    for name in ("id", "campaign_id", "segments"):
        values[name] = int(values[name])
    values["segment_price"] = Decimal(values["segment_price"])
    values["timeline"] = tuple(
        (str(status), datetime.fromisoformat(moment)) for status, moment in values["timeline"]
    )
    return SimulatedMessage(**values)
