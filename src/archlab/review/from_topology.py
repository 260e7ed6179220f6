"""An archlab topology, as deployed by its profile, in the reviewer's model.

Each node becomes one resource of the same kind and the same id, so that a finding names the
node the user sees in ``archlab up`` and in the console. What the topology declares is what
the reviewer reviews: a database is multi-zone because the profile deploys it so (locally one
engine plays it), an instance group runs in the zones it names (else in all of the profile's),
a public load balancer is internet-facing. What a topology cannot say (encryption at rest,
security groups, TLS certificates on AWS) is left out, so the checks that need it stay silent.

The load balancer a topology runs serves plain HTTP, so its HTTPS properties are false; its
web ACL, when it has one, becomes a ``web_acl`` resource that ``protects`` it, as a template's
WAFv2 association does.
"""

from __future__ import annotations

from typing import Any

from archlab.review.model import Architecture, Journey, Kind, Link, Resource
from archlab.topology import (
    Bucket,
    Cache,
    Database,
    Function,
    InstanceGroup,
    LoadBalancer,
    Queue,
    Stream,
    Topology,
)
from archlab.topology.model import Node


def from_topology(topology: Topology) -> Architecture:
    """The architecture ``topology`` describes, with its declared user journeys."""
    zones = topology.profile.zones
    dead_letter_queues = {
        node.dead_letter for node in topology.of_kind(Queue) if node.dead_letter is not None
    }
    queue_triggered = {
        edge.target
        for edge in topology.edges
        if edge.kind == "triggers" and isinstance(topology.node(edge.source), Queue)
    }
    resources: dict[str, Resource] = {}
    links: list[Link] = [Link(edge.source, edge.target, edge.kind) for edge in topology.edges]
    for node in topology.nodes:
        resources[node.id] = _resource(node, zones, dead_letter_queues, queue_triggered)
        if isinstance(node, LoadBalancer):
            links += [Link(node.id, target, "routes") for target in node.targets]
            if node.waf is not None:
                acl = f"{node.id}-waf"
                resources[acl] = Resource(
                    id=acl,
                    kind="web_acl",
                    label=f"web ACL ({node.waf.mode} mode)",
                    source_type="archlab:waf",
                    properties={"mode": node.waf.mode},
                )
                links.append(Link(acl, node.id, "protects"))
    journeys = tuple(
        Journey(journey.name, tuple((step,) for step in journey.path))
        for journey in topology.journeys
    )
    return Architecture(
        name=topology.system,
        origin="archlab",
        resources=resources,
        links=tuple(dict.fromkeys(links)),
        journeys=journeys,
        profile=topology.profile.name,
        knobs=dict(topology.profile.knobs),
    )


def _resource(
    node: Node,
    profile_zones: tuple[str, ...],
    dead_letter_queues: set[str],
    queue_triggered: set[str],
) -> Resource:
    kind: Kind = node.kind
    zones: tuple[str, ...] = (node.zone,) if node.zone else ()
    count = 1
    public = node.placement == "public"
    properties: dict[str, Any] = {}
    if isinstance(node, LoadBalancer):
        zones = zones or profile_zones
        properties = {
            "internet_facing": public,
            "waf": node.waf is not None,
            "https": False,
            "http_redirects": False,
            "access_logs": node.access_logs,
        }
    elif isinstance(node, InstanceGroup):
        zones = node.zones or profile_zones
        count = node.initial_size
        properties = {
            "min_size": node.min_size,
            "max_size": node.max_size,
            # The supervisor replaces an HTTP instance its load balancer finds unhealthy, and a
            # consumer only when its process dies (the EC2 status check).
            "health_check": "elb" if node.app is not None else "ec2",
            "scaling": _scaling(node),
            "http": node.app is not None,
        }
    elif isinstance(node, Function):
        if node.id in queue_triggered:
            properties = {"scaling": "backlog"}
    elif isinstance(node, Queue):
        properties = {
            "dead_letter": node.dead_letter,
            "is_dead_letter": node.id in dead_letter_queues,
            "priorities": "MaxPriority" in node.attributes,
        }
    elif isinstance(node, Bucket):
        properties = {"storage": node.storage}
    elif isinstance(node, Stream):
        properties = {"shards": node.shards}
    elif isinstance(node, Database):
        zones = profile_zones if node.multi_zone else (zones or profile_zones[:1])
        properties = {
            "multi_zone": node.multi_zone,
            "read_replicas": node.read_replicas,
            "publicly_accessible": public,
            "engine": node.engine,
            "aurora": False,
        }
    elif isinstance(node, Cache):
        zones = profile_zones if node.multi_zone else (zones or profile_zones[:1])
        count = 2 if node.multi_zone else 1
        properties = {"failover": node.multi_zone}
    return Resource(
        id=node.id,
        kind=kind,
        label=node.label or node.id,
        source_type=f"archlab:{node.kind}",
        zones=tuple(zones),
        count=count,
        public=public,
        properties=properties,
    )


def _scaling(group: InstanceGroup) -> str | None:
    if group.scaling is not None:
        return "backlog"
    if group.request_scaling is not None:
        return "requests"
    return None
