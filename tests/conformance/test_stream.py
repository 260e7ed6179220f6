"""Stream conformance: Kinesis Data Streams semantics, written against the block API only.

Every engine runs this suite: ``engine_url`` is parametrized by engine, time comes from a
ManualClock handed to the engine, and the test with several processes hands the same URL to
each of them. Nothing here knows how an engine stores records, except the one test of the
SQLite engine's trimming, which says so; an engine is done when the rest passes.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from archlab.blocks.errors import (
    CheckpointMovedBackwards,
    ExpiredIterator,
    InvalidEngineUrl,
    InvalidStreamArgument,
    StreamError,
    StreamInUse,
    StreamLimitExceeded,
    StreamNotFound,
    StreamValidation,
)
from archlab.blocks.stream import Record, Stream, list_streams
from archlab.clock import ManualClock
from archlab.engines.streams import StreamEngine, connect_streams

ENGINES = ["sqlite"]
MiB = 1024 * 1024
HOUR = 3600.0
SEQUENCE_NUMBER = re.compile(r"0|[1-9][0-9]{0,128}")


@pytest.fixture(params=ENGINES)
def engine_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    urls = {"sqlite": f"sqlite:///{tmp_path}/streams.db"}
    return urls[request.param]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def engine(engine_url: str, clock: ManualClock) -> Iterator[StreamEngine]:
    engine = connect_streams(engine_url, clock=clock)
    yield engine
    engine.close()


@pytest.fixture
def clicks(engine: StreamEngine) -> Stream:
    """A stream of four shards."""
    return Stream.create(engine, "clicks", shard_count=4)


@pytest.fixture
def single(engine: StreamEngine) -> Stream:
    """A stream of one shard, where every record goes."""
    return Stream.create(engine, "single")


def md5_hash_key(partition_key: str) -> int:
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest(), "big")


def shard_of(stream: Stream, hash_key: int) -> str:
    """The shard whose hash key range (as described) holds ``hash_key``."""
    (shard,) = [
        shard.shard_id
        for shard in stream.describe().shards
        if int(shard.starting_hash_key) <= hash_key <= int(shard.ending_hash_key)
    ]
    return shard


def shard_ids(stream: Stream) -> list[str]:
    return [shard.shard_id for shard in stream.describe().shards]


def drain(stream: Stream, iterator: str, limit: int | None = None) -> list[Record]:
    """Every record from ``iterator`` to the tip of its shard."""
    records: list[Record] = []
    while True:
        page = stream.get_records(iterator, limit)
        records.extend(page.records)
        iterator = page.next_shard_iterator
        if page.millis_behind_latest == 0:
            return records


def read(
    stream: Stream, shard_id: str, iterator_type: Any = "TRIM_HORIZON", **start: Any
) -> list[bytes]:
    """The data of the shard's records from the position named, in order."""
    iterator = stream.get_shard_iterator(shard_id, iterator_type, **start)
    return [record.data for record in drain(stream, iterator)]


def everything(stream: Stream) -> list[bytes]:
    """The data of every record within retention, shard after shard."""
    return [data for shard_id in shard_ids(stream) for data in read(stream, shard_id)]


def put_many(stream: Stream, count: int, key: str = "k", prefix: str = "r") -> list[str]:
    """Put ``count`` records of one partition key, 500 a call; their sequence numbers."""
    numbers: list[str] = []
    for start in range(0, count, 500):
        entries = [
            {"Data": f"{prefix}{i}".encode(), "PartitionKey": key}
            for i in range(start, min(count, start + 500))
        ]
        numbers.extend(result.sequence_number for result in stream.put_records(entries).records)
    return numbers


# --- streams ------------------------------------------------------------------------------------


def test_create_describe_list_and_delete(engine: StreamEngine, clock: ManualClock) -> None:
    Stream.create(engine, "b", shard_count=3)
    alpha = Stream.create(engine, "a")
    assert list_streams(engine) == ["a", "b"]
    description = Stream(engine, "b").describe()
    assert description.name == "b"
    assert description.status == "ACTIVE"
    assert description.retention_period_hours == 24
    assert description.created == clock.now()
    assert [shard.shard_id for shard in description.shards] == [
        "shardId-000000000000",
        "shardId-000000000001",
        "shardId-000000000002",
    ]
    for shard in description.shards:
        assert SEQUENCE_NUMBER.fullmatch(shard.starting_sequence_number)
    assert alpha.arn == "arn:aws:kinesis:us-east-1:000000000000:stream/a"
    alpha.delete()
    assert list_streams(engine) == ["b"]
    with pytest.raises(StreamNotFound) as raised:
        alpha.describe()
    assert raised.value.code == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("shard_count", "ranges"),
    [
        (1, [(0, 2**128 - 1)]),
        (2, [(0, 2**127 - 1), (2**127, 2**128 - 1)]),
        (
            3,
            [
                (0, 113427455640312821154458202477256070484),
                (
                    113427455640312821154458202477256070485,
                    226854911280625642308916404954512140969,
                ),
                (226854911280625642308916404954512140970, 2**128 - 1),
            ],
        ),
    ],
)
def test_shards_split_the_md5_space_evenly_as_kinesis_does(
    engine: StreamEngine, shard_count: int, ranges: list[tuple[int, int]]
) -> None:
    shards = Stream.create(engine, "split", shard_count=shard_count).describe().shards
    assert [(int(s.starting_hash_key), int(s.ending_hash_key)) for s in shards] == ranges


def test_many_shards_cover_the_space_without_gaps(engine: StreamEngine) -> None:
    shards = Stream.create(engine, "wide", shard_count=500).describe().shards
    assert len(shards) == 500
    assert int(shards[0].starting_hash_key) == 0
    assert int(shards[-1].ending_hash_key) == 2**128 - 1
    for before, after in itertools.pairwise(shards):
        assert int(after.starting_hash_key) == int(before.ending_hash_key) + 1
    widths = {int(s.ending_hash_key) - int(s.starting_hash_key) for s in shards[:-1]}
    assert widths == {2**128 // 500 - 1}


def test_creating_an_existing_stream_is_resource_in_use(
    engine: StreamEngine, clicks: Stream
) -> None:
    clicks.put_record("k", b"kept")
    with pytest.raises(StreamInUse) as raised:
        Stream.create(engine, "clicks", shard_count=4)
    assert raised.value.code == "ResourceInUseException"
    with pytest.raises(StreamInUse, match="4 shards"):
        Stream.create(engine, "clicks", shard_count=2, exist_ok=True)
    again = Stream.create(engine, "clicks", shard_count=4, exist_ok=True)
    assert everything(again) == [b"kept"]


def test_an_unknown_stream_is_resource_not_found(engine: StreamEngine) -> None:
    missing = Stream(engine, "missing")
    shard = "shardId-000000000000"
    operations: list[Callable[[], object]] = [
        missing.describe,
        missing.delete,
        lambda: missing.put_record("k", b"x"),
        lambda: missing.put_records([{"Data": b"x", "PartitionKey": "k"}]),
        lambda: missing.get_shard_iterator(shard, "TRIM_HORIZON"),
        lambda: missing.increase_retention(48),
        lambda: missing.decrease_retention(24),
        lambda: missing.get_checkpoint("app", shard),
        lambda: missing.checkpoint("app", shard, "1"),
        lambda: missing.checkpoint_iterator("app", shard),
    ]
    for operation in operations:
        with pytest.raises(StreamNotFound) as raised:
            operation()
        assert raised.value.code == "ResourceNotFoundException"


@pytest.mark.parametrize("name", ["a", "a" * 128, "Click-Stream_2.0"])
def test_stream_names_kinesis_accepts(engine: StreamEngine, name: str) -> None:
    Stream.create(engine, name).put_record("k", b"x")
    assert everything(Stream(engine, name)) == [b"x"]


@pytest.mark.parametrize("name", ["", "a" * 129, "bad name", "naïve", "a/b", "a:b", None, 5])
def test_bad_stream_names(engine: StreamEngine, name: Any) -> None:
    with pytest.raises(StreamValidation, match="stream name") as raised:
        Stream.create(engine, name)
    assert raised.value.code == "ValidationException"
    assert list_streams(engine) == []


@pytest.mark.parametrize("shard_count", [0, -1, True, "2", 1.5, None])
def test_bad_shard_counts(engine: StreamEngine, shard_count: Any) -> None:
    with pytest.raises(StreamValidation, match="ShardCount"):
        Stream.create(engine, "s", shard_count=shard_count)
    assert list_streams(engine) == []


def test_more_shards_than_a_stream_may_have(engine: StreamEngine) -> None:
    with pytest.raises(StreamLimitExceeded, match="501") as raised:
        Stream.create(engine, "s", shard_count=501)
    assert raised.value.code == "LimitExceededException"
    assert list_streams(engine) == []


def test_stream_errors_share_a_base() -> None:
    for error in (
        StreamNotFound,
        StreamInUse,
        StreamValidation,
        InvalidStreamArgument,
        CheckpointMovedBackwards,
        ExpiredIterator,
        StreamLimitExceeded,
    ):
        assert issubclass(error, StreamError)
    assert CheckpointMovedBackwards.code == "InvalidArgumentException"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///",
        "sqlite://host/s.db",
        "sqlite:///s.db?durability=sends",
        "postgresql://localhost/streams",
        "s.db",
        5,
    ],
)
def test_bad_engine_urls(url: Any) -> None:
    with pytest.raises(InvalidEngineUrl):
        connect_streams(url)


# --- putting ------------------------------------------------------------------------------------


def test_a_record_goes_to_the_shard_whose_range_holds_the_md5_of_its_key(clicks: Stream) -> None:
    keys = [f"user-{i}" for i in range(200)] + ["ключ-🔑"]
    placed = {key: clicks.put_record(key, key.encode()).shard_id for key in keys}
    for key, shard in placed.items():
        assert shard == shard_of(clicks, md5_hash_key(key))
    assert len(set(placed.values())) == 4  # 200 keys reach every shard
    for shard in shard_ids(clicks):
        stored = [data.decode() for data in read(clicks, shard)]
        assert stored == [key for key in keys if placed[key] == shard]  # in put order


def test_an_explicit_hash_key_overrides_the_partition_key(clicks: Stream) -> None:
    shards = clicks.describe().shards
    cases = {
        "0": shards[0].shard_id,
        str(2**128 - 1): shards[3].shard_id,
        shards[2].starting_hash_key: shards[2].shard_id,
        shards[1].ending_hash_key: shards[1].shard_id,
    }
    for hash_key, shard in cases.items():
        assert clicks.put_record("same key", b"x", explicit_hash_key=hash_key).shard_id == shard
    results = clicks.put_records(
        [
            {"Data": b"a", "PartitionKey": "same key", "ExplicitHashKey": hash_key}
            for hash_key in cases
        ]
    ).records
    assert [result.shard_id for result in results] == list(cases.values())


def test_sequence_numbers_increase_within_a_shard_and_are_unique(clicks: Stream) -> None:
    results = [clicks.put_record(f"user-{i % 7}", b"x") for i in range(60)]
    entries = [{"Data": b"y", "PartitionKey": f"user-{i % 7}"} for i in range(300)]
    results += clicks.put_records(entries).records
    numbers = [result.sequence_number for result in results]
    assert all(SEQUENCE_NUMBER.fullmatch(number) for number in numbers)
    assert len(set(numbers)) == len(numbers)
    assert sorted(numbers) == sorted(numbers, key=int)  # string order is numeric order
    for shard in shard_ids(clicks):
        mine = [int(r.sequence_number) for r in results if r.shard_id == shard]
        assert mine == sorted(mine)
        iterator = clicks.get_shard_iterator(shard, "TRIM_HORIZON")
        assert [int(record.sequence_number) for record in drain(clicks, iterator)] == mine


def test_put_records_answers_each_record_in_order(clicks: Stream) -> None:
    keys = [f"key-{i}" for i in range(500)]
    result = clicks.put_records([{"Data": key.encode(), "PartitionKey": key} for key in keys])
    assert result.failed_record_count == 0
    assert len(result.records) == 500
    by_number = {}
    for key, entry in zip(keys, result.records, strict=True):
        assert entry.shard_id == shard_of(clicks, md5_hash_key(key))
        by_number[entry.sequence_number] = key
    for shard in shard_ids(clicks):
        iterator = clicks.get_shard_iterator(shard, "TRIM_HORIZON")
        for record in drain(clicks, iterator):
            assert by_number[record.sequence_number] == record.data.decode()
            assert record.partition_key == record.data.decode()


def test_data_and_keys_round_trip(single: Stream, clock: ManualClock) -> None:
    every_byte = bytes(range(256))
    single.put_record("ключ-🔑", every_byte)
    single.put_record("k" * 256, b"")
    single.put_records(
        [
            {"Data": bytearray(b"from a bytearray"), "PartitionKey": "a"},
            {"Data": memoryview(b"from a memoryview"), "PartitionKey": "b"},
        ]
    )
    records = drain(single, single.get_shard_iterator("shardId-000000000000", "TRIM_HORIZON"))
    assert [(r.partition_key, r.data) for r in records] == [
        ("ключ-🔑", every_byte),
        ("k" * 256, b""),
        ("a", b"from a bytearray"),
        ("b", b"from a memoryview"),
    ]
    assert all(type(record.data) is bytes for record in records)
    assert all(record.approximate_arrival_timestamp == clock.now() for record in records)


def test_record_and_request_size_limits(single: Stream) -> None:
    key = "k" * 10
    largest = {"Data": b"x" * (MiB - 10), "PartitionKey": key}
    single.put_records([largest])
    with pytest.raises(InvalidStreamArgument, match=r"Records\[1\]\.Data") as raised:
        single.put_records([largest, {"Data": b"x" * (MiB - 9), "PartitionKey": key}])
    assert raised.value.code == "InvalidArgumentException"
    with pytest.raises(InvalidStreamArgument, match="1 MiB"):
        single.put_record(key, b"x" * (MiB - 9))
    single.put_records([largest] * 5)  # 5 MiB exactly
    with pytest.raises(InvalidStreamArgument, match="5 MiB"):
        single.put_records([largest] * 5 + [{"Data": b"x", "PartitionKey": "k"}])
    assert len(everything(single)) == 6


@pytest.mark.parametrize("count", [0, 501])
def test_a_put_takes_1_to_500_records(single: Stream, count: int) -> None:
    with pytest.raises(StreamValidation, match="1 to 500"):
        single.put_records([{"Data": b"x", "PartitionKey": "k"}] * count)
    assert everything(single) == []


@pytest.mark.parametrize(
    ("entry", "error", "field"),
    [
        ({"PartitionKey": "k"}, StreamValidation, "Data is required"),
        ({"Data": "text", "PartitionKey": "k"}, StreamValidation, "Data must be bytes"),
        ({"Data": 5, "PartitionKey": "k"}, StreamValidation, "Data must be bytes"),
        ({"Data": b"x"}, StreamValidation, "PartitionKey"),
        ({"Data": b"x", "PartitionKey": ""}, StreamValidation, "PartitionKey"),
        ({"Data": b"x", "PartitionKey": "k" * 257}, StreamValidation, "PartitionKey"),
        ({"Data": b"x", "PartitionKey": 7}, StreamValidation, "PartitionKey"),
        ({"Data": b"x", "PartitionKey": "\ud800"}, StreamValidation, "PartitionKey"),
        ({"Data": b"x", "PartitionKey": "k", "ExplicitHashKey": "01"}, StreamValidation, "Hash"),
        ({"Data": b"x", "PartitionKey": "k", "ExplicitHashKey": "-1"}, StreamValidation, "Hash"),
        ({"Data": b"x", "PartitionKey": "k", "ExplicitHashKey": 5}, StreamValidation, "Hash"),
        (
            {"Data": b"x", "PartitionKey": "k", "ExplicitHashKey": str(2**128)},
            InvalidStreamArgument,
            "ExplicitHashKey",
        ),
        ({"Data": b"x", "PartitionKey": "k", "Shard": "0"}, StreamValidation, "unknown fields"),
        ("not a record", StreamValidation, "must be a dict"),
    ],
)
def test_a_bad_record_names_its_field_and_writes_nothing(
    clicks: Stream, entry: Any, error: type[StreamError], field: str
) -> None:
    good = {"Data": b"good", "PartitionKey": "k"}
    with pytest.raises(error, match=rf"Records\[1\].*{field}"):
        clicks.put_records([good, entry, good])
    assert everything(clicks) == []


def test_put_record_checks_its_arguments(clicks: Stream) -> None:
    with pytest.raises(StreamValidation, match=r"^ValidationException: PartitionKey"):
        clicks.put_record("", b"x")
    with pytest.raises(StreamValidation, match=r"^ValidationException: Data must be bytes"):
        clicks.put_record("k", "text")  # type: ignore[arg-type]
    with pytest.raises(StreamValidation, match=r"^ValidationException: ExplicitHashKey"):
        clicks.put_record("k", b"x", explicit_hash_key="0x10")
    with pytest.raises(StreamValidation, match="Records must be a list"):
        clicks.put_records("not a list")  # type: ignore[arg-type]
    assert everything(clicks) == []


# --- iterators ----------------------------------------------------------------------------------


def test_iterator_types(single: Stream, clock: ManualClock) -> None:
    shard = "shardId-000000000000"
    numbers = put_many(single, 5, prefix="early")
    clock.advance(10)
    later = clock.now()
    latest = single.get_shard_iterator(shard, "LATEST")
    numbers += put_many(single, 5, prefix="late")
    early = [f"early{i}".encode() for i in range(5)]
    late = [f"late{i}".encode() for i in range(5)]
    assert read(single, shard) == early + late
    assert [r.data for r in drain(single, latest)] == late
    assert read(single, shard, "AT_SEQUENCE_NUMBER", sequence_number=numbers[3]) == [
        *early[3:],
        *late,
    ]
    assert read(single, shard, "AFTER_SEQUENCE_NUMBER", sequence_number=numbers[3]) == [
        *early[4:],
        *late,
    ]
    assert read(single, shard, "AFTER_SEQUENCE_NUMBER", sequence_number=numbers[-1]) == []
    assert read(single, shard, "AT_TIMESTAMP", timestamp=later) == late  # arrived exactly then
    assert read(single, shard, "AT_TIMESTAMP", timestamp=later - 5) == late
    assert read(single, shard, "AT_TIMESTAMP", timestamp=later - 10) == early + late
    assert read(single, shard, "AT_TIMESTAMP", timestamp=0) == early + late
    assert read(single, shard, "AT_TIMESTAMP", timestamp=later + 1) == []


def test_at_timestamp_in_the_future_starts_at_that_time(single: Stream, clock: ManualClock) -> None:
    shard = "shardId-000000000000"
    iterator = single.get_shard_iterator(shard, "AT_TIMESTAMP", timestamp=clock.now() + 60)
    single.put_record("k", b"before")
    clock.advance(60)
    single.put_record("k", b"at")
    assert [record.data for record in drain(single, iterator)] == [b"at"]


def test_at_timestamp_finds_its_place_among_many(single: Stream, clock: ManualClock) -> None:
    shard = "shardId-000000000000"
    for second in range(40):
        put_many(single, 25, prefix=f"{second}-")
        clock.advance(1)
    start = clock.now() - 40
    for second in (0, 1, 17, 39):
        records = read(single, shard, "AT_TIMESTAMP", timestamp=start + second)
        assert len(records) == 25 * (40 - second)
        assert records[0] == f"{second}-0".encode()


def test_the_shards_starting_sequence_number_reads_from_the_start(clicks: Stream) -> None:
    clicks.put_records([{"Data": str(i).encode(), "PartitionKey": str(i)} for i in range(40)])
    for shard in clicks.describe().shards:
        start = shard.starting_sequence_number
        assert read(clicks, shard.shard_id, "AT_SEQUENCE_NUMBER", sequence_number=start) == read(
            clicks, shard.shard_id
        )


def test_pages_follow_the_limit_and_report_how_far_behind(
    single: Stream, clock: ManualClock
) -> None:
    put_many(single, 25)
    clock.advance(2)
    iterator = single.get_shard_iterator("shardId-000000000000", "TRIM_HORIZON")
    sizes, behind = [], []
    for _ in range(3):
        page = single.get_records(iterator, limit=10)
        sizes.append(len(page.records))
        behind.append(page.millis_behind_latest)
        iterator = page.next_shard_iterator
    assert sizes == [10, 10, 5]
    assert behind == [2000, 2000, 0]
    idle = single.get_records(iterator)
    assert (idle.records, idle.millis_behind_latest) == ([], 0)
    single.put_record("k", b"new")
    assert [record.data for record in single.get_records(idle.next_shard_iterator).records] == [
        b"new"
    ]


def test_get_records_returns_up_to_10000_by_default(single: Stream) -> None:
    put_many(single, 10_500)
    iterator = single.get_shard_iterator("shardId-000000000000", "TRIM_HORIZON")
    first = single.get_records(iterator)
    assert len(first.records) == 10_000
    assert first.records[-1].data == b"r9999"
    second = single.get_records(first.next_shard_iterator, limit=10_000)
    assert [record.data for record in second.records] == [
        f"r{i}".encode() for i in range(10_000, 10_500)
    ]


def test_a_page_holds_at_most_10_mib(single: Stream) -> None:
    for batch in range(3):
        single.put_records(
            [{"Data": bytes([batch * 4 + i]) * 1_000_000, "PartitionKey": "k"} for i in range(4)]
        )
    iterator = single.get_shard_iterator("shardId-000000000000", "TRIM_HORIZON")
    first = single.get_records(iterator)
    assert [record.data[0] for record in first.records] == list(range(10))
    assert first.millis_behind_latest >= 0
    second = single.get_records(first.next_shard_iterator)
    assert [record.data[0] for record in second.records] == [10, 11]


@pytest.mark.parametrize("limit", [0, -1, True, "5", 2.5])
def test_bad_limits(single: Stream, limit: Any) -> None:
    iterator = single.get_shard_iterator("shardId-000000000000", "TRIM_HORIZON")
    with pytest.raises(StreamValidation, match="Limit"):
        single.get_records(iterator, limit)


def test_a_limit_over_10000_is_an_invalid_argument(single: Stream) -> None:
    iterator = single.get_shard_iterator("shardId-000000000000", "TRIM_HORIZON")
    with pytest.raises(InvalidStreamArgument, match="Limit") as raised:
        single.get_records(iterator, 10_001)
    assert raised.value.code == "InvalidArgumentException"


def test_iterators_expire_after_five_minutes(single: Stream, clock: ManualClock) -> None:
    shard = "shardId-000000000000"
    single.put_record("k", b"x")
    kept = single.get_shard_iterator(shard, "TRIM_HORIZON")
    expiring = single.get_shard_iterator(shard, "TRIM_HORIZON")
    clock.advance(299)
    page = single.get_records(kept)
    assert [record.data for record in page.records] == [b"x"]
    clock.advance(2)
    with pytest.raises(ExpiredIterator) as raised:
        single.get_records(expiring)
    assert raised.value.code == "ExpiredIteratorException"
    single.put_record("k", b"y")
    clock.advance(297)  # the next iterator is new: valid 5 minutes from the call that returned it
    assert [record.data for record in single.get_records(page.next_shard_iterator).records] == [
        b"y"
    ]


def test_iterators_this_engine_did_not_make_are_invalid(single: Stream) -> None:
    iterator = single.get_shard_iterator("shardId-000000000000", "TRIM_HORIZON")
    middle = len(iterator) // 2
    tampered = (
        iterator[:middle] + ("A" if iterator[middle] != "A" else "B") + iterator[middle + 1 :]
    )
    for bad in ["garbage", "é" * 10, tampered, iterator[:-4], iterator + "AAAA"]:
        with pytest.raises(InvalidStreamArgument, match="ShardIterator") as raised:
            single.get_records(bad)
        assert raised.value.code == "InvalidArgumentException"
    for malformed in ["", "x" * 513, None, 5]:
        with pytest.raises(StreamValidation, match="ShardIterator"):
            single.get_records(malformed)  # type: ignore[arg-type]


def test_the_sqlite_engine_refuses_iterators_of_another_file(
    engine_url: str, single: Stream, tmp_path: Path, clock: ManualClock
) -> None:
    """Engine-specific: iterators are signed with a key of the database file."""
    if not engine_url.startswith("sqlite:"):
        pytest.skip("where iterators are valid is each engine's own business")
    other = connect_streams(f"sqlite:///{tmp_path}/other.db", clock=clock)
    twin = Stream.create(other, "single")  # the same name, id and shard in another file
    iterator = twin.get_shard_iterator("shardId-000000000000", "TRIM_HORIZON")
    with pytest.raises(InvalidStreamArgument, match="ShardIterator"):
        single.get_records(iterator)
    other.close()


def test_an_iterator_reads_only_its_own_stream(engine: StreamEngine, single: Stream) -> None:
    other = Stream.create(engine, "other")
    iterator = other.get_shard_iterator("shardId-000000000000", "TRIM_HORIZON")
    with pytest.raises(InvalidStreamArgument, match="other"):
        single.get_records(iterator)


def test_a_deleted_streams_iterators_numbers_and_checkpoints_are_gone(
    engine: StreamEngine, single: Stream
) -> None:
    shard = "shardId-000000000000"
    number = single.put_record("k", b"old").sequence_number
    single.checkpoint("app", shard, number)
    iterator = single.get_shard_iterator(shard, "TRIM_HORIZON")
    single.delete()
    renewed = Stream.create(engine, "single")
    with pytest.raises(StreamNotFound):
        renewed.get_records(iterator)
    with pytest.raises(InvalidStreamArgument, match="did not come from"):
        renewed.get_shard_iterator(shard, "AT_SEQUENCE_NUMBER", sequence_number=number)
    assert renewed.get_checkpoint("app", shard) is None
    assert everything(renewed) == []


def test_bad_iterator_requests(engine: StreamEngine, clicks: Stream) -> None:
    number = clicks.put_record("k", b"x", explicit_hash_key="0").sequence_number
    elsewhere = Stream.create(engine, "elsewhere").put_record("k", b"x").sequence_number
    shard0 = "shardId-000000000000"
    cases: list[tuple[type[StreamError], str, Callable[[], object]]] = [
        (StreamNotFound, "shardId-000000000004", lambda: get("shardId-000000000004")),
        (StreamNotFound, "shard-1", lambda: get("shard-1")),
        (StreamValidation, "ShardId", lambda: get("shard 1")),
        (StreamValidation, "ShardIteratorType", lambda: get(shard0, "OLDEST")),
        (InvalidStreamArgument, "requires", lambda: get(shard0, "AT_SEQUENCE_NUMBER")),
        (InvalidStreamArgument, "requires", lambda: get(shard0, "AFTER_SEQUENCE_NUMBER")),
        (InvalidStreamArgument, "requires a Timestamp", lambda: get(shard0, "AT_TIMESTAMP")),
        (InvalidStreamArgument, "takes no", lambda: get(shard0, sequence_number=number)),
        (InvalidStreamArgument, "takes no", lambda: get(shard0, "LATEST", timestamp=1.0)),
        (StreamValidation, "Timestamp", lambda: get(shard0, "AT_TIMESTAMP", timestamp="now")),
        (StreamValidation, "Timestamp", lambda: get(shard0, "AT_TIMESTAMP", timestamp=True)),
        (
            StreamValidation,
            "Timestamp",
            lambda: get(shard0, "AT_TIMESTAMP", timestamp=float("nan")),
        ),
        (StreamValidation, "Starting", lambda: at(shard0, "0123")),
        (StreamValidation, "Starting", lambda: at(shard0, "12a")),
        (StreamValidation, "Starting", lambda: at(shard0, 12)),
        (InvalidStreamArgument, "did not come from", lambda: at("shardId-000000000001", number)),
        (InvalidStreamArgument, "did not come from", lambda: at(shard0, elsewhere)),
        (InvalidStreamArgument, "did not come from", lambda: at(shard0, "9" * 40)),
        (InvalidStreamArgument, "did not come from", lambda: at(shard0, "0")),
    ]

    def get(shard: Any, iterator_type: Any = "TRIM_HORIZON", **start: Any) -> str:
        return clicks.get_shard_iterator(shard, iterator_type, **start)

    def at(shard: str, sequence_number: Any) -> str:
        return get(shard, "AT_SEQUENCE_NUMBER", sequence_number=sequence_number)

    for error, message, call in cases:
        with pytest.raises(error, match=message):
            call()


# --- retention ----------------------------------------------------------------------------------


def test_records_past_retention_are_not_returned(single: Stream, clock: ManualClock) -> None:
    shard = "shardId-000000000000"
    single.put_record("k", b"old")
    clock.advance(24 * HOUR - 60)
    single.put_record("k", b"young")
    iterator = single.get_shard_iterator(shard, "TRIM_HORIZON")
    assert read(single, shard) == [b"old", b"young"]
    clock.advance(120)  # "old" is 24 h and a minute old; the iterator is two minutes old
    assert [record.data for record in drain(single, iterator)] == [b"young"]
    assert read(single, shard) == [b"young"]
    assert read(single, shard, "AT_TIMESTAMP", timestamp=0) == [b"young"]
    clock.advance(24 * HOUR)
    assert everything(single) == []


def test_retention_can_grow_and_shrink(single: Stream, clock: ManualClock) -> None:
    single.put_record("k", b"x")
    single.increase_retention(48)
    assert single.describe().retention_period_hours == 48
    clock.advance(30 * HOUR)
    assert everything(single) == [b"x"]
    single.decrease_retention(24)
    assert single.describe().retention_period_hours == 24
    assert everything(single) == []
    single.increase_retention(8760)
    single.increase_retention(8760)  # the same period again is no change
    single.decrease_retention(8760)
    assert single.describe().retention_period_hours == 8760


def test_retention_changes_in_the_wrong_direction(single: Stream) -> None:
    single.increase_retention(48)
    with pytest.raises(InvalidStreamArgument, match="shorter") as raised:
        single.increase_retention(30)
    assert raised.value.code == "InvalidArgumentException"
    with pytest.raises(InvalidStreamArgument, match="longer"):
        single.decrease_retention(72)
    assert single.describe().retention_period_hours == 48


@pytest.mark.parametrize("hours", [23, 0, 8761, True, "48", 48.0, None])
def test_bad_retention_periods(single: Stream, hours: Any) -> None:
    for change in (single.increase_retention, single.decrease_retention):
        with pytest.raises(InvalidStreamArgument, match="RetentionPeriodHours"):
            change(hours)
    assert single.describe().retention_period_hours == 24


def test_the_sqlite_engine_deletes_expired_records(
    engine_url: str, single: Stream, clock: ManualClock
) -> None:
    """Engine-specific: expired records are not only hidden but deleted, by a later put."""
    if not engine_url.startswith("sqlite:"):
        pytest.skip("how expired records are reclaimed is the SQLite engine's own business")
    path = engine_url.removeprefix("sqlite:///")

    def stored() -> int:
        with sqlite3.connect(path) as db:
            count: int = db.execute("SELECT count(*) FROM stream_records").fetchone()[0]
        return count

    put_many(single, 600, prefix="old")
    clock.advance(24 * HOUR + 1)
    single.put_record("k", b"new")
    assert stored() == 1
    assert everything(single) == [b"new"]


# --- checkpoints --------------------------------------------------------------------------------


def test_a_consumer_resumes_after_its_checkpoint(single: Stream) -> None:
    shard = "shardId-000000000000"
    numbers = put_many(single, 10)
    assert single.get_checkpoint("app", shard) is None
    assert [r.data for r in drain(single, single.checkpoint_iterator("app", shard))] == [
        f"r{i}".encode() for i in range(10)
    ]
    single.checkpoint("app", shard, numbers[4])
    assert single.get_checkpoint("app", shard) == numbers[4]
    resumed = drain(single, single.checkpoint_iterator("app", shard))
    assert [record.sequence_number for record in resumed] == numbers[5:]
    single.checkpoint("app", shard, numbers[4])  # again: no change
    single.checkpoint("app", shard, numbers[9])
    assert drain(single, single.checkpoint_iterator("app", shard)) == []


def test_a_checkpoint_cannot_move_backwards(single: Stream) -> None:
    shard = "shardId-000000000000"
    numbers = put_many(single, 3)
    single.checkpoint("app", shard, numbers[2])
    with pytest.raises(CheckpointMovedBackwards, match=numbers[2]) as raised:
        single.checkpoint("app", shard, numbers[1])
    assert raised.value.code == "InvalidArgumentException"
    assert single.get_checkpoint("app", shard) == numbers[2]


def test_checkpoints_are_per_application_and_shard(clicks: Stream) -> None:
    shards = shard_ids(clicks)
    first = clicks.put_record("a", b"0", explicit_hash_key="0").sequence_number
    second = clicks.put_record("a", b"1", explicit_hash_key="0").sequence_number
    last_shard = clicks.put_record("a", b"2", explicit_hash_key=str(2**128 - 1)).sequence_number
    clicks.checkpoint("billing", shards[0], second)
    clicks.checkpoint("audit", shards[0], first)
    clicks.checkpoint("audit", shards[3], last_shard)
    assert clicks.get_checkpoint("billing", shards[0]) == second
    assert clicks.get_checkpoint("audit", shards[0]) == first
    assert clicks.get_checkpoint("billing", shards[3]) is None
    assert clicks.get_checkpoint("audit", shards[3]) == last_shard


def test_a_new_application_starts_where_it_is_told(single: Stream) -> None:
    shard = "shardId-000000000000"
    single.put_record("k", b"before")
    latest = single.checkpoint_iterator("app", shard, initial_position="LATEST")
    horizon = single.checkpoint_iterator("app", shard)
    single.put_record("k", b"after")
    assert [record.data for record in drain(single, latest)] == [b"after"]
    assert [record.data for record in drain(single, horizon)] == [b"before", b"after"]
    with pytest.raises(StreamValidation, match="initial_position"):
        single.checkpoint_iterator("app", shard, initial_position="AT_TIMESTAMP")  # type: ignore[arg-type]


def test_bad_checkpoints(clicks: Stream) -> None:
    shard0, shard1 = shard_ids(clicks)[:2]
    number = clicks.put_record("k", b"x", explicit_hash_key="0").sequence_number
    cases: list[tuple[type[StreamError], str, Callable[[], object]]] = [
        (
            InvalidStreamArgument,
            "did not come from",
            lambda: clicks.checkpoint("a", shard1, number),
        ),
        (InvalidStreamArgument, "did not come from", lambda: clicks.checkpoint("a", shard0, "7")),
        (StreamValidation, "SequenceNumber", lambda: clicks.checkpoint("a", shard0, "x")),
        (StreamValidation, "SequenceNumber", lambda: clicks.checkpoint("a", shard0, None)),  # type: ignore[arg-type]
        (StreamValidation, "application name", lambda: clicks.checkpoint("", shard0, number)),
        (StreamValidation, "application name", lambda: clicks.get_checkpoint("a b", shard0)),
        (StreamValidation, "ShardId", lambda: clicks.checkpoint("a", "shard 0", number)),
        (
            StreamNotFound,
            "shardId-000000000009",
            lambda: clicks.get_checkpoint("a", "shardId-000000000009"),
        ),
    ]
    for error, message, call in cases:
        with pytest.raises(error, match=message):
            call()
    assert clicks.get_checkpoint("a", shard0) is None


# --- processes ----------------------------------------------------------------------------------

WRITER = """
import json, sys
from archlab.blocks.stream import Stream
from archlab.engines.streams import connect_streams

stream = Stream(connect_streams(sys.argv[1]), "shared")
name = sys.argv[2]
print("ready", flush=True)
sys.stdin.readline()  # all start together
acknowledged = []
for batch in range(20):
    entries = [
        {"Data": f"{name}-{batch}-{i}".encode(), "PartitionKey": f"{name}-{i % 5}"}
        for i in range(100)
    ]
    results = stream.put_records(entries).records
    acknowledged += [
        [entry["Data"].decode(), result.shard_id, result.sequence_number]
        for entry, result in zip(entries, results)
    ]
print(json.dumps(acknowledged))
"""


def test_writers_in_several_processes_get_unique_increasing_numbers(engine_url: str) -> None:
    """Three processes put 2,000 records each into one stream at once: every record is there
    once, sequence numbers are unique, and each shard's increase in the order it is read."""
    stream = Stream.create(connect_streams(engine_url), "shared", shard_count=2)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(WRITER), engine_url, name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b", "c")
    ]
    for writer in writers:
        assert writer.stdout is not None
        assert writer.stdout.readline() == "ready\n"
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.close()
    acknowledged = [json.loads(writer.stdout.read()) for writer in writers if writer.stdout]
    assert [writer.wait(timeout=60) for writer in writers] == [0, 0, 0]
    placed = {data: (shard, number) for mine in acknowledged for data, shard, number in mine}
    assert len(placed) == 6000
    assert len({number for _, number in placed.values()}) == 6000
    for mine in acknowledged:  # each writer's numbers increase in its own put order
        for shard in shard_ids(stream):
            own = [int(number) for _, on, number in mine if on == shard]
            assert own == sorted(own)
    found = {}
    for shard in shard_ids(stream):
        records = drain(stream, stream.get_shard_iterator(shard, "TRIM_HORIZON"))
        numbers = [int(record.sequence_number) for record in records]
        assert numbers == sorted(numbers)
        found.update({r.data.decode(): (shard, r.sequence_number) for r in records})
    assert found == placed
