"""``archlab claims submit|report``."""

from __future__ import annotations

import random
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from archlab import settings
from archlab.cli.engine import messaging_engine
from archlab.cli.inputs import fail, print_json
from archlab.runtime.provision import provision
from archlab.runtime.supervisor import read_state
from archlab.systems.claims import SYSTEM
from archlab.systems.claims.ledger import Ledger
from archlab.systems.claims.submitter import Submitter, claims

DEFAULT_CAR_SHARE = 0.2
"""An everyday mix: one claim in five is a car claim."""
COLUMNS = ("type", "submitted", "processed", "duplicates", "dead_lettered", "p50_ms", "p99_ms")

claims_app = typer.Typer(
    help="The insurance company's claims: car claims served before all others.",
    no_args_is_help=True,
    add_completion=False,
)


def running_profile() -> str | None:
    state = read_state(settings.home())
    if state is None or "claims" not in state["systems"]:
        return None
    profile: str = state["systems"]["claims"]["profile"]
    return profile


def check_amount(count: int | None, rate: float | None, duration: float | None) -> None:
    """Exactly one of a count, or a rate with a duration, all positive."""
    if (count is None) == (rate is None):
        fail("give either --count N, or --rate R with --duration S")
    if count is not None and count < 1:
        fail("--count must be at least 1")
    if rate is not None and (duration is None or rate <= 0 or duration <= 0):
        fail("--rate needs a positive rate and a positive --duration")


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
    check_amount(count, rate, duration)
    if not 0 <= car_share <= 1:
        fail(f"--car-share must be from 0 to 1, got {car_share:g}")
    chosen = profile or running_profile() or SYSTEM.default_profile
    if chosen not in SYSTEM.profiles:
        fail(f"claims has no profile {chosen!r} (profiles: {', '.join(SYSTEM.profiles)})")
    topology = SYSTEM.topology(chosen)
    with messaging_engine() as engine:
        provision(topology, engine)
        submitter = Submitter(topology, engine, Ledger())
        submitted = submitter.run(
            claims(car_share, random.Random(seed)), count=count, rate=rate, duration=duration
        )
    print_json({"Submitted": submitted, "Profile": chosen})


@claims_app.command("report")
def report(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    reset: Annotated[bool, typer.Option(help="Forget every claim recorded so far.")] = False,
) -> None:
    """Per claim type: submitted, processed, duplicates, dead-lettered, and p50/p99
    milliseconds from submit to processed."""
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
    else:
        Console().print(table(figures))


def table(figures: dict[str, dict[str, Any]]) -> Table:
    result = Table(title="claims")
    for column in COLUMNS:
        heading = column.replace("_ms", " ms").replace("_", "-")
        result.add_column(heading, justify="left" if column == "type" else "right")
    for claim_type, row in figures.items():
        result.add_row(claim_type, *(_cell(row[column]) for column in COLUMNS[1:]))
    return result


def _cell(value: int | float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if isinstance(value, float) else str(value)
