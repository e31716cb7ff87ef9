"""A reader subscribes in a real browser: the static site's form, the service, the email."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api

from statusgen.site.build import build
from statusgen.content.load import load_site
from statusgen.subscriptions.backend import StoreLocation
from statusgen.subscriptions.merge import audience
from tests.conftest import MakeSite
from tests.smtpsink import SmtpSink
from tests.siteheaders import VIOLATIONS, serve_with_headers
from tests.test_subscriptions import Service

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def static_site(make_site: MakeSite) -> Iterator[tuple[Path, int, int]]:
    """The built site on one loopback port, its subscription URL on another."""
    site_port, service_port = free_port(), free_port()
    root = make_site({"content/site.yaml": (
        "title: {en: Example status, nl: Voorbeeldstatus}\n"
        f"base_url: http://127.0.0.1:{site_port}/\nlanguages: [en, nl]\ntimezone: Europe/Brussels\n"
        f"subscriptions: {{url: http://127.0.0.1:{service_port}/subscriptions/}}\n"
        "notify: {from: status@example.org}\n")})
    build(root, root / "public", "2026-11-30T12:00:00+01:00")
    serving = serve_with_headers(root / "public", site_port)  # with its _headers: the form posts to another origin
    next(serving)
    try:
        yield root, site_port, service_port
    finally:
        serving.close()


def test_a_reader_subscribes_on_the_site_and_confirms_through_the_email(static_site: tuple[Path, int, int]) -> None:
    root, site_port, service_port = static_site
    with SmtpSink() as sink:
        service = Service(root, sink, port=service_port)
        try:
            with sync_api.sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                context = browser.new_context()
                context.add_init_script(VIOLATIONS)
                page = context.new_page()
                violations = lambda: page.evaluate("window.__violations")  # noqa: E731
                response = page.goto(f"http://127.0.0.1:{site_port}/subscribe/")
                assert response and f"form-action http://127.0.0.1:{service_port}/subscriptions/;" in (
                    response.headers["content-security-policy"])
                assert violations() == []
                page.get_by_label("Email address").fill("reader@partner.example")
                page.get_by_label("Mobile app").check()
                page.get_by_role("button", name="Subscribe").click()
                page.wait_for_url(f"http://127.0.0.1:{service_port}/subscriptions/subscribe")
                assert page.locator("h1").inner_text().strip()
                assert violations() == []  # the service's page under the service's own policy
                assert sink.wait_for(1), "no confirmation email arrived"
                (message,) = sink.to("reader@partner.example")
                text = message.get_body(("plain",)).get_content()
                link = re.search(rf"http://127\.0\.0\.1:{service_port}/subscriptions/confirm\?token=[\w.\-]+", text)
                assert link, text
                page.goto(link.group(0))
                site, listed = load_site(root)
                store = StoreLocation(path=root / ".statusgen" / "subscriptions.db")
                assert audience(site, listed, store) == ()  # a GET confirms nothing
                assert violations() == []
                page.locator("form button[type=submit]").click()
                page.wait_for_load_state()
                assert violations() == []
                browser.close()
            subscribers = audience(site, listed, store)
            assert [(s.email, s.components) for s in subscribers] == [("reader@partner.example", ("dcc-app",))]
        finally:
            service.stop()


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def axe_violations(page: sync_api.Page) -> list[dict[str, Any]]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]})
    return [{"id": v["id"], "nodes": [n["html"][:120] for n in v["nodes"][:3]]} for v in results.response["violations"]]


def test_the_webhook_tab_works_without_javascript_and_axe_finds_nothing(static_site: tuple[Path, int, int]) -> None:
    from tests.test_webhook_subscriptions import Receiver

    root, site_port, service_port = static_site
    receiver = Receiver()
    with SmtpSink() as sink:
        service = Service(root, sink, env={"STATUSGEN_WEBHOOK_ALLOW_NETS": "127.0.0.0/8"}, port=service_port)
        try:
            with sync_api.sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                plain = browser.new_context(java_script_enabled=False).new_page()  # the visitor, without script
                plain.goto(f"http://127.0.0.1:{site_port}/subscribe/")
                plain.get_by_role("link", name=re.compile("webhook or chat channel")).click()
                assert plain.get_by_role("heading", level=1).inner_text() == "Updates to a webhook or chat channel"
                assert plain.get_by_role("link", name="Webhook or chat").get_attribute("aria-current") == "page"
                plain.get_by_label("Webhook URL").fill("https://10.0.0.1/hooks/desk")
                plain.get_by_label("Contact email address").fill("ops@partner.example")
                plain.get_by_label("Mobile app").check()
                plain.get_by_role("button", name="Subscribe the webhook").click()
                url_field = plain.get_by_label("Webhook URL")
                assert url_field.get_attribute("aria-invalid") == "true"
                assert "10.0.0.1 is a private or local address" in plain.locator("#url-problem").inner_text()
                assert plain.get_by_label("Mobile app").is_checked()  # the choices survive the refusal
                url_field.fill(receiver.url())
                plain.get_by_role("button", name="Subscribe the webhook").click()
                assert plain.get_by_role("heading", level=1).inner_text() == "Check your email"

                assert sink.wait_for(1), "no confirmation email arrived"
                (message,) = sink.to("ops@partner.example")
                text = message.get_body(("plain",)).get_content()
                link = re.search(rf"http://127\.0\.0\.1:{service_port}/subscriptions/confirm\?token=[\w.\-]+", text)
                assert link, text

                checked = browser.new_context(bypass_csp=True).new_page()  # axe needs script: injected by the test
                for path in ("webhook?lang=nl", "webhook?lang=en"):
                    checked.goto(f"http://127.0.0.1:{service_port}/subscriptions/{path}")
                    assert axe_violations(checked) == [], path
                checked.get_by_label("Webhook URL").fill("https://127.0.0.1/x")
                checked.get_by_role("button", name="Subscribe the webhook").click()
                assert axe_violations(checked) == [], "the refused form"
                checked.goto(link.group(0))
                assert axe_violations(checked) == [], "the confirmation button"
                checked.get_by_role("button", name="Confirm the webhook").click()
                assert checked.get_by_role("heading", level=1).inner_text() == "Your webhook is subscribed"
                secret = checked.locator("#secret").inner_text()
                assert secret.startswith("whsec_") and len(receiver.received) == 1
                receiver.received[0].verified(secret)
                assert axe_violations(checked) == [], "the page with the secret"
                browser.close()
        finally:
            service.stop()
            receiver.close()
