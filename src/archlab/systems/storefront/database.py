"""The storefront's database tier: engines by URL, migrations, and where each query goes.

``ARCHLAB_STOREFRONT_DATABASE_URL`` names the primary (default: SQLite at
``$ARCHLAB_HOME/storefront.db``), ``ARCHLAB_STOREFRONT_REPLICA_URL`` an optional PostgreSQL
streaming replica. ``postgresql://`` URLs use psycopg 3.

Routing, as in the notes' database tier with a read replica:

- Writes, and everything inside a transaction that writes, go to the primary.
- Reads go to the replica when there is one. A replica lags, so a visitor who just wrote could
  read their own write missing; a write therefore answers a *token* -- on PostgreSQL the
  primary's ``pg_current_wal_lsn()`` after the commit -- and a read given a token goes to the
  replica only when the replica has replayed at least that far, otherwise to the primary.
- An unreachable replica is not an outage: reads fall back to the primary (logged), and the
  replica is left alone for a few seconds before it is tried again.
- Pools ping a connection before lending it (``pool_pre_ping``), so a restarted primary costs
  nothing but a reconnection; a read whose connection broke mid-way is tried once more.

SQLite serves several processes at once: WAL (readers never wait for the writer), synchronous
FULL (a commit survives a power cut), a busy timeout instead of "database is locked", foreign
keys on. Writes begin with ``BEGIN IMMEDIATE``, so two writers queue at the start instead of
deadlocking when both try to upgrade a read lock; SQLite has no replica, and its token is empty.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from archlab import settings

log = logging.getLogger(__name__)

PRIMARY_VARIABLE = "ARCHLAB_STOREFRONT_DATABASE_URL"
REPLICA_VARIABLE = "ARCHLAB_STOREFRONT_REPLICA_URL"
MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 2
REPLICA_REST_S = 5.0
"""How long reads skip a replica that could not be reached."""
TOKEN_PATTERN = r"^([0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8})?$"
"""A read-after token: a PostgreSQL LSN (``16/B374D848``), or empty (SQLite)."""
_WRITE = "archlab_write"
"""The execution option that makes a SQLite transaction ``BEGIN IMMEDIATE``."""

T = TypeVar("T")
Source = Literal["primary", "replica"]


class InvalidDatabaseUrl(ValueError):
    """A database URL archlab cannot use; the message names where it came from."""


@dataclass(frozen=True)
class Written(Generic[T]):
    value: T
    token: str
    """Send it back with later reads to read this write (empty on SQLite)."""


@dataclass(frozen=True)
class Read(Generic[T]):
    value: T
    source: Source
    """Which server answered: a cache may keep only what the primary said."""


def primary_url() -> str:
    return os.environ.get(PRIMARY_VARIABLE) or f"sqlite:///{settings.home() / 'storefront.db'}"


def replica_url() -> str | None:
    return os.environ.get(REPLICA_VARIABLE) or None


def normalise(url: str, variable: str = PRIMARY_VARIABLE) -> URL:
    """``url`` checked and with psycopg 3 as the PostgreSQL driver; errors name ``variable``."""
    expected = "expected sqlite:///path/to/file.db or postgresql://user@host:port/database"
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidDatabaseUrl(f"{variable} is not a database URL ({expected})") from None
    shown = parsed.render_as_string(hide_password=True)
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        if parsed.host or not parsed.database or parsed.database == ":memory:":
            raise InvalidDatabaseUrl(
                f"{variable}={shown}: a SQLite database is a file every process opens:"
                " sqlite:///relative/path.db or sqlite:////absolute/path.db"
            )
        return parsed
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        if not parsed.host and "host" not in parsed.query:
            raise InvalidDatabaseUrl(f"{variable}={shown}: name the server's host ({expected})")
        return parsed.set(drivername="postgresql+psycopg")
    raise InvalidDatabaseUrl(f"{variable}={shown}: unsupported database ({expected})")


def connect(url: URL) -> Engine:
    """An engine for a normalised URL, with pooled connections checked before use, and
    statement parameters (customers' details) kept out of error messages and logs."""
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            pool_pre_ping=True,
            hide_parameters=True,
            connect_args={"timeout": BUSY_TIMEOUT_S},
        )
        event.listen(engine, "connect", _sqlite_connected)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        hide_parameters=True,
        pool_size=5,
        max_overflow=10,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
    )


def _sqlite_connected(connection: sqlite3.Connection, _record: Any) -> None:
    connection.isolation_level = None  # transactions begin where _sqlite_begin says
    for pragma in (
        "journal_mode=WAL",
        "synchronous=FULL",
        f"busy_timeout={int(BUSY_TIMEOUT_S * 1000)}",
        "foreign_keys=ON",
    ):
        connection.execute(f"PRAGMA {pragma}")


def _sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(_WRITE)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class WriteTurn:
    """Writers to one SQLite file take turns here before they begin: a thread lock for this
    process's threads, then an exclusive ``flock`` on ``<database>.write-lock`` for the other
    processes'. SQLite's own busy handler sleeps between tries (up to 100 ms a try), so with
    two instances writing, checkouts that lost a race waited most of a second at p99; a
    process blocked in ``flock`` is woken the moment the lock is let go."""

    def __init__(self, database: Path) -> None:
        self._path = database.with_name(database.name + ".write-lock")
        self._threads = threading.Lock()
        self._fd: int | None = None

    def __enter__(self) -> WriteTurn:
        self._threads.acquire()
        try:
            if self._fd is None:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        assert self._fd is not None
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()

    def close(self) -> None:
        with self._threads:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def migrate(url: str | None = None) -> None:
    """Bring the schema of ``url`` (default: the configured primary) to the latest revision.

    Safe to run again, and from several processes at once: the migration runs in one write
    transaction (an advisory lock on PostgreSQL), so a second run finds the work done."""
    target = normalise(url) if url is not None else normalise(primary_url())
    engine = connect(target)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.execution_options(**{_WRITE: True}).connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def lsn(token: str) -> int:
    """A PostgreSQL LSN (``16/B374D848``) as a number, to compare positions."""
    high, _, low = token.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


class Database:
    """The primary, an optional replica, and the routing between them (see the module)."""

    def __init__(
        self,
        primary: str,
        replica: str | None = None,
        *,
        replica_rest_s: float = REPLICA_REST_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        primary_url = normalise(primary, PRIMARY_VARIABLE)
        self.postgres = primary_url.get_backend_name() == "postgresql"
        replica_url = normalise(replica, REPLICA_VARIABLE) if replica else None
        if replica_url is not None and not (
            self.postgres and replica_url.get_backend_name() == "postgresql"
        ):
            raise InvalidDatabaseUrl(
                f"{REPLICA_VARIABLE}: a read replica needs a PostgreSQL primary and replica"
            )
        self._engines = [connect(primary_url)]
        self._writer = self._engines[0].execution_options(**{_WRITE: True})
        self._reader = self._read_only(self._engines[0])
        self._replica: Engine | None = None
        if replica_url is not None:
            self._engines.append(connect(replica_url))
            self._replica = self._read_only(self._engines[1])
        self._write_turn: AbstractContextManager[object] = (
            nullcontext() if self.postgres else WriteTurn(Path(str(primary_url.database)))
        )
        self._replica_rest_s = replica_rest_s
        self._clock = clock
        self._replica_down_until: float | None = None
        self._replayed = 0
        """The furthest the replica was seen to have replayed (it only moves forward)."""

    @classmethod
    def from_environment(cls) -> Database:
        return cls(primary_url(), replica_url())

    def _read_only(self, engine: Engine) -> Engine:
        if not self.postgres:
            return engine
        # One snapshot per read (a cart's version and its items agree), and no writes by mistake.
        return engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)

    def write(self, work: Callable[[Session], T]) -> Written[T]:
        """Run ``work`` in one transaction on the primary and commit it."""
        with self._write_turn, Session(self._writer, expire_on_commit=False) as session:
            with session.begin():
                value = work(session)
            token = ""
            if self.postgres:
                token = session.execute(text("SELECT pg_current_wal_lsn()::text")).scalar_one()
        return Written(value, token)

    def read(self, work: Callable[[Session], T], after: str | None = None) -> Read[T]:
        """Run ``work`` in a read-only transaction: on the replica if there is one, it is
        reachable and (given a write's token ``after``) it has replayed that write; otherwise on
        the primary."""
        if self._replica is not None and self._replica_available():
            try:
                found = self._replica_read(self._replica, work, after)
            except (OperationalError, InterfaceError) as error:
                self._replica_failed(error)
            else:
                if found is not None:
                    return found
        return self._primary_read(work)

    def _replica_available(self) -> bool:
        return self._replica_down_until is None or self._clock() >= self._replica_down_until

    def _replica_failed(self, error: DBAPIError) -> None:
        if self._replica_down_until is None:
            log.warning(
                "storefront replica unreachable, reading from the primary (retried every %g s): %s",
                self._replica_rest_s,
                error.orig or error,
            )
        self._replica_down_until = self._clock() + self._replica_rest_s

    def _replica_read(
        self, replica: Engine, work: Callable[[Session], T], after: str | None
    ) -> Read[T] | None:
        with Session(replica) as session:
            if after and lsn(after) > self._replayed:
                # In a transaction of its own: the work's snapshot must be taken after this.
                with session.begin():
                    replayed = session.execute(
                        text("SELECT pg_last_wal_replay_lsn()::text")
                    ).scalar()
                if replayed is not None:
                    self._replayed = max(self._replayed, lsn(replayed))
                if replayed is None or self._replayed < lsn(after):
                    return None  # behind the write (or no longer a standby): the primary has it
            with session.begin():
                value = work(session)
        if self._replica_down_until is not None:
            self._replica_down_until = None
            log.info("storefront replica reachable again")
        return Read(value, "replica")

    def _primary_read(self, work: Callable[[Session], T]) -> Read[T]:
        try:
            return self._primary_attempt(work)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            log.warning("storefront primary connection lost mid-read, trying again: %s", error)
            return self._primary_attempt(work)

    def _primary_attempt(self, work: Callable[[Session], T]) -> Read[T]:
        with Session(self._reader) as session, session.begin():
            return Read(work(session), "primary")

    def dispose(self) -> None:
        """Close every pooled connection."""
        for engine in self._engines:
            engine.dispose()
        if isinstance(self._write_turn, WriteTurn):
            self._write_turn.close()
