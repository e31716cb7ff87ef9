"""STUB (engineer 3's branch only; the coordinator drops this commit and takes engineer 2's
real module): the subscription store's PostgreSQL contract, with one table, so that
`statusgen db upgrade|copy` can be built and tested before the real store is merged."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import psycopg

from statusgen.database import Migration

STORE = "subscriptions"
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "stub: unsubscribes", "CREATE TABLE subscription_unsubscribes (digest TEXT PRIMARY KEY,"
                                       " address TEXT UNIQUE, at TEXT NOT NULL)"),
)


def is_empty(db: psycopg.Connection[Any]) -> bool:
    return db.execute("SELECT NOT EXISTS (SELECT 1 FROM subscription_unsubscribes)").fetchone() == (True,)


def copy_sqlite(source: Path, db: psycopg.Connection[Any]) -> dict[str, int]:
    lite = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = lite.execute("SELECT digest, address, at FROM unsubscribes ORDER BY digest").fetchall()
    finally:
        lite.close()
    with db.cursor() as cursor:
        cursor.executemany("INSERT INTO subscription_unsubscribes (digest, address, at) VALUES (%s, %s, %s)", rows)
    return {"unsubscribes": len(rows)}
