"""The two backends of the subscription store, for tests that run against both: a SQLite
file, or a PostgreSQL database (a fresh one per test on the tests' own server) upgraded as
`statusgen db upgrade` does."""

from __future__ import annotations

import importlib
import importlib.util
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from statusgen.database import connect, upgrade
from statusgen.subscriptions.backend import StoreLocation, open_store
from statusgen.subscriptions.store import SubscriptionStore

BACKENDS = ("sqlite", "postgresql")

POSTGRES_STORES = ("statusgen.notifier.pgstore", "statusgen.subscriptions.pgstore")
"""Every store with PostgreSQL migrations (a module with STORE and MIGRATIONS), as far as
this statusgen has them."""


def upgraded(url: str) -> str:
    """Apply every store's migrations to the database at `url`, as `statusgen db upgrade`."""
    with connect(url) as db:
        for name in POSTGRES_STORES:
            if importlib.util.find_spec(name) is not None:
                module = importlib.import_module(name)
                upgrade(db, module.STORE, module.MIGRATIONS)
    return url


@dataclass(frozen=True)
class Backend:
    name: str
    location: StoreLocation

    @property
    def option(self) -> str:
        """What `--db` takes for it."""
        return self.location.url or str(self.location.path)

    @property
    def env(self) -> dict[str, str]:
        """The environment that chooses it (the SQLite file is the site's default one)."""
        return {"STATUSGEN_DATABASE_URL": self.location.url} if self.location.url else {}

    def open(self, readonly: bool = False) -> SubscriptionStore:
        return open_store(self.location, readonly=readonly)

    def rows(self, table: str) -> list[tuple[Any, ...]]:
        """A table as stored, to look at what the store keeps (digests, not addresses)."""
        if self.location.url:
            with connect(self.location.url) as db:
                return db.execute(f"SELECT * FROM {table}").fetchall()
        assert self.location.path is not None
        with sqlite3.connect(self.location.path) as db:
            return db.execute(f"SELECT * FROM {table}").fetchall()


def make_backend(name: str, sqlite_path: Path, database_url: Callable[[], str]) -> Backend:
    if name == "postgresql":
        return Backend(name, StoreLocation(url=upgraded(database_url())))
    return Backend(name, StoreLocation(path=sqlite_path))


def everything_in_the_database(url: str) -> str:
    """Every row of every table, as text: to prove an address is nowhere."""
    with connect(url) as db:
        tables = [name for (name,) in db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")]
        return "\n".join(str(row) for table in tables for row in db.execute(f'SELECT * FROM "{table}"'))
