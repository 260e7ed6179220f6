"""The topology model validates itself and round-trips through JSON."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from archlab.systems import available
from archlab.systems.purchases.topology import PROFILES
from archlab.topology import (
    Edge,
    EventBus,
    Function,
    InstanceGroup,
    Profile,
    Queue,
    Service,
    TargetTracking,
    Topic,
    Topology,
)

PROFILE = Profile(name="test")


def small(*nodes: object, edges: tuple[Edge, ...] = ()) -> Topology:
    return Topology(system="demo", profile=PROFILE, nodes=nodes, edges=edges)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("system", "profile"),
    [(s.name, p) for s in available().values() for p in s.profiles],
)
def test_every_system_topology_round_trips_through_json(system: str, profile: str) -> None:
    topology = available()[system].topology(profile)
    text = topology.to_json()
    assert Topology.from_json(text) == topology
    kinds = [node["kind"] for node in json.loads(text)["nodes"]]
    assert kinds == [node.kind for node in topology.nodes] and "service" in kinds


def test_lookups() -> None:
    topology = PROFILES["topic"]()
    assert topology.node("car").kind == "queue"
    assert [e.target for e in topology.edges_from("car", "triggers")] == ["car-backend"]
    assert [e.source for e in topology.edges_to("car")] == ["purchases"]
    assert len(topology.of_kind(InstanceGroup)) == 5
    with pytest.raises(KeyError, match="no node 'boat'"):
        topology.node("boat")


def test_target_backlog_per_worker() -> None:
    policy = TargetTracking(acceptable_latency_s=0.5, processing_time_s=0.05)
    assert policy.target_backlog_per_worker == pytest.approx(10)


@pytest.mark.parametrize(
    ("build", "problem"),
    [
        (lambda: small(Queue(id="a"), Queue(id="a")), "repeated: a"),
        (
            lambda: small(Queue(id="a"), edges=(Edge(source="a", target="b", kind="calls"),)),
            "no node 'b'",
        ),
        (lambda: small(Queue(id="a", dead_letter="t"), Topic(id="t")), "not a queue"),
        (lambda: small(Queue(id="a", zone="zone-z")), "not in the profile's zones"),
        (
            lambda: small(
                Queue(id="q"),
                Queue(id="r"),
                edges=(Edge(source="q", target="r", kind="subscribes"),),
            ),
            "only a topic or an event bus",
        ),
        (
            lambda: small(
                EventBus(id="b"),
                Queue(id="q"),
                edges=(Edge(source="b", target="q", kind="subscribes"),),
            ),
            "needs an event_pattern",
        ),
        (
            lambda: small(
                Queue(id="q"), Queue(id="r"), edges=(Edge(source="q", target="r", kind="triggers"),)
            ),
            "runs a function or an instance group",
        ),
        (
            lambda: small(
                Service(id="s"),
                Function(id="f", handler="m:f"),
                edges=(Edge(source="s", target="f", kind="triggers"),),
            ),
            "comes from a queue, topic, bus, bucket or stream",
        ),
        (lambda: small(InstanceGroup(id="g", handler="m:f", min_size=3, max_size=2)), "exceeds"),
        (lambda: small(InstanceGroup(id="g", handler="not a path")), "String should match"),
        (lambda: small(Queue(id="bad id!")), "String should match"),
        (lambda: small(Queue(id="q", colour="red")), "Extra inputs are not permitted"),  # type: ignore[call-arg]
    ],
)
def test_invalid_topologies_name_the_problem(build: object, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        build()  # type: ignore[operator]
