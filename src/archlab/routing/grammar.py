"""The pattern language shared by EventBridge patterns and SNS filter policies.

Both services use the same shape: a JSON object whose keys are field names, whose nested objects
descend into the document, and whose arrays list the values (or operator objects) any one of
which may match. They differ in which operators they accept and in their limits; a
:class:`Dialect` captures the differences and :func:`compile_pattern` does the rest.

Compiling turns a pattern into a tuple of :class:`~archlab.routing.predicates.Conjunction`
objects, one per alternative after ``$or`` is expanded.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from archlab.routing.documents import json_problem, json_type_name
from archlab.routing.errors import RoutingError, join_path
from archlab.routing.predicates import (
    AnythingBut,
    Cidr,
    Clause,
    Conjunction,
    EqualsIgnoreCase,
    Exact,
    Excludable,
    Exists,
    Numeric,
    Predicate,
    Prefix,
    Suffix,
    Wildcard,
    split_wildcard,
)

NUMERIC_OPERATORS = ("=", "<", "<=", ">", ">=")
MAX_WILDCARDS = 5
"""EventBridge rejects wildcard patterns it deems too complex (``*:*:*:*:*:event-bus/*``); its
exact threshold is not published, so we reject more than five stars in one pattern."""
RESERVED_NAMES = frozenset(
    {
        "exactly",
        "equals-ignore-case",
        "prefix",
        "suffix",
        "anything-but",
        "exists",
        "wildcard",
        "numeric",
        "cidr",
        "=",
        "<",
        "<=",
        ">",
        ">=",
    }
)
"""Operator names, which cannot be used as field names inside a ``$or`` branch."""


@dataclass(frozen=True)
class Dialect:
    """What one service accepts."""

    name: str
    error: type[RoutingError]
    operators: frozenset[str]
    anything_but_forms: frozenset[str]
    """Keys accepted inside an ``anything-but`` object (``prefix``, ``suffix``, ...)."""
    anything_but_lists: frozenset[str]
    """Forms of ``anything-but`` that also accept a list of strings."""
    allow_ignore_case_affixes: bool
    anything_but_every: bool
    exists_needs_value: bool
    """Whether ``exists: true`` ignores null and empty-string values (SNS) or not (EventBridge)."""
    """Whether anything-but must hold for every value of an array (SNS) or for one (EventBridge)."""
    """Whether ``{"prefix": {"equals-ignore-case": ...}}`` (and suffix) is accepted."""
    max_alternatives: int
    """How many conjunctions ``$or`` may expand into."""


def load_pattern(pattern: Any, dialect: Dialect) -> tuple[str, Any]:
    """A pattern given as JSON text or as a mapping, and its JSON text (for limits and display).

    A mapping's text is its compact JSON form.
    """
    if isinstance(pattern, (str, bytes, bytearray)):
        try:
            return (
                pattern if isinstance(pattern, str) else pattern.decode(),
                json.loads(pattern),
            )
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise dialect.error(json_problem(error)) from None
    try:
        return json.dumps(pattern, separators=(",", ":"), ensure_ascii=False), pattern
    except (TypeError, ValueError) as error:
        raise dialect.error(f"not representable as JSON: {error}") from None


def compile_pattern(pattern: dict[str, Any], dialect: Dialect) -> tuple[Conjunction, ...]:
    """Validate ``pattern`` and compile it; raises ``dialect.error`` naming the offending path."""
    if not isinstance(pattern, dict):
        raise dialect.error(f"must be a JSON object, got {json_type_name(pattern)}")
    if not pattern:
        raise dialect.error("must not be empty")
    parser = _Parser(dialect)
    alternatives = parser.object(pattern, "", "")
    unique = dict.fromkeys(Conjunction.of(clauses) for clauses in alternatives)
    return tuple(unique)


class _Parser:
    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.fail = dialect.error
        self.handlers: dict[str, Callable[[Any, str], Predicate]] = {
            "prefix": self.prefix,
            "suffix": self.suffix,
            "equals-ignore-case": self.equals_ignore_case,
            "wildcard": self.wildcard,
            "anything-but": self.anything_but,
            "numeric": self.numeric,
            "cidr": self.cidr,
            "exists": self.exists,
        }

    def object(self, node: dict[str, Any], prefix: str, where: str) -> list[list[Clause]]:
        """Alternatives (lists of clauses) that ``node`` expands into."""
        alternatives: list[list[Clause]] = [[]]
        for key, value in node.items():
            if not isinstance(key, str):
                raise self.fail(f"keys must be strings, got {key!r}", where)
            location = join_path(where, key)
            if key == "$or":
                branches = self.or_branches(value, prefix, location)
                alternatives = [a + b for a in alternatives for b in branches]
            elif isinstance(value, dict):
                if not value:
                    raise self.fail("an empty object matches nothing; remove it", location)
                nested = self.object(value, f"{prefix}{key}.", location)
                alternatives = [a + b for a in alternatives for b in nested]
            elif isinstance(value, list):
                clause = self.clause(value, prefix + key, location)
                alternatives = [[*a, clause] for a in alternatives]
            else:
                raise self.fail(
                    f"must be an object or an array of values, got {json_type_name(value)}"
                    f" (write [{json.dumps(value)}] to match that value)",
                    location,
                )
            if len(alternatives) > self.dialect.max_alternatives:
                raise self.fail(
                    f"$or expands into more than {self.dialect.max_alternatives} combinations",
                    location,
                )
        return alternatives

    def or_branches(self, value: Any, prefix: str, where: str) -> list[list[Clause]]:
        if not isinstance(value, list) or len(value) < 2:
            raise self.fail("$or takes an array of at least two objects", where)
        branches: list[list[Clause]] = []
        for index, branch in enumerate(value):
            location = join_path(where, index)
            if not isinstance(branch, dict) or not branch:
                raise self.fail("each $or branch must be a non-empty object", location)
            for name in RESERVED_NAMES.intersection(branch):
                raise self.fail(
                    f"{name!r} is an operator and cannot be a field name inside $or", location
                )
            branches.extend(self.object(branch, prefix, location))
        return branches

    def clause(self, values: list[Any], path: str, where: str) -> Clause:
        if not values:
            raise self.fail("an empty array matches nothing; list at least one value", where)
        predicates: set[Predicate] = set()
        for index, value in enumerate(values):
            predicates.add(self.value(value, join_path(where, index)))
        return Clause(path, frozenset(predicates))

    def value(self, value: Any, where: str) -> Predicate:
        if isinstance(value, dict):
            return self.operator(value, where)
        if isinstance(value, list):
            raise self.fail("arrays cannot be nested inside a value list", where)
        return self.literal(value, where)

    def literal(self, value: Any, where: str) -> Exact:
        if isinstance(value, str):
            return Exact("string", value)
        if isinstance(value, bool):
            return Exact("boolean", value)
        if value is None:
            return Exact("null", None)
        if isinstance(value, (int, float)):
            return Exact("number", self.number(value, where))
        raise self.fail(f"unsupported value {value!r}", where)

    def number(self, value: Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"expected a number, got {json_type_name(value)}", where)
        if not math.isfinite(value):
            raise self.fail(f"{value!r} is not a finite number", where)
        return value

    def operator(self, node: dict[str, Any], where: str) -> Predicate:
        if len(node) != 1:
            keys = ", ".join(sorted(map(str, node))) or "none"
            raise self.fail(
                f"an operator object must have exactly one key, got {len(node)} ({keys})", where
            )
        ((name, operand),) = node.items()
        location = join_path(where, name)
        if name not in self.dialect.operators:
            known = ", ".join(sorted(self.dialect.operators))
            raise self.fail(
                f"unrecognised operator {name!r} ({self.dialect.name} supports: {known};"
                " operator names are case-sensitive)",
                where,
            )
        return self.handlers[name](operand, location)

    # --- operators ----------------------------------------------------------------------------

    def prefix(self, operand: Any, where: str) -> Predicate:
        text, ignore_case = self.affix(operand, where)
        return Prefix(text, ignore_case)

    def suffix(self, operand: Any, where: str) -> Predicate:
        text, ignore_case = self.affix(operand, where)
        return Suffix(text, ignore_case)

    def affix(self, operand: Any, where: str) -> tuple[str, bool]:
        if isinstance(operand, str):
            return operand, False
        if (
            self.dialect.allow_ignore_case_affixes
            and isinstance(operand, dict)
            and list(operand) == ["equals-ignore-case"]
        ):
            text = operand["equals-ignore-case"]
            if isinstance(text, str):
                return text, True
            where = join_path(where, "equals-ignore-case")
            raise self.fail(f"takes a string, got {json_type_name(text)}", where)
        accepted = "a string"
        if self.dialect.allow_ignore_case_affixes:
            accepted += ' or {"equals-ignore-case": "..."}'
        raise self.fail(f"takes {accepted}, got {json_type_name(operand)}", where)

    def equals_ignore_case(self, operand: Any, where: str) -> Predicate:
        if not isinstance(operand, str):
            raise self.fail(f"takes a string, got {json_type_name(operand)}", where)
        return EqualsIgnoreCase(operand)

    def wildcard(self, operand: Any, where: str) -> Predicate:
        if not isinstance(operand, str):
            raise self.fail(f"takes a string, got {json_type_name(operand)}", where)
        return Wildcard(self.wildcard_text(operand, where))

    def wildcard_text(self, text: str, where: str) -> str:
        escaped = False
        previous_star = False
        for position, char in enumerate(text):
            if escaped:
                if char not in "*\\":
                    raise self.fail(
                        f"invalid escape '\\{char}' at character {position} of {text!r}"
                        " (only \\* and \\\\ may be escaped)",
                        where,
                    )
                escaped, previous_star = False, False
            elif char == "\\":
                escaped = True
            elif char == "*":
                if previous_star:
                    raise self.fail(
                        f"consecutive wildcard characters at character {position} of {text!r}",
                        where,
                    )
                previous_star = True
            else:
                previous_star = False
        if escaped:
            raise self.fail(f"{text!r} ends with an unfinished escape '\\'", where)
        if len(split_wildcard(text)) - 1 > MAX_WILDCARDS:
            raise self.fail(
                f"{text!r} is too complex: use at most {MAX_WILDCARDS} wildcard characters", where
            )
        return text

    def cidr(self, operand: Any, where: str) -> Predicate:
        """An IPv4 or IPv6 block; host bits are masked off (10.0.0.1/24 is 10.0.0.0/24)."""
        example = 'a block such as "10.0.0.0/24" or "2001:db8::/32"'
        if not isinstance(operand, str):
            raise self.fail(f"takes {example}, got {json_type_name(operand)}", where)
        _, slash, bits = operand.partition("/")
        if not slash or "/" in bits:
            raise self.fail(f"{operand!r} is not {example}: exactly one '/' is required", where)
        try:
            network = ipaddress.ip_network(operand, strict=False)
        except ValueError:
            raise self.fail(f"{operand!r} is not {example}", where) from None
        if network.prefixlen == network.max_prefixlen:
            raise self.fail(
                f"a /{network.prefixlen} block holds one address; match it as a string instead",
                where,
            )
        return Cidr(network)

    def exists(self, operand: Any, where: str) -> Predicate:
        if not isinstance(operand, bool):
            raise self.fail(f"takes true or false, got {json_type_name(operand)}", where)
        return Exists(operand, non_empty=operand and self.dialect.exists_needs_value)

    def numeric(self, operand: Any, where: str) -> Predicate:
        """``[op, n]`` with any of = < <= > >=, or ``[">" | ">=", low, "<" | "<=", high]``."""
        shapes = 'takes [OP, NUMBER] or [">" or ">=", LOW, "<" or "<=", HIGH]'
        if not isinstance(operand, list) or len(operand) not in (2, 4):
            raise self.fail(f"{shapes}, got {json.dumps(operand)}", where)
        op, value = self.comparison(operand, 0, NUMERIC_OPERATORS, where)
        if len(operand) == 2:
            if op == "=":
                return Numeric(value, True, value, True)
            if op in (">", ">="):
                return Numeric(lower=value, lower_inclusive=op == ">=")
            return Numeric(upper=value, upper_inclusive=op == "<=")
        if op not in (">", ">="):
            raise self.fail(
                f'{shapes}: a two-sided range starts with its lower bound, not "{op}"', where
            )
        upper_op, upper = self.comparison(operand, 2, ("<", "<="), where)
        if value >= upper:
            raise self.fail(
                f"empty range: the lower bound {value!r} must be below {upper!r}", where
            )
        return Numeric(value, op == ">=", upper, upper_op == "<=")

    def comparison(
        self, operand: list[Any], index: int, allowed: tuple[str, ...], where: str
    ) -> tuple[str, float]:
        op = operand[index]
        if op not in allowed:
            raise self.fail(
                f"expected one of {', '.join(allowed)}, got {json.dumps(op)}",
                join_path(where, index),
            )
        return op, self.number(operand[index + 1], join_path(where, index + 1))

    def anything_but(self, operand: Any, where: str) -> Predicate:
        excluded: set[Excludable] = set()
        if isinstance(operand, dict):
            excluded.update(self.anything_but_form(operand, where))
        elif isinstance(operand, list):
            if not operand:
                raise self.fail("takes a non-empty array", where)
            kinds = set()
            for index, value in enumerate(operand):
                location = join_path(where, index)
                if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                    raise self.fail(
                        f"lists only strings or numbers, got {json_type_name(value)}", location
                    )
                exact = self.literal(value, location)
                kinds.add(exact.kind)
                excluded.add(exact)
            if len(kinds) > 1:
                raise self.fail("lists either strings or numbers, not both", where)
        elif isinstance(operand, str) or (
            isinstance(operand, (int, float)) and not isinstance(operand, bool)
        ):
            excluded.add(self.literal(operand, where))
        else:
            raise self.fail(
                "takes a string, a number, an array of either, or an object such as"
                f' {{"prefix": "..."}}; got {json_type_name(operand)}',
                where,
            )
        return AnythingBut(frozenset(excluded), every=self.dialect.anything_but_every)

    def anything_but_form(self, node: dict[str, Any], where: str) -> list[Excludable]:
        forms = self.dialect.anything_but_forms
        if len(node) != 1 or next(iter(node)) not in forms:
            keys = ", ".join(sorted(map(str, node))) or "none"
            raise self.fail(
                f"an anything-but object takes exactly one of {', '.join(sorted(forms))};"
                f" got {keys}",
                where,
            )
        ((name, operand),) = node.items()
        location = join_path(where, name)
        texts: list[tuple[str, str]]
        if isinstance(operand, list) and name in self.dialect.anything_but_lists:
            if not operand:
                raise self.fail("takes a non-empty array of strings", location)
            texts = [(value, join_path(location, i)) for i, value in enumerate(operand)]
        else:
            texts = [(operand, location)]
        excluded: list[Excludable] = []
        for text, text_location in texts:
            if not isinstance(text, str):
                accepted = "a string"
                if name in self.dialect.anything_but_lists:
                    accepted += " or an array of strings"
                raise self.fail(f"takes {accepted}, got {json_type_name(text)}", text_location)
            if name == "prefix" or name == "suffix":
                if not text:
                    raise self.fail(f"an empty {name} would exclude every string", text_location)
                excluded.append(Prefix(text) if name == "prefix" else Suffix(text))
            elif name == "equals-ignore-case":
                excluded.append(EqualsIgnoreCase(text))
            else:
                excluded.append(Wildcard(self.wildcard_text(text, text_location)))
        return excluded
