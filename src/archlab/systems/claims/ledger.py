"""The claims ledger: what the claimants submitted and what the adjusters processed (a
:class:`~archlab.systems.ledger.WorkLedger` whose items are claims, their kind "car" or
"other")."""

from __future__ import annotations

from pathlib import Path

from archlab import settings
from archlab.systems.ledger import WorkLedger


class Ledger(WorkLedger):
    def __init__(self, path: Path | None = None) -> None:
        super().__init__(path or settings.home() / "claims" / "ledger.db")
