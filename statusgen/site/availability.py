"""Availability per calendar month against each component's service level (`sla:`).

Partners report on service levels per month, so this counts the minutes of the last
`MONTHS` complete calendar months and of the current month until `now`, in the site's
timezone (a month with the change to winter time is an hour longer, one with the change
to summer time an hour shorter). Minutes count exactly as the uptime bars count them
(`uptime.py`, whose functions cut the pieces): a minute of major outage is a minute of
downtime, a minute of partial outage 30% of one (`WEIGHTS`), degraded performance none;
where incidents overlap on a component, the worst status counts.

Scheduled maintenance is neither uptime nor downtime (the usual rule of service level
agreements): the minutes a component spends under maintenance are left out of the
measured time. An outage during maintenance is still downtime, as the worst status
wins. Time before a component's `start_date` is not measured either: a month wholly
before it is "not measured", the month it starts in is measured from its first day.

    availability = 100 × (1 − downtime / measured)

A month meets its target when its availability is at least the target. The figures are
computed once per build: each component's intervals once, then months × pieces.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from statusgen.content.model import Component
from statusgen.site.state import IncidentState, SiteState
from statusgen.site.uptime import Interval, downtime, intervals_by_component, local_midnight, worst_over_time

if TYPE_CHECKING:
    from statusgen.site.incremental import RenderMemo

MONTHS = 12
"""Complete months shown before the current one."""
MAINTENANCE = "under_maintenance"
RESULTS = ("met", "missed", "not_measured", "no_target")


@dataclass(frozen=True)
class MonthAvailability:
    """One component's figures for one calendar month (minutes, possibly fractional)."""

    month: date
    """The month's first day."""
    start: datetime
    end: datetime
    """The month's end, or `now` for the current month."""
    measured: float
    """Minutes counted: the month (from the start date, until now) less maintenance."""
    downtime: float
    """Weighted minutes of downtime."""
    maintenance: float
    """Minutes under maintenance (left out of `measured`)."""
    target: float | None
    so_far: bool
    """The current month, counted until `now`."""

    @property
    def key(self) -> str:
        """`2026-11`."""
        return f"{self.month.year:04d}-{self.month.month:02d}"

    @property
    def percent(self) -> float | None:
        """The availability in percent, None when nothing was measured. Rounded to six
        decimals so that float noise never turns an exact 99.5 into a missed 99.5."""
        if self.measured <= 0:
            return None
        return round(100 * (1 - self.downtime / self.measured), 6)

    @property
    def met(self) -> bool | None:
        """Whether the target was met; None when there is no target or no measurement."""
        percent = self.percent
        if percent is None or self.target is None:
            return None
        return percent >= self.target

    @property
    def result(self) -> str:
        """One of `RESULTS`."""
        if self.percent is None:
            return "not_measured"
        if self.target is None:
            return "no_target"
        return "met" if self.met else "missed"


@dataclass(frozen=True)
class ComponentAvailability:
    component: str
    target: float | None
    months: tuple[MonthAvailability, ...]
    """Oldest first; the last is the current month."""


def site_availability(state: SiteState, months: int = MONTHS, memo: RenderMemo | None = None,
                      by_component: Mapping[str, Sequence[IncidentState]] | None = None,
                      ) -> dict[str, ComponentAvailability]:
    """Every component's monthly figures at `state.now`. With a memo, a component's are
    the last build's at the same `now` while no incident touching it changed since; with
    `by_component` (`state.incidents_by_item`), the others' are made from their incidents
    alone, not from a look at every incident."""
    calendar = month_calendar(state.now, state.site.config.timezone, months)
    tz = state.site.config.timezone
    context = (state.now, tz.key, months)
    carried: dict[str, tuple[Component, ComponentAvailability]] | None = \
        None if memo is None else memo.carried("availability", context)
    kept: dict[str, tuple[Component, ComponentAvailability]] = {}
    if carried is not None and memo is not None and memo.delta is not None:
        delta, since = memo.delta, calendar[0][1]
        # An incident counts only with a status within the months shown (as `intervals_by_component`
        # cuts them): an edit to an older one changes no figure.
        touched = delta.items(state.site, [i for i in delta.changed if any(
            _within(entry, since, state.now) for entry in delta.versions((i,)))])
        kept = {c.id: carried[c.id] for c in state.site.components
                if c.id in carried and carried[c.id][0] == c and c.id not in touched}
    stale = {c.id for c in state.site.components if c.id not in kept}
    if stale:
        among = None if not kept or by_component is None else _touching(state, stale, by_component)
        intervals = intervals_by_component(state, calendar[0][1], stale if kept else None, among)
        for component in state.site.components:
            if component.id in stale:
                kept[component.id] = (component, component_availability(
                    component, intervals.get(component.id, []), calendar, tz))
    if memo is not None:
        memo.carry("availability", context, kept)
    return {component.id: kept[component.id][1] for component in state.site.components}


def _within(entry: IncidentState, since: datetime, now: datetime) -> bool:
    """Whether the incident set a status between `since` and `now`."""
    return any((segment.end or now) > since and segment.start < now for segment in entry.segments)


def _touching(state: SiteState, components: AbstractSet[str],
              by_component: Mapping[str, Sequence[IncidentState]]) -> list[IncidentState]:
    """The incidents that touch `components`, in `state.incidents`' order (newest first)."""
    found = {entry.id: entry for cid in components for entry in by_component.get(cid, ())}
    return sorted(found.values(), key=lambda entry: (entry.started_at, entry.id), reverse=True)


def month_calendar(now: datetime, tz: ZoneInfo, months: int = MONTHS) -> list[tuple[date, datetime, datetime]]:
    """The last `months` complete local months and the current one, oldest first, as
    (first day, start, end) in UTC; the current month ends at `now`."""
    today = now.astimezone(tz).date()
    firsts = [_add_months(today.replace(day=1), -offset) for offset in range(months, -1, -1)]
    calendar = []
    for first in firsts:
        start, end = local_midnight(first, tz), local_midnight(_add_months(first, 1), tz)
        calendar.append((first, start, min(end, now)))
    return calendar


def _add_months(first: date, count: int) -> date:
    index = first.year * 12 + first.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def component_availability(component: Component, intervals: list[Interval],
                           calendar: list[tuple[date, datetime, datetime]], tz: ZoneInfo) -> ComponentAvailability:
    """One component's months: each month's window (from its start date on), the minutes
    its worst status spent in each status within it, and what that makes."""
    begins = local_midnight(component.start_date, tz) if component.start_date else None
    windows = [(first, start if begins is None else max(start, begins), end) for first, start, end in calendar]
    spent: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for start, end, status in worst_over_time(intervals):
        for first, window_start, window_end in windows:
            overlap = (min(end, window_end) - max(start, window_start)).total_seconds() / 60
            if overlap > 0:
                spent[first][status] += overlap
    months = []
    for (first, month_start, month_end), (_, window_start, window_end) in zip(calendar, windows, strict=True):
        minutes = spent.get(first, {})
        length = max(0.0, (window_end - window_start).total_seconds() / 60)
        maintenance = minutes.get(MAINTENANCE, 0.0)
        months.append(MonthAvailability(
            month=first, start=month_start, end=month_end, measured=length - maintenance,
            downtime=downtime(minutes), maintenance=maintenance, target=component.sla,
            so_far=first == calendar[-1][0]))
    return ComponentAvailability(component.id, component.sla, tuple(months))
