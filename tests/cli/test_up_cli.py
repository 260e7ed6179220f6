"""``archlab up`` and ``archlab status`` as a user runs them: a real process, a real console."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from archlab.cli.main import app
from tests.cli.shell import run, runner


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def up(home: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "archlab", "up", "claims", "--console-port", str(port)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=os.environ.copy(),
    )
    assert process.stderr is not None
    first = process.stderr.readline()
    assert "ready in" in first, first
    yield process, port
    if process.poll() is None:
        process.kill()
        process.wait()


def test_up_runs_serves_reports_and_stops_cleanly(
    up: tuple[subprocess.Popen[str], int], home: Path
) -> None:
    process, port = up
    status = run("status", "--json")
    assert status["running"] and status["systems"] == {"claims": {"profile": "two-queues"}}
    assert status["endpoints"] == {"console": f"http://127.0.0.1:{port}"}
    assert {w["pool"] for w in status["workers"]} == {
        "claims-car-adjusters",
        "claims-other-adjusters",
    }
    assert all(isinstance(w["pid"], int) for w in status["workers"])
    assert status["queues"]["claims-car-claims"]["visible"] == 0
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
        assert json.load(response) == {"status": "ok"}
    again = runner.invoke(app, ["up", "claims"])
    assert again.exit_code == 2 and "already running" in again.stderr
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert run("status", "--json") == {"running": False}
    assert not (home / "state.json").exists()


def test_status_says_when_nothing_runs() -> None:
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 0 and "not running" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        (["up", "boats"], "no system 'boats'"),
        (["up", "claims", "--profile", "topic"], "claims has no profile 'topic'"),
        (["up", "claims", "--console-port", "70000"], "--console-port must be from 0 to 65535"),
    ],
)
def test_up_names_bad_input(arguments: list[str], problem: str, home: Path) -> None:
    result = runner.invoke(app, arguments)
    assert result.exit_code == 2 and problem in result.stderr
    assert not (home / "state.json").exists()


def test_up_says_when_the_console_port_is_taken(home: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = runner.invoke(app, ["up", "claims", "--console-port", str(port)])
    assert (
        result.exit_code == 2 and f"cannot serve the console on 127.0.0.1:{port}" in result.stderr
    )
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    "arguments",
    [
        ["chaos", "kill-instance", "web-a1"],
        ["chaos", "kill-zone", "zone-a"],
        ["chaos", "restore-zone", "zone-a"],
    ],
)
def test_chaos_needs_a_running_system(arguments: list[str]) -> None:
    result = runner.invoke(app, arguments)
    assert result.exit_code == 2 and "not running" in result.stderr


def test_chaos_names_what_is_not_there(up: tuple[subprocess.Popen[str], int]) -> None:
    instance = runner.invoke(app, ["chaos", "kill-instance", "web-a1"])
    assert instance.exit_code == 2 and "no instance 'web-a1'" in instance.stderr
    zone = runner.invoke(app, ["chaos", "kill-zone", "zone-q"])
    assert zone.exit_code == 2 and "no zone 'zone-q' (zones: zone-a, zone-b)" in zone.stderr
    assert run("chaos", "log") == {"actions": []}


def test_a_killed_supervisor_leaves_no_process_behind(
    up: tuple[subprocess.Popen[str], int],
) -> None:
    process, _ = up
    pids = [w["pid"] for w in run("status", "--json")["workers"]]
    assert pids
    process.kill()
    process.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.1)
    assert not [pid for pid in pids if _alive(pid)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:  # a zombie is dead, just not yet reaped
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False
