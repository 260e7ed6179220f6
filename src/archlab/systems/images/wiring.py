"""The images system's storage, from the environment: the bucket and table its processes share,
the key that signs its presigned URLs, and the moderation hook ARCHLAB_IMAGES_MODERATION names
(``package.module:callable``), if any."""

from __future__ import annotations

import functools
import os
import secrets
from pathlib import Path

from archlab import settings
from archlab.blocks.bucket import Bucket
from archlab.blocks.table import Table
from archlab.engines import connect
from archlab.engines.objectstore import connect_objects
from archlab.engines.tables import connect_tables
from archlab.runtime.handlers import load_handler
from archlab.systems.images.catalog import Catalog

BUCKET = "images-media"
TABLE = "images-metadata"


def signing_key(home: Path | None = None) -> bytes:
    """The system's URL-signing secret: 32 random bytes made on first use, readable by the
    owner only, shared by every process of the system through ARCHLAB_HOME."""
    path = (home or settings.home()) / "images" / "signing.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(descriptor, "wb") as file:
        file.write(secrets.token_bytes(32))
    return path.read_bytes()


@functools.cache
def catalog_from_settings(storage: str = "object-store") -> Catalog:
    """The catalog every process of the system shares; ``storage="database"`` keeps the
    objects in the tables' database (the ``blobs`` profile)."""
    bucket = Bucket(
        connect_objects(settings.objects_url(storage)),
        BUCKET,
        messaging=connect(settings.messaging_url()),
        signing_key=signing_key(),
    )
    hook = os.environ.get("ARCHLAB_IMAGES_MODERATION")
    moderation = load_handler(hook) if hook else None
    return Catalog(
        bucket, Table(connect_tables(settings.tables_url()), TABLE), moderation=moderation
    )
