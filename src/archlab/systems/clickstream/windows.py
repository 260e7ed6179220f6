"""In-stream analytics: tumbling one-minute windows over the events as they stream by, the
notes' "analyse in the stream" answer -- fresh within a minute, but only for the questions
asked before the data arrived.

Each window counts page views per page and purchases (and their value) per coverage type. A
window is assigned by the event's own time and closes once the stream's watermark -- the
latest event time seen, less ``lateness_ms`` -- has passed its end; an event for a window
already closed is counted as late, not added (its window was reported). A closed window's page
views are compared with the windows before it: more than ``spike_factor`` times their mean
(and at least ``spike_minimum``) raises an alert, as a CloudWatch anomaly alarm on the
stream's metrics would.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

WINDOW_MS = 60_000


@dataclass
class Window:
    start_ms: int
    page_views: Counter[str] = field(default_factory=Counter)
    purchases: Counter[str] = field(default_factory=Counter)
    revenue: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    events: int = 0

    def add(self, record: dict[str, Any]) -> None:
        self.events += 1
        if record["name"] == "page_view":
            self.page_views[record["page"]] += 1
        elif record["name"] == "purchase":
            coverage = record.get("coverage") or "unknown"
            self.purchases[coverage] += 1
            self.revenue[coverage] += float(record.get("value") or 0.0)

    def summary(self, top: int = 10) -> dict[str, Any]:
        return {
            "start_ms": self.start_ms,
            "end_ms": self.start_ms + WINDOW_MS,
            "events": self.events,
            "page_views": sum(self.page_views.values()),
            "top_pages": self.page_views.most_common(top),
            "purchases": dict(self.purchases),
            "revenue": {k: round(v, 2) for k, v in self.revenue.items()},
        }


@dataclass(frozen=True)
class Alert:
    window_start_ms: int
    page_views: int
    baseline: float
    message: str


class TumblingWindows:
    """Open windows by start, the closed ones kept (``keep`` of them) for the live panel."""

    def __init__(
        self,
        lateness_ms: int = 10_000,
        keep: int = 60,
        spike_factor: float = 3.0,
        spike_minimum: int = 50,
        baseline_windows: int = 10,
    ) -> None:
        self.lateness_ms = lateness_ms
        self.spike_factor = spike_factor
        self.spike_minimum = spike_minimum
        self.baseline_windows = baseline_windows
        self.open: dict[int, Window] = {}
        self.closed: deque[Window] = deque(maxlen=keep)
        self.alerts: deque[Alert] = deque(maxlen=keep)
        self.late = 0
        self._watermark = -1
        self._closed_until = -1
        """Windows starting before this have been closed."""

    def add(self, records: list[dict[str, Any]]) -> list[Window]:
        """Count the records; the windows this closed, oldest first."""
        for record in records:
            when = int(record["event_time"])
            start = when - when % WINDOW_MS
            if start < self._closed_until:
                self.late += 1
                continue
            window = self.open.get(start)
            if window is None:
                window = self.open[start] = Window(start)
            window.add(record)
            self._watermark = max(self._watermark, when - self.lateness_ms)
        return self._close()

    def _close(self) -> list[Window]:
        done = sorted(s for s in self.open if s + WINDOW_MS <= self._watermark)
        closed = [self.open.pop(start) for start in done]
        for window in closed:
            self._check_spike(window)
            self.closed.append(window)
            self._closed_until = max(self._closed_until, window.start_ms + WINDOW_MS)
        return closed

    def _check_spike(self, window: Window) -> None:
        recent = list(self.closed)[-self.baseline_windows :]
        if len(recent) < 3:
            return  # no baseline yet
        baseline = sum(sum(w.page_views.values()) for w in recent) / len(recent)
        views = sum(window.page_views.values())
        if views >= self.spike_minimum and views > self.spike_factor * baseline:
            self.alerts.append(
                Alert(
                    window.start_ms,
                    views,
                    baseline,
                    f"{views} page views in a minute, {views / max(baseline, 1):.1f}x the"
                    f" last {len(recent)} minutes' mean of {baseline:.0f}",
                )
            )

    def panel(self) -> dict[str, Any]:
        """What the console's live panel draws."""
        return {
            "windows": [w.summary() for w in self.closed],
            "open": [self.open[s].summary() for s in sorted(self.open)],
            "alerts": [a.__dict__ for a in self.alerts],
            "late_events": self.late,
        }
