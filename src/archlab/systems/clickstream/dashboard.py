"""The dashboard's questions, as SQL over the lake (``clickstream.events``): traffic over time,
top pages, the funnel and purchases by coverage type, each over the last ``days`` days.

Every query names its days on ``dt``, the partition key, so the lake reads only those days'
files (partition pruning); ``event_date`` inside the files says the same, but a filter on it
would open every file to find out.

The two questions that count distinct sessions (traffic, the funnel) read the session-hours
rollup (:mod:`archlab.systems.clickstream.rollup`) for every hour it is up to date for, and the
raw events for the others; the answers are the same as from the events alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from archlab.blocks.errors import EntityNotFound
from archlab.lake.query import Lake, local_path
from archlab.systems.clickstream.rollup import SESSION_HOURS, STEPS, read_manifest
from archlab.systems.clickstream.wiring import DATABASE
from archlab.systems.clickstream.wiring import EVENTS as EVENTS_TABLE

EVENTS = f"{DATABASE}.{EVENTS_TABLE}"
ROLLUP = f"{DATABASE}.{SESSION_HOURS}"
DEFAULT_DAYS = 7


@dataclass(frozen=True)
class Answer:
    name: str
    rows: list[dict[str, Any]]
    elapsed_ms: float
    bytes_scanned: int


def since(days: int, now: datetime | None = None) -> str:
    """The first ``dt`` of the last ``days`` days, today included (UTC)."""
    today = (now or datetime.now(UTC)).date()
    return (today - timedelta(days=days - 1)).isoformat()


def queries(
    days: int = DEFAULT_DAYS,
    now: datetime | None = None,
    rolled: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, str]:
    """The dashboard's SQL over the last ``days`` days; ``rolled`` (day -> hours) names the
    hours to answer from the session-hours rollup (``fresh_hours``), the rest from the events."""
    first = since(days, now)
    where = f"dt >= '{first}'"
    steps = " ".join(f"WHEN '{name}' THEN {bit}" for name, bit in STEPS.items())
    step = f"CASE name {steps} ELSE 0 END"
    reached = ", ".join(
        f"count(*) FILTER (steps & {bit} <> 0) AS {label}"
        for label, bit in zip(("view", "cart", "checkout", "purchase"), STEPS.values(), strict=True)
    )
    raw_traffic = f"""
            SELECT dt, hour, count(*) AS page_views, count(DISTINCT session_id) AS sessions
            FROM {EVENTS} WHERE {where} AND name = 'page_view'{{raw}}
            GROUP BY dt, hour"""
    raw_steps = f"SELECT session_id, {step} AS steps FROM {EVENTS} WHERE {where}{{raw}}"
    hours = _hours(rolled or {})
    if hours:
        traffic = f"""
            SELECT dt, hour, sum(page_views)::BIGINT AS page_views,
                   count(*) FILTER (page_views > 0) AS sessions
            FROM {ROLLUP} WHERE {where} AND ({hours})
            GROUP BY dt, hour HAVING sum(page_views) > 0
            UNION ALL""" + raw_traffic.format(raw=f" AND NOT ({hours})")
        sources = (
            f"SELECT session_id, steps FROM {ROLLUP} WHERE {where} AND ({hours})"
            f" UNION ALL {raw_steps.format(raw=f' AND NOT ({hours})')}"
        )
    else:
        traffic = raw_traffic.format(raw="")
        sources = raw_steps.format(raw="")
    return {
        "traffic": f"{traffic}\n            ORDER BY dt, hour",
        "top_pages": f"""
            SELECT page, count(*) AS page_views
            FROM {EVENTS} WHERE {where} AND name = 'page_view'
            GROUP BY page ORDER BY page_views DESC, page LIMIT 10""",
        "funnel": f"""
            SELECT {reached} FROM (
                SELECT session_id, bit_or(steps) AS steps FROM ({sources}) GROUP BY session_id
            )""",
        "purchases": f"""
            SELECT coalesce(coverage, 'unknown') AS coverage, count(*) AS purchases,
                   round(sum(value), 2) AS revenue
            FROM {EVENTS} WHERE {where} AND name = 'purchase'
            GROUP BY ALL ORDER BY purchases DESC, coverage""",
    }


def fresh_hours(lake: Lake, first: str) -> dict[str, list[str]]:
    """The hours from day ``first`` on that the rollup answers for: those whose rollup the
    lake's views have, built from the very event files the events view reads (day -> hours)."""
    rollup = lake.partition_files(DATABASE, SESSION_HOURS)
    if not rollup:
        return {}
    try:
        location = lake.catalog.get_table(DATABASE, SESSION_HOURS).location
    except EntityNotFound:
        return {}
    built_from = read_manifest(local_path(location))
    fresh: dict[str, list[str]] = {}
    for values, names in sorted(lake.partition_files(DATABASE, EVENTS_TABLE).items()):
        day, hour = values
        if day >= first and values in rollup and built_from.get((day, hour)) == names:
            fresh.setdefault(day, []).append(hour)
    return fresh


def _hours(rolled: Mapping[str, Sequence[str]]) -> str:
    """A filter on the partition keys selecting ``rolled``'s hours ("" for none)."""
    clauses = []
    for day, hours in sorted(rolled.items()):
        if len(hours) == 24:
            clauses.append(f"dt = '{day}'")
        elif hours:
            listed = ", ".join(f"'{hour}'" for hour in sorted(hours))
            clauses.append(f"(dt = '{day}' AND hour IN ({listed}))")
    return " OR ".join(clauses)


def answer(lake: Lake, days: int = DEFAULT_DAYS, now: datetime | None = None) -> list[Answer]:
    """Each of the dashboard's queries run once over ``lake``."""
    rolled = fresh_hours(lake, since(days, now))
    answers = []
    for name, sql in queries(days, now, rolled).items():
        result = lake.query(sql)
        answers.append(
            Answer(name, result.table.to_pylist(), result.elapsed_ms, result.bytes_scanned)
        )
    return answers
