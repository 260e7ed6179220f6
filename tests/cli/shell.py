"""Running ``archlab`` commands in tests."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from archlab.cli.main import app

runner = CliRunner()


def run(*args: str) -> Any:
    """Run a command that must succeed; its JSON output (None when it prints nothing)."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None
