"""Composite availability of a user journey, from the published AWS SLAs.

A journey is stages in series, each stage one or more resources in parallel. In series the
availabilities multiply (every stage must be up); in parallel a stage is down only when every
resource in it is down, so its availability is ``1 - prod(1 - a)``. Each resource's figure is
the monthly uptime that its service's SLA commits to for the way the resource is deployed
(one EC2 instance, or instances across zones; a Multi-AZ database or a single one).

Assumptions, stated once: failures are independent (a regional outage is not modelled); an
SLA's figure is taken as the availability (it is a floor with service credits, not a
measurement); and a resource's kind, zones, count and normalised properties are all that
decide which SLA applies.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from archlab.review.model import Architecture, Journey, Kind, Resource

SLA_TABLE_DATE = "2026-12-07"
"""When the SLA figures below were read (ISO date)."""

_SLA_INDEX = "https://aws.amazon.com/legal/service-level-agreements/"


@dataclass(frozen=True)
class Sla:
    key: str
    service: str
    availability: float
    """The committed monthly uptime as a fraction (``0.9999`` for 99.99%)."""
    scope: str
    """What the commitment covers (how the resource must be deployed)."""
    source_url: str


def _table(*slas: Sla) -> Mapping[str, Sla]:
    return {sla.key: sla for sla in slas}


SLAS: Mapping[str, Sla] = _table(
    Sla(
        "elb",
        "Elastic Load Balancing",
        0.9999,
        "a load balancer in two or more zones",
        "https://aws.amazon.com/elasticloadbalancing/sla/",
    ),
    Sla(
        "elb-single",
        "Elastic Load Balancing",
        0.999,
        "a load balancer in one zone",
        "https://aws.amazon.com/elasticloadbalancing/sla/",
    ),
    Sla(
        "ec2-region",
        "Amazon EC2",
        0.9999,
        "instances running in two or more zones of a region (Region-Level SLA)",
        "https://aws.amazon.com/compute/sla/",
    ),
    Sla(
        "ec2-instance",
        "Amazon EC2",
        0.995,
        "one instance (Instance-Level SLA)",
        "https://aws.amazon.com/compute/sla/",
    ),
    Sla(
        "rds-multi-az",
        "Amazon RDS",
        0.9995,
        "a Multi-AZ DB instance or cluster",
        "https://aws.amazon.com/rds/sla/",
    ),
    Sla(
        "rds-single",
        "Amazon RDS",
        0.995,
        "a Single-AZ DB instance",
        "https://aws.amazon.com/rds/sla/",
    ),
    Sla(
        "aurora-multi-az",
        "Amazon Aurora",
        0.9999,
        "a cluster in two or more zones",
        "https://aws.amazon.com/rds/aurora/sla/",
    ),
    Sla(
        "aurora-single",
        "Amazon Aurora",
        0.999,
        "a cluster in one zone",
        "https://aws.amazon.com/rds/aurora/sla/",
    ),
    Sla(
        "elasticache-multi-az",
        "Amazon ElastiCache",
        0.9999,
        "a Valkey/Redis OSS Multi-AZ configuration (automatic failover)",
        "https://aws.amazon.com/elasticache/sla/",
    ),
    # The ElastiCache SLA (and AWS's announcement of the 99.99% tier) gives 99.5% for a
    # Single-AZ configuration; 99.9% is its figure for previous-generation Multi-AZ.
    Sla(
        "elasticache-single",
        "Amazon ElastiCache",
        0.995,
        "a Single-AZ configuration",
        "https://aws.amazon.com/elasticache/sla/",
    ),
    # SQS and SNS share one SLA page ("Amazon Messaging"); its 99.9% figure, and those of
    # EventBridge, Lambda, S3, DynamoDB, Kinesis, Firehose, Glue, API Gateway and CloudWatch
    # below, were read from a compilation of the AWS SLA pages (github.com/mikaelvesavuori/
    # cloud-sla) and cloudonaut.io's table, not from each service's own page: they are the
    # commonly published figures, cited to AWS's SLA index.
    Sla("sqs", "Amazon SQS", 0.999, "the service in a region", _SLA_INDEX),
    Sla("sns", "Amazon SNS", 0.999, "the service in a region", _SLA_INDEX),
    Sla("eventbridge", "Amazon EventBridge", 0.9999, "the service in a region", _SLA_INDEX),
    Sla(
        "lambda",
        "AWS Lambda",
        0.9995,
        "the service in a region",
        "https://aws.amazon.com/lambda/sla/",
    ),
    Sla("s3", "Amazon S3 (Standard)", 0.999, "the service in a region", _SLA_INDEX),
    Sla("dynamodb", "Amazon DynamoDB", 0.9999, "a table (standard SLA)", _SLA_INDEX),
    Sla("kinesis", "Amazon Kinesis Data Streams", 0.999, "the service in a region", _SLA_INDEX),
    Sla("firehose", "Amazon Data Firehose", 0.999, "the service in a region", _SLA_INDEX),
    Sla("glue", "AWS Glue", 0.999, "the service in a region", _SLA_INDEX),
    Sla("api-gateway", "Amazon API Gateway", 0.9995, "the service in a region", _SLA_INDEX),
    Sla(
        "waf",
        "AWS WAF",
        0.9995,
        "the service in a region",
        "https://aws.amazon.com/waf/sla/",
    ),
    Sla(
        "cloudwatch",
        "Amazon CloudWatch",
        0.999,
        "metrics, logs ingestion and alarms in a region",
        _SLA_INDEX,
    ),
)
"""The published SLAs by key, as read on ``SLA_TABLE_DATE``."""

NO_SLA = "none"
"""The key of a resource that is not a stage of a journey (the caller, the network)."""

_NOT_STAGES: frozenset[Kind] = frozenset(
    {"service", "security_group", "subnet", "network", "gateway", "alarm"}
)
"""Kinds that carry no SLA of their own: the caller (``service``), the network around the
resources (security groups, subnets, VPCs, internet gateways), and alarms, which watch a
journey without being on it."""

_BY_KIND: Mapping[Kind, str] = {
    "instance": "ec2-instance",
    "queue": "sqs",
    "topic": "sns",
    "event_bus": "eventbridge",
    "function": "lambda",
    "bucket": "s3",
    "table": "dynamodb",
    "stream": "kinesis",
    "delivery_stream": "firehose",
    "catalog": "glue",
    "api": "api-gateway",
    "web_acl": "waf",
}


def sla_key(resource: Resource) -> str:
    """The key in ``SLAS`` that applies to ``resource``, or ``NO_SLA``.

    - a load balancer in one known zone: ``elb-single``; otherwise ``elb`` (zones not known
      are taken as the usual two or more);
    - an instance group: ``ec2-region`` when at least two instances run over at least two
      zones, else ``ec2-instance``: one copy, or all copies in one zone, is one failure away;
    - a database: Aurora or RDS, Multi-AZ when ``multi_zone`` is set;
    - a cache: Multi-AZ when it fails over automatically (``failover``), else Single-AZ.
    """
    kind = resource.kind
    if kind in _NOT_STAGES:
        return NO_SLA
    if kind == "load_balancer":
        return "elb-single" if len(resource.zones) == 1 else "elb"
    if kind == "instance_group":
        spread = resource.count >= 2 and len(set(resource.zones)) >= 2
        return "ec2-region" if spread else "ec2-instance"
    if kind == "database":
        engine = "aurora" if resource.prop("aurora", False) else "rds"
        deployment = "multi-az" if resource.prop("multi_zone", False) else "single"
        return f"{engine}-{deployment}"
    if kind == "cache":
        return "elasticache-multi-az" if resource.prop("failover", False) else "elasticache-single"
    return _BY_KIND[kind]


def resource_availability(resource: Resource) -> tuple[float, str]:
    """The availability of one resource and the key of the SLA it comes from.

    A resource that is not a stage (``sla_key`` gives ``NO_SLA``) is ``(1.0, "none")``, so it
    leaves a journey's product unchanged.
    """
    key = sla_key(resource)
    if key == NO_SLA:
        return 1.0, NO_SLA
    return SLAS[key].availability, key


def series(values: Iterable[float]) -> float:
    """Availability of components that must all be up: the product (1.0 for none)."""
    return math.prod(_checked(values))


def parallel(values: Iterable[float]) -> float:
    """Availability of redundant components, any one of which suffices: ``1 - prod(1 - a)``.

    No components at all is not a stage, so it raises ``ValueError``.
    """
    checked = _checked(values)
    if not checked:
        raise ValueError("a parallel stage needs at least one component")
    return 1.0 - math.prod(1.0 - value for value in checked)


def _checked(values: Iterable[float]) -> list[float]:
    checked = list(values)
    for value in checked:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"an availability is a fraction between 0 and 1, not {value!r}")
    return checked


@dataclass(frozen=True)
class StageAvailability:
    resources: tuple[str, ...]
    availability: float
    sla: tuple[str, ...]
    """The SLA key of each resource, in the order of ``resources``."""


@dataclass(frozen=True)
class JourneyAvailability:
    name: str
    availability: float
    weakest: str
    """The resource id of the least available stage (the first resource of a parallel one; the
    earliest stage on a tie). Empty for a journey without stages."""
    stages: tuple[StageAvailability, ...]


def journey_availability(arch: Architecture, journey: Journey) -> JourneyAvailability:
    """The composite availability of ``journey``: its stages in series, the resources of each
    stage in parallel, each resource from ``resource_availability``.

    A resource id the architecture does not have raises ``ValueError`` naming the journey.
    """
    stages: list[StageAvailability] = []
    for ids in journey.stages:
        if not ids:
            raise ValueError(f"journey {journey.name!r} has an empty stage")
        figures: list[tuple[float, str]] = []
        for resource_id in ids:
            resource = arch.resources.get(resource_id)
            if resource is None:
                raise ValueError(
                    f"journey {journey.name!r} names {resource_id!r}, which is not a resource "
                    f"of {arch.name!r}"
                )
            figures.append(resource_availability(resource))
        stages.append(
            StageAvailability(
                resources=tuple(ids),
                availability=parallel(value for value, _ in figures),
                sla=tuple(key for _, key in figures),
            )
        )
    weakest = min(stages, key=lambda stage: stage.availability, default=None)
    return JourneyAvailability(
        name=journey.name,
        availability=series(stage.availability for stage in stages),
        weakest=weakest.resources[0] if weakest is not None else "",
        stages=tuple(stages),
    )
