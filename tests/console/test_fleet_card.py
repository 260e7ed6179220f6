"""The console's fleet: the Fleet card, and its chaos buttons acting on real processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from archlab.console import create_app
from archlab.runtime import chaos
from tests.runtime.test_fleet import fleet


def fleet_state(pid: int) -> dict[str, Any]:
    topology = fleet(8000)
    instance = {
        "id": "fleet-web-a1",
        "system": "fleet",
        "group": "fleet-web",
        "tier": "web",
        "zone": "zone-a",
        "pid": pid,
        "port": 9100,
        "url": "http://127.0.0.1:9100",
        "lifecycle": "in-service",
        "health": "healthy",
        "healthy": True,
        "alive": True,
        "outstanding": 0,
        "requests": 7,
        "launched": 0.0,
    }
    group = {
        "group": "fleet-web",
        "system": "fleet",
        "tier": "web",
        "min": 2,
        "max": 4,
        "desired": 2,
        "zones": ["zone-a", "zone-b"],
        "requests_per_s": 0,
        "events": [],
    }
    return {
        "pid": 1,
        "started": 0.0,
        "ready_at": 0.0,
        "messaging_url": "",
        "endpoints": {},
        "systems": {"fleet": {"profile": "ha", "topology": json.loads(topology.to_json(None))}},
        "queues": {},
        "pools": [],
        "functions": [],
        "services": [],
        "workers": [],
        "groups": [group],
        "instances": [instance],
        "balancers": [],
        "zones_down": [],
    }


def test_the_fleet_card_and_its_chaos_buttons(tmp_path: Path) -> None:
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        state = fleet_state(victim.pid)
        client = TestClient(create_app(lambda: state, f"sqlite:///{tmp_path}/m.db", home=tmp_path))
        page = client.get("/").text
        assert 'id="fleet"' in page and "Kill an instance or a zone" in page
        live = client.get("/api/state").json()
        assert live["zones"] == ["zone-a", "zone-b"]
        assert live["groups"][0]["zones_count"] == {"zone-a": {"instances": 1, "healthy": 1}}

        killed = client.post("/api/chaos/instances/fleet-web-a1/kill")
        assert killed.status_code == 200 and killed.json()["pid"] == victim.pid
        assert victim.wait(5) == -9
        missing = client.post("/api/chaos/instances/nope/kill")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"

        assert client.post("/api/chaos/zones/zone-b/kill").status_code == 200
        assert chaos.zones_down(tmp_path) == {"zone-b"}
        assert client.post("/api/chaos/zones/zone-b/restore").status_code == 200
        assert client.post("/api/chaos/zones/zone-b/restore").status_code == 409
        assert client.post("/api/chaos/zones/zone-q/kill").status_code == 404
        actions = [a["action"] for a in client.get("/api/chaos").json()["actions"]]
        assert actions == ["kill-instance", "kill-zone", "restore-zone"]
    finally:
        victim.kill()
        victim.wait()
