"""The messaging engine commands act on, and how its errors reach the user."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer

from archlab import settings
from archlab.blocks.errors import MessagingError
from archlab.engines import connect
from archlab.engines.base import MessagingEngine


@contextmanager
def messaging_engine() -> Iterator[MessagingEngine]:
    """The configured engine; a MessagingError inside becomes AWS's code on stderr, exit 1."""
    try:
        engine = connect(settings.messaging_url())
    except MessagingError as error:
        _fail(error)
    try:
        yield engine
    except MessagingError as error:
        _fail(error)
    finally:
        engine.close()


def _fail(error: MessagingError) -> NoReturn:
    typer.echo(f"{error.code}: {error.message}", err=True)
    raise typer.Exit(1)
