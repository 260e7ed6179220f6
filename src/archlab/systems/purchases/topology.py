"""The purchases system's three designs, each a topology.

- ``dispatcher``: the notes' "bad answer": System A sends every purchase to one queue, and one
  pool of workers calls whichever backend the purchase needs. A flood of one coverage type
  delays every other type behind it.
- ``topic``: a topic fans out to one queue per coverage type, each subscription with a filter
  policy on the ``coverage`` message attribute; each backend has its own autoscaled workers.
- ``bus``: an event bus with one content rule per coverage type, plus a compound rule (car
  purchases in western states above a premium) feeding an underwriting-review queue.
"""

from __future__ import annotations

from typing import Any

from archlab.topology import (
    Edge,
    EventBus,
    InstanceGroup,
    Node,
    Profile,
    Queue,
    Service,
    TargetTracking,
    Topic,
    Topology,
    UserJourney,
)

COVERAGES = ("car", "home", "life", "travel", "pet")
MAX_RECEIVES = 3
"""Receives before a purchase that keeps failing goes to its dead-letter queue."""
HANDLER = "archlab.systems.purchases.backends:handle"
REVIEW_HANDLER = "archlab.systems.purchases.backends:review"
SOURCE = "archlab.purchases"
DETAIL_TYPE = "PurchaseCompleted"
REVIEW_STATES = ("CA", "OR", "WA")
REVIEW_PREMIUM = 1500
SCALING = TargetTracking(acceptable_latency_s=0.5, processing_time_s=0.05)
"""A backend worker may have 10 purchases waiting: at ~50 ms each, a half-second wait."""


def _queue(node_id: str, label: str) -> tuple[Queue, Queue]:
    dead = Queue(id=f"{node_id}-dlq", label=f"{label} dead letters")
    return Queue(
        id=node_id,
        label=label,
        attributes={"VisibilityTimeout": "5"},
        dead_letter=dead.id,
        max_receive_count=MAX_RECEIVES,
    ), dead


def _backend(
    node_id: str, label: str, max_size: int, handler: str = HANDLER, min_size: int = 1
) -> InstanceGroup:
    return InstanceGroup(
        id=node_id,
        label=label,
        handler=handler,
        min_size=min_size,
        max_size=max_size,
        scaling=SCALING,
    )


def _system_a() -> Service:
    return Service(id="system-a", label="System A (purchases)")


def _journey(coverage: str, queue: str, backend: str, name: str | None = None) -> UserJourney:
    return UserJourney(
        name=name or f"a {coverage} purchase reaches its backend",
        path=("system-a", "purchases", queue, backend),
    )


def dispatcher() -> Topology:
    queue, dead = _queue("purchases", "all purchases")
    # The same budget of workers as the fan-out designs (two per type), and a floor sized, like
    # theirs, for the everyday load of every type.
    pool = _backend(
        "dispatcher",
        "dispatcher: calls every backend",
        max_size=2 * len(COVERAGES),
        min_size=len(COVERAGES) - 1,
    )
    return Topology(
        system="purchases",
        description="One queue and one dispatcher pool for every coverage type.",
        profile=Profile(name="dispatcher", knobs={"dead_letter_queues": True}),
        nodes=(_system_a(), queue, dead, pool),
        edges=(
            Edge(source="system-a", target="purchases", kind="publishes"),
            Edge(source="purchases", target="dispatcher", kind="triggers"),
        ),
        journeys=tuple(
            UserJourney(
                name=f"a {coverage} purchase reaches its backend",
                path=("system-a", "purchases", "dispatcher"),
            )
            for coverage in COVERAGES
        ),
    )


def topic() -> Topology:
    nodes: list[Node] = [_system_a(), Topic(id="purchases", label="purchases topic")]
    journeys = []
    edges = [Edge(source="system-a", target="purchases", kind="publishes")]
    for coverage in COVERAGES:
        queue, dead = _queue(coverage, f"{coverage} purchases")
        backend = _backend(f"{coverage}-backend", f"{coverage} backend", max_size=2)
        nodes += [queue, dead, backend]
        edges += [
            Edge(
                source="purchases",
                target=coverage,
                kind="subscribes",
                filter_policy={"coverage": [coverage]},
                label=f"coverage = {coverage}",
            ),
            Edge(source=coverage, target=backend.id, kind="triggers"),
        ]
        journeys.append(_journey(coverage, coverage, backend.id))
    return Topology(
        system="purchases",
        description="A topic with attribute filter policies fans out to a queue per type.",
        profile=Profile(name="topic", knobs={"dead_letter_queues": True}),
        nodes=tuple(nodes),
        edges=tuple(edges),
        journeys=tuple(journeys),
    )


def bus() -> Topology:
    nodes: list[Node] = [_system_a(), EventBus(id="purchases", label="purchases event bus")]
    journeys = []
    edges = [Edge(source="system-a", target="purchases", kind="publishes")]
    routes: list[tuple[str, str, dict[str, Any]]] = [
        (coverage, f"{coverage} purchases", {"detail": {"coverage": [coverage]}})
        for coverage in COVERAGES
    ]
    routes.append(
        (
            "underwriting",
            "car purchases to review",
            {
                "detail": {
                    "coverage": ["car"],
                    "state": list(REVIEW_STATES),
                    "premium": [{"numeric": [">=", REVIEW_PREMIUM]}],
                }
            },
        )
    )
    for node_id, label, pattern in routes:
        queue, dead = _queue(node_id, label)
        handler = REVIEW_HANDLER if node_id == "underwriting" else HANDLER
        backend = _backend(f"{node_id}-backend", f"{node_id} backend", 2, handler)
        nodes += [queue, dead, backend]
        edges += [
            Edge(
                source="purchases",
                target=node_id,
                kind="subscribes",
                rule=node_id,
                event_pattern={"source": [SOURCE], "detail-type": [DETAIL_TYPE], **pattern},
                label=label,
            ),
            Edge(source=node_id, target=backend.id, kind="triggers"),
        ]
        what = "a car purchase is reviewed" if node_id == "underwriting" else None
        journeys.append(_journey(node_id, node_id, backend.id, name=what))
    return Topology(
        system="purchases",
        description="An event bus with content rules, one compound, into per-type queues.",
        profile=Profile(name="bus", knobs={"dead_letter_queues": True}),
        nodes=tuple(nodes),
        edges=tuple(edges),
        journeys=tuple(journeys),
    )


PROFILES = {"dispatcher": dispatcher, "topic": topic, "bus": bus}
