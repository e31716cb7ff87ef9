"""A reader subscribes in a real browser: the static site's form, the service, the email."""

from __future__ import annotations

import functools
import re
import socket
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
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
from tests.test_subscriptions import Service

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *_: Any) -> None:
        pass


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
    handler = functools.partial(_Quiet, directory=str(root / "public"))
    server = ThreadingHTTPServer(("127.0.0.1", site_port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, site_port, service_port
    finally:
        server.shutdown()
        server.server_close()


def test_a_reader_subscribes_on_the_site_and_confirms_through_the_email(static_site: tuple[Path, int, int]) -> None:
    root, site_port, service_port = static_site
    with SmtpSink() as sink:
        service = Service(root, sink, port=service_port)
        try:
            with sync_api.sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{site_port}/subscribe/")
                page.get_by_label("Email address").fill("reader@partner.example")
                page.get_by_label("Mobile app").check()
                page.get_by_role("button", name="Subscribe").click()
                page.wait_for_url(f"http://127.0.0.1:{service_port}/subscriptions/subscribe")
                assert page.locator("h1").inner_text().strip()
                assert sink.wait_for(1), "no confirmation email arrived"
                (message,) = sink.to("reader@partner.example")
                text = message.get_body(("plain",)).get_content()
                link = re.search(rf"http://127\.0\.0\.1:{service_port}/subscriptions/confirm\?token=[\w.\-]+", text)
                assert link, text
                page.goto(link.group(0))
                site, listed = load_site(root)
                store = StoreLocation(path=root / ".statusgen" / "subscriptions.db")
                assert audience(site, listed, store) == ()  # a GET confirms nothing
                page.locator("form button[type=submit]").click()
                page.wait_for_load_state()
                browser.close()
            subscribers = audience(site, listed, store)
            assert [(s.email, s.components) for s in subscribers] == [("reader@partner.example", ("dcc-app",))]
        finally:
            service.stop()
