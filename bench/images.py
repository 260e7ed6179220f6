"""Benchmark: the images system with 12 MP JPEG sources.

Two synthetic 4000 x 3000 sources, both JPEG at quality 90: ``phone``, textured like a photo
with sensor noise (4.5 MB, the size of a high-quality phone camera's JPEG), and ``hard``, pure
Gaussian noise that JPEG cannot compress away (17.4 MB, larger than any camera makes; decoding
it alone takes 0.27 s a core). In one run:

* renditions: sources per second through three JPEG renditions (160, 480 and 1024 pixels
  wide), through the same three in WebP, and through the whole default set (4 sizes x 2
  densities x JPEG, WebP, AVIF), with libvips held to one thread (per core), and the three-
  rendition sets again in two processes at once (both cores);
* peak RSS of a fresh worker-like process making the whole set for several sources;
* the time to refuse a decompression bomb (a 20,000 x 20,000 PNG);
* with the system running under the supervisor, phone sources: upload -> first renditions
  (the JPEG pass) and upload -> renditions ready (p50, p95) one upload at a time, and
  requests/s and p99 for a rendition already made, measured with wrk (2 threads, 8
  connections, on the same two cores as the server).

Prints one JSON object; ``--quick`` runs in about two minutes; ``--record`` appends to
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
import multiprocessing
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


def hard_source() -> bytes:
    noise = pyvips.Image.gaussnoise(4000, 3000, mean=128, sigma=40)
    image = noise.bandjoin([noise.rot180(), noise.fliphor()]).cast("uchar")
    return bytes(image.copy(interpretation="srgb").jpegsave_buffer(Q=90))


def phone_source(seed: int = 0) -> bytes:
    """Smooth shapes at three scales, fine texture and sensor noise in each channel; each
    ``seed`` a different picture."""
    width, height = 4000, 3000
    shapes = [
        pyvips.Image.perlin(width, height, cell_size=c, seed=10 * seed + s)
        for s, c in enumerate((384, 160, 64))
    ]
    texture = pyvips.Image.perlin(width, height, cell_size=8, seed=10 * seed + 9) * 20
    noise = pyvips.Image.gaussnoise(width, height, mean=0, sigma=6, seed=seed)
    channels = [
        shapes[i] * 90 + shapes[(i + 2) % 3] * 30 + texture + 128 + grain
        for i, grain in enumerate((noise, noise.rot180(), noise.fliphor()))
    ]
    image = channels[0].bandjoin(channels[1:]).cast("uchar")
    return bytes(image.copy(interpretation="srgb").jpegsave_buffer(Q=90))


SOURCES = {"phone": phone_source, "hard": hard_source}


def rate(seconds: float, step: Any) -> float:
    step()  # warm up
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        step()
        done += 1
    return done / (time.perf_counter() - started)


SETS = {
    "jpeg3": RenditionSet(THREE, densities=(1,), formats=("jpeg",)),
    "webp3": RenditionSet(THREE, densities=(1,), formats=("webp",)),
    "full_set": DEFAULT_RENDITIONS,
}


def one_core_rate(name: str, data: bytes, seconds: float) -> float:
    """Sources per second through the set ``name``, libvips held to one thread."""
    pyvips.concurrency_set(1)
    try:
        return rate(seconds, lambda: SETS[name].make(data))
    finally:
        pyvips.concurrency_set(0)


def renditions(label: str, data: bytes, seconds: float) -> dict[str, float]:
    figures = {
        f"{label}_{name}_sources_per_s_per_core": one_core_rate(name, data, seconds)
        for name in SETS
    }
    for name in ("jpeg3", "webp3"):  # two processes, one a core
        # Spawned, not forked: a fork of a process whose libvips threads are running can hang.
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            rates = pool.starmap(one_core_rate, [(name, data, seconds)] * 2)
        figures[f"{label}_{name}_sources_per_s_2_cores"] = sum(rates)
    return figures


def peak_rss_mb(data: bytes, directory: str, sources: int) -> float:
    """A fresh process making the whole set ``sources`` times: its peak resident memory, with
    malloc set up as the runtime sets up its workers (``archlab.runtime.processes``).

    The peak is the process's own VmHWM, not ``getrusage``'s ru_maxrss: Linux carries
    ru_maxrss over an exec, so a child of this (large) process would report this one's peak."""
    path = Path(directory) / "source.jpg"
    path.write_bytes(data)
    code = (
        "import re; from pathlib import Path\n"
        "from archlab.systems.images.renditions import DEFAULT_RENDITIONS\n"
        f"data = Path({str(path)!r}).read_bytes()\n"
        f"for _ in range({sources}): DEFAULT_RENDITIONS.make(data)\n"
        "status = Path('/proc/self/status').read_text()\n"
        "print(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1))\n"
    )
    command = [sys.executable, "-c", code]
    environment = {**os.environ, "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2")}
    output = subprocess.run(command, capture_output=True, text=True, check=True, env=environment)
    return int(output.stdout.strip()) / 1024


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
        first: list[float] = []
        ready: list[float] = []
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
                    meta = json.load(response)
                elapsed = (time.perf_counter() - started) * 1000
                if meta.get("renditions") and len(first) < len(ready) + 1:
                    first.append(elapsed)
                if meta["status"] == "ready":
                    ready.append(elapsed)
                    break
                time.sleep(0.01)
        served = cached_requests(f"{base}/images/{image_id}", seconds)
    return {
        "upload_to_first_renditions_p50_ms": percentile(first, 0.5),
        "upload_to_first_renditions_p95_ms": percentile(first, 0.95),
        "upload_to_ready_p50_ms": percentile(ready, 0.5),
        "upload_to_ready_p95_ms": percentile(ready, 0.95),
        **served,
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


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
    sizes = report["source_bytes"]
    source = (
        f"Sources: 4000 x 3000 at JPEG quality 90, phone-like ({sizes['phone'] / 1e6:.1f} MB)"
        f" and Gaussian noise ({sizes['hard'] / 1e6:.1f} MB)."
    )
    benchkit.append_record("Images", report, [source], benchkit.figures_table(report["figures"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (about two minutes)")
    parser.add_argument("--record", action="store_true", help="append to docs/benchmarks.md")
    args = parser.parse_args()
    seconds, uploads = (3.0, 5) if args.quick else (10.0, 10)
    sources = {label: make() for label, make in SOURCES.items()}
    figures: dict[str, float] = {}
    for label, data in sources.items():
        figures.update(renditions(label, data, seconds))
    figures["bomb_refused_ms"] = bomb_ms()
    with tempfile.TemporaryDirectory() as directory:
        for label, data in sources.items():
            rss = peak_rss_mb(data, directory, 2 if args.quick else 5)
            figures[f"{label}_worker_peak_rss_mb"] = rss
        figures.update(running_system(sources["phone"], uploads, seconds, directory))
    report = {
        **benchkit.report("images", "uv run python bench/images.py"),
        "source_bytes": {label: len(data) for label, data in sources.items()},
        "figures": {key: round(value, 2) for key, value in figures.items()},
    }
    report.update(report["figures"])
    print(json.dumps(report))
    if args.record:
        record(report)


if __name__ == "__main__":
    main()
