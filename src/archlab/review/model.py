"""What the reviewer reviews: an architecture as resources, links and user journeys.

An archlab topology (with its profile) and a CloudFormation template are both imported into
this one model (``from_topology``, ``cloudformation``), so that every check is written once
and runs on both. The model is flatter than the topology: a resource is a kind, the zones it
runs in, whether it is reachable from the internet, and a small set of *normalised*
properties (``PROPERTIES``) that each importer fills from what it knows; a property an
importer cannot know is left out, and a check that needs it says nothing rather than guess.

A journey is what a user does (browse, check out, publish a purchase): a path of stages in
series, each stage one or more resources in parallel, as composite availability needs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal[
    "service",
    "api",
    "load_balancer",
    "instance",
    "instance_group",
    "function",
    "queue",
    "topic",
    "event_bus",
    "bucket",
    "table",
    "stream",
    "delivery_stream",
    "catalog",
    "database",
    "cache",
    "security_group",
    "network",
    "subnet",
    "gateway",
    "alarm",
    "web_acl",
]
KINDS: tuple[Kind, ...] = Kind.__args__  # type: ignore[attr-defined]

PROPERTIES: Mapping[str, Mapping[str, str]] = {
    "load_balancer": {
        "internet_facing": "bool: reachable from the internet",
        "waf": "bool: a web ACL is associated",
        "https": "bool: a listener serves HTTPS",
        "http_redirects": "bool: every plain-HTTP listener redirects to HTTPS",
        "access_logs": "bool",
    },
    "instance_group": {
        "min_size": "int",
        "max_size": "int",
        "health_check": "'elb' (the load balancer's checks replace instances) or 'ec2'",
        "scaling": "None, 'backlog' (target tracking on a queue), 'requests', 'cpu' or 'other'",
        "http": "bool: serves HTTP behind a load balancer (else: a consumer)",
    },
    "instance": {"http": "bool"},
    "function": {"scaling": "'backlog' when an event source mapping scales it on a queue"},
    "queue": {
        "dead_letter": "str | None: the dead-letter queue's resource id",
        "is_dead_letter": "bool: some queue sends its failures here",
        "priorities": "bool: messages carry priorities (MaxPriority)",
        "encrypted": "bool",
    },
    "topic": {"encrypted": "bool"},
    "bucket": {
        "public_access_block": "bool: all four public-access settings on",
        "encrypted": "bool",
        "versioning": "bool",
        "access_logs": "bool",
        "storage": "'object-store' or 'database'",
    },
    "table": {"point_in_time_recovery": "bool", "encrypted": "bool"},
    "stream": {"shards": "int", "encrypted": "bool"},
    "database": {
        "multi_zone": "bool",
        "read_replicas": "int",
        "encrypted": "bool",
        "backup_retention_days": "int",
        "publicly_accessible": "bool",
        "engine": "str",
        "aurora": "bool",
    },
    "cache": {
        "failover": "bool: automatic failover to a replica in another zone",
        "encrypted": "bool",
    },
    "security_group": {
        "ingress": "list of {'cidr': str, 'from_port': int, 'to_port': int, 'protocol': str}",
    },
    "subnet": {"public": "bool: routes to an internet gateway"},
    "alarm": {"metric": "str"},
}
"""The normalised properties, by kind, with what they mean. Importers set only these keys."""

LinkKind = Literal[
    "calls",
    "publishes",
    "subscribes",
    "triggers",
    "reads",
    "writes",
    "routes",
    "protects",
    "monitors",
    "secures",
    "contains",
]
"""``calls``..``writes`` as in the topology; ``routes``: a load balancer to its targets;
``protects``: a web ACL to a load balancer; ``monitors``: an alarm to what it watches;
``secures``: a security group to what it is attached to; ``contains``: a subnet to what runs
in it."""


@dataclass(frozen=True)
class Resource:
    id: str
    """The topology node's id, or the template's logical id."""
    kind: Kind
    label: str = ""
    source_type: str = ""
    """What it was imported from: ``archlab:<node kind>`` or the CloudFormation type."""
    zones: tuple[str, ...] = ()
    """The zones it runs in (empty: a regional service, or not known)."""
    count: int = 1
    """How many copies run (instances of a group at their desired size, cache nodes)."""
    public: bool = False
    """Placed where the internet reaches it (a public subnet, an internet-facing endpoint)."""
    properties: Mapping[str, Any] = field(default_factory=dict)

    def prop(self, name: str, default: Any = None) -> Any:
        return self.properties.get(name, default)


@dataclass(frozen=True)
class Link:
    source: str
    target: str
    kind: LinkKind


@dataclass(frozen=True)
class Journey:
    """A user journey: ``stages`` in series, each a tuple of resource ids in parallel."""

    name: str
    stages: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Architecture:
    name: str
    """The system (``storefront``) or the template's file name."""
    origin: Literal["archlab", "cloudformation"]
    resources: Mapping[str, Resource]
    links: tuple[Link, ...] = ()
    journeys: tuple[Journey, ...] = ()
    profile: str | None = None
    knobs: Mapping[str, Any] = field(default_factory=dict)
    """The profile's knobs (archlab), or the template's resolved parameters."""
    unknown: tuple[tuple[str, str], ...] = ()
    """Resources that were not imported: (logical id, type)."""

    def of_kind(self, *kinds: Kind) -> list[Resource]:
        return [resource for resource in self.resources.values() if resource.kind in kinds]

    def links_from(self, resource_id: str, *kinds: LinkKind) -> list[Link]:
        return [
            link
            for link in self.links
            if link.source == resource_id and (not kinds or link.kind in kinds)
        ]

    def links_to(self, resource_id: str, *kinds: LinkKind) -> list[Link]:
        return [
            link
            for link in self.links
            if link.target == resource_id and (not kinds or link.kind in kinds)
        ]

    def neighbours(self, resource_id: str, *kinds: LinkKind) -> list[Resource]:
        """The resources linked to ``resource_id`` either way."""
        ends = [link.target for link in self.links_from(resource_id, *kinds)]
        ends += [link.source for link in self.links_to(resource_id, *kinds)]
        return [self.resources[end] for end in dict.fromkeys(ends) if end in self.resources]


Pillar = Literal[
    "operational-excellence",
    "security",
    "reliability",
    "performance-efficiency",
    "cost-optimization",
]
PILLARS: tuple[Pillar, ...] = Pillar.__args__  # type: ignore[attr-defined]
Severity = Literal["high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("high", "medium", "low")


@dataclass(frozen=True)
class Finding:
    id: str
    """The check's id (``REL-SPOF``), the same for every finding of one check."""
    pillar: Pillar
    severity: Severity
    title: str
    resources: tuple[str, ...]
    evidence: Mapping[str, Any]
    """The properties that made the check fire, by resource id when there are several."""
    best_practice: str
    """The Well-Architected best practice (``REL10-BP01``) it maps to."""
    remediation: str


def resource_ids(resources: Iterable[Resource]) -> tuple[str, ...]:
    return tuple(resource.id for resource in resources)
