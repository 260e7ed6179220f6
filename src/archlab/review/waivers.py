"""Accepted findings: a file of waivers, each with a justification and an expiry date.

A waiver file (YAML or JSON) is a list of entries, or a mapping whose ``waivers`` key is::

    waivers:
      - check: REL-SPOF                # a check id (required)
        resources: [car-backend]       # the finding names one of these (default: any)
        system: purchases              # the system or template name (default: any)
        profile: topic                 # the profile (default: any)
        justification: one backend per coverage is the notes' design; its queue holds the work
        expires: 2027-03-31            # valid through this day, then the finding is back

A waiver applies to a finding of its check whose resources include one of its ``resources``,
on the named system and profile. An expired waiver applies to nothing and is reported, so
that accepting a risk is a decision that must be taken again, not one that is forgotten.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from archlab.review.checks import CHECKS
from archlab.review.model import Architecture, Finding

FIELDS = {"check", "resources", "system", "profile", "justification", "expires"}


class WaiverError(ValueError):
    """A waiver file that cannot be used, naming the file, the entry and the field."""


@dataclass(frozen=True)
class Waiver:
    check: str
    justification: str
    expires: dt.date
    resources: tuple[str, ...] = ()
    system: str | None = None
    profile: str | None = None
    source: str = ""
    """Where it was read: ``file.yaml, waiver 2``."""

    def covers(self, arch: Architecture, finding: Finding) -> bool:
        return (
            finding.id == self.check
            and self.system in (None, arch.name)
            and self.profile in (None, arch.profile)
            and (not self.resources or bool(set(self.resources) & set(finding.resources)))
        )

    def expired(self, today: dt.date) -> bool:
        return today > self.expires


@dataclass(frozen=True)
class Waived:
    finding: Finding
    waiver: Waiver


def load_waivers(path: str | Path) -> tuple[Waiver, ...]:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise WaiverError(f"{file}: cannot read the waiver file ({error.strerror})") from None
    return parse_waivers(text, file.name)


def parse_waivers(text: str, name: str = "waivers") -> tuple[Waiver, ...]:
    try:
        document = json.loads(text) if name.endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise WaiverError(f"{name}: not valid {_format(name)}: {_first_line(error)}") from None
    if isinstance(document, dict) and set(document) == {"waivers"}:
        document = document["waivers"]
    if document is None:
        return ()
    if not isinstance(document, list):
        raise WaiverError(f"{name}: expected a list of waivers (or a 'waivers:' key holding one)")
    return tuple(_waiver(entry, f"{name}, waiver {n}") for n, entry in enumerate(document, 1))


def _waiver(entry: Any, where: str) -> Waiver:
    if not isinstance(entry, dict):
        raise WaiverError(f"{where}: expected a mapping with check, justification and expires")
    unknown = sorted(set(map(str, entry)) - FIELDS)
    if unknown:
        raise WaiverError(
            f"{where}: unknown field(s) {', '.join(unknown)} (known: {', '.join(sorted(FIELDS))})"
        )
    check = _text(entry, "check", where)
    if check not in CHECKS:
        raise WaiverError(f"{where}: field 'check': no check is called {check!r}")
    where = f"{where} ({check})"
    resources = entry.get("resources", [])
    if isinstance(resources, str):
        resources = [resources]
    if not isinstance(resources, list) or not all(isinstance(r, str) and r for r in resources):
        raise WaiverError(f"{where}: field 'resources': expected a list of resource names")
    return Waiver(
        check=check,
        justification=_text(entry, "justification", where),
        expires=_date(entry.get("expires"), where),
        resources=tuple(resources),
        system=_optional(entry, "system", where),
        profile=_optional(entry, "profile", where),
        source=where,
    )


def _text(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise WaiverError(f"{where}: field {key!r}: required, a non-empty text")
    return value.strip()


def _optional(entry: dict[str, Any], key: str, where: str) -> str | None:
    return _text(entry, key, where) if key in entry else None


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise WaiverError(f"{where}: field 'expires': expected a date as YYYY-MM-DD, got {value!r}")


def apply_waivers(
    arch: Architecture,
    findings: Iterable[Finding],
    waivers: Sequence[Waiver],
    today: dt.date,
) -> tuple[list[Finding], list[Waived], list[Waiver]]:
    """The findings still open, those waived (with their waiver), and the expired waivers
    that would have covered a finding of ``arch``."""
    current = [w for w in waivers if not w.expired(today)]
    active: list[Finding] = []
    waived: list[Waived] = []
    lapsed: dict[str, Waiver] = {}
    for finding in findings:
        covering = next((w for w in current if w.covers(arch, finding)), None)
        if covering is not None:
            waived.append(Waived(finding, covering))
            continue
        active.append(finding)
        for waiver in waivers:
            if waiver.expired(today) and waiver.covers(arch, finding):
                lapsed.setdefault(waiver.source, waiver)
    return active, waived, list(lapsed.values())


def _format(name: str) -> str:
    return "JSON" if name.endswith(".json") else "YAML"


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
