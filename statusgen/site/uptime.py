"""Per-component daily uptime over the last 90 days, as hosted status pages count it.

Each minute a component spends in a status weighs: a major outage fully, a partial
outage 30%, degraded performance and maintenance not at all. Days are the site's
calendar days (23 or 25 hours long on DST changes); today counts until `now`.
Where several incidents overlap on a component, the worst status counts.

The monthly availability against service levels (`availability.py`) counts minutes the
same way, with the pieces these functions cut: `intervals_by_component`,
`worst_over_time`, `downtime` and `local_midnight`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from statusgen.content.model import COMPONENT_STATUSES, Component, severity
from statusgen.site.state import IncidentState, SiteState

DAYS = 90
WEIGHTS = {"major_outage": 1.0, "partial_outage": 0.3}


@dataclass(frozen=True)
class DayUptime:
    day: date
    uptime: float | None
    """Percent; None before the component's start date."""
    minutes: tuple[tuple[str, float], ...]
    """Minutes spent in each non-operational status that day."""
    incidents: tuple[str, ...]
    """Ids of the incidents and maintenance that touched the component that day."""

    @property
    def worst(self) -> str:
        return max((s for s, m in self.minutes if m > 0), key=severity, default="operational")


@dataclass(frozen=True)
class ComponentUptime:
    component: str
    days: tuple[DayUptime, ...]
    """Oldest first."""
    percent: float | None


@dataclass(frozen=True)
class Interval:
    """A stretch of time one incident held one component at `status`."""

    start: datetime
    end: datetime
    status: str
    incident: str


def site_uptime(state: SiteState, days: int = DAYS) -> dict[str, ComponentUptime]:
    tz = state.site.config.timezone
    calendar = _calendar(state.now, tz, days)
    intervals = intervals_by_component(state, calendar[0][1])
    return {
        component.id: component_uptime(component, intervals.get(component.id, []), calendar, state.now)
        for component in state.site.components
    }


def _calendar(now: datetime, tz: ZoneInfo, days: int) -> list[tuple[date, datetime, datetime]]:
    """The last `days` local days as (day, start, end) in UTC; today ends at `now`."""
    today = now.astimezone(tz).date()
    result = []
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        start, end = local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)
        result.append((day, start, min(end, now)))
    return result


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The moment (in UTC) a local calendar day begins."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def intervals_by_component(state: SiteState, since: datetime, only: AbstractSet[str] | None = None,
                           among: Iterable[IncidentState] | None = None) -> dict[str, list[Interval]]:
    """Every status an incident set on a component, cut to [since, now]: one pass over
    the incidents, so linear in their number. `only`: just the incidents touching these
    components (the others' intervals may be left out too); `among`: the incidents to
    look at (default: all of `state`'s), in `state.incidents`' order, which must hold
    every one touching `only`."""
    found: dict[str, list[Interval]] = defaultdict(list)
    for incident in state.incidents if among is None else among:
        if only is not None and only.isdisjoint(incident.incident.component_ids):
            continue
        for segment in incident.segments:
            end = segment.end or state.now
            if end <= since or segment.start >= state.now:
                continue
            for cid, status in segment.statuses:
                found[cid].append(Interval(max(segment.start, since), min(end, state.now), status, incident.id))
    return found


def component_uptime(component: Component, intervals: list[Interval],
                     calendar: list[tuple[date, datetime, datetime]], now: datetime) -> ComponentUptime:
    minutes: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for start, end, status in worst_over_time(intervals):
        for day, day_start, day_end in calendar:
            overlap = (min(end, day_end) - max(start, day_start)).total_seconds() / 60
            if overlap > 0:
                minutes[day][status] += overlap
    touched: dict[date, set[str]] = defaultdict(set)
    for interval in intervals:
        for day, day_start, day_end in calendar:
            if interval.start < day_end and interval.end > day_start:
                touched[day].add(interval.incident)
    days, weighted, total = [], 0.0, 0.0
    for day, day_start, day_end in calendar:
        length = (day_end - day_start).total_seconds() / 60
        spent = minutes.get(day, {})
        down = downtime(spent)
        counts = component.start_date is None or day >= component.start_date
        if counts and length > 0:
            weighted, total = weighted + down, total + length
        uptime = 100 * (1 - down / length) if counts and length > 0 else None
        days.append(DayUptime(day, uptime, tuple((s, spent[s]) for s in COMPONENT_STATUSES if spent.get(s)),
                              tuple(sorted(touched.get(day, ())))))
    percent = 100 * (1 - weighted / total) if total else None
    return ComponentUptime(component.id, tuple(days), percent)


def downtime(minutes: dict[str, float]) -> float:
    """Weighted minutes of downtime from the minutes spent in each status (`WEIGHTS`)."""
    return sum(WEIGHTS.get(status, 0.0) * spent for status, spent in minutes.items())


def worst_over_time(intervals: list[Interval]) -> list[tuple[datetime, datetime, str]]:
    """Cut overlapping intervals into pieces, each with the worst status covering it."""
    edges: list[tuple[datetime, int, str]] = []
    for interval in intervals:
        if interval.end > interval.start:
            edges.append((interval.start, 1, interval.status))
            edges.append((interval.end, -1, interval.status))
    edges.sort(key=lambda edge: edge[0])
    active: dict[str, int] = defaultdict(int)
    pieces = []
    for (moment, change, status), following in zip(edges, edges[1:] + [None]):
        active[status] += change
        if following is None or following[0] == moment:
            continue
        worst = max((s for s, n in active.items() if n > 0), key=severity, default=None)
        if worst and worst != "operational":
            pieces.append((moment, following[0], worst))
    return pieces
