"""Entry point of the ``archlab`` command: one sub-application per area."""

from __future__ import annotations

import typer

from archlab import __version__
from archlab.cli import buses, chaos, deliveries, queues, review, routing, sql, topics, up
from archlab.systems.claims.cli import claims_app
from archlab.systems.clickstream.cli import clickstream_app, crawl
from archlab.systems.purchases.cli import purchases_app

app = typer.Typer(
    name="archlab",
    help="The classic cloud system designs made real: run them, break them, review them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(routing.events_app, name="events")
app.add_typer(routing.sns_app, name="sns")
app.command("route")(routing.route)
app.add_typer(queues.queue_app, name="queue")
app.add_typer(topics.topic_app, name="topic")
app.add_typer(buses.bus_app, name="bus")
app.command("deliver")(deliveries.deliver)
app.command("up")(up.up)
app.command("status")(up.status)
app.add_typer(chaos.chaos_app, name="chaos")
app.command("sql")(sql.sql)
app.add_typer(purchases_app, name="purchases")
app.add_typer(claims_app, name="claims")
app.add_typer(clickstream_app, name="clickstream")
app.command("crawl")(crawl)
app.command("review")(review.review)
app.command("diagram")(review.diagram_command)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"archlab {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """archlab: the classic cloud system designs made real."""


def run() -> None:
    app()
