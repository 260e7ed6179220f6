"""The architecture as data: nodes, typed edges, zones, placement and a deployment profile.

A system declares its topology once, in code; the runtime starts what it says, and the views
(status, console diagram, reviewer) read it instead of describing the system again. Every model
is a pydantic model, so a topology validates itself when built and serialises to JSON.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$"
HANDLER = r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"
"""A handler is named by import path, ``package.module:callable``, so any process can load it."""

Placement = Literal["public", "private"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TargetTracking(Model):
    """Scale on backlog per worker (visible messages / workers), as AWS recommends for queues:
    the target is how many messages one worker may have waiting and still meet the latency."""

    acceptable_latency_s: float = Field(gt=0)
    processing_time_s: float = Field(gt=0)
    scale_out_cooldown_s: float = Field(default=5.0, ge=0)
    scale_in_cooldown_s: float = Field(default=15.0, ge=0)

    @property
    def target_backlog_per_worker(self) -> float:
        return self.acceptable_latency_s / self.processing_time_s


class NodeBase(Model):
    id: str = Field(pattern=NAME)
    label: str = ""
    zone: str | None = None
    """One zone's name, for nodes that live in one zone; None for regional services."""
    placement: Placement = "private"


class Service(NodeBase):
    """Something outside the system that calls into it (a client, "System A")."""

    kind: Literal["service"] = "service"
    placement: Placement = "public"


class Api(NodeBase):
    """An HTTP API. With ``app`` (``package.module:callable`` returning an ASGI app) the runtime
    serves it on 127.0.0.1:``port`` and lists it under the node's id in ``endpoints``."""

    kind: Literal["api"] = "api"
    placement: Placement = "public"
    routes: tuple[str, ...] = ()
    app: str | None = Field(default=None, pattern=HANDLER)
    port: int = Field(default=8081, ge=1, le=65535)


class RequestTracking(Model):
    """Scale an HTTP instance group on requests per target (ALB's RequestCountPerTarget): the
    group is sized so that each instance gets about ``requests_per_target_per_s``."""

    requests_per_target_per_s: float = Field(gt=0)
    scale_out_cooldown_s: float = Field(default=10.0, ge=0)
    scale_in_cooldown_s: float = Field(default=30.0, ge=0)


class HealthCheck(Model):
    """A target group's health check (Elastic Load Balancing's settings, shorter defaults:
    AWS checks every 30 s and wants 5 passes; a local fleet can afford to look every second)."""

    path: str = Field(default="/health", pattern=r"^/")
    interval_s: float = Field(default=1.0, gt=0)
    timeout_s: float = Field(default=0.5, gt=0)
    healthy_threshold: int = Field(default=2, ge=1, le=10)
    unhealthy_threshold: int = Field(default=2, ge=1, le=10)
    grace_period_s: float = Field(default=15.0, ge=0)
    """The auto scaling group's health check grace period: a new instance is not replaced
    for failing checks before it has had this long to start."""
    deregistration_delay_s: float = Field(default=5.0, ge=0)
    """How long a draining instance may finish its requests before it is stopped."""


class WafPolicy(Model):
    """The web ACL in front of a load balancer (see archlab.runtime.balancer.waf)."""

    block_cidrs: tuple[str, ...] = ()
    max_body_bytes: int = Field(default=1_048_576, ge=0)
    rate_per_s: float = Field(default=100.0, ge=0)
    burst: int = Field(default=1_000, ge=1)
    mode: Literal["block", "count"] = "block"


class Route(Model):
    """A listener rule: requests whose path starts with ``path_prefix`` go to ``target``."""

    path_prefix: str = Field(pattern=r"^/")
    target: str


class LoadBalancer(NodeBase):
    """An HTTP load balancer on ``port``: the longest matching route's instance group gets
    a request, else ``default_target``. Public ones listen on the public address (settings),
    private ones (internal load balancers) on loopback."""

    kind: Literal["load_balancer"] = "load_balancer"
    placement: Placement = "public"
    port: int = Field(default=8000, ge=1, le=65535)
    default_target: str | None = None
    routes: tuple[Route, ...] = ()
    waf: WafPolicy | None = None
    access_logs: bool = True

    @property
    def targets(self) -> list[str]:
        """The instance groups it sends requests to."""
        named = [route.target for route in self.routes]
        if self.default_target:
            named.append(self.default_target)
        return list(dict.fromkeys(named))


class InstanceGroup(NodeBase):
    """Processes running one program: with ``handler``, consumers of a queue when a
    ``triggers`` edge says so, scaled on backlog when ``scaling`` is given; with ``app`` (an
    ASGI app factory), HTTP instances behind the load balancers that route to the group, each
    on a port of its own, health-checked, scaled on requests per target with
    ``request_scaling``. Either way between ``min_size`` and ``max_size``."""

    kind: Literal["instance_group"] = "instance_group"
    handler: str | None = Field(default=None, pattern=HANDLER)
    app: str | None = Field(default=None, pattern=HANDLER)
    min_size: int = Field(default=1, ge=0)
    max_size: int = Field(default=1, ge=1)
    desired: int | None = Field(default=None, ge=0)
    scaling: TargetTracking | None = None
    request_scaling: RequestTracking | None = None
    health_check: HealthCheck = Field(default_factory=HealthCheck)
    zones: tuple[str, ...] = ()
    """The zones the group spreads over (empty: the topology's zones)."""
    environment: dict[str, str] = Field(default_factory=dict)
    """Environment variables set in each HTTP instance (over the supervisor's own)."""

    @model_validator(mode="after")
    def _sizes(self) -> InstanceGroup:
        if self.min_size > self.max_size:
            raise ValueError(f"min_size {self.min_size} exceeds max_size {self.max_size}")
        if self.desired is not None and not self.min_size <= self.desired <= self.max_size:
            raise ValueError(f"desired {self.desired} is outside {self.min_size}..{self.max_size}")
        if (self.handler is None) == (self.app is None):
            raise ValueError(f"instance group {self.id}: give a handler or an app, not both")
        if self.app is None and self.request_scaling is not None:
            raise ValueError(f"instance group {self.id}: request_scaling needs an app")
        return self

    @property
    def initial_size(self) -> int:
        return self.min_size if self.desired is None else self.desired


class Function(NodeBase):
    kind: Literal["function"] = "function"
    handler: str = Field(pattern=HANDLER)
    timeout_s: float = Field(default=30.0, gt=0)
    schedule_s: float | None = Field(default=None, gt=0)
    """Invoke every this many seconds (an EventBridge rate schedule), besides any trigger."""


class Queue(NodeBase):
    kind: Literal["queue"] = "queue"
    attributes: dict[str, str] = Field(default_factory=dict)
    """SQS attributes (VisibilityTimeout, FifoQueue, MaxPriority, ...)."""
    dead_letter: str | None = None
    """The id of this queue's dead-letter queue node."""
    max_receive_count: int = Field(default=3, ge=1, le=1000)


class Topic(NodeBase):
    kind: Literal["topic"] = "topic"


class EventBus(NodeBase):
    kind: Literal["event_bus"] = "event_bus"


class Bucket(NodeBase):
    """Objects by key. ``storage="database"`` keeps them as BLOBs in the database that holds
    the system's tables instead of an object store: the design the notes warn against, run so
    that its cost can be measured."""

    kind: Literal["bucket"] = "bucket"
    storage: Literal["object-store", "database"] = "object-store"


class Table(NodeBase):
    kind: Literal["table"] = "table"
    partition_key: str = "id"
    sort_key: str | None = None


class Stream(NodeBase):
    kind: Literal["stream"] = "stream"
    shards: int = Field(default=1, ge=1)


class DeliveryStream(NodeBase):
    kind: Literal["delivery_stream"] = "delivery_stream"
    buffer_mb: float = Field(default=5.0, gt=0)
    buffer_interval_s: float = Field(default=300.0, gt=0)


class Catalog(NodeBase):
    kind: Literal["catalog"] = "catalog"


class Database(NodeBase):
    kind: Literal["database"] = "database"
    read_replicas: int = Field(default=0, ge=0)
    multi_zone: bool = False
    engine: str = ""
    """What it runs on, for the views (``sqlite``, ``postgresql``); the URL is the system's."""
    schema_migration: str | None = Field(default=None, pattern=HANDLER)
    """A callable that brings the schema up to date (Alembic's upgrade head): run once by the
    supervisor before any instance starts."""


class Cache(NodeBase):
    kind: Literal["cache"] = "cache"
    multi_zone: bool = False
    """Deployed with a replica in another zone and automatic failover (the design's intent,
    read by the reviewer; locally one cache plays both)."""


Node = Annotated[
    Service
    | Api
    | LoadBalancer
    | InstanceGroup
    | Function
    | Queue
    | Topic
    | EventBus
    | Bucket
    | Table
    | Stream
    | DeliveryStream
    | Catalog
    | Database
    | Cache,
    Field(discriminator="kind"),
]


class Trigger(Model):
    """How a queue or a stream feeds a function or instance group (a Lambda event source
    mapping). From a queue a batch is at most 10 messages; from a stream, 10,000 records of
    one shard, read from ``starting_position`` the first time and from the mapping's
    checkpoint after that."""

    batch_size: int = Field(default=10, ge=1, le=10_000)
    batching_window_s: float = Field(default=0.0, ge=0, le=300)
    max_concurrency: int = Field(default=2, ge=1)
    report_batch_item_failures: bool = True
    starting_position: Literal["TRIM_HORIZON", "LATEST"] = "TRIM_HORIZON"


class Edge(Model):
    """A typed connection. ``subscribes`` goes from a topic or bus to its subscriber, with the
    topic's filter policy or the bus rule's event pattern; ``triggers`` from a queue (or topic,
    bus) to what it runs; ``publishes`` from a bucket to a queue carries its object-created
    events."""

    source: str
    target: str
    kind: Literal["calls", "publishes", "subscribes", "triggers", "reads", "writes"]
    filter_policy: dict[str, Any] | None = None
    raw_delivery: bool = True
    event_pattern: dict[str, Any] | None = None
    rule: str | None = Field(default=None, pattern=NAME)
    trigger: Trigger | None = None
    key_prefix: str | None = None
    """From a bucket: only objects under this prefix send their events along the edge."""
    label: str = ""


class UserJourney(Model):
    """Something a user does, as the nodes it passes through in order (in series): what the
    reviewer computes composite availability over and looks for single points of failure on."""

    name: str = Field(min_length=1, max_length=80)
    path: tuple[str, ...] = Field(min_length=1)


class Profile(Model):
    """How a topology is deployed: its name, the zones, and the knobs the reviewer reads
    (dead-letter queues, alarms, ...). Replicas are the instance groups' sizes; the engine is
    the one archlab is configured with (ARCHLAB_MESSAGING_URL)."""

    name: str = Field(pattern=NAME)
    description: str = ""
    zones: tuple[str, ...] = ("zone-a", "zone-b")
    knobs: dict[str, Any] = Field(default_factory=dict)


class Topology(Model):
    system: str = Field(pattern=NAME)
    description: str = ""
    profile: Profile
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...] = ()
    journeys: tuple[UserJourney, ...] = ()

    @model_validator(mode="after")
    def _references(self) -> Topology:
        ids = [node.id for node in self.nodes]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"node ids must be unique; repeated: {', '.join(duplicates)}")
        known = set(ids)
        for edge in self.edges:
            for end in (edge.source, edge.target):
                if end not in known:
                    raise ValueError(f"edge {edge.source} -> {edge.target}: no node {end!r}")
        by_id = self.nodes_by_id
        for node in self.nodes:
            dead_letter = node.dead_letter if isinstance(node, Queue) else None
            if dead_letter is not None and not isinstance(by_id.get(dead_letter), Queue):
                raise ValueError(f"queue {node.id}: dead_letter {dead_letter!r} is not a queue")
            zones = [node.zone] if node.zone else []
            if isinstance(node, InstanceGroup):
                zones += node.zones
            for zone in zones:
                if zone not in self.profile.zones:
                    raise ValueError(f"node {node.id}: zone {zone!r} is not in the profile's zones")
        for balancer in self.of_kind(LoadBalancer):
            for target in balancer.targets:
                group = by_id.get(target)
                if not isinstance(group, InstanceGroup) or group.app is None:
                    raise ValueError(
                        f"load balancer {balancer.id}: {target!r} is not an instance group "
                        "with an app"
                    )
            if not balancer.targets:
                raise ValueError(f"load balancer {balancer.id}: no default_target and no routes")
        for edge in self.edges:
            self._check_edge(edge)
        for journey in self.journeys:
            for step in journey.path:
                if step not in known:
                    raise ValueError(f"journey {journey.name!r}: no node {step!r}")
        return self

    def _check_edge(self, edge: Edge) -> None:
        source, target = self.nodes_by_id[edge.source], self.nodes_by_id[edge.target]
        where = f"edge {edge.source} -> {edge.target}"
        if edge.kind == "subscribes" and not isinstance(source, Topic | EventBus):
            raise ValueError(f"{where}: only a topic or an event bus has subscribers")
        if edge.kind == "subscribes" and isinstance(source, EventBus) and not edge.event_pattern:
            raise ValueError(f"{where}: a bus subscription needs an event_pattern (its rule)")
        if edge.kind == "triggers" and not isinstance(target, Function | InstanceGroup):
            raise ValueError(f"{where}: a trigger runs a function or an instance group")
        if edge.kind == "triggers" and not isinstance(
            source, Queue | Topic | EventBus | Bucket | Stream
        ):
            raise ValueError(f"{where}: a trigger comes from a queue, topic, bus, bucket or stream")
        if isinstance(source, Queue) and edge.trigger and edge.trigger.batch_size > 10:
            raise ValueError(f"{where}: a batch from a queue is at most 10 messages")
        if (
            isinstance(source, Stream)
            and edge.kind == "triggers"
            and isinstance(target, InstanceGroup)
        ):
            raise ValueError(f"{where}: a stream triggers functions only")

    @property
    def nodes_by_id(self) -> dict[str, Node]:
        return {node.id: node for node in self.nodes}

    def node(self, node_id: str) -> Node:
        try:
            return self.nodes_by_id[node_id]
        except KeyError:
            raise KeyError(f"{self.system} has no node {node_id!r}") from None

    def edges_from(self, node_id: str, kind: str | None = None) -> list[Edge]:
        return [e for e in self.edges if e.source == node_id and kind in (None, e.kind)]

    def edges_to(self, node_id: str, kind: str | None = None) -> list[Edge]:
        return [e for e in self.edges if e.target == node_id and kind in (None, e.kind)]

    def of_kind(self, cls: type[NodeBase]) -> list[Any]:
        return [node for node in self.nodes if isinstance(node, cls)]

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)

    @classmethod
    def from_json(cls, text: str) -> Topology:
        return cls.model_validate_json(text)
