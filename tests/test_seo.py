"""sitemap.xml, robots.txt and _headers."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import pytest

from statusgen.site.build import BuildResult
from statusgen.content.model import SiteConfig, Text
from statusgen.site.seo import content_security_policy, headers, security_headers, sitemaps
from tests.conftest import ROOT
from tests.siteheaders import parse_headers, rules_for


def config(base_url: str, subscriptions_url: str | None = None) -> SiteConfig:
    return SiteConfig(title=Text.same(("en",), "S"), description=None, base_url=base_url,
                      languages=("en",), timezone=ZoneInfo("UTC"), subscriptions_url=subscriptions_url)


SECURITY = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options",
            "Permissions-Policy")


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
    rules = parse_headers(example_build.outputs["_headers"].decode())
    for path in ("/api/v2/summary.json", "/en/api/v2/status.json", "/history.atom", "/en/components/dcc-app/",
                 "/maintenance.ics", "/embed/banner.js", "/badge.svg"):
        assert rules_for(rules, path)["Access-Control-Allow-Origin"] == ["*"], path
    for path in ("/", "/en/", "/incidents/2026-11-03-pdf-certificates-unavailable/", "/static/style.css"):
        assert "Access-Control-Allow-Origin" not in rules_for(rules, path), path


def test_headers_follow_a_base_url_with_a_path() -> None:
    text = headers(config("https://example.org/status/"), ["index.html", "api/v2/status.json", "static/style.css"]).decode()
    rules = parse_headers(text)
    found = rules_for(rules, "/status/api/v2/status.json")
    assert {name: found.pop(name) for name in SECURITY} == {
        name: [value] for name, value in security_headers(config("https://example.org/status/")).items()}
    assert found == {"Cache-Control": ["public, max-age=60, stale-if-error=86400"], "Access-Control-Allow-Origin": ["*"]}
    assert rules_for(rules, "/status/")["Cache-Control"] == ["public, max-age=60, stale-if-error=86400"]
    assert rules_for(rules, "/status/static/style.css")["Cache-Control"] == [
        "public, max-age=3600, stale-while-revalidate=86400"]
    assert "Cache-Control" not in rules_for(rules, "/other/index.html")


# --- Cache-Control: _headers as Netlify and Cloudflare Pages read it ----------------------------

def url_paths(outputs: dict[str, bytes]) -> list[str]:
    """Every URL path the built site answers: each file, and each folder with an index.html."""
    paths = [f"/{path}" for path in outputs if path != "_headers"]
    return paths + [path.removesuffix("index.html") for path in paths if path.endswith("/index.html")]


def directives(value: str) -> dict[str, str]:
    return dict((part.strip().partition("=")[::2]) for part in value.split(","))


FRESH_PATHS = ["/", "/index.html", "/en/", "/incidents/2026-11-03-pdf-certificates-unavailable/", "/404.html",
               "/api/v2/summary.json", "/en/api/v2/status.json", "/api/uptime.json", "/history.atom",
               "/en/components/dcc-app/history.rss", "/maintenance.ics", "/badge.svg", "/en/badge.json",
               "/embed/banner.js", "/sitemap.xml", "/robots.txt", "/help/"]


@pytest.mark.parametrize("path", FRESH_PATHS)
def test_pages_api_feeds_badges_and_banner_are_fresh_within_a_minute(example_build: BuildResult, path: str) -> None:
    assert path in url_paths(example_build.outputs)
    found = rules_for(parse_headers(example_build.outputs["_headers"].decode()), path)
    assert len(found.get("Cache-Control", [])) == 1, found
    cache = directives(found["Cache-Control"][0])
    assert "public" in cache and int(cache["max-age"]) == 60
    # Nothing that lets a cache show a copy older than the minute (stale-if-error only when the host fails).
    assert not {"stale-while-revalidate", "immutable", "s-maxage"} & cache.keys()


@pytest.mark.parametrize("path", ["/static/style.css", "/static/favicon.svg"])
def test_static_assets_are_cached_for_longer_but_not_for_ever(example_build: BuildResult, path: str) -> None:
    """They have no content hash in their names, so an hour (and a day to refresh in the background)."""
    found = rules_for(parse_headers(example_build.outputs["_headers"].decode()), path)
    assert found["Cache-Control"] == ["public, max-age=3600, stale-while-revalidate=86400"]
    assert "static/style.css?" not in example_build.outputs["index.html"].decode()  # linked without a version


def test_every_file_gets_exactly_one_cache_control_and_the_security_headers(example_build: BuildResult) -> None:
    rules = parse_headers(example_build.outputs["_headers"].decode())
    for path in url_paths(example_build.outputs):
        found = rules_for(rules, path)
        assert len(found.get("Cache-Control", [])) == 1, (path, found)
        assert found["X-Content-Type-Options"] == ["nosniff"] and len(found["Referrer-Policy"]) == 1, path
        assert all(len(found[name]) == 1 for name in SECURITY), path
        assert len(found.get("Access-Control-Allow-Origin", [])) <= 1, path
    assert len(rules) <= 100  # Cloudflare Pages reads no more


# --- the README's nginx snippet says the same -------------------------------------------------------

def readme_nginx() -> str:
    blocks = re.findall(r"```nginx\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    caching = [block for block in blocks if "map $uri" in block]
    assert len(caching) == 1, "the README's nginx snippet for the static site (Hosting and caching)"
    return caching[0]


def nginx_maps(snippet: str) -> dict[str, list[tuple[str, str]]]:
    """`map $uri $NAME { KEY VALUE; ... }` → {NAME: [(key, value), ...]}, quotes removed."""
    maps = {}
    for name, body in re.findall(r"map \$uri \$(\w+) \{(.*?)\n\}", snippet, re.S):
        entries = []
        for line in map(str.strip, body.splitlines()):
            if not line or line.startswith("#"):
                continue
            match = re.fullmatch(r'("(?:[^"\\]|\\.)*"|\S+)\s+("[^"]*"|\S+);(?:\s*#.*)?', line)
            assert match, line
            entries.append(tuple(part.strip('"') for part in match.groups()))
        maps[name] = entries
    return maps


def nginx_map(entries: list[tuple[str, str]], uri: str) -> str:
    """nginx's choice: an exact key, else the first regex (`~`) that matches, else `default`."""
    exact = {key: value for key, value in entries if not key.startswith("~") and key != "default"}
    if uri in exact:
        return exact[uri]
    for key, value in entries:
        if key.startswith("~") and re.search(key[1:], uri):
            return value
    return dict(entries).get("default", "")


def test_the_readme_nginx_snippet_sends_what_headers_says(example_build: BuildResult) -> None:
    snippet = readme_nginx()
    maps = nginx_maps(snippet)
    sent = {name: value.strip('"') for name, value in re.findall(r'add_header (\S+) ("[^"]*"|\S+) always;', snippet)}
    assert set(sent) == {"Cache-Control", "Access-Control-Allow-Origin", *SECURITY}
    rules = parse_headers(example_build.outputs["_headers"].decode())
    for path in url_paths(example_build.outputs):
        nginx = {name: nginx_map(maps[value[1:]], path) if value.startswith("$") else value
                 for name, value in sent.items()}
        wanted = {name: values[0] for name, values in rules_for(rules, path).items()}
        assert {name: value for name, value in nginx.items() if value} == wanted, path


# --- Content-Security-Policy -------------------------------------------------------------------------

def policy(value: str) -> dict[str, list[str]]:
    """A Content-Security-Policy → {directive: sources}."""
    parts = [part.split() for part in value.split(";") if part.strip()]
    return {name: sources for name, *sources in parts}


def test_every_file_gets_a_policy_without_inline_code_eval_or_framing(example_build: BuildResult) -> None:
    rules = parse_headers(example_build.outputs["_headers"].decode())
    (value,) = rules_for(rules, "/en/incidents/2026-11-03-pdf-certificates-unavailable/")["Content-Security-Policy"]
    own = ["'self'", "https://status.example.org/"]  # the 404 page links by absolute URL
    assert policy(value) == {
        "default-src": ["'none'"], "script-src": own, "style-src": own, "img-src": own, "font-src": own,
        "connect-src": own,
        "form-action": ["https://status.example.org/subscriptions/"],  # the example's subscriptions.url
        "frame-ancestors": ["'none'"], "base-uri": ["'none'"]}
    assert rules_for(rules, "/")["X-Frame-Options"] == ["DENY"]
    assert "Strict-Transport-Security" not in rules_for(rules, "/")  # the host's to send (README)


@pytest.mark.parametrize(("subscriptions_url", "form_action"), [
    ("https://subscribe.example.net:8443/s/", ["https://subscribe.example.net:8443/s/"]),  # another origin
    (None, ["'none'"]),  # no form on the site posts anywhere
    ("https://example.org/a;b,c'd/", ["https://example.org/a%3Bb%2Cc%27d/"]),  # cannot end the directive
])
def test_forms_may_post_only_to_the_subscription_service(subscriptions_url: str | None, form_action: list[str]) -> None:
    found = policy(content_security_policy(config("https://status.example.org/", subscriptions_url)))
    assert found["form-action"] == form_action and len(found) == 9


def test_large_sites_get_a_sitemap_index(monkeypatch) -> None:
    import statusgen.site.seo as seo
    monkeypatch.setattr(seo, "SITEMAP_LIMIT", 2)
    files = sitemaps(["index.html", "history/index.html", "incidents/a/index.html"], config("https://s.example.org/"))
    assert sorted(files) == ["sitemap-1.xml", "sitemap-2.xml", "sitemap.xml"]
    index = ET.fromstring(files["sitemap.xml"])
    assert [s.findtext("s:loc", namespaces=NS) for s in index.findall("s:sitemap", NS)] == [
        "https://s.example.org/sitemap-1.xml", "https://s.example.org/sitemap-2.xml"]


def test_sitemap_entries_of_an_earlier_call_are_taken_only_for_the_same_pages() -> None:
    """`serve --watch` hands `sitemaps` the last build's entries: taken for a page whose
    translations are the same pages, made again for one that gained a translation."""
    from dataclasses import replace

    site = replace(config("https://s.example.org/"), languages=("en", "nl"))
    made: dict = {}
    first = sitemaps(["index.html", "history/index.html"], site, None, made)
    assert len(made) == 2
    known = {key: ["<url><loc>kept</loc></url>\n"] if key == (("en", "history/"),) else texts
             for key, texts in made.items()}
    again = sitemaps(["index.html", "history/index.html"], site, known)["sitemap.xml"]
    assert b"kept" in again and again != first["sitemap.xml"]
    more = sitemaps(["index.html", "history/index.html", "nl/history/index.html"], site, known)["sitemap.xml"]
    assert b"kept" not in more and b"https://s.example.org/nl/history/" in more
