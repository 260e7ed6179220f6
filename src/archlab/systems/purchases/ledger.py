"""The purchases ledger: what System A published and what the backends processed (a
:class:`~archlab.systems.ledger.WorkLedger` whose items are purchases, their kind the coverage
type, or "underwriting" for the review of a car purchase)."""

from __future__ import annotations

from pathlib import Path

from archlab import settings
from archlab.systems.ledger import WorkLedger


class Ledger(WorkLedger):
    def __init__(self, path: Path | None = None) -> None:
        super().__init__(path or settings.home() / "purchases" / "ledger.db", "published")
