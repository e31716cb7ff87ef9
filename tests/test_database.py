"""statusgen.database: choosing the database, connecting, and versioned migrations, on a
real PostgreSQL server of the tests' own (tests/pgserver.py)."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest

from statusgen.database import (
    DatabaseError,
    Migration,
    connect,
    database_url,
    redacted,
    require_current,
    schema_version,
    upgrade,
)
from tests.pgserver import Server, free_port

STEPS = [Migration(1, "things", "CREATE TABLE things (id INTEGER PRIMARY KEY)"),
         Migration(2, "names", "ALTER TABLE things ADD COLUMN name TEXT")]


def test_the_url_comes_from_the_option_else_the_environment() -> None:
    env = {"STATUSGEN_DATABASE_URL": "postgresql://a@h/db"}
    assert database_url(env) == "postgresql://a@h/db"
    assert database_url(env, "postgres://b@h/other") == "postgres://b@h/other"
    assert database_url({}) is None
    assert database_url({"STATUSGEN_DATABASE_URL": "  "}) is None


def test_a_url_that_is_not_postgresql_names_where_it_came_from_without_the_password() -> None:
    with pytest.raises(DatabaseError, match=r"^STATUSGEN_DATABASE_URL: expected a URL such as postgresql://user@"
                                            r"host:5432/statusgen; found 'mysql://u:\*\*\*@h/db'$"):
        database_url({"STATUSGEN_DATABASE_URL": "mysql://u:secret@h/db"})
    with pytest.raises(DatabaseError, match=r"^--db: "):
        database_url({}, "/tmp/file.db")


def test_redacted_hides_only_the_password() -> None:
    assert redacted("postgresql://status:s3cret@db.example.net:5432/statusgen?sslmode=require") == \
        "postgresql://status:***@db.example.net:5432/statusgen?sslmode=require"
    assert redacted("postgresql://status@db/statusgen") == "postgresql://status@db/statusgen"


def test_migrations_apply_in_order_exactly_once(database_url: str) -> None:
    with connect(database_url) as db:
        assert [m.version for m in upgrade(db, "test", STEPS[:1])] == [1]
        assert schema_version(db, "test") == 1
        assert [m.version for m in upgrade(db, "test", STEPS)] == [2]
        assert upgrade(db, "test", STEPS) == []
        db.execute("INSERT INTO things VALUES (1, 'one')")
        assert schema_version(db, "test") == 2
        assert schema_version(db, "other") == 0


def test_two_processes_upgrading_at_once_apply_each_migration_once(database_url: str) -> None:
    slow = [Migration(1, "slow", "SELECT pg_sleep(0.5); CREATE TABLE things (id INTEGER PRIMARY KEY)"), STEPS[1]]
    applied: list[list[int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with connect(database_url) as db:
                applied.append([m.version for m in upgrade(db, "test", slow)])
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(applied) == [[], [], [1, 2]]
    with connect(database_url) as db:
        rows = db.execute("SELECT store, version, name FROM schema_migrations ORDER BY version").fetchall()
    assert rows == [("test", 1, "slow"), ("test", 2, "names")]


def test_a_failing_migration_leaves_nothing_half_done(database_url: str) -> None:
    broken = [STEPS[0], Migration(2, "broken", "ALTER TABLE things ADD COLUMN name TEXT; SELECT no_such_function()")]
    with connect(database_url) as db:
        with pytest.raises(psycopg.Error):
            upgrade(db, "test", broken)
    with connect(database_url) as db:
        assert schema_version(db, "test") == 0  # the whole upgrade is one transaction
        assert db.execute("SELECT to_regclass('things')").fetchone() == (None,)


def test_an_old_or_new_schema_is_refused_naming_what_to_do(database_url: str) -> None:
    with connect(database_url) as db:
        with pytest.raises(DatabaseError, match=r"has test schema version 0, this statusgen needs 2: "
                                                r"run `statusgen db upgrade`$"):
            require_current(db, "test", STEPS, database_url)
        upgrade(db, "test", STEPS[:1])
        with pytest.raises(DatabaseError, match="has test schema version 1, this statusgen needs 2"):
            require_current(db, "test", STEPS, database_url)
        upgrade(db, "test", STEPS)
        require_current(db, "test", STEPS, database_url)
        with pytest.raises(DatabaseError, match=r"has test schema version 2, newer than this statusgen knows \(1\): "
                                                r"upgrade statusgen$"):
            require_current(db, "test", STEPS[:1], database_url)


def test_migrations_must_be_numbered_in_order(database_url: str) -> None:
    with connect(database_url) as db, pytest.raises(ValueError, match=r"found \[2, 1\]"):
        upgrade(db, "test", [STEPS[1], STEPS[0]])


def test_a_wrong_password_is_one_line_without_the_password(postgres: Server) -> None:
    url = postgres.url(password="wrong-password")
    with pytest.raises(DatabaseError) as raised:
        connect(url)
    message = str(raised.value)
    assert message.startswith(f"cannot connect to the database postgresql://statusgen:***@127.0.0.1:{postgres.port}"
                              "/postgres: ")
    assert "password authentication failed" in message
    assert "wrong-password" not in message and "\n" not in message


def test_a_server_that_is_not_there(tmp_path: Path) -> None:
    url = f"postgresql://statusgen:pw@127.0.0.1:{free_port()}/statusgen"
    with pytest.raises(DatabaseError, match=r"^cannot connect to the database postgresql://statusgen:\*\*\*@127\.0\.0\.1"
                                            r":\d+/statusgen: .*(refused|failed)"):
        connect(url)
