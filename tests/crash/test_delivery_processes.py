"""The delivery stream under real processes and SIGKILL, with the real clock.

A delivering process killed at any point -- while putting, converting, writing a file, or
between a file's rename and the commit that forgets its records -- loses nothing acknowledged
and duplicates nothing: the next delivery does the unfinished round again, into the same files.
"""

from __future__ import annotations

import base64
import inspect
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

import duckdb
import pytest

from archlab.lake import parquet_writer
from archlab.lake.delivery import DeliveryStream

STREAM = {
    "prefix": "events/part=!{partitionKeyFromQuery:part}/",
    "partition_keys": {"part": ".part"},
    "schema": {"id": "bigint", "part": "string", "page": "string"},
}
RANDOM_KILLS_S = 3.5


def open_stream(root: Path, **options: object) -> DeliveryStream:
    return DeliveryStream("events", root, **{**STREAM, **options})  # type: ignore[arg-type]


def start(code: str, root: Path, **options: object) -> subprocess.Popen[str]:
    """A Python process running ``code`` with ``stream`` open on the lake at ``root``; it
    prints "ready" first."""
    prelude = textwrap.dedent(
        f"""
        import json, os, signal
        from archlab.lake import delivery, delivery_buffer, parquet_writer
        stream = delivery.DeliveryStream("events", {str(root)!r}, **{ {**STREAM, **options}!r})
        print("ready", flush=True)
        """
    )
    return subprocess.Popen(
        [sys.executable, "-c", prelude + textwrap.dedent(code)], stdout=subprocess.PIPE, text=True
    )


def record(i: int) -> bytes:
    """Record ``i``: one of three partitions, and every 50th one bad (no partition key)."""
    if i % 50 == 49:
        return json.dumps({"id": i}).encode()
    return json.dumps({"id": i, "part": f"p{i % 3}", "page": f"/{i}"}).encode()


def delivered_files(root: Path) -> list[Path]:
    """The lake's data files, without the temporaries of writes a kill interrupted."""
    return [
        path
        for path in root.glob("events/**/*.parquet")
        if not path.name.startswith(parquet_writer.TEMPORARY)
    ]


def temporaries(root: Path) -> list[Path]:
    return [path for path in root.rglob(f"{parquet_writer.TEMPORARY}*")]


def lake_ids(root: Path) -> Counter[int]:
    files = [str(path) for path in delivered_files(root)]
    if not files:
        return Counter()
    rows = duckdb.sql(f"SELECT id FROM read_parquet({files!r})").fetchall()
    return Counter(row[0] for row in rows)


def error_ids(root: Path) -> Counter[int]:
    found: Counter[int] = Counter()
    for path in root.glob("errors/**/*.jsonl"):
        for line in path.read_text().splitlines():
            found[json.loads(base64.b64decode(json.loads(line)["rawData"]))["id"]] += 1
    return found


DIE = "lambda *arguments: os.kill(os.getpid(), signal.SIGKILL)"
KILL_POINTS = {
    "after the round was sealed, before any file": f"delivery.write_atomically = {DIE}",
    "after the first file's rename, before the others": """
        first_file = delivery.write_atomically
        def write_atomically(path, data):
            renamed = path.parents[2].rglob("*.parquet")
            if [p for p in renamed if not p.name.startswith(parquet_writer.TEMPORARY)]:
                os.kill(os.getpid(), signal.SIGKILL)
            first_file(path, data)
        delivery.write_atomically = write_atomically
    """,
    "after every file's rename, before the commit": (
        f"delivery_buffer.DeliveryBuffer.commit = {DIE}"
    ),
}


@pytest.mark.parametrize("where", KILL_POINTS)
def test_a_deliverer_killed_mid_round_leaves_its_round_to_be_done_again(
    tmp_path: Path, where: str
) -> None:
    records = [record(i) for i in range(100)]
    child = start(
        f"""
        stream.put_record_batch({records!r})
        {textwrap.dedent(KILL_POINTS[where]).strip().replace(chr(10), chr(10) + " " * 8)}
        stream.flush()
        """,
        tmp_path,
    )
    child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL, where
    # Files are written side by side: others than the one renamed may be temporaries, which
    # are not delivered files (the redo writes them again under their names).
    written = {path: path.read_bytes() for path in delivered_files(tmp_path)}
    stream = open_stream(tmp_path)
    report = stream.flush()
    assert (report.records, report.failed) == (98, 2)
    for path, content in written.items():
        assert path.read_bytes() == content  # written again, the same, under the same name
    assert not temporaries(tmp_path)
    assert lake_ids(tmp_path) == Counter(i for i in range(100) if i % 50 != 49)
    assert error_ids(tmp_path) == Counter([49, 99])
    metrics = stream.metrics()
    assert (metrics.records_in, metrics.records_delivered, metrics.records_failed) == (100, 98, 2)
    assert metrics.files_written == 4 and metrics.records_buffered == 0


def test_every_acknowledged_record_is_in_the_lake_once_after_random_kills(
    tmp_path: Path,
) -> None:
    """A process puts batches of 1 to 50 records and delivers after each (an interval of 0
    makes every call a round), and is killed at a random moment, again and again, for a few
    seconds; then what was acknowledged is counted."""
    chance = random.Random(1)
    acknowledged: list[int] = []
    deadline = time.monotonic() + RANDOM_KILLS_S
    runs = 0
    while time.monotonic() < deadline:
        child = start(
            f"""
            {inspect.getsource(record).replace(chr(10), chr(10) + " " * 12)}
            for batch in range(100_000):
                first = {runs * 1_000_000} + batch * 50
                ids = range(first, first + batch * 37 % 50 + 1)
                stream.put_record_batch([record(i) for i in ids])
                print(first, len(ids), flush=True)
                stream.deliver_due()
            """,
            tmp_path,
            interval_s=0,
            size_mib=1,
        )
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n"
        time.sleep(chance.uniform(0.0, 0.3))
        os.kill(child.pid, signal.SIGKILL)
        out, _ = child.communicate(timeout=30)
        for line in out.splitlines():
            first, count = map(int, line.split())
            acknowledged.extend(range(first, first + count))
        runs += 1
    open_stream(tmp_path).flush()
    assert not temporaries(tmp_path), "a killed write's temporary was left behind"
    delivered, failed = lake_ids(tmp_path), error_ids(tmp_path)
    assert runs >= 3 and acknowledged
    assert max((delivered + failed).values()) == 1, "a record reached the lake twice"
    for i in acknowledged:
        assert (failed if i % 50 == 49 else delivered)[i] == 1, f"record {i} was lost"
