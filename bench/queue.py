"""Benchmark: the embedded queue (SQLite, durable) against persist-queue's SQLiteAckQueue.

With 1 KiB messages, in one run:

* enqueue rate, one message at a time and in batches of 10;
* full send -> receive -> delete cycles/s, one message at a time and in batches of 10, in
  one process; and with 4 consumer processes draining while a producer process sends;
* send -> receive latency (p50, p99) at a steady 1,000 messages/s with a long-polling consumer;
* persist-queue's put -> get -> ack cycles/s on the same machine;
* the machine's ceiling: one-row SQLite commits/s with WAL and ``synchronous=FULL`` (each one
  fsync), so that runs on machines with faster or slower disks can be compared.

Prints one JSON object; ``--quick`` keeps the whole run under 30 s; ``--record`` appends the
figures to docs/benchmarks.md.

    uv run --group bench python bench/queue.py --record
"""

from __future__ import annotations

# isort: off
import benchkit  # first: it moves bench/ to the end of the import path

# isort: on
import argparse
import json
import multiprocessing
import tempfile
import time
from typing import Any

from archlab.blocks import Queue
from archlab.engines import connect

BODY = "x" * 1024


def rate(seconds: float, step: Any) -> float:
    """Units per second of ``step()`` (which returns how many units it did), for ``seconds``."""
    done = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        done += step()
    return done / elapsed


def fresh_queue(directory: str, name: str, options: str = "") -> tuple[str, Queue]:
    url = f"sqlite:///{directory}/{name}.db{options}"
    return url, Queue.create(connect(url), name, {"VisibilityTimeout": 60})


def batch(size: int) -> list[dict[str, str]]:
    return [{"Id": str(i), "MessageBody": BODY} for i in range(size)]


def enqueue(directory: str, seconds: float) -> dict[str, float]:
    _, single = fresh_queue(directory, "enqueue-single")
    _, batched = fresh_queue(directory, "enqueue-batch")
    entries = batch(10)
    return {
        "enqueue_single_per_s": rate(seconds, lambda: (single.send(BODY), 1)[1]),
        "enqueue_batch_per_s": rate(seconds, lambda: len(batched.send_batch(entries))),
    }


def cycles(directory: str, seconds: float, options: str = "") -> dict[str, float]:
    _, single = fresh_queue(directory, "cycle-single" + options[1:].replace("=", "-"), options)
    _, batched = fresh_queue(directory, "cycle-batch" + options[1:].replace("=", "-"), options)
    entries = batch(10)

    def one() -> int:
        single.send(BODY)
        [message] = single.receive()
        single.delete(message.receipt_handle)
        return 1

    def ten() -> int:
        batched.send_batch(entries)
        received = batched.receive(10)
        batched.delete_batch(
            [{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(received)]
        )
        return len(received)

    return {"cycle_single_per_s": rate(seconds, one), "cycle_per_s": rate(seconds, ten)}


def _produce(url: str, seconds: float) -> None:
    queue = Queue(connect(url), "work")
    entries = batch(10)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        queue.send_batch(entries)


def _consume(url: str, seconds: float, counter: Any) -> None:
    queue = Queue(connect(url), "work")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        received = queue.receive(10, wait_seconds=1)
        if received:
            queue.delete_batch(
                [{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(received)]
            )
            with counter.get_lock():
                counter.value += len(received)


def consumer_processes(directory: str, seconds: float, consumers: int) -> float:
    """Messages/s sent, received and deleted with one producer and ``consumers`` processes."""
    url = f"sqlite:///{directory}/work-{consumers}.db"
    Queue.create(connect(url), "work", {"VisibilityTimeout": 60})
    counter = multiprocessing.Value("q", 0)
    processes = [multiprocessing.Process(target=_produce, args=(url, seconds))]
    processes += [
        multiprocessing.Process(target=_consume, args=(url, seconds, counter))
        for _ in range(consumers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    return float(counter.value) / seconds


def _latency_consumer(url: str, seconds: float, results: Any) -> None:
    queue = Queue(connect(url), "latency")
    samples = []
    deadline = time.monotonic() + seconds + 1
    while time.monotonic() < deadline:
        received = queue.receive(10, wait_seconds=1)
        now = time.time()
        for message in received:
            samples.append((now - float(message.body.split(" ", 1)[0])) * 1000)
        if received:
            queue.delete_batch(
                [{"Id": str(i), "ReceiptHandle": m.receipt_handle} for i, m in enumerate(received)]
            )
    results.put(samples)


def latency(directory: str, seconds: float, per_second: int = 1000) -> dict[str, float]:
    """Send -> receive milliseconds at a steady rate, a long-polling consumer process receiving."""
    url, queue = fresh_queue(directory, "latency")
    results: Any = multiprocessing.Queue()
    consumer = multiprocessing.Process(target=_latency_consumer, args=(url, seconds, results))
    consumer.start()
    time.sleep(0.5)  # let the consumer start polling
    interval = 1 / per_second
    started = time.perf_counter()
    for sent in range(int(seconds * per_second)):
        pause = started + sent * interval - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        queue.send(f"{time.time()!r} {BODY}")
    samples = sorted(results.get(timeout=seconds + 30))
    consumer.join()
    return {
        "latency_p50_ms": samples[len(samples) // 2],
        "latency_p99_ms": samples[int(len(samples) * 0.99)],
        "latency_messages": len(samples),
    }


def sqlite_commits(directory: str, seconds: float) -> float:
    """Durable one-row commits/s: what the disk allows any WAL + FULL SQLite writer."""
    import sqlite3

    db = sqlite3.connect(f"{directory}/ceiling.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (x)")

    def commit() -> int:
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO t VALUES (1)")
        db.execute("COMMIT")
        return 1

    try:
        return rate(seconds, commit)
    finally:
        db.close()


def persist_queue(directory: str, seconds: float) -> float:
    """persist-queue's SQLiteAckQueue: put -> get -> ack cycles/s."""
    import persistqueue  # type: ignore[import-untyped]

    queue = persistqueue.SQLiteAckQueue(f"{directory}/persist-queue", auto_commit=True)

    def cycle() -> int:
        queue.put(BODY)
        item = queue.get()
        queue.ack(item)
        return 1

    return rate(seconds, cycle)


def record(report: dict[str, Any]) -> None:
    note = f"Each figure measured for {report['seconds_per_figure']:g} s."
    benchkit.append_record("Queue", report, [note], benchkit.figures_table(report["figures"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (under 30 s)")
    parser.add_argument("--record", action="store_true", help="append to docs/benchmarks.md")
    args = parser.parse_args()
    seconds = 2.0 if args.quick else 5.0
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as directory:
        figures.update(enqueue(directory, seconds))
        figures.update(cycles(directory, seconds))
        figures.update(
            {
                f"{key}_sends_durable": value
                for key, value in cycles(directory, seconds, "?durability=sends").items()
            }
        )
        figures["cycle_4_consumers_per_s"] = consumer_processes(directory, seconds, 4)
        if not args.quick:
            figures["cycle_1_consumer_per_s"] = consumer_processes(directory, seconds, 1)
            figures.update(latency(directory, seconds))
        figures["persistqueue_cycle_per_s"] = persist_queue(directory, seconds)
        figures["sqlite_commit_per_s"] = sqlite_commits(directory, seconds)
    figures["cycle_vs_persistqueue"] = figures["cycle_per_s"] / figures["persistqueue_cycle_per_s"]
    report = {
        **benchkit.report("queue", "uv run --group bench python bench/queue.py"),
        "seconds_per_figure": seconds,
        "figures": {key: round(value, 2) for key, value in figures.items()},
    }
    report.update(report["figures"])
    print(json.dumps(report))
    if args.record:
        record(report)


if __name__ == "__main__":
    main()
