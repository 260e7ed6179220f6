"""Benchmark: the storefront's three tiers, and what the load balancer costs.

The storefront runs under the supervisor in its ``ha`` profile with request scaling off (two
instances a tier over two zones throughout), the WAF's rules on but its per-client rate rule off
(the load comes from one address).
Load comes from other processes, on loopback only: wrk for the cached product list, a Python
client process for checkouts (each a cart update then a checkout). In one run:

* the cached product list (``GET /api/products``): straight to one application instance, then
  through the public load balancer (WAF, routing, two instances), then -- where Debian's
  ``haproxy`` and ``nginx`` are installed -- through each of them, configured alike (least
  connections, keep-alive to the instances, one worker), as the reference for a production
  load balancer: requests/s at 32 connections, and p50/p99 at one connection (the latency a
  hop adds, measured without queueing);
* the same list with the cache off (the system started again with
  ``ARCHLAB_STOREFRONT_CACHE_URL=none``), through the load balancer;
* checkouts/s and the checkout's p50/p99, straight to one application instance and through the
  load balancer;
* on PostgreSQL (a primary and a streaming replica the benchmark starts itself, see
  ``archlab.testing.postgres``; skipped where PostgreSQL 15 is not installed), with the cache
  off so that every read reaches the database: the product list read from the primary alone,
  then from the replica, and checkouts on the primary.

Prints one JSON object; ``--quick`` shortens every phase; ``--record`` appends to
docs/benchmarks.md.

    uv run python bench/storefront.py --record
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
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from archlab.runtime.supervisor import Supervisor, supervised
from archlab.systems.storefront.topology import ha
from archlab.testing import postgres
from archlab.topology import InstanceGroup, Topology

PRODUCTS = "/api/products"
CHECKOUT = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "address": {
        "line1": "12 St James's Square",
        "city": "London",
        "region": "London",
        "postal_code": "SW1Y 4JH",
        "country": "GB",
    },
    "card": {"number": "4242 4242 4242 4242", "expiry": "12/30", "cvc": "123"},
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- load ------------------------------------------------------------------------------------


def wrk(url: str, seconds: float, connections: int) -> dict[str, float]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)

    def percentile(label: str) -> float:
        value, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {
        "requests_per_s": rate,
        "p50_ms": percentile("50"),
        "p99_ms": percentile("99"),
        "errors": int(errors.group(1)) if errors else 0,
    }


def products(url: str, seconds: float) -> dict[str, float]:
    """Throughput at 32 connections, then latency at one."""
    busy = wrk(url + PRODUCTS, seconds, 32)
    calm = wrk(url + PRODUCTS, seconds / 2, 1)
    return {
        "requests_per_s": busy["requests_per_s"],
        "p50_ms": calm["p50_ms"],
        "p99_ms": calm["p99_ms"],
        "loaded_p99_ms": busy["p99_ms"],
        "errors": busy["errors"] + calm["errors"],
    }


def checkouts(url: str, seconds: float, shoppers: int = 8) -> dict[str, float]:
    """Run the shoppers in another process; each fills a cart and checks out, again and
    again: checkouts/s, and the checkout request's p50 and p99."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        timings, failures = pool.apply(_shop, (url, seconds, shoppers))
    timings.sort()
    return {
        "checkouts_per_s": len(timings) / seconds,
        "p50_ms": timings[len(timings) // 2] if timings else 0.0,
        "p99_ms": timings[int(0.99 * (len(timings) - 1))] if timings else 0.0,
        "errors": failures,
    }


def _shop(url: str, seconds: float, shoppers: int) -> tuple[list[float], int]:
    deadline = time.perf_counter() + seconds
    timings: list[float] = []
    failures = [0]
    lock = threading.Lock()

    def shopper() -> None:
        session = {"X-Session-Id": uuid.uuid4().hex}
        mine: list[float] = []
        with httpx.Client(base_url=url, headers=session, timeout=30) as client:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    client.put("/api/cart/items/car-essential", json={"quantity": 1})
                    started = time.perf_counter()
                    response = client.post(
                        "/api/checkout",
                        json=CHECKOUT,
                        headers={"Idempotency-Key": uuid.uuid4().hex},
                    )
                    placed = response.status_code == 201
                except httpx.HTTPError:
                    placed = False
                if placed:
                    mine.append((time.perf_counter() - started) * 1000)
                else:
                    with lock:
                        failures[0] += 1
        with lock:
            timings.extend(mine)

    threads = [threading.Thread(target=shopper) for _ in range(shoppers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings, failures[0]


# --- the system and the reference balancers -------------------------------------------------


@contextlib.contextmanager
def storefront(directory: Path, **environment: str) -> Iterator[tuple[Supervisor, str]]:
    home = directory / f"home-{uuid.uuid4().hex[:6]}"
    settings = {
        "ARCHLAB_HOME": str(home),
        "ARCHLAB_STOREFRONT_PORT": str(free_port()),
        "ARCHLAB_STOREFRONT_INTERNAL_PORT": str(free_port()),
        "ARCHLAB_STOREFRONT_WAF_RATE": "0",
        **environment,
    }
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        with supervised([fixed_fleet(ha())], home, f"sqlite:///{home}/messaging.db") as supervisor:
            wait_healthy(supervisor)
            yield supervisor, supervisor.endpoints["storefront"]
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def fixed_fleet(topology: Topology) -> Topology:
    """The topology with request scaling off: every tier stays at its two instances. Under the
    benchmark's load the application tier would scale out to six instances on two cores (and
    back in, taking the instance measured directly with it) while it is measured."""
    nodes = tuple(
        node.model_copy(update={"request_scaling": None})
        if isinstance(node, InstanceGroup)
        else node
        for node in topology.nodes
    )
    return topology.model_copy(update={"nodes": nodes})


def wait_healthy(supervisor: Supervisor, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        instances = supervisor.snapshot()["instances"]
        if instances and all(i["healthy"] for i in instances):
            return
        time.sleep(0.2)
    raise TimeoutError("the storefront's instances did not all become healthy")


def app_instances(supervisor: Supervisor) -> list[str]:
    return [i["url"] for i in supervisor.snapshot()["instances"] if i["tier"] == "app"]


@contextlib.contextmanager
def haproxy(backends: list[str], directory: Path) -> Iterator[str]:
    port = free_port()
    servers = "\n".join(
        f"    server s{n} {url.removeprefix('http://')}" for n, url in enumerate(backends)
    )
    config = directory / "haproxy.cfg"
    config.write_text(
        "global\n    nbthread 1\n    maxconn 4096\n"
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 30s\n"
        "    timeout server 30s\n    option http-keep-alive\n"
        f"frontend shop\n    bind 127.0.0.1:{port}\n    default_backend app\n"
        f"backend app\n    balance leastconn\n    http-reuse always\n{servers}\n"
    )
    process = subprocess.Popen(["haproxy", "-f", str(config)], stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@contextlib.contextmanager
def nginx(backends: list[str], directory: Path) -> Iterator[str]:
    port = free_port()
    prefix = directory / "nginx"
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    servers = "\n".join(f"    server {url.removeprefix('http://')};" for url in backends)
    (prefix / "nginx.conf").write_text(
        "worker_processes 1;\nerror_log logs/error.log;\npid logs/nginx.pid;\n"
        "events { worker_connections 4096; }\n"
        "http {\n  access_log off;\n"
        f"  upstream app {{\n    least_conn;\n{servers}\n    keepalive 64;\n  }}\n"
        f"  server {{\n    listen 127.0.0.1:{port};\n    location / {{\n"
        "      proxy_pass http://app;\n      proxy_http_version 1.1;\n"
        '      proxy_set_header Connection "";\n    }\n  }\n}\n'
    )
    command = ["nginx", "-p", str(prefix), "-c", "nginx.conf", "-g", "daemon off;"]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def wait_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


# --- the run ---------------------------------------------------------------------------------


def measure(seconds: float, directory: Path) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    with storefront(directory) as (supervisor, public):
        direct = app_instances(supervisor)
        httpx.get(public + PRODUCTS).raise_for_status()  # warm the caches
        for url in direct:
            httpx.get(url + PRODUCTS).raise_for_status()
        figures["products_direct"] = products(direct[0], seconds)
        figures["products_balancer"] = products(public, seconds)
        if shutil.which("haproxy"):
            with haproxy(direct, directory) as url:
                figures["products_haproxy"] = products(url, seconds)
        if shutil.which("nginx"):
            with nginx(direct, directory) as url:
                figures["products_nginx"] = products(url, seconds)
        figures["checkout_direct"] = checkouts(direct[0], seconds)
        figures["checkout_balancer"] = checkouts(public, seconds)
    with storefront(directory, ARCHLAB_STOREFRONT_CACHE_URL="none") as (_, public):
        figures["products_balancer_cache_off"] = products(public, seconds)
    if postgres.missing() is None:
        figures.update(on_postgres(seconds, directory))
    return figures


def on_postgres(seconds: float, directory: Path) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    pair = postgres.PostgresPair()
    pair.start()
    try:
        primary = {"ARCHLAB_STOREFRONT_DATABASE_URL": pair.primary.url()}
        primary["ARCHLAB_STOREFRONT_CACHE_URL"] = "none"
        with storefront(directory, **primary) as (_, public):
            figures["pg_products_primary"] = products(public, seconds)
            figures["pg_checkout_primary"] = checkouts(public, seconds)
        replica = {**primary, "ARCHLAB_STOREFRONT_REPLICA_URL": pair.replica.url()}
        with storefront(directory, **replica) as (_, public):
            figures["pg_products_replica"] = products(public, seconds)
    finally:
        pair.stop()
    return figures


def ratios(figures: dict[str, Any]) -> dict[str, float]:
    direct, through = figures["products_direct"], figures["products_balancer"]
    result = {
        "balancer_throughput_vs_direct": through["requests_per_s"] / direct["requests_per_s"],
        "balancer_added_p50_ms": through["p50_ms"] - direct["p50_ms"],
        "cache_on_vs_off": through["requests_per_s"]
        / figures["products_balancer_cache_off"]["requests_per_s"],
    }
    if "pg_products_replica" in figures:
        result["pg_replica_vs_primary_reads"] = (
            figures["pg_products_replica"]["requests_per_s"]
            / figures["pg_products_primary"]["requests_per_s"]
        )
    for peer in ("haproxy", "nginx"):
        if f"products_{peer}" in figures:
            peer_figures = figures[f"products_{peer}"]
            result[f"{peer}_throughput_vs_direct"] = (
                peer_figures["requests_per_s"] / direct["requests_per_s"]
            )
            result[f"{peer}_added_p50_ms"] = peer_figures["p50_ms"] - direct["p50_ms"]
    return {key: round(value, 3) for key, value in result.items()}


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def record(report: dict[str, Any]) -> None:
    rows = [
        "| measure | requests/s | p50 ms | p99 ms | p99 ms loaded | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, values in report["figures"].items():
        rate = values.get("requests_per_s", values.get("checkouts_per_s", 0))
        rows.append(
            f"| {name} | {rate:,.0f} | {values['p50_ms']:.2f} | {values['p99_ms']:.2f} | "
            f"{_ms(values.get('loaded_p99_ms'))} | {values['errors']} |"
        )
    rows += ["", *benchkit.figures_table(report["ratios"])]
    notes = ["Load from other processes on the same two cores: wrk (1 thread) and a Python client."]
    benchkit.append_record("Storefront", report, notes, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3-second phases")
    parser.add_argument("--record", action="store_true", help="append to docs/benchmarks.md")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("this benchmark needs wrk: apt-get install wrk")
    seconds = 3.0 if args.quick else 8.0
    with tempfile.TemporaryDirectory() as directory:
        figures = measure(seconds, Path(directory))
    report: dict[str, Any] = {
        **benchkit.report("storefront", "uv run python bench/storefront.py"),
        "figures": {
            name: {k: round(v, 3) for k, v in values.items()} for name, values in figures.items()
        },
        "ratios": ratios(figures),
    }
    print(json.dumps(report))
    if args.record:
        record(report)


if __name__ == "__main__":
    main()
