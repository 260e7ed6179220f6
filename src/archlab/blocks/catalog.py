"""The catalog block: AWS Glue Data Catalog semantics over any catalog engine.

What a lake's query side needs from Glue, done as Glue does it: databases; tables in a
database, each with columns, partition keys, a location, a format and parameters; partitions
of a table, one value per partition key; listings paged with continuation tokens; and
GetPartitions' filter expression, which is how a query engine prunes partitions. As in the
other blocks, everything a caller hands over is checked here and refused with Glue's error
code (InvalidInputException) before the engine is asked to change anything. Listings give at
most 100 databases, tables or versions, or 1,000 partitions, a page (fewer if ``limit`` says
so), and a page has a ``next_token`` exactly when more follow.

Names. Database, table and column names are folded to lower case when stored and when looked
up, as Glue does "for Hive compatibility": ``get_table("Clicks", "Events")`` finds the table
created as ``clicks.events``. Database and table names are then 1 to 255 of ``a-z``, ``0-9``
and ``_`` (the names Athena can query); column names are any single line of 1 to 255
characters, and two columns whose names differ only by case are refused (Glue would store
both, as duplicates).

Types are Hive's, as Glue stores them: ``string``, ``tinyint``, ``smallint``, ``int``,
``bigint``, ``float``, ``double``, ``boolean``, ``binary``, ``date``, ``timestamp``,
``decimal(p,s)``, ``char(n)``, ``varchar(n)``, ``array<t>``, ``map<k,v>`` and
``struct<name:t,...>``. They are parsed and stored in one canonical spelling (lower case, no
spaces, ``decimal`` as ``decimal(10,0)``, ``integer`` as ``int``). Partition keys must have
primitive types (Glue's rule); their values are text, and values of a typed key must be
valid for it (``hour`` of type ``int`` takes "13", not "1pm") so that filters can compare
them as numbers, dates or timestamps.

Versions. Every ``update_table`` archives the table's new definition as a version, as Glue's
UpdateTable does: ``version_id`` is 1 at creation and one more at each update, and
``get_table_versions`` lists them newest first. An update reads the table, applies the changes
and writes only if no other update came in between (Glue's optimistic VersionId), else
ConcurrentModification. Partition keys are fixed at creation: changing them would strand the
table's partitions.

Partitions are created one at a time or up to 100 in a batch, which, as Glue's
BatchCreatePartition, creates every valid entry and returns an error for each other one (an
invalid entry, one already there). A partition created without a location gets the Hive
default: the table's location followed by ``key=value`` directories, with Hive's escapes.

Filters (``get_partitions(expression=...)``) use GetPartitions' SQL-like syntax over partition
keys: ``=``, ``<>`` (or ``!=``), ``<``, ``<=``, ``>``, ``>=``, ``[NOT] IN (...)``,
``[NOT] BETWEEN ... AND ...``, ``[NOT] LIKE`` (string keys), ``NOT``, ``AND``, ``OR`` and
parentheses; keywords in any case, strings in single quotes (``''`` for a quote). Each
comparison is between a partition key and a literal of the key's type: a string key compares
with quoted strings (``dt >= '2026-12-01'``); integer and decimal keys with numbers, quoted or
not, compared as numbers (``hour < 10`` holds for ``9``); date and timestamp keys with quoted
values, compared as dates and times. Partition keys made by the crawler are strings, as Glue's
crawler makes them. Anything else is an InvalidInput naming what and where.

Not here: catalog ids, Lake Formation, table types and views, storage descriptors beyond
location and format (SerDe, buckets, skew), partition-level schemas and indexes, column
statistics, updating partitions (BatchUpdatePartition), deleting table versions, and the
``Segment`` parallel listing of partitions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args

from archlab.blocks.checks import integer
from archlab.blocks.errors import AlreadyExists, CatalogError, InvalidInput
from archlab.clock import Clock, SystemClock
from archlab.engines.catalogs import (
    CONVERSIONS,
    FORMATS,
    And,
    Between,
    CatalogEngine,
    CatalogTable,
    Column,
    Comparison,
    ComparisonOperator,
    Database,
    Format,
    In,
    KeyKind,
    KeyRef,
    Like,
    Not,
    Or,
    Page,
    Partition,
    PartitionError,
    Predicate,
)

__all__ = [
    "ArrayType",
    "Catalog",
    "CatalogTable",
    "CharType",
    "Column",
    "Database",
    "DecimalType",
    "GlueType",
    "MapType",
    "Page",
    "Partition",
    "PartitionError",
    "PartitionInput",
    "PrimitiveType",
    "StructType",
    "catalog_name",
    "column_name",
    "parse_expression",
    "parse_type",
    "partition_path",
    "unescape_path_name",
]

NAME = re.compile(r"[a-z0-9_]{1,255}")
SINGLE_LINE = re.compile(r"[^\x00-\x1f\x7f]+")
MAX_NAME = 255
MAX_DESCRIPTION = 2048
MAX_COMMENT = 255
MAX_LOCATION = 2056
MAX_PARAMETER_VALUE = 512_000
MAX_PARTITION_VALUE = 1024
MAX_BATCH = 100
"""BatchCreatePartition's limit."""
MAX_DATABASES = MAX_TABLES = MAX_VERSIONS = 100
MAX_PARTITIONS = 1000
"""The most a page holds (GetDatabases, GetTables, GetTableVersions, GetPartitions), and what
a listing gives when no limit is asked for."""


# --- names and text -----------------------------------------------------------------------------


def catalog_name(name: Any, what: str) -> str:
    """A database or table name, folded to lower case and checked."""
    if not isinstance(name, str):
        raise InvalidInput(f"a {what} name must be text, got {name!r}")
    folded = name.lower()
    if not NAME.fullmatch(folded):
        raise InvalidInput(
            f"{what} name {name!r} is invalid: a {what} name is 1 to 255 letters, digits or"
            " underscores (stored in lower case)"
        )
    return folded


def _text(value: Any, what: str, longest: int, *, single_line: bool = True) -> str:
    """Optional text (a description, a comment): at most ``longest`` characters."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text, got {value!r}")
    if len(value) > longest:
        raise InvalidInput(f"{what} is {len(value)} characters long; at most {longest}")
    if single_line and value and not SINGLE_LINE.fullmatch(value):
        raise InvalidInput(f"{what} must be one line without control characters: {value!r}")
    return value


def _location(location: Any, what: str = "location") -> str:
    """A location: a path or URL (``file:///lake/clicks``, ``s3://bucket/clicks``)."""
    if not isinstance(location, str) or not location:
        raise InvalidInput(f"{what} must be a non-empty path or URL, got {location!r}")
    return _text(location, what, MAX_LOCATION)


def _parameters(parameters: Any, what: str) -> dict[str, str]:
    if parameters is None:
        return {}
    if not isinstance(parameters, dict):
        raise InvalidInput(f"{what} must be a dict of text to text, got {parameters!r}")
    for key, value in parameters.items():
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_NAME:
            raise InvalidInput(f"{what}: a key is 1 to 255 characters of text, got {key!r}")
        _text(value, f"{what}[{key!r}]", MAX_PARAMETER_VALUE, single_line=False)
    return dict(parameters)


def _format(value: Any) -> Format:
    if value not in FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(FORMATS)}, got {value!r}")
    fmt: Format = value
    return fmt


def _limit(limit: Any, most: int) -> int:
    return most if limit is None else integer(limit, "limit", 1, most, error=InvalidInput)


def _token(token: Any) -> str | None:
    if token is not None and not isinstance(token, str):
        raise InvalidInput(f"next_token must be a token from a previous page, got {token!r}")
    return token


# --- types --------------------------------------------------------------------------------------

Primitive = Literal[
    "string",
    "tinyint",
    "smallint",
    "int",
    "bigint",
    "float",
    "double",
    "boolean",
    "binary",
    "date",
    "timestamp",
]
PRIMITIVES: dict[str, Primitive] = {name: name for name in get_args(Primitive)}
ALIASES = {"integer": "int"}
INTEGER_BITS = {"tinyint": 8, "smallint": 16, "int": 32, "bigint": 64}
MAX_PRECISION = 38
CHARS: dict[str, Literal["char", "varchar"]] = {"char": "char", "varchar": "varchar"}
MAX_LENGTH = {"char": 255, "varchar": 65535}


@dataclass(frozen=True)
class PrimitiveType:
    name: Primitive

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class DecimalType:
    precision: int
    scale: int

    def __str__(self) -> str:
        return f"decimal({self.precision},{self.scale})"


@dataclass(frozen=True)
class CharType:
    name: Literal["char", "varchar"]
    length: int

    def __str__(self) -> str:
        return f"{self.name}({self.length})"


@dataclass(frozen=True)
class ArrayType:
    element: GlueType

    def __str__(self) -> str:
        return f"array<{self.element}>"


@dataclass(frozen=True)
class MapType:
    key: GlueType
    value: GlueType

    def __str__(self) -> str:
        return f"map<{self.key},{self.value}>"


@dataclass(frozen=True)
class StructType:
    fields: tuple[tuple[str, GlueType], ...]

    def __str__(self) -> str:
        return f"struct<{','.join(f'{name}:{kind}' for name, kind in self.fields)}>"


GlueType = PrimitiveType | DecimalType | CharType | ArrayType | MapType | StructType
"""A Hive/Glue type as a tree; ``str()`` gives its canonical spelling."""

SCALAR_TYPES = (PrimitiveType, DecimalType, CharType)

STRUCT_FIELD_NAME = re.compile(r"[^\s:,<>()`]+")
"""A struct field's name: anything a type string can hold unambiguously (case is kept)."""
FIELD_NAME = re.compile(rf"\s*({STRUCT_FIELD_NAME.pattern})\s*:")
WORD = re.compile(r"\s*([A-Za-z]+)")
NUMBER = re.compile(r"\s*(\d+)")


def parse_type(text: Any, where: str = "type") -> GlueType:
    """A Hive/Glue type string as a tree; InvalidInput naming ``where`` if it is not one."""
    if not isinstance(text, str):
        raise InvalidInput(f"{where}: a type is text such as 'bigint', got {text!r}")
    return _TypeParser(text, where).parse()


def glue_type(text: Any, where: str = "type") -> str:
    """A type string in its canonical spelling."""
    return str(parse_type(text, where))


class _TypeParser:
    """Recursive descent over one type string, with the position of any mistake."""

    def __init__(self, text: str, where: str) -> None:
        self.text = text
        self.where = where
        self.at = 0

    def parse(self) -> GlueType:
        parsed = self._type()
        if self.text[self.at :].strip():
            raise self._error("nothing more")
        return parsed

    def _type(self) -> GlueType:
        start = self.at
        word = self._match(WORD, "a type name").lower()
        word = ALIASES.get(word, word)
        if word in PRIMITIVES:
            return PrimitiveType(PRIMITIVES[word])
        if word == "decimal":
            return self._decimal()
        if word in CHARS:
            return self._char(CHARS[word])
        if word == "array":
            return self._array()
        if word == "map":
            return self._map()
        if word == "struct":
            return self._struct()
        self.at = start
        raise self._error("a type name", found=word)

    def _decimal(self) -> DecimalType:
        if not self._take("("):
            return DecimalType(10, 0)
        precision = self._number("a precision")
        scale = self._number("a scale") if self._take(",") else 0
        self._expect(")")
        if not 1 <= precision <= MAX_PRECISION or not 0 <= scale <= precision:
            raise InvalidInput(
                f"{self.where}: decimal({precision},{scale}) is invalid: the precision is 1 to"
                f" {MAX_PRECISION} and the scale 0 to the precision"
            )
        return DecimalType(precision, scale)

    def _char(self, name: Literal["char", "varchar"]) -> CharType:
        self._expect("(")
        length = self._number("a length")
        self._expect(")")
        if not 1 <= length <= MAX_LENGTH[name]:
            raise InvalidInput(
                f"{self.where}: {name}({length}) is invalid: the length is 1 to {MAX_LENGTH[name]}"
            )
        return CharType(name, length)

    def _array(self) -> ArrayType:
        self._expect("<")
        element = self._type()
        self._expect(">")
        return ArrayType(element)

    def _map(self) -> MapType:
        self._expect("<")
        start = self.at
        key = self._type()
        if not isinstance(key, SCALAR_TYPES):
            self.at = start
            raise self._error("a primitive type for the map's keys", found=str(key))
        self._expect(",")
        value = self._type()
        self._expect(">")
        return MapType(key, value)

    def _struct(self) -> StructType:
        self._expect("<")
        fields: list[tuple[str, GlueType]] = []
        while True:
            name = self._match(FIELD_NAME, "a field name and ':'")
            if any(name.lower() == seen.lower() for seen, _ in fields):
                raise InvalidInput(f"{self.where}: the struct has two fields named {name!r}")
            fields.append((name, self._type()))
            if not self._take(","):
                break
        self._expect(">")
        return StructType(tuple(fields))

    def _number(self, what: str) -> int:
        return int(self._match(NUMBER, what))

    def _match(self, pattern: re.Pattern[str], what: str) -> str:
        found = pattern.match(self.text, self.at)
        if found is None:
            raise self._error(what)
        self.at = found.end()
        return found.group(1)

    def _take(self, char: str) -> bool:
        rest = self.text[self.at :]
        if rest.lstrip().startswith(char):
            self.at += len(rest) - len(rest.lstrip()) + 1
            return True
        return False

    def _expect(self, char: str) -> None:
        if not self._take(char):
            raise self._error(f"{char!r}")

    def _error(self, expected: str, found: str | None = None) -> InvalidInput:
        rest = self.text[self.at :].lstrip()
        shown = repr(found if found is not None else rest[:20]) if found or rest else "the end"
        return InvalidInput(
            f"{self.where}: {self.text!r} is not a Glue type: expected {expected} at position"
            f" {self.at}, found {shown}"
        )


# --- columns ------------------------------------------------------------------------------------


def column_name(name: Any, where: str) -> str:
    """A column name: one line of 1 to 255 characters, folded to lower case."""
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME:
        raise InvalidInput(f"{where}: a column name is 1 to 255 characters, got {name!r}")
    return _text(name, where, MAX_NAME).lower()


def _columns(columns: Any, what: str, *, scalar: bool = False) -> tuple[Column, ...]:
    """Columns checked, names folded and types canonical; ``scalar`` for partition keys."""
    if not isinstance(columns, (list, tuple)):
        raise InvalidInput(f"{what} must be a list of Column(name, type), got {columns!r}")
    checked = []
    for index, column in enumerate(columns):
        if not isinstance(column, Column):
            raise InvalidInput(f"{what}[{index}] must be a Column(name, type), got {column!r}")
        name = column_name(column.name, f"{what}[{index}]")
        parsed = parse_type(column.type, f"{what}[{index}] ({name})")
        if scalar and not isinstance(parsed, SCALAR_TYPES):
            raise InvalidInput(
                f"partition key {name} has type {parsed}: partition keys must have primitive types"
            )
        comment = _text(column.comment, f"the comment of column {name}", MAX_COMMENT)
        checked.append(Column(name, str(parsed), comment))
    return tuple(checked)


def _unique(columns: Sequence[Column]) -> None:
    seen: set[str] = set()
    for column in columns:
        if column.name in seen:
            raise InvalidInput(
                f"column names must be unique, ignoring case: {column.name} appears twice"
                " (among the columns and the partition keys)"
            )
        seen.add(column.name)


# --- partition keys and values ------------------------------------------------------------------

KINDS: dict[str, KeyKind] = {
    "string": "string",
    **dict.fromkeys(("tinyint", "smallint", "int", "bigint"), "integer"),
    "date": "date",
    "timestamp": "timestamp",
}
FORMS: dict[KeyKind, re.Pattern[str]] = {
    "integer": re.compile(r"[+-]?\d+"),
    "decimal": re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)"),
    "date": re.compile(r"\d{4}-\d{2}-\d{2}"),
    "timestamp": re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?"),
}
"""The text of a typed key's values (and of the literals compared with them)."""


@dataclass(frozen=True)
class PartitionKey:
    """A partition key as filters and value checks need it."""

    index: int
    name: str
    type: GlueType

    @property
    def kind(self) -> KeyKind | None:
        """How its values compare, or None if filters cannot compare them (boolean, double...)."""
        if isinstance(self.type, CharType):
            return "string"
        if isinstance(self.type, DecimalType):
            return "decimal"
        return KINDS.get(str(self.type))

    def ref(self) -> KeyRef:
        kind = self.kind
        if kind is None:
            raise InvalidInput(
                f"partition key {self.name} has type {self.type}: expressions compare string,"
                " integer, decimal, date and timestamp keys only"
            )
        return KeyRef(self.index, self.name, kind)

    def typed(self, text: str) -> Any:
        """``text`` as this key's kind of value; InvalidInput if it is not one."""
        kind = self.kind
        if kind is None or kind == "string":
            return text
        if FORMS[kind].fullmatch(text):
            try:
                return CONVERSIONS[kind](text)
            except ValueError:  # a date or time out of range, such as 2026-02-30
                pass
        raise InvalidInput(f"{text!r} is not a valid {self.type} (partition key {self.name})")

    def check_value(self, value: str) -> None:
        """A partition's value for this key: text a filter can compare, within the type."""
        typed = self.typed(value)
        bits = INTEGER_BITS.get(str(self.type))
        if bits is not None and not -(2 ** (bits - 1)) <= typed < 2 ** (bits - 1):
            raise InvalidInput(
                f"{value!r} is out of range for partition key {self.name} ({bits}-bit)"
            )
        if isinstance(self.type, DecimalType):
            parts = typed.as_tuple()
            scale = max(0, -int(parts.exponent))
            if scale > self.type.scale or len(parts.digits) - scale > (
                self.type.precision - self.type.scale
            ):
                raise InvalidInput(
                    f"{value!r} does not fit partition key {self.name} ({self.type})"
                )


def partition_keys(table: CatalogTable) -> list[PartitionKey]:
    return [
        PartitionKey(index, key.name, parse_type(key.type))
        for index, key in enumerate(table.partition_keys)
    ]


def _values(values: Any) -> tuple[str, ...]:
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
        raise InvalidInput(f"partition values must be a list of strings, got {values!r}")
    return tuple(values)


def _check_values(keys: Sequence[PartitionKey], values: tuple[str, ...]) -> None:
    if len(values) != len(keys):
        names = ", ".join(key.name for key in keys) or "none"
        raise InvalidInput(
            f"the partition has {len(values)} values; the table's partition keys are {names}"
        )
    for key, value in zip(keys, values, strict=True):
        if not 1 <= len(value) <= MAX_PARTITION_VALUE:
            raise InvalidInput(
                f"the value of partition key {key.name} must be 1 to {MAX_PARTITION_VALUE}"
                f" characters, got {len(value)}"
            )
        key.check_value(value)


HIVE_ESCAPED = frozenset("\"#%'*/:=?\\\x7f{[]^") | frozenset(map(chr, range(0x20)))
"""What Hive escapes in partition directory names (FileUtils.escapePathName)."""
HIVE_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")


def _escape_path_name(name: str) -> str:
    return "".join(f"%{ord(c):02X}" if c in HIVE_ESCAPED else c for c in name)


def unescape_path_name(name: str) -> str:
    """A partition directory's key or value as Hive wrote it, its ``%XX`` escapes undone."""
    return HIVE_ESCAPE.sub(lambda found: chr(int(found.group(1), 16)), name)


def partition_path(keys: Sequence[str], values: Sequence[str]) -> str:
    """The Hive path of a partition under its table: ``dt=2026-12-02/hour=13``."""
    return "/".join(
        f"{_escape_path_name(key)}={_escape_path_name(value)}"
        for key, value in zip(keys, values, strict=True)
    )


# --- expressions --------------------------------------------------------------------------------

TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<number>-?\d+(?:\.\d+)?(?![A-Za-z_]))
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<quoted>`[^`]+`|"[^"]+")
      | (?P<operator><>|!=|<=|>=|=|<|>)
      | (?P<punctuation>[(),])
    )""",
    re.VERBOSE,
)
KEYWORDS = frozenset({"and", "or", "not", "in", "between", "like"})
OPERATORS: dict[str, ComparisonOperator] = {
    "=": "=",
    "<>": "<>",
    "!=": "<>",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
}
FLIPPED: dict[ComparisonOperator, ComparisonOperator] = {
    "=": "=",
    "<>": "<>",
    "<": ">",
    "<=": ">=",
    ">": "<",
    ">=": "<=",
}


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    at: int

    @property
    def keyword(self) -> str | None:
        lowered = self.text.lower()
        return lowered if self.kind == "name" and lowered in KEYWORDS else None


def parse_expression(expression: Any, table: CatalogTable) -> Predicate:
    """GetPartitions' expression over the table's partition keys, as a Predicate tree;
    InvalidInput naming the mistake and its position if it is not one."""
    if not isinstance(expression, str):
        raise InvalidInput(f"expression must be text, got {expression!r}")
    return _ExpressionParser(expression, partition_keys(table)).parse()


class _ExpressionParser:
    """Recursive descent: OR over AND over NOT over a comparison or a parenthesis."""

    def __init__(self, text: str, keys: list[PartitionKey]) -> None:
        self.text = text
        self.keys = keys
        self.tokens = self._tokenize()
        self.next = 0

    def parse(self) -> Predicate:
        if not self.tokens:
            raise InvalidInput("the expression is empty")
        predicate = self._or()
        if self.next < len(self.tokens):
            raise self._error("AND, OR or the end")
        return predicate

    def _tokenize(self) -> list[_Token]:
        tokens = []
        at = 0
        while self.text[at:].strip():
            found = TOKEN.match(self.text, at)
            if found is None or found.lastgroup is None:
                start = len(self.text) - len(self.text[at:].lstrip())
                raise InvalidInput(
                    f"expression {self.text!r}: cannot read {self.text[start : start + 20]!r}"
                    f" at position {start}"
                )
            tokens.append(
                _Token(found.lastgroup, found.group(found.lastgroup), found.start(found.lastgroup))
            )
            at = found.end()
        return tokens

    # --- grammar ---

    def _or(self) -> Predicate:
        operands = [self._and()]
        while self._keyword("or"):
            operands.append(self._and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def _and(self) -> Predicate:
        operands = [self._not()]
        while self._keyword("and"):
            operands.append(self._not())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def _not(self) -> Predicate:
        if self._keyword("not"):
            return Not(self._not())
        if self._punctuation("("):
            inner = self._or()
            self._expect_punctuation(")")
            return inner
        return self._condition()

    def _condition(self) -> Predicate:
        left = self._take("an expression over a partition key")
        if left.keyword is not None or left.kind in ("operator", "punctuation"):
            raise self._error("a partition key or a value", at=left)
        token = self._peek()
        if token is not None and token.kind == "operator":
            self.next += 1
            return self._comparison(left, token, self._take("a value or a partition key"))
        negated = self._keyword("not")
        if self._keyword("in"):
            predicate: Predicate = self._in(self._key(left))
        elif self._keyword("between"):
            predicate = self._between(self._key(left))
        elif self._keyword("like"):
            predicate = self._like(self._key(left))
        else:
            raise self._error("a comparison, IN, BETWEEN or LIKE")
        return Not(predicate) if negated else predicate

    def _comparison(self, left: _Token, operator: _Token, right: _Token) -> Predicate:
        symbol = OPERATORS[operator.text]
        if self._is_key(left) and not self._is_key(right):
            key = self._key(left)
            return Comparison(key.ref(), symbol, self._literal(key, right))
        if self._is_key(right) and not self._is_key(left):
            key = self._key(right)
            return Comparison(key.ref(), FLIPPED[symbol], self._literal(key, left))
        raise InvalidInput(
            f"expression {self.text!r} at position {left.at}: a comparison is between a"
            " partition key and a value"
        )

    def _in(self, key: PartitionKey) -> Predicate:
        self._expect_punctuation("(")
        operands = [self._literal(key, self._take("a value"))]
        while self._punctuation(","):
            operands.append(self._literal(key, self._take("a value")))
        self._expect_punctuation(")")
        return In(key.ref(), tuple(operands))

    def _between(self, key: PartitionKey) -> Predicate:
        low = self._literal(key, self._take("a value"))
        if not self._keyword("and"):
            raise self._error("AND between the bounds of BETWEEN")
        return Between(key.ref(), low, self._literal(key, self._take("a value")))

    def _like(self, key: PartitionKey) -> Predicate:
        ref = key.ref()
        if ref.kind != "string":
            raise InvalidInput(
                f"expression {self.text!r}: LIKE compares string keys; {key.name} is {key.type}"
            )
        pattern = self._take("a quoted pattern")
        if pattern.kind != "string":
            raise self._error("a quoted pattern", at=pattern)
        return Like(ref, _unquote(pattern.text))

    # --- operands ---

    def _is_key(self, token: _Token) -> bool:
        return token.kind in ("name", "quoted") and token.keyword is None

    def _key(self, token: _Token) -> PartitionKey:
        if not self._is_key(token):
            raise self._error("a partition key", at=token)
        name = (token.text[1:-1] if token.kind == "quoted" else token.text).lower()
        for key in self.keys:
            if key.name == name:
                return key
        names = ", ".join(key.name for key in self.keys) or "none"
        raise InvalidInput(
            f"expression {self.text!r} at position {token.at}: {name} is not a partition key"
            f" of the table (its partition keys: {names})"
        )

    def _literal(self, key: PartitionKey, token: _Token) -> Any:
        """The value ``token`` holds, as ``key`` compares it."""
        kind = key.ref().kind
        if token.kind == "number" and kind not in ("integer", "decimal"):
            raise InvalidInput(
                f"expression {self.text!r} at position {token.at}: partition key {key.name} has"
                f" type {key.type}; compare it with a quoted value, such as '{token.text}'"
            )
        if token.kind not in ("string", "number"):
            raise self._error(f"a value for partition key {key.name}", at=token)
        try:
            return key.typed(_unquote(token.text) if token.kind == "string" else token.text)
        except InvalidInput as error:
            raise InvalidInput(
                f"expression {self.text!r} at position {token.at}: {error.message}"
            ) from None

    # --- tokens ---

    def _peek(self) -> _Token | None:
        return self.tokens[self.next] if self.next < len(self.tokens) else None

    def _take(self, what: str) -> _Token:
        token = self._peek()
        if token is None:
            raise self._error(what)
        self.next += 1
        return token

    def _keyword(self, word: str) -> bool:
        token = self._peek()
        if token is not None and token.keyword == word:
            self.next += 1
            return True
        return False

    def _punctuation(self, char: str) -> bool:
        token = self._peek()
        if token is not None and token.kind == "punctuation" and token.text == char:
            self.next += 1
            return True
        return False

    def _expect_punctuation(self, char: str) -> None:
        if not self._punctuation(char):
            raise self._error(f"{char!r}")

    def _error(self, expected: str, at: _Token | None = None) -> InvalidInput:
        token = at if at is not None else self._peek()
        where = f"position {token.at}, found {token.text!r}" if token else "the end"
        return InvalidInput(f"expression {self.text!r}: expected {expected} at {where}")


def _unquote(literal: str) -> str:
    return literal[1:-1].replace("''", "'")


# --- the catalog --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartitionInput:
    """A partition to create: its values, in partition-key order, and optionally where its
    files are (by default the Hive path under the table's location) and parameters."""

    values: Sequence[str]
    location: str | None = None
    parameters: dict[str, str] | None = None


ERRORS: dict[str, type[CatalogError]] = {
    AlreadyExists.code: AlreadyExists,
    InvalidInput.code: InvalidInput,
}


class Catalog:
    """A data catalog, through an engine.

    >>> catalog = Catalog(connect_catalog("sqlite:///.archlab/catalog.db"))  # doctest: +SKIP
    >>> catalog.create_database("clickstream")                                # doctest: +SKIP
    >>> catalog.create_table("clickstream", "clicks", columns=[Column("url", "string")],
    ...     partition_keys=[Column("dt", "string")], location="file:///lake/clicks",
    ...     format="parquet")                                                  # doctest: +SKIP
    >>> catalog.get_partitions("clickstream", "clicks", expression="dt >= '2026-12-01'")
    ...                                                                        # doctest: +SKIP
    """

    def __init__(self, engine: CatalogEngine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()

    # --- databases ----------------------------------------------------------------------------

    def create_database(
        self,
        name: str,
        *,
        description: str = "",
        location: str | None = None,
        parameters: dict[str, str] | None = None,
    ) -> Database:
        """CreateDatabase; AlreadyExists if there is one of this name."""
        database = Database(
            name=catalog_name(name, "database"),
            description=_text(description, "description", MAX_DESCRIPTION, single_line=False),
            location=None if location is None else _location(location),
            parameters=_parameters(parameters, "parameters"),
            create_time=self.clock.now(),
        )
        self.engine.create_database(database)
        return database

    def get_database(self, name: str) -> Database:
        return self.engine.get_database(catalog_name(name, "database"))

    def get_databases(
        self, *, limit: int | None = None, next_token: str | None = None
    ) -> Page[Database]:
        """GetDatabases: a page of databases in name order (at most 100)."""
        return self.engine.get_databases(_limit(limit, MAX_DATABASES), _token(next_token))

    def delete_database(self, name: str) -> None:
        """DeleteDatabase: the database, its tables and their partitions."""
        self.engine.delete_database(catalog_name(name, "database"))

    # --- tables -------------------------------------------------------------------------------

    def create_table(
        self,
        database: str,
        name: str,
        *,
        columns: Sequence[Column],
        location: str,
        format: Format,
        partition_keys: Sequence[Column] = (),
        parameters: dict[str, str] | None = None,
        description: str = "",
    ) -> CatalogTable:
        """CreateTable; AlreadyExists if the database has a table of this name."""
        now = self.clock.now()
        table = CatalogTable(
            database=catalog_name(database, "database"),
            name=catalog_name(name, "table"),
            columns=_columns(columns, "columns"),
            partition_keys=_columns(partition_keys, "partition_keys", scalar=True),
            location=_location(location),
            format=_format(format),
            parameters=_parameters(parameters, "parameters"),
            description=_text(description, "description", MAX_DESCRIPTION, single_line=False),
            create_time=now,
            update_time=now,
            version_id=1,
        )
        _unique([*table.columns, *table.partition_keys])
        self.engine.create_table(table)
        return table

    def get_table(self, database: str, name: str) -> CatalogTable:
        """GetTable: the table's latest version."""
        return self.engine.get_table(
            catalog_name(database, "database"), catalog_name(name, "table")
        )

    def get_tables(
        self, database: str, *, limit: int | None = None, next_token: str | None = None
    ) -> Page[CatalogTable]:
        """GetTables: a page of the database's tables in name order (at most 100)."""
        return self.engine.get_tables(
            catalog_name(database, "database"), _limit(limit, MAX_TABLES), _token(next_token)
        )

    def update_table(
        self,
        database: str,
        name: str,
        *,
        columns: Sequence[Column] | None = None,
        location: str | None = None,
        format: Format | None = None,
        parameters: dict[str, str] | None = None,
        description: str | None = None,
    ) -> CatalogTable:
        """UpdateTable: replace what is given (``parameters`` as a whole), keep the rest, and
        archive the result as the table's next version, which is returned."""
        current = self.get_table(database, name)
        changes: dict[str, Any] = {}
        if columns is not None:
            changes["columns"] = _columns(columns, "columns")
        if location is not None:
            changes["location"] = _location(location)
        if format is not None:
            changes["format"] = _format(format)
        if parameters is not None:
            changes["parameters"] = _parameters(parameters, "parameters")
        if description is not None:
            changes["description"] = _text(
                description, "description", MAX_DESCRIPTION, single_line=False
            )
        table = replace(
            current, **changes, update_time=self.clock.now(), version_id=current.version_id + 1
        )
        _unique([*table.columns, *table.partition_keys])
        self.engine.update_table(table)
        return table

    def get_table_versions(
        self,
        database: str,
        name: str,
        *,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> Page[CatalogTable]:
        """GetTableVersions: the table's versions, newest first (at most 100 a page)."""
        return self.engine.get_table_versions(
            catalog_name(database, "database"),
            catalog_name(name, "table"),
            _limit(limit, MAX_VERSIONS),
            _token(next_token),
        )

    def delete_table(self, database: str, name: str) -> None:
        """DeleteTable: the table, its versions and its partitions."""
        self.engine.delete_table(catalog_name(database, "database"), catalog_name(name, "table"))

    # --- partitions ---------------------------------------------------------------------------

    def create_partition(
        self,
        database: str,
        table: str,
        values: Sequence[str],
        *,
        location: str | None = None,
        parameters: dict[str, str] | None = None,
    ) -> Partition:
        """CreatePartition; AlreadyExists if the table has a partition with these values."""
        found = self.get_table(database, table)
        entry = PartitionInput(_values(values), location, parameters)
        partitions, errors = self._partitions(found, [entry])
        if partitions:
            errors = self.engine.create_partitions(found.database, found.name, partitions)
        if errors:
            raise ERRORS[errors[0].code](errors[0].message)
        return partitions[0]

    def batch_create_partition(
        self, database: str, table: str, entries: Sequence[PartitionInput]
    ) -> list[PartitionError]:
        """BatchCreatePartition: create each valid entry of up to 100; an error for each other
        (InvalidInputException, or AlreadyExistsException for one already there or repeated)."""
        if not isinstance(entries, (list, tuple)) or len(entries) > MAX_BATCH:
            raise InvalidInput(
                f"entries must be a list of at most {MAX_BATCH} PartitionInput, got"
                f" {len(entries) if isinstance(entries, (list, tuple)) else repr(entries)}"
            )
        for index, entry in enumerate(entries):
            if not isinstance(entry, PartitionInput):
                raise InvalidInput(f"entries[{index}] must be a PartitionInput, got {entry!r}")
            _values(entry.values)
        found = self.get_table(database, table)
        partitions, errors = self._partitions(found, entries)
        errors.extend(self.engine.create_partitions(found.database, found.name, partitions))
        # The block's errors and the engine's, together in the order of their entries.
        order = {tuple(entry.values): index for index, entry in reversed(list(enumerate(entries)))}
        return sorted(errors, key=lambda error: order[error.values])

    def get_partition(self, database: str, table: str, values: Sequence[str]) -> Partition:
        """GetPartition: EntityNotFound if the table has no partition with these values."""
        found = self.get_table(database, table)
        checked = _values(values)
        _check_values(partition_keys(found), checked)
        return self.engine.get_partition(found.database, found.name, checked)

    def get_partitions(
        self,
        database: str,
        table: str,
        *,
        expression: str | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> Page[Partition]:
        """GetPartitions: a page (at most 1,000) of the partitions ``expression`` selects (all
        without one); pass its ``next_token`` for the next page with the same expression."""
        found = self.get_table(database, table)
        predicate = None if expression is None else parse_expression(expression, found)
        return self.engine.get_partitions(
            found.database, found.name, predicate, _limit(limit, MAX_PARTITIONS), _token(next_token)
        )

    def partitions(
        self, database: str, table: str, expression: str | None = None
    ) -> Iterator[Partition]:
        """Every partition ``expression`` selects, page after page."""
        token = None
        while True:
            page = self.get_partitions(database, table, expression=expression, next_token=token)
            yield from page.items
            token = page.next_token
            if token is None:
                return

    def delete_partition(self, database: str, table: str, values: Sequence[str]) -> None:
        """DeletePartition: EntityNotFound if the table has no partition with these values."""
        found = self.get_table(database, table)
        checked = _values(values)
        _check_values(partition_keys(found), checked)
        self.engine.delete_partition(found.database, found.name, checked)

    def _partitions(
        self, table: CatalogTable, entries: Sequence[PartitionInput]
    ) -> tuple[list[Partition], list[PartitionError]]:
        """The valid entries as partitions, and an error for each invalid one."""
        keys = partition_keys(table)
        now = self.clock.now()
        partitions: list[Partition] = []
        errors: list[PartitionError] = []
        for entry in entries:
            values = tuple(entry.values)
            try:
                _check_values(keys, values)
                location = (
                    f"{table.location.rstrip('/')}/{partition_path([k.name for k in keys], values)}"
                    if entry.location is None
                    else _location(entry.location)
                )
                parameters = _parameters(entry.parameters, "parameters")
            except InvalidInput as error:
                errors.append(PartitionError(values, error.code, error.message))
                continue
            partitions.append(
                Partition(table.database, table.name, values, location, parameters, now)
            )
        return partitions, errors
