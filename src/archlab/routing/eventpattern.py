"""Amazon EventBridge event patterns."""

from __future__ import annotations

from typing import Any

from archlab.routing.documents import flatten, load_document
from archlab.routing.errors import InvalidEventPattern
from archlab.routing.evaluate import matches_any
from archlab.routing.grammar import Dialect, compile_pattern, load_pattern
from archlab.routing.predicates import Conjunction

DEFAULT_MAX_LENGTH = 2048
"""EventBridge's default quota for the length of a pattern, in characters (raisable to 4096)."""

EVENTBRIDGE = Dialect(
    name="EventBridge",
    error=InvalidEventPattern,
    operators=frozenset(
        {
            "prefix",
            "suffix",
            "equals-ignore-case",
            "wildcard",
            "anything-but",
            "numeric",
            "cidr",
            "exists",
        }
    ),
    anything_but_forms=frozenset({"prefix", "suffix", "equals-ignore-case", "wildcard"}),
    anything_but_lists=frozenset({"prefix", "suffix", "equals-ignore-case", "wildcard"}),
    allow_ignore_case_affixes=True,
    exists_needs_value=False,
    anything_but_every=False,
    max_alternatives=1000,
)


class EventPattern:
    """A compiled EventBridge event pattern.

    >>> EventPattern({"detail": {"coverage": ["car"]}}).matches({"detail": {"coverage": "car"}})
    True
    """

    def __init__(self, pattern: dict[str, Any] | str, *, max_length: int = DEFAULT_MAX_LENGTH):
        self.text, self.pattern = load_pattern(pattern, EVENTBRIDGE)
        if len(self.text) > max_length:
            raise InvalidEventPattern(
                f"is {len(self.text)} characters long; the limit is {max_length}"
            )
        self.conjunctions: tuple[Conjunction, ...] = compile_pattern(self.pattern, EVENTBRIDGE)

    def matches(self, event: dict[str, Any] | str | bytes) -> bool:
        """Whether ``event`` (a mapping or JSON text) matches; raises InvalidEvent if not JSON."""
        return matches_any(self.conjunctions, flatten(load_document(event)))

    def __repr__(self) -> str:
        return f"EventPattern({self.text})"
