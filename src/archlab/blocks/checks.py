"""Checks shared by the blocks' boundaries."""

from __future__ import annotations

from typing import Any

from archlab.blocks.errors import InvalidParameterValue, MessagingError


def integer(
    value: Any,
    what: str,
    low: int,
    high: int | None = None,
    error: type[MessagingError] = InvalidParameterValue,
) -> int:
    """``value`` if it is an integer from ``low`` to ``high``; else ``error`` naming ``what``.

    Booleans are refused although Python counts them as integers: ``True`` is no timeout.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        bounds = f"from {low} to {high}" if high is not None else f"of {low} or more"
        raise error(f"{what} must be an integer {bounds}, got {value!r}")
    return value
