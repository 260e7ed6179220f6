"""The ``archlab`` command line."""
