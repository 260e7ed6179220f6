"""Topic conformance: SNS fan-out to queues with filter policies, against the block API only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from archlab.blocks import Queue, Topic
from archlab.blocks.errors import InvalidParameter, QueueDoesNotExist, TopicDoesNotExist
from archlab.clock import ManualClock
from archlab.engines import connect
from archlab.engines.base import MessagingEngine, OutgoingMessage


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[MessagingEngine]:
    engine = connect(f"sqlite:///{tmp_path}/messaging.db", clock=ManualClock())
    yield engine
    engine.close()


def coverage(value: str) -> dict[str, dict[str, str]]:
    return {"coverage": {"DataType": "String", "StringValue": value}}


def bodies(queue: Queue) -> list[str]:
    return [m.body for m in queue.receive(10)]


@pytest.fixture
def purchases(engine: MessagingEngine) -> tuple[Topic, dict[str, Queue]]:
    """The notes' fan-out: one queue per coverage type, each with its filter policy."""
    topic = Topic.create(engine, "purchases")
    queues = {name: Queue.create(engine, name) for name in ("car", "home", "audit")}
    for name in ("car", "home"):
        topic.subscribe(
            "sqs",
            queues[name].arn,
            {"FilterPolicy": {"coverage": [name]}, "RawMessageDelivery": "true"},
        )
    topic.subscribe("sqs", "audit")  # no policy: everything, in the SNS envelope
    return topic, queues


def test_fan_out_follows_filter_policies(purchases: tuple[Topic, dict[str, Queue]]) -> None:
    topic, queues = purchases
    topic.publish("car policy", message_attributes=coverage("car"))
    topic.publish("home policy", message_attributes=coverage("home"))
    topic.publish("boat policy", message_attributes=coverage("boat"))
    assert bodies(queues["car"]) == ["car policy"]
    assert bodies(queues["home"]) == ["home policy"]
    audit = [json.loads(body) for body in bodies(queues["audit"])]
    assert [n["Message"] for n in audit] == ["car policy", "home policy", "boat policy"]


def test_raw_delivery_keeps_attributes_and_the_envelope_carries_them(
    purchases: tuple[Topic, dict[str, Queue]],
) -> None:
    topic, queues = purchases
    message_id = topic.publish("car policy", subject="New", message_attributes=coverage("car"))
    [raw] = queues["car"].receive()
    assert raw.message_attributes == coverage("car")
    [wrapped] = queues["audit"].receive()
    notification = json.loads(wrapped.body)
    assert notification["Type"] == "Notification"
    assert notification["MessageId"] == message_id
    assert notification["TopicArn"] == topic.arn
    assert notification["Subject"] == "New"
    assert notification["MessageAttributes"] == {"coverage": {"Type": "String", "Value": "car"}}
    assert notification["Timestamp"].endswith("Z")


def test_body_scope_policies(engine: MessagingEngine) -> None:
    topic = Topic.create(engine, "orders")
    big = Queue.create(engine, "big")
    policy = {"order": {"premium": [{"numeric": [">=", 1000]}]}}
    topic.subscribe(
        "sqs",
        "big",
        {
            "FilterPolicy": json.dumps(policy),
            "FilterPolicyScope": "MessageBody",
            "RawMessageDelivery": True,
        },
    )
    topic.publish(json.dumps({"order": {"premium": 2500}}))
    topic.publish(json.dumps({"order": {"premium": 80}}))
    topic.publish("not JSON at all")
    assert [json.loads(b)["order"]["premium"] for b in bodies(big)] == [2500]


def test_fan_out_is_written_all_or_none(
    purchases: tuple[Topic, dict[str, Queue]], engine: MessagingEngine
) -> None:
    """The engine call a publish makes stores in every queue or in none."""
    _, queues = purchases
    batches = {
        "car": [OutgoingMessage("car policy")],
        "audit": [OutgoingMessage("car policy")],
        "gone": [OutgoingMessage("car policy")],
    }
    with pytest.raises(QueueDoesNotExist):
        engine.send_many(batches)
    assert bodies(queues["car"]) == [] and bodies(queues["audit"]) == []


def test_resubscribing_updates_and_unsubscribe_stops(
    purchases: tuple[Topic, dict[str, Queue]],
) -> None:
    topic, queues = purchases
    arn = topic.subscribe("sqs", "car", {"FilterPolicy": {"coverage": ["car", "van"]}})
    assert len(topic.subscriptions()) == 3
    topic.publish("van policy", message_attributes=coverage("van"))
    assert json.loads(bodies(queues["car"])[0])["Message"] == "van policy"
    topic.unsubscribe(arn)
    topic.publish("car policy", message_attributes=coverage("car"))
    assert bodies(queues["car"]) == []


@pytest.mark.parametrize(
    ("protocol", "endpoint", "attributes", "error"),
    [
        ("email", "someone@example.com", {}, InvalidParameter),
        ("sqs", "missing", {}, QueueDoesNotExist),
        ("sqs", "car", {"FilterPolicy": {"coverage": "car"}}, InvalidParameter),
        ("sqs", "car", {"FilterPolicy": {"a": [{"wildcard": "x*"}]}}, InvalidParameter),
        ("sqs", "car", {"FilterPolicyScope": "Body"}, InvalidParameter),
        ("sqs", "car", {"RawMessageDelivery": "maybe"}, InvalidParameter),
        ("sqs", "car", {"DeliveryPolicy": "{}"}, InvalidParameter),
    ],
)
def test_bad_subscriptions_change_nothing(
    purchases: tuple[Topic, dict[str, Queue]],
    protocol: str,
    endpoint: str,
    attributes: dict[str, object],
    error: type,
) -> None:
    topic, _ = purchases
    before = topic.subscriptions()
    with pytest.raises(error):
        topic.subscribe(protocol, endpoint, attributes)
    assert topic.subscriptions() == before


def test_bad_publishes_deliver_nothing(purchases: tuple[Topic, dict[str, Queue]]) -> None:
    topic, queues = purchases
    for kwargs in (
        {"message": ""},
        {"message": "x" * 262_145},
        {"message": "x", "message_attributes": {"n": {"DataType": "Number", "StringValue": "x"}}},
        {"message": "x", "message_attributes": {"n": {"DataType": "Colour", "StringValue": "x"}}},
    ):
        with pytest.raises(InvalidParameter):
            topic.publish(**kwargs)  # type: ignore[arg-type]
    assert bodies(queues["audit"]) == []


def test_unknown_topic(engine: MessagingEngine) -> None:
    with pytest.raises(TopicDoesNotExist) as raised:
        Topic(engine, "missing").publish("x")
    assert raised.value.code == "NotFound"
    with pytest.raises(InvalidParameter):
        Topic.create(engine, "bad name")
