"""SQL over the catalog's tables, Athena's way, with DuckDB underneath.

Each catalog database is a schema and each of its tables a view over the files of the
partitions the catalog has registered -- as in Athena, files in a partition the crawler has
not yet registered are not seen. The views read Parquet (or JSON lines) with Hive
partitioning, the partition keys typed as the catalog types them, so a ``WHERE`` on a
partition key prunes files before any is opened. Other databases can be attached beside the
lake, read-only (the notes' one catalog across stores: the storefront's SQLite or PostgreSQL
database), so one query joins clicks with orders.

Every answer says what it cost, as Athena bills it: the bytes scanned ($5 a terabyte, rounded
up to the megabyte, ten megabytes at least a query). Athena counts the compressed bytes of the
columns it reads in the files it reads (the whole file, for JSON). DuckDB's profile says, for
each scan, the columns it read -- those it projected and those its pushed-down filters test --
how many of the view's files it read, and the filter on partition keys that chose them; the
files' footers, read when the view is made, give each column's compressed bytes in each file.
A scan's bytes are those columns' bytes in the files that filter selects (the profile's row
counts cannot be used: DuckDB 1.4 reports its estimate there, not the rows read). A scan whose
files cannot be told apart (a partition filter found at run time, from a join) is counted at
the view's average bytes a file.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from archlab.blocks.catalog import Catalog, CatalogTable

PRICE_PER_TB_USD = 5.0
MINIMUM_BILLED_BYTES = 10 * 1_000_000
"""Athena's minimum a query (10 MB), and bytes are rounded up to the megabyte."""
HIVE_TO_DUCKDB = {
    "string": "VARCHAR",
    "tinyint": "TINYINT",
    "smallint": "SMALLINT",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "binary": "BLOB",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}
HIDDEN = re.compile(r"^[._]|^%tmp")
NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")
IDENTIFIER = re.compile(r'"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_]*)')


class QueryError(ValueError):
    """A query that could not run: the message says why, in DuckDB's words where it has them."""


@dataclass(frozen=True)
class FileStats:
    """One file of a view: its partition values (in key order) and what a read of each of
    its columns costs, from its footer (column names lower-cased); a JSON file costs its size
    whatever is read, under ``*``."""

    path: Path
    values: tuple[str, ...]
    column_bytes: dict[str, int]
    schema: str = ""
    """A Parquet file's columns and their types, as its footer has them ("" if unread)."""


@dataclass(frozen=True)
class TableStats:
    """What a view's files hold, for counting what a scan of them read."""

    name: str
    columns: frozenset[str]
    """Every column of the view, partition keys included, lower-cased."""
    keys: tuple[tuple[str, str], ...]
    """The partition keys and their DuckDB types."""
    files: tuple[FileStats, ...]

    @property
    def one_schema(self) -> bool:
        """Whether every file is Parquet of one and the same (known) schema."""
        schemas = {file.schema for file in self.files}
        return len(schemas) == 1 and "" not in schemas

    def bytes_read(self, columns: set[str], files: Sequence[int] | None = None) -> int:
        """The bytes of ``columns`` (lower-cased) in the files ``files`` (indices; all by
        default)."""
        chosen = self.files if files is None else [self.files[index] for index in files]
        total = 0
        for file in chosen:
            found = file.column_bytes
            total += found["*"] if "*" in found else sum(found.get(c, 0) for c in columns)
        return total


@dataclass(frozen=True)
class QueryResult:
    table: pa.Table
    bytes_scanned: int
    elapsed_ms: float

    @property
    def cost_usd(self) -> float:
        return billed_cost(self.bytes_scanned)


def billed_cost(bytes_scanned: int) -> float:
    """What Athena would bill for a query that scanned this much."""
    megabytes = max(math.ceil(bytes_scanned / 1_000_000), MINIMUM_BILLED_BYTES // 1_000_000)
    return megabytes * 1_000_000 / 1e12 * PRICE_PER_TB_USD


def local_path(location: str) -> Path:
    """A table's location as a directory: a plain path or a ``file://`` URL."""
    if location.startswith("file://"):
        return Path(unquote(urlsplit(location).path))
    if "://" in location:
        raise QueryError(f"location {location!r}: only local directories can be queried here")
    return Path(location)


def duckdb_type(hive_type: str) -> str:
    """A Hive/Glue type as DuckDB spells it (decimal, char and varchar keep their sizes;
    nested types are left to DuckDB to read from the files)."""
    if hive_type in HIVE_TO_DUCKDB:
        return HIVE_TO_DUCKDB[hive_type]
    if hive_type.startswith(("decimal(", "char(", "varchar(")):
        return hive_type.upper()
    return "VARCHAR"


class Lake:
    """A DuckDB connection that sees the catalog's tables (``refresh`` to see new
    partitions) and any attached databases."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.db = duckdb.connect()
        # Footers are read once, not at every query (DuckDB checks each file's modification
        # time): 720 files' footers took 25 ms a query here, a third of a dashboard query.
        self.db.execute("SET parquet_metadata_cache = true")
        self._profile = Path(tempfile.mkdtemp(prefix="archlab-query-")) / "profile.json"
        self._attached: set[str] = set()
        self._stats: dict[str, TableStats] = {}
        self._pruning = _PartitionFilters()
        self.refresh()

    def close(self) -> None:
        self.db.close()
        self._pruning.close()

    # --- what the connection sees --------------------------------------------------------

    def refresh(self) -> None:
        """(Re)create a view for every catalog table over its registered partitions' files."""
        for database in _all(self.catalog.get_databases):
            if database.name in self._attached:
                raise QueryError(
                    f"catalog database {database.name!r} has the name of an attached database"
                )
            self.db.execute(f'CREATE SCHEMA IF NOT EXISTS "{database.name}"')
            for table in _all(partial(self.catalog.get_tables, database.name)):
                files = self._files(table)
                stats = _stats(table, files)
                self.db.execute(
                    f'CREATE OR REPLACE VIEW "{table.database}"."{table.name}" AS '
                    + _scan(table, [path for path, _ in files], stats.one_schema)
                )
                self._stats[stats.name] = stats
                self._pruning.add(stats)

    def partition_files(self, database: str, table: str) -> dict[tuple[str, ...], list[str]]:
        """The names of the files the view of ``database.table`` reads, by partition values,
        as of the last ``refresh`` (empty for a table it does not have)."""
        stats = self._stats.get(f"{database}.{table}")
        found: dict[tuple[str, ...], list[str]] = {}
        for file in stats.files if stats is not None else ():
            found.setdefault(file.values, []).append(file.path.name)
        return {values: sorted(names) for values, names in found.items()}

    def attach(self, name: str, url: str) -> None:
        """Attach a SQLite or PostgreSQL database, read-only, as ``name``."""
        if not NAME.fullmatch(name):
            raise QueryError(f"attach: {name!r} is not a plain lower-case name")
        source, kind = _attachment(url)
        _load_extension(self.db, kind)
        try:
            self.db.execute(f"ATTACH '{_quoted(source)}' AS \"{name}\" (TYPE {kind}, READ_ONLY)")
        except duckdb.Error as error:
            raise QueryError(f"attach {name}: {_first_line(error)}") from None
        self._attached.add(name)

    def _files(self, table: CatalogTable) -> list[tuple[Path, tuple[str, ...]]]:
        """The table's files, each with its partition's values."""
        if not table.partition_keys:
            return [(path, ()) for path in _data_files(local_path(table.location))]
        found: list[tuple[Path, tuple[str, ...]]] = []
        for partition in _all(partial(self.catalog.get_partitions, table.database, table.name)):
            values = tuple(partition.values)
            found += [(path, values) for path in _data_files(local_path(partition.location))]
        return found

    # --- queries -----------------------------------------------------------------------------

    def query(self, sql: str) -> QueryResult:
        """Run ``sql``; its rows and what it scanned."""
        if not sql.strip():
            raise QueryError("the query is empty")
        self.db.execute("PRAGMA enable_profiling='json'")
        self.db.execute(f"PRAGMA profiling_output='{_quoted(str(self._profile))}'")
        started = time.perf_counter()
        try:
            table = self.db.execute(sql).fetch_arrow_table()
        except duckdb.Error as error:
            raise QueryError(_first_line(error)) from None
        finally:
            self.db.execute("PRAGMA disable_profiling")
        elapsed = (time.perf_counter() - started) * 1000
        return QueryResult(table, self._bytes_scanned(), elapsed)

    def _bytes_scanned(self) -> int:
        """The bytes Athena would count for the query just run (see the module)."""
        try:
            profile = json.loads(self._profile.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return 0
        return sum(self._scan_bytes(scan.get("extra_info") or {}) for scan in _scans(profile))

    def _scan_bytes(self, info: dict[str, Any]) -> int:
        """What one scan of a view read: its columns' bytes in the files it read."""
        projected = {name.lower() for name in _names(info.get("Projections"))}
        filters = " AND ".join(_names(info.get("Filters")))
        read_of, _, total = str(info.get("Scanning Files", "")).partition("/")
        files_read = _count(info.get("Total Files Read")) or _count(read_of)
        stats = self._stats_for(projected, _count(total), files_read)
        if stats is None:
            return 0
        columns = (projected | _mentioned(filters, stats.columns)) - {k for k, _ in stats.keys}
        if not columns and not any("*" in file.column_bytes for file in stats.files):
            return 0  # partition values only: no file is read for them
        if files_read is None or files_read >= len(stats.files):
            return stats.bytes_read(columns)
        chosen = self._pruning.select(stats, _names(info.get("File Filters")))
        if chosen is not None and len(chosen) == files_read:
            return stats.bytes_read(columns, chosen)
        if chosen is not None and len(chosen) > files_read:  # stopped early (a LIMIT)
            return round(stats.bytes_read(columns, chosen) * files_read / len(chosen))
        return round(stats.bytes_read(columns) * files_read / len(stats.files))

    def _stats_for(
        self, projected: set[str], total: int | None, files_read: int | None
    ) -> TableStats | None:
        """The view a scan read: one with every column it projects and as many files (or,
        when the profile gives no total, at least as many as it read)."""
        fitting = [stats for stats in self._stats.values() if projected <= stats.columns]
        for stats in fitting:
            if len(stats.files) == total:
                return stats
        for stats in fitting:
            if total is None and len(stats.files) >= (files_read or 0):
                return stats
        return None


class _PartitionFilters:
    """Which of a view's files a scan's filter on partition keys selects: the filter, as
    DuckDB's profile prints it, run over a table of each file's partition values, in a
    connection of its own that can touch no file."""

    def __init__(self) -> None:
        self._db: duckdb.DuckDBPyConnection | None = None
        self._tables: dict[str, str] = {}
        self._chosen: dict[tuple[str, str], list[int] | None] = {}

    def add(self, stats: TableStats) -> None:
        """Make (or remake) the table of a view's files' partition values."""
        self._chosen = {key: found for key, found in self._chosen.items() if key[0] != stats.name}
        if not stats.keys or not stats.files:
            self._tables.pop(stats.name, None)
            return
        db = self._connection()
        table = self._tables.setdefault(stats.name, f"files_{len(self._tables)}")
        raw = pa.table(
            {
                "file": pa.array(range(len(stats.files)), pa.int64()),
                **{
                    f"key_{number}": pa.array(
                        [file.values[number] for file in stats.files], pa.string()
                    )
                    for number in range(len(stats.keys))
                },
            }
        )
        typed = ", ".join(
            f'TRY_CAST(key_{number} AS {kind}) AS "{name}"'
            for number, (name, kind) in enumerate(stats.keys)
        )
        db.register("raw_values", raw)
        try:
            db.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT file, {typed} FROM raw_values")
        finally:
            db.unregister("raw_values")

    def select(self, stats: TableStats, filters: list[str]) -> list[int] | None:
        """The indices of the files ``filters`` select; None if there is none, or it cannot
        be run here."""
        table = self._tables.get(stats.name)
        if table is None or not filters or self._db is None:
            return None
        condition = " AND ".join(f"({text})" for text in filters)
        key = (stats.name, condition)
        if key not in self._chosen:
            try:
                rows = self._db.execute(
                    f"SELECT file FROM {table} WHERE {condition} ORDER BY file"
                ).fetchall()
                self._chosen[key] = [row[0] for row in rows]
            except duckdb.Error:
                self._chosen[key] = None
        return self._chosen[key]

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._db is None:
            self._db = duckdb.connect()
            self._db.execute("SET threads = 1")
            self._db.execute("SET enable_external_access = false")
            self._db.execute("SET lock_configuration = true")
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()


def _names(value: Any) -> list[str]:
    """A profile entry that DuckDB gives as a list, or as text with one item a line."""
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split("\n")
    return [item.strip() for item in map(str, items) if item.strip()]


def _mentioned(text: str, columns: frozenset[str]) -> set[str]:
    """The columns a filter's text names (outside its string literals)."""
    found = set()
    for quoted, plain in IDENTIFIER.findall(STRING_LITERAL.sub("", text)):
        name = (quoted.replace('""', '"') if quoted else plain).lower()
        if name in columns:
            found.add(name)
    return found


def _count(text: Any) -> int | None:
    text = str(text or "").strip()
    return int(text) if text.isdigit() else None


def _scan(table: CatalogTable, files: list[Path], one_schema: bool = False) -> str:
    """The SELECT a table's view is. Its files are read by column name, their schemas
    unioned -- unless they all have one schema (``one_schema``), when reading the first
    file's is enough: unioning reads every file's at every query (10 ms of 720 files')."""
    columns = [*table.columns, *table.partition_keys]
    if not files:  # no data yet: the right columns and no rows
        typed = ", ".join(f'CAST(NULL AS {duckdb_type(c.type)}) AS "{c.name}"' for c in columns)
        return f"SELECT {typed} WHERE false"
    listed = "[" + ", ".join(f"'{_quoted(str(path))}'" for path in files) + "]"
    if table.format == "json":
        reader = f"read_json_auto({listed}, format='newline_delimited', union_by_name=true"
    else:
        reader = f"read_parquet({listed}, union_by_name={str(not one_schema).lower()}"
    if table.partition_keys:
        types = ", ".join(
            f"'{key.name}': '{duckdb_type(key.type)}'" for key in table.partition_keys
        )
        reader += f", hive_partitioning=true, hive_types={{{types}}}"
    return f"SELECT * FROM {reader})"


def _stats(table: CatalogTable, files: list[tuple[Path, tuple[str, ...]]]) -> TableStats:
    found = [
        FileStats(path, values, {"*": path.stat().st_size})
        if table.format != "parquet"
        else FileStats(path, values, *_footer(path))
        for path, values in files
    ]
    columns = frozenset(c.name.lower() for c in (*table.columns, *table.partition_keys))
    keys = tuple((key.name.lower(), duckdb_type(key.type)) for key in table.partition_keys)
    return TableStats(f"{table.database}.{table.name}", columns, keys, tuple(found))


def _footer(path: Path) -> tuple[dict[str, int], str]:
    """A Parquet file's top-level columns' compressed bytes, and its schema, from its
    footer."""
    try:
        metadata = pq.read_metadata(path)
    except (OSError, pa.ArrowException):
        return {}, ""  # DuckDB will say what is wrong with it when a query reads it
    sizes: dict[str, int] = {}
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for index in range(row_group.num_columns):
            chunk = row_group.column(index)
            name = chunk.path_in_schema.split(".")[0].lower()
            sizes[name] = sizes.get(name, 0) + chunk.total_compressed_size
    arrow = metadata.schema.to_arrow_schema().remove_metadata()
    return sizes, ",".join(f"{field.name}:{field.type}" for field in arrow)


def _all(listing: Any) -> list[Any]:
    """Every item of a paged catalog listing."""
    items: list[Any] = []
    token = None
    while True:
        page = listing(next_token=token)
        items += page.items
        token = page.next_token
        if token is None:
            return items


def _data_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(
        path
        for path in directory.rglob("*")
        if path.is_file()
        and not any(HIDDEN.search(part) for part in path.relative_to(directory).parts)
    )


def _attachment(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    if parts.scheme == "sqlite" and parts.path:
        path = parts.path[1:] if url.startswith("sqlite:///") else parts.path
        if not Path(path).is_file():
            raise QueryError(f"attach: no SQLite database at {path}")
        return path, "sqlite"
    if parts.scheme in ("postgresql", "postgres"):
        return url.replace("postgresql+psycopg://", "postgresql://"), "postgres"
    raise QueryError(f"attach: {url!r} is neither sqlite:///path nor postgresql://...")


def _load_extension(db: duckdb.DuckDBPyConnection, kind: str) -> None:
    """The extension from its PyPI package (duckdb-ext-sqlite, duckdb-ext-postgres): this
    machine cannot download extensions when a query needs one."""
    import duckdb_ext  # the packages' shared namespace

    directory = Path(next(iter(duckdb_ext.__path__))) / "extensions"
    db.execute(f"SET extension_directory = '{_quoted(str(directory))}'")
    db.execute(f"LOAD {'sqlite_scanner' if kind == 'sqlite' else 'postgres_scanner'}")


def _scans(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The profile's table scans of files."""
    found = []
    if node.get("operator_type") == "TABLE_SCAN" and "READ_" in str(
        node.get("extra_info", {}).get("Function", "")
    ):
        found.append(node)
    for child in node.get("children", []):
        found += _scans(child)
    return found


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0]
