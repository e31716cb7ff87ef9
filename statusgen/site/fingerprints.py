"""Fingerprints of what an output shows, so that `serve --watch` renders only what changed.

A page is reused from the last build (`incremental.RenderMemo`) while its fingerprint is
the same: the site-wide inputs every page of its language shows (`site_inputs`) plus
the page's own (`PageInputs`, listed where `pages.py` makes the page). Machine outputs
share `machine_inputs`. Without a memo nothing is fingerprinted and every key is empty.

    theme files ──theme_digest──┐
    settings, catalog, menu ────┴─▶ site_inputs (per language) ──┐
    incidents, statuses, bars ──────▶ PageInputs (per page) ─────┴─▶ fingerprint
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Hashable, Sequence

from markupsafe import Markup

from statusgen.content.model import Site
from statusgen.site.availability import ComponentAvailability
from statusgen.site.incremental import RenderMemo, digest
from statusgen.site.state import IncidentState, SiteState
from statusgen.site.theme import Theme
from statusgen.site.uptime import ComponentUptime


def page_kind(lang: str) -> str:
    """The memo's kind for a language's pages."""
    return f"page:{lang}"


def bars_kind(lang: str) -> str:
    """The memo's kind for a language's uptime bars."""
    return f"bars:{lang}"


def theme_digest(theme: Theme) -> bytes:
    """A hash of every file of the theme folders (templates, translations, assets): any
    edit to the theme makes every page new."""
    hasher = hashlib.blake2b(digest_size=16)
    for folder in theme.dirs:
        for root, _, names in sorted(os.walk(folder)):
            for name in sorted(names):
                file = os.path.join(root, name)
                hasher.update(f"{file}\0".encode("utf-8", "surrogateescape"))
                with open(file, "rb") as handle:
                    hasher.update(handle.read())
    return hasher.digest()


def site_inputs(site: Site, lang: str, theme_key: bytes) -> bytes:
    """What every page of a language shows besides its own content: the theme, settings,
    components and groups, and the menu of content pages."""
    menu = tuple(sorted((p.order, p.name, p.title, p.written_in) for p in site.pages if p.lang == lang))
    return digest((theme_key, lang, site.config, site.groups, site.components, site.layout, menu))


def machine_inputs(state: SiteState, theme_key: bytes) -> bytes:
    """What every machine output reads besides the incidents: theme, settings, catalog."""
    site = state.site
    return digest((theme_key, site.config, site.groups, site.components, site.layout))


def uptime_keys(uptime: dict[str, ComponentUptime]) -> dict[str, bytes]:
    """A digest of each component's uptime figures."""
    return {cid: digest(figures) for cid, figures in uptime.items()}


def availability_inputs(memo: RenderMemo | None,
                        figures: dict[str, ComponentAvailability]) -> tuple[Hashable, ...]:
    """What the availability page shows of the figures: per month its availability to
    the shown decimals, its downtime to the shown tenth of a minute and its result. Not
    the measured minutes, which grow with every minute of the current month."""
    if memo is None:
        return ()
    return tuple((cid, tuple((month.key, month.so_far, month.result,
                              None if month.percent is None else int(month.percent * 1000),
                              round(month.downtime, 1)) for month in entry.months))
                 for cid, entry in figures.items())


class PageInputs:
    """The parts of one language's page fingerprints that pages share: incidents' digests,
    and components as a page shows them (status and drawn uptime bars)."""

    def __init__(self, memo: RenderMemo | None, state: SiteState,
                 uptime_bars: Callable[[str], Markup]) -> None:
        self.memo, self.state, self.uptime_bars = memo, state, uptime_bars
        self.bars_keys: dict[str, bytes] = {}

    def digests(self, incidents: Sequence[IncidentState]) -> tuple[bytes, ...]:
        return self.memo.digests(incidents) if self.memo is not None else ()

    def digest(self, incident: IncidentState) -> bytes:
        return self.memo.digest(incident) if self.memo is not None else b""

    def status_inputs(self, component_ids: Sequence[str]) -> tuple[Hashable, ...]:
        """What a component page shows of components: their status now and uptime bars.

        The bars as drawn, not the figures: the figures move with every minute of `now`,
        the drawing (whole days, percentages to two decimals) far less often, and every
        component page shows them (its first page: the numbered ones are its archive).
        """
        if self.memo is None:
            return ()
        return tuple((cid, self.state.component_statuses[cid], self.bars_key(cid)) for cid in component_ids)

    def bars_key(self, component_id: str) -> bytes:
        if component_id not in self.bars_keys:
            self.bars_keys[component_id] = digest(str(self.uptime_bars(component_id)))
        return self.bars_keys[component_id]
