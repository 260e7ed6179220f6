"""The boundary between the table block and the engines that keep its items.

What crosses it is plain data the block has already checked: items as Python values in their
canonical form (numbers as ``int`` when integral, else ``Decimal``; see ``archlab.blocks.table``),
a table's ``KeySchema``, write conditions as small trees (``Condition``), a query's
``SortCondition``, and pages of results (``QueryResult``). An engine stores items and applies a
write's condition atomically with the write.

``Condition.test`` is the reference evaluation, for engines that read and write inside one
transaction (SQLite); an engine over DynamoDB would translate the tree into a
ConditionExpression instead. The helpers below — value kinds, number parts, key checks, item
sizes — are the rules the block and every engine must agree on, so they live here, once.
"""

from __future__ import annotations

import operator
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from archlab.blocks.errors import InvalidEngineUrl, TableValidation

Item = dict[str, Any]
"""An item (or a key): attribute names to canonical values."""
KeyType = Literal["S", "N", "B"]
"""DynamoDB's scalar types, the only ones a key attribute may have: string, number, binary."""
KEY_TYPES: tuple[KeyType, ...] = ("S", "N", "B")

MAX_ITEM_BYTES = 400 * 1024
"""DynamoDB's item size limit, counted as ``item_size`` counts."""
PAGE_BYTES = 1024 * 1024
"""A query or scan page ends once it holds this much data, as in DynamoDB."""
MAX_PARTITION_KEY_BYTES = 2048
MAX_SORT_KEY_BYTES = 1024


@dataclass(frozen=True)
class KeySchema:
    """A table's primary key: a partition key and an optional sort key, each with its type."""

    partition_key: str
    partition_key_type: KeyType = "S"
    sort_key: str | None = None
    sort_key_type: KeyType | None = None
    """Set exactly when ``sort_key`` is."""

    def attributes(self) -> list[tuple[str, KeyType, int]]:
        """Each key attribute: its name, its type and the most bytes its value may have."""
        key: list[tuple[str, KeyType, int]] = [
            (self.partition_key, self.partition_key_type, MAX_PARTITION_KEY_BYTES)
        ]
        if self.sort_key is not None and self.sort_key_type is not None:
            key.append((self.sort_key, self.sort_key_type, MAX_SORT_KEY_BYTES))
        return key


@dataclass(frozen=True)
class QueryResult:
    """A page of items, and where the next page starts (None when this one is the last)."""

    items: list[Item]
    last_evaluated_key: Item | None


# --- values -------------------------------------------------------------------------------------


def kind(value: Any) -> str:
    """DynamoDB's type of a canonical value: S, N, B, BOOL, NULL, L or M."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):  # before int: True is an int to Python
        return "BOOL"
    if isinstance(value, str):
        return "S"
    if isinstance(value, (int, Decimal)):
        return "N"
    if isinstance(value, bytes):
        return "B"
    if isinstance(value, list):
        return "L"
    if isinstance(value, dict):
        return "M"
    raise TypeError(f"{value!r} is not a canonical item value")


def number_parts(number: int | Decimal) -> tuple[int, tuple[int, ...], int]:
    """A number as (sign, significant digits, exponent of the last digit), without leading or
    trailing zeros, so that 1, 1.0 and Decimal("1.00") have the same parts; zero is (0, (), 0).
    """
    sign, digits, exponent = Decimal(number).as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"{number} is not finite")  # the block lets no such number in
    if not any(digits):
        return 0, (), 0
    end = len(digits)
    while digits[end - 1] == 0:
        end -= 1
    return sign, tuple(digits[:end]), exponent + len(digits) - end


def same(a: Any, b: Any) -> bool:
    """DynamoDB equality: same type and same value (1 equals 1.0, but not True nor "1")."""
    if kind(a) != kind(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(value, b[name]) for name, value in a.items())
    return bool(a == b)


def item_size(item: Item) -> int:
    """An item's size as DynamoDB counts it: names and values, with its overheads."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: Any) -> int:
    value_kind = kind(value)
    if value_kind == "S":
        return len(value.encode())
    if value_kind == "B":
        return len(value)
    if value_kind == "N":
        return (len(number_parts(value)[1]) + 1) // 2 + 1  # a byte per two digits, and one
    if value_kind == "L":
        return 3 + sum(1 + _value_size(element) for element in value)
    if value_kind == "M":
        return 3 + sum(1 + len(name.encode()) + _value_size(v) for name, v in value.items())
    return 1  # BOOL, NULL


def check_item_size(item: Item, message: str) -> None:
    """TableValidation with ``message`` if the item is over DynamoDB's 400 KB."""
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        raise TableValidation(f"{message} ({size} bytes; at most {MAX_ITEM_BYTES})")


# --- keys ---------------------------------------------------------------------------------------


def key_value(name: str, key_type: KeyType, value: Any, max_bytes: int) -> Any:
    """``value``, if the key attribute ``name`` may hold it (its type, not empty, not too long)."""
    actual = kind(value)
    if actual != key_type:
        raise TableValidation(
            "One or more parameter values were invalid: Type mismatch for key"
            f" {name} expected: {key_type} actual: {actual}"
        )
    if key_type != "N":
        size = len(value.encode()) if key_type == "S" else len(value)
        if size == 0:
            raise TableValidation(
                "One or more parameter values are not valid. The AttributeValue for a key"
                f" attribute cannot contain an empty {'string' if key_type == 'S' else 'binary'}"
                f" value. Key: {name}"
            )
        if size > max_bytes:
            raise TableValidation(
                f"One or more parameter values were invalid: the key {name} is {size} bytes;"
                f" at most {max_bytes}"
            )
    return value


def key_of(schema: KeySchema, item: Item) -> Item:
    """The key attributes of an item, checked against the table's key schema."""
    key = {}
    for name, key_type, max_bytes in schema.attributes():
        if name not in item:
            raise TableValidation(
                f"One or more parameter values were invalid: Missing the key {name} in the item"
            )
        key[name] = key_value(name, key_type, item[name], max_bytes)
    return key


def exact_key(schema: KeySchema, key: Item) -> Item:
    """A key argument (get, delete, a start key): exactly the key attributes, checked."""
    names = [name for name, _, _ in schema.attributes()]
    if not isinstance(key, dict) or sorted(key) != sorted(names):
        given = sorted(key) if isinstance(key, dict) else key
        raise TableValidation(
            f"The provided key element does not match the schema: expected {names}, got {given!r}"
        )
    return key_of(schema, key)


# --- conditions ---------------------------------------------------------------------------------

Operator = Literal["=", "<>", "<", "<=", ">", ">="]
ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
"""Ordered comparisons, for two values of one kind: numbers by value, strings by code point
(which is UTF-8 byte order), binary by unsigned bytes — DynamoDB's orders."""


class Condition(ABC):
    """A write's condition (DynamoDB's ConditionExpression), as a tree of these nodes."""

    @abstractmethod
    def test(self, item: Item | None) -> bool:
        """Whether the condition holds for the item as stored (None: there is none)."""


@dataclass(frozen=True)
class AttributeExists(Condition):
    name: str

    def test(self, item: Item | None) -> bool:
        return item is not None and self.name in item


@dataclass(frozen=True)
class AttributeNotExists(Condition):
    name: str

    def test(self, item: Item | None) -> bool:
        return item is None or self.name not in item


@dataclass(frozen=True)
class Comparison(Condition):
    """``name operator value``. A missing attribute equals nothing, so only ``<>`` holds;
    values of different types are unequal and unordered."""

    name: str
    operator: Operator
    value: Any

    def test(self, item: Item | None) -> bool:
        if item is None or self.name not in item:
            return self.operator == "<>"
        actual = item[self.name]
        if self.operator in ("=", "<>"):
            return same(actual, self.value) == (self.operator == "=")
        return kind(actual) == kind(self.value) and ORDER[self.operator](actual, self.value)


@dataclass(frozen=True)
class BeginsWith(Condition):
    """The attribute is a string (or binary) starting with ``prefix``, of the same type."""

    name: str
    prefix: str | bytes

    def test(self, item: Item | None) -> bool:
        if item is None or self.name not in item:
            return False
        actual = item[self.name]
        return kind(actual) == kind(self.prefix) and actual.startswith(self.prefix)


@dataclass(frozen=True)
class AllOf(Condition):
    conditions: tuple[Condition, ...]

    def test(self, item: Item | None) -> bool:
        return all(condition.test(item) for condition in self.conditions)


@dataclass(frozen=True)
class AnyOf(Condition):
    conditions: tuple[Condition, ...]

    def test(self, item: Item | None) -> bool:
        return any(condition.test(item) for condition in self.conditions)


SortOperator = Literal["=", "<", "<=", ">", ">=", "between", "begins_with"]


@dataclass(frozen=True)
class SortCondition:
    """A query's condition on the sort key (DynamoDB's KeyConditionExpression on it).

    Build one with the class methods: ``SortCondition.between(1, 5)``. The table checks the
    values against the sort key's type when the query runs.
    """

    operator: SortOperator
    values: tuple[Any, ...]

    @classmethod
    def eq(cls, value: Any) -> SortCondition:
        return cls("=", (value,))

    @classmethod
    def lt(cls, value: Any) -> SortCondition:
        return cls("<", (value,))

    @classmethod
    def le(cls, value: Any) -> SortCondition:
        return cls("<=", (value,))

    @classmethod
    def gt(cls, value: Any) -> SortCondition:
        return cls(">", (value,))

    @classmethod
    def ge(cls, value: Any) -> SortCondition:
        return cls(">=", (value,))

    @classmethod
    def between(cls, low: Any, high: Any) -> SortCondition:
        """Both ends included; ``low`` must not be above ``high``."""
        return cls("between", (low, high))

    @classmethod
    def begins_with(cls, prefix: str | bytes) -> SortCondition:
        """For string and binary sort keys only."""
        return cls("begins_with", (prefix,))


# --- the engine ---------------------------------------------------------------------------------


class TableEngine(Protocol):
    """Tables and their items. Every argument has been checked by the block; an unknown table
    is TableNotFound, a failed condition ConditionalCheckFailed, and either changes nothing."""

    def create_table(self, name: str, schema: KeySchema) -> None:
        """Create a table; an existing one with another key schema is TableInUse."""

    def describe_table(self, name: str) -> KeySchema: ...

    def delete_table(self, name: str) -> None:
        """Delete the table and all its items."""

    def put_item(
        self, table: str, item: Item, condition: Condition | None, return_old: bool
    ) -> Item | None:
        """Store ``item`` in place of the item with its key; the old item if ``return_old``."""

    def get_item(self, table: str, key: Item) -> Item | None: ...

    def update_item(
        self,
        table: str,
        key: Item,
        set_attributes: Item,
        remove_attributes: list[str],
        condition: Condition | None,
    ) -> Item:
        """Set and remove top-level attributes of the item (created if absent); the new item.
        The result is held to the item size limit."""

    def delete_item(
        self, table: str, key: Item, condition: Condition | None, return_old: bool
    ) -> Item | None: ...

    def query(
        self,
        table: str,
        partition_value: Any,
        sort: SortCondition | None,
        limit: int | None,
        exclusive_start_key: Item | None,
        forward: bool,
    ) -> QueryResult:
        """The partition's items in sort-key order (reversed unless ``forward``), from after
        ``exclusive_start_key``; a page ends at ``limit`` items or ``PAGE_BYTES``, and then
        carries the last item's key."""

    def scan(self, table: str, limit: int | None, exclusive_start_key: Item | None) -> QueryResult:
        """All items, in an order the engine chooses but keeps, paginated as ``query``."""

    def close(self) -> None: ...


SCHEMES = {"sqlite": "sqlite:///relative/path.db or sqlite:////absolute/path.db"}


def connect_tables(url: str) -> TableEngine:
    """The table engine an URL names, such as ``sqlite:///.archlab/tables.db``."""
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in SCHEMES:
        raise InvalidEngineUrl(
            f"{url!r} names no table engine; use one of: {', '.join(SCHEMES.values())}"
        )
    if parts.netloc or parts.path in ("", "/"):
        raise InvalidEngineUrl(f"{url!r}: a SQLite URL is {SCHEMES['sqlite']}")
    if parts.query:
        raise InvalidEngineUrl(f"{url!r}: the SQLite table engine takes no options")
    # Imported here: the engine module builds on this one's types.
    from archlab.engines.sqlite_tables import SqliteTableEngine

    return SqliteTableEngine(parts.path[1:])
