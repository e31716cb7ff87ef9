"""Every page of one language: which pages exist, and how one page is made.

    home ─ incidents ─ components and groups (paginated) ─ history (paginated)
         ─ availability ─ subscribe ─ content pages ─ 404

Each page is a theme template rendered with the site-wide context (`site_context`: the
site, its state, the translator, `link()` and the `helpers`), its header and footer from
the `shared` pieces and its own variables. With a memo, a page whose fingerprint
(`fingerprints.site_inputs` plus the `inputs=` listed here) is unchanged is taken from
the last build instead: a template that shows more than its inputs must add it there.
`render.py` runs one language per forked worker; each page goes to the outputs it is given
(in memory, or written at once into the build's temporary folder).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from markupsafe import Markup

from statusgen import ids
from statusgen.content.model import Page
from statusgen.markup import render_markdown, render_prose
from statusgen.site import urls
from statusgen.site.availability import ComponentAvailability
from statusgen.site.fingerprints import PageInputs, availability_inputs, page_kind, site_inputs
from statusgen.site.helpers import TemplateHelpers
from statusgen.site.incremental import RenderMemo
from statusgen.site.output import Outputs, StagedOutputs
from statusgen.site.shared import SharedPieces
from statusgen.site.state import IncidentState, SiteState, incidents_by_item
from statusgen.site.theme import Theme, Translator
from statusgen.site.uptime import WEIGHTS, ComponentUptime


class IncidentIndex:
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


@dataclass(frozen=True)
class PageJob:
    """What every language's pages read: made once, inherited by forked workers, never sent."""

    state: SiteState
    uptime: dict[str, ComponentUptime]
    theme: Theme
    index: IncidentIndex
    memo: RenderMemo | None
    theme_digest: bytes
    uptime_keys: dict[str, bytes]
    """A digest of each component's uptime figures (with a memo)."""
    availability: dict[str, ComponentAvailability]
    """Each component's monthly availability (`availability.py`)."""


def render_language(job: PageJob, lang: str, outputs: Outputs | StagedOutputs | None = None) -> Outputs | StagedOutputs:
    """Every page of `lang`, added to `outputs` (default: a new `Outputs`), which it returns."""
    outputs = Outputs() if outputs is None else outputs
    LanguagePages(job, lang, outputs).render()
    return outputs


def history_pages(incidents: Sequence[IncidentState], size: int) -> list[tuple[int, Sequence[IncidentState]]]:
    """The history, newest first: (0, the front page `history/`), then (N, `history/N/`).

    Numbered pages count from the oldest and each holds exactly `size` incidents, so a
    new incident changes the front page alone, and once every `size` incidents the front
    page hands its oldest `size` to a new numbered page (whose older neighbour's "newer"
    link changes too): a page's URL keeps its incidents for good. The front page holds the
    rest, between `size` and 2 × `size` - 1 incidents (fewer on a small site).
    """
    count = len(incidents)
    numbered = max(count // size - 1, 0)
    pages: list[tuple[int, Sequence[IncidentState]]] = [(0, incidents[:count - numbered * size])]
    for number in range(numbered, 0, -1):
        pages.append((number, incidents[count - number * size:count - (number - 1) * size]))
    return pages


def paginate(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    """Pages of at most `size` items; always at least one (possibly empty) page."""
    return [items[i:i + size] for i in range(0, len(items), size)] or [items[:0]]


class LanguagePages:
    """One language's pages, added to `outputs`: `render` lists them, `page` makes one."""

    def __init__(self, job: PageJob, lang: str, outputs: Outputs | StagedOutputs) -> None:
        state, theme = job.state, job.theme
        self.state, self.site, self.config = state, state.site, state.site.config
        self.uptime, self.theme, self.lang, self.index, self.outputs = job.uptime, theme, lang, job.index, outputs
        self.availability = job.availability
        self.memo, self.kind = job.memo, page_kind(lang)
        self.t = Translator(lang, theme.messages(lang), self.config.timezone)
        self.pages = [p for p in self.site.pages if p.lang == lang]
        self.pages.sort(key=lambda p: (p.order, p.name))
        self.language_names = {
            code: Translator(code, theme.messages(code), self.config.timezone).language_name
            for code in self.config.languages
        }
        self.site_inputs = site_inputs(self.site, lang, job.theme_digest) if self.memo is not None else b""
        self.helpers = TemplateHelpers(theme, self.t, lang, job.uptime, self.memo, self.site_inputs,
                                       job.uptime_keys)
        self.inputs = PageInputs(self.memo, state, self.helpers.uptime_bars)
        self.shared_pieces = SharedPieces(theme, self.shared_context, self.link_for)

    # --- Which pages exist ------------------------------------------------------------

    def render(self) -> None:
        config, lang, now, inputs = self.config, self.lang, self.state.now, self.inputs
        self.page("index.html", urls.home(config, lang), lambda l: urls.home(config, l), None,
                  last_updated=now)
        for incident in self.state.incidents:
            # An ongoing incident's page shows how long it has lasted, to the minute.
            lasting = None if incident.ended_at or incident.incident.is_maintenance else \
                int((now - incident.started_at).total_seconds() // 60)
            self.page("incident.html", urls.incident(config, lang, incident.id),
                      lambda l, i=incident.id: urls.incident(config, l, i),
                      (inputs.digest(incident), lasting), incident=incident)
        for item in [*self.site.groups, *self.site.components]:
            self.component_pages(item.id)
        for number, chunk in history_pages(self.state.incidents, config.page_size):
            pagination = self.history_pagination(number, len(self.state.incidents) // config.page_size - 1)
            self.page("history.html", urls.history(config, lang, number),
                      lambda l, n=number: urls.history(config, l, n),
                      (pagination["previous"], pagination["next"], inputs.digests(chunk)),
                      incidents=chunk, pagination=pagination)
        self.page("availability.html", urls.availability(config, lang), lambda l: urls.availability(config, l),
                  availability_inputs(self.memo, self.availability), availability=self.availability,
                  weights=WEIGHTS)
        self.page("subscribe.html", urls.subscribe(config, lang), lambda l: urls.subscribe(config, l), ())
        for content in self.pages:
            self.content_page(content)
        self.page("404.html", urls.lang_prefix(config, lang) + "404.html",
                  lambda l: urls.lang_prefix(config, l) + "404.html", (), absolute_links=True)

    def component_pages(self, item_id: str) -> None:
        config, lang = self.config, self.lang
        chunks = paginate(self.index.by_component.get(item_id, []), config.page_size)
        group = self.site.groups_by_id.get(item_id)
        shown = self.inputs.status_inputs(group.components if group else (item_id,))
        for number, chunk in enumerate(chunks, start=1):
            self.page("component.html", urls.component(config, lang, item_id, number),
                      lambda l, n=number: urls.component(config, l, item_id, n),
                      (shown, len(chunks), self.inputs.digests(chunk)),
                      item=group or self.site.components_by_id[item_id], is_group=group is not None,
                      follow_base=urls.component(config, lang, item_id),
                      incidents=chunk,
                      pagination=self.pagination(number, len(chunks),
                                                 lambda c, lg, n: urls.component(c, lg, item_id, n)))
        numbered = urls.component(config, lang, item_id, 2).rstrip("/").rpartition("/")[0]
        self.shared_pieces.forget(numbered)  # where its pages 2, 3, ... are: no other page is there

    def content_page(self, content: Page) -> None:
        config, lang = self.config, self.lang
        self.page("page.html", urls.content_page(config, lang, content.name),
                  lambda l: urls.content_page(config, l, content.name), (content,), content=content)

    def history_pagination(self, number: int, numbered: int) -> dict[str, Any]:
        """Links of a history page (`number` 0: the front page) among `numbered` pages;
        no total, so that a new page leaves the others as they were."""
        config, lang = self.config, self.lang
        newer = None if number == 0 else urls.history(config, lang, number + 1) if number < numbered \
            else urls.history(config, lang)
        older = urls.history(config, lang, (number or numbered + 1) - 1) if (number or numbered + 1) > 1 else None
        return {"number": number, "total": None, "previous": newer, "next": older}

    def pagination(self, number: int, total: int, path_of: Any) -> dict[str, Any]:
        return {
            "number": number, "total": total,
            "previous": path_of(self.config, self.lang, number - 1) if number > 1 else None,
            "next": path_of(self.config, self.lang, number + 1) if number < total else None,
        }

    # --- How one page is made ---------------------------------------------------------

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
            assert isinstance(self.outputs, Outputs)  # a memo renders into memory (render_site)
            kept = self.memo.lookup(self.kind, file, fingerprint)  # type: ignore[union-attr]
            if isinstance(kept, bytes) and file not in self.outputs:  # (else `add` below says why)
                self.outputs[file] = kept  # its path was checked when it was first made
                return
        html = self.render_page(template, path, path_in, absolute_links, context)
        self.outputs.add(file, html)
        if self.memo is not None:
            assert isinstance(self.outputs, Outputs)
            self.memo.keep(self.kind, file, fingerprint, self.outputs[file])

    def site_context(self, link: Callable[[str], Any]) -> dict[str, Any]:
        """What every template sees: everything site-wide, and `link()`."""
        helpers = self.helpers
        return dict(site=self.site, config=self.config, state=self.state, lang=self.lang, t=self.t, urls=urls,
                    link=link, menu=self.pages, uptime=self.uptime, index=self.index,
                    markdown=render_markdown, prose=render_prose, uptime_bars=helpers.uptime_bars,
                    status=helpers.status, time=helpers.time, impact=helpers.impact,
                    update_text=helpers.update_text, text=helpers.text, lang_attr=helpers.lang_attr,
                    prose_text=helpers.prose_text, language_note=helpers.language_note, ids=ids)

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
