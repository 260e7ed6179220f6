"""The renditions function: triggered by the bucket's object-created events (through a queue,
so that a failure is retried and, after the queue's maxReceiveCount, dead-lettered)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from archlab.systems.images.catalog import Catalog
from archlab.systems.images.wiring import catalog_from_settings

log = logging.getLogger(__name__)


def make_renditions(event: dict[str, Any]) -> dict[str, Any]:
    """An SQS event of S3 notifications: make the renditions of every original created.
    Messages that failed are reported, so only they come back."""
    return _make(event, catalog_from_settings)


def make_renditions_in_database(event: dict[str, Any]) -> dict[str, Any]:
    """The same, for the ``blobs`` profile: originals and renditions in the database."""
    return _make(event, lambda: catalog_from_settings("database"))


def _make(event: dict[str, Any], catalog: Callable[[], Catalog]) -> dict[str, Any]:
    failures = []
    for record in event["Records"]:
        try:
            for notification in json.loads(record["body"]).get("Records", []):
                if notification.get("eventName", "").startswith("ObjectCreated:"):
                    key = unquote_plus(notification["s3"]["object"]["key"])
                    catalog().process(key)
        except Exception:  # one bad message must not fail its batch-mates
            log.exception("renditions failed for message %s", record["messageId"])
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
