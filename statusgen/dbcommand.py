"""`statusgen db upgrade|copy`: the PostgreSQL database that both stores share.

    db upgrade [--db URL]     every store's migrations not yet applied, in order, exactly once
                              (`database.upgrade`: two at once take turns on an advisory lock)
    db copy --site DIR --to URL [--store PATH] [--db PATH]
        the site's SQLite stores ─▶ ONE transaction: upgrade the schema, refuse unless each
        store copied is empty there, copy every row (each store's `copy_sqlite`) ─▶ commit

A store whose file is not there is skipped, and its rows in the database are left alone:
where notify runs in CI and the service on its own host, each copies its own store.

Each store owns its schema and its copy (`notifier.pgstore`, `subscriptions.pgstore`); this
module runs them together. Nothing here reads the clock or sends anything.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from statusgen.database import DATABASE_VARIABLE, DatabaseError, Migration, connect, database_url, is_database_url
from statusgen.database import reason, redacted, schema_version, upgrade
from statusgen.errors import UsageError


def stores() -> tuple[ModuleType, ...]:
    """The stores in the database, each a module with STORE, MIGRATIONS, is_empty and
    copy_sqlite (imported on use: they load psycopg, which no other command needs)."""
    from statusgen.notifier import pgstore as notifier_pgstore
    from statusgen.subscriptions import pgstore as subscriptions_pgstore

    return notifier_pgstore, subscriptions_pgstore


@dataclass(frozen=True)
class Upgraded:
    """One store after `db upgrade`: the migrations applied now (none: it was current)."""

    store: str
    applied: tuple[Migration, ...]
    version: int


@dataclass(frozen=True)
class Copied:
    """One SQLite store copied: rows per table, in the order the store returned them."""

    store: str
    source: Path
    tables: tuple[tuple[str, int], ...]

    @property
    def rows(self) -> int:
        return sum(count for _, count in self.tables)


@dataclass(frozen=True)
class CopyReport:
    url: str
    """Without its password."""
    upgraded: tuple[Upgraded, ...]
    copied: tuple[Copied, ...]
    skipped: tuple[tuple[str, Path], ...]
    """(store, path) of every SQLite store that was not there."""


# ── upgrade ───────────────────────────────────────────────────────────────────────────

def upgrade_database(url: str) -> list[Upgraded]:
    """Apply every store's migrations that the database at `url` has not had yet."""
    with _failures(url, "upgrading the schema", "what was applied before stays applied"), connect(url) as db:
        return _upgrade_all(db)


def _upgrade_all(db: Any) -> list[Upgraded]:
    done = []
    for store in stores():
        applied = upgrade(db, store.STORE, store.MIGRATIONS)
        done.append(Upgraded(store.STORE, tuple(applied), schema_version(db, store.STORE)))
    return done


# ── copy ──────────────────────────────────────────────────────────────────────────────

def sqlite_stores(site_dir: Path, env: Mapping[str, str], notify_db: Path | None = None,
                  subscriptions: Path | None = None) -> dict[str, Path]:
    """The SQLite file of each store: as named, else where notify and the service keep it."""
    from statusgen.notifier.store import default_store
    from statusgen.subscriptions.store import subscriptions_db

    notifier, subscription = stores()
    return {notifier.STORE: notify_db or default_store(site_dir),
            subscription.STORE: subscriptions or subscriptions_db(site_dir, env)}


def copy_stores(sources: Mapping[str, Path], url: str) -> CopyReport:
    """Copy the SQLite stores at `sources` (store name → file; a missing file is skipped) into
    the database at `url`, all in one transaction: the schema is upgraded first, and a
    database where a store to be copied already holds rows is refused with nothing written."""
    present = {name: path for name, path in sources.items() if path.is_file()}
    skipped = tuple((name, path) for name, path in sources.items() if name not in present)
    if not present:
        raise UsageError("db copy: nothing to copy: " + " and ".join(f"no {name} store at {path}"
                                                                     for name, path in skipped)
                         + "; name the files with --store and --db")
    with _failures(url, "copying", "nothing was written"), connect(url) as db, db.transaction():
        # upgrade's advisory lock is held until this transaction ends, so a second copy
        # waits here and then finds the stores full
        upgraded = _upgrade_all(db)
        _refuse_unless_empty(db, url, set(present))
        copied = tuple(_copy(store, present[store.STORE], db) for store in stores() if store.STORE in present)
    return CopyReport(redacted(url), tuple(upgraded), copied, skipped)


def _refuse_unless_empty(db: Any, url: str, copying: set[str]) -> None:
    full = [store.STORE for store in stores() if store.STORE in copying and not store.is_empty(db)]
    if full:
        raise DatabaseError(f"the database {redacted(url)} already holds {' and '.join(full)} data: db copy only "
                            "fills empty stores, to never mix two deployments; nothing was written")


def _copy(store: ModuleType, source: Path, db: Any) -> Copied:
    try:
        tables = store.copy_sqlite(source, db)
    except sqlite3.Error as error:
        raise DatabaseError(f"{source}: cannot be read as the {store.STORE} store ({error}); "
                            "nothing was written") from None
    return Copied(store.STORE, source, tuple(tables.items()))


@contextmanager
def _failures(url: str, doing: str, outcome: str) -> Iterator[None]:
    """A database error on the way (a dropped connection, a failed statement) in one line."""
    import psycopg

    try:
        yield
    except psycopg.Error as error:
        raise DatabaseError(f"the database {redacted(url)} failed while {doing}: {reason(error)}; {outcome}") from None


# ── what the commands print ───────────────────────────────────────────────────────────

def upgrade_lines(done: list[Upgraded]) -> list[str]:
    lines = []
    for store in done:
        if store.applied:
            steps = ", ".join(f"{m.version} ({m.name})" for m in store.applied)
            lines.append(f"{store.store}: applied {steps}; schema version {store.version}")
        else:
            lines.append(f"{store.store}: schema version {store.version}, already current")
    return lines


def copy_lines(report: CopyReport) -> list[str]:
    lines = [f"no {store} store at {path}: skipped" for store, path in report.skipped]
    lines += upgrade_lines(list(report.upgraded))
    width = max((len(table) for store in report.copied for table, _ in store.tables), default=0)
    for store in report.copied:
        lines.append(f"copied the {store.store} store {store.source}:")
        lines += [f"  {table:<{width}}  {count:>7}" for table, count in store.tables]
    total = sum(store.rows for store in report.copied)
    lines.append(f"db copy: {total} rows of {len(report.copied)} store{'s' if len(report.copied) != 1 else ''} into "
                 f"{report.url}, in one transaction; the SQLite files were not changed. Set {DATABASE_VARIABLE} "
                 "to it for notify and the subscription service")
    return lines


# ── the command line ──────────────────────────────────────────────────────────────────

def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    db = commands.add_parser("db", help="the PostgreSQL database of both stores: upgrade, copy",
                             description="Prepare the PostgreSQL database that notify and the subscription service "
                                         f"share ({DATABASE_VARIABLE}).")
    actions = db.add_subparsers(dest="db_action", required=True, metavar="ACTION")
    upgrade_cmd = actions.add_parser("upgrade", help="apply the schema migrations not applied yet",
                                     description="Apply every store's schema migrations that the database has not "
                                                 "had yet, in order, once; run it on each release, before notify and "
                                                 "the service. Safe when two run at once.")
    upgrade_cmd.add_argument("--db", metavar="URL", help=f"postgresql://user@host:port/db (default: ${DATABASE_VARIABLE})")
    upgrade_cmd.set_defaults(run=_upgrade, quiet=False, verbose=False)
    copy_cmd = actions.add_parser("copy", parents=[common], help="copy a site's SQLite stores into PostgreSQL",
                                  description="Copy the notifier store and the subscription store of a site into "
                                              "PostgreSQL, in one transaction, refusing a store that already holds "
                                              "rows there; the SQLite files are left as they are.")
    copy_cmd.add_argument("--to", metavar="URL", required=True, help="the database: postgresql://user@host:port/db")
    copy_cmd.add_argument("--store", type=Path, help="the notifier store (default: SITE/.statusgen/notify.db)")
    copy_cmd.add_argument("--db", type=Path, help="the subscription store (default: $STATUSGEN_SUBSCRIPTIONS_DB, "
                                                  "else SITE/.statusgen/subscriptions.db)")
    copy_cmd.set_defaults(run=_copy_command)


def _upgrade(args: argparse.Namespace) -> int:
    url = database_url(os.environ, args.db)
    if url is None:
        raise UsageError(f"db upgrade: which database? pass --db postgresql://user@host:port/db or set "
                         f"{DATABASE_VARIABLE}")
    for line in upgrade_lines(upgrade_database(url)):
        print(line)
    return 0


def _copy_command(args: argparse.Namespace) -> int:
    if not is_database_url(args.to):
        raise UsageError(f"--to: expected a URL such as postgresql://user@host:5432/statusgen; "
                         f"found {redacted(args.to)!r}")
    site = args.site.resolve()
    report = copy_stores(sqlite_stores(site, os.environ, args.store, args.db), args.to)
    for line in copy_lines(report):
        print(line)
    return 0
