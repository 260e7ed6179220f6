"""Catalog conformance: AWS Glue Data Catalog semantics, written against the block API only.

Every engine runs this suite: ``engine_url`` is parametrized by engine, and the test with
several processes hands the same URL to each of them. Nothing here knows how an engine stores
the catalog (the one test that calls an engine method calls the protocol's); an engine is done
when this passes.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from archlab.blocks.catalog import Catalog, CatalogTable, Column, PartitionInput, parse_type
from archlab.blocks.errors import (
    AlreadyExists,
    CatalogError,
    ConcurrentModification,
    EntityNotFound,
    InvalidEngineUrl,
    InvalidInput,
)
from archlab.clock import ManualClock
from archlab.engines.catalogs import CatalogEngine, connect_catalog

ENGINES = ["sqlite"]
START = 1_767_225_600.0


@pytest.fixture(params=ENGINES)
def engine_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    urls = {"sqlite": f"sqlite:///{tmp_path}/catalog.db"}
    return urls[request.param]


@pytest.fixture
def engine(engine_url: str) -> Iterator[CatalogEngine]:
    engine = connect_catalog(engine_url)
    yield engine
    engine.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def catalog(engine: CatalogEngine, clock: ManualClock) -> Catalog:
    catalog = Catalog(engine, clock)
    catalog.create_database("lake")
    return catalog


@pytest.fixture
def clicks(catalog: Catalog) -> CatalogTable:
    """A table partitioned by a string key (dt) and an integer key (hour)."""
    return catalog.create_table(
        "lake",
        "clicks",
        columns=[Column("url", "string"), Column("ms", "int")],
        partition_keys=[Column("dt", "string"), Column("hour", "int")],
        location="/lake/clicks",
        format="parquet",
    )


def table(catalog: Catalog, name: str = "events", **definition: Any) -> CatalogTable:
    arguments: dict[str, Any] = {
        "columns": [Column("id", "bigint")],
        "location": f"/lake/{name}",
        "format": "json",
    }
    return catalog.create_table("lake", name, **{**arguments, **definition})


def values_of(catalog: Catalog, expression: str | None = None) -> set[tuple[str, ...]]:
    return {p.values for p in catalog.partitions("lake", "clicks", expression)}


# --- databases ----------------------------------------------------------------------------------


def test_create_and_get_a_database(engine: CatalogEngine, clock: ManualClock) -> None:
    catalog = Catalog(engine, clock)
    created = catalog.create_database(
        "clickstream",
        description="Clicks and purchases\nof the storefront",
        location="/lake",
        parameters={"owner": "analytics"},
    )
    found = catalog.get_database("clickstream")
    assert found == created
    assert found.description == "Clicks and purchases\nof the storefront"
    assert found.location == "/lake"
    assert found.parameters == {"owner": "analytics"}
    assert found.create_time == START


def test_database_names_are_folded_to_lower_case(catalog: Catalog) -> None:
    created = catalog.create_database("ClickStream")
    assert created.name == "clickstream"
    assert catalog.get_database("CLICKSTREAM").name == "clickstream"
    with pytest.raises(AlreadyExists) as raised:
        catalog.create_database("clickstream")
    assert raised.value.code == "AlreadyExistsException"


@pytest.mark.parametrize("name", ["", "a" * 256, "bad-name", "a b", "naïve", "a.b", 5, None])
def test_bad_database_names(catalog: Catalog, name: Any) -> None:
    with pytest.raises(InvalidInput) as raised:
        catalog.create_database(name)
    assert raised.value.code == "InvalidInputException"
    assert [d.name for d in catalog.get_databases().items] == ["lake"]


@pytest.mark.parametrize(
    "arguments",
    [
        {"description": "d" * 2049},
        {"description": 5},
        {"location": ""},
        {"location": "/lake\n"},
        {"parameters": {"k": 1}},
        {"parameters": {"": "v"}},
        {"parameters": ["k"]},
    ],
)
def test_bad_database_definitions(catalog: Catalog, arguments: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        catalog.create_database("other", **arguments)
    with pytest.raises(EntityNotFound):
        catalog.get_database("other")


def test_an_unknown_database_is_entity_not_found(catalog: Catalog) -> None:
    operations = [
        lambda: catalog.get_database("missing"),
        lambda: catalog.delete_database("missing"),
        lambda: catalog.get_tables("missing"),
        lambda: catalog.get_table("missing", "events"),
        lambda: catalog.create_table("missing", "t", columns=[], location="/t", format="parquet"),
    ]
    for operation in operations:
        with pytest.raises(EntityNotFound) as raised:
            operation()
        assert raised.value.code == "EntityNotFoundException"
        assert "missing" in raised.value.message


def test_databases_are_listed_in_pages(catalog: Catalog) -> None:
    for name in ["e", "b", "d", "c"]:
        catalog.create_database(name)
    first = catalog.get_databases(limit=2)
    assert [d.name for d in first.items] == ["b", "c"]
    assert first.next_token is not None
    second = catalog.get_databases(limit=2, next_token=first.next_token)
    assert [d.name for d in second.items] == ["d", "e"]
    assert second.next_token is not None
    third = catalog.get_databases(limit=2, next_token=second.next_token)
    assert [d.name for d in third.items] == ["lake"]
    assert third.next_token is None


def test_a_full_page_that_ends_a_listing_has_no_token(
    catalog: Catalog, clicks: CatalogTable
) -> None:
    catalog.create_database("other")
    table(catalog)
    catalog.update_table("lake", "clicks", parameters={"a": "b"})
    catalog.create_partition("lake", "clicks", ["2026-12-01", "1"])
    catalog.create_partition("lake", "clicks", ["2026-12-01", "2"])
    catalog.create_partition("lake", "clicks", ["2026-12-01", "3"])
    pages = [
        catalog.get_databases(limit=2),
        catalog.get_tables("lake", limit=2),
        catalog.get_table_versions("lake", "clicks", limit=2),
        catalog.get_partitions("lake", "clicks", limit=3),
        catalog.get_partitions("lake", "clicks", expression="hour > 1", limit=2),
    ]
    for page in pages:
        assert page.items
        assert page.next_token is None
    first = catalog.get_partitions("lake", "clicks", expression="hour <> 2", limit=1)
    assert first.next_token is not None
    last = catalog.get_partitions(
        "lake", "clicks", expression="hour <> 2", limit=1, next_token=first.next_token
    )
    assert [p.values for p in first.items + last.items] == [
        ("2026-12-01", "1"),
        ("2026-12-01", "3"),
    ]
    assert last.next_token is None


def test_delete_database_deletes_its_tables_and_partitions(
    catalog: Catalog, clicks: CatalogTable
) -> None:
    catalog.create_partition("lake", "clicks", ["2026-12-01", "1"])
    catalog.delete_database("lake")
    with pytest.raises(EntityNotFound):
        catalog.get_database("lake")
    with pytest.raises(EntityNotFound):
        catalog.get_table("lake", "clicks")
    catalog.create_database("lake")
    assert catalog.get_tables("lake").items == []
    recreated = catalog.create_table(
        "lake",
        "clicks",
        columns=[],
        partition_keys=clicks.partition_keys,
        location="/x",
        format="json",
    )
    assert recreated.version_id == 1
    assert catalog.get_partitions("lake", "clicks").items == []


# --- tables -------------------------------------------------------------------------------------


def test_create_and_get_a_table(catalog: Catalog, clock: ManualClock) -> None:
    clock.advance(5)
    created = catalog.create_table(
        "Lake",
        "Clicks",
        columns=[Column("URL", "String", "the page"), Column("ms", "INT")],
        partition_keys=[Column("DT", "string")],
        location="file:///lake/clicks",
        format="parquet",
        parameters={"classification": "parquet"},
        description="Page views",
    )
    found = catalog.get_table("lake", "CLICKS")
    assert found == created
    assert (found.database, found.name) == ("lake", "clicks")
    assert found.columns == (Column("url", "string", "the page"), Column("ms", "int"))
    assert found.partition_keys == (Column("dt", "string"),)
    assert found.location == "file:///lake/clicks"
    assert found.format == "parquet"
    assert found.parameters == {"classification": "parquet"}
    assert found.description == "Page views"
    assert found.create_time == found.update_time == START + 5
    assert found.version_id == 1


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("STRING", "string"),
        ("integer", "int"),
        ("decimal", "decimal(10,0)"),
        ("DECIMAL( 12 , 2 )", "decimal(12,2)"),
        ("decimal(5)", "decimal(5,0)"),
        ("varchar(20)", "varchar(20)"),
        ("char(3)", "char(3)"),
        ("array < bigint >", "array<bigint>"),
        ("map<string, array<double>>", "map<string,array<double>>"),
        ("struct<Url:string, ms:int>", "struct<Url:string,ms:int>"),
        (
            "array<struct<a:map<int,boolean>,b:binary>>",
            "array<struct<a:map<int,boolean>,b:binary>>",
        ),
        ("struct<at:timestamp,on:date,f:float,t:tinyint,s:smallint>",) * 2,
    ],
)
def test_types_are_stored_in_their_canonical_spelling(
    catalog: Catalog, given: str, stored: str
) -> None:
    created = table(catalog, columns=[Column("c", given)])
    assert created.columns[0].type == stored
    assert catalog.get_table("lake", "events").columns[0].type == stored
    assert str(parse_type(stored)) == stored


@pytest.mark.parametrize(
    "definition",
    [
        {"columns": [Column("c", "text")]},
        {"columns": [Column("c", "array<int")]},
        {"columns": [Column("c", "array<>")]},
        {"columns": [Column("c", "map<array<int>,int>")]},
        {"columns": [Column("c", "struct<a:int,A:string>")]},
        {"columns": [Column("c", "struct<>")]},
        {"columns": [Column("c", "decimal(39,0)")]},
        {"columns": [Column("c", "decimal(5,6)")]},
        {"columns": [Column("c", "varchar(0)")]},
        {"columns": [Column("c", "int int")]},
        {"columns": [Column("c", 5)]},  # type: ignore[arg-type]
        {"columns": [Column("", "int")]},
        {"columns": [Column("a\nb", "int")]},
        {"columns": [Column("c" * 256, "int")]},
        {"columns": [Column("id", "int"), Column("ID", "string")]},
        {"columns": [("id", "int")]},
        {"columns": "id int"},
        {"partition_keys": [Column("id", "string")]},  # named as a column
        {"partition_keys": [Column("tags", "array<string>")]},
        {"format": "csv"},
        {"location": ""},
        {"location": None},
        {"parameters": {"k": None}},
        {"description": "x" * 2049},
    ],
)
def test_bad_table_definitions(catalog: Catalog, definition: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as raised:
        table(catalog, **definition)
    assert raised.value.code == "InvalidInputException"
    assert catalog.get_tables("lake").items == []


@pytest.mark.parametrize("name", ["", "a" * 256, "bad-name", "a/b", "ünïcode", 3])
def test_bad_table_names(catalog: Catalog, name: Any) -> None:
    with pytest.raises(InvalidInput):
        table(catalog, name)
    with pytest.raises(InvalidInput):
        catalog.get_table("lake", name)


def test_a_type_error_names_the_column_and_position(catalog: Catalog) -> None:
    with pytest.raises(InvalidInput) as raised:
        table(catalog, columns=[Column("id", "bigint"), Column("tags", "array<strin>")])
    assert "tags" in raised.value.message
    assert "position 6" in raised.value.message


def test_create_table_twice_is_already_exists(catalog: Catalog) -> None:
    table(catalog)
    with pytest.raises(AlreadyExists):
        table(catalog, "EVENTS")


def test_tables_are_listed_in_pages(catalog: Catalog) -> None:
    for name in ["d", "a", "c", "b", "e"]:
        table(catalog, name)
    catalog.create_database("other")
    table_in_other = catalog.create_table("other", "z", columns=[], location="/z", format="json")
    names = []
    token = None
    while True:
        page = catalog.get_tables("lake", limit=2, next_token=token)
        names.append([t.name for t in page.items])
        token = page.next_token
        if token is None:
            break
    assert names == [["a", "b"], ["c", "d"], ["e"]]
    assert catalog.get_tables("other").items == [table_in_other]


@pytest.mark.parametrize("limit", [0, 101, -1, "2", True, 1.5])
def test_bad_limits(catalog: Catalog, limit: Any) -> None:
    with pytest.raises(InvalidInput):
        catalog.get_tables("lake", limit=limit)
    with pytest.raises(InvalidInput):
        catalog.get_databases(limit=limit)


def test_bad_tokens(catalog: Catalog, clicks: CatalogTable) -> None:
    for name in "abc":
        catalog.create_database(name)
    database_token = catalog.get_databases(limit=1).next_token
    assert database_token is not None
    for token in ["nonsense", "", "%%%", database_token]:
        with pytest.raises(InvalidInput):
            catalog.get_tables("lake", next_token=token)
        with pytest.raises(InvalidInput):
            catalog.get_partitions("lake", "clicks", next_token=token)
        with pytest.raises(InvalidInput):
            catalog.get_table_versions("lake", "clicks", next_token=token)
    with pytest.raises(InvalidInput):
        catalog.get_databases(next_token=7)  # type: ignore[arg-type]


def test_update_table_makes_a_new_version(
    catalog: Catalog, clicks: CatalogTable, clock: ManualClock
) -> None:
    clock.advance(60)
    columns = [*clicks.columns, Column("Referrer", "string")]
    updated = catalog.update_table("lake", "clicks", columns=columns)
    assert updated.version_id == 2
    assert updated.columns == (*clicks.columns, Column("referrer", "string"))
    assert updated.create_time == START
    assert updated.update_time == START + 60
    assert (updated.location, updated.format, updated.partition_keys) == (
        clicks.location,
        clicks.format,
        clicks.partition_keys,
    )
    assert catalog.get_table("lake", "clicks") == updated
    clock.advance(60)
    third = catalog.update_table(
        "lake",
        "clicks",
        location="/elsewhere",
        format="json",
        parameters={"a": "b"},
        description="moved",
    )
    assert third.version_id == 3
    assert third.columns == updated.columns
    assert (third.location, third.format, third.parameters, third.description) == (
        "/elsewhere",
        "json",
        {"a": "b"},
        "moved",
    )
    versions = catalog.get_table_versions("lake", "clicks")
    assert versions.items == [third, updated, clicks]
    assert versions.next_token is None


def test_table_versions_are_listed_in_pages(catalog: Catalog, clicks: CatalogTable) -> None:
    for n in range(4):
        catalog.update_table("lake", "clicks", parameters={"n": str(n)})
    first = catalog.get_table_versions("lake", "clicks", limit=2)
    assert [v.version_id for v in first.items] == [5, 4]
    second = catalog.get_table_versions("lake", "clicks", limit=2, next_token=first.next_token)
    assert [v.version_id for v in second.items] == [3, 2]
    third = catalog.get_table_versions("lake", "clicks", limit=2, next_token=second.next_token)
    assert third.items == [clicks]
    assert third.next_token is None


@pytest.mark.parametrize(
    "change",
    [
        {"columns": [Column("url", "strng")]},
        {"columns": [Column("dt", "string")]},  # the name of a partition key
        {"columns": [Column("a", "int"), Column("A", "int")]},
        {"location": ""},
        {"format": "avro"},
        {"parameters": {"k": 5}},
        {"description": 5},
    ],
)
def test_bad_updates_change_nothing(
    catalog: Catalog, clicks: CatalogTable, change: dict[str, Any]
) -> None:
    with pytest.raises(InvalidInput):
        catalog.update_table("lake", "clicks", **change)
    assert catalog.get_table("lake", "clicks") == clicks
    assert catalog.get_table_versions("lake", "clicks").items == [clicks]


def test_an_update_from_a_stale_version_is_concurrent_modification(
    engine: CatalogEngine, catalog: Catalog, clicks: CatalogTable
) -> None:
    newer = catalog.update_table("lake", "clicks", parameters={"by": "first"})
    stale = replace(clicks, parameters={"by": "second"}, version_id=clicks.version_id + 1)
    with pytest.raises(ConcurrentModification) as raised:
        engine.update_table(stale)
    assert raised.value.code == "ConcurrentModificationException"
    assert catalog.get_table("lake", "clicks") == newer
    assert len(catalog.get_table_versions("lake", "clicks").items) == 2


def test_an_unknown_table_is_entity_not_found(catalog: Catalog) -> None:
    operations = [
        lambda: catalog.get_table("lake", "missing"),
        lambda: catalog.update_table("lake", "missing", parameters={}),
        lambda: catalog.get_table_versions("lake", "missing"),
        lambda: catalog.delete_table("lake", "missing"),
        lambda: catalog.create_partition("lake", "missing", ["x"]),
        lambda: catalog.batch_create_partition("lake", "missing", [PartitionInput(["x"])]),
        lambda: catalog.get_partition("lake", "missing", ["x"]),
        lambda: catalog.get_partitions("lake", "missing"),
        lambda: catalog.delete_partition("lake", "missing", ["x"]),
    ]
    for operation in operations:
        with pytest.raises(EntityNotFound) as raised:
            operation()
        assert "missing" in raised.value.message


def test_delete_table_deletes_its_versions_and_partitions(
    catalog: Catalog, clicks: CatalogTable
) -> None:
    catalog.create_partition("lake", "clicks", ["2026-12-01", "1"])
    catalog.update_table("lake", "clicks", parameters={"a": "b"})
    catalog.delete_table("lake", "clicks")
    with pytest.raises(EntityNotFound):
        catalog.get_table("lake", "clicks")
    again = catalog.create_table(
        "lake",
        "clicks",
        columns=[],
        partition_keys=clicks.partition_keys,
        location="/c",
        format="json",
    )
    assert catalog.get_table_versions("lake", "clicks").items == [again]
    assert catalog.get_partitions("lake", "clicks").items == []


# --- partitions ---------------------------------------------------------------------------------


def test_create_and_get_a_partition(
    catalog: Catalog, clicks: CatalogTable, clock: ManualClock
) -> None:
    clock.advance(1)
    created = catalog.create_partition(
        "lake", "clicks", ["2026-12-02", "13"], location="/data/13", parameters={"rows": "7"}
    )
    found = catalog.get_partition("LAKE", "Clicks", ["2026-12-02", "13"])
    assert found == created
    assert (found.database, found.table, found.values) == ("lake", "clicks", ("2026-12-02", "13"))
    assert found.location == "/data/13"
    assert found.parameters == {"rows": "7"}
    assert found.create_time == START + 1


def test_a_partition_is_by_default_at_its_hive_path(catalog: Catalog) -> None:
    table(
        catalog,
        "odd",
        partition_keys=[Column("at", "string"), Column("n", "int")],
        location="s3://bucket/odd/",
    )
    partition = catalog.create_partition("lake", "odd", ["2026-12-02 13:00/a=b%", "-4"])
    assert partition.location == "s3://bucket/odd/at=2026-12-02 13%3A00%2Fa%3Db%25/n=-4"


def test_create_partition_twice_is_already_exists(catalog: Catalog, clicks: CatalogTable) -> None:
    catalog.create_partition("lake", "clicks", ["2026-12-02", "13"], location="/first")
    with pytest.raises(AlreadyExists):
        catalog.create_partition("lake", "clicks", ["2026-12-02", "13"], location="/second")
    assert catalog.get_partition("lake", "clicks", ["2026-12-02", "13"]).location == "/first"


@pytest.mark.parametrize(
    "values",
    [
        ["2026-12-02"],
        ["2026-12-02", "13", "x"],
        ["2026-12-02", "1pm"],
        ["2026-12-02", "13.0"],
        ["2026-12-02", "2147483648"],  # beyond int
        ["", "13"],
        ["x" * 1025, "13"],
        ["2026-12-02", 13],
        "2026-12-02",
    ],
)
def test_bad_partition_values(catalog: Catalog, clicks: CatalogTable, values: Any) -> None:
    with pytest.raises(InvalidInput):
        catalog.create_partition("lake", "clicks", values)
    with pytest.raises(InvalidInput):
        catalog.get_partition("lake", "clicks", values)
    assert catalog.get_partitions("lake", "clicks").items == []


@pytest.mark.parametrize(
    ("key_type", "good", "bad"),
    [
        ("tinyint", ["-128", "127", "+5"], ["128", "1e2"]),
        ("bigint", ["9223372036854775807"], ["9223372036854775808"]),
        ("date", ["2026-12-02", "2024-02-29"], ["2026-02-30", "2026-12-2", "20261202"]),
        ("timestamp", ["2026-12-02 13:00:00", "2026-12-02T13:00:00.123"], ["2026-12-02"]),
        ("decimal(5,2)", ["123.45", "-1.5", "0"], ["1234.5", "1.234", "abc", "NaN"]),
        ("varchar(10)", ["anything at all"], []),
        ("boolean", ["whatever"], []),
    ],
)
def test_partition_values_must_suit_their_key_type(
    catalog: Catalog, key_type: str, good: list[str], bad: list[str]
) -> None:
    table(catalog, "typed", partition_keys=[Column("k", key_type)])
    for value in good:
        catalog.create_partition("lake", "typed", [value])
    for value in bad:
        with pytest.raises(InvalidInput) as raised:
            catalog.create_partition("lake", "typed", [value])
        assert "k" in raised.value.message
    assert sorted(p.values[0] for p in catalog.partitions("lake", "typed")) == sorted(good)


def test_batch_create_creates_the_valid_entries_and_reports_the_others(
    catalog: Catalog, clicks: CatalogTable
) -> None:
    catalog.create_partition("lake", "clicks", ["2026-12-01", "0"])
    errors = catalog.batch_create_partition(
        "lake",
        "clicks",
        [
            PartitionInput(["2026-12-01", "1"], location="/one"),
            PartitionInput(["2026-12-01", "noon"]),
            PartitionInput(["2026-12-01", "0"]),  # already there
            PartitionInput(["2026-12-01", "2"]),
            PartitionInput(["2026-12-01", "2"]),  # twice in the batch
            PartitionInput(["2026-12-01"]),
            PartitionInput(["2026-12-01", "3"], parameters={"k": 1}),  # type: ignore[dict-item]
        ],
    )
    assert [(e.values, e.code) for e in errors] == [
        (("2026-12-01", "noon"), "InvalidInputException"),
        (("2026-12-01", "0"), "AlreadyExistsException"),
        (("2026-12-01", "2"), "AlreadyExistsException"),
        (("2026-12-01",), "InvalidInputException"),
        (("2026-12-01", "3"), "InvalidInputException"),
    ]
    assert all(error.message for error in errors)
    assert values_of(catalog) == {("2026-12-01", v) for v in "012"}
    assert catalog.get_partition("lake", "clicks", ["2026-12-01", "1"]).location == "/one"


def test_batch_create_takes_at_most_100(catalog: Catalog, clicks: CatalogTable) -> None:
    entries = [PartitionInput(["2026-12-01", str(n)]) for n in range(101)]
    with pytest.raises(InvalidInput):
        catalog.batch_create_partition("lake", "clicks", entries)
    assert values_of(catalog) == set()
    assert catalog.batch_create_partition("lake", "clicks", entries[:100]) == []
    assert len(values_of(catalog)) == 100
    assert catalog.batch_create_partition("lake", "clicks", []) == []


@pytest.mark.parametrize(
    "entries",
    [
        [PartitionInput(["2026-12-01", "1"]), ("2026-12-01", "2")],
        [PartitionInput(["2026-12-01", "1"]), PartitionInput("2026-12-01")],
        [PartitionInput(["2026-12-01", "1"]), PartitionInput(["2026-12-01", 2])],  # type: ignore[list-item]
        PartitionInput(["2026-12-01", "1"]),
    ],
)
def test_a_malformed_batch_creates_nothing(
    catalog: Catalog, clicks: CatalogTable, entries: Any
) -> None:
    with pytest.raises(InvalidInput):
        catalog.batch_create_partition("lake", "clicks", entries)
    assert values_of(catalog) == set()


def test_delete_partition(catalog: Catalog, clicks: CatalogTable) -> None:
    catalog.create_partition("lake", "clicks", ["2026-12-01", "1"])
    catalog.create_partition("lake", "clicks", ["2026-12-01", "2"])
    catalog.delete_partition("lake", "clicks", ["2026-12-01", "1"])
    assert values_of(catalog) == {("2026-12-01", "2")}
    with pytest.raises(EntityNotFound):
        catalog.delete_partition("lake", "clicks", ["2026-12-01", "1"])
    with pytest.raises(EntityNotFound):
        catalog.get_partition("lake", "clicks", ["2026-12-01", "1"])


def test_partitions_are_listed_in_pages(catalog: Catalog, clicks: CatalogTable) -> None:
    for start in range(0, 1001, 100):
        entries = [
            PartitionInput(["2026-12-01", str(n)]) for n in range(start, min(start + 100, 1001))
        ]
        assert catalog.batch_create_partition("lake", "clicks", entries) == []
    first = catalog.get_partitions("lake", "clicks")
    assert len(first.items) == 1000
    assert first.next_token is not None
    second = catalog.get_partitions("lake", "clicks", next_token=first.next_token)
    assert len(second.items) == 1
    assert second.next_token is None
    every = [p.values for p in first.items + second.items]
    assert len(set(every)) == 1001
    assert set(every) == values_of(catalog)
    with pytest.raises(InvalidInput):
        catalog.get_partitions("lake", "clicks", limit=1001)


# --- filters ------------------------------------------------------------------------------------

DAYS = ["2026-11-30", "2026-12-01", "2026-12-02"]
HOURS = [0, 9, 10, 13, 23]


@pytest.fixture
def hours(catalog: Catalog, clicks: CatalogTable) -> Catalog:
    entries = [PartitionInput([day, str(hour)]) for day in DAYS for hour in HOURS]
    assert catalog.batch_create_partition("lake", "clicks", entries) == []
    return catalog


def where(test: Any) -> set[tuple[str, ...]]:
    return {(day, str(hour)) for day in DAYS for hour in HOURS if test(day, hour)}


EXPRESSIONS: list[tuple[str, Any]] = [
    ("dt = '2026-12-01'", lambda d, h: d == "2026-12-01"),
    ("'2026-12-01' = dt", lambda d, h: d == "2026-12-01"),
    ("dt <> '2026-12-01'", lambda d, h: d != "2026-12-01"),
    ("dt != '2026-12-01'", lambda d, h: d != "2026-12-01"),
    ("dt >= '2026-12-01'", lambda d, h: d >= "2026-12-01"),
    ("dt > '2026-12-01'", lambda d, h: d > "2026-12-01"),
    ("'2026-12-01' > dt", lambda d, h: d < "2026-12-01"),
    ("hour < 10", lambda d, h: h < 10),  # as numbers: 9 < 10, although "9" > "10"
    ("hour <= '10'", lambda d, h: h <= 10),
    ("10 <= hour", lambda d, h: h >= 10),
    ("10 < hour", lambda d, h: h > 10),
    ("10 >= hour", lambda d, h: h <= 10),
    ("10 <> hour", lambda d, h: h != 10),
    ("hour > 9", lambda d, h: h > 9),
    ("hour >= 23", lambda d, h: h >= 23),
    ("hour = 09", lambda d, h: h == 9),
    ("hour = -1", lambda d, h: False),
    ("hour IN (0, 13, 99)", lambda d, h: h in (0, 13)),
    ("hour NOT IN (0, 13)", lambda d, h: h not in (0, 13)),
    ("dt in ('2026-11-30', '2026-12-02')", lambda d, h: d != "2026-12-01"),
    ("hour BETWEEN 9 AND 13", lambda d, h: 9 <= h <= 13),
    ("hour between 13 and 9", lambda d, h: False),
    ("hour NOT BETWEEN 9 AND 13", lambda d, h: not 9 <= h <= 13),
    (
        "hour BETWEEN 9 AND 13 AND dt = '2026-12-01'",
        lambda d, h: 9 <= h <= 13 and d == "2026-12-01",
    ),
    ("dt BETWEEN '2026-12-01' AND '2026-12-31'", lambda d, h: d >= "2026-12-01"),
    ("dt LIKE '2026-12-%'", lambda d, h: d.startswith("2026-12-")),
    ("dt LIKE '2026-1_-01'", lambda d, h: d == "2026-12-01"),
    ("dt LIKE '%2026-12-01%'", lambda d, h: d == "2026-12-01"),
    ("dt LIKE '2026-12-0'", lambda d, h: False),
    ("dt NOT LIKE '%-30'", lambda d, h: not d.endswith("-30")),
    ("dt = '2026-12-01' AND hour > 9", lambda d, h: d == "2026-12-01" and h > 9),
    ("dt = '2026-12-01' OR hour = 0", lambda d, h: d == "2026-12-01" or h == 0),
    (
        "dt = '2026-11-30' OR dt = '2026-12-02' AND hour = 0",  # AND binds tighter
        lambda d, h: d == "2026-11-30" or (d == "2026-12-02" and h == 0),
    ),
    (
        "(dt = '2026-11-30' OR dt = '2026-12-02') AND hour = 0",
        lambda d, h: d != "2026-12-01" and h == 0,
    ),
    ("NOT hour = 0", lambda d, h: h != 0),
    (
        "NOT (hour = 0 OR hour = 23) and not dt = '2026-12-01'",
        lambda d, h: h not in (0, 23) and d != "2026-12-01",
    ),
    ("`hour` = 13 And \"DT\" = '2026-12-02'", lambda d, h: h == 13 and d == "2026-12-02"),
    ("HOUR = 13", lambda d, h: h == 13),
    ("dt = 'it''s'", lambda d, h: False),
]


@pytest.mark.parametrize(("expression", "test"), EXPRESSIONS)
def test_expressions_select_partitions(hours: Catalog, expression: str, test: Any) -> None:
    assert values_of(hours, expression) == where(test)


@pytest.mark.parametrize(
    ("expression", "mentions"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("url = 'x'", "url is not a partition key"),
        ("dt = 5", "quoted"),
        ("hour = 'noon'", "'noon' is not a valid int"),
        ("hour = 1.5", "'1.5' is not a valid int"),
        ("dt = 'unterminated", "position 5"),
        ("dt = '2026-12-01' AND", "the end"),
        ("dt = '2026-12-01' hour = 1", "position 18"),
        ("hour = dt", "between a partition key and a value"),
        ("1 = 1", "between a partition key and a value"),
        ("hour LIKE '1%'", "LIKE compares string keys"),
        ("dt LIKE 5", "quoted pattern"),
        ("(hour = 1", "')'"),
        ("hour IN ()", "a value"),
        ("hour IN (1, 2", "')'"),
        ("hour BETWEEN 1 OR 2", "AND"),
        ("hour", "a comparison"),
        ("hour IS NULL", "a comparison"),
        ("dt = '2026-12-01' ; DROP", "cannot read"),
        ("AND hour = 1", "a partition key"),
        ("hour == 1", "a value for partition key hour at position 6"),
    ],
)
def test_bad_expressions(hours: Catalog, expression: str, mentions: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        hours.get_partitions("lake", "clicks", expression=expression)
    assert mentions in raised.value.message


def test_an_expression_must_be_text(hours: Catalog) -> None:
    with pytest.raises(InvalidInput):
        hours.get_partitions("lake", "clicks", expression=5)  # type: ignore[arg-type]


def test_expressions_on_typed_keys(catalog: Catalog) -> None:
    table(
        catalog,
        "typed",
        partition_keys=[
            Column("day", "date"),
            Column("at", "timestamp"),
            Column("price", "decimal(6,2)"),
            Column("flag", "boolean"),
        ],
    )
    rows = [
        ["2026-12-01", "2026-12-01 09:00:00", "9.5", "true"],
        ["2026-12-02", "2026-12-02 10:30:00", "10.25", "false"],
        ["2026-12-10", "2026-12-10 00:00:00", "100", "true"],
    ]
    for row in rows:
        catalog.create_partition("lake", "typed", row)

    def days(expression: str) -> list[str]:
        return sorted(p.values[0] for p in catalog.partitions("lake", "typed", expression))

    assert days("day > '2026-12-02'") == ["2026-12-10"]
    assert days("at >= '2026-12-02 10:00:00'") == ["2026-12-02", "2026-12-10"]
    assert days("price < 10.3") == ["2026-12-01", "2026-12-02"]
    assert days("price = '100.00'") == ["2026-12-10"]
    with pytest.raises(InvalidInput, match="boolean"):
        days("flag = 'true'")
    with pytest.raises(InvalidInput, match="not a valid date"):
        days("day = '2026-13-01'")
    with pytest.raises(InvalidInput, match="quoted"):
        days("day = 2026")


def test_filtered_listings_are_paged(hours: Catalog) -> None:
    expression = "hour >= 10 OR dt = '2026-12-01'"
    seen = []
    token = None
    while True:
        page = hours.get_partitions(
            "lake", "clicks", expression=expression, limit=2, next_token=token
        )
        assert 1 <= len(page.items) <= 2
        seen.extend(p.values for p in page.items)
        token = page.next_token
        if token is None:
            break
    expected = where(lambda d, h: h >= 10 or d == "2026-12-01")
    assert len(seen) == len(expected)
    assert set(seen) == expected


def test_a_table_without_partition_keys(catalog: Catalog) -> None:
    table(catalog)
    assert catalog.get_partitions("lake", "events").items == []
    with pytest.raises(InvalidInput, match="none"):
        catalog.get_partitions("lake", "events", expression="dt = 'x'")
    with pytest.raises(InvalidInput):
        catalog.create_partition("lake", "events", ["x"])


# --- engines ------------------------------------------------------------------------------------


def test_catalog_errors_share_a_base() -> None:
    for error in (EntityNotFound, AlreadyExists, InvalidInput, ConcurrentModification):
        assert issubclass(error, CatalogError)


@pytest.mark.parametrize(
    "url", ["sqlite://", "sqlite:///", "sqlite://host/c.db", "sqlite:///c.db?x=1", "c.db", 5]
)
def test_catalog_engine_urls(url: Any) -> None:
    with pytest.raises(InvalidEngineUrl):
        connect_catalog(url)


def test_a_relative_sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    engine = connect_catalog("sqlite:///data/catalog.db")
    Catalog(engine).create_database("lake")
    engine.close()
    assert (tmp_path / "data" / "catalog.db").exists()


def test_two_engines_on_one_url_share_the_catalog(engine_url: str, clicks: CatalogTable) -> None:
    other = Catalog(connect_catalog(engine_url))
    assert other.get_table("lake", "clicks") == clicks
    other.create_partition("lake", "clicks", ["2026-12-01", "1"])
    other.engine.close()


CREATOR = """
import sys
from archlab.blocks.catalog import Catalog, PartitionInput
from archlab.engines.catalogs import connect_catalog

catalog = Catalog(connect_catalog(sys.argv[1]))
start = int(sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()
created = 0
for first in range(start, start + 200, 50):
    entries = [PartitionInput(["2026-12-01", str(n)]) for n in range(first, first + 50)]
    created += 50 - len(catalog.batch_create_partition("lake", "clicks", entries))
print(created)
"""


def test_processes_creating_the_same_partitions_create_each_once(
    engine_url: str, catalog: Catalog, clicks: CatalogTable
) -> None:
    """Three processes create overlapping ranges at once: every partition is created by one
    of them, and the others are told it already exists."""
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(CREATOR), engine_url, str(start)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for start in (0, 100, 150)
    ]
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline() == "ready\n"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.close()
    created = [int(worker.stdout.read()) for worker in workers if worker.stdout]
    assert [worker.wait(timeout=60) for worker in workers] == [0, 0, 0]
    assert sum(created) == 350
    assert values_of(catalog) == {("2026-12-01", str(n)) for n in range(350)}
