"""STUB (engineer 3's branch only; the coordinator drops this commit and takes engineer 1's
real module): the notifier store's PostgreSQL contract, with one table, so that
`statusgen db upgrade|copy` can be built and tested before the real store is merged."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import psycopg

from statusgen.database import Migration

STORE = "notifier"
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "stub: announced", "CREATE TABLE notifier_announced (key TEXT PRIMARY KEY, at TEXT NOT NULL)"),
)


def is_empty(db: psycopg.Connection[Any]) -> bool:
    return db.execute("SELECT NOT EXISTS (SELECT 1 FROM notifier_announced)").fetchone() == (True,)


def copy_sqlite(source: Path, db: psycopg.Connection[Any]) -> dict[str, int]:
    lite = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = lite.execute("SELECT key, at FROM announced ORDER BY key").fetchall()
    finally:
        lite.close()
    with db.cursor() as cursor:
        cursor.executemany("INSERT INTO notifier_announced (key, at) VALUES (%s, %s)", rows)
    return {"announced": len(rows)}
