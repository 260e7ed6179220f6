"""One review: an architecture's findings (open, waived), its journeys' availability and,
for a stated load, its monthly cost. ``formats`` renders it; the CLI and the console call
``review``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from archlab.review.availability import JourneyAvailability, journey_availability
from archlab.review.checks import CHECKS, FRAMEWORK, Context, run_checks
from archlab.review.model import SEVERITIES, Architecture, Finding, Severity
from archlab.review.pricing import CostEstimate, Load, monthly_cost
from archlab.review.waivers import Waived, Waiver, apply_waivers


@dataclass(frozen=True)
class Review:
    architecture: Architecture
    findings: tuple[Finding, ...]
    """The open findings, most severe first."""
    waived: tuple[Waived, ...]
    expired: tuple[Waiver, ...]
    """Waivers past their expiry that would have covered a finding here."""
    journeys: tuple[JourneyAvailability, ...]
    framework: str
    checks: int
    """How many checks ran."""
    cost: CostEstimate | None = None

    def count(self, severity: Severity) -> int:
        return sum(1 for finding in self.findings if finding.severity == severity)

    def fails(self, threshold: Severity) -> bool:
        """Whether an open finding is at ``threshold`` or more severe."""
        worse = SEVERITIES[: SEVERITIES.index(threshold) + 1]
        return any(finding.severity in worse for finding in self.findings)


def review(
    arch: Architecture,
    waivers: Sequence[Waiver] = (),
    today: dt.date | None = None,
    load: Load | None = None,
) -> Review:
    context = Context(arch)  # its journeys serve the checks and the availability alike
    found = run_checks(arch, context=context)
    active, waived, expired = apply_waivers(arch, found, waivers, today or dt.date.today())
    return Review(
        architecture=arch,
        findings=tuple(active),
        waived=tuple(waived),
        expired=tuple(expired),
        journeys=tuple(journey_availability(arch, j) for j in context.journeys),
        framework=FRAMEWORK,
        checks=len(CHECKS),
        cost=monthly_cost(arch, load) if load is not None else None,
    )
