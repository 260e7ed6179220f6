"""Turning events and message bodies into the leaf values that patterns are matched against.

A JSON document is seen as a set of *leaves*: a dotted path (``detail.state``) and a scalar value.
Arrays contribute one leaf per element. An event key that itself contains a dot joins like
nested keys do, as Amazon EventBridge does: ``{"a.b": 1}`` and ``{"a": {"b": 1}}`` both give the
leaf ``a.b``. Objects and empty arrays are not leaves, so ``exists`` only ever sees scalars.

Each leaf carries its *array context*: for every array of objects it sits in, which array and
which element. Two leaves can satisfy one rule together only if they agree on every array they
share (``items[0].type`` and ``items[1].price`` cannot), which is the "array consistency"
that aws/event-ruler applies to JSON events.
"""

from __future__ import annotations

import json
from typing import Any, TypeAlias

from archlab.routing.errors import InvalidEvent
from archlab.routing.predicates import Scalar

ArrayContext: TypeAlias = tuple[tuple[int, int], ...]
"""Pairs of (array identity, element index), outermost array first."""

Leaves: TypeAlias = dict[str, list[tuple[Scalar, ArrayContext]]]


def load_document(document: Any, what: str = "event") -> dict[str, Any]:
    """Accept a mapping or JSON text; anything else is an :class:`InvalidEvent`."""
    if isinstance(document, (str, bytes, bytearray)):
        try:
            document = json.loads(document)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise InvalidEvent(f"{what} is {json_problem(error)}") from None
    if not isinstance(document, dict):
        raise InvalidEvent(f"{what} must be a JSON object, got {json_type_name(document)}")
    return document


def json_problem(error: json.JSONDecodeError | UnicodeDecodeError) -> str:
    """How JSON text failed to load, worded to follow "... is"."""
    if isinstance(error, UnicodeDecodeError):
        return f"not UTF-8 text: {error.reason}"
    return f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"


def json_type_name(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def flatten(document: dict[str, Any]) -> Leaves:
    """Every leaf of ``document``."""
    leaves: Leaves = {}
    _walk_object(document, "", (), leaves)
    return leaves


def _walk_object(
    node: dict[str, Any],
    prefix: str,
    context: ArrayContext,
    leaves: Leaves,
) -> None:
    for key, value in node.items():
        _walk_value(value, prefix + key, context, leaves)


def _walk_value(
    value: Any,
    path: str,
    context: ArrayContext,
    leaves: Leaves,
) -> None:
    if isinstance(value, dict):
        _walk_object(value, path + ".", context, leaves)
    elif isinstance(value, list):
        array_id = id(value)
        for index, element in enumerate(value):
            if isinstance(element, (dict, list)):
                _walk_value(element, path, (*context, (array_id, index)), leaves)
            else:
                _add_leaf(leaves, path, element, context)
    else:
        _add_leaf(leaves, path, value, context)


def _add_leaf(leaves: Leaves, path: str, value: Any, context: ArrayContext) -> None:
    found = leaves.get(path)
    if found is None:
        leaves[path] = [(value, context)]
    else:
        found.append((value, context))


def merge_contexts(held: ArrayContext, new: ArrayContext) -> ArrayContext | None:
    """The combined context of two leaves, or None when they sit in different elements."""
    if not new:
        return held
    if not held:
        return new
    chosen = dict(held)
    for array_id, index in new:
        if chosen.setdefault(array_id, index) != index:
            return None
    return tuple(chosen.items())


_MISSING = object()


class FieldPath:
    """Reads the leaves of one dotted path straight out of a document.

    What :func:`flatten` would give for this path, without walking anything else: at each
    object it looks up the next key, and also the keys that join several parts with dots
    (``"state.status"``), since those count as the same path.
    """

    __slots__ = ("joins", "last", "path")

    def __init__(self, path: str) -> None:
        self.path = path
        parts = path.split(".")
        self.last = len(parts) - 1
        # joins[i] holds the keys that cover parts i..j, for j from i up to the last part.
        self.joins = tuple(
            tuple(".".join(parts[i : j + 1]) for j in range(i, len(parts)))
            for i in range(len(parts))
        )

    def read(self, document: dict[str, Any]) -> tuple[list[Scalar], list[ArrayContext] | None]:
        """The values at this path and, if any sits in an array of objects, their contexts.

        Iterative, with plain objects and scalars on the fast path: it runs for every field
        the rule index looks at in every event.
        """
        values: list[Scalar] = []
        contexts: list[ArrayContext] | None = None
        joins, last = self.joins, self.last
        work: list[tuple[dict[str, Any], int, ArrayContext]] = [(document, 0, ())]
        while work:
            node, part, context = work.pop()
            end = part
            for key in joins[part]:
                value = node.get(key, _MISSING)
                if value is not _MISSING:
                    kind = value.__class__
                    if end == last:
                        if kind is not list and kind is not dict:
                            values.append(value)
                            if context or contexts is not None:
                                contexts = _context_of(values, contexts, context)
                        elif isinstance(value, list):
                            contexts = _array_leaves(value, context, values, contexts)
                    elif kind is dict or isinstance(value, dict):
                        work.append((value, end + 1, context))
                    elif isinstance(value, list):
                        _array_objects(value, end + 1, context, work)
                end += 1
        return values, contexts


def _context_of(
    values: list[Scalar], contexts: list[ArrayContext] | None, context: ArrayContext
) -> list[ArrayContext]:
    """Record the context of the value just appended, starting the list on first need."""
    if contexts is None:
        contexts = [()] * (len(values) - 1)
    contexts.append(context)
    return contexts


def _array_leaves(
    array: list[Any],
    context: ArrayContext,
    values: list[Scalar],
    contexts: list[ArrayContext] | None,
) -> list[ArrayContext] | None:
    """The scalars of an array at the end of a path (nested arrays included, objects not)."""
    array_id = id(array)
    for index, element in enumerate(array):
        if isinstance(element, list):
            contexts = _array_leaves(element, (*context, (array_id, index)), values, contexts)
        elif not isinstance(element, dict):
            values.append(element)
            if context or contexts is not None:
                contexts = _context_of(values, contexts, context)
    return contexts


def _array_objects(
    array: list[Any],
    part: int,
    context: ArrayContext,
    work: list[tuple[dict[str, Any], int, ArrayContext]],
) -> None:
    """Queue the objects of an array in the middle of a path, each with its element's context."""
    array_id = id(array)
    for index, element in enumerate(array):
        if isinstance(element, dict):
            work.append((element, part, (*context, (array_id, index))))
        elif isinstance(element, list):
            _array_objects(element, part, (*context, (array_id, index)), work)
