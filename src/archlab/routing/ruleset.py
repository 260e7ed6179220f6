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

from archlab.routing.documents import ArrayContext, flatten, load_document, merge_contexts
from archlab.routing.eventpattern import EventPattern
from archlab.routing.fieldindex import FieldIndex
from archlab.routing.predicates import Clause, Conjunction


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
        self._path_uses: Counter[str] = Counter()
        self._wanted: frozenset[str] = frozenset()
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
                self._unlink(name, self._patterns.pop(name))
            self._patterns[name] = compiled
            for conjunction in compiled.conjunctions:
                self._link(name, conjunction)
            self._refresh_wanted()

    def remove(self, name: str) -> None:
        """Remove a rule; raises KeyError if there is no rule of that name."""
        with self._lock:
            self._unlink(name, self._patterns.pop(name))
            self._refresh_wanted()

    def matches(self, event: dict[str, Any] | str | bytes) -> list[str]:
        """Sorted names of the rules that ``event`` (a mapping or JSON text) matches."""
        document = load_document(event)
        with self._lock:
            return sorted(self._match(document))

    def _match(self, document: dict[str, Any]) -> set[str]:
        leaves = flatten(document, self._wanted)
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
                    for target in index.absent:
                        _push((target, context), pending, seen)
                    continue
                for value, value_context in values:
                    merged = merge_contexts(context, value_context) if value_context else context
                    if merged is None:
                        continue
                    index.collect(value, hits)
                    for target in hits:
                        _push((target, merged), pending, seen)
                    hits.clear()
        return found

    def _link(self, name: str, conjunction: Conjunction) -> None:
        state = self._root
        state.references += 1
        for clause in conjunction.clauses:
            child = state.children.get(clause)
            if child is None:
                child = state.children[clause] = _State()
                index = state.fields.get(clause.path)
                if index is None:
                    index = state.fields[clause.path] = FieldIndex()
                for predicate in clause.predicates:
                    index.add(predicate, child)
                self._path_uses[clause.path] += 1
            child.references += 1
            state = child
        state.rules.add(name)

    def _unlink(self, name: str, pattern: EventPattern) -> None:
        for conjunction in pattern.conjunctions:
            state = self._root
            state.references -= 1
            for clause in conjunction.clauses:
                child = state.children[clause]
                child.references -= 1
                if child.references == 0:
                    # Nothing else passes through: drop the transition and the whole branch.
                    del state.children[clause]
                    index = state.fields[clause.path]
                    for predicate in clause.predicates:
                        index.remove(predicate, child)
                    if not index:
                        del state.fields[clause.path]
                    self._forget_paths(clause, child)
                    break
                state = child
            else:
                state.rules.discard(name)

    def _forget_paths(self, clause: Clause, state: _State) -> None:
        self._path_uses[clause.path] -= 1
        for child_clause, child in state.children.items():
            self._forget_paths(child_clause, child)

    def _refresh_wanted(self) -> None:
        wanted: set[str] = set()
        for path, uses in list(self._path_uses.items()):
            if uses <= 0:
                del self._path_uses[path]
                continue
            parts = path.split(".")
            wanted.update(".".join(parts[:end]) for end in range(1, len(parts) + 1))
        self._wanted = frozenset(wanted)


def _push(
    item: tuple[_State, ArrayContext],
    pending: list[tuple[_State, ArrayContext]],
    seen: set[tuple[_State, ArrayContext]],
) -> None:
    if item not in seen:
        seen.add(item)
        pending.append(item)
