"""embed/banner.js in a real browser: a status site and a partner's page on two local servers.

The status site is built with `base_url` pointing at its own server, so the banner reads
the real `api/v2/summary.json` across origins, as it does on a partner's portal.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from statusgen.site.build import BuildResult, build, render
from statusgen.site.embed import BANNER
from statusgen.errors import BuildError
from tests.conftest import EXAMPLE_NOW, MakeSite

NOW = EXAMPLE_NOW
SITE_YAML = """\
title: {{en: Example status, nl: Voorbeeldstatus}}
base_url: {base_url}
languages: [{languages}]
timezone: Europe/Brussels
"""
API_DOWN = """\
---
title: {en: The API is down, nl: De API is onbereikbaar}
type: incident
impact: major
components:
  dcc-certificates: major_outage
updates:
  - at: 2026-11-30 09:00
    status: investigating
    body: Looking.
  - at: 2026-11-30 09:30
    status: identified
    body: Found it.
"""
APP_SLOW = """\
---
title: {en: The app is slow, nl: De app is traag}
type: incident
impact: minor
components:
  dcc-app: degraded_performance
updates:
  - at: 2026-11-30 10:00
    status: investigating
    body: Looking.
---
"""
PORTAL_UPGRADE = """\
---
title: {en: Portal upgrade, nl: Upgrade van het portaal}
type: maintenance
components:
  lookup-portal: under_maintenance
window:
  start: 2026-11-30 11:00
  end: 2026-11-30 13:00
---
"""
OLD_OUTAGE = """\
---
title: Yesterday's outage
type: incident
impact: critical
components:
  dcc-app: major_outage
updates:
  - at: 2026-11-29 09:00
    status: investigating
    body: Looking.
  - at: 2026-11-29 10:00
    status: resolved
    body: Fixed.
---
"""
ACTIVE = {"incidents/2026-11-30-api-down.md": API_DOWN + "---\n",
          "incidents/2026-11-30-app-slow.md": APP_SLOW,
          "incidents/2026-11-30-portal-upgrade.md": PORTAL_UPGRADE}
CALM = {"incidents/2026-11-29-old-outage.md": OLD_OUTAGE}
NEW_UPDATE = """\
  - at: 2026-11-30 11:50
    status: monitoring
    body: A fix is in place.
---
"""
HOST_PAGE = """\
<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>Partner portal</title>
<link rel="icon" href="data:,">
<style>
  /* A partner's own, careless styles: they must not reach into the banner. */
  p, a, div, span, button {{ color: #ff00ff; background: #00ff00; font-size: 30px; }}
</style>
<script src="{script}" async></script>
</head>
<body>
<h1>Partner portal</h1>
<p>Welcome.</p>
<button id="own" type="button">Count</button> <span id="count">0</span>
<script>
  document.getElementById("own").addEventListener("click", () => {{
    const count = document.getElementById("count");
    count.textContent = Number(count.textContent) + 1;
  }});
</script>
</body>
</html>
"""
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
NETWORK_FAILURE = re.compile(r"^Failed to load resource: net::ERR_")
"""How Chromium itself logs a request that got no answer, whoever made it."""


class _Handler(SimpleHTTPRequestHandler):
    server: StaticServer

    def __init__(self, request: Any, client_address: Any, server: StaticServer) -> None:
        super().__init__(request, client_address, server, directory=str(server.root))

    def do_GET(self) -> None:
        if "/api/" in self.path and self.server.api_failure:
            return self.fail(self.server.api_failure)
        self.server.requests.append((self.path, dict(self.headers)))
        super().do_GET()

    def fail(self, how: str) -> None:
        if how == "bad_json":
            body = b'{"incidents": [ oops'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif how == "hang":
            self.server.released.wait(timeout=30)
        # "drop": close the connection without an answer

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")  # what _headers asks of real hosts
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class StaticServer(ThreadingHTTPServer):
    """A folder on 127.0.0.1 at an ephemeral port; the folder can change between page loads."""

    daemon_threads = True

    def __init__(self, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = root
        self.api_failure: str | None = None
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.released = threading.Event()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def stop(self) -> None:
        if self.thread.is_alive():
            self.released.set()
            self.shutdown()
            self.server_close()
            self.thread.join()


@dataclass
class StatusSite:
    """The status site's server and a way to (re)build what it serves."""

    server: StaticServer
    make_site: MakeSite
    tmp_path: Path
    builds: int = 0

    def build(self, incidents: dict[str, str], languages: str = "en, nl") -> Path:
        self.builds += 1
        site = self.make_site({
            "content/site.yaml": SITE_YAML.format(base_url=self.server.url, languages=languages),
            **incidents,
        }, name=f"site{self.builds}")
        out = self.tmp_path / f"public{self.builds}"
        build(site, out, NOW)
        self.server.root = out
        return out


@dataclass
class HostPage:
    """A partner's page in a browser tab, with everything that went wrong in it."""

    page: Page
    errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    @property
    def banner(self) -> Locator:
        return self.page.get_by_role("status")

    def settle(self) -> None:
        """Wait until the banner has read the summary (no request for 500 ms)."""
        self.page.wait_for_load_state("networkidle")

    def own_button_works(self) -> None:
        self.page.locator("#own").click()
        expect(self.page.locator("#count")).to_have_text("1")


OpenHost = Callable[[str], HostPage]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def status_site(make_site: MakeSite, tmp_path: Path) -> Iterator[StatusSite]:
    server = StaticServer(tmp_path)
    yield StatusSite(server, make_site, tmp_path)
    server.stop()


@pytest.fixture
def host(tmp_path: Path, status_site: StatusSite) -> Iterator[StaticServer]:
    """A partner's portal on another origin, in English, Dutch and French."""
    folder = tmp_path / "host"
    folder.mkdir()
    for lang in ("en", "nl", "fr"):
        html = HOST_PAGE.format(lang=lang, script=status_site.server.url + BANNER)
        (folder / f"{lang}.html").write_text(html, encoding="utf-8")
    server = StaticServer(folder)
    yield server
    server.stop()


@pytest.fixture
def open_host(browser: Browser, host: StaticServer) -> Iterator[OpenHost]:
    """`open_host("nl")` opens the Dutch host page in a fresh browser session."""
    context = browser.new_context()

    def open_page(lang: str) -> HostPage:
        page = context.new_page()
        opened = HostPage(page)
        page.on("pageerror", lambda error: opened.errors.append(str(error)))
        page.on("console", lambda message: message.type == "error"
                and opened.console_errors.append(message.text))
        page.goto(f"{host.url}{lang}.html")
        return opened

    yield open_page
    assert not context.cookies()
    context.close()


def test_the_banner_shows_the_most_severe_active_incident(status_site: StatusSite, open_host: OpenHost) -> None:
    status_site.build(ACTIVE)
    host = open_host("en")
    banner = host.banner
    expect(banner).to_be_visible()
    link = banner.get_by_role("link", name="The API is down")
    expect(link).to_have_attribute("href", status_site.server.url + "incidents/2026-11-30-api-down/")
    expect(banner).to_contain_text("Current status: Identified.")
    expect(banner.get_by_role("link", name="+2 more")).to_have_attribute("href", status_site.server.url)
    expect(banner.get_by_role("button", name="Dismiss")).to_be_visible()
    assert host.page.evaluate("document.body.firstElementChild.localName") == "statusgen-banner"
    assert not host.errors and not host.console_errors


def test_the_banner_speaks_the_host_pages_language(status_site: StatusSite, open_host: OpenHost) -> None:
    status_site.build(ACTIVE)
    banner = open_host("nl").banner
    link = banner.get_by_role("link", name="De API is onbereikbaar")
    expect(link).to_have_attribute("href", status_site.server.url + "nl/incidents/2026-11-30-api-down/")
    expect(banner).to_contain_text("Huidige status: Oorzaak gevonden.")
    expect(banner.get_by_role("link", name="+2 meer")).to_have_attribute("href", status_site.server.url + "nl/")
    expect(banner.get_by_role("button", name="Sluiten")).to_be_visible()


def test_a_language_the_site_lacks_gets_the_default_one(status_site: StatusSite, open_host: OpenHost) -> None:
    status_site.build(ACTIVE, languages="nl, en")
    banner = open_host("fr").banner
    expect(banner.get_by_role("link", name="De API is onbereikbaar")).to_have_attribute(
        "href", status_site.server.url + "incidents/2026-11-30-api-down/")
    assert "/api/v2/summary.json" in [path for path, _ in status_site.server.requests]


def test_a_maintenance_in_progress_alone(status_site: StatusSite, open_host: OpenHost) -> None:
    status_site.build({"incidents/2026-11-30-portal-upgrade.md": PORTAL_UPGRADE})
    banner = open_host("en").banner
    expect(banner.get_by_role("link", name="Portal upgrade")).to_be_visible()
    expect(banner).to_contain_text("Current status: In progress.")
    expect(banner.get_by_role("link")).to_have_count(1)  # no "+N more"


def test_no_banner_while_everything_is_operational(status_site: StatusSite, open_host: OpenHost) -> None:
    status_site.build(CALM)
    host = open_host("en")
    host.settle()
    assert any(path == "/api/v2/summary.json" for path, _ in status_site.server.requests)
    expect(host.banner).to_have_count(0)
    assert not host.errors and not host.console_errors


def test_a_dismissal_lasts_the_session_until_the_next_update(status_site: StatusSite, open_host: OpenHost) -> None:
    status_site.build(ACTIVE)
    host = open_host("en")
    host.banner.get_by_role("button", name="Dismiss").click()
    expect(host.banner).to_have_count(0)
    host.page.reload()
    host.settle()
    expect(host.banner).to_have_count(0)
    status_site.build({**ACTIVE, "incidents/2026-11-30-api-down.md": API_DOWN + NEW_UPDATE})
    host.page.reload()
    expect(host.banner).to_contain_text("Current status: Monitoring.")


def test_the_banner_is_readable_and_keeps_to_itself(status_site: StatusSite, open_host: OpenHost) -> None:
    status_site.build(ACTIVE)
    host = open_host("en")
    expect(host.banner).to_be_visible()
    colours = host.page.evaluate("""() => {
        const root = document.querySelector("statusgen-banner").shadowRoot;
        const style = selector => getComputedStyle(root.querySelector(selector));
        return {background: style(".b").backgroundColor, text: style("p").color,
                link: style("a").color, size: style("p").fontSize,
                host: getComputedStyle(document.querySelector("body > p")).color};
    }""")
    assert contrast(colours["text"], colours["background"]) >= 4.5
    assert contrast(colours["link"], colours["background"]) >= 4.5
    assert colours["size"] == "15px"  # the host page's `p { font-size: 30px }` stayed out
    assert colours["host"] == "rgb(255, 0, 255)"  # and the banner's styles stayed in


def test_no_cookies_no_referrer(status_site: StatusSite, open_host: OpenHost) -> None:
    status_site.build(ACTIVE)
    expect(open_host("en").banner).to_be_visible()
    summary = [headers for path, headers in status_site.server.requests if path.endswith("summary.json")]
    assert summary and all("Cookie" not in h and "Referer" not in h for h in summary)


def test_the_host_page_survives_when_the_status_site_is_down(status_site: StatusSite, open_host: OpenHost) -> None:
    status_site.build(ACTIVE)
    status_site.server.stop()
    host = open_host("en")
    host.own_button_works()
    host.settle()
    expect(host.banner).to_have_count(0)
    assert not host.errors
    assert all(NETWORK_FAILURE.match(text) for text in host.console_errors), host.console_errors


@pytest.mark.parametrize("failure", ["bad_json", "drop", "hang"])
def test_a_broken_summary_fails_silently(status_site: StatusSite, open_host: OpenHost, failure: str) -> None:
    """The script loads, but the summary is garbage, gets no answer, or never ends (5 s timeout)."""
    status_site.build(ACTIVE)
    status_site.server.api_failure = failure
    host = open_host("en")
    host.own_button_works()
    if failure == "hang":
        with host.page.expect_event("requestfailed", timeout=10_000) as failed:
            pass
        assert failed.value.failure == "net::ERR_ABORTED"
    host.settle()
    expect(host.banner).to_have_count(0)
    assert not host.errors
    assert all(NETWORK_FAILURE.match(text) for text in host.console_errors), host.console_errors


@pytest.mark.parametrize("languages", ["nl, en", "nl, en, fr, de"])
def test_the_script_is_small_and_ascii(make_site: MakeSite, languages: str) -> None:
    base = "https://status.example-of-a-rather-long-host-name.example.org/"
    site = make_site({"content/site.yaml": SITE_YAML.format(base_url=base, languages=languages)})
    script = render(site, NOW)[2][BANNER]
    assert len(script) < 4096
    assert script.isascii()


def test_the_example_sites_script(example_build: BuildResult) -> None:
    script = (example_build.out_dir / BANNER).read_bytes()
    assert len(script) < 4096
    assert b'"b":"https://status.example.org/"' in script


def test_a_site_overrides_the_script_and_its_words(make_site: MakeSite) -> None:
    site = make_site({"site_templates/embed/banner.js": "// a site's own banner\nconsole.log(/*CONFIG*/)\n",
                      "site_templates/i18n/nl.yaml": "embed:\n  dismiss: Wegklikken\n"})
    script = render(site, NOW)[2][BANNER].decode()
    assert script.startswith('console.log({"a":"api/v2/summary.json","b":"https://status.example.org/"')
    assert '"x":"Wegklikken"' in script and '"x":"Dismiss"' in script


def test_a_script_without_its_settings_slot_is_an_error(make_site: MakeSite) -> None:
    site = make_site({"site_templates/embed/banner.js": "console.log(1)\n"})
    with pytest.raises(BuildError, match=r"banner.js: expected /\*CONFIG\*/ exactly once, where the settings go"):
        render(site, NOW)


def contrast(one: str, other: str) -> float:
    """WCAG 2 contrast ratio of two computed `rgb(r, g, b)` colours."""
    def luminance(color: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", color)[:3]]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)
