"""PostgreSQL, the shared store: which database, connecting, and versioned migrations.

    --db URL  or  STATUSGEN_DATABASE_URL  ──database_url──▶ postgresql://user@host:port/db
        ──connect──▶ a psycopg connection   (or one line: which URL, without its password, and why not)
        ──upgrade──▶ every migration not yet applied, in order, exactly once (an advisory lock)
        ──require_current──▶ the schema this statusgen knows, or "run statusgen db upgrade"
        ──database_problems──▶ the doctor's check: reachable, logged in, every schema current

Without a URL nothing here is used: the stores are SQLite files under `.statusgen/`.
Each store (the notifier's, the subscription service's) owns its migrations, a list of
`Migration`s under its own name in the `schema_migrations` table, so each can evolve on
its own. psycopg is imported only when a database is used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from statusgen.errors import StatusgenError

if TYPE_CHECKING:
    import psycopg

DATABASE_VARIABLE = "STATUSGEN_DATABASE_URL"
SCHEMES = ("postgresql", "postgres")
MIGRATION_LOCK = 0x5747_0001
"""The advisory lock key that serialises `upgrade` between processes (any constant will do,
as long as every statusgen uses the same one)."""
CONNECT_TIMEOUT = 10


class DatabaseError(StatusgenError):
    """The database cannot be used: unreachable, refused the login, wrong schema, lost."""


@dataclass(frozen=True)
class Migration:
    """One step of a store's schema: applied once, in order of `version` (1, 2, 3, ...)."""

    version: int
    name: str
    sql: str


def database_url(env: Mapping[str, str], option: str | None = None) -> str | None:
    """The database chosen by `--db URL`, else `STATUSGEN_DATABASE_URL`; None means SQLite."""
    chosen = (option or env.get(DATABASE_VARIABLE, "")).strip()
    if not chosen:
        return None
    if not is_database_url(chosen):
        where = "--db" if option else DATABASE_VARIABLE
        raise DatabaseError(f"{where}: expected a URL such as postgresql://user@host:5432/statusgen; "
                            f"found {redacted(chosen)!r}")
    return chosen


def is_database_url(value: str) -> bool:
    return urlsplit(value).scheme in SCHEMES


def redacted(url: str) -> str:
    """The URL as it may be printed: the password replaced by `***`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def connect(url: str, **options: Any) -> psycopg.Connection[Any]:
    """A connection, or a `DatabaseError` in one line naming the URL (without its password)."""
    import psycopg

    try:
        return psycopg.connect(url, **{"connect_timeout": CONNECT_TIMEOUT, **options})
    except psycopg.Error as error:
        raise DatabaseError(f"cannot connect to the database {redacted(url)}: {reason(error)}") from None


def reason(error: Exception) -> str:
    """psycopg's message, on one line."""
    text = " ".join(str(error).split())
    return text or type(error).__name__


def upgrade(db: psycopg.Connection[Any], store: str, migrations: Sequence[Migration]) -> list[Migration]:
    """Apply the migrations of `store` that are not applied yet, in order, each recorded in
    `schema_migrations` beside its changes; returns those applied. It is one transaction:
    a migration that fails leaves the schema as it was. Two processes upgrading at once
    take turns on an advisory lock, so each migration runs exactly once."""
    _check_order(store, migrations)
    applied = []
    with db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        _ensure_table(db)
        done = _applied(db, store)
        _refuse_newer(store, done, migrations)
        for migration in migrations:
            if migration.version in done:
                continue
            with db.transaction():
                db.execute(migration.sql)  # type: ignore[arg-type]
                db.execute("INSERT INTO schema_migrations (store, version, name) VALUES (%s, %s, %s)",
                           (store, migration.version, migration.name))
            applied.append(migration)
    return applied


def require_current(db: psycopg.Connection[Any], store: str, migrations: Sequence[Migration], url: str) -> None:
    """Refuse a schema older or newer than this statusgen knows, naming what to run."""
    exists = db.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    done = _applied(db, store) if exists and exists[0] else set()
    db.commit()
    known = {m.version for m in migrations}
    if done - known:
        raise DatabaseError(f"the database {redacted(url)} has {store} schema version {max(done)}, newer than this "
                            f"statusgen knows ({max(known)}): upgrade statusgen")
    if known - done:
        raise DatabaseError(f"the database {redacted(url)} has {store} schema version {max(done, default=0)}, this "
                            f"statusgen needs {max(known)}: run `statusgen db upgrade`")


def database_problems(url: str, stores: Sequence[tuple[str, Sequence[Migration]]], setting: str = DATABASE_VARIABLE,
                      timeout: float = CONNECT_TIMEOUT) -> list[str]:
    """What stops statusgen from using the database at `url` (the doctor's check), one line
    each: it cannot be reached in `timeout` seconds or refuses the login (naming `setting`
    and the URL without its password), or a store's schema is older or newer than this
    statusgen knows (naming `statusgen db upgrade`). Reads only."""
    import psycopg

    try:
        db = connect(url, connect_timeout=max(1, round(timeout)))
    except DatabaseError as error:
        return [f"{setting}: {error}"]
    try:
        return [f"{setting}: {problem}" for store, migrations in stores
                if (problem := _schema_problem(db, store, migrations, url))]
    except psycopg.Error as error:
        return [f"{setting}: the database {redacted(url)} failed while its schema was read: {reason(error)}"]
    finally:
        db.close()


def _schema_problem(db: psycopg.Connection[Any], store: str, migrations: Sequence[Migration], url: str) -> str:
    try:
        require_current(db, store, migrations, url)
    except DatabaseError as error:
        return str(error)
    return ""


def schema_version(db: psycopg.Connection[Any], store: str) -> int:
    exists = db.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    return max(_applied(db, store), default=0) if exists and exists[0] else 0


def _ensure_table(db: psycopg.Connection[Any]) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (store TEXT NOT NULL, version INTEGER NOT NULL,"
               " name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (store, version))")


def _applied(db: psycopg.Connection[Any], store: str) -> set[int]:
    return {row[0] for row in db.execute("SELECT version FROM schema_migrations WHERE store = %s", (store,))}


def _check_order(store: str, migrations: Sequence[Migration]) -> None:
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"{store}: migrations must be numbered 1, 2, 3, ... in order; found {versions}")


def _refuse_newer(store: str, done: set[int], migrations: Sequence[Migration]) -> None:
    unknown = done - {m.version for m in migrations}
    if unknown:
        raise DatabaseError(f"the database has {store} schema version {max(unknown)}, newer than this statusgen "
                            "knows: upgrade statusgen")
