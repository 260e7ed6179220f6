"""Time, injected: blocks and engines ask a clock instead of the time module.

Visibility timeouts, delays, retention and long polling all depend on time; with a
:class:`ManualClock` the tests drive them without sleeping.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (wall-clock time, shared between processes)."""

    def sleep(self, seconds: float) -> None:
        """Wait this long (a manual clock simply moves forward)."""


class SystemClock:
    """The real time."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class ManualClock:
    """A clock that only moves when told to: ``advance`` it, or ``sleep`` on it."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = start

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        self._now += seconds
