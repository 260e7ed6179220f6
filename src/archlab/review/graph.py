"""The architecture as a graph: user journeys derived where none are declared, and the
resources a journey cannot do without.

A journey's *critical* resources are its single points of failure by position: the
articulation points of the journey's graph (take one away and the journey's start no longer
reaches its end) and the only resource of its first or last stage. Whether a critical resource
is also a single point of failure by construction (one instance, one zone) is the checks' call.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import networkx as nx

from archlab.review.model import Architecture, Journey, Kind, LinkKind

FLOW: tuple[LinkKind, ...] = (
    "calls",
    "routes",
    "publishes",
    "subscribes",
    "triggers",
    "reads",
    "writes",
)
"""The links a request or a message travels along (not ``protects``, ``monitors``, ...)."""
ENTRY_KINDS: tuple[Kind, ...] = ("service", "api", "load_balancer")
BUFFERS: tuple[Kind, ...] = ("queue", "topic", "event_bus", "stream", "delivery_stream")
"""What decouples the stages after it from the caller: they run asynchronously."""


def flow_graph(arch: Architecture) -> nx.DiGraph[str]:
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(arch.resources)
    graph.add_edges_from(
        (link.source, link.target)
        for link in arch.links
        if link.kind in FLOW and link.source in arch.resources and link.target in arch.resources
    )
    return graph


def journeys(arch: Architecture) -> tuple[Journey, ...]:
    """The declared journeys, else ones derived from the links (``derive``)."""
    return arch.journeys or derive(arch)


def entries(arch: Architecture, graph: nx.DiGraph[str]) -> list[str]:
    """Where requests and messages come from: callers and internet-facing endpoints, or,
    when nothing calls them, queues, topics and streams that an outside producer feeds."""
    found = []
    for resource in arch.resources.values():
        if graph.in_degree(resource.id) or not graph.out_degree(resource.id):
            continue
        if resource.prop("is_dead_letter"):
            continue
        if resource.kind in ENTRY_KINDS or resource.kind in BUFFERS or resource.public:
            found.append(resource.id)
    return sorted(found)


def derive(arch: Architecture) -> tuple[Journey, ...]:
    """One journey from each entry to each resource it ends at (nothing flows on from it).

    A journey's stages are the resources on a shortest path from its entry to its end, layered
    by distance: two instances behind one load balancer land in the same stage, in parallel.
    """
    graph = flow_graph(arch)
    derived = []
    for entry in entries(arch, graph):
        forward = _distances(graph, entry, reverse=False)
        for end in sorted(node for node in forward if node != entry and not graph.out_degree(node)):
            backward = _distances(graph, end, reverse=True)
            length = forward[end]
            stages: list[list[str]] = [[] for _ in range(length + 1)]
            for node, distance in forward.items():
                if backward.get(node) == length - distance:
                    stages[distance].append(node)
            derived.append(
                Journey(
                    f"{entry} → {end}",
                    tuple(tuple(sorted(stage)) for stage in stages),
                )
            )
    return tuple(derived)


def _distances(graph: nx.DiGraph[str], start: str, *, reverse: bool) -> dict[str, int]:
    """Breadth-first distances from ``start`` along (or against) the links."""
    neighbours = graph.predecessors if reverse else graph.successors
    distances = {start: 0}
    waiting = deque([start])
    while waiting:
        node = waiting.popleft()
        for following in neighbours(node):
            if following not in distances:
                distances[following] = distances[node] + 1
                waiting.append(following)
    return distances


def critical(journey: Journey) -> set[str]:
    """The resources without which ``journey`` cannot be completed."""
    graph: nx.Graph[str] = nx.Graph()
    for stage in journey.stages:
        graph.add_nodes_from(stage)
    for before, after in zip(journey.stages, journey.stages[1:], strict=False):
        graph.add_edges_from((a, b) for a in before for b in after if a != b)
    found = set(nx.articulation_points(graph))
    for stage in (journey.stages[0], journey.stages[-1]):
        if len(stage) == 1:
            found.add(stage[0])
    return found


def asynchronous(arch: Architecture, journey: Journey) -> set[str]:
    """The journey's resources that run after a buffer (a queue, topic, stream): a caller
    does not wait for them."""
    behind: set[str] = set()
    buffered = False
    for stage in journey.stages:
        if buffered:
            behind.update(stage)
        buffered = buffered or any(
            arch.resources[resource_id].kind in BUFFERS
            for resource_id in stage
            if resource_id in arch.resources
        )
    return behind


def on_journeys(arch: Architecture, chosen: Iterable[Journey]) -> dict[str, list[str]]:
    """Each resource id -> the names of the journeys it is on."""
    found: dict[str, list[str]] = {}
    for journey in chosen:
        for stage in journey.stages:
            for resource_id in stage:
                if resource_id in arch.resources:
                    found.setdefault(resource_id, []).append(journey.name)
    return found
