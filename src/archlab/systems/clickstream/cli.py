"""``archlab clickstream generate|flush`` and ``archlab crawl``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from archlab.cli.inputs import fail, print_json

if TYPE_CHECKING:
    from archlab.blocks.stream import Stream
    from archlab.lake.crawler import SchemaChange

clickstream_app = typer.Typer(
    help="The clickstream: synthetic traffic, and the delivery stream's buffer.",
    no_args_is_help=True,
    add_completion=False,
)

Into = Literal["stream", "delivery"]
BATCH = 500
"""Records a PutRecords (or PutRecordBatch) call: each API's largest."""


@clickstream_app.command("generate")
def generate(
    events: Annotated[int, typer.Option(help="About this many events.", min=1)] = 10_000,
    days: Annotated[float, typer.Option(help="Spread over the days before now.", min=0.01)] = 1.0,
    seed: Annotated[int, typer.Option(help="The same seed, the same traffic.")] = 0,
    into: Annotated[
        Into,
        typer.Option(
            help="stream: onto the click stream, as the collector puts them (the running "
            "system delivers them); delivery: straight into the delivery stream's buffer."
        ),
    ] = "stream",
) -> None:
    """Synthetic shoppers' visits, checked as the collector checks them (bots, IPs, devices)
    and put where --into says: {"Generated": N, "Refused": R, "Into": ...}."""
    from archlab.systems.clickstream import pipeline

    if days > 3_650:
        fail(f"--days is at most 3650 (ten years), got {days}")
    put, target = _sink(into)
    made = refused = 0
    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with progress:
        task = progress.add_task(f"events into {target}", total=events)
        pending: list[dict[str, object]] = []
        for records, refusals in _checked_visits(events, days, seed):
            refused += refusals
            pending += records
            while len(pending) >= BATCH:
                put(pending[:BATCH])
                made += BATCH
                del pending[:BATCH]
                progress.update(task, completed=made + refused)
        if pending:
            put(pending)
            made += len(pending)
    print_json({"Generated": made, "Refused": refused, "Into": target, "Days": days})
    if into == "stream":
        typer.echo(
            f"on the stream {pipeline.STREAM_NAME}: `archlab up clickstream` delivers them,"
            " `archlab clickstream flush` does it now",
            err=True,
        )


def _checked_visits(
    events: int, days: float, seed: int
) -> Iterator[tuple[list[dict[str, object]], int]]:
    """Each visit's records as the collector makes them, collected the moment its last event
    happened (so a backfill of many days passes the collector's age check)."""
    from archlab.systems.clickstream.events import check, client
    from archlab.systems.clickstream.traffic import visits

    now_ms = int(time.time() * 1000)
    for visit in visits(events, days, now_ms, seed):
        arrival = max(int(str(event["time"])) for event in visit.events) + 1_000
        checked = check(visit.events, client(visit.ip, visit.user_agent), min(arrival, now_ms))
        yield checked.records, len(checked.refused)


Sink = Callable[[list[dict[str, object]]], None]


def _sink(into: Into) -> tuple[Sink, str]:
    from archlab.systems.clickstream import pipeline

    if into == "delivery":
        delivery = pipeline.delivery_stream()

        def to_delivery(records: list[dict[str, object]]) -> None:
            delivery.put_record_batch([_encoded(r) for r in records])

        return to_delivery, f"delivery stream {pipeline.DELIVERY_NAME}"
    stream = _provisioned_stream()

    def to_stream(records: list[dict[str, object]]) -> None:
        entries = [{"Data": _encoded(r), "PartitionKey": r["session_id"]} for r in records]
        stream.put_records(entries)

    return to_stream, f"stream {pipeline.STREAM_NAME}"


def _provisioned_stream() -> Stream:
    """The system's stream, created as ``archlab up`` creates it if it is not there yet."""
    from archlab.runtime.provision import provision_streams
    from archlab.systems.clickstream import SYSTEM, pipeline

    stream = pipeline.stream()
    provision_streams(SYSTEM.topology(), stream.engine)
    return stream


def _encoded(record: dict[str, object]) -> bytes:
    return json.dumps(record, separators=(",", ":")).encode()


@clickstream_app.command("flush")
def flush() -> None:
    """Deliver now what waits: the stream's records past the to-lake consumer's checkpoints
    into the delivery stream, then everything it buffers into the lake, whatever its
    buffering hints: {"Buffered": N, "Delivered": N, "Failed": N, "Files": N}."""
    from archlab.systems.clickstream import pipeline

    delivery = pipeline.delivery_stream()
    with Console(stderr=True).status("delivering"):
        buffered = pipeline.drain(delivery, _provisioned_stream())
        report = delivery.flush()
    print_json(
        {
            "Buffered": buffered,
            "Delivered": report.records,
            "Failed": report.failed,
            "Files": len(report.files),
        }
    )
    if report.files:
        typer.echo("`archlab crawl` registers new partitions for `archlab sql`", err=True)


def crawl(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Crawl the lake once: new partitions registered in the catalog, schema changes recorded
    (the system also crawls every 30 seconds while it runs)."""
    from archlab.systems.clickstream import pipeline

    started = time.perf_counter()
    report = pipeline.crawler().crawl()
    elapsed = time.perf_counter() - started
    added = {table: len(values) for table, values in report.partitions_added.items()}
    changes = [_change(change) for change in report.schema_changes]
    skipped = [f"{skip.path}: {skip.reason}" for skip in report.skipped]
    summary = {
        "TablesCreated": report.tables_created,
        "TablesUpdated": report.tables_updated,
        "PartitionsAdded": added,
        "SchemaChanges": changes,
        "Skipped": skipped,
        "FilesRead": report.files_read,
        "Seconds": round(elapsed, 3),
    }
    if as_json:
        print_json(summary)
        return
    typer.echo(
        f"crawled in {elapsed:.2f} s: {sum(added.values())} partitions added"
        f" ({', '.join(f'{t} {n}' for t, n in added.items()) or 'none new'}),"
        f" {len(report.tables_created)} tables created, {report.files_read} files read"
    )
    for change in changes:
        typer.echo(f"schema change: {change}")
    for skip in skipped:
        typer.echo(f"skipped: {skip}")


def _change(change: SchemaChange) -> str:
    parts = [f"{column.name} {column.type} added" for column in change.added]
    parts += [f"{name} {old} -> {new}" for name, old, new in change.changed]
    outcome = "applied" if change.applied else "logged"
    return f"{change.table}: {', '.join(parts)} ({outcome})"
