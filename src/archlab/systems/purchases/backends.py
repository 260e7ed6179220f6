"""The coverage backends: each purchase takes some simulated work, may fail, and is processed
at most once as seen through the ledger (a redelivered purchase is counted as a duplicate).

How long each type takes and how often it fails comes from ``ARCHLAB_PURCHASES_BACKENDS``
(JSON: ``{"car": {"work_ms": 30, "failure_rate": 0.1}}``), read once per process; types not
named keep the defaults below.
"""

from __future__ import annotations

import functools
import json
import os
import random
import time
from typing import Any

from archlab.blocks.queue import Message
from archlab.systems.ledger import Item
from archlab.systems.purchases.ledger import Ledger
from archlab.systems.purchases.topology import MAX_RECEIVES

DEFAULTS = {
    "car": {"work_ms": 30.0, "failure_rate": 0.0},
    "home": {"work_ms": 40.0, "failure_rate": 0.0},
    "life": {"work_ms": 50.0, "failure_rate": 0.0},
    "travel": {"work_ms": 20.0, "failure_rate": 0.0},
    "pet": {"work_ms": 20.0, "failure_rate": 0.0},
    "underwriting": {"work_ms": 60.0, "failure_rate": 0.0},
}
UNKNOWN = {"work_ms": 20.0, "failure_rate": 0.0}


class BackendFailure(RuntimeError):
    """The simulated backend failed this purchase."""


@functools.cache
def settings() -> dict[str, dict[str, float]]:
    configured = json.loads(os.environ.get("ARCHLAB_PURCHASES_BACKENDS", "{}"))
    return {**DEFAULTS, **{k: {**UNKNOWN, **v} for k, v in configured.items()}}


@functools.cache
def ledger() -> Ledger:
    return Ledger()


def purchase_of(body: str) -> dict[str, Any]:
    """The purchase in a message body: the purchase itself, or an EventBridge event's detail."""
    document: dict[str, Any] = json.loads(body)
    if "detail-type" in document:
        detail: dict[str, Any] = document["detail"]
        return detail
    return document


def handle(message: Message) -> None:
    """Process one purchase with its coverage type's backend."""
    document = purchase_of(message.body)
    _process(message, Item(document["id"], document["coverage"], document["published_at"]))


def review(message: Message) -> None:
    """Underwriting review of a purchase (a second, separate piece of work on the purchase)."""
    document = purchase_of(message.body)
    _process(message, Item(document["id"], "underwriting", document["published_at"]))


def _process(message: Message, purchase: Item) -> None:
    backend = settings().get(purchase.kind, UNKNOWN)
    time.sleep(backend["work_ms"] / 1000)
    if random.random() < backend["failure_rate"]:
        if int(message.attributes.get("ApproximateReceiveCount", "1")) >= MAX_RECEIVES:
            ledger().dead_lettered(purchase, time.time())
        raise BackendFailure(f"{purchase.kind} backend failed purchase {purchase.id}")
    ledger().processed(purchase, time.time(), os.getpid())
