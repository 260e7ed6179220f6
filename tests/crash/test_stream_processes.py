"""The embedded stream under SIGKILL, with the real clock.

A put that returned is on disk: a producer killed between (or during) its PutRecords calls
leaves every acknowledged record readable, once, and of the call it was killed in, all records
or none.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

from archlab.blocks.stream import Stream
from archlab.engines.streams import connect_streams

PRODUCER = """
import sys
from archlab.blocks.stream import Stream
from archlab.engines.streams import connect_streams

stream = Stream(connect_streams(sys.argv[1]), "clicks")
for batch in range(1_000_000):
    stream.put_records(
        [{"Data": f"{batch}-{i}".encode(), "PartitionKey": f"user-{i}"} for i in range(50)]
    )
    print(batch, flush=True)
"""


def test_every_acknowledged_put_of_a_killed_producer_is_there_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/streams.db"
    stream = Stream.create(connect_streams(url), "clicks", shard_count=3)
    producer = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(PRODUCER), url],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert producer.stdout is not None
    acknowledged = [int(producer.stdout.readline())]  # the first put, however slow the start
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        acknowledged.append(int(producer.stdout.readline()))
    os.kill(producer.pid, signal.SIGKILL)
    producer.wait(timeout=10)

    stored: list[str] = []
    for shard in stream.describe().shards:
        iterator = stream.get_shard_iterator(shard.shard_id, "TRIM_HORIZON")
        while True:
            page = stream.get_records(iterator)
            stored.extend(record.data.decode() for record in page.records)
            iterator = page.next_shard_iterator
            if page.millis_behind_latest == 0:
                break
    print(f"acknowledged {len(acknowledged)} puts, stored {len(stored)} records")
    copies = Counter(stored)
    assert max(copies.values()) == 1
    for batch in acknowledged:
        assert all(copies[f"{batch}-{i}"] == 1 for i in range(50)), f"batch {batch} lost"
    per_batch = Counter(int(data.split("-")[0]) for data in stored)
    assert set(per_batch.values()) == {50}  # the call that was killed wrote all or nothing
    assert max(per_batch) <= acknowledged[-1] + 1
