"""The images system's topologies: the notes' image storage and retrieval, and its alternative.

``files``: clients call the API; the API checks an upload, writes the original to the object
store under the location scheme and its metadata to the table; the bucket's object-created
events go to a queue (so failures are retried, then dead-lettered) that triggers the renditions
function, which writes the renditions back to the bucket and their keys and sizes to the
metadata item.

``blobs``: the same code with every image kept as a BLOB in the database beside its metadata,
the design the notes argue against; ``bench/images_tradeoff.py`` measures the two.
"""

from __future__ import annotations

import os

from archlab.topology import (
    Api,
    Bucket,
    Edge,
    Function,
    Profile,
    Queue,
    Service,
    Table,
    Topology,
    Trigger,
    UserJourney,
)

DEFAULT_PORT = 8081


def port() -> int:
    """The API's port: ARCHLAB_IMAGES_PORT, else 8081."""
    text = os.environ.get("ARCHLAB_IMAGES_PORT", "")
    return int(text) if text.isdigit() and 0 < int(text) < 65536 else DEFAULT_PORT


def files() -> Topology:
    return _images(
        Profile(name="files", knobs={"dead_letter_queues": True}),
        "Originals and renditions in an object store, metadata in a key-value table.",
        Bucket(id="media", label="originals and renditions"),
        app="archlab.systems.images.api:create_app",
        renditions="archlab.systems.images.functions:make_renditions",
    )


def blobs() -> Topology:
    return _images(
        Profile(
            name="blobs",
            description="images as BLOBs in the metadata database",
            knobs={"dead_letter_queues": True},
        ),
        "Originals and renditions as BLOBs in the database that holds their metadata.",
        Bucket(id="media", label="image BLOBs in the metadata database", storage="database"),
        app="archlab.systems.images.api:create_database_app",
        renditions="archlab.systems.images.functions:make_renditions_in_database",
    )


def _images(
    profile: Profile, description: str, media: Bucket, *, app: str, renditions: str
) -> Topology:
    return Topology(
        system="images",
        description=description,
        profile=profile,
        nodes=(
            Service(id="clients", label="phones, tablets, browsers"),
            Api(
                id="images",
                label="images API",
                app=app,
                port=port(),
                routes=("POST /images", "POST /images/upload-url", "GET /images/{id}"),
            ),
            media,
            Table(id="metadata", label="image metadata", partition_key="pk", sort_key="sk"),
            Queue(
                id="uploads",
                label="object-created events",
                attributes={"VisibilityTimeout": "120"},
                dead_letter="uploads-dlq",
                max_receive_count=3,
            ),
            Queue(id="uploads-dlq", label="uploads that failed"),
            Function(
                id="renditions",
                label="make renditions",
                handler=renditions,
                timeout_s=120,
            ),
        ),
        edges=(
            Edge(source="clients", target="images", kind="calls"),
            Edge(source="images", target="media", kind="writes", label="originals"),
            Edge(source="images", target="metadata", kind="writes"),
            Edge(
                source="media",
                target="uploads",
                kind="publishes",
                key_prefix="originals/",
                label="object created",
            ),
            Edge(
                source="uploads",
                target="renditions",
                kind="triggers",
                trigger=Trigger(batch_size=1, max_concurrency=2),
            ),
            Edge(source="renditions", target="media", kind="writes", label="renditions"),
            Edge(source="renditions", target="metadata", kind="writes"),
        ),
        journeys=(
            UserJourney(name="upload an image", path=("clients", "images", "media", "metadata")),
            UserJourney(name="see an image", path=("clients", "images", "metadata", "media")),
            UserJourney(
                name="renditions are made",
                path=("clients", "images", "media", "uploads", "renditions", "metadata"),
            ),
        ),
    )


PROFILES = {"files": files, "blobs": blobs}
