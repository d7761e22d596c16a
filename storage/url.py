"""Where the database is: a URL (or a bare SQLite path) read into its engine and address.

Kept apart from :mod:`storage.engine` so reading the settings loads neither SQLAlchemy nor a
driver (``smsbot check``, ``--version`` and a refused start stay quick).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

#: The engines smsbot runs on, as ``/healthz`` names them.
EngineName = Literal["sqlite", "postgresql"]


class DatabaseUrlError(ValueError):
    """The database URL names no engine smsbot runs on; the message says which forms work."""


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    """Where the database is: its engine and the address that engine's driver takes.

    ``address`` is the SQLite file path (``":memory:"`` for a private in-memory database) or the
    libpq URI exactly as given. :meth:`safe` is the form that may be shown or logged.
    """

    engine: EngineName
    address: str

    @property
    def memory(self) -> bool:
        """True for a private in-memory SQLite database."""
        return self.engine == "sqlite" and self.address == ":memory:"

    def password(self) -> str | None:
        """The password written in a PostgreSQL URL, if any (to redact it from logs)."""
        if self.engine != "postgresql":
            return None
        password = _conninfo(self.address).get("password")
        return str(password) if password else None

    def safe(self) -> str:
        """The URL without its password or query (host, port and database name only)."""
        if self.engine == "sqlite":
            return "sqlite://" if self.memory else f"sqlite:///{self.address}"
        info = _conninfo(self.address)
        host = str(info.get("host") or "")
        port = f":{info['port']}" if info.get("port") else ""
        user = f"{info['user']}@" if info.get("user") else ""
        database = info.get("dbname") or ""
        if host.startswith("/"):  # a Unix socket's folder: shown as libpq writes it
            return f"postgresql://{user}/{database}?host={host}"
        return f"postgresql://{user}{host}{port}/{database}"


def _conninfo(address: str) -> dict[str, object]:
    """The parts of a libpq URI, read by libpq's own rules (psycopg); ValueError when unreadable."""
    import psycopg  # noqa: PLC0415  # loaded only for PostgreSQL

    try:
        return dict(psycopg.conninfo.conninfo_to_dict(address))
    except psycopg.ProgrammingError as err:
        raise ValueError(str(err)) from err


def parse_database_url(value: str | os.PathLike[str]) -> DatabaseUrl:
    """Read a database URL, or a bare SQLite path, into a :class:`DatabaseUrl`."""
    text = os.fspath(value)
    if text in {":memory:", "sqlite://", "sqlite:///:memory:"}:
        return DatabaseUrl("sqlite", ":memory:")
    if text.startswith("sqlite:///"):
        path = text.removeprefix("sqlite:///")
        if not path:
            raise DatabaseUrlError("sqlite:/// needs a file path after it: sqlite:///smsbot.db")
        return DatabaseUrl("sqlite", path)
    for scheme in ("postgresql://", "postgres://", "postgresql+psycopg://"):
        if text.startswith(scheme):
            address = "postgresql://" + text.removeprefix(scheme)
            try:
                _conninfo(address)
            except ValueError as err:
                raise DatabaseUrlError(
                    "the PostgreSQL URL cannot be read as a libpq URI"
                    " (postgresql://user:password@host:port/dbname)"
                ) from err
            return DatabaseUrl("postgresql", address)
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise DatabaseUrlError(
            f"{scheme}:// is not a database smsbot runs on: use sqlite:///path/smsbot.db or "
            "postgresql://user:password@host:port/dbname"
        )
    return DatabaseUrl("sqlite", text)
