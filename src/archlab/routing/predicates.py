"""Value predicates: the operators of EventBridge patterns and SNS filter policies.

A compiled pattern is a disjunction of :class:`Conjunction` objects; each is a set of
:class:`Clause` objects (one per field path) and each clause is satisfied when *any* of its
predicates holds for *any* value found at that path. The predicates here are the single
definition of what every operator means: :class:`~archlab.routing.eventpattern.EventPattern`
evaluates them directly and :class:`~archlab.routing.ruleset.RuleSet` indexes them, and the
property tests check that both agree.

Predicates are immutable and hashable, so equal operators in different rules share one entry
in the rule index.
"""

from __future__ import annotations

import functools
import ipaddress
import math
import re
import socket
from dataclasses import dataclass, field
from typing import ClassVar, Literal, TypeAlias

Scalar: TypeAlias = str | int | float | bool | None
"""A leaf value of a JSON document."""

BROAD = 6
"""The rank from which a predicate holds for most values: ``exists``, one-sided ranges,
anything-but, an empty prefix. Ranks order clauses from selective (exact values, 0) to broad;
the rule index tests selective clauses first."""

ValueKind = Literal["string", "number", "boolean", "null"]


def kind_of(value: Scalar) -> ValueKind:
    """The JSON type of a leaf value (``True`` is a boolean, never the number 1)."""
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def is_number(value: Scalar) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class Exact:
    """Matches one value of one JSON type; numbers compare by value (300 equals 300.0)."""

    kind: ValueKind
    value: Scalar
    rank: ClassVar[int] = 0

    def test(self, value: Scalar) -> bool:
        return kind_of(value) == self.kind and value == self.value


@dataclass(frozen=True, slots=True)
class EqualsIgnoreCase:
    """Matches a string equal to ``text`` when both are lower-cased (``text`` is stored so)."""

    text: str
    rank: ClassVar[int] = 1

    def __post_init__(self) -> None:
        # Canonical form, so that "A" and "a" are one predicate to the rule index.
        object.__setattr__(self, "text", self.text.lower())

    def test(self, value: Scalar) -> bool:
        return isinstance(value, str) and value.lower() == self.text


@dataclass(frozen=True, slots=True)
class _Affix:
    text: str
    ignore_case: bool = False
    """When set, ``text`` is stored lower-cased and compared with the lower-cased value."""

    def __post_init__(self) -> None:
        if self.ignore_case:
            object.__setattr__(self, "text", self.text.lower())

    @property
    def rank(self) -> int:
        return 2 if self.text else BROAD

    def subject(self, value: Scalar) -> str | None:
        """The string to compare: the value, lower-cased if need be; None for non-strings."""
        if not isinstance(value, str):
            return None
        return value.lower() if self.ignore_case else value


@dataclass(frozen=True, slots=True)
class Prefix(_Affix):
    """Matches a string that starts with ``text`` (optionally ignoring case)."""

    def test(self, value: Scalar) -> bool:
        subject = self.subject(value)
        return subject is not None and subject.startswith(self.text)


@dataclass(frozen=True, slots=True)
class Suffix(_Affix):
    """Matches a string that ends with ``text`` (optionally ignoring case)."""

    def test(self, value: Scalar) -> bool:
        subject = self.subject(value)
        return subject is not None and subject.endswith(self.text)


@dataclass(frozen=True, slots=True)
class Cidr:
    """Matches a string holding an IP address inside ``network`` (IPv4 or IPv6)."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    rank: ClassVar[int] = 3

    def test(self, value: Scalar) -> bool:
        address = parse_ip(value)
        if address is None or address[0] != self.network.version:
            return False
        shift = self.network.max_prefixlen - self.network.prefixlen
        return address[1] >> shift == int(self.network.network_address) >> shift


def parse_ip(value: Scalar) -> tuple[int, int] | None:
    """The IP version and address (as an integer) a leaf value holds, or None if it holds none."""
    if not isinstance(value, str):
        return None
    return _parse_ip_text(value)


@functools.lru_cache(maxsize=4096)
def _parse_ip_text(text: str) -> tuple[int, int] | None:
    # Cached, as one event's address is looked up by every state that tests a CIDR block; and
    # parsed with inet_pton, which is strict (dotted quads, no leading zeros) and fast.
    for version, family in ((4, socket.AF_INET), (6, socket.AF_INET6)):
        try:
            return version, int.from_bytes(socket.inet_pton(family, text), "big")
        except (OSError, ValueError):
            continue
    return None


@dataclass(frozen=True, slots=True)
class Numeric:
    """Matches a number inside an interval; ``lower == upper`` with both ends closed is ``=``."""

    lower: float = -math.inf
    lower_inclusive: bool = False
    upper: float = math.inf
    upper_inclusive: bool = False

    @property
    def rank(self) -> int:
        """A bounded range can be narrow; a one-sided one typically holds for half the values."""
        return 4 if math.isfinite(self.lower) and math.isfinite(self.upper) else BROAD

    def test(self, value: Scalar) -> bool:
        if not is_number(value):
            return False
        assert isinstance(value, (int, float))
        if value < self.lower or (value == self.lower and not self.lower_inclusive):
            return False
        return not (value > self.upper or (value == self.upper and not self.upper_inclusive))


@dataclass(frozen=True, slots=True)
class Wildcard:
    """Matches a whole string against a pattern where ``*`` stands for any run of characters.

    ``\\*`` is a literal star and ``\\\\`` a literal backslash; the parser rejects anything else
    after a backslash and consecutive stars.
    """

    pattern: str
    regex: re.Pattern[str] = field(init=False, compare=False, repr=False)
    pieces: tuple[str, ...] = field(init=False, compare=False, repr=False)
    """The literal text between stars, escapes resolved; the rule index files wildcards by them."""

    @property
    def rank(self) -> int:
        return 5 if any(self.pieces) else BROAD

    def __post_init__(self) -> None:
        pieces = split_wildcard(self.pattern)
        regex = ".*".join(re.escape(piece) for piece in pieces)
        object.__setattr__(self, "regex", re.compile(regex, re.DOTALL))
        object.__setattr__(self, "pieces", tuple(pieces))

    def test(self, value: Scalar) -> bool:
        return isinstance(value, str) and self.regex.fullmatch(value) is not None


def split_wildcard(pattern: str) -> list[str]:
    """Split a wildcard pattern on its unescaped stars into literal pieces (escapes resolved)."""
    pieces: list[str] = []
    current: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            current.append(next(chars, ""))
        elif char == "*":
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return pieces


Excludable: TypeAlias = Exact | EqualsIgnoreCase | Prefix | Suffix | Wildcard


@dataclass(frozen=True, slots=True)
class AnythingBut:
    """Matches any present value (of any type, null included) that none of ``excluded`` matches.

    When a field has several values (an array), EventBridge is satisfied if *any* of them is not
    excluded; SNS only if *none* is (``every``), as its documentation for String.Array says.
    """

    excluded: frozenset[Excludable]
    every: bool = False
    rank: ClassVar[int] = BROAD + 1

    def test(self, value: Scalar) -> bool:
        return not any(predicate.test(value) for predicate in self.excluded)


@dataclass(frozen=True, slots=True)
class Exists:
    """``exists: true`` holds when the path has a leaf value; ``false`` when it has none.

    Unlike the other predicates, ``Exists(False)`` is about the absence of values, so matchers
    handle it at the clause level rather than calling :meth:`test` per value. With
    ``non_empty`` (SNS), null and the empty string do not count as a value for ``exists: true``.
    """

    present: bool
    non_empty: bool = False
    rank: ClassVar[int] = BROAD

    def test(self, value: Scalar) -> bool:
        if self.non_empty:
            return self.present and value is not None and value != ""
        return self.present


Predicate: TypeAlias = (
    Exact | EqualsIgnoreCase | Prefix | Suffix | Cidr | Numeric | Wildcard | AnythingBut | Exists
)


@dataclass(frozen=True, slots=True)
class Clause:
    """A field path and the predicates of which at least one must hold there."""

    path: str
    predicates: frozenset[Predicate]
    allows_absence: bool = field(init=False, compare=False, repr=False)
    """Whether ``exists: false`` is among the predicates: the clause holds if the path is empty."""
    rank: int = field(init=False, compare=False, repr=False)
    """How unselective the clause is; the rule index tests selective clauses first."""

    def __post_init__(self) -> None:
        absent = Exists(False) in self.predicates
        object.__setattr__(self, "allows_absence", absent)
        rank = BROAD + 2 if absent else max(predicate.rank for predicate in self.predicates)
        object.__setattr__(self, "rank", rank)


@dataclass(frozen=True, slots=True)
class Conjunction:
    """Clauses that must all hold, sorted in the order the rule index tests them."""

    clauses: tuple[Clause, ...]

    @classmethod
    def of(cls, clauses: list[Clause]) -> Conjunction:
        return cls(tuple(sorted(clauses, key=lambda clause: (clause.rank, clause.path))))
