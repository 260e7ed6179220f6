"""``archlab purchases publish|report``."""

from __future__ import annotations

import random
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from archlab import settings
from archlab.cli.engine import messaging_engine
from archlab.cli.inputs import fail, print_json
from archlab.runtime.provision import provision
from archlab.runtime.supervisor import read_state
from archlab.systems.purchases import SYSTEM
from archlab.systems.purchases.ledger import Ledger
from archlab.systems.purchases.publisher import Publisher, parse_mix, purchases

purchases_app = typer.Typer(
    help="System A's purchases, routed to a backend per coverage type.",
    no_args_is_help=True,
    add_completion=False,
)


def running_profile() -> str | None:
    state = read_state(settings.home())
    if state is None or "purchases" not in state["systems"]:
        return None
    profile: str = state["systems"]["purchases"]["profile"]
    return profile


@purchases_app.command("publish")
def publish(
    count: Annotated[
        int | None, typer.Option(help="Publish this many, as fast as possible.")
    ] = None,
    rate: Annotated[
        float | None, typer.Option(help="Purchases per second (with --duration).")
    ] = None,
    duration: Annotated[float | None, typer.Option(help="Seconds to publish at --rate.")] = None,
    mix: Annotated[
        str | None, typer.Option(help="Weights per coverage type: car=0.2,home=0.5,...")
    ] = None,
    profile: Annotated[
        str | None, typer.Option(help="The design to publish into (default: the running one).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed, for repeatable runs.")] = None,
) -> None:
    """Publish purchases into the running design: {"Published": N, "Profile": ...}."""
    if (count is None) == (rate is None):
        fail("give either --count N, or --rate R with --duration S")
    if count is not None and count < 1:
        fail("--count must be at least 1")
    if rate is not None and (duration is None or rate <= 0 or duration <= 0):
        fail("--rate needs a positive rate and a positive --duration")
    try:
        weights = parse_mix(mix)
    except ValueError as error:
        fail(str(error))
    chosen = profile or running_profile() or SYSTEM.default_profile
    if chosen not in SYSTEM.profiles:
        fail(f"purchases has no profile {chosen!r} (profiles: {', '.join(SYSTEM.profiles)})")
    topology = SYSTEM.topology(chosen)
    ledger = Ledger()
    with messaging_engine() as engine:
        provision(topology, engine)
        publisher = Publisher(topology, engine, ledger)
        published = publisher.run(
            purchases(weights, random.Random(seed)), count=count, rate=rate, duration=duration
        )
    print_json({"Published": published, "Profile": chosen})


@purchases_app.command("report")
def report(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    reset: Annotated[bool, typer.Option(help="Forget every purchase recorded so far.")] = False,
) -> None:
    """Per coverage type: published, processed, duplicates, dead-lettered, and p50/p99
    milliseconds from publish to processed."""
    ledger = Ledger()
    if reset:
        ledger.reset()
        if as_json:
            print_json({"Reset": True})
        else:
            typer.echo("ledger cleared")
        return
    figures = ledger.report()
    if as_json:
        print_json(figures)
        return
    table = Table(title="purchases")
    for column in (
        "coverage",
        "published",
        "processed",
        "duplicates",
        "dead-lettered",
        "p50 ms",
        "p99 ms",
    ):
        table.add_column(column, justify="left" if column == "coverage" else "right")
    for coverage, row in figures.items():
        table.add_row(
            coverage,
            str(row["published"]),
            str(row["processed"]),
            str(row["duplicates"]),
            str(row["dead_lettered"]),
            "-" if row["p50_ms"] is None else f"{row['p50_ms']:.1f}",
            "-" if row["p99_ms"] is None else f"{row['p99_ms']:.1f}",
        )
    Console().print(table)
