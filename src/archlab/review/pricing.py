"""Cost per month of an architecture under a stated load, from a dated table of AWS prices.

The load is four monthly figures (``Load``): user requests, messages (events published into
the system), GB stored and GB scanned by queries. ``monthly_cost`` turns it into one line per
priced dimension of each resource: quantity, unit, unit price, monthly cost. The prices are
on-demand list prices in ``REGION``; free tiers, data transfer, taxes and discounts are left
out, so the estimate compares designs rather than predicting a bill.

``compare_purchases`` prices the notes' comparison: the purchases system's ``topic`` design
(SNS topic with filtered subscriptions into SQS queues) against its ``bus`` design
(EventBridge rules into SQS queues).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields

from archlab.review.model import Architecture, Kind, Link, LinkKind, Resource

PRICE_TABLE_DATE = "2026-12-07"
"""When the prices below were read (ISO date)."""
REGION = "us-east-1"
HOURS_PER_MONTH = 730.0
"""AWS's own convention for a month of always-on resources."""

MESSAGE_KB = 1.0
"""Assumed size of a message: under 64 KB (one SQS, SNS and EventBridge billing unit) and under
25 KB (one Kinesis PUT payload unit)."""
FIREHOSE_RECORD_KB = 5.0
"""Firehose bills each record rounded up to 5 KB, so a 1 KB message is billed as 5 KB."""
KB_PER_GB = 1024.0 * 1024.0
LAMBDA_GB_SECONDS = 0.5 * 0.1
"""Assumed work per Lambda invocation: 512 MB for 100 ms."""
SCHEDULED_INVOCATIONS = HOURS_PER_MONTH
"""A function nothing triggers or calls is assumed to run on a schedule, once an hour."""
CRAWLER_DPU_HOURS = 30 * 2 * (10 / 60)
"""Assumed Glue crawling: one run a day, 2 DPUs for the 10-minute minimum."""
REQUESTS_PER_LCU_HOUR = 25 * 3600
"""An LCU is 25 new connections a second; each request is assumed to be one new connection,
the dimension that dominates for short requests, spread evenly over the month."""

_MESSAGE_KINDS: frozenset[Kind] = frozenset(
    {"queue", "topic", "event_bus", "stream", "delivery_stream"}
)
_FLOW_LINKS: tuple[LinkKind, ...] = ("publishes", "subscribes", "triggers", "writes")
_STORAGE_KINDS: frozenset[Kind] = frozenset({"bucket", "table", "database"})


@dataclass(frozen=True)
class Price:
    key: str
    service: str
    unit: str
    usd: float
    """Dollars per one ``unit``."""
    source_url: str


def _table(*prices: Price) -> Mapping[str, Price]:
    return {price.key: price for price in prices}


# Read on PRICE_TABLE_DATE. Figures marked "commonly published" were not found on a stored copy
# of the AWS page itself; they are the widely quoted us-east-1 list prices, cited to the AWS
# pricing page they come from.
PRICES: Mapping[str, Price] = _table(
    Price(
        "sqs-requests",
        "Amazon SQS",
        "million requests",
        0.40,
        "https://aws.amazon.com/sqs/pricing/",
    ),
    Price(
        "sns-publishes",
        "Amazon SNS",
        "million publishes",
        0.50,
        "https://aws.amazon.com/sns/pricing/",
    ),
    Price(
        "sns-sqs-deliveries",
        "Amazon SNS",
        "million deliveries to SQS",
        0.0,
        "https://aws.amazon.com/sns/pricing/",
    ),
    Price(
        "eventbridge-events",
        "Amazon EventBridge",
        "million custom events",
        1.00,
        "https://aws.amazon.com/eventbridge/pricing/",
    ),
    # Lambda (x86) and S3 Standard: commonly published.
    Price(
        "lambda-requests",
        "AWS Lambda",
        "million requests",
        0.20,
        "https://aws.amazon.com/lambda/pricing/",
    ),
    Price(
        "lambda-gb-seconds",
        "AWS Lambda",
        "GB-second",
        0.0000166667,
        "https://aws.amazon.com/lambda/pricing/",
    ),
    Price(
        "s3-storage",
        "Amazon S3",
        "GB-month (Standard)",
        0.023,
        "https://aws.amazon.com/s3/pricing/",
    ),
    Price(
        "s3-puts",
        "Amazon S3",
        "thousand PUT requests",
        0.005,
        "https://aws.amazon.com/s3/pricing/",
    ),
    Price(
        "dynamodb-writes",
        "Amazon DynamoDB",
        "million write request units (on-demand)",
        0.625,
        "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    ),
    Price(
        "dynamodb-reads",
        "Amazon DynamoDB",
        "million read request units (on-demand)",
        0.125,
        "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    ),
    # DynamoDB Standard table storage: commonly published.
    Price(
        "dynamodb-storage",
        "Amazon DynamoDB",
        "GB-month",
        0.25,
        "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    ),
    Price(
        "kinesis-shard-hours",
        "Amazon Kinesis Data Streams",
        "shard-hour (provisioned)",
        0.015,
        "https://aws.amazon.com/kinesis/data-streams/pricing/",
    ),
    # Kinesis PUT payload units and both Firehose figures: commonly published.
    Price(
        "kinesis-put-units",
        "Amazon Kinesis Data Streams",
        "million PUT payload units",
        0.014,
        "https://aws.amazon.com/kinesis/data-streams/pricing/",
    ),
    Price(
        "firehose-ingest",
        "Amazon Data Firehose",
        "GB ingested",
        0.029,
        "https://aws.amazon.com/firehose/pricing/",
    ),
    Price(
        "firehose-conversion",
        "Amazon Data Firehose",
        "GB format-converted",
        0.018,
        "https://aws.amazon.com/firehose/pricing/",
    ),
    # Athena and Glue crawlers: commonly published.
    Price(
        "athena-scanned",
        "Amazon Athena",
        "TB scanned",
        5.00,
        "https://aws.amazon.com/athena/pricing/",
    ),
    Price(
        "glue-crawler",
        "AWS Glue",
        "DPU-hour (crawler)",
        0.44,
        "https://aws.amazon.com/glue/pricing/",
    ),
    Price(
        "alb-hours",
        "Elastic Load Balancing",
        "ALB-hour",
        0.0225,
        "https://aws.amazon.com/elasticloadbalancing/pricing/",
    ),
    Price(
        "alb-lcu-hours",
        "Elastic Load Balancing",
        "LCU-hour",
        0.008,
        "https://aws.amazon.com/elasticloadbalancing/pricing/",
    ),
    # EC2 m6i.large (2 vCPU, 8 GiB, Linux): commonly published.
    Price(
        "ec2-hours",
        "Amazon EC2",
        "m6i.large instance-hour",
        0.096,
        "https://aws.amazon.com/ec2/pricing/on-demand/",
    ),
    Price(
        "rds-single-hours",
        "Amazon RDS",
        "db.t4g.medium PostgreSQL Single-AZ hour",
        0.065,
        "https://aws.amazon.com/rds/postgresql/pricing/",
    ),
    Price(
        "rds-multi-az-hours",
        "Amazon RDS",
        "db.t4g.medium PostgreSQL Multi-AZ hour",
        0.130,
        "https://aws.amazon.com/rds/postgresql/pricing/",
    ),
    Price(
        "rds-storage",
        "Amazon RDS",
        "GB-month (gp3, per copy)",
        0.115,
        "https://aws.amazon.com/rds/postgresql/pricing/",
    ),
    # Aurora and ElastiCache: commonly published.
    Price(
        "aurora-hours",
        "Amazon Aurora",
        "db.r6g.large instance-hour",
        0.26,
        "https://aws.amazon.com/rds/aurora/pricing/",
    ),
    Price(
        "aurora-storage",
        "Amazon Aurora",
        "GB-month",
        0.10,
        "https://aws.amazon.com/rds/aurora/pricing/",
    ),
    Price(
        "elasticache-hours",
        "Amazon ElastiCache",
        "cache.m6g.large node-hour",
        0.149,
        "https://aws.amazon.com/elasticache/pricing/",
    ),
    # API Gateway REST, WAF and CloudWatch alarms: commonly published.
    Price(
        "api-gateway-requests",
        "Amazon API Gateway",
        "million REST API requests",
        3.50,
        "https://aws.amazon.com/api-gateway/pricing/",
    ),
    Price(
        "waf-acls",
        "AWS WAF",
        "web ACL-month",
        5.00,
        "https://aws.amazon.com/waf/pricing/",
    ),
    Price(
        "waf-requests",
        "AWS WAF",
        "million requests",
        0.60,
        "https://aws.amazon.com/waf/pricing/",
    ),
    Price(
        "cloudwatch-alarms",
        "Amazon CloudWatch",
        "standard alarm-month",
        0.10,
        "https://aws.amazon.com/cloudwatch/pricing/",
    ),
)
"""Unit prices by key, in ``REGION``, as read on ``PRICE_TABLE_DATE``."""


@dataclass(frozen=True)
class Load:
    """What the system handles in a month."""

    requests: float = 0
    """User requests (HTTP calls through an API or a load balancer)."""
    messages: float = 0
    """Messages or events published into the system."""
    gb_stored: float = 0
    """Data at rest, in GB."""
    gb_scanned: float = 0
    """Data read by analytical queries, in GB."""

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"load {item.name} must be a finite number >= 0, not {value!r}")

    @classmethod
    def parse(cls, text: str) -> Load:
        """A load from ``"requests=1e6,messages=5e6,gb_stored=100,gb_scanned=10"``.

        Keys may be left out (they are 0) but not repeated; an unknown key, a missing ``=``
        or a value that is not a number >= 0 raises ``ValueError`` naming it.
        """
        known = [item.name for item in fields(cls)]
        values: dict[str, float] = {}
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            key, equals, raw = (piece.strip() for piece in part.partition("="))
            if not equals:
                raise ValueError(f"load item {part!r} is not key=value")
            if key not in known:
                raise ValueError(f"unknown load key {key!r}: expected one of {', '.join(known)}")
            if key in values:
                raise ValueError(f"load key {key!r} is given twice")
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(f"load {key} is not a number: {raw!r}") from None
            values[key] = value
        return cls(**values)


@dataclass(frozen=True)
class CostLine:
    resource: str
    service: str
    quantity: float
    unit: str
    unit_price: float
    monthly: float


@dataclass(frozen=True)
class CostEstimate:
    load: Load
    lines: tuple[CostLine, ...]
    total: float
    table_date: str


def monthly_cost(arch: Architecture, load: Load, *, fan_out: bool = False) -> CostEstimate:
    """The monthly cost of ``arch`` under ``load``, one line per priced dimension.

    How each kind consumes the load:

    - **messages flow** from where they enter along ``publishes``, ``subscribes``,
      ``triggers`` and ``writes`` links into queues, topics, event buses, streams and delivery
      streams. A resource with no such link into it originates ``load.messages``. A producer,
      topic or bus with several message destinations routes each message to one of them, in
      equal shares (filter policies, event rules); with ``fan_out=True`` every destination
      gets every message instead. A consumer triggered by a queue or a stream receives all
      its messages. Dead-letter queues carry none (no failures are assumed).
    - **queue**: one send, one receive and one delete per message it receives (long polling:
      no empty receives). **topic**: one publish per message; its deliveries to SQS are free.
      **event bus**: one custom event per message; delivering to targets costs nothing more.
    - **stream**: its ``shards`` (1 if not known) around the clock, and one PUT payload unit
      per message. **delivery stream**: each message ingested as a 5 KB record, and converted
      to a columnar format (as the lake designs do).
    - **function**: one invocation per message that triggers it, else per request when an API
      or load balancer calls it, else hourly on a schedule; each of ``LAMBDA_GB_SECONDS``.
    - **api**: every request. **load balancer**: its hours, and LCUs for every request
      (``REQUESTS_PER_LCU_HOUR``). **web ACL**: one ACL, and every request inspected.
    - **instance** and **instance group**: always on, ``count`` instances x 730 hours.
      **database**: instance hours (Multi-AZ priced as such; Aurora Multi-AZ is a writer and
      a reader; each read replica one more instance), storage for each copy. **cache**:
      ``count`` nodes x 730 hours.
    - **storage**: ``load.gb_stored`` is held once, in equal shares over the buckets, tables
      and databases. A bucket takes one PUT per message from each writer other than a
      delivery stream (which batches), or, with no such writer, one per message when it
      publishes events (the uploads that fire them); a table one read per request and one
      write per message from each writer (at least one).
    - **catalog**: ``load.gb_scanned`` is queried through Athena, in equal shares over the
      catalogs, and crawled (``CRAWLER_DPU_HOURS``).
    - **alarm**: one standard alarm. Services (the callers), networks, subnets, security
      groups and gateways are not priced.
    """
    flow = _MessageFlow(arch, load.messages, fan_out)
    storage = _split(load.gb_stored, arch.of_kind(*_STORAGE_KINDS))
    scanned = _split(load.gb_scanned, arch.of_kind("catalog"))
    lines: list[CostLine] = []
    for resource in arch.resources.values():
        for key, quantity in _usage(arch, resource, load, flow, storage, scanned):
            price = PRICES[key]
            lines.append(
                CostLine(
                    resource=resource.id,
                    service=price.service,
                    quantity=quantity,
                    unit=price.unit,
                    unit_price=price.usd,
                    monthly=quantity * price.usd,
                )
            )
    return CostEstimate(
        load=load,
        lines=tuple(lines),
        total=math.fsum(line.monthly for line in lines),
        table_date=PRICE_TABLE_DATE,
    )


def compare_purchases(load: Load) -> dict[str, CostEstimate]:
    """The purchases system's ``topic`` (SNS + SQS) and ``bus`` (EventBridge + SQS) designs,
    each priced by ``monthly_cost`` under the same ``load``, by profile name.

    Each purchase has one coverage type, so the subscriptions' filter policies and the bus's
    rules send it to one queue: the default, filtered routing of ``monthly_cost`` applies.
    """
    from archlab.review.from_topology import from_topology
    from archlab.systems import available

    purchases = available()["purchases"]
    return {
        profile: monthly_cost(from_topology(purchases.topology(profile)), load)
        for profile in ("topic", "bus")
    }


def _split(total: float, among: list[Resource]) -> dict[str, float]:
    return {resource.id: total / len(among) for resource in among}


class _MessageFlow:
    """Messages a month reaching each resource, as ``monthly_cost`` describes."""

    def __init__(self, arch: Architecture, messages: float, fan_out: bool) -> None:
        self._arch = arch
        self._messages = messages
        self._fan_out = fan_out
        self._volumes: dict[str, float] = {}
        self._visiting: set[str] = set()

    def inbound(self, resource_id: str) -> list[Link]:
        return [
            link
            for link in self._arch.links_to(resource_id, *_FLOW_LINKS)
            if link.source in self._arch.resources and self._is_flow(link)
        ]

    def volume(self, resource_id: str) -> float:
        if resource_id in self._volumes:
            return self._volumes[resource_id]
        if resource_id in self._visiting:
            raise ValueError(f"messages flow in a cycle through {resource_id!r}")
        self._visiting.add(resource_id)
        resource = self._arch.resources[resource_id]
        links = self.inbound(resource_id)
        if resource.kind == "queue" and resource.prop("is_dead_letter", False):
            volume = 0.0
        elif not links:
            volume = self._messages
        else:
            volume = math.fsum(self._share(link) for link in links)
        self._visiting.discard(resource_id)
        self._volumes[resource_id] = volume
        return volume

    def _share(self, link: Link) -> float:
        sent = self.volume(link.source)
        if link.kind == "triggers" or self._fan_out:
            return sent
        destinations = {
            out.target
            for out in self._arch.links_from(link.source, *_FLOW_LINKS)
            if out.kind != "triggers" and out.target in self._arch.resources and self._is_flow(out)
        }
        return sent / len(destinations)

    def _is_flow(self, link: Link) -> bool:
        """A link that carries messages: a trigger from a message resource to its consumer, or
        a publish, subscription or write into a message resource."""
        if link.kind == "triggers":
            return self._arch.resources[link.source].kind in _MESSAGE_KINDS
        return self._arch.resources[link.target].kind in _MESSAGE_KINDS


def _writers(arch: Architecture, resource_id: str) -> list[Resource]:
    return [
        arch.resources[link.source]
        for link in arch.links_to(resource_id, "writes")
        if link.source in arch.resources
    ]


def _usage(
    arch: Architecture,
    resource: Resource,
    load: Load,
    flow: _MessageFlow,
    storage: Mapping[str, float],
    scanned: Mapping[str, float],
) -> Iterable[tuple[str, float]]:
    """(price key, quantity in the price's unit) for each priced dimension of ``resource``."""
    kind = resource.kind
    millions = 1e-6
    if kind == "queue":
        yield "sqs-requests", 3 * flow.volume(resource.id) * millions
    elif kind == "topic":
        published = flow.volume(resource.id)
        delivered = math.fsum(
            flow.volume(link.target)
            for link in arch.links_from(resource.id, "subscribes")
            if link.target in arch.resources and arch.resources[link.target].kind == "queue"
        )
        yield "sns-publishes", published * millions
        yield "sns-sqs-deliveries", delivered * millions
    elif kind == "event_bus":
        yield "eventbridge-events", flow.volume(resource.id) * millions
    elif kind == "stream":
        yield "kinesis-shard-hours", int(resource.prop("shards") or 1) * HOURS_PER_MONTH
        yield "kinesis-put-units", flow.volume(resource.id) * millions
    elif kind == "delivery_stream":
        gigabytes = flow.volume(resource.id) * FIREHOSE_RECORD_KB / KB_PER_GB
        yield "firehose-ingest", gigabytes
        yield "firehose-conversion", gigabytes
    elif kind == "function":
        invocations = _invocations(arch, resource, load, flow)
        yield "lambda-requests", invocations * millions
        yield "lambda-gb-seconds", invocations * LAMBDA_GB_SECONDS
    elif kind == "api":
        yield "api-gateway-requests", load.requests * millions
    elif kind == "load_balancer":
        yield "alb-hours", HOURS_PER_MONTH
        yield "alb-lcu-hours", load.requests / REQUESTS_PER_LCU_HOUR
    elif kind == "web_acl":
        yield "waf-acls", 1.0
        yield "waf-requests", load.requests * millions
    elif kind in ("instance", "instance_group"):
        yield "ec2-hours", resource.count * HOURS_PER_MONTH
    elif kind == "database":
        yield from _database(resource, storage[resource.id])
    elif kind == "cache":
        yield "elasticache-hours", resource.count * HOURS_PER_MONTH
    elif kind == "bucket":
        writers = [w for w in _writers(arch, resource.id) if w.kind != "delivery_stream"]
        uploads = len(writers) or int(bool(arch.links_from(resource.id, "publishes")))
        yield "s3-storage", storage[resource.id]
        yield "s3-puts", uploads * load.messages / 1000
    elif kind == "table":
        writer_count = max(1, len(_writers(arch, resource.id)))
        yield "dynamodb-storage", storage[resource.id]
        yield "dynamodb-reads", load.requests * millions
        yield "dynamodb-writes", writer_count * load.messages * millions
    elif kind == "catalog":
        yield "athena-scanned", scanned[resource.id] / 1024
        yield "glue-crawler", CRAWLER_DPU_HOURS
    elif kind == "alarm":
        yield "cloudwatch-alarms", 1.0


def _invocations(arch: Architecture, function: Resource, load: Load, flow: _MessageFlow) -> float:
    if flow.inbound(function.id):
        return flow.volume(function.id)
    callers = {
        arch.resources[link.source].kind
        for link in arch.links_to(function.id, "calls", "routes")
        if link.source in arch.resources
    }
    if callers & {"api", "load_balancer"}:
        return load.requests
    return SCHEDULED_INVOCATIONS


def _database(database: Resource, gb_stored: float) -> Iterable[tuple[str, float]]:
    multi_zone = bool(database.prop("multi_zone", False))
    replicas = int(database.prop("read_replicas", 0) or 0)
    if database.prop("aurora", False):
        instances = (2 if multi_zone else 1) + replicas
        yield "aurora-hours", instances * HOURS_PER_MONTH
        yield "aurora-storage", gb_stored
        return
    if multi_zone:
        yield "rds-multi-az-hours", HOURS_PER_MONTH
    else:
        yield "rds-single-hours", HOURS_PER_MONTH
    if replicas:
        yield "rds-single-hours", replicas * HOURS_PER_MONTH
    yield "rds-storage", ((2 if multi_zone else 1) + replicas) * gb_stored
