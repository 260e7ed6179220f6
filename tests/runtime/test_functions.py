"""Functions: the queue event source mapping in process, and a function host under the supervisor
triggered by a queue, a topic, a bus rule and a schedule."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archlab.blocks import EventBus, Queue, Topic
from archlab.blocks.stream import Stream
from archlab.clock import ManualClock
from archlab.engines import connect
from archlab.engines.base import MessagingEngine
from archlab.engines.streams import connect_streams
from archlab.runtime.functions import QueuePoller, StreamPoller, scheduled_event
from archlab.runtime.supervisor import read_state, supervised
from archlab.topology import Edge, Function, Profile, Topology, Trigger
from archlab.topology import EventBus as EventBusNode
from archlab.topology import Queue as QueueNode
from archlab.topology import Stream as StreamNode
from archlab.topology import Topic as TopicNode
from tests.runtime.handlers import lines
from tests.runtime.test_workers import eventually


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[MessagingEngine]:
    engine = connect(f"sqlite:///{tmp_path}/messaging.db")
    yield engine
    engine.close()


@pytest.fixture
def queue(engine: MessagingEngine) -> Queue:
    return Queue.create(engine, "orders", {"VisibilityTimeout": 60})


def in_flight(queue: Queue) -> int:
    return int(queue.attributes()["ApproximateNumberOfMessagesNotVisible"])


def waiting(queue: Queue) -> int:
    return int(queue.attributes()["ApproximateNumberOfMessages"])


def test_the_handler_gets_an_sqs_event_and_a_returned_batch_is_deleted(queue: Queue) -> None:
    attributes = {"coverage": {"DataType": "String", "StringValue": "car"}}
    queue.send("first", message_attributes=attributes)
    queue.send("second")
    events: list[Any] = []
    poller = QueuePoller(queue, Trigger(batch_size=10), events.append)
    assert poller.poll_once(wait_seconds=0) == 2
    records = events[0]["Records"]
    assert [r["body"] for r in records] == ["first", "second"]
    assert records[0]["eventSource"] == "aws:sqs"
    assert records[0]["eventSourceARN"].endswith(":orders")
    assert records[0]["messageAttributes"]["coverage"]["stringValue"] == "car"
    assert records[0]["attributes"]["ApproximateReceiveCount"] == "1"
    assert waiting(queue) == 0 and in_flight(queue) == 0


def test_reported_item_failures_come_back_and_the_rest_is_deleted(queue: Queue) -> None:
    for body in ("a", "b", "c"):
        queue.send(body)

    def handler(event: Any) -> dict[str, Any]:
        failed = [r["messageId"] for r in event["Records"] if r["body"] == "b"]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}

    QueuePoller(queue, Trigger(), handler).poll_once(wait_seconds=0)
    assert in_flight(queue) == 1  # "b", back after its visibility timeout


@pytest.mark.parametrize(
    "response",
    [
        {"batchItemFailures": [{"itemIdentifier": "not-in-the-batch"}]},
        {"batchItemFailures": "everything"},
        RuntimeError("the handler failed"),
    ],
)
def test_an_invalid_response_or_an_error_fails_the_whole_batch(queue: Queue, response: Any) -> None:
    queue.send("a")
    queue.send("b")

    def handler(event: Any) -> Any:
        if isinstance(response, Exception):
            raise response
        return response

    QueuePoller(queue, Trigger(), handler).poll_once(wait_seconds=0)
    assert in_flight(queue) == 2


def test_without_item_failure_reporting_a_return_deletes_everything(queue: Queue) -> None:
    queue.send("a")
    handler = lambda event: {"batchItemFailures": [{"itemIdentifier": "x"}]}  # noqa: E731
    QueuePoller(queue, Trigger(report_batch_item_failures=False), handler).poll_once(0)
    assert in_flight(queue) == 0 and waiting(queue) == 0


def test_the_batching_window_gathers_messages_sent_meanwhile(queue: Queue) -> None:
    queue.send("early")
    sizes: list[int] = []
    poller = QueuePoller(
        queue,
        Trigger(batch_size=3, batching_window_s=1.0),
        lambda e: sizes.append(len(e["Records"])),
    )
    sender = threading.Timer(0.2, lambda: [queue.send("late 1"), queue.send("late 2")])
    sender.start()
    started = time.monotonic()
    poller.poll_once(wait_seconds=0)
    sender.join()
    assert sizes == [3]
    assert time.monotonic() - started < 1.0  # a full batch does not wait out the window


@pytest.fixture
def stream(tmp_path: Path) -> Stream:
    engine = connect_streams(f"sqlite:///{tmp_path}/streams.db", ManualClock())
    return Stream.create(engine, "clicks", 1)


def put(stream: Stream, *bodies: str) -> None:
    stream.put_records([{"Data": body.encode(), "PartitionKey": "k"} for body in bodies])


def shard_poller(stream: Stream, handler: Any, **trigger: Any) -> StreamPoller:
    shard = stream.describe().shards[0].shard_id
    return StreamPoller(stream, shard, "recorder", Trigger(**trigger), handler)


def bodies(event: dict[str, Any]) -> list[str]:
    return [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]


def test_a_shard_is_read_in_order_in_batches_and_checkpointed(stream: Stream) -> None:
    put(stream, "a", "b", "c")
    events: list[Any] = []
    poller = shard_poller(stream, events.append, batch_size=2)
    assert poller.poll_once() == 2 and poller.poll_once() == 1 and poller.poll_once() == 0
    assert [bodies(e) for e in events] == [["a", "b"], ["c"]]
    record = events[0]["Records"][0]
    assert record["eventSource"] == "aws:kinesis" and record["eventName"] == "aws:kinesis:record"
    assert record["eventSourceARN"] == stream.arn and record["kinesis"]["partitionKey"] == "k"
    shard = stream.describe().shards[0].shard_id
    assert (
        stream.get_checkpoint("recorder", shard)
        == events[1]["Records"][0]["kinesis"]["sequenceNumber"]
    )
    again: list[Any] = []  # a new host resumes after the checkpoint
    put(stream, "d")
    shard_poller(stream, again.append).poll_once()
    assert [bodies(e) for e in again] == [["d"]]


def test_a_failing_batch_is_read_again_and_nothing_after_it_goes_first(stream: Stream) -> None:
    put(stream, "a", "b")
    seen: list[list[str]] = []

    def flaky(event: Any) -> None:
        seen.append(bodies(event))
        if len(seen) == 1:
            raise RuntimeError("the backend is down")

    poller = shard_poller(stream, flaky, batch_size=10)
    poller.poll_once()
    put(stream, "c")
    poller.poll_once()
    assert seen == [["a", "b"], ["a", "b", "c"]]


def test_reported_failures_checkpoint_up_to_the_first_and_read_from_it(stream: Stream) -> None:
    put(stream, "a", "b", "c")
    seen: list[list[str]] = []

    def handler(event: Any) -> dict[str, Any]:
        seen.append(bodies(event))
        failed = [
            r["kinesis"]["sequenceNumber"]
            for r in event["Records"]
            if len(seen) == 1 and base64.b64decode(r["kinesis"]["data"]) == b"b"
        ]
        return {"batchItemFailures": [{"itemIdentifier": n} for n in failed]}

    poller = shard_poller(stream, handler)
    poller.poll_once()
    poller.poll_once()
    assert seen == [["a", "b", "c"], ["b", "c"]]


def test_latest_starts_after_what_is_there(stream: Stream) -> None:
    put(stream, "old")
    events: list[Any] = []
    poller = shard_poller(stream, events.append, starting_position="LATEST")
    assert poller.poll_once() == 0
    put(stream, "new")
    poller.poll_once()
    assert [bodies(e) for e in events] == [["new"]]


def test_a_queue_batch_is_at_most_ten_messages() -> None:
    with pytest.raises(ValueError, match="at most 10 messages"):
        Topology(
            system="demo",
            profile=Profile(name="test"),
            nodes=(QueueNode(id="jobs"), Function(id="f", handler="tests.runtime.handlers:record")),
            edges=(
                Edge(source="jobs", target="f", kind="triggers", trigger=Trigger(batch_size=11)),
            ),
        )


def test_scheduled_event_shape() -> None:
    event = scheduled_event("demo-tick")
    assert event["source"] == "aws.events" and event["detail-type"] == "Scheduled Event"
    assert event["resources"][0].endswith("rule/demo-tick-schedule")


def test_a_function_host_runs_every_trigger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = str(tmp_path / "events.txt")
    monkeypatch.setenv("ARCHLAB_TEST_OUTPUT", output)
    streams_url = f"sqlite:///{tmp_path}/streams.db"
    monkeypatch.setenv("ARCHLAB_STREAMS_URL", streams_url)
    topology = Topology(
        system="demo",
        profile=Profile(name="test"),
        nodes=(
            QueueNode(id="jobs"),
            TopicNode(id="news"),
            EventBusNode(id="events"),
            StreamNode(id="clicks", shards=2),
            Function(id="recorder", handler="tests.runtime.handlers:record_event", schedule_s=0.5),
        ),
        edges=(
            Edge(source="jobs", target="recorder", kind="triggers", trigger=Trigger(batch_size=5)),
            Edge(source="news", target="recorder", kind="subscribes"),
            Edge(source="clicks", target="recorder", kind="triggers"),
            Edge(
                source="events",
                target="recorder",
                kind="subscribes",
                rule="claims",
                event_pattern={"source": ["claims"]},
            ),
        ),
    )
    url = f"sqlite:///{tmp_path}/messaging.db"
    with supervised([topology], tmp_path / "home", url):
        state = read_state(tmp_path / "home")
        assert state is not None and state["functions"][0]["function"] == "demo-recorder"
        engine = connect(url)
        Queue(engine, "demo-jobs").send("a job")
        Topic(engine, "demo-news").publish("some news")
        entry = {"Source": "claims", "DetailType": "ClaimFiled", "Detail": "{}"}
        EventBus(engine, "demo-events").put_events([entry])
        engine.close()
        put(Stream(connect_streams(streams_url), "demo-clicks"), "a click")

        def seen() -> set[str | None]:
            return {json.loads(line)["source"] for line in lines(output)}

        eventually(lambda: {"aws:sqs", "aws:sns", "claims", "aws.events", "aws:kinesis"} <= seen())
    assert read_state(tmp_path / "home") is None  # the state is gone once stopped
