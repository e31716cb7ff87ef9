"""Which notifier store a command uses: the SQLite file (the default) or PostgreSQL.

    --store PATH|URL  ─else─▶  STATUSGEN_DATABASE_URL  ─else─▶  SITE/.statusgen/notify.db
        ──open_store──▶ SqliteNotifyStore | PostgresNotifyStore   (both a NotifyStore)

One place decides, for `notify`, the doctor's store check and `statusgen subscribers
export|remove`. A `postgresql://` URL means the shared database (and, given on the command
line, the subscription store's database as well: `cli` passes it on as the environment).
psycopg is imported only when a URL is chosen.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from statusgen.database import DATABASE_VARIABLE, DatabaseError, database_url, is_database_url, redacted
from statusgen.notifier.store import NotAStore, NotifyStore, SqliteNotifyStore, default_store, foreign_tables


@dataclass(frozen=True)
class StoreLocation:
    """Where the notifier store is: a SQLite file or a database URL, and which setting
    chose it (`--store`, `STATUSGEN_DATABASE_URL`, or "" for the site's default file)."""

    path: Path | None = None
    url: str | None = None
    setting: str = ""

    def __str__(self) -> str:
        return redacted(self.url) if self.url else str(self.path)


def store_location(site_dir: Path, chosen: Path | str | None, env: Mapping[str, str]) -> StoreLocation:
    """`chosen` (`--store`, a path or a URL), else the environment's database, else the site's file."""
    if isinstance(chosen, str) and is_database_url(chosen):
        return StoreLocation(url=chosen, setting="--store")
    if chosen:
        return StoreLocation(path=Path(chosen), setting="--store")
    url = database_url(env)
    if url:
        return StoreLocation(url=url, setting=DATABASE_VARIABLE)
    return StoreLocation(path=default_store(site_dir))


def open_store(location: StoreLocation, clock: Callable[[], datetime] | None = None) -> NotifyStore:
    """The store itself; a database must be reachable and its schema current (else a
    one-line `DatabaseError` naming `statusgen db upgrade`)."""
    if location.url:
        from statusgen.notifier.pgstore import PostgresNotifyStore

        return PostgresNotifyStore(location.url, clock)
    assert location.path is not None
    return SqliteNotifyStore(location.path, clock)


def existing_store(location: StoreLocation) -> NotifyStore | None:
    """The store if there is one (never creates a SQLite file): for the ops tools."""
    if location.path is not None and not location.path.is_file():
        return None
    return open_store(location)


def store_state(location: StoreLocation) -> str:
    """`missing`, `empty` (no baseline recorded yet) or `baselined`, changing nothing.
    Raises sqlite3.Error for a file that is not a store, DatabaseError for a database that
    cannot be reached or whose schema is not current."""
    if location.url:
        store = open_store(location)
        try:
            return "baselined" if store.is_baselined() else "empty"
        finally:
            store.close()
    assert location.path is not None
    return _file_state(location.path)


def _file_state(path: Path) -> str:
    if not path.is_file():
        return "missing"
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = set(foreign_tables(db))
        return "baselined" if "snapshot" in tables and db.execute("SELECT 1 FROM snapshot").fetchone() else "empty"
    finally:
        db.close()


def chosen_by(location: StoreLocation) -> str:
    """Which setting chose the store, for a message that names what to change."""
    return f"chosen by {location.setting}" if location.setting else "the site's default; --store PATH chooses another"


def store_failure(location: StoreLocation, error: sqlite3.Error | OSError) -> DatabaseError:
    """A SQLite store that cannot be used, as one line: which file, which setting chose it,
    what SQLite (or the system) said and what to do. Locked and read-only stores lose
    nothing (a run stops before it hands over a message it could not record: the next run
    sends it); a damaged one or another program's file is to be restored or replaced."""
    text = str(error) if isinstance(error, sqlite3.Error) else (error.strerror or str(error))
    where = f"the notifier store {location} ({chosen_by(location)})"
    if isinstance(error, NotAStore) or "malformed" in text or "not a database" in text:
        return DatabaseError(f"{where} cannot be used: {text}; restore it from a backup or pass --store with the "
                             "right file (without one, move it away and run `statusgen notify --since TIME` once)")
    if "locked" in text:
        advice = "another program holds it (a second notify waits for the first by itself)"
    elif "readonly" in text or "read-only" in text or isinstance(error, PermissionError) or "unable to open" in text:
        advice = "make the file and its folder writable for this user"
    else:
        advice = "see that its disk has room and can be written"
    return DatabaseError(f"{where} cannot be written: {text}; {advice}, then run notify again: it sends what is "
                         "left, nothing twice")
