"""The boundary between the catalog block and the engines that keep its metadata.

What crosses it is plain data the block has already checked against AWS Glue's rules (see
``archlab.blocks.catalog``): databases, tables (``CatalogTable``, one version of a table's
definition), partitions, pages of results with opaque continuation tokens, and a partition
filter already parsed into a small tree (``Predicate``) whose literals are typed for the
partition keys they compare with. An engine stores, finds and pages; what only the store can
know is its to decide — whether a database, table or partition exists (EntityNotFound,
AlreadyExists), whether an update read the latest version of a table (ConcurrentModification),
and what a continuation token means.

``Predicate.test`` is the reference evaluation over a partition's values, for engines that read
partitions and filter them (SQLite); an engine over Glue would render the tree back into
GetPartitions' expression text instead. The conversions of partition values to typed values
live here, once, because the block (checking values and literals) and every engine
(evaluating predicates) must agree on them.
"""

from __future__ import annotations

import base64
import binascii
import operator
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, Generic, Literal, Protocol, TypeVar
from urllib.parse import urlsplit

from archlab.blocks.errors import InvalidEngineUrl, InvalidInput

Format = Literal["parquet", "json"]
FORMATS: tuple[Format, ...] = ("parquet", "json")

T = TypeVar("T")


@dataclass(frozen=True)
class Column:
    """A column (or a partition key): its name and its Hive/Glue type, such as ``bigint`` or
    ``struct<url:string,ms:int>``."""

    name: str
    type: str
    comment: str = ""


@dataclass(frozen=True)
class Database:
    name: str
    description: str
    location: str | None
    parameters: dict[str, str]
    create_time: float
    """Seconds since the epoch, from the catalog's clock."""


@dataclass(frozen=True)
class CatalogTable:
    """One version of a table: its schema, where its data lives and in which format."""

    database: str
    name: str
    columns: tuple[Column, ...]
    partition_keys: tuple[Column, ...]
    location: str
    format: Format
    parameters: dict[str, str]
    description: str
    create_time: float
    update_time: float
    """When this version was written (the creation time for the first)."""
    version_id: int
    """1 at creation, one more at every update."""


@dataclass(frozen=True)
class Partition:
    """A slice of a table's data: one value per partition key, and where its files are."""

    database: str
    table: str
    values: tuple[str, ...]
    location: str
    parameters: dict[str, str]
    create_time: float


@dataclass(frozen=True)
class PartitionError:
    """One entry of a batch that was not created (Glue's PartitionError and ErrorDetail)."""

    values: tuple[str, ...]
    code: str
    message: str


@dataclass(frozen=True)
class Page(Generic[T]):
    """A page of results, and where the next one starts (None when none follows)."""

    items: list[T]
    next_token: str | None


# --- partition values ---------------------------------------------------------------------------

KeyKind = Literal["string", "integer", "decimal", "date", "timestamp"]
"""The partition key types a filter can compare, as Glue's GetPartitions lists them: strings
(string, char, varchar), integers (tinyint, smallint, int, bigint), decimals, dates and
timestamps. A partition's values are text; a key's kind says how they compare."""

CONVERSIONS: dict[KeyKind, Callable[[str], Any]] = {
    "string": str,
    "integer": int,
    "decimal": Decimal,
    "date": date.fromisoformat,
    "timestamp": datetime.fromisoformat,
}
"""Text to a comparable value; the block lets in only values these convert."""


@dataclass(frozen=True)
class KeyRef:
    """A partition key in a filter: its position among the table's keys, its name and kind."""

    index: int
    name: str
    kind: KeyKind

    def value(self, values: Sequence[str]) -> Any:
        return CONVERSIONS[self.kind](values[self.index])


# --- predicates ---------------------------------------------------------------------------------

ComparisonOperator = Literal["=", "<>", "<", "<=", ">", ">="]
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class Predicate(ABC):
    """A filter over partitions (GetPartitions' Expression), as a tree of these nodes."""

    @abstractmethod
    def test(self, values: Sequence[str]) -> bool:
        """Whether a partition with these values (one per partition key) is selected."""


@dataclass(frozen=True)
class Comparison(Predicate):
    """``key operator operand``; the operand has the key's kind (an int for integer keys)."""

    key: KeyRef
    operator: ComparisonOperator
    operand: Any

    def test(self, values: Sequence[str]) -> bool:
        return COMPARE[self.operator](self.key.value(values), self.operand)


@dataclass(frozen=True)
class Between(Predicate):
    """``key BETWEEN low AND high``, both ends included (nothing when low is above high)."""

    key: KeyRef
    low: Any
    high: Any

    def test(self, values: Sequence[str]) -> bool:
        return bool(self.low <= self.key.value(values) <= self.high)


@dataclass(frozen=True)
class In(Predicate):
    key: KeyRef
    operands: tuple[Any, ...]

    def test(self, values: Sequence[str]) -> bool:
        return self.key.value(values) in self.operands


@dataclass(frozen=True)
class Like(Predicate):
    """``key LIKE pattern`` on a string key: ``%`` is any text, ``_`` one character."""

    key: KeyRef
    pattern: str

    def test(self, values: Sequence[str]) -> bool:
        return like_pattern(self.pattern).fullmatch(values[self.key.index]) is not None


@dataclass(frozen=True)
class Not(Predicate):
    operand: Predicate

    def test(self, values: Sequence[str]) -> bool:
        return not self.operand.test(values)


@dataclass(frozen=True)
class And(Predicate):
    operands: tuple[Predicate, ...]

    def test(self, values: Sequence[str]) -> bool:
        return all(predicate.test(values) for predicate in self.operands)


@dataclass(frozen=True)
class Or(Predicate):
    operands: tuple[Predicate, ...]

    def test(self, values: Sequence[str]) -> bool:
        return any(predicate.test(values) for predicate in self.operands)


@lru_cache(maxsize=256)
def like_pattern(pattern: str) -> re.Pattern[str]:
    """A LIKE pattern as a regular expression (compiled once, as filters test many values)."""
    parts = (".*" if char == "%" else "." if char == "_" else re.escape(char) for char in pattern)
    return re.compile("".join(parts), re.DOTALL)


# --- continuation tokens ------------------------------------------------------------------------


def page_token(kind: str, position: str) -> str:
    """An opaque token for the page after ``position`` in a listing of ``kind``."""
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode("ascii")


def token_position(kind: str, token: str) -> str:
    """Where a token from ``page_token(kind, ...)`` resumes; InvalidInput for any other."""
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode()
    except (UnicodeError, binascii.Error, ValueError):
        text = ""
    found, separator, position = text.partition(":")
    if found != kind or not separator:
        raise InvalidInput(
            f"next_token {token!r} is not a token this catalog gave for a listing of {kind}"
        )
    return position


# --- the engine ---------------------------------------------------------------------------------


class CatalogEngine(Protocol):
    """Databases, tables with their versions, and partitions. Every argument has been checked
    by the block; an unknown database, table or partition is EntityNotFound, and every error
    changes nothing."""

    def create_database(self, database: Database) -> None:
        """AlreadyExists if a database has this name."""

    def get_database(self, name: str) -> Database: ...

    def get_databases(self, limit: int, next_token: str | None) -> Page[Database]:
        """Databases in name order."""

    def delete_database(self, name: str) -> None:
        """Delete the database with its tables, their versions and their partitions."""

    def create_table(self, table: CatalogTable) -> None:
        """Store the table's first version; AlreadyExists if the database has a table of
        this name, EntityNotFound if there is no such database."""

    def get_table(self, database: str, name: str) -> CatalogTable:
        """The table's latest version."""

    def get_tables(self, database: str, limit: int, next_token: str | None) -> Page[CatalogTable]:
        """The database's tables in name order."""

    def update_table(self, table: CatalogTable) -> None:
        """Store ``table`` as the table's new latest version, if its latest is the one before
        (``table.version_id - 1``); else ConcurrentModification."""

    def get_table_versions(
        self, database: str, name: str, limit: int, next_token: str | None
    ) -> Page[CatalogTable]:
        """Every version of the table, newest first."""

    def delete_table(self, database: str, name: str) -> None:
        """Delete the table with its versions and partitions."""

    def create_partitions(
        self, database: str, table: str, partitions: Sequence[Partition]
    ) -> list[PartitionError]:
        """Create each partition not already there (nor earlier in the batch); an entry that
        is gets an AlreadyExistsException error. EntityNotFound (creating nothing) if there is
        no such table."""

    def get_partition(self, database: str, table: str, values: Sequence[str]) -> Partition: ...

    def get_partitions(
        self,
        database: str,
        table: str,
        predicate: Predicate | None,
        limit: int,
        next_token: str | None,
    ) -> Page[Partition]:
        """The table's partitions that ``predicate`` selects, in an order the engine keeps
        between pages; a page holds at most ``limit``, and has a token only if more follow."""

    def delete_partition(self, database: str, table: str, values: Sequence[str]) -> None: ...

    def close(self) -> None: ...


SCHEMES = {"sqlite": "sqlite:///relative/path.db or sqlite:////absolute/path.db"}


def connect_catalog(url: str) -> CatalogEngine:
    """The catalog engine an URL names, such as ``sqlite:///.archlab/catalog.db``."""
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in SCHEMES:
        raise InvalidEngineUrl(
            f"{url!r} names no catalog engine; use one of: {', '.join(SCHEMES.values())}"
        )
    if parts.netloc or parts.path in ("", "/"):
        raise InvalidEngineUrl(f"{url!r}: a SQLite URL is {SCHEMES['sqlite']}")
    if parts.query:
        raise InvalidEngineUrl(f"{url!r}: the SQLite catalog engine takes no options")
    # Imported here: the engine module builds on this one's types.
    from archlab.engines.sqlite_catalog import SqliteCatalogEngine

    return SqliteCatalogEngine(parts.path[1:])
