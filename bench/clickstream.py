"""Benchmark: the clickstream, from events to dashboards.

Events are the collector's records, made once from ``traffic.visits`` and checked as the
collector checks them (``events.check``), encoded as the collector encodes them (compact JSON,
about 480 bytes each), and cached under ``~/.cache/archlab-bench``. In one run:

* batched ingest: a producer process hands the events to the delivery stream in batches of 500
  (``put_record_batch``, each batch durable in the buffer before it is acknowledged) while a
  deliverer process calls ``deliver_due`` in a loop, as the system's scheduled deliverer does;
  the stream is the system's own (``pipeline.delivery_stream``: ``dt=``/``hour=`` partitions,
  zstd Parquet, 5 MiB or 60 s). Events/s from the first put to the last file committed (the
  buffer flushed when the producer is done). The events are a day's visits as generated, so
  every batch spans the day's 24 hour-partitions (a backfill's shape, the hardest); then again
  sorted by arrival, as a live stream brings them (an hour's partition at a time). Then the
  two sides alone: puts into an empty buffer, and the deliverer emptying a full one;
* the direct path (``deliver``): batches of 10,000 records (a Kinesis GetRecords' most) and of
  100,000, converted and written at once;
* the HTTP collector: ``create_collector_app`` over the SQLite stream, served by uvicorn in a
  process of its own on loopback; wrk (one thread, 16 connections, a Lua script) posts a fixed
  batch of 100 events: events/s accepted onto the stream, and then end to end with a to-lake
  process draining the stream into the delivery stream as the system's consumer does
  (``pipeline.drain``) and delivering (``deliver_due``): events/s from the first request to the
  last file committed;
* delivery latency: one put of 100 events every 50 ms, a deliverer polling every 10 ms, with a
  buffer interval of 0 s and of 1 s: from a put to the commit of the file holding it, p50/p95;
* the crawler over 1,000 ``dt=``/``hour=`` partitions of one small Parquet file each: the first
  crawl (every footer read, every partition registered), a re-crawl by the same crawler, and a
  re-crawl by a fresh crawler that has only the cache file;
* the dashboard's four queries (``dashboard.queries(days=7)``) on a lake of 10 million events
  over 30 days, crawled: p50/p95 ms of each over repeated runs, bytes scanned and Athena's
  price. The lake is built once (the direct path, a day a batch, in two processes) and cached
  under ``~/.cache/archlab-bench/clickstream-<events>-<days>-<seed>``.

Prints one JSON object; ``--quick`` uses fewer events and a 1-million-event lake; ``--record``
appends to docs/benchmarks.md (``--record-from RUN.json`` records a saved run instead);
``--only batched,alone,direct,collector,latency,crawler,dashboard`` runs some phases.

    uv run python bench/clickstream.py --record
"""

from __future__ import annotations

# isort: off
import benchkit  # first: it moves bench/ to the end of the import path

# isort: on
import argparse
import datetime
import json
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

CACHE = Path(os.environ.get("ARCHLAB_BENCH_CACHE", Path.home() / ".cache" / "archlab-bench"))
CACHE_VERSION = 1
"""Part of every cached name: bump it when what is cached changes."""
PUT_BATCH = 500
DAY_MS = 86_400_000
SPAWN = multiprocessing.get_context("spawn")


def say(message: str) -> None:
    print(f"[clickstream] {message}", file=sys.stderr, flush=True)


def cpu_seconds() -> float:
    """This process's CPU time so far, its threads' included."""
    return time.process_time()


def process_cpu(pid: int | None) -> float:
    """Another process's CPU time so far (Linux), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


# --- events ----------------------------------------------------------------------------------


def checked_records(events: int, days: float, now_ms: int, seed: int) -> Iterator[bytes]:
    """The collector's records of synthetic visits, as ``cli._checked_visits`` makes them:
    each visit checked the moment its last event happened, then encoded as the collector
    encodes it."""
    from archlab.systems.clickstream.events import check, client
    from archlab.systems.clickstream.traffic import visits

    for visit in visits(events, days, now_ms, seed):
        arrival = max(int(event["time"]) for event in visit.events) + 1_000
        checked = check(visit.events, client(visit.ip, visit.user_agent), min(arrival, now_ms))
        for record in checked.records:
            yield json.dumps(record, separators=(",", ":")).encode()


def _generate_part(args: tuple[int, float, int, int, str]) -> int:
    events, days, now_ms, seed, path = args
    made = 0
    with open(path, "wb") as out:
        for record in checked_records(events, days, now_ms, seed):
            out.write(record + b"\n")
            made += 1
    return made


def ingest_events(events: int, days: float = 1.0, seed: int = 0) -> Path:
    """A file of ``events`` records, one a line, over ``days`` (cached)."""
    path = CACHE / f"clickstream-events-v{CACHE_VERSION}-{events}-{days:g}-{seed}.jsonl"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    now_ms = int(time.time() * 1000)
    half = events // 2
    parts = [
        (half, days, now_ms, seed * 10 + 1, f"{path}.part1"),
        (events - half, days, now_ms, seed * 10 + 2, f"{path}.part2"),
    ]
    say(f"generating {events:,} events over {days:g} days (once, cached)")
    with SPAWN.Pool(2) as pool:
        pool.map(_generate_part, parts)
    with open(f"{path}.tmp", "wb") as out:
        for *_, part in parts:
            with open(part, "rb") as source:
                shutil.copyfileobj(source, out)
            os.unlink(part)
    os.replace(f"{path}.tmp", path)
    say(f"generated in {time.perf_counter() - started:.1f} s")
    return path


def in_arrival_order(path: Path) -> Path:
    """The events sorted by when the collector received them (cached): how a live stream
    brings them, an hour's partition at a time."""
    ordered = path.with_name(path.stem + "-arrival.jsonl")
    if not ordered.exists():
        records = read_events(path)
        at = re.compile(rb'"received_at":(\d+)')
        records.sort(key=lambda record: int(at.search(record).group(1)))  # type: ignore[union-attr]
        ordered.with_suffix(".tmp").write_bytes(b"".join(record + b"\n" for record in records))
        os.replace(ordered.with_suffix(".tmp"), ordered)
    return ordered


def read_events(path: Path, limit: int | None = None) -> list[bytes]:
    records = path.read_bytes().split(b"\n")[:-1]
    return records if limit is None else records[:limit]


# --- batched ingest --------------------------------------------------------------------------


def _producer(path: str, count: int, home: str, start: Any, report: Any) -> None:
    from archlab.systems.clickstream import pipeline

    records = read_events(Path(path), count)
    delivery = pipeline.delivery_stream(Path(home))
    start.wait()
    first, cpu = time.time(), cpu_seconds()
    for at in range(0, len(records), PUT_BATCH):
        delivery.put_record_batch(records[at : at + PUT_BATCH])
    report.put({"first_put": first, "last_put": time.time(), "cpu_s": cpu_seconds() - cpu})


def _deliverer(home: str, producer_done: Any, start: Any, report: Any, pause: float) -> None:
    from archlab.systems.clickstream import pipeline

    delivery = pipeline.delivery_stream(Path(home))
    start.wait()
    last_commit, cpu = time.time(), cpu_seconds()
    files = 0
    while True:
        done = producer_done.is_set()
        delivered = delivery.deliver_due()
        if delivered.files:
            files += len(delivered.files)
            last_commit = time.time()
            continue
        if done:
            break
        time.sleep(pause)
    flushed = delivery.flush()
    if flushed.files:
        files += len(flushed.files)
        last_commit = time.time()
    metrics = delivery.metrics()
    report.put(
        {
            "last_commit": last_commit,
            "files": files,
            "delivered": metrics.records_delivered,
            "failed": metrics.records_failed,
            "cpu_s": cpu_seconds() - cpu,
        }
    )


def batched_ingest(path: Path, count: int, directory: Path) -> dict[str, float]:
    """Producer and deliverer at once, each a process of its own."""
    home = directory / "batched"
    start, done = SPAWN.Event(), SPAWN.Event()
    produced, delivered = SPAWN.Queue(), SPAWN.Queue()
    producer = SPAWN.Process(target=_producer, args=(str(path), count, str(home), start, produced))
    deliverer = SPAWN.Process(target=_deliverer, args=(str(home), done, start, delivered, 0.01))
    from archlab.systems.clickstream import pipeline

    pipeline.delivery_stream(home).close()  # made once, before either opens it
    producer.start()
    deliverer.start()
    time.sleep(3)  # both have read their events and opened the stream
    start.set()
    puts = produced.get()
    done.set()
    result = delivered.get()
    producer.join()
    deliverer.join()
    if result["delivered"] != count:
        raise RuntimeError(f"delivered {result['delivered']:,} of {count:,} records")
    seconds = result["last_commit"] - puts["first_put"]
    return {
        "events": count,
        "events_per_s": count / seconds,
        "seconds": seconds,
        "producer_events_per_s": count / (puts["last_put"] - puts["first_put"]),
        "producer_cpu_us_per_event": puts["cpu_s"] / count * 1e6,
        "deliverer_cpu_us_per_event": result["cpu_s"] / count * 1e6,
        "files": result["files"],
    }


def sides_alone(records: list[bytes], directory: Path) -> dict[str, float]:
    """Puts into an empty buffer, then a deliverer emptying it, one after the other."""
    from archlab.systems.clickstream import pipeline

    delivery = pipeline.delivery_stream(directory / "alone")
    started = time.perf_counter()
    for at in range(0, len(records), PUT_BATCH):
        delivery.put_record_batch(records[at : at + PUT_BATCH])
    putting = time.perf_counter() - started
    started = time.perf_counter()
    files = 0
    while True:  # as the system's deliverer: again while it delivers files, then a flush
        delivered = delivery.deliver_due()
        files += len(delivered.files)
        if not delivered.files:
            break
    files += len(delivery.flush().files)
    delivering = time.perf_counter() - started
    return {
        "put_events_per_s": len(records) / putting,
        "put_ms_per_batch": putting / (len(records) / PUT_BATCH) * 1000,
        "deliver_events_per_s": len(records) / delivering,
        "deliver_files": files,
    }


def direct_path(records: list[bytes], directory: Path, batch: int) -> dict[str, float]:
    from archlab.systems.clickstream import pipeline

    delivery = pipeline.delivery_stream(directory / f"direct-{batch}")
    files = 0
    started = time.perf_counter()
    for at in range(0, len(records), batch):
        files += len(delivery.deliver(records[at : at + batch], batch_id=f"batch-{at}").files)
    seconds = time.perf_counter() - started
    return {"events_per_s": len(records) / seconds, "files": files}


# --- the HTTP collector ----------------------------------------------------------------------

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
)
COLLECT_BATCH = 100
WRK_CONNECTIONS = 16


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tracker_batch(count: int) -> bytes:
    """A tracker's request body: ``count`` events of recent visits, as the tracker sends them."""
    from archlab.systems.clickstream.traffic import visits

    now_ms = int(time.time() * 1000)
    events: list[dict[str, Any]] = []
    for visit in visits(count, 0.2, now_ms, seed=5):
        events += visit.events
    return json.dumps({"events": events[:count]}).encode()


def _serve_collector(home: str, port: int) -> None:
    import logging

    import uvicorn

    os.environ["ARCHLAB_HOME"] = home
    from archlab.systems.clickstream.collector import create_app

    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    uvicorn.run(create_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _to_lake(home: str, stop: Any, report: Any) -> None:
    """The system's to-lake side in one process: the stream drained into the delivery stream
    as its consumer does, and the deliverer's loop, until ``stop`` and nothing is left."""
    os.environ["ARCHLAB_HOME"] = home
    from archlab.systems.clickstream import pipeline

    stream, delivery = pipeline.stream(), pipeline.delivery_stream()
    last_commit, cpu, buffered = time.time(), cpu_seconds(), 0
    while True:
        stopping = stop.is_set()
        got = pipeline.drain(delivery, stream)
        buffered += got
        files = delivery.deliver_due().files
        if files:
            last_commit = time.time()
        if not got and not files:
            if stopping:
                break
            time.sleep(0.02)
    if delivery.flush().files:
        last_commit = time.time()
    metrics = delivery.metrics()
    report.put(
        {
            "last_commit": last_commit,
            "buffered": buffered,
            "delivered": metrics.records_delivered,
            "cpu_s": cpu_seconds() - cpu,
        }
    )


def wrk_post(url: str, body: bytes, seconds: float, directory: Path) -> dict[str, float]:
    script = directory / "collect.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(body.decode())}\n"
        'wrk.headers["Content-Type"] = "text/plain"\n'
        f'wrk.headers["User-Agent"] = "{IPHONE}"\n'
    )
    command = [
        "wrk", "-t1", f"-c{WRK_CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--latency",
        "-s", str(script), url,
    ]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)

    def latency(label: str) -> float:
        value, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {
        "requests_per_s": rate,
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "errors": int(errors.group(1)) if errors else 0,
    }


def collector(seconds: float, directory: Path, *, to_lake: bool) -> dict[str, float]:
    """wrk posting one batch again and again to the collector in its own process; with
    ``to_lake``, the stream delivered into the lake meanwhile by a third process."""
    import httpx

    from archlab.blocks.stream import Stream
    from archlab.engines.streams import connect_streams
    from archlab.systems.clickstream import pipeline

    home = directory / ("collector-lake" if to_lake else "collector")
    home.mkdir(parents=True)
    os.environ["ARCHLAB_HOME"] = str(home)
    try:
        Stream.create(connect_streams(f"sqlite:///{home}/streams.db"), pipeline.STREAM_NAME, 2)
        pipeline.delivery_stream().close()
    finally:
        del os.environ["ARCHLAB_HOME"]
    port = free_port()
    server = SPAWN.Process(target=_serve_collector, args=(str(home), port), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{port}"
    stop, report = SPAWN.Event(), SPAWN.Queue()
    lake = SPAWN.Process(target=_to_lake, args=(str(home), stop, report)) if to_lake else None
    try:
        wait_healthy(url + "/health")
        body = tracker_batch(COLLECT_BATCH)
        answer = httpx.post(url + "/collect", content=body, headers={"User-Agent": IPHONE})
        if answer.json().get("accepted") != COLLECT_BATCH:
            raise RuntimeError(f"the collector refused the batch: {answer.text[:300]}")
        if lake is not None:
            lake.start()
        started, server_cpu = time.time(), process_cpu(server.pid)
        load = wrk_post(url + "/collect", body, seconds, directory)
        ended, server_cpu = time.time(), process_cpu(server.pid) - server_cpu
        time.sleep(0.5)  # the requests wrk left in flight are answered
        accepted = httpx.get(url + "/stats").json()["accepted"] - COLLECT_BATCH
        figures = {
            "events_per_s": accepted / (ended - started),
            "requests_per_s": load["requests_per_s"],
            "p50_ms": load["p50_ms"],
            "p99_ms": load["p99_ms"],
            "errors": load["errors"],
            "collector_cpu_us_per_event": server_cpu / accepted * 1e6,
        }
        if lake is not None:
            stop.set()
            result = report.get(timeout=600)
            lake.join()
            if result["delivered"] != accepted + COLLECT_BATCH:
                raise RuntimeError(
                    f"delivered {result['delivered']:,} of {accepted + COLLECT_BATCH:,} events"
                )
            figures["end_to_end_events_per_s"] = accepted / (result["last_commit"] - started)
            figures["lake_cpu_us_per_event"] = result["cpu_s"] / result["delivered"] * 1e6
        return figures
    finally:
        server.terminate()
        server.join(10)


def wait_healthy(url: str, timeout: float = 30) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer")


# --- delivery latency ------------------------------------------------------------------------

LATENCY_PUT = 100
LATENCY_EVERY_S = 0.05
LATENCY_POLL_S = 0.01


def latency_stream(home: Path, interval_s: int) -> Any:
    from archlab.lake.delivery import DeliveryStream
    from archlab.systems.clickstream import pipeline
    from archlab.systems.clickstream.events import COLUMNS

    return DeliveryStream(
        pipeline.DELIVERY_NAME,
        home / "lake",
        prefix=pipeline.PREFIX,
        partition_keys=pipeline.PARTITION_KEYS,
        schema=COLUMNS,
        size_mib=pipeline.DEFAULT_BUFFER_MIB,
        interval_s=interval_s,
    )


def _latency_deliverer(home: str, interval_s: int, stop: Any, report: Any) -> None:
    """Poll ``deliver_due`` every ``LATENCY_POLL_S``; after each call that committed files,
    note when, and how many records the stream has delivered in all."""
    delivery = latency_stream(Path(home), interval_s)
    commits: list[tuple[float, int]] = []
    while not stop.is_set() or delivery.metrics().records_buffered:
        if delivery.deliver_due().files:
            commits.append((time.time(), delivery.metrics().records_delivered))
        time.sleep(LATENCY_POLL_S)
    report.put(commits)


def delivery_latency(
    records: list[bytes], interval_s: int, puts: int, directory: Path
) -> dict[str, float]:
    """One put of ``LATENCY_PUT`` records every ``LATENCY_EVERY_S`` into one partition (so
    that records are delivered in the order they were put), a deliverer in another process:
    from each put to the commit of the file holding its last record."""
    home = directory / f"latency-{interval_s}"
    delivery = latency_stream(home, interval_s)
    stop, report = SPAWN.Event(), SPAWN.Queue()
    deliverer = SPAWN.Process(target=_latency_deliverer, args=(str(home), interval_s, stop, report))
    deliverer.start()
    time.sleep(2)  # it has started
    sent: list[tuple[float, int]] = []
    total = 0
    next_put = time.monotonic()
    for number in range(puts):
        batch = records[number * LATENCY_PUT : (number + 1) * LATENCY_PUT]
        put_at = time.time()
        delivery.put_record_batch(batch)
        total += len(batch)
        sent.append((put_at, total))
        next_put += LATENCY_EVERY_S
        time.sleep(max(0.0, next_put - time.monotonic()))
    stop.set()
    commits = report.get(timeout=120)
    deliverer.join()
    latencies = []
    for put_at, needed in sent:
        committed = next(at for at, delivered in commits if delivered >= needed)
        latencies.append((committed - put_at) * 1000)
    return {
        "p50_ms": percentile(latencies, 0.5),
        "p95_ms": percentile(latencies, 0.95),
        "max_ms": max(latencies),
        "files": len(commits),
    }


def one_partition(path: Path, count: int) -> list[bytes]:
    """``count`` records of the events' busiest hour (one partition)."""
    records = read_events(path)
    hours: dict[bytes, list[bytes]] = {}
    for record in records:
        at = record.index(b'"event_date":')
        hours.setdefault(record[at : at + 50], []).append(record)
    busiest = max(hours.values(), key=len)
    if len(busiest) < count:
        raise RuntimeError(f"the busiest hour has {len(busiest)} events, not {count}")
    return busiest[:count]


# --- the crawler -----------------------------------------------------------------------------

CRAWL_PARTITIONS = 1_000


def crawler_run(path: Path, directory: Path) -> dict[str, float]:
    """1,000 dt=/hour= partitions of one small Parquet file each (20 events, the system's
    columns): a first crawl, a re-crawl by the same crawler, one by a fresh crawler that has
    only the cache file."""
    import pyarrow.parquet as pq

    from archlab.lake.crawler import Crawler
    from archlab.lake.parquet_writer import RecordReader, output_schema
    from archlab.systems.clickstream import pipeline
    from archlab.systems.clickstream.events import COLUMNS

    home = directory / "crawler"
    sample = read_events(path, 20)
    table = (
        RecordReader(output_schema(COLUMNS))
        .convert(b"\n".join(sample), [len(r) for r in sample])
        .table
    )
    events = pipeline.here(home).lake / pipeline.EVENTS
    first_day = datetime.date(2026, 1, 1)
    for number in range(CRAWL_PARTITIONS):
        day = first_day + datetime.timedelta(days=number // 24)
        folder = events / f"dt={day.isoformat()}" / f"hour={number % 24:02d}"
        folder.mkdir(parents=True)
        pq.write_table(table, folder / "part-0.parquet", compression="zstd")

    def timed(crawler: Crawler) -> tuple[float, int]:
        started = time.perf_counter()
        report = crawler.crawl()
        added = sum(len(values) for values in report.partitions_added.values())
        return time.perf_counter() - started, added

    first, added = timed(pipeline.crawler(home))
    if added != CRAWL_PARTITIONS:
        raise RuntimeError(f"the crawler added {added} partitions, not {CRAWL_PARTITIONS}")
    crawler = pipeline.crawler(home)
    again, _ = timed(crawler)
    again_same, _ = timed(crawler)
    return {
        "partitions": CRAWL_PARTITIONS,
        "first_crawl_s": first,
        "recrawl_fresh_crawler_s": again,
        "recrawl_same_crawler_s": again_same,
    }


# --- the dashboard ---------------------------------------------------------------------------

LAKE_DAYS = 30


def _build_day(args: tuple[str, int, int, int, int]) -> tuple[int, int, float]:
    """One day of the lake: its visits, checked, then delivered at once (the direct path)."""
    home, day, events, end_ms, seed = args
    from archlab.systems.clickstream import pipeline

    started = time.perf_counter()
    now_ms = end_ms - (LAKE_DAYS - 1 - day) * DAY_MS
    records = list(checked_records(events, 1.0, now_ms, seed * 1_000 + day))
    delivery = pipeline.delivery_stream(Path(home))
    delivery.deliver(records, batch_id=f"day-{day}", arrival=now_ms / 1000)
    delivery.close()
    return day, len(records), time.perf_counter() - started


def dashboard_lake(events: int, seed: int = 0) -> tuple[Path, datetime.date, float | None]:
    """The 10-million-event lake (built once, cached): its home, its last day, and how long
    building it took (None when it came from the cache)."""
    from archlab.systems.clickstream import pipeline

    home = CACHE / f"clickstream-{events}-{LAKE_DAYS}-{seed}-v{CACHE_VERSION}"
    done = home / "built.json"
    if done.exists():
        built = json.loads(done.read_text())
        return home, datetime.date.fromisoformat(built["last_day"]), None
    if home.exists():
        shutil.rmtree(home)  # a build that did not finish
    home.mkdir(parents=True)
    today = datetime.datetime.now(datetime.UTC).date()
    midnight = datetime.datetime.combine(today, datetime.time(), datetime.UTC)
    end_ms = int(midnight.timestamp() * 1000) + DAY_MS - 1
    per_day = events // LAKE_DAYS
    say(f"building the lake: {events:,} events over {LAKE_DAYS} days into {home} (once)")
    pipeline.delivery_stream(home).close()
    started = time.perf_counter()
    made = 0
    jobs = [(str(home), day, per_day, end_ms, seed) for day in range(LAKE_DAYS)]
    with SPAWN.Pool(2) as pool:
        for finished, (day, count, seconds) in enumerate(pool.imap_unordered(_build_day, jobs), 1):
            made += count
            elapsed = time.perf_counter() - started
            left = elapsed / finished * (LAKE_DAYS - finished)
            say(
                f"  day {day + 1:2d} done ({count:,} events, {seconds:.0f} s): {finished}/"
                f"{LAKE_DAYS} days, {made:,} events, {elapsed:.0f} s, about {left:.0f} s left"
            )
    crawl_started = time.perf_counter()
    report = pipeline.crawler(home).crawl()
    build_seconds = time.perf_counter() - started
    partitions = sum(len(values) for values in report.partitions_added.values())
    say(
        f"built in {build_seconds:.0f} s (crawled {partitions} partitions in"
        f" {time.perf_counter() - crawl_started:.1f} s)"
    )
    done.write_text(
        json.dumps(
            {
                "events": made,
                "last_day": today.isoformat(),
                "build_seconds": build_seconds,
                "partitions": partitions,
            }
        )
    )
    return home, today, build_seconds


def dashboard(events: int, runs: int) -> dict[str, Any]:
    """Each dashboard query (the last 7 days) ``runs`` times after two warm-ups: p50/p95 of
    ``Lake.query`` as the dashboard calls it (traffic and the funnel from the session-hours
    rollup, brought up to date first, and again from the events alone), bytes scanned and
    Athena's price."""
    from archlab.lake.query import Lake
    from archlab.systems.clickstream import dashboard as panels
    from archlab.systems.clickstream import pipeline

    home, last_day, build_seconds = dashboard_lake(events)
    built = json.loads((home / "built.json").read_text())
    opened = time.perf_counter()
    lake = Lake(pipeline.catalog(home))
    open_s = time.perf_counter() - opened
    noon = datetime.datetime.combine(last_day, datetime.time(12), datetime.UTC)
    figures: dict[str, Any] = {
        "events": built["events"],
        "partitions": built["partitions"],
        "files": sum(1 for _ in (pipeline.here(home).lake / pipeline.EVENTS).rglob("*.parquet")),
        "lake_mb": sum(
            f.stat().st_size for f in (pipeline.here(home).lake / pipeline.EVENTS).rglob("*")
        )
        / 1e6,
        "build_s": built["build_seconds"],
        "built_now": build_seconds is not None,
        "lake_open_s": open_s,
    }
    rolled_started = time.perf_counter()
    rollup = pipeline.session_hours(home).run()
    figures["rollup_s"] = time.perf_counter() - rolled_started
    figures["rollup_hours_built"] = len(rollup.hours_rolled)
    lake.refresh()
    fresh = panels.fresh_hours(lake, panels.since(7, noon))
    figures["rollup_fresh_hours"] = sum(len(hours) for hours in fresh.values())
    asked = panels.queries(days=7, now=noon, rolled=fresh)
    raw = panels.queries(days=7, now=noon)
    asked |= {f"{name} (events only)": raw[name] for name in ("traffic", "funnel")}
    try:
        for name, sql in asked.items():
            timings, result = [], None
            for run in range(runs + 2):
                started = time.perf_counter()
                result = lake.query(sql)
                if run >= 2:
                    timings.append((time.perf_counter() - started) * 1000)
            assert result is not None
            figures[name] = {
                "p50_ms": percentile(timings, 0.5),
                "p95_ms": percentile(timings, 0.95),
                "rows": result.table.num_rows,
                "bytes_scanned": result.bytes_scanned,
                "cost_usd": result.cost_usd,
            }
        everything = lake.query("SELECT count(*) AS n FROM clickstream.events")
        week = lake.query(
            f"SELECT count(*) AS n FROM clickstream.events WHERE dt >= '{panels.since(7, noon)}'"
        )
        figures["events_in_lake"] = everything.table.column(0)[0].as_py()
        figures["events_in_7_days"] = week.table.column(0)[0].as_py()
    finally:
        lake.close()
    return figures


# --- the run ---------------------------------------------------------------------------------


TARGETS = {
    "batched": ">= 200,000 events/s",
    "collector": ">= 20,000 events/s",
    "crawler": "<= 2 s",
    "query": "p95 <= 100 ms",
}


def rounded(value: Any) -> Any:
    if isinstance(value, float):  # three decimals, or three digits for a small value
        return round(value, 3) if abs(value) >= 1 else float(f"{value:.3g}")
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    return value


def record(report: dict[str, Any]) -> None:
    """Append the run to docs/benchmarks.md: one row a figure, with its target."""
    f = report["figures"]
    rows = ["| measure | value | target |", "|---|---:|---|"]

    def row(name: str, value: float, unit: str = "", target: str = "") -> None:
        shown = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
        rows.append(f"| {name} | {shown}{unit} | {target} |")

    if "batched" in f:
        b, a = f["batched"], f["batched_arrival_order"]
        row("batched ingest, put_record_batch -> Parquet committed, events/s", b["events_per_s"],
            target=TARGETS["batched"])  # fmt: skip
        row("  the same, producer's rate meanwhile, events/s", b["producer_events_per_s"])
        row("  producer CPU, us/event", b["producer_cpu_us_per_event"])
        row("  deliverer CPU, us/event", b["deliverer_cpu_us_per_event"])
        row("  files", b["files"])
        row("batched ingest, events in arrival order, events/s", a["events_per_s"])
    if "batched_sides" in f:
        sides = f["batched_sides"]
        row("puts alone (batches of 500), events/s", sides["put_events_per_s"])
        row("  ms a put", sides["put_ms_per_batch"])
        row("deliverer alone, emptying the buffer, events/s", sides["deliver_events_per_s"])
    for batch in (10_000, 100_000):
        if f"direct_{batch}" in f:
            direct = f[f"direct_{batch}"]
            row(f"direct path, batches of {batch:,}, events/s", direct["events_per_s"])
            row("  files", direct["files"])
    if "collector" in f:
        alone, lake = f["collector"], f["collector_to_lake"]
        row("HTTP collector, events/s accepted onto the stream", alone["events_per_s"],
            target=TARGETS["collector"])  # fmt: skip
        row("  requests/s (100 events each)", alone["requests_per_s"])
        row("  p50 ms", alone["p50_ms"])
        row("  p99 ms", alone["p99_ms"])
        row("  collector CPU, us/event", alone["collector_cpu_us_per_event"])
        row("collector with the to-lake process, events/s accepted", lake["events_per_s"])
        row("  end to end, collector -> stream -> Parquet committed, events/s",
            lake["end_to_end_events_per_s"])  # fmt: skip
        row("  to-lake CPU (drain + deliver), us/event", lake["lake_cpu_us_per_event"])
    for interval in (0, 1):
        if f"latency_interval_{interval}s" in f:
            latency = f[f"latency_interval_{interval}s"]
            row(f"delivery latency, interval {interval} s, p50 ms", latency["p50_ms"])
            row(f"delivery latency, interval {interval} s, p95 ms", latency["p95_ms"])
    if "crawler" in f:
        crawl = f["crawler"]
        row("crawler, 1,000 partitions, first crawl s", crawl["first_crawl_s"],
            target=TARGETS["crawler"])  # fmt: skip
        row("  re-crawl by a fresh crawler (cache file), s", crawl["recrawl_fresh_crawler_s"])
        row("  re-crawl by the same crawler, s", crawl["recrawl_same_crawler_s"])
    if "dashboard" in f:
        d = f["dashboard"]
        row("lake: events", d["events"])
        row("  files (one a dt=/hour= partition)", d["files"])
        row("  MB", d["lake_mb"])
        row("  build (once, cached), s", d["build_s"])
        row("session-hours rollup: hours up to date for the week", d["rollup_fresh_hours"])
        if d["rollup_hours_built"]:
            row(f"  built now ({d['rollup_hours_built']} hours), s", d["rollup_s"])
        for name in ("traffic", "top_pages", "funnel", "purchases"):
            query = d[name]
            row(f"dashboard {name}, p50 ms", query["p50_ms"])
            row(f"dashboard {name}, p95 ms", query["p95_ms"], target=TARGETS["query"])
            row(f"  {name} MB scanned", query["bytes_scanned"] / 1e6)
        for name in ("traffic", "funnel"):
            query = d[f"{name} (events only)"]
            row(f"dashboard {name} from the events alone, p50 ms", query["p50_ms"])
            row("  p95 ms", query["p95_ms"])
    notes = [
        "Load from other processes on the same two cores (shared with other work): producer"
        " and deliverer, wrk (1 thread, 16 connections) and the collector and to-lake processes.",
        "Events: 1,000,000 over one day (24 hour-partitions, interleaved as generated); the"
        " lake: 10,000,000 over 30 days, queries over the last 7 (168 of 720 files).",
    ]
    benchkit.append_record("Clickstream", report, notes, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer events, a smaller lake")
    parser.add_argument("--record", action="store_true", help="append to docs/benchmarks.md")
    parser.add_argument("--only", default="", help="comma-separated phases (for profiling)")
    parser.add_argument("--record-from", type=Path, help="record a saved run's JSON, and exit")
    args = parser.parse_args()
    if args.record_from:
        record(json.loads(args.record_from.read_text()))
        return
    ingest = 300_000 if args.quick else 1_000_000
    lake_events = 1_000_000 if args.quick else 10_000_000
    only = set(filter(None, args.only.split(",")))
    figures: dict[str, Any] = {}
    path = ingest_events(1_000_000)
    with tempfile.TemporaryDirectory(prefix="archlab-clickstream-") as temporary:
        directory = Path(temporary)
        if not only or "batched" in only:
            say("batched ingest")
            figures["batched"] = batched_ingest(path, ingest, directory)
            say("batched ingest, in arrival order")
            figures["batched_arrival_order"] = batched_ingest(
                in_arrival_order(path), ingest, directory / "arrival"
            )
        if not only or "alone" in only:
            records = read_events(path, ingest)
            figures["batched_sides"] = sides_alone(records, directory)
        if not only or "direct" in only:
            records = read_events(path, ingest)
            for batch in (10_000, 100_000):
                figures[f"direct_{batch}"] = direct_path(records, directory, batch)
        seconds = 4.0 if args.quick else 10.0
        if not only or "collector" in only:
            say("HTTP collector")
            figures["collector"] = collector(seconds, directory, to_lake=False)
            figures["collector_to_lake"] = collector(seconds, directory, to_lake=True)
        if not only or "latency" in only:
            say("delivery latency")
            latency_puts = 40 if args.quick else 100
            hour = one_partition(path, LATENCY_PUT * latency_puts)
            for interval in (0, 1):
                figures[f"latency_interval_{interval}s"] = delivery_latency(
                    hour, interval, latency_puts, directory
                )
        if not only or "crawler" in only:
            say("crawler")
            figures["crawler"] = crawler_run(path, directory)
    if not only or "dashboard" in only:
        say("dashboard")
        figures["dashboard"] = dashboard(lake_events, 10 if args.quick else 40)
    report: dict[str, Any] = {
        **benchkit.report("clickstream", "uv run python bench/clickstream.py"),
        "figures": rounded(figures),
    }
    print(json.dumps(report))
    if args.record:
        record(report)


if __name__ == "__main__":
    main()
