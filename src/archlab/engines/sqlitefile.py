"""One SQLite database file shared by threads and processes, as the embedded engines (and the
systems' ledgers) use it: a connection per thread, in WAL mode with ``synchronous=FULL``; write
transactions that take SQLite's write lock from their start (``BEGIN IMMEDIATE``, so two
writers never both read-then-write), and read snapshots that take no lock."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class SqliteFile:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()

    @property
    def connection(self) -> sqlite3.Connection:
        """This thread's connection (made on first use), in autocommit mode."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            self._local.db = db
            self._local.synchronous = "FULL"
        return db

    @contextmanager
    def write(self, synchronous: str = "FULL") -> Iterator[sqlite3.Connection]:
        """One atomic change: committed when the block ends, rolled back if it raises.
        ``synchronous="NORMAL"`` skips the sync at commit (see the messaging engine)."""
        db = self.connection
        if self._local.synchronous != synchronous:
            db.execute(f"PRAGMA synchronous={synchronous}")
            self._local.synchronous = synchronous
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: a consistent view, without the write lock."""
        db = self.connection
        db.execute("BEGIN DEFERRED")
        try:
            yield db
        finally:
            db.execute("COMMIT")

    def close(self) -> None:
        """Close this thread's connection."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
