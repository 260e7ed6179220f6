"""SQL over the catalog: the tables the catalog lists, only their registered partitions'
files, pruned by partition key, with the bytes scanned and Athena's price; other databases
attached beside the lake; clear errors."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from archlab.blocks.catalog import Catalog, Column
from archlab.engines.catalogs import connect_catalog
from archlab.lake.query import Lake, QueryError, billed_cost

DAYS = ("2026-12-01", "2026-12-02", "2026-12-03")


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lake]:
    catalog = Catalog(connect_catalog(f"sqlite:///{tmp_path}/catalog.db"))
    catalog.create_database("clicks")
    root = tmp_path / "lake" / "events"
    catalog.create_table(
        "clicks",
        "events",
        columns=[Column("page", "string"), Column("ms", "bigint")],
        partition_keys=[Column("dt", "string")],
        location=str(root),
        format="parquet",
    )
    for number, day in enumerate(DAYS):
        directory = root / f"dt={day}"
        directory.mkdir(parents=True)
        rows = 50_000 * (number + 1)
        table = pa.table({"page": [f"/p{i % 7}" for i in range(rows)], "ms": list(range(rows))})
        pq.write_table(table, directory / "part-0.parquet")
        pq.write_table(table.slice(0, 10), directory / "%tmp-half-written.parquet")
        if day != DAYS[-1]:  # the last day's files are there, but the crawler has not run
            catalog.create_partition("clicks", "events", [day], location=str(directory))
    opened = Lake(catalog)
    yield opened
    opened.close()


def test_a_query_sees_the_registered_partitions_only(lake: Lake) -> None:
    result = lake.query("SELECT dt, count(*) AS n FROM clicks.events GROUP BY dt ORDER BY dt")
    assert result.table.to_pylist() == [
        {"dt": "2026-12-01", "n": 50_000},
        {"dt": "2026-12-02", "n": 100_000},
    ]
    assert result.bytes_scanned == 0  # partition values only: no column of a file is read
    pages = lake.query("SELECT count(DISTINCT page) FROM clicks.events")
    assert (
        0
        < pages.bytes_scanned
        < sum(
            path.stat().st_size
            for path in Path(lake.catalog.get_table("clicks", "events").location).rglob(
                "part-0.parquet"
            )
        )
    )


def test_a_filter_on_a_partition_key_prunes_files(lake: Lake) -> None:
    everything = lake.query("SELECT sum(ms) FROM clicks.events")
    one_day = lake.query("SELECT sum(ms) FROM clicks.events WHERE dt = '2026-12-01'")
    assert one_day.table.column(0).to_pylist() == [sum(range(50_000))]
    assert 0 < one_day.bytes_scanned < everything.bytes_scanned / 2


def _column_bytes(path: Path) -> dict[str, int]:
    metadata = pq.read_metadata(path)
    sizes: dict[str, int] = {}
    for group in range(metadata.num_row_groups):
        for index in range(metadata.num_columns):
            chunk = metadata.row_group(group).column(index)
            sizes[chunk.path_in_schema] = (
                sizes.get(chunk.path_in_schema, 0) + chunk.total_compressed_size
            )
    return sizes


def test_every_query_that_reads_the_lake_reports_the_bytes_of_its_columns(lake: Lake) -> None:
    """The columns a scan projects (DuckDB lists several as a list) and the columns only its
    filters read, in the files its partition filter selects: exactly their compressed bytes."""
    root = Path(str(lake.catalog.get_table("clicks", "events").location))
    first, second = (_column_bytes(root / f"dt={day}" / "part-0.parquet") for day in DAYS[:2])
    one_day = "FROM clicks.events WHERE dt = '2026-12-01'"
    grouped = lake.query(f"SELECT dt, page, count(DISTINCT ms) {one_day} GROUP BY dt, page")
    assert grouped.table.num_rows == 7
    assert grouped.bytes_scanned == first["page"] + first["ms"]
    counted = lake.query(
        f"SELECT count(DISTINCT ms) FILTER (page = '/p1') AS n, count(*) AS all_rows {one_day}"
    )
    assert counted.bytes_scanned == first["page"] + first["ms"]
    filtered = lake.query(f"SELECT count(*) {one_day} AND page = '/p1' AND ms > 10")
    assert filtered.bytes_scanned == first["page"] + first["ms"]
    both_days = lake.query("SELECT dt, sum(ms) FROM clicks.events WHERE ms >= 0 GROUP BY dt")
    assert both_days.bytes_scanned == first["ms"] + second["ms"]


def test_files_of_different_schemas_are_read_by_column_name(lake: Lake) -> None:
    """A newer file with a column the older ones lack (the crawler adds it to the table):
    every file's columns, matched by name, the missing ones null."""
    root = Path(str(lake.catalog.get_table("clicks", "events").location))
    newer = pa.table({"ms": [7, 8], "page": ["/new", "/new"], "label": ["a", "b"]})
    pq.write_table(newer, root / f"dt={DAYS[1]}" / "part-1.parquet")
    lake.refresh()
    result = lake.query(
        "SELECT page, label, count(*) AS n, sum(ms) AS total FROM clicks.events"
        f" WHERE dt = '{DAYS[1]}' AND page IN ('/new', '/p1') GROUP BY ALL ORDER BY ALL"
    )
    expected = sum(1 for i in range(100_000) if i % 7 == 1)
    assert result.table.to_pylist() == [
        {"page": "/new", "label": "a", "n": 1, "total": 7},
        {"page": "/new", "label": "b", "n": 1, "total": 8},
        {"page": "/p1", "label": None, "n": expected, "total": sum(range(1, 100_000, 7))},
    ]


def test_a_new_partition_is_seen_after_a_refresh(lake: Lake) -> None:
    directory = Path(str(lake.catalog.get_table("clicks", "events").location)) / f"dt={DAYS[-1]}"
    lake.catalog.create_partition("clicks", "events", [DAYS[-1]], location=str(directory))
    assert lake.query("SELECT count(*) FROM clicks.events").table.column(0)[0].as_py() == 150_000
    lake.refresh()
    assert lake.query("SELECT count(*) FROM clicks.events").table.column(0)[0].as_py() == 300_000


def test_a_table_without_data_has_its_columns_and_no_rows(lake: Lake, tmp_path: Path) -> None:
    lake.catalog.create_table(
        "clicks",
        "empty",
        columns=[Column("page", "string")],
        partition_keys=[Column("dt", "string")],
        location=str(tmp_path / "nothing"),
        format="parquet",
    )
    lake.refresh()
    result = lake.query("SELECT * FROM clicks.empty")
    assert result.table.column_names == ["page", "dt"] and result.table.num_rows == 0


def test_athena_bills_ten_megabytes_at_least_and_whole_megabytes() -> None:
    assert billed_cost(1) == billed_cost(10_000_000) == pytest.approx(10e6 / 1e12 * 5)
    assert billed_cost(10_000_001) == pytest.approx(11e6 / 1e12 * 5)
    assert billed_cost(10**12) == pytest.approx(5.0)


def test_a_database_attached_beside_the_lake_joins_with_it(lake: Lake, tmp_path: Path) -> None:
    shop = tmp_path / "storefront.db"
    with sqlite3.connect(shop) as connection:
        connection.execute("CREATE TABLE pages (page TEXT, title TEXT)")
        connection.execute("INSERT INTO pages VALUES ('/p1', 'Car'), ('/p2', 'Home')")
    lake.attach("storefront", f"sqlite:///{shop}")
    result = lake.query(
        "SELECT title, count(*) AS n FROM clicks.events e JOIN storefront.pages p USING (page)"
        " WHERE dt = '2026-12-01' GROUP BY title ORDER BY title"
    )
    expected = sum(1 for i in range(50_000) if i % 7 == 1)
    assert result.table.to_pylist()[0] == {"title": "Car", "n": expected}


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("", "the query is empty"),
        ("SELEC 1", "Parser Error"),
        ("SELECT * FROM clicks.nothing", "Catalog Error"),
        ("SELECT nope FROM clicks.events", "Binder Error"),
    ],
)
def test_a_bad_query_gets_a_one_line_reason(lake: Lake, sql: str, message: str) -> None:
    with pytest.raises(QueryError, match=message) as raised:
        lake.query(sql)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("name", "url", "message"),
    [
        ("Shop", "sqlite:///x.db", "not a plain lower-case name"),
        ("shop", "sqlite:///no/such.db", "no SQLite database"),
        ("shop", "mysql://host/db", "neither sqlite"),
    ],
)
def test_a_bad_attachment_is_refused(lake: Lake, name: str, url: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        lake.attach(name, url)
