"""The console's HTTP API and page, against a fake supervisor state and a real SQLite engine."""

from __future__ import annotations

import re
import socket
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from archlab.blocks import Queue as QueueBlock
from archlab.console import create_app, serve
from archlab.engines.base import MessagingEngine
from archlab.topology import Topology
from tests.console.conftest import dead_letter

PROBLEM = "application/problem+json"


def test_health(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_state_has_live_queue_metrics(client: TestClient, engine: MessagingEngine) -> None:
    QueueBlock(engine, "purchases-car").send("one")
    QueueBlock(engine, "purchases-car").send("two")
    QueueBlock(engine, "purchases-car").receive()
    QueueBlock(engine, "purchases-home").send("later", delay_seconds=60)

    state = client.get("/api/state").json()

    assert set(state) == {
        "systems",
        "queues",
        "pools",
        "workers",
        "functions",
        "groups",
        "instances",
        "balancers",
        "zones",
        "zones_down",
    }
    car = state["queues"]["purchases-car"]
    assert (car["visible"], car["in_flight"], car["delayed"]) == (1, 1, 0)
    assert car["dead_letter"] == "purchases-car-dlq"
    assert car["dead_letter_visible"] == 0
    assert car["dead_letter_of"] == []
    assert state["queues"]["purchases-home"]["delayed"] == 1
    assert state["queues"]["purchases-car-dlq"]["dead_letter_of"] == ["purchases-car"]
    assert state["systems"]["purchases"]["profile"] == "topic"


def test_state_summarises_pools_per_zone(client: TestClient) -> None:
    pools = {pool["pool"]: pool for pool in client.get("/api/state").json()["pools"]}

    car = pools["purchases-car-backend"]
    assert (car["size"], car["busy"], car["processed"], car["restarts"]) == (1, 1, 5, 1)
    assert car["zones"] == {"zone-a": {"workers": 1, "busy": 1}}
    assert "workers" not in car


def test_a_queue_removed_by_hand_shows_as_missing(
    client: TestClient, engine: MessagingEngine
) -> None:
    engine.delete_queue("purchases-pet")

    assert client.get("/api/state").json()["queues"]["purchases-pet"]["missing"] is True


def test_redrive_moves_dead_letters_back(client: TestClient, engine: MessagingEngine) -> None:
    dead_letter(engine, "purchases-car", "a car purchase that failed")
    before = client.get("/api/state").json()["queues"]
    assert before["purchases-car"]["dead_letter_visible"] == 1
    assert before["purchases-car-dlq"]["visible"] == 1

    response = client.post("/api/queues/purchases-car-dlq/redrive")

    assert response.status_code == 200
    assert response.json() == {
        "queue": "purchases-car-dlq",
        "moved": 1,
        "sources": ["purchases-car"],
    }
    after = client.get("/api/state").json()["queues"]
    assert after["purchases-car-dlq"]["visible"] == 0
    assert after["purchases-car"]["visible"] == 1
    [message] = QueueBlock(engine, "purchases-car").receive()
    assert message.body == "a car purchase that failed"
    assert message.attributes["ApproximateReceiveCount"] == "1"


def test_redrive_of_an_empty_dead_letter_queue_moves_nothing(client: TestClient) -> None:
    response = client.post("/api/queues/purchases-pet-dlq/redrive", params={"max_per_second": 5})

    assert response.status_code == 200
    assert response.json()["moved"] == 0


def assert_problem(response: httpx.Response, status: int, detail: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == "about:blank"
    assert body["status"] == status
    assert body["title"] == {400: "Bad Request", 404: "Not Found"}[status]
    assert re.search(detail, body["detail"]), body["detail"]


def test_redrive_of_an_unknown_queue_is_not_found(client: TestClient) -> None:
    response = client.post("/api/queues/nope/redrive")

    assert_problem(response, 404, "no queue 'nope'")
    assert response.json()["instance"] == "/api/queues/nope/redrive"


def test_redrive_of_a_source_queue_is_refused(client: TestClient) -> None:
    assert_problem(client.post("/api/queues/purchases-car/redrive"), 400, "not a dead-letter queue")


def test_redrive_rate_is_checked(client: TestClient) -> None:
    response = client.post("/api/queues/purchases-car-dlq/redrive?max_per_second=0")

    assert_problem(response, 400, "max_per_second")


def test_redrive_of_a_queue_deleted_by_hand_is_not_found(
    client: TestClient, engine: MessagingEngine
) -> None:
    engine.delete_queue("purchases-car-dlq")

    assert_problem(client.post("/api/queues/purchases-car-dlq/redrive"), 404, "NonExistentQueue")


def test_unknown_routes_are_problems(client: TestClient) -> None:
    assert_problem(client.get("/nowhere"), 404, "Not Found")


def test_page_draws_every_node_of_the_topology(client: TestClient, topology: Topology) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    svg = html[html.index("<svg") : html.index("</svg>")]
    drawn = re.findall(r'<g class="node [^"]*" data-node="([^"]+)"', svg)
    assert sorted(drawn) == sorted(node.id for node in topology.nodes)
    assert 'data-queue="purchases-car"' in svg
    assert 'data-pool="purchases-car-backend"' in svg
    assert "coverage = car" in svg


def test_page_is_self_contained(client: TestClient) -> None:
    html = client.get("/").text

    assert "<link" not in html
    assert not re.search(r"<script[^>]+src=", html)
    assert "http://" not in html and "https://" not in html


def test_page_without_systems(messaging_url: str, engine: MessagingEngine) -> None:
    empty: dict[str, Any] = {"systems": {}, "queues": {}, "pools": [], "workers": []}
    client = TestClient(create_app(lambda: empty, messaging_url))

    assert "No system is running" in client.get("/").text
    assert client.get("/api/state").json()["queues"] == {}


def test_serve_on_a_free_port_and_stop(app: FastAPI) -> None:
    server, thread = serve(app, port=0)
    try:
        port = server.config.port
        assert port != 0
        assert httpx.get(f"http://127.0.0.1:{port}/health").json() == {"status": "ok"}
    finally:
        server.should_exit = True
        thread.join(5)
    assert not thread.is_alive()


def test_serve_on_a_port_in_use_fails_at_once(app: FastAPI) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            serve(app, port=port)


def test_page_has_a_gallery_when_the_images_api_runs(
    state: dict[str, Any], messaging_url: str, engine: MessagingEngine
) -> None:
    state["endpoints"] = {"images": "http://127.0.0.1:8123"}
    html = TestClient(create_app(lambda: state, messaging_url)).get("/").text

    assert '<section class="card" id="gallery" data-images="http://127.0.0.1:8123">' in html
    for hook in ('id="gallery-tiles"', 'id="gallery-preview"', 'id="gallery-preview-image"'):
        assert hook in html
    for device in ("mobile", "tablet", "desktop"):
        assert f'data-device="{device}"' in html
    assert "/recent?limit=12" in html
    assert "setInterval(refreshGallery, 5000)" in html
    assert "setInterval(refresh, 1000)" in html


def test_page_has_no_gallery_without_the_images_api(client: TestClient) -> None:
    html = client.get("/").text

    assert 'id="gallery"' not in html
    assert "refreshGallery" not in html
