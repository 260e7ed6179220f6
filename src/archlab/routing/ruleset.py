"""Many named rules compiled into one machine, so matching cost follows the event, not the rules.

The idea is aws/event-ruler's: every rule is a sequence of clauses (field path + predicates);
rules are merged into a tree of states where rules that begin with the same clauses share the
same states. Each state indexes its outgoing clauses by field path and, within a field, by
value (:class:`~archlab.routing.fieldindex.FieldIndex`). Matching an event walks only the
states its values lead to: a state is reached only when every clause before it held, and at each
state the event's value finds its transitions by lookup rather than by trying each rule.

Clauses are ordered selective-first (exact values before ranges, anything-but and absence last),
which keeps the states reached by an event few.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from archlab.routing.documents import ArrayContext, PathTrie, load_document, merge_contexts
from archlab.routing.eventpattern import EventPattern
from archlab.routing.fieldindex import FieldIndex
from archlab.routing.predicates import BROAD, Clause, Conjunction

Route = tuple[Clause, ...]
"""A conjunction's clauses in the order the index tests them."""


class _State:
    __slots__ = ("children", "fields", "references", "rules")

    def __init__(self) -> None:
        self.fields: dict[str, FieldIndex[_State]] = {}
        self.children: dict[Clause, _State] = {}
        self.rules: set[str] = set()
        self.references = 0
        """How many (rule, conjunction) paths pass through this state."""


class RuleSet:
    """Named EventBridge rules matched together.

    Safe to use from several threads: rules may be added and removed while other threads match.

    >>> rules = RuleSet()
    >>> rules.add("cars", {"detail": {"coverage": ["car"]}})
    >>> rules.matches({"detail": {"coverage": "car"}})
    ['cars']
    """

    def __init__(self) -> None:
        self._root = _State()
        self._patterns: dict[str, EventPattern] = {}
        self._routes: dict[str, list[Route]] = {}
        self._path_uses: Counter[str] = Counter()
        self._entries: Counter[str] = Counter()
        """For each field, how many routes enter the index through it."""
        self._paths = PathTrie(())
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._patterns)

    def __contains__(self, name: object) -> bool:
        return name in self._patterns

    def names(self) -> list[str]:
        return sorted(self._patterns)

    def pattern(self, name: str) -> EventPattern:
        return self._patterns[name]

    def add(self, name: str, pattern: EventPattern | dict[str, Any] | str) -> None:
        """Add a rule, or replace the rule of that name (as PutRule does).

        The pattern is compiled before anything changes, so an invalid pattern raises
        :class:`~archlab.routing.InvalidEventPattern` and leaves the set as it was.
        """
        if not isinstance(name, str) or not name:
            raise ValueError("a rule name must be a non-empty string")
        compiled = pattern if isinstance(pattern, EventPattern) else EventPattern(pattern)
        with self._lock:
            if name in self._patterns:
                self._remove(name)
            self._patterns[name] = compiled
            routes = self._routes[name] = [self._route(c) for c in compiled.conjunctions]
            for route in routes:
                self._link(name, route)
            self._paths = PathTrie(self._path_uses)

    def remove(self, name: str) -> None:
        """Remove a rule; raises KeyError if there is no rule of that name."""
        with self._lock:
            self._remove(name)

    def _remove(self, name: str) -> None:
        del self._patterns[name]
        for route in self._routes.pop(name):
            self._unlink(name, route)
        self._path_uses = +self._path_uses  # forget paths no rule uses any more
        self._paths = PathTrie(self._path_uses)

    def matches(self, event: dict[str, Any] | str | bytes) -> list[str]:
        """Sorted names of the rules that ``event`` (a mapping or JSON text) matches."""
        document = load_document(event)
        with self._lock:
            return sorted(self._match(document))

    def _match(self, document: dict[str, Any]) -> set[str]:
        leaves = self._paths.leaves(document)
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
                values = leaves.get(path)
                if values is None:
                    hits.extend(index.absent)
                else:
                    exact = index.exact
                    for value, value_context in values:
                        if value_context:
                            merged = merge_contexts(context, value_context)
                            if merged is None:
                                continue
                            if merged != context:
                                # Targets reached through an array element carry its context.
                                index.collect(value, hits)
                                for target in hits:
                                    item = (target, merged)
                                    if item not in seen:
                                        seen.add(item)
                                        pending.append(item)
                                hits.clear()
                                continue
                        # The hot path, inlined: exact strings and numbers are a dict lookup.
                        if exact and value.__class__ is not bool:
                            hit = exact.get(value)  # type: ignore[arg-type]
                            if hit:
                                hits.extend(hit)
                        if index.others:
                            index.collect_others(value, hits)
                for target in hits:
                    item = (target, context)
                    if item not in seen:
                        seen.add(item)
                        pending.append(item)
                hits.clear()
        return found

    def _route(self, conjunction: Conjunction) -> Route:
        """The order in which the index tests a conjunction's clauses.

        The first clause decides how many events reach the rest, so it is chosen by what the
        index holds now: the clause expected to let the fewest other rules past the root (broad
        clauses such as anything-but only as a last resort). A field that many rules test with
        few distinct values, such as ``detail-type``, thereby stops being everyone's entry point,
        and one with a value per rule, such as a customer id, becomes it.
        """
        clauses = conjunction.clauses
        if len(clauses) < 2:
            return clauses
        first = min(
            range(len(clauses)),
            key=lambda i: (clauses[i].rank >= BROAD, self._load(clauses[i]), i),
        )
        return (clauses[first], *clauses[:first], *clauses[first + 1 :])

    def _load(self, clause: Clause) -> float:
        """How many rules are expected to continue past the root along with ``clause``.

        For a predicate the root already holds, the rules it leads to; for a new one, the
        average over the field's predicates (a field where each rule has its own value is cheap
        to enter, one where rules share a few values is not).
        """
        index = self._root.fields.get(clause.path)
        if index is None:
            return 0
        average = self._entries[clause.path] / len(index.targets)
        load = 0.0
        for predicate in clause.predicates:
            states = index.targets.get(predicate)
            load += sum(s.references for s in states) if states else average
        return load

    def _link(self, name: str, route: Route) -> None:
        state = self._root
        state.references += 1
        if route:
            self._entries[route[0].path] += 1
        for clause in route:
            child = state.children.get(clause)
            if child is None:
                child = state.children[clause] = _State()
                index = state.fields.get(clause.path)
                if index is None:
                    index = state.fields[clause.path] = FieldIndex()
                for predicate in clause.predicates:
                    index.add(predicate, child)
            child.references += 1
            self._path_uses[clause.path] += 1
            state = child
        state.rules.add(name)

    def _unlink(self, name: str, route: Route) -> None:
        state = self._root
        state.references -= 1
        if route:
            self._entries[route[0].path] -= 1
        dropped = False
        for clause in route:
            self._path_uses[clause.path] -= 1
            if dropped:
                continue
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
                dropped = True
            state = child
        if not dropped:
            state.rules.discard(name)
