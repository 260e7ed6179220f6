"""``archlab sql``: the collected events as clickstream.events, in every output format, the
storefront's tables beside them, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from archlab.blocks.catalog import Catalog, Column
from archlab.engines.catalogs import connect_catalog
from archlab.systems.clickstream.wiring import DATABASE, EVENTS, places
from archlab.systems.storefront.database import migrate
from tests.cli.shell import app, runner


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARCHLAB_HOME", str(tmp_path))
    monkeypatch.delenv("ARCHLAB_STOREFRONT_DATABASE_URL", raising=False)
    where = places(tmp_path)
    where.root.mkdir()
    catalog = Catalog(connect_catalog(where.catalog))
    catalog.create_database(DATABASE)
    location = where.lake / EVENTS
    catalog.create_table(
        DATABASE,
        EVENTS,
        columns=[Column("name", "string"), Column("product_id", "string")],
        partition_keys=[Column("dt", "string")],
        location=str(location),
        format="parquet",
    )
    directory = location / "dt=2026-12-02"
    directory.mkdir(parents=True)
    names = ["page_view", "page_view", "purchase"]
    products = ["car-essential", "home-contents", "car-essential"]
    pq.write_table(pa.table({"name": names, "product_id": products}), directory / "a.parquet")
    catalog.create_partition(DATABASE, EVENTS, ["2026-12-02"], location=str(directory))
    return tmp_path


QUERY = "SELECT name, count(*) AS n FROM clickstream.events GROUP BY name ORDER BY name"


def test_a_table_on_the_terminal_and_what_it_cost(home: Path) -> None:
    result = runner.invoke(app, ["sql", QUERY])
    assert result.exit_code == 0, result.stderr
    assert "page_view" in result.stdout and "purchase" in result.stdout
    assert "2 rows" in result.stderr and "scanned" in result.stderr and "Athena" in result.stderr


def test_csv_json_and_parquet(home: Path, tmp_path: Path) -> None:
    as_csv = runner.invoke(app, ["sql", QUERY, "--format", "csv"])
    assert as_csv.stdout.splitlines() == ['"name","n"', '"page_view",2', '"purchase",1']
    as_json = runner.invoke(app, ["sql", QUERY, "-f", "json"])
    assert json.loads(as_json.stdout) == [
        {"name": "page_view", "n": 2},
        {"name": "purchase", "n": 1},
    ]
    target = tmp_path / "out.parquet"
    assert runner.invoke(app, ["sql", QUERY, "-f", "parquet", "-o", str(target)]).exit_code == 0
    assert pq.read_table(target).to_pylist()[1] == {"name": "purchase", "n": 1}


def test_clicks_join_the_storefronts_products(home: Path) -> None:
    migrate(f"sqlite:///{home / 'storefront.db'}")
    query = (
        "SELECT p.coverage, count(*) AS n FROM clickstream.events e"
        " JOIN storefront.products p ON p.id = e.product_id GROUP BY ALL ORDER BY 1"
    )
    result = runner.invoke(app, ["sql", query, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [{"coverage": "car", "n": 2}, {"coverage": "home", "n": 1}]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["SELEC 1"], "Parser Error"),
        (["SELECT * FROM clickstream.nothing"], "Catalog Error"),
        ([QUERY, "--format", "parquet"], "--format parquet writes a file"),
        (["@/no/such/file.sql"], "no such file"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(home: Path, arguments: list[str], message: str) -> None:
    result = runner.invoke(app, ["sql", *arguments])
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
