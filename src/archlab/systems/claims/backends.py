"""The claim adjusters: each claim takes some simulated work, may fail, and is processed at most
once as seen through the ledger (a redelivered claim is counted as a duplicate).

Both claim types take the same ~20 ms by default, so that the designs are compared on how they
order claims, not on how long claims take. ``ARCHLAB_CLAIMS_BACKENDS`` (JSON:
``{"other": {"work_ms": 50, "failure_rate": 0.1}}``), read once per process, changes that; a
type's settings not named keep their defaults.
"""

from __future__ import annotations

import functools
import json
import os
import random
import time

from archlab.blocks.queue import Message
from archlab.systems.claims.ledger import Ledger
from archlab.systems.claims.topology import MAX_RECEIVES
from archlab.systems.ledger import Item

DEFAULTS = {
    "car": {"work_ms": 20.0, "failure_rate": 0.0},
    "other": {"work_ms": 20.0, "failure_rate": 0.0},
}


class ClaimFailure(RuntimeError):
    """The simulated adjuster failed this claim."""


@functools.cache
def settings() -> dict[str, dict[str, float]]:
    configured: dict[str, dict[str, float]] = json.loads(
        os.environ.get("ARCHLAB_CLAIMS_BACKENDS", "{}")
    )
    return {
        claim_type: {**defaults, **configured.get(claim_type, {})}
        for claim_type, defaults in DEFAULTS.items()
    }


@functools.cache
def ledger() -> Ledger:
    return Ledger()


def handle(message: Message) -> None:
    """Process one claim with its type's adjuster."""
    document = json.loads(message.body)
    claim = Item(document["id"], document["type"], document["submitted_at"])
    adjuster = settings()[claim.kind]
    time.sleep(adjuster["work_ms"] / 1000)
    if random.random() < adjuster["failure_rate"]:
        if int(message.attributes.get("ApproximateReceiveCount", "1")) >= MAX_RECEIVES:
            ledger().dead_lettered(claim, time.time())
        raise ClaimFailure(f"the {claim.kind} adjuster failed claim {claim.id}")
    ledger().processed(claim, time.time(), os.getpid())
