"""Benchmark: a topic fanning out to five filtered queues on the embedded engine.

Publishes 1 KiB messages with a ``coverage`` attribute to a topic with five queue
subscriptions, each filtering on one coverage type (so each publish lands in one queue), and
with one unfiltered subscription added (each publish lands in two). Prints one JSON object;
``--record`` appends the figures to docs/benchmarks.md.

    uv run python bench/topic.py --record
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

from archlab.blocks import Queue, Topic
from archlab.engines import connect

ROOT = Path(__file__).resolve().parents[1]
BODY = "x" * 1024
COVERAGES = ["car", "home", "travel", "life", "pet"]


def publishes_per_second(topic: Topic, seconds: float) -> float:
    done = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        coverage = COVERAGES[done % len(COVERAGES)]
        topic.publish(
            BODY, message_attributes={"coverage": {"DataType": "String", "StringValue": coverage}}
        )
        done += 1
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--record", action="store_true", help="append to docs/benchmarks.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        engine = connect(f"sqlite:///{directory}/topic.db")
        topic = Topic.create(engine, "purchases")
        for coverage in COVERAGES:
            Queue.create(engine, coverage)
            topic.subscribe(
                "sqs",
                coverage,
                {"FilterPolicy": {"coverage": [coverage]}, "RawMessageDelivery": "true"},
            )
        filtered = publishes_per_second(topic, args.seconds)
        Queue.create(engine, "audit")
        topic.subscribe("sqs", "audit")
        with_audit = publishes_per_second(topic, args.seconds)
        delivered = {
            name: int(Queue(engine, name).attributes()["ApproximateNumberOfMessages"])
            for name in [*COVERAGES, "audit"]
        }
    report = {
        "benchmark": "topic",
        "date": datetime.date.today().isoformat(),
        "machine": f"{multiprocessing.cpu_count()} cores, Python {sys.version.split()[0]}",
        "command": "uv run python bench/topic.py " + " ".join(sys.argv[1:]),
        "publish_to_5_filtered_queues_per_s": round(filtered, 1),
        "publish_to_5_filtered_plus_1_unfiltered_per_s": round(with_audit, 1),
        "delivered": delivered,
    }
    print(json.dumps(report))
    if args.record:
        lines = [
            "",
            f"### Topic — {report['date']}",
            "",
            f"- Machine: {report['machine']}",
            f"- Command: `{report['command']}`",
            f"- Each figure measured for {args.seconds:g} s; 1 KiB messages.",
            "",
            "| measure | publishes/s |",
            "|---|---:|",
            f"| to 5 queues, each filtering one coverage | {filtered:,.0f} |",
            f"| the same plus 1 unfiltered queue (SNS envelope) | {with_audit:,.0f} |",
            "",
        ]
        with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as doc:
            doc.write("\n".join(lines))


if __name__ == "__main__":
    main()
