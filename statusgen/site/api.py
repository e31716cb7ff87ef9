"""The Statuspage public API v2 as static JSON files under `api/v2/`.

Same documents, shapes, key order, value sets and semantics as Atlassian Statuspage's
public Status API, so existing clients, widgets and monitors work unchanged:

    summary.json                          page, components, incidents (unresolved),
                                          scheduled_maintenances (upcoming and active), status
    status.json                           page, status
    components.json                       page, components (groups included)
    incidents.json                        page, the 50 most recent incidents
    incidents/unresolved.json             page, investigating / identified / monitoring
    scheduled-maintenances.json           page, the 50 most recent maintenances
    scheduled-maintenances/upcoming.json  page, status scheduled
    scheduled-maintenances/active.json    page, status in_progress or verifying

The default language is at `api/v2/`; every other language has the same documents, with
names and texts in that language, under `LANG/api/v2/` (a statusgen extension).

Choices where Statuspage is not ours to copy: ids are derived from the file ids
(`statusgen.ids`), `shortlink` is the incident's own page, a resolved incident with a
post-mortem has status `postmortem` (as Statuspage shows it once one is published), and
a cancelled maintenance is left out of the lists (Statuspage has no such status).

Beside them, `api/uptime.json` (`uptime_json`) is statusgen's own: the daily uptime
of every component, which Statuspage does not publish.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time
from itertools import islice
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from statusgen import ids
from statusgen.content.model import COMPONENT_STATUSES, Component, Group, Site, Update
from statusgen.site import urls
from statusgen.site.state import IncidentState, SiteState
from statusgen.site.theme import Theme, Translator
from statusgen.site.uptime import WEIGHTS, ComponentUptime
from statusgen.times import iso_time

if TYPE_CHECKING:
    from statusgen.site.incremental import RenderMemo

FOLDER = "api/v2/"
"""Where the documents sit under each language's home."""
LIMIT = 50
UNRESOLVED = ("investigating", "identified", "monitoring")
ACTIVE = ("in_progress", "verifying")


def api_outputs(state: SiteState, theme: Theme, memo: RenderMemo | None = None) -> dict[str, bytes]:
    """Every document in every language.

    With a `memo`, a language's documents are reused while everything they list is
    unchanged (an edit to an old incident leaves the API as it was), and each incident's
    component changes are reused while the incident is unchanged.
    """
    outputs: dict[str, bytes] = {}
    changed_at = last_changes(state, memo)
    selection = _Selection.of(state, memo)
    listed = _listed(state, changed_at, selection, memo) if memo is not None else None
    for lang in state.site.config.languages:
        prefix = urls.home(state.site.config, lang) + FOLDER

        def make(lang: str = lang, prefix: str = prefix) -> dict[str, bytes]:
            documents = api_documents(state, theme, lang, changed_at, selection)
            return {prefix + name: (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()
                    for name, document in documents.items()}

        if memo is None:
            outputs.update(make())
        else:
            fingerprint = (memo.site_key, listed)
            outputs.update(memo.recall(f"api:{lang}", "", fingerprint, make))
    return outputs


@dataclass(frozen=True)
class _Selection:
    """The incidents and maintenance each document lists, and the page's own times: what
    every language's documents read of the incidents, worked out once per build."""

    published: list[IncidentState]
    maintenance: list[IncidentState]
    unresolved: list[IncidentState]
    upcoming: list[IncidentState]
    active: list[IncidentState]
    beginning: datetime
    """When the page began: its first incident."""
    updated: datetime
    """When the page last changed."""

    @classmethod
    def of(cls, state: SiteState, memo: RenderMemo | None = None) -> _Selection:
        """With a memo, without a pass over every incident (`_open_and_updated`)."""
        published = _first(state.incidents, lambda e: not e.incident.is_maintenance)
        maintenance = _first(state.incidents if memo is None else memo.subset(
            "api-maintenance", state, _is_maintenance, _newest, newest_first=True), _is_maintenance)
        beginning = page_beginning(state, memo)
        still_open, updated = _open_and_updated(state, memo)
        by_start = sorted((e for e in still_open if e.incident.is_maintenance), key=_by_start)
        return cls(published, maintenance, [e for e in still_open if not e.incident.is_maintenance],
                   [e for e in by_start if e.status == "scheduled"], [e for e in by_start if e.status in ACTIVE],
                   beginning, beginning if updated is None else updated)


def _first(incidents: Iterable[IncidentState], wanted: Callable[[IncidentState], bool]) -> list[IncidentState]:
    """The first `LIMIT` incidents that are `wanted`, looking no further."""
    return list(islice((entry for entry in incidents if wanted(entry)), LIMIT))


def _is_maintenance(entry: IncidentState) -> bool:
    """A maintenance the API lists: not a cancelled one."""
    return entry.incident.is_maintenance and entry.status != "cancelled"


def _newest(entry: IncidentState) -> tuple[datetime, str]:
    """The order of `SiteState.incidents`, reversed."""
    return entry.started_at, entry.id


def _is_open(entry: IncidentState) -> bool:
    """An unresolved incident, or a maintenance scheduled or going on."""
    if entry.incident.is_maintenance:
        return entry.status == "scheduled" or entry.status in ACTIVE
    return entry.status in UNRESOLVED


def _open_and_updated(state: SiteState, memo: RenderMemo | None) -> tuple[list[IncidentState], datetime | None]:
    """The open incidents (`_is_open`), newest first, and the latest update of all (None
    without incidents); with a memo, the last build's brought up to date with its `Delta`."""
    carried = None if memo is None else memo.carried("api-open", ())
    if carried is not None and memo is not None and memo.delta is not None and carried[1] is not None:
        delta, (still_open, updated) = memo.delta, carried
        versions = list(delta.versions(delta.replaced))
        if all(entry.updated_at < updated for entry in versions if delta.after.get(entry.id) is not entry):
            still_open = [entry for entry in still_open if entry.id not in delta.replaced]
            fresh = [entry for entry in versions if delta.after.get(entry.id) is entry]
            still_open += [entry for entry in fresh if _is_open(entry)]
            still_open.sort(key=lambda e: (e.started_at, e.id), reverse=True)
            updated = max([updated, *(entry.updated_at for entry in fresh)])
            memo.carry("api-open", (), (still_open, updated))
            return still_open, updated
    found = ([e for e in state.incidents if _is_open(e)], max((e.updated_at for e in state.incidents), default=None))
    if memo is not None:
        memo.carry("api-open", (), found)
    return found


def _listed(state: SiteState, changed_at: dict[str, datetime], selection: _Selection,
            memo: RenderMemo) -> tuple[object, ...]:
    """Everything a language's documents show besides the theme, settings and catalog."""
    lists = (selection.published, selection.maintenance, selection.unresolved, selection.upcoming,
             selection.active)
    return (state.indicator, tuple(sorted(state.component_statuses.items())), tuple(sorted(changed_at.items())),
            selection.beginning, selection.updated, tuple(memo.digests(entries) for entries in lists))


def api_documents(state: SiteState, theme: Theme, lang: str, changed_at: dict[str, datetime] | None = None,
                  selection: _Selection | None = None) -> dict[str, dict[str, Any]]:
    """Every API document for one language, by file name."""
    t = Translator(lang, theme.messages(lang), state.site.config.timezone)
    selection = selection or _Selection.of(state)
    api = _Api(state, t, lang, last_changes(state) if changed_at is None else changed_at, selection)
    page, status = api.page(), api.status()
    components = api.components()
    unresolved = [api.incident(e) for e in selection.unresolved]
    upcoming = [api.incident(e) for e in selection.upcoming]
    active = [api.incident(e) for e in selection.active]
    return {
        "summary.json": {"page": page, "components": components, "incidents": unresolved,
                         "scheduled_maintenances": active + upcoming, "status": status},
        "status.json": {"page": page, "status": status},
        "components.json": {"page": page, "components": components},
        "incidents.json": {"page": page, "incidents": [api.incident(e) for e in selection.published]},
        "incidents/unresolved.json": {"page": page, "incidents": unresolved},
        "scheduled-maintenances.json": {"page": page, "scheduled_maintenances":
                                        [api.incident(e) for e in selection.maintenance]},
        "scheduled-maintenances/upcoming.json": {"page": page, "scheduled_maintenances": upcoming},
        "scheduled-maintenances/active.json": {"page": page, "scheduled_maintenances": active},
    }


def _by_start(entry: IncidentState) -> tuple[datetime, str]:
    return entry.started_at, entry.id


class _Api:
    """Statuspage's objects for one language, each built once and reused."""

    def __init__(self, state: SiteState, t: Translator, lang: str, changed_at: dict[str, datetime],
                 selection: _Selection) -> None:
        self.state, self.site, self.t, self.lang = state, state.site, t, lang
        self.config = state.site.config
        self.page_id = ids.page_id(self.config.base_url)
        self.changed_at = changed_at
        self.beginning, self.updated = selection.beginning, selection.updated
        self._incidents: dict[str, dict[str, Any]] = {}

    def time(self, moment: datetime | None) -> str | None:
        return None if moment is None else iso_time(moment, self.config.timezone)

    def page(self) -> dict[str, Any]:
        return {"id": self.page_id, "name": self.config.title[self.lang], "url": self.config.base_url.rstrip("/"),
                "time_zone": self.config.timezone.key, "updated_at": self.time(self.updated)}

    def status(self) -> dict[str, str]:
        return {"indicator": self.state.indicator.indicator, "description": self.state.indicator.description}

    def components(self) -> list[dict[str, Any]]:
        """Top-level entries in page order, each group followed by its components."""
        found = []
        for position, entry_id in enumerate(self.site.layout, start=1):
            group = self.site.groups_by_id.get(entry_id)
            if group is None:
                found.append(self.component(self.site.components_by_id[entry_id], position))
                continue
            found.append(self.group(group, position))
            found += [self.component(self.site.components_by_id[cid], index)
                      for index, cid in enumerate(group.components, start=1)]
        return found

    def component(self, component: Component, position: int | None = None) -> dict[str, Any]:
        if position is None:
            position = component_position(self.site, component)
        created = component_created(component, self.beginning, self.config.timezone)
        return {
            "id": ids.component_id(component.id), "name": component.name[self.lang],
            "status": self.state.component_statuses[component.id],
            "created_at": self.time(created), "updated_at": self.time(self.changed_at.get(component.id, created)),
            "position": position,
            "description": component.description[self.lang] if component.description else None,
            "showcase": component.showcase,
            "start_date": component.start_date.isoformat() if component.start_date else None,
            "group_id": ids.component_id(component.group) if component.group else None,
            "page_id": self.page_id, "group": False, "only_show_if_degraded": component.only_show_if_degraded,
        }

    def group(self, group: Group, position: int) -> dict[str, Any]:
        created = self.beginning
        updated = max((self.changed_at.get(cid, created) for cid in group.components), default=created)
        return {
            "id": ids.component_id(group.id), "name": group.name[self.lang],
            "status": self.state.group_status(group.id),
            "created_at": self.time(created), "updated_at": self.time(updated), "position": position,
            "description": group.description[self.lang] if group.description else None,
            "showcase": False, "start_date": None, "group_id": None, "page_id": self.page_id,
            "group": True, "only_show_if_degraded": False,
            "components": [ids.component_id(cid) for cid in group.components],
        }

    def incident(self, entry: IncidentState) -> dict[str, Any]:
        if entry.id not in self._incidents:
            self._incidents[entry.id] = self._incident(entry)
        return self._incidents[entry.id]

    def _incident(self, entry: IncidentState) -> dict[str, Any]:
        incident = entry.incident
        public = ids.incident_id(incident.id)
        monitoring = next((u.at for u in entry.updates if u.status == "monitoring"), None)
        document: dict[str, Any] = {
            "id": public, "name": incident.title[self.lang], "status": self._status(entry),
            "created_at": self.time(entry.created_at), "updated_at": self.time(entry.updated_at),
            "monitoring_at": self.time(monitoring), "resolved_at": self.time(entry.ended_at),
            "impact": incident.impact,
            "shortlink": urls.absolute(self.config, urls.incident(self.config, self.lang, incident.id)),
            "started_at": self.time(entry.created_at if incident.is_maintenance else entry.started_at),
            "page_id": self.page_id,
            "incident_updates": self._updates(entry, public),
            "components": [self.component(self.site.components_by_id[cid]) for cid in incident.component_ids],
        }
        if incident.window is not None:
            document["scheduled_for"] = self.time(incident.window.start)
            document["scheduled_until"] = self.time(incident.window.end)
        return document

    def _status(self, entry: IncidentState) -> str:
        if entry.status == "resolved" and entry.incident.postmortem is not None:
            return "postmortem"
        return entry.status

    def _updates(self, entry: IncidentState, public: str) -> list[dict[str, Any]]:
        found = []
        for update, changes in reversed(entry.changes):
            at = self.time(update.at)
            body = update_body(update, self.t, self.lang)
            affected = [{"code": ids.component_id(cid), "name": self.site.components_by_id[cid].name[self.lang],
                         "old_status": old, "new_status": new} for cid, old, new in changes]
            found.append({
                "id": ids.update_id(entry.id, update.id), "status": update.status, "body": body,
                "incident_id": public, "created_at": at, "updated_at": at, "display_at": at,
                "affected_components": affected or None, "deliver_notifications": update.notify,
                "custom_tweet": None, "tweet_id": None,
            })
        return found


def update_body(update: Update, t: Translator, lang: str) -> str:
    """An update's text in one language; a maintenance's automatic steps say what happened."""
    return t("automatic." + update.status) if update.automatic else update.body[lang]


# --- What a component object says beyond the component itself (the snapshot keeps these too) ---


def page_beginning(state: SiteState, memo: RenderMemo | None = None) -> datetime:
    """When the page began: its first incident (else now); what components without a
    `start_date` give as `created_at`. With a memo, the last build's unless an incident
    that changed since began as early or earlier."""
    if memo is not None and (made := memo.this_build("page-beginning", ())) is not None:
        return made  # type: ignore[no-any-return]
    carried: datetime | None = None if memo is None else memo.carried("page-beginning", ())
    if carried is not None and memo is not None and memo.delta is not None:
        delta = memo.delta
        if all(entry.created_at > carried for entry in delta.versions(delta.replaced)):
            memo.carry("page-beginning", (), carried)
            return carried
    beginning = min((e.created_at for e in state.incidents), default=state.now)
    if memo is not None and state.incidents:
        memo.carry("page-beginning", (), beginning)
    return beginning


def component_created(component: Component, beginning: datetime, tz: ZoneInfo) -> datetime:
    if component.start_date is None:
        return beginning
    return datetime.combine(component.start_date, time(0), tzinfo=tz)


def component_position(site: Site, component: Component) -> int:
    """Its place among its siblings: in its group, or at the top level; from 1."""
    siblings = site.groups_by_id[component.group].components if component.group else site.layout
    return siblings.index(component.id) + 1


def _latest(changes: Iterable[Iterable[tuple[str, datetime]]], found: dict[str, datetime]) -> dict[str, datetime]:
    """`found` with each component's latest moment among `changes` (incidents' changes)."""
    for each in changes:
        for cid, at in each:
            if cid not in found or at > found[cid]:
                found[cid] = at
    return found


def last_changes(state: SiteState, memo: RenderMemo | None = None) -> dict[str, datetime]:
    """When each component's status last changed, up to now. With a memo, from the last
    build's changes per incident, those of the incidents that changed since made again."""
    if memo is not None and (made := memo.this_build("api-changes", ())) is not None:
        return made[1]  # type: ignore[no-any-return]
    carried: _Changes | None = None if memo is None else memo.carried("api-changes", ())
    if carried is not None and memo is not None and memo.delta is not None:
        own, changed = carried
        if not memo.delta.replaced:
            memo.carry("api-changes", (), carried)
            return changed
        own = dict(own)
        latest: dict[str, datetime] | None = changed
        for incident_id in memo.delta.replaced:
            if latest is not None and any(latest.get(cid) == at for cid, at in own.get(incident_id, ())):
                latest = None  # it may have been a component's last change: look at all again
            entry = memo.delta.after.get(incident_id)
            if entry is None:
                own.pop(incident_id, None)
            else:
                own[incident_id] = _changes(entry)
        if latest is not None:  # the incidents replaced held no component's last change: add theirs
            changed = _latest((own.get(incident_id, ()) for incident_id in memo.delta.replaced), dict(latest))
            memo.carry("api-changes", (), (own, changed))
            return changed
    else:
        own = {entry.id: _changes(entry) for entry in state.incidents}
    changed = _latest(own.values(), {})
    if memo is not None:
        memo.carry("api-changes", (), (own, changed))
    return changed


_Changes = tuple[dict[str, tuple[tuple[str, datetime], ...]], dict[str, datetime]]
"""Each incident's `_changes`, and `last_changes` made of them."""


def _changes(entry: IncidentState) -> tuple[tuple[str, datetime], ...]:
    """When one incident last changed each component's status."""
    changed: dict[str, datetime] = {}
    for update, changes in entry.changes:
        for cid, _, _ in changes:
            changed[cid] = max(changed.get(cid, update.at), update.at)
    return tuple(changed.items())


def uptime_json(state: SiteState, uptime: dict[str, ComponentUptime]) -> str:
    """`api/uptime.json`: per component, the daily uptime and the 90-day percentage."""
    site = state.site
    lang = site.config.default_language
    components = []
    for component in site.components:
        figures = uptime[component.id]
        components.append({
            "id": component.id,
            "name": component.name[lang],
            "group_id": component.group,
            "uptime_percent": _rounded(figures.percent),
            "days": [{"date": day.day.isoformat(), "uptime_percent": _rounded(day.uptime),
                      "minutes": {status: round(m, 3) for status, m in day.minutes},
                      "incidents": list(day.incidents)} for day in figures.days],
        })
    document = {
        "generated_at": iso_time(state.now, site.config.timezone),
        "time_zone": site.config.timezone.key,
        "days": len(next(iter(uptime.values())).days) if uptime else 0,
        "weights": {s: WEIGHTS.get(s, 0.0) for s in COMPONENT_STATUSES if s != "operational"},
        "components": components,
    }
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
