"""The review drawing on architectures built by hand: valid, deterministic, self-contained XML;
zones as columns with public and private subnets; nodes with findings marked in colour and in
words; no two boxes overlapping."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import combinations

from archlab.console.diagram import CATEGORIES
from archlab.review.diagram import FAMILIES, Box, highlighted, layout, render
from archlab.review.model import Architecture, Finding, Link, Resource

SVG = "{http://www.w3.org/2000/svg}"
ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")


def finding(check: str, severity: str, *resources: str) -> Finding:
    return Finding(
        id=check,
        pillar="reliability",
        severity=severity,  # type: ignore[arg-type]
        title=f"{check} fired",
        resources=resources,
        evidence={},
        best_practice="REL10-BP01",
        remediation="fix it",
    )


def three_tier() -> Architecture:
    """A template-shaped architecture: a VPC, a public and a private subnet in each of three
    zones, a load balancer over the public ones, a group over two private ones, a database
    in one public subnet (the defect to see), a queue and its dead-letter queue."""
    resources = [
        Resource("Vpc", "network", "main vpc"),
        *(
            Resource(f"Public{z[-1].upper()}", "subnet", zones=(z,), properties={"public": True})
            for z in ZONES
        ),
        *(
            Resource(f"Private{z[-1].upper()}", "subnet", zones=(z,), properties={"public": False})
            for z in ZONES
        ),
        Resource("Clients", "service", "clients", public=True),
        Resource("Waf", "web_acl", "web acl"),
        Resource("Alb", "load_balancer", "public load balancer", public=True),
        Resource("Web", "instance_group", "web servers", count=2),
        Resource("Batch", "instance_group", "batch workers"),
        Resource("Db", "database", "orders database", properties={"multi_zone": False}),
        Resource("Jobs", "queue", "jobs", properties={"dead_letter": "JobsDlq"}),
        Resource("JobsDlq", "queue", "jobs dlq", properties={"is_dead_letter": True}),
        Resource("Media", "bucket", "media"),
        Resource("WebSg", "security_group", "web sg"),
        Resource("DlqAlarm", "alarm", "dlq depth"),
    ]
    contains = [
        ("PublicA", "Alb"),
        ("PublicB", "Alb"),
        ("PublicC", "Alb"),
        ("PrivateA", "Web"),
        ("PrivateB", "Web"),
        ("PrivateA", "Batch"),
        ("PrivateC", "Batch"),
        ("PublicA", "Db"),
    ]
    links = [
        Link("Clients", "Alb", "calls"),
        Link("Waf", "Alb", "protects"),
        Link("Alb", "Web", "routes"),
        Link("Web", "Db", "writes"),
        Link("Web", "Db", "reads"),
        Link("Web", "Jobs", "publishes"),
        Link("Jobs", "Batch", "triggers"),
        Link("Batch", "Media", "writes"),
        Link("WebSg", "Web", "secures"),
        Link("DlqAlarm", "JobsDlq", "monitors"),
        *(Link(subnet, target, "contains") for subnet, target in contains),
    ]
    return Architecture(
        name="three-tier.yaml",
        origin="cloudformation",
        resources={r.id: r for r in resources},
        links=tuple(links),
    )


FINDINGS = (
    finding("REL-DB-MULTI-ZONE", "high", "Db"),
    finding("SEC-DB-PUBLIC", "high", "Db", "PublicA"),
    finding("SEC-WAF", "medium", "Alb"),
    finding("OPS-NO-ALARMS", "low"),
    finding("REL-DLQ-ALARM", "low", "JobsDlq", "Ghost"),
)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.split("?>", 1)[1])


def nodes(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if "data-node" in g.attrib]


def overlap(a: Box, b: Box) -> bool:
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


def test_the_drawing_is_valid_self_contained_svg() -> None:
    svg = render(three_tier(), FINDINGS)
    root = parse(svg)

    assert root.tag == f"{SVG}svg"
    assert svg.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert "http://" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in svg and "@import" not in svg
    hrefs = [v for e in root.iter() for k, v in e.attrib.items() if k.endswith("href")]
    assert all(href.startswith("#") for href in hrefs)


def test_same_input_same_bytes() -> None:
    first = render(three_tier(), FINDINGS)

    assert render(three_tier(), FINDINGS) == first
    assert render(three_tier(), tuple(reversed(FINDINGS))) == first


def test_every_resource_is_a_node_except_subnets_and_the_one_network() -> None:
    arch = three_tier()
    drawn = {g.attrib["data-node"] for g in nodes(parse(render(arch)))}

    expected = {r.id for r in arch.resources.values() if r.kind not in ("subnet", "network")}
    assert drawn == expected
    assert "NETWORK · main vpc" in render(arch)


def test_nodes_with_findings_are_highlighted_with_a_marker_and_their_ids() -> None:
    arch = three_tier()
    root = parse(render(arch, FINDINGS))
    marked = {g.attrib["data-node"] for g in nodes(root) if "finding" in g.attrib["class"]}
    marked |= {
        subnet
        for g in root.iter(f"{SVG}g")
        if "finding" in g.attrib.get("class", "")
        for subnet in g.attrib.get("data-subnets", "").split()
    }

    assert marked == highlighted(arch, FINDINGS) == {"Db", "Alb", "JobsDlq", "PublicA"}
    db = next(g for g in nodes(root) if g.attrib["data-node"] == "Db")
    assert "high" in db.attrib["class"].split()
    texts = ["".join(t.itertext()) for t in db.iter(f"{SVG}text")]
    assert "! HIGH · 2 findings" in texts  # marked in words, not only in colour
    tooltip = db.find(f"{SVG}title")
    assert tooltip is not None and tooltip.text is not None
    assert "REL-DB-MULTI-ZONE" in tooltip.text and "SEC-DB-PUBLIC" in tooltip.text
    alb = next(g for g in nodes(root) if g.attrib["data-node"] == "Alb")
    assert "medium" in alb.attrib["class"].split()
    subnet = next(g for g in root.iter(f"{SVG}g") if g.attrib.get("data-subnets") == "PublicA")
    assert "high" in subnet.attrib["class"].split()


def test_zones_are_columns_with_public_above_private_and_regional_services_below() -> None:
    plan = layout(three_tier())
    boxes = {box.resource.id: box for box in plan.boxes}
    regions = {(r.css, r.subnets): r for r in plan.regions}

    assert [zone for zone, _ in plan.zone_names] == list(ZONES)
    public_a = regions[("subnet public", ("PublicA",))]
    private_a = regions[("subnet private", ("PrivateA",))]
    assert public_a.y + public_a.height < private_a.y
    assert boxes["Db"].row == "public"  # it sits in a public subnet: drawn there
    assert boxes["Jobs"].row == boxes["Media"].row == "regional"
    assert boxes["Clients"].row == boxes["Waf"].row == "edge"
    assert boxes["WebSg"].row == boxes["DlqAlarm"].row == "support"
    assert boxes["Clients"].bottom < private_a.y < boxes["Jobs"].y < boxes["WebSg"].y


def test_a_resource_in_neighbouring_zones_spans_them_and_in_distant_zones_is_drawn_in_each() -> (
    None
):
    plan = layout(three_tier())
    centre = dict(plan.zone_names)

    (alb,) = plan.boxes_of("Alb")
    assert alb.zones == ZONES and alb.x < centre[ZONES[0]] and alb.right > centre[ZONES[2]]
    (web,) = plan.boxes_of("Web")
    assert web.zones == ZONES[:2]
    batch = plan.boxes_of("Batch")
    assert [b.zones for b in batch] == [(ZONES[0],), (ZONES[2],)]
    assert batch[0].x < centre[ZONES[0]] < batch[0].right
    assert batch[1].x < centre[ZONES[2]] < batch[1].right


def test_no_two_boxes_overlap_and_all_fit_in_the_drawing() -> None:
    for arch in (three_tier(), crowded()):
        plan = layout(arch)
        for a, b in combinations(plan.boxes, 2):
            assert not overlap(a, b), (a.resource.id, b.resource.id)
        for box in plan.boxes:
            assert box.x >= 0 and box.right <= plan.width
            assert box.y >= 0 and box.bottom <= plan.legend_y


def crowded() -> Architecture:
    """Many one-zone instances in one zone and many queues: rows and bands must wrap."""
    resources = [Resource(f"i{n}", "instance", zones=(ZONES[n % 2],)) for n in range(9)]
    resources += [Resource(f"q{n}", "queue", label=f"queue number {n}") for n in range(13)]
    resources += [Resource("db", "database", zones=ZONES[:2], properties={"multi_zone": True})]
    links = [Link(f"i{n}", f"q{n}", "publishes") for n in range(9)]
    links += [Link(f"i{n}", "db", "writes") for n in range(9)]
    return Architecture("crowded", "archlab", {r.id: r for r in resources}, tuple(links))


def test_labels_are_escaped() -> None:
    nasty = "a <b> & \"c\" 'd' \x01"
    arch = Architecture(
        name="<x>",
        origin="archlab",
        resources={"n": Resource("n", "queue", label=nasty)},
    )
    svg = render(arch, (finding("X<&>", "low", "n"),))
    root = parse(svg)

    (node,) = nodes(root)
    title = node.find(f"{SVG}title")
    assert title is not None and title.text is not None
    assert "a <b> & \"c\" 'd' " in title.text and "X<&>" in title.text
    assert node.attrib["data-findings"] == "X<&>"


def test_an_architecture_with_no_zones_is_bands_only() -> None:
    arch = Architecture(
        "serverless",
        "archlab",
        {
            "api": Resource("api", "api", public=True),
            "fn": Resource("fn", "function"),
            "t": Resource("t", "table"),
        },
        (Link("api", "fn", "calls"), Link("fn", "t", "writes")),
    )
    plan = layout(arch)

    assert plan.frame is None and plan.zone_names == ()
    assert {box.row for box in plan.boxes} == {"edge", "regional"}
    parse(render(arch))


def test_families_match_the_console_diagrams_colours() -> None:
    assert {kind: FAMILIES[kind] for kind in CATEGORIES} == CATEGORIES
