"""The stream block: Amazon Kinesis Data Streams semantics over any stream engine.

What a clickstream needs, done as Kinesis does it: streams of evenly split shards (the 128-bit
MD5 space of partition keys cut into equal hash key ranges), PutRecord and PutRecords (a record
goes to the shard whose range holds the MD5 of its partition key, or its ExplicitHashKey, and
gets a sequence number that increases within the shard), shard iterators of every type
(TRIM_HORIZON, LATEST, AT_ and AFTER_SEQUENCE_NUMBER, AT_TIMESTAMP) that expire after five
minutes, GetRecords with MillisBehindLatest, and retention from 24 hours to 365 days (records
older than it are not returned). As in the other blocks, everything a caller hands over is
checked here and refused with Kinesis's error code before the engine is asked to do anything:
a PutRecords call with one bad record writes none.

Consumers keep checkpoints as the Kinesis Client Library does in its lease table, simplified:
per application and shard, the sequence number processed up to, which only moves forward;
``checkpoint_iterator`` resumes after it.

Time is the engine's (its clock stamps arrivals, expires iterators and applies retention), so
tests drive all three with a ManualClock. Sequence numbers and iterators are strings the engine
makes and reads; the block only checks their shape.

Not here: resharding (split, merge, UpdateShardCount; shards never close), on-demand capacity
and throughput limits (nothing is throttled, so nothing fails alone in PutRecords), enhanced
fan-out consumers, SequenceNumberForOrdering, encryption, tags, leases between several workers
of one application.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from archlab.blocks.checks import integer
from archlab.blocks.errors import (
    InvalidStreamArgument,
    StreamLimitExceeded,
    StreamValidation,
)
from archlab.blocks.queue import ACCOUNT, REGION
from archlab.engines.streams import (
    HASH_KEYS,
    ITERATOR_TYPES,
    MAX_GET_RECORDS,
    MAX_RETENTION_HOURS,
    MAX_SHARDS,
    GetRecordsResult,
    IteratorType,
    OutgoingRecord,
    PutRecordsResult,
    PutResult,
    Record,
    Shard,
    StreamDescription,
    StreamEngine,
)

__all__ = [
    "GetRecordsResult",
    "InitialPosition",
    "IteratorType",
    "PutRecordsResult",
    "PutResult",
    "Record",
    "Shard",
    "Stream",
    "StreamDescription",
    "list_streams",
]

NAME = re.compile(r"[a-zA-Z0-9_.-]{1,128}")
"""Stream names, shard ids and application (consumer) names: 1 to 128 of these characters."""
SEQUENCE_NUMBER = re.compile(r"0|[1-9][0-9]{0,128}")
HASH_KEY = re.compile(r"0|[1-9][0-9]{0,38}")
MAX_PARTITION_KEY_CHARACTERS = 256
MAX_RECORD_BYTES = 1024 * 1024
"""A record's data and partition key (UTF-8) together."""
MAX_REQUEST_BYTES = 5 * 1024 * 1024
"""A PutRecords call's records, data and partition keys together."""
MAX_RECORDS_PER_PUT = 500
MIN_RETENTION_HOURS = 24
MAX_ITERATOR_CHARACTERS = 512
RECORD_FIELDS = frozenset({"Data", "PartitionKey", "ExplicitHashKey"})
InitialPosition = Literal["TRIM_HORIZON", "LATEST"]
"""Where an application without a checkpoint starts (KCL's InitialPositionInStream)."""
INITIAL_POSITIONS: tuple[InitialPosition, ...] = ("TRIM_HORIZON", "LATEST")


def validate_name(name: Any, what: str) -> str:
    """A stream name, shard id or application name, per Kinesis's pattern."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise StreamValidation(
            f"{what} {_shown(name)} is invalid: it must be 1 to 128 letters, digits,"
            " underscores, hyphens or dots"
        )
    return name


def list_streams(engine: StreamEngine) -> list[str]:
    """ListStreams: every stream's name, in order."""
    return engine.list_streams()


def _shown(value: Any) -> str:
    """``value`` for an error message, cut short if long."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- records ------------------------------------------------------------------------------------


def _outgoing_record(
    data: Any, partition_key: Any, explicit_hash_key: Any, where: str = ""
) -> OutgoingRecord:
    """A record checked against Kinesis's rules, with the hash key that places it: the MD5 of
    its partition key read as a 128-bit big-endian number, unless an ExplicitHashKey is given.
    ``where`` prefixes the field names in errors (``Records[3].``)."""
    body = _data(data, where)
    key = _partition_key(partition_key, where)
    size = len(body) + len(key)
    if size > MAX_RECORD_BYTES:
        raise InvalidStreamArgument(
            f"{where}Data and {where}PartitionKey are {size} bytes together; a record is at"
            f" most {MAX_RECORD_BYTES} bytes (1 MiB)"
        )
    if explicit_hash_key is None:
        hash_key = int.from_bytes(hashlib.md5(key, usedforsecurity=False).digest(), "big")
    else:
        hash_key = _explicit_hash_key(explicit_hash_key, where)
    return OutgoingRecord(partition_key, body, hash_key)


def _data(data: Any, where: str) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    hint = " (encode text first)" if isinstance(data, str) else ""
    required = "is required" if data is None else f"must be bytes, got {type(data).__name__}"
    raise StreamValidation(f"{where}Data {required}{hint}")


def _partition_key(key: Any, where: str) -> bytes:
    """The partition key's UTF-8 bytes, if it is 1 to 256 characters of valid Unicode."""
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_PARTITION_KEY_CHARACTERS:
        raise StreamValidation(
            f"{where}PartitionKey must be 1 to {MAX_PARTITION_KEY_CHARACTERS} characters of"
            f" text, got {_shown(key)}"
        )
    try:
        return key.encode()
    except UnicodeEncodeError as error:
        raise StreamValidation(
            f"{where}PartitionKey is not valid Unicode ({error.reason} at {error.start})"
        ) from None


def _explicit_hash_key(value: Any, where: str) -> int:
    if not isinstance(value, str) or not HASH_KEY.fullmatch(value):
        raise StreamValidation(
            f"{where}ExplicitHashKey must be a decimal integer in a string, got {_shown(value)}"
        )
    number = int(value)
    if number >= HASH_KEYS:
        raise InvalidStreamArgument(
            f"{where}ExplicitHashKey {value} is outside the hash key range 0 to 2**128 - 1"
        )
    return number


def _records(entries: Any) -> list[OutgoingRecord]:
    """PutRecords' Records, each checked, and the request checked against its limits."""
    if not isinstance(entries, Sequence) or isinstance(entries, (str, bytes)):
        raise StreamValidation(f"Records must be a list of records, got {_shown(entries)}")
    if not 1 <= len(entries) <= MAX_RECORDS_PER_PUT:
        raise StreamValidation(
            f"Records must hold 1 to {MAX_RECORDS_PER_PUT} records, got {len(entries)}"
        )
    records = []
    for index, entry in enumerate(entries):
        where = f"Records[{index}]."
        if not isinstance(entry, Mapping):
            raise StreamValidation(
                f"Records[{index}] must be a dict with Data and PartitionKey, got {_shown(entry)}"
            )
        unknown = entry.keys() - RECORD_FIELDS
        if unknown:
            raise StreamValidation(
                f"Records[{index}] has unknown fields {sorted(map(str, unknown))}; a record"
                " has Data, PartitionKey and optionally ExplicitHashKey"
            )
        records.append(
            _outgoing_record(
                entry.get("Data"), entry.get("PartitionKey"), entry.get("ExplicitHashKey"), where
            )
        )
    total = sum(len(record.data) + len(record.partition_key.encode()) for record in records)
    if total > MAX_REQUEST_BYTES:
        raise InvalidStreamArgument(
            f"Records are {total} bytes (data and partition keys); a PutRecords request is at"
            f" most {MAX_REQUEST_BYTES} bytes (5 MiB)"
        )
    return records


# --- the stream ---------------------------------------------------------------------------------


class Stream:
    """One data stream, through an engine.

    >>> clicks = Stream.create(engine, "clicks", shard_count=2)               # doctest: +SKIP
    >>> clicks.put_record("user-17", b'{"page": "/cart"}')                    # doctest: +SKIP
    >>> shard = clicks.describe().shards[0].shard_id                          # doctest: +SKIP
    >>> page = clicks.get_records(clicks.get_shard_iterator(shard, "TRIM_HORIZON"))
    ...                                                                       # doctest: +SKIP
    """

    def __init__(self, engine: StreamEngine, name: str) -> None:
        self.engine = engine
        self.name = validate_name(name, "stream name")

    @classmethod
    def create(
        cls, engine: StreamEngine, name: str, shard_count: int = 1, *, exist_ok: bool = False
    ) -> Stream:
        """CreateStream with ``shard_count`` shards (1 to 500). An existing stream is
        StreamInUse (ResourceInUseException), unless ``exist_ok`` and it has as many shards."""
        stream = cls(engine, name)
        count = integer(shard_count, "ShardCount", 1, error=StreamValidation)
        if count > MAX_SHARDS:
            raise StreamLimitExceeded(
                f"ShardCount {count} is over the {MAX_SHARDS} shards a stream may have"
            )
        engine.create_stream(stream.name, count, exist_ok)
        return stream

    @property
    def arn(self) -> str:
        return f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{self.name}"

    def describe(self) -> StreamDescription:
        """DescribeStream: status, shards (hash key ranges, starting sequence numbers),
        retention; StreamNotFound (ResourceNotFoundException) for an unknown stream."""
        return self.engine.describe_stream(self.name)

    def delete(self) -> None:
        """DeleteStream: the stream, its records and its consumers' checkpoints."""
        self.engine.delete_stream(self.name)

    def increase_retention(self, hours: int) -> None:
        """IncreaseStreamRetentionPeriod: keep records ``hours`` hours (24 to 8760), no fewer
        than now."""
        self.engine.increase_retention(self.name, _retention(hours))

    def decrease_retention(self, hours: int) -> None:
        """DecreaseStreamRetentionPeriod: keep records ``hours`` hours (24 to 8760), no more
        than now; older records are no longer returned."""
        self.engine.decrease_retention(self.name, _retention(hours))

    # --- writing ------------------------------------------------------------------------------

    def put_record(
        self, partition_key: str, data: bytes, explicit_hash_key: str | None = None
    ) -> PutResult:
        """PutRecord: the shard the record went to and its sequence number there."""
        record = _outgoing_record(data, partition_key, explicit_hash_key)
        return self.engine.put_records(self.name, [record]).records[0]

    def put_records(self, records: Sequence[Mapping[str, Any]]) -> PutRecordsResult:
        """PutRecords: 1 to 500 records (``{"Data": b"...", "PartitionKey": "...",
        "ExplicitHashKey": "..."}``, the last optional), at most 1 MiB each and 5 MiB in all,
        written in one go; a result per record, in order."""
        return self.engine.put_records(self.name, _records(records))

    # --- reading ------------------------------------------------------------------------------

    def get_shard_iterator(
        self,
        shard_id: str,
        iterator_type: IteratorType,
        *,
        sequence_number: str | None = None,
        timestamp: float | None = None,
    ) -> str:
        """GetShardIterator: where reading the shard starts. ``sequence_number`` goes with
        AT_SEQUENCE_NUMBER and AFTER_SEQUENCE_NUMBER, ``timestamp`` (seconds since the epoch)
        with AT_TIMESTAMP: the first record that arrived then or later; a time before the
        retention horizon reads from TRIM_HORIZON. The iterator expires after 5 minutes."""
        validate_name(shard_id, "ShardId")
        if iterator_type not in ITERATOR_TYPES:
            raise StreamValidation(
                f"ShardIteratorType must be one of {', '.join(ITERATOR_TYPES)};"
                f" got {_shown(iterator_type)}"
            )
        by_number = iterator_type in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
        by_time = iterator_type == "AT_TIMESTAMP"
        _required(sequence_number, by_number, "StartingSequenceNumber", iterator_type)
        _required(timestamp, by_time, "Timestamp", iterator_type)
        if sequence_number is not None:
            _sequence_number(sequence_number, "StartingSequenceNumber")
        return self.engine.shard_iterator(
            self.name,
            shard_id,
            iterator_type,
            sequence_number,
            None if timestamp is None else _timestamp(timestamp),
        )

    def get_records(self, iterator: str, limit: int | None = None) -> GetRecordsResult:
        """GetRecords: up to ``limit`` (1 to 10000, default 10000) of the shard's records from
        the iterator on (and at most 10 MiB), with the iterator for the next call. Expired
        iterators are ExpiredIterator, unknown ones InvalidStreamArgument."""
        if not isinstance(iterator, str) or not 1 <= len(iterator) <= MAX_ITERATOR_CHARACTERS:
            raise StreamValidation(
                f"ShardIterator must be 1 to {MAX_ITERATOR_CHARACTERS} characters of text,"
                f" got {_shown(iterator)}"
            )
        count = (
            MAX_GET_RECORDS if limit is None else integer(limit, "Limit", 1, error=StreamValidation)
        )
        if count > MAX_GET_RECORDS:
            raise InvalidStreamArgument(f"Limit must be at most {MAX_GET_RECORDS}, got {count}")
        return self.engine.get_records(self.name, iterator, count)

    # --- checkpoints --------------------------------------------------------------------------

    def checkpoint(self, application: str, shard_id: str, sequence_number: str) -> None:
        """Record that ``application`` processed the shard up to and including the record
        ``sequence_number``. Setting it again is harmless; setting it back is
        CheckpointMovedBackwards, so a slow worker cannot undo a faster one's progress."""
        self.engine.checkpoint(
            self.name,
            validate_name(application, "application name"),
            validate_name(shard_id, "ShardId"),
            _sequence_number(sequence_number, "SequenceNumber"),
        )

    def get_checkpoint(self, application: str, shard_id: str) -> str | None:
        """The sequence number ``application`` checkpointed on the shard, or None."""
        return self.engine.get_checkpoint(
            self.name,
            validate_name(application, "application name"),
            validate_name(shard_id, "ShardId"),
        )

    def checkpoint_iterator(
        self, application: str, shard_id: str, initial_position: InitialPosition = "TRIM_HORIZON"
    ) -> str:
        """An iterator where ``application`` resumes on the shard: just after its checkpoint,
        or at ``initial_position`` (TRIM_HORIZON or LATEST) if it has none."""
        if initial_position not in INITIAL_POSITIONS:
            raise StreamValidation(
                f"initial_position must be TRIM_HORIZON or LATEST, got {_shown(initial_position)}"
            )
        held = self.get_checkpoint(application, shard_id)
        if held is None:
            return self.get_shard_iterator(shard_id, initial_position)
        return self.get_shard_iterator(shard_id, "AFTER_SEQUENCE_NUMBER", sequence_number=held)


def _retention(hours: Any) -> int:
    return integer(
        hours,
        "RetentionPeriodHours",
        MIN_RETENTION_HOURS,
        MAX_RETENTION_HOURS,
        error=InvalidStreamArgument,
    )


def _required(value: Any, wanted: bool, what: str, iterator_type: str) -> None:
    """A parameter given exactly when the iterator type uses it."""
    if wanted and value is None:
        raise InvalidStreamArgument(f"ShardIteratorType {iterator_type} requires a {what}")
    if not wanted and value is not None:
        raise InvalidStreamArgument(f"ShardIteratorType {iterator_type} takes no {what}")


def _sequence_number(value: Any, what: str) -> str:
    if not isinstance(value, str) or not SEQUENCE_NUMBER.fullmatch(value):
        raise StreamValidation(f"{what} must be a decimal integer in a string, got {_shown(value)}")
    return value


def _timestamp(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise StreamValidation(
            f"Timestamp must be a finite number of seconds since the epoch, got {_shown(value)}"
        )
    return float(value)
