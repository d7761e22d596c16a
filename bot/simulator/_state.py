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
from datetime import datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.simulator._config import SimulatorConfig
from bot.simulator._messages import SimulatedMessage

logger = logging.getLogger(__name__)

#: The layout of the file; a file of another version is set aside, not misread. Version 2
#: writes moments with their offset (an earlier smsbot sets it aside rather than misread it);
#: version 1 wrote naive wall times, still read as they are.
STATE_VERSION = 2
_READABLE_VERSIONS = (1, STATE_VERSION)
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
    _zone: tzinfo | None

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
            "created": _instant(self._created, self._zone),
            "short_links": self.short_links,
            "messages": [_message_data(message, self._zone) for message in self.messages.values()],
        }

    def _restore(self, data: dict[str, Any]) -> None:
        """Take over the state an earlier run of the simulator wrote."""
        try:
            restored = [_message_from(item, self._zone) for item in data["messages"]]
            next_ids = int(data["next_message_id"]), int(data["next_campaign_id"])
            balance_base, charged = Decimal(data["balance_base"]), Decimal(data["charged"])
            refunded = {int(message_id) for message_id in data["refunded"]}
            created = _wall_time(data["created"], self._zone)
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
    if not isinstance(data, dict) or data.get("version") not in _READABLE_VERSIONS:
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


def _instant(moment: datetime, zone: tzinfo | None) -> str:
    """``moment``, naive wall time in ``zone`` (None: this server's), written with its offset."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone) if zone is not None else moment.astimezone()
    return moment.isoformat()


def _wall_time(text: str, zone: tzinfo | None) -> datetime:
    """A moment read back as naive wall time in ``zone`` (None: this server's).

    A file written before offsets were kept holds naive times: they are taken as they are.
    """
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(zone).replace(tzinfo=None)


def _message_data(message: SimulatedMessage, zone: tzinfo | None) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for item in fields(message):
        value = getattr(message, item.name)
        if isinstance(value, datetime):
            value = _instant(value, zone)
        elif isinstance(value, Decimal):
            value = str(value)
        elif item.name == "timeline":
            value = [[status, _instant(moment, zone)] for status, moment in value]
        data[item.name] = value
    return data


def _message_from(data: dict[str, Any], zone: tzinfo | None) -> SimulatedMessage:
    values = dict(data)
    for name in _MOMENTS:
        if values.get(name) is not None:
            values[name] = _wall_time(values[name], zone)
    for name in ("id", "campaign_id", "segments"):
        values[name] = int(values[name])
    values["segment_price"] = Decimal(values["segment_price"])
    values["timeline"] = tuple(
        (str(status), _wall_time(moment, zone)) for status, moment in values["timeline"]
    )
    return SimulatedMessage(**values)
