"""The delivery stream: Amazon Data Firehose semantics, from JSON records to a partitioned
Parquet lake on local files, each record delivered exactly once.

>>> stream = DeliveryStream(                                     # doctest: +SKIP
...     "clicks", "lake",
...     prefix="clicks/dt=!{partitionKeyFromQuery:dt}/hour=!{partitionKeyFromQuery:hour}/",
...     partition_keys={"dt": ".event_date", "hour": ".event_hour"},
...     schema={"event_id": "string", "event_time": "timestamp", "value": "double"},
... )
>>> stream.put_record_batch([b'{"event_id": "e1", ...}', ...])   # doctest: +SKIP
>>> stream.deliver_due()                                         # doctest: +SKIP

As in Firehose, a put is checked against PutRecordBatch's limits (1 to 500 records, each at
most 1,000 KiB, at most 4 MiB a call) and refused whole if it breaks one; it is acknowledged
once stored in the stream's buffer (``delivery_buffer``: SQLite under the lake's control
directory, ``_archlab/delivery/``, one transaction a put), so an acknowledged record is never
lost. Puts return at once; the work is the deliverer's, :meth:`DeliveryStream.deliver_due`,
which any process may call (a loop, a scheduled function):

- it converts waiting records (record format conversion, ``parquet_writer``) and partitions
  them by their keys (dynamic partitioning, ``partitioning``). A record that fails either goes
  to the error output prefix as Firehose writes it there (errorCode, errorMessage, rawData in
  base64, arrival) -- counted, never dropped -- and the rest of its batch goes on;
- each partition, and each error output type, is a buffer of its own, delivered when it holds
  ``size_mib`` of records or its oldest record has waited ``interval_s``, whichever comes
  first: one Parquet file (zstd), named ``<stream>-1-<yyyy-MM-dd-HH-mm-ss>-<batch id>.parquet``
  (the time is the oldest record's arrival) under the prefix rendered for it.

:meth:`DeliveryStream.flush` delivers everything now. :meth:`DeliveryStream.deliver` is the
direct path, for a caller whose records are durable elsewhere (a stream's shard, read from a
checkpoint): it converts and writes a batch at once, under names derived from the caller's
batch id, so that delivering the batch again replaces its files rather than adding to them.

Not here: transformation by Lambda, other destinations and formats (ORC, compressed JSON
output), server-side encryption, CustomTimeZone (timestamps are UTC), the quota of 500 active
partitions, and Firehose's throughput quotas.
"""

from __future__ import annotations

import base64
import json
import os
import re
import struct
import threading
import time
import uuid
from array import array
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pyarrow as pa

from archlab.blocks.checks import integer
from archlab.blocks.errors import DeliveryValidation, InvalidDeliveryArgument
from archlab.clock import Clock, SystemClock
from archlab.lake import partitioning
from archlab.lake.delivery_buffer import (
    DATA,
    ERRORS,
    Batch,
    DeliveryBuffer,
    Put,
    Round,
    Segment,
    Waiting,
)
from archlab.lake.parquet_writer import (
    MALFORMED,
    MISSING_KEY,
    Failure,
    OutputSchema,
    RecordReader,
    output_schema,
    parquet_bytes,
    single_lines,
    split_records,
    write_atomically,
)

MAX_BATCH_RECORDS = 500
MAX_RECORD_BYTES = 1_024_000
"""1,000 KiB, before base64 encoding."""
MAX_BATCH_BYTES = 4 * 1024 * 1024
MiB = 1024 * 1024
SIZE_MIB = (1, 128)
INTERVAL_S = (0, 900)
PUT_CODEC = pa.Codec("lz4")
"""Puts are stored compressed: JSON records shrink about eightfold, and compressing costs less
than writing and checkpointing the difference (measured: 1.1 ms a put of 500 instead of 2)."""
SEGMENT_LZ4 = b"ALZ4"
"""How a compressed segment starts (an Arrow message starts with 0xFFFFFFFF)."""
SEGMENT_SIZE = struct.Struct("<Q")
CONVERT_BYTES = 16 * MiB
"""Records converted at once (about): large enough to read fast, small enough to hold."""
STREAM_NAME = re.compile(r"[a-zA-Z0-9_.-]{1,64}")
CONTROL_DIRECTORY = ("_archlab", "delivery")
"""Under the lake root; the crawler skips names starting with _."""
DEFAULT_ERROR_OUTPUT_PREFIX = "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/"
DELIVERY_STREAM_VERSION = 1
"""The version number Firehose puts in an object's name after the stream's."""
ERROR_OUTPUT_TYPES = {MALFORMED: "format-conversion-failed", MISSING_KEY: "partitioning-failed"}
"""``!{firehose:error-output-type}`` for each error code."""
WRITERS = 4
"""Threads writing files and encoding segments at once, at most (and no more than the
cores)."""
T = TypeVar("T")
DIRECT_BATCHES = uuid.UUID("5b0f3c36-7c43-4a43-9d0e-6a4f1c2b8e11")
"""The namespace of the batch ids the direct path derives from its callers'."""


@dataclass(frozen=True)
class PutRecordResult:
    record_id: str


@dataclass(frozen=True)
class PutRecordBatchResult:
    """PutRecordBatch's answer. A batch is one transaction, so ``failed_put_count`` is 0: a put
    that cannot be made durable raises, and none of its records is kept."""

    put_id: str
    count: int
    failed_put_count: int = 0

    @property
    def record_ids(self) -> list[str]:
        """The RecordId of each record, in order (made on demand: most callers never ask)."""
        return [f"{self.put_id}{index:04x}" for index in range(self.count)]

    @property
    def request_responses(self) -> list[dict[str, str]]:
        """Firehose's RequestResponses."""
        return [{"RecordId": record_id} for record_id in self.record_ids]


@dataclass(frozen=True)
class DeliveredFile:
    path: Path
    records: int
    bytes: int
    error_output: bool
    """True for a file of the error output (JSON lines), False for a Parquet file of data."""


@dataclass(frozen=True)
class DeliveryReport:
    files: tuple[DeliveredFile, ...]

    @property
    def records(self) -> int:
        """Records delivered into the lake's data files."""
        return sum(file.records for file in self.files if not file.error_output)

    @property
    def failed(self) -> int:
        """Records delivered to the error output."""
        return sum(file.records for file in self.files if file.error_output)


@dataclass(frozen=True)
class DeliveryMetrics:
    """The stream's counters (since it was created, across processes and restarts) and what
    its buffer holds now."""

    records_in: int
    records_delivered: int
    records_failed: int
    """Records that failed conversion or partitioning, for the error output."""
    bytes_written: int
    files_written: int
    records_buffered: int
    bytes_buffered: int
    partitions_buffered: int
    oldest_buffered_age_s: float | None


@dataclass(frozen=True)
class _Chunk:
    """Records to convert: newline-joined, their sizes, and when each put of them arrived."""

    data: bytes
    sizes: Sequence[int]
    starts: list[int]
    """The index of each put's first record."""
    arrivals: list[float]
    one_a_line: bool = False
    """Known to hold ``single_lines``."""

    def arrival(self, record: int) -> float:
        return self.arrivals[bisect_right(self.starts, record) - 1]


@dataclass(frozen=True)
class _Part:
    """A partition's (or an error output type's) share of converted records."""

    kind: str
    partition: str
    records: int
    raw_bytes: int
    arrival: float
    """The arrival of its oldest record."""
    table: pa.Table | None = None
    """The records, for DATA."""
    lines: bytes = b""
    """The error output's documents, for ERRORS."""

    def piece(self) -> pa.Table | bytes:
        """What the part adds to a file."""
        return self.lines if self.table is None else self.table

    def segment(self) -> Segment:
        """The part, to wait in the buffer."""
        body = self.lines if self.table is None else _encode(self.table)
        return Segment(self.kind, self.partition, self.records, self.raw_bytes, self.arrival, body)


@dataclass(frozen=True)
class _Parts:
    parts: dict[tuple[str, str], _Part] = field(default_factory=dict)
    failed: int = 0


class DeliveryStream:
    """One delivery stream, writing into the lake at ``destination`` (a directory, or a
    ``file:`` URL: ``file:///lake`` is the relative path ``lake``, ``file:////srv/lake`` the
    absolute one). Every process that opens it with the same configuration shares its buffer."""

    def __init__(
        self,
        name: str,
        destination: str | Path,
        *,
        prefix: str,
        schema: Mapping[str, str] | pa.Schema,
        partition_keys: Mapping[str, str] | None = None,
        error_output_prefix: str = DEFAULT_ERROR_OUTPUT_PREFIX,
        size_mib: int = 5,
        interval_s: int = 300,
        clock: Clock | None = None,
    ) -> None:
        if not isinstance(name, str) or not STREAM_NAME.fullmatch(name):
            raise InvalidDeliveryArgument(
                f"delivery stream name {name!r} is invalid: 1 to 64 letters, digits, _ . or -"
            )
        self.name = name
        self.root = lake_root(destination)
        self.size_mib = integer(size_mib, "size_mib", *SIZE_MIB, error=InvalidDeliveryArgument)
        self.interval_s = integer(
            interval_s, "interval_s", *INTERVAL_S, error=InvalidDeliveryArgument
        )
        self.schema: OutputSchema = output_schema(schema)
        self.keys = partitioning.key_queries(partition_keys)
        self.prefix = partitioning.prefix(prefix, "prefix", error_output=False)
        self.error_output_prefix = partitioning.prefix(
            error_output_prefix, "error output prefix", error_output=True
        )
        _check_prefixes(self.prefix, self.error_output_prefix, self.keys)
        extra = partitioning.key_fields(self.keys, dict(self.schema.columns))
        self._reader = RecordReader(self.schema, extra)
        self._select = self.schema.arrow.names if extra else None
        self._clock = clock or SystemClock()
        control = self.root.joinpath(*CONTROL_DIRECTORY)
        control.mkdir(parents=True, exist_ok=True)
        self._buffer = DeliveryBuffer(control / f"{name}.db")
        self._buffer.bind(
            {
                "prefix": self.prefix.text,
                "error_output_prefix": self.error_output_prefix.text,
                "partition_keys": {key.name: key.query for key in self.keys},
                "schema": self.schema.glue(),
            }
        )

    # --- putting ---------------------------------------------------------------------------

    def put_record(self, data: bytes) -> PutRecordResult:
        """PutRecord: one record, acknowledged once durable."""
        return PutRecordResult(self.put_record_batch([data]).record_ids[0])

    def put_record_batch(self, records: Sequence[bytes]) -> PutRecordBatchResult:
        """PutRecordBatch: up to 500 records in one durable transaction, stored as sent."""
        self._buffer.append(self._put(records, _check_batch(records)))
        return PutRecordBatchResult(os.urandom(6).hex(), len(records))

    def put_from_source(self, source: str, records: Sequence[tuple[int, bytes]]) -> int:
        """Firehose with a Kinesis stream as its source: ``records`` are ``(sequence number,
        data)`` read from one shard (``source``), in order. They are stored with the shard's
        position in one transaction, and those at or before the position stored are skipped,
        so a reader that dies before its checkpoint and reads them again buffers each record
        once. Returns the records buffered."""
        if not isinstance(source, str) or not source:
            raise InvalidDeliveryArgument(f"source must be non-empty text, got {source!r}")
        checked = [(int(sequence), data) for sequence, data in records]
        sizes = _check_records([data for _, data in checked])

        def puts_after(position: int) -> tuple[list[Put], int]:
            new = [i for i, (sequence, _) in enumerate(checked) if sequence > position]
            puts = [
                self._put([checked[i][1] for i in chunk], [sizes[i] for i in chunk])
                for chunk in _chunks(new, MAX_BATCH_RECORDS)
            ]
            return puts, checked[-1][0] if checked else position

        return self._buffer.append_from(source, puts_after)

    def _put(self, records: Sequence[bytes], sizes: Sequence[int]) -> Put:
        body = b"\n".join(records)
        return Put(
            id=None,
            arrival=self._clock.now(),
            records=len(records),
            raw_bytes=sum(sizes),
            one_a_line=single_lines(body, len(records)),
            sizes=array("I", sizes).tobytes(),
            body=PUT_CODEC.compress(body, asbytes=True),
        )

    # --- delivering ------------------------------------------------------------------------

    def deliver_due(self) -> DeliveryReport:
        """Deliver what the buffering hints say is due (see the module); first, redo the round
        a deliverer that died left sealed. Records are converted a chunk of about
        ``size_mib`` a round, so that a deliverer behind a busy stream still makes files of
        about ``size_mib``; rounds go on while the puts waiting are due, up to those that
        waited when the call began (a producer faster than the deliverer cannot keep it in
        one call). A scheduled deliverer calls it again while it delivers files."""
        with self._buffer.delivery_lock():
            files = self._redo()
            now = self._clock.now()
            left = self._buffer.puts_waiting().records
            while True:
                made, converted = self._round(now, force=False)
                files += made
                left -= converted
                if left <= 0 or not converted:
                    break
        return DeliveryReport(tuple(files))

    def flush(self) -> DeliveryReport:
        """Deliver everything buffered now, whatever the buffering hints. The puts waiting are
        converted first, a chunk a round, and each partition is delivered once, with the last
        chunk (or earlier, if it reaches the size hint on the way): one file a partition, not
        one a partition and chunk."""
        with self._buffer.delivery_lock():
            files = self._redo()
            now = self._clock.now()
            left = self._buffer.puts_waiting().records
            while True:
                made, converted = self._round(now, force=True, last=left)
                files += made
                left -= converted
                if left <= 0 or not converted:
                    break
        return DeliveryReport(tuple(files))

    def deliver(
        self, records: Sequence[bytes], *, batch_id: str, arrival: float | None = None
    ) -> DeliveryReport:
        """The direct path: convert ``records`` and write them at once, one file a partition,
        without the buffer. The files' names derive from ``batch_id`` (and their prefixes'
        timestamps from ``arrival``, by default now): delivering the same records again with
        the same id and arrival replaces the same files, so a caller that replays a batch it
        is unsure of delivers it once. Counters count every delivery made, replays included."""
        if not isinstance(batch_id, str) or not batch_id:
            raise InvalidDeliveryArgument(f"batch_id must be non-empty text, got {batch_id!r}")
        if arrival is not None and (
            isinstance(arrival, bool) or not isinstance(arrival, int | float) or arrival < 0
        ):
            raise InvalidDeliveryArgument(
                f"arrival must be seconds since the epoch, got {arrival!r}"
            )
        if not isinstance(records, Sequence) or isinstance(records, bytes | str):
            raise DeliveryValidation("records must be a list of bytes")
        sizes = _check_records(records)
        when = self._clock.now() if arrival is None else float(arrival)
        parts = self._parts(_Chunk(b"\n".join(records), sizes, [0], [when]))
        files = self._write_files(
            [
                (
                    part.kind,
                    part.partition,
                    when,
                    _direct_id(batch_id, part),
                    part.records,
                    [part.piece()],
                )
                for part in parts.parts.values()
            ]
        )
        report = DeliveryReport(tuple(files))
        written = sum(file.bytes for file in files)
        self._buffer.count_direct(len(records), parts.failed, report.records, written, len(files))
        return report

    def _redo(self) -> list[DeliveredFile]:
        """Finish the round a deliverer died in, if one did: its puts convert as they did."""
        sealed = self._buffer.sealed()
        if sealed is None:
            return []
        puts = self._buffer.round_puts(sealed)
        return self._finish(sealed, self._parts(_chunk(puts)) if puts else _Parts())

    def _round(self, now: float, *, force: bool, last: int = 0) -> tuple[list[DeliveredFile], int]:
        """Convert a chunk of waiting puts if due (when they hold ``size_mib`` or the oldest
        has waited ``interval_s``: a partition can only be due once its records are
        converted), and deliver each partition then due. With ``force`` the puts are
        converted whatever the hints, and every partition is delivered once the round has
        converted ``last`` records (the rest of a flush). The files, and the number of
        records converted."""
        waiting = self._buffer.puts_waiting()
        puts: list[Put] = []
        if waiting.records and (force or self._due(waiting, now)):
            chunk = CONVERT_BYTES if force else min(self.size_mib * MiB, CONVERT_BYTES)
            puts = self._buffer.take_puts(chunk)
        parts = self._parts(_chunk(puts)) if puts else _Parts()
        converted = sum(put.records for put in puts)
        batches = self._batches(parts, now, force and converted >= last)
        if not batches:
            if puts:
                self._buffer.move(puts, _segments(list(parts.parts.values())), parts.failed)
            return [], converted
        sealed = Round(puts[0].id if puts else None, puts[-1].id if puts else None, batches)
        self._buffer.seal(sealed)
        return self._finish(sealed, parts), converted

    def _batches(self, parts: _Parts, now: float, force: bool) -> tuple[Batch, ...]:
        """A batch for each partition due: its waiting segments and its new part together."""
        waiting = {(found.kind, found.partition): found for found in self._buffer.partitions()}
        batches = []
        for key in dict.fromkeys([*waiting, *parts.parts]):
            together = _together(key, waiting.get(key), parts.parts.get(key))
            if force or self._due(together, now):
                batch_id = str(uuid.uuid4())
                batches.append(
                    Batch(batch_id, *key, together.last_segment, together.records, together.oldest)
                )
        return tuple(batches)

    def _due(self, waiting: Waiting, now: float) -> bool:
        """Firehose's buffering hints: whichever of size and interval comes first."""
        return waiting.raw_bytes >= self.size_mib * MiB or now - waiting.oldest >= self.interval_s

    def _finish(self, sealed: Round, parts: _Parts) -> list[DeliveredFile]:
        """Write a sealed round's files and commit it (moves 2 and 3 of ``delivery_buffer``)."""
        writes = []
        for batch in sealed.batches:
            pieces: list[pa.Table | bytes] = []
            if batch.last_segment:  # decoded by the writer, in its thread
                pieces += self._buffer.bodies(batch)
            part = parts.parts.get((batch.kind, batch.partition))
            if part is not None:
                pieces.append(part.piece())
            writes.append(
                (batch.kind, batch.partition, batch.oldest, batch.id, batch.records, pieces)
            )
        files = self._write_files(writes)
        delivered = {(batch.kind, batch.partition) for batch in sealed.batches}
        rest = _segments([part for key, part in parts.parts.items() if key not in delivered])
        self._buffer.commit(sealed, rest, parts.failed, sum(file.bytes for file in files))
        return files

    def _write_files(
        self, writes: Sequence[tuple[str, str, float, str, int, Sequence[pa.Table | bytes]]]
    ) -> list[DeliveredFile]:
        """Write files (``_write_file``'s arguments each), in order; several at once on as
        many threads as there are cores, up to ``WRITERS``: encoding Parquet, compressing
        and syncing release the GIL, so a round's files are written side by side."""
        writers = _writers() if len(writes) > 1 else None
        if writers is None:
            return [self._write_file(*write) for write in writes]
        return _all_done([writers.submit(self._write_file, *write) for write in writes])

    def _write_file(
        self,
        kind: str,
        partition: str,
        oldest: float,
        batch_id: str,
        records: int,
        pieces: Sequence[pa.Table | bytes],
    ) -> DeliveredFile:
        """One file of ``pieces``, in order: Parquet for data (a piece a table, or a waiting
        segment's body), JSON lines for the error output (a piece lines of it)."""
        if kind == DATA:
            schema = self.schema.arrow
            tables = [
                piece
                if isinstance(piece, pa.Table)
                else pa.Table.from_batches([_decode(piece, schema)])
                for piece in pieces
            ]
            data = parquet_bytes(pa.concat_tables(tables))
        else:
            data = b"".join(piece for piece in pieces if isinstance(piece, bytes))
        path = self._path(kind, partition, oldest, batch_id)
        write_atomically(path, data)
        return DeliveredFile(path, records, len(data), kind == ERRORS)

    def _path(self, kind: str, partition: str, oldest: float, batch_id: str) -> Path:
        """Where a batch's file goes: the rendered prefix, then Firehose's object name."""
        if kind == DATA:
            values = dict(zip((key.name for key in self.keys), json.loads(partition), strict=True))
            rendered = self.prefix.render(oldest, batch_id, values)
            extension = ".parquet"
        else:
            rendered = self.error_output_prefix.render(
                oldest, batch_id, error_output_type=partition
            )
            extension = ".jsonl"
        stamp = time.strftime("%Y-%m-%d-%H-%M-%S", time.gmtime(oldest))
        name = f"{rendered}{self.name}-{DELIVERY_STREAM_VERSION}-{stamp}-{batch_id}{extension}"
        return self.root.joinpath(*name.split("/"))

    # --- converting ------------------------------------------------------------------------

    def _parts(self, chunk: _Chunk) -> _Parts:
        """Records converted and partitioned: one part a partition, then one an error output
        type. Deterministic: the same records make the same parts, which a redone round needs."""
        conversion = self._reader.convert(chunk.data, chunk.sizes, one_a_line=chunk.one_a_line)
        split = partitioning.split(conversion.table, self.keys)
        table = conversion.table if self._select is None else conversion.table.select(self._select)
        rows = conversion.rows
        failures = conversion.failures + [
            Failure(row if rows is None else rows[row], MISSING_KEY, reason)
            for row, reason in split.missing
        ]
        if split.order is None:
            ordered, table_rows = table, range(table.num_rows)
        else:
            ordered, table_rows = table.take(split.order), split.order.to_pylist()
        records_of = table_rows if rows is None else [rows[row] for row in table_rows]
        if split.order is None and rows is None:
            ends = list(accumulate(chunk.sizes, initial=0))
        else:
            ends = list(accumulate((chunk.sizes[index] for index in records_of), initial=0))
        parts = {}
        for group in split.groups:
            partition = json.dumps(group.values)
            parts[DATA, partition] = _Part(
                DATA,
                partition,
                group.end - group.start,
                ends[group.end] - ends[group.start],
                chunk.arrival(records_of[group.start]),
                table=ordered.slice(group.start, group.end - group.start),
            )
        for part in _error_parts(chunk, failures):
            parts[ERRORS, part.partition] = part
        return _Parts(parts, len(failures))

    def metrics(self) -> DeliveryMetrics:
        counts, buffered = self._buffer.counts()
        age = None if buffered.oldest is None else max(0.0, self._clock.now() - buffered.oldest)
        return DeliveryMetrics(
            records_in=counts.records_in,
            records_delivered=counts.records_delivered,
            records_failed=counts.records_failed,
            bytes_written=counts.bytes_written,
            files_written=counts.files_written,
            records_buffered=buffered.records,
            bytes_buffered=buffered.raw_bytes,
            partitions_buffered=buffered.partitions,
            oldest_buffered_age_s=age,
        )

    def close(self) -> None:
        """Close this thread's connection to the buffer."""
        self._buffer.close()


def lake_root(destination: str | Path) -> Path:
    """The lake's directory, from a path or a ``file:`` URL (archlab's convention)."""
    if isinstance(destination, Path):
        return destination
    if not isinstance(destination, str) or not destination:
        raise InvalidDeliveryArgument(
            f"the destination must be a directory or a file: URL, got {destination!r}"
        )
    if "://" not in destination:
        return Path(destination)
    parts = urlsplit(destination)
    if parts.scheme != "file" or parts.netloc or parts.query or parts.fragment:
        raise InvalidDeliveryArgument(
            f"the destination {destination!r} must be a local lake: a directory,"
            " file:///relative/path or file:////absolute/path"
        )
    if parts.path in ("", "/"):
        raise InvalidDeliveryArgument(f"the destination {destination!r} names no directory")
    return Path(parts.path[1:])


def _check_prefixes(
    data: partitioning.Prefix, errors: partitioning.Prefix, keys: Sequence[partitioning.KeyQuery]
) -> None:
    defined = {key.name for key in keys}
    if data.key_names - defined:
        unknown = ", ".join(sorted(data.key_names - defined))
        raise InvalidDeliveryArgument(
            f"prefix {data.text!r} uses partition keys that are not defined: {unknown}"
        )
    if defined - data.key_names:
        unused = ", ".join(sorted(defined - data.key_names))
        raise InvalidDeliveryArgument(
            f"partition keys {unused} are not in the prefix {data.text!r}; each key must name a"
            " part of the path"
        )
    if data.top == errors.top:
        raise InvalidDeliveryArgument(
            f"the prefix and the error output prefix both start with {data.top!r}/; give the"
            " error output a directory of its own"
        )


def _check_batch(records: Sequence[bytes]) -> list[int]:
    """The records' sizes, once the batch is within PutRecordBatch's limits."""
    if not isinstance(records, Sequence) or isinstance(records, bytes | str):
        raise DeliveryValidation("records must be a list of bytes")
    if not 1 <= len(records) <= MAX_BATCH_RECORDS:
        raise DeliveryValidation(
            f"a batch holds 1 to {MAX_BATCH_RECORDS} records, got {len(records)}"
        )
    sizes = _check_records(records)
    total = sum(sizes)
    if total > MAX_BATCH_BYTES:
        raise InvalidDeliveryArgument(
            f"the batch holds {total:,} bytes; a call takes at most {MAX_BATCH_BYTES:,} (4 MiB)"
        )
    return sizes


def _check_records(records: Sequence[bytes]) -> list[int]:
    if set(map(type, records)) - {bytes}:
        index, record = next((i, r) for i, r in enumerate(records) if type(r) is not bytes)
        raise DeliveryValidation(f"record {index} must be bytes, got {type(record).__name__}")
    sizes = list(map(len, records))
    if sizes and max(sizes) > MAX_RECORD_BYTES:
        index = next(i for i, size in enumerate(sizes) if size > MAX_RECORD_BYTES)
        raise DeliveryValidation(
            f"record {index} is {sizes[index]:,} bytes; a record is at most"
            f" {MAX_RECORD_BYTES:,} (1,000 KiB)"
        )
    return sizes


def _together(key: tuple[str, str], segments: Waiting | None, part: _Part | None) -> Waiting:
    """A partition's waiting segments and its new part, counted as one."""
    records = raw = 0
    arrivals = []
    if segments is not None:
        records, raw = segments.records, segments.raw_bytes
        arrivals.append(segments.oldest)
    if part is not None:
        records, raw = records + part.records, raw + part.raw_bytes
        arrivals.append(part.arrival)
    last_segment = segments.last_segment if segments is not None else 0
    return Waiting(*key, records, raw, min(arrivals), last_segment)


def _chunk(puts: Sequence[Put]) -> _Chunk:
    sizes = array("I")
    starts = []
    bodies = []
    for put in puts:
        starts.append(len(sizes))
        sizes.frombytes(put.sizes)
        length = put.raw_bytes + put.records - 1
        bodies.append(PUT_CODEC.decompress(put.body, decompressed_size=length, asbytes=True))
    arrivals = [put.arrival for put in puts]
    one_a_line = all(put.one_a_line for put in puts)
    return _Chunk(b"\n".join(bodies), sizes, starts, arrivals, one_a_line)


def _encode(table: pa.Table) -> bytes:
    """A partition's rows as one Arrow record batch message (the schema is the stream's),
    compressed as puts are: ``SEGMENT_LZ4``, the message's size, then the message. A
    segment is written to the buffer, synced and read back; the converted columns shrink
    about fivefold, which takes less than writing them whole (measured: commits of a busy
    stream's rounds went from 20 to 8 ms)."""
    (batch,) = table.combine_chunks().to_batches()
    message = batch.serialize()
    size = SEGMENT_SIZE.pack(message.size)
    compressed: bytes = PUT_CODEC.compress(message, asbytes=True)
    return SEGMENT_LZ4 + size + compressed


def _decode(body: bytes, schema: pa.Schema) -> pa.RecordBatch:
    """A segment's rows; a segment written uncompressed (before ``SEGMENT_LZ4``) is read as
    it is."""
    if body[: len(SEGMENT_LZ4)] == SEGMENT_LZ4:
        start = len(SEGMENT_LZ4) + SEGMENT_SIZE.size
        (size,) = SEGMENT_SIZE.unpack_from(body, len(SEGMENT_LZ4))
        message = PUT_CODEC.decompress(memoryview(body)[start:], decompressed_size=size)
        return pa.ipc.read_record_batch(message, schema)
    return pa.ipc.read_record_batch(pa.py_buffer(body), schema)


def _error_parts(chunk: _Chunk, failures: Sequence[Failure]) -> list[_Part]:
    """The error output's documents (Firehose's fields), one part per error output type."""
    if not failures:
        return []
    records = split_records(chunk.data, chunk.sizes)
    found: dict[str, list[tuple[float, bytes, int]]] = {}
    for failure in sorted(failures, key=lambda failure: failure.index):
        record = records[failure.index]
        arrival = chunk.arrival(failure.index)
        document: dict[str, Any] = {
            "attemptsMade": 1,
            "arrivalTimestamp": int(arrival * 1000),
            "errorCode": failure.code,
            "errorMessage": failure.message,
            "attemptEndingTimestamp": int(arrival * 1000),
            "rawData": base64.b64encode(record).decode(),
        }
        line = json.dumps(document).encode() + b"\n"
        found.setdefault(ERROR_OUTPUT_TYPES[failure.code], []).append((arrival, line, len(record)))
    return [
        _Part(
            ERRORS,
            kind,
            len(lines),
            sum(size for _, _, size in lines),
            lines[0][0],
            lines=b"".join(line for _, line, _ in lines),
        )
        for kind, lines in found.items()
    ]


def _segments(parts: Sequence[_Part]) -> list[Segment]:
    """The parts as segments, encoded side by side (serializing and compressing release the
    GIL)."""
    writers = _writers() if len(parts) > 1 else None
    if writers is None:
        return [part.segment() for part in parts]
    return _all_done([writers.submit(part.segment) for part in parts])


def _all_done(futures: Sequence[Future[T]]) -> list[T]:
    """The futures' results, in order, once every one is done: when one fails, its error is
    raised only after the others have finished, so that no write of a round goes on after
    its deliverer let the delivery lock go (a redo would write the same temporary at once)."""
    wait(futures)
    return [future.result() for future in futures]


_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def _writers() -> ThreadPoolExecutor | None:
    """This process's file writers (None on one core). Made on first use in each process: a
    process forked from one whose pool had started would inherit a pool without threads."""
    global _pool
    cores = min(WRITERS, os.cpu_count() or 1)
    if cores < 2:
        return None
    with _pool_lock:
        if _pool is None or _pool[0] != os.getpid():
            _pool = (os.getpid(), ThreadPoolExecutor(cores, thread_name_prefix="delivery-writer"))
        return _pool[1]


def _direct_id(batch_id: str, part: _Part) -> str:
    """The id of one partition's file of a caller's batch: the same for the same batch."""
    return str(uuid.uuid5(DIRECT_BATCHES, f"{batch_id}\x00{part.kind}\x00{part.partition}"))


def _chunks(items: Sequence[int], size: int) -> list[Sequence[int]]:
    return [items[start : start + size] for start in range(0, len(items), size)]
