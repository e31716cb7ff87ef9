"""sitemap.xml, robots.txt and _headers: what crawlers and static hosts read.

Made from the list of output files, so every page is listed exactly once, with its
translations as `hreflang` alternates. `_headers` (Netlify, Cloudflare Pages and others)
lets other sites read the API, feeds, calendars, badges and the banner script, says
how long browsers and CDNs may keep each file, and gives every file the site's security
headers (README, "Hosting and caching"), which the live preview sends too.
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

FRESH = "public, max-age=60, stale-if-error=86400"
"""Cache-Control of everything a reader or a client polls (pages, API, feeds, calendars,
badges, the banner script, sitemap): an update reaches everyone within a minute, and a CDN
that honours `stale-if-error` keeps showing the last status for a day if the host fails.
No `stale-while-revalidate`: it would let a cache show a copy older than a minute."""
STATIC = "public, max-age=3600, stale-while-revalidate=86400"
"""Cache-Control of static/* (the theme's stylesheet and icon). Their names carry no
fingerprint (a site's own templates and the subscription service link them as they are),
so an hour, not a year; after that a browser uses its copy once more while it refreshes it."""
STATIC_DIR = "static"

PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
"""Powerful features no status page uses, off for the page and anything it might ever embed."""


Entries = dict[tuple[tuple[str, str], ...], list[str]]
"""The sitemap's entries of a page in each of its languages, by those pages
(`{language: site path}.items()`): what `sitemaps` can take from an earlier call."""


def seo_outputs(paths: Iterable[str], config: SiteConfig, known: Entries | None = None,
                made: Entries | None = None) -> dict[str, bytes]:
    """The files for crawlers and hosts, given the path of every other output file.
    `known`, `made`: see `sitemaps`."""
    paths = list(paths)
    files = {**sitemaps(paths, config, known, made), "robots.txt": robots(config)}
    return {**files, "_headers": headers(config, paths + list(files))}


def sitemaps(pages: Iterable[str], config: SiteConfig, known: Entries | None = None,
             made: Entries | None = None) -> dict[str, bytes]:
    """The sitemap (or its parts and index). `known`: entries of an earlier call with the
    same `config`, taken instead of made again (`serve --watch`: a new incident adds two
    pages to 25,000); `made`, if given, gets every entry of this call, for the next."""
    translations = _translations(pages, config)
    known = {} if known is None else known
    made = {} if made is None else made
    entries = []
    for neutral in sorted(translations):
        found = translations[neutral]
        key = tuple(found.items())
        texts = known.get(key)
        if texts is None:
            texts = [_entry(config, page_path, found) for page_path in found.values()]
        made[key] = texts
        entries += texts
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


def headers(config: SiteConfig, paths: Iterable[str]) -> bytes:
    """`_headers`: security headers for every file, cross-origin reads where other sites read,
    and one Cache-Control per file.

    Hosts differ when several rules that set the same header match one path (Cloudflare
    Pages joins the values with a comma, which leaves two `max-age`s), so the Cache-Control
    rules never overlap: one per top-level file or folder of the output, `static/*` apart.
    """
    base = urlsplit(config.base_url).path or "/"
    rules: dict[str, list[str]] = {f"{base}*": [f"{name}: {value}"
                                                for name, value in security_headers(config).items()]}
    for pattern, value in cache_rules(paths):
        rules.setdefault(base + pattern, []).append(f"Cache-Control: {value}")
    prefixes = [urls.lang_prefix(config, lang) for lang in config.languages]
    for path in [prefix + pattern for prefix in prefixes for pattern in PER_LANGUAGE] + list(SHARED):
        rules.setdefault(base + path, []).append("Access-Control-Allow-Origin: *")
    return "".join(f"{pattern}\n" + "".join(f"  {line}\n" for line in lines)
                   for pattern, lines in rules.items()).encode()


def security_headers(config: SiteConfig) -> dict[str, str]:
    """The headers every file of the site gets, wherever it is served (`_headers`, the
    README's nginx snippet, `statusgen serve`).

    No Strict-Transport-Security: it binds the whole host (other paths on it too, when the
    site lives below a path) for as long as its max-age, so it belongs to whoever runs the
    host's TLS, not to a folder of static files (README, "Hosting and caching").
    """
    return {
        "Content-Security-Policy": content_security_policy(config),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Frame-Options": "DENY",
        "Permissions-Policy": PERMISSIONS,
    }


def content_security_policy(config: SiteConfig) -> str:
    """What the pages load: their own scripts (live.js), stylesheet, icon and images, and
    summary.json for live.js; no inline script or style, no `eval`, no plugin. The
    subscribe form posts only to the subscription service, which may be on another origin
    (`subscriptions.url`).

    The site's own files are `'self'` or below `base_url`: the 404 page links them by
    absolute URL (it is served at any depth), so a copy served elsewhere (a host's preview
    address, `statusgen serve`) still gets its styles. No narrower than `'self'` for the
    rest: a path in a source is ignored after a redirect anyway. No page is meant to be
    framed (the banner for partners' portals is a script, `embed/banner.js`, that their
    page loads), so `frame-ancestors 'none'`.
    """
    own = f"'self' {_csp_source(config.base_url)}"
    form = _csp_source(config.subscriptions_url) if config.subscriptions_url else "'none'"
    return (f"default-src 'none'; script-src {own}; style-src {own}; img-src {own}; font-src {own}; "
            f"connect-src {own}; form-action {form}; frame-ancestors 'none'; base-uri 'none'")


def _csp_source(url: str) -> str:
    """A URL as a CSP source expression: the characters that would end a directive, a
    policy or a quoted keyword percent-encoded (CSP compares paths percent-decoded)."""
    return url.replace(";", "%3B").replace(",", "%2C").replace("'", "%27")


def cache_rules(paths: Iterable[str]) -> list[tuple[str, str]]:
    """(pattern below the site's base path, Cache-Control) for every top-level file and
    folder of the output: `static/*` cached for long, the rest fresh within a minute."""
    files, folders = set(), set()
    for path in paths:
        first, slash, _ = path.partition("/")
        (folders if slash else files).add(first)
    rules = [("", FRESH)] if "index.html" in files else []  # the site's root URL
    rules += [(name, FRESH) for name in sorted(files)]
    rules += [(f"{name}/*", STATIC if name == STATIC_DIR else FRESH) for name in sorted(folders)]
    return rules
