"""The delivery stream's buffer: what was put and is not yet in the lake, in one SQLite file
(WAL, ``synchronous=FULL``: a put and a seal are on disk when they return; the moves that
only forget what a later one would redo the same -- ``move``, ``commit`` -- are not synced
themselves, see ``DeliveryBuffer._write``), shared by every process that puts or delivers.

Records go through two stages, as Firehose's own "multi-stage buffering" does:

1. a put is one row of ``puts``: the records as sent, newline-joined in one (compressed) blob,
   with their sizes -- one transaction, so an acknowledged put is on disk and 500 records cost
   one commit;
2. the deliverer converts waiting puts a chunk at a time (JSON is read fastest a few MiB at a
   time, on every core) into one part per partition. A partition that is then due -- its
   waiting *segments* and the new part together reach the size hint, or the oldest the
   interval -- is delivered; the other parts become segments (an Arrow record batch each, or
   JSON lines for the error output) to wait for more.

Each such step is a *round*, in three moves:

1. seal: one transaction records the round -- the puts it converts (a range of ids) and, for
   each partition it delivers, a batch: a new id, and the partition's segments (those up to an
   id) -- and changes nothing else;
2. the deliverer writes each batch's file (the segments, then the partition's new part), named
   after the batch id, atomically;
3. commit: one transaction deletes the round's puts, the batches' segments and the round, adds
   the parts not delivered as segments, and moves the counters on.

A deliverer killed in a round leaves it sealed; the next delivery does it again: the same puts
convert to the same parts (conversion is deterministic), so each batch's file is written again
identically under its name, replacing the first, and the round commits. A deliverer killed
before sealing changed nothing. So a record reaches the lake once, whenever the kill comes.
Deliverers take turns on a lock file (``flock``, which the kernel releases when a process
dies), so there is one round at a time; puts never wait for it.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from archlab.blocks.errors import DeliveryStreamInUse
from archlab.engines.sqlitefile import SqliteFile

DATA = "data"
ERRORS = "errors"
PAGE_SIZE = 16_384
"""A put's compressed blob is some tens of KiB: pages of 16 KiB make it a few pages to write,
link and free (measured: 1.1 ms a put of 500, against 2 ms with 64 KiB pages)."""
MOST_PUTS_TAKEN = 10_000
"""Puts converted at once, at most (each is a bound parameter of one statement)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS configuration (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    document TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS puts (
    id INTEGER PRIMARY KEY,
    arrival REAL NOT NULL,
    records INTEGER NOT NULL,
    raw_bytes INTEGER NOT NULL,
    one_a_line INTEGER NOT NULL,
    sizes BLOB NOT NULL,
    body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS puts_waiting ON puts (arrival, records, raw_bytes);
CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    partition TEXT NOT NULL,
    records INTEGER NOT NULL,
    raw_bytes INTEGER NOT NULL,
    arrival REAL NOT NULL,
    body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS segments_by_partition
    ON segments (kind, partition, id, records, raw_bytes, arrival);
CREATE TABLE IF NOT EXISTS round (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    first_put INTEGER,
    last_put INTEGER
);
CREATE TABLE IF NOT EXISTS batches (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    partition TEXT NOT NULL,
    last_segment INTEGER NOT NULL,
    records INTEGER NOT NULL,
    oldest REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    records_in INTEGER NOT NULL DEFAULT 0,
    records_delivered INTEGER NOT NULL DEFAULT 0,
    records_failed INTEGER NOT NULL DEFAULT 0,
    bytes_written INTEGER NOT NULL DEFAULT 0,
    files_written INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO counters (id) VALUES (1);
CREATE TABLE IF NOT EXISTS sources (
    source TEXT PRIMARY KEY,
    position TEXT NOT NULL
);
"""
"""Blobs are the last columns, so that SQLite reads no overflow page for the others; the
indexes answer every question but a blob's. A round names its puts and a batch its segments by
ids rather than by marking them: an UPDATE rewrites a row whole, blob and all."""


@dataclass(frozen=True)
class Put:
    id: int | None
    arrival: float
    records: int
    raw_bytes: int
    one_a_line: bool
    """Whether the records are one a line, none blank (``parquet_writer.single_lines``)."""
    sizes: bytes
    """The records' sizes, as unsigned 32-bit integers (``array('I')``)."""
    body: bytes
    """The records, joined by newlines (compressed by the stream)."""


@dataclass(frozen=True)
class Segment:
    """Converted records of one partition (``kind`` DATA) or one error output type (ERRORS)."""

    kind: str
    partition: str
    records: int
    raw_bytes: int
    arrival: float
    """The arrival of its oldest record."""
    body: bytes | memoryview


@dataclass(frozen=True)
class Waiting:
    """Records waiting: in puts (``kind`` and ``partition`` empty, ``last_segment`` 0), or in a
    partition's segments, up to the segment ``last_segment``."""

    kind: str
    partition: str
    records: int
    raw_bytes: int
    oldest: float
    last_segment: int = 0


@dataclass(frozen=True)
class Batch:
    """One file of a round: a partition's segments up to ``last_segment`` (0: none), then its
    part of the round's puts, if any; ``records`` and ``oldest`` count both."""

    id: str
    kind: str
    partition: str
    last_segment: int
    records: int
    oldest: float


@dataclass(frozen=True)
class Round:
    """The puts a round converts (ids ``first_put`` to ``last_put``; None: none) and the
    batches it delivers."""

    first_put: int | None
    last_put: int | None
    batches: tuple[Batch, ...]


@dataclass(frozen=True)
class Counts:
    """Counters kept with the buffer, so every process and every restart sees the same."""

    records_in: int
    records_delivered: int
    records_failed: int
    bytes_written: int
    files_written: int


@dataclass(frozen=True)
class Buffered:
    """Everything waiting, puts and segments (a sealed round's included)."""

    records: int
    raw_bytes: int
    partitions: int
    oldest: float | None


class DeliveryBuffer:
    def __init__(self, path: Path) -> None:
        self.path = path
        _create(path)
        self._file = SqliteFile(path)
        self._threads = threading.Lock()
        with self._write() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)

    @contextmanager
    def _write(self, synchronous: str = "FULL") -> Iterator[sqlite3.Connection]:
        """A write transaction, once it is this writer's turn: writers take turns on a thread
        lock and an ``flock`` of ``<db>.write-lock``, which wakes the next the moment it is let
        go. SQLite's busy handler would have them sleep and retry (up to 100 ms a try): with
        producers putting back to back, a deliverer's commit lost nearly every race.

        ``synchronous="NORMAL"`` (no sync at commit) is for the moves that may be lost in a
        power cut without harm (see ``move`` and ``commit``): the write-ahead log is replayed
        in order up to its last whole transaction, so a move not yet synced is lost only with
        every write after it, and the next synced one -- a put, a seal -- syncs it too."""
        with (
            self._threads,
            _locked(f"{self.path}.write-lock"),
            self._file.write(synchronous) as db,
        ):
            yield db

    def bind(self, configuration: dict[str, object]) -> None:
        """Record the stream's configuration, or check it against the one recorded.

        Waiting records were (or will be) converted and partitioned under the recorded one, so
        another may replace it only once nothing waits; until then it is refused and nothing
        changes."""
        document = json.dumps(configuration, sort_keys=True)
        with self._write() as db:
            row = db.execute("SELECT document FROM configuration").fetchone()
            if row is not None and row[0] != document:
                (waiting,) = db.execute(
                    "SELECT (SELECT count(*) FROM puts) + (SELECT count(*) FROM segments)"
                ).fetchone()
                if waiting:
                    recorded = json.loads(row[0])
                    changed = sorted(
                        key
                        for key in {*recorded, *configuration}
                        if recorded.get(key) != configuration.get(key)
                    )
                    raise DeliveryStreamInUse(
                        f"the delivery stream at {self.path} holds records put under another"
                        f" {', '.join(changed)}; flush them with that configuration first"
                    )
            db.execute(
                "INSERT OR REPLACE INTO configuration (id, document) VALUES (1, ?)", (document,)
            )

    # --- stage 1: puts ---------------------------------------------------------------------

    def append(self, put: Put) -> None:
        """One put (its id is the buffer's to give), in one durable transaction."""
        with self._write() as db:
            db.execute(
                "INSERT INTO puts (arrival, records, raw_bytes, one_a_line, sizes, body)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (put.arrival, put.records, put.raw_bytes, put.one_a_line, put.sizes, put.body),
            )
            db.execute("UPDATE counters SET records_in = records_in + ?", (put.records,))

    def append_from(self, source: str, puts_after: Callable[[int], tuple[list[Put], int]]) -> int:
        """Puts read from ``source`` (a stream's shard), in one durable transaction with the
        source's position: ``puts_after(position)`` makes the puts of the records after the
        last one stored (position -1 when none was) and says the last record's position. A
        reader that replays records it is unsure of puts each of them once. Returns the
        records put. (Positions are kept as text: Kinesis's sequence numbers run to 56
        digits.)"""
        with self._write() as db:
            row = db.execute("SELECT position FROM sources WHERE source = ?", (source,)).fetchone()
            puts, last = puts_after(-1 if row is None else int(row[0]))
            if not puts:
                return 0
            db.executemany(
                "INSERT INTO puts (arrival, records, raw_bytes, one_a_line, sizes, body)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(p.arrival, p.records, p.raw_bytes, p.one_a_line, p.sizes, p.body) for p in puts],
            )
            records = sum(put.records for put in puts)
            db.execute("UPDATE counters SET records_in = records_in + ?", (records,))
            db.execute("INSERT OR REPLACE INTO sources VALUES (?, ?)", (source, str(last)))
            return records

    def puts_waiting(self) -> Waiting:
        """The records in puts not yet converted."""
        with self._file.read() as db:
            records, raw, oldest = db.execute(
                "SELECT coalesce(sum(records), 0), coalesce(sum(raw_bytes), 0),"
                " coalesce(min(arrival), 0) FROM puts"
            ).fetchone()
        return Waiting("", "", records, raw, oldest)

    def take_puts(self, enough: int) -> list[Put]:
        """The oldest waiting puts, until they hold ``enough`` bytes of records (or all of
        them, if they hold less). Their ids are consecutive: a put made meanwhile gets a
        higher one."""
        with self._file.read() as db:
            rows = db.execute(
                "SELECT id, raw_bytes FROM puts ORDER BY id LIMIT ?", (MOST_PUTS_TAKEN,)
            ).fetchall()
            if not rows:
                return []
            total, last = 0, rows[-1][0]
            for put_id, raw in rows:
                total += raw
                if total >= enough:
                    last = put_id
                    break
            return self._puts(db, rows[0][0], last)

    def round_puts(self, round_: Round) -> list[Put]:
        """The puts a sealed round converts."""
        if round_.first_put is None or round_.last_put is None:
            return []
        with self._file.read() as db:
            return self._puts(db, round_.first_put, round_.last_put)

    @staticmethod
    def _puts(db: sqlite3.Connection, first: int, last: int) -> list[Put]:
        rows = db.execute(
            "SELECT id, arrival, records, raw_bytes, one_a_line, sizes, body FROM puts"
            " WHERE id BETWEEN ? AND ? ORDER BY id",
            (first, last),
        ).fetchall()
        return [Put(*row) for row in rows]

    # --- stage 2: partitions and rounds ----------------------------------------------------

    def partitions(self) -> list[Waiting]:
        """Each partition's waiting segments, oldest partition first."""
        with self._file.read() as db:
            rows = db.execute(
                "SELECT kind, partition, sum(records), sum(raw_bytes), min(arrival), max(id)"
                " FROM segments GROUP BY kind, partition ORDER BY min(arrival), kind, partition"
            ).fetchall()
        return [Waiting(*row) for row in rows]

    def move(self, puts: Sequence[Put], segments: Sequence[Segment], failed: int) -> None:
        """A round that delivers nothing: its puts become segments, in one transaction. Not
        synced: lost in a power cut, the puts are back and convert again into the same
        segments."""
        with self._write("NORMAL") as db:
            if puts:
                db.execute("DELETE FROM puts WHERE id BETWEEN ? AND ?", (puts[0].id, puts[-1].id))
            _insert(db, segments)
            db.execute("UPDATE counters SET records_failed = records_failed + ?", (failed,))

    def seal(self, round_: Round) -> None:
        """Record a round before any of its files is written (move 1)."""
        with self._write() as db:
            db.execute(
                "INSERT INTO round (id, first_put, last_put) VALUES (1, ?, ?)",
                (round_.first_put, round_.last_put),
            )
            db.executemany(
                "INSERT INTO batches (id, kind, partition, last_segment, records, oldest)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (b.id, b.kind, b.partition, b.last_segment, b.records, b.oldest)
                    for b in round_.batches
                ],
            )

    def sealed(self) -> Round | None:
        """The round a deliverer died in, if one did."""
        with self._file.read() as db:
            row = db.execute("SELECT first_put, last_put FROM round").fetchone()
            if row is None:
                return None
            batches = db.execute(
                "SELECT id, kind, partition, last_segment, records, oldest FROM batches"
                " ORDER BY rowid"
            ).fetchall()
        return Round(row[0], row[1], tuple(Batch(*batch) for batch in batches))

    def bodies(self, batch: Batch) -> list[bytes]:
        """A batch's segments, in the order they were made."""
        with self._file.read() as db:
            rows = db.execute(
                "SELECT body FROM segments WHERE kind = ? AND partition = ? AND id <= ?"
                " ORDER BY id",
                (batch.kind, batch.partition, batch.last_segment),
            ).fetchall()
        return [row[0] for row in rows]

    def commit(
        self, round_: Round, segments: Sequence[Segment], failed: int, bytes_written: int
    ) -> None:
        """A round's files are in the lake: forget what they hold, keep the rest (move 3).
        Not synced: lost in a power cut, the round is sealed again and done again, into the
        same files, as after a deliverer's death (the files were synced before)."""
        delivered = sum(batch.records for batch in round_.batches if batch.kind == DATA)
        with self._write("NORMAL") as db:
            if round_.first_put is not None:
                db.execute(
                    "DELETE FROM puts WHERE id BETWEEN ? AND ?", (round_.first_put, round_.last_put)
                )
            db.executemany(
                "DELETE FROM segments WHERE kind = ? AND partition = ? AND id <= ?",
                [(b.kind, b.partition, b.last_segment) for b in round_.batches],
            )
            _insert(db, segments)
            db.execute("DELETE FROM batches")
            db.execute("DELETE FROM round")
            db.execute("UPDATE counters SET records_failed = records_failed + ?", (failed,))
            _count(db, delivered, bytes_written, len(round_.batches))

    def count_direct(
        self, records: int, failed: int, delivered: int, bytes_written: int, files: int
    ) -> None:
        """Counts for records delivered without the buffer."""
        with self._write() as db:
            db.execute(
                "UPDATE counters SET records_in = records_in + ?,"
                " records_failed = records_failed + ?",
                (records, failed),
            )
            _count(db, delivered, bytes_written, files)

    def counts(self) -> tuple[Counts, Buffered]:
        """The counters, and what waits in the buffer now."""
        with self._file.read() as db:
            counts = Counts(
                *db.execute(
                    "SELECT records_in, records_delivered, records_failed, bytes_written,"
                    " files_written FROM counters"
                ).fetchone()
            )
            records, raw, oldest = db.execute(
                "SELECT sum(records), sum(raw_bytes), min(arrival) FROM ("
                " SELECT records, raw_bytes, arrival FROM puts"
                " UNION ALL SELECT records, raw_bytes, arrival FROM segments)"
            ).fetchone()
            (partitions,) = db.execute(
                "SELECT count(*) FROM (SELECT DISTINCT partition FROM segments WHERE kind = ?)",
                (DATA,),
            ).fetchone()
        return counts, Buffered(records or 0, raw or 0, partitions, oldest)

    def delivery_lock(self) -> AbstractContextManager[None]:
        """Hold the stream's delivery lock (blocking until it is free)."""
        return _locked(f"{self.path}.delivery-lock")

    def close(self) -> None:
        """Close this thread's connection."""
        self._file.close()


@contextmanager
def _locked(path: str) -> Iterator[None]:
    """An exclusive ``flock`` of the file ``path``, let go on exit or by the process's death."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _create(path: Path) -> None:
    """Make the database file with its page size, which only a new, empty file can be given
    (SqliteFile turns WAL on at once, after which the page size is fixed)."""
    if path.exists():
        return
    db = sqlite3.connect(path)
    try:
        db.execute(f"PRAGMA page_size={PAGE_SIZE}")
        db.execute("PRAGMA journal_mode=WAL")
    finally:
        db.close()


def _insert(db: sqlite3.Connection, segments: Sequence[Segment]) -> None:
    db.executemany(
        "INSERT INTO segments (kind, partition, records, raw_bytes, arrival, body)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(s.kind, s.partition, s.records, s.raw_bytes, s.arrival, s.body) for s in segments],
    )


def _count(db: sqlite3.Connection, delivered: int, bytes_written: int, files: int) -> None:
    db.execute(
        "UPDATE counters SET records_delivered = records_delivered + ?,"
        " bytes_written = bytes_written + ?, files_written = files_written + ?",
        (delivered, bytes_written, files),
    )
