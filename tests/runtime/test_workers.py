"""Worker pools with real processes: processing, redelivery, dead letters, crashes, scaling,
and stopping with the message in hand finished."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from archlab.blocks import Queue
from archlab.engines import connect
from archlab.engines.base import MessagingEngine
from archlab.runtime.autoscaling import Autoscaler
from archlab.runtime.workers import WorkerPool, WorkerSpec
from archlab.topology import TargetTracking
from tests.runtime.handlers import lines


def eventually(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@pytest.fixture
def output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = str(tmp_path / "processed.txt")
    monkeypatch.setenv("ARCHLAB_TEST_OUTPUT", path)  # spawned workers inherit it
    return path


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/messaging.db"


@pytest.fixture
def engine(url: str) -> Iterator[MessagingEngine]:
    engine = connect(url)
    yield engine
    engine.close()


@pytest.fixture
def queue(engine: MessagingEngine) -> Queue:
    Queue.create(engine, "work-dlq")
    redrive = {"deadLetterTargetArn": "work-dlq", "maxReceiveCount": 2}
    return Queue.create(engine, "work", {"VisibilityTimeout": 1, "RedrivePolicy": redrive})


@pytest.fixture
def pools() -> Iterator[list[WorkerPool]]:
    started: list[WorkerPool] = []
    yield started
    for pool in started:
        pool.stop(timeout=5)


def make_pool(
    pools: list[WorkerPool], url: str, size: int = 1, autoscaler: Autoscaler | None = None
) -> WorkerPool:
    spec = WorkerSpec(
        pool="work-pool", handler="tests.runtime.handlers:record", queue="work", messaging_url=url
    )
    pool = WorkerPool(
        spec, min_size=size, max_size=4, zones=("zone-a", "zone-b"), autoscaler=autoscaler
    )
    pool.start()
    pools.append(pool)
    return pool


def visible(queue: Queue, name: str = "ApproximateNumberOfMessages") -> int:
    return int(queue.attributes()[name])


def test_a_pool_processes_and_deletes_every_message(
    queue: Queue, pools: list[WorkerPool], url: str, output: str
) -> None:
    pool = make_pool(pools, url, size=2)
    assert sorted(w.zone for w in pool.workers) == ["zone-a", "zone-b"]
    for start in range(0, 30, 10):
        queue.send_batch([{"Id": str(i), "MessageBody": f"m{start + i}"} for i in range(10)])
    eventually(lambda: len(lines(output)) == 30)
    assert sorted(line.split()[1] for line in lines(output)) == sorted(f"m{i}" for i in range(30))
    eventually(
        lambda: visible(queue) + visible(queue, "ApproximateNumberOfMessagesNotVisible") == 0
    )


def test_a_failing_message_is_retried_then_dead_lettered(
    engine: MessagingEngine, queue: Queue, pools: list[WorkerPool], url: str, output: str
) -> None:
    make_pool(pools, url)
    queue.send("poison pill")
    queue.send("fine")
    dead_letters = Queue(engine, "work-dlq")
    eventually(lambda: visible(dead_letters) == 1)
    assert [line.split()[1] for line in lines(output)] == ["fine"]


def test_a_killed_worker_is_replaced_and_its_message_redelivered(
    queue: Queue, pools: list[WorkerPool], url: str, output: str
) -> None:
    pool = make_pool(pools, url)
    victim = pool.workers[0]
    queue.send("slow and killed")
    eventually(lambda: bool(victim.busy.value))
    assert victim.pid is not None
    os.kill(victim.pid, signal.SIGKILL)
    eventually(lambda: not victim.process.is_alive())
    assert pool.reap() == [victim]
    assert pool.restarts == 1 and victim not in pool.workers
    eventually(lambda: len(lines(output)) == 1)  # after the visibility timeout, by the new worker
    assert lines(output)[0].split()[0] != str(victim.pid)


def test_autoscaling_adds_workers_and_removes_idle_ones(
    queue: Queue, pools: list[WorkerPool], url: str, output: str
) -> None:
    policy = TargetTracking(
        acceptable_latency_s=1, processing_time_s=0.5, scale_out_cooldown_s=0, scale_in_cooldown_s=0
    )
    pool = make_pool(pools, url, autoscaler=Autoscaler("work-pool", policy, 1, 4))
    decision = pool.scale(visible=7)  # 7 waiting, 2 per worker: 4 workers
    assert decision is not None and decision.change == 3 and len(pool.workers) == 4
    eventually(lambda: all(w.process.is_alive() for w in pool.workers))
    pool.scale(visible=0)
    assert len(pool.workers) == 1 and len(pool.retiring) == 3
    eventually(lambda: pool.reap() == [] and not pool.retiring)
    assert [d.action for d in pool.decisions] == ["scale-out", "scale-in"]


def test_stopping_finishes_the_message_in_hand(
    queue: Queue, pools: list[WorkerPool], url: str, output: str
) -> None:
    pool = make_pool(pools, url)
    queue.send("slow but finished")
    eventually(lambda: bool(pool.workers[0].busy.value))
    pool.stop(timeout=5)
    assert [line.split(maxsplit=1)[1] for line in lines(output)] == ["slow but finished"]
    assert visible(queue) + visible(queue, "ApproximateNumberOfMessagesNotVisible") == 0
