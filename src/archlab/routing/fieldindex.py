"""One field's transitions in the rule index, looked up by value instead of tried one by one.

A :class:`FieldIndex` holds every ``predicate -> next state`` transition that leaves one state of
the rule machine on one field path. Given a value it returns the states of all predicates that
hold, with a cost that depends on the value and on how many predicates hold, not on how many
there are:

* exact values: a hash lookup per JSON type (numbers by value, so ``300`` finds ``300.0``);
* prefixes and suffixes: one hash lookup per distinct prefix length in use;
* equals-ignore-case: a hash lookup of the lower-cased value;
* wildcards: candidates found by their literal head (or tail) like prefixes, then checked;
* numeric ranges: a segment tree over the range end points (a bisect and a walk to the root);
* CIDR blocks: one hash lookup per prefix length in use;
* anything-but and ``exists``: grouped per field; they hold for most values, so they are the
  transitions that are taken, not searched for.

Targets are ``list`` objects shared between :attr:`targets` and the lookup tables, so adding a
second next state for an existing predicate needs no table update.
"""

from __future__ import annotations

import bisect
import ipaddress
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Generic, TypeVar

from archlab.routing.documents import FieldPath
from archlab.routing.predicates import (
    AnythingBut,
    Cidr,
    EqualsIgnoreCase,
    Exact,
    Exists,
    Numeric,
    Predicate,
    Prefix,
    Scalar,
    Suffix,
    Wildcard,
    parse_ip,
)

T = TypeVar("T")

LINEAR_NUMERIC_LIMIT = 8
"""Up to this many ranges on one field, testing each beats maintaining a segment tree."""


class FieldIndex(Generic[T]):
    """Transitions from one state on one field; ``T`` is the state type."""

    __slots__ = (
        "absent",
        "anything_but",
        "cidr",
        "constants",
        "exact",
        "folded",
        "numeric",
        "others",
        "path",
        "prefixes",
        "present",
        "suffixes",
        "targets",
        "wildcards",
    )

    def __init__(self, path: FieldPath) -> None:
        self.path = path
        """Reads this field's values out of a document."""
        self.targets: dict[Predicate, list[T]] = {}
        self.exact: dict[str | float, list[T]] = {}
        """Targets of exact strings and numbers, in one table: "1" and 1 are distinct keys
        and 1 and 1.0 the same one, as EventBridge wants. Booleans (True == 1 in Python) and
        null live in :attr:`constants` instead."""
        self.others = False
        """Whether any predicate other than exact strings and numbers is present."""
        # The tables below exist only once a predicate needs them: a rule index holds many
        # field indexes, most of them with a single exact value.
        self.constants: dict[bool | None, list[T]] | None = None
        self.folded: dict[str, list[T]] | None = None
        self.prefixes: AffixTable[list[T]] | None = None
        self.suffixes: AffixTable[list[T]] | None = None
        self.wildcards: WildcardTable[T] | None = None
        self.numeric: NumericTable[T] | None = None
        self.cidr: CidrTable[T] | None = None
        self.anything_but: tuple[tuple[AnythingBut, list[T]], ...] = ()
        self.present: Sequence[T] = ()
        """Targets of ``exists: true``: taken for any value."""
        self.absent: Sequence[T] = ()
        """Targets of ``exists: false``: taken when the field has no value."""

    def __bool__(self) -> bool:
        return bool(self.targets)

    def add(self, predicate: Predicate, target: T) -> None:
        targets = self.targets.get(predicate)
        if targets is not None:
            targets.append(target)
            return
        targets = self.targets[predicate] = [target]
        if isinstance(predicate, Exact) and predicate.kind in ("string", "number"):
            self.exact[predicate.value] = targets  # type: ignore[index]
            return
        self.others = True
        match predicate:
            case Exact(value=bool() | None as value):
                if self.constants is None:
                    self.constants = {}
                self.constants[value] = targets
            case EqualsIgnoreCase(text=text):
                if self.folded is None:
                    self.folded = {}
                self.folded[text] = targets
            case Prefix():
                if self.prefixes is None:
                    self.prefixes = AffixTable(from_end=False)
                self.prefixes.add(predicate.text, predicate.ignore_case, targets)
            case Suffix():
                if self.suffixes is None:
                    self.suffixes = AffixTable(from_end=True)
                self.suffixes.add(predicate.text, predicate.ignore_case, targets)
            case Wildcard():
                if self.wildcards is None:
                    self.wildcards = WildcardTable()
                self.wildcards.add(predicate, targets)
            case Numeric():
                if self.numeric is None:
                    self.numeric = NumericTable()
                self.numeric.add(predicate, targets)
            case Cidr():
                if self.cidr is None:
                    self.cidr = CidrTable()
                self.cidr.add(predicate, targets)
            case AnythingBut():
                self.anything_but = (*self.anything_but, (predicate, targets))
            case Exists(present=True):
                self.present = targets
            case Exists(present=False):
                self.absent = targets

    def remove(self, predicate: Predicate, target: T) -> None:
        targets = self.targets[predicate]
        targets.remove(target)
        if targets:
            return
        del self.targets[predicate]
        match predicate:
            case Exact(kind="string" | "number", value=str() | int() | float() as value):
                del self.exact[value]
            case Exact(value=bool() | None as value):
                assert self.constants is not None
                del self.constants[value]
                self.constants = self.constants or None
            case EqualsIgnoreCase(text=text):
                assert self.folded is not None
                del self.folded[text]
                self.folded = self.folded or None
            case Prefix():
                assert self.prefixes is not None
                self.prefixes.remove(predicate.text, predicate.ignore_case)
                self.prefixes = self.prefixes or None
            case Suffix():
                assert self.suffixes is not None
                self.suffixes.remove(predicate.text, predicate.ignore_case)
                self.suffixes = self.suffixes or None
            case Wildcard():
                assert self.wildcards is not None
                self.wildcards.remove(predicate)
                self.wildcards = self.wildcards or None
            case Numeric():
                assert self.numeric is not None
                self.numeric.remove(predicate)
                self.numeric = self.numeric or None
            case Cidr():
                assert self.cidr is not None
                self.cidr.remove(predicate)
                self.cidr = self.cidr or None
            case AnythingBut():
                self.anything_but = tuple(e for e in self.anything_but if e[0] != predicate)
            case Exists(present=True):
                self.present = ()
            case Exists(present=False):
                self.absent = ()
        self._refresh_others()

    def collect_others(self, value: Scalar, out: list[T]) -> None:
        """Append to ``out`` the targets of every predicate other than the exact strings and
        numbers (which callers look up in :attr:`exact` themselves, it being the hot path)."""
        if isinstance(value, str):
            folded: str | None = None
            if self.folded is not None:
                folded = value.lower()
                hit = self.folded.get(folded)
                if hit:
                    out.extend(hit)
            if self.prefixes is not None:
                folded = folded if folded is not None else value.lower()
                for targets in self.prefixes.matches(value, folded):
                    out.extend(targets)
            if self.suffixes is not None:
                folded = folded if folded is not None else value.lower()
                for targets in self.suffixes.matches(value, folded):
                    out.extend(targets)
            if self.wildcards is not None:
                self.wildcards.collect(value, out)
            if self.cidr is not None:
                self.cidr.collect(value, out)
        elif isinstance(value, bool) or value is None:
            if self.constants is not None:
                hit = self.constants.get(value)
                if hit:
                    out.extend(hit)
        elif self.numeric is not None and isinstance(value, (int, float)):
            self.numeric.collect(value, out)
        for predicate, targets in self.anything_but:
            if predicate.test(value):
                out.extend(targets)
        if self.present:
            out.extend(self.present)

    def collect(self, value: Scalar, out: list[T]) -> None:
        """Append to ``out`` the targets of every predicate that holds for ``value``."""
        if not isinstance(value, bool):
            hit = self.exact.get(value)  # type: ignore[arg-type]
            if hit:
                out.extend(hit)
        if self.others:
            self.collect_others(value, out)

    def _refresh_others(self) -> None:
        self.others = bool(
            self.constants is not None
            or self.folded is not None
            or self.prefixes
            or self.suffixes
            or self.wildcards
            or self.numeric
            or self.cidr
            or self.anything_but
            or self.present
        )


V = TypeVar("V")


class AffixTable(Generic[V]):
    """Strings by length, so a value is checked with one lookup per length in use."""

    __slots__ = ("by_length", "from_end", "lengths")

    def __init__(self, from_end: bool) -> None:
        self.from_end = from_end
        self.by_length: dict[tuple[int, bool], dict[str, V]] = {}
        self.lengths: list[tuple[int, bool]] = []
        """Sorted (length, ignore_case) pairs in use."""

    def __bool__(self) -> bool:
        return bool(self.lengths)

    def key(self, text: str, ignore_case: bool) -> tuple[tuple[int, bool], str]:
        stored = text.lower() if ignore_case else text
        return (len(stored), ignore_case), stored

    def add(self, text: str, ignore_case: bool, item: V) -> None:
        slot, stored = self.key(text, ignore_case)
        table = self.by_length.get(slot)
        if table is None:
            table = self.by_length[slot] = {}
            bisect.insort(self.lengths, slot)
        table[stored] = item

    def get(self, text: str, ignore_case: bool) -> V | None:
        slot, stored = self.key(text, ignore_case)
        return self.by_length.get(slot, {}).get(stored)

    def remove(self, text: str, ignore_case: bool) -> None:
        slot, stored = self.key(text, ignore_case)
        table = self.by_length[slot]
        del table[stored]
        if not table:
            del self.by_length[slot]
            self.lengths.remove(slot)

    def matches(self, value: str, folded: str) -> list[V]:
        found = []
        for slot in self.lengths:
            length, ignore_case = slot
            subject = folded if ignore_case else value
            if length > len(subject):
                continue
            piece = subject[len(subject) - length :] if self.from_end else subject[:length]
            item = self.by_length[slot].get(piece)
            if item is not None:
                found.append(item)
        return found


class WildcardTable(Generic[T]):
    """Wildcards, each filed under one of its literal pieces.

    A value runs the regular expressions only of wildcards whose piece it contains: a head
    piece is found like a prefix, a tail piece like a suffix, and a middle piece by looking up
    every substring of that length. Each wildcard is filed under the piece whose group is
    smallest when it is added, so that a head that many patterns share (``arn:aws:...``) does not
    become one long list to scan.
    """

    __slots__ = ("first_chars", "heads", "middles", "placement", "rest", "tails")

    def __init__(self) -> None:
        self.heads: AffixTable[dict[Wildcard, list[T]]] = AffixTable(from_end=False)
        self.tails: AffixTable[dict[Wildcard, list[T]]] = AffixTable(from_end=True)
        self.middles: dict[int, dict[str, dict[Wildcard, list[T]]]] = {}
        self.first_chars: dict[int, Counter[str]] = {}
        """For each length of middle piece, the first characters of those pieces."""
        self.rest: dict[Wildcard, list[T]] = {}
        """Wildcards with no literal piece at all, such as ``*``."""
        self.placement: dict[Wildcard, tuple[str, str]] = {}

    def __bool__(self) -> bool:
        return bool(self.placement)

    def add(self, wildcard: Wildcard, targets: list[T]) -> None:
        where, piece = self.place(wildcard)
        self.placement[wildcard] = (where, piece)
        group = self.group(where, piece)
        if group is None:
            group = {}
            if where == "head":
                self.heads.add(piece, False, group)
            elif where == "tail":
                self.tails.add(piece, False, group)
            else:
                self.middles.setdefault(len(piece), {})[piece] = group
                self.first_chars.setdefault(len(piece), Counter())[piece[0]] += 1
        group[wildcard] = targets

    def remove(self, wildcard: Wildcard) -> None:
        where, piece = self.placement.pop(wildcard)
        group = self.group(where, piece)
        assert group is not None
        del group[wildcard]
        if group or group is self.rest:
            return
        if where == "head":
            self.heads.remove(piece, False)
        elif where == "tail":
            self.tails.remove(piece, False)
        else:
            table = self.middles[len(piece)]
            del table[piece]
            firsts = self.first_chars[len(piece)]
            firsts[piece[0]] -= 1
            if not firsts[piece[0]]:
                del firsts[piece[0]]
            if not table:
                del self.middles[len(piece)]
                del self.first_chars[len(piece)]

    def starts(self, value: str, length: int) -> Iterable[int]:
        """Where a middle piece of this length could start in ``value``.

        Every position, unless the pieces begin with few distinct characters (``:policy/``,
        ``/uploads/``...): then only the positions of those characters, found by ``str.find``.
        """
        last = len(value) - length
        firsts = self.first_chars[length]
        if len(firsts) > 3:
            return range(last + 1)
        positions = []
        for char in firsts:
            position = value.find(char, 0, last + 1)
            while position != -1:
                positions.append(position)
                position = value.find(char, position + 1, last + 1)
        return positions

    def place(self, wildcard: Wildcard) -> tuple[str, str]:
        pieces = wildcard.pieces
        options = []
        if pieces[0]:
            options.append(("head", pieces[0]))
        if len(pieces) > 1:
            if pieces[-1]:
                options.append(("tail", pieces[-1]))
            options.extend(("middle", piece) for piece in pieces[1:-1] if piece)
        if not options:
            return ("rest", "")
        return min(options, key=lambda option: (len(self.group(*option) or ()), -len(option[1])))

    def group(self, where: str, piece: str) -> dict[Wildcard, list[T]] | None:
        if where == "head":
            return self.heads.get(piece, False)
        if where == "tail":
            return self.tails.get(piece, False)
        if where == "middle":
            return self.middles.get(len(piece), {}).get(piece)
        return self.rest

    def collect(self, value: str, out: list[T]) -> None:
        groups = self.heads.matches(value, value) + self.tails.matches(value, value)
        for length, table in self.middles.items():
            for start in self.starts(value, length):
                group = table.get(value[start : start + length])
                if group is not None and all(group is not other for other in groups):
                    groups.append(group)
        if self.rest:
            groups.append(self.rest)
        for group in groups:
            for wildcard, targets in group.items():
                if wildcard.regex.fullmatch(value) is not None:
                    out.extend(targets)


class NumericTable(Generic[T]):
    """Numeric ranges, indexed on the first lookup after a change.

    The distinct finite end points p0 < p1 < ... cut the number line into elementary slots
    (-inf, p0), [p0], (p0, p1), [p1], ..., (pn, +inf); every range covers a run of slots, and a
    value's slot is found by bisection. When the ranges overlap little (narrow bands), each slot
    simply lists the ranges covering it: one bisection and one list. When they overlap much
    (one-sided bounds), that list would grow quadratically, so a segment tree holds each range
    in the O(log n) nodes covering its run instead, and a lookup walks from the slot's leaf to
    the root.
    """

    __slots__ = ("built", "by_slot", "nodes", "points", "ranges", "size")

    def __init__(self) -> None:
        self.ranges: dict[Numeric, list[T]] = {}
        self.built = False
        self.points: list[float] = []
        self.by_slot: list[list[list[T]]] | None = None
        self.nodes: dict[int, list[list[T]]] = {}
        self.size = 0

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def add(self, predicate: Numeric, targets: list[T]) -> None:
        self.ranges[predicate] = targets
        self.built = False

    def remove(self, predicate: Numeric) -> None:
        del self.ranges[predicate]
        self.built = False

    def collect(self, value: float, out: list[T]) -> None:
        if len(self.ranges) <= LINEAR_NUMERIC_LIMIT:
            for predicate, targets in self.ranges.items():
                if predicate.test(value):
                    out.extend(targets)
            return
        if not self.built:
            self.build()
        slot = self.slot(value)
        if self.by_slot is not None:
            for targets in self.by_slot[slot]:
                out.extend(targets)
            return
        node = slot + self.size
        nodes = self.nodes
        while node:
            stored = nodes.get(node)
            if stored:
                for targets in stored:
                    out.extend(targets)
            node >>= 1

    def slot(self, value: float) -> int:
        position = bisect.bisect_left(self.points, value)
        if position < len(self.points) and self.points[position] == value:
            return 2 * position + 1
        return 2 * position

    def span(self, predicate: Numeric) -> tuple[int, int]:
        """The first and last slots a range covers."""
        first = 0 if predicate.lower == -math.inf else self.slot(predicate.lower)
        if predicate.lower != -math.inf and not predicate.lower_inclusive:
            first += 1
        last = 2 * len(self.points) if predicate.upper == math.inf else self.slot(predicate.upper)
        if predicate.upper != math.inf and not predicate.upper_inclusive:
            last -= 1
        return first, last

    def build(self) -> None:
        self.points = sorted(
            {p.lower for p in self.ranges if math.isfinite(p.lower)}
            | {p.upper for p in self.ranges if math.isfinite(p.upper)}
        )
        slots = 2 * len(self.points) + 1
        spans = [(self.span(predicate), targets) for predicate, targets in self.ranges.items()]
        covered = sum(last - first + 1 for (first, last), _ in spans)
        self.by_slot, self.nodes = None, {}
        if covered <= 4 * slots:
            self.by_slot = [[] for _ in range(slots)]
            for (first, last), targets in spans:
                for slot in range(first, last + 1):
                    self.by_slot[slot].append(targets)
        else:
            self.size = 1 << max(slots - 1, 1).bit_length()
            for (first, last), targets in spans:
                self.store(first, last, targets)
        self.built = True

    def store(self, first: int, last: int, targets: list[T]) -> None:
        """Put a run of slots' targets in the segment tree nodes that cover exactly that run."""
        low, high = first + self.size, last + self.size + 1
        while low < high:
            if low & 1:
                self.nodes.setdefault(low, []).append(targets)
                low += 1
            if high & 1:
                high -= 1
                self.nodes.setdefault(high, []).append(targets)
            low >>= 1
            high >>= 1


class CidrTable(Generic[T]):
    """CIDR blocks by (IP version, prefix length); one lookup per prefix length in use."""

    __slots__ = ("blocks", "lengths")

    def __init__(self) -> None:
        self.blocks: dict[tuple[int, int], dict[int, list[T]]] = {}
        self.lengths: dict[int, list[int]] = {4: [], 6: []}

    def __bool__(self) -> bool:
        return bool(self.blocks)

    @staticmethod
    def key(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[tuple[int, int], int]:
        shift = network.max_prefixlen - network.prefixlen
        return (network.version, network.prefixlen), int(network.network_address) >> shift

    def add(self, predicate: Cidr, targets: list[T]) -> None:
        slot, block = self.key(predicate.network)
        table = self.blocks.get(slot)
        if table is None:
            table = self.blocks[slot] = {}
            bisect.insort(self.lengths[slot[0]], slot[1])
        table[block] = targets

    def remove(self, predicate: Cidr) -> None:
        slot, block = self.key(predicate.network)
        table = self.blocks[slot]
        del table[block]
        if not table:
            del self.blocks[slot]
            self.lengths[slot[0]].remove(slot[1])

    def collect(self, value: str, out: list[T]) -> None:
        address = parse_ip(value)
        if address is None:
            return
        version, number = address
        bits = 32 if version == 4 else 128
        for length in self.lengths[version]:
            hit = self.blocks[(version, length)].get(number >> (bits - length))
            if hit:
                out.extend(hit)
