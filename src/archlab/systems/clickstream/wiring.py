"""Where the clickstream keeps its state under ``ARCHLAB_HOME/clickstream/``, shared by every
process of the system and by ``archlab sql``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SYSTEM = "clickstream"
DATABASE = "clickstream"
"""The catalog database of the collected events; its table ``events`` is what they land in."""
EVENTS = "events"
STREAM = "clicks"


@dataclass(frozen=True)
class Places:
    root: Path

    @property
    def catalog(self) -> str:
        return f"sqlite:///{self.root / 'catalog.db'}"

    @property
    def lake(self) -> Path:
        """The lake's root: the events table is ``lake/events/dt=…/hour=…/*.parquet``."""
        return self.root / "lake"

    @property
    def delivery(self) -> Path:
        """The delivery stream's buffer and control files."""
        return self.root / "delivery"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def panel(self) -> Path:
        """The in-stream windows, as the live panel draws them (JSON, rewritten atomically)."""
        return self.root / "panel.json"


def places(home: Path) -> Places:
    return Places(home / "clickstream")
