"""The systems: thin compositions, each declaring its topology per profile and its handlers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from archlab.topology import Topology


@dataclass(frozen=True)
class System:
    name: str
    description: str
    profiles: Mapping[str, Callable[[], Topology]]
    """Profile name -> the topology it deploys."""
    default_profile: str

    def topology(self, profile: str | None = None) -> Topology:
        chosen = profile or self.default_profile
        if chosen not in self.profiles:
            known = ", ".join(self.profiles)
            raise ValueError(f"{self.name} has no profile {chosen!r} (profiles: {known})")
        return self.profiles[chosen]()


def available() -> dict[str, System]:
    """Every system archlab can run, by name."""
    from archlab.systems import claims, clickstream, images, purchases, storefront

    systems = (
        purchases.SYSTEM,
        claims.SYSTEM,
        images.SYSTEM,
        storefront.SYSTEM,
        clickstream.SYSTEM,
    )
    return {system.name: system for system in systems}
