"""Engines keep the state of the blocks; ``connect`` chooses one by URL."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from archlab.blocks.errors import InvalidEngineUrl
from archlab.clock import Clock
from archlab.engines.base import MessagingEngine
from archlab.engines.sqlite import SqliteEngine

SCHEMES = {"sqlite": "sqlite:///path/to/messaging.db[?durability=full|sends]"}
DURABILITY = ("full", "sends")


def connect(url: str, clock: Clock | None = None) -> MessagingEngine:
    """The messaging engine an URL names, such as ``sqlite:///.archlab/messaging.db``."""
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in SCHEMES:
        known = ", ".join(SCHEMES.values())
        raise InvalidEngineUrl(f"{url!r} names no messaging engine; use one of: {known}")
    if parts.scheme == "sqlite":
        if parts.netloc or not parts.path or parts.path == "/":
            raise InvalidEngineUrl(
                f"{url!r}: a SQLite URL is sqlite:///relative/path or sqlite:////absolute/path"
            )
        options = parse_qs(parts.query, keep_blank_values=True)
        unknown = set(options) - {"durability"}
        if unknown:
            raise InvalidEngineUrl(f"{url!r}: unknown option {', '.join(sorted(unknown))}")
        durability = options.get("durability", ["full"])[-1]
        if durability not in DURABILITY:
            raise InvalidEngineUrl(f"{url!r}: durability must be full or sends")
        return SqliteEngine(parts.path[1:], clock=clock, durability=durability)
    raise AssertionError(parts.scheme)
