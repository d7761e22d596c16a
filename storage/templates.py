"""Saved SMS texts with ``{placeholders}``, per Slack workspace (table ``templates``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from storage.engine import dialect_insert, reading, transactional
from storage.schema import utc_text
from storage.tables import templates

if TYPE_CHECKING:
    from sqlalchemy import Connection as Database


@dataclass(frozen=True, slots=True)
class Template:
    """One saved text; ``name`` is unique in its workspace, compared without case."""

    team_id: str
    name: str
    text: str
    created_by: str
    created_at: str


_COLUMNS = (
    templates.c.team_id,
    templates.c.name,
    templates.c.text,
    templates.c.created_by,
    templates.c.created_at,
)


@transactional
def add_template(db: Database, *, team_id: str, name: str, text: str, user_id: str) -> bool:
    """Save a template; ``False`` (nothing changed) when the workspace has one of that name."""
    inserted = db.execute(
        dialect_insert(db, templates)
        .values(
            team_id=team_id, name=name.lower(), text=text, created_by=user_id, created_at=utc_text()
        )
        .on_conflict_do_nothing(index_elements=["team_id", "name"])
        .returning(templates.c.name)
    ).scalar()
    return inserted is not None


@reading
def get_template(db: Database, *, team_id: str, name: str) -> Template | None:
    """The workspace's template called ``name``, or ``None``."""
    row = db.execute(
        sa.select(*_COLUMNS).where(templates.c.team_id == team_id, templates.c.name == name.lower())
    ).first()
    return None if row is None else Template(*row)


@reading
def list_templates(db: Database, *, team_id: str) -> list[Template]:
    """The workspace's templates by name."""
    rows = db.execute(
        sa.select(*_COLUMNS).where(templates.c.team_id == team_id).order_by(templates.c.name)
    )
    return [Template(*row) for row in rows]


@transactional
def remove_template(db: Database, *, team_id: str, name: str) -> bool:
    """Delete a template; ``False`` when there was none of that name."""
    removed = db.execute(
        sa.delete(templates).where(templates.c.team_id == team_id, templates.c.name == name.lower())
    ).rowcount
    return removed > 0
