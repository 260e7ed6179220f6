"""What every system's commands share: the amount to produce, the design to produce into, and
the ledger report (reset, JSON, or a table)."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from archlab import settings
from archlab.cli.inputs import fail, print_json
from archlab.runtime.supervisor import read_state
from archlab.systems import System
from archlab.systems.ledger import WorkLedger
from archlab.topology import Topology


def check_amount(count: int | None, rate: float | None, duration: float | None) -> None:
    """Exactly one of a count, or a rate with a duration, all positive."""
    if (count is None) == (rate is None):
        fail("give either --count N, or --rate R with --duration S")
    if count is not None and count < 1:
        fail("--count must be at least 1")
    if rate is not None and (duration is None or rate <= 0 or duration <= 0):
        fail("--rate needs a positive rate and a positive --duration")


def chosen_topology(system: System, profile: str | None) -> Topology:
    """The design to produce into: the one asked for, else the one `archlab up` runs, else the
    system's default."""
    state = read_state(settings.home())
    running = state["systems"].get(system.name, {}).get("profile") if state else None
    chosen = profile or running or system.default_profile
    if chosen not in system.profiles:
        fail(f"{system.name} has no profile {chosen!r} (profiles: {', '.join(system.profiles)})")
    return system.topology(chosen)


def report(ledger: WorkLedger, title: str, kind: str, *, as_json: bool, reset: bool) -> None:
    """Print the ledger's report per kind (or clear the ledger)."""
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
    columns = (
        ledger.submitted_label,
        "processed",
        "duplicates",
        "dead_lettered",
        "p50_ms",
        "p99_ms",
    )
    table = Table(title=title)
    table.add_column(kind)
    for column in columns:
        table.add_column(column.replace("_ms", " ms").replace("_", "-"), justify="right")
    for name, row in figures.items():
        table.add_row(name, *(_cell(row[column]) for column in columns))
    Console().print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if isinstance(value, float) else str(value)
