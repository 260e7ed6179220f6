"""The renditions function: triggered by the bucket's object-created events (through a queue,
so that a failure is retried and, after the queue's maxReceiveCount, dead-lettered)."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import unquote_plus

from archlab.systems.images.wiring import catalog_from_settings

log = logging.getLogger(__name__)


def make_renditions(event: dict[str, Any]) -> dict[str, Any]:
    """An SQS event of S3 notifications: make the renditions of every original created.
    Messages that failed are reported, so only they come back."""
    failures = []
    for record in event["Records"]:
        try:
            for notification in json.loads(record["body"]).get("Records", []):
                if notification.get("eventName", "").startswith("ObjectCreated:"):
                    key = unquote_plus(notification["s3"]["object"]["key"])
                    catalog_from_settings().process(key)
        except Exception:  # one bad message must not fail its batch-mates
            log.exception("renditions failed for message %s", record["messageId"])
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
