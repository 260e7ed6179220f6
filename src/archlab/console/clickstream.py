"""The clickstream dashboard of the console: what ``/api/clickstream`` answers, and the same
drawn as charts for the page (``/api/clickstream/fragments``).

Three sources, each reported on its own so that one failing never blanks the others:

- **the lake** -- the dashboard's queries (:mod:`archlab.systems.clickstream.dashboard`:
  traffic by hour, top pages, the funnel, purchases by coverage type) over the partitions the
  crawler has registered, each with what it took and what it scanned. Until the crawler's
  first crawl there is no ``clickstream.events`` table: that is "no events in the lake yet",
  not an error.
- **the stream** -- the in-stream one-minute windows that the system's ``windows`` function
  writes to ``panel.json`` after every batch (fresh within a minute, where the lake takes a
  delivery interval and a crawl).
- **the collector** -- its counters, from ``GET /stats`` on its endpoint.

An answer is kept for a few seconds (``CACHE_S``), so that many viewers polling do not run the
queries again each; one lock makes concurrent requests wait for one run rather than start
their own (DuckDB's connection is not shared across threads either). DuckDB and pyarrow are
imported only when a dashboard is first asked for, so the console starts as fast as before
when the clickstream does not run.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archlab.console import charts
from archlab.console.charts import Bar, Table

if TYPE_CHECKING:
    from archlab.lake.query import Lake
    from archlab.systems.clickstream.wiring import Places

SYSTEM = "clickstream"
CACHE_S = 3.0
DEFAULT_DAYS = 7
MAX_DAYS = 90
DAY_CHOICES = (1, 3, 7, 30)
LIVE_MINUTES = 30
"""The live chart shows the windows of the last this many minutes (at least 15)."""
MIN_HOURS = 24
"""The traffic chart spans at least a day, ending at the last hour with events."""
COLLECTOR_TIMEOUT_S = 1.0
FUNNEL = (
    ("view", "view", "viewed a page"),
    ("cart", "cart", "added to the cart"),
    ("checkout", "checkout", "began the checkout"),
    ("purchase", "purchase", "purchased"),
)
"""The funnel's steps: the query's column, the label under the column, what a session did."""
COUNTERS = (
    ("batches", "batches"),
    ("accepted", "events accepted"),
    ("refused", "events refused"),
    ("bot_events", "bot events dropped"),
    ("bad_batches", "unreadable batches"),
)
EMPTY_LAKE = (
    "No events in the lake yet. Events are delivered as Parquet once a partition's buffer is"
    " old enough (60 s by default, ARCHLAB_CLICKSTREAM_BUFFER_S) and the crawler registers"
    " new partitions every 30 s: browse the storefront or run `archlab clickstream generate`,"
    " and the charts fill within a minute or two."
)
EMPTY_STREAM = (
    "No events through the stream yet: browse the storefront (its pages run tracker.js) or"
    " run `archlab clickstream generate`, and the one-minute windows appear here within"
    " seconds."
)


class Dashboard:
    """The dashboard over the clickstream's data under ``home`` (ARCHLAB_HOME)."""

    def __init__(
        self, home: Path, cache_s: float = CACHE_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.home = home
        self.cache_s = cache_s
        self.clock = clock
        self._lock = threading.Lock()
        self._lake: Lake | None = None
        self._cache: dict[tuple[int, str | None], tuple[float, dict[str, Any]]] = {}

    def data(self, days: int = DEFAULT_DAYS, collector: str | None = None) -> dict[str, Any]:
        """Everything the dashboard shows, at most ``cache_s`` old; ``collector`` is the
        collector's base URL, if it runs."""
        key = (days, collector)
        with self._lock:
            now = self.clock()
            cached = self._cache.get(key)
            if cached is not None and now - cached[0] < self.cache_s:
                return cached[1]
            answer = {
                "system": SYSTEM,
                "generated_at": time.time(),
                "cache_s": self.cache_s,
                "lake": self._lake_answer(days),
                "stream": stream_answer(self._places().panel),
                "collector": collector_answer(collector),
            }
            self._cache = {k: v for k, v in self._cache.items() if now - v[0] < self.cache_s}
            self._cache[key] = (now, answer)
            return answer

    def close(self) -> None:
        with self._lock:
            self.close_lake()

    def _places(self) -> Places:
        from archlab.systems.clickstream.wiring import places

        return places(self.home)

    def _lake_answer(self, days: int) -> dict[str, Any]:
        import duckdb

        from archlab.blocks.errors import CatalogError, EntityNotFound
        from archlab.lake.query import Lake, QueryError
        from archlab.systems.clickstream import dashboard, pipeline
        from archlab.systems.clickstream.wiring import DATABASE, EVENTS

        first = dashboard.since(days)
        base: dict[str, Any] = {"days": days, "since": first}
        try:
            if self._lake is None:
                self._lake = Lake(pipeline.catalog(self.home))
            try:
                self._lake.catalog.get_table(DATABASE, EVENTS)
            except EntityNotFound:  # not crawled yet
                return base | {"status": "empty", "detail": EMPTY_LAKE}
            self._lake.refresh()  # the partitions crawled since the last answer
            answers = dashboard.answer(self._lake, days)
        except (QueryError, CatalogError, OSError, duckdb.Error) as error:
            # The connection stays: the next answer refreshes its views and tries again.
            return base | {"status": "error", "detail": f"the lake could not answer: {error}"}
        by_name = {a.name: a.rows for a in answers}
        found = base | {
            "status": "ready",
            "traffic": by_name.get("traffic", []),
            "top_pages": by_name.get("top_pages", []),
            "funnel": funnel_steps((by_name.get("funnel") or [{}])[0]),
            "purchases": by_name.get("purchases", []),
            "queries": [
                {
                    "name": a.name,
                    "elapsed_ms": round(a.elapsed_ms, 1),
                    "bytes_scanned": a.bytes_scanned,
                }
                for a in answers
            ],
        }
        if not found["traffic"] and not any(step["sessions"] for step in found["funnel"]):
            found |= {
                "status": "empty",
                "detail": f"No events in the lake since {first}: choose more days, or send some.",
            }
        return found

    def close_lake(self) -> None:
        """Forget the connection (a failed one is made again on the next answer)."""
        if self._lake is not None:
            self._lake.close()
            self._lake = None


def funnel_steps(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The funnel's row as steps, each with its share of the step before and of the first."""
    steps: list[dict[str, Any]] = []
    first = int(row.get("view") or 0)
    for column, label, did in FUNNEL:
        sessions = int(row.get(column) or 0)
        previous = steps[-1]["sessions"] if steps else sessions
        steps.append(
            {
                "step": column,
                "label": label,
                "did": did,
                "sessions": sessions,
                "of_previous": round(sessions / previous, 4) if previous else None,
                "of_first": round(sessions / first, 4) if first else None,
            }
        )
    return steps


def stream_answer(panel: Path) -> dict[str, Any]:
    """The live panel as the ``windows`` function last wrote it."""
    try:
        text = panel.read_text(encoding="utf-8")
        updated = panel.stat().st_mtime
    except FileNotFoundError:
        return {"status": "empty", "detail": EMPTY_STREAM}
    except OSError as error:
        return {"status": "error", "detail": f"cannot read {panel}: {error}"}
    try:
        found = json.loads(text)
        if not isinstance(found, dict):
            raise ValueError("not an object")
    except ValueError as error:
        return {"status": "error", "detail": f"{panel} is not the panel's JSON: {error}"}
    return {
        "status": "ready",
        "updated_at": updated,
        "windows": list(found.get("windows") or []),
        "open": list(found.get("open") or []),
        "alerts": list(found.get("alerts") or []),
        "late_events": int(found.get("late_events") or 0),
    }


def collector_answer(url: str | None) -> dict[str, Any]:
    """The collector's counters from its ``/stats``."""
    if not url:
        return {"status": "absent", "detail": "the collector is not running"}
    base = url.rstrip("/")
    try:
        with urllib.request.urlopen(f"{base}/stats", timeout=COLLECTOR_TIMEOUT_S) as response:
            stats = json.loads(response.read())
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        return {"status": "error", "url": base, "detail": f"cannot reach {base}: {reason}"}
    return {"status": "ready", "url": base, "stats": stats}


# --- the page's fragments ------------------------------------------------------------------

SLOTS = (
    "stream",
    "live_minutes",
    "live_purchases",
    "alerts",
    "collector",
    "lake",
    "traffic",
    "top_pages",
    "funnel",
    "purchases",
    "queries",
)


def fragments(data: dict[str, Any]) -> dict[str, str]:
    """The dashboard as HTML, by the page's ``data-slot`` it fills."""
    lake, stream = data["lake"], data["stream"]
    out = {
        "stream": _status(stream, lambda: _stream_summary(stream, data["generated_at"])),
        "live_minutes": live_minutes(stream),
        "live_purchases": live_purchases(stream),
        "alerts": alerts(stream),
        "collector": collector(data["collector"]),
        "lake": _status(lake, lambda: _lake_summary(lake)),
    }
    ready = lake["status"] == "ready"
    waiting = "waiting for the lake" if lake["status"] != "error" else "the lake did not answer"
    for slot, draw, caption in (
        ("traffic", traffic, "Traffic over time"),
        ("top_pages", top_pages, "Top pages"),
        ("funnel", funnel, "Funnel"),
        ("purchases", purchases, "Purchases by coverage type"),
    ):
        out[slot] = draw(lake) if ready else charts.placeholder(slot, caption, waiting)
    out["queries"] = queries(lake, data)
    return out


def _status(answer: dict[str, Any], ready: Callable[[], str]) -> str:
    if answer["status"] == "ready":
        return escape(ready())
    kind = "alert" if answer["status"] == "error" else "empty"
    return f'<span class="{kind}">{escape(answer["detail"])}</span>'


def _lake_summary(lake: dict[str, Any]) -> str:
    views = sum(int(r["page_views"]) for r in lake["traffic"])
    steps = {s["step"]: s["sessions"] for s in lake["funnel"]}
    return (
        f"The lake since {lake['since']} (UTC), as the crawler has registered it: "
        f"{charts.count(views)} page views by {charts.count(steps.get('view', 0))} sessions, "
        f"{charts.count(steps.get('purchase', 0))} of which purchased."
    )


def _stream_summary(stream: dict[str, Any], now: float) -> str:
    age = max(0, round(now - stream["updated_at"]))
    when = f"{age} s ago" if age < 90 else f"{round(age / 60)} min ago"
    return (
        f"One-minute windows over the stream, updated {when}: "
        f"{len(stream['windows'])} closed, {len(stream['open'])} still open."
    )


def _hour(row: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(row["dt"])).replace(hour=int(row["hour"]), tzinfo=UTC)


def traffic(lake: dict[str, Any]) -> str:
    """Page views an hour (bars) and sessions an hour (a line), every hour from the first
    with events (or a day before the last, if later, but not before the first day asked for)
    to the last, those without at zero."""
    key, caption = "traffic", "Traffic over time"
    by_hour = {_hour(r): r for r in lake["traffic"]}
    if not by_hour:
        return charts.placeholder(key, caption, f"no page views since {lake['since']}")
    last = max(by_hour)
    start = datetime.fromisoformat(lake["since"]).replace(tzinfo=UTC)  # no hour before it was asked
    first = min(min(by_hour), max(last - timedelta(hours=MIN_HOURS - 1), start))
    hours = [
        first + timedelta(hours=n) for n in range(int((last - first) / timedelta(hours=1)) + 1)
    ]
    bars, line, table = [], [], []
    for hour in hours:
        row = by_hour.get(hour, {})
        views, sessions = int(row.get("page_views", 0)), int(row.get("sessions", 0))
        when = hour.strftime("%Y-%m-%d %H:00")
        bars.append(
            Bar(
                when,
                views,
                f"{when} UTC: {charts.count(views)} page views, {charts.count(sessions)} sessions",
            )
        )
        line.append(float(sessions))
        if row:
            table.append([when, charts.count(views), charts.count(sessions)])
    axis = _hour_axis(hours)
    peak = max(bars, key=lambda b: b.value)
    total = sum(b.value for b in bars)
    desc = (
        f"Page views an hour from {hours[0]:%Y-%m-%d %H:00} to {hours[-1]:%Y-%m-%d %H:00} UTC"
        f" ({len(hours)} hours): {charts.count(total)} in all, the busiest hour"
        f" {peak.label} with {charts.count(peak.value)}."
    )
    svg = charts.columns(
        "cs-traffic",
        "Page views and sessions an hour",
        desc,
        bars,
        axis=axis,
        line=line,
        legend=(("views", "page views"), ("c-line", "sessions")),
        height=250,
    )
    return charts.figure(
        key,
        "Traffic over time · page views an hour (UTC)",
        svg,
        Table(("hour (UTC)", "page views", "sessions"), table),
    )


def _hour_axis(hours: list[datetime]) -> dict[int, str]:
    """Labels for an hourly axis: days at midnight over a long span, else every few hours."""
    span = len(hours)
    if span > 48:
        every = max(1, round(span / 24 / 8))  # at most about eight day labels
        days = [i for i, h in enumerate(hours) if h.hour == 0]
        return {i: hours[i].strftime("%b %-d") for i in days[::every]}
    every = next(n for n in (1, 2, 3, 6, 12) if span / n <= 12)
    return {
        i: (h.strftime("%b %-d") if h.hour == 0 else h.strftime("%H:00"))
        for i, h in enumerate(hours)
        if h.hour % every == 0
    }


def top_pages(lake: dict[str, Any]) -> str:
    key, caption = "top_pages", "Top pages"
    found = lake["top_pages"]
    if not found:
        return charts.placeholder(key, caption, f"no page views since {lake['since']}")
    bars = [
        Bar(
            str(r["page"]),
            int(r["page_views"]),
            f"{r['page']}: {charts.count(r['page_views'])} page views",
            charts.count(r["page_views"]),
        )
        for r in found
    ]
    desc = f"The {len(bars)} most viewed pages: " + "; ".join(f"{b.label} {b.note}" for b in bars)
    svg = charts.rows("cs-top-pages", "Most viewed pages", desc, bars)
    return charts.figure(
        key,
        f"Top pages · page views since {lake['since']}",
        svg,
        Table(("page", "page views"), [[b.label, b.note] for b in bars]),
    )


def funnel(lake: dict[str, Any]) -> str:
    key, caption = "funnel", "Funnel"
    steps = lake["funnel"]
    if not steps or not steps[0]["sessions"]:
        return charts.placeholder(key, caption, f"no sessions since {lake['since']}")
    bars = [
        Bar(
            s["label"],
            s["sessions"],
            f"{charts.count(s['sessions'])} sessions {s['did']}"
            + (f" ({_percent(s['of_first'])} of those that viewed a page)" if i else ""),
            charts.count(s["sessions"]),
        )
        for i, s in enumerate(steps)
    ]
    conversions = ["\u2192 " + _percent(s["of_previous"], whole=True) for s in steps[1:]]
    desc = "Sessions at each step: " + "; ".join(
        f"{s['label']} {charts.count(s['sessions'])}"
        + (f" ({_percent(s['of_previous'])} of the step before)" if i else "")
        for i, s in enumerate(steps)
    )
    overall = steps[-1]["of_first"]
    svg = charts.funnel("cs-funnel", "Sessions through the funnel", desc, bars, conversions)
    return charts.figure(
        key,
        "Funnel · sessions from view to purchase",
        svg,
        Table(
            ("step", "sessions", "of the step before", "of those that viewed"),
            [
                [
                    s["label"],
                    charts.count(s["sessions"]),
                    _percent(s["of_previous"]),
                    _percent(s["of_first"]),
                ]
                for s in steps
            ],
        ),
        note=f"{_percent(overall)} of the sessions that viewed a page purchased.",
    )


def _percent(share: float | None, whole: bool = False) -> str:
    """A share as a percentage: one decimal (whole, when ``whole`` and at least 10%)."""
    if share is None:
        return "\u2013"
    if share >= 0.995 or (whole and share >= 0.1):
        return f"{share * 100:.0f}%"
    return f"{share * 100:.1f}%"


def money(value: float) -> str:
    return f"{value:,.2f}"


def purchases(lake: dict[str, Any]) -> str:
    key, caption = "purchases", "Purchases by coverage type"
    found = lake["purchases"]
    if not found:
        return charts.placeholder(key, caption, f"no purchases since {lake['since']}")
    bars = [
        Bar(
            str(r["coverage"]),
            int(r["purchases"]),
            f"{r['coverage']}: {charts.count(r['purchases'])} purchases,"
            f" {money(float(r['revenue'] or 0))} revenue",
            f"{charts.count(r['purchases'])} \u00b7 {money(float(r['revenue'] or 0))}",
        )
        for r in found
    ]
    revenue = sum(float(r["revenue"] or 0) for r in found)
    desc = "Purchases and revenue by coverage type: " + "; ".join(b.title for b in bars)
    svg = charts.rows("cs-purchases", "Purchases by coverage type", desc, bars, color="buys")
    return charts.figure(
        key,
        "Purchases by coverage type · purchases \u00b7 revenue",
        svg,
        Table(
            ("coverage", "purchases", "revenue"),
            [
                [str(r["coverage"]), charts.count(r["purchases"]), money(float(r["revenue"] or 0))]
                for r in found
            ],
        ),
        note=f"{charts.count(sum(int(r['purchases']) for r in found))} purchases,"
        f" {money(revenue)} in revenue.",
    )


def _minute(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M")


def live_minutes(stream: dict[str, Any]) -> str:
    """Page views a minute of the last windows, closed and still open, alerts in red."""
    key, caption = "live_minutes", "Page views a minute"
    if stream["status"] != "ready":
        return charts.placeholder(key, caption, "waiting for the stream")
    windows = {int(w["start_ms"]): (w, False) for w in stream["windows"]}
    windows |= {int(w["start_ms"]): (w, True) for w in stream["open"]}
    if not windows:
        return charts.placeholder(key, caption, "no windows yet")
    flagged = {int(a["window_start_ms"]) for a in stream["alerts"]}
    last = max(windows)
    first = min(max(min(windows), last - (LIVE_MINUTES - 1) * 60_000), last - 14 * 60_000)
    bars, table = [], []
    for start in range(first, last + 1, 60_000):
        window, is_open = windows.get(start, ({}, False))
        views = int(window.get("page_views", 0))
        state = " (still open)" if is_open else ""
        kind = "open" if is_open else "alert" if start in flagged else ""
        alert = ", a spike" if start in flagged else ""
        title = f"{_minute(start)} UTC: {charts.count(views)} page views{state}{alert}"
        bars.append(Bar(_minute(start), views, title, kind=kind))
        if window:
            events = charts.count(int(window.get("events", 0)))
            table.append([_minute(start) + state, charts.count(views), events])
    axis = {
        i: b.label for i, b in enumerate(bars) if i == len(bars) - 1 or int(b.label[-1]) % 5 == 0
    }
    if len(bars) <= 6:
        axis = {i: b.label for i, b in enumerate(bars)}
    desc = (
        f"Page views in each minute from {bars[0].label} to {bars[-1].label} UTC: "
        + ", ".join(f"{b.label} {b.value:g}" for b in bars[-10:])
        + (f"; {len(flagged & set(windows))} spike alerts" if flagged & set(windows) else "")
    )
    svg = charts.columns(
        "cs-live-minutes",
        "Page views a minute, the last windows",
        desc,
        bars,
        axis=axis,
        legend=(("views", "closed"), ("views open", "still open"), ("views alert", "spike")),
        height=220,
    )
    return charts.figure(
        key,
        "Page views a minute · the stream's last windows (UTC)",
        svg,
        Table(("minute (UTC)", "page views", "events"), table),
    )


def live_purchases(stream: dict[str, Any]) -> str:
    """Purchases per coverage type in the last closed window (the open one, if none closed)."""
    key, caption = "live_purchases", "Purchases in the last minute"
    if stream["status"] != "ready":
        return charts.placeholder(key, caption, "waiting for the stream")
    closed, still = stream["windows"], stream["open"]
    if not closed and not still:
        return charts.placeholder(key, caption, "no windows yet")
    window = closed[-1] if closed else still[-1]
    span = f"{_minute(int(window['start_ms']))}\u2013{_minute(int(window['end_ms']))} UTC"
    state = "" if closed else ", still open"
    bought = dict(window.get("purchases") or {})
    revenue = dict(window.get("revenue") or {})
    if not bought:
        return charts.placeholder(key, f"{caption} · {span}", f"no purchases in {span}{state}")
    ordered = sorted(bought.items(), key=lambda item: (-item[1], item[0]))
    bars = [
        Bar(
            coverage,
            n,
            f"{coverage}: {n} purchases, {money(float(revenue.get(coverage, 0)))} revenue",
            f"{n} \u00b7 {money(float(revenue.get(coverage, 0)))}",
        )
        for coverage, n in ordered
    ]
    desc = f"Purchases by coverage type in the minute {span}{state}: " + "; ".join(
        b.title for b in bars
    )
    svg = charts.rows("cs-live-purchases", "Purchases in the last minute", desc, bars, color="buys")
    return charts.figure(
        key,
        f"Purchases in the last minute · {span}{state}",
        svg,
        Table(
            ("coverage", "purchases", "revenue"),
            [[b.label, str(int(b.value)), money(float(revenue.get(b.label, 0)))] for b in bars],
        ),
    )


def alerts(stream: dict[str, Any]) -> str:
    """The spike alerts, newest first, and the events that came too late for their window."""
    parts = ['<div class="side"><h4>Alerts</h4>']
    if stream["status"] != "ready":
        return parts[0] + '<p class="empty">waiting for the stream</p></div>'
    found = sorted(stream["alerts"], key=lambda a: -int(a["window_start_ms"]))[:8]
    if found:
        items = "".join(
            f'<li class="alert-item"><time>{_minute(int(a["window_start_ms"]))} UTC</time> '
            f"{escape(str(a['message']))}</li>"
            for a in found
        )
        parts.append(f'<ul class="alerts">{items}</ul>')
    else:
        parts.append(
            '<p class="empty">No spike: no minute has had three times the page views'
            " of the minutes before it.</p>"
        )
    late = int(stream["late_events"])
    parts.append(
        f'<p class="late"><strong>{charts.count(late)}</strong> late '
        f"event{'' if late == 1 else 's'}: arrived after their minute's window had closed"
        " (counted in the lake, not here).</p></div>"
    )
    return "".join(parts)


def collector(answer: dict[str, Any]) -> str:
    parts = ['<div class="side"><h4>Collector</h4>']
    if answer["status"] != "ready":
        kind = "alert" if answer["status"] == "error" else "empty"
        return parts[0] + f'<p class="{kind}">{escape(answer["detail"])}</p></div>'
    stats = answer["stats"]
    items = "".join(
        f'<div data-counter="{escape(name)}"><dt>{escape(label)}</dt>'
        f"<dd>{charts.count(int(stats.get(name, 0)))}</dd></div>"
        for name, label in COUNTERS
    )
    parts.append(f'<dl class="counters">{items}</dl>')
    parts.append(f'<p class="chart-note">GET {escape(answer["url"])}/stats</p></div>')
    return "".join(parts)


def queries(lake: dict[str, Any], data: dict[str, Any]) -> str:
    """The footnote: what each query took and scanned, and how old the answer may be."""
    when = datetime.fromtimestamp(data["generated_at"], UTC).strftime("%H:%M:%S")
    cached = f"Answered at {when} UTC, kept {data['cache_s']:g} s for other viewers."
    if not lake.get("queries"):
        return escape(cached)
    runs = "; ".join(
        f"{q['name'].replace('_', ' ')} {q['elapsed_ms']:.0f} ms, {_bytes(q['bytes_scanned'])}"
        for q in lake["queries"]
    )
    return escape(
        f"Queries over the lake (DuckDB, partitions pruned to dt \u2265 {lake['since']}): {runs}"
        f" scanned. {cached}"
    )


def _bytes(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1000:.1f} kB"
    return f"{n / 1_000_000:.1f} MB"
