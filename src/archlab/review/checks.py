"""The reviewer's checks: what each pillar asks of a design, as rules over the review model.

Every check has an id, a pillar, the Well-Architected best practice it maps to (``FRAMEWORK``
names the version) and the severity it reports at most. A check reads only the normalised
properties (``model.PROPERTIES``); when a property was not imported it says nothing rather
than guess. Severity follows the user: a weakness on a synchronous user journey (the user
waits on it) is *high*, the same weakness behind a queue or a stream (the work waits, the
user does not) or off every journey is *medium*.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from archlab.review import graph
from archlab.review.model import (
    Architecture,
    Finding,
    Journey,
    Kind,
    Pillar,
    Resource,
    Severity,
)
from archlab.review.pricing import PRICES

FRAMEWORK = "AWS Well-Architected Framework, 2024-06-27"

COMPUTE: tuple[Kind, ...] = ("instance", "instance_group")
WEB_PORTS = frozenset({80, 443})
SENSITIVE_PORTS = frozenset({22, 3389, 1433, 3306, 5432, 6379, 9200, 11211, 27017})
"""Remote administration and data stores: open to the world, one of these is an attack path."""
WORLD = frozenset({"0.0.0.0/0", "::/0"})


@dataclass(frozen=True)
class CheckInfo:
    id: str
    pillar: Pillar
    severity: Severity
    """The most severe finding the check reports."""
    title: str
    best_practice: str
    """The best practice's id and name in ``FRAMEWORK``."""


class Context:
    """One architecture with what the checks ask of it again and again: its journeys, which
    resources are on them, critical to them, waited on synchronously, watched by an alarm."""

    def __init__(self, arch: Architecture) -> None:
        self.arch = arch
        self.journeys: tuple[Journey, ...] = graph.journeys(arch)
        self.on = graph.on_journeys(arch, self.journeys)

    @cached_property
    def critical(self) -> dict[str, list[str]]:
        """Resource id -> the journeys it is critical to (they stop without it)."""
        found: dict[str, list[str]] = {}
        for journey in self.journeys:
            for resource_id in sorted(graph.critical(journey)):
                found.setdefault(resource_id, []).append(journey.name)
        return found

    @cached_property
    def synchronous(self) -> set[str]:
        """The resources some journey waits on: on it and not behind a buffer."""
        waited: set[str] = set()
        for journey in self.journeys:
            behind = graph.asynchronous(self.arch, journey)
            waited.update(r for stage in journey.stages for r in stage if r not in behind)
        return waited

    @cached_property
    def alarmed(self) -> set[str]:
        return {link.target for link in self.arch.links if link.kind == "monitors"}

    def severity(self, resource_id: str) -> Severity:
        return "high" if resource_id in self.synchronous else "medium"

    def consumers(self, source_id: str) -> list[Resource]:
        return [
            self.arch.resources[link.target]
            for link in self.arch.links_from(source_id, "triggers")
            if link.target in self.arch.resources
        ]

    def journeys_through(self, *resource_ids: str) -> list[str]:
        return [
            journey.name
            for journey in self.journeys
            if all(any(r in stage for stage in journey.stages) for r in resource_ids)
        ]

    def fed_queues(self) -> list[Resource]:
        """The queues work arrives on (not the dead-letter queues that catch what failed)."""
        return [q for q in self.arch.of_kind("queue") if not q.prop("is_dead_letter")]


Rule = Callable[[Context], Iterator[Finding]]


@dataclass(frozen=True)
class Check:
    info: CheckInfo
    rule: Rule


CHECKS: dict[str, Check] = {}


def check(
    check_id: str, pillar: Pillar, severity: Severity, title: str, best_practice: str
) -> Callable[[Callable[[Context, CheckInfo], Iterator[Finding]]], Rule]:
    """Register a rule under its id; the rule gets its own ``CheckInfo`` to report with."""

    def register(function: Callable[[Context, CheckInfo], Iterator[Finding]]) -> Rule:
        info = CheckInfo(check_id, pillar, severity, title, best_practice)

        def rule(context: Context) -> Iterator[Finding]:
            return function(context, info)

        CHECKS[check_id] = Check(info, rule)
        return rule

    return register


def finding(
    info: CheckInfo,
    resources: Iterable[str],
    title: str,
    evidence: Mapping[str, Any],
    remediation: str,
    severity: Severity | None = None,
) -> Finding:
    return Finding(
        id=info.id,
        pillar=info.pillar,
        severity=severity or info.severity,
        title=title,
        resources=tuple(resources),
        evidence=dict(evidence),
        best_practice=info.best_practice,
        remediation=remediation,
    )


def run_checks(
    arch: Architecture, only: Iterable[str] | None = None, context: Context | None = None
) -> list[Finding]:
    """Every check's findings on ``arch`` (or those of the checks in ``only``), most severe
    first, then by check and resource; ``context`` is ``arch``'s, when the caller has it."""
    context = context or Context(arch)
    chosen = CHECKS if only is None else {i: CHECKS[i] for i in only}
    found = [f for entry in chosen.values() for f in entry.rule(context)]
    rank = {"high": 0, "medium": 1, "low": 2}
    return sorted(found, key=lambda f: (rank[f.severity], f.id, f.resources))


def _named(resource: Resource) -> str:
    """``database orders``, or just ``database`` when the id already says what it is."""
    kind = resource.kind.replace("_", " ")
    return resource.id if kind in resource.id.replace("-", " ") else f"{kind} {resource.id}"


def _journeys(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{len(names)} journeys"


# -- reliability ------------------------------------------------------------------------


@check(
    "REL-SPOF",
    "reliability",
    "high",
    "A single point of failure on a user journey",
    "REL10-BP01 Deploy the workload to multiple locations",
)
def _single_point_of_failure(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for resource_id, names in context.critical.items():
        resource = context.arch.resources[resource_id]
        if resource.kind not in COMPUTE:
            continue
        floor = resource.prop("min_size", resource.count)
        copies = min(resource.count, floor)
        if copies >= 2:
            continue
        buffered = resource_id not in context.synchronous
        yield finding(
            info,
            [resource_id],
            f"{resource_id} is a single point of failure on {_journeys(names)}"
            + (" (its queue holds the work meanwhile)" if buffered else ""),
            {"count": resource.count, "min_size": resource.prop("min_size"), "journeys": names},
            "Run at least two copies in different zones (an auto scaling group with a minimum"
            " of two across two zones), so that losing one instance does not stop the journey.",
            context.severity(resource_id),
        )


@check(
    "REL-ONE-ZONE",
    "reliability",
    "high",
    "A user journey depends on compute in one zone",
    "REL10-BP01 Deploy the workload to multiple locations",
)
def _one_zone(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for resource_id, names in context.critical.items():
        resource = context.arch.resources[resource_id]
        if resource.kind not in COMPUTE or len(resource.zones) != 1:
            continue
        yield finding(
            info,
            [resource_id],
            f"{resource_id} runs in one zone ({resource.zones[0]}) only: an outage there stops"
            f" {_journeys(names)}",
            {"zones": list(resource.zones), "journeys": names},
            "Spread it over at least two zones (subnets in two zones for the group), with"
            " enough capacity in each to carry the load when the other is lost.",
            context.severity(resource_id),
        )


@check(
    "REL-LB-ZONES",
    "reliability",
    "high",
    "A load balancer in fewer than two zones",
    "REL10-BP01 Deploy the workload to multiple locations",
)
def _load_balancer_zones(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for lb in context.arch.of_kind("load_balancer"):
        if lb.zones and len(lb.zones) < 2:
            yield finding(
                info,
                [lb.id],
                f"{_named(lb)} is enabled in one zone only ({lb.zones[0]})",
                {"zones": list(lb.zones)},
                "Enable the load balancer in subnets of at least two zones, the zones its"
                " targets run in.",
            )


@check(
    "REL-ASG-HEALTH",
    "reliability",
    "high",
    "An auto scaling group behind a load balancer replaces instances on EC2 checks only",
    "REL11-BP03 Automate healing on all layers",
)
def _group_health_checks(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for group in context.arch.of_kind("instance_group"):
        if group.prop("http") and group.prop("health_check") == "ec2":
            yield finding(
                info,
                [group.id],
                f"{group.id} serves HTTP but keeps instances the load balancer finds unhealthy",
                {"health_check": "ec2", "http": True},
                "Set the group's health check type to ELB, so that an instance whose"
                " application fails the load balancer's checks is replaced, not just taken out"
                " of rotation.",
                context.severity(group.id) if group.id in context.on else "medium",
            )


@check(
    "REL-DB-MULTI-AZ",
    "reliability",
    "high",
    "A database in one zone, without a standby to fail over to",
    "REL11-BP02 Fail over to healthy resources",
)
def _database_multi_zone(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for database in context.arch.of_kind("database"):
        if database.prop("multi_zone") is not False:
            continue
        replicas = database.prop("read_replicas") or 0
        names = context.on.get(database.id, [])
        severity: Severity = "high" if names and not replicas else "medium"
        where = f"on {_journeys(names)}" if names else "off every user journey"
        yield finding(
            info,
            [database.id],
            f"{_named(database)} runs in one zone with no standby ({where})"
            + (f"; {replicas} read replica(s) can be promoted by hand" if replicas else ""),
            {
                "multi_zone": False,
                "read_replicas": replicas,
                "zones": list(database.zones),
                "journeys": names,
            },
            "Make it Multi-AZ (or an Aurora cluster with a replica in another zone), so that a"
            " zone or instance failure fails over automatically in about a minute.",
            severity,
        )


@check(
    "REL-CACHE-FAILOVER",
    "reliability",
    "medium",
    "A cache without automatic failover",
    "REL11-BP02 Fail over to healthy resources",
)
def _cache_failover(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for cache in context.arch.of_kind("cache"):
        if cache.prop("failover") is False:
            yield finding(
                info,
                [cache.id],
                f"{_named(cache)} has no replica to fail over to: losing its node sends every"
                " read to the database at once",
                {"failover": False, "count": cache.count, "zones": list(cache.zones)},
                "Use a replication group with a replica in another zone and automatic failover"
                " (Multi-AZ) enabled.",
            )


@check(
    "REL-QUEUE-DLQ",
    "reliability",
    "high",
    "A queue without a dead-letter queue",
    "REL05-BP04 Fail fast and limit queues",
)
def _dead_letter_queue(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for queue in context.fed_queues():
        if "dead_letter" not in queue.properties or queue.prop("dead_letter") is not None:
            continue
        names = context.on.get(queue.id, [])
        yield finding(
            info,
            [queue.id],
            f"{_named(queue)} has no dead-letter queue: a message that always fails is retried"
            " until its retention ends, then lost",
            {"dead_letter": None, "journeys": names},
            "Give it a redrive policy to a dead-letter queue (a maxReceiveCount of 3 to 5) and"
            " alarm on that queue's depth.",
            "high" if names else "medium",
        )


@check(
    "REL-CONSUMER-BACKLOG",
    "reliability",
    "medium",
    "A queue's consumers do not scale on its backlog",
    "REL07-BP01 Use automation when obtaining or scaling resources",
)
def _consumer_backlog(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for queue in context.fed_queues():
        for consumer in context.consumers(queue.id):
            if consumer.kind not in COMPUTE or consumer.prop("scaling") == "backlog":
                continue
            if consumer.kind == "instance_group" and "scaling" not in consumer.properties:
                continue
            yield finding(
                info,
                [consumer.id, queue.id],
                f"{consumer.id} does not scale on the backlog of {queue.id}: a burst waits"
                " until the fixed fleet works through it",
                {"scaling": consumer.prop("scaling"), "count": consumer.count},
                "Scale the consumers with target tracking on the backlog per instance"
                " (ApproximateNumberOfMessagesVisible divided by the instances in service).",
            )


@check(
    "REL-BACKUPS",
    "reliability",
    "high",
    "Data without backups or point-in-time recovery",
    "REL09-BP03 Perform data backup automatically",
)
def _backups(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for database in context.arch.of_kind("database"):
        if database.prop("backup_retention_days") == 0:
            yield finding(
                info,
                [database.id],
                f"{_named(database)} keeps no automated backups",
                {"backup_retention_days": 0},
                "Set a backup retention period (7 days or more): it also enables point-in-time"
                " recovery to any second within it.",
            )
    for table in context.arch.of_kind("table"):
        if table.prop("point_in_time_recovery") is False:
            yield finding(
                info,
                [table.id],
                f"{_named(table)} has no point-in-time recovery",
                {"point_in_time_recovery": False},
                "Enable point-in-time recovery (35 days of continuous backups).",
                "medium",
            )
    for bucket in context.arch.of_kind("bucket"):
        if bucket.prop("versioning") is False:
            yield finding(
                info,
                [bucket.id],
                f"{_named(bucket)} is not versioned: an overwrite or a delete cannot be undone",
                {"versioning": False},
                "Enable versioning, with a lifecycle rule that expires old versions.",
                "low",
            )


@check(
    "REL-NO-AUTOSCALING",
    "reliability",
    "medium",
    "A tier that serves users does not scale",
    "REL07-BP01 Use automation when obtaining or scaling resources",
)
def _no_autoscaling(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for group in context.arch.of_kind("instance_group"):
        if not group.prop("http") or "scaling" not in group.properties:
            continue
        if group.prop("scaling") is None:
            names = context.on.get(group.id, [])
            yield finding(
                info,
                [group.id],
                f"{group.id} has no scaling policy: a traffic peak beyond its"
                f" {group.count} instance(s) fails instead of adding capacity",
                {
                    "scaling": None,
                    "min_size": group.prop("min_size"),
                    "max_size": group.prop("max_size"),
                },
                "Add target tracking on request count per target (or CPU), with a maximum"
                " above the usual size.",
                "medium" if names else "low",
            )


# -- performance efficiency -------------------------------------------------------------


@check(
    "PERF-PRIORITY-SHARED",
    "performance-efficiency",
    "high",
    "Priority lanes share one consumer pool",
    "PERF02-BP05 Scale your compute resources dynamically",
)
def _priority_lanes_shared(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for queue in context.fed_queues():
        if not queue.prop("priorities"):
            continue
        for consumer in context.consumers(queue.id):
            names = context.journeys_through(queue.id, consumer.id)
            if len(names) >= 2:
                yield finding(
                    info,
                    [queue.id, consumer.id],
                    f"{len(names)} journeys' messages share priority queue {queue.id} and one"
                    f" pool, {consumer.id}: a flood of low-priority work delays the urgent"
                    " work it is prioritised over",
                    {"priorities": True, "journeys": names, "pool": consumer.id},
                    "Give each priority its own queue and its own consumers, scaled on that"
                    " queue's backlog, so that the urgent lane's capacity is never borrowed.",
                )
    lanes: dict[str, list[str]] = {}
    for queue in context.fed_queues():
        for consumer in context.consumers(queue.id):
            if consumer.kind in COMPUTE:
                lanes.setdefault(consumer.id, []).append(queue.id)
    for consumer_id, queues in lanes.items():
        if len(queues) >= 2:
            yield finding(
                info,
                [*queues, consumer_id],
                f"queues {', '.join(queues)} are drained by the same pool, {consumer_id}",
                {"queues": queues, "pool": consumer_id},
                "Give each lane its own consumers, scaled on its own backlog.",
            )


@check(
    "PERF-DISPATCHER",
    "performance-efficiency",
    "high",
    "One dispatcher routes every message type",
    "PERF01-BP01 Learn about and understand available cloud services and features",
)
def _single_dispatcher(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for queue in context.fed_queues():
        if queue.prop("priorities"):
            continue
        consumers = context.consumers(queue.id)
        if len(consumers) != 1:
            continue
        consumer = consumers[0]
        # Declared journeys are kinds of work; derived ones are only paths (two producers
        # feeding one queue is fan-in, not a dispatcher), so they do not count here.
        names = context.journeys_through(queue.id, consumer.id) if context.arch.journeys else []
        outputs = [
            link.target
            for link in context.arch.links_from(consumer.id, "publishes", "writes", "calls")
            if context.arch.resources.get(link.target) is not None
            and context.arch.resources[link.target].kind in ("queue", "topic", "function")
        ]
        if len(names) < 2 and len(outputs) < 2:
            continue
        yield finding(
            info,
            [queue.id, consumer.id],
            f"{consumer.id} takes every message from {queue.id} and routes it in code"
            f" ({len(names) or len(outputs)} destinations): one slow type holds up the rest,"
            " and every new type changes the dispatcher",
            {"journeys": names, "routes_to": outputs, "consumer": consumer.id},
            "Route by content in the messaging layer: a topic with a filter policy per"
            " subscription (or event-bus rules) to one queue per type, each with its own"
            " consumers.",
        )


@check(
    "PERF-READ-PATH",
    "performance-efficiency",
    "medium",
    "A read path to a database with neither a cache nor a read replica",
    "PERF03-BP05 Implement data access patterns that utilize caching",
)
def _read_path(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for database in context.arch.of_kind("database"):
        if database.id not in context.synchronous or database.prop("read_replicas"):
            continue
        if "read_replicas" not in database.properties:
            continue
        readers = [
            link.source
            for link in context.arch.links_to(database.id, "reads", "writes", "calls")
            if link.source in context.arch.resources
        ]
        uncached = [
            reader
            for reader in readers
            if not any(n.kind == "cache" for n in context.arch.neighbours(reader, *graph.FLOW))
        ]
        if readers and len(uncached) == len(readers):
            yield finding(
                info,
                [database.id, *uncached],
                f"every read on {_journeys(context.on[database.id])} goes to"
                f" {_named(database)}: no cache in front of it and no replica beside it",
                {"readers": uncached, "read_replicas": 0, "cache": None},
                "Put a cache (ElastiCache) in front of the hot reads, or add read replicas"
                " and send the reads there.",
            )


@check(
    "PERF-BLOB-STORE",
    "performance-efficiency",
    "medium",
    "Objects stored in a database",
    "PERF03-BP01 Use a purpose-built data store that best supports your data access and"
    " storage requirements",
)
def _blob_store(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for bucket in context.arch.of_kind("bucket"):
        if bucket.prop("storage") == "database":
            yield finding(
                info,
                [bucket.id],
                f"{bucket.id} keeps its objects as rows in a database: every read and write of"
                " a file passes through the database's connections and memory",
                {"storage": "database"},
                "Keep objects in an object store (S3) and only their metadata in the table.",
            )


@check(
    "PERF-STREAM-SHARDS",
    "performance-efficiency",
    "low",
    "A stream on a user journey with one shard",
    "PERF02-BP05 Scale your compute resources dynamically",
)
def _stream_shards(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for stream in context.arch.of_kind("stream"):
        if stream.prop("shards") == 1 and stream.id in context.on:
            yield finding(
                info,
                [stream.id],
                f"{_named(stream)} has one shard: 1,000 records or 1 MB a second in, at most",
                {"shards": 1},
                "Size the shards for the peak rate (or use on-demand capacity mode).",
            )


# -- security ---------------------------------------------------------------------------


@check(
    "SEC-DB-PUBLIC",
    "security",
    "high",
    "A database or cache reachable from the internet",
    "SEC05-BP01 Create network layers",
)
def _database_public(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for store in context.arch.of_kind("database", "cache"):
        accessible = store.prop("publicly_accessible") is True
        if store.public or accessible:
            yield finding(
                info,
                [store.id],
                f"{_named(store)} is "
                + ("publicly accessible" if accessible else "in a public subnet"),
                {"publicly_accessible": store.prop("publicly_accessible"), "public": store.public},
                "Place it in private subnets (no route to an internet gateway), turn off public"
                " accessibility, and allow only the application tier's security group.",
            )


@check(
    "SEC-APP-PUBLIC",
    "security",
    "high",
    "An application tier in a public subnet",
    "SEC05-BP01 Create network layers",
)
def _application_public(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for resource in context.arch.of_kind(*COMPUTE):
        if not resource.public:
            continue
        behind = [link.source for link in context.arch.links_to(resource.id, "routes")]
        yield finding(
            info,
            [resource.id],
            f"{resource.id} runs in a public subnet"
            + (f" although {behind[0]} fronts it" if behind else ""),
            {"public": True, "load_balancers": behind},
            "Run the instances in private subnets and reach the internet through the load"
            " balancer (in) and a NAT gateway (out).",
        )


@check(
    "SEC-LB-WAF",
    "security",
    "high",
    "An internet-facing endpoint without a web application firewall",
    "SEC05-BP03 Implement inspection-based protection",
)
def _web_acl(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for endpoint in context.arch.of_kind("load_balancer", "api"):
        facing = endpoint.prop("internet_facing", endpoint.public)
        if facing and endpoint.prop("waf") is False:
            yield finding(
                info,
                [endpoint.id],
                f"{endpoint.id} takes requests from the internet with no web ACL in front",
                {"internet_facing": True, "waf": False},
                "Associate an AWS WAF web ACL (the AWS managed core rule set and a rate-based"
                " rule, at least).",
            )


@check(
    "SEC-SG-OPEN",
    "security",
    "high",
    "A security group open to the world on other than web ports",
    "SEC05-BP02 Control traffic flow within your network layers",
)
def _security_group_open(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for group in context.arch.of_kind("security_group"):
        for rule in group.prop("ingress") or ():
            if rule.get("cidr") not in WORLD:
                continue
            low, high = int(rule.get("from_port", 0)), int(rule.get("to_port", 65535))
            ports = set(range(low, high + 1)) if high - low < 1024 else None
            if ports is not None and ports <= WEB_PORTS:
                continue
            sensitive = ports is None or bool(ports & SENSITIVE_PORTS)
            span = f"port {low}" if low == high else f"ports {low}-{high}"
            yield finding(
                info,
                [group.id],
                f"security group {group.id} lets {rule['cidr']} in on {span}",
                {"ingress": rule},
                "Allow web ports only from the world; reach instances through Session Manager"
                " (no port 22) and data stores only from the application's security group.",
                "high" if sensitive else "medium",
            )


@check(
    "SEC-BUCKET-PAB",
    "security",
    "medium",
    "A bucket without a public-access block",
    "SEC03-BP07 Analyze public and cross-account access",
)
def _bucket_public_access(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for bucket in context.arch.of_kind("bucket"):
        if bucket.prop("public_access_block") is False:
            yield finding(
                info,
                [bucket.id],
                f"{_named(bucket)} does not block public access: one policy or ACL change"
                " exposes it",
                {"public_access_block": False},
                "Turn on all four S3 Block Public Access settings (and at the account level).",
            )


@check(
    "SEC-ENCRYPTION",
    "security",
    "medium",
    "Data not encrypted at rest",
    "SEC08-BP02 Enforce encryption at rest",
)
def _encryption_at_rest(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for resource in context.arch.resources.values():
        if resource.prop("encrypted") is False:
            yield finding(
                info,
                [resource.id],
                f"{_named(resource)} is not encrypted at rest",
                {"encrypted": False},
                "Turn on encryption at rest with a KMS key (for a database, at creation: an"
                " existing one is encrypted by restoring an encrypted snapshot copy).",
            )


@check(
    "SEC-HTTPS",
    "security",
    "medium",
    "HTTP served without a redirect to HTTPS",
    "SEC09-BP02 Enforce encryption in transit",
)
def _https(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for lb in context.arch.of_kind("load_balancer"):
        if not lb.prop("internet_facing") or lb.prop("http_redirects") is not False:
            continue
        only_http = lb.prop("https") is False
        yield finding(
            info,
            [lb.id],
            f"{_named(lb)} "
            + ("serves plain HTTP only" if only_http else "answers HTTP without redirecting"),
            {"https": lb.prop("https"), "http_redirects": False},
            "Add an HTTPS listener with an ACM certificate and make the HTTP listener's"
            " default action a 301 redirect to HTTPS.",
        )


@check(
    "SEC-ACCESS-LOGS",
    "security",
    "low",
    "An internet-facing load balancer without access logs",
    "SEC04-BP01 Configure service and application logging",
)
def _access_logs(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for lb in context.arch.of_kind("load_balancer"):
        if lb.prop("internet_facing") and lb.prop("access_logs") is False:
            yield finding(
                info,
                [lb.id],
                f"{_named(lb)} keeps no access logs",
                {"access_logs": False},
                "Enable access logs to an S3 bucket (access_logs.s3.enabled).",
            )


# -- operational excellence -------------------------------------------------------------


@check(
    "OPS-NO-ALARMS",
    "operational-excellence",
    "medium",
    "No alarms at all",
    "OPS08-BP04 Create actionable alerts",
)
def _no_alarms(context: Context, info: CheckInfo) -> Iterator[Finding]:
    watched = [
        r.id
        for r in context.arch.resources.values()
        if r.id in context.critical and r.kind != "service"
    ]
    if context.arch.of_kind("alarm") or not watched:
        return
    yield finding(
        info,
        watched,
        "nothing raises an alarm: a failure on a user journey is found by its users",
        {"alarms": 0, "critical_resources": watched},
        "Alarm on what users feel: the load balancer's 5xx and latency, each queue's oldest"
        " message age, each dead-letter queue's depth, the database's free storage.",
    )


@check(
    "OPS-DLQ-ALARM",
    "operational-excellence",
    "medium",
    "A dead-letter queue without an alarm",
    "OPS08-BP04 Create actionable alerts",
)
def _dead_letter_alarm(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for queue in context.arch.of_kind("queue"):
        if queue.prop("is_dead_letter") and queue.id not in context.alarmed:
            yield finding(
                info,
                [queue.id],
                f"{queue.id} fills silently: no alarm watches its depth",
                {"is_dead_letter": True, "alarm": None},
                "Alarm when ApproximateNumberOfMessagesVisible is above zero, and keep a"
                " redrive runbook.",
            )


@check(
    "OPS-UNMONITORED",
    "operational-excellence",
    "low",
    "A critical resource no alarm watches",
    "REL06-BP01 Monitor all components for the workload",
)
def _unmonitored(context: Context, info: CheckInfo) -> Iterator[Finding]:
    if not context.arch.of_kind("alarm"):
        return  # OPS-NO-ALARMS says it once
    watchable = ("load_balancer", "instance", "instance_group", "database", "cache", "queue")
    for resource_id, names in context.critical.items():
        resource = context.arch.resources[resource_id]
        if resource.kind in watchable and resource_id not in context.alarmed:
            yield finding(
                info,
                [resource_id],
                f"{resource_id} is critical to {_journeys(names)} and no alarm watches it",
                {"journeys": names, "alarm": None},
                "Add an alarm on its health metric (errors, latency, backlog age, free storage).",
            )


# -- cost optimisation ------------------------------------------------------------------


@check(
    "COST-FIXED-FLEET",
    "cost-optimization",
    "low",
    "A fleet sized for the peak all day",
    "COST09-BP03 Supply resources dynamically",
)
def _fixed_fleet(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for group in context.arch.of_kind("instance_group"):
        if "scaling" in group.properties and group.prop("scaling") is None and group.count >= 2:
            yield finding(
                info,
                [group.id],
                f"{group.id} runs {group.count} instances around the clock, whatever the load",
                {"count": group.count, "scaling": None},
                "Scale on demand (target tracking) with a minimum sized for the quiet hours.",
            )


@check(
    "COST-IDLE-FLOOR",
    "cost-optimization",
    "low",
    "Queue consumers that never scale below a large floor",
    "COST06-BP03 Select resource type, size, and number automatically based on metrics",
)
def _idle_floor(context: Context, info: CheckInfo) -> Iterator[Finding]:
    for queue in context.fed_queues():
        for consumer in context.consumers(queue.id):
            floor = consumer.prop("min_size")
            if consumer.kind == "instance_group" and floor is not None and floor > 2:
                yield finding(
                    info,
                    [consumer.id],
                    f"{consumer.id} keeps {floor} instances for {queue.id} when it is empty",
                    {"min_size": floor, "scaling": consumer.prop("scaling")},
                    "Two consumers in two zones carry an empty queue; let the backlog scale"
                    " the rest (or consume with functions, paid per message).",
                )


@check(
    "COST-BLOB-STORAGE",
    "cost-optimization",
    "low",
    "Objects stored at database prices",
    "COST05-BP03 Perform a thorough analysis of each component",
)
def _blob_storage_cost(context: Context, info: CheckInfo) -> Iterator[Finding]:
    s3, rds = PRICES["s3-storage"], PRICES["rds-storage"]
    for bucket in context.arch.of_kind("bucket"):
        if bucket.prop("storage") == "database":
            yield finding(
                info,
                [bucket.id],
                f"{bucket.id}'s objects cost ${rds.usd:.3f} per GB-month as database storage"
                f" against ${s3.usd:.3f} in S3 ({rds.usd / s3.usd:.0f}x)",
                {"database_usd_per_gb_month": rds.usd, "s3_usd_per_gb_month": s3.usd},
                "Move the objects to S3 Standard (and to infrequent-access tiers as they age).",
            )


@check(
    "COST-ORPHAN",
    "cost-optimization",
    "low",
    "A resource nothing uses",
    "COST04-BP03 Decommission resources",
)
def _orphan(context: Context, info: CheckInfo) -> Iterator[Finding]:
    if not context.arch.links:
        return  # a template without references tells nothing about use
    linked = {end for link in context.arch.links for end in (link.source, link.target)}
    billed: tuple[Kind, ...] = (
        *COMPUTE,
        "load_balancer",
        "database",
        "cache",
        "stream",
        "delivery_stream",
    )
    for resource in context.arch.of_kind(*billed):
        if resource.id not in linked:
            yield finding(
                info,
                [resource.id],
                f"{_named(resource)} is linked to nothing",
                {"links": 0},
                "Remove it if it is unused, or declare what uses it so that it is reviewed.",
            )
