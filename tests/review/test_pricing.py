from __future__ import annotations

import importlib.util
import re
from typing import Any

import pytest

from archlab.review.model import Architecture, Kind, Link, LinkKind, Resource
from archlab.review.pricing import (
    PRICE_TABLE_DATE,
    PRICES,
    REGION,
    CostEstimate,
    Load,
    compare_purchases,
    monthly_cost,
)


def res(resource_id: str, kind: Kind, count: int = 1, **properties: Any) -> Resource:
    return Resource(id=resource_id, kind=kind, count=count, properties=properties)


def arch(resources: list[Resource], links: list[tuple[str, str, LinkKind]]) -> Architecture:
    return Architecture(
        name="test",
        origin="archlab",
        resources={r.id: r for r in resources},
        links=tuple(Link(*link) for link in links),
    )


def lines_of(estimate: CostEstimate, resource: str) -> dict[str, float]:
    """Monthly cost by unit for one resource."""
    return {line.unit: line.monthly for line in estimate.lines if line.resource == resource}


def purchases(hub_kind: Kind, coverages: list[str]) -> Architecture:
    """The purchases fan-out, hand-built: a hub into one queue (with a dead-letter queue) and
    one consumer group per coverage type."""
    resources = [res("system-a", "service"), res("purchases", hub_kind)]
    links: list[tuple[str, str, LinkKind]] = [("system-a", "purchases", "publishes")]
    for name in coverages:
        resources += [
            res(name, "queue", dead_letter=f"{name}-dlq", is_dead_letter=False),
            res(f"{name}-dlq", "queue", dead_letter=None, is_dead_letter=True),
            res(f"{name}-backend", "instance_group", count=1),
        ]
        links += [("purchases", name, "subscribes"), (name, f"{name}-backend", "triggers")]
    return arch(resources, links)


FIVE = ["car", "home", "life", "travel", "pet"]


def test_the_price_table_is_dated_and_sourced() -> None:
    assert REGION == "us-east-1"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", PRICE_TABLE_DATE)
    for key, price in PRICES.items():
        assert price.key == key
        assert price.usd >= 0
        assert price.source_url.startswith("https://aws.amazon.com/")


def test_load_parse() -> None:
    assert Load.parse("requests=1e6, messages=5e6,gb_stored=100,gb_scanned=2.5") == Load(
        requests=1e6, messages=5e6, gb_stored=100, gb_scanned=2.5
    )
    assert Load.parse("messages=10") == Load(messages=10)
    assert Load.parse("") == Load()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("request=1", "unknown load key 'request'"),
        ("requests", "'requests' is not key=value"),
        ("messages=lots", "load messages is not a number: 'lots'"),
        ("gb_stored=-1", "gb_stored must be a finite number >= 0"),
        ("gb_scanned=inf", "gb_scanned must be a finite number >= 0"),
        ("requests=1,requests=2", "'requests' is given twice"),
    ],
)
def test_load_parse_names_the_bad_item(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Load.parse(text)


def test_sns_and_sqs_fan_out_with_filters() -> None:
    # 10 M purchases a month, each routed by a filter policy to one of five queues:
    # SNS: 10 publishes x $0.50/M = $5.00; deliveries to SQS free.
    # SQS: 2 M messages a queue x 3 requests = 6 M requests x $0.40/M = $2.40 a queue.
    # EC2: 5 groups x 1 x 730 h x $0.096 = $350.40.
    estimate = monthly_cost(purchases("topic", FIVE), Load(messages=10e6))
    assert lines_of(estimate, "purchases") == pytest.approx(
        {"million publishes": 5.00, "million deliveries to SQS": 0.0}
    )
    deliveries = next(line for line in estimate.lines if line.unit == "million deliveries to SQS")
    assert deliveries.quantity == pytest.approx(10.0)
    assert lines_of(estimate, "car") == pytest.approx({"million requests": 2.40})
    assert lines_of(estimate, "car-dlq") == {"million requests": 0.0}
    assert lines_of(estimate, "car-backend") == pytest.approx({"m6i.large instance-hour": 70.08})
    assert "system-a" not in {line.resource for line in estimate.lines}
    assert estimate.total == pytest.approx(5.00 + 5 * 2.40 + 5 * 70.08)
    assert estimate.table_date == PRICE_TABLE_DATE
    assert estimate.load == Load(messages=10e6)


def test_eventbridge_and_sqs() -> None:
    # 10 M custom events x $1.00/M = $10.00; the same SQS requests as the topic.
    estimate = monthly_cost(purchases("event_bus", FIVE), Load(messages=10e6))
    assert lines_of(estimate, "purchases") == pytest.approx({"million custom events": 10.00})
    assert estimate.total == pytest.approx(10.00 + 5 * 2.40 + 5 * 70.08)


def test_fan_out_sends_every_message_to_every_queue() -> None:
    # 1 M messages to each of 2 queues: 2 x 3 M requests x $0.40/M = $2.40.
    estimate = monthly_cost(purchases("topic", ["a", "b"]), Load(messages=1e6), fan_out=True)
    assert lines_of(estimate, "a") == pytest.approx({"million requests": 1.20})
    assert lines_of(estimate, "b") == pytest.approx({"million requests": 1.20})


def test_a_producer_routing_to_two_queues_splits_its_messages() -> None:
    claims = arch(
        [res("claimants", "service"), res("car", "queue"), res("other", "queue")],
        [("claimants", "car", "publishes"), ("claimants", "other", "publishes")],
    )
    estimate = monthly_cost(claims, Load(messages=4e6))
    # 2 M messages each x 3 requests x $0.40/M = $2.40.
    assert lines_of(estimate, "car") == pytest.approx({"million requests": 2.40})
    assert lines_of(estimate, "other") == pytest.approx({"million requests": 2.40})


def test_web_tier() -> None:
    shop = arch(
        [
            res("shoppers", "service"),
            res("acl", "web_acl"),
            res("lb", "load_balancer"),
            res("web", "instance_group", count=2),
            res("cache", "cache", count=2, failover=True),
            res("db", "database", multi_zone=True, read_replicas=1),
            res("sg", "security_group"),
            res("alarm", "alarm"),
        ],
        [("shoppers", "lb", "calls"), ("lb", "web", "routes"), ("acl", "lb", "protects")],
    )
    estimate = monthly_cost(shop, Load(requests=9e6, gb_stored=10))
    # ALB: 730 h x $0.0225 = $16.425; 9 M requests / 90,000 = 100 LCU-h x $0.008 = $0.80.
    assert lines_of(estimate, "lb") == pytest.approx({"ALB-hour": 16.425, "LCU-hour": 0.80})
    # WAF: $5 for the ACL, 9 M requests x $0.60/M = $5.40.
    assert lines_of(estimate, "acl") == pytest.approx(
        {"web ACL-month": 5.00, "million requests": 5.40}
    )
    # EC2: 2 x 730 x $0.096 = $140.16. ElastiCache: 2 x 730 x $0.149 = $217.54.
    assert lines_of(estimate, "web") == pytest.approx({"m6i.large instance-hour": 140.16})
    assert lines_of(estimate, "cache") == pytest.approx({"cache.m6g.large node-hour": 217.54})
    # RDS: Multi-AZ 730 x $0.130 = $94.90, one replica 730 x $0.065 = $47.45,
    # storage 10 GB x 3 copies x $0.115 = $3.45.
    db = [line for line in estimate.lines if line.resource == "db"]
    assert [round(line.monthly, 4) for line in db] == [94.90, 47.45, 3.45]
    assert lines_of(estimate, "alarm") == pytest.approx({"standard alarm-month": 0.10})
    assert "sg" not in {line.resource for line in estimate.lines}


def test_aurora_multi_az_is_a_writer_and_a_reader() -> None:
    db = arch([res("db", "database", multi_zone=True, aurora=True)], [])
    estimate = monthly_cost(db, Load(gb_stored=100))
    # 2 x 730 x $0.26 = $379.60; 100 GB x $0.10 = $10.00.
    assert lines_of(estimate, "db") == pytest.approx(
        {"db.r6g.large instance-hour": 379.60, "GB-month": 10.00}
    )


def test_serverless_pipeline() -> None:
    images = arch(
        [
            res("clients", "service"),
            res("api", "api"),
            res("media", "bucket"),
            res("metadata", "table"),
            res("uploads", "queue"),
            res("renditions", "function"),
        ],
        [
            ("clients", "api", "calls"),
            ("api", "media", "writes"),
            ("api", "metadata", "writes"),
            ("media", "uploads", "publishes"),
            ("uploads", "renditions", "triggers"),
            ("renditions", "media", "writes"),
            ("renditions", "metadata", "writes"),
        ],
    )
    estimate = monthly_cost(images, Load(requests=2e6, messages=1e6, gb_stored=200))
    # API Gateway: 2 M x $3.50/M = $7.00.
    assert lines_of(estimate, "api") == pytest.approx({"million REST API requests": 7.00})
    # 200 GB split over the bucket and the table: 100 GB each.
    # S3: 100 x $0.023 = $2.30; 2 writers x 1 M PUTs = 2,000 thousand x $0.005 = $10.00.
    assert lines_of(estimate, "media") == pytest.approx(
        {"GB-month (Standard)": 2.30, "thousand PUT requests": 10.00}
    )
    # DynamoDB: 100 GB x $0.25 = $25; 2 M reads x $0.125/M = $0.25;
    # 2 writers x 1 M writes x $0.625/M = $1.25.
    assert lines_of(estimate, "metadata") == pytest.approx(
        {
            "GB-month": 25.00,
            "million read request units (on-demand)": 0.25,
            "million write request units (on-demand)": 1.25,
        }
    )
    # Lambda: 1 M invocations x $0.20/M = $0.20; 50,000 GB-s x $0.0000166667 = $0.833335.
    assert lines_of(estimate, "renditions") == pytest.approx(
        {"million requests": 0.20, "GB-second": 0.833335}
    )
    assert lines_of(estimate, "uploads") == pytest.approx({"million requests": 1.20})


def test_analytics_pipeline() -> None:
    clicks = arch(
        [
            res("api", "api"),
            res("clicks", "stream", shards=2),
            res("to-lake", "function"),
            res("delivery", "delivery_stream"),
            res("lake", "bucket"),
            res("catalog", "catalog"),
            res("nightly", "function"),
        ],
        [
            ("api", "clicks", "writes"),
            ("clicks", "to-lake", "triggers"),
            ("to-lake", "delivery", "writes"),
            ("delivery", "lake", "writes"),
        ],
    )
    messages = 1024 * 1024 / 5 * 1000  # 1,000 GB of 5 KB Firehose records
    estimate = monthly_cost(clicks, Load(messages=messages, gb_scanned=2048))
    # Kinesis: 2 shards x 730 h x $0.015 = $21.90, one PUT unit per message x $0.014/M.
    assert lines_of(estimate, "clicks") == pytest.approx(
        {"shard-hour (provisioned)": 21.90, "million PUT payload units": messages / 1e6 * 0.014}
    )
    # Firehose: 1,000 GB x $0.029 = $29.00, converted x $0.018 = $18.00.
    assert lines_of(estimate, "delivery") == pytest.approx(
        {"GB ingested": 29.00, "GB format-converted": 18.00}
    )
    # The lake is written only by Firehose, which batches: no PUT per message.
    assert lines_of(estimate, "lake")["thousand PUT requests"] == 0.0
    # Athena: 2 TB x $5 = $10; crawler 10 DPU-h x $0.44 = $4.40.
    assert lines_of(estimate, "catalog") == pytest.approx(
        {"TB scanned": 10.00, "DPU-hour (crawler)": 4.40}
    )
    # Nothing triggers or calls it: hourly, 730 invocations.
    nightly = next(line for line in estimate.lines if line.resource == "nightly")
    assert nightly.quantity == pytest.approx(730 / 1e6)


def test_a_function_behind_an_api_runs_per_request() -> None:
    api = arch([res("api", "api"), res("handler", "function")], [("api", "handler", "calls")])
    estimate = monthly_cost(api, Load(requests=5e6))
    assert lines_of(estimate, "handler")["million requests"] == pytest.approx(1.00)


def test_a_message_cycle_is_a_clear_error() -> None:
    loop = arch(
        [res("a", "queue"), res("b", "queue")],
        [("a", "b", "writes"), ("b", "a", "writes")],
    )
    with pytest.raises(ValueError, match="cycle"):
        monthly_cost(loop, Load(messages=1))


def test_the_estimate_is_deterministic() -> None:
    design = purchases("topic", FIVE)
    assert monthly_cost(design, Load(messages=3e6)) == monthly_cost(design, Load(messages=3e6))


def test_compare_purchases() -> None:
    pytest.importorskip("archlab.review.from_topology")
    assert importlib.util.find_spec("archlab.review.from_topology") is not None
    load = Load(messages=10e6)
    designs = compare_purchases(load)
    assert set(designs) == {"topic", "bus"}
    topic, bus = designs["topic"], designs["bus"]
    assert lines_of(topic, "purchases") == pytest.approx(
        {"million publishes": 5.00, "million deliveries to SQS": 0.0}
    )
    assert lines_of(bus, "purchases") == pytest.approx({"million custom events": 10.00})

    def sqs(estimate: CostEstimate) -> float:
        return sum(line.monthly for line in estimate.lines if line.service == "Amazon SQS")

    # Each purchase reaches one queue in both designs: the same SQS bill, 30 M requests.
    assert sqs(topic) == pytest.approx(sqs(bus)) == pytest.approx(30 * 0.40)
