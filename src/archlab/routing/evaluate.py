"""Direct evaluation of compiled patterns against a document's leaves.

This is the reference semantics: plain, one pattern at a time. :class:`RuleSet` computes the
same answers through an index; the property tests hold the two to agreement.
"""

from __future__ import annotations

from archlab.routing.documents import ArrayContext, Leaves, merge_contexts
from archlab.routing.predicates import AnythingBut, Clause, Conjunction, Predicate, Scalar


def matches_any(conjunctions: tuple[Conjunction, ...], leaves: Leaves) -> bool:
    return any(_satisfied(c.clauses, 0, (), leaves) for c in conjunctions)


def _satisfied(
    clauses: tuple[Clause, ...], position: int, context: ArrayContext, leaves: Leaves
) -> bool:
    """Whether clauses[position:] hold with leaves that agree with ``context``.

    Backtracks over the candidate leaves of each clause, because a leaf from one element of an
    array of objects may rule out the leaves of other elements for the clauses that follow.
    """
    if position == len(clauses):
        return True
    clause = clauses[position]
    values = leaves.get(clause.path)
    if not values:
        return clause.allows_absence and _satisfied(clauses, position + 1, context, leaves)
    for predicate in clause.predicates:
        if (
            isinstance(predicate, AnythingBut)
            and predicate.every
            and all(predicate.test(value) for value, _ in values)
            and _satisfied(clauses, position + 1, context, leaves)
        ):
            return True
    for value, value_context in values:
        merged = merge_contexts(context, value_context)
        if merged is None:
            continue
        if any(_holds(predicate, value) for predicate in clause.predicates) and _satisfied(
            clauses, position + 1, merged, leaves
        ):
            return True
    return False


def _holds(predicate: Predicate, value: Scalar) -> bool:
    if isinstance(predicate, AnythingBut) and predicate.every:
        return False  # decided over all of the field's values, above
    return predicate.test(value)
