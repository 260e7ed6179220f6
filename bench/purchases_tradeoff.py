"""Benchmark: the purchases designs under a flood of one coverage type.

For each design (the single ``dispatcher``, the ``topic`` fan-out, the ``bus`` fan-out) the
supervisor runs the system with real worker processes, then System A publishes:

1. unloaded: every coverage type at the base rate;
2. flood: car purchases at ten times the base rate, the other types unchanged.

Every backend takes the same simulated work per purchase (80 ms), so each type's pool (at most
two workers) handles 25 a second, and the dispatcher's pool (at most ten: the same budget of
workers) 125. The base rate (10/s per type) keeps one worker of a type 80 % busy; the flood (car
at 100/s plus 40/s of others) overloads car's own pool in the fan-out designs, and the whole pool
in the dispatcher design. For each phase and type the report gives
the p50/p99 milliseconds from publish to processed -- purchases still waiting at the end count
with their wait so far -- and how many were processed.

Prints one JSON object: design -> type -> {"p50_ms", "p99_ms", "processed"} under the flood,
the same for the unloaded phase under "unloaded", and under "summary" the quiet types' worst
p99 under the flood over their unloaded p99. ``--quick`` runs in under 45 s;
``--record`` appends the full figures to docs/benchmarks.md.

    uv run python bench/purchases_tradeoff.py --record
"""

from __future__ import annotations

# isort: off
import benchkit  # first: it moves bench/ to the end of the import path

# isort: on
import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from archlab.engines import connect
from archlab.runtime.supervisor import supervised
from archlab.systems.pacing import pace
from archlab.systems.purchases.ledger import Ledger
from archlab.systems.purchases.publisher import Publisher, purchases
from archlab.systems.purchases.topology import COVERAGES, PROFILES

WORK_MS = 80
BASE_RATE = 10.0
"""Purchases per second of each coverage type."""
FLOOD = 10
QUIET = [c for c in COVERAGES if c != "car"]
DESIGNS = ("dispatcher", "topic", "bus")


def run_design(design: str, seconds: float, drain: float, warm_up: float) -> dict[str, Any]:
    """Run one design in a fresh home: a warm-up (unmeasured: the pools reach their working
    size), then the unloaded and flood phases; the figures per phase and type."""
    with tempfile.TemporaryDirectory() as directory:
        home = Path(directory)
        os.environ["ARCHLAB_HOME"] = directory  # the workers' ledger is under it
        topology = PROFILES[design]()
        url = f"sqlite:///{home}/messaging.db"
        with supervised([topology], home, url):
            engine = connect(url)
            ledger = Ledger(home / "purchases" / "ledger.db")
            publisher = Publisher(topology, engine, ledger)
            rng = random.Random(42)
            calm = dict.fromkeys(COVERAGES, 1.0)
            pace(publisher.publish, purchases(calm, rng), rate=BASE_RATE * 5, duration=warm_up)
            time.sleep(drain)
            figures = {}
            for phase, car_weight in (("unloaded", 1), ("flood", FLOOD)):
                mix = {c: float(car_weight if c == "car" else 1) for c in COVERAGES}
                start = time.time()
                pace(
                    publisher.publish,
                    purchases(mix, rng),
                    rate=BASE_RATE * sum(mix.values()),
                    duration=seconds,
                )
                end = time.time()
                time.sleep(drain)
                figures[phase] = {
                    coverage: {k: row[k] for k in ("p50_ms", "p99_ms", "processed")}
                    for coverage, row in ledger.window(start, end, horizon=time.time()).items()
                }
            engine.close()
        return figures


def summary(results: dict[str, Any]) -> dict[str, Any]:
    """Per design: the worst quiet type's p99 under the flood, over its unloaded p99."""
    out = {}
    for design, phases in results.items():
        ratios = [
            phases["flood"][c]["p99_ms"] / phases["unloaded"][c]["p99_ms"]
            for c in QUIET
            if c in phases["flood"] and c in phases["unloaded"]
        ]
        out[design] = {"quiet_p99_flood_over_unloaded_worst": round(max(ratios), 2)}
    return out


def record(report: dict[str, Any]) -> None:
    note = (
        f"{report['seconds_per_phase']:g} s per phase, base {BASE_RATE:g}/s per type, car"
        f" flood x{FLOOD}, {WORK_MS} ms of work per purchase."
    )
    lines = [
        "| design | type | unloaded p50 ms | unloaded p99 ms | flood p50 ms | flood p99 ms |"
        " processed in flood |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for design in DESIGNS:
        phases = report["results"][design]
        for coverage in COVERAGES:
            calm, flood = phases["unloaded"].get(coverage), phases["flood"].get(coverage)
            if calm is None or flood is None:
                continue
            lines.append(
                f"| {design} | {coverage} | {calm['p50_ms']:,.0f} | {calm['p99_ms']:,.0f} |"
                f" {flood['p50_ms']:,.0f} | {flood['p99_ms']:,.0f} | {flood['processed']:,} |"
            )
    lines += ["", "Quiet types' worst p99 under the flood, over unloaded:", ""]
    for design, row in report["summary"].items():
        lines.append(f"- {design}: {row['quiet_p99_flood_over_unloaded_worst']:g}x")
    benchkit.append_record("Purchases trade-off", report, [note], lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (under 45 s)")
    parser.add_argument("--record", action="store_true", help="append to docs/benchmarks.md")
    args = parser.parse_args()
    seconds, drain, warm_up = (3.0, 0.5, 2.0) if args.quick else (15.0, 2.0, 8.0)
    backends = {c: {"work_ms": WORK_MS, "failure_rate": 0} for c in [*COVERAGES, "underwriting"]}
    os.environ["ARCHLAB_PURCHASES_BACKENDS"] = json.dumps(backends)
    results = {design: run_design(design, seconds, drain, warm_up) for design in DESIGNS}
    report: dict[str, Any] = {
        **benchkit.report("purchases_tradeoff", "uv run python bench/purchases_tradeoff.py"),
        "seconds_per_phase": seconds,
        "summary": summary(results),
        "unloaded": {design: phases["unloaded"] for design, phases in results.items()},
        "results": results,
    }
    # The flood figures at the top level: design -> type -> {"p50_ms", "p99_ms", "processed"}.
    report.update({design: phases["flood"] for design, phases in results.items()})
    print(json.dumps(report))
    if args.record:
        record(report)


if __name__ == "__main__":
    main()
