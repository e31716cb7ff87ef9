"""sitemap.xml, robots.txt and _headers."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

from statusgen.site.build import BuildResult
from statusgen.content.model import SiteConfig, Text
from statusgen.site.seo import headers, sitemaps


def config(base_url: str) -> SiteConfig:
    return SiteConfig(title=Text.same(("en",), "S"), description=None, base_url=base_url,
                      languages=("en",), timezone=ZoneInfo("UTC"))


NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}


def test_the_sitemap_lists_every_page_once_with_its_translations(example_build: BuildResult) -> None:
    root = ET.fromstring(example_build.outputs["sitemap.xml"])
    locations = [u.findtext("s:loc", namespaces=NS) for u in root.findall("s:url", NS)]
    pages = [p for p in example_build.outputs if p.endswith(".html") and not p.endswith("404.html")]
    assert len(locations) == len(set(locations)) == len(pages)
    assert "https://status.example.org/" in locations and "https://status.example.org/en/history/" in locations
    home = next(u for u in root.findall("s:url", NS) if u.findtext("s:loc", namespaces=NS) == "https://status.example.org/en/")
    assert {(a.get("hreflang"), a.get("href")) for a in home.findall("x:link", NS)} == {
        ("nl", "https://status.example.org/"), ("en", "https://status.example.org/en/")}


def test_robots_points_at_the_sitemap(example_build: BuildResult) -> None:
    assert example_build.outputs["robots.txt"].decode().splitlines() == [
        "User-agent: *", "Allow: /", "Sitemap: https://status.example.org/sitemap.xml"]


def test_headers_let_other_sites_read_api_feeds_and_banner(example_build: BuildResult) -> None:
    text = example_build.outputs["_headers"].decode()
    for path in ("/api/*", "/en/api/*", "/history.atom", "/en/components/*", "/maintenance.ics", "/embed/*"):
        assert f"\n{path}\n  Access-Control-Allow-Origin: *\n" in text


def test_headers_follow_a_base_url_with_a_path() -> None:
    assert "/status/api/*\n  Access-Control-Allow-Origin: *\n" in headers(config("https://example.org/status/")).decode()


def test_large_sites_get_a_sitemap_index(monkeypatch) -> None:
    import statusgen.site.seo as seo
    monkeypatch.setattr(seo, "SITEMAP_LIMIT", 2)
    files = sitemaps(["index.html", "history/index.html", "incidents/a/index.html"], config("https://s.example.org/"))
    assert sorted(files) == ["sitemap-1.xml", "sitemap-2.xml", "sitemap.xml"]
    index = ET.fromstring(files["sitemap.xml"])
    assert [s.findtext("s:loc", namespaces=NS) for s in index.findall("s:sitemap", NS)] == [
        "https://s.example.org/sitemap-1.xml", "https://s.example.org/sitemap-2.xml"]
