"""HTTP services from a topology's api nodes: served, listed, restarted, stopped."""

from __future__ import annotations

import json
import os
import signal
import socket
import urllib.request
from pathlib import Path

from archlab.runtime.services import port_free
from archlab.runtime.supervisor import read_state, supervised
from archlab.topology import Api, Profile, Topology
from tests.runtime.test_workers import eventually


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pid_at(url: str) -> int:
    with urllib.request.urlopen(f"{url}/pid", timeout=5) as response:
        return int(json.load(response)["pid"])


def test_an_api_node_is_served_restarted_and_stopped(tmp_path: Path) -> None:
    port = free_port()
    topology = Topology(
        system="demo",
        profile=Profile(name="test"),
        nodes=(Api(id="web", app="tests.runtime.handlers:demo_app", port=port),),
    )
    url = f"http://127.0.0.1:{port}"
    with supervised([topology], tmp_path / "home", f"sqlite:///{tmp_path}/m.db") as supervisor:
        state = read_state(tmp_path / "home")
        assert state is not None and state["endpoints"] == {"web": url}
        first = pid_at(url)
        os.kill(first, signal.SIGKILL)
        eventually(lambda: supervisor.services[0].restarts == 1)  # the next step restarts it
        eventually(lambda: answering(url) not in (None, first))
    assert port_free(port)


def answering(url: str) -> int | None:
    try:
        return pid_at(url)
    except OSError:
        return None
