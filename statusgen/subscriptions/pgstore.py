"""The subscription store in PostgreSQL: several service instances and the notifier in CI
share one store, so an unsubscribe made through any instance stops the next notification.

    MIGRATIONS                  the schema, applied by `statusgen db upgrade` (never by the service)
    PostgresSubscriptionStore   the `SubscriptionStore` protocol over a psycopg_pool ConnectionPool:
                                every method is one short transaction on a connection of the pool
    is_empty, copy_sqlite       what `statusgen db copy` needs to move a SQLite store here

It means what the SQLite store means (store.py, the reference); what several processes
at once need is in the statements themselves, not in a lock held by one process:
- `request` and `save` are single upserts (`INSERT ... ON CONFLICT ... DO UPDATE`), so two
  instances posting the form for one address at once write one row, never a duplicate;
- `confirm` updates the row (locking it) before it lifts the suppression, and
  `unsubscribe` suppresses before it deletes: whichever order they meet in, an
  unsubscribe that commits last leaves the address suppressed, and one that commits
  first leaves no row for `confirm` to find (an unsubscribe always wins);
- `hit` counts a rate-limit hit in one `INSERT ... ON CONFLICT ... DO UPDATE ... RETURNING`:
  the row lock makes concurrent hits from any instance add up exactly.

The salt of the address digests is a row of `subscription_meta`, made by the first store
that writes and copied along by `copy_sqlite`: without it every suppression digest made
elsewhere would match nothing. A read-only store (the notifier's view) never makes one; no
salt means nothing was ever stored, so there is nothing to match.

A database that does not answer (down, unreachable, a connection lost mid-statement) is a
`DatabaseError` naming the URL without its password: the service answers 503 and the pool
replaces the connection, so the service recovers by itself when the database is back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from statusgen.database import CONNECT_TIMEOUT, DatabaseError, Migration, connect, reason, redacted, require_current
from statusgen.database import schema_version as stored_version
from statusgen.errors import UsageError
from statusgen import ids
from statusgen.subscriptions.signingkeys import OVERLAP
from statusgen.subscriptions.store import (
    PENDING_LIFETIME,
    WEBHOOK,
    WEBHOOK_COLUMNS,
    SqliteSubscriptionStore,
    Subscription,
    Suppression,
    WebhookSubscription,
    address_key,
    contact_of,
    suppressed_as,
)

STORE = "subscriptions"
"""This store's name in `schema_migrations`."""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "subscriptions, the suppression list and rate limits", """
        CREATE TABLE subscription_meta (
            key TEXT PRIMARY KEY,                -- 'salt': the key of every digest below
            value TEXT NOT NULL
        );
        CREATE TABLE subscriptions (
            address TEXT PRIMARY KEY,            -- address_key(email): the whole address lowercased
            email TEXT NOT NULL,                 -- as given, stripped, domain lowercased
            components TEXT[],                   -- component or group ids; NULL: everything
            language TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'confirmed')),
            created_at TIMESTAMPTZ NOT NULL,
            requested_at TIMESTAMPTZ NOT NULL,   -- the last time the form was sent for it
            confirmed_at TIMESTAMPTZ,
            updated_at TIMESTAMPTZ NOT NULL
        );
        CREATE INDEX subscriptions_by_state ON subscriptions (state, requested_at);
        CREATE TABLE unsubscribes (
            digest TEXT PRIMARY KEY,             -- the salted digest of the address: what matching uses
            address TEXT UNIQUE,                 -- NULL once erased on request
            at TIMESTAMPTZ NOT NULL
        );
        CREATE TABLE rate_limits (
            bucket TEXT PRIMARY KEY,             -- a digest of 'client:IP' or 'email:ADDRESS'
            window_start BIGINT NOT NULL,        -- Unix seconds
            window_seconds INTEGER NOT NULL,
            hits INTEGER NOT NULL
        );
    """),
    Migration(2, "self-service webhook subscriptions", """
        CREATE TABLE webhooks (
            id TEXT PRIMARY KEY,                 -- ids.webhook_id(url): what ops and signed links name
            url TEXT NOT NULL UNIQUE,            -- where deliveries go; printed only masked
            format TEXT NOT NULL,                -- statuspage, slack, teams, googlechat, discord, mattermost
            components TEXT[],                   -- component or group ids; NULL: everything
            language TEXT NOT NULL,
            contact TEXT NOT NULL,               -- the contact's address ('' when an import had none)
            state TEXT NOT NULL CHECK (state IN ('pending', 'confirmed', 'unsubscribed')),
            seed TEXT,                           -- with STATUSGEN_SECRET_KEY derives the signing secret; NULL: unsigned
            seed_check TEXT,                     -- which key the seed was stored under (signingkeys.key_check)
            previous_seed TEXT,                  -- signs beside `seed` until rotated_at + OVERLAP
            rotated_at TIMESTAMPTZ,
            created_at TIMESTAMPTZ NOT NULL,
            requested_at TIMESTAMPTZ NOT NULL,   -- the last time the form was sent for it
            confirmed_at TIMESTAMPTZ,
            updated_at TIMESTAMPTZ NOT NULL
        );
        CREATE INDEX webhooks_by_state ON webhooks (state, requested_at);
    """),
)

TABLES = ("subscription_meta", "subscriptions", "unsubscribes", "rate_limits", "webhooks")

WAIT = 5.0
"""Seconds a request waits for a connection before the database counts as unreachable."""
HEALTH_WAIT = 2.0
"""The same for `/healthz`, which monitoring calls often and wants answered quickly."""

_COLUMNS = "email, components, language, state, created_at, requested_at, confirmed_at"


class _OneLine(logging.Filter):
    """The pool logs each failed reconnection with libpq's message, which spans lines; a
    service log keeps one line per event."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = " ".join(record.getMessage().split()), ()
        return True


logging.getLogger("psycopg.pool").addFilter(_OneLine())


class PostgresSubscriptionStore:
    """The shared store: a pool of up to `connections` connections (the service: one per
    waitress thread). `readonly` is the notifier's and the ops listing's view."""

    def __init__(self, url: str, readonly: bool = False, connections: int = 1) -> None:
        self.url = url
        with connect(url) as db:  # one line naming the URL when it cannot connect
            require_current(db, STORE, MIGRATIONS, url)
            self._salt = bytes.fromhex(_salt(db, create=not readonly))
            db.commit()
        self._pool = ConnectionPool(url, min_size=1, max_size=connections, open=False, name="subscriptions",
                                    timeout=WAIT, kwargs={"connect_timeout": CONNECT_TIMEOUT},
                                    configure=_read_only if readonly else None,
                                    check=ConnectionPool.check_connection)
        try:
            with self._unreachable():
                self._pool.open(wait=True, timeout=CONNECT_TIMEOUT)
        except DatabaseError:
            self._pool.close()
            raise

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def _unreachable(self) -> Iterator[None]:
        """psycopg's connection errors (and the pool's timeout) as a one-line DatabaseError,
        and so a database that refuses writes (read-only, out of disk): the service
        answers 503 for both, and the transaction changed nothing."""
        try:
            yield
        except psycopg.OperationalError as error:
            raise DatabaseError(f"the database {redacted(self.url)} did not answer: {reason(error)}") from None
        except (psycopg.errors.ReadOnlySqlTransaction, psycopg.errors.InsufficientResources) as error:
            raise DatabaseError(f"the database {redacted(self.url)} cannot be written: {reason(error)}") from None

    @contextmanager
    def _transaction(self, wait: float = WAIT) -> Iterator[psycopg.Connection[Any]]:
        """One short transaction: committed when the block ends, rolled back if it raises.
        The pool checks a connection before handing it out and drops a broken one."""
        with self._unreachable(), self._pool.connection(timeout=wait) as db:
            yield db

    # ── schema and health ─────────────────────────────────────────────────────────

    def schema_version(self) -> int:
        with self._transaction() as db:
            return stored_version(db, STORE)

    def reachable(self) -> bool:
        return self._succeeds("SELECT 1")

    def writable(self) -> bool:
        """Whether a write commits (`/healthz`): a database in read-only mode (a replica,
        `default_transaction_read_only`) or out of disk fails it; the row is rewritten as it was."""
        return self._succeeds("UPDATE subscription_meta SET value = value WHERE key = 'salt'")

    def _succeeds(self, statement: str) -> bool:
        """Whether `statement` runs and commits within the health check's wait."""
        try:
            with self._transaction(HEALTH_WAIT) as db:
                db.execute(statement)
        except DatabaseError:
            return False
        return True

    # ── subscriptions ─────────────────────────────────────────────────────────────

    def find(self, email: str) -> Subscription | None:
        with self._transaction() as db:
            return _find(db, address_key(email))

    def request(self, email: str, components: tuple[str, ...] | None, language: str, now: datetime) -> str:
        """As `SqliteSubscriptionStore.request`, in one upsert: a pending subscription takes
        the new choices, a confirmed one keeps its own; `xmax = 0` only on a row this
        statement inserted."""
        at = _moment(now)
        with self._transaction() as db:
            row = db.execute(
                "INSERT INTO subscriptions AS s VALUES (%(key)s, %(email)s, %(components)s, %(language)s, 'pending',"
                " %(at)s, %(at)s, NULL, %(at)s) ON CONFLICT (address) DO UPDATE SET"
                " email = CASE WHEN s.state = 'pending' THEN excluded.email ELSE s.email END,"
                " components = CASE WHEN s.state = 'pending' THEN excluded.components ELSE s.components END,"
                " language = CASE WHEN s.state = 'pending' THEN excluded.language ELSE s.language END,"
                " updated_at = CASE WHEN s.state = 'pending' THEN excluded.updated_at ELSE s.updated_at END,"
                " requested_at = excluded.requested_at"
                " RETURNING xmax = 0, state",
                {"key": address_key(email), "email": email, "components": _array(components),
                 "language": language, "at": at}).fetchone()
        assert row is not None
        inserted, state = row
        return "new" if inserted else str(state)

    def confirm(self, email: str, now: datetime) -> Subscription | None:
        """pending → confirmed, and the address leaves the suppression list; None if there
        is no subscription to confirm (never asked for, expired, or unsubscribed since)."""
        key, at = address_key(email), _moment(now)
        with self._transaction() as db:
            row = db.execute(
                "UPDATE subscriptions SET state = 'confirmed',"
                " confirmed_at = CASE WHEN state = 'pending' THEN %(at)s ELSE confirmed_at END,"
                " updated_at = CASE WHEN state = 'pending' THEN %(at)s ELSE updated_at END"
                f" WHERE address = %(key)s RETURNING {_COLUMNS}", {"key": key, "at": at}).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM unsubscribes WHERE digest = %s", (self.digest(key),))
        return _subscription(row)

    def save(self, email: str, components: tuple[str, ...] | None, language: str, now: datetime) -> Subscription:
        """The owner's own choices (through a signed manage link): a confirmed subscription."""
        at = _moment(now)
        with self._transaction() as db:
            row = db.execute(
                "INSERT INTO subscriptions AS s VALUES (%(key)s, %(email)s, %(components)s, %(language)s,"
                " 'confirmed', %(at)s, %(at)s, %(at)s, %(at)s) ON CONFLICT (address) DO UPDATE SET"
                " components = excluded.components, language = excluded.language, state = 'confirmed',"
                " confirmed_at = coalesce(s.confirmed_at, excluded.confirmed_at), updated_at = excluded.updated_at"
                f" RETURNING {_COLUMNS}",
                {"key": address_key(email), "email": email, "components": _array(components),
                 "language": language, "at": at}).fetchone()
        assert row is not None
        return _subscription(row)

    def unsubscribe(self, email: str, now: datetime) -> None:
        """Suppress the address and forget its subscription; doing it again changes nothing.
        A webhook's key (`webhook:URL`) suppresses the URL and ends its subscription."""
        key, shown = address_key(email), suppressed_as(email)
        with self._transaction() as db:
            db.execute("INSERT INTO unsubscribes VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                       (self.digest(key), shown, _moment(now)))
            if shown.startswith(WEBHOOK):
                db.execute("UPDATE webhooks SET state = 'unsubscribed', seed = NULL, seed_check = NULL,"
                           " previous_seed = NULL, rotated_at = NULL, updated_at = %s WHERE id = %s",
                           (_moment(now), shown[len(WEBHOOK):]))
            else:
                db.execute("DELETE FROM subscriptions WHERE address = %s", (key,))

    def is_suppressed(self, email: str) -> bool:
        with self._transaction() as db:
            return db.execute("SELECT 1 FROM unsubscribes WHERE digest = %s",
                              (self.digest(email),)).fetchone() is not None

    def subscriptions(self) -> list[Subscription]:
        with self._transaction() as db:  # byte order, as SQLite sorts, whatever the database's collation
            rows = db.execute(f'SELECT {_COLUMNS} FROM subscriptions ORDER BY address COLLATE "C"').fetchall()
        return [_subscription(row) for row in rows]

    def suppressions(self) -> list[Suppression]:
        with self._transaction() as db:
            rows = db.execute('SELECT digest, address, at FROM unsubscribes'
                              ' ORDER BY address COLLATE "C" NULLS FIRST, digest').fetchall()
        return [Suppression(digest, address, _iso(at)) for digest, address, at in rows]

    def digest(self, email: str) -> str:
        """As `SqliteSubscriptionStore.digest`, with the salt kept in the database."""
        return hmac.new(self._salt, address_key(email).encode(), hashlib.sha256).hexdigest()

    # ── webhooks ──────────────────────────────────────────────────────────────────

    def find_webhook(self, webhook_id: str) -> WebhookSubscription | None:
        with self._transaction() as db:
            return _find_webhook(db, webhook_id)

    def request_webhook(self, url: str, fmt: str, components: tuple[str, ...] | None, language: str, contact: str,
                        now: datetime) -> tuple[str, WebhookSubscription]:
        """As `SqliteSubscriptionStore.request_webhook`, in one upsert: a confirmed
        subscription keeps its own choices (so after it, `confirmed` means it was before)."""
        at = _moment(now)
        with self._transaction() as db:
            row = db.execute(
                "INSERT INTO webhooks AS w (id, url, format, components, language, contact, state, created_at,"
                " requested_at, updated_at) VALUES (%(id)s, %(url)s, %(format)s, %(components)s, %(language)s,"
                " %(contact)s, 'pending', %(at)s, %(at)s, %(at)s) ON CONFLICT (id) DO UPDATE SET"
                " format = CASE WHEN w.state = 'confirmed' THEN w.format ELSE excluded.format END,"
                " components = CASE WHEN w.state = 'confirmed' THEN w.components ELSE excluded.components END,"
                " language = CASE WHEN w.state = 'confirmed' THEN w.language ELSE excluded.language END,"
                " contact = CASE WHEN w.state = 'confirmed' THEN w.contact ELSE excluded.contact END,"
                " updated_at = CASE WHEN w.state = 'confirmed' THEN w.updated_at ELSE excluded.updated_at END,"
                " state = CASE WHEN w.state = 'confirmed' THEN w.state ELSE 'pending' END,"
                " requested_at = excluded.requested_at"
                f" RETURNING xmax = 0, {WEBHOOK_COLUMNS}",
                {"id": ids.webhook_id(url), "url": url.strip(), "format": fmt, "components": _array(components),
                 "language": language, "contact": contact, "at": at}).fetchone()
        assert row is not None
        found = _webhook(row[1:])
        return ("confirmed" if found.state == "confirmed" else "new" if row[0] else "pending"), found

    def confirm_webhook(self, webhook_id: str, seed: str | None, seed_check: str | None,
                        now: datetime) -> tuple[WebhookSubscription | None, bool]:
        """As `SqliteSubscriptionStore.confirm_webhook`: the update locks the row, so of two
        confirmations at once exactly one confirms (and shows the secret)."""
        at = _moment(now)
        with self._transaction() as db:
            row = db.execute(
                "UPDATE webhooks SET state = 'confirmed', seed = %s, seed_check = %s, previous_seed = NULL,"
                f" confirmed_at = %s, updated_at = %s WHERE id = %s AND state = 'pending' RETURNING {WEBHOOK_COLUMNS}",
                (seed, seed_check, at, at, webhook_id)).fetchone()
            if row is None:
                found = _find_webhook(db, webhook_id)
                return (found, False) if found and found.state == "confirmed" else (None, False)
            confirmed = _webhook(row)
            db.execute("DELETE FROM unsubscribes WHERE digest = %s", (self.digest(confirmed.key),))
        return confirmed, True

    def subscribe_webhook(self, url: str, fmt: str, components: tuple[str, ...] | None, language: str, contact: str,
                          seed: str | None, seed_check: str | None, now: datetime) -> WebhookSubscription:
        """As `SqliteSubscriptionStore.subscribe_webhook`."""
        self.request_webhook(url, fmt, components, language, contact, now)
        found, _ = self.confirm_webhook(ids.webhook_id(url), seed, seed_check, now)
        assert found is not None
        return found

    def save_webhook(self, webhook_id: str, components: tuple[str, ...] | None, language: str,
                     now: datetime) -> WebhookSubscription | None:
        with self._transaction() as db:
            row = db.execute("UPDATE webhooks SET components = %s, language = %s, updated_at = %s WHERE id = %s"
                             f" AND state = 'confirmed' RETURNING {WEBHOOK_COLUMNS}",
                             (_array(components), language, _moment(now), webhook_id)).fetchone()
        return _webhook(row) if row else None

    def rotate_webhook(self, webhook_id: str, replaces: str, seed: str, seed_check: str,
                       now: datetime) -> WebhookSubscription | None:
        """As `SqliteSubscriptionStore.rotate_webhook`: compare and set in one statement."""
        at = _moment(now)
        with self._transaction() as db:
            row = db.execute("UPDATE webhooks SET previous_seed = seed, seed = %s, seed_check = %s, rotated_at = %s,"
                             " updated_at = %s WHERE id = %s AND state = 'confirmed' AND seed = %s"
                             f" RETURNING {WEBHOOK_COLUMNS}",
                             (seed, seed_check, at, at, webhook_id, replaces)).fetchone()
        return _webhook(row) if row else None

    def webhooks(self) -> list[WebhookSubscription]:
        with self._transaction() as db:
            rows = db.execute(f'SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY id COLLATE "C"').fetchall()
        return [_webhook(row) for row in rows]

    # ── abuse and housekeeping ────────────────────────────────────────────────────

    def hit(self, bucket: str, limit: int, window: timedelta, now: datetime) -> int:
        """Count one hit in `bucket`; 0 if within `limit` hits per `window`, else the
        seconds until the window ends. One statement: concurrent hits from every instance
        are counted, one after the other, on the bucket's row."""
        stamp, length = int(now.timestamp()), int(window.total_seconds())
        with self._transaction() as db:
            row = db.execute(
                "INSERT INTO rate_limits AS r VALUES (%(bucket)s, %(stamp)s, %(length)s, 1)"
                " ON CONFLICT (bucket) DO UPDATE SET"
                " window_start = CASE WHEN %(stamp)s >= r.window_start + %(length)s THEN %(stamp)s"
                " ELSE r.window_start END,"
                " hits = CASE WHEN %(stamp)s >= r.window_start + %(length)s THEN 1 ELSE r.hits + 1 END,"
                " window_seconds = %(length)s"
                " RETURNING window_start, hits",
                {"bucket": self.digest(bucket), "stamp": stamp, "length": length}).fetchone()
        assert row is not None
        start, hits = row
        return 0 if hits <= limit else max(1, start + length - stamp)

    def purge(self, now: datetime) -> int:
        """Forget unconfirmed subscriptions whose link has expired, and finished rate windows."""
        with self._transaction() as db:
            expired = _moment(now - PENDING_LIFETIME)
            gone = db.execute("DELETE FROM subscriptions WHERE state = 'pending' AND requested_at < %s",
                              (expired,)).rowcount
            gone += db.execute("DELETE FROM webhooks WHERE state = 'pending' AND requested_at < %s",
                               (expired,)).rowcount
            db.execute("UPDATE webhooks SET previous_seed = NULL, rotated_at = NULL WHERE rotated_at <= %s",
                       (_moment(now - OVERLAP),))
            db.execute("DELETE FROM rate_limits WHERE window_start + window_seconds <= %s", (int(now.timestamp()),))
        return gone

    def erase(self, email: str, now: datetime) -> dict[str, int]:
        """Forget the address; it stays suppressed, by digest only (see the SQLite store)."""
        key = address_key(email)
        digest = self.digest(key)
        with self._transaction() as db:
            contacted = [ident for ident, contact in db.execute("SELECT id, contact FROM webhooks").fetchall()
                         if address_key(contact) == key]
            removed = {
                "subscriptions": db.execute("DELETE FROM subscriptions WHERE address = %s", (key,)).rowcount,
                "webhooks": db.execute("DELETE FROM webhooks WHERE id = ANY(%s)", (contacted,)).rowcount,
                "rate_limits": db.execute("DELETE FROM rate_limits WHERE bucket = %s",
                                          (self.digest(f"email:{key}"),)).rowcount,
            }
            db.execute("INSERT INTO unsubscribes VALUES (%s, NULL, %s) ON CONFLICT DO NOTHING", (digest, _moment(now)))
            db.execute("UPDATE unsubscribes SET address = NULL WHERE digest = %s", (digest,))
        return removed

    def export(self, email: str) -> dict[str, Any]:
        """Everything this store holds about the address (a data-protection request)."""
        key = address_key(email)
        with self._transaction() as db:
            found = _find(db, key)
            suppression = db.execute("SELECT address, at FROM unsubscribes WHERE digest = %s",
                                     (self.digest(key),)).fetchone()
            counter = db.execute("SELECT window_start, window_seconds, hits FROM rate_limits WHERE bucket = %s",
                                 (self.digest(f"email:{key}"),)).fetchone()
        webhooks = contact_of(self.webhooks(), key)
        return {
            "subscription": None if found is None else {
                "email": found.email, "state": found.state, "language": found.language,
                "components": list(found.components) if found.components is not None else None,
                "created_at": found.created_at, "requested_at": found.requested_at,
                "confirmed_at": found.confirmed_at},
            "suppression": None if suppression is None else {
                "address": suppression[0], "since": _iso(suppression[1]), "erased": suppression[0] is None},
            "email_rate_limit": None if counter is None else {
                "window_start": datetime.fromtimestamp(counter[0], UTC).isoformat(timespec="seconds"),
                "window_seconds": counter[1], "emails_requested": counter[2]},
            "webhooks": webhooks,
        }


def verify(url: str) -> None:
    """The database answers and has the schema this statusgen knows; else a one-line
    DatabaseError naming the URL (without its password) and what to do."""
    with connect(url) as db:
        require_current(db, STORE, MIGRATIONS, url)


# ── moving a SQLite store here (`statusgen db copy`) ──────────────────────────────────

def is_empty(db: psycopg.Connection[Any]) -> bool:
    """No row in any of this store's tables, not even a salt (a service started here made one)."""
    for table in TABLES:
        found = db.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))).fetchone()
        if found and found[0]:
            return False
    return True


def copy_sqlite(source: Path, db: psycopg.Connection[Any]) -> dict[str, int]:
    """Copy every row of the SQLite subscription store `source` into this (upgraded, empty)
    database, in the caller's transaction: the salt, so that every suppression digest and
    rate-limit bucket keeps matching; subscriptions in every state; suppressions, erased
    ones too; rate-limit windows. Returns the rows copied per table."""
    rows = _sqlite_rows(source)
    salt = [(key, value) for key, value in rows["meta"] if key == "salt"]
    subscriptions = [(address, email, _array(_components(components)), language, state, _parsed(created),
                      _parsed(requested), _parsed(confirmed), _parsed(updated))
                     for address, email, components, language, state, created, requested, confirmed, updated
                     in rows["subscriptions"]]
    unsubscribes = [(digest, address, _parsed(at)) for digest, address, at in rows["unsubscribes"]]
    webhooks = [(ident, url, fmt, _array(_components(components)), language, contact, state, seed, seed_check,
                 previous_seed, _parsed(rotated), _parsed(created), _parsed(requested), _parsed(confirmed),
                 _parsed(updated))
                for (ident, url, fmt, components, language, contact, state, seed, seed_check, previous_seed, rotated,
                     created, requested, confirmed, updated) in rows["webhooks"]]
    copied = {"subscription_meta": _copy(db, "subscription_meta", salt),
              "subscriptions": _copy(db, "subscriptions", subscriptions),
              "unsubscribes": _copy(db, "unsubscribes", unsubscribes),
              "rate_limits": _copy(db, "rate_limits", rows["rate_limits"]),
              "webhooks": _copy(db, "webhooks", webhooks)}
    return copied


def _sqlite_rows(source: Path) -> dict[str, list[tuple[Any, ...]]]:
    if not source.is_file():
        raise UsageError(f"{source}: no subscription store there")
    try:
        store = SqliteSubscriptionStore(source, readonly=True)
    except sqlite3.Error:
        raise  # not a store at all: `db copy` says so, as for the notifier's
    except Exception as error:  # noqa: BLE001 - a schema this statusgen cannot copy
        raise UsageError(f"the subscription store {source} cannot be copied: {error}") from None
    try:
        return store.rows()
    finally:
        store.close()


def _copy(db: psycopg.Connection[Any], table: str, rows: list[tuple[Any, ...]]) -> int:
    with db.cursor() as cursor, cursor.copy(sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(table))) as copy:
        for row in rows:
            copy.write_row(row)
    return len(rows)


# ── helpers ───────────────────────────────────────────────────────────────────────────

def _salt(db: psycopg.Connection[Any], create: bool) -> str:
    """The digests' salt; the first store that writes makes it (two at once: one wins)."""
    if create:
        db.execute("INSERT INTO subscription_meta VALUES ('salt', %s) ON CONFLICT DO NOTHING", (secrets.token_hex(32),))
    row = db.execute("SELECT value FROM subscription_meta WHERE key = 'salt'").fetchone()
    return str(row[0]) if row else ""


def _read_only(db: psycopg.Connection[Any]) -> None:
    db.read_only = True


def _find(db: psycopg.Connection[Any], key: str) -> Subscription | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM subscriptions WHERE address = %s", (key,)).fetchone()
    return _subscription(row) if row else None


def _find_webhook(db: psycopg.Connection[Any], ident: str) -> WebhookSubscription | None:
    row = db.execute(f"SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = %s", (ident,)).fetchone()
    return _webhook(row) if row else None


def _webhook(row: tuple[Any, ...]) -> WebhookSubscription:
    (ident, url, fmt, components, language, contact, state, created_at, requested_at, confirmed_at, seed,
     seed_check, previous_seed, rotated_at) = row
    return WebhookSubscription(ident, url, fmt, tuple(components) if components is not None else None, language,
                               contact, state, _iso(created_at), _iso(requested_at),
                               _iso(confirmed_at) if confirmed_at else None, seed, seed_check, previous_seed,
                               _iso(rotated_at) if rotated_at else None)


def _subscription(row: tuple[Any, ...]) -> Subscription:
    email, components, language, state, created_at, requested_at, confirmed_at = row
    return Subscription(email, tuple(components) if components is not None else None, language, state,
                        _iso(created_at), _iso(requested_at), _iso(confirmed_at) if confirmed_at else None)


def _array(components: tuple[str, ...] | list[str] | None) -> list[str] | None:
    return None if components is None else list(components)


def _components(stored: str | None) -> list[str] | None:
    return None if stored is None else list(json.loads(stored))


def _moment(moment: datetime) -> datetime:
    """To the second, as the SQLite store keeps times, so both compare and export alike."""
    return moment.astimezone(UTC).replace(microsecond=0)


def _parsed(stored: str | None) -> datetime | None:
    return None if stored is None else datetime.fromisoformat(stored)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")
