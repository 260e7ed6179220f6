"""``archlab bus``: EventBridge verbs on the configured messaging engine, AWS-shaped output."""

from __future__ import annotations

import datetime
from typing import Annotated

import typer

from archlab.blocks import EventBus
from archlab.blocks.bus import bus_arn
from archlab.cli.engine import messaging_engine
from archlab.cli.inputs import fail, print_json, read_json, read_text
from archlab.engines.base import MessagingEngine

bus_app = typer.Typer(
    help="Event buses with Amazon EventBridge semantics: rules, targets, archives, replay.",
    no_args_is_help=True,
    add_completion=False,
)

BusOption = Annotated[str, typer.Option("--event-bus-name", help="The bus (default: default).")]


def _bus(engine: MessagingEngine, name: str) -> EventBus:
    """The named bus; the "default" bus exists without being created, as in EventBridge."""
    return EventBus.create(engine) if name == "default" else EventBus(engine, name)


@bus_app.command("create")
def create(name: Annotated[str, typer.Argument(help="The new bus's name.")]) -> None:
    """Create an event bus: {"EventBusArn": ...}."""
    with messaging_engine() as engine:
        print_json({"EventBusArn": EventBus.create(engine, name).arn})


@bus_app.command("list")
def list_buses() -> None:
    """List event buses: {"EventBuses": [{"Name": ..., "Arn": ...}]}."""
    with messaging_engine() as engine:
        names = engine.list_buses()
        print_json({"EventBuses": [{"Name": n, "Arn": bus_arn(n)} for n in names]})


@bus_app.command("put-rule")
def put_rule(
    name: Annotated[str, typer.Argument(help="The rule's name.")],
    event_pattern: Annotated[str, typer.Option(help="The event pattern: JSON or @FILE.")],
    event_bus_name: BusOption = "default",
    state: Annotated[str, typer.Option(help="ENABLED or DISABLED.")] = "ENABLED",
) -> None:
    """Create or update a rule: {"RuleArn": ...}."""
    with messaging_engine() as engine:
        bus = _bus(engine, event_bus_name)
        arn = bus.put_rule(name, read_text(event_pattern, "--event-pattern"), state)
        print_json({"RuleArn": arn})


@bus_app.command("put-targets")
def put_targets(
    rule: Annotated[str, typer.Option(help="The rule's name.")],
    targets: Annotated[
        str, typer.Option(help='Targets as JSON or @FILE: [{"Id": "1", "Arn": "arn:aws:sqs:..."}]')
    ],
    event_bus_name: BusOption = "default",
) -> None:
    """Add or replace a rule's targets (five at most)."""
    with messaging_engine() as engine:
        _bus(engine, event_bus_name).put_targets(rule, read_json(targets, "--targets"))
        print_json({"FailedEntryCount": 0, "FailedEntries": []})


@bus_app.command("put-events")
def put_events(
    entries: Annotated[
        str,
        typer.Option(
            help='Entries as JSON or @FILE: [{"Source": ..., "DetailType": ..., "Detail": "{...}"}]'
        ),
    ],
    event_bus_name: BusOption = "default",
) -> None:
    """Send events: {"FailedEntryCount": N, "Entries": [...]}."""
    with messaging_engine() as engine:
        result = _bus(engine, event_bus_name).put_events(read_json(entries, "--entries"))
        print_json({"FailedEntryCount": result.failed_entry_count, "Entries": result.entries})


@bus_app.command("archive")
def archive(
    name: Annotated[str, typer.Argument(help="The archive's name.")],
    event_bus_name: BusOption = "default",
    event_pattern: Annotated[
        str | None, typer.Option(help="Archive only the events matching this pattern.")
    ] = None,
    retention_days: Annotated[int, typer.Option(help="0 keeps events forever.")] = 0,
) -> None:
    """Create an archive of a bus's events."""
    with messaging_engine() as engine:
        bus = _bus(engine, event_bus_name)
        pattern = None if event_pattern is None else read_text(event_pattern, "--event-pattern")
        bus.create_archive(name, pattern, retention_days)
        print_json({"ArchiveArn": f"{bus.arn.replace('event-bus/', 'archive/')}/{name}"})


@bus_app.command("replay")
def replay(
    archive: Annotated[str, typer.Argument(help="The archive to replay.")],
    event_start_time: Annotated[str, typer.Option(help="ISO 8601, e.g. 2026-11-28T00:00:00Z.")],
    event_end_time: Annotated[str, typer.Option(help="ISO 8601; events before this time.")],
    event_bus_name: BusOption = "default",
    rule: Annotated[
        list[str] | None, typer.Option("--rule", help="Replay only to this rule (repeatable).")
    ] = None,
) -> None:
    """Send archived events of a time range through the bus again: {"Replayed": N}."""
    start, end = _time(event_start_time), _time(event_end_time)
    with messaging_engine() as engine:
        count = _bus(engine, event_bus_name).replay(archive, start, end, rule or None)
        print_json({"Replayed": count})


def _time(text: str) -> float:
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        fail(f"{text!r} is not an ISO 8601 time such as 2026-11-28T00:00:00Z")
