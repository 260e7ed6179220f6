"""``archlab deliver``: make the pending HTTP and function deliveries of topics and buses."""

from __future__ import annotations

import logging
import sys
import threading
from typing import Annotated

import typer

from archlab.blocks.delivery import Dispatcher, Handler, function_name
from archlab.cli.engine import messaging_engine
from archlab.cli.inputs import fail, print_json
from archlab.runtime.handlers import load_handler


def deliver(
    function: Annotated[
        list[str] | None,
        typer.Option(
            help="Host a function: NAME=package.module:callable (the callable gets the event)."
            " Repeat for several."
        ),
    ] = None,
    http: Annotated[bool, typer.Option(help="Make HTTP/S deliveries.")] = True,
    once: Annotated[
        bool, typer.Option(help="Attempt what is waiting now, print the count, and exit.")
    ] = False,
) -> None:
    """Attempt pending deliveries to HTTP endpoints and functions, with their retries, until
    Ctrl-C. Failed attempts are retried as the subscription or target says; exhausted ones go
    to its dead-letter queue."""
    handlers = dict(_handler(spec) for spec in function or [])
    if not http and not handlers:
        fail("nothing to deliver: give --function, or leave --http on")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise
    with messaging_engine() as engine:
        dispatchers = [Dispatcher(engine)] if http else []
        dispatchers += [
            Dispatcher(engine, function=name, handler=handler) for name, handler in handlers.items()
        ]
        if once:
            attempted = 0
            for dispatcher in dispatchers:
                while count := dispatcher.run_once():
                    attempted += count
            print_json({"Attempted": attempted})
            return
        stop = threading.Event()
        threads = [threading.Thread(target=d.run, args=(stop,), daemon=True) for d in dispatchers]
        for thread in threads:
            thread.start()
        queues = ", ".join(d.queue for d in dispatchers)
        typer.echo(f"delivering from {queues}; Ctrl-C stops", err=True)
        try:
            while any(thread.is_alive() for thread in threads):
                threads[0].join(0.5)
        except KeyboardInterrupt:
            stop.set()
            for thread in threads:
                thread.join()


def _handler(spec: str) -> tuple[str, Handler]:
    """NAME=package.module:callable, loaded."""
    name, _, target = spec.partition("=")
    try:
        return function_name(name), load_handler(target)
    except ValueError as error:
        fail(f"--function {spec!r}: {error}")
