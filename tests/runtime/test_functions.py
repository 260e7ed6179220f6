"""Functions: the queue event source mapping in process, and a function host under the supervisor
triggered by a queue, a topic, a bus rule and a schedule."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from archlab.blocks import EventBus, Queue, Topic
from archlab.engines import connect
from archlab.engines.base import MessagingEngine
from archlab.runtime.functions import QueuePoller, scheduled_event
from archlab.runtime.supervisor import read_state, supervised
from archlab.topology import Edge, Function, Profile, Topology, Trigger
from archlab.topology import EventBus as EventBusNode
from archlab.topology import Queue as QueueNode
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


def test_scheduled_event_shape() -> None:
    event = scheduled_event("demo-tick")
    assert event["source"] == "aws.events" and event["detail-type"] == "Scheduled Event"
    assert event["resources"][0].endswith("rule/demo-tick-schedule")


def test_a_function_host_runs_every_trigger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = str(tmp_path / "events.txt")
    monkeypatch.setenv("ARCHLAB_TEST_OUTPUT", output)
    topology = Topology(
        system="demo",
        profile=Profile(name="test"),
        nodes=(
            QueueNode(id="jobs"),
            TopicNode(id="news"),
            EventBusNode(id="events"),
            Function(id="recorder", handler="tests.runtime.handlers:record_event", schedule_s=0.5),
        ),
        edges=(
            Edge(source="jobs", target="recorder", kind="triggers", trigger=Trigger(batch_size=5)),
            Edge(source="news", target="recorder", kind="subscribes"),
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

        def seen() -> set[str | None]:
            return {json.loads(line)["source"] for line in lines(output)}

        eventually(lambda: {"aws:sqs", "aws:sns", "claims", "aws.events"} <= seen())
    assert read_state(tmp_path / "home") is None  # the state is gone once stopped
