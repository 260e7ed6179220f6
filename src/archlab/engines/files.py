"""The embedded object engine: each object one file under ``<root>/<bucket>/``, many processes.

**One file per object, replaced whole.** An object file is a one-line JSON header (size, ETag,
content type, user metadata, modification time) followed by the body. A put writes a temporary
file in the directory of its key, fsyncs it, renames it over the key's file with ``os.replace``
and fsyncs the directory. Renaming is atomic, so the key names the old file or the new one,
never a part, and a crash leaves at most a temporary file (listings skip it; it stays until
removed by hand), never a partial object under the key. A reader reads header and body through
one open file descriptor, so it holds one inode from start to end: it can never pair a new body
with old metadata, which a sidecar file renamed separately could not promise without a lock.
Concurrent writers, in any processes: the last rename wins. Ranges seek past the header.

**Keys become paths without ever leaving the bucket.** S3 keys are flat: ``a/b`` and ``a/b/c``
may both exist, a segment may be empty (``photos/``, ``a//b``) or ``.``, and one key may be 1,024
bytes without a slash while a file name holds 255. So the ``/``-separated segments of a key
become directories and its last segment the file, with names that cannot collide:

- ``%`` is written ``%25``, so a ``%`` not followed by two hex digits marks archlab's own names;
- an object's file ends in ``%obj`` (``originals/cat.jpg`` is ``originals/cat.jpg%obj``), so a
  directory (``originals``) and an object of the same name live side by side;
- an empty segment's directory is ``%empty``; ``.`` and ``..`` are written ``%2E`` and ``%2E%2E``;
- a segment longer than 200 bytes is cut into pieces, each but the last a directory ending in
  ``%more`` (the key continues without a slash);
- temporary files start with ``%tmp-`` and the notification configuration is
  ``%notification.json``: names that decode to no key, so listings never show them.

No key can name a path outside its bucket (a key has no ``/`` inside a name, and no name is
``.`` or ``..``), whatever the block lets through. The engine expects a case-sensitive, POSIX
file system (Linux's): on a case-insensitive one, ``A`` and ``a`` would be one object.

**Listing in key order.** S3 lists keys in UTF-8 byte order, which a sorted directory walk does
not give (``a-b`` sorts before ``a/c``, and a ``%more`` piece interleaves with its siblings). So
the walk is best-first: a heap of files and directories, each keyed by the smallest key it can
hold (its key, or its prefix), expanding a directory only when it reaches the top. Directories
wholly before the continuation point or outside the prefix are never opened, and a directory
whose prefix already holds the delimiter is reported as one common prefix as soon as it is found
to hold an object, without reading the rest of it. Continuation tokens are the last key or
common prefix returned, base64-encoded.

A delete removes the file, then the directories it leaves empty, so that a common prefix never
outlives its last object; a put that finds a directory removed under it makes it again.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from archlab.blocks.errors import InvalidRange, NoSuchBucket, NoSuchKey
from archlab.clock import Clock, SystemClock
from archlab.engines.objectstore import (
    ObjectInfo,
    ObjectPage,
    ObjectSummary,
    listing_token,
    resume_point,
)

OBJECT = "%obj"
CONTINUED = "%more"
EMPTY = "%empty"
TEMPORARY = "%tmp-"
NOTIFICATION = "%notification.json"
DIRECTORY_NAMES = {"": EMPTY, ".": "%2E", "..": "%2E%2E"}
PIECE_BYTES = 200
"""The longest piece of a segment in one name: 255 bytes, less room for the markers."""
FORMAT = 1
HEADER_LIMIT = 64 * 1024
MAKE_DIRECTORY_ATTEMPTS = 100
"""A put retries this often when concurrent deletes keep removing its emptied directory."""

ENCODED = re.compile(r"(?:[^%]|%[0-9A-F]{2})*", re.DOTALL)
ESCAPE = re.compile(r"%([0-9A-F]{2})")
TOKEN = re.compile(r"%25|.", re.DOTALL)

# What a directory entry holds, in the order of entries with the same bound.
FILE, PIECE, DIRECTORY = 0, 1, 2

Entry = tuple[bytes, int, str]
"""A file or directory in a listing's walk: the smallest key it can hold, its kind, its path."""


class FileObjectEngine:
    """Buckets as directories under ``root``; see the module documentation for the layout."""

    def __init__(self, root: str | Path, clock: Clock | None = None) -> None:
        self.root = Path(root)
        self.clock = clock or SystemClock()

    def create_bucket(self, name: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            (self.root / name).mkdir()
        except FileExistsError:
            return
        _sync_directory(self.root)

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
        _replace(self._bucket(bucket), object_names(key), [_header(info), body])
        return info

    def get_object(
        self, bucket: str, key: str, byte_range: tuple[int, int | None] | None = None
    ) -> tuple[ObjectInfo, bytes]:
        with self._open(bucket, key) as file:
            info, offset = _read_header(file, key)
            if byte_range is None:
                return info, file.read()
            start, end = byte_range
            if start >= info.size:
                raise InvalidRange(
                    f"the range starts at byte {start}; the object {key!r} has {info.size} bytes"
                )
            last = info.size - 1 if end is None else min(end, info.size - 1)
            file.seek(offset + start)
            return info, file.read(last - start + 1)

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        with self._open(bucket, key) as file:
            return _read_header(file, key)[0]

    def list_objects(
        self, bucket: str, prefix: str, delimiter: str | None, max_keys: int, token: str | None
    ) -> ObjectPage:
        walk = _walk(
            self._bucket(bucket),
            prefix.encode(),
            delimiter.encode() if delimiter else None,
            resume_point(token),
        )
        contents: list[ObjectSummary] = []
        prefixes: list[str] = []
        token = None
        for found in walk:
            if len(contents) + len(prefixes) == max_keys:
                return ObjectPage(contents, prefixes, token)
            if isinstance(found, str):
                prefixes.append(found)
                token = listing_token(b"P", found)
            else:
                contents.append(found)
                token = listing_token(b"K", found.key)
        return ObjectPage(contents, prefixes, None)

    def delete_object(self, bucket: str, key: str) -> None:
        root = self._bucket(bucket)
        names = object_names(key)
        try:
            os.unlink(root.joinpath(*names))
        except FileNotFoundError:
            return
        _sync_directory(root.joinpath(*names[:-1]))
        _remove_empty_directories(root, names[:-1])

    def set_notification_configuration(self, bucket: str, document: str) -> None:
        _replace(self._bucket(bucket), [NOTIFICATION], [document.encode()])

    def notification_configuration(self, bucket: str) -> str | None:
        try:
            return (self.root / bucket / NOTIFICATION).read_text()
        except FileNotFoundError:
            self._bucket(bucket)
            return None

    def close(self) -> None:
        """Nothing to release: every call opens and closes its own files."""

    def _bucket(self, name: str) -> Path:
        path = self.root / name
        if not path.is_dir():
            raise NoSuchBucket(f"the bucket {name!r} does not exist")
        return path

    def _open(self, bucket: str, key: str) -> BinaryIO:
        try:
            return (self.root / bucket).joinpath(*object_names(key)).open("rb")
        except FileNotFoundError:
            self._bucket(bucket)
            raise NoSuchKey(f"the key {key!r} does not exist in the bucket {bucket!r}") from None


# --- keys and names --------------------------------------------------------------------------


def object_names(key: str) -> list[str]:
    """The names, under the bucket's directory, of the path to the file holding ``key``."""
    segments = key.split("/")
    names: list[str] = []
    for index, segment in enumerate(segments):
        *continued, last = _pieces(segment.replace("%", "%25"))
        names.extend(piece + CONTINUED for piece in continued)
        is_last = index == len(segments) - 1
        names.append(last + OBJECT if is_last else DIRECTORY_NAMES.get(last, last))
    return names


def _pieces(encoded: str) -> list[str]:
    """An encoded segment cut into pieces of at most PIECE_BYTES, between characters and
    escapes."""
    if len(encoded.encode()) <= PIECE_BYTES:
        return [encoded]
    pieces: list[str] = []
    current = ""
    for token in TOKEN.findall(encoded):
        if len((current + token).encode()) > PIECE_BYTES:
            pieces.append(current)
            current = ""
        current += token
    return [*pieces, current]


def _entry(name: str) -> tuple[int, str] | None:
    """What a directory entry holds and the key text it stands for; None for names that stand
    for no key (temporary files, the notification configuration)."""
    if name == EMPTY:
        return DIRECTORY, ""
    kind, text = DIRECTORY, name
    for suffix, suffix_kind in ((OBJECT, FILE), (CONTINUED, PIECE)):
        if name.endswith(suffix):
            kind, text = suffix_kind, name[: -len(suffix)]
    if not ENCODED.fullmatch(text):
        return None
    return kind, ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)


# --- object files ----------------------------------------------------------------------------


def _header(info: ObjectInfo) -> bytes:
    header = {
        "format": FORMAT,
        "size": info.size,
        "etag": info.etag,
        "last_modified": info.last_modified,
        "content_type": info.content_type,
        "metadata": info.metadata,
    }
    # ASCII JSON holds no raw newline, so the header is exactly the first line.
    return json.dumps(header, separators=(",", ":")).encode() + b"\n"


def _read_header(file: BinaryIO, key: str) -> tuple[ObjectInfo, int]:
    """The object's metadata, and the offset of its body in the file."""
    line = file.readline(HEADER_LIMIT)
    header = json.loads(line) if line.endswith(b"\n") else {}
    if header.get("format") != FORMAT:
        raise ValueError(f"{file.name}: not an object file of this engine")
    info = ObjectInfo(
        key=key,
        size=header["size"],
        etag=header["etag"],
        last_modified=header["last_modified"],
        content_type=header["content_type"],
        metadata=header["metadata"],
    )
    return info, len(line)


def _replace(root: Path, names: Sequence[str], chunks: Sequence[bytes]) -> None:
    """Write ``chunks`` as the file ``root/names...``, atomically and durably."""
    directory = root.joinpath(*names[:-1])
    descriptor, temporary = _temporary_file(root, names[:-1])
    try:
        with os.fdopen(descriptor, "wb") as file:
            for chunk in chunks:
                file.write(chunk)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, directory / names[-1])
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_directory(directory)


def _temporary_file(root: Path, directories: Sequence[str]) -> tuple[int, str]:
    """A new temporary file in ``root/directories...``, made with its directories if need be.

    A concurrent delete may remove a directory it emptied between our making it and our file
    appearing in it (after which the file keeps it from being removed): make it again."""
    attempts = 0
    while True:
        try:
            _make_directories(root, directories)
            return tempfile.mkstemp(prefix=TEMPORARY, dir=root.joinpath(*directories))
        except FileNotFoundError:
            attempts += 1
            if attempts == MAKE_DIRECTORY_ATTEMPTS or not root.is_dir():
                raise


def _make_directories(root: Path, directories: Sequence[str]) -> None:
    path = root
    for name in directories:
        path = path / name
        try:
            path.mkdir()
        except FileExistsError:
            continue
        _sync_directory(path.parent)


def _remove_empty_directories(root: Path, directories: Sequence[str]) -> None:
    """Remove the directories of a deleted object's path that it left empty, deepest first."""
    for depth in range(len(directories), 0, -1):
        try:
            os.rmdir(root.joinpath(*directories[:depth]))
        except FileNotFoundError:
            continue  # another delete removed it: its parent may be empty too
        except OSError:
            return  # not empty: it, and every directory above it, holds something


def _sync_directory(path: Path) -> None:
    """Make a directory's entries (a rename, a new file) durable."""
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- listing ---------------------------------------------------------------------------------


def _walk(
    root: Path, prefix: bytes, delimiter: bytes | None, resume: tuple[bytes, bool] | None
) -> Iterator[ObjectSummary | str]:
    """The objects (ObjectSummary) and common prefixes (str) under ``prefix``, in key order,
    after ``resume`` (a key, or a common prefix when its flag is set)."""
    heap: list[Entry] = [(b"", DIRECTORY, str(root))]
    rolled_up = resume[0] if resume is not None and resume[1] else None
    while heap:
        bound, kind, path = heapq.heappop(heap)
        if rolled_up is not None and bound.startswith(rolled_up):
            continue
        common = _common_prefix(bound, prefix, delimiter)
        if common is not None:
            if kind == FILE or _holds_object(path):
                rolled_up = common
                yield common.decode()
            continue
        if kind == FILE:
            summary = _summary(path, bound.decode())
            if summary is not None:
                yield summary
            continue
        for child in _children(path, bound):
            if _wanted(child, prefix, resume):
                heapq.heappush(heap, child)


def _children(path: str, bound: bytes) -> Iterator[Entry]:
    try:
        with os.scandir(path) as entries:
            for entry in entries:
                found = _entry(entry.name)
                if found is None:
                    continue
                kind, text = found
                child = bound + text.encode() + (b"/" if kind == DIRECTORY else b"")
                yield child, kind, entry.path
    except FileNotFoundError:  # removed by a delete since its parent was read
        return


def _wanted(entry: Entry, prefix: bytes, resume: tuple[bytes, bool] | None) -> bool:
    """Whether an entry may hold keys under ``prefix`` that come after ``resume``."""
    bound, kind, _ = entry
    in_prefix = bound.startswith(prefix) or (kind != FILE and prefix.startswith(bound))
    if not in_prefix or resume is None:
        return in_prefix
    after, rolled_up = resume
    if rolled_up and bound.startswith(after):
        return False
    if kind == FILE:
        return bound > after
    # Every key of a directory starts with its bound: all of them come before ``after`` when
    # the bound does and is not a prefix of it.
    return not (bound < after and not after.startswith(bound))


def _common_prefix(bound: bytes, prefix: bytes, delimiter: bytes | None) -> bytes | None:
    """The common prefix every key starting with ``bound`` rolls up into, if already known."""
    if delimiter is None or not bound.startswith(prefix):
        return None
    at = bound.find(delimiter, len(prefix))
    return None if at < 0 else bound[: at + len(delimiter)]


def _holds_object(path: str) -> bool:
    """Whether a directory holds an object, at any depth (it may hold only temporary files, or
    nothing, while a put or a delete is under way)."""
    pending = [path]  # a stack, not recursion: a key may nest 512 directories deep
    while pending:
        for _, kind, child in _children(pending.pop(), b""):
            if kind == FILE:
                return True
            pending.append(child)
    return False


def _summary(path: str, key: str) -> ObjectSummary | None:
    """A listed object's summary; None if it was deleted since its directory was read."""
    try:
        with open(path, "rb") as file:
            info = _read_header(file, key)[0]
    except FileNotFoundError:
        return None
    return ObjectSummary(info.key, info.size, info.etag, info.last_modified)
