"""Self-service webhook subscriptions, end to end with real parts: the service on waitress
(tests/test_subscriptions.py's `Service`), a real SMTP server for the contact's emails, a
real HTTP receiver on 127.0.0.1 (reachable because STATUSGEN_WEBHOOK_ALLOW_NETS says so),
signatures checked with the `standardwebhooks` package's own verifier, and the store in
SQLite and in PostgreSQL."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from standardwebhooks import Webhook

from statusgen import ids
from statusgen.content.load import load_site
from statusgen.content.model import Subscriber
from statusgen.subscriptions.backend import StoreLocation
from statusgen.subscriptions.merge import store_audience
from statusgen.subscriptions.signingkeys import key_check
from statusgen.subscriptions.store import SqliteSubscriptionStore
from statusgen.tokens import make_token, read_token
from tests.backends import BACKENDS, Backend, everything_in_the_database, make_backend
from tests.conftest import MakeSite
from tests.smtpsink import SmtpSink
from tests.test_subscriptions import (LISTED, NOTIFIED_BY, SECRET, SITE_YAML, SUBSCRIBERS, Browser, Reply, Service, Site,
                                     links)

CONTACT = "ops@partner.example"
LOOPBACK = {"STATUSGEN_WEBHOOK_ALLOW_NETS": "127.0.0.0/8"}
SECRET_SHAPE = re.compile(r"whsec_[A-Za-z0-9+/]{43}=")


# ── a receiver ────────────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def verified(self, secret: str) -> Any:
        """The body, once `standardwebhooks` accepted its signature with `secret`."""
        return Webhook(secret).verify(self.body, self.headers)


class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST and answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[Received] = []
        self.connections = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self) -> tuple[Any, Any]:
                receiver.connections += 1
                return super().get_request()

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hooks/desk-7f3a9c") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    try:
        yield running
    finally:
        running.close()


# ── the site, its store, the service ──────────────────────────────────────────────────

@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as server:
        yield server


@pytest.fixture
def root(make_site: MakeSite) -> Path:
    return make_site({"content/site.yaml": SITE_YAML, "subscribers.yaml": SUBSCRIBERS})


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, root: Path) -> Backend:
    return make_backend(request.param, root / ".statusgen" / "subscriptions.db",
                        lambda: request.getfixturevalue("database_url"))


@pytest.fixture
def service(root: Path, sink: SmtpSink, backend: Backend) -> Iterator[Service]:
    running = Service(root, sink, env={**LOOPBACK, **backend.env})
    try:
        yield running
    finally:
        running.stop()


def subscribe(service: Service, url: str, components: list[str] | None = None, fmt: str = "auto",
              contact: str = CONTACT, lang: str = "en") -> Reply:
    """Send the webhook form as a visitor of the service's own page does."""
    browser = Browser(service)
    form = browser.get(f"/subscriptions/webhook?lang={lang}")
    assert form.status == 200
    return browser.submit(form, {"url": url, "email": contact, "components": components or [], "format": fmt,
                                 "language": lang})


def confirmed(service: Service, contact: str = CONTACT, count: int = 1) -> tuple[Browser, Reply]:
    """Follow the confirmation link in the contact's `count`th email and press its button."""
    browser = Browser(service)
    page = browser.get(links(service.mail_to(contact, count)[count - 1])["confirm"])
    assert page.status == 200, page.text
    return browser, browser.submit(page)


def secret_on(page: Reply) -> str:
    found = SECRET_SHAPE.findall(page.text)
    assert len(found) == 1, page.text
    return found[0]


def text(page: Reply) -> str:
    """What the page says, without markup."""
    main = page.text.split("<main", 1)[1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)).replace("&#39;", "'").replace("&amp;", "&")


def subscribers(root: Path, backend: Backend) -> tuple[Subscriber, ...]:
    site, listed = load_site(root)
    return store_audience(root, {"STATUSGEN_SECRET_KEY": SECRET, **backend.env}).subscribers(site, listed)


def webhooks_of(root: Path, backend: Backend) -> dict[str, Subscriber]:
    return {s.webhook: s for s in subscribers(root, backend) if s.webhook}


def stored_bytes(root: Path, backend: Backend) -> bytes:
    """Everything the store holds, as stored."""
    if backend.location.url:
        return everything_in_the_database(backend.location.url).encode()
    return b"".join(path.read_bytes() for path in (root / ".statusgen").glob("subscriptions.db*"))


# ── the whole journey ─────────────────────────────────────────────────────────────────

def test_a_webhook_is_confirmed_by_its_contact_shown_its_secret_once_and_tested(
        root: Path, service: Service, receiver: Receiver, backend: Backend) -> None:
    url = receiver.url()
    sent = subscribe(service, url, ["dcc-app"])
    assert sent.status == 200 and "Check your email" in sent.text

    email, = service.mail_to(CONTACT)
    assert email["Subject"] == "Confirm the webhook for Example status"
    body = email.get_body(("plain",)).get_content()
    assert "127.0.0.1" in body and "desk-7f3a9c" not in body  # the URL only masked, even to its contact
    confirm = links(email)["confirm"]
    ident = ids.webhook_id(url)
    assert read_token(SECRET, "confirm", parse_qs(urlsplit(confirm).query)["token"][0],
                      now=service.app.clock()) == f"webhook:{ident}"  # the link names the webhook's id, never its URL

    browser = Browser(service)
    button = browser.get(confirm)  # what a mail scanner's prefetch does: nothing happens
    assert button.status == 200 and "Confirm the webhook" in button.text
    assert receiver.received == [] and webhooks_of(root, backend) == {}
    done = browser.submit(button)
    assert done.status == 200 and "Your webhook is subscribed" in done.text and "Mobile app" in done.text
    secret = secret_on(done)
    assert "it is shown only this once" in done.text
    assert "A test message was delivered to 127.0.0.1" in text(done)

    ping, = receiver.received
    assert ping.path == "/hooks/desk-7f3a9c" and ping.headers["webhook-id"].startswith("ping_")
    document = ping.verified(secret)
    assert set(document) == {"meta", "page", "ping"}
    assert document["ping"] == {"subscription_id": ident, "message": document["ping"]["message"],
                                "components": [{"id": ids.component_id("dcc-app"), "name": "Mobile app"}]}
    assert document["page"] == {"id": ids.page_id("https://status.example.org/"), "status_indicator": "none",
                                "status_description": "All Systems Operational"}
    manage = document["meta"]["unsubscribe"]
    assert manage.startswith("https://notify.example.net/subscriptions/manage?token=")

    again = browser.submit(button)  # a reload: confirmed already, no secret, no second test
    assert again.status == 200 and "Already confirmed" in again.text
    assert not SECRET_SHAPE.search(again.text) and len(receiver.received) == 1

    hook = webhooks_of(root, backend)[url]
    assert (hook.email, hook.components, hook.language, hook.format, hook.secret_env) == \
        (CONTACT, ("dcc-app",), "en", "statuspage", None)
    assert hook.secrets == (secret,) and secret not in repr(hook)
    assert any(s.email == LISTED and not s.webhook for s in subscribers(root, backend))  # the others stay
    assert secret.encode() not in stored_bytes(root, backend)  # derived when needed, never stored
    assert browser.get(manage).status == 200


def test_the_manage_link_changes_tests_renews_the_secret_by_email_and_stops(
        root: Path, service: Service, receiver: Receiver, backend: Backend) -> None:
    url = receiver.url()
    subscribe(service, url, ["dcc-app"])
    _, done = confirmed(service)
    secret = secret_on(done)
    manage = receiver.received[0].verified(secret)["meta"]["unsubscribe"]

    browser = Browser(service)
    page = browser.get(manage)
    assert page.status == 200 and 'value="dcc-app" checked' in page.text and "Statuspage JSON webhook" in page.text
    saved = browser.submit(page, {"components": ["lookup-portal"], "language": "nl"}, ("action", "save"))
    assert saved.status == 200 and "Uw keuzes zijn bewaard" in saved.text and "Lookup portal" in saved.text
    assert webhooks_of(root, backend)[url].components == ("lookup-portal",)

    tested = browser.submit(browser.get(manage), button=("action", "test"))
    assert "Er is een testbericht afgeleverd" in tested.text
    assert receiver.received[1].verified(secret)["ping"]["components"] == [
        {"id": ids.component_id("lookup-portal"), "name": "Lookup portal"}]

    asked = browser.submit(browser.get(manage), button=("action", "secret"))
    assert "Kijk in de mailbox" in asked.text and not SECRET_SHAPE.search(asked.text)  # by email only
    renewal = service.mail_to(CONTACT, 2)[1]
    assert renewal["Subject"] == "Een nieuw ondertekeningsgeheim voor uw webhook op Voorbeeldstatus"
    rotate = links(renewal)["confirm"]
    button = browser.get(rotate)
    assert "Een nieuw ondertekeningsgeheim" in button.text and "24 uur" in button.text
    shown = browser.submit(button)
    new = secret_on(shown)
    assert new != secret and "Uw nieuwe ondertekeningsgeheim" in shown.text
    assert webhooks_of(root, backend)[url].secrets == (new, secret)  # both sign while the receiver switches
    spent = browser.submit(button)
    assert spent.status == 400 and "Deze link is al gebruikt" in spent.text and not SECRET_SHAPE.search(spent.text)

    browser.submit(browser.get(manage), button=("action", "test"))
    assert len(receiver.received[2].headers["webhook-signature"].split()) == 2
    assert receiver.received[2].verified(new) == receiver.received[2].verified(secret)  # either one verifies

    stopped = browser.submit(browser.get(manage), button=("action", "unsubscribe"))
    assert stopped.status == 200 and "Levering gestopt" in stopped.text
    assert webhooks_of(root, backend) == {}
    store = backend.open(readonly=True)
    assert store.find_webhook(ids.webhook_id(url)).state == "unsubscribed"
    assert store.is_suppressed(f"webhook:{url}")
    assert [s.address for s in store.suppressions()] == [f"webhook:{ids.webhook_id(url)}"]  # never the URL
    store.close()
    gone = browser.get(manage)
    assert "Levering gestopt" in gone.text and "<form" not in gone.text


# ── no enumeration, no takeover ───────────────────────────────────────────────────────

def test_the_answer_is_the_same_for_a_new_and_a_confirmed_webhook_and_nobody_takes_one_over(
        root: Path, service: Service, receiver: Receiver, backend: Backend) -> None:
    url = receiver.url()
    subscribe(service, url, ["dcc-app"])
    confirmed(service)
    taken = subscribe(service, url, ["lookup-portal"], contact="intruder@elsewhere.example")
    fresh = subscribe(service, receiver.url("/hooks/other"), contact="new@partner.example")
    assert taken.without_date() == fresh.without_date() and taken.status == 200
    service.settled()
    assert service.sink.to("intruder@elsewhere.example") == []
    already = service.mail_to(CONTACT, 2)[1]  # the contact it has is told, and only they
    assert already["Subject"] == "This webhook is already subscribed to Example status"
    assert set(links(already)) == {"manage", "unsubscribe"}
    assert webhooks_of(root, backend)[url].components == ("dcc-app",)


# ── what the form refuses ─────────────────────────────────────────────────────────────

@pytest.fixture
def guarded(root: Path, sink: SmtpSink) -> Iterator[Service]:
    """The service without STATUSGEN_WEBHOOK_ALLOW_NETS: public addresses only."""
    running = Service(root, sink)
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.parametrize(("url", "message"), [
    ("https://127.0.0.1:{port}/hooks/x", "127.0.0.1 is a private or local address: webhooks go only to public "
                                         "addresses."),
    ("http://[::1]:{port}/hooks/x", "::1 is a private or local address"),
    ("https://10.0.0.1/hooks/x", "10.0.0.1 is a private or local address"),
    ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is a private or local address"),
    ("http://desk.partner.example/hooks/x", "Enter an https:// address: webhooks are sent only over HTTPS."),
    ("ftp://desk.partner.example/x", "Enter an https:// address"),
    ("https://partner.webhook.office.com/webhookb2/abc/IncomingWebhook/def",
     "Microsoft retired the Office 365 connector webhooks of Teams: they no longer deliver messages. In Teams, "
     "create a workflow from the template “Post to a channel when a webhook request is received”"),
    ("https://user:password@desk.partner.example/x", "This URL cannot receive webhooks: the URL carries a user name"),
    ("", "Enter the webhook&#39;s URL."),
])
def test_a_url_it_may_not_reach_is_refused_on_the_form_and_nothing_is_connected_stored_or_sent(
        guarded: Service, receiver: Receiver, url: str, message: str) -> None:
    reply = subscribe(guarded, url.format(port=receiver.server.server_address[1]))
    assert reply.status == 400 and message in reply.text, text(reply)
    assert '<p class="banner ind-major" role="alert">Please correct the problems below.</p>' in reply.text
    field = re.search(r'<input id="url"[^>]*>', reply.text).group(0)
    assert 'aria-invalid="true"' in field and 'aria-describedby="url-hint url-problem"' in field
    assert 'id="url-problem"' in reply.text and CONTACT in reply.text  # what was typed stays
    assert guarded.app.store.webhooks() == [] and guarded.settled() == 0
    assert receiver.connections == 0 and receiver.received == []


def test_a_refused_url_is_named_in_every_language(guarded: Service) -> None:
    for lang, said in (("nl", "10.0.0.1 is een privé- of lokaal adres"),):
        reply = subscribe(guarded, "https://10.0.0.1/x", lang=lang)
        assert reply.status == 400 and said in reply.text and f'<html lang="{lang}">' in reply.text


def test_the_contact_and_the_choices_are_checked_like_an_email_subscription(guarded: Service) -> None:
    reply = subscribe(guarded, "https://desk.partner.example/hooks/x", ["dcc-cert"], contact="not-an-address")
    assert reply.status == 400
    assert "Enter an email address such as name@example.org." in reply.text
    assert "Unknown component &#39;dcc-cert&#39;" in reply.text
    assert guarded.app.store.webhooks() == []


# ── chat targets, failures ────────────────────────────────────────────────────────────

def test_a_chat_channel_gets_a_chat_message_unsigned_and_no_secret_is_shown(
        root: Path, service: Service, receiver: Receiver, backend: Backend) -> None:
    url = receiver.url("/services/T000/B000/XXXXXXXX")
    subscribe(service, url, fmt="slack")
    _, done = confirmed(service)
    assert "Chat channels need no signing secret" in done.text and not SECRET_SHAPE.search(done.text)
    message, = receiver.received
    assert "webhook-signature" not in message.headers
    document = json.loads(message.body)
    assert set(document) == {"text", "blocks"} and document["blocks"][0]["type"] == "header"
    assert "all components" in message.body.decode()
    hook = webhooks_of(root, backend)[url]
    assert (hook.format, hook.components, hook.secrets) == ("slack", None, ())


def test_a_receiver_that_fails_the_test_is_named_and_the_subscription_stands(
        root: Path, service: Service, backend: Backend) -> None:
    failing = Receiver(status=500)
    try:
        subscribe(service, failing.url(), ["lookup-portal"])
        _, done = confirmed(service)
    finally:
        failing.close()
    said = text(done)
    assert "The test message could not be delivered to 127.0.0.1" in said and "500" in said, said
    assert "The subscription stands" in said and SECRET_SHAPE.search(done.text)
    assert failing.url() in webhooks_of(root, backend)


def test_test_messages_from_the_manage_page_are_limited(service: Service, receiver: Receiver) -> None:
    subscribe(service, receiver.url())
    browser, done = confirmed(service)
    manage = receiver.received[0].verified(secret_on(done))["meta"]["unsubscribe"]
    answers = [browser.submit(browser.get(manage), button=("action", "test")).status for _ in range(6)]
    assert answers == [200] * 5 + [429] and len(receiver.received) == 6


# ── the key the secrets derive from ───────────────────────────────────────────────────

def test_a_webhook_made_under_another_key_is_left_out_and_named(root: Path, service: Service,
                                                                receiver: Receiver, backend: Backend) -> None:
    url = receiver.url()
    subscribe(service, url)
    confirmed(service)
    site, listed = load_site(root)
    other = store_audience(root, {"STATUSGEN_SECRET_KEY": "another-key-" + "x" * 20, **backend.env})
    assert [s for s in other.subscribers(site, listed) if s.webhook] == []
    check, = other.checks(site)
    assert check.passed and check.warnings == (
        f"STATUSGEN_SECRET_KEY: 1 self-service webhook subscription(s) ({ids.webhook_id(url)}) were confirmed under "
        "another STATUSGEN_SECRET_KEY: their signing secrets changed with it, so nothing is sent to them. Set the key "
        "they were made with again, or have each contact ask for a new signing secret (the webhook's manage page, "
        "or the webhook form again)",)
    assert store_audience(root, {"STATUSGEN_SECRET_KEY": SECRET, **backend.env}).checks(site)[0].warnings == ()


def test_ops_print_a_secret_by_its_id_and_nothing_else_prints_one(root: Path, service: Service, receiver: Receiver,
                                                                  backend: Backend, run_cli: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    url = receiver.url()
    subscribe(service, url)
    _, done = confirmed(service)
    ident = ids.webhook_id(url)
    monkeypatch.delenv("STATUSGEN_SECRET_KEY", raising=False)
    code, _, err = run_cli("subscribers", "secret", ident, "--site", root, "--db", backend.option)
    assert code == 2 and "STATUSGEN_SECRET_KEY: the webhooks' signing secrets are derived from it" in err
    monkeypatch.setenv("STATUSGEN_SECRET_KEY", SECRET)
    code, out, _ = run_cli("subscribers", "secret", ident, "--site", root, "--db", backend.option)
    assert code == 0 and out == f"{secret_on(done)}\n"
    code, _, err = run_cli("subscribers", "secret", "nosuchid0000", "--site", root, "--db", backend.option)
    assert code == 2 and "no self-service webhook subscription has the id 'nosuchid0000'" in err
    code, out, _ = run_cli("subscribers", "export", CONTACT, "--site", root, "--db", backend.option)
    exported = json.loads(out)["webhooks"]
    assert [(w["id"], w["target"], w["state"], w["signed"]) for w in exported] == \
        [(ident, f"127.0.0.1:{urlsplit(url).port}/hooks/d…/***", "confirmed", True)]
    assert "whsec_" not in out and "desk-7f3a9c" not in out
    code, out, err = run_cli("subscribers", "remove", CONTACT, "--site", root, "--db", backend.option)
    assert code == 0, err
    assert f"{CONTACT}: also removed the 1 webhook subscription(s) it was the contact of" in out.splitlines()
    assert webhooks_of(root, backend) == {}


# ── the store ─────────────────────────────────────────────────────────────────────────

def test_the_store_keeps_webhooks_by_id_with_one_row_per_url(backend: Backend) -> None:
    store = backend.open()
    now = NOTIFIED_BY
    url = "https://desk.partner.example/hooks/Case-Sensitive"
    before, hook = store.request_webhook(url, "statuspage", ("eu-dcc",), "nl", "a@partner.example", now)
    assert (before, hook.id, hook.url, hook.state) == ("new", ids.webhook_id(url), url, "pending")
    before, hook = store.request_webhook(url, "slack", None, "en", "b@partner.example", now)
    assert (before, hook.format, hook.contact) == ("pending", "slack", "b@partner.example")  # the latest request
    found, first = store.confirm_webhook(hook.id, "seed-1", key_check(SECRET, hook.id, "seed-1"), now)
    assert first and found.state == "confirmed" and found.made_with(SECRET) and not found.made_with("x" * 32)
    assert store.confirm_webhook(hook.id, "seed-2", "check", now) == (found, False)
    before, kept = store.request_webhook(url, "statuspage", ("eu-dcc",), "nl", "c@partner.example", now)
    assert before == "confirmed" and (kept.contact, kept.format) == ("b@partner.example", "slack")
    assert seeds(store.rotate_webhook(hook.id, "seed-1", "seed-3", "check-3", now)) == ("seed-3", "seed-1")
    assert store.rotate_webhook(hook.id, "seed-1", "seed-4", "check-4", now) is None  # a rotation link works once
    assert store.purge(now + timedelta(hours=23)) == 0 and seeds(store.find_webhook(hook.id)) == ("seed-3", "seed-1")
    store.purge(now + timedelta(hours=24))
    assert seeds(store.find_webhook(hook.id)) == ("seed-3", None)
    assert [w["id"] for w in store.export("B@partner.example")["webhooks"]] == [hook.id]
    store.request_webhook("https://desk.partner.example/pending", "statuspage", None, "en", "d@partner.example", now)
    assert store.purge(now + timedelta(hours=49)) == 1 and len(store.webhooks()) == 1
    store.unsubscribe(f"webhook:{url}", now)
    assert seeds(store.find_webhook(hook.id)) == (None, None) and store.is_suppressed(f"webhook:{url}")
    assert store.erase("b@partner.example", now)["webhooks"] == 1 and store.webhooks() == []
    store.close()


def seeds(hook: Any) -> tuple[str | None, str | None]:
    return hook.seed, hook.previous_seed


def test_db_copy_moves_webhooks_and_their_secrets_still_derive(root: Path, database_url: str, run_cli: Any) -> None:
    sqlite = SqliteSubscriptionStore(root / ".statusgen" / "subscriptions.db")
    url = "https://desk.partner.example/hooks/1"
    _, hook = sqlite.request_webhook(url, "statuspage", ("dcc-app",), "nl", CONTACT, NOTIFIED_BY)
    sqlite.confirm_webhook(hook.id, "seed", key_check(SECRET, hook.id, "seed"), NOTIFIED_BY)
    sqlite.unsubscribe("webhook:https://desk.partner.example/hooks/2", NOTIFIED_BY)
    before = (sqlite.webhooks(), sqlite.suppressions())
    sqlite.close()
    code, out, err = run_cli("db", "copy", "--site", root, "--to", database_url)
    assert code == 0, err
    assert re.search(r"^  webhooks +1$", out, re.M), out
    backend = Backend("postgresql", StoreLocation(url=database_url))
    store = backend.open(readonly=True)
    assert (store.webhooks(), store.suppressions()) == before
    assert store.is_suppressed("webhook:https://desk.partner.example/hooks/2")
    store.close()
    moved = webhooks_of(root, backend)[url]
    assert moved.secrets == before[0][0].secrets(SECRET) and len(moved.secrets) == 1


def test_the_form_answers_in_each_language_without_script(guarded: Service) -> None:
    for lang, heading, tab in (("en", "Updates to a webhook or chat channel", "Webhook or chat"),
                               ("nl", "Meldingen naar een webhook of chatkanaal", "Webhook of chat")):
        page = Browser(guarded).get(f"/subscriptions/webhook?lang={lang}")
        assert page.status == 200 and f"<h1>{heading}</h1>" in page.text
        assert f'aria-current="page">{tab}</a>' in page.text and "<script" not in page.text
    email_tab = Browser(guarded).get("/subscriptions/subscribe?lang=en")
    assert 'href="/subscriptions/webhook?lang=en">Webhook or chat</a>' in email_tab.text
    assert 'aria-current="page">Email</a>' in email_tab.text


# ── a webhook from subscribers.yaml ───────────────────────────────────────────────────

def test_a_webhook_from_subscribers_yaml_can_only_be_stopped_by_its_links(make_site: MakeSite, sink: SmtpSink) -> None:
    url = "https://desk.partner.example/hooks/yaml-9d2e"
    root = make_site({"content/site.yaml": SITE_YAML, "subscribers.yaml": (
        f"- {{webhook: {url}, email: {CONTACT}, components: [dcc-app], language: nl, secret_env: DESK_SECRET}}\n")})
    backend = make_backend("sqlite", root / ".statusgen" / "subscriptions.db", lambda: "")
    running = Service(root, sink)
    try:
        manage = f"/subscriptions/manage?token={make_token(SECRET, 'manage', f'webhook:{ids.webhook_id(url)}')}"
        browser = Browser(running)
        page = browser.get(manage)
        assert page.status == 200 and 'lang="nl"' in page.text
        assert "alleen zij kunnen hem wijzigen" in page.text and 'name="components"' not in page.text
        assert 'value="test"' not in page.text and "yaml-9d2e" not in page.text  # the URL only masked
        refused = browser.submit(page, {"components": ["lookup-portal"]}, ("action", "save"))
        assert refused.status == 400 and "Ingesteld door de beheerders" in refused.text
        assert url in webhooks_of(root, backend)
        one_click = f"/subscriptions/unsubscribe?token={make_token(SECRET, 'unsubscribe', f'webhook:{ids.webhook_id(url)}')}"
        stopped = running.request("POST", one_click, "List-Unsubscribe=One-Click",
                                  {"Content-Type": "application/x-www-form-urlencoded"})
        assert stopped.status == 200 and "Levering gestopt" in stopped.text
        assert webhooks_of(root, backend) == {}  # an unsubscribe wins over subscribers.yaml
        assert "Levering gestopt" in browser.get(manage).text
    finally:
        running.stop()


# ── with the notifier ─────────────────────────────────────────────────────────────────

def test_the_next_notify_posts_its_components_incidents_signed_with_the_secret_shown(
        root: Path, sink: SmtpSink, service: Service, receiver: Receiver, backend: Backend) -> None:
    site = Site(root, sink, {**LOOPBACK, **backend.env})
    site.notify("2026-11-30T08:00:00+01:00")  # the notifier's baseline
    url = receiver.url()
    subscribe(service, url, ["dcc-app"])
    _, done = confirmed(service)
    secret = secret_on(done)
    site.incident("app-down", "dcc-app", "2026-11-30 09:00")
    site.incident("lookup-down", "lookup-portal", "2026-11-30 09:10")
    site.notify("2026-11-30T10:00:00+01:00")
    deliveries = [message.verified(secret) for message in receiver.received[1:]]
    assert deliveries, "nothing was delivered"
    assert {d["incident"]["name"] for d in deliveries if "incident" in d} == {"app-down"}
    assert {d["component"]["name"] for d in deliveries if "component_update" in d} == {"Mobile app"}
    token = parse_qs(urlsplit(deliveries[0]["meta"]["unsubscribe"]).query)["token"][0]
    assert read_token(SECRET, "manage", token, now=service.app.clock()) == f"webhook:{ids.webhook_id(url)}"
    assert len({m.headers["webhook-id"] for m in receiver.received}) == len(receiver.received)
