"""Group commit: the calls of one write that wait for the writer, written in one transaction.

A storage function that writes one row may name a form of itself that writes many
(:func:`grouped`; :func:`storage.claiming.claim_send` names ``claim_sends``). While the
:class:`~storage.store.Store`'s writer is busy, such calls wait in a :class:`WriteGroup`; the next
write takes all of them at once, in one transaction (:func:`write_together`), and each caller is
given its own answer or its own error. The first call after a quiet moment is written at once:
grouping adds no wait, it shares the waits there were (a burst of 500 ``/sms send`` becomes a few
transactions instead of 500, one after another).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from storage.engine import is_busy

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

A = TypeVar("A")
R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])

#: The most calls written in one transaction (the rest wait for the next).
MOST = 1000

#: Each write that has a grouped form, and that form:
#: ``many(db, [a, b]) == [one(db, a), one(db, b)]``.
_MANY: dict[Callable[..., Any], Callable[..., list[Any]]] = {}


def grouped(many: Callable[[Connection, list[A]], list[R]]) -> Callable[[F], F]:
    """Name ``many`` as the form of the decorated write that writes many of its calls together.

    ``many(db, items)`` answers each item, in order, as the decorated ``one(db, item)`` called
    for each in turn would; it raises when it cannot write them all.
    """

    def register(one: F) -> F:
        _MANY[one] = many
        return one

    return register


def grouped_form(one: Callable[..., Any]) -> Callable[..., list[Any]] | None:
    """The form of ``one`` that writes many of its calls at once; ``None`` when it has none."""
    return _MANY.get(one)


@dataclass(frozen=True, slots=True)
class Written(Generic[R]):
    """One call's answer from a grouped write: its value, or the error it raised."""

    value: R | None = None
    error: Exception | None = None


class WriteGroup(Generic[A, R]):
    """The calls of one grouped write: the first written at once, later ones waiting, then together.

    ``write`` writes a list of items (on the writer's thread) and answers each.
    """

    def __init__(self, write: Callable[[list[A]], Awaitable[list[Written[R]]]]) -> None:
        self._write = write
        self._waiting: list[tuple[A, asyncio.Future[R]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def submit(self, item: A) -> R:
        """Write ``item`` with whatever calls are waiting too; its own answer, or its error."""
        answer: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, answer))
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())
        return await answer

    async def _flush(self) -> None:
        """Write what waits, in turns, until nothing does (each turn takes what came meanwhile)."""
        try:
            while self._waiting:
                turn, self._waiting = self._waiting[:MOST], self._waiting[MOST:]
                # a caller that stopped waiting before its turn is not written (as a call to
                # the writer cancelled before it ran is not)
                turn = [(item, answer) for item, answer in turn if not answer.done()]
                if not turn:
                    continue
                try:
                    written = await self._write([item for item, _ in turn])
                except Exception as err:  # noqa: BLE001  # the writer was not reached (a closed store)
                    written = [Written(error=err)] * len(turn)
                except BaseException:  # the flush itself cancelled: nobody is left to answer
                    for _, answer in turn + self._waiting:
                        answer.cancel()
                    self._waiting = []
                    raise
                for (_, answer), one in zip(turn, written, strict=True):
                    if answer.done():  # its caller stopped waiting; the write stands
                        continue
                    if one.error is not None:
                        answer.set_exception(one.error)
                    else:
                        answer.set_result(one.value)  # type: ignore[arg-type]  # R, as written
        finally:
            self._flushing = None


def write_together(
    engine: Engine,
    one: Callable[[Connection, A], R],
    many: Callable[[Connection, list[A]], list[R]],
    items: list[A],
) -> list[Written[R]]:
    """Write ``items`` in one transaction (``many``); each item's answer (runs on the writer).

    When the transaction fails for one item's sake (a value the database refuses), each item is
    written alone (``one``, a transaction each), so only that item's caller hears of it. When
    the database was busy, every caller is told so, as each would have been alone.
    """
    try:
        return [Written(value) for value in _committed(engine, many, items)]
    except Exception as err:  # noqa: BLE001  # told to every caller, or each written alone
        if len(items) == 1 or is_busy(err):
            return [Written(error=err) for _ in items]
    written: list[Written[R]] = []
    for item in items:
        try:
            written.append(Written(_committed(engine, one, item)))
        except Exception as err:  # noqa: BLE001  # each item's own error, for its own caller
            written.append(Written(error=err))
    return written


def _committed(engine: Engine, fn: Callable[[Connection, Any], R], argument: object) -> R:
    """``fn(db, argument)`` on a connection of ``engine``, what it left open committed."""
    with engine.connect() as db:
        result = fn(db, argument)
        if db.in_transaction():
            db.commit()
        return result
