"""Every link on every page goes somewhere, and the menu marks the page you are on.

The header and footer are rendered once per language and their links resolved per folder
(site/pages.py, `chrome`); these tests check the result on every page of a site with deep
folders (paginated history and component pages, content pages), as a reader's browser
would resolve the links.
"""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from statusgen.site.build import build
from tests.conftest import EXAMPLE_NOW, ROOT

BASE = "https://status.example.org/"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, dict[str, str | None]]] = []  # (tag, href, attributes)
        self.in_header = False
        self.menu: list[tuple[str, str | None]] = []  # the header's links: (href, aria-current)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "header":
            self.in_header = True
        for name in ("href", "src"):
            if found.get(name) is not None:
                self.links.append((tag, found[name] or "", found))
                if self.in_header and tag == "a":
                    self.menu.append((found[name] or "", found.get("aria-current")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "header":
            self.in_header = False


@pytest.fixture(scope="module")
def deep_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example site with three entries per page: history and component pages paginate."""
    root = tmp_path_factory.mktemp("deep") / "site"
    shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns("public", ".git", "tests", ".statusgen", "bench"))
    config = root / "content" / "site.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "page_size: 3\n", encoding="utf-8")
    out = root / "public"
    build(root, out, EXAMPLE_NOW)
    return out


def _pages(out: Path) -> dict[str, Path]:
    return {file.relative_to(out).as_posix(): file for file in sorted(out.rglob("*.html"))}


def _target(out: Path, url: str) -> Path | None:
    """The output file a site URL names, or None when there is none."""
    path = urlsplit(url).path.removeprefix("/")
    candidate = out / path
    if candidate.is_dir():
        candidate = candidate / "index.html"
    return candidate if candidate.is_file() else None


def test_the_site_has_deep_folders(deep_site: Path) -> None:
    pages = _pages(deep_site)
    assert "history/2/index.html" in pages and "en/history/2/index.html" in pages
    assert any("/page/1/" in page for page in pages)


def test_every_relative_link_on_every_page_finds_its_file(deep_site: Path) -> None:
    broken = []
    for name, file in _pages(deep_site).items():
        if name.endswith("404.html"):  # served at any depth: its links are absolute
            continue
        parser = _Links()
        parser.feed(file.read_text(encoding="utf-8"))
        page_url = "file:///" + name
        for tag, href, _ in parser.links:
            if href.startswith(("http:", "https:", "mailto:", "tel:", "#")):
                continue
            if _target(deep_site, urljoin(page_url, href).removeprefix("file://")) is None:
                broken.append(f"{name}: <{tag}> {href}")
    assert broken == []


def test_the_menu_marks_exactly_the_page_you_are_on(deep_site: Path) -> None:
    marked_pages = set()
    for name, file in _pages(deep_site).items():
        if name.endswith("404.html"):
            continue
        parser = _Links()
        parser.feed(file.read_text(encoding="utf-8"))
        page_url = "file:///" + name
        menu = [(urljoin(page_url, href), current) for href, current in parser.menu]
        assert len(menu) >= 8, name  # title, status, history, subscribe, content pages, languages
        marked = [url for url, current in menu if current == "page"]
        assert all(url == page_url.removesuffix("index.html") for url in marked), name
        assert len(marked) <= 1, name
        if marked:
            marked_pages.add(name)
    languages = ("", "en/")
    expected = {f"{lang}{page}index.html" for lang in languages
                for page in ("", "history/", "subscribe/")}
    assert expected <= marked_pages
    assert {"history/2/index.html", "en/incidents/2026-11-03-pdf-certificates-unavailable/index.html"} \
        .isdisjoint(marked_pages)
    assert any(name.count("/") == 1 and name not in expected for name in marked_pages)  # a content page


def test_the_404_page_links_absolutely_so_it_works_at_any_depth(deep_site: Path) -> None:
    parser = _Links()
    parser.feed((deep_site / "404.html").read_text(encoding="utf-8"))
    links = [href for tag, href, _ in parser.links if not href.startswith(("mailto:", "tel:", "#"))]
    assert links and all(href.startswith(BASE) for href in links), links
    for href in links:
        assert _target(deep_site, href) is not None, href


def test_a_header_whose_text_holds_the_marker_character_is_made_for_every_page(tmp_path: Path) -> None:
    """The shared header is rendered once with markers (NUL) around its links; a theme
    whose header prints a NUL itself cannot be shared, and must still link right."""
    root = tmp_path / "site"
    shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns("public", ".git", "tests", ".statusgen", "bench"))
    header = (ROOT / "site_templates" / "templates" / "header.html").read_text(encoding="utf-8")
    override = root / "site_templates" / "templates" / "header.html"
    override.parent.mkdir(parents=True, exist_ok=True)
    override.write_text(header.replace("</header>", '<span hidden>{{ "\\x00" }}</span></header>'), encoding="utf-8")
    result = build(root, root / "public", EXAMPLE_NOW)
    incident = result.outputs["en/incidents/2026-11-03-pdf-certificates-unavailable/index.html"].decode()
    history = result.outputs["en/history/index.html"].decode()
    assert "<span hidden>\x00</span>" in incident
    assert '<a href="../../history/" aria-current' not in incident
    assert '<a href="../../history/">' in incident and '<a href="./" aria-current="page">' in history
