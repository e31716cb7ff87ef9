"""Stage 3 of the build: the site's state → every output file, in memory.

Nothing is written here; `render_site` returns the complete set of outputs so that
`output.write_site` can swap them into place at once, or not at all.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from markupsafe import Markup

from statusgen import api, badges, embed, feeds, ical, seo, snapshot, urls
from statusgen.errors import BuildError
from statusgen.markup import render_markdown
from statusgen.model import COMPONENT_STATUSES, Page
from statusgen.state import IncidentState, SiteState, incidents_by_item
from statusgen.theme import Theme, Translator
from statusgen.times import iso_time
from statusgen.uptime import WEIGHTS, ComponentUptime

log = logging.getLogger(__name__)


MACHINE_OUTPUTS = (feeds.feed_outputs, ical.calendar_outputs, api.api_outputs, badges.badge_outputs,
                   embed.embed_outputs, snapshot.snapshot_outputs)
"""What machines and other sites read: each maps (state, theme) to {path: bytes}."""

_STATUS = Markup('<span class="status s-{0}"><span class="icon" aria-hidden="true"></span>{1}</span>')
_TIME = Markup('<time datetime="{0}">{1}</time>')


class Outputs(dict[str, bytes]):
    """Output files by path; writing one path twice is a bug in the theme or the site."""

    def add(self, path: str, content: str | bytes) -> None:
        if path in self:
            raise BuildError(f"two outputs would be written to {path!r}")
        if path.startswith("/") or ".." in path.split("/") or not path:
            raise BuildError(f"refusing to write outside the output folder: {path!r}")
        self[path] = content.encode("utf-8") if isinstance(content, str) else content


def paginate(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """Pages of at most `size` items; always at least one (possibly empty) page."""
    return [items[i:i + size] for i in range(0, len(items), size)] or [items[:0]]


def render_site(state: SiteState, uptime: dict[str, ComponentUptime], theme: Theme,
                parallel: bool = True) -> Outputs:
    """Every output file; the languages render side by side on machines with several cores."""
    global _job
    outputs = Outputs()
    languages = state.site.config.languages
    _job = (state, uptime, theme, _IncidentIndex(state))
    processes = min(len(languages), os.cpu_count() or 1) if parallel else 1
    try:
        if processes > 1 and "fork" in multiprocessing.get_all_start_methods():
            # Forked workers inherit the state; only the rendered bytes travel back.
            with multiprocessing.get_context("fork").Pool(processes) as pool:
                parts = pool.map(_render_language, languages)
        else:
            parts = [_render_language(lang) for lang in languages]
    finally:
        _job = None
    for part in parts:
        for path, content in part.items():
            outputs.add(path, content)
    for name, file in theme.static_files():
        outputs.add(f"static/{name}", file.read_bytes())
    outputs.add("api/uptime.json", uptime_json(state, uptime))
    for produce in MACHINE_OUTPUTS:
        for path, content in produce(state, theme).items():
            outputs.add(path, content)
    for path, content in seo.seo_outputs(list(outputs), state.site.config).items():
        outputs.add(path, content)
    return outputs


_job: tuple[SiteState, dict[str, ComponentUptime], Theme, _IncidentIndex] | None = None


def _render_language(lang: str) -> Outputs:
    assert _job is not None
    state, uptime, theme, index = _job
    outputs = Outputs()
    _LanguagePages(state, uptime, theme, lang, index, outputs).render()
    return outputs


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
    def __init__(self, state: SiteState, uptime: dict[str, ComponentUptime], theme: Theme,
                 lang: str, index: _IncidentIndex, outputs: Outputs) -> None:
        self.state, self.site, self.config = state, state.site, state.site.config
        self.uptime, self.theme, self.lang, self.index, self.outputs = uptime, theme, lang, index, outputs
        self.t = Translator(lang, theme.messages(lang), self.config.timezone)
        self.pages = [p for p in self.site.pages if p.lang == lang]
        self.pages.sort(key=lambda p: (p.order, p.name))
        self.bars: dict[str, Markup] = {}
        self.snippets: dict[object, Markup] = {}  # status and time markup recur on many pages
        self.language_names = {
            code: Translator(code, theme.messages(code), self.config.timezone).language_name
            for code in self.config.languages
        }

    def status(self, value: str) -> Markup:
        """A component status as words with a symbol, never as colour alone."""
        if value not in self.snippets:
            self.snippets[value] = _STATUS.format(value, self.t("component_status." + value))
        return self.snippets[value]

    def time(self, moment: datetime) -> Markup:
        if moment not in self.snippets:
            self.snippets[moment] = _TIME.format(moment.isoformat(), self.t.datetime(moment))
        return self.snippets[moment]

    def uptime_bars(self, component_id: str) -> Markup:
        """A component's uptime bars, rendered once per language and reused on every page."""
        if component_id not in self.bars:
            self.bars[component_id] = Markup(self.theme.render(
                "uptime.html", t=self.t, lang=self.lang, figures=self.uptime[component_id]))
        return self.bars[component_id]

    def render(self) -> None:
        config, lang = self.config, self.lang
        self.page("index.html", urls.home(config, lang), lambda l: urls.home(config, l))
        for incident in self.state.incidents:
            self.page("incident.html", urls.incident(config, lang, incident.id),
                      lambda l, i=incident.id: urls.incident(config, l, i), incident=incident)
        for item in [*self.site.groups, *self.site.components]:
            self.component_pages(item.id)
        chunks = paginate(self.state.incidents, config.page_size)
        for number, chunk in enumerate(chunks, start=1):
            self.page("history.html", urls.history(config, lang, number),
                      lambda l, n=number: urls.history(config, l, n),
                      incidents=chunk, pagination=self.pagination(number, len(chunks), urls.history))
        self.page("subscribe.html", urls.subscribe(config, lang), lambda l: urls.subscribe(config, l))
        for content in self.pages:
            self.content_page(content)
        self.page("404.html", urls.lang_prefix(config, lang) + "404.html",
                  lambda l: urls.lang_prefix(config, l) + "404.html", absolute_links=True)

    def component_pages(self, item_id: str) -> None:
        config, lang = self.config, self.lang
        chunks = paginate(self.index.by_component.get(item_id, []), config.page_size)
        group = self.site.groups_by_id.get(item_id)
        for number, chunk in enumerate(chunks, start=1):
            self.page("component.html", urls.component(config, lang, item_id, number),
                      lambda l, n=number: urls.component(config, l, item_id, n),
                      item=group or self.site.components_by_id[item_id], is_group=group is not None,
                      follow_base=urls.component(config, lang, item_id),
                      incidents=chunk,
                      pagination=self.pagination(number, len(chunks),
                                                 lambda c, lg, n: urls.component(c, lg, item_id, n)))

    def content_page(self, content: Page) -> None:
        config, lang = self.config, self.lang
        self.page("page.html", urls.content_page(config, lang, content.name),
                  lambda l: urls.content_page(config, l, content.name), content=content)

    def pagination(self, number: int, total: int, path_of: Any) -> dict[str, Any]:
        return {
            "number": number, "total": total,
            "previous": path_of(self.config, self.lang, number - 1) if number > 1 else None,
            "next": path_of(self.config, self.lang, number + 1) if number < total else None,
        }

    def page(self, template: str, path: str, path_in: Any, absolute_links: bool = False,
             **context: Any) -> None:
        """Render one page at site path `path`; `path_in(lang)` gives its translations."""
        config = self.config

        def link(target: str) -> str:
            return urls.absolute(config, target) if absolute_links else urls.relative(path, target)

        alternates = [(code, urls.absolute(config, path_in(code)), self.language_names[code],
                       link(path_in(code))) for code in config.languages]
        context.setdefault("follow_base", urls.home(config, self.lang))
        html = self.theme.render(template,
            site=self.site, config=config, state=self.state, lang=self.lang, t=self.t,
            urls=urls, link=link, path=path, canonical=urls.absolute(config, path),
            alternates=alternates, menu=self.pages, uptime=self.uptime, index=self.index,
            markdown=render_markdown, uptime_bars=self.uptime_bars, status=self.status,
            time=self.time, **context)
        self.outputs.add(urls.file_of(path), html)


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
