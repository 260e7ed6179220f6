"""``python -m archlab`` runs the command line."""

from archlab.cli.main import run

run()
