"""Stage 3 of the build: the site's state → every output file.

`render_site` adds each file to the outputs it is given as soon as it is made: for
`statusgen build` a `StagedOutputs`, which writes it into the temporary folder that
`output.staged` swaps into place at the end (or removes), so the bytes are not kept;
for `serve` and `build.render` an in-memory `Outputs`. Forked workers write their
language's pages into the same folder and send back only the paths.

    SiteState + uptime ──▶ pages of each language (pages.py; forked workers, one each)
    + availability     ──▶ meanwhile here: static files, uptime.json, availability.csv
                           and api/availability.json, MACHINE_OUTPUTS, and the
                           notifier's snapshot (kept apart: `Outputs.snapshot`)
                       ──▶ sitemap and friends (seo), from the list of pages
                       ──▶ redirects from incidents' old ids (after seo: not listed)

Given a `RenderMemo` (serve mode), an output is made again only when its fingerprint
(fingerprints.py) changed; pages.py lists what each page shows. The home page shows
nearly everything and is always made.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from statusgen import workers
from statusgen.content.model import SiteConfig
from statusgen.site import api, badges, embed, feeds, ical, live, redirects, seo, snapshot
from statusgen.site.availability import site_availability
from statusgen.site.availability_files import availability_outputs
from statusgen.site.fingerprints import (
    bars_kind,
    machine_inputs,
    page_kind,
    site_inputs,
    theme_digest,
    uptime_keys,
)
from statusgen.site.incremental import RenderMemo
from statusgen.site.output import Outputs, StagedOutputs
from statusgen.site.pages import IncidentIndex, PageJob, render_language
from statusgen.site.state import IncidentState, SiteState
from statusgen.site.theme import Theme
from statusgen.site.uptime import ComponentUptime

log = logging.getLogger(__name__)


MACHINE_OUTPUTS: tuple[Callable[..., dict[str, bytes]], ...] = (
    feeds.feed_outputs, ical.calendar_outputs, api.api_outputs, badges.badge_outputs, embed.embed_outputs,
    live.live_outputs)
"""What machines and other sites read: each maps (state, theme) to {path: bytes}. The
notifier's snapshot is not one of them: it is never published (`Outputs.snapshot`)."""
REMEMBERING: tuple[Callable[..., dict[str, bytes]], ...] = (feeds.feed_outputs, api.api_outputs)
"""Machine outputs that take a `memo` themselves and reuse their parts across builds."""


def render_site(state: SiteState, uptime: dict[str, ComponentUptime], theme: Theme,
                parallel: bool = True, memo: RenderMemo | None = None,
                outputs: Outputs | StagedOutputs | None = None) -> Outputs | StagedOutputs:
    """Every output file, added to `outputs` (default: a new `Outputs`, in memory), which
    it returns; the languages render side by side on machines with several cores.

    With a `memo`, outputs whose fingerprint is unchanged since the memo's last build are
    taken from it instead of being rendered again (the outputs are then in memory).
    """
    outputs = Outputs() if outputs is None else outputs
    assert memo is None or isinstance(outputs, Outputs), "a memo keeps the bytes: render into memory"
    theme_key = theme_digest(theme) if memo else b""
    figures_keys = uptime_keys(uptime) if memo else {}
    if memo is not None:
        memo.site_key = machine_inputs(state, theme_key)
    index = IncidentIndex(state, memo)
    # once: the pages and the files show the same figures
    availability = site_availability(state, memo=memo, by_component=index.by_component)
    job = PageJob(state, uptime, theme, index, memo, theme_key, figures_keys, availability)
    rest = outputs.part()

    def other_outputs() -> None:  # made here while forked workers render the pages
        for name, file in theme.static_files():
            rest.add(f"static/{name}", file.read_bytes())
        rest.add("api/uptime.json", api.uptime_json(state, uptime) if memo is None else memo.recall(
            "uptime-json", "", (memo.site_key, state.now, tuple(figures_keys.items())),
            lambda: api.uptime_json(state, uptime)))
        # (the files read the settings, catalog and `now` besides the figures: `site_key`)
        files = availability_outputs(state, availability) if memo is None else memo.recall(
            "availability-files", "", (memo.site_key, state.now, tuple(availability.items())),
            lambda: availability_outputs(state, availability))
        for path, content in files.items():
            rest.add(path, content)
        for path, content in machine_outputs(state, theme, memo):
            rest.add(path, content)
        if isinstance(outputs, StagedOutputs) and outputs.snapshot_to is not None:
            outputs.write_beside(outputs.snapshot_to, snapshot.snapshot_chunks(state, theme))
        else:
            outputs.snapshot = snapshot.snapshot_bytes(state, theme, memo)

    for part in _render_pages(job, parallel, other_outputs, outputs):
        outputs.merge(part)  # type: ignore[arg-type]  # (a part is of its outputs' kind)
    if memo is not None:
        memo.outputs["pages"] = len(outputs)
    outputs.merge(rest)  # type: ignore[arg-type]
    for path, content in _seo_files(list(outputs), state.site.config, memo).items():
        outputs.add(path, content)
    for path, content in redirects.redirect_outputs(state, memo).items():  # after seo: not in the sitemap
        outputs.add(path, content)
    return outputs


def _render_pages(job: PageJob, parallel: bool, meanwhile: Callable[[], None],
                  outputs: Outputs | StagedOutputs) -> list[Any]:
    """Every language's pages, each in a `part()` of `outputs`; in forked workers when there
    are many to render, while this process runs `meanwhile` (else it runs it first)."""
    global _job, _outputs
    languages = job.state.site.config.languages
    processes = workers.available(len(languages)) if parallel else 1
    if job.memo is not None and not _all_pages_change(job.state, job.theme_digest, job.memo):
        processes = 1  # a few pages: starting workers would take longer than rendering them
    _job, _outputs = job, outputs
    try:
        if processes == 1:
            meanwhile()
            return [render_language(job, lang, outputs.part()) for lang in languages]
        # Forked workers inherit the state (and the memo); only new bytes travel back.
        with workers.forked(processes) as pool:
            pending = pool.map_async(_render_in_worker, languages)
            meanwhile()
            parts = pending.get()
    finally:
        _job = _outputs = None
    if job.memo is None:
        return parts
    return [job.memo.absorb(part).get(page_kind(lang), {}) for lang, part in zip(languages, parts, strict=True)]


_job: PageJob | None = None
"""The job of the build in progress, for the forked workers to inherit."""
_outputs: Outputs | StagedOutputs | None = None
"""Where it puts its outputs: a worker writes into a `part()` of them and sends that back
(in memory: the pages; staged: only their paths, the files being in place already)."""


def _render_in_worker(lang: str) -> Any:
    """In a forked worker: the pages, or with a memo what it made (reused pages stay behind)."""
    assert _job is not None and _outputs is not None
    outputs = render_language(_job, lang, _outputs.part())
    return outputs if _job.memo is None else _job.memo.export((page_kind(lang), bars_kind(lang)))


def _all_pages_change(state: SiteState, theme_key: bytes, memo: RenderMemo) -> bool:
    """Whether some language's site-wide inputs changed since the memo's last build."""
    same = [memo.same("site", lang, site_inputs(state.site, lang, theme_key)) for lang in state.site.config.languages]
    return not all(same)


def _seo_files(html: list[str], config: SiteConfig, memo: RenderMemo | None) -> dict[str, bytes]:
    """sitemap and friends: made from the set of pages (their order within a language's
    pages does not matter, and pages taken from the last build come in another), so
    reused while it is the same; else made with the sitemap entries of the pages the
    last build had (`seo.sitemaps`)."""
    if memo is None:
        return seo.seo_outputs(html, config)
    known: seo.Entries = memo.carried("seo-entries", config) or {}
    made: seo.Entries = {}
    files = memo.recall("seo", "", (config, frozenset(html)), lambda: seo.seo_outputs(html, config, known, made))
    memo.carry("seo-entries", config, made or known)
    return files


def machine_outputs(state: SiteState, theme: Theme, memo: RenderMemo | None) -> Iterator[tuple[str, bytes]]:
    """Every `MACHINE_OUTPUTS` file; with a memo, calendars are reused while the windows they
    list are unchanged, and feeds and API reuse their parts."""
    for produce in MACHINE_OUTPUTS:
        if memo is None:
            yield from produce(state, theme).items()
        elif produce in REMEMBERING:
            yield from produce(state, theme, memo).items()
        elif produce is ical.calendar_outputs:
            fingerprint = (memo.site_key, memo.digests(_calendar_windows(state, memo)))
            yield from memo.recall("ical", "", fingerprint, lambda p=produce: p(state, theme)).items()
        else:
            yield from produce(state, theme).items()


def _calendar_windows(state: SiteState, memo: RenderMemo) -> list[IncidentState]:
    """`ical.calendar_windows`, brought up to date from the last build's (`RenderMemo.subset`)."""
    return memo.subset("windows", state, partial(ical.in_calendar, since=ical.calendar_since(state)), ical.by_start)
