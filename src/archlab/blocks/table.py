"""The table block: Amazon DynamoDB semantics over any table engine.

The subset a service such as an image-metadata store needs, done as DynamoDB does it: tables
with a partition key and an optional sort key (each typed S, N or B at creation), PutItem,
GetItem, UpdateItem (SET and REMOVE of top-level attributes; it creates the item if absent),
DeleteItem, conditional writes, Query on one partition with a sort-key condition, Scan, and
DynamoDB's pagination (a page ends at ``limit`` items or 1 MB of data and then carries a
LastEvaluatedKey, even when nothing follows). As in the other blocks, everything a caller hands
over is checked here and refused with DynamoDB's error code before the engine is asked to change
anything; the engine keeps the items and applies each write's condition atomically with it.

Values. Items hold str, numbers (int, float, Decimal), bool, None, bytes, list and dict — that
is DynamoDB's S, N, BOOL, NULL, B, L and M; sets are not supported. Numbers are decimals, as in
DynamoDB: at most 38 significant digits, magnitudes from 1E-130 to below 1E+126, no NaN or
infinity. They come back in one canonical form, whatever the engine: ``int`` when integral,
otherwise an exact ``Decimal``. A float is taken as its shortest repr (0.1 is stored as 0.1, not
as 0.1000000000000000055...), so ``float(value)`` gives it back; 1, 1.0 and Decimal("1.00") are
one number (and one key). Key attributes must have the table's declared type and be non-empty;
items are at most 400 KB as DynamoDB counts them; nesting stops at 32 levels.

Conditions are a small typed Python API — ``all_of(attribute_exists("etag"), equals("v", 3))``
— rather than DynamoDB's expression strings. Mistakes then fail where the condition is built
(and under mypy), values stay Python values instead of ``:placeholders`` spliced into text,
reserved words and ExpressionAttributeNames do not arise, and an engine over DynamoDB can still
translate the tree into a ConditionExpression. Names are top-level attribute names (no document
paths: "a.b" is the attribute named a.b). Their meaning is DynamoDB's: an absent attribute
equals nothing (so only ``not_equals`` holds for it), values of different types are unequal and
unordered, strings order by UTF-8 bytes and binary by unsigned bytes.

Not here: secondary indexes, filter and projection expressions, batch and transactional
operations, document paths in updates, sets, TTL, streams.
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal
from typing import Any

from archlab.blocks.checks import integer
from archlab.blocks.errors import TableValidation
from archlab.engines.tables import (
    KEY_TYPES,
    AllOf,
    AnyOf,
    AttributeExists,
    AttributeNotExists,
    BeginsWith,
    Comparison,
    Condition,
    Item,
    KeySchema,
    KeyType,
    Operator,
    QueryResult,
    SortCondition,
    TableEngine,
    check_item_size,
    exact_key,
    key_of,
    key_value,
    kind,
    number_parts,
    same,
)

__all__ = [
    "Condition",
    "Item",
    "KeySchema",
    "QueryResult",
    "SortCondition",
    "Table",
    "all_of",
    "any_of",
    "attribute_exists",
    "attribute_not_exists",
    "begins_with",
    "equals",
    "greater_or_equal",
    "greater_than",
    "less_or_equal",
    "less_than",
    "not_equals",
]

TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
MAX_KEY_NAME_BYTES = 255
MAX_NUMBER_DIGITS = 38
MIN_EXPONENT = -130
MAX_EXPONENT = 125
"""The adjusted (scientific) exponents DynamoDB stores: 1E-130 up to 9.99...E+125."""
MAX_DEPTH = 32
"""Lists and maps nest at most this deep."""


def validate_table_name(name: Any) -> str:
    if not isinstance(name, str) or not TABLE_NAME.fullmatch(name):
        raise TableValidation(
            f"table name {name!r} is invalid: a table name is 3 to 255 letters, digits,"
            " underscores, hyphens or dots"
        )
    return name


def key_schema(
    partition_key: Any, partition_key_type: Any, sort_key: Any, sort_key_type: Any
) -> KeySchema:
    """A key schema from CreateTable's arguments, checked as DynamoDB checks them."""
    _key_attribute(partition_key, partition_key_type)
    if sort_key is None:
        return KeySchema(partition_key, partition_key_type)
    _key_attribute(sort_key, sort_key_type)
    if sort_key == partition_key:
        raise TableValidation(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name:"
            f" {sort_key}"
        )
    return KeySchema(partition_key, partition_key_type, sort_key, sort_key_type)


def _key_attribute(name: Any, key_type: Any) -> None:
    if not isinstance(name, str) or not 1 <= len(name.encode()) <= MAX_KEY_NAME_BYTES:
        raise TableValidation(f"key attribute name {name!r} must be 1 to 255 bytes of text")
    if key_type not in KEY_TYPES:
        raise TableValidation(
            f"the type of key attribute {name} must be S, N or B (string, number, binary),"
            f" got {key_type!r}"
        )


# --- values -------------------------------------------------------------------------------------


def canonical_item(item: Any, what: str = "item") -> Item:
    """An item (or a key, or SET's attributes) checked, with its values in canonical form."""
    if not isinstance(item, dict):
        raise TableValidation(
            f"the {what} must be a dict of attribute names to values, got {type(item).__name__}"
        )
    return {_name(name, what): canonical_value(value, name) for name, value in item.items()}


def canonical_value(value: Any, where: str, depth: int = 0) -> Any:
    """A value checked for DynamoDB, numbers made canonical; ``where`` names it in errors."""
    if value is None or isinstance(value, (bool, bytes)):
        return value
    if isinstance(value, str):
        return _unicode(value, where)
    if isinstance(value, (int, float, Decimal)):
        return _number(value, where)
    if isinstance(value, (list, dict)) and depth >= MAX_DEPTH:
        raise TableValidation(
            f"{where}: Nesting Levels have exceeded supported limits (at most {MAX_DEPTH})"
        )
    if isinstance(value, list):
        return [canonical_value(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {
            _name(name, where): canonical_value(v, f"{where}.{name}", depth + 1)
            for name, v in value.items()
        }
    raise TableValidation(
        f"{where}: {type(value).__name__} values are not supported; use str, int, float,"
        " Decimal, bool, None, bytes, list or dict"
    )


def _name(name: Any, where: str) -> str:
    """An attribute name: non-empty text."""
    if not isinstance(name, str) or not name:
        raise TableValidation(f"{where}: attribute names must be non-empty text, got {name!r}")
    return _unicode(name, where)


def _unicode(text: str, where: str) -> str:
    """``text``, if UTF-8 can encode it (Python strings may hold lone surrogates)."""
    try:
        text.encode()
    except UnicodeEncodeError as error:
        raise TableValidation(
            f"{where}: the text is not valid Unicode ({error.reason} at {error.start})"
        ) from None
    return text


def _number(value: int | float | Decimal, where: str) -> int | Decimal:
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise TableValidation(f"{where}: {value!r} is not a number; numbers must be finite")
    sign, digits, exponent = number_parts(number)
    if len(digits) > MAX_NUMBER_DIGITS:
        raise TableValidation(
            f"{where}: Attempting to store more than {MAX_NUMBER_DIGITS} significant digits"
            f" in a Number ({value!r})"
        )
    adjusted = exponent + len(digits) - 1
    if digits and adjusted > MAX_EXPONENT:
        raise TableValidation(
            f"{where}: Number overflow. Attempting to store a number with magnitude larger"
            f" than supported range ({value!r})"
        )
    if digits and adjusted < MIN_EXPONENT:
        raise TableValidation(
            f"{where}: Number underflow. Attempting to store a number with magnitude smaller"
            f" than supported range ({value!r})"
        )
    return int(number) if exponent >= 0 else Decimal((sign, digits, exponent))


# --- conditions ---------------------------------------------------------------------------------


def attribute_exists(name: str) -> Condition:
    return AttributeExists(_name(name, "attribute_exists"))


def attribute_not_exists(name: str) -> Condition:
    """Holds when there is no item yet, too: put with it to create without overwriting."""
    return AttributeNotExists(_name(name, "attribute_not_exists"))


def equals(name: str, value: Any) -> Condition:
    return Comparison(_name(name, "equals"), "=", canonical_value(value, name))


def not_equals(name: str, value: Any) -> Condition:
    """Holds for an absent attribute and for a value of another type."""
    return Comparison(_name(name, "not_equals"), "<>", canonical_value(value, name))


def less_than(name: str, value: Any) -> Condition:
    return _ordered(name, "<", value)


def less_or_equal(name: str, value: Any) -> Condition:
    return _ordered(name, "<=", value)


def greater_than(name: str, value: Any) -> Condition:
    return _ordered(name, ">", value)


def greater_or_equal(name: str, value: Any) -> Condition:
    return _ordered(name, ">=", value)


def begins_with(name: str, prefix: str | bytes) -> Condition:
    """The attribute is a string (or binary) value starting with ``prefix``."""
    if not isinstance(prefix, (str, bytes)):
        raise _operand_type("begins_with", canonical_value(prefix, name))
    return BeginsWith(_name(name, "begins_with"), canonical_value(prefix, name))


def all_of(*conditions: Condition) -> Condition:
    """Every condition holds (AND)."""
    return AllOf(_conditions("all_of", conditions))


def any_of(*conditions: Condition) -> Condition:
    """At least one condition holds (OR)."""
    return AnyOf(_conditions("any_of", conditions))


def _ordered(name: str, operator: Operator, value: Any) -> Condition:
    """An ordered comparison: only strings, numbers and binary have an order."""
    operand = canonical_value(value, name)
    if kind(operand) not in KEY_TYPES:
        raise _operand_type(operator, operand)
    return Comparison(_name(name, operator), operator, operand)


def _operand_type(function: str, operand: Any) -> TableValidation:
    return TableValidation(
        "Invalid ConditionExpression: Incorrect operand type for operator or function;"
        f" operator or function: {function}, operand type: {kind(operand)}"
    )


def _conditions(function: str, conditions: tuple[Any, ...]) -> tuple[Condition, ...]:
    if not conditions or not all(isinstance(c, Condition) for c in conditions):
        raise TableValidation(f"{function} takes one or more conditions, got {conditions!r}")
    return conditions


def _condition(condition: Any) -> Condition | None:
    if condition is not None and not isinstance(condition, Condition):
        raise TableValidation(f"a condition is built with equals(), all_of()...; got {condition!r}")
    return condition


# --- the table ----------------------------------------------------------------------------------


class Table:
    """One table, through an engine.

    >>> images = Table.create(engine, "images", partition_key="owner", sort_key="taken",
    ...                       sort_key_type="N")                              # doctest: +SKIP
    >>> images.put({"owner": "ann", "taken": 1700000000, "width": 800})      # doctest: +SKIP
    >>> images.query("ann", sort=SortCondition.ge(1690000000), limit=50)     # doctest: +SKIP

    The key schema is read from the engine once and kept: it only validates arguments here,
    while the engine checks every write against the schema it holds.
    """

    def __init__(self, engine: TableEngine, name: str) -> None:
        self.engine = engine
        self.name = validate_table_name(name)
        self._schema: KeySchema | None = None

    @classmethod
    def create(
        cls,
        engine: TableEngine,
        name: str,
        *,
        partition_key: str,
        partition_key_type: KeyType = "S",
        sort_key: str | None = None,
        sort_key_type: KeyType = "S",
    ) -> Table:
        """Create the table, or find it if it exists with this key schema; an existing table
        with another key schema is TableInUse (ResourceInUseException)."""
        table = cls(engine, name)
        schema = key_schema(partition_key, partition_key_type, sort_key, sort_key_type)
        engine.create_table(table.name, schema)
        table._schema = schema
        return table

    @property
    def schema(self) -> KeySchema:
        """The key schema; TableNotFound (ResourceNotFoundException) for an unknown table."""
        if self._schema is None:
            self._schema = self.engine.describe_table(self.name)
        return self._schema

    def put(
        self, item: Item, *, condition: Condition | None = None, return_old: bool = False
    ) -> Item | None:
        """PutItem: store ``item`` in place of any item with its key. Returns the item it
        replaced (None if there was none) when ``return_old``, else None."""
        checked = canonical_item(item)
        key_of(self.schema, checked)
        check_item_size(checked, "Item size has exceeded the maximum allowed size")
        return self.engine.put_item(self.name, checked, _condition(condition), return_old)

    def get(self, key: Item) -> Item | None:
        """GetItem: the item with this key (exactly the key attributes), or None."""
        return self.engine.get_item(self.name, self._key(key))

    def update(
        self,
        key: Item,
        set: Item | None = None,
        remove: list[str] | None = None,
        *,
        condition: Condition | None = None,
    ) -> Item:
        """UpdateItem: set and remove top-level attributes of the item, creating it (from its
        key) if absent; returns the new item. Key attributes cannot be changed."""
        checked_key = self._key(key)
        updates = canonical_item({} if set is None else set, "set")
        if not isinstance(remove, (list, tuple)) and remove is not None:
            raise TableValidation(f"remove must be a list of attribute names, got {remove!r}")
        removals = [_name(name, "remove") for name in remove or ()]
        names = [*updates, *removals]
        for name in names:
            if name in checked_key:
                raise TableValidation(
                    f"Cannot update attribute {name}. This attribute is part of the key"
                )
        repeated = sorted(name for name, count in Counter(names).items() if count > 1)
        if repeated:
            raise TableValidation(
                "Two document paths overlap with each other; must remove or rewrite one of"
                f" these paths: {', '.join(repeated)}"
            )
        return self.engine.update_item(
            self.name, checked_key, updates, removals, _condition(condition)
        )

    def delete(
        self, key: Item, *, condition: Condition | None = None, return_old: bool = False
    ) -> Item | None:
        """DeleteItem: delete the item with this key (none is no error). Returns the deleted
        item (None if there was none) when ``return_old``, else None."""
        return self.engine.delete_item(self.name, self._key(key), _condition(condition), return_old)

    def query(
        self,
        partition_value: Any,
        *,
        sort: SortCondition | None = None,
        limit: int | None = None,
        exclusive_start_key: Item | None = None,
        forward: bool = True,
    ) -> QueryResult:
        """Query: the items of one partition in sort-key order (descending unless
        ``forward``), those matching ``sort`` only. A page ends after ``limit`` items or 1 MB;
        pass its ``last_evaluated_key`` as ``exclusive_start_key`` for the next page."""
        name, key_type, max_bytes = self.schema.attributes()[0]
        partition = key_value(name, key_type, canonical_value(partition_value, name), max_bytes)
        start = self._start_key(exclusive_start_key)
        if start is not None and not same(start[name], partition):
            raise TableValidation(
                "The provided starting key is outside query boundaries based on provided"
                f" conditions: its {name} is not {partition!r}"
            )
        return self.engine.query(
            self.name, partition, self._sort(sort), _limit(limit), start, forward
        )

    def scan(
        self, limit: int | None = None, exclusive_start_key: Item | None = None
    ) -> QueryResult:
        """Scan: every item, paginated as ``query``, in an order the engine keeps between
        pages."""
        return self.engine.scan(self.name, _limit(limit), self._start_key(exclusive_start_key))

    def delete_table(self) -> None:
        """DeleteTable: the table and all its items."""
        self.engine.delete_table(self.name)
        self._schema = None

    def _key(self, key: Any) -> Item:
        return exact_key(self.schema, canonical_item(key, "key"))

    def _start_key(self, key: Item | None) -> Item | None:
        return None if key is None else self._key(key)

    def _sort(self, sort: SortCondition | None) -> SortCondition | None:
        """The sort condition with its values checked against the sort key's type."""
        if sort is None:
            return None
        if not isinstance(sort, SortCondition):
            raise TableValidation(f"sort must be a SortCondition, got {sort!r}")
        attributes = self.schema.attributes()
        if len(attributes) == 1:
            raise TableValidation(
                f"Query key condition not supported: the table {self.name} has no sort key"
            )
        name, key_type, max_bytes = attributes[1]
        if sort.operator == "begins_with" and key_type == "N":
            raise TableValidation(
                "Invalid KeyConditionExpression: Incorrect operand type for operator or"
                f" function; operator or function: begins_with, operand type: N (key {name})"
            )
        values = tuple(
            key_value(name, key_type, canonical_value(value, name), max_bytes)
            for value in sort.values
        )
        if sort.operator == "between" and values[0] > values[1]:
            raise TableValidation(
                "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to"
                f" be greater than or equal to lower bound: {values[0]!r} > {values[1]!r}"
            )
        return SortCondition(sort.operator, values)


def _limit(limit: Any) -> int | None:
    return None if limit is None else integer(limit, "Limit", 1, error=TableValidation)
