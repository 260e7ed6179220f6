"""System ``claims``: the insurance company's claims, car claims served before all others --
by a queue of their own with autoscaled consumers, or by priority in one shared queue."""

from archlab.systems import System
from archlab.systems.claims.topology import PROFILES

SYSTEM = System(
    name="claims",
    description="High-priority queuing: car claims served before every other claim.",
    profiles=PROFILES,
    default_profile="two-queues",
)
