"""The notifier's store: what was announced, what is queued, what was delivered.

One small interface (`NotifyStore`) with SQLite as the embedded default (here) and
PostgreSQL as the shared store of several machines (`pgstore.py`); `backends.py` says
which one a run uses.

A delivery moves `pending → committing → sent`, or to `failed` (permanent), back to
`pending` (transient: a later run retries it), or to `uncertain` (the message may have
been handed over when the run died or the connection broke: never sent again, reported).
Every change is committed at once, so a killed run loses nothing and repeats nothing.

A run holds the store for its whole life (`running`), reads what was announced and queues
what is new under `detecting`, then takes the queue in batches (`claim`). In the SQLite
file a run holds the store alone: a second run on the same file waits for the first to end
(an exclusive lock on `notify.db.lock`), then finds nothing left to announce and sends
only what the first deferred. PostgreSQL lets several runs share one send (pgstore.py).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from statusgen.notifier.events import Event
from statusgen.content.model import Subscriber

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS announced (key TEXT PRIMARY KEY, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), taken_at TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (key TEXT PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL, queued_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY,
    event_key TEXT NOT NULL REFERENCES events (key),
    recipient TEXT NOT NULL,
    language TEXT NOT NULL,
    components TEXT,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'committing', 'sent', 'failed', 'uncertain')),
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    updated_at TEXT NOT NULL,
    UNIQUE (event_key, recipient)
);
CREATE INDEX IF NOT EXISTS deliveries_by_state ON deliveries (state);
"""


@dataclass(frozen=True)
class Delivery:
    id: int
    event: Event
    context: dict[str, Any]
    """The snapshot as far as this event needs it: site, components, groups, its incident."""
    subscriber: Subscriber


class NotifyStore(Protocol):
    def running(self) -> AbstractContextManager[None]: ...   # this run's hold on the store, for its whole life
    def detecting(self) -> AbstractContextManager[None]: ...  # one run at a time: read what was announced, queue
    def is_baselined(self) -> bool: ...
    def announced_keys(self) -> set[str]: ...
    def last_snapshot(self) -> dict[str, Any] | None: ...
    def record_baseline(self, keys: set[str], snapshot: dict[str, Any]) -> None: ...
    def queue(self, queued: list[tuple[Event, dict[str, Any], list[Subscriber]]], keys: set[str],
              snapshot: dict[str, Any]) -> int: ...
    def pending(self) -> list[Delivery]: ...
    def claim(self, limit: int) -> list[Delivery]: ...   # the next pending deliveries, this run's alone
    def waiting(self) -> int: ...                        # pending deliveries no other live run holds
    def mark_interrupted(self) -> int: ...
    def counts(self) -> dict[str, int]: ...
    def close(self) -> None: ...
    def committing(self, delivery_id: int) -> None: ...
    def sent(self, delivery_id: int) -> None: ...
    def retry_later(self, delivery_id: int, error: str) -> None: ...
    def failed(self, delivery_id: int, error: str) -> None: ...
    def uncertain(self, delivery_id: int, error: str) -> None: ...
    def deliveries_to(self, address: str) -> list[dict[str, Any]]: ...
    def erase(self, address: str, replacement: str) -> tuple[int, int]: ...


def default_store(site_dir: Path) -> Path:
    """Where a site's store is unless `--store` says otherwise: its private `.statusgen/`."""
    return site_dir / ".statusgen" / "notify.db"


def decode_event(body: str) -> tuple[Event, dict[str, Any]]:
    """An event and its rendering context, as `queue` stored them (JSON)."""
    data = json.loads(body)
    event = data["event"]
    event["components"] = tuple(event["components"])
    if event.get("previous_window"):
        event["previous_window"] = tuple(event["previous_window"])
    return Event(**event), data["context"]


def event_body(event: Event, context: dict[str, Any]) -> str:
    return json.dumps({"event": asdict(event), "context": context}, sort_keys=True)


def make_deliveries(rows: Iterable[tuple[int, str, str, str, str | None]],
                    events: Mapping[str, tuple[Event, dict[str, Any]]]) -> list[Delivery]:
    """Deliveries from (id, event key, recipient, language, components as JSON) rows;
    `events` holds every key's decoded event, so each is decoded once, not once a row."""
    found = []
    for delivery_id, key, recipient, language, components in rows:
        event, context = events[key]
        followed = json.loads(components) if components else None
        found.append(Delivery(delivery_id, event, context,
                              Subscriber(recipient, tuple(followed) if followed is not None else None, language)))
    return found


@contextmanager
def exclusive_use(path: Path) -> Iterator[int]:
    """Hold the SQLite store at `path` alone (a lock on `notify.db.lock` beside it), waiting
    while another run holds it; yields the lock's file descriptor."""
    lock = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("notify: another run is using %s; waiting for it to end", path)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield lock
    finally:
        os.close(lock)  # and with it the lock


class SqliteNotifyStore:
    """The default store: one SQLite file (WAL), safe to use from the sending threads."""

    def __init__(self, path: Path, clock: Any = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # durable across a killed process
        self._db.execute("PRAGMA foreign_keys=ON")
        path.chmod(0o600)  # it holds addresses
        self._migrate()
        self._events: dict[str, tuple[Event, dict[str, Any]]] = {}
        self._claimed_up_to = 0
        self._held: int | None = None

    def close(self) -> None:
        self._db.close()
        if self._held is not None:  # a run that never ended (tests: a killed run) lets go of the file
            fcntl.flock(self._held, fcntl.LOCK_UN)
            self._held = None

    @contextmanager
    def running(self) -> Iterator[None]:
        """The run holds the file alone until it ends: a second run waits here, then finds
        the events announced and the deliveries sent (and retries what this one deferred)."""
        with exclusive_use(self.path) as lock:
            self._held, self._claimed_up_to = lock, 0
            try:
                yield
            finally:
                self._held = None

    def detecting(self) -> AbstractContextManager[None]:
        return nullcontext()  # `running` already holds the whole file

    def _migrate(self) -> None:
        self._db.executescript(SCHEMA)
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) > SCHEMA_VERSION:
            raise RuntimeError(f"{self.path}: made by a newer statusgen (schema {row[0]})")

    def _now(self) -> str:
        return self._clock().astimezone(UTC).isoformat(timespec="seconds")

    class _Transaction:
        def __init__(self, store: SqliteNotifyStore) -> None:
            self.store = store

        def __enter__(self) -> sqlite3.Connection:
            self.store._lock.acquire()
            self.store._db.execute("BEGIN IMMEDIATE")
            return self.store._db

        def __exit__(self, kind: Any, *_: Any) -> None:
            try:
                self.store._db.execute("ROLLBACK" if kind else "COMMIT")
            finally:
                self.store._lock.release()

    def _transaction(self) -> SqliteNotifyStore._Transaction:
        return SqliteNotifyStore._Transaction(self)

    def is_baselined(self) -> bool:
        return self._db.execute("SELECT 1 FROM snapshot").fetchone() is not None

    def announced_keys(self) -> set[str]:
        return {key for (key,) in self._db.execute("SELECT key FROM announced")}

    def last_snapshot(self) -> dict[str, Any] | None:
        row = self._db.execute("SELECT body FROM snapshot").fetchone()
        return json.loads(row[0]) if row else None

    def record_baseline(self, keys: set[str], snapshot: dict[str, Any]) -> None:
        with self._transaction() as db:
            self._remember(db, keys, snapshot)

    def queue(self, queued: list[tuple[Event, dict[str, Any], list[Subscriber]]], keys: set[str],
              snapshot: dict[str, Any]) -> int:
        """Queue every (event, subscriber) and remember the snapshot, all in one transaction."""
        now, count = self._now(), 0
        with self._transaction() as db:
            for event, context, subscribers in queued:
                body = event_body(event, context)
                db.execute("INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?)", (event.key, event.kind, body, now))
                rows = [(event.key, s.email, s.language, json.dumps(s.components), now) for s in subscribers]
                before = db.total_changes
                db.executemany("INSERT OR IGNORE INTO deliveries (event_key, recipient, language, components,"
                               " updated_at) VALUES (?, ?, ?, ?, ?)", rows)
                count += db.total_changes - before
            self._remember(db, keys, snapshot)
        return count

    def _remember(self, db: sqlite3.Connection, keys: Iterable[str], snapshot: dict[str, Any]) -> None:
        now = self._now()
        db.executemany("INSERT OR IGNORE INTO announced VALUES (?, ?)", [(key, now) for key in sorted(keys)])
        db.execute("INSERT OR REPLACE INTO snapshot VALUES (1, ?, ?)", (now, json.dumps(snapshot, sort_keys=True)))

    def pending(self) -> list[Delivery]:
        with self._lock:
            rows = self._db.execute("SELECT id, event_key, recipient, language, components FROM deliveries"
                                    " WHERE state = 'pending' ORDER BY id").fetchall()
            return self._deliveries(rows)

    def claim(self, limit: int) -> list[Delivery]:
        """The next `limit` pending deliveries. The run holds the whole file, so claiming
        is a cursor: a delivery deferred in this run (back to pending) waits for the next."""
        with self._lock:
            rows = self._db.execute("SELECT id, event_key, recipient, language, components FROM deliveries"
                                    " WHERE state = 'pending' AND id > ? ORDER BY id LIMIT ?",
                                    (self._claimed_up_to, limit)).fetchall()
            if rows:
                self._claimed_up_to = rows[-1][0]
            return self._deliveries(rows)

    def _deliveries(self, rows: list[tuple[int, str, str, str, str | None]]) -> list[Delivery]:
        for key in {row[1] for row in rows} - self._events.keys():
            (body,) = self._db.execute("SELECT body FROM events WHERE key = ?", (key,)).fetchone()
            self._events[key] = decode_event(body)
        return make_deliveries(rows, self._events)

    def waiting(self) -> int:
        """Pending deliveries: what the next run sends (a run holds the file alone)."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM deliveries WHERE state = 'pending'").fetchone()[0])

    def mark_interrupted(self) -> int:
        """Deliveries a killed run left half-way: maybe delivered, so never sent again.
        Every `committing` row is such a one: no other run can be live beside this one."""
        with self._transaction() as db:
            cursor = db.execute("UPDATE deliveries SET state = 'uncertain', error = 'the run stopped while"
                                " handing the message over', updated_at = ? WHERE state = 'committing'",
                                (self._now(),))
            return cursor.rowcount

    def counts(self) -> dict[str, int]:
        return dict(self._db.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state").fetchall())

    def _set(self, delivery_id: int, state: str, error: str | None = None, attempt: bool = False) -> None:
        with self._transaction() as db:
            db.execute("UPDATE deliveries SET state = ?, error = ?, attempts = attempts + ?, updated_at = ?"
                       " WHERE id = ?", (state, error, int(attempt), self._now(), delivery_id))

    def committing(self, delivery_id: int) -> None:
        self._set(delivery_id, "committing", attempt=True)

    def sent(self, delivery_id: int) -> None:
        self._set(delivery_id, "sent")

    def retry_later(self, delivery_id: int, error: str) -> None:
        self._set(delivery_id, "pending", error, attempt=True)

    def failed(self, delivery_id: int, error: str) -> None:
        self._set(delivery_id, "failed", error)

    def uncertain(self, delivery_id: int, error: str) -> None:
        self._set(delivery_id, "uncertain", error)

    def deliveries_to(self, address: str) -> list[dict[str, Any]]:
        """Everything recorded about deliveries to one address (a data-protection request)."""
        rows = self._db.execute(
            "SELECT d.event_key, e.kind, d.state, d.attempts, d.error, d.updated_at, d.language, d.components"
            " FROM deliveries d JOIN events e ON e.key = d.event_key WHERE lower(d.recipient) = ? ORDER BY d.id",
            (address.lower(),)).fetchall()
        names = ("event", "kind", "state", "attempts", "error", "updated_at", "language", "components")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def erase(self, address: str, replacement: str) -> tuple[int, int]:
        """Put `replacement` wherever the ledger has the address; a delivery still queued
        is cancelled first, or the next run would mail the replacement. Returns (rows
        rewritten, deliveries cancelled)."""
        key = address.lower()
        pattern = re.compile(re.escape(key), re.IGNORECASE)
        with self._transaction() as db:
            cancelled = db.execute("UPDATE deliveries SET state = 'failed', error = 'the address was erased on"
                                   " request' WHERE lower(recipient) = ? AND state IN ('pending', 'committing')",
                                   (key,)).rowcount
            rows = db.execute("SELECT id, error FROM deliveries WHERE lower(recipient) = ?", (key,)).fetchall()
            for delivery_id, error in rows:
                db.execute("UPDATE deliveries SET recipient = ?, error = ? WHERE id = ?",
                           (replacement, pattern.sub(replacement, error) if error else error, delivery_id))
        return len(rows), cancelled
