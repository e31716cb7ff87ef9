"""The notifier's SQLite store and its delivery ledger."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from statusgen.notifier.events import Event
from statusgen.content.model import Subscriber
from statusgen.notifier.store import SCHEMA_VERSION, SqliteNotifyStore

EVENT = Event("a/update/1", "incident_created", "a", "1", ("app",))
CONTEXT = {"incidents": {"a": {"kind": "incident"}}}
PEOPLE = [Subscriber("one@example.org", ("app",), "en"), Subscriber("two@example.org", None, "nl")]


def test_baseline_and_announced_keys(tmp_path: Path) -> None:
    store = SqliteNotifyStore(tmp_path / "notify.db")
    assert not store.is_baselined() and store.last_snapshot() is None
    store.record_baseline({"a/update/0"}, {"incidents": {}})
    assert store.is_baselined() and store.announced_keys() == {"a/update/0"}
    assert store.last_snapshot() == {"incidents": {}}
    assert (tmp_path / "notify.db").stat().st_mode & 0o777 == 0o600


def test_queueing_twice_queues_once(tmp_path: Path) -> None:
    store = SqliteNotifyStore(tmp_path / "notify.db")
    assert store.queue([(EVENT, CONTEXT, PEOPLE)], {EVENT.key}, {"incidents": {}}) == 2
    assert store.queue([(EVENT, CONTEXT, PEOPLE)], {EVENT.key}, {"incidents": {}}) == 0
    pending = store.pending()
    assert [(d.event, d.subscriber) for d in pending] == [(EVENT, PEOPLE[0]), (EVENT, PEOPLE[1])]
    assert pending[0].context == CONTEXT


def test_the_ledger_survives_a_reopen_and_never_resends_a_handed_over_message(tmp_path: Path) -> None:
    store = SqliteNotifyStore(tmp_path / "notify.db")
    store.queue([(EVENT, CONTEXT, PEOPLE)], {EVENT.key}, {})
    first, second = store.pending()
    store.committing(first.id)
    store.sent(first.id)
    store.committing(second.id)  # ... and the process dies here
    reopened = SqliteNotifyStore(tmp_path / "notify.db")
    assert reopened.pending() == []
    assert reopened.mark_interrupted() == 1
    assert reopened.counts() == {"sent": 1, "uncertain": 1}


def test_transient_failures_stay_queued_and_permanent_ones_do_not(tmp_path: Path) -> None:
    store = SqliteNotifyStore(tmp_path / "notify.db")
    store.queue([(EVENT, CONTEXT, PEOPLE)], {EVENT.key}, {})
    first, second = store.pending()
    store.retry_later(first.id, "451 try later")
    store.failed(second.id, "550 no such user")
    assert [d.id for d in store.pending()] == [first.id]
    assert store.counts() == {"pending": 1, "failed": 1}


def test_the_schema_is_versioned(tmp_path: Path) -> None:
    SqliteNotifyStore(tmp_path / "notify.db").close()
    with sqlite3.connect(tmp_path / "notify.db") as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_erasing_an_address_rewrites_the_ledger_and_cancels_what_is_queued(tmp_path: Path) -> None:
    store = SqliteNotifyStore(tmp_path / "notify.db")
    store.queue([(EVENT, CONTEXT, PEOPLE)], {EVENT.key}, {})
    first, second = store.pending()
    store.committing(first.id)
    store.failed(first.id, "550 one@example.org unknown")
    assert [d["state"] for d in store.deliveries_to("ONE@example.org")] == ["failed"]
    assert store.erase("one@example.org", "erased:abc") == (1, 0)
    assert store.deliveries_to("one@example.org") == []
    assert store.deliveries_to("erased:abc")[0]["error"] == "550 erased:abc unknown"
    assert store.erase("two@example.org", "erased:def") == (1, 1)
    assert store.pending() == []
