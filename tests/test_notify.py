"""`statusgen notify` end to end: real builds, a real SMTP server on 127.0.0.1, real SQLite
and a real PostgreSQL server (tests/pgserver.py): killed runs, runs at once, a lost database."""

from __future__ import annotations

import email
import email.policy
import io
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from statusgen.site.build import build
from statusgen.errors import DeliveryError
from statusgen import notify
from statusgen.content.relay import SmtpSettings
from statusgen.database import redacted
from statusgen.notifier.smtp import SmtpTransport
from tests.conftest import MakeSite
from tests.pgserver import Server, free_port
from tests.pgstores import terminate_others, upgrade_stores
from tests.smtpsink import SmtpSink

SECRET = "s" * 32
SITE_YAML = """\
title: {en: Example status, nl: Voorbeeldstatus}
base_url: https://status.example.org/
languages: [en, nl]
timezone: Europe/Brussels
subscriptions: {url: https://status.example.org/subscriptions/}
notify: {from: status@example.org, unsubscribe_mailto: leave@example.org, reminders: [24h]}
"""
SUBSCRIBERS = """\
- {email: group@example.org, components: [eu-dcc], language: nl}
- {email: app@example.org, components: [dcc-app]}
- {email: all@example.org}
- {email: lookup@example.org, components: [lookup-portal]}
"""
APP_DOWN = """\
---
title: {{en: App sign-in fails, nl: Aanmelden in de app mislukt}}
impact: P2
components: {{dcc-app: major_outage}}
updates:
  - {{at: 2026-11-30 09:00, status: investigating, body: {{en: We are looking into it., nl: We onderzoeken het.}}}}
{more}---
"""


class Backend:
    """Where a test's notifier store is: the site's SQLite file, or a PostgreSQL database."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url

    def env(self) -> dict[str, str]:
        """What a notify process needs in its environment to use this store."""
        return {"STATUSGEN_DATABASE_URL": self.url} if self.url else {}

    def store(self, root: Path) -> Path | str:
        return self.url or root / ".statusgen" / "notify.db"

    def states(self, root: Path) -> dict[str, str]:
        """Each recipient's delivery state."""
        query = "SELECT recipient, state FROM {}deliveries"
        if self.url is None:
            with sqlite3.connect(root / ".statusgen" / "notify.db") as db:
                return dict(db.execute(query.format("")).fetchall())
        with psycopg.connect(self.url) as db:
            return dict(db.execute(query.format("notify_")).fetchall())  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "sqlite":
        return Backend()
    return Backend(upgrade_stores(request.getfixturevalue("database_url")))


class Notifier:
    """A site, its builds and notify runs against one SMTP sink."""

    def __init__(self, root: Path, sink: SmtpSink, backend: Backend | None = None) -> None:
        self.root, self.sink, self.out = root, sink, root / "public"
        self.backend = backend or Backend()

    def write(self, path: str, text: str) -> None:
        (self.root / path).parent.mkdir(parents=True, exist_ok=True)
        (self.root / path).write_text(textwrap.dedent(text))

    def run(self, now: str, **kwargs: Any) -> Any:
        build(self.root, self.out, now)
        transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=self.sink.port, security="none",
                                               user=None, password=None), connections=2)
        return notify(self.root, self.out, transport=transport, env={"STATUSGEN_SECRET_KEY": SECRET},
                      stream=io.StringIO(), store_path=self.backend.store(self.root), **kwargs)


@pytest.fixture
def sink() -> Any:
    with SmtpSink() as server:
        yield server


@pytest.fixture
def site(make_site: MakeSite, sink: SmtpSink) -> Notifier:
    root = make_site({"content/site.yaml": SITE_YAML, "subscribers.yaml": SUBSCRIBERS})
    return Notifier(root, sink)


@pytest.fixture
def either_site(make_site: MakeSite, sink: SmtpSink, backend: Backend) -> Notifier:
    """The site with its store in SQLite, then in PostgreSQL."""
    root = make_site({"content/site.yaml": SITE_YAML, "subscribers.yaml": SUBSCRIBERS})
    return Notifier(root, sink, backend)


def test_the_first_run_of_a_site_with_nothing_published_records_a_baseline_and_sends_nothing(site: Notifier) -> None:
    report = site.run("2026-11-30T10:00:00+01:00")
    assert report.baseline and site.sink.messages == []
    assert (site.root / ".statusgen" / "notify.db").is_file()
    site.write("incidents/app.md", APP_DOWN.format(more=""))
    assert [e.kind for e in site.run("2026-11-30T10:05:00+01:00").events] == ["incident_created"]


# ── never re-baseline silently: a lost store with incidents on the site ───────────────

FOUND = "  - {at: 2026-11-30 10:30, status: identified, body: Found it.}\n"
FIXED = FOUND + "  - {at: 2026-11-30 11:30, status: resolved, body: Fixed.}\n"


def lost_store(site: Notifier) -> None:
    """An incident was announced, then the store is lost and the incident goes on."""
    site.run("2026-11-30T08:00:00+01:00")
    site.write("incidents/app.md", APP_DOWN.format(more=""))
    site.run("2026-11-30T10:00:00+01:00")
    assert len(site.sink.messages) == 3
    for file in (site.root / ".statusgen").glob("notify.db*"):
        file.unlink()
    site.write("incidents/app.md", APP_DOWN.format(more=FIXED))


def test_a_lost_store_is_never_silently_re_baselined(site: Notifier, run_cli: Any) -> None:
    lost_store(site)
    from statusgen.errors import SetupError
    with pytest.raises(SetupError) as refused:
        site.run("2026-11-30T12:00:00+01:00")
    store = site.root / ".statusgen" / "notify.db"
    assert refused.value.problems == (
        f"the notifier store {store} is missing but the site already has 1 incidents and maintenance windows: after "
        "losing the store, run `statusgen notify --since TIME` once to announce what changed after TIME (when the "
        "store was last saved), or `statusgen notify --baseline` to record what is there now without sending; or "
        "pass --store with the store you have",)
    assert not store.exists() and len(site.sink.messages) == 3
    code, _, err = run_cli("notify", "--site", site.root, "--transport", "outbox")
    assert code == 1 and "`statusgen notify --baseline`" in err and "nothing was done" in err
    assert not store.exists() and not (site.root / ".statusgen" / "outbox").exists()


def test_an_empty_store_counts_as_lost(site: Notifier) -> None:
    from statusgen.errors import SetupError
    from statusgen.notifier.store import SqliteNotifyStore
    lost_store(site)
    SqliteNotifyStore(site.root / ".statusgen" / "notify.db").close()  # the schema, no baseline
    with pytest.raises(SetupError, match="notify.db is empty but the site already has 1 incidents"):
        site.run("2026-11-30T12:00:00+01:00")


def test_since_announces_what_happened_after_it_and_records_the_rest(site: Notifier) -> None:
    lost_store(site)
    report = site.run("2026-11-30T12:00:00+01:00", since="2026-11-30 11:00")
    assert [(e.kind, e.update) for e in report.events] == [("incident_resolved", "20261130T103000Z")]
    assert site.sink.per_recipient() == {"group@example.org": 2, "app@example.org": 2, "all@example.org": 2}
    resolved = site.sink.to("app@example.org")[-1]
    assert "Fixed." in resolved.get_body(("plain",)).get_content()
    assert site.run("2026-11-30T12:05:00+01:00").events == []  # the store is whole again


def test_since_before_the_loss_can_announce_every_step_missed(site: Notifier) -> None:
    lost_store(site)
    site.write("incidents/app.md", APP_DOWN.format(more=FOUND))
    report = site.run("2026-11-30T11:00:00+01:00", since="2026-11-30T10:15:00+01:00")
    assert [(e.kind, e.update) for e in report.events] == [("incident_updated", "20261130T093000Z")]


def test_baseline_records_what_is_there_and_sends_nothing(site: Notifier, run_cli: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATUSGEN_SECRET_KEY", SECRET)
    lost_store(site)
    build(site.root, site.out, "2026-11-30T12:00:00+01:00")
    code, _, err = run_cli("notify", "--site", site.root, "--baseline")
    assert code == 0, err
    assert "notify: --baseline: recorded a baseline of 3 facts; nothing sent" in err
    assert len(site.sink.messages) == 3 and not (site.root / ".statusgen" / "outbox").exists()
    site.write("incidents/other.md", APP_DOWN.format(more="").replace("09:00", "12:10"))
    assert [e.kind for e in site.run("2026-11-30T12:15:00+01:00").events] == ["incident_created"]


def test_baseline_and_since_go_alone_and_since_lies_before_the_build(site: Notifier, run_cli: Any) -> None:
    build(site.root, site.out, "2026-11-30T12:00:00+01:00")
    code, _, err = run_cli("notify", "--site", site.root, "--baseline", "--since", "2026-11-30 11:00")
    assert code == 2 and "not allowed with argument" in err
    code, _, err = run_cli("notify", "--site", site.root, "--since", "2026-11-30 13:00")
    assert code == 2 and "--since 2026-11-30 13:00: expected a time before the one being announced" in err
    code, _, err = run_cli("notify", "--site", site.root, "--since", "yesterday")
    assert code == 2 and err.startswith("statusgen: --since:")
    assert not (site.root / ".statusgen" / "notify.db").exists()


# ── the doctor's checks, before any work ──────────────────────────────────────────────

def test_smtp_without_settings_fails_at_once_even_with_nothing_to_send(
        site: Notifier, run_cli: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("HOST", "PORT", "SECURITY", "USER", "PASSWORD", "FROM"):
        monkeypatch.delenv(f"STATUSGEN_SMTP_{name}", raising=False)
    monkeypatch.setenv("STATUSGEN_SECRET_KEY", SECRET)
    site.run("2026-11-30T08:00:00+01:00")  # the baseline: nothing is queued
    build(site.root, site.out, "2026-11-30T08:05:00+01:00")
    before = (site.root / ".statusgen" / "notify.db").read_bytes()
    capsys.readouterr()
    code, _, err = run_cli("notify", "--site", site.root, "--transport", "smtp")
    assert code == 1
    assert err.splitlines() == [
        "no SMTP server: set STATUSGEN_SMTP_HOST (or notify.smtp.host in content/site.yaml)",
        "statusgen: 1 setting to fix; nothing was done (`statusgen doctor` checks them all)"]
    assert (site.root / ".statusgen" / "notify.db").read_bytes() == before


def test_a_relay_that_refuses_stops_notify_before_anything_is_queued(
        site: Notifier, run_cli: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import socket
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    site.run("2026-11-30T08:00:00+01:00")
    site.write("incidents/app.md", APP_DOWN.format(more=""))
    build(site.root, site.out, "2026-11-30T10:00:00+01:00")
    env = {"STATUSGEN_SECRET_KEY": SECRET, "STATUSGEN_SMTP_HOST": "127.0.0.1", "STATUSGEN_SMTP_PORT": str(closed),
           "STATUSGEN_SMTP_SECURITY": "none"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    code, _, err = run_cli("notify", "--site", site.root, "--transport", "smtp")
    assert code == 1
    assert err.splitlines()[0] == (f"STATUSGEN_SMTP_PORT: 127.0.0.1:{closed} refused the connection; check "
                                   "STATUSGEN_SMTP_HOST and STATUSGEN_SMTP_PORT (usually 587 with starttls, 465 "
                                   "with tls)")
    with sqlite3.connect(site.root / ".statusgen" / "notify.db") as db:
        assert db.execute("SELECT COUNT(*) FROM deliveries").fetchone() == (0,)
    monkeypatch.setenv("STATUSGEN_SMTP_PORT", str(site.sink.port))
    assert run_cli("notify", "--site", site.root, "--transport", "smtp")[0] == 0  # nothing was lost
    assert site.sink.per_recipient() == {"group@example.org": 1, "app@example.org": 1, "all@example.org": 1}


def test_a_missing_secret_is_named_when_subscriptions_url_is_set(make_site: MakeSite, sink: SmtpSink,
                                                                  run_cli: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 16: it used to say "every email needs a way to unsubscribe: set subscriptions.url"."""
    monkeypatch.delenv("STATUSGEN_SECRET_KEY", raising=False)
    root = make_site({"content/site.yaml": SITE_YAML.replace(", unsubscribe_mailto: leave@example.org", "")})
    build(root, root / "public", "2026-11-30T08:00:00+01:00")
    code, _, err = run_cli("notify", "--site", root)
    assert code == 1
    assert err.splitlines()[0] == (
        "STATUSGEN_SECRET_KEY must hold a secret of at least 16 characters: subscriptions.url is set in "
        "content/site.yaml, and the secret signs every unsubscribe and manage link in the emails and the "
        "subscription service's pages; it is not set")
    assert "every email needs a way to unsubscribe" not in err


def test_a_new_incident_reaches_exactly_the_subscribers_of_its_components(either_site: Notifier) -> None:
    site = either_site
    site.run("2026-11-30T08:00:00+01:00")
    site.write("incidents/app.md", APP_DOWN.format(more=""))
    report = site.run("2026-11-30T10:00:00+01:00")
    assert [e.kind for e in report.events] == ["incident_created"]
    assert site.sink.per_recipient() == {"group@example.org": 1, "app@example.org": 1, "all@example.org": 1}
    dutch = site.sink.to("group@example.org")[0]
    assert "Aanmelden in de app mislukt" in dutch["Subject"] and "P2" in dutch["Subject"]
    english = site.sink.to("app@example.org")[0]
    assert "App sign-in fails" in english["Subject"]
    assert english["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "https://status.example.org/subscriptions/unsubscribe?token=" in english["List-Unsubscribe"]


def test_updates_thread_under_the_first_email_and_reruns_send_nothing(either_site: Notifier) -> None:
    site = either_site
    site.run("2026-11-30T08:00:00+01:00")
    site.write("incidents/app.md", APP_DOWN.format(more=""))
    site.run("2026-11-30T10:00:00+01:00")
    site.write("incidents/app.md", APP_DOWN.format(
        more="  - {at: 2026-11-30 10:30, status: identified, body: Found it.}\n"))
    site.run("2026-11-30T11:00:00+01:00")
    first, second = site.sink.to("app@example.org")
    assert second["In-Reply-To"] == first["Message-ID"]
    assert first["Message-ID"] in second["References"]
    site.run("2026-11-30T11:05:00+01:00")
    assert len(site.sink.to("app@example.org")) == 2


def test_editing_an_old_updates_wording_sends_nothing(site: Notifier) -> None:
    site.run("2026-11-30T08:00:00+01:00")
    site.write("incidents/app.md", APP_DOWN.format(more=""))
    site.run("2026-11-30T10:00:00+01:00")
    site.write("incidents/app.md", APP_DOWN.format(more="").replace("We are looking into it.", "We investigate."))
    report = site.run("2026-11-30T10:10:00+01:00")
    assert report.events == [] and len(site.sink.messages) == 3


def test_a_quiet_update_sends_nothing(site: Notifier) -> None:
    site.run("2026-11-30T08:00:00+01:00")
    site.write("incidents/app.md", APP_DOWN.format(more=""))
    site.run("2026-11-30T10:00:00+01:00")
    site.write("incidents/app.md", APP_DOWN.format(
        more="  - {at: 2026-11-30 10:30, status: investigating, body: Typo fixed., notify: false}\n"))
    assert site.run("2026-11-30T11:00:00+01:00").events == []


def test_a_maintenance_is_scheduled_reminded_started_and_completed(either_site: Notifier) -> None:
    site = either_site
    site.run("2026-12-01T08:00:00+01:00")
    site.write("incidents/db.md", """\
        ---
        title: Database upgrade
        type: maintenance
        components: [dcc-certificates]
        window: {start: 2026-12-06 22:00, end: 2026-12-07 02:00}
        updates:
          - {at: 2026-12-01 09:00, status: scheduled, body: We will upgrade the database.}
        ---
        """)
    steps = [("2026-12-01T10:00:00+01:00", "maintenance_scheduled"), ("2026-12-05T23:00:00+01:00", "maintenance_reminder"),
             ("2026-12-06T22:05:00+01:00", "maintenance_started"), ("2026-12-07T02:05:00+01:00", "maintenance_completed")]
    for now, kind in steps:
        assert [e.kind for e in site.run(now).events] == [kind], now
    site.run("2026-12-07T03:00:00+01:00")
    assert site.sink.per_recipient() == {"group@example.org": 4, "all@example.org": 4}
    subjects = [m["Subject"] for m in site.sink.to("all@example.org")]
    assert len(set(subjects)) == 4


def test_a_dry_run_changes_nothing(site: Notifier) -> None:
    site.run("2026-11-30T08:00:00+01:00")
    site.write("incidents/app.md", APP_DOWN.format(more=""))
    build(site.root, site.out, "2026-11-30T10:00:00+01:00")
    stream = io.StringIO()
    notify(site.root, site.out, dry_run=True, stream=stream, env={"STATUSGEN_SECRET_KEY": SECRET})
    assert "would send incident_created (app/update/20261130T080000Z) to 3: group@example.org" in stream.getvalue()
    assert site.run("2026-11-30T10:00:00+01:00").events != []


def test_a_permanent_failure_is_reported_and_the_others_go_out(make_site: MakeSite, backend: Backend) -> None:
    def refuse(session: Any, envelope: Any) -> str | None:
        return "550 5.1.1 no such mailbox" if envelope.rcpt_tos == ["app@example.org"] else None

    with SmtpSink(refuse) as sink:
        site = Notifier(make_site({"content/site.yaml": SITE_YAML, "subscribers.yaml": SUBSCRIBERS}), sink, backend)
        site.run("2026-11-30T08:00:00+01:00")
        site.write("incidents/app.md", APP_DOWN.format(more=""))
        with pytest.raises(DeliveryError, match="1 deliveries failed for good, 0 are uncertain and 0 are still queued"):
            site.run("2026-11-30T10:00:00+01:00")
        assert sink.per_recipient() == {"group@example.org": 1, "all@example.org": 1}
        site.run("2026-11-30T10:05:00+01:00")  # not retried, no new failure
        assert len(sink.messages) == 2


def test_the_store_is_never_inside_the_published_folder(site: Notifier) -> None:
    from statusgen.errors import UsageError
    build(site.root, site.out, "2026-11-30T08:00:00+01:00")
    with pytest.raises(UsageError, match="inside the published folder"):
        notify(site.root, site.out, store_path=site.out / "notify.db", env={}, stream=io.StringIO())


def crowd(make_site: MakeSite, count: int) -> Path:
    """A site with `count` subscribers of everything, built once with nothing to announce."""
    people = "".join(f"- {{email: partner{n:04d}@example.org}}\n" for n in range(count))
    root = make_site({"content/site.yaml": SITE_YAML, "subscribers.yaml": people})
    build(root, root / "public", "2026-11-30T08:00:00+01:00")
    return root


def notify_command(root: Path, connections: int = 4, quiet: bool = True) -> list[str]:
    return [sys.executable, "-m", "statusgen", "notify", "--site", str(root), "--transport", "smtp",
            "--connections", str(connections), *(["-q"] if quiet else [])]


def smtp_env(sink: SmtpSink, backend: Backend) -> dict[str, str]:
    return {**os.environ, "STATUSGEN_SECRET_KEY": SECRET, "STATUSGEN_SMTP_HOST": "127.0.0.1",
            "STATUSGEN_SMTP_PORT": str(sink.port), "STATUSGEN_SMTP_SECURITY": "none", **backend.env()}


def announce_the_incident(root: Path, command: list[str], env: dict[str, str]) -> None:
    """The baseline run, then an incident every subscriber follows, built."""
    baseline = subprocess.run(command, env=env, check=False, capture_output=True, text=True, timeout=120)
    assert baseline.returncode == 0, baseline.stderr
    (root / "incidents" / "app.md").write_text(APP_DOWN.format(more=""))
    build(root, root / "public", "2026-11-30T10:00:00+01:00")


def test_a_run_killed_part_way_is_finished_by_the_next_and_nobody_gets_two(make_site: MakeSite,
                                                                            backend: Backend) -> None:
    """SIGKILL in the middle of 2,000 messages over 4 connections. What "never twice" costs:
    a message each connection had committed (recorded, final dot maybe on the wire) when the
    run died may or may not have arrived, so the next run does not resend it but reports it
    as uncertain. Everything else is sent by the next run, and nobody gets two."""
    root = crowd(make_site, 2000)
    command = notify_command(root)
    process: dict[str, subprocess.Popen[bytes]] = {}

    def kill_at_500(session: Any, envelope: Any) -> None:
        if len(sink.messages) == 500:
            os.kill(process["run"].pid, signal.SIGKILL)
        return None

    with SmtpSink(kill_at_500) as sink:
        env = smtp_env(sink, backend)
        announce_the_incident(root, command, env)
        process["run"] = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
        _, _ = process["run"].communicate(timeout=120)
        assert process["run"].returncode == -signal.SIGKILL
        assert 500 <= len(sink.messages) < 2000
        rerun = subprocess.run(command, env=env, check=False, capture_output=True, text=True, timeout=120)
        states = backend.states(root)
        counts = sink.per_recipient()

    assert set(counts.values()) == {1}, "somebody got a message twice"
    assert set(states.values()) <= {"sent", "uncertain"} and len(states) == 2000
    uncertain = {recipient for recipient, state in states.items() if state == "uncertain"}
    assert 1 <= len(uncertain) <= 4, uncertain  # at most the one message in flight on each connection
    missing = {f"partner{n:04d}@example.org" for n in range(2000)} - set(counts)
    assert missing <= uncertain, "a message the store calls sent never arrived"
    assert all(states[recipient] == "sent" for recipient in set(counts) - uncertain)
    assert rerun.returncode == 1
    assert f"{len(uncertain)} are uncertain" in rerun.stderr, rerun.stderr


def test_two_runs_started_together_send_every_message_exactly_once(make_site: MakeSite, backend: Backend) -> None:
    """Two CI runners, or a rerun while a slow run still sends: two notify processes at once,
    each with its own SMTP connections. The event is detected and queued once; with SQLite
    the second run waits for the first and finds nothing left, with PostgreSQL they share
    the send (each claims batches the other never takes)."""
    root = crowd(make_site, 2000)
    with SmtpSink() as sink:
        env = smtp_env(sink, backend)
        announce_the_incident(root, notify_command(root), env)
        runs = [subprocess.Popen(notify_command(root, quiet=False), env=env, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
        outcomes = [run.communicate(timeout=180) for run in runs]
        states = backend.states(root)
        counts = sink.per_recipient()

    assert [run.returncode for run in runs] == [0, 0], [err for _, err in outcomes]
    assert len(counts) == 2000 and set(counts.values()) == {1}, "somebody got two messages, or none"
    assert set(states.values()) == {"sent"} and len(states) == 2000
    sent = [_sent(err) for _, err in outcomes]
    assert sum(sent) == 2000, sent
    if backend.url:
        assert min(sent) > 0, f"one run sent everything: {sent}"


def _sent(stderr: str) -> int:
    """How many messages a run says it sent (its summary line; none when it had nothing to send)."""
    found = [line for line in stderr.splitlines() if line.startswith("notify: ") and " sent, " in line]
    return int(found[-1].split()[1]) if found else 0


def test_a_database_connection_dropped_mid_run_stops_it_and_the_next_run_finishes(make_site: MakeSite,
                                                                                 database_url: str) -> None:
    """Every connection of the run is cut (`pg_terminate_backend`) at the 300th message:
    the run stops with one line naming the database without its password, exit 1; the
    next run sends the rest, and nobody gets two."""
    backend = Backend(upgrade_stores(database_url))
    root = crowd(make_site, 2000)
    command = notify_command(root)
    cut = threading.Event()

    def cut_at_300(session: Any, envelope: Any) -> None:
        if len(sink.messages) == 300 and not cut.is_set():
            cut.set()
            terminate_others(database_url)
        return None

    with SmtpSink(cut_at_300) as sink:
        env = smtp_env(sink, backend)
        announce_the_incident(root, command, env)
        first = subprocess.run(command, env=env, check=False, capture_output=True, text=True, timeout=120)
        assert cut.is_set()
        before_the_rerun = len(sink.messages)
        rerun = subprocess.run(command, env=env, check=False, capture_output=True, text=True, timeout=120)
        states = backend.states(root)
        counts = sink.per_recipient()

    assert first.returncode == 1, first.stderr
    errors = [line for line in first.stderr.splitlines() if line.startswith("statusgen:")]
    assert len(errors) == 1 and errors[0].startswith(f"statusgen: the database {redacted(database_url)} failed: "
                                                     "terminating connection due to administrator command; run notify "
                                                     "again when it answers: it sends what is left, nothing twice"), errors
    assert "statusgen-test" not in first.stderr and "Traceback" not in first.stderr
    assert 300 <= before_the_rerun < 2000
    assert set(counts.values()) == {1}, "somebody got a message twice"
    uncertain = {recipient for recipient, state in states.items() if state == "uncertain"}
    assert set(states.values()) <= {"sent", "uncertain"} and len(states) == 2000
    assert {f"partner{n:04d}@example.org" for n in range(2000)} - set(counts) <= uncertain
    assert len(uncertain) <= 4 and rerun.returncode == (1 if uncertain else 0), rerun.stderr


def test_a_database_that_cannot_be_used_stops_notify_before_any_work(site: Notifier, run_cli: Any, postgres: Server,
                                                                    database_url: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Unreachable, a wrong password, or a schema never upgraded: one line naming the
    database without its password and what to do, exit 1, nothing done."""
    monkeypatch.setenv("STATUSGEN_SECRET_KEY", SECRET)
    build(site.root, site.out, "2026-11-30T08:00:00+01:00")
    wrong = postgres.url(database_url.rsplit("/", 1)[1], password="wrong-password")
    nobody = f"postgresql://statusgen:pw@127.0.0.1:{free_port()}/statusgen"
    expected = {
        wrong: f"--store: cannot connect to the database {redacted(wrong)}: ",
        nobody: f"--store: cannot connect to the database {redacted(nobody)}: ",
        database_url: (f"--store: the database {redacted(database_url)} has notifier schema version 0, this "
                       "statusgen needs 2: run `statusgen db upgrade`"),
    }
    for url, start in expected.items():
        code, _, err = run_cli("notify", "--site", site.root, "--store", url)
        assert code == 1, err
        assert err.splitlines()[0].startswith(start), err
        assert "\n" not in err.splitlines()[0] and "wrong-password" not in err and ":pw@" not in err
        assert "nothing was done" in err.splitlines()[-1]
    assert "password authentication failed" in run_cli("notify", "--site", site.root, "--store", wrong)[2]
    monkeypatch.setenv("STATUSGEN_DATABASE_URL", database_url)
    code, _, err = run_cli("doctor", "--site", site.root)
    assert code == 1 and err.splitlines()[0].startswith(f"STATUSGEN_DATABASE_URL: the database {redacted(database_url)}"
                                                        " has notifier schema version 0"), err
    assert not (site.root / ".statusgen" / "notify.db").exists() and site.sink.messages == []
    upgrade_stores(database_url)
    code, _, err = run_cli("notify", "--site", site.root)
    assert code == 0 and "recorded a baseline of 0 facts" in err, err


def test_ctrl_c_finishes_the_messages_in_hand_and_the_next_run_sends_the_rest(make_site: MakeSite) -> None:
    """Ctrl-C lands on whichever thread the kernel picks (kill() with a worker thread's id
    prefers that one): the run still stops promptly, hands over what it had started,
    records it, and leaves the rest pending, nothing uncertain."""
    people = "".join(f"- {{email: partner{n:04d}@example.org}}\n" for n in range(400))
    root = make_site({"content/site.yaml": SITE_YAML, "subscribers.yaml": people})
    out = root / "public"
    build(root, out, "2026-11-30T08:00:00+01:00")
    # As from a terminal: Python leaves SIGINT ignored when its parent ignores it, as a
    # shell script's background jobs do, and the tests may run as one.
    command = [sys.executable, "-c", "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler);"
               " from statusgen.cli import main; sys.exit(main())",
               "notify", "--site", str(root), "--transport", "smtp"]
    process: dict[str, subprocess.Popen[str]] = {}

    def slowly(session: Any, envelope: Any) -> None:
        if "run" in process and len(sink.messages) == 50:
            pid = process["run"].pid
            worker = next(int(t.name) for t in Path(f"/proc/{pid}/task").iterdir() if int(t.name) != pid)
            os.kill(worker, signal.SIGINT)
        time.sleep(0.005)
        return None

    with SmtpSink(slowly) as sink:
        env = {**os.environ, "STATUSGEN_SECRET_KEY": SECRET, "STATUSGEN_SMTP_HOST": "127.0.0.1",
               "STATUSGEN_SMTP_PORT": str(sink.port), "STATUSGEN_SMTP_SECURITY": "none"}
        assert subprocess.run(command, env=env, check=False, capture_output=True).returncode == 0  # the baseline
        (root / "incidents" / "app.md").write_text(APP_DOWN.format(more=""))
        build(root, out, "2026-11-30T10:00:00+01:00")
        process["run"] = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
        _, stderr = process["run"].communicate(timeout=60)
        assert process["run"].returncode == 130, stderr
        assert "statusgen: interrupted" in stderr and "Traceback" not in stderr
        first = len(sink.messages)
        assert 50 <= first < 400
        with sqlite3.connect(root / ".statusgen" / "notify.db") as db:
            states = dict(db.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state").fetchall())
        assert states == {"sent": first, "pending": 400 - first}
        rerun = subprocess.run(command, env=env, check=False, capture_output=True, text=True, timeout=60)
        assert rerun.returncode == 0, rerun.stderr
        assert sink.wait_for(400, timeout=5)
        counts = sink.per_recipient()
    assert len(counts) == 400 and set(counts.values()) == {1}


def test_a_relay_that_cannot_be_reached_leaves_everything_queued_for_the_next_run(either_site: Notifier) -> None:
    site = either_site
    import socket
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    site.run("2026-11-30T08:00:00+01:00")
    site.write("incidents/app.md", APP_DOWN.format(more=""))
    build(site.root, site.out, "2026-11-30T10:00:00+01:00")
    dead = SmtpTransport(SmtpSettings(host="127.0.0.1", port=closed, security="none", user=None, password=None),
                         retries=1, backoff=0.01)
    with pytest.raises(DeliveryError, match="3 are still queued for the next run"):
        notify(site.root, site.out, transport=dead, env={"STATUSGEN_SECRET_KEY": SECRET}, stream=io.StringIO(),
               store_path=site.backend.store(site.root))
    site.run("2026-11-30T10:05:00+01:00")
    assert site.sink.per_recipient() == {"group@example.org": 1, "app@example.org": 1, "all@example.org": 1}


def test_the_default_outbox_writes_one_file_per_message(site: Notifier, run_cli: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATUSGEN_SECRET_KEY", SECRET)
    build(site.root, site.out, "2026-11-30T08:00:00+01:00")
    assert run_cli("notify", "--site", site.root)[0] == 0
    site.write("incidents/app.md", APP_DOWN.format(more=""))
    build(site.root, site.out, "2026-11-30T10:00:00+01:00")
    code, _, err = run_cli("notify", "--site", site.root)
    assert code == 0, err
    files = sorted((site.root / ".statusgen" / "outbox" / "new").iterdir())
    assert len(files) == 3
    parsed = [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]
    assert sorted(m["To"] for m in parsed) == ["all@example.org", "app@example.org", "group@example.org"]
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in files)


def test_export_and_remove_read_and_scrub_the_notifier_store_in_the_database(
        make_site: MakeSite, sink: SmtpSink, database_url: str, run_cli: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`statusgen subscribers export|remove` find the notifier's deliveries where notify
    keeps them: with STATUSGEN_DATABASE_URL, in the database."""
    import json
    site = Notifier(make_site({"content/site.yaml": SITE_YAML, "subscribers.yaml": SUBSCRIBERS}), sink,
                    Backend(upgrade_stores(database_url)))
    site.run("2026-11-30T08:00:00+01:00")
    site.write("incidents/app.md", APP_DOWN.format(more=""))
    site.run("2026-11-30T10:00:00+01:00")
    monkeypatch.setenv("STATUSGEN_DATABASE_URL", database_url)
    code, out, err = run_cli("subscribers", "export", "APP@example.org", "--site", site.root)
    assert code == 0, err
    assert [(d["event"], d["state"]) for d in json.loads(out)["notifier_deliveries"]] == [
        ("app/update/20261130T080000Z", "sent")]
    code, out, err = run_cli("subscribers", "remove", "app@example.org", "--site", site.root)
    assert code == 0, err
    assert "notifier store: 1 deliveries now name the digest instead of the address" in out
    states = site.backend.states(site.root)
    assert "app@example.org" not in states and sum(r.startswith("erased:") for r in states) == 1
    assert not (site.root / ".statusgen" / "notify.db").exists()


# ── a large send's emails made in a forked process ─────────────────────────────────────

from statusgen.notifier.composer import ForkedComposer  # noqa: E402

FORKED_INIT = ForkedComposer.__init__


def outbox_after_one_incident(make_site: MakeSite, subscribers: str, monkeypatch: pytest.MonkeyPatch,
                              fork_from: int) -> dict[str, bytes]:
    """Every file the outbox gets for one incident, with emails made in a process of their
    own from `fork_from` waiting ones."""
    from statusgen.notifier import composer
    monkeypatch.setattr(composer, "FORK_FROM", fork_from)
    forks: list[int] = []
    monkeypatch.setattr(composer.ForkedComposer, "__init__",
                        lambda self, made: (forks.append(1), FORKED_INIT(self, made))[1])
    root = make_site({"content/site.yaml": SITE_YAML, "subscribers.yaml": subscribers}, name=f"site-{fork_from}")
    env = {"STATUSGEN_SECRET_KEY": SECRET}
    build(root, root / "public", "2026-11-30T08:00:00+01:00")
    notify(root, env=env, stream=io.StringIO())
    (root / "incidents" / "app.md").write_text(textwrap.dedent(APP_DOWN.format(more="")))
    build(root, root / "public", "2026-11-30T10:00:00+01:00")
    report = notify(root, env=env, stream=io.StringIO())
    assert len(forks) == (1 if fork_from == 0 else 0) and report.counts["sent"] == report.queued
    return {file.name: file.read_bytes() for file in (root / ".statusgen" / "outbox" / "new").iterdir()}


def test_emails_made_in_a_forked_process_are_the_same_bytes(make_site: MakeSite,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """250 subscribers (more than two claimed batches), both languages, all or some
    components: the same files, byte for byte, whichever process made them."""
    subscribers = SUBSCRIBERS + "".join(
        f"- {{email: p{n:03d}@example.org, language: {('nl', 'en')[n % 2]}"
        f"{', components: [eu-dcc]' if n % 3 else ''}}}\n" for n in range(250))
    here = outbox_after_one_incident(make_site, subscribers, monkeypatch, fork_from=10**9)
    forked = outbox_after_one_incident(make_site, subscribers, monkeypatch, fork_from=0)
    assert len(here) == 3 + 250 and forked == here  # all@, app@, group@ and the 250


def test_the_forked_composer_keeps_the_order_and_raises_an_error_in_its_place() -> None:
    from statusgen.notifier.composer import ForkedComposer

    def made(number: Any) -> Any:
        if number == 7:
            raise ValueError("To: expected one address")
        return number * 10

    composer = ForkedComposer(made)  # type: ignore[arg-type]
    try:
        assert list(composer.compose(iter([[1, 2], [3], [4, 5, 6]]))) == [10, 20, 30, 40, 50, 60]
        taken = []
        with pytest.raises(ValueError, match="To: expected one address"):
            for outgoing in composer.compose(iter([[1, 2], [3, 7, 8], [9]])):
                taken.append(outgoing)
        assert taken == [10, 20, 30]
    finally:
        composer.close()
    assert not composer._process.is_alive()


def test_the_forked_composer_ends_quietly_when_the_run_stops_taking(capfd: pytest.CaptureFixture[str]) -> None:
    """A run that stops (the database went away, Ctrl-C) closes the pipe while the process
    still makes the batches ahead: it ends without a word (no traceback in the run's output)."""
    from statusgen.notifier.composer import ForkedComposer

    def slow(number: Any) -> Any:
        time.sleep(0.01)
        return number

    composer = ForkedComposer(slow)  # type: ignore[arg-type]
    taken = composer.compose(iter([list(range(50)) for _ in range(5)]))
    assert next(taken) == 0
    composer.close()
    assert composer._process.exitcode == 0
    assert "Traceback" not in capfd.readouterr().err
