"""Benchmark: the notes' comparison -- images in an object store, or as BLOBs in the database.

The images system runs twice under the supervisor, on the same machine and the same phone-like
12 MP sources: the ``files`` profile (originals and renditions as files, metadata in the table's
SQLite database) and the ``blobs`` profile (the same code, every image a BLOB in that database).
For each, one run measures:

* upload latency (p50, p95) of the originals, one upload at a time;
* the database's size once every rendition is made, against the object store's;
* the time to back the database up (SQLite's online backup, as a nightly job would);
* the metadata query an owner's listing makes (p50), as the database grows;
* reads straight from storage, in process: every rendition and original in turn (reads/s,
  p50 and p99 over the bytes as they come), the storage's own cost;
* a rendition read from storage on every request, through a presigned URL (requests/s and
  p99 with wrk), and the same rendition through ``GET /images/{id}``, where the API keeps
  ready renditions in memory whatever the storage.

Prints one JSON object; ``--quick`` uploads fewer images; ``--record`` appends to
docs/benchmarks.md.

    uv run python bench/images_tradeoff.py --record
"""

from __future__ import annotations

# isort: off
import benchkit  # first: it moves bench/ to the end of the import path

# isort: on
import argparse
import json
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from archlab.blocks.bucket import Bucket
from archlab.engines.objectstore import connect_objects
from archlab.runtime.supervisor import supervised
from archlab.systems.images.topology import PROFILES
from archlab.systems.images.wiring import BUCKET
from images import IPHONE, free_port, phone_source, wrk

DESIGNS = ("files", "blobs")
HEADERS = {"User-Agent": IPHONE, "Accept": "image/avif,image/webp,*/*"}


def directory_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def database_bytes(path: Path) -> int:
    """The database file's size once its write-ahead log is checkpointed into it."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


def backup_seconds(path: Path, directory: Path) -> float:
    target = directory / "backup.db"
    started = time.perf_counter()
    with sqlite3.connect(path) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    elapsed = time.perf_counter() - started
    target.unlink()
    return elapsed


def upload_all(client: httpx.Client, sources: list[bytes]) -> tuple[list[str], list[float]]:
    ids, latencies = [], []
    for data in sources:
        started = time.perf_counter()
        response = client.post(
            "/images", params={"owner": "bench", "region": "eu", "category": "claims"}, content=data
        )
        response.raise_for_status()
        latencies.append((time.perf_counter() - started) * 1000)
        ids.append(response.json()["id"])
    return ids, latencies


def wait_ready(client: httpx.Client, ids: list[str], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    for image_id in ids:
        while client.get(f"/images/{image_id}/meta").json()["status"] != "ready":
            if time.monotonic() > deadline:
                raise TimeoutError(f"image {image_id} not ready in {timeout} s")
            time.sleep(0.1)


def listing_ms(client: httpx.Client, calls: int = 50) -> float:
    timings = []
    for _ in range(calls):
        started = time.perf_counter()
        client.get("/images", params={"owner": "bench", "limit": 20}).raise_for_status()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def storage_reads(url: str, seconds: float) -> dict[str, float]:
    """Read every object of the bucket in turn, for ``seconds``: reads/s, p50 and p99."""
    bucket = Bucket(connect_objects(url), BUCKET)
    keys = [entry.key for entry in bucket.list(max_keys=1000).contents]
    timings: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for key in keys:
            started = time.perf_counter()
            bucket.get(key)
            timings.append((time.perf_counter() - started) * 1000)
    return {
        "reads_per_s": len(timings) / seconds,
        "p50_ms": percentile(timings, 0.5),
        "p99_ms": percentile(timings, 0.99),
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run(design: str, sources: list[bytes], directory: Path, seconds: float) -> dict[str, float]:
    port = free_port()
    home = directory / design
    os.environ["ARCHLAB_HOME"] = str(home)
    os.environ["ARCHLAB_IMAGES_PORT"] = str(port)
    base = f"http://127.0.0.1:{port}"
    with (
        supervised([PROFILES[design]()], home, f"sqlite:///{home}/messaging.db"),
        httpx.Client(base_url=base, timeout=60) as client,
    ):
        ids, uploads = upload_all(client, sources)
        wait_ready(client, ids)
        found = client.get(f"/images/{ids[-1]}?delivery=redirect", headers=HEADERS)
        presigned = found.headers["location"]
        from_storage = wrk(presigned, seconds)
        from_memory = wrk(f"{base}/images/{ids[-1]}", seconds)
        listing = listing_ms(client)
    database = home / "tables.db"
    storage_url = f"sqlite:///{database}" if design == "blobs" else f"file:///{home}/objects"
    direct = storage_reads(storage_url, seconds)
    return {
        f"{design}_upload_p50_ms": percentile(uploads, 0.5),
        f"{design}_upload_p95_ms": percentile(uploads, 0.95),
        f"{design}_database_mb": database_bytes(database) / 1e6,
        f"{design}_database_mb_per_image": database_bytes(database) / 1e6 / len(sources),
        f"{design}_object_store_mb": directory_bytes(home / "objects") / 1e6,
        f"{design}_database_backup_s": backup_seconds(database, directory),
        f"{design}_owner_listing_p50_ms": listing,
        f"{design}_direct_reads_per_s": direct["reads_per_s"],
        f"{design}_direct_read_p50_ms": direct["p50_ms"],
        f"{design}_direct_read_p99_ms": direct["p99_ms"],
        f"{design}_presigned_requests_per_s": from_storage["cached_requests_per_s"],
        f"{design}_presigned_p99_ms": from_storage["cached_p99_ms"],
        f"{design}_api_cached_requests_per_s": from_memory["cached_requests_per_s"],
        f"{design}_api_cached_p99_ms": from_memory["cached_p99_ms"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="four images a design, 3 s loads")
    parser.add_argument("--record", action="store_true", help="append to docs/benchmarks.md")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("this benchmark needs wrk: apt-get install wrk")
    count, seconds = (4, 3.0) if args.quick else (12, 10.0)
    sources = [phone_source(seed) for seed in range(count)]
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as directory:
        for design in DESIGNS:
            figures.update(run(design, sources, Path(directory), seconds))
    report: dict[str, Any] = {
        **benchkit.report("images_tradeoff", "uv run python bench/images_tradeoff.py"),
        "images": count,
        "source_mb": round(sum(map(len, sources)) / count / 1e6, 2),
        "figures": {key: round(value, 2) for key, value in figures.items()},
    }
    print(json.dumps(report))
    if args.record:
        notes = [
            f"{count} phone-like 12 MP JPEG sources of {report['source_mb']} MB on average,"
            " each with its 23 renditions."
        ]
        benchkit.append_record(
            "Images: object store vs database BLOBs",
            report,
            notes,
            benchkit.figures_table(report["figures"]),
        )


if __name__ == "__main__":
    main()
