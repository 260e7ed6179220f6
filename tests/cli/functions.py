"""Functions the CLI tests host with ``archlab deliver --function``."""

from __future__ import annotations

from typing import Any

received: list[Any] = []


def record(event: Any) -> None:
    received.append(event)


not_callable = 42
