"""The load balancer end to end over real sockets: forwarding, keep-alive, streaming, retries,
health, draining, the WAF in front, and what it reports."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import httpx
import pytest

from archlab.runtime.balancer import proxy
from archlab.runtime.balancer.waf import WafPolicy
from tests.balancer.backends import running
from tests.balancer.harness import balancer, eventually, status


def test_requests_are_spread_and_forwarded_with_their_headers(tmp_path: Path) -> None:
    with running("a", "b") as backends, balancer(tmp_path) as lb:
        lb.register("web", backends)
        lb.wait_healthy("web", 2)
        with httpx.Client(base_url=lb.url) as client:
            answers = {client.get("/").text for _ in range(6)}
            echo = client.get(
                "/echo?x=1",
                headers={"X-Forwarded-For": "203.0.113.9", "X-Request-Id": "abc-123"},
            )
        assert answers == {"hello from a", "hello from b"}
        sent = dict(echo.json()["headers"])
        assert sent["X-Forwarded-For"] == "203.0.113.9, 127.0.0.1"
        assert sent["X-Forwarded-Proto"] == "http"
        assert sent["X-Forwarded-Port"] == lb.url.rsplit(":", 1)[1]
        assert sent["X-Request-Id"] == "abc-123" == echo.headers["x-request-id"]
        assert "Content-Length" not in sent  # a GET without a body gets none
        assert echo.json()["path"] == "/echo?x=1"


def test_a_bad_request_id_is_replaced_and_forwarded_headers_cannot_be_forged(
    tmp_path: Path,
) -> None:
    with running("a") as backends, balancer(tmp_path) as lb:
        lb.register("web", backends)
        lb.wait_healthy("web", 1)
        echo = httpx.get(
            f"{lb.url}/echo",
            headers={"X-Request-Id": "no spaces allowed", "X-Forwarded-Proto": "https"},
        )
        sent = dict(echo.json()["headers"])
        assert sent["X-Request-Id"] != "no spaces allowed" and len(sent["X-Request-Id"]) == 32
        assert sent["X-Forwarded-Proto"] == "http"


def test_connections_to_targets_are_kept_alive(tmp_path: Path) -> None:
    with running("a") as backends, balancer(tmp_path) as lb:
        lb.register("web", backends)
        lb.wait_healthy("web", 1)
        before = backends[0].connections
        with httpx.Client(base_url=lb.url) as client:
            for _ in range(50):
                assert client.get("/").status_code == 200
        health_checks = len([r for r in backends[0].requests if r == "GET /health"])
        assert backends[0].connections - before <= 2 + health_checks


def test_bodies_stream_both_ways(tmp_path: Path) -> None:
    with running("a") as backends, balancer(tmp_path) as lb:
        lb.register("web", backends)
        lb.wait_healthy("web", 1)
        with httpx.Client(base_url=lb.url) as client:
            assert client.get("/chunked").text == "one,two,three"
            assert len(client.get("/big").content) == 2_000_000
            head = client.head("/big")
            assert head.status_code == 200 and head.headers["content-length"] == "2000000"
            assert client.get("/no-content").status_code == 204
            assert client.get("/until-close").text == "to the end"
            posted = client.post("/echo", content=b"a" * 300_000)
            assert len(posted.json()["body"]) == 300_000
            assert client.get("/").text == "hello from a"  # the connection is still good


def test_a_refused_connection_is_retried_elsewhere_whatever_the_method(tmp_path: Path) -> None:
    with running("a", "b") as backends, balancer(tmp_path) as lb:
        lb.register("web", backends)
        lb.wait_healthy("web", 2)
        backends[0].kill()
        with httpx.Client(base_url=lb.url) as client:
            results = [client.post("/echo", content=b"order").status_code for _ in range(10)]
        assert results == [200] * 10
        assert lb.health()["a"] == "unhealthy"


def test_a_drop_before_the_answer_is_retried_only_when_idempotent(tmp_path: Path) -> None:
    with running("a", "b") as backends, balancer(tmp_path) as lb:
        lb.register("web", backends)
        lb.wait_healthy("web", 2)
        with httpx.Client(base_url=lb.url) as client:
            get = client.get("/drop")  # both drop: retried on the other, then given up
            post = client.post("/drop", content=b"x")
            keyed = client.post("/drop", content=b"x", headers={"Idempotency-Key": "k1"})
        assert get.status_code == 502 and "every target" in get.json()["detail"]
        assert post.status_code == 502 and "before answering" in post.json()["detail"]
        assert keyed.status_code == 502
        drops = [r for b in backends for r in b.requests if r.endswith("/drop")]
        assert drops.count("GET /drop") == 2  # once on each target
        assert drops.count("POST /drop") == 3  # the plain POST once, the keyed one twice


def test_a_response_cut_short_is_retried_while_nothing_was_sent_on(tmp_path: Path) -> None:
    """Responses are held back until complete (up to the buffer), so a target dying half-way
    through one costs the client nothing: the request goes to the other target."""
    with running("a", "b") as backends, balancer(tmp_path) as lb:
        lb.register("web", backends)
        lb.wait_healthy("web", 2)
        with httpx.Client(base_url=lb.url) as client:
            answers = {client.get("/flaky-mid").text for _ in range(6)}
        assert answers == {"whole"}


def test_a_streaming_response_cut_short_closes_the_clients_connection(tmp_path: Path) -> None:
    with running("a") as backends, balancer(tmp_path) as lb:
        lb.register("web", backends)
        lb.wait_healthy("web", 1)
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(f"{lb.url}/big-drop")


def test_no_target_and_timeouts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with running("a") as backends, balancer(tmp_path) as lb:
        empty = httpx.get(lb.url)
        assert empty.status_code == 503
        assert empty.headers["content-type"] == "application/problem+json"
        assert "no target is registered" in empty.json()["detail"]
        lb.register("web", backends)
        lb.wait_healthy("web", 1)
        monkeypatch.setattr(proxy, "RESPONSE_TIMEOUT_S", 0.2)
        late = httpx.get(f"{lb.url}/slow?ms=1000")
        assert late.status_code == 504


def test_unhealthy_targets_get_nothing_until_they_recover(tmp_path: Path) -> None:
    with running("a", "b") as backends, balancer(tmp_path) as lb:
        lb.register("web", backends)
        lb.wait_healthy("web", 2)
        backends[0].healthy = False
        eventually(lambda: lb.health()["a"] == "unhealthy")
        with httpx.Client(base_url=lb.url) as client:
            assert {client.get("/").text for _ in range(10)} == {"hello from b"}
            backends[0].healthy = True
            eventually(lambda: lb.health()["a"] == "healthy")
            assert {client.get("/").text for _ in range(10)} == {"hello from a", "hello from b"}


def test_every_target_unhealthy_fails_open(tmp_path: Path) -> None:
    with running("a") as backends, balancer(tmp_path) as lb:
        lb.register("web", backends)
        backends[0].healthy = False
        eventually(lambda: lb.health()["a"] == "unhealthy")
        assert httpx.get(lb.url).text == "hello from a"


def test_a_draining_target_finishes_in_flight_and_gets_no_new_requests(tmp_path: Path) -> None:
    with running("a", "b") as backends, balancer(tmp_path) as lb:
        lb.register("web", backends)
        lb.wait_healthy("web", 2)
        with httpx.Client(base_url=lb.url, timeout=5) as client:
            lb.register("web", backends, draining=("a",))
            eventually(lambda: lb.health()["a"] == "draining")
            assert {client.get("/").text for _ in range(10)} == {"hello from b"}
        lb.register("web", backends[1:])
        eventually(lambda: "a" not in lb.health())


def test_longest_path_prefix_routes(tmp_path: Path) -> None:
    routes = (("/api/", "app"),)
    with (
        running("web-1", "app-1") as (web, app),
        balancer(tmp_path, routes=routes, groups=("web", "app")) as lb,
    ):
        lb.register("web", [web])
        entries = [{"id": "app-1", "host": "127.0.0.1", "port": app.port, "state": "active"}]
        document = json.loads(lb.targets_file.read_text())
        document["target_groups"]["app"] = entries
        lb.targets_file.write_text(json.dumps(document))
        eventually(lambda: "app-1" in lb.health("app"))
        assert httpx.get(f"{lb.url}/api/products").text == "hello from app-1"
        assert httpx.get(f"{lb.url}/products").text == "hello from web-1"


def test_the_waf_blocks_before_any_target_sees_the_request(tmp_path: Path) -> None:
    with running("a") as backends, balancer(tmp_path, waf=WafPolicy(max_body_bytes=1000)) as lb:
        lb.register("web", backends)
        lb.wait_healthy("web", 1)
        with httpx.Client(base_url=lb.url) as client:
            attack = client.get("/search", params={"q": "' OR '1'='1"})
            xss = client.post("/comments", content=b"<script>alert(1)</script>")
            big = client.post("/upload", content=b"x" * 5000)
        assert attack.status_code == 403 and attack.json()["title"] == "Forbidden"
        assert xss.status_code == 403
        assert big.status_code == 413
        seen = [r for r in backends[0].requests if r != "GET /health"]
        assert seen == []
        report = status(lb)["listeners"][0]["waf"]
        assert report["blocked"] == {"sql-injection": 1, "xss": 1, "size-restriction": 1}
        logged = (tmp_path / "logs" / "lb-waf.log").read_text().splitlines()
        assert {json.loads(line)["rule"] for line in logged} == {
            "sql-injection",
            "xss",
            "size-restriction",
        }


def test_malformed_http_gets_400(tmp_path: Path) -> None:
    with balancer(tmp_path) as lb:
        host, port = lb.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as raw:
            raw.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            answer = raw.recv(4096)
        assert answer.startswith(b"HTTP/1.1 400")
        assert b"application/problem+json" in answer


def test_status_and_access_log(tmp_path: Path) -> None:
    with running("a") as backends, balancer(tmp_path) as lb:
        lb.register("web", backends)
        lb.wait_healthy("web", 1)
        for _ in range(3):
            httpx.get(f"{lb.url}/")
        report = status(lb)
        listener = report["listeners"][0]
        assert listener["requests"] == 3 and listener["responses"]["2xx"] == 3
        [target] = report["target_groups"]["web"]
        assert target["health"] == "healthy" and target["requests"] == 3
        access = [
            json.loads(x) for x in (tmp_path / "logs" / "lb-access.log").read_text().splitlines()
        ]
        assert [entry["status"] for entry in access] == [200, 200, 200]
        assert {entry["target"] for entry in access} == {"a"}


def test_an_idle_client_connection_is_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(proxy, "CLIENT_IDLE_SECONDS", 0.3)
    with balancer(tmp_path) as lb:
        host, port = lb.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as raw:
            raw.settimeout(3)
            assert raw.recv(10) == b""  # closed by the balancer, not by the timeout here


def test_a_busy_client_connection_outlives_the_idle_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(proxy, "CLIENT_IDLE_SECONDS", 0.3)
    with balancer(tmp_path) as lb, httpx.Client(base_url=lb.url) as client:
        deadline = time.monotonic() + 1.0  # three idle timeouts, with a request every 0.1 s
        ports = set()
        while time.monotonic() < deadline:
            ports.add(
                client.get("/").extensions["network_stream"].get_extra_info("socket").getsockname()
            )
            time.sleep(0.1)
        assert len(ports) == 1  # the same connection throughout
        time.sleep(0.6)
        after = client.get("/").extensions["network_stream"].get_extra_info("socket").getsockname()
        assert after not in ports  # idle past the timeout: the balancer closed it
