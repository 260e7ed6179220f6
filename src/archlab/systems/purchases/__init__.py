"""System ``purchases``: the insurance company's System A publishes purchases, and the design
-- one dispatcher, a topic with filter policies, or an event bus with content rules -- routes
them to a backend per coverage type."""

from archlab.systems import System
from archlab.systems.purchases.topology import PROFILES

SYSTEM = System(
    name="purchases",
    description="Content-based routing of purchases to one backend per coverage type.",
    profiles=PROFILES,
    default_profile="topic",
)
