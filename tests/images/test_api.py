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
from archlab.systems.images.api import create_app
from archlab.systems.images.catalog import Catalog
from archlab.systems.images.functions import make_renditions
from archlab.systems.images.renditions import RenditionSet
from tests.images import samples

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148 Safari/604.1"
IPAD = "Mozilla/5.0 (iPad; CPU OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Safari/604.1"
DESKTOP = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131 Safari/537.36"
FIELDS = {"owner": "ann", "region": "eu-west", "category": "claims"}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[TestClient, Catalog, Queue]]:
    messaging = connect(f"sqlite:///{tmp_path}/messaging.db")
    events = Queue.create(messaging, "images-uploads")
    bucket = Bucket.create(
        connect_objects(f"file:///{tmp_path}/objects"),
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
    assert meta["status"] == "ready" and len(meta["renditions"]) == 4 * 2 * 3
    cases = [
        (IPHONE, "image/avif,image/webp,*/*", "image/avif", 960),
        (IPAD, "image/webp,*/*", "image/webp", 2048),
        (DESKTOP, "image/jpeg,*/*", "image/jpeg", 1920),
    ]
    for agent, accept, media, width in cases:
        got = client.get(
            f"/images/{created['id']}", headers={"User-Agent": agent, "Accept": accept}
        )
        assert got.status_code == 200
        assert got.headers["content-type"] == media
        image = pyvips.Image.new_from_buffer(got.content, "")
        assert image.width == width and image.height > image.width  # rotated upright
        assert "Accept" in got.headers["vary"] and "Sec-CH-Width" in got.headers["accept-ch"]
        again = client.get(
            f"/images/{created['id']}",
            headers={"User-Agent": agent, "Accept": accept, "If-None-Match": got.headers["etag"]},
        )
        assert again.status_code == 304


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
