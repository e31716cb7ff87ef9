"""The notifier store in PostgreSQL: one database shared by every notify run (CI runners
that keep no disk, a rerun while a slow run is still sending), with the SQLite store's
ledger (`store.py`): pending → committing → sent | failed | uncertain.

Several runs at once, every message exactly once:

    start      INSERT INTO notify_runs → id, and in the same transaction pg_advisory_lock(NOTIFY_LOCKS, id)
               on the run's own connection, held until the run ends: a run whose lock is free is dead
    detect     pg_advisory_lock(NOTIFY_LOCKS, 0) while reading what was announced, diffing and queueing:
               one run at a time; the next one sees the facts announced and queues nothing. Events,
               deliveries and facts are unique by key besides (INSERT … ON CONFLICT DO NOTHING)
    recover    each run whose lock can be taken died: its claimed, still pending deliveries are unclaimed
               (nothing was handed over), its committing ones become uncertain (maybe handed over)
    claim      UPDATE … SET claimed_by = run WHERE id = ANY(SELECT … pending AND unclaimed … FOR UPDATE
               SKIP LOCKED LIMIT n): runs never take the same delivery; each takes batches until none
               are left, so two runs share one large send
    committing UPDATE … WHERE id = d AND claimed_by = run, at the last moment before the message can be
               delivered: 0 rows means another run took it back, and this run stops without sending
    end        this run's deferred deliveries are unclaimed for the next run; the lock is released

Why no message goes out twice: a message is handed over only after its row became
`committing` while claimed by the sending run (the row lock orders the two runs'
updates). A row goes back to pending only by its own run saying nothing was delivered
(`retry_later`); a dead run's `committing` rows become `uncertain`, never pending; and a
dead run's claim is released only when its advisory lock is free, i.e. its session has
ended. Should a live run lose that session (the connection dropped) while its sending
threads go on, the check at `committing` still stops it: a delivery another run took back
is never handed over by both. Why nothing is lost: every change is committed before the
call returns, and whatever a run leaves claimed or pending goes back to the queue.

Webhook deliveries (`webhook` not NULL) are claimed apart from emails (`claim(limit,
channel)`), so both transports send at once; `settle_webhook` records an outcome and the
endpoint's health (`notify_endpoints`, see health.py) in one transaction on the calling
thread's connection, the endpoint's row locked, so two runs count one endpoint's failures
without losing one, and one quarantine queues one notice.

Every ledger call runs on the calling thread's own connection (autocommit: committed at
once); reading, queueing and claiming run on the run's connection, the one holding its
lock. A psycopg failure becomes a one-line `DatabaseError` naming the URL without its
password. `MIGRATIONS` is the schema (`statusgen db upgrade` applies it); `copy_sqlite`
moves an existing SQLite store here and `is_empty` tells whether there is anything to
overwrite (`statusgen db copy`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from statusgen.content.model import Subscriber
from statusgen.database import DatabaseError, Migration, connect, reason, redacted, require_current
from statusgen.errors import UsageError
from statusgen.notifier.events import Event
from statusgen.notifier.health import Endpoint, after, notice, reactivated, stop_reason
from statusgen.notifier.store import (
    CHANNELS,
    DELIVERY_COLUMNS,
    ENDPOINT_COLUMNS,
    REVIVED,
    SCHEMA_VERSION,
    SETTLED,
    Delivery,
    Parts,
    SqliteNotifyStore,
    Stopped,
    decode_event,
    delivery_rows,
    endpoint_from_row,
    endpoint_rows,
    event_body,
    exclusive_use,
    make_deliveries,
)

log = logging.getLogger(__name__)

STORE = "notifier"
NOTIFY_LOCKS = 0x5747_0002
"""The class of the notifier's advisory locks: (NOTIFY_LOCKS, 0) serialises detection,
(NOTIFY_LOCKS, run id) is held by each live run."""
DETECTING = 0
INTERRUPTED = "the run stopped while handing the message over"

SCHEMA_1 = """
CREATE TABLE notify_announced (key TEXT PRIMARY KEY, at TIMESTAMPTZ NOT NULL);
CREATE TABLE notify_snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), taken_at TIMESTAMPTZ NOT NULL,
                              body TEXT NOT NULL);
CREATE TABLE notify_events (key TEXT PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL,
                            queued_at TIMESTAMPTZ NOT NULL);
CREATE TABLE notify_runs (
    id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ,
    outcome TEXT CHECK (outcome IN ('finished', 'stopped', 'died'))
);
CREATE TABLE notify_deliveries (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    event_key TEXT NOT NULL REFERENCES notify_events (key),
    recipient TEXT NOT NULL,
    language TEXT NOT NULL,
    components TEXT,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'committing', 'sent', 'failed', 'uncertain')),
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    updated_at TIMESTAMPTZ NOT NULL,
    claimed_by INTEGER REFERENCES notify_runs (id),
    UNIQUE (event_key, recipient)
);
CREATE INDEX notify_deliveries_unclaimed ON notify_deliveries (id) WHERE state = 'pending' AND claimed_by IS NULL;
CREATE INDEX notify_deliveries_open ON notify_deliveries (claimed_by) WHERE state IN ('pending', 'committing');
CREATE INDEX notify_deliveries_by_recipient ON notify_deliveries (lower(recipient));
"""
SCHEMA_2 = """
ALTER TABLE notify_deliveries
    ADD COLUMN part TEXT NOT NULL DEFAULT '',
    ADD COLUMN webhook TEXT,
    ADD COLUMN format TEXT,
    ADD COLUMN secret_env TEXT,
    ADD COLUMN contact TEXT,
    DROP CONSTRAINT notify_deliveries_event_key_recipient_key,
    ADD CONSTRAINT notify_deliveries_event_key_recipient_part_key UNIQUE (event_key, recipient, part),
    DROP CONSTRAINT notify_deliveries_state_check,
    ADD CONSTRAINT notify_deliveries_state_check
        CHECK (state IN ('pending', 'committing', 'sent', 'failed', 'uncertain', 'gone'));
CREATE INDEX notify_deliveries_by_webhook ON notify_deliveries (recipient) WHERE webhook IS NOT NULL;
CREATE TABLE notify_endpoints (
    key TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    format TEXT NOT NULL,
    contact TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'quarantined', 'gone')),
    failures INTEGER NOT NULL DEFAULT 0,
    failing_since TIMESTAMPTZ,
    last_error TEXT,
    last_failure_at TIMESTAMPTZ,
    last_success_at TIMESTAMPTZ,
    changed_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL
);
"""
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "notifier store: announced facts, events, deliveries, runs", SCHEMA_1),
    Migration(2, "notifier store: webhook deliveries (URL, format, secret variable, contact, payload part), "
                 "endpoints' health", SCHEMA_2),
)
TABLES = ("notify_announced", "notify_snapshot", "notify_events", "notify_deliveries", "notify_runs",
          "notify_endpoints")

CLAIM = """
WITH claimed AS (
    UPDATE notify_deliveries SET claimed_by = %(run)s
    WHERE id = ANY(ARRAY(SELECT id FROM notify_deliveries WHERE state = 'pending' AND claimed_by IS NULL AND {channel}
                         ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED))
    RETURNING {columns})
SELECT * FROM claimed ORDER BY id
"""
ROW = DELIVERY_COLUMNS
QUEUE = ("INSERT INTO notify_deliveries (event_key, recipient, part, language, components, webhook, format,"
         " secret_env, contact, updated_at) SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[],"
         " %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::timestamptz[])"
         " ON CONFLICT (event_key, recipient, part) DO NOTHING")
ENDPOINTS = ("INSERT INTO notify_endpoints (key, id, url, format, contact, language, updated_at)"
             " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],"
             " %s::timestamptz[]) ON CONFLICT (key) DO UPDATE SET format = excluded.format,"
             " contact = excluded.contact, language = excluded.language, updated_at = excluded.updated_at, "
             + REVIVED.format(table="notify_endpoints"))


LOCK_TIMEOUT = "20s"
"""How long a statement waits for rows or a table another program holds locked (a hand-made
LOCK TABLE, VACUUM FULL, a migration) before the run stops and says so: without a bound it
waited for ever, and a CI job with it. Waiting for another notify run to finish detecting is
not bounded (`detecting`): that wait is part of the design and ends when that run's does."""


def _bounded(db: psycopg.Connection[Any]) -> psycopg.Connection[Any]:
    db.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    return db


class PostgresNotifyStore:
    """The notifier store in a PostgreSQL database whose schema is current (`statusgen db
    upgrade`); thread-safe, for several runs at once (see the module docstring)."""

    def __init__(self, url: str, clock: Callable[[], datetime] | None = None) -> None:
        self.url = url
        self._clock = clock or (lambda: datetime.now(UTC))
        self._db = connect(url, autocommit=True)
        try:
            require_current(self._db, STORE, MIGRATIONS, url)
            with self._failures():
                _bounded(self._db)
        except BaseException:
            self._db.close()
            raise
        self._session_lock = threading.RLock()
        self._local = threading.local()
        self._connections: list[psycopg.Connection[Any]] = []
        self._events: dict[str, tuple[Event, dict[str, Any]]] = {}
        self._run: int | None = None
        self._claimed = False

    def __str__(self) -> str:
        return redacted(self.url)

    def close(self) -> None:
        for db in [*self._connections, self._db]:
            db.close()
        self._connections.clear()

    # ── connections ────────────────────────────────────────────────────────────────

    @contextmanager
    def _failures(self) -> Iterator[None]:
        try:
            yield
        except psycopg.errors.LockNotAvailable:
            raise DatabaseError(f"the database {redacted(self.url)} failed: another program held the notifier's "
                                f"tables locked for longer than {LOCK_TIMEOUT}; run notify again when it lets go: it "
                                "sends what is left, nothing twice") from None
        except psycopg.Error as error:
            raise DatabaseError(f"the database {redacted(self.url)} failed: {reason(error)}; run notify again when "
                                "it answers: it sends what is left, nothing twice") from None

    @contextmanager
    def _session(self) -> Iterator[psycopg.Connection[Any]]:
        """The run's own connection (the one holding its lock), one thread at a time."""
        with self._session_lock, self._failures():
            yield self._db

    def _own(self) -> psycopg.Connection[Any]:
        """The calling thread's connection for ledger changes (each commits at once)."""
        db: psycopg.Connection[Any] | None = getattr(self._local, "db", None)
        if db is None or db.closed:
            db = connect(self.url, autocommit=True)
            with self._session_lock:
                self._connections.append(db)
            with self._failures():
                _bounded(db)
            self._local.db = db
        return db

    # ── a run: its lock, detection, recovering dead runs ─────────────────────────────

    @contextmanager
    def running(self) -> Iterator[None]:
        """Register this run and hold its advisory lock until it ends: other runs see it
        alive and leave what it claimed alone."""
        with self._session() as db, db.transaction():
            (run,) = db.execute("INSERT INTO notify_runs (host, pid, started_at) VALUES (%s, %s, %s) RETURNING id",
                                (socket.gethostname(), os.getpid(), self._clock())).fetchone()  # type: ignore[misc]
            db.execute("SELECT pg_advisory_lock(%s::integer, %s::integer)", (NOTIFY_LOCKS, run))
        self._run, self._claimed = run, False
        try:
            yield
        except BaseException:
            self._end("stopped", quietly=True)  # the error on its way says more than a failed clean-up
            raise
        self._end("finished", quietly=False)

    def _end(self, outcome: str, quietly: bool) -> None:
        run, self._run = self._run, None
        try:
            with self._session() as db:
                with db.transaction():
                    db.execute("UPDATE notify_deliveries SET claimed_by = NULL WHERE claimed_by = %s"
                               " AND state = 'pending'", (run,))
                    if self._claimed:  # the deliveries it sent name it
                        db.execute("UPDATE notify_runs SET ended_at = %s, outcome = %s WHERE id = %s",
                                   (self._clock(), outcome, run))
                    else:  # a run with nothing to send leaves no trace (cron runs every few minutes)
                        db.execute("DELETE FROM notify_runs WHERE id = %s", (run,))
                db.execute("SELECT pg_advisory_unlock(%s::integer, %s::integer)", (NOTIFY_LOCKS, run))
        except DatabaseError:
            if not quietly:
                raise
            log.debug("notify: run %s could not end cleanly; the next run takes back what it held", run)

    @contextmanager
    def detecting(self) -> Iterator[None]:
        """One run at a time reads what was announced and queues what is new."""
        with self._session() as db:
            db.execute("SET lock_timeout = 0")  # another run's detection: wait for it, however long it takes
            db.execute("SELECT pg_advisory_lock(%s::integer, %s::integer)", (NOTIFY_LOCKS, DETECTING))
            _bounded(db)
        try:
            yield
        finally:
            with self._session_lock, suppress(psycopg.Error):  # a lost session has released it anyway
                self._db.execute("SELECT pg_advisory_unlock(%s::integer, %s::integer)", (NOTIFY_LOCKS, DETECTING))

    def mark_interrupted(self) -> int:
        """Take back what dead runs held: claimed deliveries still pending go back to the
        queue, committing ones become uncertain (never sent again). Live runs, whose lock
        is held, are left alone. Returns how many became uncertain."""
        now = self._clock()
        with self._session() as db, db.transaction():
            dead = [run for (run,) in db.execute(
                "SELECT id FROM notify_runs WHERE ended_at IS NULL AND id <> %s"
                " AND pg_try_advisory_xact_lock(%s::integer, id)", (self._run or 0, NOTIFY_LOCKS))]
            uncertain = db.execute("UPDATE notify_deliveries SET state = 'uncertain', error = %s, updated_at = %s"
                                   " WHERE state = 'committing' AND (claimed_by IS NULL OR claimed_by = ANY(%s))",
                                   (INTERRUPTED, now, dead)).rowcount
            db.execute("UPDATE notify_deliveries SET claimed_by = NULL WHERE state = 'pending'"
                       " AND claimed_by = ANY(%s)", (dead,))
            db.execute("UPDATE notify_runs SET ended_at = %s, outcome = 'died' WHERE id = ANY(%s)", (now, dead))
        if dead:
            log.info("notify: took back what %d dead run(s) held", len(dead))
        return uncertain

    # ── what was announced, and queueing ───────────────────────────────────────────

    def is_baselined(self) -> bool:
        with self._session() as db:
            return db.execute("SELECT 1 FROM notify_snapshot").fetchone() is not None

    def announced_keys(self) -> set[str]:
        with self._session() as db:
            return {key for (key,) in db.execute("SELECT key FROM notify_announced")}

    def last_snapshot(self) -> dict[str, Any] | None:
        with self._session() as db:
            row = db.execute("SELECT body FROM notify_snapshot").fetchone()
        return json.loads(row[0]) if row else None

    def record_baseline(self, keys: set[str], snapshot: dict[str, Any]) -> None:
        with self._session() as db, db.transaction():
            self._remember(db, keys, snapshot)

    def queue(self, queued: list[tuple[Event, dict[str, Any], list[Subscriber]]], keys: set[str],
              snapshot: dict[str, Any], parts: Parts | None = None) -> int:
        """Queue every (event, subscriber, payload part) and remember the snapshot, in one
        transaction; what is queued already stays as it is."""
        with self._session() as db, db.transaction():
            count = sum(self._queue(db, event, context, subscribers, parts) for event, context, subscribers in queued)
            hooks = endpoint_rows({s.key: s for _, _, chosen in queued for s in chosen}.values(), self._clock())
            if hooks:
                db.execute(ENDPOINTS, [list(column) for column in zip(*hooks, strict=True)])
            self._remember(db, keys, snapshot)
        return count

    def _queue(self, db: psycopg.Connection[Any], event: Event, context: dict[str, Any],
               subscribers: Iterable[Subscriber], parts: Parts | None = None) -> int:
        now = self._clock()
        db.execute("INSERT INTO notify_events VALUES (%s, %s, %s, %s) ON CONFLICT (key) DO NOTHING",
                   (event.key, event.kind, event_body(event, context), now))
        rows = delivery_rows(event, subscribers, parts, now)
        if not rows:
            return 0
        return db.execute(QUEUE, [list(column) for column in zip(*rows, strict=True)]).rowcount

    def _remember(self, db: psycopg.Connection[Any], keys: Iterable[str], snapshot: dict[str, Any]) -> None:
        now = self._clock()
        db.execute("INSERT INTO notify_announced SELECT k, %s FROM unnest(%s::text[]) AS k ON CONFLICT DO NOTHING",
                   (now, sorted(keys)))
        db.execute("INSERT INTO notify_snapshot VALUES (1, %s, %s) ON CONFLICT (id) DO UPDATE"
                   " SET taken_at = excluded.taken_at, body = excluded.body", (now, json.dumps(snapshot, sort_keys=True)))

    # ── taking deliveries ──────────────────────────────────────────────────────────

    def pending(self) -> list[Delivery]:
        """Every pending delivery, claimed or not (what a dry run reports)."""
        with self._session() as db:
            return self._deliveries(db, db.execute(f"SELECT {ROW} FROM notify_deliveries WHERE state = 'pending'"
                                                   " ORDER BY id").fetchall())

    def claim(self, limit: int, channel: str = "email") -> list[Delivery]:
        """The next `limit` pending deliveries of the channel (`email` or `webhook`) nobody
        holds, now held by this run."""
        if self._run is None:
            raise RuntimeError("claim() is for a run: call it inside running()")
        with self._session() as db:
            query = CLAIM.format(channel=CHANNELS[channel], columns=ROW)
            rows = db.execute(query, {"run": self._run, "limit": limit}).fetchall()  # type: ignore[arg-type]
            self._claimed = self._claimed or bool(rows)
            return self._deliveries(db, rows)

    def _deliveries(self, db: psycopg.Connection[Any], rows: list[Any]) -> list[Delivery]:
        missing = list({row[1] for row in rows} - self._events.keys())
        if missing:
            for key, body in db.execute("SELECT key, body FROM notify_events WHERE key = ANY(%s)", (missing,)):
                self._events[key] = decode_event(body)
        return make_deliveries(rows, self._events)

    def waiting(self, channel: str | None = None) -> int:
        """Pending deliveries (of one channel) nobody else holds: what is left for the next run."""
        only = f" AND {CHANNELS[channel]}" if channel else ""
        with self._session() as db:
            row = db.execute("SELECT COUNT(*) FROM notify_deliveries WHERE state = 'pending'"  # type: ignore[arg-type]
                             f" AND (claimed_by IS NULL OR claimed_by = %s){only}", (self._run or 0,)).fetchone()
        return int(row[0]) if row else 0

    def counts(self) -> dict[str, int]:
        with self._session() as db:
            return dict(db.execute("SELECT state, COUNT(*) FROM notify_deliveries GROUP BY state").fetchall())

    # ── the ledger (called from the sending threads) ─────────────────────────────────

    def _set(self, delivery_id: int, state: str, error: str | None = None, attempt: bool = False) -> int:
        """Change a delivery this run holds; returns 0 when it holds it no longer."""
        with self._failures():
            return self._own().execute(
                "UPDATE notify_deliveries SET state = %s, error = %s, attempts = attempts + %s, updated_at = %s"
                " WHERE id = %s AND claimed_by IS NOT DISTINCT FROM %s",
                (state, error, int(attempt), self._clock(), delivery_id, self._run)).rowcount

    def committing(self, delivery_id: int) -> None:
        if not self._set(delivery_id, "committing", attempt=True):
            raise DatabaseError(f"delivery {delivery_id} is no longer this run's to send: another notify run took "
                                f"it over, so this run lost its hold on the database {redacted(self.url)}; "
                                "it stops without sending it")

    def sent(self, delivery_id: int) -> None:
        self._set(delivery_id, "sent")

    def retry_later(self, delivery_id: int, error: str) -> None:
        self._set(delivery_id, "pending", error, attempt=True)

    def failed(self, delivery_id: int, error: str) -> None:
        self._set(delivery_id, "failed", error)

    def uncertain(self, delivery_id: int, error: str) -> None:
        self._set(delivery_id, "uncertain", error)

    # ── webhooks: outcomes and the endpoints' health ───────────────────────────────

    def settle_webhook(self, delivery_id: int, outcome: str, error: str | None = None) -> Stopped | None:
        """Record a webhook delivery's outcome and its endpoint's health in one transaction
        (the endpoint's row locked); returns the endpoint when this outcome stopped it (see
        `SqliteNotifyStore.settle_webhook`)."""
        with self._failures():
            db = self._own()
            with db.transaction():
                now = self._clock()
                db.execute("UPDATE notify_deliveries SET state = %s, error = %s, attempts = attempts + %s,"
                           " updated_at = %s WHERE id = %s AND claimed_by IS NOT DISTINCT FROM %s",
                           (SETTLED[outcome], error, int(outcome == "retry_later"), now, delivery_id, self._run))
                row = db.execute(f"SELECT {ENDPOINT_COLUMNS} FROM notify_endpoints WHERE key ="
                                 " (SELECT recipient FROM notify_deliveries WHERE id = %s) FOR UPDATE",
                                 (delivery_id,)).fetchone()
                if row is None:
                    return None
                before = endpoint_from_row(row)
                changed = after(before, outcome, error, now)
                db.execute("UPDATE notify_endpoints SET state = %s, failures = %s, failing_since = %s, last_error = %s,"
                           " last_failure_at = %s, last_success_at = %s, changed_at = %s, updated_at = %s"
                           " WHERE key = %s", (*_health(changed), now, changed.key))
                if changed.state == before.state:
                    return None
                cut = db.execute("UPDATE notify_deliveries SET state = %s, error = %s, updated_at = %s"
                                 " WHERE recipient = %s AND state = 'pending'",
                                 ("gone" if changed.state == "gone" else "failed", stop_reason(changed), now,
                                  changed.key))
                if changed.state == "quarantined" and changed.contact:
                    event, context = notice(changed)
                    self._queue(db, event, context, [Subscriber(changed.contact, None, changed.language)])
                return Stopped(changed, cut.rowcount)

    def endpoints(self) -> list[Endpoint]:
        with self._session() as db:
            rows = db.execute(f"SELECT {ENDPOINT_COLUMNS} FROM notify_endpoints ORDER BY id").fetchall()
        return [endpoint_from_row(row) for row in rows]

    def reactivate(self, ident: str) -> tuple[Endpoint, Endpoint] | None:
        """Bring a quarantined endpoint back; (before, after), or None for an unknown id."""
        with self._session() as db, db.transaction():
            row = db.execute(f"SELECT {ENDPOINT_COLUMNS} FROM notify_endpoints WHERE id = %s FOR UPDATE",
                             (ident,)).fetchone()
            if row is None:
                return None
            before = endpoint_from_row(row)
            if before.state != "quarantined":
                return before, before
            back = reactivated(before, self._clock())
            db.execute("UPDATE notify_endpoints SET state = %s, failures = 0, failing_since = NULL, changed_at = %s,"
                       " updated_at = %s WHERE key = %s", (back.state, back.changed_at, back.changed_at, back.key))
            return before, back

    # ── one address (data-protection requests) ───────────────────────────────────────

    def deliveries_to(self, address: str) -> list[dict[str, Any]]:
        """Everything recorded about deliveries to one address, as the SQLite store gives it."""
        with self._session() as db:
            rows = db.execute(
                "SELECT d.event_key, e.kind, d.state, d.attempts, d.error, d.updated_at, d.language, d.components"
                " FROM notify_deliveries d JOIN notify_events e ON e.key = d.event_key"
                " WHERE lower(d.recipient) = %s ORDER BY d.id", (address.lower(),)).fetchall()
        names = ("event", "kind", "state", "attempts", "error", "updated_at", "language", "components")
        return [{**dict(zip(names, row, strict=True)),
                 "updated_at": row[5].astimezone(UTC).isoformat(timespec="seconds")} for row in rows]

    def erase(self, address: str, replacement: str) -> tuple[int, int]:
        """Put `replacement` wherever the ledger has the address; queued deliveries to it
        are cancelled first. Returns (rows rewritten, deliveries cancelled)."""
        key = address.lower()
        with self._session() as db, db.transaction():
            cancelled = db.execute("UPDATE notify_deliveries SET state = 'failed', error = 'the address was erased"
                                   " on request' WHERE lower(recipient) = %s AND state IN ('pending', 'committing')",
                                   (key,)).rowcount
            rows = db.execute("SELECT id, error FROM notify_deliveries WHERE lower(recipient) = %s", (key,)).fetchall()
            with db.cursor() as cursor:
                cursor.executemany("UPDATE notify_deliveries SET recipient = %s, error = %s WHERE id = %s",
                                   [(replacement, _replaced(error, key, replacement), delivery_id)
                                    for delivery_id, error in rows])
            db.execute("UPDATE notify_deliveries SET contact = %s WHERE lower(contact) = %s", (replacement, key))
            db.execute("UPDATE notify_endpoints SET contact = '' WHERE lower(contact) = %s", (key,))
        return len(rows), cancelled


def _health(endpoint: Endpoint) -> tuple[Any, ...]:
    """state, failures, failing_since, last_error, last_failure_at, last_success_at, changed_at."""
    return (endpoint.state, endpoint.failures, endpoint.failing_since, endpoint.last_error, endpoint.last_failure_at,
            endpoint.last_success_at, endpoint.changed_at)


def _replaced(error: str | None, key: str, replacement: str) -> str | None:
    return re.sub(re.escape(key), replacement, error, flags=re.IGNORECASE) if error else error


# ── moving a deployment: `statusgen db copy` ──────────────────────────────────────────

def is_empty(db: psycopg.Connection[Any]) -> bool:
    """Whether the notifier's tables hold no row at all (the schema must be current)."""
    return not any(db.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]  # type: ignore[index]
                   for table in TABLES)


COPIED = {
    "notify_announced": ("SELECT key, at FROM announced ORDER BY key", "key, at"),
    "notify_snapshot": ("SELECT id, taken_at, body FROM snapshot", "id, taken_at, body"),
    "notify_events": ("SELECT key, kind, body, queued_at FROM events ORDER BY key", "key, kind, body, queued_at"),
    "notify_deliveries": ("SELECT id, event_key, recipient, part, language, components, webhook, format, secret_env,"
                          " contact, state, attempts, error, updated_at FROM deliveries ORDER BY id",
                          "id, event_key, recipient, part, language, components, webhook, format, secret_env, contact,"
                          " state, attempts, error, updated_at"),
    "notify_endpoints": (f"SELECT {ENDPOINT_COLUMNS}, updated_at FROM endpoints ORDER BY key",
                         f"{ENDPOINT_COLUMNS}, updated_at"),
}
"""Each PostgreSQL table, what to read from the SQLite store for it, and its columns. The
SQLite `meta` table holds only the schema version, which is `schema_migrations`' here."""


def copy_sqlite(source: Path, db: psycopg.Connection[Any]) -> dict[str, int]:
    """Copy every row of the SQLite notifier store at `source` into the (upgraded, empty)
    database, in the caller's transaction: the announced facts and the last snapshot (the
    baseline), every event, and every delivery in every state with its attempts and error.
    A run that was sending from the file is waited for. Returns the rows copied per table.
    Deliveries keep their ids; one left `committing` becomes uncertain at the next run."""
    if not source.is_file():
        raise UsageError(f"{source}: no notifier store there; pass --store with the store to copy")
    with exclusive_use(source):
        _upgrade_in_place(source)
        reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        try:
            _check_version(reader, source)
            counts = {table: _copy_table(reader, db, table, query, columns)
                      for table, (query, columns) in COPIED.items()}
        finally:
            reader.close()
    db.execute("SELECT setval(pg_get_serial_sequence('notify_deliveries', 'id'), COALESCE(MAX(id), 0) + 1, false)"
               " FROM notify_deliveries")
    return counts


def _upgrade_in_place(source: Path) -> None:
    """A store of an older schema is brought to this statusgen's first, as opening it for a
    run would (a file that is no store is left alone: `_check_version` names it)."""
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = reader.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.Error:
        return
    finally:
        reader.close()
    if row is not None and int(row[0]) < SCHEMA_VERSION:
        SqliteNotifyStore(source).close()


def _check_version(reader: sqlite3.Connection, source: Path) -> None:
    try:
        row = reader.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.Error as error:
        raise UsageError(f"{source}: not a notifier store ({error})") from None
    if row is None or int(row[0]) > SCHEMA_VERSION:
        raise UsageError(f"{source}: a notifier store of schema {row[0] if row else '?'}, this statusgen copies "
                         f"schema {SCHEMA_VERSION}")


def _copy_table(reader: sqlite3.Connection, db: psycopg.Connection[Any], table: str, query: str,
                columns: str) -> int:
    count = 0
    with db.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in reader.execute(query):
            copy.write_row(row)
            count += 1
    return count
