"""What a reader sees: the example site in a real headless Chromium, served over HTTP.

Citizens and partners read the site on phones, with screen readers, with the keyboard,
in dark mode and without JavaScript (DESIGN.md, "Who uses it"). These tests load the
built example site the way they do and check that

- pages load with no console error, page error, failed request or 4xx/5xx response;
- axe-core finds no violation of WCAG 2.1 A/AA (nor of its best-practice rules, which
  cover heading order, landmarks and unique landmark names);
- no two landmarks share a name, and no page scrolls sideways on a phone;
- a page without JavaScript shows the same content;
- the keyboard reaches the skip link first, then every link (the language switcher too)
  and form field, each with a visible focus; the skip link lands on the main content;
- every status shows a word, never colour alone.

They also write the README's screenshots to `screenshots/`.

One browser serves the whole module, with one page per view (viewport, colour scheme,
JavaScript on or off) that each test sends to the path it needs. The browser is Debian's
Chromium at /usr/bin/chromium, never one downloaded by Playwright.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from statusgen.site.build import BuildResult
from tests.conftest import ROOT

from axe_playwright_python.sync_playwright import Axe
from playwright import sync_api

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = ROOT / "screenshots"

PAGES = {
    "home": "",
    "incident": "incidents/2026-11-03-pdf-certificates-unavailable/",
    "component": "components/dcc-app/",
    "history": "history/",
    "subscribe": "subscribe/",
}
# More pages with their own markup: a group, and Markdown pages with tables, code and long URLs.
MORE_PAGES = {
    "group": "components/eu-dcc/",
    "help": "help/",
    "priorities": "priorities/",
    "escalation": "escalation/",
}
LANGUAGES = {"nl": "", "en": "en/"}  # the first language at the root, the others below it

PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "is_mobile": True,
                         "has_touch": True, "device_scale_factor": 2}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}
VIEWS: dict[str, dict[str, Any]] = {
    "phone-light": {**PHONE, "color_scheme": "light"},
    "phone-dark": {**PHONE, "color_scheme": "dark"},
    "desktop-light": {**DESKTOP, "color_scheme": "light"},
    "desktop-dark": {**DESKTOP, "color_scheme": "dark"},
}

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


# --- fixtures -----------------------------------------------------------------------

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site_url(example_build: BuildResult) -> Iterator[str]:
    """The built example site over HTTP on 127.0.0.1 (an ephemeral port); pages link relatively."""
    handler = functools.partial(_QuietHandler, directory=str(example_build.out_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    assert CHROMIUM.exists(), f"no Chromium at {CHROMIUM}: apt-get install chromium"
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visitor:
    """One page per (view, JavaScript on or off), kept for the module and sent to each path in turn.

    A fresh page costs more than the navigation, and a navigation resets all a test can
    change (focus, scroll, the URL's fragment). `problems` lists, one readable line each,
    what went wrong during the latest visit: console errors, page errors, failed requests
    and responses of 400 or more.
    """

    def __init__(self, browser: Any, base_url: str) -> None:
        self.browser, self.base_url = browser, base_url
        self.pages: dict[tuple[str, bool], Any] = {}
        self.problems: list[str] = []

    def __call__(self, path: str, view: str = "desktop-light", javascript: bool = True) -> Any:
        page = self.pages.get((view, javascript))
        if page is None:
            page = self._open(view, javascript)
            self.pages[view, javascript] = page
        self.problems = []
        page.goto(self.base_url + path, wait_until="load")
        return page

    def _open(self, view: str, javascript: bool) -> Any:
        page = self.browser.new_context(java_script_enabled=javascript, **VIEWS[view]).new_page()
        page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "assert") else None)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url} ({r.failure})"))
        page.on("response", lambda r: self.problems.append(f"HTTP {r.status}: {r.url}")
                if r.status >= 400 else None)
        return page

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()


@pytest.fixture(scope="module")
def visit(browser: Any, site_url: str) -> Iterator[Visitor]:
    """`visit(path, view="desktop-light", javascript=True)` loads a page of the example site."""
    visitor = Visitor(browser, site_url)
    yield visitor
    visitor.close()


def page_params(pages: dict[str, str]) -> list[Any]:
    return [pytest.param(LANGUAGES[lang] + path, id=f"{name}-{lang}")
            for name, path in pages.items() for lang in LANGUAGES]


def axe_params() -> list[Any]:
    """Each page in each language on a light phone and a dark desktop, the home page in all four
    views; the other pages on a phone only, light in the first language and dark in the second."""
    params = []
    for name, path in PAGES.items():
        views = VIEWS if name == "home" else ("phone-light", "desktop-dark")
        for lang, prefix in LANGUAGES.items():
            params += [pytest.param(prefix + path, view, id=f"{name}-{lang}-{view}") for view in views]
    for name, path in MORE_PAGES.items():
        for (lang, prefix), view in zip(LANGUAGES.items(), ("phone-light", "phone-dark")):
            params.append(pytest.param(prefix + path, view, id=f"{name}-{lang}-{view}"))
    return params


# --- what a page must be --------------------------------------------------------------

def axe_report(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            messages = [check["message"] for kind in ("any", "all", "none") for check in node.get(kind, [])]
            lines.append(f"    {' '.join(node['target'])}: {node['html'][:160]}")
            lines += [f"        {message}" for message in messages[:2]]
    return "\n".join(lines)


@pytest.mark.parametrize(("path", "view"), axe_params())
def test_page_loads_cleanly_and_axe_finds_nothing(visit: Visitor, path: str, view: str) -> None:
    page = visit(path, view)
    problems = visit.problems
    results = Axe().run(page, options={
        "runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]})
    assert problems == []
    violations = results.response["violations"]
    assert not violations, axe_report(violations)


# "nav: Main", "section: Updates", ...: every landmark with its name (a section or form is
# a landmark only when it has a name).
LANDMARK_NAMES = """() => {
  const text = (ids) => ids.split(/\\s+/).map(id => document.getElementById(id)?.textContent ?? '').join(' ');
  const labelledby = (el) => el.hasAttribute('aria-labelledby') ? text(el.getAttribute('aria-labelledby')) : '';
  const name = (el) => (el.getAttribute('aria-label') || labelledby(el)).trim().replace(/\\s+/g, ' ');
  const landmarks = [...document.querySelectorAll(`nav, aside, main, [role=region], [role=navigation],
    [role=search], form[aria-label], form[aria-labelledby], section[aria-label], section[aria-labelledby]`)];
  return landmarks.map(el => `${el.localName}: ${name(el)}`);
}"""


@pytest.mark.parametrize("path", page_params(PAGES | MORE_PAGES))
def test_landmarks_have_names_of_their_own(visit: Visitor, path: str) -> None:
    """A screen reader lists landmarks by name; two called "Follow updates" are one too many."""
    landmarks = visit(path).evaluate(LANDMARK_NAMES)
    names = [entry.split(": ", 1)[1].casefold() for entry in landmarks]
    shared = sorted({entry for entry, name in zip(landmarks, names) if name and names.count(name) > 1})
    assert shared == []
    unnamed = [entry for entry in landmarks if entry.endswith(": ") and not entry.startswith("main")]
    assert unnamed == [], "every page has several navigation landmarks: each needs a name"


@pytest.mark.parametrize("path", page_params(PAGES | MORE_PAGES))
def test_nothing_scrolls_sideways_on_a_phone(visit: Visitor, path: str) -> None:
    page = visit(path, "phone-light")
    # A phone widens its layout viewport to fit what sticks out (innerWidth grows with
    # it), so compare with the screen's width too, not only with innerWidth.
    width = PHONE["viewport"]["width"]
    inner, scroll = page.evaluate("[innerWidth, document.scrollingElement.scrollWidth]")
    too_wide = page.evaluate("""(width) => [...document.querySelectorAll('body *')]
        .filter(el => el.getBoundingClientRect().right > width + 1 && !el.closest('.honeypot, .skip, .table-box'))
        .slice(-3).map(el => el.outerHTML.slice(0, 120))""", width)
    assert scroll <= inner == width, too_wide


@pytest.mark.parametrize("path", page_params(PAGES))
def test_status_is_never_shown_by_colour_alone(visit: Visitor, path: str) -> None:
    page = visit(path)
    statuses = page.locator(".status").all_inner_texts()
    assert all(text.strip() for text in statuses), statuses
    if path in LANGUAGES.values() or "/components/" in f"/{path}":  # pages that always show one
        assert statuses


SNAPSHOT = """() => ({
  title: document.title,
  main: document.querySelector('main').innerText,
  links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
  fields: [...document.querySelectorAll('input, select, textarea, button')].map(f => f.name || f.type),
})"""


@pytest.mark.parametrize("path", page_params(PAGES))
def test_pages_work_without_javascript(visit: Visitor, path: str) -> None:
    """The same text, links and form fields with JavaScript off: nothing waits for a script."""
    without = visit(path, javascript=False).evaluate(SNAPSHOT)
    assert without["main"].strip() and without["links"]
    assert without == visit(path).evaluate(SNAPSHOT)


# --- the keyboard -----------------------------------------------------------------------

# What the keyboard should reach: links and form fields (the honeypot field opts out with
# tabindex=-1, as does <main>, which only the skip link moves focus to).
TABBABLE = ("[...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea,"
            " [tabindex]')].filter(el => el.tabIndex >= 0)")
TABBABLE_ALL = f"() => {TABBABLE}.map(el => el.getAttribute('href') || el.name || el.localName)"
LANGUAGE_LINKS = f"() => [...document.querySelectorAll('nav.languages a[href]')].map(a => {TABBABLE}.indexOf(a))"
FOCUSED = f"""() => {{
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {{
    index: {TABBABLE}.indexOf(el),
    tag: el.localName,
    text: (el.innerText || el.getAttribute('aria-label') || el.name || '').trim().slice(0, 40),
    outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
    shadow: style.boxShadow !== 'none',
    onScreen: box.width > 0 && box.height > 0 && box.right > 0 && box.bottom > 0
      && box.left < innerWidth && box.top < innerHeight,
  }};
}}"""


def tab_through(page: Any, limit: int) -> list[dict[str, Any]]:
    """Press Tab until focus leaves the page or comes round again; what had focus, in order."""
    seen: list[dict[str, Any]] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused["tag"] == "body" or (seen and focused["index"] == seen[0]["index"]):
            break
        seen.append(focused)
    return seen


@pytest.mark.parametrize(("path", "view"), [
    pytest.param("", "desktop-light", id="home-nl-desktop-light"),
    pytest.param("en/", "desktop-light", id="home-en-desktop-light"),
    pytest.param("", "phone-dark", id="home-nl-phone-dark"),
    pytest.param("en/", "phone-dark", id="home-en-phone-dark"),
    pytest.param("en/subscribe/", "desktop-dark", id="subscribe-en-desktop-dark"),  # form fields
    pytest.param("priorities/", "phone-light", id="priorities-nl-phone-light"),  # a scrolling table
])
def test_the_keyboard_reaches_everything_with_a_visible_focus(visit: Visitor, path: str, view: str) -> None:
    page = visit(path, view)
    tabbable = page.evaluate(TABBABLE_ALL)
    order = tab_through(page, limit=len(tabbable) + 20)

    assert order and order[0]["tag"] == "a" and tabbable[order[0]["index"]] == "#main", "the skip link comes first"
    reached = {entry["index"] for entry in order}
    assert [what for i, what in enumerate(tabbable) if i not in reached] == [], "never reached by the keyboard"
    languages = page.evaluate(LANGUAGE_LINKS)
    assert languages and set(languages) <= reached, "the language switcher"
    unseen = [entry for entry in order if not (entry["outline"] or entry["shadow"]) or not entry["onScreen"]]
    assert unseen == [], "focus must show: an outline or a shadow, on screen"


def test_the_skip_link_moves_focus_to_the_main_content(visit: Visitor) -> None:
    page = visit("en/", "phone-light")
    page.keyboard.press("Tab")
    skip = page.evaluate(FOCUSED)
    assert skip["text"] == "Skip to content" and skip["onScreen"] and skip["outline"]
    page.keyboard.press("Enter")
    page.wait_for_url("**/en/#main")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")  # the next stop is the first link in the content, not the menu
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")


# --- the README's screenshots -------------------------------------------------------------

# Viewport-sized, to keep the repository light: the phone's whole page would be ~900 KB.
SHOTS = {
    "home-desktop-light.png": ("", "desktop-light"),
    "home-phone-dark.png": ("", "phone-dark"),
    "home-en-desktop-light.png": ("en/", "desktop-light"),
}
MAX_SHOT_BYTES = 300_000


@pytest.mark.parametrize("name", SHOTS)
def test_screenshots_for_the_readme(visit: Visitor, name: str) -> None:
    """Writes screenshots/NAME: the home page as built at the example's fixed time."""
    path, view = SHOTS[name]
    png = visit(path, view).screenshot(animations="disabled", caret="hide")
    assert png.startswith(b"\x89PNG") and len(png) <= MAX_SHOT_BYTES, len(png)
    target = SCREENSHOTS / name
    if target.exists() and target.read_bytes() == png:
        return  # unchanged: leave the file (and git's view of it) alone
    SCREENSHOTS.mkdir(exist_ok=True)
    temporary = target.with_name(name + ".tmp")
    temporary.write_bytes(png)
    os.replace(temporary, target)
