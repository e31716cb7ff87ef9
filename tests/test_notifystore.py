"""The notifier's stores and their delivery ledger: every behaviour on both backends, the
SQLite file and a real PostgreSQL database (tests/pgserver.py); then what only the shared
database does: runs that share a send, a dead run's deliveries taken back, copying a
SQLite store over."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from statusgen.content.model import Subscriber
from statusgen.database import DatabaseError, connect, schema_version
from statusgen.errors import UsageError
from statusgen.notifier.events import Event
from statusgen.notifier.pgstore import MIGRATIONS, STORE, PostgresNotifyStore, copy_sqlite, is_empty
from statusgen.notifier.store import SCHEMA_VERSION, SENT_AT_MOST, NotifyStore, SqliteNotifyStore
from tests.pgstores import upgrade_stores

EVENT = Event("a/update/1", "incident_created", "a", "1", ("app",))
CONTEXT = {"incidents": {"a": {"kind": "incident"}}}
PEOPLE = [Subscriber("one@example.org", ("app",), "en"), Subscriber("two@example.org", None, "nl")]
CROWD = [Subscriber(f"p{n:03d}@example.org", None, "en") for n in range(300)]

Open = Callable[[], NotifyStore]
"""Opens the one store of a test (again, as the next run would)."""


@pytest.fixture(params=["sqlite", "postgresql"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Open]:
    opened: list[NotifyStore] = []

    def sqlite() -> NotifyStore:
        return SqliteNotifyStore(tmp_path / "notify.db")

    def postgresql() -> NotifyStore:
        return PostgresNotifyStore(url)

    if request.param == "postgresql":
        url = upgrade_stores(request.getfixturevalue("database_url"))

    def make() -> NotifyStore:
        opened.append(sqlite() if request.param == "sqlite" else postgresql())
        return opened[-1]

    yield make
    for store in opened:
        store.close()


UNENDED: list[AbstractContextManager[None]] = []
"""Runs that never end: kept, or the garbage collector would end them."""


def started(store: NotifyStore) -> NotifyStore:
    """`store` inside a run that is never ended (as if the process were killed in it)."""
    run = store.running()
    run.__enter__()
    UNENDED.append(run)
    return store


def test_baseline_and_announced_keys(open_store: Open, tmp_path: Path) -> None:
    store = open_store()
    assert not store.is_baselined() and store.last_snapshot() is None
    store.record_baseline({"a/update/0"}, {"incidents": {}})
    assert store.is_baselined() and store.announced_keys() == {"a/update/0"}
    assert store.last_snapshot() == {"incidents": {}}
    reopened = open_store()
    assert reopened.is_baselined() and reopened.announced_keys() == {"a/update/0"}
    if isinstance(store, SqliteNotifyStore):
        assert (tmp_path / "notify.db").stat().st_mode & 0o777 == 0o600


def test_queueing_twice_queues_once(open_store: Open) -> None:
    store = open_store()
    assert store.queue([(EVENT, CONTEXT, PEOPLE)], {EVENT.key}, {"incidents": {}}) == 2
    assert store.queue([(EVENT, CONTEXT, PEOPLE)], {EVENT.key}, {"incidents": {}}) == 0
    assert open_store().queue([(EVENT, CONTEXT, PEOPLE)], {EVENT.key}, {"incidents": {}}) == 0
    pending = store.pending()
    assert [(d.event, d.subscriber) for d in pending] == [(EVENT, PEOPLE[0]), (EVENT, PEOPLE[1])]
    assert pending[0].context == CONTEXT
    assert store.announced_keys() == {EVENT.key} and store.waiting() == 2


def test_the_ledger_survives_a_reopen_and_never_resends_a_handed_over_message(open_store: Open) -> None:
    store = open_store()
    store.queue([(EVENT, CONTEXT, PEOPLE)], {EVENT.key}, {})
    first, second = started(store).claim(10)
    store.committing(first.id)
    store.sent(first.id)
    store.committing(second.id)
    store.close()  # ... the process dies here
    reopened = open_store()
    with reopened.running():
        assert reopened.claim(10) == []
        assert reopened.mark_interrupted() == 1
    assert reopened.counts() == {"sent": 1, "uncertain": 1}
    assert reopened.pending() == [] and reopened.waiting() == 0


def test_a_sent_is_written_with_the_next_write_and_until_then_reads_committing(tmp_path: Path) -> None:
    """The SQLite store saves a commit per message: `sent` goes to the file with the next
    write (the next message's `committing`, in one statement) or before a read or close.
    Until then the file says `committing` (a killed run: uncertain, never sent again, as
    the test above shows), never `pending`."""
    store = started(SqliteNotifyStore(tmp_path / "notify.db"))
    store.queue([(EVENT, CONTEXT, CROWD)], {EVENT.key}, {})
    a, b, c, d = store.claim(4)
    file = sqlite3.connect(tmp_path / "notify.db")

    def states() -> list[str]:
        return [file.execute("SELECT state FROM deliveries WHERE id = ?", (x.id,)).fetchone()[0] for x in (a, b, c, d)]

    store.committing(a.id)
    store.sent(a.id)
    assert states() == ["committing", "pending", "pending", "pending"]
    store.committing(b.id)
    assert states() == ["sent", "committing", "pending", "pending"]
    store.sent(b.id)
    store.committing(c.id)
    store.retry_later(c.id, "451 try again")  # any write takes the sent ones along
    assert states() == ["sent", "sent", "pending", "pending"]
    assert file.execute("SELECT attempts, error FROM deliveries WHERE id IN (?, ?) ORDER BY id",
                        (b.id, c.id)).fetchall() == [(1, None), (2, "451 try again")]
    store.committing(d.id)
    store.sent(d.id)
    assert store.waiting() == len(CROWD) - 3 and states()[3] == "sent"  # a read writes them first
    held = store.claim(SENT_AT_MOST)
    for delivery in held:
        store.committing(delivery.id)
    for delivery in held:  # never more than SENT_AT_MOST kept back, whatever the connections do
        store.sent(delivery.id)
    assert file.execute("SELECT COUNT(*) FROM deliveries WHERE state = 'sent'").fetchone()[0] == 3 + SENT_AT_MOST  # a, b, d and the held ones
    store.committing(held[0].id)  # (again: one left unwritten for close)
    store.sent(held[0].id)
    assert file.execute("SELECT state FROM deliveries WHERE id = ?", (held[0].id,)).fetchone()[0] == "committing"
    store.close()
    assert file.execute("SELECT state FROM deliveries WHERE id = ?", (held[0].id,)).fetchone()[0] == "sent"


def test_transient_failures_stay_queued_for_the_next_run_and_permanent_ones_do_not(open_store: Open) -> None:
    store = open_store()
    store.queue([(EVENT, CONTEXT, PEOPLE)], {EVENT.key}, {})
    with store.running():
        first, second = store.claim(10)
        store.retry_later(first.id, "451 try later")
        store.failed(second.id, "550 no such user")
        assert store.claim(10) == []  # not again in this run
        assert store.waiting() == 1
    assert [d.id for d in store.pending()] == [first.id]
    assert store.counts() == {"pending": 1, "failed": 1}
    with store.running():
        assert [d.id for d in store.claim(10)] == [first.id]


def test_claims_come_in_batches_in_queue_order(open_store: Open) -> None:
    store = open_store()
    store.queue([(EVENT, CONTEXT, CROWD)], {EVENT.key}, {})
    with store.running():
        batches = [store.claim(100) for _ in range(4)]
    assert [len(batch) for batch in batches] == [100, 100, 100, 0]
    assert [d.subscriber for batch in batches for d in batch] == CROWD
    assert store.waiting() == 300  # nothing was handed over: all still queued for the next run


def test_erasing_an_address_rewrites_the_ledger_and_cancels_what_is_queued(open_store: Open) -> None:
    store = open_store()
    store.queue([(EVENT, CONTEXT, PEOPLE)], {EVENT.key}, {})
    with store.running():
        first, _ = store.claim(1) + store.claim(1)
        store.committing(first.id)
        store.failed(first.id, "550 one@example.org unknown")
    found = store.deliveries_to("ONE@example.org")
    assert [(d["event"], d["kind"], d["state"], d["attempts"], d["language"], d["components"]) for d in found] == [
        (EVENT.key, "incident_created", "failed", 1, "en", '["app"]')]
    assert found[0]["updated_at"].endswith("+00:00")
    assert store.erase("one@example.org", "erased:abc") == (1, 0)
    assert store.deliveries_to("one@example.org") == []
    assert store.deliveries_to("erased:abc")[0]["error"] == "550 erased:abc unknown"
    assert store.erase("two@example.org", "erased:def") == (1, 1)
    assert store.pending() == []


# ── two runs at once ──────────────────────────────────────────────────────────────────

def test_two_runs_never_detect_at_once(open_store: Open) -> None:
    """Reading what was announced and queueing is one run's at a time: the second one
    reads after the first has queued (SQLite: the whole run is one run's at a time)."""
    first, second = open_store(), open_store()
    seen: list[set[str]] = []

    def later() -> None:
        with second.running(), second.detecting():
            seen.append(second.announced_keys())

    with first.running(), first.detecting():
        thread = threading.Thread(target=later)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive() and not seen  # waiting
        first.queue([(EVENT, CONTEXT, PEOPLE)], {EVENT.key}, {})
    thread.join(10)
    assert seen == [{EVENT.key}]


def test_two_postgresql_runs_share_the_queue_and_never_take_the_same_delivery(database_url: str) -> None:
    url = upgrade_stores(database_url)
    stores = [PostgresNotifyStore(url) for _ in range(3)]
    stores[0].queue([(EVENT, CONTEXT, CROWD)], {EVENT.key}, {})
    taken: dict[int, list[int]] = {0: [], 1: [], 2: []}
    start = threading.Barrier(3)

    def run(n: int) -> None:
        with stores[n].running():
            start.wait()
            while batch := stores[n].claim(7):
                for delivery in batch:
                    stores[n].committing(delivery.id)
                    stores[n].sent(delivery.id)
                    taken[n].append(delivery.id)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    everything = [d for n in taken for d in taken[n]]
    assert len(everything) == len(set(everything)) == 300
    assert stores[0].counts() == {"sent": 300}
    with stores[0].running():
        assert stores[0].claim(7) == []
    with stores[1].running():
        pass
    with connect(url) as db:  # runs that sent something stay on record; one that claimed nothing leaves none
        runs = db.execute("SELECT outcome, COUNT(*) FROM notify_runs GROUP BY outcome").fetchall()
    assert runs == [("finished", 3)]
    for store in stores:
        store.close()


def queued(url: str, people: list[Subscriber]) -> str:
    store = PostgresNotifyStore(url)
    store.queue([(EVENT, CONTEXT, people)], {EVENT.key}, {})
    store.close()
    return url


def test_a_dead_runs_deliveries_are_taken_back_and_a_live_runs_are_left_alone(database_url: str) -> None:
    url = queued(upgrade_stores(database_url), CROWD[:8])
    live, dead = started(PostgresNotifyStore(url)), started(PostgresNotifyStore(url))
    mine, theirs = live.claim(4), dead.claim(4)
    live.committing(mine[0].id)
    dead.committing(theirs[0].id)
    dead.sent(theirs[0].id)
    dead.committing(theirs[1].id)
    dead.close()  # killed: its session ends, and with it its lock

    after = PostgresNotifyStore(url)
    with after.running():
        assert after.mark_interrupted() == 1
        assert [d.id for d in after.claim(100)] == [theirs[2].id, theirs[3].id]  # back in the queue
        assert after.mark_interrupted() == 0  # the live run is left alone
    after.close()
    assert states(url) == {theirs[0].id: ("sent", None), theirs[1].id: ("uncertain", None),
                           theirs[2].id: ("pending", None), theirs[3].id: ("pending", None),
                           mine[0].id: ("committing", "live"), **{d.id: ("pending", "live") for d in mine[1:]}}
    live.sent(mine[0].id)  # the live run goes on with what it holds
    live.committing(mine[1].id)
    live.close()


def states(url: str) -> dict[int, tuple[str, str | None]]:
    """Each delivery's state, and whether a live run (one whose lock is held) holds it."""
    with connect(url) as db:
        rows = db.execute("SELECT d.id, d.state, d.claimed_by, r.ended_at IS NULL FROM notify_deliveries d"
                          " LEFT JOIN notify_runs r ON r.id = d.claimed_by ORDER BY d.id").fetchall()
    return {id_: (state, "live" if claimed and live and state in ("pending", "committing") else None)
            for id_, state, claimed, live in rows}


def test_a_run_that_lost_its_session_stops_before_sending_what_another_run_took_back(database_url: str) -> None:
    """A run whose own connection dropped looks dead to the others, which take back what
    it claimed; its sending threads may still be at work, and `committing` stops them."""
    url = queued(upgrade_stores(database_url), PEOPLE)
    cut_off = started(PostgresNotifyStore(url))
    first, second = cut_off.claim(10)
    cut_off.committing(first.id)
    with connect(url, autocommit=True) as db:  # the session that holds the run's lock
        db.execute("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s",
                   (0x5747_0002,))
    other = started(PostgresNotifyStore(url))
    assert other.mark_interrupted() == 1  # `first` may have been handed over
    assert [d.id for d in other.claim(10)] == [second.id]
    with pytest.raises(DatabaseError, match=r"^delivery \d+ is no longer this run's to send: another notify run "
                                            r"took it over, .* it stops without sending it$") as raised:
        cut_off.committing(second.id)
    assert "statusgen-test" not in str(raised.value)
    other.committing(second.id)
    other.sent(second.id)
    assert other.counts() == {"uncertain": 1, "sent": 1}
    cut_off.close()
    other.close()


# ── the schema ────────────────────────────────────────────────────────────────────────

def test_the_sqlite_schema_is_versioned(tmp_path: Path) -> None:
    SqliteNotifyStore(tmp_path / "notify.db").close()
    with sqlite3.connect(tmp_path / "notify.db") as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_the_database_must_be_upgraded_first(database_url: str) -> None:
    with pytest.raises(DatabaseError, match=r"has notifier schema version 0, this statusgen needs 2: "
                                            r"run `statusgen db upgrade`$"):
        PostgresNotifyStore(database_url)
    upgrade_stores(database_url)
    with connect(database_url) as db:
        assert schema_version(db, STORE) == len(MIGRATIONS) == 2
        assert is_empty(db)
    PostgresNotifyStore(database_url).close()


# ── moving a SQLite store into the database (`statusgen db copy`) ──────────────────────

def every_kind_of_row(path: Path) -> SqliteNotifyStore:
    """A SQLite store as a killed run leaves it: sent, failed, uncertain, deferred (with its
    error and attempts), never tried, and one committing when the process died."""
    store = SqliteNotifyStore(path)
    store.record_baseline({"old/update/0", "older/update/0"}, {"incidents": {"old": {}}})
    later = Event("a/update/2", "incident_updated", "a", "2", ("app",))
    store.queue([(EVENT, CONTEXT, CROWD[:4]), (later, CONTEXT, CROWD[4:6])], {EVENT.key, later.key},
                {"incidents": {"a": {}}})
    started(store)
    ids = [d.id for d in store.claim(10)]
    store.committing(ids[0]), store.sent(ids[0])
    store.committing(ids[1]), store.failed(ids[1], "550 p001@example.org unknown")
    store.committing(ids[2]), store.uncertain(ids[2], "connection lost after the end of data")
    store.retry_later(ids[3], "451 greylisted")
    store.committing(ids[4])  # ... killed here; ids[5] was never tried
    return store


def test_copying_a_sqlite_store_keeps_every_row_and_state(tmp_path: Path, database_url: str) -> None:
    source = every_kind_of_row(tmp_path / "notify.db")
    source.close()
    source = SqliteNotifyStore(tmp_path / "notify.db")
    url = upgrade_stores(database_url)
    with connect(url) as db:
        copied = copy_sqlite(tmp_path / "notify.db", db)
        assert not is_empty(db)
        db.rollback()  # the caller's transaction: nothing is committed by the copy
        assert is_empty(db)
        assert copy_sqlite(tmp_path / "notify.db", db) == copied
        db.commit()
    assert copied == {"notify_announced": 4, "notify_snapshot": 1, "notify_events": 2, "notify_deliveries": 6,
                      "notify_endpoints": 0}
    target = PostgresNotifyStore(url)
    assert target.counts() == source.counts() == {"sent": 1, "failed": 1, "uncertain": 1, "pending": 2,
                                                  "committing": 1}
    assert target.announced_keys() == source.announced_keys() and target.last_snapshot() == source.last_snapshot()
    for person in CROWD[:6]:
        assert target.deliveries_to(person.email) == source.deliveries_to(person.email), person
    assert target.pending() == source.pending()

    with target.running():  # the next run, now from PostgreSQL, goes on where SQLite stopped
        assert target.mark_interrupted() == 1
        assert [d.subscriber.email for d in target.claim(10)] == ["p003@example.org", "p005@example.org"]
    late = Event("b/update/1", "incident_created", "b", "1", ("app",))
    target.queue([(late, CONTEXT, PEOPLE)], {late.key}, {})
    assert min(d.id for d in target.pending() if d.event == late) > max(d.id for d in source.pending())
    target.close()


def test_copying_refuses_what_is_not_a_store(tmp_path: Path, database_url: str) -> None:
    (tmp_path / "notes.db").write_text("")
    with connect(upgrade_stores(database_url)) as db:
        with pytest.raises(UsageError, match=r"missing\.db: no notifier store there; pass --store"):
            copy_sqlite(tmp_path / "missing.db", db)
        with pytest.raises(UsageError, match=r"notes\.db: not a notifier store \(no such table: meta\)"):
            copy_sqlite(tmp_path / "notes.db", db)
