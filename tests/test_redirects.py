"""Old incident links (an incident's `aliases:`) keep working after a move: a redirect page
at `incidents/ALIAS/` in every language, and `_redirects` lines for the hosts that read them."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from statusgen.site.build import Builder, build
from tests.conftest import EXAMPLE_NOW, MakeSite
from tests.test_incremental import OUTAGE, assert_same_as_full_build, copy_example, edit

INCIDENT = """\
---
title: {en: 'Certificates <b>down</b> & "slow"', nl: Certificaten onbereikbaar}
impact: major
aliases: [4g8tm2kw1zxl, Old_Code.1]
components: {dcc-certificates: major_outage}
updates:
  - {at: 2026-11-28 09:20, status: investigating, body: Looking.}
---
"""
LATER = """\
---
title: Not published yet
aliases: [zz9plural9z]
updates:
  - {at: 2026-12-24 09:20, status: investigating, body: Not yet.}
---
"""
NOW = "2026-11-29T10:00:00+01:00"


class _Head(HTMLParser):
    """The redirect page's meta tags, canonical link and visible links."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.canonical = ""
        self.links: list[str] = []
        self.lang = ""
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "html":
            self.lang = found["lang"]
        elif tag == "meta" and ("name" in found or "http-equiv" in found):
            self.meta[found.get("name") or found["http-equiv"]] = found["content"]
        elif tag == "link" and found.get("rel") == "canonical":
            self.canonical = found["href"]
        elif tag == "a":
            self.links.append(found["href"])

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def read_page(html: bytes) -> _Head:
    head = _Head()
    head.feed(html.decode())
    return head


@pytest.fixture
def built(make_site: MakeSite, tmp_path: Path) -> dict[str, bytes]:
    site = make_site({"incidents/2026/pdf-down.md": INCIDENT, "incidents/2026/later.md": LATER})
    return dict(build(site, tmp_path / "out", NOW).outputs)


@pytest.mark.parametrize(("prefix", "lang"), [("", "en"), ("nl/", "nl")])
@pytest.mark.parametrize("alias", ["4g8tm2kw1zxl", "Old_Code.1"])
def test_every_alias_has_a_redirect_page_in_every_language(built: dict[str, bytes], alias: str, prefix: str,
                                                           lang: str) -> None:
    page_url = f"https://status.example.org/{prefix}incidents/{alias}/"
    head = read_page(built[f"{prefix}incidents/{alias}/index.html"])
    target = f"https://status.example.org/{prefix}incidents/pdf-down/"
    assert head.lang == lang
    assert head.meta["robots"] == "noindex"
    delay, _, url = head.meta["refresh"].partition("; url=")
    assert delay == "0" and urljoin(page_url, url) == target
    assert head.canonical == target
    assert [urljoin(page_url, link) for link in head.links] == [target]
    assert urlsplit(target).path.removeprefix("/") + "index.html" in built  # it lands on the incident


def test_the_redirect_page_escapes_the_title(built: dict[str, bytes]) -> None:
    html = built["incidents/4g8tm2kw1zxl/index.html"].decode()
    assert "<b>" not in html and "&lt;b&gt;down&lt;/b&gt; &amp; &quot;slow&quot;" in html
    assert "Certificates <b>down</b> & \"slow\"" in "".join(read_page(html.encode()).text)
    assert "Certificaten onbereikbaar" in built["nl/incidents/4g8tm2kw1zxl/index.html"].decode()


def test_redirects_file_has_one_301_per_alias_and_language(built: dict[str, bytes]) -> None:
    assert built["_redirects"].decode().splitlines() == [
        "/incidents/4g8tm2kw1zxl/ /incidents/pdf-down/ 301",
        "/incidents/Old_Code.1/ /incidents/pdf-down/ 301",
        "/nl/incidents/4g8tm2kw1zxl/ /nl/incidents/pdf-down/ 301",
        "/nl/incidents/Old_Code.1/ /nl/incidents/pdf-down/ 301",
    ]


def test_redirects_are_neither_in_the_sitemap_nor_in_the_headers(built: dict[str, bytes]) -> None:
    sitemap, headers = built["sitemap.xml"].decode(), built["_headers"].decode()
    assert "/incidents/pdf-down/" in sitemap
    assert "4g8tm2kw1zxl" not in sitemap and "Old_Code" not in sitemap
    assert "_redirects" not in headers and "4g8tm2kw1zxl" not in headers
    assert "/incidents/*\n" in headers  # the redirect pages get the pages' Cache-Control


def test_an_incident_not_yet_published_gets_no_redirect(built: dict[str, bytes]) -> None:
    assert not [path for path in built if "zz9plural9z" in path]
    assert "zz9plural9z" not in built["_redirects"].decode()


def test_a_base_url_with_a_path_prefixes_both_sides(make_site: MakeSite, tmp_path: Path) -> None:
    site = make_site({
        "content/site.yaml": """\
            title: Status
            base_url: https://example.org/status/
            languages: [nl, en]
            timezone: Europe/Amsterdam
            """,
        "incidents/pdf-down.md": INCIDENT,
    })
    outputs = build(site, tmp_path / "out", NOW).outputs
    assert outputs["_redirects"].decode().splitlines() == [
        "/status/en/incidents/4g8tm2kw1zxl/ /status/en/incidents/pdf-down/ 301",
        "/status/en/incidents/Old_Code.1/ /status/en/incidents/pdf-down/ 301",
        "/status/incidents/4g8tm2kw1zxl/ /status/incidents/pdf-down/ 301",
        "/status/incidents/Old_Code.1/ /status/incidents/pdf-down/ 301",
    ]
    assert read_page(outputs["en/incidents/Old_Code.1/index.html"]).canonical == \
        "https://example.org/status/en/incidents/pdf-down/"


def test_a_site_without_aliases_has_no_redirects(example_build) -> None:  # type: ignore[no-untyped-def]
    assert "_redirects" not in example_build.outputs
    assert not any(b'http-equiv="refresh"' in content for path, content in example_build.outputs.items()
                   if path.endswith(".html"))


def test_adding_changing_and_removing_aliases_rebuilds_as_a_full_build_does(tmp_path: Path) -> None:
    site = copy_example(tmp_path / "site")
    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=False)
    builder.build()
    steps = [
        ("type: incident\n", "type: incident\naliases: [k3vgs2b8mn7x]\n"),  # added
        ("aliases: [k3vgs2b8mn7x]", "aliases: [k3vgs2b8mn7x, legacy-42]"),  # another one
        ("en: PDF certificates", "en: The PDF certificates"),  # the redirect pages show the title
        ("aliases: [k3vgs2b8mn7x, legacy-42]", "aliases: [legacy-42]"),  # one removed
        ("aliases: [legacy-42]\n", ""),  # none left: no _redirects any more
    ]
    for old, new in steps:
        edit(site, OUTAGE, old, new)
        builder.build()
        assert_same_as_full_build(site, tmp_path / "out", tmp_path)
    out = tmp_path / "out"
    assert not (out / "_redirects").exists() and not (out / "incidents" / "legacy-42").exists()
    assert not (out / "incidents" / "k3vgs2b8mn7x").exists()


def test_the_incremental_build_reuses_the_redirects_while_nothing_they_show_changed(tmp_path: Path) -> None:
    site = copy_example(tmp_path / "site")
    edit(site, OUTAGE, "type: incident\n", "type: incident\naliases: [k3vgs2b8mn7x]\n")
    builder = Builder(site, tmp_path / "out", EXAMPLE_NOW, parallel=False)
    first = builder.build()
    assert first.outputs["_redirects"].decode().splitlines() == [
        "/en/incidents/k3vgs2b8mn7x/ /en/incidents/2026-11-03-pdf-certificates-unavailable/ 301",
        "/incidents/k3vgs2b8mn7x/ /incidents/2026-11-03-pdf-certificates-unavailable/ 301"]
    again = builder.build()
    assert builder.cache.render.made["redirects"] == 0
    assert again.outputs["_redirects"] is first.outputs["_redirects"]
