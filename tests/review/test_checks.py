"""The checks: each fires on the defect it names and on nothing else, archlab's fragile
profiles carry their expected high findings, the resilient ones none, and a defect seeded
into a resilient profile is found."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from archlab.review.checks import CHECKS, FRAMEWORK, run_checks
from archlab.review.from_topology import from_topology
from archlab.review.model import PILLARS, Architecture, Journey, Link, Resource
from archlab.systems import available

# -- the catalogue ------------------------------------------------------------------------


def test_at_least_25_checks_cover_all_five_pillars_with_a_best_practice_each() -> None:
    assert len(CHECKS) >= 25
    assert {entry.info.pillar for entry in CHECKS.values()} == set(PILLARS)
    for check_id, entry in CHECKS.items():
        info = entry.info
        assert info.id == check_id
        assert (
            check_id.split("-")[0]
            == {
                "operational-excellence": "OPS",
                "security": "SEC",
                "reliability": "REL",
                "performance-efficiency": "PERF",
                "cost-optimization": "COST",
            }[info.pillar]
        )
        assert re.fullmatch(r"(OPS|SEC|REL|PERF|COST)\d\d-BP\d\d [A-Z].+", info.best_practice)
    assert "2024-06-27" in FRAMEWORK


# -- archlab's own systems ----------------------------------------------------------------


def reviewed(system: str, profile: str) -> Architecture:
    return from_topology(available()[system].topology(profile))


def high_ids(arch: Architecture) -> set[str]:
    return {f.id for f in run_checks(arch) if f.severity == "high"}


@pytest.mark.parametrize(
    ("system", "profile", "expected"),
    [
        ("storefront", "single", {"REL-SPOF", "REL-ONE-ZONE", "REL-DB-MULTI-AZ", "SEC-LB-WAF"}),
        ("purchases", "dispatcher", {"PERF-DISPATCHER"}),
        ("claims", "priority", {"PERF-PRIORITY-SHARED"}),
    ],
)
def test_a_fragile_profile_yields_its_expected_high_findings(
    system: str, profile: str, expected: set[str]
) -> None:
    assert high_ids(reviewed(system, profile)) == expected


@pytest.mark.parametrize(
    ("system", "profile"),
    [
        ("storefront", "ha"),
        ("purchases", "topic"),
        ("purchases", "bus"),
        ("claims", "two-queues"),
        ("images", "files"),
        ("images", "blobs"),
        ("clickstream", "lake"),
    ],
)
def test_a_resilient_profile_has_no_high_finding(system: str, profile: str) -> None:
    assert high_ids(reviewed(system, profile)) == set()


def test_the_single_storefront_names_both_tiers_and_the_journeys_they_stop() -> None:
    found = [f for f in run_checks(reviewed("storefront", "single")) if f.id == "REL-SPOF"]
    assert sorted(f.resources for f in found) == [("app",), ("web",)]
    assert found[0].evidence["journeys"] == ["browse the shop", "check out"]
    assert found[0].best_practice.startswith("REL10-BP01")


def test_a_single_consumer_behind_a_queue_is_a_medium_single_point_of_failure() -> None:
    found = {f.resources: f for f in run_checks(reviewed("claims", "two-queues"))}
    assert found[("other-adjusters",)].severity == "medium"
    assert found[("other-adjusters", "other-claims")].id == "REL-CONSUMER-BACKLOG"


def test_the_warehouse_off_every_journey_is_a_medium_finding() -> None:
    found = [f for f in run_checks(reviewed("clickstream", "lake")) if f.id == "REL-DB-MULTI-AZ"]
    assert [(f.resources, f.severity) for f in found] == [(("warehouse",), "medium")]


# -- mutations: a defect seeded into a resilient profile is detected --------------------


def mutated(arch: Architecture, resource_id: str, **changes: Any) -> Architecture:
    resource = arch.resources[resource_id]
    properties = {**resource.properties, **changes.pop("properties", {})}
    replaced = dataclasses.replace(resource, properties=properties, **changes)
    return dataclasses.replace(arch, resources={**arch.resources, resource_id: replaced})


def findings_on(arch: Architecture, check_id: str) -> list[tuple[tuple[str, ...], str]]:
    return [(f.resources, f.severity) for f in run_checks(arch) if f.id == check_id]


def test_dropping_a_dead_letter_queue_is_detected() -> None:
    arch = mutated(reviewed("purchases", "topic"), "car", properties={"dead_letter": None})
    assert findings_on(arch, "REL-QUEUE-DLQ") == [(("car",), "high")]


def test_making_the_database_single_zone_is_detected() -> None:
    arch = mutated(
        reviewed("storefront", "ha"),
        "database",
        zones=("zone-a",),
        properties={"multi_zone": False},
    )
    assert findings_on(arch, "REL-DB-MULTI-AZ") == [(("database",), "high")]


def test_putting_the_database_in_a_public_subnet_is_detected() -> None:
    arch = mutated(reviewed("storefront", "ha"), "database", public=True)
    assert findings_on(arch, "SEC-DB-PUBLIC") == [(("database",), "high")]


def test_removing_the_waf_is_detected() -> None:
    ha = reviewed("storefront", "ha")
    arch = mutated(ha, "storefront", properties={"waf": False})
    resources = {k: v for k, v in arch.resources.items() if v.kind != "web_acl"}
    links = tuple(link for link in arch.links if link.kind != "protects")
    arch = dataclasses.replace(arch, resources=resources, links=links)
    assert findings_on(arch, "SEC-LB-WAF") == [(("storefront",), "high")]


def test_shrinking_an_auto_scaling_group_to_one_zone_is_detected() -> None:
    arch = mutated(reviewed("storefront", "ha"), "web", zones=("zone-a",))
    assert findings_on(arch, "REL-ONE-ZONE") == [(("web",), "high")]
    assert findings_on(arch, "REL-SPOF") == []  # still two instances


# -- each check on a minimal architecture ------------------------------------------------


def architecture(*resources: Resource, links: tuple[Link, ...] = (), **kwargs: Any) -> Architecture:
    return Architecture(
        "test", "cloudformation", {r.id: r for r in resources}, links=links, **kwargs
    )


def web_tier(**group: Any) -> Architecture:
    """users → internet-facing load balancer → app group → database, the group as given."""
    props = {"http": True, "health_check": "elb", "scaling": "requests", "min_size": 2}
    props.update(group.pop("properties", {}))
    return architecture(
        Resource("users", "service", public=True),
        Resource(
            "lb",
            "load_balancer",
            zones=("a", "b"),
            public=True,
            properties={"internet_facing": True, "waf": True, "https": True},
        ),
        Resource(
            "app", "instance_group", **{"zones": ("a", "b"), "count": 2, **group}, properties=props
        ),
        Resource("db", "database", zones=("a", "b"), properties={"multi_zone": True}),
        links=(
            Link("users", "lb", "calls"),
            Link("lb", "app", "routes"),
            Link("app", "db", "writes"),
        ),
    )


def worker(**props: Any) -> Architecture:
    """producer → queue → consumer group."""
    group = {"http": False, "scaling": "backlog", "min_size": 2, "health_check": "ec2"}
    return architecture(
        Resource("producer", "service", public=True),
        Resource(
            "jobs",
            "queue",
            properties={"dead_letter": "jobs-dlq", "is_dead_letter": False, "priorities": False},
        ),
        Resource("jobs-dlq", "queue", properties={"dead_letter": None, "is_dead_letter": True}),
        Resource(
            "workers",
            "instance_group",
            zones=("a", "b"),
            count=2,
            properties={**group, **props},
        ),
        Resource("alarm", "alarm", properties={"metric": "ApproximateNumberOfMessagesVisible"}),
        links=(
            Link("producer", "jobs", "publishes"),
            Link("jobs", "workers", "triggers"),
            Link("alarm", "jobs-dlq", "monitors"),
            Link("alarm", "workers", "monitors"),
            Link("alarm", "jobs", "monitors"),
        ),
    )


def with_resource(arch: Architecture, resource: Resource, *links: Link) -> Architecture:
    return dataclasses.replace(
        arch, resources={**arch.resources, resource.id: resource}, links=arch.links + links
    )


UNWATCHED = Link("alarm", "workers", "monitors")

SEEDED: dict[str, Callable[[], Architecture]] = {
    "REL-SPOF": lambda: web_tier(count=1, properties={"min_size": 1}),
    "REL-ONE-ZONE": lambda: web_tier(zones=("a",)),
    "REL-LB-ZONES": lambda: mutated(web_tier(), "lb", zones=("a",)),
    "REL-ASG-HEALTH": lambda: web_tier(properties={"health_check": "ec2"}),
    "REL-DB-MULTI-AZ": lambda: mutated(web_tier(), "db", properties={"multi_zone": False}),
    "REL-CACHE-FAILOVER": lambda: with_resource(
        web_tier(), Resource("cache", "cache", properties={"failover": False})
    ),
    "REL-QUEUE-DLQ": lambda: mutated(worker(), "jobs", properties={"dead_letter": None}),
    "REL-CONSUMER-BACKLOG": lambda: worker(scaling=None),
    "REL-BACKUPS": lambda: mutated(web_tier(), "db", properties={"backup_retention_days": 0}),
    "REL-NO-AUTOSCALING": lambda: web_tier(properties={"scaling": None}),
    "PERF-PRIORITY-SHARED": lambda: dataclasses.replace(
        mutated(worker(), "jobs", properties={"priorities": True}),
        journeys=(
            Journey("urgent", (("producer",), ("jobs",), ("workers",))),
            Journey("routine", (("producer",), ("jobs",), ("workers",))),
        ),
    ),
    "PERF-DISPATCHER": lambda: dataclasses.replace(
        worker(),
        journeys=(
            Journey("type a", (("producer",), ("jobs",), ("workers",))),
            Journey("type b", (("producer",), ("jobs",), ("workers",))),
        ),
    ),
    "PERF-READ-PATH": lambda: mutated(web_tier(), "db", properties={"read_replicas": 0}),
    "PERF-BLOB-STORE": lambda: architecture(
        Resource("media", "bucket", properties={"storage": "database"})
    ),
    "PERF-STREAM-SHARDS": lambda: architecture(
        Resource("api", "api", public=True),
        Resource("clicks", "stream", properties={"shards": 1}),
        links=(Link("api", "clicks", "writes"),),
    ),
    "SEC-DB-PUBLIC": lambda: mutated(web_tier(), "db", properties={"publicly_accessible": True}),
    "SEC-APP-PUBLIC": lambda: web_tier(public=True),
    "SEC-LB-WAF": lambda: mutated(web_tier(), "lb", properties={"waf": False}),
    "SEC-SG-OPEN": lambda: architecture(
        Resource(
            "sg",
            "security_group",
            properties={"ingress": [{"cidr": "0.0.0.0/0", "from_port": 22, "to_port": 22}]},
        )
    ),
    "SEC-BUCKET-PAB": lambda: architecture(
        Resource("assets", "bucket", properties={"public_access_block": False})
    ),
    "SEC-ENCRYPTION": lambda: mutated(web_tier(), "db", properties={"encrypted": False}),
    "SEC-HTTPS": lambda: mutated(
        web_tier(), "lb", properties={"https": False, "http_redirects": False}
    ),
    "SEC-ACCESS-LOGS": lambda: mutated(web_tier(), "lb", properties={"access_logs": False}),
    "OPS-NO-ALARMS": lambda: web_tier(),
    "OPS-DLQ-ALARM": lambda: dataclasses.replace(
        worker(), links=tuple(link for link in worker().links if link.target != "jobs-dlq")
    ),
    "OPS-UNMONITORED": lambda: dataclasses.replace(
        worker(), links=tuple(link for link in worker().links if link != UNWATCHED)
    ),
    "COST-FIXED-FLEET": lambda: web_tier(properties={"scaling": None}),
    "COST-IDLE-FLOOR": lambda: worker(min_size=4),
    "COST-BLOB-STORAGE": lambda: architecture(
        Resource("media", "bucket", properties={"storage": "database"})
    ),
    "COST-ORPHAN": lambda: with_resource(worker(), Resource("spare", "cache")),
}


def test_every_check_has_a_seeded_defect() -> None:
    assert set(SEEDED) == set(CHECKS)


@pytest.mark.parametrize("check_id", sorted(SEEDED))
def test_each_seeded_defect_is_detected_by_its_check(check_id: str) -> None:
    found = run_checks(SEEDED[check_id](), only=[check_id])
    assert found, f"{check_id} found nothing in its seeded architecture"
    finding = found[0]
    assert finding.id == check_id and finding.resources and finding.evidence
    assert finding.remediation and finding.best_practice == CHECKS[check_id].info.best_practice


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_the_sound_architectures_do_not_trip_the_check(check_id: str) -> None:
    sound = [web_tier(), worker()]
    if check_id == "OPS-NO-ALARMS":
        sound = [worker()]  # the web tier has no alarm
    for arch in sound:
        assert run_checks(arch, only=[check_id]) == []


def test_a_check_says_nothing_about_a_property_that_was_not_imported() -> None:
    bare = architecture(
        *(Resource(kind, kind) for kind in ("load_balancer", "database", "cache", "bucket")),
        Resource("queue", "queue"),
        Resource("group", "instance_group", zones=("a", "b"), count=2),
    )
    assert run_checks(bare) == []


def test_world_open_web_ports_are_fine_but_a_database_port_is_high_and_others_medium() -> None:
    def group(*rules: tuple[int, int]) -> Architecture:
        ingress = [{"cidr": "0.0.0.0/0", "from_port": a, "to_port": b} for a, b in rules]
        return architecture(Resource("sg", "security_group", properties={"ingress": ingress}))

    assert run_checks(group((80, 80), (443, 443))) == []
    assert [f.severity for f in run_checks(group((5432, 5432)))] == ["high"]
    assert [f.severity for f in run_checks(group((8080, 8080)))] == ["medium"]
    assert [f.severity for f in run_checks(group((0, 65535)))] == ["high"]


def test_docs_review_lists_every_check_with_its_best_practice() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "review.md").read_text()
    for check_id, entry in CHECKS.items():
        info = entry.info
        row = f"| `{check_id}` | {info.pillar} | {info.severity} | {info.title} |"
        assert f"{row} {info.best_practice} |" in docs, check_id
