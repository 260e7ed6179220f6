"""Bucket conformance: Amazon S3 semantics, written against the block API only.

Every object engine runs this suite (the ``objects`` fixture is parametrized by engine; an S3 or
MinIO engine adds its URL to ENGINES). Time comes from a manual clock; the one test with real
processes uses the real one. Events go through the SQLite messaging engine.
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

import pytest

from archlab.blocks import Queue, Topic
from archlab.blocks.bucket import Bucket, ListResult
from archlab.blocks.delivery import Dispatcher, PendingDelivery, function_queue
from archlab.blocks.errors import (
    AccessDenied,
    InvalidArgument,
    InvalidBucketName,
    InvalidEngineUrl,
    InvalidRange,
    KeyTooLongError,
    MetadataTooLarge,
    NoSuchBucket,
    NoSuchKey,
    StorageError,
)
from archlab.clock import ManualClock
from archlab.engines import connect
from archlab.engines.base import MessagingEngine
from archlab.engines.objectstore import ObjectEngine, connect_objects

ENGINES: dict[str, Callable[[Path], str]] = {
    "file": lambda tmp_path: f"file:///{tmp_path}/objects",
    "sqlite": lambda tmp_path: f"sqlite:///{tmp_path}/objects.db",
}
SIGNING_KEY = b"k" * 32
FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:thumbnailer"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=sorted(ENGINES))
def objects_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return ENGINES[request.param](tmp_path)


@pytest.fixture
def objects(objects_url: str, clock: ManualClock) -> Iterator[ObjectEngine]:
    engine = connect_objects(objects_url, clock=clock)
    yield engine
    engine.close()


@pytest.fixture
def messaging(tmp_path: Path, clock: ManualClock) -> Iterator[MessagingEngine]:
    engine = connect(f"sqlite:///{tmp_path}/messaging.db", clock=clock)
    yield engine
    engine.close()


@pytest.fixture
def bucket(objects: ObjectEngine, messaging: MessagingEngine, clock: ManualClock) -> Bucket:
    return Bucket.create(
        objects, "images", messaging=messaging, signing_key=SIGNING_KEY, clock=clock
    )


def md5_etag(body: bytes) -> str:
    return f'"{hashlib.md5(body).hexdigest()}"'


def keys(result: ListResult) -> list[str]:
    return [summary.key for summary in result.contents]


def everything(bucket: Bucket, **options: Any) -> tuple[list[str], list[str], int]:
    """Every key and common prefix, page after page; and how many pages it took."""
    found: list[str] = []
    prefixes: list[str] = []
    token = None
    pages = 0
    while True:
        page = bucket.list(continuation_token=token, **options)
        pages += 1
        found += keys(page)
        prefixes += page.common_prefixes
        if not page.is_truncated:
            assert page.next_continuation_token is None
            return found, prefixes, pages
        token = page.next_continuation_token


def in_key_order(names: list[str]) -> list[str]:
    return sorted(names, key=lambda name: name.encode())


# --- buckets ---------------------------------------------------------------------------------


class TestBuckets:
    def test_create_is_idempotent_and_keeps_the_objects(
        self, objects: ObjectEngine, bucket: Bucket
    ) -> None:
        bucket.put("a.jpg", b"a")
        again = Bucket.create(objects, "images")
        assert again.get("a.jpg").body == b"a"
        assert again.arn == "arn:aws:s3:::images"

    def test_buckets_are_separate(self, objects: ObjectEngine, bucket: Bucket) -> None:
        other = Bucket.create(objects, "renditions")
        bucket.put("a.jpg", b"a")
        assert keys(other.list()) == []
        with pytest.raises(NoSuchKey):
            other.get("a.jpg")

    @pytest.mark.parametrize(
        "name",
        [
            "ab",
            "a" * 64,
            "Images",
            "my_bucket",
            "-images",
            "images-",
            ".images",
            "my..bucket",
            "192.168.5.4",
            "xn--images",
            "sthree-images",
            "images-s3alias",
            "images--ol-s3",
            "a/b",
            "",
        ],
    )
    def test_bucket_names_follow_s3_rules(self, objects: ObjectEngine, name: str) -> None:
        with pytest.raises(InvalidBucketName):
            Bucket.create(objects, name)

    @pytest.mark.parametrize("name", ["abc", "a" * 63, "my.images-2026", "192.168.5.4a"])
    def test_valid_bucket_names(self, objects: ObjectEngine, name: str) -> None:
        Bucket.create(objects, name).put("k", b"v")

    def test_a_missing_bucket_is_no_such_bucket(self, objects: ObjectEngine) -> None:
        missing = Bucket(objects, "missing")
        for call in (
            lambda: missing.put("k", b"v"),
            lambda: missing.get("k"),
            lambda: missing.head("k"),
            lambda: missing.list(),
            lambda: missing.delete("k"),
            lambda: missing.notification_configuration(),
        ):
            with pytest.raises(NoSuchBucket) as raised:
                call()
            assert raised.value.code == "NoSuchBucket"


# --- objects ---------------------------------------------------------------------------------


class TestObjects:
    def test_put_get_round_trip(self, bucket: Bucket, clock: ManualClock) -> None:
        body = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10
        result = bucket.put(
            "originals/cat.png",
            body,
            content_type="image/png",
            metadata={"Width": "640", "x-camera": "Nikon D750"},
        )
        assert result.etag == md5_etag(body)
        assert result.size == len(body)
        got = bucket.get("originals/cat.png")
        assert got.body == body
        assert got.etag == md5_etag(body)
        assert got.size == len(body)
        assert got.content_type == "image/png"
        assert got.metadata == {"width": "640", "x-camera": "Nikon D750"}  # names lower case
        assert got.last_modified == clock.now()
        assert got.content_range is None

    def test_defaults_and_an_empty_object(self, bucket: Bucket) -> None:
        bucket.put("empty", b"")
        got = bucket.get("empty")
        assert got.body == b""
        assert got.etag == '"d41d8cd98f00b204e9800998ecf8427e"'
        assert got.content_type == "binary/octet-stream"
        assert got.metadata == {}

    def test_head_is_get_without_the_body(self, bucket: Bucket) -> None:
        bucket.put("a.txt", b"hello", content_type="text/plain", metadata={"k": "v"})
        head = bucket.head("a.txt")
        assert (head.key, head.size, head.etag, head.content_type, head.metadata) == (
            "a.txt",
            5,
            md5_etag(b"hello"),
            "text/plain",
            {"k": "v"},
        )

    def test_a_put_replaces_body_and_metadata_together(
        self, bucket: Bucket, clock: ManualClock
    ) -> None:
        bucket.put("k", b"first", content_type="text/plain", metadata={"a": "1"})
        clock.advance(5)
        bucket.put("k", b"second")
        got = bucket.get("k")
        assert (got.body, got.content_type, got.metadata) == (
            b"second",
            "binary/octet-stream",
            {},
        )
        assert got.last_modified == clock.now()

    def test_missing_keys(self, bucket: Bucket) -> None:
        with pytest.raises(NoSuchKey) as raised:
            bucket.get("nothing")
        assert raised.value.code == "NoSuchKey"
        with pytest.raises(NoSuchKey):
            bucket.head("nothing")

    def test_delete(self, bucket: Bucket) -> None:
        bucket.put("a", b"1")
        bucket.delete("a")
        with pytest.raises(NoSuchKey):
            bucket.get("a")
        bucket.delete("a")  # a missing key is not an error
        bucket.delete("never-there")

    def test_delete_many(self, bucket: Bucket) -> None:
        for name in ("a", "b/c", "d"):
            bucket.put(name, b"x")
        assert bucket.delete_many(["a", "b/c", "a", "missing"]) == ["a", "b/c", "missing"]
        assert keys(bucket.list()) == ["d"]

    @pytest.mark.parametrize("bad", [[], ["ok", "/bad"], ["k"] * 1001, "a-string"])
    def test_delete_many_checks_every_key_first(self, bucket: Bucket, bad: Any) -> None:
        bucket.put("ok", b"x")
        with pytest.raises(InvalidArgument):
            bucket.delete_many(bad)
        assert keys(bucket.list()) == ["ok"]

    @pytest.mark.parametrize(
        "key",
        [
            "x" * 1024,  # one segment of the longest key
            "é" * 512,  # 1,024 bytes of UTF-8
            "photos/",  # a "folder" marker
            "a//b",
            "a/./b",
            ".",
            "red flower+1 (2).jpg",
            "ünïcödé/日本語.png",
            "line\nbreak",
            "100%/done",
            "weird%obj",
            "%empty/x",
            "%2E/y",
            "c%more",
            "%tmp-abc",
            "%notification.json",
            "a" * 300 + "/" + "b" * 300 + "/c",
            "%" * 1024,
            "/".join(["a"] * 512),  # 511 folders deep
        ],
    )
    def test_unusual_keys_round_trip(self, bucket: Bucket, key: str) -> None:
        bucket.put(key, key.encode())
        assert bucket.get(key).body == key.encode()
        assert keys(bucket.list()) == [key]
        bucket.delete(key)
        assert keys(bucket.list()) == []

    def test_a_key_and_its_folder_coexist(self, bucket: Bucket) -> None:
        for name in ("a/b", "a/b/c", "a/b/", "a"):
            bucket.put(name, name.encode())
        for name in ("a/b", "a/b/c", "a/b/", "a"):
            assert bucket.get(name).body == name.encode()
        bucket.delete("a/b")
        assert keys(bucket.list()) == ["a", "a/b/", "a/b/c"]

    def test_the_longest_key_and_one_byte_more(self, bucket: Bucket) -> None:
        bucket.put("k" * 1024, b"x")
        with pytest.raises(KeyTooLongError) as raised:
            bucket.put("k" * 1025, b"x")
        assert raised.value.code == "KeyTooLongError"
        with pytest.raises(KeyTooLongError):
            bucket.put("é" * 513, b"x")  # 1,026 bytes
        assert keys(bucket.list()) == ["k" * 1024]

    @pytest.mark.parametrize(
        "key", ["", "/leading", "a/../b", "..", "../up", "a/..", "nul\x00", "\ud800", 7, None]
    )
    def test_unsafe_or_invalid_keys_are_refused_and_change_nothing(
        self, bucket: Bucket, key: Any
    ) -> None:
        bucket.put("kept", b"x")
        for call in (
            lambda: bucket.put(key, b"x"),
            lambda: bucket.get(key),
            lambda: bucket.head(key),
            lambda: bucket.delete(key),
        ):
            with pytest.raises(InvalidArgument) as raised:
                call()
            assert raised.value.code == "InvalidArgument"
        assert keys(bucket.list()) == ["kept"]

    def test_metadata_limit_is_2_kb_of_names_and_values(self, bucket: Bucket) -> None:
        exactly = {"a": "x" * 1023, "b": "y" * 1023}  # 1 + 1023 + 1 + 1023 = 2,048 bytes
        bucket.put("k", b"1", metadata=exactly)
        assert bucket.head("k").metadata == exactly
        with pytest.raises(MetadataTooLarge) as raised:
            bucket.put("k", b"2", metadata={"a": "x" * 1023, "bb": "y" * 1023})
        assert raised.value.code == "MetadataTooLarge"
        assert bucket.get("k").body == b"1"  # unchanged

    @pytest.mark.parametrize(
        "metadata",
        [
            {"bad name": "v"},
            {"": "v"},
            {"é": "v"},
            {"k": "line\nbreak"},
            {"k": "café"},
            {"k": 1},
            {1: "v"},
            {"Name": "a", "name": "b"},
            ["k", "v"],
        ],
    )
    def test_invalid_metadata_is_refused(self, bucket: Bucket, metadata: Any) -> None:
        with pytest.raises(InvalidArgument):
            bucket.put("k", b"x", metadata=metadata)
        with pytest.raises(NoSuchKey):
            bucket.head("k")

    @pytest.mark.parametrize("content_type", ["", "text/plain\r\nX-Evil: 1", "x" * 1025, None])
    def test_invalid_content_types_are_refused(self, bucket: Bucket, content_type: Any) -> None:
        with pytest.raises(InvalidArgument):
            bucket.put("k", b"x", content_type=content_type)
        assert keys(bucket.list()) == []

    @pytest.mark.parametrize("body", ["text", None, 5, bytearray(b"x")])
    def test_the_body_is_bytes(self, bucket: Bucket, body: Any) -> None:
        with pytest.raises(InvalidArgument):
            bucket.put("k", body)
        assert keys(bucket.list()) == []


# --- ranges ----------------------------------------------------------------------------------


class TestRanges:
    BODY = bytes(range(100))

    @pytest.fixture(autouse=True)
    def stored(self, bucket: Bucket) -> None:
        bucket.put("data", self.BODY, metadata={"k": "v"})

    @pytest.mark.parametrize(
        ("requested", "start", "end"),
        [((0, 9), 0, 9), ((90, None), 90, 99), ((95, 200), 95, 99), ((99, 99), 99, 99)],
    )
    def test_byte_ranges(
        self, bucket: Bucket, requested: tuple[int, int | None], start: int, end: int
    ) -> None:
        got = bucket.get("data", range=requested)
        assert got.body == self.BODY[start : end + 1]
        assert got.content_range == f"bytes {start}-{end}/100"
        assert got.size == 100
        assert got.etag == md5_etag(self.BODY)  # the whole object's
        assert got.metadata == {"k": "v"}

    @pytest.mark.parametrize("requested", [(100, None), (150, 160), (100, 100)])
    def test_a_start_past_the_end_is_invalid_range(
        self, bucket: Bucket, requested: tuple[int, int | None]
    ) -> None:
        with pytest.raises(InvalidRange) as raised:
            bucket.get("data", range=requested)
        assert raised.value.code == "InvalidRange"

    def test_an_empty_object_has_no_range(self, bucket: Bucket) -> None:
        bucket.put("empty", b"")
        with pytest.raises(InvalidRange):
            bucket.get("empty", range=(0, None))

    @pytest.mark.parametrize(
        "requested", [(-1, 5), (5, 3), (1.5, 2), [0, 1], "0-1", (True, 2), (0,), (0, 1, 2)]
    )
    def test_malformed_ranges(self, bucket: Bucket, requested: Any) -> None:
        with pytest.raises(InvalidArgument):
            bucket.get("data", range=requested)

    def test_a_range_of_a_missing_key(self, bucket: Bucket) -> None:
        with pytest.raises(NoSuchKey):
            bucket.get("missing", range=(0, 1))


# --- listing ---------------------------------------------------------------------------------


class TestListing:
    def test_keys_in_utf8_byte_order(self, bucket: Bucket, clock: ManualClock) -> None:
        names = ["a/c", "a-b", "a", "b", "é", "z", "A", "a/b/c", "ab", "~", "a//", "a b"]
        for name in names:
            bucket.put(name, name.encode())
        listed = bucket.list()
        assert keys(listed) == in_key_order(names)
        assert not listed.is_truncated
        assert listed.key_count == len(names)
        first = listed.contents[0]
        assert (first.key, first.size, first.etag, first.last_modified) == (
            "A",
            1,
            md5_etag(b"A"),
            clock.now(),
        )

    def test_prefix(self, bucket: Bucket) -> None:
        for name in ("originals/1.jpg", "originals/2.jpg", "orig.txt", "renditions/1/s.webp"):
            bucket.put(name, b"x")
        assert keys(bucket.list("originals/")) == ["originals/1.jpg", "originals/2.jpg"]
        assert keys(bucket.list("orig")) == ["orig.txt", "originals/1.jpg", "originals/2.jpg"]
        assert keys(bucket.list("renditions/1/s")) == ["renditions/1/s.webp"]
        assert keys(bucket.list("nothing")) == []

    def test_delimiter_rolls_up_common_prefixes(self, bucket: Bucket) -> None:
        for name in ("a.jpg", "photos/1.jpg", "photos/2/x.jpg", "videos/v.mp4", "z"):
            bucket.put(name, b"x")
        top = bucket.list(delimiter="/")
        assert keys(top) == ["a.jpg", "z"]
        assert top.common_prefixes == ["photos/", "videos/"]
        inner = bucket.list("photos/", delimiter="/")
        assert keys(inner) == ["photos/1.jpg"]
        assert inner.common_prefixes == ["photos/2/"]

    def test_any_delimiter(self, bucket: Bucket) -> None:
        for name in ("a-b/c", "a-d", "a/x", "b", "2026-01-02.jpg", "2026-01-03.jpg"):
            bucket.put(name, b"x")
        listed = bucket.list(delimiter="-")
        assert listed.common_prefixes == ["2026-", "a-"]
        assert keys(listed) == ["a/x", "b"]
        assert bucket.list("2026-", delimiter="-").common_prefixes == ["2026-01-"]
        assert bucket.list(delimiter="-0").common_prefixes == ["2026-0"]

    def test_a_common_prefix_goes_with_its_last_object(self, bucket: Bucket) -> None:
        bucket.put("a/b/c", b"x")
        bucket.put("a/d", b"x")
        bucket.delete("a/b/c")
        assert bucket.list("a/", delimiter="/").common_prefixes == []
        bucket.delete("a/d")
        assert bucket.list(delimiter="/").common_prefixes == []

    def test_pagination_over_2500_keys(self, bucket: Bucket) -> None:
        names = [f"{i:04d}.jpg" for i in range(1250)] + [f"{i:04d}/thumb.webp" for i in range(1250)]
        for name in names:
            bucket.put(name, b"")
        first = bucket.list(max_keys=1000)
        assert first.is_truncated and first.key_count == 1000
        found, prefixes, pages = everything(bucket, max_keys=1000)
        assert (found, prefixes, pages) == (in_key_order(names), [], 3)

        # With the delimiter, the 1,250 folders count as entries next to the 1,250 files.
        found, prefixes, pages = everything(bucket, max_keys=1000, delimiter="/")
        assert found == [f"{i:04d}.jpg" for i in range(1250)]
        assert prefixes == [f"{i:04d}/" for i in range(1250)]
        assert pages == 3
        page = bucket.list(max_keys=1000, delimiter="/")
        assert keys(page)[-1] == "0499.jpg"
        assert page.common_prefixes[-1] == "0499/"

    def test_pages_with_prefix_and_delimiter(self, bucket: Bucket) -> None:
        names = [f"d/{i:02d}/x" for i in range(30)] + [f"d/{i:02d}.jpg" for i in range(30)]
        for name in [*names, "e/1", "c"]:
            bucket.put(name, b"")
        found, prefixes, pages = everything(bucket, prefix="d/", delimiter="/", max_keys=7)
        assert found == [f"d/{i:02d}.jpg" for i in range(30)]
        assert prefixes == [f"d/{i:02d}/" for i in range(30)]
        assert pages == 9
        assert everything(bucket, prefix="d/", max_keys=11)[0] == in_key_order(names)

    def test_keys_put_behind_the_token_are_not_listed_again(self, bucket: Bucket) -> None:
        for name in ("b", "d", "f"):
            bucket.put(name, b"")
        page = bucket.list(max_keys=2)
        bucket.put("a", b"")
        bucket.put("e", b"")
        rest = bucket.list(max_keys=2, continuation_token=page.next_continuation_token)
        assert keys(page) + keys(rest) == ["b", "d", "e", "f"]

    @pytest.mark.parametrize(
        "options",
        [
            {"max_keys": 0},
            {"max_keys": 1001},
            {"max_keys": True},
            {"delimiter": ""},
            {"continuation_token": "not a token!"},
            {"continuation_token": 5},
            {"prefix": None},
        ],
    )
    def test_invalid_listing_parameters(self, bucket: Bucket, options: dict[str, Any]) -> None:
        with pytest.raises(InvalidArgument):
            bucket.list(**options)

    def test_the_notification_configuration_is_not_an_object(
        self, bucket: Bucket, messaging: MessagingEngine
    ) -> None:
        Queue.create(messaging, "uploads")
        bucket.put_notification_configuration(queue_configuration())
        assert keys(bucket.list()) == []


# --- notifications ---------------------------------------------------------------------------


def queue_configuration(
    events: list[str] | None = None, rules: list[dict[str, str]] | None = None, **extra: Any
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "Id": "uploads",
        "QueueArn": "arn:aws:sqs:us-east-1:000000000000:uploads",
        "Events": ["s3:ObjectCreated:*"] if events is None else events,
        **extra,
    }
    if rules:
        entry["Filter"] = {"Key": {"FilterRules": rules}}
    return {"QueueConfigurations": [entry]}


def records(queue: Queue) -> list[dict[str, Any]]:
    """The S3 event records waiting in a queue, in order."""
    found = []
    while batch := queue.receive(10):
        for message in batch:
            [record] = json.loads(message.body)["Records"]
            found.append(record)
            queue.delete(message.receipt_handle)
    return found


class TestNotifications:
    @pytest.fixture
    def uploads(self, messaging: MessagingEngine) -> Queue:
        return Queue.create(messaging, "uploads")

    def test_a_put_sends_the_s3_event_to_a_queue(
        self, bucket: Bucket, uploads: Queue, clock: ManualClock
    ) -> None:
        bucket.put_notification_configuration(queue_configuration())
        body = b"picture"
        bucket.put("originals/red flower+1.jpg", body)
        [record] = records(uploads)
        assert record["eventVersion"] == "2.1"
        assert record["eventSource"] == "aws:s3"
        assert record["awsRegion"] == "us-east-1"
        assert record["eventTime"] == "2026-01-01T00:00:00.000Z"  # the manual clock's start
        assert record["eventName"] == "ObjectCreated:Put"
        s3 = record["s3"]
        assert s3["configurationId"] == "uploads"
        assert s3["bucket"]["name"] == "images"
        assert s3["bucket"]["arn"] == "arn:aws:s3:::images"
        assert s3["object"]["key"] == "originals/red+flower%2B1.jpg"  # URL-encoded, as S3 does
        assert unquote_plus(s3["object"]["key"]) == "originals/red flower+1.jpg"
        assert s3["object"]["size"] == len(body)
        assert s3["object"]["eTag"] == hashlib.md5(body).hexdigest()  # no quotes
        assert isinstance(s3["object"]["sequencer"], str)

    def test_a_delete_sends_object_removed(self, bucket: Bucket, uploads: Queue) -> None:
        bucket.put_notification_configuration(
            queue_configuration(["s3:ObjectCreated:Put", "s3:ObjectRemoved:*"])
        )
        bucket.put("a.jpg", b"x")
        bucket.delete("a.jpg")
        bucket.delete_many(["b.jpg", "c.jpg"])  # missing keys: S3 still sends the events
        created, *removed = records(uploads)
        assert [r["eventName"] for r in removed] == ["ObjectRemoved:Delete"] * 3
        assert [r["s3"]["object"]["key"] for r in removed] == ["a.jpg", "b.jpg", "c.jpg"]
        assert "eTag" not in removed[0]["s3"]["object"]
        assert "size" not in removed[0]["s3"]["object"]
        # Later events of a key have a greater sequencer.
        assert removed[0]["s3"]["object"]["sequencer"] > created["s3"]["object"]["sequencer"]

    def test_only_the_configured_events(self, bucket: Bucket, uploads: Queue) -> None:
        bucket.put_notification_configuration(queue_configuration(["s3:ObjectRemoved:Delete"]))
        bucket.put("a.jpg", b"x")
        assert records(uploads) == []
        bucket.delete("a.jpg")
        assert [r["eventName"] for r in records(uploads)] == ["ObjectRemoved:Delete"]

    def test_prefix_and_suffix_filter_rules(self, bucket: Bucket, uploads: Queue) -> None:
        rules = [{"Name": "Prefix", "Value": "originals/"}, {"Name": "suffix", "Value": ".jpg"}]
        bucket.put_notification_configuration(queue_configuration(rules=rules))
        for name in ("originals/a.jpg", "originals/a.png", "renditions/a.jpg", "originals/b.jpg"):
            bucket.put(name, b"x")
        sent = [r["s3"]["object"]["key"] for r in records(uploads)]
        assert sent == ["originals/a.jpg", "originals/b.jpg"]

    def test_to_a_topic_with_a_queue_subscribed(
        self, bucket: Bucket, messaging: MessagingEngine
    ) -> None:
        topic = Topic.create(messaging, "uploaded")
        audit = Queue.create(messaging, "audit")
        topic.subscribe("sqs", audit.arn)
        bucket.put_notification_configuration(
            {
                "TopicConfigurations": [
                    {
                        "Id": "fan-out",
                        "TopicArn": topic.arn,
                        "Events": ["s3:ObjectCreated:*"],
                    }
                ]
            }
        )
        bucket.put("a.jpg", b"x")
        [message] = audit.receive(10)
        envelope = json.loads(message.body)
        assert envelope["Subject"] == "Amazon S3 Notification"
        assert envelope["TopicArn"] == topic.arn
        [record] = json.loads(envelope["Message"])["Records"]
        assert record["eventName"] == "ObjectCreated:Put"
        assert record["s3"]["configurationId"] == "fan-out"

    def test_to_a_function_through_its_delivery_queue(
        self, bucket: Bucket, messaging: MessagingEngine, clock: ManualClock
    ) -> None:
        bucket.put_notification_configuration(
            {
                "LambdaFunctionConfigurations": [
                    {
                        "LambdaFunctionArn": FUNCTION_ARN,
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "o/"}]}},
                    }
                ]
            }
        )
        bucket.put("o/cat.jpg", b"meow")
        waiting = Queue(messaging, function_queue("thumbnailer"))
        [message] = waiting.receive(10, visibility_timeout=0)
        pending = PendingDelivery.from_message(message.body)
        assert (pending.protocol, pending.endpoint, pending.style) == (
            "lambda",
            "thumbnailer",
            "events",
        )
        [record] = json.loads(pending.payload)["Records"]
        assert record["s3"]["object"]["key"] == "o/cat.jpg"
        # A host running the function gets the S3 event.
        events: list[Any] = []
        Dispatcher(messaging, function="thumbnailer", handler=events.append, clock=clock).run_once()
        assert events[0]["Records"][0]["s3"]["object"]["eTag"] == hashlib.md5(b"meow").hexdigest()

    def test_each_matching_configuration_gets_its_message(
        self, bucket: Bucket, uploads: Queue, messaging: MessagingEngine
    ) -> None:
        other = Queue.create(messaging, "removals")
        bucket.put_notification_configuration(
            {
                "QueueConfigurations": [
                    {"Id": "c", "QueueArn": uploads.arn, "Events": ["s3:ObjectCreated:*"]},
                    {"Id": "r", "QueueArn": other.arn, "Events": ["s3:ObjectRemoved:*"]},
                ]
            }
        )
        bucket.put("k", b"x")
        bucket.delete("k")
        assert [r["eventName"] for r in records(uploads)] == ["ObjectCreated:Put"]
        assert [r["eventName"] for r in records(other)] == ["ObjectRemoved:Delete"]

    def test_the_configuration_is_kept_with_ids(self, bucket: Bucket, uploads: Queue) -> None:
        assert bucket.notification_configuration() == {}
        configuration = queue_configuration()
        del configuration["QueueConfigurations"][0]["Id"]
        bucket.put_notification_configuration(configuration)
        [kept] = bucket.notification_configuration()["QueueConfigurations"]
        assert kept["QueueArn"] == uploads.arn
        assert kept["Events"] == ["s3:ObjectCreated:*"]
        assert kept["Id"]
        bucket.put_notification_configuration({})
        assert bucket.notification_configuration() == {}
        bucket.put("k", b"x")
        assert records(uploads) == []

    def test_a_deleted_target_does_not_fail_the_put(
        self, bucket: Bucket, uploads: Queue, messaging: MessagingEngine
    ) -> None:
        other = Queue.create(messaging, "other")
        bucket.put_notification_configuration(
            {
                "QueueConfigurations": [
                    {"Id": "a", "QueueArn": uploads.arn, "Events": ["s3:ObjectCreated:*"]},
                    {
                        "Id": "b",
                        "QueueArn": other.arn,
                        "Events": ["s3:ObjectRemoved:*"],
                    },
                ]
            }
        )
        messaging.delete_queue("uploads")
        bucket.put("k", b"x")
        assert bucket.get("k").body == b"x"
        bucket.delete("k")
        assert len(records(other)) == 1

    @pytest.mark.parametrize(
        "configuration",
        [
            queue_configuration(["s3:ObjectCreated:Copy"]),
            queue_configuration(["s3:ObjectCreated"]),
            queue_configuration([]),
            queue_configuration(QueueArn="arn:aws:sqs:us-east-1:000000000000:missing"),
            queue_configuration(QueueArn="uploads"),
            queue_configuration(QueueArn="arn:aws:sns:us-east-1:000000000000:uploads"),
            queue_configuration(rules=[{"Name": "prefix", "Value": "a"}] * 2),
            queue_configuration(rules=[{"Name": "regex", "Value": "a"}]),
            queue_configuration(Filter={"Key": {"Rules": []}}),
            queue_configuration(Unknown=1),
            {"TopicConfigurations": [{"TopicArn": "arn:aws:sns:us-east-1:0:nope", "Events": []}]},
            {
                "TopicConfigurations": [
                    {"TopicArn": "arn:aws:sns:us-east-1:0:nope", "Events": ["s3:ObjectCreated:*"]}
                ]
            },
            {"LambdaFunctionConfigurations": [{"LambdaFunctionArn": "thumbnailer"}]},
            {"EventBridgeConfiguration": {}},
            {"QueueConfigurations": {}},
            [],
        ],
    )
    def test_invalid_configurations_are_refused_and_change_nothing(
        self, bucket: Bucket, uploads: Queue, configuration: Any
    ) -> None:
        bucket.put_notification_configuration(queue_configuration())
        before = bucket.notification_configuration()
        with pytest.raises(InvalidArgument):
            bucket.put_notification_configuration(configuration)
        assert bucket.notification_configuration() == before

    def test_a_fifo_queue_is_no_destination(
        self, bucket: Bucket, messaging: MessagingEngine
    ) -> None:
        fifo = Queue.create(messaging, "uploads.fifo", {"FifoQueue": "true"})
        with pytest.raises(InvalidArgument, match="FIFO"):
            bucket.put_notification_configuration(queue_configuration(QueueArn=fifo.arn))

    @pytest.mark.parametrize(
        ("first", "second", "overlap"),
        [
            ({"prefix": "a/"}, {"prefix": "a/b/"}, True),
            ({"prefix": "a/"}, {"suffix": ".jpg"}, True),
            ({"suffix": ".jpg"}, {"suffix": "x.jpg"}, True),
            ({}, {}, True),
            ({"prefix": "originals/"}, {"prefix": "renditions/"}, False),
            ({"suffix": ".jpg"}, {"suffix": ".png"}, False),
        ],
    )
    def test_overlapping_configurations_are_refused(
        self,
        bucket: Bucket,
        messaging: MessagingEngine,
        first: dict[str, str],
        second: dict[str, str],
        overlap: bool,
    ) -> None:
        def entry(name: str, rules: dict[str, str], event: str) -> dict[str, Any]:
            queue = Queue.create(messaging, name)
            filter_rules = [{"Name": k, "Value": v} for k, v in rules.items()]
            return {
                "Id": name,
                "QueueArn": queue.arn,
                "Events": [event],
                "Filter": {"Key": {"FilterRules": filter_rules}},
            }

        shared = [
            entry("one", first, "s3:ObjectCreated:*"),
            entry("two", second, "s3:ObjectCreated:Put"),
        ]
        if overlap:
            with pytest.raises(InvalidArgument, match="overlap"):
                bucket.put_notification_configuration({"QueueConfigurations": shared})
        else:
            bucket.put_notification_configuration({"QueueConfigurations": shared})
        # Different event types never overlap.
        apart = [
            entry("three", first, "s3:ObjectCreated:*"),
            entry("four", second, "s3:ObjectRemoved:*"),
        ]
        bucket.put_notification_configuration({"QueueConfigurations": apart})

    def test_targets_need_a_messaging_engine(self, objects: ObjectEngine, uploads: Queue) -> None:
        plain = Bucket.create(objects, "plain")
        plain.put_notification_configuration({})
        with pytest.raises(InvalidArgument, match="messaging engine"):
            plain.put_notification_configuration(queue_configuration())
        assert plain.notification_configuration() == {}


# --- presigned URLs --------------------------------------------------------------------------


def signed(url: str) -> tuple[str, str]:
    query = parse_qs(urlsplit(url).query)
    return query["X-Archlab-Expires"][0], query["X-Archlab-Signature"][0]


class TestPresignedUrls:
    def test_a_presigned_url_is_valid_until_it_expires(
        self, bucket: Bucket, clock: ManualClock
    ) -> None:
        url = bucket.presign("GET", "originals/red flower.jpg", 600, "http://127.0.0.1:9000/")
        assert url.startswith("http://127.0.0.1:9000/images/originals/red%20flower.jpg?")
        expires, signature = signed(url)
        assert int(expires) == int(clock.now()) + 600
        bucket.verify_presigned("GET", "originals/red flower.jpg", expires, signature)
        clock.advance(600)
        bucket.verify_presigned("GET", "originals/red flower.jpg", int(expires), signature)
        clock.advance(1)
        with pytest.raises(AccessDenied, match="Request has expired") as raised:
            bucket.verify_presigned("GET", "originals/red flower.jpg", expires, signature)
        assert raised.value.code == "AccessDenied"

    def test_a_signature_covers_method_bucket_key_and_expiry(
        self, bucket: Bucket, objects: ObjectEngine, clock: ManualClock
    ) -> None:
        expires, signature = signed(bucket.presign("PUT", "a.jpg", 60, "https://images.test"))
        bucket.verify_presigned("PUT", "a.jpg", expires, signature)
        tampered = ("0" if signature[0] != "0" else "1") + signature[1:]
        other_bucket = Bucket(objects, "other", signing_key=SIGNING_KEY, clock=clock)
        other_key = Bucket(objects, "images", signing_key=b"o" * 32, clock=clock)
        for verify in (
            lambda: bucket.verify_presigned("PUT", "a.jpg", expires, tampered),
            lambda: bucket.verify_presigned("GET", "a.jpg", expires, signature),
            lambda: bucket.verify_presigned("PUT", "b.jpg", expires, signature),
            lambda: bucket.verify_presigned("PUT", "a.jpg", int(expires) + 3600, signature),
            lambda: bucket.verify_presigned("PUT", "a.jpg", "soon", signature),
            lambda: bucket.verify_presigned("PUT", "a.jpg", expires, ""),
            lambda: bucket.verify_presigned("PUT", "a.jpg", expires, "ü" * 64),
            lambda: other_bucket.verify_presigned("PUT", "a.jpg", expires, signature),
            lambda: other_key.verify_presigned("PUT", "a.jpg", expires, signature),
        ):
            with pytest.raises(AccessDenied):
                verify()

    @pytest.mark.parametrize(
        ("method", "key", "expires_in", "base_url"),
        [
            ("DELETE", "k", 60, "http://h"),
            ("GET", "../k", 60, "http://h"),
            ("GET", "k", 0, "http://h"),
            ("GET", "k", 604_801, "http://h"),
            ("GET", "k", 1.5, "http://h"),
            ("GET", "k", 60, "ftp://h"),
            ("GET", "k", 60, "not a url"),
        ],
    )
    def test_invalid_presign_requests(
        self, bucket: Bucket, method: Any, key: str, expires_in: Any, base_url: str
    ) -> None:
        with pytest.raises(InvalidArgument):
            bucket.presign(method, key, expires_in, base_url)

    def test_the_longest_expiry_is_a_week(self, bucket: Bucket) -> None:
        bucket.presign("GET", "k", 604_800, "http://h")

    def test_signing_needs_a_key_of_32_bytes(self, objects: ObjectEngine) -> None:
        with pytest.raises(InvalidArgument, match="signing key"):
            Bucket(objects, "images").presign("GET", "k", 60, "http://h")
        with pytest.raises(InvalidArgument):
            Bucket(objects, "images", signing_key=b"short")


# --- the file engine's URLs ------------------------------------------------------------------


class TestFileUrls:
    def test_relative_and_absolute_paths(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        Bucket.create(connect_objects("file:///relative/objects"), "images").put("k", b"r")
        assert (tmp_path / "relative" / "objects" / "images").is_dir()
        absolute = tmp_path / "absolute"
        Bucket.create(connect_objects(f"file:///{absolute}"), "images").put("k", b"a")
        assert (absolute / "images").is_dir()

    @pytest.mark.parametrize(
        "url",
        ["file://host/objects", "file:///", "file://", "file:///x?sync=no", "s3://images", "x", 5],
    )
    def test_invalid_urls(self, url: Any) -> None:
        with pytest.raises(InvalidEngineUrl):
            connect_objects(url)


class TestSqliteUrls:
    def test_objects_live_in_the_named_database(self, tmp_path: Path) -> None:
        Bucket.create(connect_objects(f"sqlite:///{tmp_path}/db.sqlite"), "images").put("k", b"x")
        assert (tmp_path / "db.sqlite").is_file()
        assert not (tmp_path / "images").exists()

    @pytest.mark.parametrize(
        "url", ["sqlite://host/db", "sqlite:///", "sqlite://", "sqlite:///x.db?mode=ro"]
    )
    def test_invalid_urls(self, url: str) -> None:
        with pytest.raises(InvalidEngineUrl, match="sqlite"):
            connect_objects(url)


def test_every_error_carries_s3s_code() -> None:
    codes = {
        NoSuchBucket: "NoSuchBucket",
        NoSuchKey: "NoSuchKey",
        InvalidRange: "InvalidRange",
        InvalidBucketName: "InvalidBucketName",
        KeyTooLongError: "KeyTooLongError",
        MetadataTooLarge: "MetadataTooLarge",
        InvalidArgument: "InvalidArgument",
        AccessDenied: "AccessDenied",
    }
    for error, code in codes.items():
        assert issubclass(error, StorageError)
        assert error("x").code == code


# --- real processes --------------------------------------------------------------------------


def test_an_acknowledged_put_survives_sigkill(objects_url: str) -> None:
    """A process puts objects and reports each one the engine acknowledged; it is SIGKILLed
    mid-stream: every acknowledged object is there, whole."""
    bucket = Bucket.create(connect_objects(objects_url), "images")
    code = textwrap.dedent(
        f"""
        import itertools
        from archlab.blocks.bucket import Bucket
        from archlab.engines.objectstore import connect_objects
        bucket = Bucket(connect_objects({objects_url!r}), "images")
        for n in itertools.count():
            bucket.put(f"photo-{{n}}", str(n).encode() * 10_000)
            print(n, flush=True)
        """
    )
    writer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None
    acknowledged = [int(writer.stdout.readline()) for _ in range(30)]
    writer.send_signal(signal.SIGKILL)
    acknowledged += [int(line) for line in writer.stdout.read().split()]
    writer.wait(timeout=10)
    for n in acknowledged:
        assert bucket.get(f"photo-{n}").body == str(n).encode() * 10_000
    listed = [int(key.removeprefix("photo-")) for key in keys(bucket.list())]
    assert set(acknowledged) <= set(listed) <= set(acknowledged) | {max(acknowledged) + 1}


def test_a_reader_never_sees_a_torn_object(objects_url: str) -> None:
    """One process rewrites a key with 1 MB bodies of 'a' and 'b' (metadata naming the letter)
    while this one reads it: every read is one whole body with its own ETag and metadata."""
    bodies = {letter: letter.encode() * 1_048_576 for letter in "ab"}
    etags = {letter: md5_etag(body) for letter, body in bodies.items()}
    bucket = Bucket.create(connect_objects(objects_url), "images")
    bucket.put("photo.jpg", bodies["a"], metadata={"letter": "a"})
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import itertools
                from archlab.blocks.bucket import Bucket
                from archlab.engines.objectstore import connect_objects
                bucket = Bucket(connect_objects({objects_url!r}), "images")
                for count, letter in enumerate(itertools.cycle("ba")):
                    body = letter.encode() * 1_048_576
                    bucket.put("photo.jpg", body, metadata={{"letter": letter}})
                    if count == 1:
                        print("writing", flush=True)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline() == "writing\n"
        seen = set()
        for _ in range(200):
            got = bucket.get("photo.jpg")
            letter = got.metadata["letter"]
            assert got.body == bodies[letter]
            assert got.etag == etags[letter] == md5_etag(got.body)
            assert got.size == len(got.body)
            assert keys(bucket.list()) == ["photo.jpg"]  # no temporary file is ever listed
            seen.add(letter)
        assert writer.poll() is None, "the writer stopped early"
        assert seen == {"a", "b"}, "the reads did not overlap the writes"
    finally:
        writer.kill()
        writer.wait(timeout=10)
