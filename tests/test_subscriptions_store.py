"""The subscription store on both backends (a SQLite file; PostgreSQL on the tests' own
server), who the notifier mails, the ops commands, and moving a SQLite store to PostgreSQL."""

from __future__ import annotations

import io
import json
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from statusgen.site.build import build
from statusgen.content.load import load_site
from statusgen.content.model import Subscriber
from statusgen import notify
from statusgen.database import DatabaseError, connect
from statusgen.errors import UsageError
from statusgen.subscriptions import store as store_module
from statusgen.subscriptions.backend import StoreLocation, open_store, store_location
from statusgen.subscriptions.merge import StoreAudience, audience, store_audience
from statusgen.subscriptions.pgstore import PostgresSubscriptionStore, copy_sqlite, is_empty
from statusgen.subscriptions.store import SCHEMA_VERSION, SqliteSubscriptionStore, SubscriptionStore
from tests.backends import BACKENDS, Backend, everything_in_the_database, make_backend, upgraded
from tests.conftest import MakeSite
from tests.pgserver import free_port

SECRET = "s" * 32
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SITE_YAML = """\
title: Example status
base_url: https://status.example.org/
languages: [en, nl]
timezone: Europe/Brussels
subscriptions: {url: https://status.example.org/subscriptions/}
notify: {from: status@example.org}
"""
SUBSCRIBERS = """\
- {email: listed@partner.example, components: [eu-dcc], language: nl}
- {email: both@partner.example, components: [lookup-portal]}
"""
INCIDENT = """\
---
title: App sign-in fails
components: {dcc-app: major_outage}
updates:
  - {at: 2026-11-30 09:00, status: investigating, body: Looking into it.}
---
"""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "private" / "subscriptions.db"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, db: Path) -> Backend:
    """The store on each backend in turn."""
    return make_backend(request.param, db, lambda: request.getfixturevalue("database_url"))


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        return {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


# ── schema ────────────────────────────────────────────────────────────────────────────

def test_an_empty_file_is_migrated_to_the_current_schema(db: Path) -> None:
    db.parent.mkdir()
    db.write_bytes(b"")
    store = SqliteSubscriptionStore(db)
    assert store.schema_version() == SCHEMA_VERSION == 2
    store.close()
    assert {"meta", "subscriptions", "unsubscribes", "rate_limits", "webhooks"} <= tables(db)
    assert db.stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_migrations_run_in_order_once_and_keep_the_data(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SqliteSubscriptionStore(db)
    store.request("a@example.org", None, "en", NOW)
    store.close()
    calls = []

    def add_notes(connection: sqlite3.Connection) -> None:
        calls.append("notes")
        connection.execute("ALTER TABLE subscriptions ADD COLUMN notes TEXT")

    monkeypatch.setattr(store_module, "MIGRATIONS", (*store_module.MIGRATIONS, add_notes))
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 3)
    for _ in range(2):
        store = SqliteSubscriptionStore(db)
        assert store.schema_version() == 3 and store.find("a@example.org") is not None
        store.close()
    assert calls == ["notes"]


def test_a_first_version_store_gains_the_webhooks_table_in_place(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as first_version:
        first_version.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:1])
        first_version.setattr(store_module, "SCHEMA_VERSION", 1)
        store = SqliteSubscriptionStore(db)
        store.request("a@example.org", ("eu-dcc",), "nl", NOW)
        store.unsubscribe("b@example.org", NOW)
        store.close()
    assert "webhooks" not in tables(db)
    with pytest.raises(RuntimeError, match="schema 1, expected 2; start the subscription service once"):
        SqliteSubscriptionStore(db, readonly=True)  # the notifier's view waits for the service's upgrade
    store = SqliteSubscriptionStore(db)
    assert store.schema_version() == 2 and store.find("a@example.org").components == ("eu-dcc",)
    assert store.is_suppressed("b@example.org") and store.webhooks() == []
    store.close()
    assert "webhooks" in tables(db)


def test_a_store_from_a_newer_statusgen_is_refused(db: Path) -> None:
    SqliteSubscriptionStore(db).close()
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(RuntimeError, match="made by a newer statusgen"):
        SqliteSubscriptionStore(db)


def test_a_read_only_store_changes_nothing(db: Path) -> None:
    db.parent.mkdir()
    db.write_bytes(b"")
    with pytest.raises(RuntimeError, match="schema 0, expected 2"):
        SqliteSubscriptionStore(db, readonly=True)
    assert tables(db) == set()


# ── what the service does with it ─────────────────────────────────────────────────────

def test_request_confirm_unsubscribe_and_the_suppression_list(backend: Backend) -> None:
    store = backend.open()
    assert store.request("Person@Example.org", ("eu-dcc",), "nl", NOW) == "new"
    assert store.request("person@example.org", ("dcc-app",), "en", NOW) == "pending"
    pending = store.find("PERSON@example.org")
    assert (pending.email, pending.components, pending.language) == ("person@example.org", ("dcc-app",), "en")
    assert store.confirm("person@example.org", NOW).state == "confirmed"
    assert store.request("person@example.org", None, "nl", NOW) == "confirmed"
    assert store.find("person@example.org").components == ("dcc-app",)  # only a manage link changes them
    store.unsubscribe("Person@example.org", NOW)
    store.unsubscribe("person@example.org", NOW + timedelta(days=1))
    assert store.find("person@example.org") is None and store.is_suppressed("PERSON@EXAMPLE.ORG")
    assert [(s.address, s.at) for s in store.suppressions()] == [("person@example.org", "2026-11-30T09:00:00+00:00")]
    assert store.request("person@example.org", None, "en", NOW) == "new"
    assert store.is_suppressed("person@example.org")  # until confirmed
    store.confirm("person@example.org", NOW)
    assert not store.is_suppressed("person@example.org")
    store.close()


def test_choices_are_kept_as_given_and_times_to_the_second(backend: Backend) -> None:
    store = backend.open()
    store.request("all@example.org", None, "en", NOW.replace(microsecond=123456))
    store.request("none@example.org", (), "nl", NOW)
    saved = store.save("saved@example.org", ("eu-dcc", "lookup-portal"), "nl", NOW + timedelta(minutes=1))
    assert saved == store_module.Subscription("saved@example.org", ("eu-dcc", "lookup-portal"), "nl", "confirmed",
                                              "2026-11-30T09:01:00+00:00", "2026-11-30T09:01:00+00:00",
                                              "2026-11-30T09:01:00+00:00")
    assert store.save("saved@example.org", None, "en", NOW + timedelta(hours=1)).confirmed_at == saved.confirmed_at
    assert [(s.email, s.components, s.created_at) for s in store.subscriptions()] == [
        ("all@example.org", None, "2026-11-30T09:00:00+00:00"),
        ("none@example.org", (), "2026-11-30T09:00:00+00:00"),
        ("saved@example.org", None, "2026-11-30T09:01:00+00:00")]
    assert store.reachable() and store.schema_version() == 2
    store.close()


def test_unconfirmed_subscriptions_expire_and_rate_windows_end(backend: Backend) -> None:
    store = backend.open()
    store.request("old@example.org", None, "en", NOW)
    store.request("kept@example.org", None, "en", NOW)
    store.confirm("kept@example.org", NOW)
    store.request("recent@example.org", None, "en", NOW + timedelta(hours=40))
    assert [store.hit("client:192.0.2.1", 2, timedelta(minutes=10), NOW) for _ in range(3)] == [0, 0, 600]
    assert store.hit("client:192.0.2.1", 2, timedelta(minutes=10), NOW + timedelta(minutes=4)) == 360
    assert store.purge(NOW + timedelta(hours=49)) == 1
    assert [s.email for s in store.subscriptions()] == ["kept@example.org", "recent@example.org"]
    assert store.hit("client:192.0.2.1", 2, timedelta(minutes=10), NOW + timedelta(hours=49)) == 0
    store.close()
    buckets = [row[0] for row in backend.rows("rate_limits")]
    assert buckets and not any("192.0.2.1" in bucket for bucket in buckets)  # digests only


def test_concurrent_writers_count_exactly_and_write_one_row(backend: Backend) -> None:
    """Four stores (four service instances, each with its own connections), eight threads:
    the limit lets exactly `limit` hits through, and one address asked for at once by all
    of them is one row, reported `new` once."""
    stores = [backend.open() for _ in range(4)]
    results: list[int] = []
    states: list[str] = []
    start = threading.Barrier(8)

    def work(store: SubscriptionStore) -> None:
        start.wait()
        states.append(store.request("race@example.org", None, "en", NOW))
        results.extend(store.hit("client:192.0.2.9", 50, timedelta(minutes=10), NOW) for _ in range(25))

    threads = [threading.Thread(target=work, args=(stores[n % 4],)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 200 and results.count(0) == 50 and set(results) == {0, 600}
    assert sorted(states) == ["new"] + ["pending"] * 7
    assert [s.email for s in stores[0].subscriptions()] == ["race@example.org"]
    assert [row[3] for row in backend.rows("rate_limits")] == [200]
    for store in stores:
        store.close()


def test_an_unsubscribe_wins_over_a_confirmation_at_the_same_moment(backend: Backend) -> None:
    """Confirm on one instance while the one-click unsubscribe lands on another, many
    times over: in whichever order they meet, the address ends up suppressed, with no
    subscription left (a confirmation never lifts a suppression it did not see)."""
    one, other = backend.open(), backend.open()
    for n in range(20):
        address = f"race{n}@example.org"
        one.request(address, None, "en", NOW)
        start = threading.Barrier(2)
        threads = [threading.Thread(target=lambda: (start.wait(), one.confirm(address, NOW))),
                   threading.Thread(target=lambda: (start.wait(), other.unsubscribe(address, NOW)))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert one.find(address) is None and one.is_suppressed(address), address
    one.close()
    other.close()


# ── who the notifier mails ────────────────────────────────────────────────────────────

def test_the_audience_is_yaml_plus_confirmed_minus_unsubscribed(make_site: MakeSite, backend: Backend) -> None:
    root = make_site({"content/site.yaml": SITE_YAML, "subscribers.yaml": SUBSCRIBERS})
    site, listed = load_site(root)
    db = backend.location
    assert audience(site, listed, db) == listed  # nothing stored yet
    store = backend.open()
    store.request("own@example.org", ("eu-dcc", "lookup-portal", "gone-component"), "fr", NOW)
    store.confirm("own@example.org", NOW)
    store.request("pending@example.org", None, "en", NOW)
    store.request("both@partner.example", ("eu-dcc",), "nl", NOW)  # pending: the yaml entry still counts
    store.unsubscribe("listed@partner.example", NOW)
    store.close()
    assert set(audience(site, listed, db)) == {
        Subscriber("both@partner.example", ("lookup-portal",), "en", line=2),
        Subscriber("own@example.org", ("dcc-certificates", "dcc-app", "lookup-portal"), "en"),
    }
    store = backend.open()
    store.confirm("both@partner.example", NOW)  # their own record replaces the yaml entry
    store.close()
    assert Subscriber("both@partner.example", ("dcc-certificates", "dcc-app"), "nl") in audience(site, listed, db)


# ── ops ───────────────────────────────────────────────────────────────────────────────

@pytest.fixture(params=BACKENDS)
def served(request: pytest.FixtureRequest, make_site: MakeSite, monkeypatch: pytest.MonkeyPatch) -> Backend:
    """A site whose notifier has mailed a yaml subscriber and a self-service one (outbox),
    with its subscription store in the site's file or in the database that
    STATUSGEN_DATABASE_URL names (for the commands as for the notifier)."""
    root = make_site({"content/site.yaml": SITE_YAML, "subscribers.yaml": SUBSCRIBERS})
    backend = make_backend(request.param, root / ".statusgen" / "subscriptions.db",
                           lambda: request.getfixturevalue("database_url"))
    for name, value in backend.env.items():
        monkeypatch.setenv(name, value)
    store = backend.open()
    store.request("Own@example.org", ("dcc-app",), "en", NOW)  # as the form normalises it
    store.confirm("own@example.org", NOW)
    store.hit("email:own@example.org", 3, timedelta(hours=1), datetime.now(UTC))
    store.close()
    env = {"STATUSGEN_SECRET_KEY": SECRET, **backend.env}
    build(root, root / "public", "2026-11-30T08:00:00+01:00")
    notify(root, env=env, stream=io.StringIO())
    (root / "incidents" / "app.md").write_text(INCIDENT)
    build(root, root / "public", "2026-11-30T10:00:00+01:00")
    notify(root, env=env, stream=io.StringIO())
    return backend


@pytest.fixture
def site(served: Backend, tmp_path: Path) -> Path:
    return tmp_path / "site"


def test_list_shows_every_subscriber_with_its_source_and_state(served: Backend, run_cli: Any, site: Path) -> None:
    store = served.open()
    store.unsubscribe("both@partner.example", NOW)
    store.unsubscribe("stranger@example.org", NOW)
    store.close()
    code, out, err = run_cli("subscribers", "list", "--site", site)
    assert code == 0, err
    rows = [line.split() for line in out.splitlines()]
    assert rows == [
        ["ADDRESS", "SOURCE", "STATE", "LANGUAGE", "COMPONENTS"],
        ["listed@partner.example", "yaml", "active", "nl", "dcc-certificates,dcc-app"],
        ["both@partner.example", "yaml", "unsubscribed", "en", "lookup-portal"],
        ["Own@example.org", "self-service", "confirmed", "en", "dcc-app"],
        ["stranger@example.org", "-", "unsubscribed"],
    ]


def test_export_holds_everything_stored_about_an_address(served: Backend, run_cli: Any, site: Path) -> None:
    code, out, err = run_cli("subscribers", "export", "OWN@example.org", "--site", site)
    assert code == 0, err
    document = json.loads(out)
    assert document["address"] == "own@example.org" and document["subscribers_yaml"] is None
    assert document["subscription"]["state"] == "confirmed" and document["subscription"]["components"] == ["dcc-app"]
    assert document["suppression"] is None and document["email_rate_limit"]["emails_requested"] == 1
    assert [(d["kind"], d["state"]) for d in document["notifier_deliveries"]] == [("incident_created", "sent")]
    assert len(document["outbox_messages"]) == 1
    listed = json.loads(run_cli("subscribers", "export", "listed@partner.example", "--site", site)[1])
    assert listed["subscribers_yaml"]["language"] == "nl" and listed["subscription"] is None


def test_remove_erases_the_address_but_keeps_it_unsubscribed(served: Backend, run_cli: Any, site: Path) -> None:
    code, out, err = run_cli("subscribers", "remove", "own@example.org", "--site", site)
    assert code == 0, err
    assert "removed 1 subscription(s) and 1 rate counter(s)" in out
    assert "1 deliveries now name the digest" in out and "outbox holds 1 message(s)" in out
    assert "subscribers.yaml" not in out
    for file in (site / ".statusgen").glob("*.db"):  # whichever stores are files here
        with sqlite3.connect(file) as connection:
            dump = "\n".join(connection.iterdump()).lower()
        assert "own@example.org" not in dump, file
    if served.location.url:
        assert "own@example.org" not in everything_in_the_database(served.location.url).lower()
    store = served.open()
    digest = store.digest("own@example.org")
    assert store.is_suppressed("own@example.org") and [s.address for s in store.suppressions()] == [None]
    store.close()
    exported = json.loads(run_cli("subscribers", "export", "own@example.org", "--site", site)[1])
    assert exported["subscription"] is None and exported["notifier_deliveries"] == []
    assert exported["suppression"]["address"] is None and exported["suppression"]["erased"] is True
    _, listing, _ = run_cli("subscribers", "list", "--site", site)
    assert "own@example.org" not in listing.lower() and "1 erased address(es) stay unsubscribed" in listing
    notify_db = site / ".statusgen" / "notify.db"
    if notify_db.is_file():  # the notifier's history names the digest the subscription store made
        with sqlite3.connect(notify_db) as connection:
            recipients = {r for (r,) in connection.execute("SELECT recipient FROM deliveries")}
        assert recipients == {"listed@partner.example", f"erased:{digest}"}


def test_removing_a_yaml_subscriber_reminds_ops_to_edit_the_file(served: Backend, run_cli: Any, site: Path) -> None:
    code, out, _ = run_cli("subscribers", "remove", "Listed@Partner.example", "--site", site)
    assert code == 0 and "reminder: listed@partner.example is also in subscribers.yaml" in out
    loaded, listed = load_site(site)
    assert [s.email for s in audience(loaded, listed, served.location)] == ["both@partner.example", "Own@example.org"]


def test_the_db_option_chooses_the_store_over_the_environment(served: Backend, run_cli: Any, site: Path,
                                                              tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    store = SqliteSubscriptionStore(other)
    store.request("elsewhere@example.org", None, "en", NOW)
    store.close()
    code, out, err = run_cli("subscribers", "list", "--site", site, "--db", other)
    assert code == 0, err
    assert "elsewhere@example.org" in out and "Own@example.org" not in out
    code, out, _ = run_cli("subscribers", "list", "--site", site, "--db", served.option)
    assert "Own@example.org" in out and "elsewhere@example.org" not in out


def test_ops_commands_refuse_what_is_not_an_address(served: Backend, run_cli: Any, site: Path) -> None:
    code, _, err = run_cli("subscribers", "remove", "nobody", "--site", site)
    assert code == 2 and "expected an email address such as 'spoc@partner.example'; found 'nobody'" in err


# ── choosing the store ────────────────────────────────────────────────────────────────

def test_a_url_means_postgresql_and_anything_else_a_file(tmp_path: Path) -> None:
    site = tmp_path / "site"
    url = "postgresql://status:secret@db.example.net/statusgen"
    assert store_location(site, {}) == StoreLocation(path=site / ".statusgen" / "subscriptions.db")
    assert store_location(site, {"STATUSGEN_SUBSCRIPTIONS_DB": "/srv/s.db"}) == StoreLocation(path=Path("/srv/s.db"))
    assert store_location(site, {"STATUSGEN_DATABASE_URL": url, "STATUSGEN_SUBSCRIPTIONS_DB": "/srv/s.db"}) == \
        StoreLocation(url=url)
    assert store_location(site, {"STATUSGEN_DATABASE_URL": url}, "/srv/own.db") == StoreLocation(path=Path("/srv/own.db"))
    assert store_location(site, {}, url) == StoreLocation(url=url)
    assert str(StoreLocation(url=url)) == "postgresql://status:***@db.example.net/statusgen"
    with pytest.raises(DatabaseError, match=r"^STATUSGEN_DATABASE_URL: expected a URL such as postgresql://"):
        store_location(site, {"STATUSGEN_DATABASE_URL": "mysql://u:p@h/db"})
    # notify's --store: a URL means one database for both stores; a file is the notifier's own
    assert store_audience(site, {}, url).location == StoreLocation(url=url)
    assert store_audience(site, {}, site / "notify.db").location == StoreLocation(path=site / ".statusgen" /
                                                                                   "subscriptions.db")


def test_the_checks_say_whether_the_database_can_be_used(make_site: MakeSite, database_url: str) -> None:
    site, _ = load_site(make_site({"content/site.yaml": SITE_YAML}))
    shown = database_url.replace(":statusgen-test@", ":***@")
    checks = StoreAudience(StoreLocation(url=database_url)).checks(site)
    assert [(c.name, c.problems) for c in checks] == [("subscription store", (
        f"the database {shown} has subscriptions schema version 0, this statusgen needs 2: run `statusgen db upgrade`",
    ))]
    upgraded(database_url)
    check, = StoreAudience(StoreLocation(url=database_url)).checks(site)
    assert check.passed and check.found == f"{shown} (PostgreSQL)"


# ── PostgreSQL: the schema is the database's, the service never changes it ────────────

def test_a_database_without_the_schema_is_refused_naming_the_command(database_url: str) -> None:
    with pytest.raises(DatabaseError) as raised:
        PostgresSubscriptionStore(database_url)
    assert str(raised.value) == (f"the database {database_url.replace(':statusgen-test@', ':***@')} has "
                                 "subscriptions schema version 0, this statusgen needs 2: run `statusgen db upgrade`")
    with connect(database_url) as db:
        assert db.execute("SELECT to_regclass('subscriptions')").fetchone() == (None,)  # nothing was created


def test_a_database_from_a_newer_statusgen_is_refused(database_url: str) -> None:
    upgraded(database_url)
    with connect(database_url) as db:
        db.execute("INSERT INTO schema_migrations (store, version, name) VALUES ('subscriptions', 3, 'future')")
    with pytest.raises(DatabaseError, match="has subscriptions schema version 3, newer than this statusgen knows"):
        open_store(StoreLocation(url=database_url))


def test_an_unreachable_database_is_one_line_without_the_password() -> None:
    url = f"postgresql://statusgen:hunter2@127.0.0.1:{free_port()}/statusgen"
    with pytest.raises(DatabaseError) as raised:
        open_store(StoreLocation(url=url))
    message = str(raised.value)
    assert message.startswith("cannot connect to the database postgresql://statusgen:***@127.0.0.1:"), message
    assert "hunter2" not in message and "\n" not in message and "Connection refused" in message


def test_the_salt_is_made_once_shared_and_never_by_a_reader(database_url: str) -> None:
    upgraded(database_url)
    reader = PostgresSubscriptionStore(database_url, readonly=True)
    with connect(database_url) as db:
        assert is_empty(db)  # the notifier looked: nothing stored, nothing made
    with pytest.raises(DatabaseError, match="cannot be written: cannot execute INSERT in a read-only transaction"):
        reader.unsubscribe("a@example.org", NOW)  # the notifier's view cannot write
    reader.close()
    one, other = PostgresSubscriptionStore(database_url), PostgresSubscriptionStore(database_url)
    assert one.digest("a@example.org") == other.digest("A@Example.org")
    one.unsubscribe("a@example.org", NOW)
    assert other.is_suppressed("A@example.org")
    with connect(database_url) as db:
        assert not is_empty(db) and len(db.execute("SELECT * FROM subscription_meta").fetchall()) == 1
    one.close()
    other.close()


# ── PostgreSQL: moving a SQLite store there (`statusgen db copy`) ─────────────────────

def test_copy_sqlite_moves_every_row_and_every_digest_keeps_matching(db: Path, database_url: str) -> None:
    sqlite = SqliteSubscriptionStore(db)
    sqlite.request("pending@example.org", ("eu-dcc",), "nl", NOW)
    sqlite.request("Confirmed@example.org", None, "en", NOW - timedelta(days=3))
    sqlite.confirm("confirmed@example.org", NOW - timedelta(days=2))
    sqlite.save("chosen@example.org", ("dcc-app", "lookup-portal"), "nl", NOW)
    sqlite.unsubscribe("gone@example.org", NOW)
    sqlite.erase("erased@example.org", NOW)
    sqlite.hit("email:pending@example.org", 3, timedelta(hours=1), NOW)
    sqlite.hit("client:192.0.2.1", 10, timedelta(minutes=10), NOW)
    sqlite.hit("client:192.0.2.1", 10, timedelta(minutes=10), NOW)
    before = (sqlite.subscriptions(), sqlite.suppressions(), sqlite.export("pending@example.org"))
    sqlite.close()
    upgraded(database_url)
    with connect(database_url) as connection:
        assert is_empty(connection)
        with connection.transaction():
            copied = copy_sqlite(db, connection)
        assert not is_empty(connection)
    assert copied == {"subscription_meta": 1, "subscriptions": 3, "unsubscribes": 2, "rate_limits": 2, "webhooks": 0}
    store = PostgresSubscriptionStore(database_url)
    assert (store.subscriptions(), store.suppressions(), store.export("pending@example.org")) == before
    assert store.is_suppressed("gone@example.org") and store.is_suppressed("erased@example.org")  # the salt came too
    assert store.hit("client:192.0.2.1", 2, timedelta(minutes=10), NOW + timedelta(minutes=1)) == 540  # a 3rd hit
    assert store.confirm("pending@example.org", NOW).state == "confirmed"
    store.close()


def test_copy_sqlite_writes_in_the_callers_transaction(db: Path, database_url: str) -> None:
    sqlite = SqliteSubscriptionStore(db)
    sqlite.request("a@example.org", None, "en", NOW)
    sqlite.close()
    upgraded(database_url)
    with connect(database_url) as connection:
        copy_sqlite(db, connection)
        connection.rollback()
        assert is_empty(connection)


def test_copy_sqlite_refuses_what_is_not_a_current_store(tmp_path: Path, database_url: str) -> None:
    upgraded(database_url)
    broken = tmp_path / "broken.db"
    broken.write_text("not a database\n" * 100)
    with connect(database_url) as connection:
        with pytest.raises(UsageError, match=f"^{tmp_path}/missing.db: no subscription store there$"):
            copy_sqlite(tmp_path / "missing.db", connection)
        with pytest.raises(sqlite3.DatabaseError, match="^file is not a database$"):  # db copy says which file
            copy_sqlite(broken, connection)
