"""What ``/api/state`` answers: the supervisor's snapshot joined with live queue metrics.

The supervisor's snapshot says what runs; the engine says how full each queue is right now. The
console polls this once a second, so the counts the page needs (workers and busy workers per
pool and per zone, which queues are dead-letter queues and whose) are computed here, once, in
tested Python, and the page's script only copies numbers into place.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from archlab.engines.base import MessagingEngine
from archlab.runtime.supervisor import queue_status


def live_state(state: dict[str, Any], engine: MessagingEngine) -> dict[str, Any]:
    sources = dead_letter_sources(state)
    queues = queue_status(engine, state)
    for name, queue in queues.items():
        queue["dead_letter_of"] = sources.get(name, [])
    return {
        "systems": state.get("systems", {}),
        "queues": queues,
        "pools": [pool_summary(pool) for pool in state.get("pools", [])],
        "workers": state.get("workers", []),
        "functions": state.get("functions", []),
        "groups": [group_summary(g, state.get("instances", [])) for g in state.get("groups", [])],
        "instances": state.get("instances", []),
        "balancers": [balancer_summary(b) for b in state.get("balancers", [])],
        "zones": sorted(zones_of(state)),
        "zones_down": state.get("zones_down", []),
    }


def zones_of(state: dict[str, Any]) -> set[str]:
    zones: set[str] = set()
    for group in state.get("groups", []):
        zones.update(group.get("zones", []))
    return zones


def group_summary(group: dict[str, Any], instances: list[dict[str, Any]]) -> dict[str, Any]:
    """An auto scaling group with its instances counted, also per zone (for the diagram)."""
    mine = [i for i in instances if i.get("group") == group["group"]]
    zones: dict[str, dict[str, int]] = {}
    for instance in mine:
        zone = zones.setdefault(instance["zone"], {"instances": 0, "healthy": 0})
        zone["instances"] += 1
        zone["healthy"] += int(bool(instance.get("healthy")))
    return {
        **{key: value for key, value in group.items() if key != "events"},
        "size": len(mine),
        "healthy": sum(zone["healthy"] for zone in zones.values()),
        "zones_count": zones,
        "events": group.get("events", [])[-5:],
    }


def balancer_summary(balancer: dict[str, Any]) -> dict[str, Any]:
    """A load balancer with its target groups' health counted."""
    groups = {}
    for name, targets in balancer.get("target_groups", {}).items():
        counts: dict[str, int] = {}
        for target in targets:
            counts[target["health"]] = counts.get(target["health"], 0) + 1
        groups[name] = counts
    return {
        key: balancer.get(key)
        for key in (
            "balancer",
            "system",
            "node",
            "url",
            "public",
            "requests",
            "retries",
            "responses",
            "local_responses",
            "waf",
            "alive",
            "restarts",
        )
    } | {"target_health": groups}


def dead_letter_sources(state: dict[str, Any]) -> dict[str, list[str]]:
    """Each dead-letter queue of the running systems, with the queues that feed it."""
    sources: dict[str, list[str]] = defaultdict(list)
    for name, queue in state.get("queues", {}).items():
        if queue.get("dead_letter"):
            sources[queue["dead_letter"]].append(name)
    return dict(sources)


def pool_summary(pool: dict[str, Any]) -> dict[str, Any]:
    """A pool without its worker list, with the counts the page shows, also per zone."""
    workers = pool.get("workers", [])
    zones: dict[str, dict[str, int]] = {}
    for worker in workers:
        zone = zones.setdefault(worker.get("zone") or "", {"workers": 0, "busy": 0})
        zone["workers"] += 1
        zone["busy"] += int(bool(worker.get("busy")))
    return {
        **{key: value for key, value in pool.items() if key != "workers"},
        "size": len(workers),
        "busy": sum(zone["busy"] for zone in zones.values()),
        "processed": sum(int(worker.get("processed", 0)) for worker in workers),
        "zones": zones,
    }
