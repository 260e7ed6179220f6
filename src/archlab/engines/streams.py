"""The boundary between the stream block and the engines that keep its records.

What crosses it is plain data the block has already checked against Kinesis Data Streams'
rules: stream and shard names, records whose size and partition key are valid, each with its
128-bit *hash key* already worked out (the MD5 of the partition key, or the caller's
ExplicitHashKey), and sequence numbers that have the shape of one. The engine owns what only
the store can know: which streams and shards exist, which shard a hash key falls in, the
sequence numbers it hands out, what an iterator means, the arrival times from its clock,
retention, and consumers' checkpoints. Iterators and sequence numbers are strings only the
engine that made them reads (an engine over Kinesis hands out Kinesis's own).

The rules every engine shares live here, once: how a stream's hash key space is split between
its shards, shard ids, the limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal, Protocol
from urllib.parse import urlsplit

from archlab.blocks.errors import InvalidEngineUrl
from archlab.clock import Clock

HASH_KEYS = 1 << 128
"""Hash keys are the integers from 0 to 2**128 - 1: an MD5 digest read as a big-endian number."""
MAX_SHARDS = 500
"""Shards a stream may have: the default shard quota of an account in AWS's largest regions."""
DEFAULT_RETENTION_HOURS = 24
MAX_RETENTION_HOURS = 8760
"""365 days, the longest retention Kinesis Data Streams offers."""
MAX_GET_RECORDS = 10_000
"""The most records one GetRecords call returns (and its default)."""
GET_RECORDS_BYTES = 10 * 1024 * 1024
"""A GetRecords page ends once it holds this much data (data and partition keys), as in Kinesis."""
ITERATOR_LIFETIME = 300.0
"""Seconds a shard iterator stays usable after it is returned."""

IteratorType = Literal[
    "TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "AT_TIMESTAMP"
]
ITERATOR_TYPES: tuple[IteratorType, ...] = (
    "TRIM_HORIZON",
    "LATEST",
    "AT_SEQUENCE_NUMBER",
    "AFTER_SEQUENCE_NUMBER",
    "AT_TIMESTAMP",
)


@dataclass(frozen=True, slots=True)
class OutgoingRecord:
    """A record to put, checked by the block."""

    partition_key: str
    data: bytes
    hash_key: int
    """Where the record goes: its shard is the one whose hash key range holds this."""


@dataclass(frozen=True)
class PutResult:
    """Where a record went: its shard and the sequence number it was given there."""

    shard_id: str
    sequence_number: str


@dataclass(frozen=True)
class PutRecordsResult:
    """PutRecords' answer: one result a record, in the order of the request."""

    records: list[PutResult]
    failed_record_count: int
    """Records that were not written. Kinesis fails single records when a shard is throttled;
    the embedded engine has no throughput limits and writes a call's records all or none, so
    for it this is always 0."""


@dataclass(slots=True)
class Record:
    """A record as GetRecords returns it.

    Not frozen, unlike the other results: GetRecords builds up to ten thousand of these a call,
    and a frozen dataclass takes three times as long to build."""

    sequence_number: str
    approximate_arrival_timestamp: float
    """Seconds since the epoch, from the engine's clock."""
    data: bytes
    partition_key: str


@dataclass(frozen=True)
class GetRecordsResult:
    records: list[Record]
    next_shard_iterator: str
    """Where the next call starts (shards never close, as no engine reshards yet)."""
    millis_behind_latest: int
    """How far the page is from the tip of the shard: 0 when nothing is left to read, else
    the age of the first record not yet returned, in milliseconds."""


@dataclass(frozen=True)
class Shard:
    shard_id: str
    starting_hash_key: str
    ending_hash_key: str
    """Both decimal strings, as Kinesis gives them; the range includes both ends."""
    starting_sequence_number: str
    """Below every sequence number of the shard's records."""


@dataclass(frozen=True)
class StreamDescription:
    name: str
    status: str
    """ACTIVE: a stream is usable as soon as it is created."""
    shards: list[Shard]
    retention_period_hours: int
    created: float
    """Seconds since the epoch, from the engine's clock."""


def hash_key_ranges(shard_count: int) -> list[tuple[int, int]]:
    """Each shard's (first, last) hash key when ``shard_count`` shards split the space evenly,
    as CreateStream splits it: shard ``i`` starts at ``i * (2**128 // shard_count)`` and the
    last shard ends at 2**128 - 1."""
    width = HASH_KEYS // shard_count
    starts = [index * width for index in range(shard_count)]
    ends = [start - 1 for start in starts[1:]] + [HASH_KEYS - 1]
    return list(zip(starts, ends, strict=True))


def shard_index(hash_key: int, shard_count: int) -> int:
    """The shard (by index) of an evenly split stream whose range holds ``hash_key``."""
    return min(hash_key // (HASH_KEYS // shard_count), shard_count - 1)


@cache  # a put names a shard per record; there are at most MAX_SHARDS names
def shard_name(index: int) -> str:
    """Kinesis's name for a shard: ``shardId-`` and twelve digits."""
    return f"shardId-{index:012d}"


class StreamEngine(Protocol):
    """Streams, their records and consumers' checkpoints. Every argument has been checked by
    the block; an unknown stream or shard is StreamNotFound, and a refused call changes
    nothing."""

    def create_stream(self, name: str, shard_count: int, exist_ok: bool) -> None:
        """Create a stream of ``shard_count`` evenly split shards, with the default retention.
        An existing stream is StreamInUse, unless ``exist_ok`` and it has this many shards."""

    def describe_stream(self, name: str) -> StreamDescription: ...

    def list_streams(self) -> list[str]:
        """Every stream's name, in order."""

    def delete_stream(self, name: str) -> None:
        """Delete the stream, its records and its consumers' checkpoints."""

    def increase_retention(self, name: str, hours: int) -> None:
        """Keep records ``hours`` hours; InvalidStreamArgument if that is shorter than now."""

    def decrease_retention(self, name: str, hours: int) -> None:
        """Keep records ``hours`` hours; InvalidStreamArgument if that is longer than now.
        Records older than the new period are no longer returned."""

    def put_records(self, name: str, records: list[OutgoingRecord]) -> PutRecordsResult:
        """Append the records to their shards, atomically, with sequence numbers that increase
        within each shard in the order of ``records`` and are unique in the stream."""

    def shard_iterator(
        self,
        name: str,
        shard_id: str,
        iterator_type: IteratorType,
        sequence_number: str | None,
        timestamp: float | None,
    ) -> str:
        """An iterator on the shard at the position the type names (the sequence number for
        AT_ and AFTER_SEQUENCE_NUMBER, the time for AT_TIMESTAMP). A sequence number that did
        not come from this shard of this stream is InvalidStreamArgument."""

    def get_records(self, name: str, iterator: str, limit: int) -> GetRecordsResult:
        """The shard's records from the iterator's position on, in sequence number order, at
        most ``limit`` or GET_RECORDS_BYTES of them, none older than the retention period.
        An iterator older than ITERATOR_LIFETIME is ExpiredIterator; one this engine did not
        make, or made for another stream, is InvalidStreamArgument."""

    def checkpoint(self, name: str, application: str, shard_id: str, sequence_number: str) -> None:
        """Record that ``application`` has processed the shard up to ``sequence_number``
        (which must come from the shard); CheckpointMovedBackwards if it holds a later one."""

    def get_checkpoint(self, name: str, application: str, shard_id: str) -> str | None:
        """The application's checkpoint on the shard, or None if it has none."""

    def close(self) -> None: ...


SCHEMES = {"sqlite": "sqlite:///relative/path.db or sqlite:////absolute/path.db"}


def connect_streams(url: str, clock: Clock | None = None) -> StreamEngine:
    """The stream engine an URL names, such as ``sqlite:///.archlab/streams.db``."""
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in SCHEMES:
        raise InvalidEngineUrl(
            f"{url!r} names no stream engine; use one of: {', '.join(SCHEMES.values())}"
        )
    if parts.netloc or parts.path in ("", "/"):
        raise InvalidEngineUrl(f"{url!r}: a SQLite URL is {SCHEMES['sqlite']}")
    if parts.query or parts.fragment:
        raise InvalidEngineUrl(f"{url!r}: the SQLite stream engine takes no options")
    # Imported here: the engine module builds on this one's types.
    from archlab.engines.sqlite_streams import SqliteStreamEngine

    return SqliteStreamEngine(parts.path[1:], clock=clock)
