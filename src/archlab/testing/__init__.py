"""Helpers for archlab's own tests and benchmarks that start real servers (not product code
paths: nothing in archlab imports them)."""
