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
columns it reads in the row groups it reads; DuckDB's profile gives, for each scan, the columns
it projected and the rows it read, and the files' footers give each column's compressed bytes
per row, so a scan's bytes are its rows times its columns' bytes per row.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
import time
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


class QueryError(ValueError):
    """A query that could not run: the message says why, in DuckDB's words where it has them."""


@dataclass(frozen=True)
class TableStats:
    """What a view's files hold, from their footers: how many files, and each column's
    compressed bytes per row."""

    files: int
    bytes_per_row: dict[str, float]


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
        self._profile = Path(tempfile.mkdtemp(prefix="archlab-query-")) / "profile.json"
        self._attached: set[str] = set()
        self._stats: dict[str, TableStats] = {}
        self.refresh()

    def close(self) -> None:
        self.db.close()

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
                self.db.execute(
                    f'CREATE OR REPLACE VIEW "{table.database}"."{table.name}" AS '
                    + _scan(table, files)
                )
                self._stats[f"{table.database}.{table.name}"] = _stats(table, files)

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

    def _files(self, table: CatalogTable) -> list[Path]:
        if not table.partition_keys:
            return _data_files(local_path(table.location))
        found: list[Path] = []
        for partition in _all(partial(self.catalog.get_partitions, table.database, table.name)):
            found += _data_files(local_path(partition.location))
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
        total = 0.0
        for scan in _scans(profile):
            info = scan.get("extra_info", {})
            projected = [c.strip() for c in str(info.get("Projections", "")).split("\n")]
            projected = [c for c in projected if c]
            of_files = str(info.get("Scanning Files", "")).partition("/")[2]
            stats = self._stats_for(projected, of_files)
            if stats is None:
                continue
            rows = int(scan.get("operator_rows_scanned") or 0)
            per_row = stats.bytes_per_row
            total += rows * sum(per_row.get(c, per_row.get("*", 0.0)) for c in projected)
        return round(total)

    def _stats_for(self, projected: list[str], of_files: str) -> TableStats | None:
        """The view a scan read: the one with every projected column and as many files."""
        for stats in self._stats.values():
            if (not of_files or str(stats.files) == of_files) and all(
                c in stats.bytes_per_row or "*" in stats.bytes_per_row for c in projected
            ):
                return stats
        return None


def _scan(table: CatalogTable, files: list[Path]) -> str:
    """The SELECT a table's view is."""
    columns = [*table.columns, *table.partition_keys]
    if not files:  # no data yet: the right columns and no rows
        typed = ", ".join(f'CAST(NULL AS {duckdb_type(c.type)}) AS "{c.name}"' for c in columns)
        return f"SELECT {typed} WHERE false"
    listed = "[" + ", ".join(f"'{_quoted(str(path))}'" for path in files) + "]"
    if table.format == "json":
        reader = f"read_json_auto({listed}, format='newline_delimited', union_by_name=true"
    else:
        reader = f"read_parquet({listed}, union_by_name=true"
    if table.partition_keys:
        types = ", ".join(
            f"'{key.name}': '{duckdb_type(key.type)}'" for key in table.partition_keys
        )
        reader += f", hive_partitioning=true, hive_types={{{types}}}"
    return f"SELECT * FROM {reader})"


def _stats(table: CatalogTable, files: list[Path]) -> TableStats:
    rows = 0
    sizes: dict[str, int] = {}
    for path in files:
        if table.format != "parquet":
            rows += 1
            sizes["*"] = sizes.get("*", 0) + path.stat().st_size
            continue
        try:
            metadata = pq.read_metadata(path)
        except (OSError, pa.ArrowException):
            continue  # DuckDB will say what is wrong with it when a query reads it
        rows += metadata.num_rows
        for group in range(metadata.num_row_groups):
            row_group = metadata.row_group(group)
            for index in range(row_group.num_columns):
                chunk = row_group.column(index)
                name = chunk.path_in_schema.split(".")[0]
                sizes[name] = sizes.get(name, 0) + chunk.total_compressed_size
    per_row = {name: size / rows for name, size in sizes.items()} if rows else {}
    return TableStats(len(files), per_row)


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
