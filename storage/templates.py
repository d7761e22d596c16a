"""Saved SMS texts with ``{placeholders}``, per Slack workspace (table ``templates``)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from storage.schema import utc_text, write_transaction

if TYPE_CHECKING:
    from sqlite_utils import Database


@dataclass(frozen=True, slots=True)
class Template:
    """One saved text; ``name`` is unique in its workspace, compared without case."""

    team_id: str
    name: str
    text: str
    created_by: str
    created_at: str


def add_template(db: Database, *, team_id: str, name: str, text: str, user_id: str) -> bool:
    """Save a template; ``False`` (nothing changed) when the workspace has one of that name."""
    with write_transaction(db):
        try:
            db.execute(
                "INSERT INTO templates (team_id, name, text, created_by, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [team_id, name.lower(), text, user_id, utc_text()],
            )
        except sqlite3.IntegrityError:
            return False
    return True


def get_template(db: Database, *, team_id: str, name: str) -> Template | None:
    """The workspace's template called ``name``, or ``None``."""
    row = db.execute(
        "SELECT team_id, name, text, created_by, created_at FROM templates "
        "WHERE team_id = ? AND name = ?",
        [team_id, name.lower()],
    ).fetchone()
    return None if row is None else Template(*row)


def list_templates(db: Database, *, team_id: str) -> list[Template]:
    """The workspace's templates by name."""
    rows = db.execute(
        "SELECT team_id, name, text, created_by, created_at FROM templates "
        "WHERE team_id = ? ORDER BY name",
        [team_id],
    ).fetchall()
    return [Template(*row) for row in rows]


def remove_template(db: Database, *, team_id: str, name: str) -> bool:
    """Delete a template; ``False`` when there was none of that name."""
    with write_transaction(db):
        cursor = db.execute(
            "DELETE FROM templates WHERE team_id = ? AND name = ?", [team_id, name.lower()]
        )
        return cursor.rowcount > 0
