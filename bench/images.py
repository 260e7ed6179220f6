"""Benchmark: the images system with 12 MP JPEG sources.

In one run:

* renditions: sources per second through three JPEG renditions (160, 480 and 1024 pixels
  wide), through the same three in WebP, and through the whole default set (4 sizes x 2
  densities x JPEG, WebP, AVIF), with libvips limited to one thread, so each figure is per core;
* peak RSS of a worker process making the whole set for several sources;
* the time to refuse a decompression bomb (a 20,000 x 20,000 PNG);
* with the system running under the supervisor: upload -> renditions-ready latency (p50, p95)
  when idle, and requests/s and p99 for a rendition already made, measured with wrk (2 threads,
  8 connections, on the same two cores as the server).

The source is deliberately hard: Gaussian noise, which JPEG cannot compress away, at quality 90.
Prints one JSON object; ``--quick`` runs in about a minute and a half; ``--record`` appends to
docs/benchmarks.md.

    uv run python bench/images.py --record
"""

from __future__ import annotations

# isort: off
import benchkit  # first: it moves bench/ to the end of the import path

# isort: on
import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import httpx
import pyvips

from archlab.runtime.supervisor import supervised
from archlab.systems.images.formats import ImageRejected, inspect
from archlab.systems.images.renditions import DEFAULT_RENDITIONS, RenditionSet
from archlab.systems.images.topology import files

THREE = {"thumb": 160, "mobile": 480, "tablet": 1024}
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148 Safari/604.1"


def source() -> bytes:
    noise = pyvips.Image.gaussnoise(4000, 3000, mean=128, sigma=40)
    image = noise.bandjoin([noise.rot180(), noise.fliphor()]).cast("uchar")
    return bytes(image.copy(interpretation="srgb").jpegsave_buffer(Q=90))


def rate(seconds: float, step: Any) -> float:
    step()  # warm up
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        step()
        done += 1
    return done / (time.perf_counter() - started)


def renditions(data: bytes, seconds: float) -> dict[str, float]:
    pyvips.concurrency_set(1)  # one core's worth
    jpeg = RenditionSet(THREE, densities=(1,), formats=("jpeg",))
    webp = RenditionSet(THREE, densities=(1,), formats=("webp",))
    figures = {
        "jpeg3_sources_per_s_per_core": rate(seconds, lambda: jpeg.make(data)),
        "webp3_sources_per_s_per_core": rate(seconds, lambda: webp.make(data)),
        "full_set_sources_per_s_per_core": rate(seconds, lambda: DEFAULT_RENDITIONS.make(data)),
    }
    pyvips.concurrency_set(0)
    return figures


def peak_rss_mb(data: bytes, directory: str, sources: int) -> float:
    """A fresh process making the whole set ``sources`` times: its peak resident memory, with
    malloc set up as the runtime sets up its workers (``archlab.runtime.processes``)."""
    path = Path(directory) / "source.jpg"
    path.write_bytes(data)
    code = (
        "import resource, sys; from pathlib import Path\n"
        "from archlab.systems.images.renditions import DEFAULT_RENDITIONS\n"
        f"data = Path({str(path)!r}).read_bytes()\n"
        f"for _ in range({sources}): DEFAULT_RENDITIONS.make(data)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    command = [sys.executable, "-c", code]
    environment = {**os.environ, "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2")}
    output = subprocess.run(command, capture_output=True, text=True, check=True, env=environment)
    return int(output.stdout.strip()) / 1024  # ru_maxrss is in KiB on Linux


def bomb_ms() -> float:
    bomb = bytes(pyvips.Image.black(20_000, 20_000).pngsave_buffer(compression=9))
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        with contextlib.suppress(ImageRejected):
            inspect(bomb)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def running_system(data: bytes, uploads: int, seconds: float, directory: str) -> dict[str, float]:
    port = free_port()
    home = Path(directory) / "home"
    os.environ["ARCHLAB_HOME"] = str(home)
    os.environ["ARCHLAB_IMAGES_PORT"] = str(port)
    base = f"http://127.0.0.1:{port}"
    with supervised([files()], home, f"sqlite:///{home}/messaging.db"):
        ready = []
        image_id = ""
        for _ in range(uploads):
            started = time.perf_counter()
            request = urllib.request.Request(
                f"{base}/images?owner=bench&region=eu&category=claims", data=data, method="POST"
            )
            with urllib.request.urlopen(request, timeout=60) as response:
                image_id = json.load(response)["id"]
            while True:
                with urllib.request.urlopen(f"{base}/images/{image_id}/meta") as response:
                    if json.load(response)["status"] == "ready":
                        break
                time.sleep(0.02)
            ready.append((time.perf_counter() - started) * 1000)
        served = cached_requests(f"{base}/images/{image_id}", seconds)
    ready.sort()
    return {
        "upload_to_ready_p50_ms": ready[len(ready) // 2],
        "upload_to_ready_p95_ms": ready[min(len(ready) - 1, round(0.95 * len(ready)))],
        **served,
    }


def cached_requests(url: str, seconds: float) -> dict[str, float]:
    """Requests/s and p99 for one made rendition (an iPhone asking for AVIF): with wrk when it
    is installed (``apt-get install wrk``), else with Python client threads, which measure the
    client more than the server (a trivial FastAPI route reads about 115 requests/s that way)."""
    if shutil.which("wrk"):
        return wrk(url, seconds)
    return python_clients(url, seconds)


def wrk(url: str, seconds: float) -> dict[str, float]:
    command = ["wrk", "-t2", "-c8", f"-d{max(1, round(seconds))}s", "--latency"]
    command += ["-H", f"User-Agent: {IPHONE}", "-H", "Accept: image/avif,image/webp,*/*", url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return {"cached_requests_per_s": rate, "cached_p99_ms": float(value) * scale}


def python_clients(url: str, seconds: float, clients: int = 4) -> dict[str, float]:
    """Several client threads fetching the same rendition."""
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    headers = {"User-Agent": IPHONE, "Accept": "image/avif,image/webp,*/*"}

    def client() -> None:
        mine = []
        with httpx.Client(headers=headers) as session:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                session.get(url).raise_for_status()
                mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    return {
        "cached_requests_per_s": len(latencies) / seconds,
        "cached_p99_ms": latencies[int(0.99 * (len(latencies) - 1))],
    }


def record(report: dict[str, Any]) -> None:
    source = (
        "Source: 4000 x 3000 Gaussian noise, JPEG quality 90"
        f" ({report['source_bytes'] / 1e6:.1f} MB)."
    )
    benchkit.append_record("Images", report, [source], benchkit.figures_table(report["figures"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (about a minute)")
    parser.add_argument("--record", action="store_true", help="append to docs/benchmarks.md")
    args = parser.parse_args()
    seconds, uploads = (3.0, 5) if args.quick else (10.0, 10)
    data = source()
    figures: dict[str, float] = {}
    figures.update(renditions(data, seconds))
    figures["bomb_refused_ms"] = bomb_ms()
    with tempfile.TemporaryDirectory() as directory:
        figures["worker_peak_rss_mb"] = peak_rss_mb(data, directory, 2 if args.quick else 5)
        figures.update(running_system(data, uploads, seconds, directory))
    report = {
        **benchkit.report("images", "uv run python bench/images.py"),
        "source_bytes": len(data),
        "figures": {key: round(value, 2) for key, value in figures.items()},
    }
    report.update(report["figures"])
    print(json.dumps(report))
    if args.record:
        record(report)


if __name__ == "__main__":
    main()
