"""Statuspage's subscribers into the subscription store, with real parts: the store in a
SQLite file and in PostgreSQL, confirmation emails through a real SMTP server on
127.0.0.1 (tests/smtpsink.py), the links followed through the subscription service's own
WSGI app, and the next `statusgen notify` (outbox) showing who is mailed."""

from __future__ import annotations

import html
import io
import re
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.test import Client

import statusgen
from statusgen.content.load import load_site
from statusgen.content.relay import SmtpSettings
from statusgen.errors import ContentErrors, DeliveryError, SetupError
from statusgen.importer.records import Report
from statusgen.importer.statuspage.subscribers import SubscriberImport, import_csv, prepare, read_csv
from statusgen.notifier.smtp import SmtpTransport
from statusgen.subscriptions.service import make_app
from statusgen.subscriptions.store import SqliteSubscriptionStore, SubscriptionStore
from statusgen import ids
from statusgen.subscriptions.merge import store_audience
from statusgen.tokens import read_token
from tests.backends import BACKENDS, Backend, make_backend
from tests.conftest import MakeSite
from tests.smtpsink import SmtpSink
from tests.test_webhook_subscriptions import Receiver

SECRET = "import-secret-" + "k" * 20
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SITE_YAML = """\
title: {en: Example status, nl: Voorbeeldstatus}
base_url: https://status.example.org/
languages: [nl, en]
timezone: Europe/Brussels
subscriptions: {url: https://status.example.org/subscriptions/}
notify: {from: status@example.org}
"""
COMPONENTS_YAML = """\
- id: eu-dcc
  aliases: [grp0dcc00001]
  name: {en: EU Digital COVID Certificates, nl: EU Digitale COVID-certificaten}
  components:
    - id: dcc-certificates
      aliases: [cmp0cert0001]
      name: {en: Certificates (PDF), nl: Certificaten (PDF)}
    - id: dcc-app
      aliases: [cmp0app00001]
      name: {en: Mobile app, nl: Mobiele app}
- id: lookup-portal
  aliases: [cmp0look0001]
  name: Lookup portal
"""
LEFT = "left@partner.example"
SUBSCRIBERS_YAML = f"- {{email: {LEFT}, components: [dcc-app]}}\n"
INCIDENT = """\
---
title: {{en: App down, nl: App plat}}
impact: P2
components: {{{component}: major_outage}}
updates:
  - {{at: {at}, status: investigating, body: We are looking into it.}}
---
"""
CONFIRM_LINK = re.compile(r"https://status\.example\.org/subscriptions/confirm\?token=[A-Za-z0-9_.\-]+")


def subscriber(ident: str, email: str | None, components: list[str], mode: str = "email",
               **extra: Any) -> dict[str, Any]:
    """A subscriber as the manage API gives it (GET /pages/{id}/subscribers?state=all)."""
    return {"id": ident, "mode": mode, "email": email, "endpoint": None, "phone_number": None,
            "phone_country": None, "display_phone_number": None, "obfuscated_channel_name": None,
            "workspace_name": None, "quarantined_at": None, "purge_at": None, "components": components,
            "page_access_user_id": None, "created_at": "2024-03-01T10:00:00.000Z", **extra}


MANAGE_API = [
    subscriber("sub0app00001", "App.Desk@Partner.EXAMPLE", ["cmp0app00001"]),
    subscriber("sub0look0001", "portal@partner.example", ["cmp0look0001"]),
    subscriber("sub0all00001", "all@partner.example", []),
    subscriber("sub0dcc00001", "dcc@partner.example", ["cmp0cert0001", "cmp0app00001"]),
    subscriber("sub0mix00001", "mixed@partner.example", ["cmp0app00001", "gone00000001"]),
    subscriber("sub0lost0001", "lost@partner.example", ["gone00000001"]),
    subscriber("sub0left0001", LEFT, ["cmp0app00001"], unsubscribed_at="2025-06-01T08:00:00Z"),
    subscriber("sub0bnce0001", "bounced@partner.example", ["cmp0app00001"],
               quarantined_at="2025-09-01T08:00:00Z", purge_at="2025-11-30T08:00:00Z"),
    subscriber("sub0sms00001", None, [], mode="sms", phone_number="5551234567", phone_country="US"),
    subscriber("sub0sms00002", None, [], mode="sms", phone_number="5557654321", phone_country="US"),
    subscriber("sub0slck0001", None, [], mode="slack", workspace_name="partner"),
]
EMAIL_SUBSCRIBED = ["App.Desk@partner.example", "all@partner.example", "dcc@partner.example",
                    "mixed@partner.example", "portal@partner.example"]
SLACK_LINE = ("not imported: 1 slack subscriber: Statuspage does not give out a Slack subscriber's channel URL; the "
              "channel's owner subscribes it again on the subscribe page's webhook tab (or ops add its incoming "
              "webhook to subscribers.yaml)")
REPORT = [
    SLACK_LINE,
    "not imported: 2 sms subscribers: statusgen has no SMS",
    "not imported: 1 email subscriber: every component they follow is unknown here (see above); subscribing them "
    "to everything would mail them what they never asked for",
    "changed: subscribers of component 'gone00000001': no component or group has it as id, alias or name "
    "(2 subscribers); they keep their other components. Add 'gone00000001' to the aliases of a component in "
    "components.yaml and run the import again to keep it",
]


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as server:
        yield server


@pytest.fixture
def root(make_site: MakeSite) -> Path:
    return make_site({"content/site.yaml": SITE_YAML, "components.yaml": COMPONENTS_YAML,
                      "subscribers.yaml": SUBSCRIBERS_YAML})


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, root: Path) -> Backend:
    return make_backend(request.param, root / ".statusgen" / "subscriptions.db",
                        lambda: request.getfixturevalue("database_url"))


def relay_env(sink: SmtpSink, **more: str) -> dict[str, str]:
    return {"STATUSGEN_SECRET_KEY": SECRET, "STATUSGEN_SMTP_HOST": "127.0.0.1",
            "STATUSGEN_SMTP_PORT": str(sink.port), **more}


def prepared(root: Path, env: dict[str, str], trust: bool, stream: io.StringIO | None = None) -> SubscriberImport:
    return prepare(root, env=env, store=None, trust_confirmed=trust, stream=stream or io.StringIO(),
                   timeout=5, local_hostname="localhost")


def imported(root: Path, env: dict[str, str], trust: bool, subscribers: list[dict[str, Any]] | None = None,
             now: datetime = NOW, stream: io.StringIO | None = None) -> tuple[list[str], Report]:
    report = Report()
    site, _ = load_site(root)
    lines = prepared(root, env, trust, stream).run(MANAGE_API if subscribers is None else subscribers, site,
                                                   report, now)
    return lines, report


def subscriptions(backend: Backend) -> dict[str, tuple[str, tuple[str, ...] | None, str]]:
    store = backend.open(readonly=True)
    try:
        return {s.email: (s.state, s.components, s.language) for s in store.subscriptions()}
    finally:
        store.close()


def outbox_recipients(root: Path) -> list[str]:
    files = [p for p in (root / ".statusgen" / "outbox").rglob("*") if p.is_file()]
    return sorted(re.search(rb"^To: (.*)\r$", p.read_bytes(), re.M).group(1).decode() for p in files)


def confirm_link(message: EmailMessage) -> str:
    links = CONFIRM_LINK.findall(message.get_body(("plain",)).get_content())
    assert len(set(links)) == 1, links
    return str(links[0])


# ── --trust-confirmed ───────────────────────────────────────────────────────────────────

def test_trusted_subscribers_are_confirmed_and_the_next_notify_mails_them_and_not_the_suppressed(
        root: Path, backend: Backend) -> None:
    env = {"STATUSGEN_SECRET_KEY": SECRET, **backend.env}
    lines, report = imported(root, env, trust=True)
    assert lines == ["subscribers: 5 confirmed, 0 invited, 2 suppressed, 0 skipped"]
    assert report.lines() == REPORT
    assert subscriptions(backend) == {
        "App.Desk@partner.example": ("confirmed", ("dcc-app",), "nl"),
        "portal@partner.example": ("confirmed", ("lookup-portal",), "nl"),
        "all@partner.example": ("confirmed", None, "nl"),
        "dcc@partner.example": ("confirmed", ("dcc-certificates", "dcc-app"), "nl"),
        "mixed@partner.example": ("confirmed", ("dcc-app",), "nl"),
    }
    store = backend.open(readonly=True)
    assert store.is_suppressed(LEFT) and store.is_suppressed("bounced@partner.example")
    store.close()

    statusgen.build(root, now="2026-12-01T10:00:00+01:00")
    statusgen.notify(root, env=env, stream=io.StringIO())  # the baseline
    (root / "incidents" / "app-down.md").write_text(INCIDENT.format(component="dcc-app", at="2026-12-01 10:30"),
                                                    encoding="utf-8")
    statusgen.build(root, now="2026-12-01T11:00:00+01:00")
    notified = statusgen.notify(root, env=env, stream=io.StringIO())
    assert notified.counts["sent"] == 4
    # LEFT is in subscribers.yaml, but unsubscribed on Statuspage: nothing
    assert outbox_recipients(root) == ["App.Desk@partner.example", "all@partner.example", "dcc@partner.example",
                                       "mixed@partner.example"]

    again, _ = imported(root, env, trust=True)  # a rerun changes nothing
    assert again == ["subscribers: 0 confirmed, 0 invited, 0 suppressed, 7 skipped",
                     "subscribers skipped: 5 already subscribed here (their own choices are kept)",
                     "subscribers skipped: 2 already suppressed"]


def test_trusted_import_keeps_out_the_unconfirmed_and_those_who_unsubscribed_here(root: Path) -> None:
    store = SqliteSubscriptionStore(root / ".statusgen" / "subscriptions.db")
    store.unsubscribe("portal@partner.example", NOW - timedelta(days=3))  # through statusgen's own link
    store.close()
    unconfirmed = subscriber("sub0new00001", "new@partner.example", [], state="unconfirmed")
    lines, report = imported(root, {}, trust=True, subscribers=[*MANAGE_API[:3], unconfirmed])
    assert lines == [
        "subscribers: 2 confirmed, 0 invited, 0 suppressed, 2 skipped",
        "subscribers skipped: 1 unsubscribed from this site's emails before (statusgen never subscribes them again)",
        "subscribers skipped: 1 never confirmed with Statuspage (import without --trust-confirmed to invite them)",
    ]
    assert report.lines() == [
        "not imported: 1 email subscriber: unsubscribed from this site's emails before (statusgen never subscribes "
        "them again)",
        "not imported: 1 email subscriber: never confirmed with Statuspage (import without --trust-confirmed to "
        "invite them)",
    ]
    store = SqliteSubscriptionStore(root / ".statusgen" / "subscriptions.db", readonly=True)
    assert sorted(s.email for s in store.subscriptions()) == ["App.Desk@partner.example", "all@partner.example"]
    store.close()


def test_an_address_listed_twice_counts_once_by_its_latest_record(root: Path) -> None:
    back = "back@partner.example"
    unsure = "unsure@partner.example"
    came_back = "came-back@partner.example"
    lines, report = imported(root, {}, trust=True, subscribers=[
        subscriber("a1", back, [], unsubscribed_at="2023-01-01T00:00:00Z"),
        subscriber("a2", back, ["cmp0app00001"], created_at="2024-01-01T00:00:00Z"),  # subscribed again, later
        subscriber("b1", unsure, [], created_at="2024-01-01T00:00:00Z"),
        subscriber("b2", unsure, [], state="unsubscribed"),  # when is unknown: the unsubscribe wins
        subscriber("c1", came_back, [], unsubscribed_at="2025-01-01T00:00:00Z"),
    ])
    assert lines == ["subscribers: 1 confirmed, 0 invited, 2 suppressed, 0 skipped"]
    assert report.lines() == ["changed: 2 repeated email subscribers: an address listed more than once counts "
                              "once: its latest record (an unsubscribe when that is unsure)"]
    store = SqliteSubscriptionStore(root / ".statusgen" / "subscriptions.db")
    assert store.find(back).components == ("dcc-app",) and store.is_suppressed(unsure)
    assert store.is_suppressed(came_back)
    # came_back left Statuspage in 2025, then confirmed a subscription here itself: a rerun keeps it
    store.request(came_back, None, "en", NOW)
    store.confirm(came_back, NOW)
    store.close()
    lines, _ = imported(root, {}, trust=True, subscribers=[
        subscriber("c1", came_back, [], unsubscribed_at="2025-01-01T00:00:00Z")])
    assert lines == ["subscribers: 0 confirmed, 0 invited, 0 suppressed, 1 skipped",
                     "subscribers skipped: 1 subscribed here after they left Statuspage (their subscription is kept)"]


# ── the double opt-in ───────────────────────────────────────────────────────────────────

def test_without_trust_each_gets_one_confirmation_and_its_link_confirms(root: Path, sink: SmtpSink,
                                                                        backend: Backend) -> None:
    env = relay_env(sink, **backend.env)
    stream = io.StringIO()
    lines, report = imported(root, env, trust=False, stream=stream)
    assert lines == ["subscribers: 0 confirmed, 5 invited, 2 suppressed, 0 skipped"]
    assert report.lines() == REPORT
    assert re.fullmatch(r"invitations: batch 1/1: 5 sent, 0 failed, 0 uncertain, 0 deferred in \S+ s \(\d+ msg/s\)\n",
                        stream.getvalue())
    assert sorted(sink.per_recipient().items()) == [(address, 1) for address in EMAIL_SUBSCRIBED]
    assert {state for state, _, _ in subscriptions(backend).values()} == {"pending"}

    message = sink.to("mixed@partner.example")[0]
    assert message["Subject"] == "Bevestig uw abonnement op Voorbeeldstatus"
    assert message.get_all("To") == ["mixed@partner.example"] and message["Content-Language"] == "nl"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = confirm_link(message)
    token = parse_qs(urlsplit(link).query)["token"][0]
    assert read_token(SECRET, "confirm", token, now=NOW) == "mixed@partner.example"

    again, _ = imported(root, env, trust=False, now=NOW + timedelta(hours=47))
    assert again == ["subscribers: 0 confirmed, 0 invited, 0 suppressed, 7 skipped",
                     "subscribers skipped: 5 invited less than 48 h ago (their confirmation link still works)",
                     "subscribers skipped: 2 already suppressed"]
    assert len(sink.messages) == 5

    confirmed = follow(root, env, link, NOW + timedelta(hours=1))
    assert "U bent geabonneerd" in confirmed and "Mobiele app" in confirmed
    assert subscriptions(backend)["mixed@partner.example"] == ("confirmed", ("dcc-app",), "nl")


def test_an_invitation_nobody_followed_is_sent_again_once_its_link_expired(root: Path, sink: SmtpSink) -> None:
    env = relay_env(sink)
    imported(root, env, trust=False, subscribers=MANAGE_API[:2])
    lines, _ = imported(root, env, trust=False, subscribers=MANAGE_API[:2], now=NOW + timedelta(hours=49))
    assert lines == ["subscribers: 0 confirmed, 2 invited, 0 suppressed, 0 skipped"]
    assert sink.per_recipient() == {"App.Desk@partner.example": 2, "portal@partner.example": 2}


def follow(root: Path, env: dict[str, str], link: str, at: datetime) -> str:
    """Open a confirmation link and press its button, through the service's WSGI app;
    the confirmed page's text."""
    transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=1), connections=1, local_hostname="localhost")
    app = make_app(root, env=env, transport=transport, clock=lambda: at)
    try:
        client = Client(app)
        parts = urlsplit(link)
        page = client.get(f"{parts.path}?{parts.query}")
        assert page.status_code == 200, page.text
        action = html.unescape(re.search(r'<form[^>]* method="post" action="([^"]+)"', page.text).group(1))
        fields = {name: html.unescape(value) for name, value in
                  re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)}
        done = client.post(action, data=fields, headers={"Origin": "null"})
        assert done.status_code == 200, done.text
        return done.text
    finally:
        app.close()


def test_invitations_go_out_fifty_per_connection_with_a_line_per_batch(root: Path) -> None:
    connections: set[tuple[str, int]] = set()

    def note(session: Any, envelope: Any) -> None:
        connections.add(tuple(session.peer))

    many = [subscriber(f"s{n:04d}", f"person{n:03d}@partner.example", ["cmp0look0001"]) for n in range(120)]
    stream = io.StringIO()
    with SmtpSink(on_data=note) as sink:
        lines, _ = imported(root, relay_env(sink), trust=False, subscribers=many, stream=stream)
        assert sink.wait_for(120)
    assert lines == ["subscribers: 0 confirmed, 120 invited, 0 suppressed, 0 skipped"]
    assert [line.split(" in ")[0] for line in stream.getvalue().splitlines()] == [
        "invitations: batch 1/3: 50 sent, 0 failed, 0 uncertain, 0 deferred",
        "invitations: batch 2/3: 50 sent, 0 failed, 0 uncertain, 0 deferred",
        "invitations: batch 3/3: 20 sent, 0 failed, 0 uncertain, 0 deferred",
    ]
    assert len(connections) == 3 and len(sink.per_recipient()) == 120


def test_a_refused_invitation_is_reported_and_tried_again_by_the_next_run(root: Path) -> None:
    refused = {"portal@partner.example"}

    def refuse(session: Any, envelope: Any) -> str | None:
        return "550 5.1.1 portal@partner.example: no such user" if set(envelope.rcpt_tos) & refused else None

    with SmtpSink(on_data=refuse) as sink:
        env = relay_env(sink)
        with pytest.raises(DeliveryError) as raised:
            imported(root, env, trust=False, subscribers=MANAGE_API[:3])
        assert str(raised.value).splitlines() == [
            "subscribers: 0 confirmed, 2 invited, 0 suppressed, 0 skipped",
            "subscribers: invitation failed for good: p***@partner.example: end of data: 550 5.1.1 "
            "p***@partner.example: no such user",
        ]
        refused.clear()
        lines, _ = imported(root, env, trust=False, subscribers=MANAGE_API[:3])
        assert lines == ["subscribers: 0 confirmed, 1 invited, 0 suppressed, 2 skipped",
                         "subscribers skipped: 2 invited less than 48 h ago (their confirmation link still works)"]
        assert sink.per_recipient()["portal@partner.example"] == 1


def test_a_hostile_address_stops_the_import_before_anything_is_written_or_sent(root: Path, sink: SmtpSink) -> None:
    hostile = subscriber("sub0evil0001", "evil@partner.example\r\nBcc: victim@elsewhere.example", [])
    with pytest.raises(ContentErrors) as raised:
        imported(root, relay_env(sink), trust=False, subscribers=[MANAGE_API[0], hostile, {"id": "x"}])
    assert [str(error) for error in raised.value.errors] == [
        "manage API subscribers:2: subscriber sub0evil0001: email: expected an address such as "
        "'spoc@partner.example'; found a line break inside the address (it would add a header to the email): "
        "'evil@partner.example\\r\\nBcc: victim@elsewhere.example'",
        "manage API subscribers:3: subscriber x: mode: expected one of email, sms, webhook, slack, teams; "
        "found nothing",
    ]
    assert not (root / ".statusgen" / "subscriptions.db").exists() and sink.messages == []


def test_each_email_on_the_wire_has_one_recipient_the_one_it_is_addressed_to(root: Path, sink: SmtpSink) -> None:
    imported(root, relay_env(sink), trust=False, subscribers=MANAGE_API[:3])
    assert len(sink.messages) == 3
    for recipient, message in sink.messages:
        assert message.get_all("To") == [recipient]
        assert message.get_all("Cc") is None and message.get_all("Bcc") is None
        assert message["From"] == "status@example.org" and message["Auto-Submitted"] == "auto-generated"


# ── before any work ─────────────────────────────────────────────────────────────────────

def test_every_missing_setting_is_named_before_anything_is_written(make_site: MakeSite) -> None:
    root = make_site({"content/site.yaml": SITE_YAML.replace("subscriptions: {url: https://status.example.org/"
                                                             "subscriptions/}\n", ""),
                      "components.yaml": COMPONENTS_YAML})
    with pytest.raises(SetupError) as raised:
        prepare(root, env={}, store=None, trust_confirmed=False)
    assert raised.value.problems == (
        "subscriptions.url in content/site.yaml: the confirmation emails link to the subscription service; set it "
        "to the service's public URL such as 'https://status.example.org/subscriptions/' (or import with "
        "--trust-confirmed: subscribers who confirmed with Statuspage then need no email)",
        "every email needs a way to unsubscribe: set subscriptions.url or notify.unsubscribe_mailto in "
        "content/site.yaml",
        "no SMTP server: set STATUSGEN_SMTP_HOST (or notify.smtp.host in content/site.yaml)",
        "STATUSGEN_SECRET_KEY must hold a secret of at least 16 characters: it signs the link in every confirmation "
        "email; it is not set",
    )
    assert not (root / ".statusgen").exists()


def test_a_short_secret_and_a_dead_relay_are_named(root: Path) -> None:
    with SmtpSink() as sink:
        port = sink.port  # a port that was just closed: nothing answers there
    with pytest.raises(SetupError) as raised:
        prepared(root, {"STATUSGEN_SECRET_KEY": "short", "STATUSGEN_SMTP_HOST": "127.0.0.1",
                        "STATUSGEN_SMTP_PORT": str(port)}, trust=False)
    assert raised.value.problems[0].startswith("STATUSGEN_SECRET_KEY must hold a secret of at least 16 characters")
    assert raised.value.problems[0].endswith("it has 5 characters")
    assert raised.value.problems[1] == (f"STATUSGEN_SMTP_PORT: 127.0.0.1:{port} refused the connection; check "
                                        "STATUSGEN_SMTP_HOST and STATUSGEN_SMTP_PORT (usually 587 with starttls, "
                                        "465 with tls)")
    assert len(raised.value.problems) == 2 and not (root / ".statusgen").exists()


def test_trusting_needs_no_mail_settings_but_a_store_it_can_write(root: Path, tmp_path: Path) -> None:
    trusted = prepare(root, env={}, store=None, trust_confirmed=True)
    assert trusted.mail is None
    nobody, report = imported(root, {}, trust=True, subscribers=MANAGE_API[8:11])
    assert nobody == ["subscribers: 0 confirmed, 0 invited, 0 suppressed, 0 skipped"]
    assert report.lines() == [SLACK_LINE, "not imported: 2 sms subscribers: statusgen has no SMS"]
    assert not (root / ".statusgen").exists()  # no store made for nobody
    blocked = tmp_path / "file"
    blocked.write_text("not a folder", encoding="utf-8")
    with pytest.raises(SetupError) as raised:
        prepare(root, env={}, store=str(blocked / "subscriptions.db"), trust_confirmed=True)
    assert raised.value.problems == (
        f"STATUSGEN_SUBSCRIPTIONS_DB: the subscription store {blocked / 'subscriptions.db'} cannot be created "
        f"({blocked} is not a writable folder); set STATUSGEN_SUBSCRIPTIONS_DB or --db",)
    with pytest.raises(SetupError) as raised:
        prepare(root, env={}, store=str(root / "public" / "subscribers.db"), trust_confirmed=True)
    assert "is inside the published folder" in raised.value.problems[0]


def test_a_database_without_the_schema_is_named(root: Path, database_url: str) -> None:
    with pytest.raises(SetupError) as raised:
        prepare(root, env={"STATUSGEN_DATABASE_URL": database_url}, store=None, trust_confirmed=True)
    assert "statusgen db upgrade" in raised.value.problems[0]


# ── CSV files ───────────────────────────────────────────────────────────────────────────

def write(tmp_path: Path, text: str, name: str = "subscribers.csv") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_the_import_format_reads_every_kind_of_row(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        email,spoc@partner.example,no
        email,desk@partner.example,yes,cmp0app00001;Lookup portal

        sms,5551234567,US
        webhook,https://hooks.partner.example/x,ops@partner.example
        """)
    found = read_csv(path, Report())
    assert [{k: v for k, v in item.items() if v is not None} for item in found] == [
        {"mode": "email", "email": "spoc@partner.example", "_source": (str(path), 1)},
        {"mode": "email", "email": "desk@partner.example", "components": ["cmp0app00001", "Lookup portal"],
         "_source": (str(path), 2)},
        {"mode": "sms", "phone_number": "5551234567", "phone_country": "US", "_source": (str(path), 4)},
        {"mode": "webhook", "endpoint": "https://hooks.partner.example/x", "email": "ops@partner.example",
         "_source": (str(path), 5)},
    ]


def test_an_export_maps_components_by_name_and_states_to_suppressions(root: Path, tmp_path: Path) -> None:
    path = write(tmp_path, """\
        Email;Type;Components;State;Created At;Quarantined At;Favourite colour
        App@partner.example;email;Mobiele app;active;2024-01-01T00:00:00Z;;blue
        certs@partner.example;email;"Certificates (PDF) | lookup portal";active;2024-01-01;;
        group@partner.example;email;EU Digital COVID Certificates;confirmed;;;
        names@partner.example;email;"Mobile app, Lookup portal";active;;;
        gone@partner.example;email;Mobile app;unsubscribed;;;
        bounce@partner.example;email;;;;2025-01-01T00:00:00Z;
        ;sms;;active;;;
        """)
    lines, report = import_csv(root, path, env={}, store=None, trust_confirmed=True, now=NOW)
    assert lines == ["subscribers: 4 confirmed, 0 invited, 2 suppressed, 0 skipped"]
    assert report.lines() == [
        f"not imported: {path} column 'Favourite colour': not a subscriber field statusgen keeps",
        "not imported: 1 sms subscriber: statusgen has no SMS",
    ]
    store = SqliteSubscriptionStore(root / ".statusgen" / "subscriptions.db", readonly=True)
    assert {s.email: s.components for s in store.subscriptions()} == {
        "App@partner.example": ("dcc-app",),
        "certs@partner.example": ("dcc-certificates", "lookup-portal"),
        "group@partner.example": ("eu-dcc",),
        "names@partner.example": ("dcc-app", "lookup-portal"),
    }
    assert store.is_suppressed("gone@partner.example") and store.is_suppressed("bounce@partner.example")
    store.close()


def test_every_malformed_row_is_named_with_its_line_and_nothing_is_imported(root: Path, tmp_path: Path,
                                                                           sink: SmtpSink) -> None:
    path = write(tmp_path, """\
        email,spoc@partner.example,no
        fax,+3212345678,no
        email,"evil@partner.example
        Bcc: victim@elsewhere.example",no
        email,not-an-address,maybe
        email
        """)
    with pytest.raises(ContentErrors) as raised:
        import_csv(root, path, env=relay_env(sink), store=None, trust_confirmed=False, now=NOW, local_hostname="x")
    assert [str(error) for error in raised.value.errors] == [
        f"{path}:2: type (the first cell): expected one of email, sms, webhook, slack, teams; found 'fax'; a file "
        "with a header row names its columns",
        f"{path}:3: email: expected an address such as 'spoc@partner.example'; found a line break inside the "
        "address (it would add a header to the email): 'evil@partner.example\\nBcc: victim@elsewhere.example'",
        f"{path}:5: email: expected an address such as 'spoc@partner.example'; found something that is not an "
        "address: 'not-an-address'",
        f"{path}:5: skip confirmation (the third cell): expected yes or no; found 'maybe'",
        f"{path}:6: expected the email subscriber's address in the second cell; found nothing",
    ]
    assert sink.messages == [] and not (root / ".statusgen" / "subscriptions.db").exists()


def test_an_export_without_an_address_column_or_with_a_bad_state_is_refused(tmp_path: Path) -> None:
    no_email = write(tmp_path, "Type,Components\nemail,Mobile app\n", "a.csv")
    with pytest.raises(ContentErrors) as raised:
        read_csv(no_email, Report())
    assert str(raised.value) == (f"{no_email}:1: expected a column 'email' in the header row (the address); "
                                 "found 'Type', 'Components'")
    bad = write(tmp_path, "email,state,created_at\na@partner.example,gone,yesterday\n", "b.csv")
    with pytest.raises(ContentErrors) as raised:
        read_csv(bad, Report())
    assert str(raised.value).splitlines() == [
        f"{bad}:2: created_at: expected an ISO 8601 time such as 2024-05-01T09:30:00Z; found 'yesterday'",
        f"{bad}:2: state: expected one of active, unconfirmed, quarantined, unsubscribed; found 'gone'",
    ]
    latin = tmp_path / "c.csv"
    latin.write_bytes(b"email,a@partner.example,no\nemail,jos\xe9@partner.example,no\n")
    with pytest.raises(ContentErrors) as raised:
        read_csv(latin, Report())
    assert str(raised.value) == f"{latin}:2: expected UTF-8 text (save the CSV as UTF-8); found the byte 0xe9"
    empty = write(tmp_path, "\n\n", "d.csv")
    with pytest.raises(ContentErrors, match=r"d\.csv:1: expected subscribers"):
        read_csv(empty, Report())


def test_a_csv_import_through_the_relay_invites_and_suppresses(root: Path, sink: SmtpSink) -> None:
    path = root.parent / "export.csv"
    path.write_text("email,components,unsubscribed_at\n"
                    "desk@partner.example,cmp0app00001,\n"
                    f"{LEFT},,2025-02-01T00:00:00Z\n", encoding="utf-8")
    lines, _ = import_csv(root, path, env=relay_env(sink), store=None, trust_confirmed=False, now=NOW,
                          local_hostname="localhost", stream=io.StringIO())
    assert lines == ["subscribers: 0 confirmed, 1 invited, 1 suppressed, 0 skipped"]
    assert list(sink.per_recipient()) == ["desk@partner.example"]
    store: SubscriptionStore = SqliteSubscriptionStore(root / ".statusgen" / "subscriptions.db", readonly=True)
    assert store.find("desk@partner.example").state == "pending" and store.is_suppressed(LEFT)
    store.close()


# ── webhooks ────────────────────────────────────────────────────────────────────────────

WEBHOOK_API = [
    subscriber("sub0hook0001", "ops@partner.example", ["cmp0app00001"], mode="webhook",
               endpoint="https://hooks.partner.example/1"),
    subscriber("sub0hook0002", "Ops@Partner.example", [], mode="webhook", endpoint="https://hooks.partner.example/2"),
    subscriber("sub0hook0003", None, [], mode="webhook", endpoint="https://hooks.partner.example/3"),
    subscriber("sub0hook0004", "ops@partner.example", [], mode="webhook", endpoint="https://hooks.partner.example/4",
               quarantined_at="2025-09-01T08:00:00Z"),
    subscriber("sub0hook0005", "ops@partner.example", [], mode="webhook", endpoint="https://10.0.0.5/hook"),
    subscriber("sub0slck0001", None, [], mode="slack", workspace_name="partner"),
]
REFUSED_LINE = ("webhooks refused: 10.0.0.5/h…/***: the URL points at 10.0.0.5, a private address: webhooks reach "
                "only public addresses (or the ranges in STATUSGEN_WEBHOOK_ALLOW_NETS)")


def test_trusted_webhook_subscribers_are_confirmed_each_with_a_new_secret(root: Path, backend: Backend, run_cli: Any,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"STATUSGEN_SECRET_KEY": SECRET, **backend.env}
    lines, report = imported(root, env, trust=True, subscribers=WEBHOOK_API)
    hooks = {s.webhook: s for s in audience(root, env) if s.webhook}
    ids_made = [ids.webhook_id(f"https://hooks.partner.example/{n}") for n in (1, 2, 3)]
    assert lines == [
        "subscribers: 0 confirmed, 0 invited, 0 suppressed, 0 skipped",
        "webhooks: 3 confirmed, 0 invited (their contacts), 1 suppressed, 1 skipped",
        "webhooks skipped: 1 a webhook URL that may not be reached (see below)",
        REFUSED_LINE,
        "webhooks: each confirmed one signs with a new secret (Standard Webhooks headers; receivers written for "
        "Statuspage may ignore them); `statusgen subscribers secret ID` prints one for you to hand to its partner, "
        "and its contact can have a new one mailed from the manage link in every delivery: " + ", ".join(ids_made),
    ]
    assert report.lines() == [SLACK_LINE, "not imported: 1 webhook subscriber: a webhook URL that may not be reached "
                                          "(see below)"]
    assert {url: (s.email, s.components, s.format, s.language) for url, s in hooks.items()} == {
        "https://hooks.partner.example/1": ("ops@partner.example", ("dcc-app",), "statuspage", "nl"),
        "https://hooks.partner.example/2": ("Ops@partner.example", None, "statuspage", "nl"),
        "https://hooks.partner.example/3": ("", None, "statuspage", "nl"),
    }
    secrets = [s.secrets for s in hooks.values()]
    assert all(len(found) == 1 for found in secrets) and len(set(secrets)) == 3
    store = backend.open(readonly=True)
    assert store.is_suppressed("webhook:https://hooks.partner.example/4")
    store.close()
    monkeypatch.setenv("STATUSGEN_SECRET_KEY", SECRET)
    code, out, err = run_cli("subscribers", "secret", ids_made[0], "--site", root, "--db", backend.option)
    assert code == 0 and out == f"{hooks['https://hooks.partner.example/1'].secrets[0]}\n", err

    again, _ = imported(root, env, trust=True, subscribers=WEBHOOK_API)  # a rerun changes nothing
    assert again == ["subscribers: 0 confirmed, 0 invited, 0 suppressed, 0 skipped",
                     "webhooks: 0 confirmed, 0 invited (their contacts), 0 suppressed, 5 skipped",
                     "webhooks skipped: 3 already subscribed here (their own choices are kept)",
                     "webhooks skipped: 1 already suppressed",
                     "webhooks skipped: 1 a webhook URL that may not be reached (see below)",
                     REFUSED_LINE]
    assert {url: s.secrets for url, s in hooks.items()} == \
        {s.webhook: s.secrets for s in audience(root, env) if s.webhook}


def audience(root: Path, env: dict[str, str]) -> tuple[Any, ...]:
    site, listed = load_site(root)
    return store_audience(root, env).subscribers(site, listed)


def test_trusting_webhooks_needs_the_key_their_secrets_derive_from(root: Path) -> None:
    with pytest.raises(SetupError) as raised:
        imported(root, {}, trust=True, subscribers=WEBHOOK_API[:2])
    assert raised.value.problems == (
        "STATUSGEN_SECRET_KEY must hold a secret of at least 16 characters: the signing secrets of the 2 webhook "
        "subscriber(s) that --trust-confirmed confirms are derived from it; it is not set",)
    assert not (root / ".statusgen").exists()


def test_without_trust_a_webhooks_contact_is_invited_and_confirms_it(root: Path, sink: SmtpSink) -> None:
    receiver = Receiver()
    try:
        env = relay_env(sink, STATUSGEN_WEBHOOK_ALLOW_NETS="127.0.0.0/8")
        hooks = [subscriber("sub0hook0001", "ops@partner.example", ["cmp0look0001"], mode="webhook",
                            endpoint=receiver.url()),
                 subscriber("sub0hook0003", None, [], mode="webhook", endpoint="https://hooks.partner.example/3")]
        lines, _ = imported(root, env, trust=False, subscribers=hooks)
        assert lines == [
            "subscribers: 0 confirmed, 0 invited, 0 suppressed, 0 skipped",
            "webhooks: 0 confirmed, 1 invited (their contacts), 0 suppressed, 1 skipped",
            "webhooks skipped: 1 a webhook without a contact address, so nobody can confirm it (import with "
            "--trust-confirmed, or add it to subscribers.yaml)",
        ]
        invitation, = sink.to("ops@partner.example")
        assert invitation["Subject"] == "Bevestig de webhook voor Voorbeeldstatus"
        confirmed = follow(root, env, confirm_link(invitation), NOW + timedelta(hours=1))
        assert "Uw webhook is geabonneerd" in confirmed and "Lookup portal" in confirmed
        secret = re.search(r"whsec_[A-Za-z0-9+/=]+", confirmed).group(0)
        ping, = receiver.received
        assert ping.verified(secret)["ping"]["components"] == [{"id": ids.component_id("lookup-portal"),
                                                                "name": "Lookup portal"}]
        again, _ = imported(root, env, trust=False, subscribers=hooks)
        assert again[1] == "webhooks: 0 confirmed, 0 invited (their contacts), 0 suppressed, 2 skipped"
        assert len(sink.messages) == 1
    finally:
        receiver.close()
