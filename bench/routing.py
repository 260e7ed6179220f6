"""Benchmark: the routing engine's RuleSet against LocalStack's EventBridge evaluator.

For rule sets of several sizes (see bench/workload.py) it measures, in one process:

* events/s on pre-parsed events (dicts) and on JSON text (parsing included), median of runs;
* p50 and p99 latency per event;
* compile time and memory for the whole rule set;
* the same workload through LocalStack's ``EventRuleEngine`` (which evaluates rules one at a
  time), time-boxed, and the ratio between the two; the matches of both are compared.

Prints one JSON document. With ``--record`` it also appends the figures to docs/benchmarks.md.

    uv run --group bench python bench/routing.py --record
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from archlab.routing import RuleSet
from workload import make_workload

ROOT = Path(__file__).resolve().parents[1]


def add_one_by_one(rules: dict[str, Any]) -> RuleSet:
    rule_set = RuleSet()
    for name, pattern in rules.items():
        rule_set.add(name, pattern)
    return rule_set


def measure_compile(rules: dict[str, Any]) -> dict[str, float]:
    """Compile time (patterns parsed and indexed) in bulk and one rule at a time, and memory."""
    gc.collect()
    started = time.perf_counter()
    RuleSet(rules)
    bulk = time.perf_counter() - started
    gc.collect()
    started = time.perf_counter()
    add_one_by_one(rules)
    one_by_one = time.perf_counter() - started
    gc.collect()
    tracemalloc.start()
    kept = RuleSet(rules)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept
    return {
        "compile_s": bulk,
        "compile_one_by_one_s": one_by_one,
        "memory_mb": current / 2**20,
        "memory_peak_mb": peak / 2**20,
    }


def throughput(rule_set: RuleSet, events: list[Any]) -> float:
    started = time.perf_counter()
    for event in events:
        rule_set.matches(event)
    return len(events) / (time.perf_counter() - started)


def interleaved_throughput(
    rule_sets: dict[int, RuleSet], events: list[Any], runs: int
) -> dict[int, float]:
    """Median events/s per rule set, the sets taking turns within each run.

    Taking turns keeps a drift of the machine's speed from showing up as a difference between
    sizes: the ratios between sizes are measured in the same stretch of time.
    """
    rates: dict[int, list[float]] = {size: [] for size in rule_sets}
    for _ in range(runs):
        for size, rule_set in rule_sets.items():
            rates[size].append(throughput(rule_set, events))
    return {size: statistics.median(values) for size, values in rates.items()}


def latencies_us(rule_set: RuleSet, events: list[Any]) -> dict[str, float]:
    clock = time.perf_counter_ns
    samples = []
    for event in events:
        started = clock()
        rule_set.matches(event)
        samples.append((clock() - started) / 1000)
    samples.sort()
    return {
        "p50_us": samples[len(samples) // 2],
        "p99_us": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
    }


def localstack_peer(
    rules: dict[str, Any], events: list[Any], budget_s: float
) -> tuple[dict[str, Any], dict[int, list[str]]]:
    """LocalStack's evaluator: compile every pattern once, then try each rule per event."""
    # Importing LocalStack would otherwise probe Docker bridge addresses with `ping`.
    os.environ.setdefault("DOCKER_BRIDGE_IP", "127.0.0.1")
    from localstack.services.events.event_rule_engine import (  # type: ignore[import-not-found]
        EventPatternCompiler,
        EventRuleEngine,
    )

    compiler, engine = EventPatternCompiler(), EventRuleEngine()
    started = time.perf_counter()
    compiled = {name: compiler.compile_event_pattern(p) for name, p in rules.items()}
    compile_s = time.perf_counter() - started
    results: dict[int, list[str]] = {}
    started = time.perf_counter()
    for number, event in enumerate(events):
        results[number] = sorted(
            name for name, p in compiled.items() if engine.evaluate_pattern_on_event(p, event)
        )
        if time.perf_counter() - started > budget_s:
            break
    elapsed = time.perf_counter() - started
    return {
        "events": len(results),
        "events_per_s": len(results) / elapsed,
        "compile_s": compile_s,
    }, results


def run_sizes(sizes: list[int], args: argparse.Namespace) -> list[dict[str, Any]]:
    workloads = {size: make_workload(size, args.events) for size in sizes}
    events = workloads[sizes[0]][1]  # the same events for every size
    texts = [json.dumps(event) for event in events]
    rule_sets = {size: RuleSet(rules) for size, (rules, _) in workloads.items()}
    matched = {}
    for size, rule_set in rule_sets.items():
        # Warm up: lazy tables, and the garbage collector's first pass over the new index.
        matched[size] = [rule_set.matches(event) for event in events]
    parsed = interleaved_throughput(rule_sets, events, args.runs)
    with_json = interleaved_throughput(rule_sets, texts, args.runs)
    results = []
    for size, rule_set in rule_sets.items():
        rules = workloads[size][0]
        result: dict[str, Any] = {
            "rules": size,
            "event_bytes_avg": round(statistics.mean(len(t) for t in texts)),
            "matches_per_event": round(statistics.mean(len(m) for m in matched[size]), 3),
            "events_per_s": round(parsed[size]),
            "events_per_s_json": round(with_json[size]),
            "vs_smallest_set": round(parsed[size] / parsed[sizes[0]], 2),
            **{k: round(v, 1) for k, v in latencies_us(rule_set, events).items()},
            **{k: round(v, 3) for k, v in measure_compile(rules).items()},
        }
        if args.peer:
            peer, peer_matches = localstack_peer(rules, events, args.peer_seconds)
            agree = sum(peer_matches[n] == matched[size][n] for n in peer_matches)
            result["localstack"] = {
                **{k: round(v, 3) if isinstance(v, float) else v for k, v in peer.items()},
                "agreeing_events": f"{agree}/{len(peer_matches)}",
            }
            result["ratio_vs_localstack"] = round(result["events_per_s"] / peer["events_per_s"], 1)
        print(f"  {size:>6} rules: {result['events_per_s']:>8} events/s", file=sys.stderr)
        results.append(result)
    return results


def profile(size: int, events: int) -> str:
    """Where matching time goes, for one rule-set size: pyinstrument's call tree."""
    from pyinstrument import Profiler

    rules, sample = make_workload(size, events)
    rule_set = RuleSet(rules)
    for event in sample:  # warm up: lazy tables, and the collector's first pass over the index
        rule_set.matches(event)
    profiler = Profiler(interval=0.0001)
    with profiler:
        for event in sample:
            rule_set.matches(event)
    return profiler.output_text(unicode=True)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def record(report: dict[str, Any]) -> None:
    lines = [
        "",
        f"### Routing — {report['date']}",
        "",
        f"- Machine: {report['machine']}",
        f"- Command: `{report['command']}`",
        f"- Workload: {report['events']} purchase events (~{report['sizes'][0]['event_bytes_avg']}"
        " bytes of nested JSON with arrays), rules mixing every operator (bench/workload.py);"
        f" throughput is the median of {report['runs']} runs, the sizes taking turns in each.",
        "",
        "| rules | events/s | vs smallest set | events/s incl. JSON parse | p50 µs | p99 µs "
        "| matches/event "
        "| compile s (bulk / one by one) | memory MB | LocalStack events/s | ratio "
        "| agreeing events |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in report["sizes"]:
        peer = size.get("localstack", {})
        lines.append(
            f"| {size['rules']:,} | {size['events_per_s']:,} | {size['vs_smallest_set']}x "
            f"| {size['events_per_s_json']:,} "
            f"| {size['p50_us']} | {size['p99_us']} | {size['matches_per_event']} "
            f"| {size['compile_s']} / {size['compile_one_by_one_s']} | {size['memory_mb']:.1f} "
            f"| {peer.get('events_per_s', '—')} | {size.get('ratio_vs_localstack', '—')}x "
            f"| {peer.get('agreeing_events', '—')} |"
        )
    with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as doc:
        doc.write("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rules", default="10,100,1000,10000", help="rule-set sizes")
    parser.add_argument("--events", type=int, default=5000, help="events per size")
    parser.add_argument("--runs", type=int, default=5, help="throughput runs (median is kept)")
    parser.add_argument("--peer", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--peer-seconds", type=float, default=10.0, help="time box per size")
    parser.add_argument("--record", action="store_true", help="append to docs/benchmarks.md")
    parser.add_argument(
        "--profile", type=int, metavar="RULES", help="only print a profile of matching at this size"
    )
    args = parser.parse_args()
    if args.profile:
        print(profile(args.profile, args.events))
        return
    sizes = [int(size) for size in args.rules.split(",")]
    report = {
        "benchmark": "routing",
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "command": "uv run --group bench python bench/routing.py " + " ".join(sys.argv[1:]),
        "events": args.events,
        "runs": args.runs,
        "sizes": run_sizes(sizes, args),
    }
    print(json.dumps(report, indent=2))
    if args.record:
        record(report)


if __name__ == "__main__":
    main()
