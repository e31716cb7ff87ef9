"""The published site keeps to its own Content-Security-Policy, in a real browser.

The built example site is served on 127.0.0.1 with the headers of its `_headers`, applied
as Netlify and Cloudflare Pages apply them (`tests/siteheaders.py`), and Debian's Chromium
loads every kind of page, in both languages, with live.js polling summary.json: no page may
report a `securitypolicyviolation`, log a console error or lose a request. The partners'
banner runs on a page under the same strict policy and must come out styled. A negative
control (a page with an inline script, an inline style and an `eval`, under the same
headers) proves the detector hears violations. A quick check over every built HTML and
SVG file with a real HTML parser finds inline code the browser might not reach.
"""

from __future__ import annotations

import html.parser
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright import sync_api

from statusgen.authoring.serve import EVENTS
from statusgen.markup import render_markdown
from statusgen.site.build import BuildResult, build
from statusgen.site.seo import content_security_policy
from tests.conftest import EXAMPLE_NOW
from tests.siteheaders import VIOLATIONS, serve_with_headers
from tests.test_incremental import copy_example
from tests.test_serve import PAGE as PREVIEW_PAGE, TITLE, Server, original, server, write  # noqa: F401 (a fixture)
from tests.test_subscribe_browser import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

KINDS = {
    "home": "",
    "incident": "incidents/2026-11-03-pdf-certificates-unavailable/",
    "maintenance": "incidents/2026-12-06-gateway-and-signing-network-upgrade/",
    "component": "components/dcc-app/",
    "group": "components/eu-dcc/",
    "history": "history/",
    "subscribe": "subscribe/",
    "availability": "availability/",
    "content page": "help/",
    "badge": "badge.svg",
}
LANGUAGES = {"nl": "", "en": "en/"}
PAGES = [pytest.param(prefix + path, id=f"{kind}-{lang}") for lang, prefix in LANGUAGES.items()
         for kind, path in KINDS.items()]

PARTNER = "/partner-portal/"
"""A page of a partner's portal with the banner, under the status site's own strict policy."""
PARTNER_PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Partner portal</title>
<script src="/embed/banner.js" async></script></head>
<body><h1>Partner portal</h1><p>Welcome.</p></body></html>
"""
CONTROL = "/negative-control/"
CONTROL_PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>before</title>
<link rel="stylesheet" href="/static/style.css"></head>
<body><p style="color: red">inline style</p>
<script>document.title = "inline script ran";</script>
<script src="/negative-control.js"></script></body></html>
"""
CONTROL_SCRIPT = b"""try { eval("document.title = 'eval ran'"); } catch (e) {}\n"""


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The example site built for the address the test serves it at, as it is published at
    its own `base_url` (the 404 page links by absolute URL)."""
    folder = tmp_path_factory.mktemp("csp")
    site = copy_example(folder / "site")
    port = free_port()
    config = site / "content" / "site.yaml"
    text = config.read_text(encoding="utf-8")
    assert "base_url: https://status.example.org/\n" in text
    config.write_text(text.replace("base_url: https://status.example.org/", f"base_url: http://127.0.0.1:{port}/"),
                      encoding="utf-8")
    return build(site, folder / "public", EXAMPLE_NOW, folder / "snapshot.json")


@pytest.fixture(scope="module")
def site_url(published: BuildResult) -> Iterator[str]:
    extra = {PARTNER: ("text/html; charset=utf-8", PARTNER_PAGE), CONTROL: ("text/html; charset=utf-8", CONTROL_PAGE),
             "/negative-control.js": ("text/javascript", CONTROL_SCRIPT)}
    port = urlsplit(published.site.config.base_url).port
    serving = serve_with_headers(published.out_dir, port, extra)
    try:
        yield next(serving)
    finally:
        serving.close()


@pytest.fixture(scope="module")
def context() -> Iterator[Any]:
    assert CHROMIUM.exists(), f"no Chromium at {CHROMIUM}: apt-get install chromium"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context()
        context.add_init_script(VIOLATIONS)
        yield context
        browser.close()


NOT_FOUND = "Failed to load resource: the server responded with a status of"
"""How Chromium logs an answer of 400 or more: each is listed with its URL instead."""


class Visit:
    """One page load, with everything that went wrong on it, one readable line each."""

    def __init__(self, context: Any, url: str) -> None:
        self.page = context.new_page()
        self.problems: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and not m.text.startswith(NOT_FOUND)
                     and self.problems.append(f"console: {m.text}"))
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(f"{r.status}: {r.url}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} {r.failure}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        # The build's moment, so that live.js moves no maintenance window on.
        self.page.clock.set_fixed_time(datetime.fromisoformat(EXAMPLE_NOW))
        self.response = self.page.goto(url, wait_until="load")
        self.page.wait_for_load_state("networkidle")

    def violations(self) -> list[str]:
        return self.page.evaluate("window.__violations || []")

    def close(self) -> None:
        self.page.close()


@pytest.mark.parametrize("path", PAGES)
def test_every_kind_of_page_keeps_to_the_policy(context: Any, site_url: str, published: BuildResult,
                                                path: str) -> None:
    visit = Visit(context, site_url + path)
    try:
        assert visit.response.status == 200
        sent = visit.response.headers["content-security-policy"]
        assert sent == content_security_policy(published.site.config)  # the policy was applied
        assert visit.violations() == []
        # An image opened on its own: the browser asks for /favicon.ico, which no page links.
        assert [p for p in visit.problems if not (path.endswith(".svg") and p.endswith("/favicon.ico"))] == []
        if not path.endswith(".svg"):
            assert any(url.endswith("/static/style.css") for url in visit.requests)
            # the stylesheet applied: the skip link is moved out of sight by it
            assert visit.page.locator("a.skip").bounding_box()["x"] < 0
        if path in ("", "en/"):  # live.js ran and read summary.json (connect-src)
            assert any(url.endswith(f"/{path}api/v2/summary.json") for url in visit.requests)
            assert visit.page.locator("[data-live-updated]").is_visible()
    finally:
        visit.close()


def test_a_missing_page_is_the_404_page_under_the_policy(context: Any, site_url: str) -> None:
    visit = Visit(context, site_url + "no/such/page/")
    try:
        assert visit.response.status == 404 and visit.response.headers["x-frame-options"] == "DENY"
        assert visit.violations() == []
        assert visit.problems == [f"404: {site_url}no/such/page/"]  # the page's own status, nothing else
    finally:
        visit.close()


def test_the_banner_works_on_a_page_with_a_strict_policy(context: Any, site_url: str) -> None:
    visit = Visit(context, site_url + PARTNER.lstrip("/"))
    try:
        assert "style-src 'self'" in visit.response.headers["content-security-policy"]
        banner = visit.page.locator("statusgen-banner .b")  # Playwright's locators pierce the shadow root
        banner.wait_for(timeout=10_000)
        colours = banner.evaluate("e => [getComputedStyle(e).display, getComputedStyle(e).backgroundColor]")
        assert colours == ["flex", "rgb(255, 244, 214)"]  # the banner's own styles applied (r2: a minor incident)
        assert visit.violations() == [] and visit.problems == []
    finally:
        visit.close()


def test_the_detector_hears_an_inline_script_an_inline_style_and_eval(context: Any, site_url: str) -> None:
    """The negative control: the same headers, a page that breaks them three ways."""
    visit = Visit(context, site_url + CONTROL.lstrip("/"))
    try:
        found = visit.violations()
        directives = sorted(line.partition(":")[0] for line in found)
        assert directives == ["script-src", "script-src-elem", "style-src-attr"], found
        assert visit.page.title() == "before"  # neither the inline script nor eval ran
        assert any("Content Security Policy" in problem for problem in visit.problems), visit.problems
    finally:
        visit.close()


class _InlineCode(html.parser.HTMLParser):
    """Collects what a policy without 'unsafe-inline' refuses: inline scripts, `<style>`
    elements, `style` attributes, `on...` handlers and `javascript:` URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "style":
            self.found.append("<style>")
        if tag == "script" and "src" not in names:
            self.found.append("inline <script>")
        self.found += [f"{name}= on <{tag}>" for name in sorted(names) if name == "style" or name.startswith("on")]
        self.found += [f"javascript: URL on <{tag}>" for _, value in attrs
                       if value and value.strip().lower().startswith("javascript:")]

    handle_startendtag = handle_starttag


def test_no_built_page_or_image_has_inline_code(published: BuildResult) -> None:
    checked = 0
    for path, content in published.outputs.items():
        if path.endswith((".html", ".svg")):
            parser = _InlineCode()
            parser.feed(content.decode("utf-8"))
            assert parser.found == [], path
            checked += 1
    assert checked > 80


def test_the_preview_keeps_to_the_policy_and_still_reloads_and_shows_errors(context: Any, server: Server) -> None:
    """`statusgen serve` sends the site's policy; its live-reload script (a file, not inline)
    still shows a broken build's errors over the page and reloads after the fix."""
    visit = Visit(context, server.url + PREVIEW_PAGE)
    try:
        assert "script-src 'self'" in visit.response.headers["content-security-policy"]
        text = original(server)
        write(server, text.replace("impact: P1", "impact: P9"))
        errors = visit.page.locator("#statusgen-errors")
        errors.wait_for(timeout=30_000)
        assert "impact: expected one of" in errors.inner_text()
        assert errors.evaluate("e => getComputedStyle(e).position") == "fixed"  # its CSSOM styles applied
        with visit.page.expect_navigation(timeout=30_000):  # the fixed build reloads the page
            write(server, text.replace(TITLE, "en: Certificates as PDF were unavailable"))
        assert "Certificates as PDF were unavailable" in visit.page.locator("h1").inner_text()
        # the reload ends the first page's event stream: the only request that may fail
        assert visit.violations() == [] and [p for p in visit.problems if EVENTS not in p] == []
    finally:
        visit.close()


def test_a_markdown_tables_alignment_survives_without_a_style_attribute() -> None:
    """Python-Markdown writes `style="text-align: ..."`, which the sanitiser dropped (and the
    policy would refuse): the column lost its alignment. It is written as `align` now."""
    table = str(render_markdown("| Priority | Hours |\n|:--|--:|\n| P1 | 1 |"))
    assert '<th align="left">Priority</th>' in table and '<td align="right">1</td>' in table
    assert "style" not in table
