"""One process at a time on a database: the lock ``smsbot serve`` and the console hold.

A second process on the same database would take every claim for its own. On SQLite the first
process holds an exclusive lock on ``<file>.lock`` beside the database for as long as it runs
(the kernel releases it when the process ends, however it ends). On PostgreSQL it holds a
session advisory lock on a connection of its own (the server releases it when the session
ends, a killed process's too). A second process is refused at start.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from storage.engine import DatabaseUrl, make_engine

#: The PostgreSQL advisory lock key of "a smsbot process runs on this database".
_OWNER_LOCK = 0x736D7362  # "smsb"


class DatabaseInUseError(RuntimeError):
    """Another process already runs on this SQLite file; the message says what to do instead."""


@dataclass
class FileOwner:
    """The held lock; :meth:`release` it (or let the process end)."""

    path: str
    fd: int | None = None
    session: Connection | None = field(default=None, repr=False)
    _engine: Any = field(default=None, repr=False)

    def release(self) -> None:
        """Let another process run on the database."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.session is not None:
            self.session.close()
            self._engine.dispose()
            self.session = None


def lock_path(url: DatabaseUrl) -> str:
    """The lock file of a SQLite database file."""
    return f"{url.address}.lock"


def own_database(url: DatabaseUrl) -> FileOwner | None:
    """Become the one process on ``url``'s database; ``None`` in memory (nothing to share).

    Raises :class:`DatabaseInUseError` while another process holds it.
    """
    if url.memory:
        return None
    if url.engine == "postgresql":
        return _own_postgres(url)
    path = lock_path(url)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DatabaseInUseError(
            f"another smsbot process is running on the SQLite database {url.address}; SQLite "
            "serves one process. To run several replicas, set SMSBOT_DATABASE_URL to a shared "
            "PostgreSQL database (postgresql://user:password@host:port/dbname)."
        ) from None
    except BaseException:
        os.close(fd)
        raise
    return FileOwner(path=path, fd=fd)


def _own_postgres(url: DatabaseUrl) -> FileOwner:
    engine = make_engine(url, keep=False)
    session = engine.connect()
    try:
        with session.begin():
            held = session.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": _OWNER_LOCK}
            ).scalar()
    except BaseException:
        session.close()
        engine.dispose()
        raise
    if not held:
        session.close()
        engine.dispose()
        raise DatabaseInUseError(
            f"another smsbot process is running on the PostgreSQL database {url.safe()}; this "
            "release runs one process per database (replicas coordinating through PostgreSQL "
            "come next): stop the other one first."
        )
    return FileOwner(path=url.safe(), session=session, _engine=engine)
