"""The embedded stream engine: Kinesis-style streams in one SQLite file, shared by processes.

Durability and atomicity as in the other embedded engines (``SqliteFile``): WAL with
``synchronous=FULL``, so a put that returned survives a SIGKILL (and a power cut); every change
one ``BEGIN IMMEDIATE`` transaction; reads in snapshots that take no lock.

**Sequence numbers.** One counter for the whole file (``stream_state.last_sequence``) numbers
every record: a put reads it, numbers its records in order and stores it back, in the write
transaction that inserts them, so writers in any number of processes never hand out a number
twice and each shard's numbers increase in commit order. A record's sequence number is that
counter and its shard index as one fixed-width decimal string, ``49`` + 20 digits + 12 digits:
fixed width makes string order numeric order, the leading digit keeps Kinesis's form
(``0|[1-9][0-9]{0,128}``), and the shard in it tells a number from another shard apart without
a lookup. Creating a stream takes a number from the counter too, which no record gets: its
shards' starting sequence numbers, and the line below which no number is the stream's own.

**Arrival times never go back within a stream**: a put stamps its records with the clock's time
or the stream's last arrival time, whichever is later. A shard's records are therefore sorted
by arrival as they are by sequence number, and a time (AT_TIMESTAMP, the retention horizon) is
found by bisection over sequence numbers with the one index that reads need anyway; a second
index on arrival times would cost every put about a fifth of its speed.

**Iterators** are the stream's id (a new stream under an old name is another stream), the
shard, the position (the last sequence number already passed), a "not before" time
(AT_TIMESTAMP's) and the time the iterator was issued, signed with HMAC-SHA256 under a key kept
in the file: any process sharing the file reads them, nothing else can make one, and one from
another file is refused. GetRecords reads in one query the shard's records after the position
that are within retention; when it reaches the end of the shard, the next iterator starts at
the counter read in the same snapshot, so a consumer polling an idle shard skips everything
already filtered out instead of reading it again.

**Retention.** Records older than the retention period are never returned. Putting processes
also delete them, at most once a ``TRIM_INTERVAL`` per stream, after their own put commits.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
import sqlite3
import struct
from dataclasses import dataclass
from pathlib import Path

from archlab.blocks.errors import (
    CheckpointMovedBackwards,
    ExpiredIterator,
    InvalidStreamArgument,
    StreamInUse,
    StreamNotFound,
)
from archlab.clock import Clock, SystemClock
from archlab.engines.sqlitefile import SqliteFile
from archlab.engines.streams import (
    DEFAULT_RETENTION_HOURS,
    GET_RECORDS_BYTES,
    ITERATOR_LIFETIME,
    GetRecordsResult,
    IteratorType,
    OutgoingRecord,
    PutRecordsResult,
    PutResult,
    Record,
    Shard,
    StreamDescription,
    hash_key_ranges,
    shard_index,
    shard_name,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS stream_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_sequence INTEGER NOT NULL,
    secret BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS streams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    shard_count INTEGER NOT NULL,
    retention_hours INTEGER NOT NULL,
    created REAL NOT NULL,
    first_sequence INTEGER NOT NULL,
    last_arrival REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS stream_records (
    seq INTEGER PRIMARY KEY,
    stream INTEGER NOT NULL,
    shard INTEGER NOT NULL,
    arrival REAL NOT NULL,
    partition_key TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS stream_records_by_shard ON stream_records (stream, shard, seq);
CREATE TABLE IF NOT EXISTS stream_checkpoints (
    stream INTEGER NOT NULL,
    application TEXT NOT NULL,
    shard INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (stream, application, shard)
) WITHOUT ROWID;
"""

STREAM_COLUMNS = "id, name, shard_count, retention_hours, created, first_sequence, last_arrival"
READ = (
    "SELECT seq, arrival, partition_key, data FROM stream_records"
    " WHERE stream = ? AND shard = ? AND seq > ? AND arrival >= ? ORDER BY seq LIMIT ?"
)
FIRST_AFTER = (
    "SELECT seq, arrival FROM stream_records"
    " WHERE stream = ? AND shard = ? AND seq > ? ORDER BY seq LIMIT 1"
)

SEQUENCE = re.compile(r"49([0-9]{20})([0-9]{12})")
SHARD_ID = re.compile(r"shardId-([0-9]{12})")
ITERATOR = struct.Struct("!qIqdd")
"""An iterator's fields: stream id, shard index, position, not before, issued."""
MAC_BYTES = 16
TRIM_INTERVAL = 60.0
"""Seconds between two deletions of a stream's expired records by one process."""
HOUR = 3600.0


@dataclass(frozen=True)
class _Stream:
    id: int
    name: str
    shard_count: int
    retention_hours: int
    created: float
    first_sequence: int
    """A number taken from the counter when the stream was created, for no record: its shards'
    starting sequence numbers. The stream's records all have greater numbers."""
    last_arrival: float

    def horizon(self, now: float) -> float:
        """Records that arrived before this are past retention."""
        return now - self.retention_hours * HOUR


@dataclass(frozen=True)
class _Position:
    """What an iterator holds."""

    stream: int
    shard: int
    after: int
    """The iterator reads the records numbered above this."""
    not_before: float
    """...that arrived at this time or later."""
    issued: float


class SqliteStreamEngine:
    """Streams in the SQLite database at ``path``; one connection per thread."""

    def __init__(self, path: str | Path, clock: Clock | None = None) -> None:
        self.path = str(path)
        self.clock = clock or SystemClock()
        self._file = SqliteFile(self.path)
        with self._file.write() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(
                "INSERT OR IGNORE INTO stream_state (id, last_sequence, secret) VALUES (1, 0, ?)",
                (secrets.token_bytes(32),),
            )
            self._secret: bytes = db.execute("SELECT secret FROM stream_state").fetchone()[0]
        self._trimmed: dict[int, float] = {}
        """When this process last deleted each stream's expired records."""

    def close(self) -> None:
        self._file.close()

    # --- streams ------------------------------------------------------------------------------

    def create_stream(self, name: str, shard_count: int, exist_ok: bool) -> None:
        with self._file.write() as db:
            row = db.execute("SELECT shard_count FROM streams WHERE name = ?", (name,)).fetchone()
            if row is not None:
                if exist_ok and row[0] == shard_count:
                    return
                shards = f" with {row[0]} shards" if exist_ok else ""
                raise StreamInUse(f"Stream {name} already exists{shards}")
            now = self.clock.now()
            first = _last_sequence(db) + 1  # a number of its own: no record will have it
            db.execute("UPDATE stream_state SET last_sequence = ?", (first,))
            db.execute(
                "INSERT INTO streams (name, shard_count, retention_hours, created, first_sequence,"
                " last_arrival) VALUES (?, ?, ?, ?, ?, ?)",
                (name, shard_count, DEFAULT_RETENTION_HOURS, now, first, now),
            )

    def describe_stream(self, name: str) -> StreamDescription:
        stream = _stream(self._file.connection, name)
        shards = [
            Shard(shard_name(index), str(first), str(last), _sequence(stream.first_sequence, index))
            for index, (first, last) in enumerate(hash_key_ranges(stream.shard_count))
        ]
        return StreamDescription(name, "ACTIVE", shards, stream.retention_hours, stream.created)

    def list_streams(self) -> list[str]:
        rows = self._file.connection.execute("SELECT name FROM streams ORDER BY name")
        return [name for (name,) in rows]

    def delete_stream(self, name: str) -> None:
        with self._file.write() as db:
            stream = _stream(db, name)
            db.execute("DELETE FROM stream_records WHERE stream = ?", (stream.id,))
            db.execute("DELETE FROM stream_checkpoints WHERE stream = ?", (stream.id,))
            db.execute("DELETE FROM streams WHERE id = ?", (stream.id,))

    def increase_retention(self, name: str, hours: int) -> None:
        self._set_retention(name, hours, increase=True)

    def decrease_retention(self, name: str, hours: int) -> None:
        self._set_retention(name, hours, increase=False)

    def _set_retention(self, name: str, hours: int, increase: bool) -> None:
        with self._file.write() as db:
            stream = _stream(db, name)
            current = stream.retention_hours
            if (hours < current) if increase else (hours > current):
                shorter, other = ("shorter", "Decrease") if increase else ("longer", "Increase")
                raise InvalidStreamArgument(
                    f"Requested retention period ({hours} hours) for stream {name} can not be"
                    f" {shorter} than existing retention period ({current} hours)."
                    f" Use {other}StreamRetentionPeriod."
                )
            db.execute("UPDATE streams SET retention_hours = ? WHERE id = ?", (hours, stream.id))

    # --- records ------------------------------------------------------------------------------

    def put_records(self, name: str, records: list[OutgoingRecord]) -> PutRecordsResult:
        with self._file.write() as db:
            stream = _stream(db, name)
            last = _last_sequence(db)
            arrival = max(self.clock.now(), stream.last_arrival)
            rows = [
                (
                    last + offset,
                    stream.id,
                    shard_index(record.hash_key, stream.shard_count),
                    arrival,
                    record.partition_key,
                    record.data,
                )
                for offset, record in enumerate(records, 1)
            ]
            db.executemany(
                "INSERT INTO stream_records (seq, stream, shard, arrival, partition_key, data)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            db.execute("UPDATE stream_state SET last_sequence = ?", (last + len(rows),))
            db.execute("UPDATE streams SET last_arrival = ? WHERE id = ?", (arrival, stream.id))
        self._trim(stream)
        results = [PutResult(shard_name(row[2]), _sequence(row[0], row[2])) for row in rows]
        return PutRecordsResult(results, failed_record_count=0)

    def shard_iterator(
        self,
        name: str,
        shard_id: str,
        iterator_type: IteratorType,
        sequence_number: str | None,
        timestamp: float | None,
    ) -> str:
        now = self.clock.now()
        not_before = 0.0
        with self._file.read() as db:
            stream = _stream(db, name)
            shard = _shard(stream, shard_id)
            last = _last_sequence(db)
            if iterator_type == "LATEST":
                after = last
            elif iterator_type in ("TRIM_HORIZON", "AT_TIMESTAMP"):
                if iterator_type == "AT_TIMESTAMP":
                    assert timestamp is not None  # the block requires it
                    not_before = timestamp
                moment = max(stream.horizon(now), not_before)
                after = _position_before(db, stream, shard, moment, last)
            else:
                assert sequence_number is not None  # the block requires it
                number = _own_sequence(
                    db, stream, shard, sequence_number, last, "StartingSequenceNumber"
                )
                after = number - 1 if iterator_type == "AT_SEQUENCE_NUMBER" else number
        return self._iterator(_Position(stream.id, shard, after, not_before, now))

    def get_records(self, name: str, iterator: str, limit: int) -> GetRecordsResult:
        now = self.clock.now()
        position = self._position(iterator, now)
        with self._file.read() as db:
            stream = _iterated_stream(db, name, position.stream)
            last = _last_sequence(db)
            floor = max(stream.horizon(now), position.not_before)
            rows = db.execute(READ, (stream.id, position.shard, position.after, floor, limit + 1))
            records, last_read, waiting = _page(rows, position.shard, limit)
        if waiting is None:  # the end of the shard: every record up to ``last`` was seen
            after, behind = last, 0
        else:
            assert last_read is not None  # a page holds at least one record before stopping
            after, behind = last_read, max(0, round((now - waiting) * 1000))
        next_position = _Position(stream.id, position.shard, after, position.not_before, now)
        return GetRecordsResult(records, self._iterator(next_position), behind)

    # --- checkpoints --------------------------------------------------------------------------

    def checkpoint(self, name: str, application: str, shard_id: str, sequence_number: str) -> None:
        with self._file.write() as db:
            stream = _stream(db, name)
            shard = _shard(stream, shard_id)
            number = _own_sequence(
                db, stream, shard, sequence_number, _last_sequence(db), "the checkpoint"
            )
            held = _checkpoint(db, stream, application, shard)
            if held is not None and held > number:
                raise CheckpointMovedBackwards(
                    f"{application} has checkpointed {shard_id} of stream {name} at"
                    f" {_sequence(held, shard)}; a checkpoint cannot move back to"
                    f" {sequence_number}"
                )
            db.execute(
                "INSERT INTO stream_checkpoints (stream, application, shard, seq)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (stream, application, shard)"
                " DO UPDATE SET seq = excluded.seq",
                (stream.id, application, shard, number),
            )

    def get_checkpoint(self, name: str, application: str, shard_id: str) -> str | None:
        with self._file.read() as db:
            stream = _stream(db, name)
            shard = _shard(stream, shard_id)
            held = _checkpoint(db, stream, application, shard)
        return None if held is None else _sequence(held, shard)

    # --- iterators and trimming ---------------------------------------------------------------

    def _iterator(self, position: _Position) -> str:
        body = ITERATOR.pack(
            position.stream, position.shard, position.after, position.not_before, position.issued
        )
        return base64.urlsafe_b64encode(body + self._mac(body)).decode("ascii")

    def _position(self, iterator: str, now: float) -> _Position:
        """The iterator's fields, if this engine made it and it has not expired."""
        try:
            raw = base64.urlsafe_b64decode(iterator)
        except ValueError:  # not base64, or not ASCII
            raw = b""
        body, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
        if (
            len(body) != ITERATOR.size
            or base64.urlsafe_b64encode(raw).decode("ascii") != iterator  # one spelling only
            or not hmac.compare_digest(mac, self._mac(body))
        ):
            shown = iterator if len(iterator) <= 80 else iterator[:77] + "..."
            raise InvalidStreamArgument(
                f"Invalid ShardIterator {shown!r}: it was not returned by this stream engine"
            )
        position = _Position(*ITERATOR.unpack(body))
        if now > position.issued + ITERATOR_LIFETIME:
            raise ExpiredIterator(
                f"Iterator expired: it was returned {now - position.issued:.3f} s ago, and an"
                f" iterator is valid for {ITERATOR_LIFETIME:.0f} s"
            )
        return position

    def _mac(self, body: bytes) -> bytes:
        return hmac.digest(self._secret, body, "sha256")[:MAC_BYTES]

    def _trim(self, stream: _Stream) -> None:
        """Delete the stream's records past retention, once a TRIM_INTERVAL per process: they
        are no longer returned anyway, this gives their space back."""
        now = self.clock.now()
        trimmed = self._trimmed.get(stream.id)
        if trimmed is not None and now - trimmed < TRIM_INTERVAL:
            return
        self._trimmed[stream.id] = now
        if stream.created >= stream.horizon(now):  # nothing can be that old yet
            return
        with self._file.write() as db:
            current = _find(db, "id", stream.id)
            if current is None:  # deleted since the put
                return
            last = _last_sequence(db)
            horizon = current.horizon(now)
            for shard in range(current.shard_count):
                expired = _position_before(db, current, shard, horizon, last)
                db.execute(
                    "DELETE FROM stream_records WHERE stream = ? AND shard = ? AND seq <= ?",
                    (current.id, shard, expired),
                )


def _find(db: sqlite3.Connection, column: str, value: str | int) -> _Stream | None:
    """The stream whose ``column`` (name or id) is ``value``."""
    row = db.execute(f"SELECT {STREAM_COLUMNS} FROM streams WHERE {column} = ?", (value,))
    found = row.fetchone()
    return None if found is None else _Stream(*found)


def _stream(db: sqlite3.Connection, name: str) -> _Stream:
    stream = _find(db, "name", name)
    if stream is None:
        raise StreamNotFound(f"Stream {name} not found")
    return stream


def _iterated_stream(db: sqlite3.Connection, name: str, stream_id: int) -> _Stream:
    """The stream ``name``, if it is the one the iterator (of stream ``stream_id``) reads."""
    stream = _stream(db, name)
    if stream.id != stream_id:
        owner = _find(db, "id", stream_id)
        if owner is None:
            raise StreamNotFound(
                f"The stream this shard iterator reads was deleted; stream {name} is a new one"
            )
        raise InvalidStreamArgument(f"This shard iterator reads stream {owner.name}, not {name}")
    return stream


def _shard(stream: _Stream, name: str) -> int:
    """The index of the shard ``name`` of the stream."""
    match = SHARD_ID.fullmatch(name)
    if match is None or int(match[1]) >= stream.shard_count:
        raise StreamNotFound(f"Shard {name} in stream {stream.name} does not exist")
    return int(match[1])


def _last_sequence(db: sqlite3.Connection) -> int:
    """The number of the last record put in any stream of the file."""
    number: int = db.execute("SELECT last_sequence FROM stream_state").fetchone()[0]
    return number


def _sequence(number: int, shard: int) -> str:
    """A record's sequence number: see the module's docstring."""
    return f"49{number:020d}{shard:012d}"


def _own_sequence(
    db: sqlite3.Connection, stream: _Stream, shard: int, text: str, last: int, what: str
) -> int:
    """The counter in the sequence number ``text``, if it can be a number of this shard of this
    stream: the shard's starting number, or a later one that was handed out, and not to a
    record of another stream or shard."""
    match = SEQUENCE.fullmatch(text)
    if match is not None and int(match[2]) == shard:
        number = int(match[1])
        if number == stream.first_sequence:
            return number
        if stream.first_sequence < number <= last:
            owner = db.execute(
                "SELECT stream, shard FROM stream_records WHERE seq = ?", (number,)
            ).fetchone()
            if owner is None or tuple(owner) == (stream.id, shard):
                return number
    raise InvalidStreamArgument(
        f"{what} {text} is invalid because it did not come from shard {shard_name(shard)}"
        f" of stream {stream.name}"
    )


def _position_before(
    db: sqlite3.Connection, stream: _Stream, shard: int, moment: float, last: int
) -> int:
    """The position just before the shard's first record that arrived at ``moment`` or later
    (``last`` if none has yet), found by bisection: records are sorted by arrival as by
    sequence number (see the module's docstring)."""
    low, high = stream.first_sequence, last
    while low < high:
        middle = (low + high) // 2
        row = db.execute(FIRST_AFTER, (stream.id, shard, middle)).fetchone()
        if row is None or row[1] >= moment:
            high = middle
        else:  # every position from ``middle`` to the record's own is before ``moment``
            low = row[0]
    return low


def _page(
    rows: sqlite3.Cursor, shard: int, limit: int
) -> tuple[list[Record], int | None, float | None]:
    """Records from ``rows`` up to ``limit`` or GET_RECORDS_BYTES; with the last one's number
    and the arrival time of the first row left unread (None when none was left)."""
    records: list[Record] = []
    size = 0
    last_read = None
    shard_digits = f"{shard:012d}"  # _sequence, inlined: this loop runs 10,000 times a call
    try:
        for number, arrival, key, data in rows:
            size += len(data) + len(key.encode())
            if len(records) == limit or size > GET_RECORDS_BYTES:
                return records, last_read, arrival
            records.append(Record(f"49{number:020d}{shard_digits}", arrival, data, key))
            last_read = number
    finally:
        rows.close()
    return records, last_read, None


def _checkpoint(
    db: sqlite3.Connection, stream: _Stream, application: str, shard: int
) -> int | None:
    row = db.execute(
        "SELECT seq FROM stream_checkpoints WHERE stream = ? AND application = ? AND shard = ?",
        (stream.id, application, shard),
    ).fetchone()
    return None if row is None else int(row[0])
