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
from html import escape
from urllib.parse import urlsplit

from statusgen.content.model import SiteConfig, Text
from statusgen.site import urls
from statusgen.site.incremental import RenderMemo
from statusgen.site.state import IncidentState, SiteState

REDIRECTS_FILE = "_redirects"
PAGE = (
    '<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n<title>{title}</title>\n'
    '<meta name="robots" content="noindex">\n<meta http-equiv="refresh" content="0; url={link}">\n'
    '<link rel="canonical" href="{canonical}">\n</head>\n<body>\n<p><a href="{link}">{title}</a></p>\n'
    "</body>\n</html>\n"
)
"""The redirect page; `redirect_page` escapes every value put into it (a site imported from
Statuspage has one per old incident: 20,000 pages for 10,000 incidents in two languages,
so a template engine's overhead per page would show in the build's time)."""

Moved = tuple[tuple[str, tuple[str, ...], Text], ...]
"""(incident id, its aliases, its title) of every published incident with aliases."""


def _moved(state: SiteState, memo: RenderMemo | None) -> Moved:
    """Every published incident with aliases, in the order of the state; with a memo, the
    last build's, those of the incidents replaced since (`Delta`) taken again."""
    carried: dict[str, tuple[IncidentState, tuple[str, ...]]] | None = \
        None if memo is None else memo.carried("moved", ())
    if carried is None or memo is None or memo.delta is None:
        found = {entry.id: (entry, aliases) for entry in state.incidents if (aliases := _aliases(entry))}
    else:
        found = carried
        if memo.delta.replaced:
            found = {i: kept for i, kept in carried.items() if i not in memo.delta.replaced}
            for incident_id in memo.delta.replaced:
                entry = memo.delta.after.get(incident_id)
                if entry is not None and (aliases := _aliases(entry)):
                    found[incident_id] = (entry, aliases)
    if memo is not None:
        memo.carry("moved", (), found)
    ordered = sorted(found.values(), key=lambda kept: (kept[0].started_at, kept[0].id), reverse=True)
    return tuple((entry.id, aliases, entry.incident.title) for entry, aliases in ordered)


def _aliases(entry: IncidentState) -> tuple[str, ...]:
    # An alias that is the incident's own id (a cState file imported under its own name) is its page.
    return tuple(a for a in entry.incident.aliases if a != entry.id)


def redirect_outputs(state: SiteState, memo: RenderMemo | None = None) -> dict[str, bytes]:
    """Every redirect page and `_redirects`; none without aliases. With a memo, reused
    while the aliases, their incidents' titles and the settings are the same."""
    moved = _moved(state, memo)
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
            page = redirect_page(config, lang, target, title[lang])
            for alias in aliases:
                old = urls.incident(config, lang, alias)
                outputs[urls.file_of(old)] = page
                lines.append(f"{base}{old} {base}{target} 301\n")
    outputs[REDIRECTS_FILE] = "".join(sorted(lines)).encode()
    return outputs


def redirect_page(config: SiteConfig, lang: str, target: str, title: str) -> bytes:
    """The page at `incidents/ALIAS/` that sends its reader to the incident at site path
    `target`, which sits beside it (so the link is `../ID/`)."""
    link = "../" + target.rstrip("/").rpartition("/")[2] + "/"
    return PAGE.format(lang=escape(lang), title=escape(title), link=escape(link),
                       canonical=escape(urls.absolute(config, target))).encode()
