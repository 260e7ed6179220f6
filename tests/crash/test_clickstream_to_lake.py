"""The clickstream's stream-to-lake consumer under SIGKILL: killed again and again between (or
during) buffering a page of a shard and checkpointing it, then resumed from its checkpoint,
(its checkpoints lagging the pages it buffered, as a consumer's usually do), it lands every
event in the lake exactly once -- the buffer keeps each shard's position in the
same transaction as the records it buffers."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from archlab.blocks.stream import Stream
from archlab.engines.streams import connect_streams
from archlab.systems.clickstream import pipeline

EVENTS = 6_000
CONSUMER = """
from archlab.systems.clickstream import pipeline

stream, delivery = pipeline.stream(), pipeline.delivery_stream()
shards = [shard.shard_id for shard in stream.describe().shards]
iterators = {s: stream.checkpoint_iterator(pipeline.TO_LAKE, s) for s in shards}
pages = 0
while True:
    for shard in shards:
        got = stream.get_records(iterators[shard], 150)
        iterators[shard] = got.next_shard_iterator
        if got.records:
            records = [(int(r.sequence_number), r.data) for r in got.records]
            pipeline.to_lake(delivery, shard, records)
            pages += 1
            if pages % 3 == 0:  # checkpoints lag, as a consumer's usually do
                stream.checkpoint(pipeline.TO_LAKE, shard, got.records[-1].sequence_number)
        print(len(got.records), flush=True)  # also when the shard is drained: the test waits
"""


def test_a_killed_consumer_lands_every_event_once(tmp_path: Path) -> None:
    environment = {**os.environ, "ARCHLAB_HOME": str(tmp_path)}
    os.environ["ARCHLAB_HOME"] = str(tmp_path)
    try:
        stream = Stream.create(
            connect_streams(f"sqlite:///{tmp_path}/streams.db"), pipeline.STREAM_NAME, 2
        )
        for start in range(0, EVENTS, 500):
            stream.put_records(
                [
                    {
                        "Data": json.dumps(
                            {
                                "event_id": f"e{n}",
                                "name": "page_view",
                                "event_time": 1_700_000_000_000 + n,
                                "event_date": "2023-11-14",
                                "event_hour": "22",
                                "session_id": f"s{n % 97}",
                            }
                        ).encode(),
                        "PartitionKey": f"s{n % 97}",
                    }
                    for n in range(start, start + 500)
                ]
            )
        chance = random.Random(7)
        for _ in range(6):
            consumer = subprocess.Popen(
                [sys.executable, "-c", textwrap.dedent(CONSUMER)],
                env=environment,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert consumer.stdout is not None
            consumer.stdout.readline()  # it has buffered a page at least
            time.sleep(chance.uniform(0.0, 0.3))
            os.kill(consumer.pid, signal.SIGKILL)
            consumer.wait(timeout=10)
        delivery = pipeline.delivery_stream()
        pipeline.drain(delivery, stream)  # the consumer's last run, to the end
        delivery.flush()
    finally:
        del os.environ["ARCHLAB_HOME"]
    files = list((pipeline.here(tmp_path).lake / pipeline.EVENTS).rglob("*.parquet"))
    ids = [i for f in files for i in pq.read_table(f, columns=["event_id"])["event_id"].to_pylist()]
    copies = Counter(ids)
    assert len(copies) == EVENTS
    assert max(copies.values()) == 1
