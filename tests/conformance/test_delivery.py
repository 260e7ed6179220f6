"""Push deliveries: topic subscriptions and bus targets that are HTTP endpoints or functions,
with their retries, backoff and dead-letter queues, against the block API only."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from archlab.blocks import EventBus, Queue, Topic
from archlab.blocks.delivery import (
    HTTP_QUEUE,
    LEASE_SECONDS,
    AgeLimitedRetryPolicy,
    Dispatcher,
    PhasedRetryPolicy,
    function_queue,
)
from archlab.blocks.errors import EventBridgeValidation, InvalidParameter
from archlab.clock import ManualClock
from archlab.engines import connect
from archlab.engines.base import MessagingEngine


@dataclass
class Endpoint:
    """A local HTTP server that answers with the statuses it is given (then 200)."""

    url: str
    statuses: list[int] = field(default_factory=list)
    requests: list[tuple[dict[str, str], str]] = field(default_factory=list)


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    state = Endpoint("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            state.requests.append((dict(self.headers), body))
            self.send_response(state.statuses.pop(0) if state.statuses else 200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/purchases"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def engine(tmp_path: Path, clock: ManualClock) -> Iterator[MessagingEngine]:
    engine = connect(f"sqlite:///{tmp_path}/messaging.db", clock=clock)
    yield engine
    engine.close()


@pytest.fixture
def topic(engine: MessagingEngine, clock: ManualClock) -> Topic:
    return Topic.create(engine, "purchases", clock)


@pytest.fixture
def dead_letters(engine: MessagingEngine) -> Queue:
    return Queue.create(engine, "purchases-dlq")


def redrive(queue: Queue) -> dict[str, str]:
    return {"RedrivePolicy": json.dumps({"deadLetterTargetArn": queue.arn})}


def attempt_at(clock: ManualClock, dispatcher: Dispatcher, seconds: float = 0) -> int:
    clock.advance(seconds)
    return dispatcher.run_once()


def error_code(message: Any, name: str = "ErrorCode") -> str:
    return str(message.message_attributes[name]["StringValue"])


# --- topic -> HTTP/S -----------------------------------------------------------------------


def test_http_subscription_gets_the_sns_envelope_and_headers(
    engine: MessagingEngine, topic: Topic, endpoint: Endpoint, clock: ManualClock
) -> None:
    arn = topic.subscribe("http", endpoint.url)
    message_id = topic.publish("car policy", subject="new", message_attributes=None)
    assert attempt_at(clock, Dispatcher(engine, clock=clock)) == 1
    [(headers, body)] = endpoint.requests
    notification = json.loads(body)
    assert notification["Message"] == "car policy"
    assert notification["Subject"] == "new"
    assert notification["MessageId"] == message_id
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-subscription-arn"] == arn
    assert headers["x-amz-sns-topic-arn"] == topic.arn
    assert headers["Content-Type"] == "text/plain; charset=UTF-8"
    assert Queue(engine, HTTP_QUEUE).attributes()["ApproximateNumberOfMessages"] == "0"


def test_raw_http_delivery_and_request_policy_content_type(
    engine: MessagingEngine, topic: Topic, endpoint: Endpoint, clock: ManualClock
) -> None:
    policy = {"requestPolicy": {"headerContentType": "application/json"}}
    topic.subscribe("http", endpoint.url, {"RawMessageDelivery": "true", "DeliveryPolicy": policy})
    topic.publish('{"coverage": "car"}')
    Dispatcher(engine, clock=clock).run_once()
    [(headers, body)] = endpoint.requests
    assert body == '{"coverage": "car"}'
    assert headers["x-amz-sns-rawdelivery"] == "true"
    assert headers["Content-Type"] == "application/json"


def test_filter_policies_apply_to_http_subscriptions(
    engine: MessagingEngine, topic: Topic, endpoint: Endpoint, clock: ManualClock
) -> None:
    topic.subscribe("http", endpoint.url, {"FilterPolicy": {"coverage": ["car"]}})
    topic.publish(
        "home", message_attributes={"coverage": {"DataType": "String", "StringValue": "home"}}
    )
    topic.publish(
        "car", message_attributes={"coverage": {"DataType": "String", "StringValue": "car"}}
    )
    Dispatcher(engine, clock=clock).run_once()
    assert [json.loads(body)["Message"] for _, body in endpoint.requests] == ["car"]


def test_default_http_policy_retries_three_times_twenty_seconds_apart(
    engine: MessagingEngine,
    topic: Topic,
    endpoint: Endpoint,
    clock: ManualClock,
    dead_letters: Queue,
) -> None:
    topic.subscribe("http", endpoint.url, redrive(dead_letters))
    endpoint.statuses = [500, 503, 502, 500]
    topic.publish("car policy")
    dispatcher = Dispatcher(engine, clock=clock)
    assert attempt_at(clock, dispatcher) == 1
    assert attempt_at(clock, dispatcher, 19) == 0  # not before 20 s
    for _ in range(3):
        assert attempt_at(clock, dispatcher, 1) == 1
        assert attempt_at(clock, dispatcher, 19) == 0
    assert len(endpoint.requests) == 4
    [dead] = dead_letters.receive(10)
    assert json.loads(dead.body)["Message"] == "car policy"
    assert error_code(dead) == "HTTP500"
    assert "RequestID" in dead.message_attributes


def test_a_retry_that_succeeds_ends_the_delivery(
    engine: MessagingEngine,
    topic: Topic,
    endpoint: Endpoint,
    clock: ManualClock,
    dead_letters: Queue,
) -> None:
    topic.subscribe("http", endpoint.url, redrive(dead_letters))
    endpoint.statuses = [500]
    topic.publish("car policy")
    dispatcher = Dispatcher(engine, clock=clock)
    attempt_at(clock, dispatcher)
    attempt_at(clock, dispatcher, 20)
    attempt_at(clock, dispatcher, 3600)
    assert len(endpoint.requests) == 2
    assert dead_letters.receive(10) == []


def test_a_4xx_answer_is_not_retried(
    engine: MessagingEngine,
    topic: Topic,
    endpoint: Endpoint,
    clock: ManualClock,
    dead_letters: Queue,
) -> None:
    topic.subscribe("http", endpoint.url, redrive(dead_letters))
    endpoint.statuses = [403]
    topic.publish("car policy")
    dispatcher = Dispatcher(engine, clock=clock)
    attempt_at(clock, dispatcher)
    attempt_at(clock, dispatcher, 3600)
    assert len(endpoint.requests) == 1
    assert error_code(dead_letters.receive(10)[0]) == "HTTP403"


def test_custom_delivery_policy_phases(
    engine: MessagingEngine, topic: Topic, endpoint: Endpoint, clock: ManualClock
) -> None:
    policy = {
        "healthyRetryPolicy": {
            "numRetries": 4,
            "numNoDelayRetries": 1,
            "numMinDelayRetries": 1,
            "minDelayTarget": 5,
            "maxDelayTarget": 30,
        }
    }
    topic.subscribe("http", endpoint.url, {"DeliveryPolicy": policy})
    endpoint.statuses = [500] * 10
    topic.publish("car policy")
    dispatcher = Dispatcher(engine, clock=clock)
    attempts = []
    for second in range(0, 120):
        while attempt_at(clock, dispatcher):  # an immediate retry comes with the next poll
            attempts.append(second)
        clock.advance(1)
    # first try, one immediate retry, one at the minimum delay, then 5 -> 30 s of backoff
    assert attempts == [0, 0, 5, 10, 40]


def test_an_unreachable_endpoint_is_retried_then_dead_lettered(
    engine: MessagingEngine, topic: Topic, clock: ManualClock, dead_letters: Queue
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    policy = {"healthyRetryPolicy": {"numRetries": 1, "minDelayTarget": 1, "maxDelayTarget": 1}}
    topic.subscribe(
        "http", f"http://127.0.0.1:{port}/", {"DeliveryPolicy": policy, **redrive(dead_letters)}
    )
    topic.publish("car policy")
    dispatcher = Dispatcher(engine, clock=clock)
    attempt_at(clock, dispatcher)
    attempt_at(clock, dispatcher, 1)
    assert error_code(dead_letters.receive(10)[0]) == "ConnectionError"


def test_an_interrupted_attempt_is_made_again_after_the_lease(
    engine: MessagingEngine, topic: Topic, endpoint: Endpoint, clock: ManualClock
) -> None:
    topic.subscribe("http", endpoint.url)
    topic.publish("car policy")
    # A dispatcher that took the delivery and died before answering:
    assert len(Queue(engine, HTTP_QUEUE).receive(10, visibility_timeout=LEASE_SECONDS)) == 1
    dispatcher = Dispatcher(engine, clock=clock)
    assert attempt_at(clock, dispatcher) == 0
    assert attempt_at(clock, dispatcher, LEASE_SECONDS) == 1
    assert len(endpoint.requests) == 1


# --- topic -> function ---------------------------------------------------------------------


def test_function_subscription_gets_the_lambda_event_when_its_host_runs(
    engine: MessagingEngine, topic: Topic, clock: ManualClock
) -> None:
    arn = topic.subscribe("lambda", "arn:aws:lambda:us-east-1:000000000000:function:audit")
    topic.publish("car policy", subject="new")
    waiting = Queue(engine, function_queue("audit")).attributes()
    assert waiting["ApproximateNumberOfMessages"] == "1"  # no host yet: it waits
    events: list[Any] = []
    Dispatcher(engine, function="audit", handler=events.append, clock=clock).run_once()
    [record] = events[0]["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventSubscriptionArn"] == arn
    assert record["Sns"]["Message"] == "car policy"
    assert record["Sns"]["Subject"] == "new"
    assert record["Sns"]["UnsubscribeUrl"].endswith(arn)
    assert topic.subscriptions()[0]["Endpoint"].endswith(":function:audit")


def test_a_failing_function_is_retried_twice_then_dead_lettered(
    engine: MessagingEngine, topic: Topic, clock: ManualClock, dead_letters: Queue
) -> None:
    topic.subscribe("lambda", "audit", redrive(dead_letters))
    topic.publish("car policy")
    calls: list[float] = []

    def handler(event: Any) -> None:
        calls.append(clock.now())
        raise RuntimeError("database unavailable")

    dispatcher = Dispatcher(engine, function="audit", handler=handler, clock=clock)
    start = clock.now()
    for _ in range(200):
        attempt_at(clock, dispatcher, 1)
    assert [round(t - start) for t in calls] == [1, 61, 181]
    [dead] = dead_letters.receive(10)
    assert error_code(dead) == "FunctionError"
    assert "database unavailable" in error_code(dead, "ErrorMessage")
    assert json.loads(dead.body)["Records"][0]["Sns"]["Message"] == "car policy"


def test_each_function_has_its_own_deliveries(
    engine: MessagingEngine, topic: Topic, clock: ManualClock
) -> None:
    topic.subscribe("lambda", "audit")
    topic.subscribe("lambda", "billing")
    topic.publish("car policy")
    audited: list[Any] = []
    Dispatcher(engine, function="audit", handler=audited.append, clock=clock).run_once()
    assert len(audited) == 1
    assert (
        Queue(engine, function_queue("billing")).attributes()["ApproximateNumberOfMessages"] == "1"
    )


def test_queue_and_push_subscriptions_are_written_together(
    engine: MessagingEngine, topic: Topic, endpoint: Endpoint, clock: ManualClock
) -> None:
    queue = Queue.create(engine, "car")
    topic.subscribe("sqs", "car")
    topic.subscribe("http", endpoint.url)
    engine.delete_queue(HTTP_QUEUE)  # archlab's own queue removed by hand: recreated
    topic.publish("car policy")
    assert len(queue.receive(10)) == 1
    Dispatcher(engine, clock=clock).run_once()
    assert len(endpoint.requests) == 1


def test_a_deleted_subscribed_queue_does_not_stop_the_others(
    engine: MessagingEngine, topic: Topic, dead_letters: Queue
) -> None:
    car, home = Queue.create(engine, "car"), Queue.create(engine, "home")
    topic.subscribe("sqs", "car", {"RawMessageDelivery": "true", **redrive(dead_letters)})
    topic.subscribe("sqs", "home", {"RawMessageDelivery": "true"})
    engine.delete_queue("car")
    topic.publish("any policy")
    assert [m.body for m in home.receive(10)] == ["any policy"]
    [dead] = dead_letters.receive(10)
    assert dead.body == "any policy"
    assert error_code(dead) == "AWS.SimpleQueueService.NonExistentQueue"
    del car


@pytest.mark.parametrize(
    ("protocol", "endpoint", "attributes", "problem"),
    [
        ("http", "https://example.com/", {}, "not a http URL"),
        ("https", "ftp://example.com/", {}, "not a https URL"),
        ("http", "http:///path", {}, "not a http URL"),
        ("lambda", "arn:aws:lambda:us-east-1:1:layer:x", {}, "is not a function"),
        ("lambda", "bad name!", {}, "is not a function"),
        ("lambda", "audit", {"RawMessageDelivery": "true"}, "RawMessageDelivery applies"),
        ("lambda", "audit", {"DeliveryPolicy": {}}, "DeliveryPolicy applies"),
        ("http", "http://h/", {"RedrivePolicy": "{"}, "not valid JSON"),
        ("http", "http://h/", {"RedrivePolicy": {"deadLetterTargetArn": "q"}}, "not a queue ARN"),
        ("http", "http://h/", {"RedrivePolicy": {"x": 1}}, "deadLetterTargetArn"),
        ("http", "http://h/", {"DeliveryPolicy": {"throttlePolicy": {}}}, "unsupported section"),
        (
            "http",
            "http://h/",
            {"DeliveryPolicy": {"healthyRetryPolicy": {"numRetries": 101}}},
            "at most 100",
        ),
        (
            "http",
            "http://h/",
            {"DeliveryPolicy": {"healthyRetryPolicy": {"minDelayTarget": 30}}},
            "minDelayTarget <= maxDelayTarget",
        ),
        (
            "http",
            "http://h/",
            {"DeliveryPolicy": {"healthyRetryPolicy": {"numRetries": 2, "numNoDelayRetries": 3}}},
            "exceed numRetries",
        ),
        (
            "http",
            "http://h/",
            {
                "DeliveryPolicy": {
                    "healthyRetryPolicy": {
                        "numRetries": 100,
                        "minDelayTarget": 60,
                        "maxDelayTarget": 60,
                    }
                }
            },
            "at most 3600 s",
        ),
        (
            "http",
            "http://h/",
            {"DeliveryPolicy": {"healthyRetryPolicy": {"backoffFunction": "cubic"}}},
            "backoffFunction must be one of",
        ),
        (
            "http",
            "http://h/",
            {"DeliveryPolicy": {"healthyRetryPolicy": {"numRetries": -1}}},
            "whole number",
        ),
    ],
)
def test_bad_push_subscriptions_are_refused_and_change_nothing(
    topic: Topic, protocol: str, endpoint: str, attributes: dict[str, Any], problem: str
) -> None:
    with pytest.raises(InvalidParameter, match=problem):
        topic.subscribe(protocol, endpoint, attributes)
    assert topic.subscriptions() == []


def test_a_subscription_dead_letter_queue_must_exist(topic: Topic) -> None:
    from archlab.blocks.errors import QueueDoesNotExist

    missing = {"RedrivePolicy": {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:0:missing"}}
    with pytest.raises(QueueDoesNotExist):
        topic.subscribe("http", "http://h/", missing)
    assert topic.subscriptions() == []


# --- bus -> HTTP and function --------------------------------------------------------------


@pytest.fixture
def bus(engine: MessagingEngine, clock: ManualClock) -> EventBus:
    bus = EventBus.create(engine, "claims", clock)
    bus.put_rule("cars", {"detail": {"vehicle": ["car"]}})
    return bus


def put_claim(bus: EventBus) -> str:
    entry = {"Source": "claims", "DetailType": "Claim", "Detail": '{"vehicle": "car"}'}
    return bus.put_events([entry]).entries[0]["EventId"]


def test_bus_delivers_to_an_http_endpoint_and_a_function(
    engine: MessagingEngine, bus: EventBus, endpoint: Endpoint, clock: ManualClock
) -> None:
    bus.put_targets(
        "cars",
        [
            {"Id": "hook", "Arn": endpoint.url, "InputPath": "$.detail"},
            {"Id": "fn", "Arn": "arn:aws:lambda:us-east-1:000000000000:function:triage"},
        ],
    )
    event_id = put_claim(bus)
    Dispatcher(engine, clock=clock).run_once()
    [(headers, body)] = endpoint.requests
    assert json.loads(body) == {"vehicle": "car"}
    assert headers["Content-Type"].startswith("application/json")
    events: list[Any] = []
    Dispatcher(engine, function="triage", handler=events.append, clock=clock).run_once()
    assert events[0]["id"] == event_id


@pytest.mark.parametrize(("status", "retried"), [(429, True), (503, True), (404, False)])
def test_bus_http_retry_follows_api_destination_rules(
    engine: MessagingEngine,
    bus: EventBus,
    endpoint: Endpoint,
    clock: ManualClock,
    dead_letters: Queue,
    status: int,
    retried: bool,
) -> None:
    target = {
        "Id": "hook",
        "Arn": endpoint.url,
        "RetryPolicy": {"MaximumRetryAttempts": 2},
        "DeadLetterConfig": {"Arn": dead_letters.arn},
    }
    bus.put_targets("cars", [target])
    endpoint.statuses = [status] * 5
    put_claim(bus)
    dispatcher = Dispatcher(engine, clock=clock)
    for _ in range(10):
        attempt_at(clock, dispatcher, 1)
    assert len(endpoint.requests) == (3 if retried else 1)
    [dead] = dead_letters.receive(10)
    assert error_code(dead, "ERROR_CODE") == f"HTTP{status}"
    assert error_code(dead, "RETRY_ATTEMPTS") == ("2" if retried else "0")
    assert error_code(dead, "RULE_ARN").endswith("rule/claims/cars")
    assert error_code(dead, "TARGET_ARN") == endpoint.url


def test_bus_stops_retrying_at_the_maximum_event_age(
    engine: MessagingEngine, bus: EventBus, clock: ManualClock, dead_letters: Queue
) -> None:
    target = {
        "Id": "fn",
        "Arn": "arn:aws:lambda:us-east-1:000000000000:function:triage",
        "RetryPolicy": {"MaximumEventAgeInSeconds": 60},
        "DeadLetterConfig": {"Arn": dead_letters.arn},
    }
    bus.put_targets("cars", [target])
    put_claim(bus)
    calls: list[float] = []

    def handler(event: Any) -> None:
        calls.append(clock.now())
        raise RuntimeError("down")

    dispatcher = Dispatcher(engine, function="triage", handler=handler, clock=clock)
    start = clock.now()
    for _ in range(120):
        attempt_at(clock, dispatcher, 1)
    # delays 1, 2, 4, 8, 16: the next (32 s) would pass the 60 s age
    assert [round(t - start) for t in calls] == [1, 2, 4, 8, 16, 32]
    assert error_code(dead_letters.receive(10)[0], "ERROR_CODE") == "FunctionError"


@pytest.mark.parametrize(
    "arn", ["ftp://host/", "arn:aws:lambda:us-east-1:0:layer:x", "http//host", "arn:aws:s3:::b"]
)
def test_bus_refuses_other_target_kinds(bus: EventBus, arn: str) -> None:
    with pytest.raises(EventBridgeValidation, match="Arn must be"):
        bus.put_targets("cars", [{"Id": "t", "Arn": arn}])
    assert bus.rules()[0].targets == []


# --- the retry policies themselves ---------------------------------------------------------


def test_the_aws_managed_policy_shape() -> None:
    """SNS's policy for AWS-managed endpoints: 3 immediate, 2 at 1 s, 10 backing off from 1 to
    20 s, then 20 s apart."""
    policy = PhasedRetryPolicy(
        num_retries=100_014,
        no_delay_retries=3,
        min_delay_retries=2,
        max_delay_retries=100_000 - 1,
        min_delay=1,
        max_delay=20,
        backoff="exponential",
    )
    delays = [policy.delay_before(retry, 0) for retry in range(1, 17)]
    assert delays[:5] == [0, 0, 0, 1, 1]
    backoff = delays[5:15]
    assert backoff[0] == 1 and backoff[-1] == 20
    assert backoff == sorted(backoff)
    assert delays[15] == 20
    assert policy.delay_before(100_015, 0) is None


@pytest.mark.parametrize("shape", ["linear", "arithmetic", "geometric", "exponential"])
def test_backoff_functions_rise_from_min_to_max(shape: str) -> None:
    policy = PhasedRetryPolicy(num_retries=5, min_delay=2, max_delay=40, backoff=shape)
    delays = [policy.delay_before(retry, 0) for retry in range(1, 6)]
    assert delays[0] == 2 and delays[-1] == 40 and delays == sorted(delays)


def test_age_limited_policy() -> None:
    policy = AgeLimitedRetryPolicy(max_retries=3, max_age=3600)
    assert [policy.delay_before(r, 0) for r in range(1, 5)] == [1, 2, 4, None]
    assert AgeLimitedRetryPolicy().delay_before(20, 0) == 300
    assert AgeLimitedRetryPolicy(max_age=60).delay_before(1, 59.5) is None
