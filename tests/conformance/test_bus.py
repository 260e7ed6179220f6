"""Event bus conformance: EventBridge rules, targets, transformation, archive and replay."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from archlab.blocks import EventBus, Queue, Topic
from archlab.blocks.errors import (
    EventBridgeValidation,
    InvalidEventPatternError,
    LimitExceeded,
    ResourceNotFound,
)
from archlab.clock import ManualClock
from archlab.engines import connect
from archlab.engines.base import MessagingEngine


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def engine(tmp_path: Path, clock: ManualClock) -> Iterator[MessagingEngine]:
    engine = connect(f"sqlite:///{tmp_path}/messaging.db", clock=clock)
    yield engine
    engine.close()


@pytest.fixture
def bus(engine: MessagingEngine, clock: ManualClock) -> EventBus:
    return EventBus.create(engine, "insurance", clock)


def purchase(coverage: str, premium: float = 500, **extra: object) -> dict[str, object]:
    detail = {"coverage": coverage, "premium": premium, **extra}
    return {
        "Source": "archlab.storefront",
        "DetailType": "PolicyPurchased",
        "Detail": json.dumps(detail),
    }


def bodies(queue: Queue) -> list[str]:
    return [m.body for m in queue.receive(10)]


def test_rules_route_events_to_their_targets(bus: EventBus, engine: MessagingEngine) -> None:
    car, big = Queue.create(engine, "car"), Queue.create(engine, "big")
    bus.put_rule("cars", {"detail": {"coverage": ["car"]}})
    bus.put_rule("big", {"detail": {"premium": [{"numeric": [">=", 1000]}]}})
    bus.put_targets("cars", [{"Id": "q", "Arn": car.arn}])
    bus.put_targets("big", [{"Id": "q", "Arn": big.arn}])
    result = bus.put_events([purchase("car", 1200), purchase("home", 90), purchase("car", 80)])
    assert result.failed_entry_count == 0 and len(result.entries) == 3
    cars = [json.loads(b) for b in bodies(car)]
    assert [e["detail"]["premium"] for e in cars] == [1200, 80]
    assert cars[0]["source"] == "archlab.storefront" and cars[0]["detail-type"] == "PolicyPurchased"
    assert cars[0]["id"] == result.entries[0]["EventId"]
    assert [json.loads(b)["detail"]["premium"] for b in bodies(big)] == [1200]


def test_input_path_transformer_and_constant(bus: EventBus, engine: MessagingEngine) -> None:
    queue = Queue.create(engine, "out")
    bus.put_rule("all", {"source": ["archlab.storefront"]})
    bus.put_targets(
        "all",
        [
            {"Id": "path", "Arn": queue.arn, "InputPath": "$.detail.coverage"},
            {
                "Id": "template",
                "Arn": queue.arn,
                "InputTransformer": {
                    "InputPathsMap": {"c": "$.detail.coverage", "p": "$.detail.premium"},
                    "InputTemplate": (
                        '{"coverage": "<c>", "premium": <p>, "rule": "<aws.events.rule-name>"}'
                    ),
                },
            },
            {
                "Id": "text",
                "Arn": queue.arn,
                "InputTransformer": {
                    "InputPathsMap": {"c": "$.detail.coverage"},
                    "InputTemplate": "A <c> policy",
                },
            },
            {"Id": "constant", "Arn": queue.arn, "Input": '{"ping": true}'},
        ],
    )
    bus.put_events([purchase("car", 640.5)])
    received = bodies(queue)
    assert sorted(received) == sorted(
        [
            '"car"',
            '{"coverage": "car", "premium": 640.5, "rule": "all"}',
            "A car policy",
            '{"ping": true}',
        ]
    )


def test_topic_targets_and_disabled_rules(bus: EventBus, engine: MessagingEngine) -> None:
    topic = Topic.create(engine, "purchases")
    queue = Queue.create(engine, "fanned")
    topic.subscribe("sqs", "fanned", {"RawMessageDelivery": "true"})
    bus.put_rule("to-topic", {"detail": {"coverage": ["car"]}})
    bus.put_targets("to-topic", [{"Id": "t", "Arn": topic.arn, "InputPath": "$.detail"}])
    bus.put_events([purchase("car")])
    assert [json.loads(b)["coverage"] for b in bodies(queue)] == ["car"]
    bus.put_rule("to-topic", {"detail": {"coverage": ["car"]}}, state="DISABLED")
    bus.put_events([purchase("car")])
    assert bodies(queue) == []


def test_failed_delivery_goes_to_the_target_dead_letter_queue(
    bus: EventBus, engine: MessagingEngine
) -> None:
    dead = Queue.create(engine, "bus-dlq")
    Queue.create(engine, "gone")
    bus.put_rule("r", {"source": ["archlab.storefront"]})
    bus.put_targets(
        "r",
        [
            {
                "Id": "q",
                "Arn": "arn:aws:sqs:us-east-1:000000000000:gone",
                "DeadLetterConfig": {"Arn": dead.arn},
                "RetryPolicy": {"MaximumRetryAttempts": 3},
            }
        ],
    )
    engine.delete_queue("gone")
    bus.put_events([purchase("car")])
    [message] = dead.receive()
    assert json.loads(message.body)["detail"]["coverage"] == "car"
    assert message.message_attributes["ERROR_CODE"]["StringValue"] == (
        "AWS.SimpleQueueService.NonExistentQueue"
    )


def test_malformed_entries_fail_alone(bus: EventBus, engine: MessagingEngine) -> None:
    queue = Queue.create(engine, "all")
    bus.put_rule("r", {"source": ["archlab.storefront"]})
    bus.put_targets("r", [{"Id": "q", "Arn": queue.arn}])
    result = bus.put_events(
        [
            purchase("car"),
            {"Source": "archlab.storefront", "DetailType": "X", "Detail": "not json"},
            {"Source": "archlab.storefront", "Detail": "{}"},
        ]
    )
    assert result.failed_entry_count == 2
    assert result.entries[1]["ErrorCode"] == "MalformedDetail"
    assert result.entries[2]["ErrorCode"] == "ValidationException"
    assert len(bodies(queue)) == 1


def test_archive_and_replay(bus: EventBus, engine: MessagingEngine, clock: ManualClock) -> None:
    queue = Queue.create(engine, "replayed")
    bus.create_archive("everything")
    start = clock.now()
    bus.put_events([purchase("car"), purchase("home")])
    clock.advance(3600)
    bus.put_events([purchase("boat")])
    bus.put_rule("r", {"source": ["archlab.storefront"]})
    bus.put_targets("r", [{"Id": "q", "Arn": queue.arn}])
    assert bus.replay("everything", start, start + 60) == 2
    replayed = [json.loads(b) for b in bodies(queue)]
    assert [e["detail"]["coverage"] for e in replayed] == ["car", "home"]
    assert all(e["replay-name"].startswith("replay-") for e in replayed)
    assert bus.replay("everything", start, start + 7200, rules=["other"]) == 3
    assert bodies(queue) == []  # only rule "other" was to receive them


@pytest.mark.parametrize(
    ("action", "error"),
    [
        (lambda b: b.put_rule("bad name", {"source": ["x"]}), EventBridgeValidation),
        (lambda b: b.put_rule("r", {"source": "x"}), InvalidEventPatternError),
        (lambda b: b.put_rule("r", {"source": ["x"]}, state="ON"), EventBridgeValidation),
        (
            lambda b: b.put_targets("missing", [{"Id": "a", "Arn": "arn:aws:sqs:r:1:q"}]),
            ResourceNotFound,
        ),
        (lambda b: b.put_events([]), EventBridgeValidation),
        (lambda b: b.put_events([purchase("car")] * 11), EventBridgeValidation),
        (lambda b: b.replay("missing", 0, 1), ResourceNotFound),
        (lambda b: b.create_archive("a", retention_days=-1), EventBridgeValidation),
    ],
)
def test_bad_input(bus: EventBus, action: object, error: type) -> None:
    with pytest.raises(error):
        action(bus)  # type: ignore[operator]


@pytest.mark.parametrize(
    "target",
    [
        {"Id": "a", "Arn": "arn:aws:lambda:us-east-1:0:layer:f"},
        {"Id": "bad id!", "Arn": "arn:aws:sqs:us-east-1:0:q"},
        {"Id": "a", "Arn": "arn:aws:sqs:us-east-1:0:q", "InputPath": "detail"},
        {"Id": "a", "Arn": "arn:aws:sqs:us-east-1:0:q", "InputPath": "$.d", "Input": "x"},
        {
            "Id": "a",
            "Arn": "arn:aws:sqs:us-east-1:0:q",
            "InputTransformer": {"InputTemplate": "<undefined>"},
        },
        {
            "Id": "a",
            "Arn": "arn:aws:sqs:us-east-1:0:q",
            "RetryPolicy": {"MaximumRetryAttempts": 186},
        },
        {"Id": "a", "Arn": "arn:aws:sqs:us-east-1:0:q", "DeadLetterConfig": {"Arn": "x"}},
    ],
)
def test_bad_targets_change_nothing(bus: EventBus, target: dict[str, object]) -> None:
    bus.put_rule("r", {"source": ["x"]})
    with pytest.raises(EventBridgeValidation):
        bus.put_targets("r", [target])
    assert bus.rules()[0].targets == []


def test_at_most_five_targets(bus: EventBus) -> None:
    bus.put_rule("r", {"source": ["x"]})
    targets = [{"Id": str(i), "Arn": f"arn:aws:sqs:us-east-1:0:q{i}"} for i in range(6)]
    with pytest.raises(LimitExceeded):
        bus.put_targets("r", targets)
    bus.put_targets("r", targets[:5])
    bus.remove_targets("r", ["0"])
    assert len(bus.rules()[0].targets) == 4
    with pytest.raises(EventBridgeValidation):
        bus.delete_rule("r")  # it still has targets


def test_a_dropped_delivery_is_logged(
    bus: EventBus, engine: MessagingEngine, caplog: pytest.LogCaptureFixture
) -> None:
    Queue.create(engine, "gone")
    bus.put_rule("r", {"source": ["archlab.storefront"]})
    bus.put_targets("r", [{"Id": "q", "Arn": "arn:aws:sqs:us-east-1:000000000000:gone"}])
    engine.delete_queue("gone")
    with caplog.at_level("WARNING", logger="archlab.blocks.bus"):
        result = bus.put_events([purchase("car")])
    assert result.failed_entry_count == 0  # accepted by the bus; the target failed
    assert "dropped: no dead-letter queue" in caplog.text
    assert "AWS.SimpleQueueService.NonExistentQueue" in caplog.text
