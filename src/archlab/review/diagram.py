"""An architecture drawn as one standalone SVG, with the review's findings on its nodes.

The drawing is the picture an architect sketches: the availability zones side by side as
columns, each with its public subnet above its private one; what has no zone (queues, topics,
buses, buckets, tables, streams, the catalog, functions outside a VPC) in a regional band
below them; the callers and the internet edge (clients, APIs, gateways, web ACLs) in a band
above; security groups, alarms and extra networks in a band at the bottom. A resource in two
zones is drawn once across both when they are neighbours (a multi-zone database, a load
balancer), else once in each zone it occupies.

The zones and subnets come from the model alone (``Resource.zones``, ``public``, and the
``contains`` links of imported subnets), so an archlab topology and a CloudFormation template
are drawn alike. A node with findings is tinted by its worst severity and says so in words
("HIGH · 2 findings"), so the marking does not depend on colour; its ``<title>`` tooltip
lists the findings' ids.

The output is deterministic (the same architecture and findings give the same bytes), is
well-formed XML with every label escaped, and needs nothing outside itself: its style is
inline, scoped to ``svg.review``, so it can be written to a file or embedded in a page.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from html import escape
from math import ceil

from archlab.review.model import SEVERITIES, Architecture, Finding, Kind, Resource, Severity

MARGIN = 16
BOX_HEIGHT = 58
MIN_BOX_WIDTH = 190
MAX_BOX_WIDTH = 250
H_GAP = 36
V_GAP = 26
PAD = 14
"""Room between a region's edge and the boxes inside it."""
REGION_HEAD = 26
"""Room at the top of a region for its label."""
COLUMN_GAP = 14
FRAME_PAD = 10
SECTION_GAP = 18
BAND_MAX = 5
"""A band is at most this many boxes wide (the zones may make it wider)."""
MIN_WIDTH = 720
"""Room for the legend."""
LABEL_CHAR = 7.6
"""Rough width of one character of a box label (13 px, semibold)."""
SMALL_CHAR = 6.6
"""Rough width of one character of the small uppercase lines (10 px, letter-spaced)."""

Row = str
"""Where a box sits: ``edge``, ``public``, ``private``, ``regional`` or ``support``."""
ZONE_ROWS: tuple[Row, ...] = ("public", "private")
BANDS: dict[Row, str] = {
    "edge": "INTERNET & EDGE",
    "regional": "REGIONAL SERVICES",
    "support": "SECURITY, NETWORK & MONITORING",
}
EDGE_KINDS: tuple[Kind, ...] = ("service", "api", "gateway", "web_acl")
SUPPORT_KINDS: tuple[Kind, ...] = ("security_group", "alarm", "network")
ORDER: tuple[Kind, ...] = (
    "service",
    "web_acl",
    "gateway",
    "api",
    "load_balancer",
    "instance",
    "instance_group",
    "function",
    "topic",
    "event_bus",
    "queue",
    "stream",
    "delivery_stream",
    "bucket",
    "table",
    "catalog",
    "cache",
    "database",
    "network",
    "subnet",
    "security_group",
    "alarm",
)
"""The order boxes take within a row: roughly the order a request meets them."""
FAMILIES: dict[str, str] = {
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
    "instance": "compute",
    "security_group": "security",
    "web_acl": "security",
    "network": "network",
    "subnet": "network",
    "gateway": "network",
    "alarm": "operations",
}
"""Kinds coloured by family as the console's topology diagram colours them
(``archlab.console.diagram.CATEGORIES``, which a test keeps in step), plus the kinds only the
reviewer knows. Not imported from there: the console pulls in the web server, and
``archlab diagram`` needs none of it."""
DRAWN_LINKS = ("calls", "routes", "publishes", "subscribes", "triggers", "reads", "writes")
"""Links drawn as arrows; ``protects`` is drawn dotted; ``contains`` is where a box sits;
``secures`` and ``monitors`` are listed in the security group's or alarm's tooltip."""
UNLABELLED = ("calls", "routes")
"""Link kinds an arrow says by itself: no label."""

STYLE = """
svg.review { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
svg.review .title { font-size: 15px; font-weight: 600; fill: #1f2328; }
svg.review .subtitle { font-size: 12px; fill: #656d76; }
svg.review .band { fill: #f6f8fa; stroke: #d0d7de; }
svg.review .frame { fill: none; stroke: #8c959f; stroke-dasharray: 6 4; }
svg.review .frame-label { font-size: 11px; fill: #57606a; paint-order: stroke; stroke: #fff;
  stroke-width: 6px; }
svg.review .subnet.public { fill: #eaf5ff; stroke: #54aeff; }
svg.review .subnet.private { fill: #eef3f8; stroke: #afb8c1; }
svg.review .region-label { font-size: 10px; letter-spacing: .08em; fill: #57606a; }
svg.review .zone-name { font-size: 12px; font-weight: 600; fill: #424a53; }
svg.review .box { fill: #fff; stroke: #8c959f; stroke-width: 1; }
svg.review .stripe { fill: #8c959f; }
svg.review .compute .stripe { fill: #e16f24; }
svg.review .messaging .stripe { fill: #bf3989; }
svg.review .storage .stripe { fill: #2da44e; }
svg.review .data .stripe { fill: #0969da; }
svg.review .edge .stripe { fill: #8250df; }
svg.review .security .stripe { fill: #cf222e; }
svg.review .network .stripe { fill: #57606a; }
svg.review .operations .stripe { fill: #9a6700; }
svg.review .kind { font-size: 10px; letter-spacing: .06em; fill: #656d76; }
svg.review .label { font-size: 13px; font-weight: 600; fill: #1f2328; }
svg.review .note { font-size: 11px; fill: #656d76; }
svg.review .marker { font-size: 11px; font-weight: 700; }
svg.review .high .box { fill: #ffebe9; stroke: #cf222e; stroke-width: 2; }
svg.review .medium .box { fill: #fff1e5; stroke: #bc4c00; stroke-width: 2; }
svg.review .low .box { fill: #fff8c5; stroke: #9a6700; stroke-width: 2; }
svg.review .high .marker { fill: #a40e26; }
svg.review .medium .marker { fill: #953800; }
svg.review .low .marker { fill: #7d4e00; }
svg.review .region.high rect { stroke: #cf222e; stroke-width: 2; }
svg.review .region.medium rect { stroke: #bc4c00; stroke-width: 2; }
svg.review .region.low rect { stroke: #9a6700; stroke-width: 2; }
svg.review .node.focus .box { stroke: #0969da; stroke-width: 3; }
svg.review .link path { fill: none; stroke: #6e7781; stroke-width: 1.3; }
svg.review .link.dead-letter path { stroke: #cf222e; stroke-dasharray: 5 4; }
svg.review .link.protects path { stroke: #8250df; stroke-dasharray: 2 3; }
svg.review .arrowhead { fill: #6e7781; }
svg.review .arrowhead.dead-letter { fill: #cf222e; }
svg.review .edge-label { font-size: 11px; fill: #424a53; paint-order: stroke; stroke: #fff;
  stroke-width: 4px; stroke-linejoin: round; }
svg.review .legend text { font-size: 11px; fill: #424a53; }
"""


@dataclass(frozen=True)
class Box:
    """One drawing of a resource (a resource in two distant zones has two)."""

    resource: Resource
    row: Row
    x: float
    y: float
    width: float
    height: float
    zones: tuple[str, ...] = ()
    """The zones this box stands for."""

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2


@dataclass(frozen=True)
class Region:
    """A shaded area: a band, or one zone's public or private subnet."""

    css: str
    label: str
    x: float
    y: float
    width: float
    height: float
    subnets: tuple[str, ...] = ()
    """The imported subnets it stands for (their ids)."""


@dataclass(frozen=True)
class Layout:
    boxes: tuple[Box, ...]
    regions: tuple[Region, ...]
    zone_names: tuple[tuple[str, float], ...]
    """Each zone and the x of its column's centre."""
    frame: tuple[float, float, float, float] | None
    """The zones' outline (x, y, width, height), when there are zones."""
    network: Resource | None
    """The one network (VPC) the zones are drawn inside, when the architecture has one."""
    width: float
    height: float
    legend_y: float

    def boxes_of(self, resource_id: str) -> list[Box]:
        return [box for box in self.boxes if box.resource.id == resource_id]


# --- where things go ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    row: Row
    zones: tuple[str, ...]


def placements(arch: Architecture) -> dict[str, Placement]:
    """Each drawn resource's row and zones. Subnets are regions, not boxes, and so is the one
    network when there is exactly one; a resource's subnets (``contains``) give its zones and
    whether it is public when the resource itself does not say."""
    subnets = _subnets_of(arch)
    networks = arch.of_kind("network")
    result: dict[str, Placement] = {}
    for resource in arch.resources.values():
        if resource.kind == "subnet" or (resource.kind == "network" and len(networks) == 1):
            continue
        own = subnets.get(resource.id, [])
        zones = resource.zones or tuple(sorted({z for s in own for z in s.zones}))
        public = any(s.prop("public", False) for s in own) if own else resource.public
        if resource.kind in SUPPORT_KINDS:
            row = "support"
        elif zones and resource.kind not in EDGE_KINDS[:2]:
            row = "public" if public else "private"
        elif resource.kind in EDGE_KINDS or (public and resource.kind == "load_balancer"):
            row = "edge"
        else:
            row = "regional"
        result[resource.id] = Placement(row, zones if row in ZONE_ROWS else ())
    return result


def _subnets_of(arch: Architecture) -> dict[str, list[Resource]]:
    result: dict[str, list[Resource]] = defaultdict(list)
    for link in arch.links:
        subnet = arch.resources.get(link.source)
        if link.kind == "contains" and subnet is not None and subnet.kind == "subnet":
            result[link.target].append(subnet)
    return result


def dead_letters(arch: Architecture) -> dict[str, str]:
    """Queue id -> its dead-letter queue's id, for the queues whose dead-letter queue is drawn."""
    result = {}
    for queue in arch.of_kind("queue"):
        target = queue.prop("dead_letter")
        if isinstance(target, str) and target in arch.resources:
            result[queue.id] = target
    return result


def flows(arch: Architecture) -> list[tuple[str, str]]:
    """The links that carry requests or messages (and queue -> dead-letter queue), as pairs."""
    pairs = [
        (link.source, link.target)
        for link in arch.links
        if link.kind in (*DRAWN_LINKS, "protects")
        and link.source in arch.resources
        and link.target in arch.resources
    ]
    return list(dict.fromkeys(pairs + list(dead_letters(arch).items())))


def depths(arch: Architecture) -> dict[str, int]:
    """Each resource's depth: the longest path of ``flows`` reaching it, edges that close a
    cycle ignored (as the console diagram places its columns)."""
    successors: dict[str, list[str]] = defaultdict(list)
    for source, target in flows(arch):
        successors[source].append(target)
    targets = {target for targets in successors.values() for target in targets}
    ids = list(arch.resources)
    finished: list[str] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    back: set[tuple[str, str]] = set()
    for start in [i for i in ids if i not in targets] + [i for i in ids if i in targets]:
        if start in state:
            continue
        stack = [(start, iter(successors[start]))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                state[node] = 2
                finished.append(node)
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(successors[child])))
    depth = dict.fromkeys(ids, 0)
    for node in reversed(finished):
        for target in successors[node]:
            if (node, target) not in back:
                depth[target] = max(depth[target], depth[node] + 1)
    return depth


def ordered(arch: Architecture, ids: Iterable[str], depth: dict[str, int]) -> list[str]:
    """``ids`` in the drawing's order: along the flow (``depths``), then by kind (``ORDER``),
    then as the architecture lists them; each dead-letter queue right after the first queue
    that uses it."""
    index = {resource_id: i for i, resource_id in enumerate(arch.resources)}
    result = sorted(ids, key=lambda i: (depth[i], ORDER.index(arch.resources[i].kind), index[i]))
    for queue, dlq in dead_letters(arch).items():
        if queue in result and dlq in result and result.index(dlq) != result.index(queue) + 1:
            result.remove(dlq)
            result.insert(result.index(queue) + 1, dlq)
    return result


def zones_of(arch: Architecture, places: dict[str, Placement]) -> tuple[str, ...]:
    found = {zone for place in places.values() for zone in place.zones}
    found |= {zone for subnet in arch.of_kind("subnet") for zone in subnet.zones}
    return tuple(sorted(found))


def runs(columns: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted column indexes as runs of neighbours: [0, 1, 3] -> [(0, 1), (3, 3)]."""
    result: list[tuple[int, int]] = []
    for column in sorted(set(columns)):
        if result and result[-1][1] == column - 1:
            result[-1] = (result[-1][0], column)
        else:
            result.append((column, column))
    return result


@dataclass(frozen=True)
class Cell:
    resource_id: str
    first: int
    last: int
    lane: int
    slot: int


def lanes(
    ids: list[str],
    places: dict[str, Placement],
    zones: tuple[str, ...],
    k: int,
    depth: dict[str, int],
) -> list[Cell]:
    """Pack one zone row, ``ids`` in order: a box spanning columns takes a whole lane of each; a
    one-zone box takes one of the ``k`` slots of its column. Each step deeper along the flow
    starts below the lanes used so far, so the row reads top to bottom as requests travel."""
    used: dict[tuple[int, int], int] = defaultdict(int)
    cells: list[Cell] = []
    floor, level = 0, None
    for resource_id in ids:
        if depth[resource_id] != level:
            level = depth[resource_id]
            floor = max((cell.lane + 1 for cell in cells), default=0)
        for first, last in runs([zones.index(z) for z in places[resource_id].zones]):
            lane = floor
            if first == last:
                while used[(lane, first)] >= k:
                    lane += 1
                cells.append(Cell(resource_id, first, last, lane, used[(lane, first)]))
                used[(lane, first)] += 1
                continue
            while any(used[(lane, c)] for c in range(first, last + 1)):
                lane += 1
            for column in range(first, last + 1):
                used[(lane, column)] = k
            cells.append(Cell(resource_id, first, last, lane, 0))
    return cells


# --- layout ------------------------------------------------------------------------------------


def layout(arch: Architecture) -> Layout:
    """Where every box and region goes. Boxes never overlap: zone rows are packed in lanes and
    slots (``lanes``), bands in a grid, and rows and bands are stacked."""
    places = placements(arch)
    depth = depths(arch)
    zones = zones_of(arch, places)
    networks = arch.of_kind("network")
    box_width = _box_width(arch, places)
    slot = box_width + H_GAP
    by_row: dict[Row, list[str]] = {row: [] for row in (*BANDS, *ZONE_ROWS)}
    for resource_id in ordered(arch, places, depth):
        by_row[places[resource_id].row].append(resource_id)

    band_boxes = max((min(len(by_row[row]), BAND_MAX) for row in BANDS), default=1)
    band_width = 2 * PAD + max(band_boxes, 1) * slot - H_GAP
    # Slots side by side in a zone are worth having only for one-zone boxes at one depth.
    side_by_side: dict[tuple[Row, str, int], int] = defaultdict(int)
    for row in ZONE_ROWS:
        for i in by_row[row]:
            if len(places[i].zones) == 1:
                side_by_side[(row, places[i].zones[0], depth[i])] += 1
    most = max(side_by_side.values(), default=1)
    k = 1
    while _zones_width(len(zones), k, box_width) < band_width and k < most:
        k += 1
    zones_width = _zones_width(len(zones), k, box_width) if zones else 0.0
    width = max(zones_width, band_width, MIN_WIDTH - 2 * MARGIN)
    # The zones take the room their boxes need (a wide band does not stretch them: a box
    # spanning two stretched zones would be mostly empty).
    column_width = 2 * PAD + k * slot - H_GAP

    boxes: list[Box] = []
    regions: list[Region] = []
    y = MARGIN + 44.0  # the title and subtitle
    if by_row["edge"]:
        y = _band(arch, "edge", by_row["edge"], y, width, box_width, boxes, regions)
        y += SECTION_GAP
    frame = None
    zone_names: list[tuple[str, float]] = []
    if zones:
        top = y
        y += FRAME_PAD + 18
        lefts = [MARGIN + FRAME_PAD + c * (column_width + COLUMN_GAP) for c in range(len(zones))]
        zone_names = [(z, left + column_width / 2) for z, left in zip(zones, lefts, strict=True)]
        for row in ZONE_ROWS:
            cells = lanes(by_row[row], places, zones, k, depth)
            count = max((cell.lane + 1 for cell in cells), default=0)
            height = REGION_HEAD + count * (BOX_HEIGHT + V_GAP) + (PAD - V_GAP if count else 6)
            for zone, left in zip(zones, lefts, strict=True):
                subnets = [
                    s
                    for s in arch.of_kind("subnet")
                    if zone in s.zones and bool(s.prop("public", False)) == (row == "public")
                ]
                label = f"{row.upper()} SUBNET" + ("S" if len(subnets) > 1 else "")
                names = ", ".join(s.label or s.id for s in subnets)
                label = _fit(f"{label} · {names}" if names else label, column_width - 20, 6.4)
                regions.append(
                    Region(
                        f"subnet {row}",
                        label,
                        left,
                        y,
                        column_width,
                        height,
                        tuple(s.id for s in subnets),
                    )
                )
            for cell in cells:
                x = lefts[cell.first] + PAD + cell.slot * slot
                right = lefts[cell.last] + column_width - PAD if cell.last > cell.first else None
                resource = arch.resources[cell.resource_id]
                boxes.append(
                    Box(
                        resource,
                        row,
                        x,
                        y + REGION_HEAD + cell.lane * (BOX_HEIGHT + V_GAP),
                        (right - x) if right is not None else box_width,
                        BOX_HEIGHT,
                        zones[cell.first : cell.last + 1],
                    )
                )
            y += height + 8
        y += FRAME_PAD - 8
        frame = (float(MARGIN), top, zones_width, y - top)
        y += SECTION_GAP
    for row in ("regional", "support"):
        if by_row[row]:
            y = _band(arch, row, by_row[row], y, width, box_width, boxes, regions)
            y += SECTION_GAP
    legend_y = y
    return Layout(
        tuple(boxes),
        tuple(regions),
        tuple(zone_names),
        frame,
        networks[0] if len(networks) == 1 else None,
        width + 2 * MARGIN,
        legend_y + 64 + MARGIN,
        legend_y,
    )


def _zones_width(count: int, k: int, box_width: float) -> float:
    column = 2 * PAD + k * (box_width + H_GAP) - H_GAP
    return 2 * FRAME_PAD + count * column + (count - 1) * COLUMN_GAP


def _band(
    arch: Architecture,
    row: Row,
    ids: list[str],
    y: float,
    width: float,
    box_width: float,
    boxes: list[Box],
    regions: list[Region],
) -> float:
    """A band of boxes in a grid as wide as the drawing; returns the y under it."""
    slot = box_width + H_GAP
    per_row = max(1, int((width - 2 * PAD + H_GAP) // slot))
    rows = ceil(len(ids) / per_row)
    height = REGION_HEAD + rows * (BOX_HEIGHT + V_GAP) - V_GAP + PAD
    regions.append(Region(f"band band-{row}", BANDS[row], float(MARGIN), y, width, height))
    for index, resource_id in enumerate(ids):
        line, place = divmod(index, per_row)
        x = MARGIN + PAD + place * slot
        top = y + REGION_HEAD + line * (BOX_HEIGHT + V_GAP)
        boxes.append(Box(arch.resources[resource_id], row, x, top, box_width, BOX_HEIGHT))
    return y + height


def _box_width(arch: Architecture, places: dict[str, Placement]) -> float:
    longest = max((len(_title(arch.resources[i])) for i in places), default=0)
    return float(max(MIN_BOX_WIDTH, min(MAX_BOX_WIDTH, round(longest * LABEL_CHAR + 30))))


# --- findings ----------------------------------------------------------------------------------


def findings_by_resource(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    result: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        for resource_id in dict.fromkeys(finding.resources):
            result[resource_id].append(finding)
    return result


def worst(findings: Iterable[Finding]) -> Severity:
    return min((f.severity for f in findings), key=SEVERITIES.index)


def highlighted(arch: Architecture, findings: Iterable[Finding]) -> set[str]:
    """The resources marked in the drawing: those of the architecture that have a finding."""
    return {i for i in findings_by_resource(findings) if i in arch.resources}


# --- rendering ---------------------------------------------------------------------------------


def render(arch: Architecture, findings: Sequence[Finding] = (), *, standalone: bool = True) -> str:
    """The drawing as an ``<svg>`` element; with ``standalone``, as a whole SVG document (XML
    declaration and namespace) for a file."""
    plan = layout(arch)
    found = findings_by_resource(findings)
    width, height = f"{plan.width:.0f}", f"{plan.height:.0f}"
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' if standalone else ""
    parts = [
        f'{head}<svg xmlns="http://www.w3.org/2000/svg" class="review"'
        f' data-architecture="{_attr(arch.name)}" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" role="img"'
        f' aria-label="{_attr(_heading(arch))}: the architecture and its findings">',
        f"<style>{STYLE}</style>",
        "<defs>",
        _marker("review-arrow", "arrowhead"),
        _marker("review-arrow-dead", "arrowhead dead-letter"),
        "</defs>",
        '<rect width="100%" height="100%" fill="#fff"/>',
        f'<text class="title" x="{MARGIN}" y="{MARGIN + 14}">{_text(_heading(arch))}</text>',
        f'<text class="subtitle" x="{MARGIN}" y="{MARGIN + 32}">'
        f"{_text(_summary(arch, findings, found))}</text>",
        *_regions(plan, found),
        *_links(arch, plan),
        *(_box(arch, box, found.get(box.resource.id, []), first) for box, first in _firsts(plan)),
        *_legend(plan),
        "</svg>",
    ]
    return "\n".join(parts) + "\n"


def _heading(arch: Architecture) -> str:
    if arch.origin == "cloudformation":
        return f"{arch.name} · CloudFormation template"
    return f"{arch.name} · {arch.profile} profile" if arch.profile else arch.name


def _summary(
    arch: Architecture, findings: Sequence[Finding], found: dict[str, list[Finding]]
) -> str:
    marked = sum(1 for resource_id in found if resource_id in arch.resources)
    counts = [
        f"{n} {severity}"
        for severity in SEVERITIES
        if (n := sum(1 for f in findings if f.severity == severity))
    ]
    text = f"{len(arch.resources)} resources · {_plural(len(findings), 'finding')}"
    if counts:
        text += f" ({', '.join(counts)}) on {_plural(marked, 'resource')}"
    if arch.unknown:
        text += f" · {len(arch.unknown)} not imported"
    return text


def _marker(marker_id: str, css_class: str) -> str:
    return (
        f'<marker id="{marker_id}" viewBox="0 0 10 10" refX="9" refY="5"'
        ' markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        f'<path class="{css_class}" d="M0,0 L10,5 L0,10 z"/></marker>'
    )


def _regions(plan: Layout, found: dict[str, list[Finding]]) -> Iterator[str]:
    if plan.frame is not None:
        x, y, width, height = plan.frame
        yield (
            f'<rect class="frame" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}"'
            f' height="{height:.1f}" rx="10"/>'
        )
        label = "ZONES"
        if plan.network is not None:
            label = f"NETWORK · {plan.network.label or plan.network.id}"
            label += _marker_text(found.get(plan.network.id, []), short=True)
        yield f'<text class="frame-label" x="{x + 14:.1f}" y="{y + 4:.1f}">{_text(label)}</text>'
    for name, centre in plan.zone_names:
        y = plan.frame[1] + FRAME_PAD + 12 if plan.frame else 0
        yield (
            f'<text class="zone-name" x="{centre:.1f}" y="{y:.1f}" text-anchor="middle">'
            f"{_text(name)}</text>"
        )
    for region in plan.regions:
        subnet_findings = [f for s in region.subnets for f in found.get(s, [])]
        css = f" finding {worst(subnet_findings)}" if subnet_findings else ""
        nodes = f' data-subnets="{_attr(" ".join(region.subnets))}"' if region.subnets else ""
        yield (
            f'<g class="region{css}"{nodes}>'
            + (
                f"<title>{_text(_finding_lines(subnet_findings))}</title>"
                if subnet_findings
                else ""
            )
            + f'<rect class="{region.css}" x="{region.x:.1f}" y="{region.y:.1f}"'
            f' width="{region.width:.1f}" height="{region.height:.1f}" rx="6"/>'
            f'<text class="region-label" x="{region.x + 10:.1f}" y="{region.y + 16:.1f}">'
            f"{_text(region.label + _marker_text(subnet_findings, short=True))}</text></g>"
        )


@dataclass(frozen=True)
class Arrow:
    source: Box
    target: Box
    label: str
    css: str
    labelled: bool = True
    """Whether the label is drawn: only on a link's first arrow, where copies' would pile up."""


def arrows(arch: Architecture, plan: Layout) -> list[Arrow]:
    """The links drawn, one arrow per pair of boxes (a pair's link kinds in one label). Between
    resources drawn in the same zones, each zone's boxes are joined; else every pair."""
    kinds: dict[tuple[str, str], list[str]] = defaultdict(list)
    for link in arch.links:
        if link.kind in (*DRAWN_LINKS, "protects") and link.source != link.target:
            kinds[(link.source, link.target)].append(link.kind)
    for queue, dlq in dead_letters(arch).items():
        kinds[(queue, dlq)].append("dead letter")
    result = []
    for (source, target), names in kinds.items():
        sources, targets = plan.boxes_of(source), plan.boxes_of(target)
        pairs = [(a, b) for a in sources for b in targets if set(a.zones) & set(b.zones)]
        if not pairs:
            pairs = [(a, b) for a in sources for b in targets]
        names = list(dict.fromkeys(names))
        label = ", ".join(n for n in names if n not in (*UNLABELLED, "dead letter"))
        css = "dead-letter" if "dead letter" in names else names[0]
        result += [Arrow(a, b, label, css, n == 0) for n, (a, b) in enumerate(pairs)]
    return result


def _links(arch: Architecture, plan: Layout) -> Iterator[str]:
    for arrow in arrows(arch, plan):
        (x1, y1), (x2, y2) = _ends(arrow.source, arrow.target)
        end = "" if arrow.css == "protects" else ' marker-end="url(#review-arrow)"'
        if arrow.css == "dead-letter":
            end = ' marker-end="url(#review-arrow-dead)"'
        label = ""
        if arrow.label and arrow.labelled:
            label = (
                f'<text class="edge-label" x="{(x1 + x2) / 2:.1f}" y="{(y1 + y2) / 2 + 4:.1f}"'
                f' text-anchor="middle">{_text(arrow.label)}</text>'
            )
        yield (
            f'<g class="link {arrow.css}" data-source="{_attr(arrow.source.resource.id)}"'
            f' data-target="{_attr(arrow.target.resource.id)}">'
            f"<title>{_text(f'{_title(arrow.source.resource)} → {_title(arrow.target.resource)}')}"
            f"{_text(': ' + arrow.label if arrow.label else '')}</title>"
            f'<path d="M{x1:.1f},{y1:.1f} L{x2:.1f},{y2:.1f}"{end}/>{label}</g>'
        )


def _ends(source: Box, target: Box) -> tuple[tuple[float, float], tuple[float, float]]:
    """Where the line between two boxes' centres crosses each box's edge (the target's end
    pulled back a little, for the arrowhead)."""
    (x1, y1), (x2, y2) = source.centre, target.centre
    dx, dy = x2 - x1, y2 - y1

    def edge(box: Box, sign: float, back: float) -> tuple[float, float]:
        cx, cy = box.centre
        limits = []
        if dx:
            limits.append((box.width / 2 + back) / abs(dx))
        if dy:
            limits.append((box.height / 2 + back) / abs(dy))
        t = min(limits)
        return cx + sign * t * dx, cy + sign * t * dy

    return edge(source, 1, 0), edge(target, -1, 2)


def _firsts(plan: Layout) -> Iterator[tuple[Box, bool]]:
    """Each box, and whether it is its resource's first (the one that carries the ``id`` a
    page links to)."""
    seen: set[str] = set()
    for box in plan.boxes:
        yield box, box.resource.id not in seen
        seen.add(box.resource.id)


def node_anchor(resource_id: str) -> str:
    """The ``id`` of a resource's first box, for links from a list of findings."""
    return f"node-{resource_id}"


def _box(arch: Architecture, box: Box, findings: list[Finding], first: bool) -> str:
    resource = box.resource
    css = f"node kind-{resource.kind} {FAMILIES.get(resource.kind, 'external')}"
    if findings:
        css += f" finding {worst(findings)}"
    tooltip = _tooltip(arch, resource, findings)
    marker = _marker_text(findings)
    note = marker or _note(resource, box)
    note_css = "marker" if marker else "note"
    return (
        f'<g class="{css}" data-node="{_attr(resource.id)}"'
        + (f' id="{_attr(node_anchor(resource.id))}"' if first else "")
        + (f' data-findings="{_attr(" ".join(_ids(findings)))}"' if findings else "")
        + f' transform="translate({box.x:.1f},{box.y:.1f})">'
        f"<title>{_text(tooltip)}</title>"
        f'<rect class="box" width="{box.width:.1f}" height="{box.height:.0f}" rx="6"/>'
        f'<rect class="stripe" width="4" height="{box.height:.0f}" rx="2"/>'
        f'<text class="kind" x="14" y="17">'
        f"{_text(_fit(_kind_line(arch, resource, box), box.width, SMALL_CHAR))}</text>"
        f'<text class="label" x="14" y="35">'
        f"{_text(_fit(_title(resource), box.width, LABEL_CHAR))}</text>"
        f'<text class="{note_css}" x="14" y="50">{_text(_fit(note, box.width, 6.4))}</text></g>'
    )


def _kind_line(arch: Architecture, resource: Resource, box: Box) -> str:
    kind = resource.kind.replace("_", " ")
    if resource.kind == "queue" and (
        resource.prop("is_dead_letter") or resource.id in dead_letters(arch).values()
    ):
        kind = "dead-letter queue"
    facts = []
    if resource.count > 1:
        facts.append(f"{resource.count} running")
    if resource.kind == "database" and resource.prop("multi_zone"):
        facts.append("multi-zone")
    if resource.kind == "database" and resource.prop("multi_zone") is False:
        facts.append("single-zone")  # its subnet group may span more: it runs in one
    elif len(box.zones) > 1:
        facts.append(f"{len(box.zones)} zones")
    return " · ".join([kind.upper(), *facts])


def _note(resource: Resource, box: Box) -> str:
    """The third line of a box without findings: its zones when it has several, or its id when
    the label hides it."""
    if resource.zones and len(resource.zones) > len(box.zones):
        return f"{', '.join(box.zones)} of {len(resource.zones)} zones"
    if resource.label and resource.label != resource.id:
        return resource.id
    return ""


def _marker_text(findings: list[Finding], *, short: bool = False) -> str:
    """The words that mark findings, so the marking does not rest on colour alone."""
    if not findings:
        return ""
    severity = worst(findings)
    if short:
        return f" · ! {severity.upper()} ({len(findings)})"
    return f"! {severity.upper()} · {_plural(len(findings), 'finding')}"


def _tooltip(arch: Architecture, resource: Resource, findings: list[Finding]) -> str:
    lines = [_title(resource), f"{resource.kind.replace('_', ' ')} {resource.id}"]
    if resource.source_type:
        lines[-1] += f" ({resource.source_type})"
    if resource.zones:
        lines.append(f"zones: {', '.join(resource.zones)}")
    if resource.public:
        lines.append("public: reachable from the internet")
    for kind in ("secures", "monitors", "protects"):
        ends = [link.target for link in arch.links_from(resource.id, kind)]
        if ends:
            lines.append(f"{kind}: {', '.join(ends)}")
    if findings:
        lines.append(_finding_lines(findings))
    return "\n".join(lines)


def _finding_lines(findings: list[Finding]) -> str:
    ordered_findings = sorted(findings, key=lambda f: (SEVERITIES.index(f.severity), f.id))
    return "findings:\n" + "\n".join(f"{f.id} ({f.severity}): {f.title}" for f in ordered_findings)


def _ids(findings: list[Finding]) -> list[str]:
    return sorted({f.id for f in findings})


def _legend(plan: Layout) -> Iterator[str]:
    """What the colours, markers and lines mean: severities, links, then kind families."""
    yield f'<g class="legend" transform="translate({MARGIN},{plan.legend_y:.1f})">'
    x = 0.0
    for severity in SEVERITIES:
        yield (
            f'<g class="node {severity}" transform="translate({x:.0f},0)">'
            '<rect class="box" width="18" height="14" rx="3"/>'
            f'<text class="marker" x="24" y="11">! {severity.upper()}</text></g>'
        )
        x += 92
    yield (
        f'<g class="node" transform="translate({x:.0f},0)"><rect class="box" width="18"'
        ' height="14" rx="3"/><text x="24" y="11">no finding</text></g>'
    )
    x = 0.0
    for css, label, head in (
        ("", "calls, reads, writes…", "review-arrow"),
        ("dead-letter", "to its dead-letter queue", "review-arrow-dead"),
        ("protects", "web ACL protects", ""),
    ):
        end = f' marker-end="url(#{head})"' if head else ""
        yield (
            f'<g class="link {css}" transform="translate({x:.0f},24)">'
            f'<path d="M0,7 L34,7"{end}/><text x="42" y="11">{label}</text></g>'
        )
        x += 200
    x = 0.0
    for family in ("edge", "compute", "messaging", "storage", "data", "security", "network"):
        yield (
            f'<g class="{family}" transform="translate({x:.0f},48)">'
            '<rect class="stripe" width="4" height="14" rx="2"/>'
            f'<text x="10" y="11">{family}</text></g>'
        )
        x += 90
    yield "</g>"


# --- text --------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""Characters XML 1.0 does not allow, even escaped."""


def _text(value: str) -> str:
    return escape(_CONTROL.sub("", value), quote=False)


def _attr(value: str) -> str:
    return escape(_CONTROL.sub("", value).replace("\n", " "))


def _title(resource: Resource) -> str:
    return resource.label or resource.id


def _fit(text: str, width: float, char: float) -> str:
    room = max(4, int((width - 24) / char))
    return text if len(text) <= room else text[: room - 1] + "…"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
