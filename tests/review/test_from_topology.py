"""Every archlab system's topology imports into the review model as the profile deploys it."""

from __future__ import annotations

import pytest

from archlab.review.from_topology import from_topology
from archlab.review.graph import asynchronous, critical, derive, journeys
from archlab.review.model import KINDS, Architecture, Journey, Link, Resource
from archlab.systems import available

PROFILES = [(name, profile) for name, system in available().items() for profile in system.profiles]


@pytest.mark.parametrize(("system", "profile"), PROFILES)
def test_every_node_becomes_a_resource_with_its_journeys(system: str, profile: str) -> None:
    topology = available()[system].topology(profile)
    arch = from_topology(topology)
    assert arch.origin == "archlab" and arch.profile == profile
    assert {node.id for node in topology.nodes} <= set(arch.resources)
    assert all(resource.kind in KINDS for resource in arch.resources.values())
    assert [journey.name for journey in arch.journeys] == [j.name for j in topology.journeys]
    for journey in arch.journeys:
        assert all(step in arch.resources for stage in journey.stages for step in stage)


def test_storefront_profiles_differ_where_the_design_does() -> None:
    ha = from_topology(available()["storefront"].topology("ha"))
    single = from_topology(available()["storefront"].topology("single"))
    assert ha.resources["web"].zones == ("zone-a", "zone-b") and ha.resources["web"].count == 2
    assert single.resources["web"].zones == ("zone-a",) and single.resources["web"].count == 1
    assert ha.resources["database"].prop("multi_zone") is True
    assert single.resources["database"].zones == ("zone-a",)
    assert ha.resources["cache"].prop("failover") is True
    assert ha.resources["storefront"].prop("waf") is True
    assert single.resources["storefront"].prop("waf") is False
    assert Link("storefront-waf", "storefront", "protects") in ha.links
    assert Link("storefront", "web", "routes") in ha.links
    assert ha.resources["web"].prop("health_check") == "elb"
    assert ha.resources["web"].prop("scaling") == "requests"


def test_queues_know_their_dead_letters_and_priorities() -> None:
    claims = from_topology(available()["claims"].topology("priority"))
    assert claims.resources["claims"].prop("dead_letter") == "claims-dlq"
    assert claims.resources["claims-dlq"].prop("is_dead_letter") is True
    assert claims.resources["claims"].prop("priorities") is True
    assert claims.resources["adjusters"].prop("scaling") == "backlog"


def _path(*ids: str) -> Journey:
    return Journey("path", tuple((i,) for i in ids))


def test_critical_resources_of_a_path_are_all_of_them() -> None:
    assert critical(_path("lb", "web", "db")) == {"lb", "web", "db"}


def test_a_parallel_stage_is_not_critical() -> None:
    journey = Journey("two", (("lb",), ("i1", "i2"), ("db",)))
    assert critical(journey) == {"lb", "db"}


def test_derived_journeys_put_parallel_targets_in_one_stage() -> None:
    resources = {
        rid: Resource(rid, kind)
        for rid, kind in [
            ("lb", "load_balancer"),
            ("i1", "instance"),
            ("i2", "instance"),
            ("db", "database"),
        ]
    }
    links = (
        Link("lb", "i1", "routes"),
        Link("lb", "i2", "routes"),
        Link("i1", "db", "writes"),
        Link("i2", "db", "writes"),
    )
    arch = Architecture("t", "cloudformation", resources, links)
    assert derive(arch) == (Journey("lb → db", (("lb",), ("i1", "i2"), ("db",))),)
    assert journeys(arch) == derive(arch)


def test_stages_after_a_queue_run_asynchronously() -> None:
    arch = from_topology(available()["purchases"].topology("topic"))
    car = next(j for j in arch.journeys if j.name.startswith("a car"))
    assert asynchronous(arch, car) == {"car", "car-backend"}
