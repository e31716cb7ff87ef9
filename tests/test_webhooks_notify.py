"""Webhooks in `statusgen notify`, end to end: subscribers.yaml entries, the preflight, the
store (SQLite and PostgreSQL, and the upgrade from schema 1), and runs against real HTTP
receivers on 127.0.0.1 (allowed by STATUSGEN_WEBHOOK_ALLOW_NETS=127.0.0.0/8): routing per
component, one payload per part, retries carried to the next run with the same webhook-id,
a hanging receiver, 410 Gone, quarantine and reactivation, a killed run. Signatures are
checked with the `standardwebhooks` package's own verifier."""

from __future__ import annotations

import email
import email.policy
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from standardwebhooks import Webhook

from statusgen import notify
from statusgen.content.load import load_site
from statusgen.content.webhooks import default_secret_env, webhook_id
from statusgen.database import connect, upgrade
from statusgen.errors import ContentErrors, DeliveryError, SetupError
from statusgen.notifier import pgstore
from statusgen.notifier.pgstore import PostgresNotifyStore, copy_sqlite
from statusgen.notifier.store import MIGRATIONS, SCHEMA_VERSION, SqliteNotifyStore
from statusgen.notifier.webhooks.network import NetworkPolicy
from statusgen.notifier.webhooks.signing import new_secret
from statusgen.notifier.webhooks.transport import WebhookTransport
from statusgen.site.build import build
from tests.conftest import ROOT, MakeSite
from tests.pgstores import upgrade_stores
from tests.webhookreceiver import HANG, Receiver, Received

SECRET_KEY = "k" * 32
ALLOW = {"STATUSGEN_WEBHOOK_ALLOW_NETS": "127.0.0.0/8"}
LOOPBACK = NetworkPolicy.from_env(ALLOW)
SITE_YAML = """\
title: {en: Example status, nl: Voorbeeldstatus}
base_url: https://status.example.org/
languages: [en, nl]
timezone: Europe/Brussels
subscriptions: {url: https://status.example.org/subscriptions/}
notify: {from: status@example.org, unsubscribe_mailto: leave@example.org}
"""
INCIDENT = """\
---
title: {{en: {title}, nl: {title} (nl)}}
impact: P2
components: {{{components}}}
updates:
  - {{at: 2026-11-30 09:00, status: investigating, body: We are looking into it.}}
{more}---
"""
START = "2026-11-30T08:00:00+01:00"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


class Site:
    """A site whose subscribers.yaml lists webhooks on one receiver, its builds and notify runs."""

    def __init__(self, root: Path, receiver: Receiver, database: str | None = None) -> None:
        self.root, self.receiver, self.database = root, receiver, database
        self.secrets: dict[str, str] = {}
        self.out = io.StringIO()

    def subscribers(self, text: str) -> None:
        """subscribers.yaml, with `URL(/path)` for the receiver's URL of a path."""
        for path in set(_paths(text)):
            text = text.replace(f"URL({path})", self.receiver.url(path))
        (self.root / "subscribers.yaml").write_text(textwrap.dedent(text))

    def secret(self, path: str) -> str:
        """A fresh signing secret for the webhook at `path`, in its default variable."""
        self.secrets[default_secret_env(self.receiver.url(path))] = secret = new_secret()
        return secret

    def incident(self, name: str, components: str, title: str = "Outage", more: str = "") -> None:
        (self.root / "incidents" / f"{name}.md").write_text(INCIDENT.format(title=title, components=components,
                                                                            more=more))

    def env(self, **extra: str) -> dict[str, str]:
        env = {"STATUSGEN_SECRET_KEY": SECRET_KEY, **ALLOW, **self.secrets, **extra}
        return {**env, "STATUSGEN_DATABASE_URL": self.database} if self.database else env

    def run(self, now: str, **options: Any) -> Any:
        """Build at `now` and notify; returns the report, or the DeliveryError it raised."""
        build(self.root, self.root / "public", now)
        options.setdefault("env", self.env())
        options.setdefault("webhooks", WebhookTransport(LOOPBACK, retries=0, timeout=10))
        try:
            return notify(self.root, self.root / "public", stream=self.out, **options)
        except DeliveryError as error:
            return error

    def store(self, clock: Callable[[], datetime] | None = None) -> Any:
        if self.database:
            return PostgresNotifyStore(self.database, clock)
        return SqliteNotifyStore(self.root / ".statusgen" / "notify.db", clock)


def _paths(text: str) -> list[str]:
    import re
    return re.findall(r"URL\((/[^)]*)\)", text)


@pytest.fixture
def site(make_site: MakeSite, receiver: Receiver) -> Site:
    return Site(make_site({"content/site.yaml": SITE_YAML}), receiver)


def verified(received: Received, secret: str) -> Any:
    """The body, after the standardwebhooks package verified the signature (it raises if not)."""
    return Webhook(secret).verify(received.body, received.headers)


def kind(body: dict[str, Any]) -> str:
    """Which of Statuspage's two bodies this is: receivers tell them apart by the key present."""
    return "incident" if "incident" in body else "component_update"


def baseline(site: Site) -> None:
    report = site.run(START)
    assert report.baseline


# ── subscribers.yaml ──────────────────────────────────────────────────────────────────

def test_webhook_entries_are_read_with_their_format_contact_and_secret_variable(make_site: MakeSite) -> None:
    root = make_site({"subscribers.yaml": """\
        - webhook: https://desk.partner.example/hooks/status
          email: Desk@Partner.example
          components: [eu-dcc]
          language: nl
        - webhook: https://desk2.partner.example/in
          secret_env: PARTNER_TWO
        - webhook: https://hooks.slack.com/services/T0/B0/xyz
        - webhook: https://chat.internal.example/hooks/abc
          format: mattermost
        - email: spoc@partner.example
        """})
    _, listed = load_site(root)
    desk, two, slack, mattermost, spoc = listed
    assert (desk.webhook, desk.format, desk.email, desk.language) == \
        ("https://desk.partner.example/hooks/status", "statuspage", "Desk@Partner.example", "nl")
    assert desk.components == ("dcc-certificates", "dcc-app")
    assert desk.secret_env == f"STATUSGEN_WEBHOOK_SECRET_{webhook_id(desk.webhook or '').upper()}"
    assert (two.secret_env, slack.format, slack.secret_env) == ("PARTNER_TWO", "slack", None)
    assert (mattermost.format, spoc.webhook, spoc.key) == ("mattermost", None, "spoc@partner.example")
    assert desk.key == "webhook:https://desk.partner.example/hooks/status"


def test_webhook_entries_with_mistakes_are_named_by_line(make_site: MakeSite) -> None:
    root = make_site({"subscribers.yaml": """\
        - webhook: https://desk.partner.example/a
        - webhook: https://desk.partner.example/a
        - webhook: https://acme.webhook.office.com/webhookb2/x/IncomingWebhook/y
        - webhook: https://desk.partner.example/b
          format: teamz
        - webhook: https://hooks.slack.com/services/T0/B0/xyz
          secret_env: SLACK_SECRET
        - webhook: ftp://desk.partner.example/c
        - webhook: https://desk.partner.example/d
          secret_env: whsec_c2VjcmV0
        - webhook: https://desk.partner.example/e
          email: not-an-address
          components: [nope]
        - webhook: https://user:pw@desk.partner.example/f
        """})
    with pytest.raises(ContentErrors) as raised:
        load_site(root)
    assert [str(error) for error in raised.value.errors] == [
        "subscribers.yaml:2: webhook: this URL is already listed on line 1",
        "subscribers.yaml:3: webhook: https://acme.webhook.office.com/...: Office 365 connector webhooks "
        "(*.webhook.office.com, outlook.office.com/webhook) were retired by Microsoft and no longer deliver messages; "
        "in Teams, create a Workflows webhook instead (the workflow template \"When a Teams webhook request is "
        "received\", or \"Post to a channel when a webhook request is received\") and use its URL",
        "subscribers.yaml:5: format: expected one of statuspage, slack, teams, googlechat, discord, mattermost; "
        "found 'teamz'",
        "subscribers.yaml:7: secret_env: slack messages are not signed (the URL itself is the secret); "
        "remove secret_env",
        "subscribers.yaml:8: webhook: expected a URL such as https://desk.partner.example/hooks/status",
        "subscribers.yaml:10: secret_env: expected the NAME of an environment variable (letters, digits and _, such "
        "as PARTNER_DESK_SECRET), never the secret itself; found a whsec_ secret",
        "subscribers.yaml:12: email: expected an address such as 'spoc@partner.example'; found 'not-an-address'",
        "subscribers.yaml:13: unknown component 'nope'",
        "subscribers.yaml:14: webhook: a user name or password before the host is not allowed (sign with secret_env, "
        "or put a secret in the path)",
    ]


# ── the preflight and the doctor ──────────────────────────────────────────────────────

def test_notify_stops_before_any_work_naming_each_webhook_setting(site: Site) -> None:
    site.subscribers("""\
        - webhook: URL(/desk)
        - webhook: URL(/named)
          secret_env: DESK_TWO
        - webhook: https://10.0.0.1/in
          format: slack
        """)
    build(site.root, site.root / "public", START)
    env = {"STATUSGEN_SECRET_KEY": SECRET_KEY, "DESK_TWO": "whsec_short", "STATUSGEN_WEBHOOK_TIMEOUT": "soon"}
    with pytest.raises(SetupError) as raised:
        notify(site.root, env=env, stream=io.StringIO())
    port = site.receiver.port
    variable = default_secret_env(site.receiver.url("/desk"))
    loopback = "the URL points at 127.0.0.1, a loopback address: webhooks reach only public addresses (or the " \
               "ranges in STATUSGEN_WEBHOOK_ALLOW_NETS)"
    assert list(raised.value.problems) == [
        "STATUSGEN_WEBHOOK_TIMEOUT: expected the seconds a webhook receiver has to answer, more than 0 and at most "
        "300 (default 30); found 'soon'",
        f"subscribers.yaml:1: webhook 127.0.0.1:{port}/d…/***: {loopback}",
        f"subscribers.yaml:1: webhook 127.0.0.1:{port}/d…/***: its deliveries are signed, but {variable} is not set: "
        f"set {variable} to its whsec_ secret (whsec_ and base64 of 24 to 64 random bytes; two, space-separated, "
        "while rotating), or name the variable that holds it with secret_env:",
        f"subscribers.yaml:2: webhook 127.0.0.1:{port}/n…/***: {loopback}",
        f"subscribers.yaml:2: webhook 127.0.0.1:{port}/n…/***: DESK_TWO: a webhook signing secret is whsec_ followed "
        "by base64; this one is not valid base64",
        "subscribers.yaml:4: webhook 10.0.0.1/i…/***: the URL points at 10.0.0.1, a private address: webhooks reach "
        "only public addresses (or the ranges in STATUSGEN_WEBHOOK_ALLOW_NETS)",
    ]
    assert not (site.root / ".statusgen" / "notify.db").exists()  # nothing was done
    assert site.receiver.received == []


def test_doctor_names_a_missing_secret_variable_and_a_bad_allow_list(
        site: Site, run_cli: Callable[..., tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    site.subscribers("- webhook: URL(/desk)\n")
    variable = default_secret_env(site.receiver.url("/desk"))
    monkeypatch.setenv("STATUSGEN_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("STATUSGEN_WEBHOOK_ALLOW_NETS", "127.0.0.0/8, localhost")
    monkeypatch.delenv(variable, raising=False)
    code, out, err = run_cli("doctor", "--site", site.root)
    assert code == 1
    assert f"subscribers.yaml:1: webhook 127.0.0.1:{site.receiver.port}/d…/***: its deliveries are signed, but " \
           f"{variable} is not set" in err
    assert "STATUSGEN_WEBHOOK_ALLOW_NETS: expected CIDR ranges such as 127.0.0.0/8 or fd00::/8, separated by " \
           "commas or spaces; found 'localhost'" in err
    monkeypatch.setenv("STATUSGEN_WEBHOOK_ALLOW_NETS", "127.0.0.0/8")
    monkeypatch.setenv(variable, new_secret())
    code, out, err = run_cli("doctor", "--site", site.root)
    assert code == 0, err
    assert site.receiver.url("/desk") not in out + err


# ── routing, parts, signatures ────────────────────────────────────────────────────────

def test_each_webhook_gets_only_its_components_events_signed_with_a_part_per_change(site: Site) -> None:
    site.subscribers("""\
        - webhook: URL(/app)
          components: [dcc-app]
          language: nl
        - webhook: URL(/group)
          components: [eu-dcc]
        - webhook: URL(/lookup)
          components: [lookup-portal]
        - webhook: URL(/chat)
          format: slack
          components: [dcc-app]
        """)
    app, group, lookup = site.secret("/app"), site.secret("/group"), site.secret("/lookup")
    baseline(site)
    site.incident("pdf", "dcc-app: major_outage, dcc-certificates: partial_outage", title="PDF and app down")
    report = site.run("2026-11-30T09:05:00+01:00")
    assert report.counts == {"sent": 6, "failed": 0, "uncertain": 0, "gone": 0, "pending": 0}
    assert site.receiver.at("/lookup") == []
    bodies = [verified(r, app) for r in site.receiver.at("/app")]
    assert [sorted(body) for body in bodies] == [["incident", "meta", "page"],
                                                 ["component", "component_update", "meta", "page"]]
    assert bodies[0]["incident"]["name"] == "PDF and app down (nl)"
    assert bodies[0]["incident"]["shortlink"] == "https://status.example.org/nl/incidents/pdf/"
    assert bodies[1]["component"]["name"] == "Mobiele app"  # the part of the component it follows, only
    assert bodies[0]["meta"]["unsubscribe"].startswith("https://status.example.org/subscriptions/manage?token=")
    group_bodies = [verified(r, group) for r in site.receiver.at("/group")]
    assert sorted(b["component"]["name"] for b in group_bodies if "component" in b) == \
        ["Certificates (PDF)", "Mobile app"]
    ids = [r.headers["webhook-id"] for r in site.receiver.received if "webhook-id" in r.headers]
    assert len(ids) == len(set(ids)) == 6 - 1  # the chat message is not signed
    chat, = site.receiver.at("/chat")
    assert "webhook-signature" not in chat.headers and "PDF and app down" in chat.json()["text"]
    with pytest.raises(Exception):  # noqa: B017 - a signature made with another webhook's secret
        verified(site.receiver.at("/app")[0], lookup)
    assert site.run("2026-11-30T09:06:00+01:00").counts["sent"] == 0  # nothing twice
    assert len(site.receiver.received) == 6


def test_a_dry_run_lists_webhook_targets_masked(site: Site) -> None:
    site.subscribers("- webhook: URL(/secret-path-abc)\n  format: slack\n- email: spoc@partner.example\n")
    baseline(site)
    site.incident("pdf", "dcc-app: major_outage")
    site.run("2026-11-30T09:05:00+01:00", dry_run=True)
    printed = site.out.getvalue()
    assert f"to 2: webhook 127.0.0.1:{site.receiver.port}/s…/***, spoc@partner.example" in printed
    assert "secret-path-abc" not in printed and site.receiver.received == []


# ── failures: retried in the next run, uncertain, gone ────────────────────────────────

def test_a_receiver_answering_500_then_200_gets_one_delivery_with_the_same_id(site: Site) -> None:
    site.subscribers("- webhook: URL(/desk)\n  components: [lookup-portal]\n")
    secret = site.secret("/desk")
    site.receiver.script("/desk", [500, 200])
    baseline(site)
    site.incident("portal", "lookup-portal: major_outage")
    first = site.run("2026-11-30T09:05:00+01:00")
    assert isinstance(first, DeliveryError) and "1 are still queued for the next run" in str(first)
    assert "webhooks: deferred 127.0.0.1" in site.out.getvalue()
    second = site.run("2026-11-30T09:10:00+01:00")
    assert second.counts == {"sent": 1, "failed": 0, "uncertain": 0, "gone": 0, "pending": 0}
    received = site.receiver.at("/desk")  # the incident (500), its component_update (200), the incident again
    assert [kind(verified(r, secret)) for r in received] == ["incident", "component_update", "incident"]
    tried, change, delivered = received
    assert tried.headers["webhook-id"] == delivered.headers["webhook-id"] != change.headers["webhook-id"]
    assert tried.body == delivered.body  # the same payload, signed anew
    assert site.run("2026-11-30T09:15:00+01:00").counts["sent"] == 0
    assert len(site.receiver.at("/desk")) == 3


def test_a_hanging_receiver_is_uncertain_and_not_sent_again(site: Site) -> None:
    site.subscribers("- webhook: URL(/slow)\n  format: slack\n- webhook: URL(/fast)\n  format: slack\n")
    site.receiver.script("/slow", [HANG])
    baseline(site)
    site.incident("pdf", "dcc-app: major_outage")
    started = time.monotonic()
    first = site.run("2026-11-30T09:05:00+01:00", env=site.env(STATUSGEN_WEBHOOK_TIMEOUT="1"), webhooks=None)
    assert time.monotonic() - started < 8
    assert isinstance(first, DeliveryError) and "1 are uncertain" in str(first)
    assert f"webhooks: uncertain 127.0.0.1:{site.receiver.port}/s…/***: sent, but no answer came within 1 s" \
        in site.out.getvalue()
    assert len(site.receiver.at("/fast")) == 1  # the slow one held up nothing
    site.receiver.script("/slow", [200])
    assert site.run("2026-11-30T09:10:00+01:00").counts["sent"] == 0
    assert len(site.receiver.at("/slow")) == 1
    with _closing(site.store()) as store:
        assert store.counts() == {"sent": 1, "uncertain": 1}


def test_410_gone_unsubscribes_the_endpoint_for_good(site: Site, run_cli: Callable[..., tuple[int, str, str]]) -> None:
    site.subscribers("- webhook: URL(/gone)\n- webhook: URL(/kept)\n")
    site.secret("/gone"), site.secret("/kept")
    site.receiver.script("/gone", [410])
    baseline(site)
    site.incident("pdf", "dcc-app: major_outage, dcc-certificates: major_outage")
    report = site.run("2026-11-30T09:05:00+01:00")  # a 410 is the receiver's wish, not a failure
    assert report.counts == {"sent": 3, "failed": 0, "uncertain": 0, "gone": 3, "pending": 0}
    assert f"(id {webhook_id(site.receiver.url('/gone'))}) answered 410 Gone: unsubscribed" in site.out.getvalue()
    assert len(site.receiver.at("/gone")) == 1  # its other parts were not sent after the 410
    site.incident("portal", "lookup-portal: major_outage")
    site.run("2026-11-30T09:10:00+01:00")
    assert len(site.receiver.at("/gone")) == 1 and len(site.receiver.at("/kept")) == 5
    with _closing(site.store()) as store:
        assert store.counts() == {"sent": 5, "gone": 3}
    code, out, _ = run_cli("subscribers", "list", "--site", site.root)
    line = next(line for line in out.splitlines() if line.startswith(webhook_id(site.receiver.url("/gone"))))
    assert "unsubscribed, gone" in line and "HTTP 410" in line and "/gone" not in line


# ── quarantine ────────────────────────────────────────────────────────────────────────

def test_ten_failures_over_an_hour_quarantine_tell_the_contact_once_and_reactivate_brings_it_back(
        site: Site, run_cli: Callable[..., tuple[int, str, str]]) -> None:
    site.subscribers("""\
        - webhook: URL(/broken)
          format: slack
          email: desk@partner.example
          language: nl
          components: [dcc-app]
        """)
    site.receiver.script("/broken", [503])
    ident = webhook_id(site.receiver.url("/broken"))
    clock = [datetime(2026, 11, 30, 8, 0, tzinfo=UTC)]
    baseline(site)
    site.incident("pdf", "dcc-app: major_outage")
    for attempt in range(1, 12):  # every 5 minutes: the 10th is at 45 min, the 11th past the hour
        with _closing(site.store(lambda: clock[0])) as store:
            assert isinstance(site.run("2026-11-30T09:05:00+01:00", store=store), DeliveryError)
            (endpoint,) = store.endpoints()
        assert (endpoint.failures, endpoint.state) == (attempt, "active" if attempt < 11 else "quarantined")
        clock[0] += timedelta(minutes=5 if attempt < 10 else 20)
    assert len(site.receiver.at("/broken")) == 11
    printed = site.out.getvalue()
    assert f"quarantined 127.0.0.1:{site.receiver.port}/b…/*** (id {ident}) after 11 failed attempts; its contact " \
           f"desk@partner.example is told by email; `statusgen subscribers reactivate {ident}` brings it back" \
           in printed
    notices = outbox(site.root)
    assert len(notices) == 1
    notice = notices[0]
    assert notice["To"] == "desk@partner.example" and notice["Content-Language"] == "nl"
    assert notice["Subject"] == f"Berichten aan uw webhook gestopt: 127.0.0.1:{site.receiver.port}/b…/***"
    body = notice.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "11 pogingen mislukten" in text and "HTTP 503" in text and ident in text
    assert site.receiver.url("/broken") not in notice.as_string()

    site.incident("pdf", "dcc-app: major_outage", more="  - {at: 2026-11-30 10:00, status: identified, body: Found.}\n")
    report = site.run("2026-11-30T10:05:00+01:00")
    assert report.counts["sent"] == 0 and [e.id for e in report.held_back] == [ident]
    assert f"(id {ident}) gets nothing: quarantined since" in site.out.getvalue()
    assert len(site.receiver.at("/broken")) == 11 and len(outbox(site.root)) == 1  # told once

    code, out, _ = run_cli("subscribers", "list", "--site", site.root)
    line = next(line for line in out.splitlines() if line.startswith(ident))
    assert "quarantined" in line and " 11 " in line and "HTTP 503" in line and "/broken" not in line
    code, out, err = run_cli("subscribers", "reactivate", ident.upper(), "--site", site.root)
    assert code == 0 and f"webhook {ident} (127.0.0.1:{site.receiver.port}/b…/***): reactivated" in out
    code, _, err = run_cli("subscribers", "reactivate", "nosuchid0000", "--site", site.root)
    assert code == 2 and "no webhook has the id 'nosuchid0000' in the notifier store" in err

    site.receiver.script("/broken", [200])
    site.incident("pdf", "dcc-app: operational", more="  - {at: 2026-11-30 11:00, status: resolved, body: Fixed.}\n")
    report = site.run("2026-11-30T11:05:00+01:00")
    assert report.counts["sent"] == 1  # the resolution; what it missed meanwhile is not sent
    assert "Incident opgelost" in site.receiver.at("/broken")[-1].json()["text"]  # in the language it chose
    with _closing(site.store()) as store:
        (endpoint,) = store.endpoints()
    assert (endpoint.state, endpoint.failures) == ("active", 0)


def outbox(root: Path) -> list[email.message.EmailMessage]:
    folder = root / ".statusgen" / "outbox" / "new"
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for path in sorted(folder.glob("*"))] if folder.is_dir() else []


class _closing:
    def __init__(self, store: Any) -> None:
        self.store = store

    def __enter__(self) -> Any:
        return self.store

    def __exit__(self, *_: Any) -> None:
        self.store.close()


# ── both stores: a delivery run, the upgrade from schema 1, db copy ─────────────────────

@pytest.fixture(params=["sqlite", "postgresql"])
def either_site(request: pytest.FixtureRequest, make_site: MakeSite, receiver: Receiver) -> Site:
    database = None if request.param == "sqlite" else upgrade_stores(request.getfixturevalue("database_url"))
    return Site(make_site({"content/site.yaml": SITE_YAML}), receiver, database)


def test_a_delivery_run_in_either_store_retries_with_the_same_id_and_records_health(either_site: Site) -> None:
    site = either_site
    site.subscribers("- webhook: URL(/desk)\n  email: desk@partner.example\n- email: spoc@partner.example\n")
    secret = site.secret("/desk")
    site.receiver.script("/desk", [502, 502, 200])
    baseline(site)
    site.incident("pdf", "dcc-app: major_outage")
    assert isinstance(site.run("2026-11-30T09:05:00+01:00"), DeliveryError)
    with _closing(site.store()) as store:
        (endpoint,) = store.endpoints()
        assert (endpoint.failures, endpoint.last_error, endpoint.contact) == (2, "HTTP 502 Bad Gateway: ok",
                                                                            "desk@partner.example")
        assert store.counts() == {"sent": 1, "pending": 2}  # the email; both parts wait
    report = site.run("2026-11-30T09:10:00+01:00")
    assert report.counts["sent"] == 2 and report.webhooks["sent"] == 2
    received = site.receiver.at("/desk")
    assert [r.headers["webhook-id"] for r in received[2:]] == [r.headers["webhook-id"] for r in received[:2]]
    assert all(verified(r, secret) for r in received)
    with _closing(site.store()) as store:
        (endpoint,) = store.endpoints()
        assert (endpoint.failures, endpoint.state, store.counts()) == (0, "active", {"sent": 3})
        assert endpoint.last_success_at is not None


SCHEMA_1_DELIVERY = ("INSERT INTO {p}deliveries (event_key, recipient, language, components, state, attempts,"
                     " updated_at) VALUES ('a/update/1', 'spoc@partner.example', 'nl', NULL, 'pending', 0, {now})")


def test_a_schema_1_sqlite_store_is_upgraded_in_place_keeping_its_queue(tmp_path: Path) -> None:
    path = tmp_path / "notify.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        for statement in MIGRATIONS[0]:
            db.execute(statement)
        db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        db.execute("INSERT INTO events VALUES ('a/update/1', 'incident_created', ?, '2026-11-30T08:00:00+00:00')",
                   (json.dumps({"event": {"key": "a/update/1", "kind": "incident_created", "incident": "a",
                                          "update": "1", "components": []}, "context": {}}),))
        db.execute(SCHEMA_1_DELIVERY.format(p="", now="'2026-11-30T08:00:00+00:00'"))
    store = SqliteNotifyStore(path)
    try:
        (delivery,) = store.pending()
        assert (delivery.subscriber.email, delivery.subscriber.webhook, delivery.part) == \
            ("spoc@partner.example", None, "")
        assert store.endpoints() == [] and store.counts() == {"pending": 1}
    finally:
        store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
        columns = [row[1] for row in db.execute("PRAGMA table_info(deliveries)")]
    assert {"part", "webhook", "format", "secret_env", "contact"} <= set(columns)


def test_a_schema_1_database_is_upgraded_keeping_its_queue(database_url: str) -> None:
    with connect(database_url) as db:
        upgrade(db, pgstore.STORE, pgstore.MIGRATIONS[:1])
        db.execute("INSERT INTO notify_events VALUES ('a/update/1', 'incident_created', %s, now())",
                   (json.dumps({"event": {"key": "a/update/1", "kind": "incident_created", "incident": "a",
                                          "update": "1", "components": []}, "context": {}}),))
        db.execute(SCHEMA_1_DELIVERY.format(p="notify_", now="now()"))  # type: ignore[arg-type]
        db.commit()
    upgrade_stores(database_url)
    store = PostgresNotifyStore(database_url)
    try:
        (delivery,) = store.pending()
        assert (delivery.subscriber.email, delivery.part) == ("spoc@partner.example", "")
        with store.running():
            assert [d.id for d in store.claim(10, "webhook")] == []
            assert [d.id for d in store.claim(10, "email")] == [delivery.id]
    finally:
        store.close()
    with psycopg.connect(database_url) as db:
        constraints = {name for (name,) in db.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'notify_deliveries'::regclass")}
    assert "notify_deliveries_event_key_recipient_part_key" in constraints


def test_db_copy_moves_webhook_deliveries_and_endpoint_health(tmp_path: Path, database_url: str) -> None:
    from statusgen.content.model import Subscriber
    from statusgen.notifier.events import Event

    clock = [datetime(2026, 11, 30, 8, 0, tzinfo=UTC)]
    source = SqliteNotifyStore(tmp_path / "notify.db", lambda: clock[0])
    hook = Subscriber("desk@partner.example", ("app",), "nl", webhook="https://desk.partner.example/in",
                      format="statuspage", secret_env="DESK_SECRET")
    event = Event("a/update/1", "incident_created", "a", "1", ("app",))
    source.queue([(event, {}, [hook])], {event.key}, {}, {(event.key, hook.key): ("", "component/app")})
    with source.running():
        first, second = source.claim(10, "webhook")
        source.committing(first.id)
        source.settle_webhook(first.id, "retry_later", "HTTP 503 Service Unavailable")
    source.close()
    url = upgrade_stores(database_url)
    with connect(url) as db:
        copied = copy_sqlite(tmp_path / "notify.db", db)
        db.commit()
    assert copied["notify_deliveries"] == 2 and copied["notify_endpoints"] == 1
    source, target = SqliteNotifyStore(tmp_path / "notify.db"), PostgresNotifyStore(url)
    try:
        assert target.endpoints() == source.endpoints()
        (endpoint,) = target.endpoints()
        assert (endpoint.failures, endpoint.last_error) == (1, "HTTP 503 Service Unavailable")
        assert target.pending() == source.pending()
        assert [(d.part, d.subscriber.webhook, d.subscriber.secret_env) for d in target.pending()] == \
            [("", hook.webhook, "DESK_SECRET"), ("component/app", hook.webhook, "DESK_SECRET")]
    finally:
        source.close()
        target.close()


# ── a killed run ──────────────────────────────────────────────────────────────────────

def test_a_run_killed_mid_send_and_run_again_sends_no_webhook_id_twice(either_site: Site, tmp_path: Path) -> None:
    site = either_site
    hooks = 24
    (tmp_path / "script.json").write_text(json.dumps({f"/h{n}": ["slow"] for n in range(hooks)}))
    log = tmp_path / "received.jsonl"
    receiver = subprocess.Popen([sys.executable, "-m", "tests.webhookreceiver", str(tmp_path / "script.json"),
                                 str(log)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert receiver.stdout is not None
        port = int(receiver.stdout.readline())
        (site.root / "subscribers.yaml").write_text("".join(
            f"- {{webhook: 'http://127.0.0.1:{port}/h{n}', secret_env: DESK_SECRET}}\n" for n in range(hooks)))
        site.secrets["DESK_SECRET"] = secret = new_secret()
        baseline(site)
        site.incident("pdf", "dcc-app: major_outage")
        build(site.root, site.root / "public", "2026-11-30T09:05:00+01:00")
        env = {**os.environ, **site.env(), "PYTHONPATH": str(ROOT)}
        killed = subprocess.Popen([sys.executable, "-m", "statusgen", "notify", "--site", str(site.root)], env=env,
                                  cwd=site.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while _lines(log) < 10 and time.monotonic() < deadline and killed.poll() is None:
            time.sleep(0.02)
        killed.send_signal(signal.SIGKILL)
        killed.wait(10)
        before = _lines(log)
        assert 10 <= before < hooks * 2, "the run was killed in the middle"
        rerun = site.run("2026-11-30T09:05:00+01:00", webhooks=None)
        time.sleep(SLOW_WAIT)
    finally:
        assert receiver.stdin is not None and receiver.stdout is not None
        receiver.stdin.close()
        receiver.wait(10)
        receiver.stdout.close()
    received = [json.loads(line) for line in log.read_text().splitlines()]
    ids = [r["headers"]["webhook-id"] for r in received]
    assert len(ids) == len(set(ids)), "a webhook-id arrived twice"
    assert all(Webhook(secret).verify(r["body"], r["headers"]) for r in received)
    with _closing(site.store()) as store:
        counts = store.counts()
    uncertain = counts.get("uncertain", 0)
    assert counts == {"sent": hooks * 2 - uncertain, **({"uncertain": uncertain} if uncertain else {})}
    assert len(ids) >= hooks * 2 - uncertain  # everything not reported uncertain arrived, once
    if uncertain:
        assert isinstance(rerun, DeliveryError) and "interrupted run" in site.out.getvalue()


SLOW_WAIT = 0.5


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


class YamlOnly:
    """An audience of subscribers.yaml alone that keeps no unsubscribes (a library user's own)."""

    def __init__(self) -> None:
        self.told: list[str] = []

    def checks(self, site: Any) -> list[Any]:
        return []

    def subscribers(self, site: Any, listed: tuple[Any, ...]) -> tuple[Any, ...]:
        return listed

    def unsubscribe(self, key: str, now: datetime) -> None:
        self.told.append(key)


def test_the_audience_decides_whether_a_gone_endpoint_hears_again(either_site: Site) -> None:
    site, audience = either_site, YamlOnly()
    site.subscribers("- webhook: URL(/desk)\n  format: slack\n")
    site.receiver.script("/desk", [410, 200])
    baseline(site)
    site.incident("pdf", "dcc-app: major_outage")
    assert site.run("2026-11-30T09:05:00+01:00", audience=audience).counts["gone"] == 1
    assert audience.told == [f"webhook:{site.receiver.url('/desk')}"]
    with _closing(site.store()) as store:
        assert [e.state for e in store.endpoints()] == ["gone"]
    site.incident("portal", "lookup-portal: major_outage")  # it still lists the URL: subscribed again
    assert site.run("2026-11-30T09:10:00+01:00", audience=audience).counts["sent"] == 1
    with _closing(site.store()) as store:
        assert [e.state for e in store.endpoints()] == ["active"]
