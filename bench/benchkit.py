"""What the benchmarks share. Import it before anything else.

Importing it moves this folder to the end of the import path: ``bench/queue.py`` shares its
name with the standard library's queue module, which multiprocessing and the runtime import, and
a script run as ``python bench/x.py`` has this folder first on the path. At the end, the standard
library's queue wins, and this module stays importable in the processes the runtime starts (they
import the benchmark's main module again).
"""

from __future__ import annotations

import datetime
import multiprocessing
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE] + [str(HERE)]
ROOT = HERE.parent


def report(benchmark: str, command: str) -> dict[str, Any]:
    """The fields every benchmark's JSON starts with; ``command`` is how it was run, before
    its arguments (``uv run python bench/x.py``)."""
    return {
        "benchmark": benchmark,
        "date": datetime.date.today().isoformat(),
        "machine": f"{multiprocessing.cpu_count()} cores, Python {sys.version.split()[0]}",
        "command": " ".join([command, *sys.argv[1:]]),
    }


def figures_table(figures: dict[str, float]) -> list[str]:
    return [
        "| measure | value |",
        "|---|---:|",
        *(f"| {key} | {value:,.2f} |" for key, value in figures.items()),
    ]


def append_record(title: str, report: dict[str, Any], notes: list[str], table: list[str]) -> None:
    """Append a dated section to docs/benchmarks.md: machine, command, notes, then the table."""
    lines = [
        "",
        f"### {title} — {report['date']}",
        "",
        f"- Machine: {report['machine']}",
        f"- Command: `{report['command']}`",
        *(f"- {note}" for note in notes),
        "",
        *table,
        "",
    ]
    with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as doc:
        doc.write("\n".join(lines))
