"""Breaking a running system on purpose: kill an instance, take a zone down, bring it back.

The commands act on what ``archlab up`` runs, through two files under ARCHLAB_HOME:
``state.json`` (which processes run where, written by the supervisor) and ``chaos.json``
(which zones are down, written here and read by the supervisor at every step, so that nothing
is launched into a zone that is down). Every action is appended to ``chaos.log`` as a JSON line
and logged, so a report can say what was broken and when.

A zone outage is what an Availability Zone failing looks like from the inside: every process
placed in it -- HTTP instances and queue workers alike -- dies at once (SIGKILL: no draining,
no goodbye), and capacity has to come back in the zones that remain.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
CHAOS_FILE = "chaos.json"
CHAOS_LOG = "chaos.log"


class ChaosError(ValueError):
    """A chaos command that cannot be carried out (nothing runs, no such instance or zone)."""


def zones_down(home: Path) -> set[str]:
    try:
        document = json.loads((home / CHAOS_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return set()
    return set(document.get("zones_down", []))


def _write_zones_down(home: Path, zones: set[str]) -> None:
    home.mkdir(parents=True, exist_ok=True)
    scratch = home / (CHAOS_FILE + ".tmp")
    scratch.write_text(json.dumps({"zones_down": sorted(zones)}), encoding="utf-8")
    scratch.replace(home / CHAOS_FILE)


def record(home: Path, action: str, **details: Any) -> dict[str, Any]:
    entry = {"time": time.time(), "action": action, **details}
    with (home / CHAOS_LOG).open("a", encoding="utf-8") as file:
        file.write(json.dumps(entry) + "\n")
    log.warning("chaos: %s %s", action, details)
    return entry


def history(home: Path, limit: int = 50) -> list[dict[str, Any]]:
    try:
        lines = (home / CHAOS_LOG).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in lines[-limit:] if line.strip()]


def kill_instance(state: dict[str, Any], home: Path, instance_id: str) -> dict[str, Any]:
    """SIGKILL one instance of the running state (an HTTP instance by id)."""
    instances = {i["id"]: i for i in state.get("instances", [])}
    if instance_id not in instances:
        known = ", ".join(sorted(instances)) or "none"
        raise ChaosError(f"no instance {instance_id!r} is running (instances: {known})")
    found = instances[instance_id]
    _kill(found["pid"])
    return record(home, "kill-instance", instance=instance_id, zone=found["zone"], pid=found["pid"])


def kill_zone(state: dict[str, Any], home: Path, zone: str) -> dict[str, Any]:
    """Mark the zone down, then SIGKILL every process placed in it."""
    _check_zone(state, zone)
    _write_zones_down(home, zones_down(home) | {zone})
    victims = [i for i in state.get("instances", []) if i.get("zone") == zone]
    workers = [w for w in state.get("workers", []) if w.get("zone") == zone]
    for process in victims + workers:
        _kill(process["pid"])
    return record(
        home,
        "kill-zone",
        zone=zone,
        instances=[i["id"] for i in victims],
        workers=[w["pid"] for w in workers],
    )


def restore_zone(state: dict[str, Any], home: Path, zone: str) -> dict[str, Any]:
    """Bring the zone back: groups rebalance into it."""
    _check_zone(state, zone)
    down = zones_down(home)
    if zone not in down:
        raise ChaosError(f"zone {zone!r} is not down (down: {', '.join(sorted(down)) or 'none'})")
    _write_zones_down(home, down - {zone})
    return record(home, "restore-zone", zone=zone)


def known_zones(state: dict[str, Any]) -> set[str]:
    zones: set[str] = set()
    for system in state.get("systems", {}).values():
        zones.update(system.get("topology", {}).get("profile", {}).get("zones", []))
    return zones


def _check_zone(state: dict[str, Any], zone: str) -> None:
    zones = known_zones(state)
    if zone not in zones:
        raise ChaosError(f"no zone {zone!r} (zones: {', '.join(sorted(zones)) or 'none'})")


def _kill(pid: int | None) -> None:
    if not pid:
        return
    with contextlib.suppress(ProcessLookupError):  # already gone: what a kill wants
        os.kill(pid, signal.SIGKILL)
