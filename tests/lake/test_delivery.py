"""The delivery stream: Amazon Data Firehose semantics, with a manual clock.

Configuration and puts are checked as Firehose checks them (and a refused one changes
nothing); buffering hints apply per partition, whichever of size and interval comes first;
records become Parquet (zstd) under Hive-style prefixes; bad records go to the error output
with the reason and their raw data; a round that dies before its commit is done again into
the same files, so every record reaches the lake once.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from archlab.blocks.errors import (
    DeliveryStreamInUse,
    DeliveryValidation,
    InvalidDeliveryArgument,
)
from archlab.clock import ManualClock
from archlab.lake import delivery_buffer, parquet_writer
from archlab.lake.delivery import DeliveryStream, lake_root

START = 1_796_218_740.0  # 2026-12-02T13:39:00Z
SCHEMA = {"id": "bigint", "dt": "string", "page": "string", "value": "double"}
PREFIX = "events/dt=!{partitionKeyFromQuery:dt}/"
KEYS = {"dt": ".dt"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def stream(root: Path, clock: ManualClock, **options: Any) -> DeliveryStream:
    settings: dict[str, Any] = {"prefix": PREFIX, "schema": SCHEMA, "partition_keys": KEYS}
    settings.update(options)
    return DeliveryStream("events", root, clock=clock, **settings)


def record(i: int, dt: str = "2026-12-02", **fields: Any) -> bytes:
    return json.dumps({"id": i, "dt": dt, "page": f"/p/{i}", "value": i / 2, **fields}).encode()


def parquet_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.parquet"))


def ids(root: Path) -> list[int]:
    """Every id in the lake's Parquet files, in file and row order."""
    return [i for path in parquet_files(root) for i in pq.read_table(path)["id"].to_pylist()]


def error_documents(root: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in sorted((root / "errors").rglob("*.jsonl"))
        for line in path.read_text().splitlines()
    ]


# --- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": "no spaces"}, "delivery stream name"),
        ({"size_mib": 0}, "size_mib must be an integer from 1 to 128"),
        ({"size_mib": 129}, "size_mib"),
        ({"size_mib": True}, "size_mib"),
        ({"interval_s": 901}, "interval_s must be an integer from 0 to 900"),
        ({"prefix": "events/!{unknown:x}/"}, "!{unknown:x} is not an expression"),
        ({"prefix": "events/!{timestamp:yyyy-QQ}/"}, "uses 'QQ'"),
        ({"prefix": "events/!{timestamp:yyyy'T'}/"}, "quotes text"),
        ({"prefix": "events/!{firehose:error-output-type}/"}, "belongs in the error output"),
        ({"prefix": "!{partitionKeyFromQuery:dt}/"}, "must start with a directory name"),
        ({"prefix": "events/../dt=!{partitionKeyFromQuery:dt}/"}, "'..' directory"),
        ({"prefix": "events/!{timestamp:..}/!{partitionKeyFromQuery:dt}/"}, "'..' directory"),
        ({"prefix": "events//dt=!{partitionKeyFromQuery:dt}/"}, "empty, '.' or '..'"),
        ({"prefix": "events/!{partitionKeyFromQuery:dt}/!{partitionKeyFromQuery:x}/"}, "x"),
        ({"prefix": "events/"}, "partition keys dt are not in the prefix"),
        ({"error_output_prefix": "errors/!{partitionKeyFromQuery:dt}/"}, "cannot use partition"),
        ({"error_output_prefix": "events/errors/"}, "both start with 'events'/"),
        ({"partition_keys": {"dt": ".dt[0]"}}, "the query '.dt[0]' is not supported"),
        ({"partition_keys": {"dt": "dt"}}, "is not supported"),
        ({"partition_keys": {"d t": ".dt"}}, "partition key name 'd t'"),
        ({"partition_keys": {"dt": ".value.x"}}, "no field 'x'"),
        ({"schema": {}}, "at least one column"),
        ({"schema": {"id": "bigint2"}}, "is not a Glue type"),
        ({"schema": {"m": "map<string,int>", "dt": "string"}}, "cannot be read from JSON"),
        ({"schema": {"id": "bigint", "ID": "int", "dt": "string"}}, "named twice"),
        ({"schema": pa.schema([("id", pa.uint32()), ("dt", pa.string())])}, "uint32"),
        ({"schema": ["id"]}, "must map column names"),
    ],
)
def test_a_bad_configuration_is_refused_and_creates_nothing(
    tmp_path: Path, clock: ManualClock, options: dict[str, Any], message: str
) -> None:
    name = options.pop("name", "events")
    settings: dict[str, Any] = {"prefix": PREFIX, "schema": SCHEMA, "partition_keys": KEYS}
    settings.update(options)
    root = tmp_path / "lake"
    with pytest.raises(InvalidDeliveryArgument) as raised:
        DeliveryStream(name, root, clock=clock, **settings)
    assert message in raised.value.message
    assert raised.value.code == "InvalidArgumentException"
    assert not root.exists()


def test_a_key_must_end_at_a_single_value(tmp_path: Path, clock: ManualClock) -> None:
    with pytest.raises(InvalidDeliveryArgument, match="a key's value must be a single value"):
        stream(
            tmp_path,
            clock,
            schema={**SCHEMA, "tags": "array<string>"},
            partition_keys={"dt": ".tags"},
        )


def test_destinations_are_local_paths_or_file_urls(tmp_path: Path) -> None:
    assert lake_root("file:///lake") == Path("lake")
    assert lake_root(f"file:///{tmp_path}") == tmp_path
    assert lake_root("lake/clicks") == Path("lake/clicks")
    for bad in ("s3://bucket/lake", "file://host/lake", "file:///", ""):
        with pytest.raises(InvalidDeliveryArgument):
            lake_root(bad)


def test_a_pyarrow_schema_is_an_output_schema(tmp_path: Path, clock: ManualClock) -> None:
    schema = pa.schema(
        [("id", pa.int64()), ("dt", pa.string()), ("at", pa.timestamp("ms")), ("n", pa.int16())]
    )
    events = stream(tmp_path, clock, schema=schema)
    events.put_record(b'{"id": 1, "dt": "2026-12-02", "at": 1796223540000, "n": 7}')
    events.flush()
    (path,) = parquet_files(tmp_path)
    assert pq.read_schema(path).remove_metadata() == schema


# --- puts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("records", "error", "message"),
    [
        ([], DeliveryValidation, "1 to 500 records, got 0"),
        ([b"{}"] * 501, DeliveryValidation, "1 to 500 records, got 501"),
        ([b"{}", "text"], DeliveryValidation, "record 1 must be bytes, got str"),
        (b"{}", DeliveryValidation, "a list of bytes"),
        ([b"{}", b"x" * 1_024_001], DeliveryValidation, "record 1 is 1,024,001 bytes"),
        ([b"x" * 1_000_000] * 5, InvalidDeliveryArgument, "at most 4,194,304 (4 MiB)"),
    ],
    ids=["empty", "501-records", "not-bytes", "not-a-list", "record-too-large", "call-too-large"],
)
def test_a_put_over_firehose_limits_is_refused_whole(
    tmp_path: Path, clock: ManualClock, records: Any, error: type[Exception], message: str
) -> None:
    events = stream(tmp_path, clock)
    events.put_record(record(0))
    with pytest.raises(error, match=re.escape(message)):
        events.put_record_batch(records)
    assert events.metrics().records_in == 1


def test_a_put_answers_a_record_id_for_each_record(tmp_path: Path, clock: ManualClock) -> None:
    events = stream(tmp_path, clock)
    result = events.put_record_batch([record(i) for i in range(500)])
    assert result.failed_put_count == 0
    assert len(set(result.record_ids)) == 500
    assert result.request_responses[0] == {"RecordId": result.record_ids[0]}
    single = events.put_record(record(500)).record_id
    assert single not in result.record_ids
    assert events.metrics().records_in == 501


def test_a_put_is_durable_for_any_process_that_opens_the_stream(
    tmp_path: Path, clock: ManualClock
) -> None:
    stream(tmp_path, clock).put_record_batch([record(i) for i in range(3)])
    reopened = stream(tmp_path, clock)
    assert reopened.metrics().records_buffered == 3
    reopened.flush()
    assert ids(tmp_path) == [0, 1, 2]


# --- buffering hints -------------------------------------------------------------------------


def test_a_partition_waits_for_the_interval(tmp_path: Path, clock: ManualClock) -> None:
    events = stream(tmp_path, clock, interval_s=60)
    events.put_record_batch([record(i) for i in range(10)])
    clock.advance(59)
    assert events.deliver_due().files == ()
    assert events.metrics().oldest_buffered_age_s == 59
    clock.advance(1)
    report = events.deliver_due()
    assert report.records == 10
    assert ids(tmp_path) == list(range(10))
    assert events.metrics().records_buffered == 0


def test_each_partition_is_delivered_when_it_alone_reaches_the_size(
    tmp_path: Path, clock: ManualClock
) -> None:
    events = stream(tmp_path, clock, size_mib=1, interval_s=900)
    padding = "x" * 5000
    big = [record(i, "2026-12-01", page=padding) for i in range(220)]  # > 1 MiB
    events.put_record_batch(big[:110])
    events.put_record_batch([*big[110:], record(1000, "2026-12-02")])
    report = events.deliver_due()
    assert [file.records for file in report.files] == [220]
    assert "dt=2026-12-01" in str(report.files[0].path)
    assert events.metrics().records_buffered == 1  # the other partition waits for its hints
    clock.advance(900)
    assert events.deliver_due().records == 1


def test_a_zero_interval_delivers_at_every_call(tmp_path: Path, clock: ManualClock) -> None:
    events = stream(tmp_path, clock, interval_s=0)
    events.put_record(record(1))
    assert events.deliver_due().records == 1
    events.put_record(record(2))
    assert events.deliver_due().records == 1
    assert len(parquet_files(tmp_path)) == 2


def test_flush_delivers_everything_whatever_the_hints(tmp_path: Path, clock: ManualClock) -> None:
    events = stream(tmp_path, clock)
    events.put_record_batch([record(i, f"2026-12-0{i % 3 + 1}") for i in range(30)])
    assert events.deliver_due().files == ()
    report = events.flush()
    assert report.records == 30
    assert len(parquet_files(tmp_path)) == 3
    assert sorted(ids(tmp_path)) == list(range(30))
    assert events.flush().files == ()


def test_records_wait_as_segments_until_their_partition_is_due(
    tmp_path: Path, clock: ManualClock
) -> None:
    events = stream(tmp_path, clock, size_mib=1, interval_s=120)
    events.put_record_batch([record(i) for i in range(5)])
    clock.advance(120)
    events.put_record_batch([record(i, "2026-12-03") for i in range(5, 8)])
    report = events.deliver_due()  # converts both puts: only the first partition is due
    assert [file.records for file in report.files] == [5]
    assert events.metrics().partitions_buffered == 1
    clock.advance(120)
    assert events.deliver_due().records == 3
    assert sorted(ids(tmp_path)) == list(range(8))


# --- the lake's files ----------------------------------------------------------------------------


def test_records_become_typed_zstd_parquet_in_hive_partitions(
    tmp_path: Path, clock: ManualClock
) -> None:
    schema = {
        "id": "bigint",
        "dt": "string",
        "at": "timestamp",
        "day": "date",
        "price": "decimal(10,2)",
        "ok": "boolean",
        "n": "tinyint",
        "device": "struct<kind:string,width:int>",
        "tags": "array<string>",
    }
    events = stream(tmp_path, clock, schema=schema)
    events.put_record_batch(
        [
            json.dumps(
                {
                    "id": 1,
                    "dt": "2026-12-02",
                    "at": 1796218740123,
                    "day": "2026-12-02",
                    "price": 12.5,
                    "ok": True,
                    "n": 7,
                    "device": {"kind": "phone", "width": 390, "extra": 1},
                    "tags": ["a", "b"],
                    "not_in_schema": "ignored",
                }
            ).encode(),
            b'{"id": 2, "dt": "2026-12-02"}',
        ]
    )
    (file,) = events.flush().files
    assert file.path.parent == tmp_path / "events" / "dt=2026-12-02"
    assert file.path.name.startswith("events-1-2026-12-02-13-39-00-")
    assert file.path.suffix == ".parquet"
    metadata = pq.ParquetFile(file.path).metadata
    assert metadata.row_group(0).column(0).compression == "ZSTD"
    table = pq.read_table(file.path)
    assert str(table.schema.field("at").type) == "timestamp[ms]"
    assert str(table.schema.field("day").type) == "date32[day]"
    assert str(table.schema.field("price").type) == "decimal128(10, 2)"
    rows = table.to_pylist()
    assert rows[0]["device"] == {"kind": "phone", "width": 390}
    assert rows[0]["tags"] == ["a", "b"]
    assert str(rows[0]["price"]) == "12.50"
    assert rows[0]["at"].isoformat() == "2026-12-02T13:39:00.123000"
    assert rows[1] == {name: None for name in schema} | {"id": 2, "dt": "2026-12-02"}


def test_the_timestamp_is_the_oldest_records_arrival(tmp_path: Path, clock: ManualClock) -> None:
    clock.advance(20 * 60)  # 13:59
    events = stream(
        tmp_path,
        clock,
        prefix="events/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/",
        partition_keys=None,
    )
    events.put_record(record(1))
    clock.advance(120)  # 14:01
    events.put_record(record(2))
    (file,) = events.flush().files
    assert file.path.parent == tmp_path / "events" / "dt=2026-12-02" / "hour=13"


def test_key_values_are_escaped_as_hive_escapes_them(tmp_path: Path, clock: ManualClock) -> None:
    events = stream(tmp_path, clock)
    events.put_record_batch([record(1, "a/b"), record(2, ".."), record(3, "x=y")])
    events.flush()
    directories = sorted(path.parent.name for path in parquet_files(tmp_path))
    assert directories == ["dt=%2E%2E", "dt=a%2Fb", "dt=x%3Dy"]


def test_keys_can_read_nested_fields_outside_the_schema(tmp_path: Path, clock: ManualClock) -> None:
    events = stream(
        tmp_path,
        clock,
        prefix="events/kind=!{partitionKeyFromQuery:kind}/n=!{partitionKeyFromQuery:n}/",
        partition_keys={"kind": ".device.kind", "n": ".id"},
    )
    events.put_record(record(7, device={"kind": "phone"}))
    (file,) = events.flush().files
    assert file.path.parent == tmp_path / "events" / "kind=phone" / "n=7"
    assert pq.read_table(file.path).column_names == list(SCHEMA)


def test_duckdb_reads_the_lake_with_its_partitions(tmp_path: Path, clock: ManualClock) -> None:
    events = stream(tmp_path, clock)
    events.put_record_batch([record(i, f"2026-12-0{i % 2 + 1}") for i in range(100)])
    events.flush()
    rows = duckdb.sql(
        f"SELECT dt, count(*), sum(id) FROM read_parquet('{tmp_path}/events/**/*.parquet',"
        " hive_partitioning = true, hive_types_autocast = false) GROUP BY dt ORDER BY dt"
    ).fetchall()
    assert rows == [("2026-12-01", 50, 2450), ("2026-12-02", 50, 2500)]


def test_many_partitions_in_one_put_keep_their_rows_in_order(
    tmp_path: Path, clock: ManualClock
) -> None:
    events = stream(tmp_path, clock)
    days = [f"2026-11-{day:02d}" for day in range(1, 31)]
    events.put_record_batch([record(i, days[i * 7 % 30]) for i in range(500)])
    report = events.flush()
    assert len(report.files) == 30
    for file in report.files:
        found = pq.read_table(file.path)["id"].to_pylist()
        day = file.path.parent.name.removeprefix("dt=")
        assert found == [i for i in range(500) if days[i * 7 % 30] == day]


# --- the error output ------------------------------------------------------------------------


def test_bad_records_go_to_the_error_output_and_the_rest_is_delivered(
    tmp_path: Path, clock: ManualClock
) -> None:
    events = stream(tmp_path, clock)
    bad = {
        b"not json": "the record is not JSON",
        b"[1, 2]": "the record is a JSON array, not an object",
        b'{"id": "one", "dt": "2026-12-02"}': ".id: expected a JSON number, found a string",
        b'{"id": 1.5, "dt": "2026-12-02"}': "couldn't parse:1.5",
        b'{"id": 9, "dt": "2026-12-02", "page": "\xff"}': "not UTF-8",
        b"   ": "the record is empty",
        b'{"id": 3, "dt": "x"} {"id": 4, "dt": "x"}': "more than one JSON value",
        b'{"id": 5, "dt": "2026-12-02", "page": "a\nb"}': "the record is not JSON",
    }
    missing = {
        b'{"id": 6}': "the partition key 'dt' (.dt) is missing",
        b'{"id": 7, "dt": ""}': "empty",
    }
    good = [record(i) for i in range(10)]
    pretty = json.dumps(json.loads(record(10)), indent=2).encode()
    records = good[:5] + list(bad) + [pretty] + list(missing) + good[5:]
    events.put_record_batch(records)
    report = events.flush()
    assert report.records == 11 and report.failed == len(bad) + len(missing)
    assert ids(tmp_path) == [0, 1, 2, 3, 4, 10, 5, 6, 7, 8, 9]
    documents = error_documents(tmp_path)
    by_data = {base64.b64decode(document["rawData"]): document for document in documents}
    assert set(by_data) == set(bad) | set(missing)
    for data, reason in bad.items():
        assert by_data[data]["errorCode"] == parquet_writer.MALFORMED
        assert reason in by_data[data]["errorMessage"]
    for data, reason in missing.items():
        assert by_data[data]["errorCode"] == parquet_writer.MISSING_KEY
        assert reason in by_data[data]["errorMessage"]
    assert {document["arrivalTimestamp"] for document in documents} == {int(START * 1000)}
    kinds = sorted(path.parent.parent.parent.parent.name for path in tmp_path.rglob("*.jsonl"))
    assert kinds == ["format-conversion-failed", "partitioning-failed"]
    metrics = events.metrics()
    assert (metrics.records_in, metrics.records_delivered) == (len(records), 11)
    assert metrics.records_failed == len(bad) + len(missing)


def test_a_key_outside_the_schema_must_be_text(tmp_path: Path, clock: ManualClock) -> None:
    events = stream(
        tmp_path,
        clock,
        prefix="events/kind=!{partitionKeyFromQuery:kind}/",
        partition_keys={"kind": ".device.kind"},
    )
    events.put_record_batch([record(1, device={"kind": 3}), record(2, device={"kind": "tv"})])
    events.flush()
    assert ids(tmp_path) == [2]
    (document,) = error_documents(tmp_path)
    assert document["errorCode"] == parquet_writer.MISSING_KEY
    assert "a partition key's field" in document["errorMessage"]


def test_puts_of_empty_records_are_all_accounted_for(tmp_path: Path, clock: ManualClock) -> None:
    events = stream(tmp_path, clock)
    for _ in range(3):
        events.put_record(b"")
    events.put_record(record(1))
    report = events.flush()
    assert (report.records, report.failed) == (1, 3)
    assert events.metrics().records_buffered == 0


def test_a_batch_of_only_bad_records_delivers_only_errors(
    tmp_path: Path, clock: ManualClock
) -> None:
    events = stream(tmp_path, clock)
    events.put_record_batch([b"no", b"nope"])
    report = events.flush()
    assert (report.records, report.failed) == (0, 2)
    assert parquet_files(tmp_path) == []


# --- exactly once ----------------------------------------------------------------------------


class Died(Exception):
    """A deliverer's death, in the middle of a round."""


@pytest.fixture
def die_at_next_commit(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Make the next commit of a round die: its files are written, the buffer unchanged."""

    def die(*_: object) -> None:
        monkeypatch.undo()
        raise Died

    return lambda: monkeypatch.setattr(delivery_buffer.DeliveryBuffer, "commit", die)


def test_a_round_that_died_before_its_commit_is_written_again_into_the_same_files(
    tmp_path: Path, clock: ManualClock, die_at_next_commit: Callable[[], None]
) -> None:
    events = stream(tmp_path, clock)
    events.put_record_batch([record(i, f"2026-12-0{i % 2 + 1}") for i in range(20)])
    die_at_next_commit()
    with pytest.raises(Died):
        events.flush()
    first = {path: path.read_bytes() for path in parquet_files(tmp_path)}
    assert len(first) == 2
    events.put_record_batch([record(i) for i in range(20, 25)])
    restarted = stream(tmp_path, clock)
    report = restarted.flush()
    assert {file.path: file.path.read_bytes() for file in report.files[:2]} == first
    assert sorted(ids(tmp_path)) == list(range(25))
    metrics = restarted.metrics()
    assert (metrics.records_delivered, metrics.files_written, metrics.records_buffered) == (
        25,
        3,
        0,
    )
    assert metrics.bytes_written == sum(path.stat().st_size for path in parquet_files(tmp_path))


def test_a_round_that_died_with_waiting_segments_keeps_each_record_once(
    tmp_path: Path, clock: ManualClock, die_at_next_commit: Callable[[], None]
) -> None:
    events = stream(tmp_path, clock, interval_s=60)
    events.put_record_batch([record(i, "2026-12-01") for i in range(5)])
    clock.advance(60)
    events.put_record_batch([record(i, "2026-12-02") for i in range(5, 9)])
    events.deliver_due()  # 2026-12-01 is due; 2026-12-02 is converted too, and waits
    events.put_record_batch([record(i, "2026-12-02") for i in range(9, 12)])
    die_at_next_commit()
    with pytest.raises(Died):
        events.flush()  # the waiting segment and the new put, in one file
    (file,) = stream(tmp_path, clock).deliver_due().files
    assert pq.read_table(file.path)["id"].to_pylist() == list(range(5, 12))
    assert sorted(ids(tmp_path)) == list(range(12))


def test_a_round_of_waiting_segments_alone_is_done_again(
    tmp_path: Path, clock: ManualClock, die_at_next_commit: Callable[[], None]
) -> None:
    events = stream(tmp_path, clock, interval_s=60)
    events.put_record_batch([record(1), record(2, "2026-12-03")])
    clock.advance(60)
    events.put_record(record(3, "2026-12-04"))
    assert events.deliver_due().records == 2  # both puts converted; the last one waits
    clock.advance(60)
    die_at_next_commit()
    with pytest.raises(Died):
        events.deliver_due()  # a round of the waiting segment, and no puts
    (file,) = stream(tmp_path, clock, interval_s=60).deliver_due().files
    assert "dt=2026-12-04" in str(file.path)
    assert sorted(ids(tmp_path)) == [1, 2, 3]


def test_a_round_that_died_before_writing_is_done_again(
    tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = stream(tmp_path, clock)
    events.put_record_batch([record(i) for i in range(10)] + [b"bad"])

    def die(*_: object) -> None:
        raise Died

    # Every write of the round dies (its files are written side by side on two threads, so
    # undoing the patch inside the first write would let the other one land).
    monkeypatch.setattr("archlab.lake.delivery.write_atomically", die)
    with pytest.raises(Died):
        events.flush()
    monkeypatch.undo()
    assert list(tmp_path.rglob("*.parquet")) == []
    report = stream(tmp_path, clock).flush()
    assert (report.records, report.failed) == (10, 1)
    assert ids(tmp_path) == list(range(10))
    assert len(error_documents(tmp_path)) == 1


def test_a_written_file_leaves_no_temporary_behind(tmp_path: Path, clock: ManualClock) -> None:
    events = stream(tmp_path, clock)
    events.put_record(record(1))
    events.flush()
    names = [path.name for path in tmp_path.rglob("*") if path.is_file()]
    assert not [name for name in names if name.startswith(parquet_writer.TEMPORARY)]


# --- the direct path -------------------------------------------------------------------------


def test_the_direct_path_writes_a_batch_at_once(tmp_path: Path, clock: ManualClock) -> None:
    events = stream(tmp_path, clock)
    report = events.deliver(
        [record(i, f"2026-12-0{i % 2 + 1}") for i in range(10)] + [b"?"], batch_id="s1-0"
    )
    assert (report.records, report.failed, len(report.files)) == (10, 1, 3)
    assert sorted(ids(tmp_path)) == list(range(10))
    assert events.metrics().records_buffered == 0
    assert events.metrics().records_delivered == 10


def test_the_direct_path_replays_a_batch_into_the_same_files(
    tmp_path: Path, clock: ManualClock
) -> None:
    events = stream(tmp_path, clock)
    batch = [record(i) for i in range(10)]
    first = events.deliver(batch, batch_id="shard-1:42", arrival=START)
    clock.advance(3600)
    again = events.deliver(batch, batch_id="shard-1:42", arrival=START)
    assert [file.path for file in again.files] == [file.path for file in first.files]
    assert ids(tmp_path) == list(range(10))
    events.deliver(batch, batch_id="shard-1:52", arrival=START)
    assert len(parquet_files(tmp_path)) == 2


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"batch_id": ""}, "batch_id must be non-empty text"),
        ({"batch_id": "b", "arrival": True}, "arrival must be seconds"),
        ({"batch_id": "b", "arrival": "now"}, "arrival must be seconds"),
    ],
)
def test_the_direct_path_checks_its_arguments(
    tmp_path: Path, clock: ManualClock, arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidDeliveryArgument, match=message):
        stream(tmp_path, clock).deliver([record(1)], **arguments)
    assert parquet_files(tmp_path) == []


# --- the stream's configuration over time --------------------------------------------------------


def test_another_configuration_waits_until_the_buffer_is_empty(
    tmp_path: Path, clock: ManualClock
) -> None:
    events = stream(tmp_path, clock)
    events.put_record(record(1))
    with pytest.raises(DeliveryStreamInUse, match="another schema"):
        stream(tmp_path, clock, schema={**SCHEMA, "extra": "string"})
    events.flush()
    changed = stream(tmp_path, clock, schema={**SCHEMA, "extra": "string"})
    changed.put_record(record(2, extra="e"))
    changed.flush()
    assert sorted(ids(tmp_path)) == [1, 2]


def test_hints_may_change_at_any_time(tmp_path: Path, clock: ManualClock) -> None:
    stream(tmp_path, clock, interval_s=900).put_record(record(1))
    clock.advance(60)
    assert stream(tmp_path, clock, interval_s=60).deliver_due().records == 1


def test_metrics_count_what_came_in_and_went_out(tmp_path: Path, clock: ManualClock) -> None:
    events = stream(tmp_path, clock)
    empty = events.metrics()
    assert (empty.records_in, empty.records_buffered, empty.oldest_buffered_age_s) == (0, 0, None)
    events.put_record_batch([record(1), record(2, "2026-12-03"), b"bad"])
    clock.advance(5)
    waiting = events.metrics()
    assert (waiting.records_buffered, waiting.oldest_buffered_age_s) == (3, 5)
    assert waiting.bytes_buffered == len(record(1)) + len(record(2, "2026-12-03")) + 3
    events.flush()
    done = events.metrics()
    assert (done.records_in, done.records_delivered, done.records_failed) == (3, 2, 1)
    on_disk = [path for path in tmp_path.rglob("*") if path.suffix in (".parquet", ".jsonl")]
    assert done.files_written == len(on_disk) == 3
    assert done.bytes_written == sum(os.path.getsize(path) for path in on_disk)
