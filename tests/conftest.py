"""Shared test settings."""

from __future__ import annotations

import os

from hypothesis import settings

# CI runs with ARCHLAB_REQUIRE_SERVICES=1: there, anything a test needs from outside the
# project (a server, the shared conformance cases) must be present, so tests fail instead of
# skipping.
REQUIRE_EXTERNALS = os.environ.get("ARCHLAB_REQUIRE_SERVICES") == "1"

settings.register_profile("ci", max_examples=300, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
