"""live.js: pages that stay current between builds, in Debian's Chromium.

A small site in four languages is built several times at the same moment: as it is
(`base`), with an incident just opened, made worse, and resolved, and once a minute into
a maintenance window. The browser opens a `base` page; the test server then answers that
page's `api/v2/summary.json` with another build's copy (what the next build will
publish), and the test checks that the page shows it within the poll interval
(`live.interval: 1`), says it in the live region, and shows it as that next build does.
Every response carries `Content-Security-Policy: default-src 'self'`; the browser's clock
is Playwright's, set to the build's moment, so maintenance windows move when the test
says.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

from statusgen.content.load import load_site
from statusgen.errors import ContentErrors
from statusgen.site.build import build
from tests.conftest import COMPONENTS_YAML, ROOT, MakeSite

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
CSP = "default-src 'self'"
NOW = datetime.fromisoformat("2026-11-30T12:00:00+01:00")
START, END = NOW + timedelta(minutes=10), NOW + timedelta(minutes=70)
SITE = """\
title: {en: Example status, nl: Voorbeeldstatus, fr: Statut, de: Status}
base_url: https://status.example.org/
languages: [nl, en, fr, de]
timezone: Europe/Brussels
live: {interval: 1}
"""
MAINTENANCE = """\
---
title: {en: Portal upgrade, nl: Upgrade van het portaal}
type: maintenance
components: [lookup-portal]
window: {start: 2026-11-30 12:10, end: 2026-11-30 13:10}
---
"""
UPDATES = [
    """\
  - at: 2026-11-30 11:50
    status: investigating
    body: {en: We are investigating., nl: We onderzoeken het.}
""",
    """\
  - at: 2026-11-30 11:55
    status: identified
    components: {dcc-certificates: major_outage}
    body: {en: The certificate store is down., nl: De certificaatopslag ligt plat.}
""",
    """\
  - at: 2026-11-30 11:58
    status: resolved
    body: Fixed.
""",
]
OUTAGE = """\
---
title: {{en: Certificates cannot be downloaded, nl: Certificaten niet downloadbaar}}
type: incident
impact: major
components: {{dcc-certificates: partial_outage}}
updates:
{updates}---
"""
BUILDS = {"base": 0, "opened": 1, "worse": 2, "resolved": 3}
"""Each build and how many of the incident's updates it has (0: no incident)."""
WORDS = {lang: yaml.safe_load((ROOT / "site_templates" / "i18n" / f"{lang}.yaml").read_text(encoding="utf-8"))
         for lang in ("nl", "en")}
PREFIX = {"nl": "", "en": "en/"}
NETWORK_LOG = re.compile(r"^Failed to load resource: ")
"""How Chromium itself logs a request that failed or got an error status, whoever made it."""


# --- the server -----------------------------------------------------------------------

class _Handler(SimpleHTTPRequestHandler):
    server: LiveServer

    def __init__(self, request: Any, client_address: Any, server: LiveServer) -> None:
        super().__init__(request, client_address, server, directory=str(server.root))

    def do_GET(self) -> None:
        path = self.path.split("?")[0].lstrip("/")
        if not path.endswith("api/v2/summary.json"):
            return super().do_GET()
        server = self.server
        server.requests.append((path, self.headers.get("If-None-Match")))
        if server.mode == "500":
            return self.answer(500, b"Internal Server Error", "text/plain")
        if server.mode == "hang":
            server.released.wait(timeout=30)
            return None
        if server.mode == "bad":
            return self.answer(200, b'{"components": [ oops', "application/json")
        body = server.summaries.get(path) or (server.root / path).read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            server.not_modified += 1
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return None
        return self.answer(200, body, "application/json", etag)

    def answer(self, status: int, body: bytes, kind: str, etag: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        if etag:
            self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class LiveServer(ThreadingHTTPServer):
    """The builds under one root on 127.0.0.1; summary.json as the test says."""

    daemon_threads = True

    def __init__(self, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root
        self.mode = "serve"
        self.summaries: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.not_modified = 0
        self.released = threading.Event()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def publish(self, build_name: str, onto: str = "base") -> None:
        """The summaries `onto`'s pages read become those of another build (as after a deploy)."""
        for lang in ("nl", "en", "fr", "de"):
            path = ("" if lang == "nl" else f"{lang}/") + "api/v2/summary.json"
            self.summaries[f"{onto}/{path}"] = (self.root / build_name / path).read_bytes()

    def stop(self) -> None:
        self.released.set()
        self.shutdown()
        self.server_close()
        self.thread.join()


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built at NOW as BUILDS say, and at the start of the window (`started`)."""
    root = tmp_path_factory.mktemp("live-builds")
    for name, count in [*BUILDS.items(), ("started", 0)]:
        site = tmp_path_factory.mktemp(f"live-site-{name}")
        files = {"content/site.yaml": SITE, "components.yaml": COMPONENTS_YAML,
                 "incidents/portal-upgrade.md": MAINTENANCE}
        if count:
            files["incidents/outage.md"] = OUTAGE.format(updates="".join(UPDATES[:count]))
        for path, text in files.items():
            (site / path).parent.mkdir(parents=True, exist_ok=True)
            (site / path).write_text(text, encoding="utf-8")
        build(site, root / name, START + timedelta(minutes=1) if name == "started" else NOW)
    return root


@pytest.fixture
def server(builds: Path) -> Iterator[LiveServer]:
    running = LiveServer(builds)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Tab:
    page: Page
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def main(self) -> str:
        return str(self.page.locator("main").evaluate("m => m.outerHTML"))


OpenTab = Callable[..., Tab]


@pytest.fixture
def open_tab(browser: Browser, server: LiveServer) -> Iterator[OpenTab]:
    """`open_tab(path, at=NOW + 30 s, javascript=True)`: a page of the builds, its clock at `at`."""
    contexts = []

    def open_page(path: str, at: datetime = NOW + timedelta(seconds=30), javascript: bool = True) -> Tab:
        context = browser.new_context(java_script_enabled=javascript)
        contexts.append(context)
        page = context.new_page()
        tab = Tab(page)
        page.on("console", lambda m: m.type in ("error", "warning", "assert") and tab.console.append(m.text))
        page.on("pageerror", lambda error: tab.errors.append(str(error)))
        page.clock.install(time=at)
        page.goto(server.url + path, wait_until="load")
        return tab

    yield open_page
    for context in contexts:
        context.close()


def axe_violations(page: Page) -> list[str]:
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS},
                                       "resultTypes": ["violations"]})
    return [f"{v['id']}: {[n['html'][:120] for n in v['nodes'][:3]]}" for v in results.response["violations"]]


def words(lang: str, key: str, **values: str) -> str:
    message: Any = WORDS[lang]
    for part in key.split("."):
        message = message[part]
    return str(message).format(**values)


def flat(text: str) -> str:
    return " ".join(text.split())


# --- the tests --------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["nl", "en"])
def test_an_incident_opens_worsens_and_resolves_while_the_page_is_open(
        server: LiveServer, open_tab: OpenTab, builds: Path, lang: str) -> None:
    tab = open_tab("base/" + PREFIX[lang])
    page = tab.page
    region, updated = page.locator("[data-live-region]"), page.locator("[data-live-updated]")
    title = {"nl": "Certificaten niet downloadbaar", "en": "Certificates cannot be downloaded"}[lang]
    pdf = {"nl": "Certificaten (PDF)", "en": "Certificates (PDF)"}[lang]
    certificates = page.locator(".component-head", has_text=pdf).locator(".status")
    expect(updated).to_be_visible(timeout=5_000)
    expect(updated).to_have_text(re.compile("^" + re.escape(words(lang, "live.updated", time="")) + r"\d\d:\d\d$"))
    expect(page.locator("[data-live-section=active]")).to_have_count(0)

    server.publish("opened")
    active = page.locator("[data-live-section=active]")
    expect(active.locator("article h3")).to_have_text(title, timeout=3_000)
    expect(region).to_contain_text(words(lang, "live.opened", title=title))
    expect(certificates).to_have_class("status s-partial_outage")
    expect(certificates).to_have_text(words(lang, "component_status.partial_outage"))
    expect(page.locator("[data-live-overall]")).to_have_class(re.compile(r"\bind-major\b"))
    link = active.locator("article h3 a").get_attribute("href")
    assert link == server.url + "base/" + PREFIX[lang] + "incidents/outage/"
    assert (builds / "opened" / PREFIX[lang] / "incidents" / "outage" / "index.html").is_file()
    # Where and as the next build shows it: the same heading, words, time and latest update.
    built = open_tab("opened/" + PREFIX[lang]).page
    for part in ("h2", "article h3", "article .meta", "article .latest"):
        assert flat(active.locator(part).inner_text()) == \
            flat(built.locator("[data-live-section=active]").locator(part).inner_text()), part
    assert axe_violations(page) == []

    server.publish("worse")
    expect(certificates).to_have_class("status s-major_outage", timeout=3_000)
    expect(certificates).to_have_text(words(lang, "component_status.major_outage"))
    component = words(lang, "live.component", name=pdf, status=words(lang, "component_status.major_outage"))
    expect(region).to_contain_text(component)
    expect(region).to_contain_text(words(lang, "live.changed", title=title, status=words(lang, "status.identified")))
    expect(active.locator(".label")).to_have_text(words(lang, "status.identified"))
    expect(active.locator(".latest")).to_contain_text(
        {"nl": "De certificaatopslag ligt plat.", "en": "The certificate store is down."}[lang])
    expect(page.locator("[data-live-overall] h2")).to_have_text(words(lang, "indicator.critical"))
    assert axe_violations(page) == []

    server.publish("resolved")
    expect(active).to_have_count(0, timeout=3_000)
    expect(region).to_contain_text(words(lang, "live.resolved", title=title))
    expect(certificates).to_have_class("status s-operational")
    expect(page.locator("[data-live-overall]")).to_have_class(re.compile(r"\bind-none\b"))
    expect(page.locator("[data-live-overall] h2")).to_have_text(words(lang, "indicator.none"))
    assert axe_violations(page) == []
    assert tab.console == [] and tab.errors == []


def test_a_maintenance_window_starts_by_the_clock_without_a_rebuild(
        server: LiveServer, open_tab: OpenTab, builds: Path) -> None:
    tab = open_tab("base/en/", at=START - timedelta(seconds=6))
    incident_page = open_tab("base/en/incidents/portal-upgrade/", at=START - timedelta(seconds=6)).page
    page = tab.page
    upgrade = page.locator("article", has_text="Portal upgrade")
    expect(page.locator("[data-live-section=upcoming] .label")).to_have_text("Scheduled")
    expect(page.locator("[data-live-section=in-progress]")).to_have_count(0)

    in_progress = page.locator("[data-live-section=in-progress]")
    expect(in_progress.locator(".label")).to_have_text("In progress", timeout=12_000)
    expect(page.locator("[data-live-section=upcoming]")).to_have_count(0)
    expect(page.locator("[data-live-region]")).to_contain_text("Maintenance started: Portal upgrade")
    expect(incident_page.locator("dd[data-live-status] .label")).to_have_text("In progress", timeout=12_000)
    assert server.summaries == {}  # summary.json still says "scheduled": the clock did it
    # As the build a minute into the window shows it: the same section, heading and words.
    built = open_tab("started/en/", at=START + timedelta(minutes=1)).page
    built_section = built.locator("[data-live-section=in-progress]")
    assert flat(in_progress.locator("h2").inner_text()) == flat(built_section.locator("h2").inner_text())
    for part in ("h3", ".meta", ".window"):
        assert flat(upgrade.locator(part).inner_text()) == flat(built_section.locator(f"article {part}").inner_text())
    assert axe_violations(page) == []
    assert tab.console == [] and tab.errors == []


def test_a_window_ends_by_the_clock(open_tab: OpenTab) -> None:
    tab = open_tab("base/", at=END - timedelta(seconds=2))  # built before the window: "scheduled"
    page = tab.page
    expect(page.locator("[data-live-section=in-progress] .label")).to_have_count(1, timeout=3_000)
    expect(page.locator("[data-live-section=in-progress]")).to_have_count(0, timeout=6_000)
    expect(page.locator("[data-live-section=upcoming]")).to_have_count(0)
    expect(page.locator("[data-live-region]")).to_contain_text("Onderhoud voltooid: Upgrade van het portaal")
    expect(page.locator("article[data-live-window]", has_text="Upgrade van het portaal")).to_have_count(0)
    assert tab.console == [] and tab.errors == []


@pytest.mark.parametrize("failure", ["500", "hang", "bad"])
def test_an_unreachable_api_leaves_the_page_as_built(server: LiveServer, open_tab: OpenTab, failure: str) -> None:
    server.mode = failure
    still = open_tab("base/", javascript=False)
    tab = open_tab("base/")
    page = tab.page
    first = tab.main()
    page.wait_for_timeout(7_000 if failure == "hang" else 3_500)  # a hanging request is cut off after 5 s
    assert tab.main() == first == still.main()
    expect(page.locator("[data-live-updated]")).to_be_hidden()
    assert page.locator("[data-live-region]").inner_text() == ""
    assert tab.errors == []
    assert all(NETWORK_LOG.match(text) for text in tab.console), tab.console
    asked = [path for path, _ in server.requests]
    assert asked and set(asked) == {"base/api/v2/summary.json"}
    if failure == "500":  # 0 s, 2 s after, 4 s after that: backing off, not once a second
        assert len(asked) <= 3, asked


def test_an_unchanged_summary_is_not_sent_again(server: LiveServer, open_tab: OpenTab) -> None:
    tab = open_tab("base/en/")
    page = tab.page
    expect(page.locator("[data-live-updated]")).to_be_visible(timeout=5_000)
    first = tab.main()
    page.wait_for_timeout(3_000)
    tags = [tag for _, tag in server.requests]
    assert tags[0] is None and len(tags) >= 3 and len(set(tags[1:])) == 1 and tags[1], tags
    assert server.not_modified >= 2
    assert tab.main() == first
    assert tab.console == [] and tab.errors == []


def test_a_hidden_tab_does_not_poll_and_catches_up_when_shown(server: LiveServer, open_tab: OpenTab) -> None:
    tab = open_tab("base/")
    page = tab.page
    expect(page.locator("[data-live-updated]")).to_be_visible(timeout=5_000)
    page.evaluate("""() => { Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
                             document.dispatchEvent(new Event('visibilitychange')); }""")
    page.wait_for_timeout(500)
    asked = len(server.requests)
    server.publish("opened")
    page.wait_for_timeout(2_500)
    assert len(server.requests) == asked
    expect(page.locator("[data-live-section=active]")).to_have_count(0)
    page.evaluate("""() => { Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});
                             document.dispatchEvent(new Event('visibilitychange')); }""")
    expect(page.locator("[data-live-section=active]")).to_have_count(1, timeout=1_000)


@pytest.mark.parametrize("path", ["base/", "base/en/components/dcc-certificates/", "base/incidents/portal-upgrade/"])
def test_without_javascript_the_page_is_as_built(server: LiveServer, open_tab: OpenTab, builds: Path,
                                                 path: str) -> None:
    tab = open_tab(path, javascript=False)
    page = tab.page
    assert server.requests == []
    html = (builds / path / "index.html").read_text(encoding="utf-8")
    assert 'src="' in html and "live.js\" defer></script>" in html
    assert re.search(r'<p class="live-updated" data-live-updated hidden></p>', html)
    assert re.search(r'<div class="visually-hidden" data-live-region aria-live="polite"></div>', html)
    expect(page.locator("[data-live-updated]")).to_be_hidden()
    assert page.locator("[data-live-region]").inner_text() == ""
    # The same DOM as with JavaScript on while the API is down.
    server.mode = "500"
    live = open_tab(path)
    live.page.wait_for_timeout(1_500)
    assert live.main() == tab.main()


def test_the_component_and_incident_pages_follow_too(server: LiveServer, open_tab: OpenTab) -> None:
    component = open_tab("base/en/components/dcc-certificates/").page
    group = open_tab("base/en/components/eu-dcc/").page
    server.publish("worse")
    for page in (component, group):
        expect(page.locator("main p[data-live-component] .status")).to_have_class("status s-major_outage",
                                                                                   timeout=3_000)
    expect(group.locator(".component-head", has_text="Certificates (PDF)").locator(".status")) \
        .to_have_text("Major outage")
    incident = open_tab("opened/en/incidents/outage/").page  # built while investigating
    expect(incident.locator("dd[data-live-status] .label")).to_have_text("Investigating")
    server.publish("resolved", onto="opened")
    expect(incident.locator("dd[data-live-status] .label")).to_have_text("Resolved", timeout=3_000)


def test_the_script_is_small_and_in_every_language(builds: Path) -> None:
    for prefix in ("", "en/", "fr/", "de/"):
        script = (builds / "base" / prefix / "live.js").read_bytes()
        assert len(script) <= 6 * 1024, (prefix, len(script))
        assert b"/*CONFIG*/" not in script and b"\n//" not in script and script.decode("utf-8")
        assert len(gzip.compress(script)) < 3 * 1024
    assert b"Bijgewerkt om" in (builds / "base" / "live.js").read_bytes()
    assert "Mis à jour à {t}".encode() in (builds / "base" / "fr" / "live.js").read_bytes()


def test_the_same_input_gives_the_same_script(builds: Path) -> None:
    first = (builds / "base" / "live.js").read_bytes()
    assert first == (builds / "opened" / "live.js").read_bytes()  # incidents do not change it


@pytest.mark.parametrize("setting", ["live: {interval: 0}", "live: false"])
def test_live_off_leaves_the_script_out(make_site: MakeSite, tmp_path: Path, setting: str) -> None:
    site = make_site({"content/site.yaml": SITE.replace("live: {interval: 1}", setting)})
    out = tmp_path / "out"
    build(site, out, NOW)
    assert not list(out.rglob("live.js"))
    for page in out.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "live.js" not in text and "data-live-region" not in text, page


def test_live_is_on_by_default_every_minute(make_site: MakeSite) -> None:
    site = make_site({"content/site.yaml": SITE.replace("live: {interval: 1}\n", "")})
    assert load_site(site)[0].config.live_seconds == 60


@pytest.mark.parametrize(("setting", "message"), [
    ("live: {interval: -5}", "content/site.yaml:5: live.interval: expected a whole number of seconds of at least 1, "
                             "or 0 to turn the live updates off; found -5"),
    ("live: {interval: '60'}", "content/site.yaml:5: live.interval: expected a whole number of seconds of at "
                               "least 1, or 0 to turn the live updates off; found '60'"),
    ("live: {interval: 1.5}", "content/site.yaml:5: live.interval: expected a whole number of seconds of at "
                              "least 1, or 0 to turn the live updates off; found 1.5"),
    ("live: {interval: true}", "content/site.yaml:5: live.interval: expected a whole number of seconds of at "
                               "least 1, or 0 to turn the live updates off; found True"),
    ("live: 30", "content/site.yaml:5: live: expected a mapping such as {interval: 60}, or false; found 30"),
    ("live:\n  every: 5", "content/site.yaml:6: unknown key 'every'; expected one of interval"),
])
def test_a_bad_live_setting_names_its_line(make_site: MakeSite, setting: str, message: str) -> None:
    site = make_site({"content/site.yaml": SITE.replace("live: {interval: 1}", setting)})
    with pytest.raises(ContentErrors) as raised:
        load_site(site)
    assert [str(e) for e in raised.value.errors] == [message]


def test_the_interval_reaches_the_script(make_site: MakeSite, tmp_path: Path) -> None:
    site = make_site({"content/site.yaml": SITE.replace("interval: 1", "interval: 90")})
    build(site, tmp_path / "out", NOW)
    assert b'"i":90' in (tmp_path / "out" / "live.js").read_bytes()
