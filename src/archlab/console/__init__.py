"""The web console of ``archlab up``: the running systems drawn from their topologies, with live
queue depths and workers, and a redrive button for dead-letter queues (see
:mod:`archlab.console.app`)."""

from archlab.console.app import create_app, serve

__all__ = ["create_app", "serve"]
