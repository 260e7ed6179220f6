"""``archlab claims submit|report``."""

from __future__ import annotations

import random
from typing import Annotated

import typer

from archlab.cli import systems
from archlab.cli.engine import messaging_engine
from archlab.cli.inputs import fail, print_json
from archlab.runtime.provision import provision
from archlab.systems.claims import SYSTEM
from archlab.systems.claims.ledger import Ledger
from archlab.systems.claims.submitter import Submitter, claims
from archlab.systems.pacing import pace

DEFAULT_CAR_SHARE = 0.2
"""An everyday mix: one claim in five is a car claim."""

claims_app = typer.Typer(
    help="The insurance company's claims: car claims served before all others.",
    no_args_is_help=True,
    add_completion=False,
)


@claims_app.command("submit")
def submit(
    count: Annotated[
        int | None, typer.Option(help="Submit this many, as fast as possible.")
    ] = None,
    rate: Annotated[float | None, typer.Option(help="Claims per second (with --duration).")] = None,
    duration: Annotated[float | None, typer.Option(help="Seconds to submit at --rate.")] = None,
    car_share: Annotated[
        float, typer.Option(help="The share of car claims, 0 to 1 (0.01: a 100:1 flood).")
    ] = DEFAULT_CAR_SHARE,
    profile: Annotated[
        str | None, typer.Option(help="The design to submit into (default: the running one).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed, for repeatable runs.")] = None,
) -> None:
    """Submit claims into the running design: {"Submitted": N, "Profile": ...}."""
    systems.check_amount(count, rate, duration)
    if not 0 <= car_share <= 1:
        fail(f"--car-share must be from 0 to 1, got {car_share:g}")
    topology = systems.chosen_topology(SYSTEM, profile)
    with messaging_engine() as engine:
        provision(topology, engine)
        submitter = Submitter(topology, engine, Ledger())
        source = claims(car_share, random.Random(seed))
        submitted = pace(submitter.submit, source, count=count, rate=rate, duration=duration)
    print_json({"Submitted": submitted, "Profile": topology.profile.name})


@claims_app.command("report")
def report(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    reset: Annotated[bool, typer.Option(help="Forget every claim recorded so far.")] = False,
) -> None:
    """Per type: submitted, processed, duplicates, dead-lettered, and p50/p99
    milliseconds from submit to processed."""
    systems.report(Ledger(), "claims", "type", as_json=as_json, reset=reset)
