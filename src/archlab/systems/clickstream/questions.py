"""The questions the notes' "where do we analyse?" comparison asks of each of the clickstream's
three answers (``bench/analytics_tradeoff.py``): the in-stream windows, SQL over the lake's
events and SQL over the warehouse's tables.

Each question is over a span -- a whole UTC day, or one hour of one -- and has up to three
answers: a function of the windows the stream has closed, SQL over ``clickstream.events``
that names the span's partitions (``dt``, and ``hour`` for an hour, so the lake reads only
those files), and SQL over the warehouse. A path that cannot answer is ``None``, which is half
the comparison: the windows count page views and purchases a minute but no sessions, so no
funnel; the warehouse keeps days and sessions but no pages and nothing finer than a day, so no
top pages and no minutes. The lake holds every event, so it answers everything.

Every answer is a list of tuples in one order (ties broken by name), so that :func:`same` can
compare the three; revenue is rounded to the cent.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from archlab.systems.clickstream.etl import FUNNEL
from archlab.systems.clickstream.windows import WINDOW_MS, Window

EVENTS = "clickstream.events"
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
TOP = 10

Rows = list[tuple[Any, ...]]
StreamAnswer = Callable[[list[Window]], Rows]


@dataclass(frozen=True)
class Span:
    """A UTC day (``2026-05-27``), or one hour of it."""

    day: str
    hour: int | None = None

    @property
    def start_ms(self) -> int:
        midnight = datetime.strptime(self.day, "%Y-%m-%d").replace(tzinfo=UTC)
        return int(midnight.timestamp() * 1000) + (self.hour or 0) * HOUR_MS

    @property
    def end_ms(self) -> int:
        return self.start_ms + (DAY_MS if self.hour is None else HOUR_MS)

    @property
    def partitions(self) -> str:
        """The ``WHERE`` that prunes the lake to the span's partitions."""
        where = f"dt = '{self.day}'"
        return where if self.hour is None else f"{where} AND hour = '{self.hour:02d}'"

    def within(self, windows: Iterable[Window]) -> list[Window]:
        """The windows that start in the span (a minute lies wholly in a day or an hour)."""
        start, end = self.start_ms, self.end_ms
        return [w for w in windows if start <= w.start_ms < end]

    def __str__(self) -> str:
        return (
            self.day
            if self.hour is None
            else f"{self.day} {self.hour:02d}:00-{self.hour + 1:02d}:00"
        )


@dataclass(frozen=True)
class Question:
    name: str
    text: str
    span: Span
    lake: str
    """SQL over the lake's events."""
    warehouse: str | None
    """SQL over the warehouse's tables; None where they cannot answer."""
    stream: StreamAnswer | None
    """The answer from the closed windows; None where they cannot answer."""

    def paths(self) -> list[str]:
        found = ["stream"] if self.stream is not None else []
        found.append("lake")
        return found + (["warehouse"] if self.warehouse is not None else [])


def questions(day: str, hour_of: str, hour: int) -> list[Question]:
    """The comparison's questions: three over the whole ``day``, two over one ``hour`` (of the
    day ``hour_of``)."""
    whole, one = Span(day), Span(hour_of, hour)
    return [
        Question(
            "page_views_day",
            "page views in a day",
            whole,
            f"SELECT count(*) AS page_views FROM {EVENTS}"
            f" WHERE {whole.partitions} AND name = 'page_view'",
            f"SELECT page_views FROM daily_traffic WHERE day = '{day}'",
            lambda windows: _page_views(whole.within(windows)),
        ),
        Question(
            "purchases_day",
            "purchases and revenue by coverage type in a day",
            whole,
            f"SELECT coalesce(coverage, 'unknown') AS coverage, count(*) AS purchases,"
            f" round(sum(value), 2) AS revenue FROM {EVENTS}"
            f" WHERE {whole.partitions} AND name = 'purchase'"
            " GROUP BY ALL ORDER BY purchases DESC, coverage",
            "SELECT coverage, purchases, round(revenue, 2) FROM daily_purchases"
            f" WHERE day = '{day}' ORDER BY purchases DESC, coverage",
            lambda windows: _purchases(whole.within(windows)),
        ),
        Question(
            "funnel_day",
            "sessions reaching each step of the funnel in a day",
            whole,
            _funnel_sql(whole),
            f"SELECT step, sessions FROM daily_funnel WHERE day = '{day}' ORDER BY position",
            None,  # the windows count no sessions
        ),
        Question(
            "top_pages_hour",
            f"the {TOP} most viewed pages in an hour",
            one,
            f"SELECT page, count(*) AS page_views FROM {EVENTS}"
            f" WHERE {one.partitions} AND name = 'page_view'"
            f" GROUP BY page ORDER BY page_views DESC, page LIMIT {TOP}",
            None,  # the warehouse keeps no pages
            lambda windows: _top_pages(one.within(windows)),
        ),
        Question(
            "page_views_per_minute_hour",
            "page views in each minute of an hour",
            one,
            f"SELECT epoch_ms(event_time) // {WINDOW_MS} * {WINDOW_MS} AS minute_ms,"
            f" count(*) AS page_views FROM {EVENTS}"
            f" WHERE {one.partitions} AND name = 'page_view' GROUP BY ALL ORDER BY minute_ms",
            None,  # nothing finer than a day
            lambda windows: _per_minute(one.within(windows)),
        ),
    ]


STEP_EVENTS = {"view": "page_view", "cart": "add_to_cart", "checkout": "begin_checkout"}
"""The event that puts a session on each step of the ETL's funnel (``purchase`` is its own)."""


def _funnel_sql(span: Span) -> str:
    """One pass over the span's events, a row a step in the ETL's order."""
    steps = [step for step, _ in FUNNEL]
    counts = ", ".join(
        f"count(DISTINCT session_id) FILTER (name = '{STEP_EVENTS.get(step, step)}') AS {step}"
        for step in steps
    )
    listed = ", ".join(f"'{step}'" for step in steps)
    return (
        f"SELECT unnest([{listed}]) AS step, unnest([{', '.join(steps)}]) AS sessions"
        f" FROM (SELECT {counts} FROM {EVENTS} WHERE {span.partitions})"
    )


def _page_views(windows: list[Window]) -> Rows:
    return [(sum(sum(w.page_views.values()) for w in windows),)]


def _purchases(windows: list[Window]) -> Rows:
    bought: Counter[str] = Counter()
    revenue: dict[str, float] = {}
    for window in windows:
        bought.update(window.purchases)
        for coverage, value in window.revenue.items():
            revenue[coverage] = revenue.get(coverage, 0.0) + value
    rows = [(c, n, round(revenue.get(c, 0.0), 2)) for c, n in bought.items()]
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def _top_pages(windows: list[Window]) -> Rows:
    views: Counter[str] = Counter()
    for window in windows:
        views.update(window.page_views)
    return sorted(views.items(), key=lambda item: (-item[1], item[0]))[:TOP]


def _per_minute(windows: list[Window]) -> Rows:
    counted = ((w.start_ms, sum(w.page_views.values())) for w in windows)
    return sorted((start, views) for start, views in counted if views)


def same(a: Rows, b: Rows, cents: float = 0.011) -> bool:
    """The same rows, numbers equal (floats to within ``cents``: sums in another order)."""
    if len(a) != len(b):
        return False
    for row_a, row_b in zip(a, b, strict=True):
        if len(row_a) != len(row_b):
            return False
        for x, y in zip(row_a, row_b, strict=True):
            if isinstance(x, float) or isinstance(y, float):
                if not math.isclose(float(x), float(y), abs_tol=cents):
                    return False
            elif x != y:
                return False
    return True


def rows(table: pa.Table) -> Rows:
    """A query's Arrow answer as the rows :func:`same` compares."""
    columns = [column.to_pylist() for column in table.columns]
    return list(zip(*columns, strict=True)) if columns else []
