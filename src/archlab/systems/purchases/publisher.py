"""System A: realistic purchases, published the way the running design takes them -- to the one
queue (dispatcher), the topic with message attributes (topic), or the event bus (bus) -- a batch
at a time (paced by :func:`archlab.systems.pacing.pace`), each batch recorded in the ledger once
the engine acknowledged it."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from archlab.blocks import EventBus
from archlab.blocks import Queue as QueueBlock
from archlab.blocks import Topic as TopicBlock
from archlab.engines.base import MessagingEngine
from archlab.runtime.provision import resource_name
from archlab.systems.ledger import Item
from archlab.systems.purchases.ledger import Ledger
from archlab.systems.purchases.topology import COVERAGES, DETAIL_TYPE, SOURCE
from archlab.topology import Topology

STATES = ("CA", "OR", "WA", "TX", "FL", "NY", "IL", "GA", "AZ", "CO", "MA", "OH")
PREMIUMS = {"car": 1200, "home": 1500, "life": 600, "travel": 90, "pet": 350}


def parse_mix(text: str | None) -> dict[str, float]:
    """``car=0.2,home=0.5``: weights per coverage type (the others keep weight 0 once one is
    named; without a mix every type is equally likely)."""
    if not text:
        return dict.fromkeys(COVERAGES, 1.0)
    mix: dict[str, float] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in COVERAGES:
            raise ValueError(f"--mix: unknown coverage {name!r} (known: {', '.join(COVERAGES)})")
        try:
            weight = float(value)
        except ValueError:
            raise ValueError(f"--mix: {part!r} needs a number after '='") from None
        if weight < 0:
            raise ValueError(f"--mix: the weight of {name} is negative")
        mix[name] = weight
    if sum(mix.values()) <= 0:
        raise ValueError("--mix: the weights add up to 0")
    return mix


def purchases(mix: dict[str, float], rng: random.Random) -> Iterator[dict[str, Any]]:
    names, weights = list(mix), list(mix.values())
    while True:
        coverage = rng.choices(names, weights)[0]
        premium = PREMIUMS[coverage] * rng.uniform(0.5, 2.0)
        yield {
            "id": str(uuid.uuid4()),
            "coverage": coverage,
            "customer": f"C-{rng.randrange(100_000):05d}",
            "state": rng.choice(STATES),
            "premium": round(premium, 2),
            "currency": "USD",
        }


class Publisher:
    """Publishes batches of purchases into the running design."""

    def __init__(self, topology: Topology, engine: MessagingEngine, ledger: Ledger) -> None:
        self.ledger = ledger
        self._send = self._sender(topology, engine)

    def _sender(
        self, topology: Topology, engine: MessagingEngine
    ) -> Callable[[list[dict[str, Any]]], None]:
        entry = topology.edges_from("system-a", "publishes")[0].target
        name = resource_name(topology, entry)
        kind = topology.node(entry).kind
        if kind == "queue":
            queue = QueueBlock(engine, name)

            def send(batch: list[dict[str, Any]]) -> None:
                queue.send_batch(
                    [{"Id": str(i), "MessageBody": json.dumps(p)} for i, p in enumerate(batch)]
                )

            return send
        if kind == "topic":
            topic = TopicBlock(engine, name)

            def publish(batch: list[dict[str, Any]]) -> None:
                for purchase in batch:
                    topic.publish(json.dumps(purchase), message_attributes=_attributes(purchase))

            return publish
        bus = EventBus(engine, name)

        def put(batch: list[dict[str, Any]]) -> None:
            entries = [
                {"Source": SOURCE, "DetailType": DETAIL_TYPE, "Detail": json.dumps(p)}
                for p in batch
            ]
            result = bus.put_events(entries)
            if result.failed_entry_count:
                raise RuntimeError(f"put-events failed: {result.entries}")

        return put

    def publish(self, batch: list[dict[str, Any]]) -> None:
        now = time.time()
        for purchase in batch:
            purchase["published_at"] = now
        self._send(batch)
        self.ledger.submitted([Item(p["id"], p["coverage"], p["published_at"]) for p in batch])


def _attributes(purchase: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {
        "coverage": {"DataType": "String", "StringValue": purchase["coverage"]},
        "state": {"DataType": "String", "StringValue": purchase["state"]},
        "premium": {"DataType": "Number", "StringValue": str(purchase["premium"])},
    }
