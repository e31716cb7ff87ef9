"""The subscription store (SQLite), who the notifier mails, and the ops commands."""

from __future__ import annotations

import io
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from statusgen.site.build import build
from statusgen.content.load import load_site
from statusgen.content.model import Subscriber
from statusgen import notify
from statusgen.subscriptions.merge import audience
from statusgen.subscriptions import store as store_module
from statusgen.subscriptions.store import SCHEMA_VERSION, SqliteSubscriptionStore
from tests.conftest import MakeSite

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


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        return {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


# ── schema ────────────────────────────────────────────────────────────────────────────

def test_an_empty_file_is_migrated_to_the_current_schema(db: Path) -> None:
    db.parent.mkdir()
    db.write_bytes(b"")
    store = SqliteSubscriptionStore(db)
    assert store.schema_version() == SCHEMA_VERSION == 1
    store.close()
    assert {"meta", "subscriptions", "unsubscribes", "rate_limits"} <= tables(db)
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
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 2)
    for _ in range(2):
        store = SqliteSubscriptionStore(db)
        assert store.schema_version() == 2 and store.find("a@example.org") is not None
        store.close()
    assert calls == ["notes"]


def test_a_store_from_a_newer_statusgen_is_refused(db: Path) -> None:
    SqliteSubscriptionStore(db).close()
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(RuntimeError, match="made by a newer statusgen"):
        SqliteSubscriptionStore(db)


def test_a_read_only_store_changes_nothing(db: Path) -> None:
    db.parent.mkdir()
    db.write_bytes(b"")
    with pytest.raises(RuntimeError, match="schema 0, expected 1"):
        SqliteSubscriptionStore(db, readonly=True)
    assert tables(db) == set()


# ── what the service does with it ─────────────────────────────────────────────────────

def test_request_confirm_unsubscribe_and_the_suppression_list(db: Path) -> None:
    store = SqliteSubscriptionStore(db)
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


def test_unconfirmed_subscriptions_expire_and_rate_windows_end(db: Path) -> None:
    store = SqliteSubscriptionStore(db)
    store.request("old@example.org", None, "en", NOW)
    store.request("kept@example.org", None, "en", NOW)
    store.confirm("kept@example.org", NOW)
    store.request("recent@example.org", None, "en", NOW + timedelta(hours=40))
    assert [store.hit("client:192.0.2.1", 2, timedelta(minutes=10), NOW) for _ in range(3)] == [0, 0, 600]
    assert store.hit("client:192.0.2.1", 2, timedelta(minutes=10), NOW + timedelta(minutes=4)) == 360
    assert store.purge(NOW + timedelta(hours=49)) == 1
    assert [s.email for s in store.subscriptions()] == ["kept@example.org", "recent@example.org"]
    assert store.hit("client:192.0.2.1", 2, timedelta(minutes=10), NOW + timedelta(hours=49)) == 0
    with sqlite3.connect(db) as connection:
        buckets = [bucket for (bucket,) in connection.execute("SELECT bucket FROM rate_limits")]
    assert buckets and not any("192.0.2.1" in bucket for bucket in buckets)  # digests only


# ── who the notifier mails ────────────────────────────────────────────────────────────

def test_the_audience_is_yaml_plus_confirmed_minus_unsubscribed(make_site: MakeSite, db: Path) -> None:
    root = make_site({"content/site.yaml": SITE_YAML, "subscribers.yaml": SUBSCRIBERS})
    site, listed = load_site(root)
    assert audience(site, listed, db) == listed  # no store yet
    store = SqliteSubscriptionStore(db)
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
    store = SqliteSubscriptionStore(db)
    store.confirm("both@partner.example", NOW)  # their own record replaces the yaml entry
    store.close()
    assert Subscriber("both@partner.example", ("dcc-certificates", "dcc-app"), "nl") in audience(site, listed, db)


# ── ops ───────────────────────────────────────────────────────────────────────────────

@pytest.fixture
def served(make_site: MakeSite) -> Path:
    """A site whose notifier has mailed a yaml subscriber and a self-service one (outbox)."""
    root = make_site({"content/site.yaml": SITE_YAML, "subscribers.yaml": SUBSCRIBERS})
    store = SqliteSubscriptionStore(root / ".statusgen" / "subscriptions.db")
    store.request("Own@example.org", ("dcc-app",), "en", NOW)  # as the form normalises it
    store.confirm("own@example.org", NOW)
    store.hit("email:own@example.org", 3, timedelta(hours=1), datetime.now(UTC))
    store.close()
    env = {"STATUSGEN_SECRET_KEY": SECRET}
    build(root, root / "public", "2026-11-30T08:00:00+01:00")
    notify(root, env=env, stream=io.StringIO())
    (root / "incidents" / "app.md").write_text(INCIDENT)
    build(root, root / "public", "2026-11-30T10:00:00+01:00")
    notify(root, env=env, stream=io.StringIO())
    return root


def test_list_shows_every_subscriber_with_its_source_and_state(served: Path, run_cli: Any) -> None:
    store = SqliteSubscriptionStore(served / ".statusgen" / "subscriptions.db")
    store.unsubscribe("both@partner.example", NOW)
    store.unsubscribe("stranger@example.org", NOW)
    store.close()
    code, out, err = run_cli("subscribers", "list", "--site", served)
    assert code == 0, err
    rows = [line.split() for line in out.splitlines()]
    assert rows == [
        ["ADDRESS", "SOURCE", "STATE", "LANGUAGE", "COMPONENTS"],
        ["listed@partner.example", "yaml", "active", "nl", "dcc-certificates,dcc-app"],
        ["both@partner.example", "yaml", "unsubscribed", "en", "lookup-portal"],
        ["Own@example.org", "self-service", "confirmed", "en", "dcc-app"],
        ["stranger@example.org", "-", "unsubscribed"],
    ]


def test_export_holds_everything_stored_about_an_address(served: Path, run_cli: Any) -> None:
    code, out, err = run_cli("subscribers", "export", "OWN@example.org", "--site", served)
    assert code == 0, err
    document = json.loads(out)
    assert document["address"] == "own@example.org" and document["subscribers_yaml"] is None
    assert document["subscription"]["state"] == "confirmed" and document["subscription"]["components"] == ["dcc-app"]
    assert document["suppression"] is None and document["email_rate_limit"]["emails_requested"] == 1
    assert [(d["kind"], d["state"]) for d in document["notifier_deliveries"]] == [("incident_created", "sent")]
    assert len(document["outbox_messages"]) == 1
    listed = json.loads(run_cli("subscribers", "export", "listed@partner.example", "--site", served)[1])
    assert listed["subscribers_yaml"]["language"] == "nl" and listed["subscription"] is None


def test_remove_erases_the_address_but_keeps_it_unsubscribed(served: Path, run_cli: Any) -> None:
    code, out, err = run_cli("subscribers", "remove", "own@example.org", "--site", served)
    assert code == 0, err
    assert "removed 1 subscription(s) and 1 rate counter(s)" in out
    assert "1 deliveries now name the digest" in out and "outbox holds 1 message(s)" in out
    assert "subscribers.yaml" not in out
    db = served / ".statusgen" / "subscriptions.db"
    for file in (db, served / ".statusgen" / "notify.db"):
        with sqlite3.connect(file) as connection:
            dump = "\n".join(connection.iterdump()).lower()
        assert "own@example.org" not in dump, file
    with sqlite3.connect(served / ".statusgen" / "notify.db") as connection:
        recipients = {r for (r,) in connection.execute("SELECT recipient FROM deliveries")}
    assert recipients == {"listed@partner.example", f"erased:{_digest(db, 'own@example.org')}"}
    store = SqliteSubscriptionStore(db)
    assert store.is_suppressed("own@example.org") and [s.address for s in store.suppressions()] == [None]
    store.close()
    _, listing, _ = run_cli("subscribers", "list", "--site", served)
    assert "own@example.org" not in listing.lower() and "1 erased address(es) stay unsubscribed" in listing
    exported = json.loads(run_cli("subscribers", "export", "own@example.org", "--site", served)[1])
    assert exported["subscription"] is None and exported["notifier_deliveries"] == []
    assert exported["suppression"]["address"] is None and exported["suppression"]["erased"] is True

def test_removing_a_yaml_subscriber_reminds_ops_to_edit_the_file(served: Path, run_cli: Any) -> None:
    code, out, _ = run_cli("subscribers", "remove", "Listed@Partner.example", "--site", served)
    assert code == 0 and "reminder: listed@partner.example is also in subscribers.yaml" in out
    site, listed = load_site(served)
    assert [s.email for s in audience(site, listed, served / ".statusgen" / "subscriptions.db")] == [
        "both@partner.example", "Own@example.org"]


def test_ops_commands_refuse_what_is_not_an_address(served: Path, run_cli: Any) -> None:
    code, _, err = run_cli("subscribers", "remove", "nobody", "--site", served)
    assert code == 2 and "expected an email address such as 'spoc@partner.example'; found 'nobody'" in err


def _digest(db: Path, address: str) -> str:
    store = SqliteSubscriptionStore(db, readonly=True)
    try:
        return store.digest(address)
    finally:
        store.close()
