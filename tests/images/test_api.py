"""The images API end to end in process: upload, renditions from the object-created event,
device-aware retrieval, presigned URLs, listing, deletion, and bad input."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pyvips
from fastapi.testclient import TestClient

from archlab.blocks import Queue
from archlab.blocks.bucket import Bucket
from archlab.blocks.table import Table
from archlab.engines import connect
from archlab.engines.objectstore import connect_objects
from archlab.engines.tables import connect_tables
from archlab.systems.images import wiring
from archlab.systems.images.api import BodyCache, create_app
from archlab.systems.images.catalog import Catalog, Upload
from archlab.systems.images.formats import ImageInfo
from archlab.systems.images.functions import make_renditions
from archlab.systems.images.renditions import RenditionSet
from tests.images import samples

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148 Safari/604.1"
IPAD = "Mozilla/5.0 (iPad; CPU OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131 Safari/537.36"
FIELDS = {"owner": "ann", "region": "eu-west", "category": "claims"}


STORAGE = {
    "object-store": "file:///{home}/objects",
    "database": "sqlite:///{home}/tables.db",  # the blobs profile: objects in the table's file
}


@pytest.fixture(params=sorted(STORAGE))
def world(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[TestClient, Catalog, Queue]]:
    messaging = connect(f"sqlite:///{tmp_path}/messaging.db")
    events = Queue.create(messaging, "images-uploads")
    bucket = Bucket.create(
        connect_objects(STORAGE[request.param].format(home=tmp_path)),
        "images-media",
        messaging=messaging,
        signing_key=b"k" * 32,
    )
    bucket.put_notification_configuration(
        {
            "QueueConfigurations": [
                {
                    "QueueArn": events.arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "originals/"}]}},
                }
            ]
        }
    )
    table = Table.create(
        connect_tables(f"sqlite:///{tmp_path}/tables.db"),
        "images-metadata",
        partition_key="pk",
        sort_key="sk",
    )
    renditions = RenditionSet({"thumb": 160, "mobile": 480, "tablet": 1024, "desktop": 1920})
    catalog = Catalog(bucket, table, renditions)
    client = TestClient(create_app(catalog))
    yield client, catalog, events
    messaging.close()


def drain(events: Queue, monkeypatch: pytest.MonkeyPatch, catalog: Catalog) -> None:
    """Run the renditions function on every waiting event, as its host would."""
    monkeypatch.setattr("archlab.systems.images.functions.catalog_from_settings", lambda: catalog)
    while messages := events.receive(10):
        records: list[dict[str, Any]] = [
            {"messageId": m.message_id, "body": m.body} for m in messages
        ]
        assert make_renditions({"Records": records}) == {"batchItemFailures": []}
        for message in messages:
            events.delete(message.receipt_handle)


def upload(client: TestClient, data: bytes, **fields: str) -> Any:
    return client.post("/images", params={**FIELDS, **fields}, content=data)


def test_upload_then_the_right_rendition_for_each_device(
    world: tuple[TestClient, Catalog, Queue], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, catalog, events = world
    response = upload(client, samples.jpeg(4000, 3000, orientation=6))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["original"].startswith("originals/eu-west/claims/")
    assert created["status"] == "pending"
    pending = client.get(f"/images/{created['id']}")
    assert pending.status_code == 200 and pending.headers["content-type"] == "image/jpeg"
    drain(events, monkeypatch, catalog)
    meta = client.get(f"/images/{created['id']}/meta").json()
    # Upright, the photo is 3,000 wide: desktop@2x is made at 3,000, past AVIF's cap.
    assert meta["status"] == "ready" and len(meta["renditions"]) == 4 * 2 * 3 - 1
    cases = [
        (IPHONE, "image/avif,image/webp,*/*", "image/avif", 960, {}),
        (IPAD, "image/webp,*/*", "image/webp", 2048, {}),
        (DESKTOP, "image/jpeg,*/*", "image/jpeg", 1920, {}),
        (DESKTOP, "image/avif,image/webp,*/*", "image/webp", 3000, {"Sec-CH-DPR": "2"}),
    ]
    for agent, accept, media, width, hints in cases:
        got = client.get(
            f"/images/{created['id']}", headers={"User-Agent": agent, "Accept": accept, **hints}
        )
        assert got.status_code == 200
        assert got.headers["content-type"] == media
        image = pyvips.Image.new_from_buffer(got.content, "")
        assert image.width == width and image.height > image.width  # rotated upright
        assert "Accept" in got.headers["vary"] and "Sec-CH-Width" in got.headers["accept-ch"]
        again = client.get(
            f"/images/{created['id']}",
            headers={
                "User-Agent": agent,
                "Accept": accept,
                "If-None-Match": got.headers["etag"],
                **hints,
            },
        )
        assert again.status_code == 304


class AvifFails(RenditionSet):
    def _encode(self, image: pyvips.Image, fmt: str) -> bytes:
        if fmt == "avif":
            raise pyvips.Error("the AVIF encoder ran out of memory")
        return super()._encode(image, fmt)


def test_renditions_are_served_as_each_format_lands(
    world: tuple[TestClient, Catalog, Queue],
) -> None:
    """JPEGs and WebPs are published before the AVIFs are made: a failure in the last pass
    leaves the item pending (the event comes back) and the faster formats already served."""
    client, catalog, _ = world
    created = upload(client, samples.jpeg(1200, 900)).json()
    catalog.renditions = AvifFails({"thumb": 160, "mobile": 480})
    with pytest.raises(pyvips.Error):
        catalog.process(created["original"])
    meta = client.get(f"/images/{created['id']}/meta").json()
    assert meta["status"] == "pending"
    assert {r["format"] for r in meta["renditions"]} == {"jpeg", "webp"}
    got = client.get(f"/images/{created['id']}?w=300", headers={"Accept": "image/avif,image/webp"})
    assert got.headers["content-type"] == "image/webp"
    assert pyvips.Image.new_from_buffer(got.content, "").width == 320  # thumb@2x


def test_multipart_upload_and_client_hints(
    world: tuple[TestClient, Catalog, Queue], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, catalog, events = world
    response = client.post(
        "/images",
        files={"file": ("whatever.png", io.BytesIO(samples.png_with_alpha()), "image/jpeg")},
        data=FIELDS,
    )
    assert response.status_code == 201, response.text
    assert response.json()["type"] == "png"  # from the bytes, not the name or Content-Type
    drain(events, monkeypatch, catalog)
    got = client.get(f"/images/{response.json()['id']}", headers={"Sec-CH-Width": "150"})
    assert pyvips.Image.new_from_buffer(got.content, "").width == 160


def test_presigned_upload_drives_the_same_pipeline(
    world: tuple[TestClient, Catalog, Queue], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, catalog, events = world
    ticket = client.post("/images/upload-url", json=FIELDS).json()
    path = ticket["upload_url"].removeprefix("http://testserver")
    assert client.put(path, content=samples.jpeg()).status_code == 200
    assert client.put(path.replace("Signature=", "Signature=0"), content=b"x").status_code == 403
    drain(events, monkeypatch, catalog)
    meta = client.get(f"/images/{ticket['id']}/meta").json()
    assert meta["status"] == "ready" and meta["type"] == "jpeg"
    redirect = client.get(f"/images/{ticket['id']}?delivery=redirect", follow_redirects=False)
    assert redirect.status_code == 302
    fetched = client.get(redirect.headers["location"].removeprefix("http://testserver"))
    assert fetched.status_code == 200 and fetched.content[:3] == b"\xff\xd8\xff"


def test_a_presigned_upload_of_text_is_rejected_and_removed(
    world: tuple[TestClient, Catalog, Queue], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, catalog, events = world
    ticket = client.post("/images/upload-url", json=FIELDS).json()
    client.put(ticket["upload_url"].removeprefix("http://testserver"), content=b"not an image")
    drain(events, monkeypatch, catalog)
    meta = client.get(f"/images/{ticket['id']}/meta").json()
    assert meta["status"] == "rejected" and "Unsupported" in meta["reason"]
    assert catalog.bucket.list(prefix="originals/").key_count == 0


def test_listing_by_owner_and_deleting(
    world: tuple[TestClient, Catalog, Queue], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, catalog, events = world
    ids = [upload(client, samples.jpeg(64, 48)).json()["id"] for _ in range(3)]
    upload(client, samples.jpeg(64, 48), owner="bob")
    drain(events, monkeypatch, catalog)
    first = client.get("/images", params={"owner": "ann", "limit": 2}).json()
    second = client.get(
        "/images", params={"owner": "ann", "limit": 2, "cursor": first["next_cursor"]}
    ).json()
    listed = [i["id"] for i in first["images"] + second["images"]]
    assert listed == list(reversed(ids))  # newest first
    assert client.delete(f"/images/{ids[0]}").status_code == 204
    assert client.get(f"/images/{ids[0]}").status_code == 404
    assert not [k for k in _keys(catalog) if ids[0] in k]


def no_wide_images(data: bytes, info: ImageInfo, upload: Upload) -> str | None:
    """A moderation hook: refuses panoramas, and anything from the owner "spammer"."""
    if upload.owner == "spammer":
        return "this owner may not upload"
    return "panoramas are not accepted" if info.width > 3 * info.height else None


def test_moderation_refuses_before_anything_is_stored(
    world: tuple[TestClient, Catalog, Queue], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, catalog, events = world
    catalog.moderation = no_wide_images
    refused = upload(client, samples.jpeg(900, 100))
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["title"] == "Refused by moderation"
    assert refused.json()["detail"] == "panoramas are not accepted"
    assert upload(client, samples.jpeg(), owner="spammer").status_code == 422
    assert _keys(catalog) == []
    ticket = client.post("/images/upload-url", json=FIELDS).json()  # the presigned path too
    client.put(
        ticket["upload_url"].removeprefix("http://testserver"), content=samples.jpeg(900, 100)
    )
    drain(events, monkeypatch, catalog)
    meta = client.get(f"/images/{ticket['id']}/meta").json()
    assert meta["status"] == "rejected" and "panoramas" in meta["reason"]
    assert _keys(catalog) == []
    assert upload(client, samples.jpeg()).status_code == 201


def test_the_moderation_hook_is_named_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHLAB_HOME", str(tmp_path))
    monkeypatch.setenv("ARCHLAB_IMAGES_MODERATION", "tests.images.test_api:no_wide_images")
    wiring.catalog_from_settings.cache_clear()
    try:
        assert wiring.catalog_from_settings().moderation is no_wide_images
    finally:
        wiring.catalog_from_settings.cache_clear()


def _keys(catalog: Catalog) -> list[str]:
    return [entry.key for entry in catalog.bucket.list().contents]


@pytest.mark.parametrize(
    ("data", "fields", "status", "title"),
    [
        (b"", {}, 400, "Empty upload"),
        (b"just text named photo.jpg", {}, 415, "Unsupported image type"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", {}, 415, "Unsupported image type"),
        (samples.jpeg()[:2000], {}, 422, "Corrupt image"),
        (samples.jpeg(), {"region": "EU WEST"}, 400, "Invalid field"),
    ],
)
def test_bad_uploads_are_problems_and_store_nothing(
    world: tuple[TestClient, Catalog, Queue],
    data: bytes,
    fields: dict[str, str],
    status: int,
    title: str,
) -> None:
    client, catalog, _ = world
    response = upload(client, data, **fields)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == title
    assert _keys(catalog) == []


def test_a_bomb_and_an_oversized_body_are_refused(
    world: tuple[TestClient, Catalog, Queue], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, catalog, _ = world
    assert upload(client, samples.bomb(12_000)).status_code == 413
    monkeypatch.setattr("archlab.systems.images.api.MAX_UPLOAD_BYTES", 1000)
    assert upload(client, samples.jpeg()).status_code == 413
    assert _keys(catalog) == []


def test_unknown_images_and_bad_queries(world: tuple[TestClient, Catalog, Queue]) -> None:
    client, _, _ = world
    assert client.get("/images/0123456789abcdef0123456789abcdef").status_code == 404
    assert client.get("/images/not-an-id/meta").status_code == 404
    image_id = upload(client, samples.jpeg()).json()["id"]
    assert client.get(f"/images/{image_id}", params={"w": "abc"}).status_code == 400
    assert client.get(f"/images/{image_id}", params={"device": "toaster"}).status_code == 400
    assert client.get("/images").status_code == 400  # owner is required
    assert client.get("/openapi.json").json()["info"]["title"] == "archlab images"


def test_recent_images_for_the_gallery_with_cors(world: tuple[TestClient, Catalog, Queue]) -> None:
    client, _, _ = world
    first = upload(client, samples.jpeg(64, 48)).json()["id"]
    second = upload(client, samples.jpeg(64, 48), owner="bob").json()["id"]
    listed = client.get("/recent", headers={"Origin": "http://127.0.0.1:8080"})
    assert [i["id"] for i in listed.json()["images"]] == [second, first]
    assert listed.headers["access-control-allow-origin"] == "http://127.0.0.1:8080"
    other = client.get("/recent", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    client.delete(f"/images/{first}")
    assert [i["id"] for i in client.get("/recent").json()["images"]] == [second]


def test_the_body_cache_keeps_to_its_budget() -> None:
    cache = BodyCache(budget=10)
    cache.put("renditions/a/x", (b"1234", '"e1"', "image/jpeg"))
    cache.put("renditions/a/y", (b"5678", '"e2"', "image/jpeg"))
    assert cache.get("renditions/a/x") is not None  # now the most recently used
    cache.put("renditions/b/x", (b"9012", '"e3"', "image/jpeg"))
    assert cache.get("renditions/a/y") is None and cache.size == 8
    cache.put("huge", (b"x" * 11, '"e4"', "image/jpeg"))  # larger than the budget: not kept
    assert cache.get("huge") is None
    cache.forget("renditions/a/")
    assert cache.get("renditions/a/x") is None and cache.get("renditions/b/x") is not None
    assert cache.size == 4
