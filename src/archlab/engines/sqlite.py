"""The embedded messaging engine: queues in one SQLite file, shared by many processes.

Durability: WAL journal with ``synchronous=FULL``, so a send that returned survives a SIGKILL of
any process (and a power cut); ``durability="sends"`` relaxes this for every change but sends
(see ``_transaction``). Every state change is one transaction; claims take SQLite's write lock
(``BEGIN IMMEDIATE``), so two processes never hold the same message at once.

A message is *visible* when ``visible_at <= now``: a delay sets ``visible_at`` in the future at
send time, and a receive moves it to ``now + visibility timeout``. A receipt handle names one
receive: deleting or changing visibility with a handle from an earlier receive does nothing, as
in SQS.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from archlab.blocks.errors import (
    MessageNotInflight,
    PurgeQueueInProgress,
    QueueAlreadyExists,
    QueueDoesNotExist,
    ReceiptHandleIsInvalid,
    ResourceAlreadyExists,
    ResourceNotFound,
    TopicDoesNotExist,
)
from archlab.clock import Clock, SystemClock
from archlab.engines.base import Archive, BusRule, OutgoingMessage, ReceivedMessage, Subscription
from archlab.engines.sqlitefile import SqliteFile

SCHEMA = """
CREATE TABLE IF NOT EXISTS queues (
    name TEXT PRIMARY KEY,
    attributes TEXT NOT NULL,
    created REAL NOT NULL,
    purged REAL
);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    attributes TEXT NOT NULL,
    sent REAL NOT NULL,
    visible_at REAL NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    group_id TEXT,
    deduplication_id TEXT,
    source TEXT,
    receives INTEGER NOT NULL DEFAULT 0,
    first_received REAL,
    handle TEXT
);
CREATE INDEX IF NOT EXISTS messages_ready ON messages (queue, visible_at, seq);
CREATE INDEX IF NOT EXISTS messages_by_priority ON messages (queue, priority DESC, visible_at, seq)
    WHERE priority >= 0;
CREATE INDEX IF NOT EXISTS messages_by_group
    ON messages (queue, group_id, visible_at) WHERE group_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS deduplication (
    queue TEXT NOT NULL,
    id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (queue, id)
);
CREATE TABLE IF NOT EXISTS buses (
    name TEXT PRIMARY KEY,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS rules (
    bus TEXT NOT NULL,
    name TEXT NOT NULL,
    pattern TEXT NOT NULL,
    state TEXT NOT NULL,
    targets TEXT NOT NULL,
    PRIMARY KEY (bus, name)
);
CREATE TABLE IF NOT EXISTS archives (
    name TEXT PRIMARY KEY,
    bus TEXT NOT NULL,
    pattern TEXT,
    retention_days INTEGER NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS archived_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    archive TEXT NOT NULL,
    time REAL NOT NULL,
    event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS archived_by_time ON archived_events (archive, time);
CREATE TABLE IF NOT EXISTS topics (
    name TEXT PRIMARY KEY,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS subscriptions (
    id TEXT PRIMARY KEY,
    topic TEXT NOT NULL,
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    attributes TEXT NOT NULL
);
"""

# Messages ready to receive: in the order they became visible (the index's order, so no sort),
# or on a priority queue highest priority first. Messages of other queues are stored with
# priority -1, outside the partial priority index: only priority queues pay for it.
READY = (
    "SELECT seq, id, body, attributes, sent, receives, first_received, group_id,"
    " deduplication_id FROM messages"
    " WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?"
)
# FIFO queues: in send order, and only from groups with nothing in flight.
READY_IN_GROUPS = (
    "SELECT seq, id, body, attributes, sent, receives, first_received, group_id,"
    " deduplication_id FROM messages AS m"
    " WHERE queue = ? AND visible_at <= ? AND NOT EXISTS ("
    "  SELECT 1 FROM messages AS f WHERE f.queue = m.queue AND f.group_id = m.group_id"
    "  AND f.handle IS NOT NULL AND f.visible_at > ?)"
    " ORDER BY seq LIMIT ?"
)
READY_BY_PRIORITY = (
    "SELECT seq, id, body, attributes, sent, receives, first_received, group_id,"
    " deduplication_id FROM messages"
    " WHERE queue = ? AND priority >= 0 AND visible_at <= ?"
    " ORDER BY priority DESC, visible_at, seq LIMIT ?"
)
NOT_PRIORITIZED = -1
"""The stored priority of a message in a queue without MaxPriority."""
MOVED_PRIORITY = f"CASE WHEN ? THEN max(priority, 0) ELSE {NOT_PRIORITIZED} END"
"""A message's priority as it moves to a queue that has priorities (the parameter) or not."""

DEDUPLICATION_SECONDS = 300
"""FIFO queues ignore a repeated MessageDeduplicationId for five minutes."""

POLL_SECONDS = 0.005
"""How often a long poll looks again for a message; cheap, as it reads without locking."""

EXPIRY_INTERVAL = 1.0
"""Seconds between two looks for expired messages of one queue (retention is in seconds)."""

PURGE_INTERVAL = 60
"""SQS allows one purge a minute per queue."""


class SqliteEngine:
    """Queues in the SQLite database at ``path``; one connection per thread."""

    def __init__(
        self, path: str | Path, clock: Clock | None = None, durability: str = "full"
    ) -> None:
        self.path = str(path)
        self.durability = durability
        """"full": every change synced at commit; "sends": only sends (see _transaction)."""
        self._file = SqliteFile(self.path)
        self.clock = clock or SystemClock()
        self._expired_at: dict[str, float] = {}
        with self._transaction() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)

    @property
    def _db(self) -> sqlite3.Connection:
        return self._file.connection

    @contextmanager
    def _transaction(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One atomic change, holding the write lock from its start.

        A durable change is on disk when it returns (``synchronous=FULL``: the WAL is synced
        at commit). With ``durability="sends"`` the other changes — claims, deletes,
        visibility changes — are not synced: they survive any process being killed, but a
        power cut may undo them, which can only make a message visible again (at-least-once
        delivery allows it), never lose one. That nearly doubles full cycles per second, at
        the cost of a less even latency (measured in docs/benchmarks.md), so it is opt-in.
        """
        level = "FULL" if durable or self.durability == "full" else "NORMAL"
        with self._file.write(level) as db:
            yield db

    def close(self) -> None:
        self._file.close()

    # --- queues -------------------------------------------------------------------------------

    def create_queue(self, name: str, attributes: dict[str, str]) -> None:
        with self._transaction() as db:
            row = db.execute("SELECT attributes FROM queues WHERE name = ?", (name,)).fetchone()
            if row is not None:
                if json.loads(row[0]) != attributes:
                    raise QueueAlreadyExists(
                        f"queue {name!r} already exists with different attributes"
                    )
                return
            db.execute(
                "INSERT INTO queues (name, attributes, created) VALUES (?, ?, ?)",
                (name, json.dumps(attributes), self.clock.now()),
            )

    def delete_queue(self, name: str) -> None:
        with self._transaction() as db:
            self._require(db, name)
            db.execute("DELETE FROM messages WHERE queue = ?", (name,))
            db.execute("DELETE FROM queues WHERE name = ?", (name,))

    def list_queues(self, prefix: str = "") -> list[str]:
        rows = self._db.execute(
            "SELECT name FROM queues WHERE substr(name, 1, ?) = ? ORDER BY name",
            (len(prefix), prefix),
        )
        return [name for (name,) in rows]

    def queue_attributes(self, name: str) -> dict[str, str]:
        return self._require(self._db, name)

    def queue_metrics(self, name: str) -> dict[str, int]:
        with self._transaction(durable=False) as db:
            attributes = self._require(db, name)
            now = self.clock.now()
            self._expire(db, name, attributes, now)
            visible, invisible, delayed, oldest = db.execute(
                "SELECT"
                " coalesce(sum(visible_at <= ?), 0),"
                " coalesce(sum(visible_at > ? AND receives > 0), 0),"
                " coalesce(sum(visible_at > ? AND receives = 0), 0),"
                " min(sent)"
                " FROM messages WHERE queue = ?",
                (now, now, now, name),
            ).fetchone()
        return {
            "ApproximateNumberOfMessages": visible,
            "ApproximateNumberOfMessagesNotVisible": invisible,
            "ApproximateNumberOfMessagesDelayed": delayed,
            "ApproximateAgeOfOldestMessage": int(now - oldest) if oldest is not None else 0,
        }

    # --- messages -----------------------------------------------------------------------------

    def send(self, name: str, messages: list[OutgoingMessage]) -> list[str]:
        return self.send_many({name: messages})[name]

    def send_many(self, batches: dict[str, list[OutgoingMessage]]) -> dict[str, list[str]]:
        now = self.clock.now()
        ids: dict[str, list[str]] = {}
        with self._transaction() as db:
            for name, messages in batches.items():
                prioritized = "MaxPriority" in self._require(db, name)
                if any(message.deduplication_id is not None for message in messages):
                    db.execute("DELETE FROM deduplication WHERE expires <= ?", (now,))
                ids[name] = [
                    self._insert(db, name, message, now, prioritized) for message in messages
                ]
        return ids

    def _insert(
        self,
        db: sqlite3.Connection,
        name: str,
        message: OutgoingMessage,
        now: float,
        prioritized: bool,
    ) -> str:
        """Store one message; on a FIFO queue, a duplicate within the window is not stored and
        the first message's id is returned instead."""
        if message.deduplication_id is not None:
            row = db.execute(
                "SELECT message_id FROM deduplication WHERE queue = ? AND id = ?",
                (name, message.deduplication_id),
            ).fetchone()
            if row is not None:
                duplicate: str = row[0]
                return duplicate
        message_id = str(uuid.uuid4())
        db.execute(
            "INSERT INTO messages (queue, id, body, attributes, sent, visible_at, priority,"
            " group_id, deduplication_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                name,
                message_id,
                message.body,
                json.dumps(message.message_attributes),
                now,
                now + message.delay_seconds,
                message.priority if prioritized else NOT_PRIORITIZED,
                message.group_id,
                message.deduplication_id,
            ),
        )
        if message.deduplication_id is not None:
            db.execute(
                "INSERT INTO deduplication (queue, id, message_id, expires) VALUES (?, ?, ?, ?)",
                (name, message.deduplication_id, message_id, now + DEDUPLICATION_SECONDS),
            )
        return message_id

    def receive(
        self, name: str, max_messages: int, visibility_timeout: int, wait_seconds: int
    ) -> list[ReceivedMessage]:
        deadline = self.clock.now() + wait_seconds
        while True:
            received = self._claim(name, max_messages, visibility_timeout)
            if received or self.clock.now() >= deadline:
                return received
            # Long polling: look (without taking the write lock) until something is visible.
            while self.clock.now() < deadline and not self._any_visible(name):
                self.clock.sleep(POLL_SECONDS)

    def _any_visible(self, name: str) -> bool:
        row = self._db.execute(
            "SELECT 1 FROM messages WHERE queue = ? AND visible_at <= ? LIMIT 1",
            (name, self.clock.now()),
        ).fetchone()
        return row is not None

    def _claim(
        self, name: str, max_messages: int, visibility_timeout: int
    ) -> list[ReceivedMessage]:
        with self._transaction(durable=False) as db:
            attributes = self._require(db, name)
            now = self.clock.now()
            self._expire(db, name, attributes, now)
            redrive = (
                json.loads(attributes["RedrivePolicy"]) if "RedrivePolicy" in attributes else None
            )
            received: list[ReceivedMessage] = []
            while len(received) < max_messages:
                arguments: tuple[object, ...]
                if attributes.get("FifoQueue") == "true":
                    query, arguments = READY_IN_GROUPS, (name, now, now)
                elif "MaxPriority" in attributes:
                    query, arguments = READY_BY_PRIORITY, (name, now)
                else:
                    query, arguments = READY, (name, now)
                rows = db.execute(query, (*arguments, max_messages - len(received))).fetchall()
                if not rows:
                    break
                dead_lettered = 0
                for row in rows:
                    seq, message_id, body, message_attributes, sent, receives, first = row[:7]
                    if redrive is not None and receives >= redrive["maxReceiveCount"]:
                        dead_lettered += self._dead_letter(db, seq, redrive["deadLetterTargetArn"])
                        continue
                    handle = f"{seq}.{secrets.token_urlsafe(18)}"
                    first = first if first is not None else now
                    db.execute(
                        "UPDATE messages SET visible_at = ?, receives = receives + 1,"
                        " first_received = ?, handle = ? WHERE seq = ?",
                        (now + visibility_timeout, first, handle, seq),
                    )
                    received.append(
                        ReceivedMessage(
                            message_id,
                            handle,
                            body,
                            json.loads(message_attributes),
                            receives + 1,
                            sent,
                            first,
                            group_id=row[7],
                            deduplication_id=row[8],
                            sequence_number=seq,
                        )
                    )
                if not dead_lettered:
                    break  # otherwise look again: moved messages left room in the batch
            return received

    def _dead_letter(self, db: sqlite3.Connection, seq: int, target_arn: str) -> bool:
        """Move a message that was received too often to its dead-letter queue, as it is: its id,
        sent time and receive count go with it. False if there is no such queue."""
        target = target_arn.rsplit(":", 1)[-1]
        if not _exists(db, "queues", target):
            return False  # like SQS, a missing dead-letter queue leaves the message where it is
        db.execute(
            "UPDATE messages SET source = queue, queue = ?, visible_at = ?, handle = NULL,"
            f" priority = {MOVED_PRIORITY} WHERE seq = ?",
            (target, self.clock.now(), _prioritized(db, target), seq),
        )
        return True

    def delete(self, name: str, receipt_handles: list[str]) -> None:
        rows = [(_handle_seq(handle), name, handle) for handle in receipt_handles]
        with self._transaction(durable=False) as db:
            self._require(db, name)
            db.executemany("DELETE FROM messages WHERE seq = ? AND queue = ? AND handle = ?", rows)

    def change_visibility(self, name: str, receipt_handle: str, visibility_timeout: int) -> None:
        seq = _handle_seq(receipt_handle)
        with self._transaction(durable=False) as db:
            self._require(db, name)
            now = self.clock.now()
            row = db.execute(
                "SELECT visible_at FROM messages WHERE seq = ? AND queue = ? AND handle = ?",
                (seq, name, receipt_handle),
            ).fetchone()
            if row is None:
                raise ReceiptHandleIsInvalid(
                    f"receipt handle {receipt_handle!r} does not name a message of {name!r}"
                    " as last received"
                )
            if row[0] <= now:
                raise MessageNotInflight("the message is not in flight: its visibility expired")
            db.execute(
                "UPDATE messages SET visible_at = ? WHERE seq = ?", (now + visibility_timeout, seq)
            )

    def move_messages(self, name: str, destination: str | None, limit: int) -> int:
        """Move up to ``limit`` messages out of a dead-letter queue, oldest first: to
        ``destination``, or back to the queue each came from. Moved messages start afresh
        (visible now, no receives), so a redriven message gets its full maxReceiveCount again.
        Messages with no known source are left when no destination is given."""
        with self._transaction() as db:
            self._require(db, name)
            if destination is not None:
                self._require(db, destination)
            rows = db.execute(
                "SELECT seq, source FROM messages WHERE queue = ?"
                + ("" if destination is not None else " AND source IS NOT NULL")
                + " ORDER BY sent, seq LIMIT ?",
                (name, limit),
            ).fetchall()
            now = self.clock.now()
            moved = 0
            for seq, source in rows:
                target = destination if destination is not None else source
                if not _exists(db, "queues", target):
                    continue  # the source queue is gone; the message stays
                db.execute(
                    "UPDATE messages SET queue = ?, source = NULL, visible_at = ?, receives = 0,"
                    f" first_received = NULL, handle = NULL, priority = {MOVED_PRIORITY}"
                    " WHERE seq = ?",
                    (target, now, _prioritized(db, target), seq),
                )
                moved += 1
            return moved

    def purge(self, name: str) -> None:
        with self._transaction(durable=False) as db:
            self._require(db, name)
            now = self.clock.now()
            (purged,) = db.execute("SELECT purged FROM queues WHERE name = ?", (name,)).fetchone()
            if purged is not None and now - purged < PURGE_INTERVAL:
                raise PurgeQueueInProgress(
                    f"queue {name!r} was purged {now - purged:.0f} s ago; one purge a minute"
                )
            db.execute("DELETE FROM messages WHERE queue = ?", (name,))
            db.execute("UPDATE queues SET purged = ? WHERE name = ?", (now, name))

    # --- topics -------------------------------------------------------------------------------

    def create_topic(self, name: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO topics (name, created) VALUES (?, ?)",
                (name, self.clock.now()),
            )

    def delete_topic(self, name: str) -> None:
        with self._transaction() as db:
            self._require_topic(db, name)
            db.execute("DELETE FROM subscriptions WHERE topic = ?", (name,))
            db.execute("DELETE FROM topics WHERE name = ?", (name,))

    def list_topics(self) -> list[str]:
        return [name for (name,) in self._db.execute("SELECT name FROM topics ORDER BY name")]

    def subscribe(
        self, topic: str, protocol: str, endpoint: str, attributes: dict[str, str]
    ) -> str:
        with self._transaction() as db:
            self._require_topic(db, topic)
            row = db.execute(
                "SELECT id FROM subscriptions WHERE topic = ? AND protocol = ? AND endpoint = ?",
                (topic, protocol, endpoint),
            ).fetchone()
            subscription: str = row[0] if row else str(uuid.uuid4())
            db.execute(
                "INSERT OR REPLACE INTO subscriptions (id, topic, protocol, endpoint, attributes)"
                " VALUES (?, ?, ?, ?, ?)",
                (subscription, topic, protocol, endpoint, json.dumps(attributes)),
            )
            return subscription

    def unsubscribe(self, subscription: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM subscriptions WHERE id = ?", (subscription,))

    def subscriptions(self, topic: str) -> list[Subscription]:
        # Reads take no write lock: publishers and receivers do not wait for each other here.
        with self._file.read() as db:
            self._require_topic(db, topic)
            rows = db.execute(
                "SELECT id, protocol, endpoint, attributes FROM subscriptions"
                " WHERE topic = ? ORDER BY id",
                (topic,),
            ).fetchall()
        return [
            Subscription(identity, topic, protocol, endpoint, json.loads(attributes))
            for identity, protocol, endpoint, attributes in rows
        ]

    # --- event buses --------------------------------------------------------------------------

    def create_bus(self, name: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO buses (name, created) VALUES (?, ?)",
                (name, self.clock.now()),
            )

    def delete_bus(self, name: str) -> None:
        with self._transaction() as db:
            self._require_bus(db, name)
            db.execute("DELETE FROM rules WHERE bus = ?", (name,))
            db.execute("DELETE FROM buses WHERE name = ?", (name,))

    def list_buses(self) -> list[str]:
        return [name for (name,) in self._db.execute("SELECT name FROM buses ORDER BY name")]

    def put_rule(self, bus: str, name: str, pattern: str, state: str) -> None:
        with self._transaction() as db:
            self._require_bus(db, bus)
            db.execute(
                "INSERT INTO rules (bus, name, pattern, state, targets) VALUES (?, ?, ?, ?, '[]')"
                " ON CONFLICT (bus, name) DO UPDATE SET pattern = excluded.pattern,"
                " state = excluded.state",
                (bus, name, pattern, state),
            )

    def delete_rule(self, bus: str, name: str) -> None:
        with self._transaction() as db:
            self._require_rule(db, bus, name)
            db.execute("DELETE FROM rules WHERE bus = ? AND name = ?", (bus, name))

    def set_targets(self, bus: str, rule: str, targets: list[dict[str, Any]]) -> None:
        with self._transaction() as db:
            self._require_rule(db, bus, rule)
            db.execute(
                "UPDATE rules SET targets = ? WHERE bus = ? AND name = ?",
                (json.dumps(targets), bus, rule),
            )

    def rules(self, bus: str) -> list[BusRule]:
        with self._file.read() as db:
            self._require_bus(db, bus)
            rows = db.execute(
                "SELECT name, pattern, state, targets FROM rules WHERE bus = ? ORDER BY name",
                (bus,),
            ).fetchall()
        return [
            BusRule(name, pattern, state, json.loads(targets))
            for name, pattern, state, targets in rows
        ]

    def create_archive(self, name: str, bus: str, pattern: str | None, retention_days: int) -> None:
        with self._transaction() as db:
            self._require_bus(db, bus)
            if _exists(db, "archives", name):
                raise ResourceAlreadyExists(f"the archive {name!r} already exists")
            db.execute(
                "INSERT INTO archives (name, bus, pattern, retention_days, created)"
                " VALUES (?, ?, ?, ?, ?)",
                (name, bus, pattern, retention_days, self.clock.now()),
            )

    def archives(self, bus: str) -> list[Archive]:
        rows = self._db.execute(
            "SELECT name, bus, pattern, retention_days FROM archives WHERE bus = ? ORDER BY name",
            (bus,),
        ).fetchall()
        return [Archive(*row) for row in rows]

    def archive_events(self, archive: str, events: list[tuple[float, str]]) -> None:
        with self._transaction() as db:
            row = db.execute(
                "SELECT retention_days FROM archives WHERE name = ?", (archive,)
            ).fetchone()
            if row is None:
                raise ResourceNotFound(f"the archive {archive!r} does not exist")
            if row[0]:
                cutoff = self.clock.now() - row[0] * 86_400
                db.execute(
                    "DELETE FROM archived_events WHERE archive = ? AND time < ?", (archive, cutoff)
                )
            db.executemany(
                "INSERT INTO archived_events (archive, time, event) VALUES (?, ?, ?)",
                [(archive, time, event) for time, event in events],
            )

    def archived_events(self, archive: str, start: float, end: float) -> tuple[str, list[str]]:
        """The bus of an archive, and its events with start <= time < end, oldest first."""
        row = self._db.execute("SELECT bus FROM archives WHERE name = ?", (archive,)).fetchone()
        if row is None:
            raise ResourceNotFound(f"the archive {archive!r} does not exist")
        events = self._db.execute(
            "SELECT event FROM archived_events WHERE archive = ? AND time >= ? AND time < ?"
            " ORDER BY time, seq",
            (archive, start, end),
        )
        return row[0], [event for (event,) in events]

    def _require_bus(self, db: sqlite3.Connection, name: str) -> None:
        if not _exists(db, "buses", name):
            raise ResourceNotFound(f"the event bus {name!r} does not exist")

    def _require_rule(self, db: sqlite3.Connection, bus: str, name: str) -> None:
        self._require_bus(db, bus)
        found = db.execute("SELECT 1 FROM rules WHERE bus = ? AND name = ?", (bus, name))
        if found.fetchone() is None:
            raise ResourceNotFound(f"the rule {name!r} does not exist on the bus {bus!r}")

    # --- helpers ------------------------------------------------------------------------------

    def _require_topic(self, db: sqlite3.Connection, name: str) -> None:
        if not _exists(db, "topics", name):
            raise TopicDoesNotExist(f"the topic {name!r} does not exist")

    def _require(self, db: sqlite3.Connection, name: str) -> dict[str, str]:
        row = db.execute("SELECT attributes FROM queues WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise QueueDoesNotExist(f"the queue {name!r} does not exist")
        attributes: dict[str, str] = json.loads(row[0])
        return attributes

    def _expire(
        self, db: sqlite3.Connection, name: str, attributes: dict[str, str], now: float
    ) -> None:
        """Drop messages older than the queue's retention period (looked for once a second)."""
        if now - self._expired_at.get(name, -EXPIRY_INTERVAL) < EXPIRY_INTERVAL:
            return
        cutoff = now - int(attributes["MessageRetentionPeriod"])
        db.execute("DELETE FROM messages WHERE queue = ? AND sent < ?", (name, cutoff))
        self._expired_at[name] = now


def _prioritized(db: sqlite3.Connection, queue: str) -> bool:
    row = db.execute("SELECT attributes FROM queues WHERE name = ?", (queue,)).fetchone()
    return row is not None and "MaxPriority" in json.loads(row[0])


def _exists(db: sqlite3.Connection, table: str, name: str) -> bool:
    """Whether ``table`` (one of this schema's, keyed by ``name``) has that row."""
    return db.execute(f"SELECT 1 FROM {table} WHERE name = ?", (name,)).fetchone() is not None


def _handle_seq(receipt_handle: str) -> int:
    seq, dot, token = (
        receipt_handle.partition(".") if isinstance(receipt_handle, str) else ("", "", "")
    )
    if not dot or not seq.isdigit() or not token:
        raise ReceiptHandleIsInvalid(f"{receipt_handle!r} is not a receipt handle")
    return int(seq)
