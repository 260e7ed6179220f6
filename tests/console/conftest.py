"""A console over a fake supervisor: the purchases topic design, provisioned on a temporary
SQLite engine, with a state shaped like ``Supervisor.snapshot()`` but no worker processes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from archlab.blocks import Queue as QueueBlock
from archlab.console import create_app, serve
from archlab.engines import connect
from archlab.engines.base import MessagingEngine
from archlab.runtime.provision import provision, resource_name
from archlab.systems.purchases.topology import MAX_RECEIVES, topic
from archlab.topology import InstanceGroup, Queue, Topology


def supervisor_state(topology: Topology, messaging_url: str) -> dict[str, Any]:
    """What ``Supervisor._snapshot`` returns for ``topology``: one busy worker per pool, in the
    group's first zone."""
    pools: list[dict[str, Any]] = []
    for group in topology.of_kind(InstanceGroup):
        feeds = topology.edges_to(group.id, "triggers")
        if not feeds:  # the supervisor starts only the groups a queue feeds
            continue
        feed = feeds[0]
        zone = (group.zones or topology.profile.zones)[0]
        worker = {"pid": 4000 + len(pools), "zone": zone, "busy": True, "processed": 5}
        worker |= {"started": 0.0, "alive": True}
        pools.append(
            {
                "system": topology.system,
                "pool": resource_name(topology, group.id),
                "queue": resource_name(topology, feed.source),
                "min": group.min_size,
                "max": group.max_size,
                "restarts": 1,
                "workers": [worker],
                "decisions": [],
            }
        )
    return {
        "pid": 4242,
        "started": 0.0,
        "ready_at": 0.0,
        "messaging_url": messaging_url,
        "endpoints": {},
        "systems": {
            topology.system: {
                "profile": topology.profile.name,
                "topology": json.loads(topology.to_json(None)),
            }
        },
        "queues": {
            resource_name(topology, q.id): {
                "system": topology.system,
                "node": q.id,
                "dead_letter": resource_name(topology, q.dead_letter) if q.dead_letter else None,
            }
            for q in topology.of_kind(Queue)
        },
        "pools": pools,
        "functions": [],
        "workers": [
            {"pool": pool["pool"], "system": pool["system"], **worker}
            for pool in pools
            for worker in pool["workers"]
        ],
    }


def dead_letter(engine: MessagingEngine, queue: str, body: str) -> None:
    """Send ``body`` to ``queue`` and fail it until it moves to the dead-letter queue."""
    block = QueueBlock(engine, queue)
    block.send(body)
    for _ in range(MAX_RECEIVES):
        assert block.receive(visibility_timeout=0)
    assert block.receive(visibility_timeout=0) == []  # this receive moves it


@pytest.fixture
def topology() -> Topology:
    return topic()


@pytest.fixture
def messaging_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/messaging.db"


@pytest.fixture
def engine(topology: Topology, messaging_url: str) -> Iterator[MessagingEngine]:
    engine = connect(messaging_url)
    provision(topology, engine)
    yield engine
    engine.close()


@pytest.fixture
def state(topology: Topology, messaging_url: str) -> dict[str, Any]:
    return supervisor_state(topology, messaging_url)


@pytest.fixture
def app(state: dict[str, Any], messaging_url: str, engine: MessagingEngine) -> FastAPI:
    return create_app(lambda: state, messaging_url)


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


@pytest.fixture
def console_url(app: FastAPI) -> Iterator[str]:
    """The console served on a free loopback port, for a browser."""
    server, thread = serve(app, port=0)
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(5)
