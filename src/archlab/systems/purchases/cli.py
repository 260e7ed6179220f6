"""``archlab purchases publish|report``."""

from __future__ import annotations

import random
from typing import Annotated

import typer

from archlab.cli import systems
from archlab.cli.engine import messaging_engine
from archlab.cli.inputs import fail, print_json
from archlab.runtime.provision import provision
from archlab.systems.pacing import pace
from archlab.systems.purchases import SYSTEM
from archlab.systems.purchases.ledger import Ledger
from archlab.systems.purchases.publisher import Publisher, parse_mix, purchases

purchases_app = typer.Typer(
    help="System A's purchases, routed to a backend per coverage type.",
    no_args_is_help=True,
    add_completion=False,
)


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
    systems.check_amount(count, rate, duration)
    try:
        weights = parse_mix(mix)
    except ValueError as error:
        fail(str(error))
    topology = systems.chosen_topology(SYSTEM, profile)
    ledger = Ledger()
    with messaging_engine() as engine:
        provision(topology, engine)
        publisher = Publisher(topology, engine, ledger)
        source = purchases(weights, random.Random(seed))
        published = pace(publisher.publish, source, count=count, rate=rate, duration=duration)
    print_json({"Published": published, "Profile": topology.profile.name})


@purchases_app.command("report")
def report(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    reset: Annotated[bool, typer.Option(help="Forget every purchase recorded so far.")] = False,
) -> None:
    """Per coverage type: published, processed, duplicates, dead-lettered, and p50/p99
    milliseconds from publish to processed."""
    systems.report(Ledger(), "purchases", "coverage", as_json=as_json, reset=reset)
