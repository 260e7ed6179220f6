"""``archlab sql``: SQL over the lake's catalog tables (Athena's way, DuckDB underneath), with
the storefront's database attached beside them when it exists, so clicks join orders."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from archlab import settings
from archlab.cli.inputs import fail, read_text
from archlab.systems.clickstream.wiring import DATABASE, places

if TYPE_CHECKING:
    import pyarrow as pa

    from archlab.lake.query import Lake, QueryResult

Format = Literal["table", "csv", "json", "parquet"]
MOST_SHOWN = 1_000
"""Rows a table on the terminal shows; the other formats write every row."""


def sql(
    query: Annotated[str, typer.Argument(help="The query, or @FILE holding it.")],
    output_format: Annotated[
        Format, typer.Option("--format", "-f", help="table, csv, json or parquet.")
    ] = "table",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (parquet needs it).")
    ] = None,
) -> None:
    """Run SQL over the catalog: the collected events are clickstream.events; the storefront's
    tables, when its database exists, are storefront.<table>."""
    # Here, not above: DuckDB and pyarrow take a moment to import, which no other command pays.
    from archlab.blocks.catalog import Catalog
    from archlab.blocks.errors import MessagingError
    from archlab.engines.catalogs import connect_catalog
    from archlab.lake.query import Lake, QueryError

    text = read_text(query, "QUERY")
    if output_format == "parquet" and output is None:
        fail("--format parquet writes a file: give it with --output FILE")
    home = settings.home()
    try:
        lake = Lake(Catalog(connect_catalog(places(home).catalog)))
    except (MessagingError, QueryError) as error:
        fail(f"the catalog: {error}")
    try:
        _attach_storefront(lake)
        result = lake.query(text)
    except QueryError as error:
        hint = ""
        if "does not exist" in str(error) and not _has_tables(lake):
            hint = " (the catalog has no table yet: deliver events, then run `archlab crawl`)"
        fail(f"{error}{hint}")
    finally:
        lake.close()
    _write(result.table, output_format, output)
    _summary(result)


def _has_tables(lake: Lake) -> bool:
    from archlab.blocks.errors import CatalogError

    try:
        return bool(lake.catalog.get_tables(DATABASE).items)
    except CatalogError:
        return False


def _attach_storefront(lake: Lake) -> None:
    from archlab.systems.storefront.database import primary_url

    url = primary_url()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return  # the storefront has not run here
    lake.attach("storefront", url)


def _write(table: pa.Table, output_format: Format, output: Path | None) -> None:
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    if output_format == "parquet":
        assert output is not None
        pq.write_table(table, output, compression="zstd")
    elif output_format == "csv":
        if output is None:
            sink = pa.BufferOutputStream()
            pa_csv.write_csv(table, sink)
            sys.stdout.write(sink.getvalue().to_pybytes().decode())
        else:
            pa_csv.write_csv(table, str(output))
    elif output_format == "json":
        text = json.dumps(table.to_pylist(), default=str, indent=2) + "\n"
        if output is None:
            sys.stdout.write(text)
        else:
            output.write_text(text, encoding="utf-8")
    else:
        shown = Table(*table.column_names, show_lines=False)
        for row in table.slice(0, MOST_SHOWN).to_pylist():
            shown.add_row(*("" if v is None else str(v) for v in row.values()))
        Console(file=output.open("w") if output else None).print(shown)
        if table.num_rows > MOST_SHOWN:
            typer.echo(f"({table.num_rows - MOST_SHOWN:,} more rows: use --format csv)", err=True)


def _summary(result: QueryResult) -> None:
    typer.echo(
        f"{result.table.num_rows:,} rows · {result.bytes_scanned / 1e6:,.2f} MB scanned"
        f" · ${result.cost_usd:.6f} on Athena · {result.elapsed_ms:,.0f} ms",
        err=True,
    )
