"""A topology drawn as inline SVG, laid out on the server.

The layout is plain Python rather than a JavaScript library so that the page needs no build
step and no download, and so that tests can hold the layout to its promises (every node drawn,
no two boxes overlapping). Boxes never move once drawn: the browser only rewrites the live
numbers inside them, found by their ``data-queue``, ``data-pool`` and ``data-function``
attributes (the engine names of the resources, as in ``/api/state``).

The layout reads the way architecture diagrams are read, along the flow of messages: each node
sits in the column of its longest path from a source (a caller such as ``System A`` on the
left), and the nodes of a column are ordered by the mean position of their predecessors, so
that each queue sits next to the topic that feeds it and beside the workers it feeds. A queue's
dead-letter queue counts as its successor, so it lands next to the queue's consumer. Edges of a
cycle that point back are drawn but do not move nodes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from typing import Any

from archlab.runtime.provision import resource_name
from archlab.topology import Edge, Function, InstanceGroup, Node, Queue, Topology

MARGIN = 16
TOP = 34
"""Room above the boxes for the private subnet's label."""
COLUMN_GAP = 150
"""Room between columns for the arrows and their labels."""
ROW_GAP = 18
MIN_WIDTH = 200
MAX_WIDTH = 300
LABEL_CHAR = 7.6
"""Rough width of one character of a box label (13 px, semibold): enough to size a column."""
EDGE_LABEL_CHARS = 24
"""Edge labels longer than this are cut (the whole text stays in a tooltip)."""
PLAIN_HEIGHT = 46
LIVE_HEIGHT = 64
ZONE_ROW = 26
REGION_PAD = 12
BACK_LANE = 34
"""Room under the boxes for arrows that point back (edges closing a cycle)."""

CATEGORIES = {
    "service": "external",
    "api": "edge",
    "load_balancer": "edge",
    "instance_group": "compute",
    "function": "compute",
    "queue": "messaging",
    "topic": "messaging",
    "event_bus": "messaging",
    "bucket": "storage",
    "table": "storage",
    "stream": "storage",
    "delivery_stream": "storage",
    "catalog": "storage",
    "database": "data",
    "cache": "data",
}
"""Kinds are coloured by family, so that a glance tells compute from messaging from storage."""


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    label: str
    dead_letter: bool = False


@dataclass(frozen=True)
class Box:
    node: Node
    column: int
    x: float
    y: float
    width: float
    height: float

    @property
    def middle(self) -> float:
        return self.y + self.height / 2

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height


@dataclass(frozen=True)
class Layout:
    boxes: dict[str, Box]
    arrows: list[Arrow]
    width: float
    height: float
    lane: float
    """The height at which arrows pointing back pass under the boxes."""

    def points_back(self, arrow: Arrow) -> bool:
        return self.boxes[arrow.target].column <= self.boxes[arrow.source].column


# --- layout ------------------------------------------------------------------------------------


def layout(topology: Topology) -> Layout:
    """Where every box goes: columns by depth, ordered by predecessors, centred vertically."""
    arrows = arrows_of(topology)
    depth = columns(topology, arrows)
    ordered = order(topology, depth, arrows)
    widths = [column_width(nodes) for nodes in ordered]
    heights = [[box_height(topology, node) for node in nodes] for nodes in ordered]
    tallest = max(sum(h) + ROW_GAP * (len(h) - 1) for h in heights)
    boxes: dict[str, Box] = {}
    x = float(MARGIN)
    for column, (nodes, width, sizes) in enumerate(zip(ordered, widths, heights, strict=True)):
        # Spread each column over the tallest one's height, the spare room shared evenly around
        # its boxes, so a box lines up with the part of the next column it connects to.
        spare = (tallest - sum(sizes) - ROW_GAP * (len(sizes) - 1)) / len(sizes)
        y = TOP + spare / 2
        for node, height in zip(nodes, sizes, strict=True):
            boxes[node.id] = Box(node, column, x, y, width, height)
            y += height + ROW_GAP + spare
        x += width + COLUMN_GAP
    bottom = TOP + tallest
    if any(depth[arrow.target] <= depth[arrow.source] for arrow in arrows):
        bottom += BACK_LANE
    return Layout(boxes, arrows, x - COLUMN_GAP + MARGIN, bottom + MARGIN, bottom - 8)


def arrows_of(topology: Topology) -> list[Arrow]:
    """The topology's edges, plus one arrow from each queue to its dead-letter queue."""
    result = [Arrow(edge.source, edge.target, edge_label(edge)) for edge in topology.edges]
    result += [
        Arrow(q.id, q.dead_letter, f"after {q.max_receive_count} receives", dead_letter=True)
        for q in topology.of_kind(Queue)
        if q.dead_letter
    ]
    return result


def edge_label(edge: Edge) -> str:
    """The edge's own label, else what it filters on or how it triggers, else its kind."""
    if edge.label:
        return edge.label
    if edge.filter_policy:
        return policy_text(edge.filter_policy)
    if edge.rule:
        return f"rule {edge.rule}"
    if edge.trigger:
        return f"triggers · batch {edge.trigger.batch_size}"
    return edge.kind


def policy_text(policy: dict[str, Any]) -> str:
    """``{"coverage": ["car", "home"]}`` as ``coverage = car | home``; other operators as JSON."""
    parts = []
    for key, values in policy.items():
        plain = isinstance(values, list) and all(isinstance(v, str | int | float) for v in values)
        if plain:
            parts.append(f"{key} = {' | '.join(str(v) for v in values)}")
        else:
            parts.append(f"{key}: {json.dumps(values, separators=(',', ':'))}")
    return ", ".join(parts)


def columns(topology: Topology, arrows: list[Arrow]) -> dict[str, int]:
    """Each node's column: the length of the longest path reaching it, back edges ignored."""
    successors: dict[str, list[str]] = defaultdict(list)
    for arrow in arrows:
        successors[arrow.source].append(arrow.target)
    targets = {arrow.target for arrow in arrows}
    ids = [node.id for node in topology.nodes]
    starts = [i for i in ids if i not in targets] + [i for i in ids if i in targets]
    finished: list[str] = []
    on_path: set[str] = set()
    seen: set[str] = set()
    back: set[tuple[str, str]] = set()

    def visit(node: str) -> None:
        seen.add(node)
        on_path.add(node)
        for target in successors[node]:
            if target in on_path:
                back.add((node, target))
            elif target not in seen:
                visit(target)
        on_path.discard(node)
        finished.append(node)

    for node in starts:
        if node not in seen:
            visit(node)
    depth = dict.fromkeys(ids, 0)
    for node in reversed(finished):  # a topological order of the graph without back edges
        for target in successors[node]:
            if (node, target) not in back:
                depth[target] = max(depth[target], depth[node] + 1)
    return depth


def order(topology: Topology, depth: dict[str, int], arrows: list[Arrow]) -> list[list[Node]]:
    """The nodes of each column, top to bottom: public ones first (the private subnet is then
    one band below them), then by the mean position of their predecessors, the dead-letter
    queue after the consumer it sits beside, then in the topology's order."""
    predecessors: dict[str, list[str]] = defaultdict(list)
    dead_letters = {arrow.target for arrow in arrows if arrow.dead_letter}
    for arrow in arrows:
        predecessors[arrow.target].append(arrow.source)
    position: dict[str, float] = {}
    result: list[list[Node]] = []
    for column in range(max(depth.values()) + 1):
        members = [(i, n) for i, n in enumerate(topology.nodes) if depth[n.id] == column]

        def key(item: tuple[int, Node]) -> tuple[bool, float, bool, int]:
            index, node = item
            placed = [position[p] for p in predecessors[node.id] if p in position]
            centre = sum(placed) / len(placed) if placed else 0.5
            return node.placement != "public", centre, node.id in dead_letters, index

        nodes = [node for _, node in sorted(members, key=key)]
        for rank, node in enumerate(nodes):
            position[node.id] = (rank + 0.5) / len(nodes)
        result.append(nodes)
    return result


def column_width(nodes: list[Node]) -> float:
    longest = max(len(title(node)) for node in nodes)
    return max(MIN_WIDTH, min(MAX_WIDTH, round(longest * LABEL_CHAR + 28)))


def box_height(topology: Topology, node: Node) -> float:
    if isinstance(node, InstanceGroup):
        return LIVE_HEIGHT + ZONE_ROW * len(group_zones(topology, node)) + 4
    if isinstance(node, Queue | Function):
        return LIVE_HEIGHT
    return PLAIN_HEIGHT


def group_zones(topology: Topology, group: InstanceGroup) -> tuple[str, ...]:
    """The zones a group's workers spread over, as the supervisor places them."""
    return group.zones or topology.profile.zones


def title(node: Node) -> str:
    return node.label or node.id


# --- rendering ---------------------------------------------------------------------------------


def render(topology: Topology) -> str:
    """The topology as one ``<svg>`` element, to be styled by the console page's CSS."""
    plan = layout(topology)
    dead_letters = {arrow.target for arrow in plan.arrows if arrow.dead_letter}
    marker = f"arrow-{topology.system}"
    parts = [
        f'<svg class="topology" data-system="{escape(topology.system)}"'
        f' viewBox="0 0 {plan.width:.0f} {plan.height:.0f}"'
        f' width="{plan.width:.0f}" height="{plan.height:.0f}" role="img"'
        f' aria-label="{escape(topology.system)} topology">',
        "<defs>",
        _marker(marker, "arrowhead"),
        _marker(f"{marker}-dead", "arrowhead dead-letter"),
        "</defs>",
        *_private_regions(plan),
        *(_arrow(plan, arrow, marker) for arrow in plan.arrows),
        *(_box(topology, box, dead_letters) for box in plan.boxes.values()),
        "</svg>",
    ]
    return "\n".join(parts)


def _marker(marker_id: str, css_class: str) -> str:
    return (
        f'<marker id="{escape(marker_id)}" viewBox="0 0 10 10" refX="9" refY="5"'
        ' markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        f'<path class="{css_class}" d="M0,0 L10,5 L0,10 z"/></marker>'
    )


def _private_regions(plan: Layout) -> Iterator[str]:
    """A shaded band behind the private nodes of each column; the bands of neighbouring
    columns overlap by a pixel, so a run of private columns reads as one subnet."""
    labelled = False
    last = max(box.column for box in plan.boxes.values())
    for column in range(last + 1):
        boxes = [b for b in plan.boxes.values() if b.column == column]
        private = [b for b in boxes if b.node.placement == "private"]
        if not private:
            continue
        left = boxes[0].x - (REGION_PAD if column == 0 else COLUMN_GAP / 2)
        right = boxes[0].right + (REGION_PAD if column == last else COLUMN_GAP / 2 + 1)
        public = [b for b in boxes if b.node.placement == "public"]
        top = max(b.bottom for b in public) + ROW_GAP / 2 if public else TOP - 26
        bottom = plan.height - MARGIN / 2
        yield (
            f'<rect class="private" x="{left:.1f}" y="{top:.1f}"'
            f' width="{right - left:.1f}" height="{bottom - top:.1f}"/>'
        )
        if not labelled:
            yield (
                f'<text class="region-label" x="{left + 10:.1f}" y="{top + 16:.1f}">'
                "PRIVATE SUBNET</text>"
            )
            labelled = True


def _arrow(plan: Layout, arrow: Arrow, marker: str) -> str:
    path = _back_path(plan, arrow) if plan.points_back(arrow) else _path(plan, arrow)
    css = "edge dead-letter" if arrow.dead_letter else "edge"
    end = f"{marker}-dead" if arrow.dead_letter else marker
    shown = arrow.label
    if len(shown) > EDGE_LABEL_CHARS:
        shown = shown[: EDGE_LABEL_CHARS - 1] + "…"
    x, y, anchor = _label_position(plan, arrow)
    return (
        f'<g class="link" data-source="{escape(arrow.source)}"'
        f' data-target="{escape(arrow.target)}">'
        f"<title>{escape(arrow.label)}</title>"
        f'<path class="{css}" d="{path}" marker-end="url(#{escape(end)})"/>'
        f'<text class="edge-label" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">'
        f"{escape(shown)}</text></g>"
    )


def _path(plan: Layout, arrow: Arrow) -> str:
    """From the source's right side to the target's left, leaving and arriving level."""
    source, target = plan.boxes[arrow.source], plan.boxes[arrow.target]
    x1, y1, x2, y2 = source.right, source.middle, target.x - 2, target.middle
    bend = (x2 - x1) / 2
    return (
        f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    )


def _back_path(plan: Layout, arrow: Arrow) -> str:
    """Out of the source's bottom, along the lane under the boxes, up into the target."""
    source, target = plan.boxes[arrow.source], plan.boxes[arrow.target]
    x1, y1 = source.x + source.width * 0.6, source.bottom
    x2, y2 = target.x + target.width * 0.4, target.bottom + 2
    low = (8 * plan.lane - y1 - y2) / 6  # control points that put the curve's middle on the lane
    return f"M{x1:.1f},{y1:.1f} C{x1:.1f},{low:.1f} {x2:.1f},{low:.1f} {x2:.1f},{y2:.1f}"


def _label_position(plan: Layout, arrow: Arrow) -> tuple[float, float, str]:
    """Where an arrow's label goes: beside the end that no other arrow shares (by its target
    if it is the target's only arrow in, else by its source if the only one out, else in the
    middle), on the side of the line away from where the curve comes from."""
    source, target = plan.boxes[arrow.source], plan.boxes[arrow.target]
    if plan.points_back(arrow):
        return (source.x + target.right) / 2, plan.lane - 5, "middle"
    x1, y1, x2, y2 = source.right, source.middle, target.x, target.middle
    if sum(a.target == arrow.target for a in plan.arrows) == 1:
        return x2 - 10, y2 + (13 if y1 < y2 else -6), "end"
    if sum(a.source == arrow.source for a in plan.arrows) == 1:
        return x1 + 10, y1 + (13 if y2 < y1 else -6), "start"
    return (x1 + x2) / 2, (y1 + y2) / 2 - 6, "middle"


def _box(topology: Topology, box: Box, dead_letters: set[str]) -> str:
    node = box.node
    dead_letter = node.id in dead_letters
    attributes = _live_attributes(topology, node)
    css = f"node kind-{node.kind} {CATEGORIES[node.kind]}" + (" dead-letter" if dead_letter else "")
    parts = [
        f'<g class="{css}" data-node="{escape(node.id)}"{attributes}'
        f' transform="translate({box.x:.1f},{box.y:.1f})">',
        f"<title>{escape(_tooltip(node))}</title>",
        f'<rect class="box" width="{box.width:.0f}" height="{box.height:.0f}" rx="6"/>',
        f'<rect class="stripe" width="4" height="{box.height:.0f}" rx="2"/>',
        f'<text class="kind" x="14" y="17">{escape(_kind_line(node, dead_letter))}</text>',
        f'<text class="label" x="14" y="35">{escape(_fit(title(node), box.width))}</text>',
    ]
    if node.placement == "public":
        parts.append(
            f'<g class="badge" transform="translate({box.width - 52:.0f},7)">'
            '<rect width="44" height="15" rx="7"/><text x="22" y="11" text-anchor="middle">'
            "public</text></g>"
        )
    if isinstance(node, Queue | Function | InstanceGroup):
        parts.append('<text class="live" x="14" y="54">…</text>')
    if isinstance(node, InstanceGroup):
        parts += _zones(topology, node, box.width)
    parts.append("</g>")
    return "".join(parts)


def _live_attributes(topology: Topology, node: Node) -> str:
    """The data attribute naming the engine resource whose live numbers the box shows."""
    name = escape(resource_name(topology, node.id))
    if isinstance(node, Queue):
        return f' data-queue="{name}"'
    if isinstance(node, InstanceGroup):
        return f' data-pool="{name}"'
    if isinstance(node, Function):
        return f' data-function="{name}"'
    return ""


def _zones(topology: Topology, group: InstanceGroup, width: float) -> list[str]:
    """One dashed band per zone the group spans, each with that zone's workers."""
    rows = []
    for index, zone in enumerate(group_zones(topology, group)):
        y = LIVE_HEIGHT + index * ZONE_ROW - 2
        rows.append(
            f'<g class="zone" data-zone="{escape(zone)}" transform="translate(12,{y})">'
            f'<rect width="{width - 22:.0f}" height="{ZONE_ROW - 4}" rx="4"/>'
            f'<text class="zone-name" x="8" y="15">{escape(zone)}</text>'
            f'<text class="count" x="{width - 30:.0f}" y="15" text-anchor="end">…</text></g>'
        )
    return rows


def _kind_line(node: Node, dead_letter: bool) -> str:
    """The small line above the label: the kind and the one fact that matters most for it."""
    kind = node.kind.replace("_", " ")
    if dead_letter:
        kind = "dead-letter queue"
    elif isinstance(node, Queue) and node.attributes.get("FifoQueue") == "true":
        kind = "fifo queue"
    extra = ""
    if isinstance(node, InstanceGroup):
        unit = "instances" if node.app else "workers"
        extra = f"{node.min_size}\u2013{node.max_size} {unit}"
    elif isinstance(node, Function) and node.schedule_s:
        extra = f"every {node.schedule_s:g} s"
    elif node.zone:
        extra = node.zone
    return " · ".join(part for part in (kind.upper(), extra) if part)


def _tooltip(node: Node) -> str:
    text = f"{title(node)}\n{node.kind.replace('_', ' ')} {node.id}, {node.placement}"
    if isinstance(node, Function) or (isinstance(node, InstanceGroup) and node.handler):
        text += f"\nhandler {node.handler}"
    elif isinstance(node, InstanceGroup):
        text += f"\napp {node.app}"
    return text


def _fit(text: str, width: float) -> str:
    room = int((width - 24) / LABEL_CHAR)
    return text if len(text) <= room else text[: room - 1] + "…"
