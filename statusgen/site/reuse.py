"""Whole groups of a language's pages taken from the last build at once, for `serve --watch`.

After a one-incident edit, visiting each of a 10,000-incident site's 12,000 pages per
language to compare its fingerprint takes longer than rendering the few that changed.
So `pages.LanguagePages` keeps its pages in `Section`s (the incident pages, each
component's and group's pages, the history) with what they depend on, and the next build
(same language inputs, same `now`: `PagePlan.context`) takes every section that no change
of the memo's `Delta` touches as it was, in one dictionary update, and visits only the
others page by page (their unchanged pages still come from the memo).

    incident pages   all but the changed incidents'
    component pages  all of a component or group whose incidents and shown status are unchanged
    history          the numbered pages older than the oldest change (`history_rechecked`)
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from statusgen.site.state import IncidentState

Entry = tuple[Hashable, Any]
"""A memo entry: (fingerprint, bytes)."""


@dataclass
class Section:
    """Pages made (or reused) together: their bytes by file, and their memo entries."""

    files: dict[str, bytes] = field(default_factory=dict)
    entries: dict[tuple[str, Hashable], Entry] = field(default_factory=dict)

    def record(self, kind: str, file: str, entry: Entry) -> None:
        self.files[file] = entry[1]
        self.entries[(kind, file)] = entry

    def without(self, files: Sequence[str], kind: str) -> Section:
        """A copy without `files` (the pages to make or look at again)."""
        kept = Section(dict(self.files), dict(self.entries))
        for file in files:
            if kept.files.pop(file, None) is not None:
                del kept.entries[(kind, file)]
        return kept


@dataclass
class PagePlan:
    """One language's pages by section, as the last build made them."""

    incidents: Section = field(default_factory=Section)
    incident_files: dict[str, str] = field(default_factory=dict)
    """Each incident's page file, by incident id."""
    items: dict[str, tuple[Hashable, Section]] = field(default_factory=dict)
    """Each component's and group's pages, with the status inputs they showed."""
    history: Section = field(default_factory=Section)
    listed: tuple[IncidentState, ...] = ()
    """The incidents the history listed, newest first."""


def newest_index(incidents: Sequence[IncidentState], entry: IncidentState) -> int:
    """Where `entry`'s place is in `incidents` (newest first, as `SiteState.incidents`),
    by binary search on (started_at, id)."""
    key = (entry.started_at, entry.id)
    low, high = 0, len(incidents)
    while low < high:
        middle = (low + high) // 2
        if (incidents[middle].started_at, incidents[middle].id) > key:
            low = middle + 1
        else:
            high = middle
    return low


def history_rechecked(before: Sequence[IncidentState], after: Sequence[IncidentState],
                      changed: Sequence[IncidentState], size: int) -> int:
    """The lowest numbered history page (`pages.history_pages`) that `changed` (the
    incidents' old and new versions) can alter: numbered pages hold fixed places counted
    from the oldest, so a change alters the page at its place and every newer one; a new
    newest numbered page also changes its older neighbour's link."""
    lowest = min(len(before), len(after))
    for entry in changed:
        for incidents in (before, after):
            lowest = min(lowest, len(incidents) - 1 - newest_index(incidents, entry))
    numbered = min(len(before), len(after)) // size - 1
    return max(1, min(lowest // size + 1, numbered))
