"""Pacing a producer: a number of items as fast as possible, or a steady rate for a while.

Items go out in batches of up to ten (one request each, as SQS and EventBridge batch them); at a
steady rate, each batch holds the items that have fallen due, so the rate holds on average
whatever a request costs, and a slow request is caught up on rather than skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
BATCH = 10


def pace(
    send: Callable[[list[T]], None],
    source: Iterator[T],
    *,
    count: int | None = None,
    rate: float | None = None,
    duration: float | None = None,
) -> int:
    """Send ``count`` items as fast as possible, or ``rate`` a second for ``duration`` seconds
    (``rate * duration`` items, however late the last ones are); returns how many were sent."""
    if (count is None) == (rate is None or duration is None):
        raise ValueError("give count, or rate and duration")
    if count is not None:
        total = count
    else:
        assert rate is not None and duration is not None
        total = int(rate * duration)
    sent = 0
    started = time.monotonic()
    while sent < total:
        if rate is not None:
            due = min(int((time.monotonic() - started) * rate) + 1, total) - sent
            if due <= 0:
                time.sleep(min(0.01, 1 / rate))
                continue
        else:
            due = total - sent
        size = min(BATCH, due)
        send([next(source) for _ in range(size)])
        sent += size
    return sent
