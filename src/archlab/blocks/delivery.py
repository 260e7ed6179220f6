"""Push deliveries: topic subscriptions and bus targets that are HTTP endpoints or functions.

A publish does not wait for an HTTP endpoint or a function. It stores a *pending delivery* in a
delivery queue of the same engine, in the same transaction as its queue deliveries, and a
:class:`Dispatcher` makes the attempts: once the publisher has its MessageId, the delivery
survives any crash, as in SNS and EventBridge.

A delivery queue is an ordinary queue, so its semantics come for free: a dispatcher that dies
mid-attempt loses nothing (the lease runs out and the delivery is attempted again), the receive
count is the number of attempts, and a retry's backoff is a visibility timeout. HTTP deliveries
share ``archlab-deliveries``; each function has its own queue (``archlab-fn-NAME``), so a
function's deliveries wait, unattempted, until a process that hosts the function runs its
dispatcher -- as SNS keeps retrying a Lambda function the service cannot reach.

Retry rules follow AWS:

- topic -> HTTP/S: the subscription's DeliveryPolicy (default three retries 20 s apart); a 2xx
  answer is delivered, a 4xx is refused and not retried, anything else (5xx, no answer within
  15 s) is retried;
- topic -> function: a failing handler is retried twice, one then two minutes later, as
  Lambda's asynchronous invocation does;
- bus -> HTTP (an API destination) or function: the target's RetryPolicy (185 retries within
  24 hours by default), with exponential backoff; for HTTP, 401, 407, 409, 429 and 5xx are
  retried and other answers are final.

A delivery that is refused or runs out of retries goes to the dead-letter queue configured for
it (the subscription's RedrivePolicy, the target's DeadLetterConfig) with AWS's error attributes;
without one it is dropped and logged. Retry delays carry no jitter: one dispatcher per machine
has no thundering herd to spread, and fixed delays keep the behaviour easy to test and explain.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from archlab.blocks.errors import QueueDoesNotExist
from archlab.clock import Clock, SystemClock
from archlab.engines.base import MessagingEngine, OutgoingMessage, ReceivedMessage

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

HTTP_QUEUE = "archlab-deliveries"
FUNCTION_QUEUE_PREFIX = "archlab-fn-"
FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
LEASE_SECONDS = 60
"""How long one attempt holds a delivery before another dispatcher may try it."""
QUEUE_ATTRIBUTES = {
    "VisibilityTimeout": str(LEASE_SECONDS),
    "DelaySeconds": "0",
    "MessageRetentionPeriod": "1209600",
    "MaximumMessageSize": "1048576",
    "ReceiveMessageWaitTimeSeconds": "0",
}
HTTP_TIMEOUT = {"sns": 15.0, "events": 5.0}
EVENTS_RETRIED_STATUSES = {401, 407, 409, 429}
BACKOFF_FUNCTIONS = ("linear", "arithmetic", "geometric", "exponential")

Handler = Callable[[Any], Any]
"""A function: called with the event (parsed JSON), its result ignored; raising fails."""
Style = Literal["sns", "events"]
Protocol = Literal["http", "https", "lambda"]


def function_name(name_or_arn: str) -> str:
    """A function's name, from a plain name or a Lambda ARN (…:function:NAME[:qualifier])."""
    name = name_or_arn
    if isinstance(name, str) and name.startswith("arn:"):
        parts = name.split(":")
        name = parts[6] if len(parts) > 6 and parts[5] == "function" else ""
    if not isinstance(name, str) or not FUNCTION_NAME.fullmatch(name):
        raise ValueError(
            f"{name_or_arn!r} is not a function: a name of 1 to 64 letters, digits, hyphens or"
            " underscores, or arn:aws:lambda:REGION:ACCOUNT:function:NAME"
        )
    return name


def function_queue(name: str) -> str:
    return FUNCTION_QUEUE_PREFIX + name


def ensure_queue(engine: MessagingEngine, name: str) -> None:
    engine.create_queue(name, dict(QUEUE_ATTRIBUTES))


# --- retry policies --------------------------------------------------------------------------


@dataclass(frozen=True)
class PhasedRetryPolicy:
    """SNS's delivery policy: immediate retries, then ``min_delay_retries`` at the minimum
    delay, then a backoff from the minimum to the maximum delay, then the rest at the maximum.

    AWS shows the four backoff functions only as curves; here, over the backoff phase's
    position t in [0, 1], the delay grows from min to max as t (linear), t² (arithmetic),
    t³ (geometric) or (2^(10t) - 1) / 1023 (exponential)."""

    num_retries: int = 3
    no_delay_retries: int = 0
    min_delay_retries: int = 0
    max_delay_retries: int = 0
    min_delay: int = 20
    max_delay: int = 20
    backoff: str = "linear"
    kind: str = "phased"

    def delay_before(self, retry: int, age: float) -> float | None:
        """Seconds to wait before retry number ``retry`` (1-based); None: no retry left."""
        if retry > self.num_retries:
            return None
        if retry <= self.no_delay_retries:
            return 0.0
        retry -= self.no_delay_retries
        if retry <= self.min_delay_retries:
            return float(self.min_delay)
        retry -= self.min_delay_retries
        backoff_retries = (
            self.num_retries - self.no_delay_retries - self.min_delay_retries
        ) - self.max_delay_retries
        if retry > backoff_retries:
            return float(self.max_delay)
        position = (retry - 1) / (backoff_retries - 1) if backoff_retries > 1 else 0.0
        shape = {
            "linear": position,
            "arithmetic": position**2,
            "geometric": position**3,
            "exponential": (2 ** (10 * position) - 1) / 1023,
        }[self.backoff]
        return self.min_delay + (self.max_delay - self.min_delay) * shape

    def total_delay(self) -> float:
        return sum(self.delay_before(retry, 0) or 0.0 for retry in range(1, self.num_retries + 1))


LAMBDA_ASYNC_RETRIES = PhasedRetryPolicy(num_retries=2, min_delay=60, max_delay=120)
"""Lambda's asynchronous invocation: two retries, one minute, then two minutes later."""


@dataclass(frozen=True)
class AgeLimitedRetryPolicy:
    """EventBridge's RetryPolicy: up to ``max_retries`` retries while the event is younger than
    ``max_age`` seconds, the delay doubling from one second up to five minutes."""

    max_retries: int = 185
    max_age: int = 86_400
    kind: str = "age-limited"

    def delay_before(self, retry: int, age: float) -> float | None:
        if retry > self.max_retries:
            return None
        delay = float(min(2 ** (retry - 1), 300))
        return delay if age + delay <= self.max_age else None


RetryPolicy = PhasedRetryPolicy | AgeLimitedRetryPolicy


def _policy(data: dict[str, Any]) -> RetryPolicy:
    data = dict(data)
    kind = data.pop("kind")
    return PhasedRetryPolicy(**data) if kind == "phased" else AgeLimitedRetryPolicy(**data)


# --- pending deliveries ----------------------------------------------------------------------


@dataclass(frozen=True)
class PendingDelivery:
    """One message on its way to one HTTP endpoint or function, as stored in a delivery queue."""

    protocol: Protocol
    endpoint: str
    """The URL, or the function's name."""
    payload: str
    style: Style
    """Whose rules apply: "sns" (a subscription) or "events" (a bus target)."""
    source: str
    """The subscription ARN, or the rule's ARN and the target's id."""
    policy: RetryPolicy
    created: float
    dead_letter: str | None = None
    """The dead-letter queue's name."""
    headers: dict[str, str] = field(default_factory=dict)
    dead_letter_attributes: dict[str, str] = field(default_factory=dict)
    """Attributes the dead-lettered message carries besides the error (RULE_ARN, ...)."""

    @property
    def queue(self) -> str:
        return HTTP_QUEUE if self.protocol != "lambda" else function_queue(self.endpoint)

    def message(self) -> OutgoingMessage:
        return OutgoingMessage(json.dumps(asdict(self)))

    @classmethod
    def from_message(cls, body: str) -> PendingDelivery:
        data = json.loads(body)
        data["policy"] = _policy(data["policy"])
        return cls(**data)


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    retry: bool = False
    code: str = ""
    message: str = ""


# --- the dispatcher --------------------------------------------------------------------------


class Dispatcher:
    """Attempts the deliveries waiting in one delivery queue: the HTTP queue, or one
    function's queue (give ``function`` and its ``handler``)."""

    def __init__(
        self,
        engine: MessagingEngine,
        *,
        function: str | None = None,
        handler: Handler | None = None,
        clock: Clock | None = None,
        http: httpx.Client | None = None,
        concurrency: int = 8,
    ) -> None:
        if (function is None) != (handler is None):
            raise ValueError("a function dispatcher needs both the function's name and handler")
        self.engine = engine
        self.function = function
        self.handler = handler
        self.queue = HTTP_QUEUE if function is None else function_queue(function_name(function))
        self.clock = clock or SystemClock()
        if http is None:
            import httpx  # here, not at the top: it takes half a second to import

            http = httpx.Client()
        self.http = http
        self.concurrency = concurrency
        ensure_queue(engine, self.queue)

    def run_once(self, wait_seconds: int = 0) -> int:
        """Attempt up to ten waiting deliveries (waiting up to ``wait_seconds`` for one);
        returns how many were attempted."""
        received = self.engine.receive(self.queue, 10, LEASE_SECONDS, wait_seconds)
        if len(received) <= 1 or self.concurrency == 1:
            for message in received:
                self._attempt(message)
        else:
            with ThreadPoolExecutor(min(self.concurrency, len(received))) as pool:
                list(pool.map(self._attempt, received))
        return len(received)

    def run(self, stop: threading.Event, wait_seconds: int = 1) -> None:
        """Attempt deliveries until ``stop`` is set."""
        while not stop.is_set():
            self.run_once(wait_seconds)

    def _attempt(self, message: ReceivedMessage) -> None:
        delivery = PendingDelivery.from_message(message.body)
        outcome = self._call(delivery)
        if outcome.delivered:
            self.engine.delete(self.queue, [message.receipt_handle])
            return
        age = self.clock.now() - delivery.created
        delay = delivery.policy.delay_before(message.receive_count, age) if outcome.retry else None
        if delay is not None:
            log.info(
                "delivery to %s failed (%s), attempt %d; retrying in %.0f s",
                delivery.endpoint,
                outcome.message,
                message.receive_count,
                delay,
            )
            self.engine.change_visibility(self.queue, message.receipt_handle, round(delay))
            return
        self._dead_letter(delivery, outcome, message.receive_count)
        self.engine.delete(self.queue, [message.receipt_handle])

    def _call(self, delivery: PendingDelivery) -> Outcome:
        if delivery.protocol == "lambda":
            return self._invoke(delivery)
        import httpx

        try:
            response = self.http.post(
                delivery.endpoint,
                content=delivery.payload.encode(),
                headers=delivery.headers,
                timeout=HTTP_TIMEOUT[delivery.style],
            )
        except httpx.HTTPError as error:
            return Outcome(False, True, "ConnectionError", f"{type(error).__name__}: {error}")
        status = response.status_code
        if 200 <= status < 300:
            return Outcome(True)
        if delivery.style == "sns":
            retry = not 400 <= status < 500
        else:
            retry = status in EVENTS_RETRIED_STATUSES or status >= 500
        return Outcome(False, retry, f"HTTP{status}", f"the endpoint answered {status}")

    def _invoke(self, delivery: PendingDelivery) -> Outcome:
        assert self.handler is not None
        try:
            event = json.loads(delivery.payload)
        except json.JSONDecodeError:
            event = delivery.payload
        try:
            self.handler(event)
        except Exception as error:  # a handler's failure is the delivery's outcome
            log.exception("function %s failed", delivery.endpoint)
            return Outcome(False, True, "FunctionError", f"{type(error).__name__}: {error}")
        return Outcome(True)

    def _dead_letter(self, delivery: PendingDelivery, outcome: Outcome, attempts: int) -> None:
        where = f"sent to {delivery.dead_letter}" if delivery.dead_letter else "dropped"
        log.warning(
            "delivery from %s to %s failed after %d attempts (%s: %s); %s",
            delivery.source,
            delivery.endpoint,
            attempts,
            outcome.code,
            outcome.message,
            where,
        )
        if delivery.dead_letter is None:
            return
        if delivery.style == "sns":
            errors = {
                "RequestID": str(uuid.uuid4()),
                "ErrorCode": outcome.code,
                "ErrorMessage": outcome.message[:256],
            }
        else:
            errors = {
                "ERROR_CODE": outcome.code,
                "ERROR_MESSAGE": outcome.message[:256],
                "RETRY_ATTEMPTS": str(attempts - 1),
            }
        attributes = {
            name: {"DataType": "String", "StringValue": value}
            for name, value in {**delivery.dead_letter_attributes, **errors}.items()
        }
        try:
            self.engine.send(delivery.dead_letter, [OutgoingMessage(delivery.payload, attributes)])
        except QueueDoesNotExist:
            log.error("dead-letter queue %s is gone; the delivery is lost", delivery.dead_letter)
