"""The claimants: realistic claims, submitted the way the running design takes them -- car
claims and the rest to two queues (two-queues), or to one queue at two priorities (priority) --
in batches of up to ten per queue, each batch recorded in the ledger once the engine
acknowledged it.

Callers pace it with :func:`archlab.systems.pacing.pace`.
"""

from __future__ import annotations

import datetime
import json
import random
import time
import uuid
from collections.abc import Iterator
from typing import Any

from archlab.blocks import Queue as QueueBlock
from archlab.engines.base import MessagingEngine
from archlab.runtime.provision import resource_name
from archlab.systems.claims.ledger import Ledger
from archlab.systems.claims.topology import LANES, OTHER_LINES
from archlab.systems.ledger import Item
from archlab.systems.pacing import BATCH
from archlab.topology import Topology

PREFIXES = {"car": "CAR", "home": "HOM", "travel": "TRV", "pet": "PET", "life": "LIF"}
AMOUNTS = {
    "car": (500, 15_000),
    "home": (1_000, 50_000),
    "travel": (100, 5_000),
    "pet": (200, 6_000),
    "life": (50_000, 500_000),
}
DESCRIPTIONS = {
    "car": (
        "rear-ended at a traffic light",
        "windshield cracked by road debris",
        "hail damage to the hood and roof",
        "side mirror clipped in a parking lot",
        "collision with a deer on a rural road",
    ),
    "home": (
        "burst pipe flooded the kitchen",
        "storm tore shingles off the roof",
        "burglary: laptop and jewelry stolen",
    ),
    "travel": (
        "flight canceled: hotel and rebooking costs",
        "luggage lost in transit",
        "emergency dental treatment abroad",
    ),
    "pet": ("dog swallowed a sock: surgery", "cat broke a leg in a fall"),
    "life": ("death benefit filed by the beneficiary", "terminal illness benefit"),
}
INCIDENT_WINDOW_DAYS = 90


def claims(car_share: float, rng: random.Random) -> Iterator[dict[str, Any]]:
    """Endless claims, a ``car_share`` of them car claims, the rest spread over the other
    lines of business."""
    while True:
        line = "car" if rng.random() < car_share else rng.choice(OTHER_LINES)
        low, high = AMOUNTS[line]
        incident = datetime.date.today() - datetime.timedelta(
            days=rng.randrange(INCIDENT_WINDOW_DAYS)
        )
        kind = {"type": "car"} if line == "car" else {"type": "other", "subtype": line}
        yield {
            "id": str(uuid.uuid4()),
            **kind,
            "policy": f"{PREFIXES[line]}-{rng.randrange(10_000_000):07d}",
            "amount": round(rng.uniform(low, high), 2),
            "currency": "USD",
            "incident_date": incident.isoformat(),
            "description": rng.choice(DESCRIPTIONS[line]),
        }


class Submitter:
    """Submits batches of claims into the running design."""

    def __init__(self, topology: Topology, engine: MessagingEngine, ledger: Ledger) -> None:
        self._ledger = ledger
        self._lanes = LANES[topology.profile.name]
        self._queues = {
            lane.queue: QueueBlock(engine, resource_name(topology, lane.queue))
            for lane in self._lanes.values()
        }

    def submit(self, batch: list[dict[str, Any]]) -> None:
        """Send each claim to its lane's queue, up to ten in a request."""
        now = time.time()
        by_queue: dict[str, list[dict[str, Any]]] = {}
        for claim in batch:
            claim["submitted_at"] = now
            by_queue.setdefault(self._lanes[claim["type"]].queue, []).append(claim)
        for node, group in by_queue.items():
            for start in range(0, len(group), BATCH):
                self._request(self._queues[node], group[start : start + BATCH])

    def _request(self, queue: QueueBlock, batch: list[dict[str, Any]]) -> None:
        """One request; the claims are in the ledger once the engine acknowledged it."""
        queue.send_batch(
            [
                {
                    "Id": str(position),
                    "MessageBody": json.dumps(claim),
                    "Priority": self._lanes[claim["type"]].priority,
                }
                for position, claim in enumerate(batch)
            ]
        )
        self._ledger.submitted([Item(c["id"], c["type"], c["submitted_at"]) for c in batch])
