"""System ``images``: the notes' image storage and retrieval -- an API, an object store, a
metadata table, renditions per device made asynchronously, device-aware delivery."""

from archlab.systems import System
from archlab.systems.images.topology import PROFILES

SYSTEM = System(
    name="images",
    description="Upload photos; get the right rendition for each device and format.",
    profiles=PROFILES,
    default_profile="files",
)
