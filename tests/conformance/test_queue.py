"""Queue conformance: SQS semantics, written against the block API only.

Every engine runs this suite (the ``engine`` fixture is parametrized by engine); time-dependent
behaviour is driven by a manual clock, never by sleeping.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from archlab.blocks import Queue
from archlab.blocks.errors import (
    BatchEntryIdsNotDistinct,
    EmptyBatchRequest,
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidMessageContents,
    InvalidParameterValue,
    MessageNotInflight,
    MessageTooLarge,
    PurgeQueueInProgress,
    QueueAlreadyExists,
    QueueDoesNotExist,
    ReceiptHandleIsInvalid,
    TooManyEntriesInBatchRequest,
)
from archlab.clock import ManualClock
from archlab.engines import connect
from archlab.engines.base import MessagingEngine

ENGINES = ["sqlite", "sqlite?durability=sends"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=ENGINES)
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock
) -> Iterator[MessagingEngine]:
    query = request.param.partition("?")[2]
    engine = connect(
        f"sqlite:///{tmp_path}/messaging.db" + (f"?{query}" if query else ""), clock=clock
    )
    yield engine
    engine.close()


@pytest.fixture
def queue(engine: MessagingEngine) -> Queue:
    return Queue.create(engine, "orders")


def metrics(queue: Queue) -> tuple[int, int, int]:
    attributes = queue.attributes()
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        int(attributes["ApproximateNumberOfMessagesDelayed"]),
    )


class TestQueues:
    def test_create_is_idempotent_with_the_same_attributes(self, engine: MessagingEngine) -> None:
        Queue.create(engine, "orders", {"VisibilityTimeout": "60"})
        Queue.create(engine, "orders", {"VisibilityTimeout": 60})
        with pytest.raises(QueueAlreadyExists):
            Queue.create(engine, "orders", {"VisibilityTimeout": "10"})

    def test_defaults_and_arn(self, queue: Queue) -> None:
        attributes = queue.attributes()
        assert attributes["VisibilityTimeout"] == "30"
        assert attributes["MessageRetentionPeriod"] == "345600"
        assert attributes["MaximumMessageSize"] == "262144"
        assert attributes["QueueArn"] == "arn:aws:sqs:us-east-1:000000000000:orders"

    def test_names_arns_and_urls_address_the_same_queue(self, engine: MessagingEngine) -> None:
        Queue.create(engine, "orders").send("x")
        by_arn = Queue(engine, "arn:aws:sqs:us-east-1:000000000000:orders")
        by_url = Queue(engine, "http://localhost/000000000000/orders")
        assert by_arn.receive()[0].body == "x"
        assert by_url.name == "orders"

    def test_list(self, engine: MessagingEngine) -> None:
        for name in ("b-orders", "a-orders", "claims"):
            Queue.create(engine, name)
        assert engine.list_queues() == ["a-orders", "b-orders", "claims"]
        assert engine.list_queues("a-") == ["a-orders"]

    def test_unknown_queue(self, engine: MessagingEngine) -> None:
        with pytest.raises(QueueDoesNotExist) as raised:
            Queue(engine, "missing").send("x")
        assert raised.value.code == "AWS.SimpleQueueService.NonExistentQueue"
        with pytest.raises(QueueDoesNotExist):
            Queue(engine, "missing").receive()

    @pytest.mark.parametrize(
        ("name", "attributes", "error"),
        [
            ("bad name", {}, InvalidParameterValue),
            ("x" * 81, {}, InvalidParameterValue),
            ("orders", {"VisibilityTimeout": "43201"}, InvalidAttributeValue),
            ("orders", {"DelaySeconds": -1}, InvalidAttributeValue),
            ("orders", {"MessageRetentionPeriod": "59"}, InvalidAttributeValue),
            ("orders", {"MaximumMessageSize": 1_048_577}, InvalidAttributeValue),
            ("orders", {"ReceiveMessageWaitTimeSeconds": "abc"}, InvalidAttributeValue),
            ("orders", {"Colour": "blue"}, InvalidAttributeName),
            ("orders", {"RedrivePolicy": "{}"}, InvalidAttributeValue),
            (
                "orders",
                {"RedrivePolicy": '{"deadLetterTargetArn": "dlq", "maxReceiveCount": 0}'},
                InvalidAttributeValue,
            ),
            ("orders", {"FifoQueue": "true"}, InvalidParameterValue),  # needs the .fifo suffix
            ("orders.fifo", {"FifoQueue": "maybe"}, InvalidAttributeValue),
            ("orders", {"ContentBasedDeduplication": "true"}, InvalidAttributeName),
        ],
    )
    def test_invalid_queues_are_rejected_and_not_created(
        self, engine: MessagingEngine, name: str, attributes: dict[str, object], error: type
    ) -> None:
        with pytest.raises(error):
            Queue.create(engine, name, attributes)
        assert engine.list_queues() == []


class TestSendReceiveDelete:
    def test_round_trip_with_attributes(self, queue: Queue, clock: ManualClock) -> None:
        attributes = {
            "coverage": {"DataType": "String", "StringValue": "car"},
            "premium": {"DataType": "Number", "StringValue": "640.5"},
        }
        message_id = queue.send("policy purchased", message_attributes=attributes)
        [message] = queue.receive()
        assert message.message_id == message_id
        assert message.body == "policy purchased"
        assert message.message_attributes == attributes
        assert message.attributes["ApproximateReceiveCount"] == "1"
        assert message.attributes["SentTimestamp"] == str(int(clock.now() * 1000))
        queue.delete(message.receipt_handle)
        assert metrics(queue) == (0, 0, 0)

    def test_batches_keep_order_and_receive_up_to_ten(self, queue: Queue) -> None:
        ids = queue.send_batch([{"Id": f"m{i}", "MessageBody": f"body {i}"} for i in range(10)])
        assert len(set(ids)) == 10
        received = queue.receive(10)
        assert [m.body for m in received] == [f"body {i}" for i in range(10)]
        assert queue.receive(10) == []

    def test_a_received_message_is_invisible_until_its_timeout(
        self, queue: Queue, clock: ManualClock
    ) -> None:
        queue.send("x")
        [first] = queue.receive()
        assert queue.receive() == []
        assert metrics(queue) == (0, 1, 0)
        clock.advance(30)
        [again] = queue.receive()
        assert again.message_id == first.message_id
        assert again.attributes["ApproximateReceiveCount"] == "2"
        assert again.receipt_handle != first.receipt_handle
        assert (
            again.attributes["ApproximateFirstReceiveTimestamp"]
            == (first.attributes["ApproximateFirstReceiveTimestamp"])
        )

    def test_delete_batch(self, queue: Queue) -> None:
        queue.send_batch([{"Id": str(i), "MessageBody": f"m{i}"} for i in range(5)])
        received = queue.receive(10)
        queue.delete_batch(
            [{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(received[:4])]
        )
        assert metrics(queue) == (0, 1, 0)
        with pytest.raises(BatchEntryIdsNotDistinct):
            queue.delete_batch([{"Id": "a", "ReceiptHandle": received[4].receipt_handle}] * 2)
        with pytest.raises(ReceiptHandleIsInvalid):
            queue.delete_batch(
                [
                    {"Id": "a", "ReceiptHandle": received[4].receipt_handle},
                    {"Id": "b", "ReceiptHandle": "garbage"},
                ]
            )
        assert metrics(queue) == (0, 1, 0)  # nothing deleted by a failed batch

    def test_deleting_with_an_old_handle_does_not_delete(
        self, queue: Queue, clock: ManualClock
    ) -> None:
        queue.send("x")
        [first] = queue.receive(visibility_timeout=5)
        clock.advance(5)
        [second] = queue.receive()
        queue.delete(first.receipt_handle)  # succeeds, but the message was received since
        assert metrics(queue) == (0, 1, 0)
        queue.delete(second.receipt_handle)
        assert metrics(queue) == (0, 0, 0)
        queue.delete(second.receipt_handle)  # deleting twice is fine

    def test_change_visibility(self, queue: Queue, clock: ManualClock) -> None:
        queue.send("x")
        [message] = queue.receive()
        queue.change_visibility(message.receipt_handle, 0)
        [again] = queue.receive(visibility_timeout=10)
        queue.change_visibility(again.receipt_handle, 100)
        clock.advance(50)
        assert queue.receive() == []
        clock.advance(50)
        assert len(queue.receive()) == 1
        with pytest.raises(ReceiptHandleIsInvalid):
            queue.change_visibility(again.receipt_handle, 10)  # received again since

    def test_change_visibility_batch_fails_entries_alone(
        self, queue: Queue, clock: ManualClock
    ) -> None:
        queue.send_batch([{"Id": str(i), "MessageBody": f"m{i}"} for i in range(2)])
        first, second = queue.receive(10)
        result = queue.change_visibility_batch(
            [
                {"Id": "a", "ReceiptHandle": first.receipt_handle, "VisibilityTimeout": 0},
                {"Id": "b", "ReceiptHandle": "1.unknown", "VisibilityTimeout": 0},
                {"Id": "c", "ReceiptHandle": second.receipt_handle, "VisibilityTimeout": 99_999},
            ]
        )
        assert result["Successful"] == [{"Id": "a"}]
        assert [(f["Id"], f["Code"]) for f in result["Failed"]] == [
            ("b", "ReceiptHandleIsInvalid"),
            ("c", "InvalidParameterValue"),
        ]
        assert [m.body for m in queue.receive(10)] == ["m0"]

    def test_change_visibility_after_expiry(self, queue: Queue, clock: ManualClock) -> None:
        queue.send("x")
        [message] = queue.receive(visibility_timeout=5)
        clock.advance(6)
        with pytest.raises(MessageNotInflight):
            queue.change_visibility(message.receipt_handle, 10)

    def test_delay(self, engine: MessagingEngine, clock: ManualClock) -> None:
        queue = Queue.create(engine, "slow", {"DelaySeconds": 10})
        queue.send("queue default")
        queue.send("per message", delay_seconds=0)
        assert [m.body for m in queue.receive(10)] == ["per message"]
        assert metrics(queue) == (0, 1, 1)
        clock.advance(10)
        assert [m.body for m in queue.receive(10)] == ["queue default"]

    def test_retention(self, engine: MessagingEngine, clock: ManualClock) -> None:
        queue = Queue.create(engine, "short", {"MessageRetentionPeriod": 60})
        queue.send("x")
        clock.advance(59)
        assert queue.attributes()["ApproximateAgeOfOldestMessage"] == "59"
        clock.advance(2)
        assert queue.receive() == []
        assert metrics(queue) == (0, 0, 0)

    def test_long_polling_returns_when_the_wait_ends(
        self, queue: Queue, clock: ManualClock
    ) -> None:
        started = clock.now()
        assert queue.receive(wait_seconds=20) == []
        assert 20 <= clock.now() - started < 20.1

    def test_purge_once_a_minute(self, queue: Queue, clock: ManualClock) -> None:
        queue.send_batch([{"Id": str(i), "MessageBody": "x"} for i in range(3)])
        queue.purge()
        assert metrics(queue) == (0, 0, 0)
        with pytest.raises(PurgeQueueInProgress):
            queue.purge()
        clock.advance(60)
        queue.purge()


class TestFifo:
    @pytest.fixture
    def fifo(self, engine: MessagingEngine) -> Queue:
        return Queue.create(engine, "claims.fifo", {"FifoQueue": "true"})

    def test_order_within_a_group_and_one_batch_in_flight_per_group(self, fifo: Queue) -> None:
        for n in range(3):
            for group in ("alice", "bob"):
                fifo.send(f"{group}-{n}", group_id=group, deduplication_id=f"{group}-{n}")
        first = fifo.receive(2)
        assert [m.body for m in first] == ["alice-0", "bob-0"]
        assert first[0].attributes["MessageGroupId"] == "alice"
        assert int(first[0].attributes["SequenceNumber"]) < int(
            first[1].attributes["SequenceNumber"]
        )
        assert fifo.receive(10) == []  # both groups have a message in flight
        fifo.delete(first[0].receipt_handle)
        assert [m.body for m in fifo.receive(10)] == ["alice-1", "alice-2"]  # alice only

    def test_a_failed_message_blocks_its_group_until_visible_again(
        self, fifo: Queue, clock: ManualClock
    ) -> None:
        fifo.send("first", group_id="g", deduplication_id="1")
        fifo.send("second", group_id="g", deduplication_id="2")
        assert [m.body for m in fifo.receive(1, visibility_timeout=10)] == ["first"]
        assert fifo.receive(10) == []
        clock.advance(10)
        assert [m.body for m in fifo.receive(10)] == ["first", "second"]  # order kept

    def test_deduplication_window(self, fifo: Queue, clock: ManualClock) -> None:
        original = fifo.send("once", group_id="g", deduplication_id="d")
        assert fifo.send("once again", group_id="g", deduplication_id="d") == original
        [message] = fifo.receive(10)
        fifo.delete(message.receipt_handle)
        clock.advance(299)
        fifo.send("still a duplicate", group_id="g", deduplication_id="d")
        assert fifo.receive(10) == []
        clock.advance(1)
        fifo.send("new after five minutes", group_id="g", deduplication_id="d")
        assert [m.body for m in fifo.receive(10)] == ["new after five minutes"]

    def test_content_based_deduplication(self, engine: MessagingEngine) -> None:
        fifo = Queue.create(
            engine, "c.fifo", {"FifoQueue": True, "ContentBasedDeduplication": True}
        )
        fifo.send("same", group_id="g")
        fifo.send("same", group_id="g")
        fifo.send("different", group_id="g")
        assert [m.body for m in fifo.receive(10)] == ["same", "different"]

    @pytest.mark.parametrize(
        "kwargs",
        [
            {},  # no group
            {"group_id": "g"},  # no de-duplication id, no content-based de-duplication
            {"group_id": "g", "deduplication_id": "d", "delay_seconds": 5},
            {"group_id": "bad group", "deduplication_id": "d"},
            {"group_id": "g" * 129, "deduplication_id": "d"},
        ],
    )
    def test_bad_fifo_sends(self, fifo: Queue, kwargs: dict[str, object]) -> None:
        with pytest.raises(InvalidParameterValue):
            fifo.send("x", **kwargs)  # type: ignore[arg-type]
        assert metrics(fifo) == (0, 0, 0)

    def test_group_ids_are_for_fifo_queues_only(self, queue: Queue) -> None:
        with pytest.raises(InvalidParameterValue):
            queue.send("x", group_id="g")


class TestPriority:
    def test_highest_priority_first_fifo_within_a_priority(
        self, engine: MessagingEngine, clock: ManualClock
    ) -> None:
        claims = Queue.create(engine, "claims", {"MaxPriority": 10})
        for body, priority in [
            ("home-1", 0),
            ("car-1", 9),
            ("home-2", 0),
            ("car-2", 9),
            ("boat-1", 5),
        ]:
            claims.send(body, priority=priority)
        assert [m.body for m in claims.receive(10)] == [
            "car-1",
            "car-2",
            "boat-1",
            "home-1",
            "home-2",
        ]

    def test_invisible_high_priority_messages_do_not_block(
        self, engine: MessagingEngine, clock: ManualClock
    ) -> None:
        claims = Queue.create(engine, "claims", {"MaxPriority": 10})
        claims.send("car, later", priority=9, delay_seconds=60)
        claims.send("home, now")
        [home] = claims.receive(10)
        assert home.body == "home, now"
        claims.delete(home.receipt_handle)
        clock.advance(60)
        assert [m.body for m in claims.receive(10)] == ["car, later"]

    def test_priorities_survive_dead_lettering_and_redrive(
        self, engine: MessagingEngine, clock: ManualClock
    ) -> None:
        """Messages keep their priority between priority queues, and a message from a queue
        without priorities is received from a priority queue it moves to."""
        dead = Queue.create(engine, "claims-dlq", {"MaxPriority": 10})
        redrive = {"deadLetterTargetArn": dead.arn, "maxReceiveCount": 1}
        claims = Queue.create(engine, "claims", {"MaxPriority": 10, "RedrivePolicy": redrive})
        plain = Queue.create(engine, "plain", {"RedrivePolicy": redrive})
        claims.send("home", priority=1)
        claims.send("car", priority=9)
        plain.send("untagged")
        for source in (claims, plain):
            assert source.receive(10, visibility_timeout=0)
            assert source.receive(10) == []  # moved on the second receive
        assert [m.body for m in dead.receive(10, visibility_timeout=0)] == [
            "car",
            "home",
            "untagged",
        ]
        clock.advance(1)
        assert dead.redrive(max_per_second=100) == 3
        assert [m.body for m in claims.receive(10)] == ["car", "home"]
        assert [m.body for m in plain.receive(10)] == ["untagged"]

    @pytest.mark.parametrize(("max_priority", "priority"), [(None, 1), (10, 11), (10, -1)])
    def test_priority_out_of_range(
        self, engine: MessagingEngine, max_priority: int | None, priority: int
    ) -> None:
        attributes = {} if max_priority is None else {"MaxPriority": max_priority}
        queue = Queue.create(engine, "claims", attributes)
        with pytest.raises(InvalidParameterValue):
            queue.send("x", priority=priority)
        assert metrics(queue) == (0, 0, 0)

    @pytest.mark.parametrize("value", [0, 256, "high"])
    def test_max_priority_range(self, engine: MessagingEngine, value: object) -> None:
        with pytest.raises(InvalidAttributeValue):
            Queue.create(engine, "claims", {"MaxPriority": value})


class TestDeadLetters:
    def test_poison_message_moves_after_max_receive_count(
        self, engine: MessagingEngine, clock: ManualClock
    ) -> None:
        dead = Queue.create(engine, "orders-dlq")
        queue = Queue.create(
            engine,
            "orders",
            {"RedrivePolicy": {"deadLetterTargetArn": dead.arn, "maxReceiveCount": 2}},
        )
        message_id = queue.send("poison")
        for _ in range(2):
            assert len(queue.receive(visibility_timeout=1)) == 1
            clock.advance(1)
        assert queue.receive() == []
        [moved] = dead.receive()
        assert (moved.message_id, moved.body) == (message_id, "poison")
        assert moved.attributes["ApproximateReceiveCount"] == "3"  # two at the source, one here

    def test_redrive_moves_messages_back_at_a_rate(
        self, engine: MessagingEngine, clock: ManualClock
    ) -> None:
        dead = Queue.create(engine, "orders-dlq")
        policy = {"RedrivePolicy": {"deadLetterTargetArn": dead.arn, "maxReceiveCount": 1}}
        queue = Queue.create(engine, "orders", policy)
        queue.send_batch([{"Id": str(i), "MessageBody": f"m{i}"} for i in range(5)])
        assert len(queue.receive(10, visibility_timeout=0)) == 5
        assert queue.receive(10) == []  # all five moved to the dead-letter queue
        assert metrics(dead) == (5, 0, 0)
        started = clock.now()
        totals: list[int] = []
        moved = dead.redrive(max_per_second=2, clock=clock, progress=totals.append)
        assert moved == 5 and totals == [2, 4, 5]
        assert clock.now() - started == pytest.approx(2)  # three batches, a second apart
        assert metrics(dead) == (0, 0, 0)
        back = queue.receive(10)
        assert sorted(m.body for m in back) == [f"m{i}" for i in range(5)]
        assert {m.attributes["ApproximateReceiveCount"] for m in back} == {"1"}

    def test_redrive_to_another_queue_and_bad_rates(self, engine: MessagingEngine) -> None:
        dead = Queue.create(engine, "dlq")
        other = Queue.create(engine, "other")
        dead.send("sent straight to the dead-letter queue")
        assert dead.redrive(clock=ManualClock()) == 0  # no source queue known: it stays
        assert dead.redrive(destination="other", clock=ManualClock()) == 1
        assert [m.body for m in other.receive()] == ["sent straight to the dead-letter queue"]
        for rate in (0, 501):
            with pytest.raises(InvalidParameterValue):
                dead.redrive(max_per_second=rate)
        with pytest.raises(QueueDoesNotExist):
            dead.redrive(destination="missing")


class TestBadInput:
    @pytest.mark.parametrize(
        ("entries", "error"),
        [
            ([], EmptyBatchRequest),
            ([{"Id": str(i), "MessageBody": "x"} for i in range(11)], TooManyEntriesInBatchRequest),
            (
                [{"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}],
                BatchEntryIdsNotDistinct,
            ),
            ([{"Id": "a", "MessageBody": ""}], InvalidParameterValue),
            ([{"Id": "a", "MessageBody": "bad \x00 byte"}], InvalidMessageContents),
            ([{"Id": "a", "MessageBody": "x" * 262_145}], MessageTooLarge),
            ([{"Id": "a", "MessageBody": "x", "DelaySeconds": 901}], InvalidParameterValue),
            (
                [
                    {
                        "Id": "a",
                        "MessageBody": "x",
                        "MessageAttributes": {
                            "AWS.trace": {"DataType": "String", "StringValue": "1"}
                        },
                    }
                ],
                InvalidParameterValue,
            ),
            (
                [
                    {
                        "Id": "a",
                        "MessageBody": "x",
                        "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "many"}},
                    }
                ],
                InvalidParameterValue,
            ),
            (
                [{"Id": "ok", "MessageBody": "x"}, {"Id": "bad", "MessageBody": ""}],
                InvalidParameterValue,
            ),
        ],
    )
    def test_bad_batches_send_nothing(
        self, queue: Queue, entries: list[dict[str, object]], error: type
    ) -> None:
        with pytest.raises(error):
            queue.send_batch(entries)
        assert metrics(queue) == (0, 0, 0)

    def test_non_integer_arguments_are_clear_errors(self, queue: Queue) -> None:
        """Strings and booleans where SQS takes integers: its error, never a TypeError."""
        queue.send("x")
        [message] = queue.receive(visibility_timeout=600)
        for call in (
            lambda: queue.receive(visibility_timeout="5"),  # type: ignore[arg-type]
            lambda: queue.receive(wait_seconds=True),  # type: ignore[arg-type]
            lambda: queue.change_visibility(message.receipt_handle, "10"),  # type: ignore[arg-type]
            lambda: queue.send("x", delay_seconds=1.5),  # type: ignore[arg-type]
            lambda: queue.redrive(max_per_second="9"),  # type: ignore[arg-type]
        ):
            with pytest.raises(InvalidParameterValue):
                call()
        assert metrics(queue) == (0, 1, 0)

    def test_bad_receive_arguments(self, queue: Queue) -> None:
        for kwargs in ({"max_messages": 0}, {"max_messages": 11}):
            with pytest.raises(InvalidParameterValue):
                queue.receive(**kwargs)  # type: ignore[arg-type]
        with pytest.raises(InvalidParameterValue):
            queue.receive(wait_seconds=21)

    def test_malformed_receipt_handles(self, queue: Queue) -> None:
        for handle in ("", "nonsense", "12.", ".abc"):
            with pytest.raises(ReceiptHandleIsInvalid):
                queue.delete(handle)


class TestEngineUrls:
    @pytest.mark.parametrize(
        "url",
        [
            "postgres://x",
            "sqlite://",
            "sqlite:///",
            "nonsense",
            "",
            "sqlite:///q.db?durability=x",
            "sqlite:///q.db?colour=blue",
        ],
    )
    def test_unknown_or_malformed(self, url: str) -> None:
        from archlab.blocks.errors import InvalidEngineUrl

        with pytest.raises(InvalidEngineUrl):
            connect(url)


def test_one_receive_never_returns_a_message_twice(queue: Queue) -> None:
    """With a visibility timeout of 0 the messages stay visible, yet a batch holds each once."""
    queue.send("a")
    queue.send("b")
    assert sorted(m.body for m in queue.receive(10, visibility_timeout=0)) == ["a", "b"]


def test_a_missing_dead_letter_queue_leaves_the_message_and_the_receive_returns(
    engine: MessagingEngine,
) -> None:
    Queue.create(engine, "gone-dlq")
    redrive = {"deadLetterTargetArn": "gone-dlq", "maxReceiveCount": 1}
    source = Queue.create(engine, "work", {"RedrivePolicy": redrive})
    engine.delete_queue("gone-dlq")
    source.send("poison")
    assert len(source.receive(10, visibility_timeout=0)) == 1
    assert source.receive(10) == []  # neither moved nor received again: it stays
    assert int(source.attributes()["ApproximateNumberOfMessages"]) == 1
