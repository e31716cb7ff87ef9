"""Old incident links keep working: `incidents/ALIAS/` for every alias of an incident.

An incident moved from Statuspage or cState keeps its old ids as `aliases:`
(`Incident.aliases`); links to them are in emails, tickets and chat logs for years.
For each alias of each published incident, in every language:

    incidents/ALIAS/index.html     a tiny page: meta refresh + canonical to incidents/ID/,
                                   noindex, and a visible link (works on every static host)
    _redirects                     `/incidents/ALIAS/ /incidents/ID/ 301`, one line each
                                   (Netlify and Cloudflare Pages answer with a real 301)

Both are made after `seo`, so neither is listed in sitemap.xml nor given header rules of
its own (the pages fall under `incidents/*`, which every site with an incident has).
Nothing is written for a site without aliases, so its output is as before.

Hosts differ (README, "Hosting and caching"): Cloudflare Pages applies `_redirects` before
any file, but reads at most 2,000 such lines; Netlify serves an existing file before a rule
that is not forced (`301!`), which Cloudflare would reject as a bad line, so on Netlify
the page's refresh does the redirect. Either way the old link lands on the incident.
"""

from __future__ import annotations

from collections.abc import Hashable
from urllib.parse import urlsplit

from markupsafe import Markup

from statusgen.content.model import SiteConfig, Text
from statusgen.site import urls
from statusgen.site.incremental import RenderMemo
from statusgen.site.state import SiteState

REDIRECTS_FILE = "_redirects"
PAGE = Markup(
    '<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n'
    '<meta name="robots" content="noindex">\n<meta http-equiv="refresh" content="0; url={link}">\n'
    '<link rel="canonical" href="{canonical}">\n</head>\n<body>\n<p><a href="{link}">{title}</a></p>\n'
    "</body>\n</html>\n"
)
"""The redirect page; `Markup.format` escapes every value put into it."""

Moved = tuple[tuple[str, tuple[str, ...], Text], ...]
"""(incident id, its aliases, its title) of every published incident with aliases."""


def redirect_outputs(state: SiteState, memo: RenderMemo | None = None) -> dict[str, bytes]:
    """Every redirect page and `_redirects`; none without aliases. With a memo, reused
    while the aliases, their incidents' titles and the settings are the same."""
    moved: Moved = tuple((entry.id, entry.incident.aliases, entry.incident.title) for entry in state.incidents
                  if entry.incident.aliases)
    if not moved:
        return {}
    config = state.site.config
    if memo is None:
        return _redirects(config, moved)
    fingerprint: Hashable = (config, moved)
    return memo.recall("redirects", "", fingerprint, lambda: _redirects(config, moved))


def _redirects(config: SiteConfig, moved: Moved) -> dict[str, bytes]:
    outputs: dict[str, bytes] = {}
    lines = []
    base = urlsplit(config.base_url).path or "/"
    for incident_id, aliases, title in sorted(moved, key=lambda item: item[0]):
        for lang in config.languages:
            target = urls.incident(config, lang, incident_id)
            for alias in aliases:
                old = urls.incident(config, lang, alias)
                outputs[urls.file_of(old)] = redirect_page(config, lang, old, target, title[lang])
                lines.append(f"{base}{old} {base}{target} 301\n")
    outputs[REDIRECTS_FILE] = "".join(sorted(lines)).encode()
    return outputs


def redirect_page(config: SiteConfig, lang: str, old: str, target: str, title: str) -> bytes:
    """The page at site path `old` that sends its reader to `target`."""
    page = PAGE.format(lang=lang, title=title, link=urls.relative(old, target),
                       canonical=urls.absolute(config, target))
    return str(page).encode()
