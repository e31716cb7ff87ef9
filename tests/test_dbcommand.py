"""`statusgen db upgrade|copy` against the tests' own PostgreSQL server (tests/pgserver.py),
with SQLite stores written by the real SQLite classes, and real processes racing each other."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from statusgen.database import connect, redacted, schema_version
from statusgen.dbcommand import copy_lines, stores, upgrade_database
from statusgen.notifier.store import SqliteNotifyStore
from statusgen.subscriptions.store import SqliteSubscriptionStore
from tests.conftest import ROOT, MakeSite
from tests.pgserver import Server

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
RunCli = Callable[..., tuple[int, str, str]]


@pytest.fixture(autouse=True)
def no_database_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATUSGEN_DATABASE_URL", raising=False)
    monkeypatch.delenv("STATUSGEN_SUBSCRIPTIONS_DB", raising=False)


def with_stores(site: Path, notifier: bool = True, subscriptions: bool = True) -> Path:
    """The SQLite stores of a site that ran for a while: a baseline; a subscription pending,
    one confirmed, one unsubscribed; rate counters."""
    if notifier:
        store = SqliteNotifyStore(site / ".statusgen" / "notify.db")
        store.record_baseline({"incident:a:created", "incident:a:update:1", "incident:b:created"}, {"incidents": {}})
        store.close()
    if subscriptions:
        service = SqliteSubscriptionStore(site / ".statusgen" / "subscriptions.db")
        service.request("pending@example.org", ("dcc-app",), "en", NOW)
        service.request("confirmed@example.org", None, "nl", NOW)
        service.confirm("confirmed@example.org", NOW)
        service.unsubscribe("gone@example.org", NOW)
        service.hit("client:192.0.2.1", 10, timedelta(minutes=10), NOW)
        service.close()
    return site


def rows(url: str) -> dict[str, int]:
    """Every table of the database (but the migrations' ledger) and its number of rows."""
    with connect(url) as db:
        tables = [name for (name,) in db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
            " ORDER BY tablename")]
        return {name: db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in tables}  # type: ignore[index]


def copied_by_the_stores(site: Path, server: Server) -> dict[str, dict[str, int]]:
    """What each store's copy_sqlite returns for the site's files, in a scratch database
    whose transaction is rolled back: what `db copy` must print."""
    scratch = server.create_database(f"scratch_{os.urandom(6).hex()}")
    upgrade_database(scratch)
    found = {}
    with connect(scratch) as db:
        for store, name in zip(stores(), ("notify.db", "subscriptions.db"), strict=True):
            found[store.STORE] = store.copy_sqlite(site / ".statusgen" / name, db)
        db.rollback()
    return found


def statusgen(*args: str | Path, **env: str) -> subprocess.Popen[str]:
    """`statusgen ARGS` as its own process (started, not waited for)."""
    return subprocess.Popen([sys.executable, "-m", "statusgen", *map(str, args)], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT), **env})


# ── db upgrade ────────────────────────────────────────────────────────────────────────

def test_upgrade_applies_every_migration_once_then_says_the_schema_is_current(run_cli: RunCli,
                                                                              database_url: str) -> None:
    code, out, err = run_cli("db", "upgrade", "--db", database_url)
    assert code == 0, err
    assert out.splitlines() == [
        f"{store.STORE}: applied " + ", ".join(f"{m.version} ({m.name})" for m in store.MIGRATIONS)
        + f"; schema version {len(store.MIGRATIONS)}" for store in stores()]
    code, out, _ = run_cli("db", "upgrade", "--db", database_url)
    assert code == 0
    assert out.splitlines() == [f"{store.STORE}: schema version {len(store.MIGRATIONS)}, already current"
                                for store in stores()]
    with connect(database_url) as db:
        assert db.execute("SELECT store, count(*) FROM schema_migrations GROUP BY store ORDER BY store").fetchall() == \
            sorted((store.STORE, len(store.MIGRATIONS)) for store in stores())


def test_upgrade_takes_the_database_from_the_environment_and_needs_one(run_cli: RunCli, database_url: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run_cli("db", "upgrade")
    assert code == 2
    assert err == ("statusgen: db upgrade: which database? pass --db postgresql://user@host:port/db or set "
                   "STATUSGEN_DATABASE_URL\n")
    monkeypatch.setenv("STATUSGEN_DATABASE_URL", database_url)
    assert run_cli("db", "upgrade")[0] == 0
    with connect(database_url) as db:
        assert [schema_version(db, store.STORE) for store in stores()] == [len(s.MIGRATIONS) for s in stores()]


def test_three_upgrades_started_together_apply_each_migration_once(database_url: str) -> None:
    runs = [statusgen("db", "upgrade", "--db", database_url) for _ in range(3)]
    outcomes = [(run.wait(60), *run.communicate()) for run in runs]
    assert [code for code, _, _ in outcomes] == [0, 0, 0], outcomes
    for store in stores():
        applied = [out for _, out, _ in outcomes if f"{store.STORE}: applied" in out]
        assert len(applied) == 1, outcomes  # the others waited on the lock, then found it current
    with connect(database_url) as db:
        assert db.execute("SELECT count(*) FROM schema_migrations").fetchone() == (
            sum(len(store.MIGRATIONS) for store in stores()),)


def test_a_database_that_refuses_the_login_is_one_line_without_the_password(run_cli: RunCli, make_site: MakeSite,
                                                                             postgres: Server) -> None:
    url = postgres.url(password="hunter2-wrong")
    site = with_stores(make_site())
    for args in (("db", "upgrade", "--db", url), ("db", "copy", "--site", site, "--to", url)):
        code, out, err = run_cli(*args)
        assert code == 1 and out == ""
        [line] = err.splitlines()
        assert line.startswith(f"statusgen: cannot connect to the database {redacted(url)}: ")
        assert "password authentication failed" in line and "hunter2-wrong" not in line


# ── db copy ───────────────────────────────────────────────────────────────────────────

def test_copy_fills_both_stores_in_one_go_and_prints_the_rows_per_table(run_cli: RunCli, make_site: MakeSite,
                                                                        postgres: Server, database_url: str) -> None:
    site = with_stores(make_site())
    expected = copied_by_the_stores(site, postgres)
    code, out, err = run_cli("db", "copy", "--site", site, "--to", database_url)
    assert code == 0, err
    lines = out.splitlines()
    width = max(len(table) for tables in expected.values() for table in tables)
    for store, source in (("notifier", "notify.db"), ("subscriptions", "subscriptions.db")):
        start = lines.index(f"copied the {store} store {site}/.statusgen/{source}:")
        tables = expected[store]
        assert lines[start + 1:start + 1 + len(tables)] == [f"  {t:<{width}}  {n:>7}" for t, n in tables.items()]
    total = sum(n for tables in expected.values() for n in tables.values())
    assert total >= 4  # at least the 3 announced facts and the suppression
    assert lines[-1] == (f"db copy: {total} rows of 2 stores into {redacted(database_url)}, in one transaction; the "
                         "SQLite files were not changed. Set STATUSGEN_DATABASE_URL to it for notify and the "
                         "subscription service")
    assert "statusgen-test" not in out + err  # the password
    with connect(database_url) as db:
        assert [store.is_empty(db) for store in stores()] == [False, False]
        assert [schema_version(db, store.STORE) for store in stores()] == [len(s.MIGRATIONS) for s in stores()]


def test_copy_takes_the_files_named_and_skips_a_missing_one_saying_so(run_cli: RunCli, make_site: MakeSite,
                                                                      tmp_path: Path, database_url: str) -> None:
    site = with_stores(make_site(), subscriptions=False)
    moved = tmp_path / "elsewhere.db"
    (site / ".statusgen" / "notify.db").rename(moved)
    code, out, err = run_cli("db", "copy", "--site", site, "--to", database_url, "--store", moved,
                             "--db", tmp_path / "no-such.db")
    assert code == 0, err
    assert out.splitlines()[0] == f"no subscriptions store at {tmp_path}/no-such.db: skipped"
    assert f"copied the notifier store {moved}:" in out.splitlines()
    assert "rows of 1 store into" in out.splitlines()[-1]
    with connect(database_url) as db:
        notifier, subscriptions = stores()
        assert not notifier.is_empty(db) and subscriptions.is_empty(db)


def test_copy_refuses_a_database_where_a_store_holds_rows_and_writes_nothing(run_cli: RunCli, make_site: MakeSite,
                                                                             database_url: str) -> None:
    only_notifier = with_stores(make_site(name="first"), subscriptions=False)
    assert run_cli("db", "copy", "--site", only_notifier, "--to", database_url)[0] == 0
    before = rows(database_url)
    both = with_stores(make_site(name="second"))
    code, out, err = run_cli("db", "copy", "--site", both, "--to", database_url)
    assert code == 1 and out == ""
    assert err == (f"statusgen: the database {redacted(database_url)} already holds notifier data: db copy only fills "
                   "empty stores, to never mix two deployments; nothing was written\n")
    assert rows(database_url) == before  # not even the subscription store, which was empty
    with connect(database_url) as db:
        assert stores()[1].is_empty(db)


def test_each_store_may_come_from_its_own_host(run_cli: RunCli, make_site: MakeSite, database_url: str) -> None:
    """notify in CI has the notifier store, the service's host the subscription store: each
    copies its own, and a store that is skipped is not looked at."""
    ci, service_host = make_site(name="ci"), make_site(name="service")
    with_stores(ci, subscriptions=False)
    with_stores(service_host, notifier=False)
    code, out, err = run_cli("db", "copy", "--site", service_host, "--to", database_url)
    assert code == 0, err
    assert out.splitlines()[0] == f"no notifier store at {service_host}/.statusgen/notify.db: skipped"
    code, out, err = run_cli("db", "copy", "--site", ci, "--to", database_url)
    assert code == 0, err
    assert out.splitlines()[0] == f"no subscriptions store at {ci}/.statusgen/subscriptions.db: skipped"
    with connect(database_url) as db:
        assert [store.is_empty(db) for store in stores()] == [False, False]
    code, _, err = run_cli("db", "copy", "--site", service_host, "--to", database_url)
    assert code == 1 and "already holds subscriptions data" in err


def test_a_file_that_is_not_a_store_stops_the_copy_before_anything_is_written(run_cli: RunCli, make_site: MakeSite,
                                                                              database_url: str) -> None:
    site = with_stores(make_site(), subscriptions=False)
    (site / ".statusgen" / "subscriptions.db").write_text("not a database\n" * 100)
    code, out, err = run_cli("db", "copy", "--site", site, "--to", database_url)
    assert code == 1 and out == ""
    assert err == (f"statusgen: {site}/.statusgen/subscriptions.db: cannot be read as the subscriptions store (file "
                   "is not a database); nothing was written\n")
    with connect(database_url) as db:  # the whole transaction rolled back: not even the schema is there
        assert db.execute("SELECT to_regclass('schema_migrations')").fetchone() == (None,)


def test_a_connection_lost_in_the_middle_of_the_copy_writes_nothing(run_cli: RunCli, make_site: MakeSite,
                                                                    database_url: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    site = with_stores(make_site())
    notifier, subscriptions = stores()
    real = subscriptions.copy_sqlite

    def copy_then_lose_the_connection(source: Path, db: psycopg.Connection[Any]) -> dict[str, int]:
        counts = real(source, db)
        with psycopg.connect(database_url, autocommit=True) as admin:  # as a failover or a network cut would
            admin.execute("SELECT pg_terminate_backend(%s)", (db.info.backend_pid,))
        db.execute("SELECT 1")
        return counts

    monkeypatch.setattr(subscriptions, "copy_sqlite", copy_then_lose_the_connection)
    code, out, err = run_cli("db", "copy", "--site", site, "--to", database_url)
    assert code == 1 and out == ""
    [line] = err.splitlines()
    assert line.startswith(f"statusgen: the database {redacted(database_url)} failed while copying: ")
    assert line.endswith("; nothing was written") and "statusgen-test" not in line
    with connect(database_url) as db:
        assert db.execute("SELECT to_regclass('schema_migrations')").fetchone() == (None,)
    monkeypatch.setattr(subscriptions, "copy_sqlite", real)
    assert run_cli("db", "copy", "--site", site, "--to", database_url)[0] == 0  # and it can simply be run again


def test_two_copies_started_together_copy_once(make_site: MakeSite, database_url: str) -> None:
    site = with_stores(make_site())
    runs = [statusgen("db", "copy", "--site", site, "--to", database_url) for _ in range(2)]
    outcomes = sorted((run.wait(60), *run.communicate()) for run in runs)
    assert [code for code, _, _ in outcomes] == [0, 1], outcomes
    assert "already holds notifier and subscriptions data" in outcomes[1][2]
    copied = int(outcomes[0][1].splitlines()[-1].split()[2])
    assert sum(rows(database_url).values()) >= copied > 0


def test_copy_needs_something_to_copy_and_a_database_url(run_cli: RunCli, make_site: MakeSite,
                                                         database_url: str) -> None:
    site = make_site()
    code, _, err = run_cli("db", "copy", "--site", site, "--to", database_url)
    assert code == 2
    assert err == (f"statusgen: db copy: nothing to copy: no notifier store at {site}/.statusgen/notify.db and no "
                   f"subscriptions store at {site}/.statusgen/subscriptions.db; name the files with --store and "
                   "--db\n")
    code, _, err = run_cli("db", "copy", "--site", site, "--to", "mysql://u:pw@db.example.org/x")
    assert code == 2
    assert err == ("statusgen: --to: expected a URL such as postgresql://user@host:5432/statusgen; found "
                   "'mysql://u:***@db.example.org/x'\n")
    assert run_cli("db", "copy", "--site", site)[0] == 2  # --to is required
    assert rows(database_url) == {}


def test_what_copy_prints_for_a_store_with_no_rows() -> None:
    from statusgen.dbcommand import Copied, CopyReport

    report = CopyReport("postgresql://u:***@h/db", (), (Copied("notifier", Path("/s/notify.db"), ()),), ())
    assert copy_lines(report) == [
        "copied the notifier store /s/notify.db:",
        "db copy: 0 rows of 1 store into postgresql://u:***@h/db, in one transaction; the SQLite files were not "
        "changed. Set STATUSGEN_DATABASE_URL to it for notify and the subscription service"]
