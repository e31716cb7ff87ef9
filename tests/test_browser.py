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
- every status shows a word, never colour alone;
- the overall banner is a solid bar in a major or critical state, in light and dark mode,
  with words and a symbol at AA contrast (built at the times of the example's P1 and P2);
- components outside a group line up with the group cards, on a desktop and a phone.

They also write the README's screenshots to `screenshots/`.

One browser serves the whole module, with one page per view (viewport, colour scheme,
JavaScript on or off) that each test sends to the path it needs. The browser is Debian's
Chromium at /usr/bin/chromium, never one downloaded by Playwright.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from statusgen.site.build import BuildResult, build
from tests.conftest import EXAMPLE_NOW, ROOT, SITE_YAML

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
    "accessibility": "accessibility/",  # the accessibility statement, linked from every footer
    "availability": "availability/",
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


def serve(folder: Path) -> Iterator[str]:
    """`folder` over HTTP on 127.0.0.1 (an ephemeral port) until the generator is closed."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
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
def site_url(example_build: BuildResult) -> Iterator[str]:
    """The built example site over HTTP; pages link relatively."""
    yield from serve(example_build.out_dir)


# The example site at moments when its overall state was each of these (EXAMPLE_NOW is minor).
STATE_TIMES = {
    "critical": "2026-11-03T08:20:00+01:00",  # the P1: PDF certificates unavailable
    "major": "2026-10-21T14:00:00+02:00",  # a P2: errors in every certificate service
    "maintenance": "2026-11-24T19:30:00+01:00",  # the partner portal's upgrade
    "none": "2026-11-20T12:00:00+01:00",
}
LAYOUT_NOW = "2026-11-30T12:00:00+01:00"
# A site whose components outside a group come before, after and between groups, one of
# them only shown when degraded (and operational, so hidden).
LAYOUT_COMPONENTS = """\
- id: first
  name: First on its own
- id: group-a
  name: Group A
  components:
    - {id: a1, name: A one, description: The first component of group A.}
    - {id: a2, name: A two}
- id: loose-1
  name: Loose one
  description: Between groups, with a longer description that wraps on a phone's narrow screen.
- id: loose-2
  name: Loose two
- id: hidden
  name: Hidden unless degraded
  only_show_if_degraded: true
- id: group-b
  name: Group B
  components:
    - {id: b1, name: B one}
- id: last
  name: Last on its own
  showcase: false
"""


@pytest.fixture(scope="module")
def more_sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The example site built at each of STATE_TIMES (under STATE/), and the layout site
    (under layout/), served from one HTTP server; the URL of its root."""
    root = tmp_path_factory.mktemp("more-sites")
    for state, now in STATE_TIMES.items():
        build(ROOT, root / state, now)
    layout = tmp_path_factory.mktemp("layout-site")
    (layout / "content").mkdir()
    (layout / "content" / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
    (layout / "components.yaml").write_text(LAYOUT_COMPONENTS, encoding="utf-8")
    (layout / "incidents").mkdir()
    build(layout, root / "layout", LAYOUT_NOW)
    yield from serve(root)


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

    def __init__(self, browser: Any, base_url: str, built_at: Callable[[str], str]) -> None:
        self.browser, self.base_url, self.built_at = browser, base_url, built_at
        self.pages: dict[tuple[str, bool], Any] = {}
        self.problems: list[str] = []

    def __call__(self, path: str, view: str = "desktop-light", javascript: bool = True) -> Any:
        page = self.pages.get((view, javascript))
        if page is None:
            page = self._open(view, javascript)
            self.pages[view, javascript] = page
        self.problems = []
        # The page's clock is the build's moment, so live.js moves no maintenance window on
        # and its "updated at" is the same in every run; it has read summary.json when idle.
        page.clock.set_fixed_time(datetime.fromisoformat(self.built_at(path)))
        page.goto(self.base_url + path, wait_until="load")
        if javascript:
            page.wait_for_load_state("networkidle")
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
    visitor = Visitor(browser, site_url, lambda path: EXAMPLE_NOW)
    yield visitor
    visitor.close()


@pytest.fixture(scope="module")
def visit_more(browser: Any, more_sites: str) -> Iterator[Visitor]:
    """`visit_more("critical/", view)` loads a page of one of `more_sites`."""
    visitor = Visitor(browser, more_sites, lambda path: STATE_TIMES.get(path.split("/")[0], LAYOUT_NOW))
    yield visitor
    visitor.close()


def page_params(pages: dict[str, str]) -> list[Any]:
    return [pytest.param(LANGUAGES[lang] + path, id=f"{name}-{lang}")
            for name, path in pages.items() for lang in LANGUAGES]


def axe_params() -> list[Any]:
    """Each page in each language on a light phone and a dark desktop, the home page in all four
    views; the other pages on a phone only, light in the first language and dark in the second
    (and the availability page also on a desktop, dark and light)."""
    params = []
    for name, path in PAGES.items():
        views = VIEWS if name == "home" else ("phone-light", "desktop-dark")
        for lang, prefix in LANGUAGES.items():
            params += [pytest.param(prefix + path, view, id=f"{name}-{lang}-{view}") for view in views]
    for name, path in MORE_PAGES.items():
        for (lang, prefix), view in zip(LANGUAGES.items(), ("phone-light", "phone-dark")):
            params.append(pytest.param(prefix + path, view, id=f"{name}-{lang}-{view}"))
    # The availability page's tables and met/missed symbols: every view, in both languages.
    for (lang, prefix), view in zip(LANGUAGES.items(), ("desktop-dark", "desktop-light")):
        params.append(pytest.param(prefix + MORE_PAGES["availability"], view, id=f"availability-{lang}-{view}"))
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


# The text without live.js's "updated at" line: the one thing the script adds to a page
# whose summary.json says what the page says (tests/test_live.py checks the rest).
SNAPSHOT = """() => {
  const fresh = document.querySelector('[data-live-updated]'), shown = fresh && !fresh.hidden;
  if (shown) fresh.hidden = true;
  const main = document.querySelector('main').innerText;
  if (shown) fresh.hidden = false;
  return {
    title: document.title, main,
    links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
    fields: [...document.querySelectorAll('input, select, textarea, button')].map(f => f.name || f.type),
  };
}"""


@pytest.mark.parametrize("path", page_params(PAGES))
def test_pages_work_without_javascript(visit: Visitor, path: str) -> None:
    """The same text, links and form fields with JavaScript off: nothing waits for a script."""
    without = visit(path, javascript=False).evaluate(SNAPSHOT)
    assert without["main"].strip() and without["links"]
    assert without == visit(path).evaluate(SNAPSHOT)


# --- the overall banner ---------------------------------------------------------------------

def rgba(css: str) -> tuple[float, float, float, float]:
    """A computed colour, `rgb(r, g, b)` or `rgba(r, g, b, a)`."""
    match = re.fullmatch(r"rgba?\(([\d.]+), ([\d.]+), ([\d.]+)(?:, ([\d.]+))?\)", css)
    assert match, css
    r, g, b, a = match.groups()
    return float(r), float(g), float(b), float(a) if a is not None else 1.0


def contrast(one: str, other: str) -> float:
    """WCAG 2's contrast ratio of two opaque computed colours."""
    def luminance(css: str) -> float:
        red, green, blue, alpha = rgba(css)
        assert alpha == 1.0, f"{css} is not opaque"
        linear = [c / 255 / 12.92 if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4
                  for c in (red, green, blue)]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


BANNER = """() => {
  const banner = document.querySelector('.banner');
  const style = getComputedStyle(banner);
  const heading = banner.querySelector('h2');
  return {
    background: style.backgroundColor, image: style.backgroundImage,
    page: getComputedStyle(document.body).backgroundColor,
    words: heading.innerText.trim(),
    symbol: getComputedStyle(heading.querySelector('.icon'), '::before').content,
    symbolColour: getComputedStyle(heading.querySelector('.icon'), '::before').color,
    texts: [...banner.querySelectorAll('h2, p, a')].map(el => [el.localName, getComputedStyle(el).color]),
  };
}"""
WORDS = {lang: yaml.safe_load((ROOT / "site_templates" / "i18n" / f"{lang}.yaml").read_text(encoding="utf-8"))["indicator"]
         for lang in LANGUAGES}
STATES = [*STATE_TIMES, "minor"]


def state_path(state: str) -> str:
    return "" if state == "minor" else f"{state}/"  # the example site as built (minor), or one of more_sites


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_banner_says_the_state_in_words_and_a_symbol_at_aa_contrast(
        visit: Visitor, visit_more: Visitor, state: str, lang: str, view: str) -> None:
    visitor = visit if state == "minor" else visit_more
    banner = visitor(state_path(state) + LANGUAGES[lang], view).evaluate(BANNER)
    assert banner["words"] == WORDS[lang][state]
    assert banner["symbol"] not in ("none", "normal", '""'), "a symbol beside the words: never colour alone"
    assert rgba(banner["background"])[3] == 1.0 and banner["image"] == "none", "a solid fill"
    for tag, colour in banner["texts"]:
        assert contrast(colour, banner["background"]) >= 4.5, (tag, colour, banner["background"])
    assert contrast(banner["symbolColour"], banner["background"]) >= 3


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("state", ["major", "critical"])
def test_a_major_or_critical_state_is_a_solid_bar_that_stands_out(visit_more: Visitor, state: str, view: str) -> None:
    """Not a pale box with a thin coloured border: the bar itself is the status colour."""
    quiet = visit_more("none/", view).evaluate(BANNER)
    page = visit_more(f"{state}/", view)
    banner = page.evaluate(BANNER)
    assert contrast(banner["background"], banner["page"]) >= 3, (banner["background"], banner["page"])
    assert contrast(quiet["background"], quiet["page"]) < 1.5, "all well: calm, the card colour"
    assert all(contrast(colour, banner["background"]) >= 4.5 for _, colour in banner["texts"])
    page.focus(".banner a")
    focus = page.evaluate("getComputedStyle(document.activeElement).outlineColor")
    assert contrast(focus, banner["background"]) >= 3, "the focus ring shows on the bar"


@pytest.mark.parametrize(("path", "view"), [
    pytest.param(f"{state}/{prefix}", view, id=f"{state}-{lang}-{view}")
    for state in ("critical", "major") for lang, prefix in LANGUAGES.items() for view in VIEWS
] + [pytest.param("layout/", "phone-light", id="layout-phone-light"),
     pytest.param("layout/", "desktop-dark", id="layout-desktop-dark")])
def test_pages_in_every_state_load_cleanly_and_axe_finds_nothing(visit_more: Visitor, path: str, view: str) -> None:
    page = visit_more(path, view)
    problems = visit_more.problems
    results = Axe().run(page, options={
        "runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]})
    assert problems == []
    violations = results.response["violations"]
    assert not violations, axe_report(violations)


# --- components in and outside groups ------------------------------------------------------------

CARDS = """() => {
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.right]; };
  const section = document.getElementById('components').closest('section');
  return {
    cards: [...section.querySelectorAll(':scope > .group, :scope > ul')].map(el => ({
      loose: el.matches('ul'), box: box(el),
      names: [...el.querySelectorAll('.component-head > a')].map(a => a.textContent.trim()),
      links: [...el.querySelectorAll('.component-head > a')].map(a => box(a)[0]),
      statuses: [...el.querySelectorAll('.group-head > .status, .component-head > .status')].map(box),
      firstTopBorder: el.querySelector('.component') &&
        getComputedStyle(el.querySelector('.component')).borderTopStyle,
    })),
    groupLinks: [...section.querySelectorAll('.group-head > a')].map(a => box(a)[0]),
  };
}"""


def assert_lined_up(cards: list[dict[str, Any]], group_links: list[float]) -> None:
    lefts = {round(card["box"][0], 1) for card in cards}
    rights = {round(card["box"][1], 1) for card in cards}
    assert len(lefts) == 1 and len(rights) == 1, cards  # one column of cards of one width
    links = {round(x, 1) for card in cards for x in card["links"]} | {round(x, 1) for x in group_links}
    assert len(links) == 1, cards  # every name starts at the same place
    # Every status ends at the same place, unless a narrow screen wrapped it below its name.
    statuses = {round(right, 1) for card in cards for left, right in card["statuses"] if round(left, 1) not in links}
    assert len(statuses) == 1, cards


@pytest.mark.parametrize("view", VIEWS)
def test_components_outside_a_group_line_up_with_the_group_cards(visit: Visitor, view: str) -> None:
    found = visit("", view).evaluate(CARDS)
    cards = found["cards"]
    assert [card["loose"] for card in cards] == [False, False, True]  # the partner portal, on its own
    assert_lined_up(cards, found["groupLinks"])
    assert {card["firstTopBorder"] for card in cards} == {"none"}  # no rule above a card's first row


@pytest.mark.parametrize("view", ["desktop-light", "phone-dark"])
def test_components_outside_groups_share_a_card_between_groups(visit_more: Visitor, view: str) -> None:
    found = visit_more("layout/", view).evaluate(CARDS)
    cards = found["cards"]
    assert [(card["loose"], card["names"]) for card in cards] == [
        (True, ["First on its own"]),
        (False, ["A one", "A two"]),
        (True, ["Loose one", "Loose two"]),  # the hidden one leaves no trace
        (False, ["B one"]),
        (True, ["Last on its own"]),
    ]
    assert_lined_up(cards, found["groupLinks"])


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
    "home-critical-phone-light.png": ("critical/", "phone-light"),  # during the example's P1
    "availability-en-desktop-light.png": ("en/availability/", "desktop-light"),
    "availability-phone-dark.png": ("availability/#g-eu-dcc", "phone-dark"),  # at the first table
}
MAX_SHOT_BYTES = 300_000


@pytest.mark.parametrize("name", SHOTS)
def test_screenshots_for_the_readme(visit: Visitor, visit_more: Visitor, name: str) -> None:
    """Writes screenshots/NAME: the home page as built at the example's fixed time (or at
    one of STATE_TIMES)."""
    path, view = SHOTS[name]
    visitor = visit_more if path.split("/", 1)[0] in STATE_TIMES else visit
    png = visitor(path, view).screenshot(animations="disabled", caret="hide")
    assert png.startswith(b"\x89PNG") and len(png) <= MAX_SHOT_BYTES, len(png)
    target = SCREENSHOTS / name
    if target.exists() and target.read_bytes() == png:
        return  # unchanged: leave the file (and git's view of it) alone
    SCREENSHOTS.mkdir(exist_ok=True)
    temporary = target.with_name(name + ".tmp")
    temporary.write_bytes(png)
    os.replace(temporary, target)
