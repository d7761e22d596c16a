"""The rows a status change writes, as statements: one change, or a batch of them.

:mod:`storage.delivery` decides which changes are written (the status rule) and calls these;
nothing else writes an SMS's status or its history.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from storage.arrays import columns_of, unnest_rows
from storage.tables import sms, status_history

if TYPE_CHECKING:
    from sqlalchemy import Connection as Database

#: A status change's parameters (``delivery._change_params``, and ``stamp``), with their types.
CHANGE_COLUMNS: dict[str, sa.types.TypeEngine[Any]] = {
    "sms_id": sa.BigInteger(),
    "new_status": sa.Text(),
    "new_status_ts": sa.Text(),
    "new_segments": sa.Integer(),
    "new_start_send_ts": sa.Text(),
    "final": sa.Boolean(),
}

#: A history row's columns, as ``delivery._history_params`` gives them.
HISTORY_COLUMNS = ("message_id", "status", "status_ts", "source", "recorded_at")


def _change_values(new: Mapping[str, sa.ColumnElement[Any]]) -> dict[str, object]:
    """What a status change sets, from its values ``new`` (named as in :data:`CHANGE_COLUMNS`)."""
    return {
        "status": new["new_status"],
        "status_ts": sa.func.coalesce(new["new_status_ts"], sms.c.status_ts),
        "segments": sa.func.coalesce(new["new_segments"], sms.c.segments),
        "start_send_ts": sa.func.coalesce(new["new_start_send_ts"], sms.c.start_send_ts),
        "updated_at": sa.bindparam("stamp"),
        "final_at": sa.case(
            (new["final"] == sa.true(), sa.bindparam("stamp")), else_=sms.c.final_at
        ),
    }


#: One status change, built once (every poll cycle and webhook runs it): parameters by name.
WRITE_CHANGE = (
    sa.update(sms)
    .where(sms.c.id == sa.bindparam("sms_id"))
    .values(_change_values({name: sa.bindparam(name) for name in CHANGE_COLUMNS}))
)

#: One status history row (values given as parameters, so the statement is built once).
HISTORY = sa.insert(status_history)

_CHANGES = unnest_rows(CHANGE_COLUMNS)
#: Many status changes in one statement, one array per column (PostgreSQL).
_WRITE_CHANGES = (
    sa.update(sms)
    .where(sms.c.id == _CHANGES.c.sms_id)
    .values(_change_values({name: _CHANGES.c[name] for name in CHANGE_COLUMNS}))
)

_HISTORY_ROWS = unnest_rows({name: status_history.c[name].type for name in HISTORY_COLUMNS})
#: Many history rows in one statement, one array per column, in order (PostgreSQL).
_WRITE_HISTORY = sa.insert(status_history).from_select(HISTORY_COLUMNS, sa.select(_HISTORY_ROWS))


def write_changes(
    db: Database, changes: list[dict[str, object]], history: list[dict[str, object]]
) -> None:
    """Write status changes of one moment and their history rows, as one write of each would.

    SQLite runs one statement per row in process. On PostgreSQL each such row is a statement
    for the server to run: a batch goes as arrays instead, one statement of each kind, and an
    SMS changed twice in it is updated once, with what its changes leave in turn.
    """
    stamp = changes[0]["stamp"]
    if any(change["stamp"] != stamp for change in changes):
        raise ValueError("a batch of status changes is written at one moment (one stamp)")
    if db.dialect.name != "postgresql" or len(changes) == 1:
        db.execute(WRITE_CHANGE, changes)
        db.execute(HISTORY, history)
        return
    merged: dict[object, dict[str, object]] = {}
    for change in changes:
        earlier = merged.get(change["sms_id"])
        merged[change["sms_id"]] = change if earlier is None else _in_turn(earlier, change)
    db.execute(_WRITE_CHANGES, columns_of(list(merged.values()), CHANGE_COLUMNS) | {"stamp": stamp})
    db.execute(_WRITE_HISTORY, columns_of(history, HISTORY_COLUMNS))


def _in_turn(earlier: dict[str, object], later: dict[str, object]) -> dict[str, object]:
    """One change that leaves an SMS as ``earlier`` and then ``later`` leave it."""
    merged = {name: earlier[name] if value is None else value for name, value in later.items()}
    merged["final"] = bool(earlier["final"] or later["final"])  # final_at is set once, to stamp
    return merged
