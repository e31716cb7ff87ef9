"""sitemap.xml, robots.txt and _headers: what crawlers and static hosts read.

Made from the list of rendered pages, so every page is listed exactly once, with its
translations as `hreflang` alternates. `_headers` (Netlify, Cloudflare Pages and others)
lets other sites read the API, feeds, calendars, badges and the banner script.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

from statusgen.site import urls
from statusgen.content.model import SiteConfig

SITEMAP_LIMIT = 50_000  # URLs per sitemap file, as sitemaps.org allows
SITEMAP_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml"'
PER_LANGUAGE = ("api/*", "history.atom", "history.rss", "maintenance.ics", "components/*", "badge.svg",
                "badge.json")
"""Paths other sites may read, under every language's prefix."""
SHARED = ("embed/*",)


def seo_outputs(pages: Iterable[str], config: SiteConfig) -> dict[str, bytes]:
    """The files for crawlers and hosts, given the paths of every rendered HTML file."""
    return {**sitemaps(pages, config), "robots.txt": robots(config), "_headers": headers(config)}


def sitemaps(pages: Iterable[str], config: SiteConfig) -> dict[str, bytes]:
    translations = _translations(pages, config)
    entries = [_entry(config, page_path, translations[neutral])
               for neutral in sorted(translations) for page_path in translations[neutral].values()]
    if len(entries) <= SITEMAP_LIMIT:
        return {"sitemap.xml": _urlset(entries)}
    chunks = [entries[i:i + SITEMAP_LIMIT] for i in range(0, len(entries), SITEMAP_LIMIT)]
    files = {f"sitemap-{n}.xml": _urlset(chunk) for n, chunk in enumerate(chunks, start=1)}
    index = "".join(f"<sitemap><loc>{urls.absolute(config, name)}</loc></sitemap>\n" for name in files)
    files["sitemap.xml"] = (f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex {SITEMAP_NS}>\n'
                            f"{index}</sitemapindex>\n").encode()
    return files


def _translations(pages: Iterable[str], config: SiteConfig) -> dict[str, dict[str, str]]:
    """Site path without language → {language: site path} for every listed page."""
    found: dict[str, dict[str, str]] = defaultdict(dict)
    prefixes = {urls.lang_prefix(config, lang): lang for lang in config.languages}
    for page in pages:
        if not page.endswith(".html") or page.rsplit("/", 1)[-1] == "404.html":
            continue
        path = page.removesuffix("index.html")
        first = path.split("/", 1)[0] + "/"
        lang = prefixes.get(first, config.default_language)
        neutral = path.removeprefix(first) if first in prefixes and lang != config.default_language else path
        found[neutral][lang] = path
    return found


def _entry(config: SiteConfig, path: str, translations: dict[str, str]) -> str:
    links = "".join(f'<xhtml:link rel="alternate" hreflang="{lang}" href={quoteattr(urls.absolute(config, p))}/>'
                    for lang, p in sorted(translations.items())) if len(translations) > 1 else ""
    return f"<url><loc>{urls.absolute(config, path)}</loc>{links}</url>\n"


def _urlset(entries: list[str]) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {SITEMAP_NS}>\n'
            f'{"".join(entries)}</urlset>\n').encode()


def robots(config: SiteConfig) -> bytes:
    return f"User-agent: *\nAllow: /\nSitemap: {urls.absolute(config, 'sitemap.xml')}\n".encode()


def headers(config: SiteConfig) -> bytes:
    base = urlsplit(config.base_url).path or "/"
    prefixes = [urls.lang_prefix(config, lang) for lang in config.languages]
    readable = [prefix + pattern for prefix in prefixes for pattern in PER_LANGUAGE] + list(SHARED)
    blocks = [f"{base}*\n  X-Content-Type-Options: nosniff\n  Referrer-Policy: strict-origin-when-cross-origin\n"]
    blocks += [f"{base}{path}\n  Access-Control-Allow-Origin: *\n" for path in readable]
    return "".join(blocks).encode()
