"""Objects as BLOBs in a SQLite database: the notes' "images in the database" design.

The notes advise against keeping images in a database: the database grows by every byte of
every image, its backups and replicas carry them, and its connections are spent moving bytes an
object store would serve. The images system's ``blobs`` profile runs on this engine, pointed at
the same file as its metadata table, so that the trade-off is measured rather than asserted
(``bench/images_tradeoff.py``). It passes the same bucket conformance suite as the file engine.

One row per object in a rowid table (large rows spill into overflow pages; SQLite advises
against WITHOUT ROWID for them), the key stored as its UTF-8 bytes so that SQLite's memcmp
order of BLOBs is S3's listing order. A put is one ``INSERT OR REPLACE`` in a write transaction
(WAL, ``synchronous=FULL``): a reader sees the old object or the new one, never a mix. Ranges
are read through SQLite's incremental BLOB I/O, so a range does not load the whole body.
Deleting an object frees its pages for reuse but does not shrink the file (as in any SQLite
database short of a VACUUM).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from archlab.blocks.errors import InvalidRange, NoSuchBucket, NoSuchKey
from archlab.clock import Clock, SystemClock
from archlab.engines.objectstore import (
    ObjectInfo,
    ObjectPage,
    ObjectSummary,
    listing_token,
    resume_point,
)
from archlab.engines.sqlitefile import SqliteFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS object_buckets (
    name TEXT PRIMARY KEY,
    notification TEXT
);
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL,
    key BLOB NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified REAL NOT NULL,
    content_type TEXT NOT NULL,
    metadata TEXT NOT NULL,
    body BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS objects_by_key ON objects (bucket, key);
"""
SUMMARY = "SELECT key, size, etag, last_modified FROM objects"
NO_UTF8_BYTE = b"\xff"
"""No UTF-8 text holds this byte, so ``prefix + NO_UTF8_BYTE`` sorts after every key that
starts with ``prefix`` and before every key after them."""


class SqliteObjectEngine:
    def __init__(self, path: str | Path, clock: Clock | None = None) -> None:
        self.file = SqliteFile(path)
        self.clock = clock or SystemClock()
        with self.file.write() as db:
            _create(db)

    def create_bucket(self, name: str) -> None:
        with self.file.write() as db:
            db.execute("INSERT OR IGNORE INTO object_buckets (name) VALUES (?)", (name,))

    def put_object(
        self, bucket: str, key: str, body: bytes, content_type: str, metadata: dict[str, str]
    ) -> ObjectInfo:
        info = ObjectInfo(
            key=key,
            size=len(body),
            etag=f'"{hashlib.md5(body).hexdigest()}"',
            last_modified=self.clock.now(),
            content_type=content_type,
            metadata=dict(metadata),
        )
        with self.file.write() as db:
            _check_bucket(db, bucket)
            db.execute(
                "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    bucket,
                    key.encode(),
                    info.size,
                    info.etag,
                    info.last_modified,
                    content_type,
                    json.dumps(info.metadata),
                    body,
                ),
            )
        return info

    def get_object(
        self, bucket: str, key: str, byte_range: tuple[int, int | None] | None = None
    ) -> tuple[ObjectInfo, bytes]:
        with self.file.read() as db:
            rowid, info = self._find(db, bucket, key)
            if byte_range is None:
                row = db.execute("SELECT body FROM objects WHERE rowid = ?", (rowid,)).fetchone()
                return info, bytes(row[0])
            start, end = byte_range
            if start >= info.size:
                raise InvalidRange(
                    f"the range starts at byte {start}; the object {key!r} has {info.size} bytes"
                )
            last = info.size - 1 if end is None else min(end, info.size - 1)
            with db.blobopen("objects", "body", rowid, readonly=True) as blob:
                blob.seek(start)
                return info, blob.read(last - start + 1)

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        with self.file.read() as db:
            return self._find(db, bucket, key)[1]

    def list_objects(
        self, bucket: str, prefix: str, delimiter: str | None, max_keys: int, token: str | None
    ) -> ObjectPage:
        start = prefix.encode()
        end = start + NO_UTF8_BYTE
        resume = resume_point(token)
        lower, inclusive = start, True
        if resume is not None:
            after, rolled_up = resume
            lower, inclusive = (after + NO_UTF8_BYTE, True) if rolled_up else (after, False)
            if lower < start:
                lower, inclusive = start, True
        contents: list[ObjectSummary] = []
        prefixes: list[str] = []
        last: str | None = None
        with self.file.read() as db:
            _check_bucket(db, bucket)
            while True:
                remaining = max_keys - len(contents) - len(prefixes)
                rows = db.execute(
                    f"{SUMMARY} WHERE bucket = ? AND key {'>=' if inclusive else '>'} ? "
                    "AND key < ? ORDER BY key LIMIT ?",
                    (bucket, lower, end, remaining + 1),
                ).fetchall()
                rolled_up = False
                for row in rows:
                    if len(contents) + len(prefixes) == max_keys:
                        return ObjectPage(contents, prefixes, last)  # more follow
                    key = bytes(row[0])
                    at = key.find(delimiter.encode(), len(start)) if delimiter else -1
                    if at >= 0:
                        common = key[: at + len(delimiter or "")]
                        prefixes.append(common.decode())
                        last = listing_token(b"P", common.decode())
                        # Every other key under the common prefix rolls up into it: go past.
                        lower, inclusive, rolled_up = common + NO_UTF8_BYTE, True, True
                        break
                    contents.append(ObjectSummary(key.decode(), row[1], row[2], row[3]))
                    last = listing_token(b"K", key.decode())
                    lower, inclusive = key, False
                if not rolled_up:
                    return ObjectPage(contents, prefixes, None)

    def delete_object(self, bucket: str, key: str) -> None:
        with self.file.write() as db:
            _check_bucket(db, bucket)
            db.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key.encode()))

    def set_notification_configuration(self, bucket: str, document: str) -> None:
        with self.file.write() as db:
            _check_bucket(db, bucket)
            db.execute(
                "UPDATE object_buckets SET notification = ? WHERE name = ?", (document, bucket)
            )

    def notification_configuration(self, bucket: str) -> str | None:
        with self.file.read() as db:
            row = db.execute(
                "SELECT notification FROM object_buckets WHERE name = ?", (bucket,)
            ).fetchone()
        if row is None:
            raise NoSuchBucket(f"the bucket {bucket!r} does not exist")
        return None if row[0] is None else str(row[0])

    def close(self) -> None:
        self.file.close()

    def _find(self, db: sqlite3.Connection, bucket: str, key: str) -> tuple[int, ObjectInfo]:
        row = db.execute(
            "SELECT rowid, size, etag, last_modified, content_type, metadata FROM objects "
            "WHERE bucket = ? AND key = ?",
            (bucket, key.encode()),
        ).fetchone()
        if row is None:
            _check_bucket(db, bucket)
            raise NoSuchKey(f"the key {key!r} does not exist in the bucket {bucket!r}")
        rowid, size, etag, modified, content_type, metadata = row
        return rowid, ObjectInfo(key, size, etag, modified, content_type, json.loads(metadata))


def _create(db: sqlite3.Connection) -> None:
    for statement in SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)


def _check_bucket(db: sqlite3.Connection, bucket: str) -> None:
    if db.execute("SELECT 1 FROM object_buckets WHERE name = ?", (bucket,)).fetchone() is None:
        raise NoSuchBucket(f"the bucket {bucket!r} does not exist")
