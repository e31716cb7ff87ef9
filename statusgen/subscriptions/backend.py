"""Which subscription store, and opening it: the one place that chooses between SQLite and
PostgreSQL, for the service, the ops commands, the checks and the notifier's audience.

    --db PATH|URL                      ─┐  (the first one given wins)
    STATUSGEN_DATABASE_URL (a URL)      ├─store_location─▶ StoreLocation ─open_store─▶ SubscriptionStore
    STATUSGEN_SUBSCRIPTIONS_DB (a file) │                   (path | url)              (SQLite | PostgreSQL)
    SITE/.statusgen/subscriptions.db   ─┘

A `postgresql://` URL, from `--db` or `STATUSGEN_DATABASE_URL`, means the PostgreSQL
database that the notifier's store shares; anything else a SQLite file, as before.
psycopg is imported only when a URL is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from statusgen.database import DATABASE_VARIABLE, database_url, is_database_url, redacted
from statusgen.subscriptions.store import DB_VARIABLE, SqliteSubscriptionStore, SubscriptionStore, subscriptions_db


@dataclass(frozen=True)
class StoreLocation:
    """A SQLite file (`path`) or a PostgreSQL database (`url`): exactly one of them."""

    path: Path | None = None
    url: str | None = None
    setting: str = field(default="", compare=False)
    """What chose it (`--db`, `STATUSGEN_DATABASE_URL`, `STATUSGEN_SUBSCRIPTIONS_DB`; "" the
    site's own file): the setting a problem with the store names."""

    def __str__(self) -> str:
        """What may be printed: the URL without its password, or the file."""
        return redacted(self.url) if self.url else str(self.path)

    def exists(self) -> bool:
        """A database is there to be asked; a file must exist (the notifier never makes one)."""
        return self.url is not None or (self.path is not None and self.path.is_file())


def store_location(site_dir: Path, env: Mapping[str, str], option: str | Path | None = None) -> StoreLocation:
    """The store `--db` names (a file or a URL), else the database of `STATUSGEN_DATABASE_URL`,
    else the file of `STATUSGEN_SUBSCRIPTIONS_DB`, else the site's own file."""
    chosen = str(option).strip() if option else ""
    if chosen and not is_database_url(chosen):
        return StoreLocation(path=Path(chosen), setting="--db")
    url = database_url(env, chosen or None)
    if url:
        return StoreLocation(url=url, setting="--db" if chosen else DATABASE_VARIABLE)
    return StoreLocation(path=subscriptions_db(site_dir, env), setting=DB_VARIABLE if env.get(DB_VARIABLE, "").strip() else "")


def open_store(location: StoreLocation, readonly: bool = False, connections: int = 1) -> SubscriptionStore:
    """The store at `location`; `connections` is the PostgreSQL pool's size (the service:
    one per thread). Raises DatabaseError (PostgreSQL) or sqlite3.Error / RuntimeError."""
    if location.url:
        from statusgen.subscriptions.pgstore import PostgresSubscriptionStore

        return PostgresSubscriptionStore(location.url, readonly=readonly, connections=connections)
    assert location.path is not None
    return SqliteSubscriptionStore(location.path, readonly=readonly)
