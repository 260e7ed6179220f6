"""In-stream tumbling windows: counted by event time, closed by the watermark, late events
kept out of reported windows, and a spike raising an alert."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from archlab.systems.clickstream import functions
from archlab.systems.clickstream.windows import WINDOW_MS, TumblingWindows

T0 = 1_780_000_020_000 - 1_780_000_020_000 % WINDOW_MS


def view(at: int, page: str = "/") -> dict[str, Any]:
    return {"name": "page_view", "event_time": at, "page": page}


def purchase(at: int, coverage: str, value: float) -> dict[str, Any]:
    return {
        "name": "purchase",
        "event_time": at,
        "page": "/checkout",
        "coverage": coverage,
        "value": value,
    }


def test_windows_count_by_event_time_and_close_behind_the_watermark() -> None:
    windows = TumblingWindows(lateness_ms=5_000)
    assert (
        windows.add([view(T0 + 1_000, "/a"), view(T0 + 59_000, "/b"), view(T0 + 2_000, "/a")]) == []
    )
    assert windows.add([purchase(T0 + 30_000, "car", 42.5), purchase(T0 + 31_000, "car", 10)]) == []
    (closed,) = windows.add([view(T0 + WINDOW_MS + 5_000)])  # watermark reaches T0 + 60 s
    summary = closed.summary()
    assert summary["start_ms"] == T0 and summary["events"] == 5
    assert summary["page_views"] == 3 and summary["top_pages"][0] == ("/a", 2)
    assert summary["purchases"] == {"car": 2} and summary["revenue"] == {"car": 52.5}
    assert [w["start_ms"] for w in windows.panel()["open"]] == [T0 + WINDOW_MS]


def test_a_late_event_does_not_change_a_reported_window() -> None:
    windows = TumblingWindows(lateness_ms=0)
    windows.add([view(T0 + 1_000)])
    (closed,) = windows.add([view(T0 + WINDOW_MS)])
    windows.add([view(T0 + 2_000)])  # its window was reported already
    assert closed.events == 1 and windows.late == 1
    assert windows.panel()["late_events"] == 1


def test_a_spike_over_the_recent_minutes_raises_an_alert() -> None:
    windows = TumblingWindows(lateness_ms=0, spike_factor=3, spike_minimum=20)
    for minute in range(5):
        windows.add([view(T0 + minute * WINDOW_MS + i) for i in range(10)])
    assert list(windows.alerts) == []
    windows.add([view(T0 + 5 * WINDOW_MS + i) for i in range(100)])
    windows.add([view(T0 + 6 * WINDOW_MS)])  # closes the busy minute
    (alert,) = windows.alerts
    assert alert.window_start_ms == T0 + 5 * WINDOW_MS and alert.page_views == 100
    assert alert.baseline == 10 and "10.0x" in alert.message


def test_no_alert_below_the_minimum_or_without_a_baseline() -> None:
    windows = TumblingWindows(lateness_ms=0, spike_minimum=50)
    windows.add([view(T0 + i) for i in range(40)])  # no windows before it
    for minute in range(1, 5):
        windows.add([view(T0 + minute * WINDOW_MS + i) for i in range(2)])
    windows.add([view(T0 + 5 * WINDOW_MS + i) for i in range(30)])  # 15x, but under 50
    windows.add([view(T0 + 6 * WINDOW_MS)])
    assert list(windows.alerts) == []


def test_two_shards_pollers_never_leave_the_panel_behind_the_counts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first writer is slow: written outside the lock, its older panel would land last."""
    written: list[dict[str, Any]] = []
    first = threading.Event()

    def slow_then_fast(panel: dict[str, Any]) -> None:
        if not first.is_set():
            first.set()
            time.sleep(0.3)
        written.append(panel)

    monkeypatch.setattr(functions, "write_panel", slow_then_fast)
    windows = functions._Windows()
    shard_a = threading.Thread(target=windows.add, args=([view(T0 + 1)],))
    shard_a.start()
    first.wait(5)
    windows.add([view(T0 + 2), view(T0 + 3)])
    shard_a.join(5)
    last = written[-1]
    assert sum(w["page_views"] for w in last["windows"] + last["open"]) == 3
