"""The subscription service end to end: waitress on 127.0.0.1, a real SMTP server
(aiosmtpd), its store in SQLite and in PostgreSQL (every test that runs the service runs
on both), real builds and notifier runs."""

from __future__ import annotations

import html
import http.client
import io
import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from waitress import wasyncore

from statusgen.site.build import build
from statusgen import notify
from statusgen.subscriptions.app import SubscriptionApp
from statusgen.subscriptions.service import make_app, make_server
from statusgen.tokens import make_token
from statusgen.content.relay import SmtpSettings
from statusgen.notifier.smtp import SmtpTransport
from tests.backends import BACKENDS, make_backend
from tests.conftest import MakeSite
from tests.smtpsink import SmtpSink

SECRET = "s" * 32
PUBLIC = "https://notify.example.net/subscriptions/"
STATUS_ORIGIN = "https://status.example.org"
SITE_YAML = """\
title: {en: Example status, nl: Voorbeeldstatus}
base_url: https://status.example.org/
languages: [en, nl]
timezone: Europe/Brussels
subscriptions: {url: https://notify.example.net/subscriptions/}
notify: {from: status@example.org, reminders: [24h]}
"""
LISTED = "listed@partner.example"
SUBSCRIBERS = f"- {{email: {LISTED}, components: [eu-dcc], language: nl}}\n"
INCIDENT = """\
---
title: {title}
impact: P2
components: {{{component}: major_outage}}
updates:
  - {{at: {at}, status: investigating, body: We are looking into it.}}
---
"""
LINK = re.compile(r"https://notify\.example\.net/subscriptions/(confirm|manage|unsubscribe)\?token=[A-Za-z0-9_.\-]+")
NOTIFIED_BY = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
"""The notifier signs links at the build time (--now); the service must not see them as from the future."""
SECURITY = {"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "Cache-Control"}


@dataclass(frozen=True)
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def without_date(self) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
        return self.status, tuple((k, v) for k, v in self.headers if k.lower() != "date"), self.body


class Service:
    """The service for a site, on an ephemeral port of 127.0.0.1, mailing to `sink`."""

    def __init__(self, root: Path, sink: SmtpSink, env: dict[str, str] | None = None,
                 clock: Callable[[], datetime] | None = None, port: int = 0) -> None:
        self.root, self.sink = root, sink
        transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=sink.port), connections=1,
                                  local_hostname="localhost")
        self.app: SubscriptionApp = make_app(root, env={"STATUSGEN_SECRET_KEY": SECRET, **(env or {})},
                                             transport=transport, clock=clock or self.clock)
        self.server = make_server(self.app, "127.0.0.1", port)
        self.port = self.server.effective_port
        self._stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, name="waitress", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        """waitress's `run()`, one poll at a time, so the loop's own thread closes the
        sockets when told to stop (closing them from another thread races with it)."""
        try:
            while not self._stopping.is_set():
                wasyncore.loop(timeout=0.05, map=self.server._map, count=1)
        finally:
            wasyncore.close_all(self.server._map)

    @staticmethod
    def clock() -> datetime:
        return max(datetime.now(UTC), NOTIFIED_BY)

    def stop(self) -> None:
        self._stopping.set()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "the server did not stop"
        self.server.task_dispatcher.shutdown()
        self.app.close()

    def request(self, method: str, url: str, body: bytes | str | None = None,
                headers: dict[str, str] | None = None) -> Reply:
        """`url` is a public URL (as in an email) or a path; either goes to this server."""
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            connection.request(method, target, body=body, headers=headers or {})
            response = connection.getresponse()
            return Reply(response.status, response.getheaders(), response.read())
        finally:
            connection.close()

    def post_form(self, path: str, fields: dict[str, Any], origin: str | None = STATUS_ORIGIN,
                  headers: dict[str, str] | None = None) -> Reply:
        """A POST as the status site's static form sends it (cross-origin, no cookie)."""
        wanted = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        if origin is not None:
            wanted["Origin"] = origin
        return self.request("POST", path, urlencode(fields, doseq=True), wanted)

    def subscribe(self, email: str, components: list[str] | None = None, language: str = "en",
                  **extra: Any) -> Reply:
        return self.post_form("/subscriptions/subscribe", {"email": email, "components": components or [],
                                                           "language": language, "website": "", **extra})

    def mail_to(self, address: str, count: int = 1) -> list[EmailMessage]:
        """The messages `address` has received once there are `count` (waits for them)."""
        with self.sink.arrived:
            arrived = self.sink.arrived.wait_for(lambda: len(self.sink.to(address)) >= count, 20)
        assert arrived, f"{address} received {len(self.sink.to(address))} of {count} messages"
        return self.sink.to(address)

    def settled(self) -> int:
        """Wait until the service has handed over every email; how many the sink has."""
        assert self.app.mailer.drain(20)
        return len(self.sink.messages)


class Browser:
    """A visitor's browser on the service's own pages: keeps cookies, follows nothing by
    itself, and posts forms with `Origin: null` (the pages say Referrer-Policy: no-referrer)."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.cookies: dict[str, str] = {}

    def get(self, url: str) -> Reply:
        return self._keep(self.service.request("GET", url, headers=self._cookie()))

    def submit(self, page: Reply, fields: dict[str, Any] | None = None, button: tuple[str, str] | None = None) -> Reply:
        """Submit the page's form with its hidden fields, plus `fields` and the `button` pressed."""
        action = html.unescape(re.search(r'<form[^>]* method="post" action="([^"]+)"', page.text).group(1))
        data: dict[str, Any] = {name: html.unescape(value) for name, value in
                                re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text)}
        data.update(fields or {})
        if button:
            data[button[0]] = button[1]
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Origin": "null", **self._cookie()}
        return self._keep(self.service.request("POST", action, urlencode(data, doseq=True), headers))

    def _cookie(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    def _keep(self, reply: Reply) -> Reply:
        for name, value in reply.headers:
            if name.lower() == "set-cookie":
                self.cookies.update({key: morsel.value for key, morsel in SimpleCookie(value).items()})
        return reply


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def links(message: EmailMessage) -> dict[str, str]:
    return {match.group(1): match.group(0) for match in LINK.finditer(text_of(message))}


def one_click_url(message: EmailMessage) -> str:
    return re.search(r"<(https://[^>]+)>", message["List-Unsubscribe"]).group(1)


class Site:
    """The site folder: incidents, builds and notifier runs against the sink; `env` chooses
    the subscription store (empty: the site's SQLite file) for the service and the notifier."""

    def __init__(self, root: Path, sink: SmtpSink, env: dict[str, str] | None = None) -> None:
        self.root, self.sink, self.out = root, sink, root / "public"
        self.env = env or {}

    def incident(self, name: str, component: str, at: str) -> None:
        (self.root / "incidents" / f"{name}.md").write_text(
            INCIDENT.format(title=name, component=component, at=at), encoding="utf-8")

    def notify(self, now: str) -> Any:
        build(self.root, self.out, now)
        transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=self.sink.port), connections=1,
                                  local_hostname="localhost")
        return notify(self.root, self.out, transport=transport, env={"STATUSGEN_SECRET_KEY": SECRET, **self.env},
                      stream=io.StringIO())


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as server:
        yield server


@pytest.fixture
def root(make_site: MakeSite) -> Path:
    return make_site({"content/site.yaml": SITE_YAML, "subscribers.yaml": SUBSCRIBERS})


@pytest.fixture(params=BACKENDS)
def site(request: pytest.FixtureRequest, root: Path, sink: SmtpSink) -> Site:
    backend = make_backend(request.param, root / ".statusgen" / "subscriptions.db",
                           lambda: request.getfixturevalue("database_url"))
    return Site(root, sink, backend.env)


@pytest.fixture
def service(site: Site, sink: SmtpSink) -> Iterator[Service]:
    running = Service(site.root, sink, env=site.env)
    try:
        yield running
    finally:
        running.stop()


def subjects(messages: list[EmailMessage]) -> list[str]:
    return [str(m["Subject"]) for m in messages]


# ── the whole journey ─────────────────────────────────────────────────────────────────

def test_subscribe_confirm_notify_manage_and_unsubscribe(site: Site, service: Service) -> None:
    site.notify("2026-11-30T08:00:00+01:00")  # the notifier's baseline
    person = "Partner.Desk@Example.NET"
    reply = service.subscribe(person, ["dcc-app"], "en")
    assert reply.status == 200 and "Check your email" in reply.text

    confirmation, = service.mail_to("Partner.Desk@example.net")  # the domain lowercased, the local part kept
    assert confirmation["Subject"] == "Confirm your subscription to Example status"
    assert confirmation.get_body(("html",)) is not None and confirmation["Content-Language"] == "en"
    confirm_url = links(confirmation)["confirm"]

    browser = Browser(service)
    page = browser.get(confirm_url)  # what a mail scanner's prefetch does
    assert page.status == 200 and "Confirm my subscription" in page.text
    assert service.app.store.find(person).state == "pending"
    done = browser.submit(page)
    assert done.status == 200 and "You are subscribed" in done.text and "Mobile app" in done.text
    assert service.app.store.find(person).state == "confirmed"

    site.incident("app-down", "dcc-app", "2026-11-30 09:00")
    site.incident("lookup-down", "lookup-portal", "2026-11-30 09:10")
    site.notify("2026-11-30T10:00:00+01:00")
    received = service.mail_to("Partner.Desk@example.net", 2)[1:]
    assert subjects(received) == ["[Example status] P2 Investigating: app-down"]

    manage = browser.get(links(received[0])["manage"])
    assert manage.status == 200 and 'value="dcc-app" checked' in manage.text
    saved = browser.submit(manage, {"components": ["lookup-portal"], "language": "nl"}, ("action", "save"))
    assert saved.status == 200 and "Uw keuzes zijn bewaard" in saved.text
    site.incident("lookup-slow", "lookup-portal", "2026-11-30 10:30")
    site.incident("app-slow", "dcc-app", "2026-11-30 10:40")
    site.notify("2026-11-30T11:00:00+01:00")
    newest = service.mail_to("Partner.Desk@example.net", 3)[2:]
    assert subjects(newest) == ["[Voorbeeldstatus] P2 Onderzoek: lookup-slow"]

    one_click = one_click_url(newest[0])
    assert newest[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    replies = [service.request("POST", one_click, "List-Unsubscribe=One-Click",
                               {"Content-Type": "application/x-www-form-urlencoded"}) for _ in range(2)]
    assert [r.status for r in replies] == [200, 200] and "Uw abonnement is opgezegd" in replies[0].text  # idempotent
    assert service.app.store.find(person) is None and service.app.store.is_suppressed(person)
    site.incident("lookup-down-again", "lookup-portal", "2026-11-30 11:30")
    site.notify("2026-11-30T12:00:00+01:00")
    assert len(service.sink.to("Partner.Desk@example.net")) == 3
    assert len(service.sink.to(LISTED)) == 2  # the others still get theirs: app-down and app-slow


def test_an_unsubscribe_wins_over_subscribers_yaml(site: Site, service: Service) -> None:
    site.notify("2026-11-30T08:00:00+01:00")
    site.incident("app-down", "dcc-app", "2026-11-30 09:00")
    site.notify("2026-11-30T10:00:00+01:00")
    first, = service.mail_to(LISTED)
    page = service.request("GET", one_click_url(first))
    assert page.status == 200 and "Abonnement opzeggen" in page.text  # the yaml entry's language
    gone = service.request("POST", one_click_url(first), "List-Unsubscribe=One-Click",
                           {"Content-Type": "application/x-www-form-urlencoded"})
    assert gone.status == 200
    site.incident("certificates-down", "dcc-certificates", "2026-11-30 10:30")
    assert [e.kind for e in site.notify("2026-11-30T11:00:00+01:00").events] == ["incident_created"]
    assert len(service.sink.to(LISTED)) == 1
    manage = service.request("GET", links(first)["manage"])
    assert "Uw abonnement is opgezegd" in manage.text and "<form" not in manage.text


def test_saving_choices_for_a_yaml_subscriber_makes_their_own_subscription(site: Site, service: Service) -> None:
    site.notify("2026-11-30T08:00:00+01:00")
    site.incident("app-down", "dcc-app", "2026-11-30 09:00")
    site.notify("2026-11-30T10:00:00+01:00")
    browser = Browser(service)
    manage = browser.get(links(service.mail_to(LISTED)[0])["manage"])
    assert "De beheerders van deze statuspagina hebben u geabonneerd" in manage.text
    assert 'value="eu-dcc" checked' not in manage.text and 'value="dcc-app" checked' in manage.text
    saved = browser.submit(manage, {"components": ["lookup-portal"], "language": "en"}, ("action", "save"))
    assert "This replaces the subscription the operators" in saved.text
    assert service.app.store.find(LISTED).state == "confirmed"
    site.incident("app-slow", "dcc-app", "2026-11-30 10:30")
    site.incident("lookup-down", "lookup-portal", "2026-11-30 10:40")
    site.notify("2026-11-30T11:00:00+01:00")
    assert subjects(service.mail_to(LISTED, 2)[1:]) == ["[Example status] P2 Investigating: lookup-down"]


# ── no enumeration ────────────────────────────────────────────────────────────────────

def test_the_answer_is_the_same_for_new_pending_confirmed_and_unsubscribed_addresses(service: Service) -> None:
    store, now = service.app.store, datetime.now(UTC)
    store.request("pending@example.org", None, "en", now)
    store.request("confirmed@example.org", None, "en", now)
    store.confirm("confirmed@example.org", now)
    store.unsubscribe("gone@example.org", now)
    replies = [service.subscribe(address, ["dcc-app"], "en") for address in
               ("new@example.org", "pending@example.org", "confirmed@example.org", "gone@example.org")]
    assert len({reply.without_date() for reply in replies}) == 1
    assert replies[0].status == 200 and replies[0].header("Set-Cookie") is None
    service.settled()
    assert service.sink.wait_for(4)
    assert subjects([service.sink.to(a)[0] for a in ("new@example.org", "pending@example.org", "gone@example.org")]) \
        == ["Confirm your subscription to Example status"] * 3
    already, = service.sink.to("confirmed@example.org")
    assert already["Subject"] == "You are already subscribed to Example status"
    assert set(links(already)) == {"manage", "unsubscribe"}
    assert store.find("confirmed@example.org").components is None  # the form cannot change a confirmed one
    assert store.is_suppressed("gone@example.org")  # until the new subscription is confirmed


def test_a_resubscription_after_unsubscribing_needs_a_new_confirmation(service: Service) -> None:
    service.app.store.unsubscribe("back@example.org", datetime.now(UTC))
    service.subscribe("back@example.org")
    confirm_url = links(service.mail_to("back@example.org")[0])["confirm"]
    browser = Browser(service)
    browser.submit(browser.get(confirm_url))
    assert not service.app.store.is_suppressed("back@example.org")
    assert service.app.store.find("back@example.org").state == "confirmed"


# ── links ─────────────────────────────────────────────────────────────────────────────

def test_expired_tampered_and_wrong_purpose_tokens_are_refused(service: Service) -> None:
    service.subscribe("person@example.org")
    service.mail_to("person@example.org")
    old = make_token(SECRET, "confirm", "person@example.org", now=service.app.clock() - timedelta(hours=49))
    fresh = make_token(SECRET, "confirm", "person@example.org")
    manage = make_token(SECRET, "manage", "person@example.org")
    browser = Browser(service)
    cases = {
        f"/subscriptions/confirm?token={old}": "this confirm link has expired",
        f"/subscriptions/confirm?token={fresh[:-3]}abc": "this confirm link is damaged or was not made by this site",
        f"/subscriptions/confirm?token={manage}": "this link was made to manage, not to confirm",
        f"/subscriptions/unsubscribe?token={fresh}": "this link was made to confirm, not to unsubscribe",
        "/subscriptions/manage?token=": "this manage link is incomplete",
    }
    for url, reason in cases.items():
        reply = browser.get(url)
        assert reply.status == 400 and reason in reply.text, url
        assert "/subscriptions/subscribe?lang=en" in reply.text  # a way to start again
    page = browser.get(f"/subscriptions/confirm?token={fresh}")
    refused = browser.submit(page, {"token": old})
    assert refused.status == 400 and "expired" in refused.text
    forged = service.request("POST", f"/subscriptions/unsubscribe?token={manage}", "List-Unsubscribe=One-Click",
                             {"Content-Type": "application/x-www-form-urlencoded"})
    assert forged.status == 400
    assert service.app.store.find("person@example.org").state == "pending"
    assert not service.app.store.is_suppressed("person@example.org")


def test_a_confirmation_without_a_pending_subscription_says_so(service: Service) -> None:
    browser = Browser(service)
    page = browser.get(f"/subscriptions/confirm?token={make_token(SECRET, 'confirm', 'nobody@example.org')}")
    reply = browser.submit(page)
    assert reply.status == 400 and "Nothing to confirm" in reply.text
    assert service.app.store.find("nobody@example.org") is None


# ── what the form accepts ─────────────────────────────────────────────────────────────

@pytest.mark.parametrize(("fields", "message"), [
    ({"email": "not-an-address"}, "Enter an email address such as name@example.org."),
    ({"email": "a@example.org\r\nBcc: victim@example.net"}, "An email address is one line of text."),
    ({"email": "a@example.org\n"}, "An email address is one line of text."),
    ({"email": "x" * 250 + "@example.org"}, "This email address is too long"),
    ({"email": ""}, "Enter your email address."),
    ({"email": "a@example.org", "components": ["dcc-cert"]}, "Unknown component &#39;dcc-cert&#39;"),
    ({"email": "a@example.org", "language": "fr"}, "Unknown language &#39;fr&#39;; choose one of en, nl."),
])
def test_malformed_requests_are_refused_and_nothing_is_stored_or_sent(service: Service, fields: dict[str, Any],
                                                                       message: str) -> None:
    reply = service.post_form("/subscriptions/subscribe", {"language": "en", **fields})
    assert reply.status == 400 and message in reply.text
    assert service.app.store.subscriptions() == []
    assert service.settled() == 0


def test_an_oversized_request_is_refused(service: Service) -> None:
    reply = service.subscribe("big@example.org", padding="x" * 20_000)
    assert reply.status == 413 and "Too much data" in reply.text
    assert service.app.store.subscriptions() == []


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "https://status.example.org.evil.example"},
    {"Referer": "https://evil.example/page"},
    {},  # no origin, no token: curl, or a page that hides where it is
    {"Origin": "null"},
])
def test_a_post_from_elsewhere_is_refused(service: Service, headers: dict[str, str]) -> None:
    reply = service.post_form("/subscriptions/subscribe", {"email": "a@example.org"}, origin=None, headers=headers)
    assert reply.status == 403
    assert service.app.store.subscriptions() == []


def test_the_service_and_the_status_site_may_both_post(service: Service) -> None:
    assert service.subscribe("one@example.org").status == 200
    own = service.post_form("/subscriptions/subscribe", {"email": "two@example.org"},
                            origin="https://notify.example.net")
    referer = service.post_form("/subscriptions/subscribe", {"email": "three@example.org"}, origin=None,
                                headers={"Referer": "https://status.example.org/nl/subscribe/"})
    assert own.status == referer.status == 200
    assert len(service.app.store.subscriptions()) == 3


def test_the_services_own_form_works_with_its_csrf_token(service: Service) -> None:
    browser = Browser(service)
    form = browser.get("/subscriptions/subscribe?lang=nl")
    assert form.status == 200 and "csrf_token" in form.text and 'lang="nl"' in form.text
    cookie = form.header("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" in cookie
    assert "Path=/subscriptions/" in cookie
    sent = browser.submit(form, {"email": "own@example.org", "components": ["eu-dcc"], "language": "nl"})
    assert sent.status == 200 and "Kijk in uw mailbox" in sent.text
    assert service.app.store.find("own@example.org").components == ("eu-dcc",)
    forged = service.post_form("/subscriptions/subscribe", {"email": "x@example.org", "csrf_token": "0" * 64},
                               origin="null")
    assert forged.status == 403


def test_a_filled_honeypot_gets_the_success_page_and_nothing_happens(service: Service) -> None:
    real = service.subscribe("real@example.org")
    bot = service.subscribe("bot@example.org", website="https://spam.example")
    assert bot.without_date() == real.without_date()
    assert service.settled() == 1 and service.sink.to("bot@example.org") == []
    assert service.app.store.find("bot@example.org") is None


def test_a_client_is_limited_to_ten_requests_in_ten_minutes(service: Service) -> None:
    for n in range(10):
        assert service.subscribe(f"p{n}@example.org").status == 200
    limited = service.subscribe("p10@example.org")
    assert limited.status == 429 and 0 < int(limited.header("Retry-After")) <= 600
    assert "Too many requests" in limited.text and service.app.store.find("p10@example.org") is None


def test_behind_a_trusted_proxy_the_limit_is_per_forwarded_client(site: Site, sink: SmtpSink) -> None:
    running = Service(site.root, sink, env={**site.env, "STATUSGEN_TRUSTED_PROXIES": "1"})
    try:
        first = [running.post_form("/subscriptions/subscribe", {"email": f"q{n}@example.org"},
                                   headers={"X-Forwarded-For": "203.0.113.7"}).status for n in range(11)]
        other = running.post_form("/subscriptions/subscribe", {"email": "r@example.org"},
                                  headers={"X-Forwarded-For": "203.0.113.8"})
        assert first == [200] * 10 + [429] and other.status == 200
    finally:
        running.stop()


def test_an_address_gets_at_most_three_emails_an_hour_and_the_answer_does_not_change(service: Service) -> None:
    replies = [service.subscribe("flooded@example.org") for _ in range(5)]
    assert len({reply.without_date() for reply in replies}) == 1
    assert service.settled() == 3 and len(service.sink.to("flooded@example.org")) == 3


def test_unconfirmed_subscriptions_are_forgotten_after_48_hours(site: Site, sink: SmtpSink) -> None:
    now = [datetime(2026, 11, 30, 9, 0, tzinfo=UTC)]
    running = Service(site.root, sink, env=site.env, clock=lambda: now[0])
    try:
        running.subscribe("late@example.org")
        assert running.app.store.find("late@example.org").state == "pending"
        now[0] += timedelta(hours=49)
        running.app._next_purge = 0  # a minute has passed as far as the purge is concerned
        assert running.request("GET", "/subscriptions/healthz").status == 200
        assert running.app.store.find("late@example.org") is None
    finally:
        running.stop()


# ── HTTP hygiene ──────────────────────────────────────────────────────────────────────

def test_every_response_carries_the_security_headers(service: Service) -> None:
    replies = [service.request("GET", "/subscriptions/subscribe"), service.subscribe("h@example.org"),
               service.request("GET", "/subscriptions/nowhere"), service.request("PUT", "/subscriptions/subscribe"),
               service.request("GET", "/subscriptions/healthz"), service.request("GET", "/subscriptions/confirm")]
    for reply in replies:
        assert SECURITY <= {name for name, _ in reply.headers}, reply.status
        assert reply.header("Content-Security-Policy") == (
            "default-src 'none'; style-src https://status.example.org; img-src https://status.example.org; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        assert reply.header("Referrer-Policy") == "no-referrer" and reply.header("Cache-Control") == "no-store"
        assert reply.header("X-Content-Type-Options") == "nosniff"
    assert "https://status.example.org/static/style.css" in replies[0].text


def test_routes_methods_and_paths(service: Service) -> None:
    health = service.request("GET", "/subscriptions/healthz")
    assert (health.status, health.header("Content-Type"), json.loads(health.body)) == (
        200, "application/json", {"status": "ok", "database": "ok"})
    put = service.request("PUT", "/subscriptions/subscribe")
    assert put.status == 405 and "POST" in put.header("Allow")
    assert service.request("DELETE", "/subscriptions/healthz").status == 405
    assert service.request("GET", "/elsewhere").status == 404
    home = service.request("GET", "/subscriptions/?lang=nl")
    assert home.status == 303 and home.header("Location").endswith("/subscriptions/subscribe?lang=nl")
    bare = service.request("GET", "/subscriptions", headers={"Host": "evil.example"})
    assert bare.status == 303 and bare.header("Location") == "/subscriptions/subscribe"
    assert service.request("GET", "/subscriptions//healthz").status == 404


def test_an_unexpected_failure_is_a_page_with_the_headers(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(email: str) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(service.app.store, "find", broken)
    reply = service.request("GET", f"/subscriptions/manage?token={make_token(SECRET, 'manage', 'a@example.org')}")
    assert reply.status == 500 and "Something went wrong" in reply.text and "disk" not in reply.text
    assert SECURITY <= {name for name, _ in reply.headers}


def test_the_confirmation_email_is_safe_and_multilingual(service: Service) -> None:
    service.subscribe("taal@example.org", language="nl")
    message, = service.mail_to("taal@example.org")
    assert message["Subject"] == "Bevestig uw abonnement op Voorbeeldstatus"
    assert message["Content-Language"] == "nl" and message["Auto-Submitted"] == "auto-generated"
    assert message["From"] == "status@example.org" and message["To"] == "taal@example.org"
    body = message.get_body(("html",)).get_content()
    assert 'href="https://notify.example.net/subscriptions/confirm?token=' in body and 'lang="nl"' in body
    assert "48 uur" in text_of(message)


def test_no_address_is_ever_written_to_the_published_site(site: Site, service: Service) -> None:
    service.subscribe("secret.person@example.org", ["dcc-app"])
    browser = Browser(service)
    browser.submit(browser.get(links(service.mail_to("secret.person@example.org")[0])["confirm"]))
    build(site.root, site.out, "2026-11-30T10:00:00+01:00")
    for file in site.out.rglob("*"):
        if file.is_file():
            content = file.read_bytes().lower()
            assert b"secret.person" not in content and LISTED.encode() not in content, file
    store = service.app.service.store
    assert store.url or not store.path.resolve().is_relative_to(site.out.resolve())


def test_the_service_refuses_to_start_without_a_secret(root: Path, run_cli: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATUSGEN_SECRET_KEY", raising=False)
    code, _, err = run_cli("subscriptions", "serve", "--site", root)
    assert code == 1 and "STATUSGEN_SECRET_KEY must hold a secret of at least 16 characters" in err
    assert not (root / ".statusgen" / "subscriptions.db").exists()


def test_the_store_may_not_sit_in_the_published_folder(root: Path, run_cli: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATUSGEN_SECRET_KEY", SECRET)
    code, _, err = run_cli("subscriptions", "serve", "--site", root, "--db", root / "public" / "s.db")
    assert code == 2 and "inside the published folder" in err


def test_a_site_without_a_subscription_url_cannot_serve(make_site: MakeSite, run_cli: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATUSGEN_SECRET_KEY", SECRET)
    root = make_site({"content/site.yaml": SITE_YAML.replace("subscriptions: {url: " + PUBLIC + "}\n", "")})
    code, _, err = run_cli("subscriptions", "serve", "--site", root)
    assert code == 2 and "subscriptions.url: expected the service's public URL" in err

