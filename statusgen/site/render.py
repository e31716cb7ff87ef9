"""Stage 3 of the build: the site's state → every output file, in memory.

Nothing is written here; `render_site` returns the complete set of outputs so that
`output.write_site` can swap them into place at once, or not at all.

Given a `RenderMemo` (serve mode), a page is rendered again only when its fingerprint
changed: the site-wide inputs every page shows (theme files, language, settings,
components and groups, the menu) plus the page's own, listed where the page is made
(`inputs=`). A template that shows more than that must add it there, or a rebuild
would keep an outdated page. The home page shows nearly everything and is always made.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from markupsafe import Markup

from statusgen.site import api, badges, embed, feeds, ical, seo, snapshot, urls
from statusgen import workers
from statusgen.errors import BuildError
from statusgen.site.incremental import RenderMemo, digest
from statusgen.markup import render_markdown, render_prose
from statusgen.content.model import COMPONENT_STATUSES, Incident, Page, Site, SiteConfig, Update
from statusgen.site.shared import SharedPieces
from statusgen.site.state import IncidentState, SiteState, incidents_by_item
from statusgen.site.theme import Theme, Translator
from statusgen.times import iso_time
from statusgen.site.uptime import WEIGHTS, ComponentUptime

log = logging.getLogger(__name__)


MACHINE_OUTPUTS = (feeds.feed_outputs, ical.calendar_outputs, api.api_outputs, badges.badge_outputs,
                   embed.embed_outputs, snapshot.snapshot_outputs)
"""What machines and other sites read: each maps (state, theme) to {path: bytes}."""
REMEMBERING: tuple[Callable[..., dict[str, bytes]], ...] = (feeds.feed_outputs, api.api_outputs,
                                                          snapshot.snapshot_outputs)
"""Machine outputs that take a `memo` themselves and reuse their parts across builds."""

_STATUS = Markup('<span class="status s-{0}"><span class="icon" aria-hidden="true"></span>{1}</span>')
_TIME = Markup('<time datetime="{0}">{1}</time>')
_IMPACT = Markup('<span class="impact i-{0}">{1}</span>')
_AUTOMATIC = Markup("<p>{0}</p>")


class Outputs(dict[str, bytes]):
    """Output files by path; writing one path twice is a bug in the theme or the site."""

    def add(self, path: str, content: str | bytes) -> None:
        if path in self:
            raise BuildError(f"two outputs would be written to {path!r}")
        if path.startswith("/") or ".." in path.split("/") or not path:
            raise BuildError(f"refusing to write outside the output folder: {path!r}")
        self[path] = content.encode("utf-8") if isinstance(content, str) else content

    def merge(self, checked: dict[str, bytes]) -> None:
        """Add outputs whose paths were checked by `add` already (in a worker, or when the
        memo first kept them); only a path written twice is still an error."""
        if twice := self.keys() & checked.keys():
            raise BuildError(f"two outputs would be written to {min(twice)!r}")
        self.update(checked)


def paginate(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """Pages of at most `size` items; always at least one (possibly empty) page."""
    return [items[i:i + size] for i in range(0, len(items), size)] or [items[:0]]


def render_site(state: SiteState, uptime: dict[str, ComponentUptime], theme: Theme,
                parallel: bool = True, memo: RenderMemo | None = None) -> Outputs:
    """Every output file; the languages render side by side on machines with several cores.

    With a `memo`, outputs whose fingerprint is unchanged since the memo's last build are
    taken from it instead of being rendered again.
    """
    outputs = Outputs()
    theme_key = theme_digest(theme) if memo else b""
    uptime_keys = {cid: digest(figures) for cid, figures in uptime.items()} if memo else {}
    if memo is not None:
        memo.site_key = machine_inputs(state, theme_key)
    job = _Job(state, uptime, theme, _IncidentIndex(state), memo, theme_key, uptime_keys)
    rest = Outputs()

    def other_outputs() -> None:  # made here while forked workers render the pages
        for name, file in theme.static_files():
            rest.add(f"static/{name}", file.read_bytes())
        rest.add("api/uptime.json", uptime_json(state, uptime) if memo is None else memo.recall(
            "uptime-json", "", (memo.site_key, state.now, tuple(uptime_keys.items())),
            lambda: uptime_json(state, uptime)))
        for path, content in machine_outputs(state, theme, memo):
            rest.add(path, content)

    for part in _render_pages(job, parallel, other_outputs):
        outputs.merge(part)
    if memo is not None:
        memo.outputs["pages"] = len(outputs)
    outputs.merge(rest)
    for path, content in _seo_files(list(outputs), state.site.config, memo).items():
        outputs.add(path, content)
    return outputs


def _render_pages(job: _Job, parallel: bool, meanwhile: Callable[[], None]) -> list[dict[str, bytes]]:
    """Every language's pages; in forked workers when there are many to render, while this
    process runs `meanwhile` (else it runs it first)."""
    global _job
    languages = job.state.site.config.languages
    processes = workers.available(len(languages)) if parallel else 1
    if job.memo is not None and not _all_pages_change(job.state, job.theme_digest, job.memo):
        processes = 1  # a few pages: starting workers would take longer than rendering them
    _job = job
    try:
        if processes == 1:
            meanwhile()
            return [_render_language(lang) for lang in languages]
        # Forked workers inherit the state (and the memo); only new bytes travel back.
        with workers.forked(processes) as pool:
            pending = pool.map_async(_render_in_worker, languages)
            meanwhile()
            parts = pending.get()
    finally:
        _job = None
    if job.memo is None:
        return parts
    return [job.memo.absorb(part).get(_page_kind(lang), {}) for lang, part in zip(languages, parts, strict=True)]


def _seo_files(html: list[str], config: SiteConfig, memo: RenderMemo | None) -> dict[str, bytes]:
    """sitemap and friends: made from the list of pages, so reused while it is the same."""
    if memo is None:
        return seo.seo_outputs(html, config)
    return memo.recall("seo", "", (config, tuple(html)), lambda: seo.seo_outputs(html, config))


@dataclass(frozen=True)
class _Job:
    """What every language's worker reads: inherited by forked workers, never sent."""

    state: SiteState
    uptime: dict[str, ComponentUptime]
    theme: Theme
    index: _IncidentIndex
    memo: RenderMemo | None
    theme_digest: bytes
    uptime_keys: dict[str, bytes]
    """A digest of each component's uptime figures (with a memo)."""


_job: _Job | None = None


def _all_pages_change(state: SiteState, theme_key: bytes, memo: RenderMemo) -> bool:
    """Whether some language's site-wide inputs changed since the memo's last build."""
    same = [memo.same("site", lang, site_inputs(state.site, lang, theme_key)) for lang in state.site.config.languages]
    return not all(same)


def site_inputs(site: Site, lang: str, theme_key: bytes) -> bytes:
    """What every page of a language shows besides its own content: the theme, settings,
    components and groups, and the menu of content pages."""
    menu = tuple(sorted((p.order, p.name, p.title) for p in site.pages if p.lang == lang))
    return digest((theme_key, lang, site.config, site.groups, site.components, site.layout, menu))


def _page_kind(lang: str) -> str:
    return f"page:{lang}"


def _render_language(lang: str) -> Outputs:
    assert _job is not None
    outputs = Outputs()
    _LanguagePages(_job, lang, outputs).render()
    return outputs


def _render_in_worker(lang: str) -> Any:
    """In a forked worker: the pages, or with a memo what it made (reused pages stay behind)."""
    assert _job is not None
    outputs = _render_language(lang)
    return outputs if _job.memo is None else _job.memo.export((_page_kind(lang), f"bars:{lang}"))


def theme_digest(theme: Theme) -> bytes:
    """A hash of every file of the theme folders (templates, translations, assets): any
    edit to the theme makes every page new."""
    import hashlib

    hasher = hashlib.blake2b(digest_size=16)
    for folder in theme.dirs:
        for root, _, names in sorted(os.walk(folder)):
            for name in sorted(names):
                file = os.path.join(root, name)
                hasher.update(f"{file}\0".encode("utf-8", "surrogateescape"))
                with open(file, "rb") as handle:
                    hasher.update(handle.read())
    return hasher.digest()


def machine_outputs(state: SiteState, theme: Theme, memo: RenderMemo | None) -> Iterator[tuple[str, bytes]]:
    """Every `MACHINE_OUTPUTS` file; with a memo, calendars are reused while the windows they
    list are unchanged, and feeds, API and snapshot reuse their parts."""
    for produce in MACHINE_OUTPUTS:
        if memo is None:
            yield from produce(state, theme).items()
        elif produce in REMEMBERING:
            yield from produce(state, theme, memo).items()
        elif produce is ical.calendar_outputs:
            fingerprint = (memo.site_key, memo.digests(ical.calendar_windows(state)))
            yield from memo.recall("ical", "", fingerprint, lambda p=produce: p(state, theme)).items()
        else:
            yield from produce(state, theme).items()


def machine_inputs(state: SiteState, theme_key: bytes) -> bytes:
    """What every machine output reads besides the incidents: theme, settings, catalog."""
    site = state.site
    return digest((theme_key, site.config, site.groups, site.components, site.layout))



class _IncidentIndex:
    """Incidents by component and group, and by recent day, each built in one pass."""

    def __init__(self, state: SiteState) -> None:
        self.by_component = incidents_by_item(state.site, state.incidents)
        self.recent_days = _recent_days(state)


def _recent_days(state: SiteState) -> list[tuple[date, list[IncidentState]]]:
    """The last `history_days` local days, newest first, with what started on each."""
    tz = state.site.config.timezone
    today = state.now.astimezone(tz).date()
    days = [today - timedelta(days=n) for n in range(state.site.config.history_days)]
    by_day: dict[date, list[IncidentState]] = {day: [] for day in days}
    for incident in state.incidents:  # newest first: stop at the first one too old
        if incident.started_at > state.now:
            continue
        day = incident.started_at.astimezone(tz).date()
        if day < days[-1]:
            break
        by_day[day].append(incident)
    return list(by_day.items())


class _LanguagePages:
    def __init__(self, job: _Job, lang: str, outputs: Outputs) -> None:
        state, theme = job.state, job.theme
        self.state, self.site, self.config = state, state.site, state.site.config
        self.uptime, self.theme, self.lang, self.index, self.outputs = job.uptime, theme, lang, job.index, outputs
        self.memo, self.kind = job.memo, _page_kind(lang)
        self.t = Translator(lang, theme.messages(lang), self.config.timezone)
        self.pages = [p for p in self.site.pages if p.lang == lang]
        self.pages.sort(key=lambda p: (p.order, p.name))
        self.bars: dict[str, Markup] = {}
        self.snippets: dict[object, Markup] = {}  # status and time markup recur on many pages
        self.language_names = {
            code: Translator(code, theme.messages(code), self.config.timezone).language_name
            for code in self.config.languages
        }
        self.site_inputs = site_inputs(self.site, lang, job.theme_digest) if self.memo is not None else b""
        self.uptime_keys = job.uptime_keys
        self.bars_keys: dict[str, bytes] = {}
        self.shared_pieces = SharedPieces(theme, self.shared_context, self.link_for)

    def status(self, value: str) -> Markup:
        """A component status as words with a symbol, never as colour alone."""
        if value not in self.snippets:
            self.snippets[value] = _STATUS.format(value, self.t("component_status." + value))
        return self.snippets[value]

    def impact(self, incident: Incident) -> Markup:
        """An incident's impact (with its priority, if it has one), or "Maintenance"."""
        key = ("impact", incident.is_maintenance, incident.impact, incident.priority)
        if key not in self.snippets:
            if incident.is_maintenance:
                self.snippets[key] = _IMPACT.format("maintenance", self.t("maintenance"))
            else:
                label = self.t("impact." + incident.impact)
                self.snippets[key] = _IMPACT.format(incident.impact,
                                                    f"{incident.priority} · {label}" if incident.priority else label)
        return self.snippets[key]

    def update_text(self, incident: Incident, update: Update) -> Markup:
        """What an update says: its text, or for a maintenance's automatic step the theme's."""
        if not update.automatic:
            return render_prose(update.body[self.lang], incident.title[self.lang])
        key = ("automatic", update.status)
        if key not in self.snippets:
            self.snippets[key] = _AUTOMATIC.format(self.t("automatic." + update.status))
        return self.snippets[key]

    def time(self, moment: datetime) -> Markup:
        if moment not in self.snippets:
            self.snippets[moment] = _TIME.format(moment.isoformat(), self.t.datetime(moment))
        return self.snippets[moment]

    def digests(self, incidents: Sequence[IncidentState]) -> tuple[bytes, ...]:
        return self.memo.digests(incidents) if self.memo is not None else ()

    def digest(self, incident: IncidentState) -> bytes:
        return self.memo.digest(incident) if self.memo is not None else b""

    def uptime_bars(self, component_id: str) -> Markup:
        """A component's uptime bars, rendered once per language and reused on every page
        (and, with a memo, by the next build while its figures are the same)."""
        if component_id not in self.bars:
            def make() -> Markup:
                return Markup(self.theme.render("uptime.html", t=self.t, lang=self.lang,
                                                figures=self.uptime[component_id]))
            self.bars[component_id] = make() if self.memo is None else self.memo.recall(
                f"bars:{self.lang}", component_id, (self.site_inputs, self.uptime_key(component_id)), make)
        return self.bars[component_id]

    def uptime_key(self, component_id: str) -> bytes:
        return self.uptime_keys[component_id]

    def status_inputs(self, component_ids: Sequence[str]) -> tuple[Hashable, ...]:
        """What a component page shows of components: their status now and uptime bars.

        The bars as drawn, not the figures: the figures move with every minute of `now`,
        the drawing (whole days, percentages to two decimals) far less often, and every
        page of a component's paginated history shows them.
        """
        if self.memo is None:
            return ()
        return tuple((cid, self.state.component_statuses[cid], self.bars_key(cid)) for cid in component_ids)

    def bars_key(self, component_id: str) -> bytes:
        if component_id not in self.bars_keys:
            self.bars_keys[component_id] = digest(str(self.uptime_bars(component_id)))
        return self.bars_keys[component_id]

    def render(self) -> None:
        config, lang, now = self.config, self.lang, self.state.now
        self.page("index.html", urls.home(config, lang), lambda l: urls.home(config, l), None,
                  last_updated=now)
        for incident in self.state.incidents:
            # An ongoing incident's page shows how long it has lasted, to the minute.
            lasting = None if incident.ended_at or incident.incident.is_maintenance else \
                int((now - incident.started_at).total_seconds() // 60)
            self.page("incident.html", urls.incident(config, lang, incident.id),
                      lambda l, i=incident.id: urls.incident(config, l, i),
                      (self.digest(incident), lasting), incident=incident)
        for item in [*self.site.groups, *self.site.components]:
            self.component_pages(item.id)
        chunks = paginate(self.state.incidents, config.page_size)
        for number, chunk in enumerate(chunks, start=1):
            self.page("history.html", urls.history(config, lang, number),
                      lambda l, n=number: urls.history(config, l, n), (len(chunks), self.digests(chunk)),
                      incidents=chunk, pagination=self.pagination(number, len(chunks), urls.history))
        self.page("subscribe.html", urls.subscribe(config, lang), lambda l: urls.subscribe(config, l), ())
        for content in self.pages:
            self.content_page(content)
        self.page("404.html", urls.lang_prefix(config, lang) + "404.html",
                  lambda l: urls.lang_prefix(config, l) + "404.html", (), absolute_links=True)

    def component_pages(self, item_id: str) -> None:
        config, lang = self.config, self.lang
        chunks = paginate(self.index.by_component.get(item_id, []), config.page_size)
        group = self.site.groups_by_id.get(item_id)
        shown = self.status_inputs(group.components if group else (item_id,))
        for number, chunk in enumerate(chunks, start=1):
            self.page("component.html", urls.component(config, lang, item_id, number),
                      lambda l, n=number: urls.component(config, l, item_id, n),
                      (shown, len(chunks), self.digests(chunk)),
                      item=group or self.site.components_by_id[item_id], is_group=group is not None,
                      follow_base=urls.component(config, lang, item_id),
                      incidents=chunk,
                      pagination=self.pagination(number, len(chunks),
                                                 lambda c, lg, n: urls.component(c, lg, item_id, n)))

    def content_page(self, content: Page) -> None:
        config, lang = self.config, self.lang
        self.page("page.html", urls.content_page(config, lang, content.name),
                  lambda l: urls.content_page(config, l, content.name), (content,), content=content)

    def pagination(self, number: int, total: int, path_of: Any) -> dict[str, Any]:
        return {
            "number": number, "total": total,
            "previous": path_of(self.config, self.lang, number - 1) if number > 1 else None,
            "next": path_of(self.config, self.lang, number + 1) if number < total else None,
        }

    def page(self, template: str, path: str, path_in: Any, inputs: Hashable | None,
             absolute_links: bool = False, **context: Any) -> None:
        """Render one page at site path `path`; `path_in(lang)` gives its translations.

        `inputs` is everything the page shows besides the site-wide inputs (None: it
        shows what changes with every build); with a memo, the last build's page is
        reused when they are unchanged.
        """
        file = urls.file_of(path)
        fingerprint = None if inputs is None or self.memo is None else (self.site_inputs, template, inputs)
        if fingerprint is not None:
            kept = self.memo.lookup(self.kind, file, fingerprint)  # type: ignore[union-attr]
            if isinstance(kept, bytes) and file not in self.outputs:  # (else `add` below says why)
                self.outputs[file] = kept  # its path was checked when it was first made
                return
        html = self.render_page(template, path, path_in, absolute_links, context)
        self.outputs.add(file, html)
        if self.memo is not None:
            self.memo.keep(self.kind, file, fingerprint, self.outputs[file])

    def site_context(self, link: Callable[[str], Any]) -> dict[str, Any]:
        """What every template sees: everything site-wide, and `link()`."""
        return dict(site=self.site, config=self.config, state=self.state, lang=self.lang, t=self.t, urls=urls,
                    link=link, menu=self.pages, uptime=self.uptime, index=self.index,
                    markdown=render_markdown, prose=render_prose, uptime_bars=self.uptime_bars,
                    status=self.status, time=self.time, impact=self.impact, update_text=self.update_text)

    def shared_context(self, link: Callable[[str], Any], slot: Callable[[str], Any]) -> dict[str, Any]:
        """What shared pieces see: the site-wide context, `slot()`, nothing of a page."""
        return {**self.site_context(link), "slot": slot}

    def link_for(self, path: str, absolute_links: bool) -> Callable[[str], str]:
        config = self.config

        def link(target: str) -> str:
            return urls.absolute(config, target) if absolute_links else urls.relative(path, target)
        return link

    def render_page(self, template: str, path: str, path_in: Any, absolute_links: bool,
                    context: dict[str, Any]) -> str:
        config = self.config
        link = self.link_for(path, absolute_links)

        alternates = [(code, urls.absolute(config, path_in(code)), self.language_names[code],
                       link(path_in(code))) for code in config.languages]
        context.setdefault("follow_base", urls.home(config, self.lang))
        context.setdefault("last_updated", None)
        chrome_args = {"last_updated": context["last_updated"]}

        def chrome(name: str, **slots: str) -> Markup:
            """The page's header or footer: `slots` are the page's own parts of it."""
            return self.shared_pieces.piece(name, path, absolute_links, chrome_args, slots)

        def shared(name: str, **args: Any) -> Markup:
            """A piece rendered once per `args`, e.g. an incident's summary in lists."""
            return self.shared_pieces.piece(name, path, absolute_links, args, {})

        return self.theme.render(template, **self.site_context(link), chrome=chrome, shared=shared, path=path,
                                 canonical=urls.absolute(config, path), alternates=alternates, **context)


def uptime_json(state: SiteState, uptime: dict[str, ComponentUptime]) -> str:
    """`api/uptime.json`: per component, the daily uptime and the 90-day percentage."""
    site = state.site
    lang = site.config.default_language
    components = []
    for component in site.components:
        figures = uptime[component.id]
        components.append({
            "id": component.id,
            "name": component.name[lang],
            "group_id": component.group,
            "uptime_percent": _rounded(figures.percent),
            "days": [{"date": day.day.isoformat(), "uptime_percent": _rounded(day.uptime),
                      "minutes": {status: round(m, 3) for status, m in day.minutes},
                      "incidents": list(day.incidents)} for day in figures.days],
        })
    document = {
        "generated_at": iso_time(state.now, site.config.timezone),
        "time_zone": site.config.timezone.key,
        "days": len(next(iter(uptime.values())).days) if uptime else 0,
        "weights": {s: WEIGHTS.get(s, 0.0) for s in COMPONENT_STATUSES if s != "operational"},
        "components": components,
    }
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
