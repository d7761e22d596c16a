"""Saving and removing a team's templates: for who may send, each answered as a value."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.sms.sending.outcomes import NotAllowed
from storage import templates
from storage.store import Store, is_busy

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TemplateAdded:
    """The template ``name`` is saved."""

    name: str


@dataclass(frozen=True, slots=True)
class TemplateTaken:
    """The team has a template of that name already: nothing changed."""

    name: str


@dataclass(frozen=True, slots=True)
class TemplateRemoved:
    """The template ``name`` is gone."""

    name: str


@dataclass(frozen=True, slots=True)
class TemplateUnknown:
    """The team has no template of that name: nothing changed."""

    name: str


@dataclass(frozen=True, slots=True)
class TemplatesBusy:
    """Another connection kept the database locked: nothing changed (``adding`` or removing)."""

    name: str
    adding: bool


#: What became of saving a template.
AddOutcome = TemplateAdded | TemplateTaken | TemplatesBusy | NotAllowed
#: What became of removing one.
RemoveOutcome = TemplateRemoved | TemplateUnknown | TemplatesBusy | NotAllowed


class TemplateService:
    """Saves and removes templates; ``may_send`` (the send service's rule) says who may."""

    def __init__(self, store: Store, *, may_send: Callable[[str], bool]) -> None:
        self._store = store
        self._may_send = may_send

    def may_manage(self, user_id: str) -> bool:
        """True when ``user_id`` may save and remove templates: who may send."""
        return self._may_send(user_id)

    async def add(self, *, team_id: str, name: str, text: str, user_id: str) -> AddOutcome:
        """Save ``text`` as the team's template ``name``, unless the name is taken."""
        if not self.may_manage(user_id):
            return NotAllowed(user_id)
        try:
            added = await self._store.write(
                templates.add_template, team_id=team_id, name=name, text=text, user_id=user_id
            )
        except Exception as err:
            if not is_busy(err):
                raise
            _locked()
            return TemplatesBusy(name, adding=True)
        return TemplateAdded(name) if added else TemplateTaken(name)

    async def remove(self, *, team_id: str, name: str, user_id: str) -> RemoveOutcome:
        """Remove the team's template ``name``."""
        if not self.may_manage(user_id):
            return NotAllowed(user_id)
        try:
            removed = await self._store.write(templates.remove_template, team_id=team_id, name=name)
        except Exception as err:
            if not is_busy(err):
                raise
            _locked()
            return TemplatesBusy(name, adding=False)
        return TemplateRemoved(name) if removed else TemplateUnknown(name)


def _locked() -> None:
    # another process kept the write lock past the busy timeout: nothing changed
    logger.warning("could not write a template: the database is locked")
