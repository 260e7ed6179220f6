"""The embedded queue under real processes: SIGKILL and concurrency, with the real clock.

Nothing acknowledged is lost: a consumer killed while holding messages gives them back after
their visibility timeout; a producer killed between batches leaves every acknowledged message
exactly once; processes receiving at the same time never hold the same message.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

from archlab.blocks import Queue
from archlab.engines import connect


@pytest.fixture(params=["", "?durability=sends"], ids=["durable", "sends-durable"])
def options(request: pytest.FixtureRequest) -> str:
    """Both durability modes promise the same under SIGKILL."""
    return str(request.param)


def start(code: str, url: str) -> subprocess.Popen[str]:
    """A Python process running ``code`` with ``queue`` bound to the queue "work" at ``url``."""
    prelude = textwrap.dedent(
        f"""
        import json, sys, time
        from archlab.blocks import Queue
        from archlab.engines import connect
        queue = Queue(connect({url!r}), "work")
        """
    )
    return subprocess.Popen(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        text=True,
    )


def drain(queue: Queue) -> list[str]:
    """Receive and delete everything visible now; the bodies, in order."""
    bodies = []
    while batch := queue.receive(10):
        for message in batch:
            bodies.append(message.body)
            queue.delete(message.receipt_handle)
    return bodies


def test_messages_held_by_a_killed_consumer_come_back(tmp_path: Path, options: str) -> None:
    url = f"sqlite:///{tmp_path}/q.db{options}"
    queue = Queue.create(connect(url), "work", {"VisibilityTimeout": 1})
    queue.send_batch([{"Id": str(i), "MessageBody": f"m{i}"} for i in range(10)])
    consumer = start(
        """
        held = queue.receive(5)
        print(json.dumps([m.body for m in held]), flush=True)
        time.sleep(60)
        """,
        url,
    )
    assert consumer.stdout is not None
    held = json.loads(consumer.stdout.readline())
    os.kill(consumer.pid, signal.SIGKILL)
    consumer.wait(timeout=10)
    assert len(held) == 5
    assert sorted(drain(queue)) == sorted(f"m{i}" for i in range(10) if f"m{i}" not in held)
    time.sleep(1.1)  # the killed consumer's visibility timeout
    assert sorted(drain(queue)) == sorted(held)
    time.sleep(1.1)
    assert drain(queue) == []  # deleted messages never come back


def hold_all(queue: Queue) -> list[str]:
    """Receive (and keep hidden) everything visible now; the bodies."""
    bodies = []
    while batch := queue.receive(10, visibility_timeout=600):
        bodies.extend(message.body for message in batch)
    return bodies


def test_every_acknowledged_send_of_a_killed_producer_is_there_once(
    tmp_path: Path, options: str
) -> None:
    url = f"sqlite:///{tmp_path}/q.db{options}"
    queue = Queue.create(connect(url), "work")
    producer = start(
        """
        for batch in range(100_000):
            queue.send_batch([{"Id": str(i), "MessageBody": f"{batch}-{i}"} for i in range(10)])
            print(batch, flush=True)
        """,
        url,
    )
    assert producer.stdout is not None
    acknowledged = []
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        acknowledged.append(int(producer.stdout.readline()))
    os.kill(producer.pid, signal.SIGKILL)
    producer.wait(timeout=10)
    counts = Counter(hold_all(queue))
    assert acknowledged, "the producer acknowledged nothing in half a second"
    for batch in acknowledged:
        for i in range(10):
            assert counts[f"{batch}-{i}"] == 1
    assert max(counts.values()) == 1


def test_concurrent_consumers_never_share_a_message(tmp_path: Path, options: str) -> None:
    url = f"sqlite:///{tmp_path}/q.db{options}"
    queue = Queue.create(connect(url), "work", {"VisibilityTimeout": 60})
    total = 400
    for start_at in range(0, total, 10):
        queue.send_batch([{"Id": str(i), "MessageBody": str(start_at + i)} for i in range(10)])
    consumers = [
        start(
            """
            got = []
            while batch := queue.receive(10):
                got.extend(m.body for m in batch)
            print(json.dumps(got), flush=True)
            """,
            url,
        )
        for _ in range(4)
    ]
    received: list[str] = []
    for consumer in consumers:
        out, _ = consumer.communicate(timeout=60)
        received.extend(json.loads(out))
    assert sorted(received, key=int) == [str(i) for i in range(total)]
