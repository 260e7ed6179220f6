"""`images` as `archlab up` runs it: the API in its own process, renditions made by the function
host from the bucket's events, everything provisioned from the topology."""

from __future__ import annotations

import json
import socket
import sqlite3
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from archlab.runtime.supervisor import supervised
from archlab.systems.images.topology import PROFILES
from tests.images import samples
from tests.runtime.test_workers import eventually


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def call(request: urllib.request.Request | str) -> Any:
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@pytest.mark.parametrize("profile", ["files", "blobs"])
def test_upload_over_http_and_renditions_from_the_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, profile: str
) -> None:
    port = free_port()
    home = tmp_path / "home"
    monkeypatch.setenv("ARCHLAB_HOME", str(home))
    monkeypatch.setenv("ARCHLAB_IMAGES_PORT", str(port))
    base = f"http://127.0.0.1:{port}"
    topology = PROFILES[profile]()
    with supervised([topology], home, f"sqlite:///{home}/messaging.db") as supervisor:
        assert supervisor.endpoints["images"] == base
        upload = urllib.request.Request(
            f"{base}/images?owner=ann&region=eu-west&category=claims",
            data=samples.jpeg(1200, 900),
            method="POST",
        )
        created = call(upload)
        meta_url = f"{base}/images/{created['id']}/meta"
        eventually(lambda: call(meta_url)["status"] == "ready", timeout=30)
        assert len(call(meta_url)["renditions"]) == 24
    if profile == "blobs":  # every byte went to the database, none to the object store
        assert not (home / "objects").exists()
        database = sqlite3.connect(home / "tables.db")
        stored = database.execute("SELECT count(*), sum(size) FROM objects").fetchone()
        assert stored[0] == 25 and stored[1] > len(samples.jpeg(1200, 900))
