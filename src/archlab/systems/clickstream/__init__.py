"""System ``clickstream``: the notes' clickstream analytics -- a tracker and a collector, a
stream, buffered delivery into a Parquet lake, a crawler and a catalog, SQL, an ETL job into a
warehouse, and in-stream windows."""

from archlab.systems import System
from archlab.systems.clickstream.topology import PROFILES

SYSTEM = System(
    name="clickstream",
    description="Clicks into a Parquet lake: SQL, dashboards, a warehouse, live windows.",
    profiles=PROFILES,
    default_profile="lake",
)
