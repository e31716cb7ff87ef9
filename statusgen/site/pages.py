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

from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from markupsafe import Markup

from statusgen import ids
from statusgen.content.model import Page, Site
from statusgen.markup import render_markdown, render_prose
from statusgen.site import urls
from statusgen.site.availability import ComponentAvailability
from statusgen.site.fingerprints import PageInputs, availability_inputs, page_kind, site_inputs
from statusgen.site.helpers import TemplateHelpers
from statusgen.site.incremental import RenderMemo
from statusgen.site.output import Outputs, StagedOutputs
from statusgen.site.reuse import PagePlan, Section, Versions, archive_rechecked, newest_index
from statusgen.site.shared import SharedPieces, Shapes, plain
from statusgen.site.state import IncidentState, SiteState, incidents_by_item
from statusgen.site.theme import Theme, Translator
from statusgen.site.uptime import WEIGHTS, ComponentUptime


class IncidentIndex:
    """Incidents by component and group, and by recent day, each built in one pass."""

    def __init__(self, state: SiteState, memo: RenderMemo | None = None) -> None:
        self.by_component = _by_item(state, memo)
        self.recent_days = _recent_days(state)


def _by_item(state: SiteState, memo: RenderMemo | None) -> dict[str, list[IncidentState]]:
    """`incidents_by_item`; with a memo, the last build's lists, those of the components
    and groups that the incidents replaced since (`Delta.replaced`) touch sorted again."""
    site = state.site
    context = (site.groups, site.components)
    carried = None if memo is None else memo.carried("by-item", context)
    if carried is None or memo is None or memo.delta is None:
        found = dict(incidents_by_item(site, state.incidents))
    else:
        delta = memo.delta
        found = dict(carried)
        found[""] = list(state.incidents)
        for item in delta.items(site, delta.replaced):
            kept = [entry for entry in found.get(item, []) if entry.id not in delta.replaced]
            for entry in delta.versions(delta.replaced):  # each in its place: no sort of thousands again
                if delta.after.get(entry.id) is entry and item in _items_of(site, entry):
                    kept.insert(newest_index(kept, entry), entry)
            if kept:
                found[item] = kept
            else:
                found.pop(item, None)
    if memo is not None:
        memo.carry("by-item", context, found)
    return found


def _items_of(site: Site, entry: IncidentState) -> set[str]:
    ids = set(entry.incident.component_ids)
    return ids | {site.components_by_id[cid].group or "" for cid in ids} - {""}


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
        self.shared_pieces = SharedPieces(theme, self.shared_context, self.link_for, self.last_shapes())
        self.section: Section | None = None
        """Where `page` records the pages it makes (with a memo: `reuse.py`)."""
        self._touched: set[str] | None = None
        self._site_wide: dict[str, Any] | None = None
        self._last_link: tuple[tuple[str, bool] | None, Callable[[str], str]] = (None, str)

    # --- Which pages exist ------------------------------------------------------------

    def render(self) -> None:
        config, lang, now = self.config, self.lang, self.state.now
        self.page("index.html", urls.home(config, lang), lambda l: urls.home(config, l), None,
                  last_updated=now)
        last, plan = self.last_plan(), PagePlan()
        self.incident_pages(last, plan)
        for item in [*self.site.groups, *self.site.components]:
            self.item_pages(item.id, last, plan)
        self.history(last, plan)
        self.page("availability.html", urls.availability(config, lang), lambda l: urls.availability(config, l),
                  availability_inputs(self.memo, self.availability), availability=self.availability,
                  weights=WEIGHTS)
        self.page("subscribe.html", urls.subscribe(config, lang), lambda l: urls.subscribe(config, l), ())
        for content in self.pages:
            self.content_page(content)
        self.page("404.html", urls.lang_prefix(config, lang) + "404.html",
                  lambda l: urls.lang_prefix(config, l) + "404.html", (), absolute_links=True)
        if self.memo is not None:
            self.memo.carry(f"plan:{lang}", (self.site_inputs, now), plan)
            self.memo.carry(f"shapes:{lang}", (self.site_inputs, now), self.shared_pieces.made)

    def last_shapes(self) -> Shapes | None:
        """The last build's shared pieces (`shared.Shapes`), if made with the same site-wide
        inputs and `now`, without those made from incident states since replaced."""
        if self.memo is None or self.memo.delta is None:
            return None
        shapes: Shapes | None = self.memo.carried(f"shapes:{self.lang}", (self.site_inputs, self.state.now))
        delta = self.memo.delta
        if shapes is not None and delta.replaced:
            shapes.prune(lambda arg: plain(arg) or isinstance(arg, IncidentState) and delta.after.get(arg.id) is arg)
        return shapes

    def last_plan(self) -> PagePlan | None:
        """The last build's `PagePlan`, if this build can start from it (`reuse.py`)."""
        if self.memo is None:
            return None
        plan: PagePlan | None = self.memo.carried(f"plan:{self.lang}", (self.site_inputs, self.state.now))
        return plan

    def reuse(self, section: Section) -> Section:
        """Every page of `section` as the last build made it; returns the section."""
        assert self.memo is not None and isinstance(self.outputs, Outputs)
        self.outputs.merge(section.files)
        self.memo.current.update(section.entries)
        return section

    def incident_pages(self, last: PagePlan | None, plan: PagePlan) -> None:
        config, lang, now, inputs = self.config, self.lang, self.state.now, self.inputs
        incidents: Sequence[IncidentState] = self.state.incidents
        if last is not None and self.memo is not None and self.memo.delta is not None:
            delta = self.memo.delta
            plan.incident_files = dict(last.incident_files)
            for incident_id in delta.changed:
                plan.incident_files.pop(incident_id, None)
            gone = [last.incident_files[i] for i in delta.changed if i in last.incident_files]
            plan.incidents = self.reuse(last.incidents.without(gone, self.kind))
            incidents = [delta.after[i] for i in delta.changed if i in delta.after]
        self.section = plan.incidents
        for incident in incidents:
            # An ongoing incident's page shows how long it has lasted, to the minute.
            lasting = None if incident.ended_at or incident.incident.is_maintenance else \
                int((now - incident.started_at).total_seconds() // 60)
            path = urls.incident(config, lang, incident.id)
            plan.incident_files[incident.id] = urls.file_of(path)
            self.page("incident.html", path, lambda l, i=incident.id: urls.incident(config, l, i),
                      (inputs.digest(incident), lasting), incident=incident)
        self.section = None

    def item_pages(self, item_id: str, last: PagePlan | None, plan: PagePlan) -> None:
        """A component's or group's pages: the last build's while nothing they show changed."""
        group = self.site.groups_by_id.get(item_id)
        shown = self.inputs.status_inputs(group.components if group else (item_id,))
        before = None if last is None else last.items.get(item_id)
        assert self.memo is None or self.memo.delta is not None
        plan.item_listed[item_id] = self.index.by_component.get(item_id, [])
        if before is not None and before[0] == shown and item_id not in self.touched():
            plan.items[item_id] = (shown, self.reuse(before[1]))
            return
        self.section = Section()
        looked = None if last is None or before is None else self.archive_kept(item_id, last, before[1])
        self.component_pages(item_id, shown, looked)
        plan.items[item_id] = (shown, self.section)
        self.section = None

    def archive_kept(self, item_id: str, last: PagePlan, before: Section) -> Collection[int]:
        """Takes the numbered pages of a component or group (its archive) that no changed
        incident can alter from the last build's `before`, as `history` does with the
        history's; returns the numbered pages to make or look at again."""
        config, lang, size = self.config, self.lang, self.config.page_size
        listed, previous = self.index.by_component.get(item_id, []), last.item_listed.get(item_id, [])
        changed = [pair for pair in self.changed_versions() if any(
            entry is not None and item_id in _items_of(self.site, entry) for entry in pair)]
        looked = archive_rechecked(previous, listed, changed, size)
        self.section = self.reuse(before.without(
            [urls.file_of(urls.component(config, lang, item_id, number)) for number in (0, *looked)], self.kind))
        return looked

    def changed_versions(self) -> list[Versions]:
        """Each incident changed since the last build: its (old, new) states (`Delta.changed`)."""
        assert self.memo is not None and self.memo.delta is not None
        delta = self.memo.delta
        return [(delta.before.get(i), delta.after.get(i)) for i in sorted(delta.changed)]

    def touched(self) -> set[str]:
        """The components and groups whose incidents changed since the last build."""
        if self._touched is None:
            delta = self.memo.delta if self.memo is not None else None
            self._touched = set() if delta is None else delta.items(self.site, delta.changed)
        return self._touched

    def history(self, last: PagePlan | None, plan: PagePlan) -> None:
        config, lang, inputs = self.config, self.lang, self.inputs
        incidents, size = self.state.incidents, config.page_size
        plan.listed = incidents
        looked: Collection[int] | None = None  # the numbered pages to look at again (None: all of them)
        if last is not None and self.memo is not None and self.memo.delta is not None:
            looked = archive_rechecked(last.listed, incidents, self.changed_versions(), size)
            plan.history = self.reuse(last.history.without(
                [urls.file_of(urls.history(config, lang, number)) for number in (0, *looked)], self.kind))
        self.section = plan.history
        numbered = len(incidents) // size - 1
        for number, chunk in history_pages(incidents, size):
            if number and looked is not None and number not in looked:
                continue
            pagination = self.history_pagination(number, numbered)
            self.page("history.html", urls.history(config, lang, number),
                      lambda l, n=number: urls.history(config, l, n),
                      (pagination["previous"], pagination["next"], inputs.digests(chunk)),
                      incidents=chunk, pagination=pagination)
        self.section = None

    def component_pages(self, item_id: str, shown: tuple[Hashable, ...],
                        looked: Collection[int] | None = None) -> None:
        """A component's or group's pages, numbered as the history (`history_pages`): the
        first shows its status, bars and newest incidents; the numbered ones (the archive)
        keep their incidents for good, so a new incident leaves them as they were. Numbered
        pages not in `looked` (if given) were taken from the last build already."""
        config, lang = self.config, self.lang
        incidents = self.index.by_component.get(item_id, [])
        group = self.site.groups_by_id.get(item_id)
        numbered = len(incidents) // config.page_size - 1
        for number, chunk in history_pages(incidents, config.page_size):
            if number and looked is not None and number not in looked:
                continue
            pagination = self.archive_pagination(number, numbered, lambda n: urls.component(config, lang, item_id, n))
            self.page("component.html", urls.component(config, lang, item_id, number),
                      lambda l, n=number: urls.component(config, l, item_id, n),
                      (() if number else shown, pagination["previous"], pagination["next"],
                       self.inputs.digests(chunk)),
                      item=group or self.site.components_by_id[item_id], is_group=group is not None,
                      follow_base=urls.component(config, lang, item_id), incidents=chunk, pagination=pagination)
        self.shared_pieces.forget(urls.component_archive(config, lang, item_id))  # where its numbered pages are: no other page is there

    def content_page(self, content: Page) -> None:
        config, lang = self.config, self.lang
        self.page("page.html", urls.content_page(config, lang, content.name),
                  lambda l: urls.content_page(config, l, content.name), (content,), content=content)

    def history_pagination(self, number: int, numbered: int) -> dict[str, Any]:
        return self.archive_pagination(number, numbered, lambda n: urls.history(self.config, self.lang, n))

    @staticmethod
    def archive_pagination(number: int, numbered: int, path_of: Callable[[int], str]) -> dict[str, Any]:
        """Links of an archive page (`history_pages`; `number` 0: the front page) among
        `numbered` pages, `path_of(n)` the path of page n; no total, so that a new page
        leaves the others as they were."""
        newer = None if number == 0 else path_of(number + 1) if number < numbered else path_of(0)
        older = path_of((number or numbered + 1) - 1) if (number or numbered + 1) > 1 else None
        return {"number": number, "total": None, "previous": newer, "next": older}

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
                if self.section is not None:
                    self.section.record(self.kind, file, (fingerprint, kept))
                return
        html = self.render_page(template, path, path_in, absolute_links, context)
        self.outputs.add(file, html)
        if self.memo is not None:
            assert isinstance(self.outputs, Outputs)
            self.memo.keep(self.kind, file, fingerprint, self.outputs[file])
            if self.section is not None and fingerprint is not None:
                self.section.record(self.kind, file, (fingerprint, self.outputs[file]))

    def site_context(self, link: Callable[[str], Any]) -> dict[str, Any]:
        """What every template sees: everything site-wide (gathered once), and `link()`."""
        if self._site_wide is None:
            helpers = self.helpers
            self._site_wide = dict(
                site=self.site, config=self.config, state=self.state, lang=self.lang, t=self.t, urls=urls,
                menu=self.pages, uptime=self.uptime, index=self.index,
                markdown=render_markdown, prose=render_prose, uptime_bars=helpers.uptime_bars,
                status=helpers.status, time=helpers.time, impact=helpers.impact,
                update_text=helpers.update_text, text=helpers.text, lang_attr=helpers.lang_attr,
                prose_text=helpers.prose_text, language_note=helpers.language_note, ids=ids)
        return {**self._site_wide, "link": link}

    def shared_context(self, link: Callable[[str], Any], slot: Callable[[str], Any]) -> dict[str, Any]:
        """What shared pieces see: the site-wide context, `slot()`, nothing of a page."""
        return {**self.site_context(link), "slot": slot}

    def link_for(self, path: str, absolute_links: bool) -> Callable[[str], str]:
        """The `link()` of the page at `path`; the last one made is kept, as a page's shared
        pieces ask for it again."""
        if self._last_link[0] == (path, absolute_links):
            return self._last_link[1]
        config = self.config

        def absolute(target: str) -> str:
            return urls.absolute(config, target)
        link = absolute if absolute_links else urls.relative_from(path)
        self._last_link = ((path, absolute_links), link)
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
