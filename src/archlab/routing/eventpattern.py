"""Amazon EventBridge event patterns."""

from __future__ import annotations

import json
from typing import Any

from archlab.routing.documents import flatten, json_type_name, load_document
from archlab.routing.errors import InvalidEventPattern
from archlab.routing.evaluate import matches_any
from archlab.routing.grammar import Dialect, compile_pattern
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
        self.text, self.pattern = _load_pattern(pattern, max_length)
        self.conjunctions: tuple[Conjunction, ...] = compile_pattern(self.pattern, EVENTBRIDGE)

    def matches(self, event: dict[str, Any] | str | bytes) -> bool:
        """Whether ``event`` (a mapping or JSON text) matches; raises InvalidEvent if not JSON."""
        return matches_any(self.conjunctions, flatten(load_document(event)))

    def __repr__(self) -> str:
        return f"EventPattern({self.text})"


def _load_pattern(pattern: dict[str, Any] | str, max_length: int) -> tuple[str, dict[str, Any]]:
    if isinstance(pattern, (str, bytes, bytearray)):
        text = pattern.decode() if isinstance(pattern, (bytes, bytearray)) else pattern
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as error:
            raise InvalidEventPattern(
                f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
            ) from None
    else:
        loaded = pattern
        try:
            text = json.dumps(pattern, separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError) as error:
            raise InvalidEventPattern(f"not representable as JSON: {error}") from None
    if len(text) > max_length:
        raise InvalidEventPattern(f"is {len(text)} characters long; the limit is {max_length}")
    if not isinstance(loaded, dict):
        raise InvalidEventPattern(f"must be a JSON object, got {json_type_name(loaded)}")
    return text, loaded
