"""The subscription store: self-service subscriptions, the suppression list, rate limits.

One small interface (`SubscriptionStore`) with SQLite as the embedded default, like the
notifier's store, and PostgreSQL (pgstore.py) for several service instances and a notifier
elsewhere (CI) that must honour their unsubscribes; backend.py chooses between them.

    subscriptions   one row per address: pending ──confirm──▶ confirmed ──unsubscribe──▶ (deleted)
    webhooks        one row per URL, by its short id (`ids.webhook_id`): pending ──confirm (the
                    contact's email)──▶ confirmed ──cancel, or 410 Gone──▶ unsubscribed; a
                    `seed` per subscription from which the signing secret is derived
                    (signingkeys.py): the secret itself is never stored
    unsubscribes    the suppression list: an address that unsubscribed is never mailed
                    again (not by the notifier, not from subscribers.yaml) until it
                    confirms a new subscription itself
    rate_limits     counters per client and per address, in fixed windows

Addresses are matched by their `address_key` (the whole address lowercased), webhooks by
their subscriber key (`webhook:URL`). Every suppression entry also carries a salted digest
of that key (a webhook's entry names it as `webhook:ID`, never by its URL): the notifier and the
service match on the digest, so an erased address (`erase`) can stay suppressed with
its address column emptied. Rate-limit buckets are stored only as digests.

The schema is versioned (`meta.schema_version`) and grown by `MIGRATIONS`, applied in
order at startup; a store made by a newer statusgen is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from statusgen import ids
from statusgen.content.webhooks import SIGNED
from statusgen.database import DatabaseError
from statusgen.notifier.webhooks.network import masked_url
from statusgen.subscriptions.signingkeys import OVERLAP, key_check, signing_secret
from statusgen.tokens import MAX_AGE

DB_VARIABLE = "STATUSGEN_SUBSCRIPTIONS_DB"
STORAGE_FAILURES = ("SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_FULL", "SQLITE_BUSY", "SQLITE_LOCKED",
                    "SQLITE_CANTOPEN", "SQLITE_PERM")
"""SQLite's errors that say the file cannot be written now, not that a statement is wrong."""


def subscriptions_db(site_dir: Path, env: Mapping[str, str]) -> Path:
    """Where the subscription store is: `STATUSGEN_SUBSCRIPTIONS_DB`, else in the site's
    private `.statusgen/` folder (never in the published output)."""
    chosen = env.get(DB_VARIABLE, "").strip()
    return Path(chosen) if chosen else site_dir / ".statusgen" / "subscriptions.db"


PENDING_LIFETIME = MAX_AGE["confirm"]
"""A subscription nobody confirms is forgotten when its confirmation link expires."""

Migration = tuple[str, ...] | Callable[[sqlite3.Connection], None]

MIGRATIONS: tuple[Migration, ...] = (
    # 1: the first schema
    (
        """CREATE TABLE subscriptions (
            address TEXT PRIMARY KEY,            -- address_key(email): the whole address lowercased
            email TEXT NOT NULL,                 -- as given, stripped, domain lowercased
            components TEXT,                     -- JSON list of component or group ids; NULL: everything
            language TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'confirmed')),
            created_at TEXT NOT NULL,
            requested_at TEXT NOT NULL,          -- the last time the form was sent for it
            confirmed_at TEXT,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX subscriptions_by_state ON subscriptions (state, requested_at)",
        """CREATE TABLE unsubscribes (
            digest TEXT PRIMARY KEY,             -- address_digest(address): what matching uses
            address TEXT UNIQUE,                 -- NULL once erased on request
            at TEXT NOT NULL
        )""",
        """CREATE TABLE rate_limits (
            bucket TEXT PRIMARY KEY,             -- a digest of 'client:IP' or 'email:ADDRESS'
            window_start INTEGER NOT NULL,       -- Unix seconds
            window_seconds INTEGER NOT NULL,
            hits INTEGER NOT NULL
        )""",
    ),
    # 2: self-service webhook subscriptions (issue 13)
    (
        """CREATE TABLE webhooks (
            id TEXT PRIMARY KEY,                 -- ids.webhook_id(url): what ops and signed links name
            url TEXT NOT NULL UNIQUE,            -- where deliveries go; printed only masked
            format TEXT NOT NULL,                -- statuspage, slack, teams, googlechat, discord, mattermost
            components TEXT,                     -- JSON list of component or group ids; NULL: everything
            language TEXT NOT NULL,
            contact TEXT NOT NULL,               -- the contact's address ('' when an import had none)
            state TEXT NOT NULL CHECK (state IN ('pending', 'confirmed', 'unsubscribed')),
            seed TEXT,                           -- with STATUSGEN_SECRET_KEY derives the signing secret; NULL: unsigned
            seed_check TEXT,                     -- which key the seed was stored under (signingkeys.key_check)
            previous_seed TEXT,                  -- signs beside `seed` until rotated_at + OVERLAP
            rotated_at TEXT,
            created_at TEXT NOT NULL,
            requested_at TEXT NOT NULL,          -- the last time the form was sent for it
            confirmed_at TEXT,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX webhooks_by_state ON webhooks (state, requested_at)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
WEBHOOK = "webhook:"
"""How a webhook's subscriber key (`Subscriber.key`) begins: `webhook:` and its URL."""


def address_key(email: str) -> str:
    """The form an address is matched by: `Spoc@Partner.example` is `spoc@partner.example`."""
    return email.strip().lower()


@dataclass(frozen=True)
class Subscription:
    email: str
    components: tuple[str, ...] | None
    """Component or group ids as chosen (groups expand when mail is sent); None: everything."""
    language: str
    state: str
    """`pending` or `confirmed`."""
    created_at: str
    requested_at: str
    confirmed_at: str | None = None

    @property
    def key(self) -> str:
        return address_key(self.email)


@dataclass(frozen=True)
class WebhookSubscription:
    id: str
    url: str = field(repr=False)  # a chat URL is itself the credential
    format: str
    components: tuple[str, ...] | None
    """Component or group ids as chosen (groups expand when events are sent); None: everything."""
    language: str
    contact: str
    state: str
    """`pending`, `confirmed` or `unsubscribed`."""
    created_at: str
    requested_at: str
    confirmed_at: str | None = None
    seed: str | None = field(default=None, repr=False)
    """Derives the signing secret (signingkeys.py); None: deliveries are unsigned (chat)."""
    seed_check: str | None = None
    previous_seed: str | None = field(default=None, repr=False)
    rotated_at: str | None = None

    @classmethod
    def asked(cls, url: str, fmt: str, components: tuple[str, ...] | None, language: str, contact: str,
              now: datetime) -> WebhookSubscription:
        """A subscription as `request_webhook` will store it, before it is stored (to write
        the invitation that goes out first)."""
        url, at = url.strip(), _iso(now)
        return cls(ids.webhook_id(url), url, fmt, components, language, contact, "pending", at, at)

    @property
    def key(self) -> str:
        """As `Subscriber.key`: `webhook:` and the URL."""
        return f"{WEBHOOK}{self.url}"

    @property
    def shown(self) -> str:
        """The URL as it may be printed: host and the start of the path (`network.masked_url`)."""
        return masked_url(self.url)

    @property
    def signed(self) -> bool:
        """Statuspage-format deliveries are signed; a chat target's URL is its own secret."""
        return self.format == SIGNED

    def secrets(self, key: str) -> tuple[str, ...]:
        """The `whsec_` secrets that sign its deliveries now, derived with the service's
        `key` (STATUSGEN_SECRET_KEY): the current one, and the previous one during a
        rotation; none for a chat target or a subscription not confirmed."""
        if not self.signed:
            return ()
        return tuple(signing_secret(key, self.id, seed) for seed in (self.seed, self.previous_seed) if seed)

    def made_with(self, key: str) -> bool:
        """Whether its seed was stored under `key` (else its secrets changed with the key)."""
        return self.seed is None or self.seed_check == key_check(key, self.id, self.seed)

    def exported(self) -> dict[str, Any]:
        """What a data-protection export shows: never the URL in full nor anything secret."""
        return {"id": self.id, "target": self.shown, "format": self.format, "state": self.state,
                "language": self.language, "signed": self.signed,
                "components": list(self.components) if self.components is not None else None,
                "created_at": self.created_at, "requested_at": self.requested_at, "confirmed_at": self.confirmed_at}


@dataclass(frozen=True)
class Suppression:
    digest: str
    address: str | None
    """None once the address was erased on request."""
    at: str


class SubscriptionStore(Protocol):
    """SQLite here (`SqliteSubscriptionStore`), PostgreSQL in pgstore.py (`PostgresSubscriptionStore`)."""

    def schema_version(self) -> int: ...
    def reachable(self) -> bool: ...
    def writable(self) -> bool: ...
    def find(self, email: str) -> Subscription | None: ...
    def request(self, email: str, components: tuple[str, ...] | None, language: str, now: datetime) -> str: ...
    def confirm(self, email: str, now: datetime) -> Subscription | None: ...
    def save(self, email: str, components: tuple[str, ...] | None, language: str, now: datetime) -> Subscription: ...
    def unsubscribe(self, email: str, now: datetime) -> None: ...
    def is_suppressed(self, email: str) -> bool: ...
    def hit(self, bucket: str, limit: int, window: timedelta, now: datetime) -> int: ...
    def purge(self, now: datetime) -> int: ...
    def subscriptions(self) -> list[Subscription]: ...
    def suppressions(self) -> list[Suppression]: ...
    def digest(self, email: str) -> str: ...
    def find_webhook(self, webhook_id: str) -> WebhookSubscription | None: ...
    def request_webhook(self, url: str, fmt: str, components: tuple[str, ...] | None, language: str, contact: str,
                        now: datetime) -> tuple[str, WebhookSubscription]: ...
    def confirm_webhook(self, webhook_id: str, seed: str | None, seed_check: str | None,
                        now: datetime) -> tuple[WebhookSubscription | None, bool]: ...
    def subscribe_webhook(self, url: str, fmt: str, components: tuple[str, ...] | None, language: str, contact: str,
                          seed: str | None, seed_check: str | None, now: datetime) -> WebhookSubscription: ...
    def save_webhook(self, webhook_id: str, components: tuple[str, ...] | None, language: str,
                     now: datetime) -> WebhookSubscription | None: ...
    def rotate_webhook(self, webhook_id: str, replaces: str, seed: str, seed_check: str,
                       now: datetime) -> WebhookSubscription | None: ...
    def webhooks(self) -> list[WebhookSubscription]: ...
    def erase(self, email: str, now: datetime) -> dict[str, int]: ...
    def export(self, email: str) -> dict[str, Any]: ...
    def close(self) -> None: ...


class SqliteSubscriptionStore:
    """The default store: one SQLite file (WAL), shared by the service's threads.

    `readonly` opens an existing store without changing it (the notifier's view); it
    must already have the current schema.
    """

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = path
        self._lock = threading.Lock()
        if readonly:
            self._db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False,
                                       isolation_level=None)
        else:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            path.chmod(0o600)  # it holds addresses
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=5000")  # the notifier may read while the service writes
        if readonly:
            self._check_version(self._version(), exact=True)
        else:
            self._migrate()
        self._salt = bytes.fromhex(self._meta("salt") or "")

    def close(self) -> None:
        self._db.close()

    # ── schema ────────────────────────────────────────────────────────────────────

    def schema_version(self) -> int:
        return self._version()

    def reachable(self) -> bool:
        """Whether the store answers (`/healthz`)."""
        try:
            with self._lock:
                self._db.execute("SELECT 1 FROM meta LIMIT 1").fetchall()
        except sqlite3.Error:
            return False
        return True

    def writable(self) -> bool:
        """Whether a write commits (`/healthz`)."""
        try:
            self.check_writable()
        except DatabaseError:
            return False
        return True

    def check_writable(self) -> None:
        """A DatabaseError saying why a write does not commit: a file or folder made
        read-only (the WAL cannot be created), a full disk, a lock held elsewhere past the
        busy timeout. It writes a random value into one row of its own (SQLite skips a
        write that changes nothing): a page of WAL."""
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES ('write_check', ?)", (secrets.token_hex(8),))

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, as stored: what `statusgen db copy` moves to PostgreSQL."""
        with self._lock:
            return {table: self._db.execute(f"SELECT * FROM {table}").fetchall()
                    for table in ("meta", "subscriptions", "unsubscribes", "rate_limits", "webhooks")}

    def _version(self) -> int:
        try:
            return int(self._meta("schema_version") or 0)
        except sqlite3.OperationalError as error:
            if "no such table" not in str(error):  # locked by another program, or unreadable: say that
                raise
            return 0  # no meta table: an empty file

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _check_version(self, found: int, exact: bool = False) -> None:
        if found > SCHEMA_VERSION:
            raise RuntimeError(f"{self.path}: made by a newer statusgen (schema {found}; this one knows "
                               f"{SCHEMA_VERSION})")
        if exact and found != SCHEMA_VERSION:
            raise RuntimeError(f"{self.path}: schema {found}, expected {SCHEMA_VERSION}; start the "
                               "subscription service once to upgrade it")

    def _migrate(self) -> None:
        """Apply the migrations this file has not had yet, each in its own transaction."""
        with self._transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute("INSERT OR IGNORE INTO meta VALUES ('salt', ?)", (secrets.token_hex(32),))
        self._check_version(self._version())
        for number in range(self._version() + 1, SCHEMA_VERSION + 1):
            with self._transaction() as db:
                if self._version() >= number:  # another process got there first
                    continue
                migration = MIGRATIONS[number - 1]
                if callable(migration):
                    migration(db)
                else:
                    for statement in migration:
                        db.execute(statement)
                db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(number),))

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction. A store that cannot be written (read-only, full, locked
        past the busy timeout) is a `DatabaseError` naming the file: the service answers
        503 for it, as for a database that does not answer, and nothing was changed."""
        with self._lock, self._unwritable():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:  # SQLite rolls back by itself after an I/O error or a full disk
                    self._db.execute("ROLLBACK")
                raise
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    @contextmanager
    def _unwritable(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as error:
            if not getattr(error, "sqlite_errorname", "").startswith(STORAGE_FAILURES):
                raise  # a mistake in a statement stays a mistake (500, with its traceback in the log)
            raise DatabaseError(f"the subscription store {self.path} cannot be written: {error} "
                                f"({error.sqlite_errorname})") from None

    # ── subscriptions ─────────────────────────────────────────────────────────────

    def find(self, email: str) -> Subscription | None:
        with self._lock:
            return self._find(self._db, address_key(email))

    @staticmethod
    def _find(db: sqlite3.Connection, key: str) -> Subscription | None:
        row = db.execute("SELECT email, components, language, state, created_at, requested_at, confirmed_at"
                         " FROM subscriptions WHERE address = ?", (key,)).fetchone()
        return _subscription(row) if row else None

    def request(self, email: str, components: tuple[str, ...] | None, language: str, now: datetime) -> str:
        """Someone sent the form for `email`; returns what the address was before: `new`
        (unknown or unsubscribed), `pending` or `confirmed`. Every case writes one row, so
        the work (and time) does not tell them apart. A confirmed subscription keeps its
        choices: only its owner changes them, through the manage link."""
        key, at = address_key(email), _iso(now)
        with self._transaction() as db:
            found = self._find(db, key)
            if found is None:
                db.execute("INSERT INTO subscriptions VALUES (?, ?, ?, ?, 'pending', ?, ?, NULL, ?)",
                           (key, email, _json(components), language, at, at, at))
                return "new"
            if found.state == "pending":
                db.execute("UPDATE subscriptions SET email = ?, components = ?, language = ?, requested_at = ?,"
                           " updated_at = ? WHERE address = ?", (email, _json(components), language, at, at, key))
            else:
                db.execute("UPDATE subscriptions SET requested_at = ? WHERE address = ?", (at, key))
            return found.state

    def confirm(self, email: str, now: datetime) -> Subscription | None:
        """pending → confirmed, and the address leaves the suppression list; None if there is
        no subscription to confirm (never asked for, expired, or unsubscribed since)."""
        key, at = address_key(email), _iso(now)
        with self._transaction() as db:
            found = self._find(db, key)
            if found is None:
                return None
            if found.state == "pending":
                db.execute("UPDATE subscriptions SET state = 'confirmed', confirmed_at = ?, updated_at = ?"
                           " WHERE address = ?", (at, at, key))
            db.execute("DELETE FROM unsubscribes WHERE digest = ?", (self.digest(key),))
            return self._find(db, key)

    def save(self, email: str, components: tuple[str, ...] | None, language: str, now: datetime) -> Subscription:
        """The owner's own choices (through a signed manage link): a confirmed subscription."""
        key, at = address_key(email), _iso(now)
        with self._transaction() as db:
            db.execute(
                "INSERT INTO subscriptions VALUES (?, ?, ?, ?, 'confirmed', ?, ?, ?, ?)"
                " ON CONFLICT (address) DO UPDATE SET components = excluded.components, language ="
                " excluded.language, state = 'confirmed', confirmed_at = coalesce(confirmed_at, excluded.confirmed_at),"
                " updated_at = excluded.updated_at",
                (key, email, _json(components), language, at, at, at, at))
            found = self._find(db, key)
        assert found is not None
        return found

    def unsubscribe(self, email: str, now: datetime) -> None:
        """Suppress the address and forget its subscription; doing it again changes nothing.
        A webhook's key (`webhook:URL`) suppresses the URL (named `webhook:ID` in the list)
        and ends its subscription, which stays as `unsubscribed`."""
        key, shown = address_key(email), suppressed_as(email)
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO unsubscribes VALUES (?, ?, ?)", (self.digest(key), shown, _iso(now)))
            if shown.startswith(WEBHOOK):
                db.execute(f"UPDATE webhooks SET {_ENDED} WHERE id = ?", (_iso(now), shown[len(WEBHOOK):]))
            else:
                db.execute("DELETE FROM subscriptions WHERE address = ?", (key,))

    def is_suppressed(self, email: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM unsubscribes WHERE digest = ?",
                                    (self.digest(email),)).fetchone() is not None

    def subscriptions(self) -> list[Subscription]:
        with self._lock:
            rows = self._db.execute("SELECT email, components, language, state, created_at, requested_at,"
                                    " confirmed_at FROM subscriptions ORDER BY address").fetchall()
        return [_subscription(row) for row in rows]

    def suppressions(self) -> list[Suppression]:
        with self._lock:
            rows = self._db.execute("SELECT digest, address, at FROM unsubscribes ORDER BY address, digest").fetchall()
        return [Suppression(*row) for row in rows]

    def digest(self, email: str) -> str:
        """A salted digest of the address: the salt is random per store, so the digests of
        one store say nothing about another's, nor can a table of known addresses be
        precomputed for them."""
        return hmac.new(self._salt, address_key(email).encode(), hashlib.sha256).hexdigest()

    # ── webhooks ──────────────────────────────────────────────────────────────────

    def find_webhook(self, webhook_id: str) -> WebhookSubscription | None:
        with self._lock:
            return self._find_webhook(self._db, webhook_id)

    @staticmethod
    def _find_webhook(db: sqlite3.Connection, ident: str) -> WebhookSubscription | None:
        row = db.execute(f"SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?", (ident,)).fetchone()
        return _webhook(row) if row else None

    def request_webhook(self, url: str, fmt: str, components: tuple[str, ...] | None, language: str, contact: str,
                        now: datetime) -> tuple[str, WebhookSubscription]:
        """Someone sent the webhook form for `url`: what it was before (`new`, `pending` or
        `confirmed`; an unsubscribed one counts as new) and the row now. One row written in
        every case. A confirmed subscription keeps its choices and its contact: only that
        contact changes them (the manage link); any other becomes pending with these."""
        ident, at = ids.webhook_id(url), _iso(now)
        with self._transaction() as db:
            found = self._find_webhook(db, ident)
            if found is None:
                db.execute("INSERT INTO webhooks (id, url, format, components, language, contact, state, created_at,"
                           " requested_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
                           (ident, url.strip(), fmt, _json(components), language, contact, at, at, at))
            elif found.state == "confirmed":
                db.execute("UPDATE webhooks SET requested_at = ? WHERE id = ?", (at, ident))
            else:
                db.execute("UPDATE webhooks SET format = ?, components = ?, language = ?, contact = ?,"
                           " state = 'pending', requested_at = ?, updated_at = ? WHERE id = ?",
                           (fmt, _json(components), language, contact, at, at, ident))
            now_found = self._find_webhook(db, ident)
        assert now_found is not None
        before = "confirmed" if found and found.state == "confirmed" else "pending" if found and \
            found.state == "pending" else "new"
        return before, now_found

    def confirm_webhook(self, webhook_id: str, seed: str | None, seed_check: str | None,
                        now: datetime) -> tuple[WebhookSubscription | None, bool]:
        """pending → confirmed with `seed` (None: unsigned), and the URL leaves the
        suppression list; (the row, whether this call confirmed it). None if nothing is
        pending or confirmed under that id (expired, cancelled, never asked for)."""
        at = _iso(now)
        with self._transaction() as db:
            found = self._find_webhook(db, webhook_id)
            if found is None or found.state == "unsubscribed":
                return None, False
            if found.state == "confirmed":
                return found, False
            db.execute(f"UPDATE webhooks SET {_CONFIRMED} WHERE id = ?", (seed, seed_check, at, at, webhook_id))
            db.execute("DELETE FROM unsubscribes WHERE digest = ?", (self.digest(found.key),))
            return self._find_webhook(db, webhook_id), True

    def subscribe_webhook(self, url: str, fmt: str, components: tuple[str, ...] | None, language: str, contact: str,
                          seed: str | None, seed_check: str | None, now: datetime) -> WebhookSubscription:
        """A confirmed subscription without the contact's confirmation (an import of
        subscribers who confirmed elsewhere); one already confirmed is left as it is."""
        self.request_webhook(url, fmt, components, language, contact, now)
        found, _ = self.confirm_webhook(ids.webhook_id(url), seed, seed_check, now)
        assert found is not None
        return found

    def save_webhook(self, webhook_id: str, components: tuple[str, ...] | None, language: str,
                     now: datetime) -> WebhookSubscription | None:
        """The contact's own choices (through a signed manage link), for a confirmed one."""
        at = _iso(now)
        with self._transaction() as db:
            db.execute("UPDATE webhooks SET components = ?, language = ?, updated_at = ? WHERE id = ?"
                       " AND state = 'confirmed'", (_json(components), language, at, webhook_id))
            found = self._find_webhook(db, webhook_id)
        return found if found and found.state == "confirmed" else None

    def rotate_webhook(self, webhook_id: str, replaces: str, seed: str, seed_check: str,
                       now: datetime) -> WebhookSubscription | None:
        """A new seed for a confirmed subscription whose seed is still `replaces` (so a
        rotation link works once); the old one signs beside it for a while. None otherwise."""
        at = _iso(now)
        with self._transaction() as db:
            changed = db.execute(f"UPDATE webhooks SET {_ROTATED} WHERE id = ? AND state = 'confirmed' AND seed = ?",
                                 (seed, seed_check, at, at, webhook_id, replaces)).rowcount
            return self._find_webhook(db, webhook_id) if changed else None

    def webhooks(self) -> list[WebhookSubscription]:
        with self._lock:
            rows = self._db.execute(f"SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY id").fetchall()
        return [_webhook(row) for row in rows]

    # ── abuse and housekeeping ────────────────────────────────────────────────────

    def hit(self, bucket: str, limit: int, window: timedelta, now: datetime) -> int:
        """Count one hit in `bucket`; 0 if within `limit` hits per `window`, else the
        seconds until the window ends (what Retry-After says)."""
        stamp, length = int(now.timestamp()), int(window.total_seconds())
        name = self.digest(bucket)
        with self._transaction() as db:
            row = db.execute("SELECT window_start, hits FROM rate_limits WHERE bucket = ?", (name,)).fetchone()
            if row is None or stamp >= row[0] + length:
                start, hits = stamp, 1
            else:
                start, hits = row[0], row[1] + 1
            db.execute("INSERT OR REPLACE INTO rate_limits VALUES (?, ?, ?, ?)", (name, start, length, hits))
        return 0 if hits <= limit else max(1, start + length - stamp)

    def purge(self, now: datetime) -> int:
        """Forget unconfirmed subscriptions whose link has expired, and finished rate windows."""
        with self._transaction() as db:
            expired = _iso(now - PENDING_LIFETIME)
            gone = db.execute("DELETE FROM subscriptions WHERE state = 'pending' AND requested_at < ?",
                              (expired,)).rowcount
            gone += db.execute("DELETE FROM webhooks WHERE state = 'pending' AND requested_at < ?", (expired,)).rowcount
            db.execute(f"UPDATE webhooks SET {_ROTATION_DONE} WHERE rotated_at <= ?", (_iso(now - OVERLAP),))
            db.execute("DELETE FROM rate_limits WHERE window_start + window_seconds <= ?", (int(now.timestamp()),))
        return gone

    def erase(self, email: str, now: datetime) -> dict[str, int]:
        """Forget the address (a data-protection erasure): its subscription and rate-limit
        counters go; it stays suppressed, by digest only, so it is not mailed again."""
        key = address_key(email)
        digest = self.digest(key)
        with self._transaction() as db:
            contacted = [row[0] for row in db.execute("SELECT id, contact FROM webhooks").fetchall()
                         if address_key(row[1]) == key]
            removed = {
                "subscriptions": db.execute("DELETE FROM subscriptions WHERE address = ?", (key,)).rowcount,
                "webhooks": sum(db.execute("DELETE FROM webhooks WHERE id = ?", (ident,)).rowcount
                                for ident in contacted),
                "rate_limits": db.execute("DELETE FROM rate_limits WHERE bucket = ?",
                                          (self.digest(f"email:{key}"),)).rowcount,
            }
            db.execute("INSERT OR IGNORE INTO unsubscribes VALUES (?, NULL, ?)", (digest, _iso(now)))
            db.execute("UPDATE unsubscribes SET address = NULL WHERE digest = ?", (digest,))
        return removed

    def export(self, email: str) -> dict[str, Any]:
        """Everything this store holds about the address (a data-protection request)."""
        key = address_key(email)
        found = self.find(key)
        with self._lock:
            suppression = self._db.execute("SELECT address, at FROM unsubscribes WHERE digest = ?",
                                           (self.digest(key),)).fetchone()
            counter = self._db.execute("SELECT window_start, window_seconds, hits FROM rate_limits WHERE bucket = ?",
                                       (self.digest(f"email:{key}"),)).fetchone()
        return {
            "subscription": None if found is None else {
                "email": found.email, "state": found.state, "language": found.language,
                "components": list(found.components) if found.components is not None else None,
                "created_at": found.created_at, "requested_at": found.requested_at,
                "confirmed_at": found.confirmed_at},
            "suppression": None if suppression is None else {
                "address": suppression[0], "since": suppression[1], "erased": suppression[0] is None},
            "email_rate_limit": None if counter is None else {
                "window_start": datetime.fromtimestamp(counter[0], UTC).isoformat(timespec="seconds"),
                "window_seconds": counter[1], "emails_requested": counter[2]},
            "webhooks": contact_of(self.webhooks(), key),
        }


def contact_of(webhooks: list[WebhookSubscription], key: str) -> list[dict[str, Any]]:
    """The webhook subscriptions whose contact is the address `key`, as an export shows them."""
    return [hook.exported() for hook in webhooks if address_key(hook.contact) == key]


def suppressed_as(email: str) -> str:
    """How a suppression entry names what it suppresses: the address, or `webhook:ID`."""
    if email.startswith(WEBHOOK):
        return f"{WEBHOOK}{ids.webhook_id(email[len(WEBHOOK):])}"
    return address_key(email)


WEBHOOK_COLUMNS = ("id, url, format, components, language, contact, state, created_at, requested_at, confirmed_at,"
                   " seed, seed_check, previous_seed, rotated_at")
_ENDED = ("state = 'unsubscribed', seed = NULL, seed_check = NULL, previous_seed = NULL, rotated_at = NULL,"
          " updated_at = ?")
_CONFIRMED = "state = 'confirmed', seed = ?, seed_check = ?, previous_seed = NULL, confirmed_at = ?, updated_at = ?"
_ROTATED = "previous_seed = seed, seed = ?, seed_check = ?, rotated_at = ?, updated_at = ?"
_ROTATION_DONE = "previous_seed = NULL, rotated_at = NULL"


def _webhook(row: tuple[Any, ...]) -> WebhookSubscription:
    (ident, url, fmt, components, language, contact, state, created_at, requested_at, confirmed_at, seed,
     seed_check, previous_seed, rotated_at) = row
    chosen = json.loads(components) if components is not None else None
    return WebhookSubscription(ident, url, fmt, tuple(chosen) if chosen is not None else None, language, contact,
                               state, created_at, requested_at, confirmed_at, seed, seed_check, previous_seed,
                               rotated_at)


def _subscription(row: tuple[Any, ...]) -> Subscription:
    email, components, language, state, created_at, requested_at, confirmed_at = row
    chosen = json.loads(components) if components is not None else None
    return Subscription(email, tuple(chosen) if chosen is not None else None, language, state,
                        created_at, requested_at, confirmed_at)


def _json(components: tuple[str, ...] | None) -> str | None:
    return None if components is None else json.dumps(list(components))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")
