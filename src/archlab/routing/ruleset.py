"""Many named rules compiled into one machine, so matching cost follows the event, not the rules.

The idea is aws/event-ruler's: every rule is a sequence of clauses (field path + predicates);
rules are merged into a tree of states where rules that begin with the same clauses share the
same states. Each state indexes its outgoing clauses by field path and, within a field, by
value (:class:`~archlab.routing.fieldindex.FieldIndex`). Matching an event walks only the
states its values lead to: a state is reached only when every clause before it held, and at each
state the event's value finds its transitions by lookup rather than by trying each rule.

Which clause of a rule is tested first matters most: it decides how many events go on to the
rest. Each rule enters by the clause whose predicates the fewest other rules share (a customer
id rather than ``detail-type``), judged from statistics over all rules; as the set grows those
statistics change, so the index re-plans every rule's order each time the set doubles.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from archlab.routing.documents import ArrayContext, FieldPath, load_document, merge_contexts
from archlab.routing.eventpattern import EventPattern
from archlab.routing.fieldindex import FieldIndex
from archlab.routing.predicates import BROAD, Clause, Conjunction, Predicate, Scalar

Route = tuple[Clause, ...]
"""A conjunction's clauses in the order the index tests them."""

PatternLike = EventPattern | dict[str, Any] | str

BULK = 500
"""From this many rules in one update, compiling runs with the garbage collector paused."""

REPLAN_FROM = 32
"""Below this many rules, planning from partial statistics costs too little to revisit."""


class _State:
    __slots__ = ("children", "fields", "references", "rules")

    def __init__(self) -> None:
        self.fields: dict[str, FieldIndex[_State]] = {}
        self.children: dict[Clause, _State] = {}
        self.rules: set[str] = set()
        self.references = 0
        """How many (rule, conjunction) routes pass through this state."""


class RuleSet:
    """Named EventBridge rules matched together.

    Safe to use from several threads: rules may be added and removed while other threads match.

    >>> rules = RuleSet({"cars": {"detail": {"coverage": ["car"]}}})
    >>> rules.add("homes", {"detail": {"coverage": ["home"]}})
    >>> rules.matches({"detail": {"coverage": "car"}})
    ['cars']
    """

    def __init__(self, rules: Mapping[str, PatternLike] | None = None) -> None:
        self._root = _State()
        self._patterns: dict[str, EventPattern] = {}
        self._routes: dict[str, list[Route]] = {}
        self._uses: Counter[tuple[str, Predicate]] = Counter()
        """How many rules test each (path, predicate): the planner's measure of selectivity."""
        self._variety: Counter[str] = Counter()
        """How many distinct predicates the rules test on each path."""
        self._readers: dict[str, FieldPath] = {}
        self._planned_for = 0
        """The number of rules when every route was last planned."""
        self._lock = threading.Lock()
        if rules:
            self.update(rules)

    def __len__(self) -> int:
        return len(self._patterns)

    def __contains__(self, name: object) -> bool:
        return name in self._patterns

    def names(self) -> list[str]:
        return sorted(self._patterns)

    def pattern(self, name: str) -> EventPattern:
        return self._patterns[name]

    def add(self, name: str, pattern: PatternLike) -> None:
        """Add a rule, or replace the rule of that name (as PutRule does).

        The pattern is compiled before anything changes, so an invalid pattern raises
        :class:`~archlab.routing.InvalidEventPattern` and leaves the set as it was.
        """
        self.update({name: pattern})

    def update(self, rules: Mapping[str, PatternLike]) -> None:
        """Add or replace many rules at once: all of them, or none if any pattern is invalid.

        Faster than adding one by one, since every route is planned knowing all the rules.
        """
        with _collector_paused(len(rules)):
            compiled = {name: _compile(name, pattern) for name, pattern in rules.items()}
            with self._lock:
                self._update(compiled)

    def _update(self, compiled: dict[str, EventPattern]) -> None:
        for name in compiled:
            if name in self._patterns:
                self._forget(name)
        for name, pattern in compiled.items():
            self._patterns[name] = pattern
            self._count(pattern, +1)
        if len(self._patterns) >= max(REPLAN_FROM, 2 * self._planned_for):
            self._replan()
        else:
            for name in compiled:
                self._place(name)

    def remove(self, name: str) -> None:
        """Remove a rule; raises KeyError if there is no rule of that name."""
        with self._lock:
            self._forget(name)

    def matches(self, event: dict[str, Any] | str | bytes) -> list[str]:
        """Sorted names of the rules that ``event`` (a mapping or JSON text) matches."""
        document = load_document(event)
        with self._lock:
            return sorted(self._match(document))

    def _match(self, document: dict[str, Any]) -> set[str]:
        # Each path's values are read from the document when a state first needs them, so an
        # event costs what the states it reaches look at, not what the rules mention.
        read: dict[str, tuple[list[Scalar], list[ArrayContext] | None]] = {}
        found: set[str] = set()
        root: tuple[_State, ArrayContext] = (self._root, ())
        pending = [root]
        seen = {root}
        hits: list[_State] = []
        while pending:
            state, context = pending.pop()
            if state.rules:
                found.update(state.rules)
            for path, index in state.fields.items():
                leaves = read.get(path)
                if leaves is None:
                    leaves = read[path] = index.path.read(document)
                values, contexts = leaves
                if not values:
                    hits.extend(index.absent)
                elif contexts is not None:
                    self._collect_in_arrays(index, values, contexts, context, pending, seen)
                else:
                    # The hot path, inlined: exact strings and numbers are a dict lookup.
                    exact, others = index.exact, index.others
                    for value in values:
                        if exact and value.__class__ is not bool:
                            hit = exact.get(value)  # type: ignore[arg-type]
                            if hit:
                                hits.extend(hit)
                        if others:
                            index.collect_others(value, hits)
                for target in hits:
                    item = (target, context)
                    if item not in seen:
                        seen.add(item)
                        pending.append(item)
                hits.clear()
        return found

    @staticmethod
    def _collect_in_arrays(
        index: FieldIndex[_State],
        values: list[Scalar],
        contexts: list[ArrayContext],
        context: ArrayContext,
        pending: list[tuple[_State, ArrayContext]],
        seen: set[tuple[_State, ArrayContext]],
    ) -> None:
        """Transitions taken by values inside arrays of objects: the states they lead to carry
        the elements they came from, so that later clauses only use the same elements."""
        hits: list[_State] = []
        for value, value_context in zip(values, contexts, strict=True):
            merged = merge_contexts(context, value_context)
            if merged is None:
                continue
            index.collect(value, hits)
            for target in hits:
                item = (target, merged)
                if item not in seen:
                    seen.add(item)
                    pending.append(item)
            hits.clear()

    def _count(self, pattern: EventPattern, sign: int) -> None:
        uses, variety = self._uses, self._variety
        for conjunction in pattern.conjunctions:
            for clause in conjunction.clauses:
                for predicate in clause.predicates:
                    key = (clause.path, predicate)
                    uses[key] += sign
                    if uses[key] == (1 if sign > 0 else 0):
                        variety[clause.path] += sign
                    if not uses[key]:
                        del uses[key]

    def _place(self, name: str) -> None:
        routes = self._routes[name] = [self._route(c) for c in self._patterns[name].conjunctions]
        for route in routes:
            self._link(name, route)

    def _forget(self, name: str) -> None:
        pattern = self._patterns.pop(name)
        for route in self._routes.pop(name):
            self._unlink(name, route)
        self._count(pattern, -1)

    def _replan(self) -> None:
        """Rebuild the index, planning every route from the statistics of all rules."""
        with _collector_paused(len(self._patterns)):
            self._root = _State()
            self._routes.clear()
            for name in self._patterns:
                self._place(name)
            self._planned_for = len(self._patterns)

    def _route(self, conjunction: Conjunction) -> Route:
        """The order in which the index tests a conjunction's clauses.

        First the clause expected to let the fewest rules past the root (broad clauses such as
        anything-but only as a last resort), then the rest, selective ones first. Between equal
        loads, the field where rules test the most distinct values wins: its values are the
        likelier to be rare in events (a customer id rather than a country).
        """
        clauses = conjunction.clauses
        if len(clauses) < 2:
            return clauses
        first = min(
            range(len(clauses)),
            key=lambda i: (
                clauses[i].rank >= BROAD,
                self._load(clauses[i]),
                -self._variety[clauses[i].path],
                i,
            ),
        )
        return (clauses[first], *clauses[:first], *clauses[first + 1 :])

    def _load(self, clause: Clause) -> int:
        """How many rules test the same values of the same field as ``clause`` does."""
        return sum(self._uses[(clause.path, predicate)] for predicate in clause.predicates)

    def _link(self, name: str, route: Route) -> None:
        state = self._root
        state.references += 1
        for clause in route:
            child = state.children.get(clause)
            if child is None:
                child = state.children[clause] = _State()
                index = state.fields.get(clause.path)
                if index is None:
                    reader = self._readers.get(clause.path)
                    if reader is None:
                        reader = self._readers[clause.path] = FieldPath(clause.path)
                    index = state.fields[clause.path] = FieldIndex(reader)
                for predicate in clause.predicates:
                    index.add(predicate, child)
            child.references += 1
            state = child
        state.rules.add(name)

    def _unlink(self, name: str, route: Route) -> None:
        state = self._root
        state.references -= 1
        for clause in route:
            child = state.children[clause]
            child.references -= 1
            if child.references == 0:
                # Nothing else passes through: drop the transition and with it the branch.
                del state.children[clause]
                index = state.fields[clause.path]
                for predicate in clause.predicates:
                    index.remove(predicate, child)
                if not index:
                    del state.fields[clause.path]
                return
            state = child
        state.rules.discard(name)


@contextlib.contextmanager
def _collector_paused(rules: int) -> Iterator[None]:
    """Pause Python's cyclic garbage collector while many rules are compiled and indexed.

    Building an index allocates many long-lived objects and nothing cyclic to reclaim, so the
    collector's repeated passes over the growing heap are pure overhead: about half of the time
    of indexing 10,000 rules. It is restored to its previous state afterwards.
    """
    if rules < BULK or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _compile(name: str, pattern: PatternLike) -> EventPattern:
    if not isinstance(name, str) or not name:
        raise ValueError(f"a rule name must be a non-empty string, got {name!r}")
    return pattern if isinstance(pattern, EventPattern) else EventPattern(pattern)
