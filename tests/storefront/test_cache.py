"""The cache: the in-process LRU (expiry, bound, versions), URLs, and Redis for real --
cache-aside hits, one cache shared by two app instances that never serve a stale cart, and an
unreachable Redis that costs the shop nothing but speed."""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from archlab.systems.storefront.cache import (
    CACHE_VARIABLE,
    InvalidCacheUrl,
    MemoryCache,
    NoCache,
    RedisCache,
    from_url,
)
from tests.conftest import REQUIRE_EXTERNALS
from tests.storefront.shop import CHECKOUT, AppFactory, fill_cart, headers

REDIS = "redis://127.0.0.1:6379/13"
"""A database number of its own; tests touch only keys under their own prefix."""


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# --- in process ---------------------------------------------------------------------------------


def test_memory_entries_expire() -> None:
    clock = Clock()
    cache = MemoryCache(clock=clock)
    cache.set("k", b"v", ttl_s=10)
    assert cache.get("k") == b"v"
    clock.now += 9.9
    assert cache.get("k") == b"v"
    clock.now += 0.1
    assert cache.get("k") is None


def test_memory_drops_the_least_recently_used_past_its_bound() -> None:
    cache = MemoryCache(max_entries=2)
    cache.set("a", b"1", 60)
    cache.set("b", b"2", 60)
    assert cache.get("a") == b"1"  # b is now the least recently used
    cache.set("c", b"3", 60)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"1", None, b"3")
    with pytest.raises(ValueError, match="at least one"):
        MemoryCache(max_entries=0)


def test_memory_versions_keep_the_newest_write() -> None:
    clock = Clock()
    cache = MemoryCache(clock=clock)
    cache.set("cart", b"v2", 60, version=2)
    cache.set("cart", b"v1", 60, version=1)  # a slow reader, late
    cache.set("cart", b"v2 again", 60, version=2)
    assert cache.get("cart") == b"v2"
    cache.set("cart", b"v3", 60, version=3)
    assert cache.get("cart") == b"v3"
    clock.now += 60  # an expired entry's version protects nothing
    cache.set("cart", b"v1", 60, version=1)
    assert cache.get("cart") == b"v1"
    cache.set("cart", b"plain", 60)
    assert cache.get("cart") == b"plain"
    cache.delete(["cart", "never-there"])
    assert cache.get("cart") is None


def test_memory_is_safe_from_many_threads() -> None:
    cache = MemoryCache(max_entries=50)

    def churn(n: int) -> None:
        for i in range(2000):
            cache.set(f"{n}:{i % 80}", b"x", 60, version=i)
            cache.get(f"{(n + 1) % 4}:{i % 80}")
            if i % 7 == 0:
                cache.delete([f"{n}:{i % 80}"])

    threads = [threading.Thread(target=churn, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache._entries) <= 50


def test_no_cache_keeps_nothing() -> None:
    cache = NoCache()
    cache.set("k", b"v", 60)
    assert cache.get("k") is None and not cache.shared


@pytest.mark.parametrize(
    ("url", "kind"),
    [("memory://", MemoryCache), ("none", NoCache), ("redis://127.0.0.1:6379/0", RedisCache)],
)
def test_urls_choose_the_cache(url: str, kind: type) -> None:
    assert isinstance(from_url(url), kind)


def test_the_environment_chooses_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CACHE_VARIABLE, raising=False)
    assert isinstance(from_url(), MemoryCache)
    monkeypatch.setenv(CACHE_VARIABLE, "none")
    assert isinstance(from_url(), NoCache)


@pytest.mark.parametrize(
    "url", ["memcached://user:hunter2@127.0.0.1", "redis://127.0.0.1:port/0", "off", "memory"]
)
def test_unknown_cache_urls_are_refused_naming_the_variable(url: str) -> None:
    with pytest.raises(InvalidCacheUrl, match=CACHE_VARIABLE) as refused:
        from_url(url)
    assert "hunter2" not in str(refused.value)


# --- Redis ----------------------------------------------------------------------------------------


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test's own in a running Redis, its keys deleted afterwards."""
    client = redis.Redis.from_url(REDIS, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError as error:
        reason = f"no Redis at {REDIS} ({error}): install redis-server and start it"
        if REQUIRE_EXTERNALS:
            pytest.fail(reason)
        pytest.skip(reason)
    chosen = f"archlab-test:{uuid.uuid4().hex}:"
    yield chosen
    for key in client.scan_iter(match=chosen + "*"):
        client.delete(key)
    client.close()


def redis_cache(prefix: str, **options: Any) -> RedisCache:
    return RedisCache(REDIS, prefix, **options)


def test_redis_get_set_versions_delete_and_expiry(prefix: str) -> None:
    cache = redis_cache(prefix)
    assert cache.get("k") is None
    cache.set("k", b"\x00binary\xff", 60)
    assert cache.get("k") == b"\x00binary\xff"
    cache.set("cart", b"v2", 60, version=2)
    cache.set("cart", b"v1", 60, version=1)
    assert cache.get("cart") == b"v2"
    cache.set("cart", b"v3", 60, version=3)
    assert cache.get("cart") == b"v3"
    cache.delete(["k", "cart"])
    assert cache.get("k") is None and cache.get("cart") is None
    cache.set("short", b"v", 0.001)
    raw = redis.Redis.from_url(REDIS)
    assert raw.pttl(prefix + "short") <= 1
    cache.close()


def test_products_are_served_from_redis_to_every_instance(
    make_client: AppFactory, prefix: str, sqlite_url: str
) -> None:
    first = make_client(cache=redis_cache(prefix))
    listed = first.get("/api/products").content
    assert redis.Redis.from_url(REDIS).hget(prefix + "products:list", "d") == listed
    engine = create_engine(sqlite_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE products SET name = 'Renamed'"))
    engine.dispose()
    second = make_client(cache=redis_cache(prefix))  # a new instance: nothing in its memory
    assert second.get("/api/products").content == listed


def test_two_instances_sharing_redis_never_serve_a_stale_cart(
    make_client: AppFactory, prefix: str
) -> None:
    one, two = make_client(cache=redis_cache(prefix)), make_client(cache=redis_cache(prefix))
    raw = redis.Redis.from_url(REDIS)
    assert two.get("/api/cart", headers=headers()).json()["items"] == []
    assert raw.exists(prefix + "cart:" + headers()["X-Session-Id"])  # filled from the primary
    fill_cart(one, {"car-essential": 2})
    cached = raw.hget(prefix + "cart:" + headers()["X-Session-Id"], "d")
    seen = two.get("/api/cart", headers=headers())
    assert seen.content == cached and seen.json()["items"][0]["quantity"] == 2
    assert two.get("/api/orders", headers=headers()).json() == {"orders": [], "next": None}
    placed = one.post("/api/checkout", json=CHECKOUT, headers=headers()).json()["order"]
    assert two.get("/api/cart", headers=headers()).json()["items"] == []
    assert two.get("/api/orders", headers=headers()).json() == {"orders": [placed], "next": None}
    assert two.get(f"/api/orders/{placed['id']}", headers=headers()).json() == placed
    fill_cart(two, {"pet-accident": 1})
    assert one.get("/api/cart", headers=headers()).json()["items"][0]["product_id"] == (
        "pet-accident"
    )


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_redis_fails_no_request(
    make_client: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    cache = RedisCache(f"redis://127.0.0.1:{_closed_port()}/0", retry_s=0)
    client: TestClient = make_client(cache=cache)
    for _ in range(3):
        assert len(client.get("/api/products").json()["products"]) == 10
    assert client.get("/api/products/car-essential").status_code == 200
    fill_cart(client, {"home-contents": 1})
    assert client.get("/api/cart", headers=headers()).json()["items"][0]["quantity"] == 1
    order = client.post("/api/checkout", json=CHECKOUT, headers=headers())
    assert order.status_code == 201
    assert (
        client.get("/api/orders", headers=headers()).json()["orders"][0]["id"]
        == (order.json()["order"]["id"])
    )
    warnings = [r for r in caplog.records if "storefront cache unreachable" in r.getMessage()]
    assert len(warnings) == 1  # once per outage, not once per request


def test_after_an_outage_entries_that_may_be_stale_are_forgotten(
    prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    cache = redis_cache(prefix, retry_s=5, clock=clock)
    cache.set("cart:a", b"old", 60, version=1)
    cache.set("products:list", b"list", 60)

    def unreachable(*args: Any, **kwargs: Any) -> Any:
        raise redis.ConnectionError("Redis went away")

    with monkeypatch.context() as patch:
        patch.setattr(cache._client, "execute_command", unreachable)
        cache.set("cart:a", b"new", 60, version=2)  # dropped: the entry there is now stale
        assert cache.get("products:list") is None
    assert cache.get("cart:a") is None  # still resting: Redis is not asked
    clock.now += 5
    assert cache.get("cart:a") is None  # back: everything under the prefix was forgotten
    assert cache.get("products:list") is None
    cache.set("cart:a", b"newer", 60, version=3)
    assert cache.get("cart:a") == b"newer"
