"""A review rendered for people (text, markdown) and for programs (json, SARIF 2.1.0).

The JSON document is described in ``docs/review.md``; SARIF follows the OASIS 2.1.0 schema,
with each check a rule and each waived finding a result carrying an accepted suppression,
so that code-scanning tools show it as dismissed with its justification.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator, Sequence
from typing import Any

from archlab import __version__
from archlab.review.availability import SLA_TABLE_DATE
from archlab.review.checks import CHECKS, FRAMEWORK
from archlab.review.model import Finding
from archlab.review.pricing import CostEstimate
from archlab.review.report import Review
from archlab.review.waivers import Waiver

FORMATS = ("text", "markdown", "json", "sarif")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {"high": "error", "medium": "warning", "low": "note"}


def render(reviews: Sequence[Review], fmt: str) -> str:
    if fmt == "text":
        return "\n\n".join(text(r) for r in reviews) + "\n"
    if fmt == "markdown":
        return "\n\n".join(markdown(r) for r in reviews) + "\n"
    if fmt == "json":
        return json.dumps(document(reviews), indent=2) + "\n"
    if fmt == "sarif":
        return json.dumps(sarif(reviews), indent=2) + "\n"
    raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")


def heading(review: Review) -> str:
    arch = review.architecture
    profile = f" (profile {arch.profile})" if arch.profile else ""
    return f"{arch.name}{profile}"


def summary(review: Review) -> str:
    counts = ", ".join(f"{review.count(s)} {s}" for s in ("high", "medium", "low"))
    waived = f", {len(review.waived)} waived" if review.waived else ""
    return f"{len(review.findings)} open findings ({counts}){waived}; {review.checks} checks"


# -- text ---------------------------------------------------------------------------------


def text(review: Review) -> str:
    lines = [f"{heading(review)}: {summary(review)}", f"checked against {FRAMEWORK}", ""]
    for finding in review.findings:
        lines += _text_finding(finding)
    if not review.findings:
        lines.append("No open findings.")
    lines += ["", f"User journeys (availability from the SLA table of {SLA_TABLE_DATE}):"]
    width = max((len(j.name) for j in review.journeys), default=0)
    for journey in review.journeys:
        lines.append(
            f"  {journey.name:<{width}}  {journey.availability:.4%}  weakest: {journey.weakest}"
        )
    if review.waived:
        lines += ["", "Waived:"]
        for waiver, findings in _by_waiver(review).items():
            resources = ", ".join(r for f in findings for r in f.resources[:1])
            lines.append(f"  {waiver.check} on {resources} (until {waiver.expires}):")
            lines += textwrap.wrap(
                waiver.justification, 100, initial_indent=" " * 4, subsequent_indent=" " * 4
            )
    if review.expired:
        lines += ["", "Expired waivers (no longer applied):"]
        lines += [f"  {w.source}: expired {w.expires}" for w in review.expired]
    lines += _text_unknown(review)
    if review.cost is not None:
        lines += _text_cost(review.cost)
    return "\n".join(lines).rstrip()


def _by_waiver(review: Review) -> dict[Waiver, list[Finding]]:
    grouped: dict[Waiver, list[Finding]] = {}
    for item in review.waived:
        grouped.setdefault(item.waiver, []).append(item.finding)
    return grouped


def _text_finding(finding: Finding) -> list[str]:
    indent = " " * 7
    return [
        f"{finding.severity.upper():<6} {finding.id}  [{finding.pillar}]  "
        f"{', '.join(finding.resources)}",
        *textwrap.wrap(finding.title, 100, initial_indent=indent, subsequent_indent=indent),
        *textwrap.wrap(
            f"fix: {finding.remediation}", 100, initial_indent=indent, subsequent_indent=indent
        ),
        f"{indent}best practice: {finding.best_practice}",
        "",
    ]


def _text_cost(cost: CostEstimate) -> list[str]:
    lines = ["", f"Monthly cost: ${cost.total:,.2f} (us-east-1 prices of {cost.table_date})"]
    for line in sorted(cost.lines, key=lambda item: -item.monthly):
        if not line.quantity:
            continue
        lines.append(
            f"  ${line.monthly:>10,.2f}  {line.resource:<22} {line.service}:"
            f" {line.quantity:,.4g} {line.unit} at ${line.unit_price:g}"
        )
    return lines


def _text_unknown(review: Review) -> list[str]:
    unknown = review.architecture.unknown
    if not unknown:
        return []
    return ["", f"Not reviewed ({len(unknown)} resources of types archlab does not import):"] + [
        f"  {logical_id} ({kind})" for logical_id, kind in unknown
    ]


# -- markdown -----------------------------------------------------------------------------


def markdown(review: Review) -> str:
    lines = [f"## {heading(review)}", "", f"{summary(review)}, against {FRAMEWORK}.", ""]
    if review.findings:
        lines += [
            "| Severity | Check | Pillar | Resources | Finding | Remediation | Best practice |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {f.severity} | `{f.id}` | {f.pillar} | {', '.join(f.resources)} | "
            f"{_cell(f.title)} | {_cell(f.remediation)} | {f.best_practice} |"
            for f in review.findings
        ]
    else:
        lines.append("No open findings.")
    lines += ["", "| Journey | Availability | Weakest link |", "|---|---|---|"]
    lines += [f"| {j.name} | {j.availability:.4%} | {j.weakest} |" for j in review.journeys]
    if review.waived:
        lines += ["", "**Waived**", ""]
        lines += [
            f"- `{w.finding.id}` {', '.join(w.finding.resources)}: {w.waiver.justification}"
            f" (until {w.waiver.expires})"
            for w in review.waived
        ]
    if review.expired:
        lines += ["", "**Expired waivers**", ""]
        lines += [f"- {w.source}: expired {w.expires}" for w in review.expired]
    if review.architecture.unknown:
        lines += [
            "",
            "**Not reviewed**: " + ", ".join(f"{i} ({t})" for i, t in review.architecture.unknown),
        ]
    return "\n".join(lines)


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


# -- json ---------------------------------------------------------------------------------


def finding_json(finding: Finding, review: Review) -> dict[str, Any]:
    return {
        "id": finding.id,
        "pillar": finding.pillar,
        "severity": finding.severity,
        "title": finding.title,
        "resources": list(finding.resources),
        "best_practice": finding.best_practice,
        "remediation": finding.remediation,
        "evidence": dict(finding.evidence),
        "system": review.architecture.name,
        "profile": review.architecture.profile,
    }


def document(reviews: Sequence[Review]) -> dict[str, Any]:
    """The JSON output: every review's open findings and journeys, flat, each naming its
    system and profile; ``reviews`` summarises each review."""
    return {
        "framework": FRAMEWORK,
        "sla_table_date": SLA_TABLE_DATE,
        "findings": [finding_json(f, r) for r in reviews for f in r.findings],
        "waived": [
            {
                **finding_json(w.finding, r),
                "justification": w.waiver.justification,
                "expires": w.waiver.expires.isoformat(),
            }
            for r in reviews
            for w in r.waived
        ],
        "journeys": [
            {
                "name": j.name,
                "availability": round(j.availability, 8),
                "weakest": j.weakest,
                "stages": [list(stage.resources) for stage in j.stages],
                "system": r.architecture.name,
                "profile": r.architecture.profile,
            }
            for r in reviews
            for j in r.journeys
        ],
        "reviews": [_review_json(r) for r in reviews],
    }


def _review_json(review: Review) -> dict[str, Any]:
    arch = review.architecture
    entry: dict[str, Any] = {
        "system": arch.name,
        "profile": arch.profile,
        "origin": arch.origin,
        "checks": review.checks,
        "open": {s: review.count(s) for s in ("high", "medium", "low")},
        "waived": len(review.waived),
        "expired_waivers": [
            {"waiver": w.source, "expires": w.expires.isoformat()} for w in review.expired
        ],
        "unknown_resources": [{"id": i, "type": t} for i, t in arch.unknown],
    }
    if review.cost is not None:
        entry["monthly_cost_usd"] = round(review.cost.total, 2)
        entry["price_table_date"] = review.cost.table_date
    return entry


# -- sarif --------------------------------------------------------------------------------


def sarif(reviews: Sequence[Review]) -> dict[str, Any]:
    ids = list(CHECKS)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "archlab review",
                        "version": __version__,
                        "rules": [_rule(check_id) for check_id in ids],
                    }
                },
                "results": list(_results(reviews, ids)),
                "properties": {"framework": FRAMEWORK},
            }
        ],
    }


def _rule(check_id: str) -> dict[str, Any]:
    info = CHECKS[check_id].info
    return {
        "id": info.id,
        "name": info.title,
        "shortDescription": {"text": info.title},
        "defaultConfiguration": {"level": SARIF_LEVEL[info.severity]},
        "properties": {"pillar": info.pillar, "best_practice": info.best_practice},
    }


def _results(reviews: Sequence[Review], ids: list[str]) -> Iterator[dict[str, Any]]:
    for review in reviews:
        for finding in review.findings:
            yield _result(review, finding, ids)
        for item in review.waived:
            result = _result(review, item.finding, ids)
            result["suppressions"] = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": f"{item.waiver.justification} (until {item.waiver.expires})",
                }
            ]
            yield result


def _result(review: Review, finding: Finding, ids: list[str]) -> dict[str, Any]:
    arch = review.architecture
    location: dict[str, Any] = {
        "logicalLocations": [
            {"name": resource, "fullyQualifiedName": f"{arch.name}/{resource}", "kind": "resource"}
            for resource in finding.resources
        ]
    }
    if arch.origin == "cloudformation":
        location["physicalLocation"] = {"artifactLocation": {"uri": arch.name}}
    return {
        "ruleId": finding.id,
        "ruleIndex": ids.index(finding.id),
        "level": SARIF_LEVEL[finding.severity],
        "message": {"text": f"{finding.title}. Fix: {finding.remediation}"},
        "locations": [location],
        "properties": {
            "severity": finding.severity,
            "pillar": finding.pillar,
            "best_practice": finding.best_practice,
            "system": arch.name,
            "profile": arch.profile,
        },
    }
