"""The collector over a real stream: accepted events on the stream, each session on one shard
in order; refused events named; bots, unreadable and oversized batches; CORS; the tracker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from archlab.blocks.stream import Stream
from archlab.clock import ManualClock
from archlab.engines.streams import connect_streams
from archlab.systems.clickstream.collector import create_collector_app
from archlab.systems.clickstream.events import MAX_BATCH_BYTES

BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


@pytest.fixture
def stream(tmp_path: Path) -> Stream:
    return Stream.create(connect_streams(f"sqlite:///{tmp_path}/streams.db"), "clicks", 2)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def collector(stream: Stream, clock: ManualClock) -> TestClient:
    return TestClient(create_collector_app(stream, clock), headers={"User-Agent": BROWSER})


def event(clock: ManualClock, number: int, session: str = "s1", **more: Any) -> dict[str, Any]:
    return {
        "name": "page_view",
        "time": int(clock.now() * 1000) - 1_000 + number,
        "session": session,
        "visitor": "v1",
        "page": f"/p{number}",
        **more,
    }


def on_stream(stream: Stream) -> list[dict[str, Any]]:
    found = []
    for shard in stream.describe().shards:
        iterator = stream.get_shard_iterator(shard.shard_id, "TRIM_HORIZON")
        for record in stream.get_records(iterator).records:
            found.append({"shard": shard.shard_id, **json.loads(record.data)})
    return found


def post(collector: TestClient, events: list[Any], **headers: str) -> Any:
    body = json.dumps({"events": events})
    return collector.post(
        "/collect", content=body, headers={"Content-Type": "text/plain", **headers}
    )


def test_accepted_events_reach_the_stream_a_session_on_one_shard_in_order(
    collector: TestClient, stream: Stream, clock: ManualClock
) -> None:
    batch = [event(clock, n, session="s1" if n % 2 else "s2") for n in range(10)]
    answer = post(collector, batch)
    assert answer.status_code == 200
    assert answer.json() == {"accepted": 10, "refused": [], "bot": False}
    records = on_stream(stream)
    assert len(records) == 10
    for session in ("s1", "s2"):
        mine = [r for r in records if r["session_id"] == session]
        assert len({r["shard"] for r in mine}) == 1
        assert [r["page"] for r in mine] == [e["page"] for e in batch if e["session"] == session]
    assert {r["ip"] for r in records} == {""}  # TestClient's peer, "testclient", is no address


def test_refused_events_are_named_and_the_rest_kept(
    collector: TestClient, stream: Stream, clock: ManualClock
) -> None:
    answer = post(collector, [event(clock, 0), {"name": "nope"}, event(clock, 2)])
    assert answer.json()["accepted"] == 2
    (refused,) = answer.json()["refused"]
    assert refused["index"] == 1 and refused["reason"].startswith("name: unknown event")
    assert len(on_stream(stream)) == 2
    assert collector.get("/stats").json() == {
        "batches": 1,
        "accepted": 2,
        "refused": 1,
        "bot_events": 0,
        "bad_batches": 0,
    }


def test_a_bot_is_answered_and_nothing_is_kept(
    collector: TestClient, stream: Stream, clock: ManualClock
) -> None:
    answer = post(collector, [event(clock, 0)], **{"User-Agent": "Googlebot/2.1"})
    assert answer.status_code == 200 and answer.json()["bot"] is True
    assert on_stream(stream) == []


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        (b"{not json", 400, "the body is not JSON"),
        (b'{"events": []}', 400, "the batch has no events"),
        (b" " * (MAX_BATCH_BYTES + 1), 413, "at most 1,048,576 bytes"),
    ],
)
def test_an_unreadable_batch_is_a_problem_and_changes_nothing(
    collector: TestClient, stream: Stream, body: bytes, status: int, detail: str
) -> None:
    answer = collector.post("/collect", content=body)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert detail in answer.json()["detail"]
    assert on_stream(stream) == []


def test_the_client_address_behind_a_loopback_proxy_is_truncated(
    stream: Stream, clock: ManualClock
) -> None:
    app = create_collector_app(stream, clock)
    proxied = TestClient(app, client=("127.0.0.1", 5000), headers={"User-Agent": BROWSER})
    post(proxied, [event(clock, 0)], **{"X-Forwarded-For": "198.51.100.23, 10.0.0.1"})
    direct = TestClient(app, client=("203.0.113.9", 5000), headers={"User-Agent": BROWSER})
    post(direct, [event(clock, 1)], **{"X-Forwarded-For": "198.51.100.23"})  # not trusted
    assert sorted(r["ip"] for r in on_stream(stream)) == ["198.51.100.0", "203.0.113.0"]


def test_other_origins_may_post_and_the_tracker_is_served(collector: TestClient) -> None:
    preflight = collector.options(
        "/collect",
        headers={"Origin": "http://127.0.0.1:8000", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.headers["access-control-allow-origin"] == "*"
    script = collector.get("/tracker.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "text/javascript"
    )
    assert b"sendBeacon" in script.content
