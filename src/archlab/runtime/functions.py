"""Functions: handlers run with Lambda's event shapes, triggered by queues, topics, bus rules and
schedules, in a host process of their own.

- **Queue triggers** (an event source mapping): pollers receive up to ``batch_size`` messages,
  waiting up to ``batching_window_s`` to fill a batch, and call the handler with an SQS event
  (``{"Records": [...]}``). A handler that returns normally has processed the batch, which is
  deleted; one that raises fails the whole batch, which comes back after the visibility
  timeout (and reaches the dead-letter queue after maxReceiveCount receives). With
  ``report_batch_item_failures`` the handler may return ``{"batchItemFailures":
  [{"itemIdentifier": messageId}]}``: only those come back, the rest are deleted; a response
  naming an unknown message fails the whole batch, as in Lambda. ``max_concurrency`` pollers
  run at once.
- **Stream triggers** (Kinesis event source mappings): a poller a shard reads up to
  ``batch_size`` records (gathering for up to ``batching_window_s``), from the mapping's
  checkpoint, or ``starting_position`` the first time, and calls the handler with a Kinesis
  event. A handler that returns normally moves the checkpoint past the batch; one that raises
  gets the same batch again (a shard's records are handled in order, so nothing after a
  failing record is handled before it); with ``report_batch_item_failures`` a response
  ``{"batchItemFailures": [{"itemIdentifier": sequenceNumber}]}`` checkpoints up to the first
  failed record and reads again from there, as Lambda does.
- **Topic and bus triggers**: the function's delivery queue, drained by a
  :class:`~archlab.blocks.delivery.Dispatcher` (with the retries and dead-letter queue the
  subscription or target configures).
- **Schedules**: the handler is called every ``schedule_s`` seconds with an EventBridge
  "Scheduled Event".
"""

from __future__ import annotations

import base64
import datetime
import logging
import signal
import threading
import time
import uuid
from dataclasses import dataclass
from multiprocessing.synchronize import Event
from typing import Any

from archlab.blocks import Queue
from archlab.blocks.delivery import Dispatcher, Handler
from archlab.blocks.errors import ExpiredIterator
from archlab.blocks.queue import ACCOUNT, REGION, Message, queue_arn
from archlab.blocks.stream import Record, Stream
from archlab.engines import connect
from archlab.engines.streams import connect_streams
from archlab.runtime.handlers import load_handler
from archlab.topology import Trigger

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FunctionSpec:
    """What a function host process needs (plain values: it crosses into another process)."""

    name: str
    handler: str
    messaging_url: str
    queue_triggers: tuple[tuple[str, Trigger], ...] = ()
    """(queue name, trigger settings) for each queue that triggers the function."""
    stream_triggers: tuple[tuple[str, Trigger], ...] = ()
    """(stream name, trigger settings) for each stream that triggers the function."""
    streams_url: str | None = None
    pushed: bool = False
    """Topics or bus rules deliver to it: drain its delivery queue."""
    schedule_s: float | None = None


def sqs_event(messages: list[Message], queue: str) -> dict[str, Any]:
    """The event Lambda passes a function for a batch of SQS messages."""
    return {
        "Records": [
            {
                "messageId": m.message_id,
                "receiptHandle": m.receipt_handle,
                "body": m.body,
                "attributes": dict(m.attributes),
                "messageAttributes": {
                    name: {
                        "dataType": value["DataType"],
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                    }
                    for name, value in m.message_attributes.items()
                },
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn(queue),
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


def scheduled_event(name: str) -> dict[str, Any]:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": now,
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name}-schedule"],
        "detail": {},
    }


class QueuePoller:
    """One poller of an event source mapping."""

    def __init__(self, queue: Queue, trigger: Trigger, handler: Handler) -> None:
        self.queue = queue
        self.trigger = trigger
        self.handler = handler

    def poll_once(self, wait_seconds: int = 1) -> int:
        """Receive one batch and run the handler on it; returns the number of messages."""
        batch = self._batch(wait_seconds)
        if not batch:
            return 0
        try:
            response = self.handler(sqs_event(batch, self.queue.name))
        except Exception:
            log.exception("%s: the batch of %d failed", self.queue.name, len(batch))
            return len(batch)
        failed = self._failures(response, batch)
        done = [m for m in batch if m.message_id not in failed]
        for start in range(0, len(done), 10):
            entries = done[start : start + 10]
            self.queue.delete_batch(
                [{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(entries)]
            )
        return len(batch)

    def _batch(self, wait_seconds: int) -> list[Message]:
        size, window = self.trigger.batch_size, self.trigger.batching_window_s
        batch = self.queue.receive(size, wait_seconds=wait_seconds)
        deadline = time.monotonic() + window
        while batch and len(batch) < size and time.monotonic() < deadline:
            batch += self.queue.receive(size - len(batch), wait_seconds=0)
            if len(batch) < size:
                time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        return batch

    def _failures(self, response: Any, batch: list[Message]) -> set[str]:
        """The ids the handler reported failed (all of them if the response is invalid)."""
        everything = {m.message_id for m in batch}
        if not self.trigger.report_batch_item_failures or not response:
            return set()
        items = response.get("batchItemFailures") if isinstance(response, dict) else None
        if items is None:
            return set()
        failed = set()
        for item in items if isinstance(items, list) else [None]:
            identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
            if identifier not in everything:
                log.error("%s: invalid batchItemFailures %r: the batch fails", self.queue, items)
                return everything
            failed.add(identifier)
        return failed


def kinesis_event(records: list[Record], stream: Stream, shard_id: str) -> dict[str, Any]:
    """The event Lambda passes a function for a batch of a shard's records."""
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": r.partition_key,
                    "sequenceNumber": r.sequence_number,
                    "data": base64.b64encode(r.data).decode(),
                    "approximateArrivalTimestamp": r.approximate_arrival_timestamp,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard_id}:{r.sequence_number}",
                "eventName": "aws:kinesis:record",
                "awsRegion": REGION,
                "eventSourceARN": stream.arn,
            }
            for r in records
        ]
    }


class StreamPoller:
    """The poller of one shard for one event source mapping; its checkpoints are kept under
    ``application`` (the function's name), so a restarted host resumes where it stopped."""

    IDLE_S = 0.2
    """How long to wait when the shard has nothing new (Lambda polls a shard once a second)."""

    def __init__(
        self, stream: Stream, shard_id: str, application: str, trigger: Trigger, handler: Handler
    ) -> None:
        self.stream = stream
        self.shard_id = shard_id
        self.application = application
        self.trigger = trigger
        self.handler = handler
        self._iterator: str | None = None

    def poll_once(self) -> int:
        """Read one batch and run the handler on it; returns the number of records."""
        batch = self._batch()
        if not batch:
            time.sleep(self.IDLE_S)
            return 0
        try:
            response = self.handler(kinesis_event(batch, self.stream, self.shard_id))
        except Exception:
            log.exception(
                "%s/%s: the batch of %d failed", self.stream.name, self.shard_id, len(batch)
            )
            self._iterator = None  # the same records again, from the checkpoint
            return len(batch)
        handled = self._handled(response, batch)
        if handled:
            last = handled[-1].sequence_number
            self.stream.checkpoint(self.application, self.shard_id, last)
        if len(handled) < len(batch):
            self._iterator = None
        return len(batch)

    def _batch(self) -> list[Record]:
        size, window = self.trigger.batch_size, self.trigger.batching_window_s
        deadline = time.monotonic() + window
        batch: list[Record] = []
        while True:
            try:
                if self._iterator is None:
                    self._iterator = self.stream.checkpoint_iterator(
                        self.application, self.shard_id, self.trigger.starting_position
                    )
                got = self.stream.get_records(self._iterator, size - len(batch))
            except ExpiredIterator:
                self._iterator = None
                continue
            self._iterator = got.next_shard_iterator
            batch += got.records
            if len(batch) >= size or time.monotonic() >= deadline:
                return batch
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def _handled(self, response: Any, batch: list[Record]) -> list[Record]:
        """The records before the first the handler reported failed (all of them when it
        reported none; none when its report names a record not in the batch)."""
        if not self.trigger.report_batch_item_failures or not isinstance(response, dict):
            return batch
        items = response.get("batchItemFailures")
        if not items:
            return batch
        positions = {r.sequence_number: i for i, r in enumerate(batch)}
        failed = [
            positions.get(str(item.get("itemIdentifier"))) if isinstance(item, dict) else None
            for item in (items if isinstance(items, list) else [None])
        ]
        if None in failed:
            log.error("%s: invalid batchItemFailures %r: the batch fails", self.stream.name, items)
            return []
        return batch[: min(i for i in failed if i is not None)]


def run_function_host(spec: FunctionSpec, stop: Event) -> None:
    """A function host process: pollers, a dispatcher and a schedule, until ``stop``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s fn:{spec.name} %(message)s")
    handler = load_handler(spec.handler)
    engine = connect(spec.messaging_url)
    loops: list[threading.Thread] = []

    def repeat(step: Any) -> None:
        """Run ``step`` until stopped; a step that raises (a locked database under load, a
        lost connection) is logged and tried again, as Lambda's pollers retry, rather than
        ending the thread and, silently, that trigger."""
        while not stop.is_set():
            try:
                step()
            except Exception:
                log.exception("%s: a poll failed; trying again", spec.name)
                stop.wait(0.5)

    for queue_name, trigger in spec.queue_triggers:
        poller = QueuePoller(Queue(engine, queue_name), trigger, handler)
        for _ in range(trigger.max_concurrency):
            loops.append(threading.Thread(target=repeat, args=(poller.poll_once,), daemon=True))
    if spec.stream_triggers:
        assert spec.streams_url is not None
        streams = connect_streams(spec.streams_url)
        for stream_name, trigger in spec.stream_triggers:
            stream = Stream(streams, stream_name)
            for shard in stream.describe().shards:
                reader = StreamPoller(stream, shard.shard_id, spec.name, trigger, handler)
                loops.append(threading.Thread(target=repeat, args=(reader.poll_once,), daemon=True))
    if spec.pushed:
        dispatcher = Dispatcher(engine, function=spec.name, handler=handler)
        drain = lambda: dispatcher.run_once(wait_seconds=1)  # noqa: E731
        loops.append(threading.Thread(target=repeat, args=(drain,), daemon=True))
    if spec.schedule_s:
        interval = spec.schedule_s

        def tick() -> None:
            if not stop.wait(interval):
                try:
                    handler(scheduled_event(spec.name))
                except Exception:
                    log.exception("scheduled invocation of %s failed", spec.name)

        loops.append(threading.Thread(target=repeat, args=(tick,), daemon=True))
    for loop in loops:
        loop.start()
    for loop in loops:
        loop.join()
