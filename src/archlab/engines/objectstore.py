"""The boundary between the bucket block and the engines that keep objects; ``connect_objects``.

As with messaging engines, the cut-off is plain primitives: the block has already checked bucket
names, keys, metadata and ranges against S3's rules, and the engine stores and finds objects. What
only the store can know is the engine's to decide: whether a bucket or key exists (NoSuchBucket,
NoSuchKey), whether a range fits the object (InvalidRange), the ETag and modification time of
what it stored, and what a continuation token means. Tokens are opaque strings that only the
engine that made them reads, so an S3 engine can hand out S3's own.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from archlab.blocks.errors import InvalidArgument, InvalidEngineUrl
from archlab.clock import Clock

SCHEMES = {
    "file": "file:///relative/path or file:////absolute/path",
    "sqlite": "sqlite:///path/to/database.db (objects as BLOBs in a database)",
}
TOKEN_KINDS = {b"K": False, b"P": True}
"""A continuation token's first byte: the page ended with a key, or with a common prefix."""


@dataclass(frozen=True)
class ObjectSummary:
    """An object as a listing shows it."""

    key: str
    size: int
    etag: str
    """The quoted MD5 hex of the body, as S3 gives it for single-part uploads."""
    last_modified: float
    """Seconds since the epoch, from the engine's clock."""


@dataclass(frozen=True)
class ObjectInfo(ObjectSummary):
    """An object's metadata, as HeadObject returns it."""

    content_type: str
    metadata: dict[str, str]
    """User metadata: the names after ``x-amz-meta-``, lower case."""


@dataclass(frozen=True)
class ObjectPage:
    """One page of a listing, in key (UTF-8 byte) order."""

    contents: list[ObjectSummary]
    common_prefixes: list[str]
    next_token: str | None
    """Where the next page starts; None when this page is the last."""


class ObjectEngine(Protocol):
    """Object state. Arguments are already valid by S3's rules (the block checked them)."""

    def create_bucket(self, name: str) -> None:
        """Create the bucket; an existing one is left as it is."""

    def put_object(
        self, bucket: str, key: str, body: bytes, content_type: str, metadata: dict[str, str]
    ) -> ObjectInfo:
        """Store the object, replacing any object under the key as one change: a reader sees
        the old object or the new one, body and metadata together, never a mix or a part."""

    def get_object(
        self, bucket: str, key: str, byte_range: tuple[int, int | None] | None = None
    ) -> tuple[ObjectInfo, bytes]:
        """The object's metadata and its body, or the bytes from ``start`` to ``end`` inclusive
        of ``byte_range`` (end None: to the end; an end past the object: the object's end).
        InvalidRange if the range starts at or past the end (so an empty object has no
        satisfiable range, as in HTTP)."""

    def head_object(self, bucket: str, key: str) -> ObjectInfo: ...

    def list_objects(
        self, bucket: str, prefix: str, delimiter: str | None, max_keys: int, token: str | None
    ) -> ObjectPage:
        """Up to ``max_keys`` keys and common prefixes (the keys with ``delimiter`` after the
        prefix, rolled up to their first delimiter) together, after ``token``'s position."""

    def delete_object(self, bucket: str, key: str) -> None:
        """Remove the object; a missing key is not an error."""

    def set_notification_configuration(self, bucket: str, document: str) -> None:
        """Keep the bucket's notification configuration (JSON text), replacing any before."""

    def notification_configuration(self, bucket: str) -> str | None: ...

    def close(self) -> None: ...


def listing_token(kind: bytes, text: str) -> str:
    """The continuation token of a page that ended with this key (K) or common prefix (P)."""
    return base64.urlsafe_b64encode(kind + text.encode()).decode()


def resume_point(token: str | None) -> tuple[bytes, bool] | None:
    """Where a listing resumes: after this key, or (flag set) after every key under this
    common prefix. InvalidArgument, as S3 answers, for a token no engine of ours made."""
    if token is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(token.encode())
        raw[1:].decode()
    except (binascii.Error, UnicodeError, ValueError):
        raw = b""
    if raw[:1] not in TOKEN_KINDS:
        raise InvalidArgument("The continuation token provided is incorrect")
    return raw[1:], TOKEN_KINDS[raw[:1]]


def connect_objects(url: str, clock: Clock | None = None) -> ObjectEngine:
    """The object engine an URL names.

    ``file:`` URLs follow archlab's SQLite URLs, not RFC 8089: the path after ``file:///`` is
    relative to the working directory (``file:///.archlab/objects``) and an absolute path takes
    a fourth slash (``file:////srv/objects``). One convention for every embedded engine URL.
    """
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in SCHEMES:
        known = ", ".join(SCHEMES.values())
        raise InvalidEngineUrl(f"{url!r} names no object engine; use {known}")
    if parts.netloc or parts.query or parts.fragment or parts.path in ("", "/"):
        scheme = parts.scheme
        raise InvalidEngineUrl(f"{url!r}: a {scheme} URL is {SCHEMES[scheme]}, without options")
    # Imported here: the engines import this module's types.
    if parts.scheme == "sqlite":
        from archlab.engines.sqlite_objects import SqliteObjectEngine

        return SqliteObjectEngine(parts.path[1:], clock=clock)
    from archlab.engines.files import FileObjectEngine

    return FileObjectEngine(parts.path[1:], clock=clock)
