"""The boundary between messaging blocks and the engines that keep their state.

Like httpx's transports, an engine speaks plain primitives (strings, numbers, small dataclasses)
at a strict cut-off: the block above has already validated every argument, and the engine
applies the stateful, time-dependent rules — visibility, delay, retention, dead-letter redrive —
atomically. This is what lets the same block run on SQLite today and on SQS, PostgreSQL or
RabbitMQ later: an engine is done when the block's conformance suite passes on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    body: str
    message_attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    delay_seconds: int = 0
    priority: int = 0
    """Higher first among visible messages; equal priorities in the order they became visible."""
    group_id: str | None = None
    """FIFO queues: messages of one group are received in order, one batch in flight at once."""
    deduplication_id: str | None = None
    """FIFO queues: a second send with this id within five minutes is accepted, not stored."""


@dataclass(frozen=True)
class ReceivedMessage:
    message_id: str
    receipt_handle: str
    body: str
    message_attributes: dict[str, dict[str, str]]
    receive_count: int
    sent: float
    first_received: float
    group_id: str | None = None
    deduplication_id: str | None = None
    sequence_number: int = 0


@dataclass(frozen=True)
class Subscription:
    id: str
    topic: str
    protocol: str
    endpoint: str
    attributes: dict[str, str]
    """FilterPolicy, FilterPolicyScope, RawMessageDelivery: SNS-shaped strings."""


@dataclass(frozen=True)
class BusRule:
    name: str
    pattern: str
    """The event pattern, as JSON text."""
    state: str
    """ENABLED or DISABLED."""
    targets: list[dict[str, Any]]
    """PutTargets-shaped targets: Id, Arn, InputPath / InputTransformer, DeadLetterConfig, ..."""


@dataclass(frozen=True)
class Archive:
    name: str
    bus: str
    pattern: str | None
    retention_days: int
    """0 keeps events forever."""


class MessagingEngine(Protocol):
    """Queue state. Names are plain queue names; attributes are SQS-shaped strings."""

    def create_queue(self, name: str, attributes: dict[str, str]) -> None:
        """Create a queue; an existing queue with other attributes is QueueAlreadyExists."""

    def delete_queue(self, name: str) -> None: ...

    def list_queues(self, prefix: str = "") -> list[str]: ...

    def queue_attributes(self, name: str) -> dict[str, str]:
        """The configured attributes; QueueDoesNotExist if there is no such queue."""

    def queue_metrics(self, name: str) -> dict[str, int]:
        """ApproximateNumberOfMessages, ...NotVisible, ...Delayed, and the oldest message's age."""

    def send(self, name: str, messages: list[OutgoingMessage]) -> list[str]:
        """Store all messages or none; returns their message ids."""

    def send_many(self, batches: dict[str, list[OutgoingMessage]]) -> dict[str, list[str]]:
        """Store messages in several queues, all or none (a topic's atomic fan-out)."""

    def create_topic(self, name: str) -> None: ...

    def delete_topic(self, name: str) -> None: ...

    def list_topics(self) -> list[str]: ...

    def subscribe(
        self, topic: str, protocol: str, endpoint: str, attributes: dict[str, str]
    ) -> str:
        """Add (or update) the subscription of ``endpoint``; returns its id."""

    def unsubscribe(self, subscription: str) -> None: ...

    def subscriptions(self, topic: str) -> list[Subscription]: ...

    def create_bus(self, name: str) -> None: ...

    def delete_bus(self, name: str) -> None: ...

    def list_buses(self) -> list[str]: ...

    def put_rule(self, bus: str, name: str, pattern: str, state: str) -> None:
        """Create or update a rule; an existing rule keeps its targets."""

    def delete_rule(self, bus: str, name: str) -> None: ...

    def set_targets(self, bus: str, rule: str, targets: list[dict[str, Any]]) -> None: ...

    def rules(self, bus: str) -> list[BusRule]: ...

    def create_archive(
        self, name: str, bus: str, pattern: str | None, retention_days: int
    ) -> None: ...

    def archives(self, bus: str) -> list[Archive]: ...

    def archive_events(self, archive: str, events: list[tuple[float, str]]) -> None:
        """Keep events (time, JSON text), dropping those past the archive's retention."""

    def archived_events(self, archive: str, start: float, end: float) -> tuple[str, list[str]]:
        """The archive's bus, and its events with start <= time < end, oldest first."""

    def receive(
        self, name: str, max_messages: int, visibility_timeout: int, wait_seconds: int
    ) -> list[ReceivedMessage]:
        """Claim up to ``max_messages`` visible messages, waiting up to ``wait_seconds``."""

    def delete(self, name: str, receipt_handles: list[str]) -> None:
        """Delete the messages these handles name, in one transaction; stale handles do nothing."""

    def change_visibility(
        self, name: str, receipt_handle: str, visibility_timeout: int
    ) -> None: ...

    def move_messages(self, name: str, destination: str | None, limit: int) -> int:
        """Move up to ``limit`` messages of a dead-letter queue back to their source queues
        (or to ``destination``); returns how many moved."""

    def purge(self, name: str) -> None: ...

    def close(self) -> None: ...
