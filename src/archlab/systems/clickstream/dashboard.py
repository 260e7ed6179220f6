"""The dashboard's questions, as SQL over the lake (``clickstream.events``): traffic over time,
top pages, the funnel and purchases by coverage type, each over the last ``days`` days.

Every query names its days on ``dt``, the partition key, so the lake reads only those days'
files (partition pruning); ``event_date`` inside the files says the same, but a filter on it
would open every file to find out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from archlab.lake.query import Lake

EVENTS = "clickstream.events"
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


def queries(days: int = DEFAULT_DAYS, now: datetime | None = None) -> dict[str, str]:
    first = since(days, now)
    where = f"dt >= '{first}'"
    return {
        "traffic": f"""
            SELECT dt, hour, count(*) AS page_views, count(DISTINCT session_id) AS sessions
            FROM {EVENTS} WHERE {where} AND name = 'page_view'
            GROUP BY dt, hour ORDER BY dt, hour""",
        "top_pages": f"""
            SELECT page, count(*) AS page_views
            FROM {EVENTS} WHERE {where} AND name = 'page_view'
            GROUP BY page ORDER BY page_views DESC, page LIMIT 10""",
        "funnel": f"""
            SELECT count(DISTINCT session_id) FILTER (name = 'page_view') AS view,
                   count(DISTINCT session_id) FILTER (name = 'add_to_cart') AS cart,
                   count(DISTINCT session_id) FILTER (name = 'begin_checkout') AS checkout,
                   count(DISTINCT session_id) FILTER (name = 'purchase') AS purchase
            FROM {EVENTS} WHERE {where}""",
        "purchases": f"""
            SELECT coalesce(coverage, 'unknown') AS coverage, count(*) AS purchases,
                   round(sum(value), 2) AS revenue
            FROM {EVENTS} WHERE {where} AND name = 'purchase'
            GROUP BY ALL ORDER BY purchases DESC""",
    }


def answer(lake: Lake, days: int = DEFAULT_DAYS, now: datetime | None = None) -> list[Answer]:
    """Each of the dashboard's queries run once over ``lake``."""
    answers = []
    for name, sql in queries(days, now).items():
        result = lake.query(sql)
        answers.append(
            Answer(name, result.table.to_pylist(), result.elapsed_ms, result.bytes_scanned)
        )
    return answers
