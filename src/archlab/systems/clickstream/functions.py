"""The clickstream's functions: the stream's two consumers, the delivery stream's deliverer,
the crawler and the ETL job (see ``topology``). Each runs in its own function host; what they
share they find through ``pipeline``."""

from __future__ import annotations

import base64
import functools
import json
import logging
import os
import threading
from typing import Any

from archlab.lake.delivery import DeliveryStream
from archlab.systems.clickstream import pipeline
from archlab.systems.clickstream.etl import Warehouse
from archlab.systems.clickstream.windows import TumblingWindows
from archlab.systems.clickstream.wiring import EVENTS

log = logging.getLogger(__name__)


@functools.cache
def _delivery() -> DeliveryStream:
    return pipeline.delivery_stream()


def to_lake(event: dict[str, Any]) -> dict[str, Any]:
    """A batch of a shard's records into the delivery stream's buffer, each record once even
    when the batch comes again (the buffer keeps the shard's position with the records)."""
    shards: dict[str, list[tuple[int, bytes]]] = {}
    for record in event["Records"]:
        shard_id = record["eventID"].split(":", 1)[0]
        kinesis = record["kinesis"]
        shards.setdefault(shard_id, []).append(
            (int(kinesis["sequenceNumber"]), base64.b64decode(kinesis["data"]))
        )
    for shard_id, records in shards.items():
        pipeline.to_lake(_delivery(), shard_id, records)
    return {"batchItemFailures": []}


def deliver_due(event: dict[str, Any]) -> None:
    """Deliver the partitions whose buffer is full or old enough (Firehose's own loop)."""
    while _delivery().deliver_due().files:
        pass  # a busy buffer converts a chunk a call: go on while there is work


class _Windows:
    """The in-stream windows of this function host, shared by its shards' pollers (threads),
    written for the live panel after every batch. They live in memory, as an analytics
    application's state does: a restarted host starts counting again from its checkpoint."""

    def __init__(self) -> None:
        self.windows = TumblingWindows()
        self.lock = threading.Lock()

    def add(self, records: list[dict[str, Any]]) -> None:
        # The panel is written under the lock too: written after it, a shard's poller could
        # replace the panel another's had just written with its older one, and keep it so.
        with self.lock:
            self.windows.add(records)
            write_panel(self.windows.panel())


_windows = _Windows()


def count_windows(event: dict[str, Any]) -> dict[str, Any]:
    records = [json.loads(base64.b64decode(r["kinesis"]["data"])) for r in event["Records"]]
    _windows.add(records)
    return {"batchItemFailures": []}


def write_panel(panel: dict[str, Any]) -> None:
    path = pipeline.here().panel
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    partial.write_text(json.dumps(panel), encoding="utf-8")
    partial.replace(path)


def crawl(event: dict[str, Any]) -> None:
    report = pipeline.crawler().crawl()
    added = sum(len(values) for values in report.partitions_added.values())
    if added or report.tables_created or report.schema_changes:
        log.info(
            "crawled: %d partitions added, tables created %s, %d schema changes",
            added,
            report.tables_created,
            len(report.schema_changes),
        )


def run_etl(event: dict[str, Any]) -> None:
    root = pipeline.here()
    warehouse = Warehouse(root.warehouse)
    try:
        report = warehouse.load(root.lake / EVENTS)
    finally:
        warehouse.close()
    if report.days_loaded:
        log.info("ETL: days %s loaded, %d sessions", report.days_loaded, report.sessions)
    rolled = pipeline.session_hours().run()
    if rolled.hours_rolled:
        log.info(
            "rollup: %d hours of session-hours rebuilt, %d rows",
            len(rolled.hours_rolled),
            rolled.rows,
        )
