"""The application tier's cache (cache-aside): the notes' cache in front of the database tier.

``ARCHLAB_STOREFRONT_CACHE_URL`` chooses it: ``memory://`` (the default: a bounded, thread-safe
LRU with expiry inside each instance), ``redis://host:port/db`` (one cache every instance
shares), or ``none`` (no cache, to measure what the cache is worth).

Values are bytes -- JSON already serialised -- so a hit is answered as it is, without decoding
and encoding again. ``shared`` says whether every instance sees the same entries: only then may
per-visitor data (carts, orders) be cached, since an instance's own memory would keep serving a
cart after another instance changed it.

A version makes a write safe against a slow reader: an entry set with a version replaces only
an entry with a lower one, so a reader that loaded a cart before a write and stores it after
the write's own entry does not bring the old cart back.

Redis is an accelerator, not a dependency: when it cannot be reached, reads miss and writes are
dropped (logged once per outage), and it is tried again a few seconds later. A write dropped
during an outage may leave an entry that no longer matches the database, so on reconnection
the first thing done is to forget every entry under this cache's prefix.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TypeVar
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

CACHE_VARIABLE = "ARCHLAB_STOREFRONT_CACHE_URL"
PREFIX = "archlab:storefront:"
MAX_ENTRIES = 4096
REDIS_TIMEOUT_S = 0.5
REDIS_RETRY_S = 5.0
"""How long an unreachable Redis is left alone before it is tried again."""

R = TypeVar("R")


class InvalidCacheUrl(ValueError):
    pass


class Cache(ABC):
    shared: bool = False
    """True when every instance of the application tier sees the same entries."""

    @abstractmethod
    def get(self, key: str) -> bytes | None:
        """The value, or None when absent, expired or unreachable."""

    @abstractmethod
    def set(self, key: str, value: bytes, ttl_s: float, version: int | None = None) -> None:
        """Keep ``value`` for ``ttl_s`` seconds. With a ``version``, only if the entry there
        has none or a lower one."""

    @abstractmethod
    def delete(self, keys: Iterable[str]) -> None: ...

    def close(self) -> None:  # noqa: B027 -- optional: only a networked cache has to act
        """Let go of connections (nothing to do for a cache in this process)."""


class NoCache(Cache):
    """Caching off: every read goes to the database."""

    def get(self, key: str) -> bytes | None:
        return None

    def set(self, key: str, value: bytes, ttl_s: float, version: int | None = None) -> None:
        return None

    def delete(self, keys: Iterable[str]) -> None:
        return None


class MemoryCache(Cache):
    """Entries in this process, the least recently used dropped past ``max_entries``."""

    def __init__(
        self, max_entries: int = MAX_ENTRIES, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_entries < 1:
            raise ValueError("a memory cache holds at least one entry")
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, int | None, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[2]

    def set(self, key: str, value: bytes, ttl_s: float, version: int | None = None) -> None:
        with self._lock:
            now = self._clock()
            current = self._entries.get(key)
            if (
                version is not None
                and current is not None
                and current[0] > now
                and current[1] is not None
                and current[1] >= version
            ):
                return
            self._entries[key] = (now + ttl_s, version, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def delete(self, keys: Iterable[str]) -> None:
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)


# KEYS[1]: the entry (a hash: d = the value, v = its version); ARGV: value, version or '', ttl ms.
_SET = """
local current = redis.call('HGET', KEYS[1], 'v')
if ARGV[2] ~= '' and current and tonumber(current) >= tonumber(ARGV[2]) then
  return 0
end
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[1], 'v')
else
  redis.call('HSET', KEYS[1], 'v', ARGV[2])
end
redis.call('HSET', KEYS[1], 'd', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""


class RedisCache(Cache):
    """Entries in Redis under ``prefix``, shared by every instance that names the same server.

    See the module for what happens while Redis is unreachable."""

    shared = True

    def __init__(
        self,
        url: str,
        prefix: str = PREFIX,
        *,
        retry_s: float = REDIS_RETRY_S,
        timeout_s: float = REDIS_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.prefix = prefix
        self._client = redis.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            # Once more at once (a pooled connection Redis closed on restart), never more: a
            # request must not wait out several timeouts for an accelerator.
            retry=Retry(NoBackoff(), 1),
        )
        self._set = self._client.register_script(_SET)
        self._retry_s = retry_s
        self._clock = clock
        self._down_until: float | None = None
        self._lock = threading.Lock()
        self._dropped = 0
        """Writes dropped while unreachable; entries are forgotten until ``_forgotten`` is
        as high."""
        self._forgotten = 0

    def get(self, key: str) -> bytes | None:
        value = self._attempt(lambda: self._client.hget(self.prefix + key, "d"), writes=False)
        return value if isinstance(value, bytes) else None

    def set(self, key: str, value: bytes, ttl_s: float, version: int | None = None) -> None:
        ttl_ms = max(1, int(ttl_s * 1000))
        marker = "" if version is None else str(version)
        self._attempt(
            lambda: self._set(keys=[self.prefix + key], args=[value, marker, ttl_ms]), writes=True
        )

    def delete(self, keys: Iterable[str]) -> None:
        names = [self.prefix + key for key in keys]
        if names:
            self._attempt(lambda: self._client.delete(*names), writes=True)

    def _attempt(self, operation: Callable[[], R], *, writes: bool) -> R | None:
        if self._down_until is not None and self._clock() < self._down_until:
            if writes:
                self._drop()
            return None
        try:
            if self._dropped > self._forgotten:
                self._forget_all()
            result = operation()
        except redis.RedisError as error:
            if writes:
                self._drop()
            if self._down_until is None:
                log.warning(
                    "storefront cache unreachable, serving without it (retried every %g s): %s",
                    self._retry_s,
                    error,
                )
            self._down_until = self._clock() + self._retry_s
            return None
        if self._down_until is not None:
            self._down_until = None
            log.info("storefront cache reachable again")
        return result

    def _drop(self) -> None:
        with self._lock:
            self._dropped += 1

    def _forget_all(self) -> None:
        """Delete every entry under the prefix: some may predate writes that were dropped."""
        with self._lock:
            through = self._dropped
        pattern = re.sub(r"([*?\[\]\\])", r"\\\1", self.prefix) + "*"
        batch: list[bytes] = []
        for name in self._client.scan_iter(match=pattern, count=1000):
            batch.append(name)
            if len(batch) == 1000:
                self._client.unlink(*batch)
                batch.clear()
        if batch:
            self._client.unlink(*batch)
        log.info("storefront cache: entries forgotten after writes were dropped")
        with self._lock:
            self._forgotten = max(self._forgotten, through)

    def close(self) -> None:
        self._client.close()


def from_url(url: str | None = None) -> Cache:
    """The cache ``url`` names (default: ``ARCHLAB_STOREFRONT_CACHE_URL``, else memory)."""
    chosen = url if url is not None else os.environ.get(CACHE_VARIABLE) or "memory://"
    scheme = urlsplit(chosen).scheme
    if chosen == "none":
        return NoCache()
    if chosen in ("memory://", "memory:"):
        return MemoryCache()
    if scheme in ("redis", "rediss"):
        try:
            return RedisCache(chosen)
        except ValueError as error:
            raise InvalidCacheUrl(f"{CACHE_VARIABLE}: {error}") from None
    shown = f"{scheme}://..." if scheme else repr(chosen)  # never echo a password
    raise InvalidCacheUrl(
        f"{CACHE_VARIABLE} must be memory://, redis://host:port/db or none, not {shown}"
    )
