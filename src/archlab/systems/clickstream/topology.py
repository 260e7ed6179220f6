"""The clickstream system's topology: the notes' clickstream analytics lake.

Browsers run the tracker, which posts batches of events to the collector; the collector checks
them and puts them on a stream, one shard per session. Two consumers read the stream, each
with its own checkpoints: ``to-lake`` buffers the records in the delivery stream (Firehose),
which ``deliver`` writes as zstd Parquet under ``dt=``/``hour=`` partitions when a partition's
buffer is full or old enough; ``windows`` counts tumbling one-minute windows as the events go
by (the live panel, and an alert on a spike). On schedules, the crawler registers new
partitions and schema changes in the catalog, which SQL over the lake (``archlab sql``) reads,
and the ETL job builds sessions and daily aggregates into a DuckDB warehouse.
"""

from __future__ import annotations

import os

from archlab.topology import (
    Api,
    Bucket,
    Catalog,
    Database,
    DeliveryStream,
    Edge,
    Function,
    Profile,
    Service,
    Stream,
    Topology,
    Trigger,
    UserJourney,
)

DEFAULT_PORT = 8083
FUNCTIONS = "archlab.systems.clickstream.functions"


def port() -> int:
    """The collector's port: ARCHLAB_CLICKSTREAM_PORT, else 8083."""
    text = os.environ.get("ARCHLAB_CLICKSTREAM_PORT", "")
    return int(text) if text.isdigit() and 0 < int(text) < 65536 else DEFAULT_PORT


def lake() -> Topology:
    return Topology(
        system="clickstream",
        description="Clicks through a stream into a Parquet lake, a catalog, SQL and a warehouse.",
        profile=Profile(name="lake", knobs={"shards": 2}),
        nodes=(
            Service(id="browsers", label="shoppers' browsers (tracker.js)"),
            Api(
                id="clickstream",
                label="collector",
                app="archlab.systems.clickstream.collector:create_app",
                port=port(),
                routes=("POST /collect", "GET /tracker.js"),
            ),
            Stream(id="clicks", label="click stream", shards=2),
            Function(id="to-lake", label="stream to delivery", handler=f"{FUNCTIONS}:to_lake"),
            DeliveryStream(
                id="delivery", label="Parquet by size or age", buffer_mb=5, buffer_interval_s=60
            ),
            Function(
                id="deliver",
                label="deliver what is due",
                handler=f"{FUNCTIONS}:deliver_due",
                schedule_s=5,
            ),
            Bucket(id="lake", label="Parquet lake, dt=/hour="),
            Function(
                id="windows", label="one-minute windows", handler=f"{FUNCTIONS}:count_windows"
            ),
            Function(id="crawler", label="crawler", handler=f"{FUNCTIONS}:crawl", schedule_s=30),
            Catalog(id="catalog", label="data catalog"),
            Function(id="etl", label="ETL job", handler=f"{FUNCTIONS}:run_etl", schedule_s=60),
            Database(id="warehouse", label="DuckDB warehouse", engine="duckdb"),
        ),
        edges=(
            Edge(source="browsers", target="clickstream", kind="calls"),
            Edge(source="clickstream", target="clicks", kind="writes"),
            Edge(
                source="clicks",
                target="to-lake",
                kind="triggers",
                trigger=Trigger(batch_size=5_000, batching_window_s=1.0, max_concurrency=1),
            ),
            Edge(source="to-lake", target="delivery", kind="writes"),
            Edge(source="deliver", target="delivery", kind="reads"),
            Edge(source="delivery", target="lake", kind="writes", label="Parquet"),
            Edge(
                source="clicks",
                target="windows",
                kind="triggers",
                trigger=Trigger(batch_size=1_000, batching_window_s=1.0, max_concurrency=1),
            ),
            Edge(source="crawler", target="lake", kind="reads"),
            Edge(source="crawler", target="catalog", kind="writes", label="partitions"),
            Edge(source="etl", target="lake", kind="reads"),
            Edge(source="etl", target="warehouse", kind="writes"),
        ),
        journeys=(
            UserJourney(
                name="a click reaches the dashboard",
                path=("browsers", "clickstream", "clicks", "to-lake", "delivery", "lake"),
            ),
            UserJourney(
                name="a click is counted live",
                path=("browsers", "clickstream", "clicks", "windows"),
            ),
        ),
    )


PROFILES = {"lake": lake}
