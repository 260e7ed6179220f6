"""The crawler over real lake directories: Parquet footers, JSON lines samples, Hive
partitions, type widening, schema-change policies, the schema cache, and what it skips."""

from __future__ import annotations

import gzip
import json
import logging
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from archlab.blocks.catalog import Catalog, Column, parse_type
from archlab.blocks.errors import EntityNotFound, InvalidInput
from archlab.clock import ManualClock
from archlab.engines.catalogs import connect_catalog
from archlab.lake.crawler import Crawler, CrawlReport, SkippedFile, arrow_type, widen

CLICK = {"url": ["/a", "/b"], "ms": pa.array([12, 40], pa.int32())}


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog(connect_catalog(f"sqlite:///{tmp_path}/catalog.db"), ManualClock())
    catalog.create_database("clickstream")
    return catalog


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    return tmp_path / "lake"


def parquet(path: Path, columns: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)
    return path


def jsonl(path: Path, records: list[Any], *, compress: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(record) + "\n" for record in records)
    path.write_bytes(gzip.compress(text.encode()) if compress else text.encode())
    return path


def crawl(catalog: Catalog, *targets: Path | str, **options: Any) -> CrawlReport:
    return Crawler(catalog, "clickstream", list(targets), **options).crawl()


def columns(catalog: Catalog, table: str = "clicks") -> dict[str, str]:
    return {column.name: column.type for column in catalog.get_table("clickstream", table).columns}


def partitions(catalog: Catalog, table: str = "clicks") -> dict[tuple[str, ...], str]:
    return {p.values: p.location for p in catalog.partitions("clickstream", table)}


# --- tables and partitions ----------------------------------------------------------------------


def test_a_partitioned_parquet_table(catalog: Catalog, lake: Path) -> None:
    first = parquet(lake / "clicks/dt=2026-12-01/hour=09/part-0.parquet", CLICK)
    parquet(lake / "clicks/dt=2026-12-01/hour=10/part-0.parquet", CLICK)
    parquet(lake / "clicks/dt=2026-12-01/hour=10/part-1.parquet", CLICK)
    report = crawl(catalog, lake / "clicks")
    table = catalog.get_table("clickstream", "clicks")
    assert table.columns == (Column("url", "string"), Column("ms", "int"))
    assert table.partition_keys == (Column("dt", "string"), Column("hour", "string"))
    assert table.location == str(lake / "clicks")
    assert table.format == "parquet"
    assert table.parameters["classification"] == "parquet"
    assert partitions(catalog) == {
        ("2026-12-01", "09"): str(first.parent),
        ("2026-12-01", "10"): str(lake / "clicks/dt=2026-12-01/hour=10"),
    }
    assert report.tables_created == ["clicks"]
    assert report.tables_updated == []
    assert report.partitions_added == {"clicks": [("2026-12-01", "09"), ("2026-12-01", "10")]}
    assert report.schema_changes == report.skipped == []
    assert (report.files_read, report.files_remembered) == (3, 0)


def test_two_hundred_partitions(catalog: Catalog, lake: Path) -> None:
    expected = {}
    for n in range(200):
        directory = lake / f"clicks/dt=2026-12-{1 + n // 24:02d}/hour={n % 24:02d}"
        parquet(directory / "part-0.parquet", CLICK)
        (directory / "_SUCCESS").touch()
        expected[(f"2026-12-{1 + n // 24:02d}", f"{n % 24:02d}")] = str(directory)
    report = crawl(catalog, lake)
    assert partitions(catalog) == expected
    assert sorted(report.partitions_added["clicks"]) == sorted(expected)
    assert report.files_read == 200
    assert report.skipped == []
    afternoon = catalog.partitions("clickstream", "clicks", "dt = '2026-12-03' AND hour >= '12'")
    assert sorted(p.values[1] for p in afternoon) == [f"{h}" for h in range(12, 24)]

    crawler = Crawler(catalog, "clickstream", [lake])
    crawler.crawl()
    again = crawler.crawl()
    assert again.partitions_added == {}
    assert (again.files_read, again.files_remembered) == (0, 200)
    for hour in range(8, 13):
        parquet(lake / f"clicks/dt=2026-12-09/hour={hour:02d}/part-0.parquet", CLICK)
    more = crawler.crawl()
    assert sorted(more.partitions_added["clicks"]) == [
        ("2026-12-09", f"{h:02d}") for h in range(8, 13)
    ]
    assert (more.files_read, more.files_remembered) == (5, 200)
    assert len(partitions(catalog)) == 205


def test_an_unpartitioned_table(catalog: Catalog, lake: Path) -> None:
    parquet(lake / "products/a.parquet", {"sku": ["x"]})
    parquet(lake / "products/b.parquet", {"sku": ["y"], "price": [1.5]})
    report = crawl(catalog, lake / "products")
    later = parquet(lake / "products/dt=1/c.parquet", {"sku": ["z"]})
    assert crawl(catalog, lake / "products").skipped == [
        SkippedFile(str(later), "in partition directories (dt) of a table without partitions")
    ]
    table = catalog.get_table("clickstream", "products")
    assert table.partition_keys == ()
    assert columns(catalog, "products") == {"sku": "string", "price": "double"}
    assert catalog.get_partitions("clickstream", "products").items == []
    assert report.partitions_added == {}


def test_a_folder_of_tables(catalog: Catalog, lake: Path) -> None:
    parquet(lake / "clicks/dt=2026-12-01/a.parquet", CLICK)
    jsonl(lake / "page-views/dt=2026-12-01/a.json", [{"page": "/"}])
    (lake / ".hidden").mkdir()
    report = crawl(catalog, lake, table_prefix="raw_")
    assert sorted(report.tables_created) == ["raw_clicks", "raw_page_views"]
    assert catalog.get_table("clickstream", "raw_page_views").format == "json"
    assert partitions(catalog, "raw_page_views") == {
        ("2026-12-01",): str(lake / "page-views/dt=2026-12-01")
    }


def test_targets_as_file_urls(
    catalog: Catalog, lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parquet(lake / "clicks/dt=1/a.parquet", CLICK)
    parquet(lake / "orders/dt=1/a.parquet", {"id": [1]})
    monkeypatch.chdir(tmp_path)
    crawl(catalog, "file:///lake/clicks", f"file:///{lake / 'orders'}", "lake/clicks")
    assert catalog.get_table("clickstream", "clicks").location == str(lake / "clicks")
    assert catalog.get_table("clickstream", "orders").location == str(lake / "orders")


def test_hive_escapes_in_directory_names_are_undone(catalog: Catalog, lake: Path) -> None:
    parquet(lake / "clicks/At=2026-12-02 13%3A00%2F5/a.parquet", CLICK)
    crawl(catalog, lake / "clicks")
    table = catalog.get_table("clickstream", "clicks")
    assert table.partition_keys == (Column("at", "string"),)
    assert list(partitions(catalog)) == [("2026-12-02 13:00/5",)]


def test_partitions_already_in_the_catalog_are_not_added_again(
    catalog: Catalog, lake: Path
) -> None:
    parquet(lake / "clicks/dt=1/a.parquet", CLICK)
    crawl(catalog, lake / "clicks")
    catalog.create_partition("clickstream", "clicks", ["2"], location="/by/hand")
    parquet(lake / "clicks/dt=2/a.parquet", CLICK)
    parquet(lake / "clicks/dt=3/a.parquet", CLICK)
    report = crawl(catalog, lake / "clicks")
    assert report.partitions_added == {"clicks": [("3",)]}
    assert partitions(catalog)[("2",)] == "/by/hand"


# --- schemas ------------------------------------------------------------------------------------


def test_types_widen_across_files(catalog: Catalog, lake: Path) -> None:
    parquet(
        lake / "clicks/dt=1/a.parquet",
        {
            "ms": pa.array([1], pa.int32()),
            "size": pa.array([1], pa.int8()),
            "user": [{"id": 1}],
            "at": pa.array([0], pa.date32()),
            "code": [7],
            "price": pa.array([Decimal("1.25")], pa.decimal128(5, 2)),
        },
    )
    parquet(
        lake / "clicks/dt=2/a.parquet",
        {
            "ms": pa.array([1], pa.int64()),
            "size": pa.array([1], pa.int16()),
            "user": [{"id": 1, "plan": "pro"}],
            "at": pa.array([0], pa.timestamp("ms")),
            "code": ["E7"],
            "price": pa.array([Decimal("100.5")], pa.decimal128(10, 1)),
        },
    )
    parquet(lake / "clicks/dt=3/a.parquet", {"ms": [1.5], "tags": [["a"]]})
    crawl(catalog, lake / "clicks")
    assert columns(catalog) == {
        "ms": "double",
        "size": "smallint",
        "user": "struct<id:bigint,plan:string>",
        "at": "timestamp",
        "code": "string",
        "price": "decimal(11,2)",
        "tags": "array<string>",
    }


@pytest.mark.parametrize(
    ("first", "second", "widened"),
    [
        ("int", "int", "int"),
        ("tinyint", "bigint", "bigint"),
        ("int", "smallint", "int"),
        ("int", "double", "double"),
        ("bigint", "float", "double"),
        ("float", "double", "double"),
        ("decimal(5,2)", "decimal(10,1)", "decimal(11,2)"),
        ("decimal(5,2)", "int", "decimal(12,2)"),
        ("decimal(38,10)", "bigint", "decimal(38,10)"),
        ("decimal(38,30)", "bigint", "double"),
        ("decimal(5,2)", "double", "double"),
        ("string", "int", "string"),
        ("boolean", "int", "string"),
        ("varchar(3)", "string", "string"),
        ("date", "timestamp", "timestamp"),
        ("date", "string", "string"),
        ("array<int>", "array<bigint>", "array<bigint>"),
        ("array<int>", "int", "string"),
        ("map<string,int>", "map<string,double>", "map<string,double>"),
        ("struct<a:int>", "array<int>", "string"),
    ],
)
def test_widening(first: str, second: str, widened: str) -> None:
    assert str(widen(parse_type(first), parse_type(second))) == widened
    assert str(widen(parse_type(second), parse_type(first))) == widened


@pytest.mark.parametrize(
    ("first", "second", "union"),
    [
        ("struct<a:int>", "struct<b:string>", "struct<a:int,b:string>"),
        ("struct<A:int,c:int>", "struct<a:bigint>", "struct<A:bigint,c:int>"),
        ("struct<s:struct<x:int>>", "struct<s:struct<y:int>>", "struct<s:struct<x:int,y:int>>"),
        ("array<struct<a:int>>", "array<struct<b:int>>", "array<struct<a:int,b:int>>"),
    ],
)
def test_structs_widen_to_the_union_of_their_fields(first: str, second: str, union: str) -> None:
    """Fields keep the order (and the spelling) in which they were first seen."""
    assert str(widen(parse_type(first), parse_type(second))) == union


@pytest.mark.parametrize(
    ("arrow", "glue"),
    [
        (pa.bool_(), "boolean"),
        (pa.int8(), "tinyint"),
        (pa.uint8(), "smallint"),
        (pa.int16(), "smallint"),
        (pa.int32(), "int"),
        (pa.uint32(), "bigint"),
        (pa.int64(), "bigint"),
        (pa.uint64(), "decimal(20,0)"),
        (pa.float32(), "float"),
        (pa.float64(), "double"),
        (pa.string(), "string"),
        (pa.large_string(), "string"),
        (pa.binary(), "binary"),
        (pa.binary(16), "binary"),
        (pa.date32(), "date"),
        (pa.timestamp("us", tz="UTC"), "timestamp"),
        (pa.decimal128(12, 3), "decimal(12,3)"),
        (pa.dictionary(pa.int32(), pa.string()), "string"),
        (pa.list_(pa.int64()), "array<bigint>"),
        (pa.large_list(pa.string()), "array<string>"),
        (pa.map_(pa.string(), pa.float64()), "map<string,double>"),
        (
            pa.struct([("Url", pa.string()), ("n", pa.list_(pa.int8()))]),
            "struct<Url:string,n:array<tinyint>>",
        ),
        (pa.struct([("a", pa.null()), ("b", pa.int32())]), "struct<b:int>"),
        (pa.null(), "None"),
        (pa.list_(pa.null()), "None"),
    ],
)
def test_arrow_types(arrow: Any, glue: str) -> None:
    assert str(arrow_type(arrow, "c")) == glue


def test_a_json_lines_table(catalog: Catalog, lake: Path) -> None:
    jsonl(
        lake / "events/dt=1/a.jsonl",
        [
            {
                "id": 1,
                "big": 2**40,
                "huge": 2**70,
                "price": 1.5,
                "ok": True,
                "name": "a",
                "tags": ["x"],
                "user": {"id": 1, "geo": {"lat": 1.5}},
                "nothing": None,
                "empty": [],
                "mixed": 1,
            },
            {"id": 2, "mixed": 2.5, "user": {"plan": "pro"}, "extra": "late", "empty": [None]},
        ],
    )
    jsonl(lake / "events/dt=2/a.json.gz", [{"id": 3, "ok": False}], compress=True)
    jsonl(lake / "events/dt=3/no-extension", [{"id": 4}])
    report = crawl(catalog, lake / "events")
    assert report.skipped == []
    assert catalog.get_table("clickstream", "events").format == "json"
    assert columns(catalog, "events") == {
        "id": "int",
        "big": "bigint",
        "huge": "double",
        "price": "double",
        "ok": "boolean",
        "name": "string",
        "tags": "array<string>",
        "user": "struct<id:int,geo:struct<lat:double>,plan:string>",
        "nothing": "string",
        "empty": "string",
        "mixed": "double",
        "extra": "string",
    }
    assert set(partitions(catalog, "events")) == {("1",), ("2",), ("3",)}


def test_json_is_sampled_from_its_first_lines(catalog: Catalog, lake: Path) -> None:
    path = jsonl(lake / "events/a.jsonl", [{"id": 1}, {"id": 2}, {"id": 3}])
    with path.open("a") as file:
        file.write("\nnot json at all\n")
    assert crawl(catalog, lake / "events", sample_lines=3).skipped == []
    catalog.delete_table("clickstream", "events")
    report = crawl(catalog, lake / "events", sample_lines=4)
    assert report.skipped == [
        SkippedFile(
            str(path),
            "line 5 is not a JSON object (JSON files are read as JSON lines: one object a line)",
        )
    ]
    assert report.tables_created == []


def test_column_names_are_folded_and_partition_keys_win(catalog: Catalog, lake: Path) -> None:
    parquet(lake / "clicks/dt=1/a.parquet", {"UserId": ["u"], "DT": ["in the file"]})
    crawl(catalog, lake / "clicks")
    assert columns(catalog) == {"userid": "string"}


# --- schema changes -----------------------------------------------------------------------------


def test_a_schema_change_is_a_new_version(catalog: Catalog, lake: Path) -> None:
    parquet(lake / "clicks/dt=1/a.parquet", CLICK)
    crawler = Crawler(catalog, "clickstream", [lake / "clicks"])
    crawler.crawl()
    parquet(lake / "clicks/dt=2/a.parquet", {**CLICK, "ms": [10**12, 1], "referrer": ["/x", "/y"]})
    report = crawler.crawl()
    assert report.tables_updated == ["clicks"]
    [change] = report.schema_changes
    assert change.table == "clicks"
    assert change.added == (Column("referrer", "string"),)
    assert change.changed == (("ms", "int", "bigint"),)
    assert change.applied
    assert columns(catalog) == {"url": "string", "ms": "bigint", "referrer": "string"}
    versions = catalog.get_table_versions("clickstream", "clicks").items
    assert [v.version_id for v in versions] == [2, 1]
    assert report.partitions_added == {"clicks": [("2",)]}
    assert crawler.crawl().schema_changes == []


def test_a_logged_schema_change_leaves_the_table(
    catalog: Catalog, lake: Path, caplog: pytest.LogCaptureFixture
) -> None:
    parquet(lake / "clicks/dt=1/a.parquet", CLICK)
    crawl(catalog, lake / "clicks")
    before = catalog.get_table("clickstream", "clicks")
    parquet(lake / "clicks/dt=2/a.parquet", {**CLICK, "referrer": ["/x", "/y"]})
    with caplog.at_level(logging.WARNING, logger="archlab.lake.crawler"):
        report = crawl(catalog, lake / "clicks", update_behavior="LOG")
    assert catalog.get_table("clickstream", "clicks") == before
    [change] = report.schema_changes
    assert change.added == (Column("referrer", "string"),)
    assert not change.applied
    assert report.tables_updated == []
    assert "referrer" in caplog.text
    assert report.partitions_added == {"clicks": [("2",)]}  # new partitions come in anyway


def test_columns_are_never_dropped(catalog: Catalog, lake: Path) -> None:
    first = parquet(lake / "clicks/dt=1/a.parquet", CLICK)
    crawl(catalog, lake / "clicks")
    first.unlink()
    parquet(lake / "clicks/dt=2/a.parquet", {"url": ["/a"]})
    assert crawl(catalog, lake / "clicks").schema_changes == []
    assert columns(catalog) == {"url": "string", "ms": "int"}


# --- what is skipped ----------------------------------------------------------------------------


def test_hidden_and_temporary_files_are_ignored(catalog: Catalog, lake: Path) -> None:
    parquet(lake / "clicks/dt=1/a.parquet", CLICK)
    for name in ["_SUCCESS", ".a.parquet.crc", "%tmp-b.parquet", "_temporary/0/x.parquet"]:
        path = lake / "clicks/dt=1" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not a parquet file")
    (lake / "clicks/_staging").mkdir()
    (lake / "clicks/_staging/b.parquet").write_bytes(b"junk")
    report = crawl(catalog, lake / "clicks")
    assert report.skipped == []
    assert report.files_read == 1


def test_unreadable_files_are_reported_and_the_crawl_goes_on(catalog: Catalog, lake: Path) -> None:
    parquet(lake / "clicks/dt=1/a.parquet", CLICK)
    broken = lake / "clicks/dt=2/b.parquet"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"PAR1 but cut short")
    empty = lake / "clicks/dt=3/c.parquet"
    empty.parent.mkdir(parents=True)
    empty.touch()
    readme = lake / "clicks/dt=1/README.txt"
    readme.write_text("this table holds clicks")
    timed = parquet(lake / "clicks/dt=4/d.parquet", {"at": pa.array([1], pa.time64("us"))})
    report = crawl(catalog, lake / "clicks")
    reasons = {Path(s.path): s.reason for s in report.skipped}
    assert reasons[broken].startswith("unreadable Parquet footer")
    assert reasons[empty].startswith("unreadable Parquet footer")
    assert reasons[readme] == "neither Parquet nor JSON lines"
    assert reasons[timed] == "column at: Arrow type time64[us] has no Glue type"
    assert len(reasons) == 4
    assert list(partitions(catalog)) == [("1",)]


def test_directories_that_are_not_partitions_are_reported(catalog: Catalog, lake: Path) -> None:
    parquet(lake / "clicks/dt=1/hour=1/a.parquet", CLICK)
    parquet(lake / "clicks/dt=1/hour=2/a.parquet", CLICK)
    shallow = parquet(lake / "clicks/dt=2/a.parquet", CLICK)
    misnamed = parquet(lake / "clicks/day=3/hour=1/a.parquet", CLICK)
    parquet(lake / "clicks/errors/a.parquet", CLICK)
    parquet(lake / "clicks/dt=4/dt=5/a.parquet", CLICK)
    json_file = jsonl(lake / "clicks/dt=1/hour=3/a.json", [{"url": "/"}])
    outside = parquet(lake / "clicks/a.parquet", CLICK)
    report = crawl(catalog, lake / "clicks")
    reasons = {Path(s.path): s.reason for s in report.skipped}
    assert reasons == {
        lake / "clicks/errors": "not a key=value partition directory",
        lake / "clicks/dt=4/dt=5": "partition key dt is named twice in the path",
        shallow: "its partition directories name (dt), not the table's partition keys (dt, hour)",
        misnamed: (
            "its partition directories name (day, hour), not the table's partition keys (dt, hour)"
        ),
        json_file: "a json file in a parquet table",
        outside: "not in a partition directory (the table's partition keys: dt, hour)",
    }
    assert set(partitions(catalog)) == {("1", "1"), ("1", "2")}


def test_a_missing_location_is_reported(catalog: Catalog, lake: Path) -> None:
    report = crawl(catalog, lake / "nothing")
    assert report.skipped == [SkippedFile(str(lake / "nothing"), "the location does not exist")]
    assert catalog.get_tables("clickstream").items == []


def test_a_table_of_the_name_elsewhere_is_left_alone(catalog: Catalog, lake: Path) -> None:
    existing = catalog.create_table(
        "clickstream",
        "clicks",
        columns=[Column("x", "int")],
        location="/elsewhere",
        format="parquet",
    )
    parquet(lake / "clicks/dt=1/a.parquet", CLICK)
    report = crawl(catalog, lake / "clicks")
    assert report.skipped == [
        SkippedFile(str(lake / "clicks"), "table clicks exists with another location, /elsewhere")
    ]
    assert catalog.get_table("clickstream", "clicks") == existing


def test_two_directories_for_one_table_name(catalog: Catalog, lake: Path, tmp_path: Path) -> None:
    parquet(lake / "clicks/a.parquet", CLICK)
    parquet(tmp_path / "other/clicks/a.parquet", CLICK)
    report = crawl(catalog, lake / "clicks", tmp_path / "other/clicks")
    assert report.tables_created == ["clicks"]
    assert report.skipped == [
        SkippedFile(str(tmp_path / "other/clicks"), f"{lake / 'clicks'} is table clicks already")
    ]


# --- the cache ----------------------------------------------------------------------------------


def test_a_changed_file_is_read_again(catalog: Catalog, lake: Path) -> None:
    path = parquet(lake / "clicks/dt=1/a.parquet", CLICK)
    parquet(lake / "clicks/dt=2/a.parquet", CLICK)
    crawler = Crawler(catalog, "clickstream", [lake / "clicks"])
    crawler.crawl()
    parquet(path, {**CLICK, "referrer": ["/x", "/y"]})
    os.utime(path, ns=(1, 1))
    report = crawler.crawl()
    assert (report.files_read, report.files_remembered) == (1, 1)
    assert "referrer" in columns(catalog)


def test_the_cache_can_live_in_a_file(catalog: Catalog, lake: Path, tmp_path: Path) -> None:
    for n in range(3):
        parquet(lake / f"clicks/dt={n}/a.parquet", CLICK)
    (lake / "clicks/dt=0/bad.parquet").write_bytes(b"junk")
    cache = tmp_path / "state/crawler.json"
    first = crawl(catalog, lake / "clicks", cache_path=cache)
    assert first.files_read == 4
    second = crawl(catalog, lake / "clicks", cache_path=cache)
    assert (second.files_read, second.files_remembered) == (0, 4)
    assert [s.path for s in second.skipped] == [str(lake / "clicks/dt=0/bad.parquet")]
    assert len(json.loads(cache.read_text())["schemas"]) == 1  # one schema, stored once
    (lake / "clicks/dt=2/a.parquet").unlink()
    crawl(catalog, lake / "clicks", cache_path=cache)
    assert sorted(json.loads(cache.read_text())["files"]) == [
        str(lake / "clicks/dt=0/a.parquet"),
        str(lake / "clicks/dt=0/bad.parquet"),
        str(lake / "clicks/dt=1/a.parquet"),
    ]


def test_an_unreadable_cache_is_ignored(
    catalog: Catalog, lake: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    parquet(lake / "clicks/dt=1/a.parquet", CLICK)
    cache = tmp_path / "crawler.json"
    cache.write_text('{"format": 1, "schemas": [{"columns": [["a", "nonsense"]]}]}')
    with caplog.at_level(logging.WARNING, logger="archlab.lake.crawler"):
        report = crawl(catalog, lake / "clicks", cache_path=cache)
    assert report.files_read == 1
    assert "unreadable" in caplog.text
    assert json.loads(cache.read_text())["files"]  # rewritten whole


# --- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"targets": []},
        {"targets": "lake"},
        {"targets": ["s3://bucket/lake"]},
        {"targets": ["file://lake"]},
        {"targets": [""]},
        {"targets": [5]},
        {"database": "Bad-Name"},
        {"update_behavior": "DELETE_FROM_DATABASE"},
        {"table_prefix": "Raw-"},
        {"sample_lines": 0},
        {"name": ""},
    ],
)
def test_bad_crawler_settings(catalog: Catalog, lake: Path, options: dict[str, Any]) -> None:
    arguments = {"database": "clickstream", "targets": [lake], **options}
    with pytest.raises(InvalidInput):
        Crawler(catalog, arguments.pop("database"), arguments.pop("targets"), **arguments)


def test_the_database_must_exist(catalog: Catalog, lake: Path) -> None:
    parquet(lake / "clicks/dt=1/a.parquet", CLICK)
    with pytest.raises(EntityNotFound):
        Crawler(catalog, "missing", [lake]).crawl()
    assert [d.name for d in catalog.get_databases().items] == ["clickstream"]
