"""The claims ledger: what the claimants submitted and what the adjusters processed, in one
SQLite file under ARCHLAB_HOME (WAL, synchronous FULL) shared by every process.

It is the purchases ledger under another file and another vocabulary: the bookkeeping is the
same -- the first processing of a claim inserts its row, a redelivery of the same claim (after a
crash between processing and deleting, say) is recorded as a duplicate instead, a claim that
failed on its last receive is recorded as dead-lettered -- so it is delegated rather than
written again. A claim's type (``car`` or ``other``) takes the place of a purchase's coverage.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archlab import settings
from archlab.systems.purchases import ledger as purchases


def default_path() -> Path:
    return settings.home() / "claims" / "ledger.db"


@dataclass(frozen=True)
class Claim:
    id: str
    type: str
    submitted_at: float


class Ledger:
    def __init__(self, path: Path | None = None) -> None:
        self._books = purchases.Ledger(path or default_path())

    def submitted(self, claims: list[Claim]) -> None:
        self._books.published([_entry(claim) for claim in claims])

    def processed(self, claim: Claim, at: float, worker: int) -> bool:
        """Record the processing; False (and a duplicate recorded) if it was already done."""
        return self._books.processed(_entry(claim), at, worker)

    def dead_lettered(self, claim: Claim, at: float) -> None:
        self._books.dead_lettered(_entry(claim), at)

    def report(self) -> dict[str, dict[str, Any]]:
        """Per claim type: submitted, processed, duplicates, dead_lettered, and the p50/p99
        milliseconds from submit to processed (``p50_ms``, ``p99_ms``)."""
        return {
            claim_type: {("submitted" if k == "published" else k): v for k, v in row.items()}
            for claim_type, row in self._books.report().items()
        }

    def reset(self) -> None:
        self._books.reset()


def _entry(claim: Claim) -> purchases.Purchase:
    """The claim as the purchases ledger files it: its type in place of a coverage."""
    return purchases.Purchase(claim.id, claim.type, claim.submitted_at)
