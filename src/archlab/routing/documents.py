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
from collections.abc import Iterable
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
        except json.JSONDecodeError as error:
            raise InvalidEvent(
                f"{what} is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
            ) from None
        except UnicodeDecodeError as error:
            raise InvalidEvent(f"{what} is not UTF-8 text: {error.reason}") from None
    if not isinstance(document, dict):
        raise InvalidEvent(f"{what} must be a JSON object, got {json_type_name(document)}")
    return document


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


_Entry: TypeAlias = "tuple[str, dict[str, _Entry]]"


class PathTrie:
    """The field paths some rule uses, as a tree of keys, for walking only what rules look at.

    ``leaves(document)`` gives the same leaves as :func:`flatten` for every path in the trie
    (and for their dotted prefixes), while skipping whole subtrees no rule mentions.
    """

    __slots__ = ("root",)

    def __init__(self, paths: Iterable[str]) -> None:
        self.root: dict[str, _Entry] = {}
        for path in paths:
            children = self.root
            parts = path.split(".")
            for depth, part in enumerate(parts):
                entry = children.get(part)
                if entry is None:
                    entry = children[part] = (".".join(parts[: depth + 1]), {})
                children = entry[1]

    def leaves(self, document: dict[str, Any]) -> Leaves:
        leaves: Leaves = {}
        # An explicit stack instead of recursion: this runs for every event the index matches.
        stack: list[tuple[dict[str, _Entry], dict[str, Any], ArrayContext]] = [
            (self.root, document, ())
        ]
        while stack:
            children, node, context = stack.pop()
            for key, value in node.items():
                entry = children.get(key)
                if entry is None:
                    if "." not in key:
                        continue
                    entry = self._dotted(children, key)
                    if entry is None:
                        continue
                if isinstance(value, dict):
                    if entry[1]:
                        stack.append((entry[1], value, context))
                elif isinstance(value, list):
                    self._walk_array(entry, value, context, leaves, stack)
                else:
                    found = leaves.get(entry[0])
                    if found is None:
                        leaves[entry[0]] = [(value, context)]
                    else:
                        found.append((value, context))
        return leaves

    @staticmethod
    def _dotted(children: dict[str, _Entry], key: str) -> _Entry | None:
        """The entry for an event key such as ``"state.status"`` (it joins like nested keys)."""
        entry = None
        for part in key.split("."):
            entry = children.get(part)
            if entry is None:
                return None
            children = entry[1]
        return entry

    def _walk_array(
        self,
        entry: _Entry,
        array: list[Any],
        context: ArrayContext,
        leaves: Leaves,
        stack: list[tuple[dict[str, _Entry], dict[str, Any], ArrayContext]],
    ) -> None:
        array_id = id(array)
        for index, element in enumerate(array):
            if isinstance(element, dict):
                if entry[1]:
                    stack.append((entry[1], element, (*context, (array_id, index))))
            elif isinstance(element, list):
                self._walk_array(entry, element, (*context, (array_id, index)), leaves, stack)
            else:
                _add_leaf(leaves, entry[0], element, context)
