"""Moving a deployment from SQLite to PostgreSQL with `statusgen db copy`, end to end: a site
that ran for a while on its SQLite stores (a baseline, an incident sent, one delivery still
queued, one uncertain, subscriptions pending and confirmed through the real service, an
unsubscribe, rate counters), copied, and then notified from PostgreSQL alone.

This needs the real PostgreSQL stores (statusgen/notifier/pgstore.py and
statusgen/subscriptions/pgstore.py) and notify, the service and `subscribers` choosing them
from STATUSGEN_DATABASE_URL."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from statusgen import notify
from statusgen.content.relay import SmtpSettings
from statusgen.errors import DeliveryError
from statusgen.notifier.smtp import SmtpTransport
from statusgen.site.build import build
from tests.conftest import MakeSite
from tests.smtpsink import SmtpSink
from tests.test_subscriptions import SECRET, SITE_YAML, Browser, Service, links, one_click_url

RunCli = Callable[..., tuple[int, str, str]]
SUBSCRIBERS = """\
- {email: always@example.org}
- {email: leaver@example.org}
- {email: later@example.org}
- {email: unsure@example.org}
- {email: lookup@example.org, components: [lookup-portal]}
"""
APP_DOWN = """\
---
title: App sign-in fails
impact: P2
components: {dcc-app: major_outage}
updates:
  - {at: 2026-11-30 09:00, status: investigating, body: We are looking into it.}
"""
FOUND = "  - {at: 2026-11-30 10:30, status: identified, body: Found it.}\n"
TRY_LATER = "451 4.3.0 mailbox busy, try again later"


@pytest.fixture
def refused() -> set[str]:
    """Addresses the sink answers with a temporary error (4xx) for now."""
    return set()


@pytest.fixture
def sink(refused: set[str]) -> Iterator[SmtpSink]:
    def busy(session: Any, envelope: Any) -> str | None:
        return TRY_LATER if refused & set(envelope.rcpt_tos) else None

    with SmtpSink(busy) as server:
        yield server


def notifications(sink: SmtpSink, address: str) -> list[str]:
    """The subjects of the notifications (not the service's confirmation) `address` received."""
    return [str(m["Subject"]) for m in sink.to(address) if not str(m["Subject"]).startswith("Confirm")]


def notify_from_sqlite(root: Path, sink: SmtpSink, now: str) -> None:
    """`statusgen notify` as the deployment ran it so far: SQLite stores, SMTP to the sink."""
    build(root, root / "public", now)
    transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=sink.port), connections=1, retries=0,
                              local_hostname="localhost")
    notify(root, root / "public", transport=transport, env={"STATUSGEN_SECRET_KEY": SECRET}, stream=io.StringIO())


def subscribe(service: Service, address: str, confirm: bool) -> None:
    service.subscribe(address, ["dcc-app"], "en")
    confirmation: EmailMessage = service.mail_to(address)[0]
    if confirm:
        browser = Browser(service)
        assert "You are subscribed" in browser.submit(browser.get(links(confirmation)["confirm"])).text


def export(run_cli: RunCli, root: Path, address: str) -> dict[str, Any]:
    code, out, err = run_cli("subscribers", "export", address, "--site", root)
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def test_copy_then_notify_continues_where_sqlite_stopped(make_site: MakeSite, sink: SmtpSink, refused: set[str],
                                                        run_cli: RunCli, database_url: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_site({"content/site.yaml": SITE_YAML, "subscribers.yaml": SUBSCRIBERS})
    for name in ("STATUSGEN_DATABASE_URL", "STATUSGEN_SUBSCRIPTIONS_DB"):
        monkeypatch.delenv(name, raising=False)
    incident = root / "incidents" / "app-down.md"

    # ── the deployment on SQLite ──
    notify_from_sqlite(root, sink, "2026-11-30T08:00:00+01:00")  # the baseline
    service = Service(root, sink)
    try:
        subscribe(service, "confirmed@example.org", confirm=True)
        subscribe(service, "pending@example.org", confirm=False)
        incident.write_text(APP_DOWN + "---\n")
        refused.update({"later@example.org", "unsure@example.org"})
        with pytest.raises(DeliveryError, match="2 are still queued"):
            notify_from_sqlite(root, sink, "2026-11-30T10:00:00+01:00")
        [first] = sink.to("leaver@example.org")
        gone = service.request("POST", one_click_url(first), "List-Unsubscribe=One-Click",
                               {"Content-Type": "application/x-www-form-urlencoded"})
        assert gone.status == 200
    finally:
        service.stop()
    with sqlite3.connect(root / ".statusgen" / "notify.db") as ledger:  # a run killed at unsure@'s hand-over
        ledger.execute("UPDATE deliveries SET state = 'committing' WHERE recipient = 'unsure@example.org'")
    with pytest.raises(DeliveryError, match="1 are still queued"):  # it becomes uncertain; later@ is still busy
        notify_from_sqlite(root, sink, "2026-11-30T10:00:00+01:00")
    with sqlite3.connect(root / ".statusgen" / "notify.db") as ledger:
        assert dict(ledger.execute("SELECT recipient, state FROM deliveries").fetchall()) == {
            "always@example.org": "sent", "leaver@example.org": "sent", "confirmed@example.org": "sent",
            "later@example.org": "pending", "unsure@example.org": "uncertain"}
    before = {address: notifications(sink, address) for address in (
        "always@example.org", "leaver@example.org", "confirmed@example.org", "later@example.org",
        "unsure@example.org", "lookup@example.org", "pending@example.org")}
    assert {address: len(subjects) for address, subjects in before.items()} == {
        "always@example.org": 1, "leaver@example.org": 1, "confirmed@example.org": 1, "later@example.org": 0,
        "unsure@example.org": 0, "lookup@example.org": 0, "pending@example.org": 0}

    # ── the move: db copy, then the SQLite files put away, so only PostgreSQL can answer ──
    code, out, err = run_cli("db", "copy", "--site", root, "--to", database_url)
    assert code == 0, err
    assert f"copied the notifier store {root}/.statusgen/notify.db:" in out.splitlines()
    assert f"copied the subscriptions store {root}/.statusgen/subscriptions.db:" in out.splitlines()
    assert "statusgen-test" not in out + err  # the password
    kept = tmp_path / "sqlite-kept"
    kept.mkdir()
    for file in (root / ".statusgen").glob("*.db*"):
        file.rename(kept / file.name)

    # ── notify from PostgreSQL: the queued one goes, nothing sent goes again, the unsubscribe holds ──
    for name, value in {"STATUSGEN_DATABASE_URL": database_url, "STATUSGEN_SECRET_KEY": SECRET,
                        "STATUSGEN_SMTP_HOST": "127.0.0.1", "STATUSGEN_SMTP_PORT": str(sink.port),
                        "STATUSGEN_SMTP_SECURITY": "none", "STATUSGEN_SMTP_USER": "", "STATUSGEN_SMTP_PASSWORD": "",
                        "STATUSGEN_SMTP_FROM": ""}.items():
        monkeypatch.setenv(name, value)
    refused.clear()
    incident.write_text(APP_DOWN + FOUND + "---\n")
    build(root, root / "public", "2026-11-30T11:00:00+01:00")
    code, _, err = run_cli("notify", "--site", root, "--transport", "smtp", "--connections", "2")
    assert code == 0, err
    after = {address: notifications(sink, address) for address in before}
    added = {address: after[address][len(before[address]):] for address in before}
    assert {address: len(subjects) for address, subjects in added.items()} == {
        "always@example.org": 1,      # the update only: the incident was announced before the move
        "leaver@example.org": 0,      # unsubscribed through the service, on SQLite
        "confirmed@example.org": 1,   # a self-service subscriber, confirmed on SQLite
        "later@example.org": 2,       # the delivery left queued, then the update
        "unsure@example.org": 1,      # the update only: the uncertain one is never sent again
        "lookup@example.org": 0,      # follows another component
        "pending@example.org": 0}     # never confirmed
    created, update = added["later@example.org"]
    assert created == before["always@example.org"][0] and update == added["always@example.org"][0] != created
    assert all(after[address] == [before["always@example.org"][0], update]
               for address in ("always@example.org", "confirmed@example.org"))
    assert not (root / ".statusgen" / "notify.db").exists()  # PostgreSQL did it all

    code, _, err = run_cli("notify", "--site", root, "--transport", "smtp")  # a rerun sends nothing
    assert code == 0, err
    assert {address: notifications(sink, address) for address in before} == after

    # ── what the subscription store and the ledger hold, read back from PostgreSQL ──
    confirmed, pending = export(run_cli, root, "confirmed@example.org"), export(run_cli, root, "pending@example.org")
    assert confirmed["subscription"]["state"] == "confirmed" and pending["subscription"]["state"] == "pending"
    assert confirmed["email_rate_limit"]["emails_requested"] == 1  # the service's rate counter came along
    assert export(run_cli, root, "leaver@example.org")["suppression"]["address"] == "leaver@example.org"
    assert [(d["kind"], d["state"]) for d in export(run_cli, root, "unsure@example.org")["notifier_deliveries"]] == [
        ("incident_created", "uncertain"), ("incident_updated", "sent")]
    assert [(d["kind"], d["state"]) for d in export(run_cli, root, "later@example.org")["notifier_deliveries"]] == [
        ("incident_created", "sent"), ("incident_updated", "sent")]

