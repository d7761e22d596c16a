"""Slack listeners, one module per Slack feature, registered explicitly (:mod:`handlers.registry`).

Importing the package imports nothing else: a process that only needs the sentence catalogue
(``smsbot --version``, the settings check) does not load Bolt, the listeners and the database.
"""

from __future__ import annotations

__all__ = ["UNEXPECTED_ERROR"]


def __getattr__(name: str) -> str:
    """``from handlers import UNEXPECTED_ERROR``: read from :mod:`handlers.errors` when asked."""
    if name == "UNEXPECTED_ERROR":
        from handlers.errors import UNEXPECTED_ERROR  # noqa: PLC0415  # loads Bolt and the domain

        return UNEXPECTED_ERROR
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
