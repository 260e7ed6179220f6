"""The crawler: AWS Glue crawler semantics over a lake of local files.

A crawler has a database and targets. A target is a table's directory, or a directory of
tables' directories (``lake/`` holding ``clicks/`` and ``purchases/``): a directory that holds
files or ``key=value`` directories is a table, one that holds only other directories is a
folder of tables. Targets are paths or ``file:`` URLs, which follow archlab's convention
(``file:///lake`` is the relative path ``lake``, ``file:////srv/lake`` the absolute one); the
catalog gets absolute paths. Each table is named after its directory, lower-cased with
anything but letters, digits and ``_`` made ``_``, after an optional prefix.

What a crawl does, for each table:

- walks the directory: Hive-style ``key=value`` directories, nested to any depth
  (``dt=2026-12-02/hour=13``), are partitions, their names unescaped as Hive escapes them;
  names starting with ``_`` or ``.`` (``_SUCCESS``, ``.crc``, ``_temporary/``) and ``%tmp-``
  files (what a writer has not yet renamed) are ignored; any other directory is skipped and
  reported, as are files whose partition keys are not the table's (the table's keys are the
  existing table's, else those of most files);
- infers each file's schema without reading its data: a Parquet file's from its footer, a
  JSON lines file's from its first ``sample_lines`` lines; files are typed by extension
  (``.parquet``; ``.json``, ``.jsonl``, ``.ndjson``, optionally ``.gz``), else by their first
  bytes. A file that cannot be read is reported and the crawl goes on;
- merges the schemas, widening types as Glue's crawler does: ``tinyint`` < ``smallint`` <
  ``int`` < ``bigint``, integers and decimals with floating point give ``double``, ``date``
  with ``timestamp`` gives ``timestamp``, structs take the union of their fields, arrays and
  maps widen their elements, and any other mix (``string`` with anything) gives ``string``.
  Columns are never dropped, and a column only ever seen empty (null, ``[]``) is a ``string``.
  Column names are folded to lower case; a file column named as a partition key is dropped
  (the key holds it);
- creates the table (partition keys typed ``string``, as Glue's crawler makes them), or, when
  the merged schema differs from the table's, records the change: with ``UPDATE_IN_DATABASE``
  it becomes the table's next version, with ``LOG`` it is only logged and reported. As in
  Glue, the policy never stops new tables or partitions from being added;
- registers the partitions not yet in the catalog, 100 a batch, each at its directory.

Crawling is fast because it reads little: a Parquet footer (or a JSON sample) is read once per
file, and the schema found is remembered by the file's path, size and modification time, so a
crawl opens only the files that are new or changed. The memory lives on the crawler, and in a
JSON file if ``cache_path`` is given, so that a crawler in another process knows it too.

Not here: classifiers other than Parquet and JSON lines (CSV, Avro, ORC, custom), exclusion
patterns, deletion behaviour (partitions whose directories are gone stay in the catalog),
partitions without ``key=`` names (Glue's ``partition_0``), table grouping by schema
similarity, and schedules (run ``crawl`` from a scheduled function).
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from archlab.blocks.catalog import (
    MAX_BATCH,
    STRUCT_FIELD_NAME,
    ArrayType,
    Catalog,
    CatalogTable,
    CharType,
    Column,
    DecimalType,
    GlueType,
    MapType,
    PartitionInput,
    PrimitiveType,
    StructType,
    catalog_name,
    column_name,
    parse_type,
    unescape_path_name,
)
from archlab.blocks.checks import integer
from archlab.blocks.errors import AlreadyExists, EntityNotFound, InvalidInput
from archlab.engines.catalogs import Format

log = logging.getLogger(__name__)

UpdateBehavior = Literal["UPDATE_IN_DATABASE", "LOG"]
UPDATE_BEHAVIORS: tuple[UpdateBehavior, ...] = ("UPDATE_IN_DATABASE", "LOG")

TEMPORARY = "%tmp-"
"""How writers (the file object engine, delivery) name files before renaming them."""
HIDDEN = ("_", ".", TEMPORARY)
PARTITION_DIRECTORY = re.compile(r"([^=]+)=(.*)", re.DOTALL)
PARQUET_MAGIC = b"PAR1"
GZIP_MAGIC = b"\x1f\x8b"
EXTENSIONS: dict[str, Format] = {
    ".parquet": "parquet",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
}
CACHE_FORMAT = 1

STRING = PrimitiveType("string")
DOUBLE = PrimitiveType("double")
BOOLEAN = PrimitiveType("boolean")
INTEGER_DIGITS = {"tinyint": 3, "smallint": 5, "int": 10, "bigint": 19}
"""Decimal digits each integer type holds, to widen it with a decimal."""
MAX_PRECISION = 38


# --- the report ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SkippedFile:
    """A file or directory the crawl left out, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class SchemaChange:
    """How a table's schema differs from what its files hold now."""

    table: str
    added: tuple[Column, ...]
    changed: tuple[tuple[str, str, str], ...]
    """(column, type in the table, type the files need)."""
    applied: bool
    """Whether it became the table's new version (UPDATE_IN_DATABASE) or was logged (LOG)."""


@dataclass
class CrawlReport:
    """What one crawl found and did."""

    tables_created: list[str] = field(default_factory=list)
    tables_updated: list[str] = field(default_factory=list)
    partitions_added: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    schema_changes: list[SchemaChange] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    files_read: int = 0
    """Files whose footer or sample was read: new or changed since the last crawl."""
    files_remembered: int = 0
    """Files whose schema was known from an earlier crawl."""


# --- files and schemas --------------------------------------------------------------------------


@dataclass(frozen=True)
class FileSchema:
    """The columns one file holds, with the types found; ``untyped`` ones held only nulls."""

    columns: tuple[tuple[str, GlueType], ...]
    untyped: tuple[str, ...] = ()

    def without(self, names: Sequence[str]) -> FileSchema:
        """The schema less the columns named (a table's partition keys)."""
        return FileSchema(
            tuple((name, kind) for name, kind in self.columns if name not in names),
            tuple(name for name in self.untyped if name not in names),
        )


@dataclass(frozen=True)
class Readable:
    """What a file holds, as far as the catalog is concerned."""

    format: Format
    schema: FileSchema


Inspected = Readable | str
"""What a file turned out to be: readable, or the reason it cannot be used."""


@dataclass(frozen=True)
class DataFile:
    """A file in a table's directory, with the partition its directories name."""

    path: str
    size: int
    mtime_ns: int
    keys: tuple[str, ...]
    values: tuple[str, ...]
    directory: str


class Unsupported(Exception):
    """A file's schema has something a Glue table cannot hold."""


# --- the crawler --------------------------------------------------------------------------------


class Crawler:
    """A Glue-style crawler writing into ``database`` of ``catalog``; see the module docs.

    >>> crawler = Crawler(catalog, "clickstream", ["file:///.archlab/lake"])  # doctest: +SKIP
    >>> report = crawler.crawl()                                              # doctest: +SKIP
    """

    def __init__(
        self,
        catalog: Catalog,
        database: str,
        targets: Sequence[str | Path],
        *,
        name: str = "crawler",
        table_prefix: str = "",
        update_behavior: UpdateBehavior = "UPDATE_IN_DATABASE",
        sample_lines: int = 100,
        cache_path: str | Path | None = None,
    ) -> None:
        self.catalog = catalog
        self.database = catalog_name(database, "database")
        self.targets = _targets(targets)
        self.name = _crawler_name(name)
        if not isinstance(table_prefix, str) or not re.fullmatch(r"[a-z0-9_]*", table_prefix):
            raise InvalidInput(
                f"table_prefix must be lower-case letters, digits or underscores, got"
                f" {table_prefix!r}"
            )
        self.table_prefix = table_prefix
        if update_behavior not in UPDATE_BEHAVIORS:
            raise InvalidInput(
                f"update_behavior must be {' or '.join(UPDATE_BEHAVIORS)}, got {update_behavior!r}"
            )
        self.update_behavior = update_behavior
        self.sample_lines = integer(sample_lines, "sample_lines", 1, error=InvalidInput)
        self.cache = SchemaCache(None if cache_path is None else Path(cache_path))

    def crawl(self) -> CrawlReport:
        """Crawl every target once; EntityNotFound (changing nothing) if the database is gone."""
        self.catalog.get_database(self.database)
        report = CrawlReport()
        tables: dict[str, str] = {}
        for target in self.targets:
            for root in _table_roots(target, report):
                name = self._table_name(root, tables, report)
                if name is not None:
                    tables[name] = root
                    self._crawl_table(name, root, report)
        self.cache.save()
        return report

    def _table_name(self, root: str, tables: dict[str, str], report: CrawlReport) -> str | None:
        """The name of the table at ``root``; None (reported) if it has none of its own."""
        try:
            name = catalog_name(self.table_prefix + _table_name(root), "table")
        except InvalidInput as error:
            report.skipped.append(SkippedFile(root, f"no table name: {error.message}"))
            return None
        if name in tables:
            report.skipped.append(SkippedFile(root, f"{tables[name]} is table {name} already"))
            return None
        return name

    def _crawl_table(self, name: str, root: str, report: CrawlReport) -> None:
        existing = self._existing(name)
        if existing is not None and existing.location.rstrip("/") != root:
            reason = f"table {name} exists with another location, {existing.location}"
            report.skipped.append(SkippedFile(root, reason))
            return
        files = list(self._readable(_walk(root, report), report))
        if not files:
            return
        keys = (
            tuple(key.name for key in existing.partition_keys)
            if existing
            else _most_common(file.keys for file, _ in files)
        )
        fmt = existing.format if existing else _most_common(found.format for _, found in files)
        table_files = _belonging(files, keys, fmt, report)
        if not table_files:
            return
        schemas = dict.fromkeys(found.schema.without(keys) for _, found in table_files)
        columns = merge_columns(existing.columns if existing else (), schemas)
        if existing is None:
            self._create(name, root, columns, keys, fmt)
            report.tables_created.append(name)
        else:
            self._change_schema(existing, columns, report)
        self._add_partitions(name, keys, [file for file, _ in table_files], existing, report)

    def _existing(self, name: str) -> CatalogTable | None:
        try:
            return self.catalog.get_table(self.database, name)
        except EntityNotFound:
            return None

    def _readable(
        self, files: Iterable[DataFile], report: CrawlReport
    ) -> Iterator[tuple[DataFile, Readable]]:
        """The files that can be read, with what they hold (from the cache, or from their
        footer or sample); the others are reported."""
        for file in files:
            found = self.cache.get(file)
            if found is None:
                found = inspect_file(file.path, self.sample_lines)
                self.cache.put(file, found)
                report.files_read += 1
            else:
                report.files_remembered += 1
            if isinstance(found, str):
                report.skipped.append(SkippedFile(file.path, found))
            else:
                yield file, found

    def _create(
        self, name: str, root: str, columns: list[Column], keys: tuple[str, ...], fmt: Format
    ) -> None:
        self.catalog.create_table(
            self.database,
            name,
            columns=columns,
            partition_keys=[Column(key, "string") for key in keys],
            location=root,
            format=fmt,
            parameters={"classification": fmt, "UPDATED_BY_CRAWLER": self.name},
        )
        log.info("%s: created table %s.%s at %s", self.name, self.database, name, root)

    def _change_schema(
        self, table: CatalogTable, columns: list[Column], report: CrawlReport
    ) -> None:
        before = {column.name: column.type for column in table.columns}
        added = tuple(column for column in columns if column.name not in before)
        changed = tuple(
            (column.name, before[column.name], column.type)
            for column in columns
            if column.name in before and before[column.name] != column.type
        )
        if not added and not changed:
            return
        applied = self.update_behavior == "UPDATE_IN_DATABASE"
        report.schema_changes.append(SchemaChange(table.name, added, changed, applied))
        summary = ", ".join(
            [f"+{c.name} {c.type}" for c in added]
            + [f"{n} {old} -> {new}" for n, old, new in changed]
        )
        if not applied:
            log.warning(
                "%s: table %s: schema change logged, not applied: %s",
                self.name,
                table.name,
                summary,
            )
            return
        self.catalog.update_table(self.database, table.name, columns=columns)
        report.tables_updated.append(table.name)
        log.info("%s: table %s: schema updated: %s", self.name, table.name, summary)

    def _add_partitions(
        self,
        table: str,
        keys: tuple[str, ...],
        files: list[DataFile],
        existing: CatalogTable | None,
        report: CrawlReport,
    ) -> None:
        if not keys:
            return
        known = (
            {p.values for p in self.catalog.partitions(self.database, table)} if existing else set()
        )
        directories = {f.values: f.directory for f in files if f.values not in known}
        entries = [PartitionInput(values, location) for values, location in directories.items()]
        added: list[tuple[str, ...]] = []
        for start in range(0, len(entries), MAX_BATCH):
            batch = entries[start : start + MAX_BATCH]
            errors = {
                error.values: error
                for error in self.catalog.batch_create_partition(self.database, table, batch)
            }
            for entry in batch:
                values = tuple(entry.values)
                error = errors.get(values)
                if error is None:
                    added.append(values)
                elif error.code != AlreadyExists.code:  # another crawler was first: no matter
                    reason = f"partition not created: {error.message}"
                    report.skipped.append(SkippedFile(str(entry.location), reason))
        if added:
            report.partitions_added[table] = added
            log.info("%s: table %s: %d partitions added", self.name, table, len(added))


def _belonging(
    files: list[tuple[DataFile, Readable]],
    keys: tuple[str, ...],
    fmt: Format,
    report: CrawlReport,
) -> list[tuple[DataFile, Readable]]:
    """The files of the table: in partitions with its keys, in its format; others reported."""
    kept = []
    for file, found in files:
        if file.keys != keys:
            report.skipped.append(SkippedFile(file.path, _misplaced(file.keys, keys)))
        elif found.format != fmt:
            reason = f"a {found.format} file in a {fmt} table"
            report.skipped.append(SkippedFile(file.path, reason))
        else:
            kept.append((file, found))
    return kept


def _misplaced(found: tuple[str, ...], keys: tuple[str, ...]) -> str:
    if not found:
        return f"not in a partition directory (the table's partition keys: {', '.join(keys)})"
    if not keys:
        return f"in partition directories ({', '.join(found)}) of a table without partitions"
    return (
        f"its partition directories name ({', '.join(found)}), not the table's partition keys"
        f" ({', '.join(keys)})"
    )


def _most_common(values: Iterable[Any]) -> Any:
    """The value seen most often; of those tied, the first seen."""
    return Counter(values).most_common(1)[0][0]


# --- targets and directories --------------------------------------------------------------------


def _crawler_name(name: Any) -> str:
    if not isinstance(name, str) or not re.fullmatch(r"[^\x00-\x1f\x7f]{1,255}", name):
        raise InvalidInput(f"a crawler's name is one line of 1 to 255 characters, got {name!r}")
    return name


def _targets(targets: Any) -> list[str]:
    """Targets as absolute paths; a ``file:`` URL as archlab's engine URLs read it."""
    if isinstance(targets, (str, Path)) or not isinstance(targets, Sequence) or not targets:
        raise InvalidInput(f"targets must be a non-empty list of paths, got {targets!r}")
    paths = []
    for target in targets:
        if isinstance(target, Path):
            paths.append(os.path.abspath(target))
            continue
        if not isinstance(target, str) or not target:
            raise InvalidInput(f"a target is a path or a file: URL, got {target!r}")
        if target.startswith("file://"):
            path = target.removeprefix("file://")
            if not path.startswith("/") or path == "/":
                raise InvalidInput(
                    f"{target!r}: a file: URL is file:///relative/path or file:////absolute/path"
                )
            target = path[1:]
        elif re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", target):
            raise InvalidInput(f"{target!r}: the crawler reads local directories (a path or file:)")
        paths.append(os.path.abspath(target))
    return paths


def _hidden(name: str) -> bool:
    return name.startswith(HIDDEN)


def _entries(directory: str) -> list[os.DirEntry[str]]:
    with os.scandir(directory) as entries:
        return sorted((e for e in entries if not _hidden(e.name)), key=lambda e: e.name)


def _table_roots(target: str, report: CrawlReport) -> list[str]:
    """The tables' directories a target holds: itself, or (a folder of tables) its children."""
    if not os.path.isdir(target):
        reason = "not a directory" if os.path.exists(target) else "the location does not exist"
        report.skipped.append(SkippedFile(target, reason))
        return []
    entries = _entries(target)
    if all(e.is_dir() and not PARTITION_DIRECTORY.fullmatch(e.name) for e in entries) and entries:
        return [e.path for e in entries]
    return [target]


def _table_name(root: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", os.path.basename(root).lower())


def _walk(root: str, report: CrawlReport) -> Iterator[DataFile]:
    """The files under a table's directory, in path order, each with its partition."""
    stack: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [(root, (), ())]
    while stack:
        directory, keys, values = stack.pop()
        subdirectories = []
        for entry in _entries(directory):
            if not entry.is_dir(follow_symlinks=False):
                try:
                    stat = entry.stat()
                except FileNotFoundError:  # removed since the listing (or a broken link)
                    continue
                yield DataFile(entry.path, stat.st_size, stat.st_mtime_ns, keys, values, directory)
                continue
            key, value, problem = _partition_directory(entry.name, keys)
            if problem is not None:
                report.skipped.append(SkippedFile(entry.path, problem))
                continue
            subdirectories.append((entry.path, (*keys, key), (*values, value)))
        stack.extend(reversed(subdirectories))


def _partition_directory(name: str, keys: tuple[str, ...]) -> tuple[str, str, str | None]:
    """The key and value a directory names, or why it is no partition of its parents'."""
    partition = PARTITION_DIRECTORY.fullmatch(name)
    if partition is None:
        return "", "", "not a key=value partition directory"
    try:
        key = column_name(unescape_path_name(partition.group(1)), "partition key")
    except InvalidInput as error:
        return "", "", error.message
    if key in keys:
        return "", "", f"partition key {key} is named twice in the path"
    return key, unescape_path_name(partition.group(2)), None


# --- inspecting files ---------------------------------------------------------------------------


def inspect_file(path: str, sample_lines: int) -> Inspected:
    """A file's format and schema, reading only a Parquet footer or a JSON lines sample; or
    the reason it cannot be used."""
    fmt = _format(path)
    try:
        if fmt == "parquet":
            return Readable("parquet", _parquet_schema(path))
        if fmt == "json":
            return Readable("json", _json_schema(path, sample_lines))
    except Unsupported as error:
        return str(error)
    except OSError as error:
        return f"unreadable: {error.strerror or error}"
    return "neither Parquet nor JSON lines"


def _format(path: str) -> Format | None:
    """The format a file's extension names, or else its first bytes show."""
    name = path.removesuffix(".gz")
    fmt = EXTENSIONS.get(os.path.splitext(name)[1].lower())
    if fmt is not None:
        return fmt
    with open(path, "rb") as file:
        start = file.read(64)
    if start.startswith(PARQUET_MAGIC):
        return "parquet"
    if start.startswith(GZIP_MAGIC) or start.lstrip().startswith(b"{"):
        return "json"
    return None


def _parquet_schema(path: str) -> FileSchema:
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, ValueError) as error:
        raise Unsupported(f"unreadable Parquet footer: {error}") from None
    return _file_schema((f.name, arrow_type(f.type, f.name)) for f in schema)


def _json_schema(path: str, sample_lines: int) -> FileSchema:
    """The schema of the first ``sample_lines`` records of a JSON lines file."""
    types: dict[str, GlueType | None] = {}
    for number, line in _sample(path, sample_lines):
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            raise Unsupported(
                f"line {number} is not a JSON object (JSON files are read as JSON lines: one"
                " object a line)"
            )
        for name, value in record.items():
            found = json_type(value, name)
            types[name] = _widen_known(types.get(name), found)
    if not types:
        raise Unsupported("no JSON records")
    return _file_schema(types.items())


def _sample(path: str, count: int) -> Iterator[tuple[int, str]]:
    """Up to ``count`` non-blank lines, with their line numbers."""
    with open(path, "rb") as raw:
        compressed = raw.read(2) == GZIP_MAGIC
    taken = 0
    try:
        with (
            gzip.open(path, "rt", encoding="utf-8") if compressed else open(path, encoding="utf-8")
        ) as lines:
            for number, line in enumerate(lines, 1):
                if line.strip():
                    yield number, line
                    taken += 1
                    if taken == count:
                        return
    except (UnicodeDecodeError, EOFError, gzip.BadGzipFile) as error:
        raise Unsupported(f"unreadable JSON lines: {error}") from None


def _file_schema(columns: Iterable[tuple[str, GlueType | None]]) -> FileSchema:
    """Top-level columns as the catalog names them (lower case), untyped ones apart."""
    typed: list[tuple[str, GlueType]] = []
    untyped: list[str] = []
    seen: set[str] = set()
    for name, kind in columns:
        try:
            folded = column_name(name, "column")
        except InvalidInput as error:
            raise Unsupported(error.message) from None
        if folded in seen:
            raise Unsupported(f"two columns are named {folded} (ignoring case)")
        seen.add(folded)
        if kind is None:
            untyped.append(folded)
        else:
            typed.append((folded, kind))
    return FileSchema(tuple(typed), tuple(untyped))


# --- types --------------------------------------------------------------------------------------

ARROW_PRIMITIVES: list[tuple[Any, GlueType]] = [
    (pa.types.is_boolean, BOOLEAN),
    (pa.types.is_int8, PrimitiveType("tinyint")),
    (pa.types.is_int16, PrimitiveType("smallint")),
    (pa.types.is_uint8, PrimitiveType("smallint")),
    (pa.types.is_int32, PrimitiveType("int")),
    (pa.types.is_uint16, PrimitiveType("int")),
    (pa.types.is_int64, PrimitiveType("bigint")),
    (pa.types.is_uint32, PrimitiveType("bigint")),
    (pa.types.is_uint64, DecimalType(20, 0)),
    (pa.types.is_float16, PrimitiveType("float")),
    (pa.types.is_float32, PrimitiveType("float")),
    (pa.types.is_float64, DOUBLE),
    (pa.types.is_string, STRING),
    (pa.types.is_large_string, STRING),
    (pa.types.is_string_view, STRING),
    (pa.types.is_binary, PrimitiveType("binary")),
    (pa.types.is_large_binary, PrimitiveType("binary")),
    (pa.types.is_fixed_size_binary, PrimitiveType("binary")),
    (pa.types.is_binary_view, PrimitiveType("binary")),
    (pa.types.is_date, PrimitiveType("date")),
    (pa.types.is_timestamp, PrimitiveType("timestamp")),
]
"""Arrow's scalar types and the Glue type each is (unsigned ones as the next wider signed)."""


def arrow_type(arrow: pa.DataType, where: str) -> GlueType | None:
    """The Glue type of an Arrow type; None for a type that says nothing (null, a list of
    nulls). Unsupported, naming ``where``, for one Glue has no type for (time, duration...)."""
    for test, glue in ARROW_PRIMITIVES:
        if test(arrow):
            return glue
    if pa.types.is_null(arrow):
        return None
    if pa.types.is_decimal(arrow) and arrow.precision <= MAX_PRECISION:
        return DecimalType(arrow.precision, arrow.scale)
    if pa.types.is_dictionary(arrow):
        return arrow_type(arrow.value_type, where)
    if pa.types.is_list_view(arrow) or pa.types.is_large_list_view(arrow):
        return _array(arrow_type(arrow.value_type, where))
    if (
        pa.types.is_list(arrow)
        or pa.types.is_large_list(arrow)
        or pa.types.is_fixed_size_list(arrow)
    ):
        return _array(arrow_type(arrow.value_type, where))
    if pa.types.is_map(arrow):
        return _map(arrow_type(arrow.key_type, where), arrow_type(arrow.item_type, where), where)
    if pa.types.is_struct(arrow):
        return _struct(((f.name, arrow_type(f.type, f"{where}.{f.name}")) for f in arrow), where)
    raise Unsupported(f"column {where}: Arrow type {arrow} has no Glue type")


def json_type(value: Any, where: str) -> GlueType | None:
    """The Glue type of a JSON value; None for one that says nothing (null, [], {})."""
    if value is None:
        return None
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return (
            PrimitiveType("int")
            if -(2**31) <= value < 2**31
            else PrimitiveType("bigint")
            if -(2**63) <= value < 2**63
            else DOUBLE
        )
    if isinstance(value, float):
        return DOUBLE
    if isinstance(value, str):
        return STRING
    if isinstance(value, list):
        element: GlueType | None = None
        for item in value:
            element = _widen_known(element, json_type(item, f"{where}[]"))
        return _array(element)
    fields = ((name, json_type(item, f"{where}.{name}")) for name, item in value.items())
    return _struct(fields, where)


def _array(element: GlueType | None) -> GlueType | None:
    return None if element is None else ArrayType(element)


def _map(key: GlueType | None, value: GlueType | None, where: str) -> GlueType | None:
    if key is not None and not isinstance(key, (PrimitiveType, DecimalType, CharType)):
        raise Unsupported(f"column {where}: a map's keys must have a primitive type, not {key}")
    return None if key is None or value is None else MapType(key, value)


def _struct(fields: Iterable[tuple[str, GlueType | None]], where: str) -> GlueType | None:
    """A struct of the fields with a type (case-insensitively merged), None if none has."""
    merged = StructType(())
    for name, kind in fields:
        if not STRUCT_FIELD_NAME.fullmatch(name):
            raise Unsupported(
                f"column {where}: a struct field named {name!r} cannot be in a Glue type"
            )
        if kind is not None:
            merged = _union(merged, StructType(((name, kind),)))
    return merged if merged.fields else None


def widen(a: GlueType, b: GlueType) -> GlueType:
    """The narrowest type holding values of both (see the module documentation)."""
    if a == b:
        return a
    if isinstance(a, ArrayType) and isinstance(b, ArrayType):
        return ArrayType(widen(a.element, b.element))
    if isinstance(a, MapType) and isinstance(b, MapType):
        return MapType(widen(a.key, b.key), widen(a.value, b.value))
    if isinstance(a, StructType) and isinstance(b, StructType):
        return _union(a, b)
    if {str(a), str(b)} == {"date", "timestamp"}:
        return PrimitiveType("timestamp")
    return _widen_numbers(a, b) or STRING


def _widen_known(a: GlueType | None, b: GlueType | None) -> GlueType | None:
    if a is None or b is None:
        return a if b is None else b
    return widen(a, b)


def _union(a: StructType, b: StructType) -> StructType:
    """Every field of either, in order of appearance; fields named alike (ignoring case, as
    Hive does) are one field of the widened type, named as first seen."""
    fields = {name.lower(): (name, kind) for name, kind in a.fields}
    for name, kind in b.fields:
        key = name.lower()
        fields[key] = (
            (fields[key][0], widen(fields[key][1], kind)) if key in fields else (name, kind)
        )
    return StructType(tuple(fields.values()))


def _widen_numbers(a: GlueType, b: GlueType) -> GlueType | None:
    """Two numeric types widened: the wider integer, a decimal that holds both, else double;
    None if either is not a number."""
    first, second = _exact_digits(a), _exact_digits(b)
    if first is not None and second is not None:
        if isinstance(a, PrimitiveType) and isinstance(b, PrimitiveType):  # two integers
            return a if INTEGER_DIGITS[a.name] >= INTEGER_DIGITS[b.name] else b
        whole, scale = max(first[0], second[0]), max(first[1], second[1])
        return DecimalType(whole + scale, scale) if whole + scale <= MAX_PRECISION else DOUBLE
    if _is_number(a) and _is_number(b):
        return DOUBLE
    return None


def _exact_digits(kind: GlueType) -> tuple[int, int] | None:
    """(digits before the point, digits after) for integers and decimals, else None."""
    if isinstance(kind, DecimalType):
        return kind.precision - kind.scale, kind.scale
    if isinstance(kind, PrimitiveType) and kind.name in INTEGER_DIGITS:
        return INTEGER_DIGITS[kind.name], 0
    return None


def _is_number(kind: GlueType) -> bool:
    return _exact_digits(kind) is not None or str(kind) in ("float", "double")


def merge_columns(base: Sequence[Column], schemas: Iterable[FileSchema]) -> list[Column]:
    """A table's columns widened to hold every schema: its own first, in order, then new
    ones in order of appearance; a column seen only empty is a string."""
    types: dict[str, GlueType | None] = {column.name: parse_type(column.type) for column in base}
    for schema in schemas:
        for name, kind in schema.columns:
            types[name] = _widen_known(types.get(name), kind)
        for name in schema.untyped:
            types.setdefault(name, None)
    comments = {column.name: column.comment for column in base}
    return [
        Column(name, str(STRING if kind is None else kind), comments.get(name, ""))
        for name, kind in types.items()
    ]


# --- the cache ----------------------------------------------------------------------------------


class SchemaCache:
    """What each file held, by path, valid while the file keeps its size and mtime.

    Saved (when it has a path) as JSON with each distinct schema once, since a lake's
    thousands of files share a handful of schemas: ``{"format": 1, "schemas": [...],
    "files": {path: [size, mtime_ns, format, schema index | reason]}}``. An unreadable cache
    file is logged and ignored: the next crawl reads footers again.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._files: dict[str, tuple[int, int, Inspected]] = {}
        self._seen: set[str] = set()
        if path is not None and path.exists():
            self._files = _load_cache(path)

    def get(self, file: DataFile) -> Inspected | None:
        self._seen.add(file.path)
        cached = self._files.get(file.path)
        if cached is None or cached[:2] != (file.size, file.mtime_ns):
            return None
        return cached[2]

    def put(self, file: DataFile, found: Inspected) -> None:
        self._files[file.path] = (file.size, file.mtime_ns, found)

    def save(self) -> None:
        """Keep the files this crawl saw (forgetting the others), on disk if there is a path."""
        self._files = {path: cached for path, cached in self._files.items() if path in self._seen}
        self._seen = set()
        if self.path is None:
            return
        schemas: dict[FileSchema, int] = {}
        files: dict[str, list[Any]] = {}
        for path, (size, mtime_ns, found) in self._files.items():
            if isinstance(found, str):
                files[path] = [size, mtime_ns, None, found]
            else:
                files[path] = [
                    size,
                    mtime_ns,
                    found.format,
                    schemas.setdefault(found.schema, len(schemas)),
                ]
        document = {
            "format": CACHE_FORMAT,
            "schemas": [_dump_schema(schema) for schema in schemas],
            "files": files,
        }
        _write_atomically(self.path, json.dumps(document, separators=(",", ":")))


def _dump_schema(schema: FileSchema) -> dict[str, Any]:
    return {
        "columns": [[name, str(kind)] for name, kind in schema.columns],
        "untyped": list(schema.untyped),
    }


def _load_cache(path: Path) -> dict[str, tuple[int, int, Inspected]]:
    try:
        document = json.loads(path.read_text())
        if document["format"] != CACHE_FORMAT:
            raise ValueError(f"format {document['format']!r}")
        schemas = [
            FileSchema(
                tuple((name, parse_type(kind)) for name, kind in schema["columns"]),
                tuple(schema["untyped"]),
            )
            for schema in document["schemas"]
        ]
        return {
            file: (size, mtime_ns, found if fmt is None else Readable(fmt, schemas[found]))
            for file, (size, mtime_ns, fmt, found) in document["files"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, IndexError, InvalidInput) as error:
        log.warning("crawler cache %s is unreadable (%s); footers will be read again", path, error)
        return {}


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f"{TEMPORARY}{path.name}")
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
