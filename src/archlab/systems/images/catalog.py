"""The images catalog: originals and renditions in a bucket, their metadata in a table.

Objects follow the notes' location scheme: an original at
``originals/{region}/{category}/{image_id}.{ext}`` and its renditions under
``renditions/{image_id}/``. The table has one item per image (``pk = image#{id}``,
``sk = image``) and, for listing an owner's images newest first, one small item per image in the
owner's partition (``pk = owner#{owner}``, ``sk = {created}#{id}``) and one in the ``recent``
partition -- DynamoDB's single-table pattern, so listing is a key query, not a scan.

An upload writes the original first and its metadata item second; the object-created event
then drives the renditions. Both steps merge into the item rather than replace it, and the
rendition step can create the item from the object alone, so the order in which they land does
not matter, and the presigned-upload path (the client PUTs the original itself) goes through the
same pipeline.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from archlab.blocks.bucket import Bucket
from archlab.blocks.table import Table
from archlab.systems.images.formats import MAX_PIXELS, ImageInfo, ImageRejected, inspect
from archlab.systems.images.renditions import DEFAULT_RENDITIONS, MIME, Rendition, RenditionSet

SEGMENT = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
ORIGINAL = re.compile(
    r"originals/(?P<region>[^/]+)/(?P<category>[^/]+)/(?P<id>[0-9a-f]{32})\.(?P<ext>[a-z]+)"
)
OWNER = re.compile(r"[A-Za-z0-9_.@-]{1,128}")
RECENT = "recent"
"""The partition listing every image, newest first (a single hot partition is fine for a
local system; at DynamoDB scale it would be sharded by day)."""


class ImageNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Upload:
    owner: str
    region: str
    category: str

    def check(self) -> None:
        """ImageRejected (400) naming the field that is malformed."""
        if not OWNER.fullmatch(self.owner):
            raise ImageRejected("Invalid field", "owner: 1 to 128 letters, digits, _ . @ or -", 400)
        for name, value in (("region", self.region), ("category", self.category)):
            if not SEGMENT.fullmatch(value):
                raise ImageRejected(
                    "Invalid field",
                    f"{name}: 1 to 63 lowercase letters, digits or hyphens, got {value!r}",
                    400,
                )


Moderation = Callable[[bytes, ImageInfo, Upload], str | None]
"""An optional hook called with every acceptable image before it is kept: None accepts it, a
reason refuses it (422, nothing stored). ARCHLAB_IMAGES_MODERATION names one by import path."""


def original_key(upload: Upload, image_id: str, extension: str) -> str:
    return f"originals/{upload.region}/{upload.category}/{image_id}.{extension}"


class Catalog:
    def __init__(
        self,
        bucket: Bucket,
        table: Table,
        renditions: RenditionSet = DEFAULT_RENDITIONS,
        max_pixels: int = MAX_PIXELS,
        moderation: Moderation | None = None,
    ) -> None:
        self.bucket = bucket
        self.table = table
        self.renditions = renditions
        self.max_pixels = max_pixels
        self.moderation = moderation

    # --- writing ------------------------------------------------------------------------------

    def upload(self, data: bytes, upload: Upload) -> dict[str, Any]:
        """Check and store an original; its item, renditions pending. ImageRejected if the
        upload is not an acceptable image (nothing is stored then)."""
        upload.check()
        info = self._acceptable(data, upload)
        image_id = uuid.uuid4().hex
        key = original_key(upload, image_id, info.type.extension)
        stored = self.bucket.put(
            key, data, content_type=info.type.mime, metadata={"owner": upload.owner}
        )
        return self._record(image_id, key, upload, info, stored.etag, len(data))

    def reserve(self, upload: Upload, extension: str = "jpg") -> tuple[str, str]:
        """An id and original key for a client that will PUT the original itself."""
        upload.check()
        image_id = uuid.uuid4().hex
        key = original_key(upload, image_id, extension)
        created = time.time()
        self.table.update(
            _key(image_id),
            set={
                "id": image_id,
                "owner": upload.owner,
                "status": "awaiting-upload",
                "created": created,
            },
        )
        self._index(upload.owner, image_id, created)
        return image_id, key

    def process(self, key: str) -> dict[str, Any] | None:
        """Make the renditions of the original at ``key`` (the object-created handler). An
        original that is no acceptable image is deleted and its item marked rejected.

        Renditions are published a format at a time, fastest first: the item lists the JPEGs
        while the WebPs and AVIFs are still being made, and is ``ready`` once all are. An
        original the upload already checked (its ETag is the one recorded) is not checked
        again; one a client PUT through a presigned URL is."""
        match = ORIGINAL.fullmatch(key)
        if match is None:
            return None
        image_id = match["id"]
        body = self.bucket.get(key)
        existing = self.table.get(_key(image_id)) or {}
        if existing.get("checked_etag") != body.etag:
            upload = Upload(
                body.metadata.get("owner") or existing.get("owner") or "anonymous",
                match["region"],
                match["category"],
            )
            try:
                info = self._acceptable(body.body, upload)
            except ImageRejected as error:
                self.bucket.delete(key)
                return self.table.update(
                    _key(image_id), set={"id": image_id, "status": "rejected", "reason": str(error)}
                )
            self._record(image_id, key, upload, info, body.etag, len(body.body))
        made: list[dict[str, Any]] = []
        item: dict[str, Any] = {}
        passes = list(self.renditions.formats)
        for renditions in self.renditions.passes(body.body):
            for rendition in renditions:
                rendition_key = f"renditions/{image_id}/{rendition.label}"
                self.bucket.put(rendition_key, rendition.data, content_type=MIME[rendition.format])
                made.append(_described_rendition(rendition, rendition_key))
            passes.pop()
            status = "pending" if passes else "ready"
            item = self.table.update(_key(image_id), set={"status": status, "renditions": made})
        return item

    def _acceptable(self, data: bytes, upload: Upload) -> ImageInfo:
        """What the image is, if it is one to keep; ImageRejected otherwise."""
        info = inspect(data, self.max_pixels)
        reason = self.moderation(data, info, upload) if self.moderation else None
        if reason is not None:
            raise ImageRejected("Refused by moderation", str(reason), 422)
        return info

    def _record(
        self, image_id: str, key: str, upload: Upload, info: ImageInfo, etag: str, size: int
    ) -> dict[str, Any]:
        """The original's item; ``checked_etag`` says which version of it was checked."""
        existing = self.table.get(_key(image_id)) or {}
        created = float(existing.get("created") or time.time())
        item = self.table.update(
            _key(image_id),
            set={
                "id": image_id,
                "owner": upload.owner,
                "region": upload.region,
                "category": upload.category,
                "type": info.type.name,
                "content_type": info.type.mime,
                "width": info.width,
                "height": info.height,
                "frames": info.pages,
                "bytes": size,
                "original": key,
                "checked_etag": etag,
                "created": created,
            },
        )
        self._index(upload.owner, image_id, created)
        return _public(item)

    def _index(self, owner: str, image_id: str, created: float) -> None:
        """The image in its owner's list and in the list of recent images."""
        sort = _index_sort(created, image_id)
        self.table.put({"pk": f"owner#{owner}", "sk": sort})
        self.table.put({"pk": RECENT, "sk": sort})

    # --- reading ------------------------------------------------------------------------------

    def item(self, image_id: str) -> dict[str, Any]:
        found = self.table.get(_key(image_id)) if re.fullmatch(r"[0-9a-f]{32}", image_id) else None
        if found is None:
            raise ImageNotFound(image_id)
        return _public(found)

    def by_owner(
        self, owner: str, limit: int, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """An owner's images, newest first, ``limit`` at a time; and the cursor for the next."""
        return self._listed(f"owner#{owner}", limit, after)

    def recent(
        self, limit: int, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Everyone's images, newest first (the console's gallery)."""
        return self._listed(RECENT, limit, after)

    def _listed(
        self, partition: str, limit: int, after: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        start = {"pk": partition, "sk": after} if after else None
        result = self.table.query(partition, limit=limit, exclusive_start_key=start, forward=False)
        items = []
        for entry in result.items:
            image_id = str(entry["sk"]).rsplit("#", 1)[-1]
            try:
                items.append(self.item(image_id))
            except ImageNotFound:
                continue  # deleted meanwhile
        cursor = result.last_evaluated_key["sk"] if result.last_evaluated_key else None
        return items, cursor

    def delete(self, image_id: str) -> None:
        """Every object and item of the image."""
        item = self.item(image_id)
        keys = [r["key"] for r in item.get("renditions", [])]
        if item.get("original"):
            keys.append(item["original"])
        for start in range(0, len(keys), 1000):
            self.bucket.delete_many(keys[start : start + 1000])
        self.table.delete(_key(image_id))
        sort = _index_sort(float(item.get("created", 0)), image_id)
        self.table.delete({"pk": f"owner#{item['owner']}", "sk": sort})
        self.table.delete({"pk": RECENT, "sk": sort})


def _described_rendition(rendition: Rendition, key: str) -> dict[str, Any]:
    return {
        "label": rendition.label,
        "name": rendition.name,
        "density": rendition.density,
        "format": rendition.format,
        "width": rendition.width,
        "height": rendition.height,
        "bytes": len(rendition.data),
        "key": key,
    }


def _index_sort(created: float, image_id: str) -> str:
    """Sorts by creation time as text: a fixed-width timestamp, then the id."""
    return f"{created:017.6f}#{image_id}"


def _key(image_id: str) -> dict[str, str]:
    return {"pk": f"image#{image_id}", "sk": "image"}


def _public(item: dict[str, Any]) -> dict[str, Any]:
    """The item without its table keys, its numbers as JSON numbers (the table gives exact
    Decimals for non-integers)."""
    return {k: _plain(v) for k, v in item.items() if k not in ("pk", "sk")}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
