"""Whole groups of a language's pages taken from the last build at once, for `serve --watch`.

After a one-incident edit, visiting each of a 10,000-incident site's 12,000 pages per
language to compare its fingerprint takes longer than rendering the few that changed.
So `pages.LanguagePages` keeps its pages in `Section`s (the incident pages, each
component's and group's pages, the history) with what they depend on, and the next build
(same language inputs, same `now`: `PagePlan.context`) takes every section that no change
of the memo's `Delta` touches as it was, in one dictionary update, and visits only the
others page by page (their unchanged pages still come from the memo).

    incident pages   all but the changed incidents'
    component pages  all of a component or group whose incidents and shown status are unchanged;
                     of the others, the numbered pages older than the oldest change
    history          the numbered pages older than the oldest change (`history_rechecked`), or
                     when the edits moved no incident, all but those holding them (`archive_rechecked`)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
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
    item_listed: dict[str, Sequence[IncidentState]] = field(default_factory=dict)
    """The incidents each component's and group's pages listed, newest first."""
    history: Section = field(default_factory=Section)
    listed: tuple[IncidentState, ...] = ()
    """The incidents the history listed, newest first."""


def started(entry: IncidentState) -> tuple[datetime, str]:
    """The order of `SiteState.incidents` (newest first)."""
    return entry.started_at, entry.id


def newest_index(incidents: Sequence[IncidentState], entry: IncidentState,
                 by: Callable[[IncidentState], tuple[datetime, str]] = started) -> int:
    """Where `entry`'s place is in `incidents`, ordered newest first by `by` (default: as
    `SiteState.incidents`), by binary search."""
    key = by(entry)
    low, high = 0, len(incidents)
    while low < high:
        middle = (low + high) // 2
        if by(incidents[middle]) > key:
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


Versions = tuple[IncidentState | None, IncidentState | None]
"""An incident's state in the last build and in this one (None: not there)."""


def archive_rechecked(before: Sequence[IncidentState], after: Sequence[IncidentState],
                      changed: Sequence[Versions], size: int) -> Collection[int]:
    """The numbered pages (`pages.history_pages`) of a list of incidents, `after` (newest
    first; `before` in the last build), that `changed` can alter: when each changed
    incident is where it was (the same count, its new version in its old one's place: an
    edit that moved nothing), only the pages holding them; else every page from
    `history_rechecked` on."""
    count = len(after)
    if len(before) == count:
        places = []
        for old, new in changed:
            place = -1 if old is None or new is None else newest_index(before, old)
            if not 0 <= place < count or before[place] is not old or after[place] is not new:
                break
            places.append(place)
        else:
            numbered = max(count // size - 1, 0)
            return {number for place in places if 0 < (number := (count - 1 - place) // size + 1) <= numbered}
    versions = [entry for pair in changed for entry in pair if entry is not None]
    first = history_rechecked(before, after, versions, size) if versions else count // size
    return range(first, max(len(before), count) // size + 1)
