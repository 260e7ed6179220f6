"""The clickstream's pipeline, made from the environment: the stream the collector puts on, the
delivery stream that lands it in the lake, the catalog and its crawler, SQL over the lake, and
the warehouse -- one place that every process of the system (its functions, the CLI, the
console) builds them from, so that they agree on names and paths.

The delivery stream is Firehose with the Kinesis stream as its source (:func:`to_lake`): the
records a shard gives are buffered with the shard's position in one transaction, so a reader
that dies before its checkpoint and reads them again buffers each once; the buffer then
delivers each ``dt=``/``hour=`` partition by size (``ARCHLAB_CLICKSTREAM_BUFFER_MIB``, 5 MiB)
or by age (``ARCHLAB_CLICKSTREAM_BUFFER_S``, 60 s), whichever comes first.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

from archlab import settings
from archlab.blocks.catalog import Catalog
from archlab.blocks.errors import AlreadyExists
from archlab.blocks.stream import Stream
from archlab.clock import Clock
from archlab.engines.catalogs import connect_catalog
from archlab.engines.streams import connect_streams
from archlab.lake.crawler import Crawler
from archlab.lake.delivery import DeliveryStream
from archlab.systems.clickstream.events import COLUMNS
from archlab.systems.clickstream.rollup import SESSION_HOURS, SessionHours
from archlab.systems.clickstream.wiring import DATABASE, EVENTS, SYSTEM, Places, places

STREAM_NAME = f"{SYSTEM}-clicks"
"""The stream's resource name, as the supervisor provisions the topology's ``clicks`` node."""
DELIVERY_NAME = f"{SYSTEM}-delivery"
TO_LAKE = f"{SYSTEM}-to-lake"
"""The stream consumer that feeds the delivery stream: its checkpoints are under this name."""
PREFIX = f"{EVENTS}/dt=!{{partitionKeyFromQuery:dt}}/hour=!{{partitionKeyFromQuery:hour}}/"
PARTITION_KEYS = {"dt": ".event_date", "hour": ".event_hour"}
DEFAULT_BUFFER_S = 60
DEFAULT_BUFFER_MIB = 5


def here(home: Path | None = None) -> Places:
    return places(home or settings.home())


def stream() -> Stream:
    return Stream(connect_streams(settings.streams_url()), STREAM_NAME)


def delivery_stream(home: Path | None = None, clock: Clock | None = None) -> DeliveryStream:
    return DeliveryStream(
        DELIVERY_NAME,
        here(home).lake,
        prefix=PREFIX,
        partition_keys=PARTITION_KEYS,
        schema=COLUMNS,
        size_mib=_setting("ARCHLAB_CLICKSTREAM_BUFFER_MIB", DEFAULT_BUFFER_MIB, 1, 128),
        interval_s=_setting("ARCHLAB_CLICKSTREAM_BUFFER_S", DEFAULT_BUFFER_S, 0, 900),
        clock=clock,
    )


def to_lake(delivery: DeliveryStream, shard_id: str, records: Sequence[tuple[int, bytes]]) -> int:
    """Buffer a shard's records for the lake, each once (see the module)."""
    return delivery.put_from_source(f"{STREAM_NAME}/{shard_id}", records)


def drain(delivery: DeliveryStream, source: Stream) -> int:
    """Everything on the stream past the ``to-lake`` consumer's checkpoints into the delivery
    stream now, as that consumer would (``archlab clickstream flush``); returns the records
    buffered."""
    buffered = 0
    for shard in source.describe().shards:
        iterator = source.checkpoint_iterator(TO_LAKE, shard.shard_id)
        while True:
            got = source.get_records(iterator)
            if got.records:
                records = [(int(r.sequence_number), r.data) for r in got.records]
                buffered += to_lake(delivery, shard.shard_id, records)
                source.checkpoint(TO_LAKE, shard.shard_id, got.records[-1].sequence_number)
            if not got.records or not got.millis_behind_latest:
                break
            iterator = got.next_shard_iterator
    return buffered


def catalog(home: Path | None = None) -> Catalog:
    """The catalog, with the events' database in it."""
    found = Catalog(connect_catalog(here(home).catalog))
    with contextlib.suppress(AlreadyExists):
        found.create_database(DATABASE, description="the clickstream's events, as collected")
    return found


def crawler(home: Path | None = None) -> Crawler:
    """The crawler over the lake's events: new ``dt=``/``hour=`` partitions registered, the
    schema kept up to date."""
    root = here(home)
    root.lake.joinpath(EVENTS).mkdir(parents=True, exist_ok=True)
    return Crawler(
        catalog(home),
        DATABASE,
        [root.lake / EVENTS],
        name=f"{SYSTEM}-crawler",
        cache_path=root.root / "crawler-cache.json",
    )


def session_hours(home: Path | None = None) -> SessionHours:
    """The session-hours rollup of the lake's events, which the dashboard counts sessions
    from (built by the ETL job every minute)."""
    root = here(home)
    return SessionHours(root.lake / EVENTS, root.lake / SESSION_HOURS, catalog(home), DATABASE)


def _setting(variable: str, default: int, low: int, high: int) -> int:
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"{variable} must be a whole number from {low} to {high}, got {text!r}")
    return int(text)
