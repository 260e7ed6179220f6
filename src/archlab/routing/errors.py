"""Errors raised by the routing engine.

Every error names *where* the problem is (a path such as ``detail.state[0].prefix``) and *what*
was wrong, so that a user can fix a pattern without reading our source.
"""

from __future__ import annotations


class RoutingError(ValueError):
    """Base class of every error raised by :mod:`archlab.routing`."""

    def __init__(self, message: str, path: str = "") -> None:
        self.reason = message
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class InvalidEventPattern(RoutingError):
    """An EventBridge event pattern that Amazon EventBridge would reject."""


class InvalidFilterPolicy(RoutingError):
    """An SNS filter policy that Amazon SNS would reject."""


class InvalidEvent(RoutingError):
    """An event (or message body) that is not a JSON object."""


def join_path(path: str, key: str | int) -> str:
    """Extend a human-readable location: ``detail`` + ``state`` -> ``detail.state``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key
