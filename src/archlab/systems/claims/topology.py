"""The claims system's two designs for serving car claims before every other claim, each a
topology.

- ``two-queues``: car claims have a queue of their own, consumed by workers autoscaled on its
  backlog; every other claim waits in a second queue served by one fixed worker. A flood of
  other claims only lengthens their own queue: the car lane stays short.
- ``priority``: one queue with RabbitMQ-style priorities (``MaxPriority``); car claims are sent
  at a higher priority than the rest, so one autoscaled pool takes them first, whatever the
  backlog of other claims behind them.

Each profile also says which lane (queue, priority) each claim type goes to, in ``LANES``: the
submitter reads it instead of knowing the designs.
"""

from __future__ import annotations

from typing import NamedTuple

from archlab.topology import (
    Edge,
    InstanceGroup,
    Profile,
    Queue,
    Service,
    TargetTracking,
    Topology,
    UserJourney,
)

CLAIM_TYPES = ("car", "other")
OTHER_LINES = ("home", "travel", "pet", "life")
"""The lines of business an ``other`` claim comes from."""
CAR_PRIORITY = 9
OTHER_PRIORITY = 1
MAX_RECEIVES = 3
"""Receives before a claim that keeps failing goes to its dead-letter queue."""
HANDLER = "archlab.systems.claims.backends:handle"
SCALING = TargetTracking(acceptable_latency_s=0.1, processing_time_s=0.02)
"""A worker may have 5 claims waiting: at ~20 ms each, a tenth of a second."""
CLAIMANTS = "claimants"
CAR_JOURNEY = "a car claim is handled"
OTHER_JOURNEY = "another claim is handled"


class Lane(NamedTuple):
    """Where a claim type is sent: a queue node, and the priority (None: no priorities)."""

    queue: str
    priority: int | None = None


LANES = {
    "two-queues": {"car": Lane("car-claims"), "other": Lane("other-claims")},
    "priority": {"car": Lane("claims", CAR_PRIORITY), "other": Lane("claims", OTHER_PRIORITY)},
}


def _queue(node_id: str, label: str, attributes: dict[str, str] | None = None) -> list[Queue]:
    dead = Queue(id=f"{node_id}-dlq", label=f"{label}: dead letters")
    queue = Queue(
        id=node_id,
        label=label,
        attributes={"VisibilityTimeout": "5", **(attributes or {})},
        dead_letter=dead.id,
        max_receive_count=MAX_RECEIVES,
    )
    return [queue, dead]


def _claimants() -> Service:
    return Service(id=CLAIMANTS, label="claimants (policy holders filing claims)")


def _profile(name: str) -> Profile:
    return Profile(name=name, knobs={"dead_letter_queues": True})


def two_queues() -> Topology:
    car = InstanceGroup(
        id="car-adjusters",
        label="car claim adjusters",
        handler=HANDLER,
        min_size=1,
        max_size=4,
        scaling=SCALING,
    )
    other = InstanceGroup(
        id="other-adjusters", label="other claim adjusters", handler=HANDLER, min_size=1
    )
    return Topology(
        system="claims",
        description="Car claims in a queue of their own with autoscaled consumers; the rest in"
        " a second queue with one fixed consumer.",
        profile=_profile("two-queues"),
        nodes=(
            _claimants(),
            *_queue("car-claims", "car claims"),
            *_queue("other-claims", "home, travel, pet and life claims"),
            car,
            other,
        ),
        edges=(
            Edge(source=CLAIMANTS, target="car-claims", kind="publishes", label="car claims"),
            Edge(
                source=CLAIMANTS, target="other-claims", kind="publishes", label="every other claim"
            ),
            Edge(
                source="car-claims",
                target=car.id,
                kind="triggers",
                label=f"scaled on backlog ({SCALING.target_backlog_per_worker:g} per worker)",
            ),
            Edge(
                source="other-claims",
                target=other.id,
                kind="triggers",
                label="one worker, never scaled",
            ),
        ),
        journeys=(
            UserJourney(name=CAR_JOURNEY, path=(CLAIMANTS, "car-claims", car.id)),
            UserJourney(name=OTHER_JOURNEY, path=(CLAIMANTS, "other-claims", other.id)),
        ),
    )


def priority() -> Topology:
    # The same worker budget as two-queues (one to four car workers and one other): the designs
    # differ in how the queue orders claims, not in how many hands process them.
    adjusters = InstanceGroup(
        id="adjusters",
        label="claim adjusters: car claims first",
        handler=HANDLER,
        min_size=2,
        max_size=5,
        scaling=SCALING,
    )
    return Topology(
        system="claims",
        description="One priority queue: car claims are sent at a higher priority and received"
        " first by one autoscaled pool.",
        profile=_profile("priority"),
        nodes=(
            _claimants(),
            *_queue("claims", "all claims, by priority", {"MaxPriority": str(CAR_PRIORITY)}),
            adjusters,
        ),
        edges=(
            Edge(
                source=CLAIMANTS,
                target="claims",
                kind="publishes",
                label=f"car claims at priority {CAR_PRIORITY}, others at {OTHER_PRIORITY}",
            ),
            Edge(
                source="claims",
                target=adjusters.id,
                kind="triggers",
                label="highest priority first; scaled on backlog",
            ),
        ),
        journeys=(
            UserJourney(name=CAR_JOURNEY, path=(CLAIMANTS, "claims", adjusters.id)),
            UserJourney(name=OTHER_JOURNEY, path=(CLAIMANTS, "claims", adjusters.id)),
        ),
    )


PROFILES = {"two-queues": two_queues, "priority": priority}
