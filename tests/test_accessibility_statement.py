"""The accessibility statement (EU Directive 2016/2102, issue 14): the content page
`accessibility`, linked from the footer of every page in every language (and of the
subscription service's pages), left out of the header menu, and absent when the site has
no such page. Its axe check is in tests/test_browser.py (MORE_PAGES)."""

from __future__ import annotations

import posixpath
from html.parser import HTMLParser
from pathlib import Path

import pytest

from statusgen.content.load import load_site
from statusgen.site.build import BuildResult, build
from statusgen.site.theme import Theme
from statusgen.subscriptions.pages import Pages
from tests.conftest import ROOT, MakeSite

LABELS = {"nl": "Toegankelijkheidsverklaring", "en": "Accessibility statement",
          "fr": "Déclaration d'accessibilité", "de": "Erklärung zur Barrierefreiheit"}


class Links(HTMLParser):
    """The links (href, text) inside the page's <header> and <footer> (the language switch
    aside), and its language."""

    def __init__(self) -> None:
        super().__init__()
        self.lang = ""
        self.inside: list[str] = []
        self.links: dict[str, list[tuple[str, str]]] = {"header": [], "footer": []}
        self.href: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.lang = dict(attrs).get("lang") or ""
        if tag in ("header", "footer"):
            self.inside.append(tag)
        if tag == "a" and self.inside and "hreflang" not in dict(attrs):  # not the language switch
            self.href, self.text = dict(attrs).get("href") or "", ""

    def handle_data(self, data: str) -> None:
        if self.href is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.href is not None and self.inside:
            self.links[self.inside[-1]].append((self.href, self.text.strip()))
            self.href = None
        if tag in ("header", "footer") and self.inside:
            self.inside.pop()


def links_of(file: Path) -> Links:
    parser = Links()
    parser.feed(file.read_text(encoding="utf-8"))
    return parser


def html_pages(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*.html") if "embed" not in p.parts)


def test_every_page_of_the_example_links_the_statement_in_its_language(example_build: BuildResult) -> None:
    out = example_build.out_dir
    pages = html_pages(out)
    assert len(pages) > 50
    for file in pages:
        found = links_of(file)
        statement = [href for href, text in found.links["footer"] if text == LABELS[found.lang]]
        assert len(statement) == 1, f"{file.relative_to(out)}: footer links {found.links['footer']}"
        prefix = "" if found.lang == "nl" else f"{found.lang}/"
        href = statement[0]
        if href.startswith("https://status.example.org/"):  # the 404 page links absolutely
            target = href.removeprefix("https://status.example.org/")
        else:
            target = posixpath.normpath(posixpath.join(file.parent.relative_to(out).as_posix(), href)) + "/"
        assert target.removeprefix("./") == f"{prefix}accessibility/", f"{file.relative_to(out)}: {href}"
        assert (out / target / "index.html").is_file()
        assert all("accessibility" not in href for href, _ in found.links["header"]), file


def test_the_example_statement_is_in_each_of_its_languages() -> None:
    assert {p.name for p in (ROOT / "content" / "pages").glob("accessibility.*.md")} == \
        {"accessibility.nl.md", "accessibility.en.md"}


def test_no_statement_page_no_link(make_site: MakeSite, tmp_path: Path) -> None:
    site = make_site({"content/pages/help.md": "---\ntitle: Help\n---\nHelp.\n"})
    build(site, tmp_path / "out", "2026-11-30T12:00:00+01:00")
    home = links_of(tmp_path / "out" / "index.html")
    assert home.links["footer"] and not [h for h, _ in home.links["footer"] if "accessibility" in h]
    assert [h for h, _ in home.links["header"] if h.endswith("help/")]  # other pages stay in the menu


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_subscription_service_footer_links_the_statement(lang: str) -> None:
    site, _ = load_site(ROOT)
    pages = Pages(site, Theme(ROOT), "/subscriptions/")
    html = pages.render("base.html", lang, heading="Subscribe")
    prefix = "" if lang == "nl" else "en/"
    assert f'<a href="https://status.example.org/{prefix}accessibility/">{LABELS[lang]}</a>' in html


def test_the_subscription_service_footer_has_no_link_without_a_statement(make_site: MakeSite) -> None:
    site_dir = make_site()
    site, _ = load_site(site_dir)
    html = Pages(site, Theme(site_dir), "/subscriptions/").render("base.html", "en", heading="x")
    assert "accessibility" not in html
