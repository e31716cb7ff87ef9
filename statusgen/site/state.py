"""Stage 2 of the build: the model at a moment `now` → what is true then.

Pure functions of (site, now): which incidents are published yet, each one's status,
the time segments during which it set component statuses, every component's current
status, and the page's overall indicator with Statuspage's semantics.

A maintenance window moves on its own: before its start it is *scheduled*, inside it
*in_progress*, after its end *completed*. Explicit updates can move it further along
(start early, verify, finish early) or cancel it, never back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from datetime import datetime

from statusgen.content.model import Incident, Site, Text, Update, severity

MAINTENANCE_ORDER = ("scheduled", "in_progress", "verifying", "completed")
ACTIVE_MAINTENANCE = ("in_progress", "verifying")
INDICATORS = ("none", "minor", "major", "critical")
INDICATOR_OF_STATUS = {
    "operational": "none",
    "under_maintenance": "none",
    "degraded_performance": "minor",
    "partial_outage": "major",
    "major_outage": "critical",
}
DESCRIPTIONS = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
    "maintenance": "Service Under Maintenance",
}


@dataclass(frozen=True)
class Segment:
    """A stretch of time during which an incident held components at given statuses."""

    start: datetime
    end: datetime | None
    """None: still going at `now`."""
    statuses: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class IncidentState:
    incident: Incident
    status: str
    updates: tuple[Update, ...]
    """Published by `now`, oldest first; automatic maintenance steps included."""
    segments: tuple[Segment, ...]
    started_at: datetime
    ended_at: datetime | None
    """When it was resolved, completed or cancelled; None while it goes on."""

    @cached_property
    def changes(self) -> list[tuple[Update, tuple[tuple[str, str, str], ...]]]:
        """`component_changes(self)`, worked out once for the API, the snapshot and the emails."""
        return component_changes(self)

    # Cached, as `changes`: a rebuild of `serve --watch` reuses the states of unchanged
    # incidents, and every output that lists incidents asks each of them again.
    @cached_property
    def id(self) -> str:
        return self.incident.id

    @cached_property
    def created_at(self) -> datetime:
        return self.updates[0].at if self.updates else self.started_at

    @cached_property
    def updated_at(self) -> datetime:
        return self.updates[-1].at if self.updates else self.created_at

    @property
    def latest(self) -> Update | None:
        return self.updates[-1] if self.updates else None

    @cached_property
    def is_active(self) -> bool:
        """An ongoing incident, or a maintenance in progress."""
        if self.incident.is_maintenance:
            return self.status in ACTIVE_MAINTENANCE
        return self.status != "resolved"

    @cached_property
    def is_upcoming(self) -> bool:
        return self.incident.is_maintenance and self.status == "scheduled"

    @cached_property
    def current_statuses(self) -> tuple[tuple[str, str], ...]:
        """Component statuses this incident sets now (none once it is over)."""
        last = self.segments[-1] if self.segments else None
        return last.statuses if last and last.end is None else ()


@dataclass(frozen=True)
class Indicator:
    indicator: str
    description: str


@dataclass(frozen=True)
class SiteState:
    """Everything the renderers need to know about the site at `now`."""

    site: Site
    now: datetime
    incidents: tuple[IncidentState, ...]
    """Published incidents and maintenance, newest first."""
    component_statuses: dict[str, str]
    indicator: Indicator

    # Each list scans every incident, and templates ask for them more than once: made once.
    @cached_property
    def active_incidents(self) -> list[IncidentState]:
        return [s for s in self.incidents if s.is_active and not s.incident.is_maintenance]

    @cached_property
    def active_maintenance(self) -> list[IncidentState]:
        return [s for s in self.incidents if s.is_active and s.incident.is_maintenance]

    @cached_property
    def upcoming_maintenance(self) -> list[IncidentState]:
        upcoming = [s for s in self.incidents if s.is_upcoming]
        return sorted(upcoming, key=lambda s: (s.started_at, s.id))

    def group_status(self, group_id: str) -> str:
        members = self.site.groups_by_id[group_id].components
        return max((self.component_statuses[c] for c in members), key=severity, default="operational")


def site_state(site: Site, now: datetime) -> SiteState:
    states = [s for incident in site.incidents if (s := incident_state(incident, now))]
    states.sort(key=lambda s: (s.started_at, s.id), reverse=True)
    statuses = component_statuses(site, states)
    return SiteState(site, now, tuple(states), statuses, indicator(states, statuses))


def incident_state(incident: Incident, now: datetime) -> IncidentState | None:
    """The incident as published at `now`, or None before its first update."""
    updates = tuple(u for u in incident.updates if u.at <= now)
    if incident.window is not None:
        return _maintenance_state(incident, updates, now)
    if not updates:
        return None
    ended = updates[-1].at if updates[-1].status == "resolved" else None
    segments = []
    statuses = dict(incident.components)
    for update, following in zip(updates, updates[1:] + (None,)):
        statuses.update(update.components)
        end = following.at if following else ended
        if update.status != "resolved":
            segments.append(Segment(update.at, end, _affected(statuses)))
    return IncidentState(incident, updates[-1].status, updates, tuple(segments),
                         updates[0].at, ended)


def maintenance_status(incident: Incident, at: datetime) -> str:
    """A maintenance's status at a moment: its window, moved on by explicit updates."""
    assert incident.window is not None
    explicit = [u.status for u in incident.updates if u.at <= at]
    if "cancelled" in explicit:
        return "cancelled"
    window = incident.window
    by_window = "scheduled" if at < window.start else "in_progress" if at < window.end else "completed"
    latest = explicit[-1] if explicit else "scheduled"
    return max(by_window, latest, key=MAINTENANCE_ORDER.index)


def _maintenance_state(incident: Incident, updates: tuple[Update, ...], now: datetime) -> IncidentState:
    window = incident.window
    assert window is not None
    moments = sorted({m for m in (window.start, window.end) if m <= now} | {u.at for u in updates})
    timeline: list[Update] = []
    segments: list[Segment] = []
    status, ended = "scheduled", None
    statuses = dict(incident.components)
    explicit = {u.at: u for u in updates}
    for moment in moments:
        new = maintenance_status(incident, moment)
        update = explicit.get(moment)
        if update:
            statuses.update(update.components)
            timeline.append(update)
        if new != status and (update is None or update.status != new):
            timeline.append(_automatic_update(incident, moment, new))
        if new != status or update:
            _close(segments, moment)
            if new in ACTIVE_MAINTENANCE:
                segments.append(Segment(moment, None, _affected(statuses)))
        if new in ("completed", "cancelled") and ended is None:
            ended = moment
        status = new
    return IncidentState(incident, maintenance_status(incident, now), tuple(timeline),
                         tuple(segments), window.start, ended)


def _automatic_update(incident: Incident, moment: datetime, status: str) -> Update:
    """The step a window takes on its own; its text comes from the theme."""
    empty = Text(tuple((lang, "") for lang, _ in incident.title.values))
    return Update(id=f"auto-{status}", at=moment, status=status, body=empty, automatic=True)


def _close(segments: list[Segment], moment: datetime) -> None:
    if segments and segments[-1].end is None:
        last = segments.pop()
        segments.append(Segment(last.start, moment, last.statuses))


def _affected(statuses: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((cid, s) for cid, s in statuses.items() if s != "operational"))


def component_statuses(site: Site, states: list[IncidentState]) -> dict[str, str]:
    """Each component's status now: the worst that any active incident or maintenance sets."""
    current = {component.id: "operational" for component in site.components}
    for state in states:
        for cid, status in state.current_statuses:
            if severity(status) > severity(current[cid]):
                current[cid] = status
    return current


def indicator(states: list[IncidentState], statuses: dict[str, str]) -> Indicator:
    """The page's blended status, worded as Statuspage words it."""
    levels = [INDICATOR_OF_STATUS[s] for s in statuses.values()]
    levels += [s.incident.impact for s in states if s.is_active and not s.incident.is_maintenance]
    worst = max(levels, key=INDICATORS.index, default="none")
    if worst == "none" and (
        "under_maintenance" in statuses.values()
        or any(s.is_active and s.incident.is_maintenance for s in states)
    ):
        worst = "maintenance"
    return Indicator(worst, DESCRIPTIONS[worst])


def component_changes(entry: IncidentState) -> list[tuple[Update, tuple[tuple[str, str, str], ...]]]:
    """For each published update: the components whose status it changed, as (id, old, new)."""
    starts = {segment.start: dict(segment.statuses) for segment in entry.segments}
    ends = {segment.end for segment in entry.segments if segment.end is not None}
    current: dict[str, str] = {}
    changes = []
    for update in entry.updates:
        new = starts.get(update.at, {} if update.at in ends else current)
        ids = sorted(set(current) | set(new))
        changed = tuple((cid, current.get(cid, "operational"), new.get(cid, "operational"))
                        for cid in ids if current.get(cid, "operational") != new.get(cid, "operational"))
        changes.append((update, changed))
        current = new
    return changes


def incidents_by_item(site: Site, incidents: Iterable[IncidentState],
                      limit: int | None = None) -> dict[str, list[IncidentState]]:
    """The incidents of the whole site (key `""`), each component and each group, in the
    order given, at most `limit` each; one pass over the incidents, however many feeds."""
    selected: dict[str, list[IncidentState]] = defaultdict(list)
    group_of = {c.id: c.group for c in site.components}
    for incident in incidents:
        items = {"", *incident.incident.component_ids}
        items |= {group_of[cid] for cid in incident.incident.component_ids if group_of[cid]}
        for item in items:
            if limit is None or len(selected[item]) < limit:
                selected[item].append(incident)
    return selected
