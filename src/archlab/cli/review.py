"""``archlab review`` and ``archlab diagram``: the Well-Architected review of archlab's own
systems (as a profile deploys them) or of a CloudFormation template, and its drawing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from archlab.cli.inputs import fail
from archlab.review import diagram
from archlab.review.checks import run_checks
from archlab.review.cloudformation import TemplateError, load_template
from archlab.review.formats import FORMATS, render
from archlab.review.from_topology import from_topology
from archlab.review.model import SEVERITIES, Architecture
from archlab.review.pricing import Load
from archlab.review.report import review as review_architecture
from archlab.review.waivers import Waiver, WaiverError, load_waivers
from archlab.systems import available


def review(
    systems: Annotated[
        list[str] | None,
        typer.Argument(help="Systems to review (default: every system, unless --template)."),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option("--profile", "-p", help="The profile to review (default: each system's)."),
    ] = None,
    all_profiles: Annotated[
        bool, typer.Option("--all-profiles", help="Review every profile of each system.")
    ] = False,
    templates: Annotated[
        list[Path] | None,
        typer.Option("--template", "-t", help="A CloudFormation template (YAML or JSON)."),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help=f"One of {', '.join(FORMATS)}.")
    ] = "text",
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Exit with status 1 when an open finding is this severe or more"
            " (high, medium, low).",
        ),
    ] = None,
    waivers: Annotated[
        Path | None,
        typer.Option("--waivers", "-w", help="A YAML or JSON file of accepted findings."),
    ] = None,
    load: Annotated[
        str | None,
        typer.Option(
            "--load",
            help="Estimate the monthly cost for this load:"
            " requests=N,messages=N,gb_stored=N,gb_scanned=N.",
        ),
    ] = None,
    today: Annotated[
        str | None,
        typer.Option("--today", help="The day waivers expire against (default: today)."),
    ] = None,
) -> None:
    """Review designs against the five Well-Architected pillars: findings with evidence and
    remediation, each journey's composite availability, and the cost for a stated load."""
    if fmt not in FORMATS:
        fail(f"--format: expected one of {', '.join(FORMATS)}, not {fmt!r}")
    if fail_on is not None and fail_on not in SEVERITIES:
        fail(f"--fail-on: expected one of {', '.join(SEVERITIES)}, not {fail_on!r}")
    if profile is not None and all_profiles:
        fail("give --profile or --all-profiles, not both")
    architectures = _architectures(systems or [], profile, all_profiles, templates or [])
    accepted: tuple[Waiver, ...] = ()
    if waivers is not None:
        try:
            accepted = load_waivers(waivers)
        except WaiverError as error:
            fail(str(error))
    stated = _load(load)
    day = _day(today)
    reviews = [review_architecture(a, accepted, day, stated) for a in architectures]
    typer.echo(render(reviews, fmt), nl=False)
    if fail_on is not None and any(r.fails(fail_on) for r in reviews):
        raise typer.Exit(1)


def diagram_command(
    system: Annotated[str | None, typer.Argument(help="The system to draw.")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="The SVG file to write.")
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", "-p", help="The profile to draw.")
    ] = None,
    template: Annotated[
        Path | None,
        typer.Option("--template", "-t", help="Draw a CloudFormation template instead."),
    ] = None,
) -> None:
    """Draw a design as SVG: zones, public and private subnets, nodes and links, with the
    nodes that have findings marked."""
    if (system is None) == (template is None):
        fail("give a SYSTEM or --template FILE (one of them)")
    if output is None:
        fail("--output FILE.svg: say where to write the drawing")
    if output.suffix.lower() != ".svg":
        fail(f"--output: the drawing is SVG; name the file *.svg, not {output.name!r}")
    if system is not None:
        (arch,) = _architectures([system], profile, False, [])
    else:
        assert template is not None
        (arch,) = _architectures([], None, False, [template])
    try:
        output.write_text(diagram.render(arch, run_checks(arch)), encoding="utf-8")
    except OSError as error:
        fail(f"--output: cannot write {output}: {error.strerror}")
    typer.echo(f"wrote {output}")


def _architectures(
    systems: list[str], profile: str | None, all_profiles: bool, templates: list[Path]
) -> list[Architecture]:
    known = available()
    unknown = [name for name in systems if name not in known]
    if unknown:
        fail(f"no system called {', '.join(unknown)} (systems: {', '.join(known)})")
    if not systems and not templates:
        systems = list(known)
    found: list[Architecture] = []
    for name in systems:
        system = known[name]
        chosen = list(system.profiles) if all_profiles else [profile]
        for each in chosen:
            try:
                found.append(from_topology(system.topology(each)))
            except ValueError as error:  # no such profile
                fail(str(error))
    for path in templates:
        try:
            found.append(load_template(path))
        except TemplateError as error:
            fail(str(error))
    return found


def _load(text: str | None) -> Load | None:
    if text is None:
        return None
    try:
        return Load.parse(text)
    except ValueError as error:
        fail(f"--load: {error}")


def _day(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"--today: expected a date as YYYY-MM-DD, not {text!r}")
