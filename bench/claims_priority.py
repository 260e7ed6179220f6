"""Benchmark: car claims' wait under a 100:1 flood of other claims, in both claims designs.

For each design (``two-queues``: car claims in their own autoscaled lane, the rest to a small
fixed pool; ``priority``: one queue, car claims at priority 9) the supervisor runs the system
with real worker processes; claimants submit 400 claims a second, one car claim in a hundred:
more than the other claims' workers can take in either design (20 ms of work each: 50 a second
per worker; two-queues has one worker for them, priority at most five for all). The report
gives, per design and claim type, the p50/p99 milliseconds from submission to processing --
claims still waiting at the end count with their wait so far -- and how many were processed.
The target: car claims' p99 at most 100 ms in both designs, however deep the backlog.

Prints one JSON object: design -> type -> {"p50_ms", "p99_ms", "processed"}. ``--quick`` runs in
under 45 s; ``--record`` appends the full figures to docs/benchmarks.md.

    uv run python bench/claims_priority.py --record
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
from archlab.systems.claims.ledger import Ledger
from archlab.systems.claims.submitter import Submitter, claims
from archlab.systems.claims.topology import PROFILES
from archlab.systems.pacing import pace

RATE = 400.0
"""Claims per second, all types."""
CAR_SHARE = 0.01
WORK_MS = 20


def run_design(design: str, seconds: float, drain: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        home = Path(directory)
        os.environ["ARCHLAB_HOME"] = directory  # the workers' ledger is under it
        topology = PROFILES[design]()
        url = f"sqlite:///{home}/messaging.db"
        with supervised([topology], home, url):
            engine = connect(url)
            ledger = Ledger(home / "claims" / "ledger.db")
            submitter = Submitter(topology, engine, ledger)
            start = time.time()
            pace(
                submitter.submit,
                claims(CAR_SHARE, random.Random(7)),
                rate=RATE,
                duration=seconds,
            )
            end = time.time()
            time.sleep(drain)
            window = ledger.window(start, end, horizon=time.time())
            engine.close()
        return {
            kind: {k: row[k] for k in ("p50_ms", "p99_ms", "processed")}
            for kind, row in window.items()
        }


def record(report: dict[str, Any]) -> None:
    note = (
        f"{report['seconds']:g} s at {RATE:g} claims/s, one car claim in {1 / CAR_SHARE:g},"
        f" {WORK_MS} ms of work per claim."
    )
    lines = ["| design | type | p50 ms | p99 ms | processed |", "|---|---|---:|---:|---:|"]
    for design in PROFILES:
        for kind, row in report[design].items():
            lines.append(
                f"| {design} | {kind} | {row['p50_ms']:,.1f} | {row['p99_ms']:,.1f} |"
                f" {row['processed']:,} |"
            )
    benchkit.append_record("Claims priority", report, [note], lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (under 45 s)")
    parser.add_argument("--record", action="store_true", help="append to docs/benchmarks.md")
    args = parser.parse_args()
    seconds, drain = (8.0, 1.0) if args.quick else (30.0, 2.0)
    work = {"work_ms": WORK_MS, "failure_rate": 0}
    os.environ["ARCHLAB_CLAIMS_BACKENDS"] = json.dumps({"car": work, "other": work})
    report: dict[str, Any] = {
        **benchkit.report("claims_priority", "uv run python bench/claims_priority.py"),
        "seconds": seconds,
    }
    report.update({design: run_design(design, seconds, drain) for design in PROFILES})
    print(json.dumps(report))
    if args.record:
        record(report)


if __name__ == "__main__":
    main()
