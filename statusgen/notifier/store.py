"""The notifier's store: what was announced, what is queued, what was delivered.

One small interface (`NotifyStore`) with SQLite as the embedded default (here) and
PostgreSQL as the shared store of several machines (`pgstore.py`); `backends.py` says
which one a run uses.

A delivery moves `pending → committing → sent`, or to `failed` (permanent), back to
`pending` (transient: a later run retries it), or to `uncertain` (the message may have
been handed over when the run died or the connection broke: never sent again, reported).
Every change is committed at once, so a killed run loses nothing and repeats nothing, with
one exception that changes neither: in the SQLite store a `sent` is written with the next
write to the store (another message's `committing`, usually a millisecond later, in the
same statement) or before the next read. Until then the row says `committing`, which a
killed run's successor reports as `uncertain` and never sends again: the same as a run
killed between the server's 250 and the `sent` record, a window this widens by one
message's hand-over. A connection's own next `committing` writes its last `sent`, so a
killed run still leaves at most one uncertain delivery per connection. It saves one of the
two commits per message.

A run holds the store for its whole life (`running`), reads what was announced and queues
what is new under `detecting`, then takes the queue in batches (`claim`). In the SQLite
file a run holds the store alone: a second run on the same file waits for the first to end
(an exclusive lock on `notify.db.lock`), then finds nothing left to announce and sends
only what the first deferred. PostgreSQL lets several runs share one send (pgstore.py).

Webhook deliveries share the queue and the ledger: a delivery row carries the URL, format,
secret variable and contact (`webhook` not NULL), and a Statuspage webhook gets one row per
payload part (`""`, `component/ID`), so each part is sent exactly once. Runs claim email
and webhook deliveries apart (`claim(limit, channel)`), so two transports send at once.
`endpoints` keeps each webhook's health (`health.py`): `settle_webhook` records an outcome
and the endpoint's next state in one transaction; a quarantine fails the endpoint's queued
deliveries and queues the one email to its contact as a delivery like any other; a 410
marks it gone. A delivery ends `gone` when its endpoint unsubscribed (410 Gone).

Schema 2 added the webhook columns, the part and `endpoints`; a schema-1 file is upgraded
in place when it is opened (`MIGRATIONS`).
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

from statusgen.content.model import Subscriber
from statusgen.content.webhooks import detect_format, webhook_id
from statusgen.notifier.events import Event
from statusgen.notifier.health import Endpoint, after, notice, reactivated, stop_reason

log = logging.getLogger(__name__)

SCHEMA_1 = (
    "CREATE TABLE IF NOT EXISTS announced (key TEXT PRIMARY KEY, at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), taken_at TEXT NOT NULL,"
    " body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS events (key TEXT PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL,"
    " queued_at TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS deliveries (
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
    )""",
    "CREATE INDEX IF NOT EXISTS deliveries_by_state ON deliveries (state)",
)
DELIVERIES_2 = """CREATE TABLE deliveries_2 (
    id INTEGER PRIMARY KEY,
    event_key TEXT NOT NULL REFERENCES events (key),
    recipient TEXT NOT NULL,                 -- the address, or `webhook:` and the URL (Subscriber.key)
    part TEXT NOT NULL DEFAULT '',           -- a Statuspage webhook's payload part: '' or component/ID
    language TEXT NOT NULL,
    components TEXT,
    webhook TEXT,                            -- a webhook delivery's URL; NULL: an email
    format TEXT,
    secret_env TEXT,                         -- the variable holding its signing secret(s), never the secret
    contact TEXT,                            -- the webhook's contact address
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'committing', 'sent', 'failed', 'uncertain', 'gone')),
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    updated_at TEXT NOT NULL,
    UNIQUE (event_key, recipient, part)
)"""
ENDPOINTS = """CREATE TABLE endpoints (
    key TEXT PRIMARY KEY,                    -- `webhook:` and the URL
    id TEXT NOT NULL UNIQUE,                 -- ids.webhook_id(URL): what ops type
    url TEXT NOT NULL,
    format TEXT NOT NULL,
    contact TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'quarantined', 'gone')),
    failures INTEGER NOT NULL DEFAULT 0,     -- failed attempts since the last success
    failing_since TEXT,
    last_error TEXT,
    last_failure_at TEXT,
    last_success_at TEXT,
    changed_at TEXT,
    updated_at TEXT NOT NULL
)"""
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    SCHEMA_1,
    (DELIVERIES_2,
     "INSERT INTO deliveries_2 (id, event_key, recipient, language, components, state, attempts, error, updated_at)"
     " SELECT id, event_key, recipient, language, components, state, attempts, error, updated_at FROM deliveries",
     "DROP TABLE deliveries",
     "ALTER TABLE deliveries_2 RENAME TO deliveries",
     "CREATE INDEX deliveries_by_state ON deliveries (state)",
     "CREATE INDEX deliveries_by_webhook ON deliveries (recipient) WHERE webhook IS NOT NULL",
     ENDPOINTS),
)
"""The SQLite file's schema, one step per version: a file is brought to the last one when opened."""
SCHEMA_VERSION = len(MIGRATIONS)
DELIVERY_COLUMNS = "id, event_key, recipient, language, components, part, webhook, format, secret_env, contact"
ENDPOINT_COLUMNS = ("key, id, url, format, contact, language, state, failures, failing_since, last_error,"
                    " last_failure_at, last_success_at, changed_at")
CHANNELS = {"email": "webhook IS NULL", "webhook": "webhook IS NOT NULL"}
"""What a run's claim of one channel takes: each transport claims its own."""
REVIVED = ("state = CASE WHEN {table}.state = 'gone' THEN 'active' ELSE {table}.state END,"
           " changed_at = CASE WHEN {table}.state = 'gone' THEN excluded.updated_at ELSE {table}.changed_at END")
"""A gone endpoint (410) that the audience lists again was subscribed again: active."""
SENT_AT_MOST = 32
"""Sent deliveries kept for the next write at most (a run whose other connections wait)."""
SETTLED = {"sent": "sent", "retry_later": "pending", "failed": "failed", "uncertain": "uncertain", "gone": "gone"}
"""A webhook outcome → the delivery's state."""


@dataclass(frozen=True)
class Delivery:
    id: int
    event: Event
    context: dict[str, Any]
    """The snapshot as far as this event needs it: site, components, groups, its incident."""
    subscriber: Subscriber
    part: str = ""
    """A Statuspage webhook's payload part: "" (the incident), or `component/ID`."""


class NotifyStore(Protocol):
    def running(self) -> AbstractContextManager[None]: ...   # this run's hold on the store, for its whole life
    def detecting(self) -> AbstractContextManager[None]: ...  # one run at a time: read what was announced, queue
    def is_baselined(self) -> bool: ...
    def announced_keys(self) -> set[str]: ...
    def last_snapshot(self) -> dict[str, Any] | None: ...
    def record_baseline(self, keys: set[str], snapshot: dict[str, Any]) -> None: ...
    def queue(self, queued: list[tuple[Event, dict[str, Any], list[Subscriber]]], keys: set[str],
              snapshot: dict[str, Any], parts: Parts | None = None) -> int: ...
    def pending(self) -> list[Delivery]: ...
    def claim(self, limit: int, channel: str = "email") -> list[Delivery]: ...  # the next pending ones, this run's
    def waiting(self, channel: str | None = None) -> int: ...  # pending deliveries no other live run holds
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
    # webhooks: the outcome with the endpoint's health, the endpoints, reactivation
    def settle_webhook(self, delivery_id: int, outcome: str, error: str | None = None) -> Stopped | None: ...
    def endpoints(self) -> list[Endpoint]: ...
    def reactivate(self, ident: str) -> tuple[Endpoint, Endpoint] | None: ...


@dataclass(frozen=True)
class Stopped:
    """An endpoint a webhook outcome just stopped (quarantined or gone), and how many of
    its queued deliveries were ended with it (failed, or gone)."""

    endpoint: Endpoint
    cancelled: int


Parts = Mapping[tuple[str, str], tuple[str, ...]]
"""(event key, subscriber key) → that delivery's payload parts; absent: one part, ""."""


STORE_TABLES = frozenset({"meta", "announced", "snapshot", "events", "deliveries", "endpoints"})
"""Every table a notifier store file holds (SQLite's own, `sqlite_*`, aside)."""


class NotAStore(sqlite3.DatabaseError):
    """A SQLite file that holds another program's tables: never written to (the notifier
    would add its own beside them, and a `--baseline` would then look like a good run)."""


def foreign_tables(db: sqlite3.Connection) -> list[str]:
    """The tables in `db` a notifier store never has; raises NotAStore when there are any."""
    tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    others = [name for name in tables if name not in STORE_TABLES and not name.startswith("sqlite_")]
    if others:
        raise NotAStore(f"not a notifier store: it holds another program's tables ({', '.join(others[:5])}"
                        f"{', ...' if len(others) > 5 else ''})")
    return tables


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


def make_deliveries(rows: Iterable[tuple[Any, ...]],
                    events: Mapping[str, tuple[Event, dict[str, Any]]]) -> list[Delivery]:
    """Deliveries from rows of DELIVERY_COLUMNS; `events` holds every key's decoded event,
    so each is decoded once, not once a row."""
    found = []
    for delivery_id, key, recipient, language, components, part, webhook, fmt, secret_env, contact in rows:
        event, context = events[key]
        followed = json.loads(components) if components else None
        chosen = tuple(followed) if followed is not None else None
        subscriber = Subscriber(recipient, chosen, language) if webhook is None else \
            Subscriber(contact or "", chosen, language, webhook=webhook, format=fmt, secret_env=secret_env)
        found.append(Delivery(delivery_id, event, context, subscriber, part))
    return found


def delivery_rows(event: Event, subscribers: Iterable[Subscriber], parts: Parts | None,
                  now: Any) -> list[tuple[Any, ...]]:
    """The rows to queue for one event: (event key, recipient, part, language, components,
    webhook, format, secret_env, contact, now), one per subscriber and payload part."""
    rows = []
    for s in subscribers:
        components = json.dumps(s.components)
        hook = (s.webhook, s.format, s.secret_env, s.email) if s.webhook else (None, None, None, None)
        for part in (parts or {}).get((event.key, s.key), ("",)):
            rows.append((event.key, s.key if s.webhook else s.email, part, s.language, components, *hook, now))
    return rows


def endpoint_rows(subscribers: Iterable[Subscriber], now: Any) -> list[tuple[Any, ...]]:
    """(key, id, url, format, contact, language, now) for each webhook subscriber."""
    return [(s.key, webhook_id(s.webhook), s.webhook, s.format or detect_format(s.webhook), s.email, s.language, now)
            for s in subscribers if s.webhook]


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
        self._sent: list[int] = []
        """Deliveries sent but still `committing` in the file: written with the next write
        or before the next read (`_flush`)."""
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            foreign_tables(self._db)  # before the first write: another program's file stays as it is
        except BaseException:
            self._db.close()
            raise
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # durable across a killed process
        self._db.execute("PRAGMA foreign_keys=ON")
        path.chmod(0o600)  # it holds addresses
        self._migrate()
        self._events: dict[str, tuple[Event, dict[str, Any]]] = {}
        self._claimed_up_to = dict.fromkeys(CHANNELS, 0)
        self._held: int | None = None

    def close(self) -> None:
        """Write what is still to be written and let go; a store that fails now (locked by
        another program, read-only) leaves those deliveries `committing`, which the next
        run reports as uncertain: said here, never raised over the error that ended the run."""
        try:
            with self._lock:
                self._flush()
        except sqlite3.Error as error:
            log.warning("notify: %s: could not record %d messages as sent (%s); the next run reports them as "
                        "uncertain and does not send them again", self.path, len(self._sent), error)
        self._db.close()
        if self._held is not None:  # a run that never ended (tests: a killed run) lets go of the file
            fcntl.flock(self._held, fcntl.LOCK_UN)
            self._held = None

    @contextmanager
    def running(self) -> Iterator[None]:
        """The run holds the file alone until it ends: a second run waits here, then finds
        the events announced and the deliveries sent (and retries what this one deferred)."""
        with exclusive_use(self.path) as lock:
            self._held, self._claimed_up_to = lock, dict.fromkeys(CHANNELS, 0)
            try:
                yield
            except BaseException:
                self._held = None
                try:
                    with self._lock:
                        self._flush()
                except sqlite3.Error:  # the error on its way says more; `close` tries again and says so
                    pass
                raise
            with self._lock:
                self._flush()
            self._held = None

    def detecting(self) -> AbstractContextManager[None]:
        return nullcontext()  # `running` already holds the whole file

    def _migrate(self) -> None:
        """Bring the file to SCHEMA_VERSION, one migration at a time, each in its own
        transaction (a second process opening it at once finds it done)."""
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        for number in range(self._version() + 1, SCHEMA_VERSION + 1):
            with self._transaction() as db:
                if self._version() >= number:
                    continue
                for statement in MIGRATIONS[number - 1]:
                    db.execute(statement)
                db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(number),))
        if self._version() > SCHEMA_VERSION:
            raise RuntimeError(f"{self.path}: made by a newer statusgen (schema {self._version()})")

    def _version(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    def _now(self) -> str:
        return self._clock().astimezone(UTC).isoformat(timespec="seconds")

    class _Transaction:
        def __init__(self, store: SqliteNotifyStore) -> None:
            self.store = store

        def __enter__(self) -> sqlite3.Connection:
            self.store._lock.acquire()
            try:
                self.store._flush()
                self.store._db.execute("BEGIN IMMEDIATE")
            except BaseException:
                self.store._lock.release()
                raise
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
              snapshot: dict[str, Any], parts: Parts | None = None) -> int:
        """Queue every (event, subscriber, payload part) and remember the snapshot, all in
        one transaction; a webhook subscriber's endpoint is recorded for its health."""
        with self._transaction() as db:
            count = sum(self._queue(db, event, context, subscribers, parts) for event, context, subscribers in queued)
            db.executemany("INSERT INTO endpoints (key, id, url, format, contact, language, updated_at)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET format = excluded.format,"
                           " contact = excluded.contact, language = excluded.language, updated_at = excluded.updated_at,"
                           f" {REVIVED.format(table='endpoints')}",
                           endpoint_rows({s.key: s for _, _, chosen in queued for s in chosen}.values(), self._now()))
            self._remember(db, keys, snapshot)
        return count

    def _queue(self, db: sqlite3.Connection, event: Event, context: dict[str, Any], subscribers: Iterable[Subscriber],
               parts: Parts | None = None) -> int:
        now = self._now()
        db.execute("INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?)",
                   (event.key, event.kind, event_body(event, context), now))
        before = db.total_changes
        db.executemany("INSERT OR IGNORE INTO deliveries (event_key, recipient, part, language, components, webhook,"
                       " format, secret_env, contact, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       delivery_rows(event, subscribers, parts, now))
        return db.total_changes - before

    def _remember(self, db: sqlite3.Connection, keys: Iterable[str], snapshot: dict[str, Any]) -> None:
        now = self._now()
        db.executemany("INSERT OR IGNORE INTO announced VALUES (?, ?)", [(key, now) for key in sorted(keys)])
        db.execute("INSERT OR REPLACE INTO snapshot VALUES (1, ?, ?)", (now, json.dumps(snapshot, sort_keys=True)))

    def pending(self) -> list[Delivery]:
        with self._lock:
            self._flush()
            rows = self._db.execute(f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE state = 'pending'"
                                    " ORDER BY id").fetchall()
            return self._deliveries(rows)

    def claim(self, limit: int, channel: str = "email") -> list[Delivery]:
        """The next `limit` pending deliveries of the channel (`email` or `webhook`). The
        run holds the whole file, so claiming is a cursor per channel: a delivery deferred
        in this run (back to pending) waits for the next."""
        with self._lock:
            self._flush()
            rows = self._db.execute(f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE state = 'pending' AND"
                                    f" {CHANNELS[channel]} AND id > ? ORDER BY id LIMIT ?",
                                    (self._claimed_up_to[channel], limit)).fetchall()
            if rows:
                self._claimed_up_to[channel] = rows[-1][0]
            return self._deliveries(rows)

    def _deliveries(self, rows: list[tuple[Any, ...]]) -> list[Delivery]:
        for key in {row[1] for row in rows} - self._events.keys():
            (body,) = self._db.execute("SELECT body FROM events WHERE key = ?", (key,)).fetchone()
            self._events[key] = decode_event(body)
        return make_deliveries(rows, self._events)

    def waiting(self, channel: str | None = None) -> int:
        """Pending deliveries (of one channel): what the next run sends (a run holds the file alone)."""
        only = f" AND {CHANNELS[channel]}" if channel else ""
        with self._lock:
            self._flush()
            row = self._db.execute(f"SELECT COUNT(*) FROM deliveries WHERE state = 'pending'{only}").fetchone()
            return int(row[0])

    def mark_interrupted(self) -> int:
        """Deliveries a killed run left half-way: maybe delivered, so never sent again.
        Every `committing` row is such a one: no other run can be live beside this one."""
        with self._transaction() as db:
            cursor = db.execute("UPDATE deliveries SET state = 'uncertain', error = 'the run stopped while"
                                " handing the message over', updated_at = ? WHERE state = 'committing'",
                                (self._now(),))
            return cursor.rowcount

    def counts(self) -> dict[str, int]:
        with self._lock:
            self._flush()
        return dict(self._db.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state").fetchall())

    def _set(self, delivery_id: int, state: str, error: str | None = None, attempt: bool = False) -> None:
        """One statement, committed when it returns: outside an explicit transaction SQLite
        runs it in one of its own (autocommit), as durable as BEGIN … COMMIT around it and a
        third of the calls. The deliveries sent since the last write become `sent` in the
        same statement (atomic: all of it or none)."""
        with self._lock:
            sent, self._sent = self._sent, []
            try:
                self._db.execute(
                    "UPDATE deliveries SET state = CASE WHEN id = ? THEN ? ELSE 'sent' END,"
                    " error = CASE WHEN id = ? THEN ? END, attempts = attempts + (id = ? AND ?), updated_at = ?"
                    f" WHERE id IN ({', '.join('?' * (1 + len(sent)))})",
                    (delivery_id, state, delivery_id, error, delivery_id, int(attempt), self._now(), delivery_id,
                     *sent))
            except BaseException:
                self._sent = sent + self._sent
                raise

    def _flush(self) -> None:
        """Write the deliveries sent since the last write (the caller holds the lock)."""
        if self._sent:
            sent = self._sent
            self._db.execute(f"UPDATE deliveries SET state = 'sent', error = NULL, updated_at = ?"
                             f" WHERE id IN ({', '.join('?' * len(sent))})", (self._now(), *sent))
            self._sent = []

    def committing(self, delivery_id: int) -> None:
        self._set(delivery_id, "committing", attempt=True)

    def sent(self, delivery_id: int) -> None:
        """Written with the next write or before the next read (see the module's docstring):
        until then the row says `committing`, never `pending`."""
        with self._lock:
            self._sent.append(delivery_id)
            if len(self._sent) >= SENT_AT_MOST:
                self._flush()

    def retry_later(self, delivery_id: int, error: str) -> None:
        self._set(delivery_id, "pending", error, attempt=True)

    def failed(self, delivery_id: int, error: str) -> None:
        self._set(delivery_id, "failed", error)

    def uncertain(self, delivery_id: int, error: str) -> None:
        self._set(delivery_id, "uncertain", error)

    # ── webhooks: outcomes and the endpoints' health ───────────────────────────────

    def settle_webhook(self, delivery_id: int, outcome: str, error: str | None = None) -> Stopped | None:
        """Record a webhook delivery's outcome (`SETTLED`) and its endpoint's health in one
        transaction; returns the endpoint when this outcome stopped it (quarantined: its
        queued deliveries fail, this one too, and the notice to its contact is queued; gone:
        its queued deliveries end `gone`)."""
        with self._transaction() as db:
            db.execute("UPDATE deliveries SET state = ?, error = ?, attempts = attempts + ?, updated_at = ?"
                       " WHERE id = ?", (SETTLED[outcome], error, int(outcome == "retry_later"), self._now(),
                                         delivery_id))
            row = db.execute(f"SELECT {_prefixed('e.', ENDPOINT_COLUMNS)} FROM endpoints e JOIN deliveries d"
                             " ON d.recipient = e.key WHERE d.id = ?", (delivery_id,)).fetchone()
            if row is None:
                return None
            before = endpoint_from_row(row)
            now = self._clock().astimezone(UTC)
            changed = after(before, outcome, error, now)
            db.execute("UPDATE endpoints SET state = ?, failures = ?, failing_since = ?, last_error = ?,"
                       " last_failure_at = ?, last_success_at = ?, changed_at = ?, updated_at = ? WHERE key = ?",
                       (*_health_values(changed, _iso), _iso(now), changed.key))
            if changed.state == before.state:
                return None
            cut = db.execute("UPDATE deliveries SET state = ?, error = ?, updated_at = ? WHERE recipient = ?"
                       " AND state = 'pending'", ("gone" if changed.state == "gone" else "failed",
                                                  stop_reason(changed), _iso(now), changed.key))
            if changed.state == "quarantined" and changed.contact:
                event, context = notice(changed)
                self._queue(db, event, context, [Subscriber(changed.contact, None, changed.language)])
            return Stopped(changed, cut.rowcount)

    def endpoints(self) -> list[Endpoint]:
        with self._lock:
            rows = self._db.execute(f"SELECT {ENDPOINT_COLUMNS} FROM endpoints ORDER BY id").fetchall()
        return [endpoint_from_row(row) for row in rows]

    def reactivate(self, ident: str) -> tuple[Endpoint, Endpoint] | None:
        """Bring a quarantined endpoint back (failures forgotten); (before, after), or None
        when no endpoint has the id. A gone or active one is returned unchanged."""
        with self._transaction() as db:
            row = db.execute(f"SELECT {ENDPOINT_COLUMNS} FROM endpoints WHERE id = ?", (ident,)).fetchone()
            if row is None:
                return None
            before = endpoint_from_row(row)
            if before.state != "quarantined":
                return before, before
            back = reactivated(before, self._clock().astimezone(UTC))
            db.execute("UPDATE endpoints SET state = ?, failures = ?, failing_since = ?, changed_at = ?,"
                       " updated_at = ? WHERE key = ?", (back.state, back.failures, None, _iso(back.changed_at),
                                                         _iso(back.changed_at), back.key))
            return before, back

    # ── one address (data-protection requests) ───────────────────────────────────────

    def deliveries_to(self, address: str) -> list[dict[str, Any]]:
        """Everything recorded about deliveries to one address (a data-protection request)."""
        with self._lock:
            self._flush()
        rows = self._db.execute(
            "SELECT d.event_key, e.kind, d.state, d.attempts, d.error, d.updated_at, d.language, d.components"
            " FROM deliveries d JOIN events e ON e.key = d.event_key WHERE lower(d.recipient) = ? ORDER BY d.id",
            (address.lower(),)).fetchall()
        names = ("event", "kind", "state", "attempts", "error", "updated_at", "language", "components")
        return [dict(zip(names, row, strict=True)) for row in rows]

    def erase(self, address: str, replacement: str) -> tuple[int, int]:
        """Put `replacement` wherever the ledger has the address (as a recipient or as a
        webhook's contact); a delivery still queued to it is cancelled first, or the next
        run would mail the replacement. Returns (rows rewritten, deliveries cancelled)."""
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
            db.execute("UPDATE deliveries SET contact = ? WHERE lower(contact) = ?", (replacement, key))
            db.execute("UPDATE endpoints SET contact = '' WHERE lower(contact) = ?", (key,))
        return len(rows), cancelled


def endpoint_from_row(row: tuple[Any, ...]) -> Endpoint:
    """An Endpoint from a row of ENDPOINT_COLUMNS (times as ISO text, or as datetimes)."""
    key, ident, url, fmt, contact, language, state, failures, since, error, failed_at, success_at, changed = row
    return Endpoint(key, ident, url, fmt, contact, language, state, failures, _time(since), error, _time(failed_at),
                    _time(success_at), _time(changed))


def _health_values(endpoint: Endpoint, time: Any) -> tuple[Any, ...]:
    """state, failures, failing_since, last_error, last_failure_at, last_success_at, changed_at."""
    return (endpoint.state, endpoint.failures, time(endpoint.failing_since), endpoint.last_error,
            time(endpoint.last_failure_at), time(endpoint.last_success_at), time(endpoint.changed_at))


def _time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")


def _prefixed(prefix: str, columns: str) -> str:
    return ", ".join(prefix + name.strip() for name in columns.split(","))
