"""Templates in SQLite: per workspace, unique by name without case, removable."""

from __future__ import annotations

from storage.schema import open_database
from storage.templates import add_template, get_template, list_templates, remove_template


def test_templates_are_kept_per_workspace() -> None:
    """A template saved in one workspace is found there by any case of its name, not elsewhere."""
    db = open_database(":memory:")
    assert add_template(db, team_id="T1", name="Ready", text="Hi {name}", user_id="U1")
    found = get_template(db, team_id="T1", name="READY")
    assert found is not None
    assert (found.name, found.text, found.created_by) == ("ready", "Hi {name}", "U1")
    assert get_template(db, team_id="T2", name="ready") is None
    assert [t.name for t in list_templates(db, team_id="T1")] == ["ready"]
    assert list_templates(db, team_id="T2") == []


def test_a_name_is_taken_once_and_can_be_removed() -> None:
    """Saving a name twice keeps the first; removing it frees the name; removing twice says so."""
    db = open_database(":memory:")
    assert add_template(db, team_id="T1", name="a", text="one", user_id="U1")
    assert not add_template(db, team_id="T1", name="A", text="two", user_id="U1")
    assert remove_template(db, team_id="T1", name="a")
    assert not remove_template(db, team_id="T1", name="a")
    assert add_template(db, team_id="T1", name="a", text="two", user_id="U1")
