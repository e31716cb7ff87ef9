"""Helpers for tests that put statusgen's stores in a PostgreSQL database of the tests' own."""

from __future__ import annotations

import importlib
import importlib.util

from statusgen.database import connect, upgrade

STORE_MODULES = ("statusgen.notifier.pgstore", "statusgen.subscriptions.pgstore")
"""Every store's PostgreSQL module: `statusgen db upgrade` applies each one's MIGRATIONS."""


def upgrade_stores(url: str) -> str:
    """Apply the migrations of every store this statusgen has (what `statusgen db upgrade`
    does), so commands that open both stores find both schemas current; returns `url`."""
    with connect(url) as db:
        for name in STORE_MODULES:
            if importlib.util.find_spec(name) is None:  # a store still without its PostgreSQL module
                continue
            module = importlib.import_module(name)
            upgrade(db, module.STORE, module.MIGRATIONS)
    return url


def terminate_others(url: str) -> int:
    """Drop every other connection to the database of `url`, as a failing server or
    network would (`pg_terminate_backend`); returns how many there were."""
    with connect(url, autocommit=True) as db:
        rows = db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchall()
    return len(rows)
