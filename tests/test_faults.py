"""Injected faults, real ones: nothing lost, nothing twice, and a line that says why.

A build whose disk fills up (a tmpfs of our own, shrunk under the next build) or whose
folders cannot be written (the build run as root without the capabilities that let root
ignore file modes: `setpriv --bounding-set`) leaves the previous site byte for byte and
names the folder and the cause. A notifier store that is locked by another process, read
only, corrupt or another program's database stops `statusgen notify` before anything is
sent, naming the store and the setting that chose it; a store locked in the middle of a
send stops the run, and the next run sends the rest: each message exactly once, what may
have arrived reported as uncertain (DESIGN.md, Notifier 5). The same for the subscription
store the audience is read from.

These tests need root (CI runs as root), as the build's tests of real faults must: they
fail, saying what is missing, where it is not.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from statusgen.database import redacted
from statusgen.notifier.pgstore import LOCK_TIMEOUT
from statusgen.notifier.store import SENT_AT_MOST
from statusgen.subscriptions.store import SqliteSubscriptionStore
from tests.conftest import EXAMPLE_NOW, ROOT, MakeSite
from tests.golden import read_tree
from tests.pgstores import upgrade_stores
from tests.smtpsink import SmtpSink
from tests.test_notify import Backend, announce_the_incident, crowd, notify_command, smtp_env

NO_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner,-linux_immutable"]
"""Run a command as root without the capabilities that let root write where file modes say
no: the folders a test makes read-only are then read-only to it, as to any other user
(an unprivileged user could not run this checkout's Python, which lives under /root)."""


def statusgen(*args: str | Path, as_ordinary_user: bool = False, env: dict[str, str] | None = None
              ) -> subprocess.CompletedProcess[str]:
    """`statusgen ARGS` in a process of its own, with this checkout's package."""
    command = [sys.executable, "-m", "statusgen", *map(str, args)]
    environment = {**os.environ, **(env or {}), "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([*NO_OVERRIDE, *command] if as_ordinary_user else command, env=environment,
                          capture_output=True, text=True, timeout=300, check=False)


def errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    """What the command said went wrong (its warnings about the example site left out)."""
    assert "Traceback" not in result.stderr, result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith("statusgen:")]


@pytest.fixture(scope="module")
def modes_hold() -> None:
    """The precondition of every read-only folder below: root without its capabilities
    cannot write into a folder of mode 0555. Fails (never skips) where it does not hold."""
    probe = Path(f"/tmp/statusgen-modes-{os.getpid()}")
    probe.mkdir(mode=0o555)
    try:
        result = subprocess.run([*NO_OVERRIDE, sys.executable, "-c", f"open({str(probe / 'x')!r}, 'w')"],
                                capture_output=True, text=True, timeout=60, check=False)
    finally:
        probe.chmod(0o755)
        (probe / "x").unlink(missing_ok=True)
        probe.rmdir()
    assert "PermissionError" in result.stderr, (
        "these tests run commands as root without CAP_DAC_OVERRIDE (`setpriv --bounding-set`, util-linux): run "
        f"them as root with CAP_SETPCAP, as CI does; the probe said: {result.stderr or result.stdout}")


@contextmanager
def read_only(*folders: Path) -> Iterator[None]:
    for folder in folders:
        folder.chmod(0o555)
    try:
        yield
    finally:
        for folder in folders:
            folder.chmod(0o755)


@contextmanager
def small_disk(folder: Path) -> Iterator[Path]:
    """A tmpfs of our own at `folder` (a disk that can really fill up), unmounted after."""
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0755", "statusgen-test", str(folder)],
                             capture_output=True, text=True, timeout=60, check=False)
    assert mounted.returncode == 0, ("this test fills a disk of its own, a tmpfs: mounting one needs root with "
                                     f"CAP_SYS_ADMIN, as CI has: {mounted.stderr}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True, timeout=60)


def used_bytes(folder: Path) -> int:
    stats = os.statvfs(folder)
    return (stats.f_blocks - stats.f_bfree) * stats.f_frsize


def resize(disk: Path, size: int) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size // 1024}k", str(disk)], check=True, timeout=60)


# ── the build ────────────────────────────────────────────────────────────────────────


def test_an_incidents_folder_the_build_may_not_read_is_named_and_nothing_is_built(
        tmp_path: Path, modes_hold: None) -> None:
    """`Path.rglob` passes over a folder it may not read: its incidents vanished from the
    site, unsaid. Now the folder is named, and the previous site stays as it was."""
    from tests.test_incremental import copy_example

    site = copy_example(tmp_path / "site")
    assert statusgen("build", "--site", site, "--now", EXAMPLE_NOW).returncode == 0
    before = read_tree(site / "public")
    hidden = site / "incidents" / "2026"
    hidden.chmod(0)
    try:
        result = statusgen("build", "--site", site, "--now", EXAMPLE_NOW, as_ordinary_user=True)
        checked = statusgen("check", "--site", site, as_ordinary_user=True)
    finally:
        hidden.chmod(0o755)
    assert result.returncode == 1 and checked.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    for said in (result.stderr, checked.stderr):
        assert "incidents/2026:1: cannot read this folder (Permission denied): the incidents in it would be left out" \
            in said, said
    assert read_tree(site / "public") == before


def test_a_disk_that_fills_up_halfway_leaves_the_previous_site_and_says_why(tmp_path: Path) -> None:
    """The example site (about 2 MB) is built onto a disk of its own; the disk is then
    shrunk to what that takes plus half of it, so the next build writes about half its
    files (the workers' pages, the API, the feeds) before the disk is full: it says so in one line,
    exit 1, and the disk holds the previous site and nothing else, byte for byte."""
    snapshot = tmp_path / "snapshot.json"
    with small_disk(tmp_path / "disk") as disk:
        out = disk / "public"
        first = statusgen("build", "--site", ROOT, "--out", out, "--now", EXAMPLE_NOW, "--snapshot", snapshot)
        assert first.returncode == 0, first.stderr
        before, snapshot_before, used = read_tree(out), snapshot.read_bytes(), used_bytes(disk)
        assert used > 1024 * 1024
        resize(disk, used + used // 2)

        failed = statusgen("build", "--site", ROOT, "--out", out, "--now", "2026-11-30T13:00:00+01:00",
                           "--snapshot", snapshot)

        assert failed.returncode == 1
        assert errors(failed) == [f"statusgen: cannot write into {out}: No space left on device; nothing was changed "
                                  f"({out} is as it was)"]
        assert read_tree(out) == before and snapshot.read_bytes() == snapshot_before
        assert sorted(os.listdir(disk)) == ["public"] and used_bytes(disk) == used  # no temporary folder left
        assert sorted(os.listdir(tmp_path)) == ["disk", "snapshot.json"]


def test_an_output_folder_that_cannot_be_written_stops_the_build_before_it_renders(tmp_path: Path,
                                                                                  modes_hold: None) -> None:
    """The folder the output folder sits in is read-only: the build cannot make its
    temporary folder there, and says so before rendering anything."""
    out, snapshot = tmp_path / "site" / "public", tmp_path / "snapshot.json"
    assert statusgen("build", "--site", ROOT, "--out", out, "--now", EXAMPLE_NOW, "--snapshot", snapshot).returncode == 0
    before = read_tree(out)
    with read_only(out.parent):
        failed = statusgen("build", "--site", ROOT, "--out", out, "--now", EXAMPLE_NOW, "--snapshot", snapshot, "-v",
                           as_ordinary_user=True)
    assert failed.returncode == 1
    assert errors(failed) == [f"statusgen: cannot write into {out.parent}: Permission denied; nothing was changed "
                              f"({out} is as it was)"]
    assert "render" not in failed.stderr  # -v names each stage it ran: none was
    assert read_tree(out) == before and os.listdir(out.parent) == ["public"]


@pytest.mark.parametrize("locked", ["snapshot folder", "output folder"])
def test_a_folder_found_unwritable_halfway_leaves_everything_as_it_was(tmp_path: Path, modes_hold: None,
                                                                       locked: str) -> None:
    """The notifier's snapshot folder is read-only: the build finds out when it writes the
    snapshot, after the pages, the API and the feeds were written. The output folder itself
    is read-only: moving it aside (the swap) needs the right to write it, which the build
    finds out last of all. Either way one line names the folder, and the previous site, its
    snapshot and the folders around them are as they were."""
    out, snapshot = tmp_path / "site" / "public", tmp_path / "internal" / "snapshot.json"
    first = statusgen("build", "--site", ROOT, "--out", out, "--now", EXAMPLE_NOW, "--snapshot", snapshot)
    assert first.returncode == 0, first.stderr
    before, snapshot_before = read_tree(out), snapshot.read_bytes()
    folder = snapshot.parent if locked == "snapshot folder" else out
    with read_only(folder):
        failed = statusgen("build", "--site", ROOT, "--out", out, "--now", "2026-11-30T13:00:00+01:00",
                           "--snapshot", snapshot, as_ordinary_user=True)
    assert failed.returncode == 1
    assert errors(failed) == [f"statusgen: cannot write into {folder}: Permission denied; nothing was changed "
                              f"({out} is as it was)"]
    assert read_tree(out) == before and snapshot.read_bytes() == snapshot_before
    assert os.listdir(out.parent) == ["public"] and os.listdir(snapshot.parent) == ["snapshot.json"]


# ── the notifier's store ─────────────────────────────────────────────────────────────

PEOPLE = 40
"""Subscribers of everything: each gets the one incident's email, exactly once."""


@pytest.fixture
def announced(make_site: MakeSite) -> Iterator[tuple[Path, SmtpSink, dict[str, str]]]:
    """A site with PEOPLE subscribers, its store baselined, then an incident built that each
    of them is to hear of; the store as it is then is kept as `good.db` (its backup)."""
    root = crowd(make_site, PEOPLE)
    with SmtpSink() as sink:
        env = smtp_env(sink, Backend())
        announce_the_incident(root, notify_command(root), env)
        shutil.copyfile(store_of(root), root / "good.db")
        yield root, sink, env


def store_of(root: Path) -> Path:
    return root / ".statusgen" / "notify.db"


def notify_cli(root: Path, env: dict[str, str], as_ordinary_user: bool = False) -> subprocess.CompletedProcess[str]:
    return statusgen(*notify_command(root, connections=2)[3:], env=env, as_ordinary_user=as_ordinary_user)


def everyone_once(sink: SmtpSink) -> bool:
    counts = sink.per_recipient()
    return len(counts) == PEOPLE and set(counts.values()) == {1}


def damage(store: Path, how: str) -> None:
    """Break the store file (its backup is `good.db` beside the site)."""
    data = store.read_bytes()
    if how == "garbage":
        store.write_bytes(os.urandom(len(data)))
    elif how == "truncated":
        store.write_bytes(data[: len(data) // 2])
    elif how == "a damaged page":  # the deliveries table's first page: found only when the run queues
        with sqlite3.connect(store) as db:
            (page,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'deliveries'").fetchone()
            (size,) = db.execute("PRAGMA page_size").fetchone()
        db.close()
        store.write_bytes(data[: (page - 1) * size] + b"\xff" * size + data[page * size:])
    else:  # another program's database where the store should be
        store.unlink()
        with sqlite3.connect(store) as db:
            db.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
        db.close()


DEFAULT = "the site's default; --store PATH chooses another"


@pytest.mark.parametrize("how, said", [
    ("garbage", "{store} cannot be read (file is not a database); pass --store with the right file, or move this "
                "one away"),
    ("truncated", "{store} cannot be read (database disk image is malformed); pass --store with the right file, or "
                  "move this one away"),
    ("a damaged page", "statusgen: the notifier store {store} (" + DEFAULT + ") cannot be used: database disk image "
                       "is malformed; restore it from a backup or pass --store with the right file (without one, move "
                       "it away and run `statusgen notify --since TIME` once)"),
    ("another program's database", "{store} cannot be read (not a notifier store: it holds another program's tables "
                                   "(moz_places)); pass --store with the right file, or move this one away"),
], ids=["garbage", "truncated", "a damaged page", "another program's database"])
def test_a_corrupt_store_stops_notify_before_anything_is_sent_and_its_backup_sends_each_once(
        announced: tuple[Path, SmtpSink, dict[str, str]], how: str, said: str) -> None:
    """Garbage bytes, half a file, one damaged page (which the checks before the run do not
    read: the run finds it when it queues) or another program's SQLite file: notify names
    the file and stops, nothing sent; another program's file is left as it was. With the
    backup put back, the next run sends each message once."""
    root, sink, env = announced
    store = store_of(root)
    damage(store, how)
    damaged = store.read_bytes()
    failed = notify_cli(root, env)
    assert failed.returncode == 1 and sink.messages == []
    assert any(line.endswith(said.format(store=store)) for line in failed.stderr.splitlines()), failed.stderr
    assert "Traceback" not in failed.stderr
    if how == "another program's database":
        assert store.read_bytes() == damaged and not list(store.parent.glob("notify.db-*"))  # not even a journal
    shutil.copyfile(root / "good.db", store)
    for stale in store.parent.glob("notify.db-*"):  # the damaged file's journal goes with it
        stale.unlink()
    again = notify_cli(root, env)
    assert again.returncode == 0, again.stderr
    assert everyone_once(sink)


def test_a_store_another_program_holds_locked_stops_notify_before_anything_is_sent(
        announced: tuple[Path, SmtpSink, dict[str, str]]) -> None:
    """Another process holds the SQLite file's write lock (BEGIN EXCLUSIVE) for the whole
    run: notify waits SQLite's few seconds, then names the store and stops, nothing sent;
    once the lock is let go, the next run sends each message once."""
    root, sink, env = announced
    holder = sqlite3.connect(store_of(root), isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        failed = notify_cli(root, env)
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    assert failed.returncode == 1 and sink.messages == []
    assert errors(failed) == [f"statusgen: the notifier store {store_of(root)} ({DEFAULT}) cannot be written: database "
                              "is locked; another program holds it (a second notify waits for the first by itself), "
                              "then run notify again: it sends what is left, nothing twice"]
    again = notify_cli(root, env)
    assert again.returncode == 0, again.stderr
    assert everyone_once(sink)


@pytest.mark.parametrize("folder_too", [False, True])
def test_a_read_only_store_stops_notify_before_anything_is_sent(announced: tuple[Path, SmtpSink, dict[str, str]],
                                                                modes_hold: None, folder_too: bool) -> None:
    """The store file is read-only (and its folder too: SQLite cannot even read a WAL file
    then, which the checks before the run find): notify names the store and what to make
    writable, nothing sent; made writable, the next run sends each message once."""
    root, sink, env = announced
    store = store_of(root)
    store.chmod(0o444)
    with read_only(*([store.parent] if folder_too else [])):
        failed = notify_cli(root, env, as_ordinary_user=True)
    store.chmod(0o600)
    assert failed.returncode == 1 and sink.messages == []
    said = (f"the notifier store {store} ({DEFAULT}) cannot be written: attempt to write a readonly database; make "
            "the file and its folder writable for this user, then run notify again: it sends what is left, nothing twice")
    assert "Traceback" not in failed.stderr
    if folder_too:  # found by the checks before the run
        assert failed.stderr.splitlines()[-2:] == [said, "statusgen: 1 setting to fix; nothing was done (`statusgen "
                                                         "doctor` checks them all)"], failed.stderr
    else:  # found when the run queues, before it sends
        assert errors(failed) == [f"statusgen: {said}"]
    again = notify_cli(root, env)
    assert again.returncode == 0, again.stderr
    assert everyone_once(sink)


@pytest.mark.parametrize("fault", ["locked", "a full disk"])
def test_a_store_failing_in_the_middle_of_a_send_stops_the_run_and_the_next_sends_the_rest_once(
        make_site: MakeSite, tmp_path: Path, fault: str) -> None:
    """At the 100th of 400 messages another process takes the store's write lock, or the
    disk the store is on (a tmpfs of its own, chosen with --store) fills up, until the run
    has ended: the run cannot record its next hand-over, so it hands none over, stops and
    says why, naming the store and the setting that chose it. The next run sends the rest;
    nobody gets two; what the first run handed over but could not record as sent is
    reported as uncertain (DESIGN.md, Notifier 5), never sent again, and every message
    missing at the end is one of those."""
    root = crowd(make_site, 400)
    with small_disk(tmp_path / "disk") as disk:
        store = disk / "notify.db" if fault == "a full disk" else store_of(root)
        chosen = [*notify_command(root, connections=2)[3:], *(["--store", str(store)] if fault == "a full disk" else [])]
        holder = sqlite3.connect(store, isolation_level=None, check_same_thread=False)
        filler = disk / "filler"

        def fail_at_100(session: Any, envelope: Any) -> None:
            if len(sink.messages) == 100 and not holder.in_transaction and not filler.exists():
                if fault == "locked":
                    holder.execute("BEGIN EXCLUSIVE")
                else:
                    fill(filler)
            return None

        try:
            with SmtpSink(fail_at_100) as sink:
                env = smtp_env(sink, Backend())
                announce_the_incident(root, [sys.executable, "-m", "statusgen", *chosen], env)
                first = statusgen(*chosen, env=env)
                assert holder.in_transaction or filler.exists()
                if holder.in_transaction:
                    holder.execute("ROLLBACK")
                filler.unlink(missing_ok=True)
                handed_over = len(sink.messages)
                rerun = statusgen(*chosen, env=env)
                counts = sink.per_recipient()
        finally:
            holder.close()
        with sqlite3.connect(store) as db:
            states = dict(db.execute("SELECT recipient, state FROM deliveries").fetchall())
        db.close()

    assert first.returncode == 1
    cause = ("database is locked; another program holds it (a second notify waits for the first by itself)"
             if fault == "locked" else "database or disk is full; see that its disk has room and can be written")
    assert errors(first) == [f"statusgen: the notifier store {store} ("
                             f"{DEFAULT if fault == 'locked' else 'chosen by --store'}) cannot be written: {cause}, "
                             "then run notify again: it sends what is left, nothing twice"]
    assert 100 <= handed_over < 400
    assert set(counts.values()) == {1}, "somebody got a message twice"
    uncertain = {recipient for recipient, state in states.items() if state == "uncertain"}
    assert set(states.values()) <= {"sent", "uncertain"} and len(states) == 400
    assert {f"partner{n:04d}@example.org" for n in range(400)} - set(counts) <= uncertain
    assert len(uncertain) <= SENT_AT_MOST + 2  # not yet recorded as sent, and one in hand per connection
    assert rerun.returncode == (1 if uncertain else 0), rerun.stderr
    assert not uncertain or f"{len(uncertain)} are uncertain" in rerun.stderr


def fill(path: Path) -> None:
    """Write to `path` until its disk is full."""
    with path.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass


# ── the subscription store the audience is read from ─────────────────────────────────


def subscription_store(root: Path) -> Path:
    """The site's subscription store with one unsubscribe (a subscriber of subscribers.yaml,
    whom an unsubscribe takes off) and one confirmed self-service subscriber."""
    path = root / ".statusgen" / "subscriptions.db"
    store = SqliteSubscriptionStore(path)
    now = datetime(2026, 11, 30, 8, tzinfo=UTC)
    store.unsubscribe("partner0000@example.org", now)
    store.request("self@example.org", None, "en", now)
    store.confirm("self@example.org", now)
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # all of it in the file, which the tests break
    db.close()
    return path


@pytest.mark.parametrize("how", ["garbage", "locked", "a damaged page"])
def test_a_subscription_store_that_cannot_be_read_stops_notify_before_anything_is_sent(
        announced: tuple[Path, SmtpSink, dict[str, str]], how: str) -> None:
    """Sending without the subscription store's unsubscribes would mail people who left:
    a store that is garbage, locked by another program (SQLite's exclusive locking mode,
    which keeps readers out too) or damaged where only the query for the unsubscribes
    reaches stops notify in one line naming it, nothing sent. Mended, the next run mails
    the self-service subscriber, leaves out the one who unsubscribed, and everyone once."""
    root, sink, env = announced
    path = subscription_store(root)
    good = path.read_bytes()
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        if how == "locked":
            holder.execute("PRAGMA locking_mode=EXCLUSIVE")
            holder.execute("BEGIN EXCLUSIVE")
        elif how == "garbage":
            path.write_bytes(os.urandom(len(good)))
        else:
            (page,) = holder.execute("SELECT rootpage FROM sqlite_master WHERE name = 'unsubscribes'").fetchone()
            holder.close()
            path.write_bytes(good[: (page - 1) * 4096] + b"\xff" * 4096 + good[page * 4096:])
        failed = notify_cli(root, env)
    finally:
        holder.close()
    assert failed.returncode == 1 and sink.messages == [], failed.stderr
    assert "Traceback" not in failed.stderr
    said = {"garbage": "file is not a database",
            "locked": "database is locked; another program holds it: run again when it lets go",
            "a damaged page": "database disk image is malformed; nothing was sent"}[how]
    assert any(line.startswith(f"{'statusgen: ' if how == 'a damaged page' else ''}STATUSGEN_SUBSCRIPTIONS_DB: the "
                               f"subscription store {path} cannot be read: {said}")
               for line in failed.stderr.splitlines()), failed.stderr
    path.write_bytes(good)
    again = notify_cli(root, env)
    assert again.returncode == 0, again.stderr
    counts = sink.per_recipient()
    assert counts["self@example.org"] == 1 and "partner0000@example.org" not in counts
    assert len(counts) == PEOPLE and set(counts.values()) == {1}


def test_a_postgresql_store_another_program_holds_locked_stops_notify_instead_of_waiting_for_ever(
        make_site: MakeSite, database_url: str) -> None:
    """Another session holds the deliveries table locked (LOCK TABLE … ACCESS EXCLUSIVE)
    for the whole run. notify used to wait for it for ever; now it waits `LOCK_TIMEOUT`,
    names the database (without its password) and stops, nothing sent; once the lock is
    let go, the next run sends each message once."""
    backend = Backend(upgrade_stores(database_url))
    root = crowd(make_site, PEOPLE)
    with SmtpSink() as sink:
        env = smtp_env(sink, backend)
        announce_the_incident(root, notify_command(root), env)
        with psycopg.connect(database_url) as holder:
            holder.execute("LOCK TABLE notify_deliveries IN ACCESS EXCLUSIVE MODE")
            failed = notify_cli(root, env)
            holder.rollback()
        sent_while_locked = len(sink.messages)
        again = notify_cli(root, env)
        assert everyone_once(sink)
    assert failed.returncode == 1 and sent_while_locked == 0
    assert errors(failed) == [f"statusgen: the database {redacted(database_url)} failed: another program held the "
                              f"notifier's tables locked for longer than {LOCK_TIMEOUT}; run notify again when it lets "
                              "go: it sends what is left, nothing twice"]
    assert again.returncode == 0, again.stderr
