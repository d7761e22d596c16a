"""One process at a time on a SQLite file: the lock ``smsbot serve`` and the console hold.

SQLite serves one process: a second one on the same file would take every claim for its own.
The first process holds an exclusive lock on ``<file>.lock`` beside the database for as long as
it runs (the kernel releases it when the process ends, however it ends), and a second one is
refused at start with a sentence naming ``SMSBOT_DATABASE_URL`` and PostgreSQL. On PostgreSQL
any number of processes run on one database: they coordinate through it
(:mod:`storage.replicas`), so nothing is held here.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass

from storage.url import DatabaseUrl


class DatabaseInUseError(RuntimeError):
    """Another process already runs on this SQLite file; the message says what to do instead."""


@dataclass
class FileOwner:
    """The held lock; :meth:`release` it (or let the process end)."""

    path: str
    fd: int | None = None

    def release(self) -> None:
        """Let another process run on the database."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def lock_path(url: DatabaseUrl) -> str:
    """The lock file of a SQLite database file."""
    return f"{url.address}.lock"


def own_database(url: DatabaseUrl) -> FileOwner | None:
    """Become the one process on ``url``'s SQLite file; ``None`` in memory or on PostgreSQL.

    Raises :class:`DatabaseInUseError` while another process holds the file.
    """
    if url.memory or url.engine == "postgresql":
        return None  # nothing to share, or replicas share it through the database itself
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
