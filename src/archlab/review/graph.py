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

from archlab.review.model import Architecture, Journey, Kind, LinkKind, Resource

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


ENTRY_ORDER: tuple[tuple[Kind, ...], ...] = (
    ENTRY_KINDS,
    ("topic", "event_bus"),
    ("stream", "delivery_stream"),
    ("queue",),
)
"""Which resource of a loop is its entry: the first kinds first."""


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
    when nothing calls them, queues, topics and streams that an outside producer feeds.

    A loop (a consumer that publishes back to the topic it reads from) has an entry too: of
    the loop's resources that nothing outside it feeds, the one highest in ``ENTRY_ORDER``.
    """
    found = []
    condensed = nx.condensation(graph)
    for component in condensed.nodes:
        if condensed.in_degree(component):
            continue
        members = [
            arch.resources[node]
            for node in condensed.nodes[component]["members"]
            if graph.out_degree(node) and not arch.resources[node].prop("is_dead_letter")
        ]
        candidates = [r for r in members if _entry_rank(r) < len(ENTRY_ORDER)]
        if candidates:
            best = min(_entry_rank(r) for r in candidates)
            found += [r.id for r in candidates if _entry_rank(r) == best]
    return sorted(found)


def _entry_rank(resource: Resource) -> int:
    for rank, kinds in enumerate(ENTRY_ORDER):
        if resource.kind in kinds:
            return rank
    return 0 if resource.public else len(ENTRY_ORDER)


def derive(arch: Architecture) -> tuple[Journey, ...]:
    """One journey from each entry to each resource it ends at (nothing flows on from it,
    but back to where it has been).

    A journey's stages are the resources on a shortest path from its entry to its end, layered
    by distance: two instances behind one load balancer land in the same stage, in parallel.
    """
    graph = flow_graph(arch)
    derived = []
    for entry in entries(arch, graph):
        forward = _distances(graph, entry, reverse=False)
        for end in sorted(
            node for node in forward if node != entry and _ends(graph, forward, node)
        ):
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


def _ends(graph: nx.DiGraph[str], forward: dict[str, int], node: str) -> bool:
    """Whether a journey ends at ``node``: nothing flows on from it, or only back to where
    the journey has already been."""
    return all(forward[following] <= forward[node] for following in graph.successors(node))


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
