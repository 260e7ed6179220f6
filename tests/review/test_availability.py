from __future__ import annotations

import re
from typing import Any

import pytest

from archlab.review.availability import (
    NO_SLA,
    SLA_TABLE_DATE,
    SLAS,
    journey_availability,
    parallel,
    resource_availability,
    series,
)
from archlab.review.model import KINDS, Architecture, Journey, Kind, Resource

TWO_ZONES = ("us-east-1a", "us-east-1b")


def res(
    resource_id: str,
    kind: Kind,
    zones: tuple[str, ...] = (),
    count: int = 1,
    **properties: Any,
) -> Resource:
    return Resource(id=resource_id, kind=kind, zones=zones, count=count, properties=properties)


def arch(*resources: Resource) -> Architecture:
    return Architecture(name="shop", origin="archlab", resources={r.id: r for r in resources})


def percent(value: float) -> float:
    return round(value * 100, 3)


LB = res("lb", "load_balancer", TWO_ZONES)
WEB_HA = res("web", "instance_group", TWO_ZONES, count=2)
WEB_ONE = res("web", "instance_group", ("us-east-1a",), count=1)
AURORA = res("db", "database", TWO_ZONES, multi_zone=True, aurora=True)
CACHE = res("cache", "cache", TWO_ZONES, count=2, failover=True)
PATH = Journey("check out", (("lb",), ("web",), ("db",), ("cache",)))


def test_the_table_is_dated_and_every_sla_is_a_fraction_with_a_source() -> None:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", SLA_TABLE_DATE)
    for key, sla in SLAS.items():
        assert sla.key == key
        assert 0.9 < sla.availability < 1.0
        assert sla.source_url.startswith("https://aws.amazon.com/")


def test_the_published_figures_the_issue_names() -> None:
    assert SLAS["elb"].availability == 0.9999
    assert SLAS["ec2-region"].availability == 0.9999
    assert SLAS["ec2-instance"].availability == 0.995
    assert SLAS["rds-multi-az"].availability == 0.9995
    assert SLAS["rds-single"].availability == 0.995
    assert SLAS["aurora-multi-az"].availability == 0.9999
    assert SLAS["elasticache-multi-az"].availability == 0.9999


def test_highly_available_path_is_99_960_percent() -> None:
    result = journey_availability(arch(LB, WEB_HA, AURORA, CACHE), PATH)
    assert percent(result.availability) == 99.960
    assert [stage.sla for stage in result.stages] == [
        ("elb",),
        ("ec2-region",),
        ("aurora-multi-az",),
        ("elasticache-multi-az",),
    ]


def test_the_same_path_with_one_instance_is_99_470_percent_and_names_it() -> None:
    result = journey_availability(arch(LB, WEB_ONE, AURORA, CACHE), PATH)
    assert percent(result.availability) == 99.470
    assert result.weakest == "web"
    assert result.stages[1].sla == ("ec2-instance",)


def test_two_single_instances_in_parallel_are_99_9975_percent() -> None:
    one = res("a", "instance", ("us-east-1a",))
    other = res("b", "instance", ("us-east-1b",))
    result = journey_availability(arch(one, other), Journey("serve", (("a", "b"),)))
    assert round(result.availability * 100, 4) == 99.9975
    assert result.weakest == "a"
    assert result.stages[0].sla == ("ec2-instance", "ec2-instance")


def test_series_and_parallel() -> None:
    assert series([0.9, 0.9]) == pytest.approx(0.81)
    assert series([]) == 1.0
    assert parallel([0.9, 0.9]) == pytest.approx(0.99)
    assert parallel([0.995]) == pytest.approx(0.995)
    with pytest.raises(ValueError, match="at least one"):
        parallel([])
    with pytest.raises(ValueError, match="between 0 and 1"):
        series([99.99])


@pytest.mark.parametrize(
    ("resource", "key"),
    [
        (res("g", "instance_group", TWO_ZONES, count=2), "ec2-region"),
        (res("g", "instance_group", TWO_ZONES, count=1), "ec2-instance"),
        (res("g", "instance_group", ("us-east-1a",), count=3), "ec2-instance"),
        (res("g", "instance_group", ("us-east-1a", "us-east-1a"), count=2), "ec2-instance"),
        (res("i", "instance", ("us-east-1a",)), "ec2-instance"),
        (res("lb", "load_balancer", ("us-east-1a",)), "elb-single"),
        (res("lb", "load_balancer"), "elb"),
        (res("d", "database", TWO_ZONES, multi_zone=True), "rds-multi-az"),
        (res("d", "database", ("us-east-1a",), multi_zone=False), "rds-single"),
        (res("d", "database"), "rds-single"),
        (res("d", "database", ("us-east-1a",), aurora=True), "aurora-single"),
        (res("c", "cache", TWO_ZONES, count=2, failover=True), "elasticache-multi-az"),
        (res("c", "cache", ("us-east-1a",)), "elasticache-single"),
        (res("q", "queue"), "sqs"),
        (res("t", "topic"), "sns"),
        (res("b", "event_bus"), "eventbridge"),
        (res("f", "function"), "lambda"),
        (res("s", "bucket"), "s3"),
        (res("t", "table"), "dynamodb"),
        (res("k", "stream"), "kinesis"),
        (res("h", "delivery_stream"), "firehose"),
        (res("g", "catalog"), "glue"),
        (res("a", "api"), "api-gateway"),
        (res("w", "web_acl"), "waf"),
    ],
)
def test_resource_availability_picks_the_sla(resource: Resource, key: str) -> None:
    assert resource_availability(resource) == (SLAS[key].availability, key)


@pytest.mark.parametrize(
    "kind", ["service", "security_group", "subnet", "network", "gateway", "alarm"]
)
def test_kinds_that_are_not_stages_have_no_sla(kind: Kind) -> None:
    assert resource_availability(res("x", kind)) == (1.0, NO_SLA)


def test_every_kind_is_covered() -> None:
    for kind in KINDS:
        value, key = resource_availability(res("x", kind))
        assert key == NO_SLA or SLAS[key].availability == value


def test_the_caller_does_not_lower_a_journey() -> None:
    caller = res("shoppers", "service")
    result = journey_availability(
        arch(caller, LB, WEB_HA), Journey("browse", (("shoppers",), ("lb",), ("web",)))
    )
    assert result.availability == pytest.approx(0.9999 * 0.9999)
    assert result.weakest == "lb"  # the first of the two equal stages


def test_a_journey_without_stages_is_always_up() -> None:
    result = journey_availability(arch(), Journey("nothing", ()))
    assert (result.availability, result.weakest, result.stages) == (1.0, "", ())


def test_an_unknown_resource_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"journey 'check out' names 'lb'.*'shop'"):
        journey_availability(arch(), PATH)


def test_an_empty_stage_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="empty stage"):
        journey_availability(arch(LB), Journey("odd", (("lb",), ())))
