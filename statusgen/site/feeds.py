"""RSS 2.0 and Atom feeds: site-wide, per component and group, per language.

Every language gets the same set, the default language at the root and the others under
`LANG/` (as the pages): `history.atom|rss` for the whole site (Statuspage's paths) and
`components/ID/history.atom|rss` for every component and group; a group's feed carries
the incidents of its components.

One entry per incident or maintenance (upcoming maintenance too: it has been announced),
its content the whole timeline. What readers rely on, and so what never moves:

- An entry's id (Atom `id`, RSS `guid`) is a `tag:` URI made from the incident's file
  name, e.g. `tag:status.example.org,2026:/incidents/2026-11-03-pdf-down`: the same in
  every build, feed and language, whatever else is edited, so a reader shows an updated
  incident as the same item instead of a new one.
- An entry's date moves with every published update: Atom `updated` is the latest update,
  `published` the first; RSS has one date, so its `pubDate` is the latest update.
- A feed's `updated` (RSS `lastBuildDate`) is its newest entry's, never the build time:
  a rebuild that changes nothing gives the same bytes, and readers see no false news.

A text not written in the feed's language shows another language's (`Text.lang_of`), and
says so (WCAG 3.1.2): in the entry's HTML each such text sits in a `<div lang>`; in Atom an
entry's `<title>` carries `xml:lang` when the title falls back, and its `<content>` when
every text in it is in one other language (then the feed's own words inside, the statuses
and dates, carry `lang` of the feed). RSS has one `<language>` per channel and no way to
mark a part, so it keeps the channel's and has only the HTML's `lang`.

Each feed lists only the `FEED_SIZE` most recently updated incidents, newest first: a
feed is for news, the history pages are the archive, and a site with 10,000 incidents
must not write every one of them into every feed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from feedgen.ext.base import BaseEntryExtension
from feedgen.feed import FeedGenerator
from lxml import etree
from markupsafe import Markup

from statusgen.site import urls
from statusgen.markup import render_markdown
from statusgen.content.model import Site, SiteConfig, Text, Update
from statusgen.site.reuse import newest_index
from statusgen.site.state import IncidentState, SiteState, incidents_by_item
from statusgen.site.theme import Theme, Translator

if TYPE_CHECKING:
    from statusgen.site.incremental import RenderMemo

log = logging.getLogger(__name__)

FEED_SIZE = 50
"""Entries per feed: the most recently updated incidents and maintenance."""
TAG_DATE = "2026"
"""The date in every `tag:` URI. It is part of every id, so it is fixed here rather than
taken from anything that can change (Rails' `atom_feed`, which Statuspage uses, fixes 2005)."""
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)
"""`updated` of a feed with no entries: Atom requires one, and the build time would change
the bytes of every rebuild."""
_UPDATE = Markup("<p{3}><strong>{0}</strong> · {1}</p>\n{2}\n")
_WINDOW = Markup("<p{3}>{0} {1} – {2}</p>\n")
_POSTMORTEM = Markup("<h2{2}>{0}</h2>\n{1}\n")
_LANG = Markup(' lang="{0}"')
_IN_LANGUAGE = Markup('<div lang="{0}">{1}</div>')
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def feed_outputs(state: SiteState, theme: Theme, memo: RenderMemo | None = None) -> dict[str, bytes]:
    """Output path → file content: an Atom and an RSS file per language and feed.

    With a `memo`, a feed whose entries are unchanged since the last build is reused.
    """
    config = state.site.config
    selections = feed_selections(state.site, _newest_first(state, memo))
    outputs: dict[str, bytes] = {}
    for lang in config.languages:
        writer = _FeedWriter(state.site, Translator(lang, theme.messages(lang), config.timezone), memo)
        for item_id in item_ids(state.site):
            selection = selections.get(item_id, [])
            if memo is None:
                outputs.update(writer.outputs(item_id, selection))
            else:
                fingerprint = (memo.site_key, memo.digests(selection))
                outputs.update(memo.recall(f"feed:{lang}", item_id, fingerprint,
                                           lambda w=writer, i=item_id, s=selection: w.outputs(i, s)))
    return outputs


def feed_selections(site: Site, newest: list[IncidentState]) -> dict[str, list[IncidentState]]:
    """`incidents_by_item(site, newest, FEED_SIZE)`, looking only as far back as it must:
    the newest few hundred incidents fill most feeds, and this runs on every rebuild."""
    wanted = len(item_ids(site))
    reach = FEED_SIZE * 8
    while True:
        selections = incidents_by_item(site, newest[:reach], FEED_SIZE)
        full = sum(len(selection) == FEED_SIZE for selection in selections.values())
        if reach >= len(newest) or full == wanted:
            return selections
        reach *= 4


def newest_first(incidents: Iterable[IncidentState]) -> list[IncidentState]:
    """Most recently updated first; the file id breaks ties so the order never wobbles."""
    return sorted(incidents, key=_updated, reverse=True)


def _newest_first(state: SiteState, memo: RenderMemo | None) -> list[IncidentState]:
    """`newest_first(state.incidents)`; with a memo, the last build's list with the incidents
    replaced since (`RenderMemo.delta`) taken out and put back in their places, not a sort
    of 10,000 again."""
    carried: list[IncidentState] | None = None if memo is None else memo.carried("feed-order", ())
    found = None
    if carried is not None and memo is not None and memo.delta is not None:
        delta = memo.delta
        found = carried if not delta.replaced else _patched(carried, delta.before, delta.after, delta.replaced)
    if found is None:
        found = newest_first(state.incidents)
    if memo is not None:
        memo.carry("feed-order", (), found)
    return found


def _patched(order: list[IncidentState], before: dict[str, IncidentState], after: dict[str, IncidentState],
             replaced: Iterable[str]) -> list[IncidentState] | None:
    """`order` (newest first) with the `before` states of `replaced` taken out and their
    `after` states put in; None if one is not where it should be."""
    found = list(order)
    for incident_id in replaced:
        if (old := before.get(incident_id)) is not None:
            place = newest_index(found, old, by=_updated)
            if place >= len(found) or found[place] is not old:
                return None
            del found[place]
    for incident_id in replaced:
        if (new := after.get(incident_id)) is not None:
            found.insert(newest_index(found, new, by=_updated), new)
    return found


def _updated(entry: IncidentState) -> tuple[datetime, str]:
    """The order of `newest_first`."""
    return entry.updated_at, entry.id


def item_ids(site: Site) -> list[str]:
    """What has its own feeds and calendar: the whole site (`""`), then every group and
    component in page order."""
    return ["", *(g.id for g in site.groups), *(c.id for c in site.components)]


def item_folder(config: SiteConfig, lang: str, item_id: str) -> str:
    """Where an item's feeds and calendar sit: beside its page, the site's (`""`) at the home page."""
    return urls.component(config, lang, item_id) if item_id else urls.home(config, lang)


def item_names(site: Site, lang: str) -> dict[str, str]:
    """Every group's and component's name in one language, looked up once per build."""
    return {item.id: item.name[lang] for item in [*site.groups, *site.components]}


def tag_uri(config: SiteConfig, path: str) -> str:
    """A `tag:` URI (RFC 4151) for a site path, e.g. `tag:status.example.org,2026:/incidents/x`."""
    base = urlsplit(config.base_url)
    return f"tag:{base.hostname},{TAG_DATE}:{base.path or '/'}{path}"


class LanguageParts(BaseEntryExtension):  # type: ignore[misc]
    """feedgen's way into an Atom entry as it is written: `xml:lang` on its `<title>` and
    `<content>` where they are in another language than the feed (set on the entries that
    need it only, so every other entry and feed stays as it was)."""

    def __init__(self) -> None:
        self.languages: dict[str, str] = {}
        """Element name (`title`, `content`) → the language it is in."""

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        for name, lang in self.languages.items():
            element = entry.find(name)
            if element is not None:
                element.set(XML_LANG, lang)
        return entry


def content_language(incident: IncidentState, lang: str) -> str | None:
    """The one other language every text of an entry's content is in, if there is one
    (automatic maintenance steps are the feed's own words)."""
    item = incident.incident
    texts: list[Text] = [u.body for u in incident.updates if not u.automatic]
    automatic = len(texts) < len(incident.updates)
    texts += [item.postmortem] if item.postmortem and item.postmortem[lang].strip() else []
    shown = {text.lang_of(lang) for text in texts} | ({lang} if automatic else set())
    return shown.pop() if len(shown) == 1 and lang not in shown else None


def update_markdown(update: Update, t: Translator) -> str:
    """An update's text in `t`'s language; automatic maintenance steps get the theme's words."""
    return t("automatic." + update.status) if update.automatic else update.body[t.lang]


class _FeedWriter:
    """The feeds of one language; an entry's content is rendered once for all its feeds
    (and with a `memo`, once for all builds while the incident is unchanged)."""

    def __init__(self, site: Site, t: Translator, memo: RenderMemo | None = None) -> None:
        self.config, self.t, self.lang = site.config, t, t.lang
        self.names = item_names(site, t.lang)
        self.contents: dict[str, str] = {}
        self.memo = memo

    def outputs(self, item_id: str, incidents: list[IncidentState]) -> dict[str, bytes]:
        """`history.atom` and `history.rss` of the site (`item_id` "") or of a component or group."""
        config, lang = self.config, self.lang
        folder = item_folder(config, lang, item_id)
        atom = self.generator(item_id, folder + "history.atom", incidents, rss=False)
        rss = self.generator(item_id, folder + "history.rss", incidents, rss=True)
        return {folder + "history.atom": atom.atom_str(pretty=True),
                folder + "history.rss": rss.rss_str(pretty=True)}

    def generator(self, item_id: str, path: str, incidents: list[IncidentState],
                  rss: bool) -> FeedGenerator:
        config, t = self.config, self.t
        site_title = config.title[self.lang]
        feed = FeedGenerator()
        feed.id(tag_uri(config, path))
        if item_id:
            name = self.names[item_id]
            feed.title(t("feed.item_title", site=site_title, name=name))
            feed.subtitle(t("feed.item_subtitle", site=site_title, name=name))
        else:
            feed.title(t("feed.title", site=site_title))
            feed.subtitle(t("feed.subtitle", site=site_title))
        page = urls.component(config, self.lang, item_id) if item_id else urls.history(config, self.lang)
        media_type = "application/rss+xml" if rss else "application/atom+xml"
        # feedgen takes the RSS channel's <link> from the last link added: the page.
        feed.link(href=urls.absolute(config, path), rel="self", type=media_type)
        feed.link(href=urls.absolute(config, page), rel="alternate", type="text/html", hreflang=self.lang)
        feed.language(self.lang)
        feed.author(name=site_title)
        feed.generator("statusgen")
        feed.updated(incidents[0].updated_at if incidents else EMPTY_FEED_UPDATED)
        for incident in incidents:
            self.entry(feed, incident, rss)
        return feed

    def entry(self, feed: FeedGenerator, incident: IncidentState, rss: bool) -> None:
        config, lang = self.config, self.lang
        entry = feed.add_entry(order="append")
        entry.guid(tag_uri(config, f"incidents/{incident.id}"), permalink=False)
        title = incident.incident.title
        entry.title(title[lang])
        languages = {"title": title.lang_of(lang)} if title.is_fallback(lang) else {}
        if content := content_language(incident, lang):
            languages["content"] = content
        if languages and not rss:
            entry.register_extension("language_parts", LanguageParts, atom=True, rss=False)
            entry.language_parts.languages = languages
        # An entry link's rel, type and hreflang are lost in feedgen 1.0 (it reads them from
        # the new element); Atom's default rel is alternate, which is what this link is.
        entry.link(href=urls.absolute(config, urls.incident(config, lang, incident.id)))
        entry.content(self.content(incident), type="html")
        entry.updated(incident.updated_at)
        entry.published(incident.updated_at if rss else incident.created_at)
        if categories := self.categories(incident.incident.component_ids, rss):
            entry.category(categories)

    def categories(self, component_ids: tuple[str, ...], rss: bool) -> list[dict[str, str]]:
        """The affected components; RSS has room for one value: the name readers show."""
        if rss:
            return [{"term": self.names[cid]} for cid in component_ids]
        scheme = urls.absolute(self.config, "components/")  # the same in every language, as the ids
        return [{"term": cid, "label": self.names[cid], "scheme": scheme} for cid in component_ids]

    def content(self, incident: IncidentState) -> str:
        """The whole timeline as HTML, newest update first as on the page, then the post-mortem."""
        if incident.id not in self.contents:
            memo = self.memo
            self.contents[incident.id] = self.timeline(incident) if memo is None else memo.recall(
                f"feed-content:{self.lang}", incident.id, (memo.site_key, memo.digest(incident)),
                lambda: self.timeline(incident))
        return self.contents[incident.id]

    def timeline(self, incident: IncidentState) -> str:
        """`content` made anew."""
        t, item, lang = self.t, incident.incident, self.lang
        # When Atom's <content> says it is in another language, the feed's own words say theirs.
        own = _LANG.format(lang) if content_language(incident, lang) else Markup("")
        parts = []
        if item.window:
            parts.append(_WINDOW.format(t("colon", label=t("window")), t.datetime(item.window.start),
                                        t.datetime(item.window.end), own))
        for update in reversed(incident.updates):
            body = render_markdown(update_markdown(update, t))
            parts.append(_UPDATE.format(t("status." + update.status), t.datetime(update.at),
                                        body if update.automatic else self.in_language(update.body, body), own))
        if item.postmortem and item.postmortem[lang].strip():
            parts.append(_POSTMORTEM.format(t("postmortem"), self.in_language(
                item.postmortem, render_markdown(item.postmortem[lang])), own))
        return str(Markup("").join(parts)).strip()

    def in_language(self, text: Text, rendered: Markup) -> Markup:
        """`rendered` (`text` as HTML), in a `<div lang>` when it is another language's."""
        return _IN_LANGUAGE.format(text.lang_of(self.lang), rendered) if text.is_fallback(self.lang) else rendered
