"""Dynamic partitioning: where each record goes, as Amazon Data Firehose decides it.

A delivery stream's prefix is text with expressions, ``!{namespace:value}``:

- ``!{partitionKeyFromQuery:NAME}``: the value the partition key NAME's query found in the
  record. A query is a field path in JQ's syntax, ``.field`` or ``.a.b``: the small, safe
  subset of Firehose's JQ 1.6 that partitioning needs (no filters, functions or indexes);
- ``!{timestamp:PATTERN}``: the arrival time of the oldest record in the file, in UTC, in a Java
  DateTimeFormatter pattern of ``yyyy``, ``yy``, ``MM``, ``dd``, ``HH``, ``mm``, ``ss`` and
  punctuation. As in Firehose it never splits a buffer: records that arrived at 13:59 and 14:01
  share a file under ``hour=13``. Partition by a record's field for event-time partitions;
- ``!{firehose:random-string}``: 11 characters, derived from the batch's id so that a batch
  written again gets the same name;
- ``!{firehose:error-output-type}``: in the error output prefix only, why the records failed.

Records whose keys have the same values go to one buffer, a *partition*, delivered on its own.
Values are inserted escaped as Hive escapes partition directory names (``/`` becomes ``%2F``,
and a value ``.`` or ``..`` has its dots escaped), so a value never leaves its directory and the
crawler reads it back unescaped.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import pyarrow as pa
import pyarrow.compute as pc

from archlab.blocks.catalog import HIVE_ESCAPED, SCALAR_TYPES, GlueType, StructType
from archlab.blocks.errors import InvalidDeliveryArgument

MAX_PREFIX = 1024
"""Firehose's longest Prefix and ErrorOutputPrefix."""
RANDOM_STRING_LENGTH = 11
KEY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")
QUERY = re.compile(r"(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
"""JQ's ``.foo`` field access, chained: ``.a.b``."""
EXPRESSION = re.compile(r"!\{([^{}:]*):([^{}]*)\}")
JAVA_FIELDS = {"yyyy": "%Y", "yy": "%y", "MM": "%m", "dd": "%d", "HH": "%H", "mm": "%M", "ss": "%S"}
JAVA_TOKEN = re.compile(r"([A-Za-z])\1*|.", re.DOTALL)
FORBIDDEN_LITERAL = re.compile(r"[\x00-\x1f\x7f\\]")


@dataclass(frozen=True)
class KeyQuery:
    """A partition key: its name and the field path its value comes from."""

    name: str
    query: str
    path: tuple[str, ...]


def key_queries(keys: Mapping[str, str] | None) -> tuple[KeyQuery, ...]:
    """Partition keys (name -> JQ query, Firehose's MetadataExtractionQuery), checked."""
    if keys is None:
        return ()
    if not isinstance(keys, Mapping):
        raise InvalidDeliveryArgument(
            f"partition keys must map names to queries such as '.customer_id', got {keys!r}"
        )
    checked = []
    for name, query in keys.items():
        if not isinstance(name, str) or not KEY_NAME.fullmatch(name):
            raise InvalidDeliveryArgument(
                f"partition key name {name!r} is invalid: a letter or _ then up to 63 letters,"
                " digits, _ or -"
            )
        if not isinstance(query, str) or not QUERY.fullmatch(query):
            raise InvalidDeliveryArgument(
                f"partition key {name!r}: the query {query!r} is not supported; a query is a"
                " field path such as .customer_id or .device.type"
            )
        checked.append(KeyQuery(name, query, tuple(query[1:].split("."))))
    return tuple(checked)


Tree = dict[str, "Tree | None"]
"""The fields a partition key reads outside the output schema: None is a leaf, read as text."""


def key_fields(
    keys: Sequence[KeyQuery], columns: Mapping[str, GlueType]
) -> list[tuple[str, pa.DataType]]:
    """The top-level fields the record reader must add for the keys that read outside the
    output schema (their leaves read as text), once each key that reads inside it is checked
    to end at a column's scalar."""
    extra: Tree = {}
    for key in keys:
        if key.path[0] in columns:
            _check_inside(key, columns[key.path[0]])
            continue
        node = extra
        for name in key.path[:-1]:
            child = node.setdefault(name, {})
            if child is None:
                raise _overlap(key)
            node = child
        if isinstance(node.get(key.path[-1]), dict):
            raise _overlap(key)
        node[key.path[-1]] = None
    return [(name, _tree_type(tree)) for name, tree in extra.items()]


def _check_inside(key: KeyQuery, kind: GlueType) -> None:
    for depth, name in enumerate(key.path[1:], 1):
        fields = dict(kind.fields) if isinstance(kind, StructType) else {}
        if name not in fields:
            within = "." + ".".join(key.path[:depth])
            raise InvalidDeliveryArgument(
                f"partition key {key.name!r}: {within} is a column of type {kind}, which has no"
                f" field {name!r}"
            )
        kind = fields[name]
    if not isinstance(kind, SCALAR_TYPES):
        raise InvalidDeliveryArgument(
            f"partition key {key.name!r}: {key.query} is of type {kind}; a key's value must be"
            " a single value (string, number, boolean, date or timestamp)"
        )


def _overlap(key: KeyQuery) -> InvalidDeliveryArgument:
    return InvalidDeliveryArgument(
        f"partition key {key.name!r}: {key.query} holds, or is held by, another key's field;"
        " keys must read separate fields"
    )


def _tree_type(tree: Tree | None) -> pa.DataType:
    if tree is None:
        return pa.string()
    return pa.struct([(name, _tree_type(child)) for name, child in tree.items()])


# --- prefixes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Timestamp:
    strftime: str


@dataclass(frozen=True)
class KeyValue:
    name: str


@dataclass(frozen=True)
class RandomString:
    pass


@dataclass(frozen=True)
class ErrorOutputType:
    pass


Part = Text | Timestamp | KeyValue | RandomString | ErrorOutputType


@dataclass(frozen=True)
class Prefix:
    """A prefix expression, parsed: ``text`` as configured, ``parts`` to render."""

    text: str
    parts: tuple[Part, ...]
    top: str
    """The directory every rendering starts with (``events`` in ``events/dt=.../``)."""

    @property
    def key_names(self) -> frozenset[str]:
        return frozenset(part.name for part in self.parts if isinstance(part, KeyValue))

    def render(
        self,
        arrival: float,
        batch_id: str,
        keys: Mapping[str, str] = MappingProxyType({}),
        error_output_type: str = "",
    ) -> str:
        """The prefix for a file whose oldest record arrived at ``arrival`` (epoch seconds)."""
        moment = time.gmtime(arrival)
        rendered = []
        for part in self.parts:
            if isinstance(part, Text):
                rendered.append(part.text)
            elif isinstance(part, Timestamp):
                rendered.append(time.strftime(part.strftime, moment))
            elif isinstance(part, KeyValue):
                rendered.append(escape_value(keys[part.name]))
            elif isinstance(part, RandomString):
                rendered.append(random_string(batch_id))
            else:
                rendered.append(error_output_type)
        return "".join(rendered)


def prefix(text: object, what: str, *, error_output: bool) -> Prefix:
    """A prefix expression checked as Firehose checks it, and as a local lake needs it: it
    starts with a directory of its own (so that the data and the error output never share
    one), and no part of it is empty, ``.`` or ``..``."""
    if not isinstance(text, str) or not 1 <= len(text) <= MAX_PREFIX:
        raise InvalidDeliveryArgument(f"{what} must be text of 1 to {MAX_PREFIX} characters")
    parts: list[Part] = []
    at = 0
    for found in EXPRESSION.finditer(text):
        parts.extend(_literal(text[at : found.start()], what))
        parts.append(_expression(found.group(1), found.group(2), what, error_output))
        at = found.end()
    parts.extend(_literal(text[at:], what))
    first = parts[0] if parts else None
    if not isinstance(first, Text) or "/" not in first.text or first.text.startswith("/"):
        raise InvalidDeliveryArgument(
            f"{what} {text!r} must start with a directory name and '/', such as 'events/', so"
            " that the lake keeps the data and the error output apart"
        )
    parsed = Prefix(text, tuple(parts), first.text.split("/", 1)[0])
    _check_segments(parsed, what)
    return parsed


def _literal(text: str, what: str) -> list[Part]:
    if not text:
        return []
    if "!{" in text or FORBIDDEN_LITERAL.search(text):
        raise InvalidDeliveryArgument(
            f"{what}: {text!r} is neither text (no control characters or backslashes) nor an"
            " expression !{namespace:value}"
        )
    return [Text(text)]


def _expression(namespace: str, value: str, what: str, error_output: bool) -> Part:
    if namespace == "timestamp":
        return Timestamp(java_pattern(value, what))
    if namespace == "firehose" and value == "random-string":
        return RandomString()
    if namespace == "firehose" and value == "error-output-type":
        if not error_output:
            raise InvalidDeliveryArgument(
                f"{what}: !{{firehose:error-output-type}} belongs in the error output prefix"
            )
        return ErrorOutputType()
    if namespace == "partitionKeyFromQuery":
        if error_output:
            raise InvalidDeliveryArgument(
                f"{what}: the error output prefix cannot use partition keys (the records there"
                " may have none)"
            )
        return KeyValue(value)
    raise InvalidDeliveryArgument(
        f"{what}: !{{{namespace}:{value}}} is not an expression archlab knows; use"
        " !{timestamp:PATTERN}, !{partitionKeyFromQuery:KEY}, !{firehose:random-string} or"
        " (error output prefix) !{firehose:error-output-type}"
    )


def java_pattern(pattern: str, what: str) -> str:
    """A Java DateTimeFormatter pattern (the subset above) as a strftime format."""
    converted = []
    for token in JAVA_TOKEN.finditer(pattern):
        text = token.group()
        if text[0].isalpha():
            if text not in JAVA_FIELDS:
                raise InvalidDeliveryArgument(
                    f"{what}: the timestamp pattern {pattern!r} uses {text!r}; archlab knows"
                    f" {', '.join(JAVA_FIELDS)}"
                )
            converted.append(JAVA_FIELDS[text])
        elif text == "'":
            raise InvalidDeliveryArgument(
                f"{what}: the timestamp pattern {pattern!r} quotes text; put it outside the"
                " expression instead"
            )
        else:
            converted.append(text.replace("%", "%%"))
    if not converted:
        raise InvalidDeliveryArgument(f"{what}: !{{timestamp:}} needs a pattern such as yyyy")
    return "".join(converted)


def _check_segments(parsed: Prefix, what: str) -> None:
    """No directory of the prefix may be empty, ``.`` or ``..``, whatever it renders to (the
    last part, after the last ``/``, begins the file names and may be empty). Key values are
    escaped and timestamps are digits, so one rendering shows what every rendering will."""
    sample = parsed.render(0.0, "batch", defaultdict(lambda: "value"), "error-output-type")
    for segment in sample.split("/")[:-1]:
        if segment in ("", ".", ".."):
            raise InvalidDeliveryArgument(
                f"{what} {parsed.text!r} makes an empty, '.' or '..' directory; each directory"
                " needs a name"
            )


def escape_value(value: str) -> str:
    """A key's value as a directory name part: Hive's escapes, and the dots of ``.``/``..``."""
    escaped = "".join(f"%{ord(c):02X}" if c in HIVE_ESCAPED else c for c in value)
    return escaped.replace(".", "%2E") if escaped in (".", "..") else escaped


def random_string(batch_id: str) -> str:
    """Firehose's random string, derived from the batch: the same batch, the same string."""
    return hashlib.sha256(batch_id.encode()).hexdigest()[:RANDOM_STRING_LENGTH]


# --- splitting records into partitions -----------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """The rows ``start:end`` of the table as ``Split.order`` orders it share their keys'
    values."""

    values: tuple[str, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Split:
    order: pa.Array | None
    """Row indices that bring each group's rows together (keeping their order), leaving out
    the missing; None when the table's own order does (one group, nothing missing)."""
    groups: list[Group]
    missing: list[tuple[int, str]]
    """Rows without a usable key value, each with the reason."""


def split(table: pa.Table, keys: Sequence[KeyQuery]) -> Split:
    """The table's rows grouped by the values of ``keys``, groups in order of first
    appearance, and the rows a key could not be found in."""
    if not keys:
        return Split(None, [Group((), 0, table.num_rows)] if table.num_rows else [], [])
    values = [key_strings(table, key) for key in keys]
    valid = values[0].is_valid()
    for column in values[1:]:
        valid = pc.and_(valid, column.is_valid())
    if pc.all(valid).as_py():
        order, groups = _groups(values)
        return Split(order, groups, [])
    missing = _missing(values, keys, valid)
    positions = pc.indices_nonzero(valid)
    order, groups = _groups([column.filter(valid) for column in values])
    return Split(positions if order is None else positions.take(order), groups, missing)


def key_strings(table: pa.Table, key: KeyQuery) -> pa.Array:
    """A key's values as text, null where the record has none (or an empty one)."""
    column = table.column(key.path[0]).combine_chunks()
    if len(key.path) > 1:
        column = pc.struct_field(column, list(key.path[1:]))
    text = column.cast(pa.string())
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def _missing(
    values: Sequence[pa.Array], keys: Sequence[KeyQuery], valid: pa.Array
) -> list[tuple[int, str]]:
    missing = []
    for row in pc.indices_nonzero(pc.invert(valid)).to_pylist():
        key = next(
            key for key, column in zip(keys, values, strict=True) if not column[row].is_valid
        )
        missing.append(
            (row, f"the partition key {key.name!r} ({key.query}) is missing, null or empty")
        )
    return missing


def _groups(values: Sequence[pa.Array]) -> tuple[pa.Array | None, list[Group]]:
    """Groups by the combination of every key's dictionary code: exact whatever the values
    hold, and done in Arrow's kernels (a batch may span many partitions). Codes number values
    in order of first appearance, so sorting by code orders the groups that way too."""
    rows = len(values[0])
    if rows == 0:
        return None, []
    codes = values[0].dictionary_encode().indices.cast(pa.int64())
    for column in values[1:]:
        encoded = column.dictionary_encode()
        combined = pc.add(pc.multiply(codes, len(encoded.dictionary)), encoded.indices)
        codes = combined.dictionary_encode().indices.cast(pa.int64())
    if pc.max(codes).as_py() == 0:
        return None, [Group(tuple(column[0].as_py() for column in values), 0, rows)]
    order = pc.sort_indices(codes)  # stable: rows keep their order within a group
    groups = []
    start = 0
    for end in pc.run_end_encode(codes.take(order)).run_ends.to_pylist():
        first = order[start].as_py()
        groups.append(Group(tuple(column[first].as_py() for column in values), start, end))
        start = end
    return order, groups
