"""What a status page says at one moment, as one neutral `StatusReport`, and its JSON.

    site files ─load─▶ Site ─site_state(now)─▶ SiteState ─site_report─▶ StatusReport
    api/v2/summary.json (remote.py) ─────────────────────summary_report─▶ StatusReport

The overall status is the one the page and `api/v2/status.json` show (`state.indicator`:
Statuspage's indicator and description), never worked out again here.

`report_json` is `statusgen status --json`. The object is stable: keys are only ever added,
and `format` changes if one is removed or changes meaning. Times are ISO 8601 in UTC
(`2026-11-30T11:00:00Z`). It holds what the public page shows and nothing else: no
subscriber, no address.

    {
      "format": 1,
      "source": "site" | "url",          the site's files, or a published summary.json
      "from": "/srv/status" | "https://status.example.org/api/v2/summary.json",
      "at": "2026-11-30T11:00:00Z",      the moment described: --now or the clock
      "language": "en" | null,           null: a published page's own (--url without --lang)
      "page": {"name": str, "url": str, "time_zone": "Europe/Brussels"},
      "status": {"indicator": "none" | "minor" | "major" | "critical" | "maintenance",
                 "description": "All Systems Operational" | ...},      as api/v2/status.json
      "all_operational": bool,           no component off operational, no active incident,
                                         no maintenance in progress
      "components": [                    every component not operational, in page order
        {"id": str, "name": str, "group": str | null, "status": "degraded_performance" | ...,
         "causes": [ITEM id, ...]}],     the incidents and maintenance that set it, worst first
      "incidents": [ITEM, ...],          active incidents, newest first
      "maintenance": {"in_progress": [ITEM, ...], "upcoming": [ITEM, ...]}   by start
    }
    ITEM = {"id": str, "kind": "incident" | "maintenance", "title": str,
            "status": "investigating" | ... | "scheduled" | "in_progress" | "verifying",
            "impact": "none" | "minor" | "major" | "critical" | "maintenance",
            "priority": "P1" | "P2" | "P3" | "P4" | null,    (null for maintenance)
            "started_at": time, "window": {"start": time, "end": time} | null,
            "url": str,                                         the item's page
            "components": [{"id": str, "name": str, "status": str}],   in page order, with the
                                   status the item gives it (an upcoming maintenance: will give)
            "latest_update": {"at": time, "status": str, "body": str} | null}   body: plain text

Ids are the site's own (file names, component ids) from the files, and the API's ids from a
summary.json. From a summary, an item's component statuses are the last change its updates
made (`affected_components`), else under_maintenance for a maintenance and the component's
status now for an incident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from statusgen.content.model import PRIORITIES, Site, severity
from statusgen.notifier.plaintext import markdown_to_text
from statusgen.site import urls
from statusgen.site.api import update_body
from statusgen.site.state import IncidentState, SiteState
from statusgen.site.theme import Translator

FORMAT = 1
PRIORITY_OF_IMPACT = {impact: priority for priority, impact in PRIORITIES.items()}
"""critical → P1, major → P2, minor → P3, none → P4."""


@dataclass(frozen=True)
class Affected:
    id: str
    name: str
    status: str


@dataclass(frozen=True)
class LatestUpdate:
    at: datetime
    status: str
    body: str
    """Plain text."""


@dataclass(frozen=True)
class Item:
    """An active incident, or a maintenance in progress or upcoming."""

    id: str
    kind: str
    title: str
    status: str
    impact: str
    priority: str | None
    started_at: datetime
    window: tuple[datetime, datetime] | None
    url: str
    components: tuple[Affected, ...]
    latest: LatestUpdate | None


@dataclass(frozen=True)
class ComponentReport:
    id: str
    name: str
    group: str | None
    status: str
    causes: tuple[str, ...]


@dataclass(frozen=True)
class StatusReport:
    source: str
    """"site" or "url"."""
    origin: str
    """The site folder or the summary's URL."""
    at: datetime
    language: str | None
    page_name: str
    page_url: str
    time_zone: ZoneInfo
    indicator: str
    description: str
    components: tuple[ComponentReport, ...]
    incidents: tuple[Item, ...]
    in_progress: tuple[Item, ...]
    upcoming: tuple[Item, ...]

    @property
    def all_operational(self) -> bool:
        return not (self.components or self.incidents or self.in_progress)


def priority_of(impact: str, given: str | None = None) -> str | None:
    """An incident's priority: the one written in its file, else the one its impact means."""
    return given or PRIORITY_OF_IMPACT.get(impact)


def plain(markdown: str) -> str:
    """An update's body as one paragraph of plain text."""
    return " ".join(markdown_to_text(markdown).split())


def site_report(state: SiteState, t: Translator, origin: str) -> StatusReport:
    """The report of a site's own files at `state.now`, in the translator's language."""
    site, lang = state.site, t.lang
    config = site.config
    maker = _ItemMaker(site, t)
    items = [*state.active_incidents, *state.active_maintenance]
    return StatusReport(
        source="site", origin=origin, at=state.now, language=lang, page_name=config.title[lang],
        page_url=config.base_url, time_zone=config.timezone,
        indicator=state.indicator.indicator, description=state.indicator.description,
        components=tuple(_components(state, items, lang)),
        incidents=tuple(maker.item(entry) for entry in state.active_incidents),
        in_progress=tuple(maker.item(entry) for entry in sorted(state.active_maintenance, key=_by_start)),
        upcoming=tuple(maker.item(entry) for entry in state.upcoming_maintenance),
    )


def _by_start(entry: IncidentState) -> tuple[datetime, str]:
    return entry.started_at, entry.id


def _components(state: SiteState, active: list[IncidentState], lang: str) -> list[ComponentReport]:
    site = state.site
    found = []
    for component in site.components:  # in page order
        status = state.component_statuses[component.id]
        if status == "operational":
            continue
        setting = [(severity(s), entry.id) for entry in active for cid, s in entry.current_statuses
                   if cid == component.id]
        causes = tuple(entry_id for _, entry_id in sorted(setting, key=lambda pair: (-pair[0], pair[1])))
        group = site.groups_by_id[component.group].name[lang] if component.group else None
        found.append(ComponentReport(component.id, component.name[lang], group, status, causes))
    return found


class _ItemMaker:
    def __init__(self, site: Site, t: Translator) -> None:
        self.site, self.t, self.lang = site, t, t.lang
        self.order = {component.id: number for number, component in enumerate(site.components)}

    def item(self, entry: IncidentState) -> Item:
        incident, config = entry.incident, self.site.config
        latest = entry.latest
        shown = entry.current_statuses if entry.is_active else incident.affected
        window = (incident.window.start, incident.window.end) if incident.window else None
        return Item(
            id=entry.id, kind=incident.kind, title=incident.title[self.lang], status=entry.status,
            impact=incident.impact, started_at=entry.started_at, window=window,
            priority=None if incident.is_maintenance else priority_of(incident.impact, incident.priority),
            url=urls.absolute(config, urls.incident(config, self.lang, entry.id)),
            components=tuple(Affected(cid, self.site.components_by_id[cid].name[self.lang], status)
                             for cid, status in sorted(shown, key=lambda pair: self.order[pair[0]])),
            latest=LatestUpdate(latest.at, latest.status, plain(update_body(latest, self.t, self.lang)))
            if latest else None,
        )


def report_json(report: StatusReport) -> dict[str, Any]:
    """`statusgen status --json`: the object the module docstring describes."""
    return {
        "format": FORMAT, "source": report.source, "from": report.origin, "at": utc(report.at),
        "language": report.language,
        "page": {"name": report.page_name, "url": report.page_url, "time_zone": report.time_zone.key},
        "status": {"indicator": report.indicator, "description": report.description},
        "all_operational": report.all_operational,
        "components": [{"id": c.id, "name": c.name, "group": c.group, "status": c.status, "causes": list(c.causes)}
                       for c in report.components],
        "incidents": [_item_json(item) for item in report.incidents],
        "maintenance": {"in_progress": [_item_json(item) for item in report.in_progress],
                        "upcoming": [_item_json(item) for item in report.upcoming]},
    }


def _item_json(item: Item) -> dict[str, Any]:
    latest = item.latest
    return {
        "id": item.id, "kind": item.kind, "title": item.title, "status": item.status, "impact": item.impact,
        "priority": item.priority, "started_at": utc(item.started_at),
        "window": {"start": utc(item.window[0]), "end": utc(item.window[1])} if item.window else None,
        "url": item.url,
        "components": [{"id": c.id, "name": c.name, "status": c.status} for c in item.components],
        "latest_update": {"at": utc(latest.at), "status": latest.status, "body": latest.body} if latest else None,
    }


def utc(moment: datetime) -> str:
    """`2026-11-30T11:00:00Z` (milliseconds only when there are any)."""
    moment = moment.astimezone(UTC)
    spec = "milliseconds" if moment.microsecond else "seconds"
    return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"
