"""The images system's topology: the notes' image storage and retrieval.

Clients call the API; the API checks an upload, writes the original to the object store under
the location scheme and its metadata to the table; the bucket's object-created events go to a
queue (so failures are retried, then dead-lettered) that triggers the renditions function,
which writes the renditions back to the bucket and their keys and sizes to the metadata item.
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
)

DEFAULT_PORT = 8081


def port() -> int:
    """The API's port: ARCHLAB_IMAGES_PORT, else 8081."""
    text = os.environ.get("ARCHLAB_IMAGES_PORT", "")
    return int(text) if text.isdigit() and 0 < int(text) < 65536 else DEFAULT_PORT


def files() -> Topology:
    return Topology(
        system="images",
        description="Originals and renditions in an object store, metadata in a key-value table.",
        profile=Profile(name="files", knobs={"dead_letter_queues": True}),
        nodes=(
            Service(id="clients", label="phones, tablets, browsers"),
            Api(
                id="images",
                label="images API",
                app="archlab.systems.images.api:create_app",
                port=port(),
                routes=("POST /images", "POST /images/upload-url", "GET /images/{id}"),
            ),
            Bucket(id="media", label="originals and renditions"),
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
                handler="archlab.systems.images.functions:make_renditions",
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
    )


PROFILES = {"files": files}
