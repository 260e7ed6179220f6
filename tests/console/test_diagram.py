"""The diagram's layout: columns by depth, no overlapping boxes, every node and edge drawn."""

from __future__ import annotations

import re
from itertools import combinations

import pytest

from archlab.console.diagram import Box, layout, policy_text, render
from archlab.systems.purchases.topology import PROFILES, topic
from archlab.topology import (
    Api,
    Database,
    Edge,
    Function,
    InstanceGroup,
    LoadBalancer,
    Profile,
    Queue,
    Service,
    Topology,
)

HANDLER = "tests.runtime.handlers:record"


def overlap(a: Box, b: Box) -> bool:
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_boxes_never_overlap_and_fit_the_drawing(profile: str) -> None:
    plan = layout(PROFILES[profile]())

    for a, b in combinations(plan.boxes.values(), 2):
        assert not overlap(a, b), (a.node.id, b.node.id)
    for box in plan.boxes.values():
        assert box.x >= 0 and box.right <= plan.width
        assert box.y >= 0 and box.bottom <= plan.height


def test_columns_follow_the_flow_of_messages() -> None:
    boxes = layout(topic()).boxes
    column = {node_id: box.column for node_id, box in boxes.items()}

    assert column["system-a"] == 0
    assert column["purchases"] == 1
    assert {column[c] for c in ("car", "home", "life", "travel", "pet")} == {2}
    assert column["car-backend"] == column["car-dlq"] == 3


def test_a_queue_sits_beside_its_consumer_and_its_dead_letter_queue() -> None:
    boxes = layout(topic()).boxes
    order = sorted((b for b in boxes.values() if b.column == 3), key=lambda b: b.y)

    assert [b.node.id for b in order[:4]] == ["car-backend", "car-dlq", "home-backend", "home-dlq"]
    car = boxes["car"]
    assert boxes["car-backend"].y < car.middle < boxes["car-dlq"].bottom


def three_tier() -> Topology:
    return Topology(
        system="web",
        profile=Profile(name="test", zones=("zone-a", "zone-b", "zone-c")),
        nodes=(
            Service(id="users"),
            LoadBalancer(id="lb", label="load balancer", default_target="app"),
            InstanceGroup(id="app", app=HANDLER, max_size=3),
            Queue(id="jobs"),
            Function(id="report", handler=HANDLER, schedule_s=60),
            Database(id="db", zone="zone-a"),
            Api(id="admin"),
        ),
        edges=(
            Edge(source="users", target="lb", kind="calls"),
            Edge(source="lb", target="app", kind="calls"),
            Edge(source="app", target="db", kind="writes"),
            Edge(source="app", target="jobs", kind="publishes"),
            Edge(source="jobs", target="report", kind="triggers"),
            Edge(source="report", target="app", kind="calls"),  # closes a cycle
            Edge(source="users", target="admin", kind="calls"),
        ),
    )


def test_a_cycle_does_not_stop_the_layout() -> None:
    column = {node_id: box.column for node_id, box in layout(three_tier()).boxes.items()}

    assert column["users"] == 0
    assert column["lb"] == column["admin"] == 1
    assert column["app"] == 2
    assert column["jobs"] == column["db"] == 3
    assert column["report"] == 4


def test_public_nodes_sit_above_the_private_subnet() -> None:
    svg = render(three_tier())
    plan = layout(three_tier())

    public = [b for b in plan.boxes.values() if b.node.placement == "public" and b.column == 1]
    assert {b.node.id for b in public} == {"lb", "admin"}
    assert "PRIVATE SUBNET" in svg
    assert svg.count('class="badge"') == 3  # users, lb, admin
    assert svg.count('<g class="zone"') == 3  # app spans the profile's three zones
    assert "DATABASE · zone-a" in svg
    assert "FUNCTION · every 60 s" in svg


def test_every_node_and_edge_is_drawn() -> None:
    topology = topic()
    svg = render(topology)

    nodes = re.findall(r'data-node="([^"]+)"', svg)
    assert sorted(nodes) == sorted(node.id for node in topology.nodes)
    links = re.findall(r'<g class="link" data-source="([^"]+)" data-target="([^"]+)"', svg)
    dead_letters = [(q.id, q.dead_letter) for q in topology.of_kind(Queue) if q.dead_letter]
    expected = [(e.source, e.target) for e in topology.edges] + dead_letters
    assert sorted(links) == sorted(expected)
    assert svg.count('<g class="zone"') == 2 * len(topology.of_kind(InstanceGroup))
    assert "coverage = car" in svg
    assert "after 3 receives" in svg


def test_filter_policies_read_as_conditions() -> None:
    assert policy_text({"coverage": ["car", "home"]}) == "coverage = car | home"
    assert policy_text({"price": [{"numeric": [">", 10]}]}) == 'price: [{"numeric":[">",10]}]'


def test_labels_are_escaped() -> None:
    topology = Topology(
        system="demo",
        profile=Profile(name="test"),
        nodes=(Service(id="client", label="<b>&client</b>"),),
    )

    svg = render(topology)

    assert "&lt;b&gt;&amp;client&lt;/b&gt;" in svg
    assert "<b>" not in svg
