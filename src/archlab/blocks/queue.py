"""The queue block: Amazon SQS semantics over any messaging engine.

The block validates everything a caller hands it — queue attributes, message bodies and
attributes, batch sizes — and raises the error SQS would raise, before the engine is asked to do
anything; so bad input changes nothing, whatever the engine. The engine keeps the state and
enforces the time-dependent rules (visibility, delay, retention, dead-letter redrive).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from archlab.blocks.checks import integer
from archlab.blocks.errors import (
    BatchEntryIdsNotDistinct,
    EmptyBatchRequest,
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidBatchEntryId,
    InvalidMessageContents,
    InvalidParameterValue,
    MessageTooLarge,
    MessagingError,
    TooManyEntriesInBatchRequest,
)
from archlab.clock import Clock, SystemClock
from archlab.engines.base import MessagingEngine, OutgoingMessage, ReceivedMessage

REGION = "us-east-1"
ACCOUNT = "000000000000"
MAX_BATCH = 10
MAX_WAIT_SECONDS = 20
MAX_MESSAGE_ATTRIBUTES = 10

# Attribute: (minimum, maximum, default), as SQS documents them.
NUMERIC_ATTRIBUTES = {
    "VisibilityTimeout": (0, 43_200, 30),
    "DelaySeconds": (0, 900, 0),
    "MessageRetentionPeriod": (60, 1_209_600, 345_600),
    "MaximumMessageSize": (1_024, 1_048_576, 262_144),
    "ReceiveMessageWaitTimeSeconds": (0, 20, 0),
}
MAX_VISIBILITY_TIMEOUT = NUMERIC_ATTRIBUTES["VisibilityTimeout"][1]
MAX_DELAY = NUMERIC_ATTRIBUTES["DelaySeconds"][1]
MAX_RECEIVE_COUNT = 1_000
MAX_REDRIVE_RATE = 500
"""SQS's highest MaxNumberOfMessagesPerSecond for a message move task."""
MAX_PRIORITY = 255
"""Priorities follow RabbitMQ: a queue declares MaxPriority (1-255, an archlab extension to the
SQS attributes) and each message a priority from 0 up to it."""
QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
FIFO_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,75}\.fifo")
ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,256}")
BATCH_ENTRY_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
# MessageGroupId and MessageDeduplicationId: up to 128 of these characters.
FIFO_TOKEN = re.compile(r"[\w!-/:-@\[-`{-~]{1,128}", re.ASCII)
# The characters SQS accepts in a message: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD |
# #x10000-#x10FFFF.
INVALID_BODY_CHARACTER = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def queue_name(name_or_arn: str) -> str:
    """The queue name in a plain name, an ARN or a queue URL."""
    if not isinstance(name_or_arn, str) or not name_or_arn:
        raise InvalidParameterValue("a queue name, ARN or URL is required")
    if name_or_arn.startswith("arn:"):
        return name_or_arn.rsplit(":", 1)[-1]
    if "://" in name_or_arn:
        return name_or_arn.rstrip("/").rsplit("/", 1)[-1]
    return name_or_arn


def queue_arn(name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def validate_queue_name(name: str, fifo: bool) -> None:
    pattern = FIFO_QUEUE_NAME if fifo else QUEUE_NAME
    if not pattern.fullmatch(name):
        rule = (
            "end in .fifo and have at most 80 characters"
            if fifo
            else "be 1 to 80 letters, digits, hyphens or underscores"
        )
        raise InvalidParameterValue(f"queue name {name!r} is invalid: a queue name must {rule}")


def validate_queue_attributes(attributes: dict[str, Any], name: str) -> dict[str, str]:
    """SQS queue attributes, checked and completed with their defaults (values as strings)."""
    if not isinstance(attributes, dict):
        raise InvalidAttributeValue("queue attributes must be an object of names to values")
    known = {
        *NUMERIC_ATTRIBUTES,
        "RedrivePolicy",
        "FifoQueue",
        "ContentBasedDeduplication",
        "MaxPriority",
    }
    for key in attributes:
        if key not in known:
            raise InvalidAttributeName(
                f"unknown queue attribute {key!r} (known: {', '.join(sorted(known))})"
            )
    result: dict[str, str] = {}
    for key, (low, high, default) in NUMERIC_ATTRIBUTES.items():
        raw = attributes.get(key, default)
        try:
            value = int(raw)
            if isinstance(raw, float) and raw != value:
                raise ValueError
        except (TypeError, ValueError):
            raise InvalidAttributeValue(f"{key} must be an integer, got {raw!r}") from None
        if not low <= value <= high:
            raise InvalidAttributeValue(f"{key} must be between {low} and {high}, got {value}")
        result[key] = str(value)
    fifo = _boolean(attributes, "FifoQueue")
    validate_queue_name(name, fifo)
    if fifo:
        result["FifoQueue"] = "true"
        content_based = _boolean(attributes, "ContentBasedDeduplication")
        result["ContentBasedDeduplication"] = "true" if content_based else "false"
    elif "ContentBasedDeduplication" in attributes:
        raise InvalidAttributeName("ContentBasedDeduplication applies to FIFO queues only")
    if "RedrivePolicy" in attributes:
        result["RedrivePolicy"] = json.dumps(redrive_policy(attributes["RedrivePolicy"]))
    if "MaxPriority" in attributes:
        raw = attributes["MaxPriority"]
        if not str(raw).isdigit() or not 1 <= int(raw) <= MAX_PRIORITY:
            raise InvalidAttributeValue(
                f"MaxPriority must be an integer from 1 to {MAX_PRIORITY}, got {raw!r}"
            )
        result["MaxPriority"] = str(int(raw))
    return result


def redrive_policy(raw: Any) -> dict[str, Any]:
    """A RedrivePolicy (JSON text or object): deadLetterTargetArn and maxReceiveCount."""
    policy = raw
    if isinstance(raw, str):
        try:
            policy = json.loads(raw)
        except json.JSONDecodeError:
            raise InvalidAttributeValue("RedrivePolicy must be a JSON object") from None
    if not isinstance(policy, dict) or set(policy) != {"deadLetterTargetArn", "maxReceiveCount"}:
        raise InvalidAttributeValue(
            "RedrivePolicy must hold deadLetterTargetArn and maxReceiveCount, and nothing else"
        )
    target = policy["deadLetterTargetArn"]
    if not isinstance(target, str) or not target:
        raise InvalidAttributeValue("RedrivePolicy.deadLetterTargetArn must be a queue ARN")
    try:
        count = int(policy["maxReceiveCount"])
    except (TypeError, ValueError):
        raise InvalidAttributeValue("RedrivePolicy.maxReceiveCount must be an integer") from None
    if not 1 <= count <= MAX_RECEIVE_COUNT:
        raise InvalidAttributeValue(
            f"RedrivePolicy.maxReceiveCount must be between 1 and {MAX_RECEIVE_COUNT}"
        )
    return {"deadLetterTargetArn": queue_arn(queue_name(target)), "maxReceiveCount": count}


def _boolean(attributes: dict[str, Any], key: str) -> bool:
    raw = attributes.get(key, False)
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise InvalidAttributeValue(f"{key} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class Message:
    """A received message, as ReceiveMessage returns it."""

    message_id: str
    receipt_handle: str
    body: str
    attributes: dict[str, str]
    """System attributes: ApproximateReceiveCount, SentTimestamp, ...FirstReceiveTimestamp."""
    message_attributes: dict[str, dict[str, str]] = field(default_factory=dict)


def validate_message_attributes(attributes: Any) -> dict[str, dict[str, str]]:
    """Message attributes in the SQS shape: {"name": {"DataType": ..., "StringValue": ...}}."""
    if attributes is None:
        return {}
    if not isinstance(attributes, dict):
        raise InvalidParameterValue("message attributes must be an object")
    if len(attributes) > MAX_MESSAGE_ATTRIBUTES:
        raise InvalidParameterValue(
            f"a message can have at most {MAX_MESSAGE_ATTRIBUTES} attributes, got {len(attributes)}"
        )
    result = {}
    for name, attribute in attributes.items():
        if (
            not isinstance(name, str)
            or not ATTRIBUTE_NAME.fullmatch(name)
            or name.startswith(".")
            or name.endswith(".")
            or ".." in name
            or name.lower().startswith(("aws.", "amazon."))
        ):
            raise InvalidParameterValue(
                f"message attribute name {name!r} is invalid: up to 256 letters, digits, _ - and"
                " . (not first, last or doubled), not starting with AWS. or Amazon."
            )
        if not isinstance(attribute, dict) or not isinstance(attribute.get("DataType"), str):
            raise InvalidParameterValue(
                f"message attribute {name!r} needs a DataType (String, Number or Binary)"
            )
        data_type = attribute["DataType"]
        base = data_type.split(".", 1)[0]
        if base not in ("String", "Number", "Binary"):
            raise InvalidParameterValue(
                f"message attribute {name!r}: DataType must be String, Number or Binary"
                f" (optionally with a .suffix), got {data_type!r}"
            )
        key = "BinaryValue" if base == "Binary" else "StringValue"
        value = attribute.get(key)
        if not isinstance(value, str) or not value:
            raise InvalidParameterValue(f"message attribute {name!r} needs a non-empty {key}")
        if base == "Number":
            try:
                float(value)
            except ValueError:
                raise InvalidParameterValue(
                    f"message attribute {name!r}: {value!r} is not a number"
                ) from None
        result[name] = {"DataType": data_type, key: value}
    return result


def message_size(body: str, attributes: dict[str, dict[str, str]]) -> int:
    """Bytes counted against MaximumMessageSize: the body, and each attribute's parts."""
    size = len(body.encode())
    for name, attribute in attributes.items():
        size += len(name.encode()) + sum(len(v.encode()) for v in attribute.values())
    return size


class Queue:
    """One queue, through an engine.

    >>> queue = Queue.create(engine, "orders")           # doctest: +SKIP
    >>> queue.send("hello")                              # doctest: +SKIP
    """

    def __init__(self, engine: MessagingEngine, name_or_arn: str) -> None:
        self.engine = engine
        self.name = queue_name(name_or_arn)
        self.arn = queue_arn(self.name)

    @classmethod
    def create(
        cls, engine: MessagingEngine, name: str, attributes: dict[str, Any] | None = None
    ) -> Queue:
        """Create the queue (or find it, if it exists with the same attributes)."""
        name = queue_name(name)
        checked = validate_queue_attributes(attributes or {}, name)
        engine.create_queue(name, checked)
        return cls(engine, name)

    def attributes(self) -> dict[str, str]:
        """The configured attributes and the approximate metrics, as GetQueueAttributes."""
        attributes = dict(self.engine.queue_attributes(self.name))
        attributes.update({k: str(v) for k, v in self.engine.queue_metrics(self.name).items()})
        attributes["QueueArn"] = self.arn
        return attributes

    def send(
        self,
        body: str,
        *,
        delay_seconds: int | None = None,
        message_attributes: dict[str, Any] | None = None,
        priority: int | None = None,
        group_id: str | None = None,
        deduplication_id: str | None = None,
    ) -> str:
        """Send one message; returns its MessageId."""
        entry = {
            "Id": "0",
            "MessageBody": body,
            "DelaySeconds": delay_seconds,
            "MessageAttributes": message_attributes,
            "Priority": priority,
            "MessageGroupId": group_id,
            "MessageDeduplicationId": deduplication_id,
        }
        return self.send_batch([entry])[0]

    def send_batch(self, entries: Sequence[dict[str, Any]]) -> list[str]:
        """Send up to ten messages atomically; returns their MessageIds in order.

        Entries are SendMessageBatch entries (Id, MessageBody, DelaySeconds, MessageAttributes;
        MessageGroupId and MessageDeduplicationId on FIFO queues) and, on a queue with
        MaxPriority, a Priority (higher is received first; default 0).
        """
        _check_batch(entries)
        configured = self.engine.queue_attributes(self.name)
        limit = int(configured["MaximumMessageSize"])
        default_delay = int(configured["DelaySeconds"])
        max_priority = int(configured.get("MaxPriority", 0))
        fifo = configured.get("FifoQueue") == "true"
        content_based = configured.get("ContentBasedDeduplication") == "true"
        outgoing = []
        for entry in entries:
            body = entry.get("MessageBody")
            if not isinstance(body, str) or not body:
                raise InvalidParameterValue(
                    f"entry {entry['Id']}: MessageBody must be non-empty text"
                )
            bad = INVALID_BODY_CHARACTER.search(body)
            if bad:
                raise InvalidMessageContents(
                    f"entry {entry['Id']}: character U+{ord(bad.group()):04X} at position"
                    f" {bad.start()} is not allowed in a message"
                )
            attributes = validate_message_attributes(entry.get("MessageAttributes"))
            size = message_size(body, attributes)
            if size > limit:
                raise MessageTooLarge(
                    f"entry {entry['Id']}: the message is {size} bytes; this queue's"
                    f" MaximumMessageSize is {limit}"
                )
            group, deduplication = _fifo_ids(entry, fifo, content_based, body)
            delay = entry.get("DelaySeconds")
            if fifo and delay is not None:
                raise InvalidParameterValue(
                    f"entry {entry['Id']}: FIFO queues take DelaySeconds per queue, not per message"
                )
            delay = default_delay if delay is None else delay
            integer(delay, f"entry {entry['Id']}: DelaySeconds", 0, MAX_DELAY)
            priority = entry.get("Priority")
            if priority is None:
                priority = 0
            elif not max_priority:
                raise InvalidParameterValue(
                    f"entry {entry['Id']}: Priority is only for queues with MaxPriority"
                )
            integer(priority, f"entry {entry['Id']}: Priority", 0, max_priority)
            outgoing.append(
                OutgoingMessage(body, attributes, delay, priority, group, deduplication)
            )
        return self.engine.send(self.name, outgoing)

    def receive(
        self,
        max_messages: int = 1,
        *,
        visibility_timeout: int | None = None,
        wait_seconds: int | None = None,
    ) -> list[Message]:
        """Receive up to ``max_messages`` (1-10), waiting up to ``wait_seconds`` (0-20) for one."""
        integer(max_messages, "MaxNumberOfMessages", 1, MAX_BATCH)
        configured = self.engine.queue_attributes(self.name)
        if visibility_timeout is None:
            visibility_timeout = int(configured["VisibilityTimeout"])
        else:
            integer(visibility_timeout, "VisibilityTimeout", 0, MAX_VISIBILITY_TIMEOUT)
        if wait_seconds is None:
            wait_seconds = int(configured["ReceiveMessageWaitTimeSeconds"])
        else:
            integer(wait_seconds, "WaitTimeSeconds", 0, MAX_WAIT_SECONDS)
        received = self.engine.receive(self.name, max_messages, visibility_timeout, wait_seconds)
        return [_message(r) for r in received]

    def delete(self, receipt_handle: str) -> None:
        self.engine.delete(self.name, [receipt_handle])

    def delete_batch(self, entries: Sequence[dict[str, Any]]) -> None:
        """Delete up to ten messages, ``[{"Id": ..., "ReceiptHandle": ...}]``, in one go."""
        _check_batch(entries)
        handles: list[str] = []
        for entry in entries:
            handle = entry.get("ReceiptHandle")
            if not isinstance(handle, str):
                raise InvalidParameterValue(f"entry {entry['Id']}: ReceiptHandle is required")
            handles.append(handle)
        self.engine.delete(self.name, handles)

    def change_visibility(self, receipt_handle: str, visibility_timeout: int) -> None:
        integer(visibility_timeout, "VisibilityTimeout", 0, MAX_VISIBILITY_TIMEOUT)
        self.engine.change_visibility(self.name, receipt_handle, visibility_timeout)

    def change_visibility_batch(self, entries: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
        """ChangeMessageVisibilityBatch: each entry (Id, ReceiptHandle, VisibilityTimeout)
        succeeds or fails on its own, as in SQS: {"Successful": [...], "Failed": [...]}."""
        _check_batch(entries)
        successful: list[dict[str, str]] = []
        failed: list[dict[str, Any]] = []
        for entry in entries:
            try:
                timeout: Any = entry.get("VisibilityTimeout")  # checked by change_visibility
                self.change_visibility(str(entry.get("ReceiptHandle")), timeout)
            except MessagingError as error:
                failed.append(
                    {
                        "Id": entry["Id"],
                        "Code": error.code,
                        "Message": error.message,
                        "SenderFault": True,
                    }
                )
            else:
                successful.append({"Id": entry["Id"]})
        return {"Successful": successful, "Failed": failed}

    def purge(self) -> None:
        self.engine.purge(self.name)

    def redrive(
        self,
        *,
        destination: str | None = None,
        max_per_second: int = MAX_REDRIVE_RATE,
        clock: Clock | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Move this dead-letter queue's messages back to the queues they came from (or to
        ``destination``), at most ``max_per_second``, as SQS's message move task does.

        Returns how many moved; ``progress`` is told the running total after each second.
        """
        integer(max_per_second, "MaxNumberOfMessagesPerSecond", 1, MAX_REDRIVE_RATE)
        target = queue_name(destination) if destination is not None else None
        clock = clock or SystemClock()
        total = 0
        while True:
            started = clock.now()
            moved = self.engine.move_messages(self.name, target, max_per_second)
            total += moved
            if progress is not None:
                progress(total)
            if moved < max_per_second:
                return total
            clock.sleep(max(0.0, 1.0 - (clock.now() - started)))


def _fifo_ids(
    entry: dict[str, Any], fifo: bool, content_based: bool, body: str
) -> tuple[str | None, str | None]:
    """The message group and de-duplication ids of an entry, checked as SQS does."""
    group = entry.get("MessageGroupId")
    deduplication = entry.get("MessageDeduplicationId")
    if not fifo:
        if group is not None or deduplication is not None:
            raise InvalidParameterValue(
                f"entry {entry['Id']}: MessageGroupId and MessageDeduplicationId are for FIFO"
                " queues only"
            )
        return None, None
    for key, value in (("MessageGroupId", group), ("MessageDeduplicationId", deduplication)):
        if value is not None and (not isinstance(value, str) or not FIFO_TOKEN.fullmatch(value)):
            raise InvalidParameterValue(
                f"entry {entry['Id']}: {key} must be 1 to 128 letters, digits or punctuation"
            )
    if group is None:
        raise InvalidParameterValue(f"entry {entry['Id']}: a FIFO queue needs a MessageGroupId")
    if deduplication is None:
        if not content_based:
            raise InvalidParameterValue(
                f"entry {entry['Id']}: a MessageDeduplicationId is required unless the queue"
                " has ContentBasedDeduplication"
            )
        deduplication = hashlib.sha256(body.encode()).hexdigest()
    return group, deduplication


def _check_batch(entries: Sequence[dict[str, Any]]) -> None:
    if not entries:
        raise EmptyBatchRequest("a batch needs at least one entry")
    if len(entries) > MAX_BATCH:
        raise TooManyEntriesInBatchRequest(
            f"a batch holds at most {MAX_BATCH} entries, got {len(entries)}"
        )
    ids = [entry.get("Id") if isinstance(entry, dict) else None for entry in entries]
    for entry_id in ids:
        if not isinstance(entry_id, str) or not BATCH_ENTRY_ID.fullmatch(entry_id):
            raise InvalidBatchEntryId(
                f"batch entry id {entry_id!r} must be 1 to 80 letters, digits, - or _"
            )
    if len(set(ids)) != len(ids):
        raise BatchEntryIdsNotDistinct("two batch entries have the same Id")


def _message(received: ReceivedMessage) -> Message:
    attributes = {
        "ApproximateReceiveCount": str(received.receive_count),
        "SentTimestamp": str(int(received.sent * 1000)),
        "ApproximateFirstReceiveTimestamp": str(int(received.first_received * 1000)),
    }
    if received.group_id is not None:
        attributes["MessageGroupId"] = received.group_id
        attributes["MessageDeduplicationId"] = received.deduplication_id or ""
        attributes["SequenceNumber"] = str(received.sequence_number)
    return Message(
        message_id=received.message_id,
        receipt_handle=received.receipt_handle,
        body=received.body,
        attributes=attributes,
        message_attributes=received.message_attributes,
    )
