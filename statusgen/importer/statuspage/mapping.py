"""Statuspage's objects as statusgen records.

    Dump.components ──_components──▶ ComponentRecords: groups and components by position,
        ids from the names (`slugify`), the Statuspage id as alias
        ──importer.components.merge_components──▶ the site's own ids and translations win
    Dump.incidents ──_Incident──▶ IncidentRecords: every update, component changes,
        impact, window, post-mortem; whatever had to change is written to the Report

How an incident maps (each point that changes something is reported):
- **Updates**: time = `display_at`, else `created_at`, to the second; status as is,
  `postmortem` → `resolved`; a status of the other kind (an incident's `completed`, a
  maintenance's `resolved`) → its counterpart; an unknown one → the one before it.
  `deliver_notifications: false` → `notify: false`. The body: `markup.to_markdown`.
- **Order** (statusgen's loader refuses the rest): two updates in one second → the later
  one a second later; a final status (resolved, completed, cancelled) followed by an
  update that is not final (the incident was reopened) → monitoring (incident) or
  verifying (maintenance); final updates after the first final one → their text (with
  its time) and component changes added to that first one.
- **No updates**: an incident gets `investigating` at `created_at` and, once resolved,
  `resolved` at `resolved_at`, both without text; a maintenance needs none (its window).
- **Components**: the statuses an incident sets from its start are the `new_status` of
  its earliest update's `affected_components` (`old_status` is what the page showed
  before, which statusgen works out from the other incidents). A component whose first
  change comes later from a status other than operational starts at that `old_status`
  (guessed). A component of `incident.components` no update mentions starts at the
  status the impact implies (critical → major_outage, major → partial_outage, minor →
  degraded_performance, none → operational; a maintenance → under_maintenance; guessed).
  Every later update carries the `new_status`es that differ from the running ones. A
  `code` that is not one of the page's components is left out.
- **Impact** (`impact_override` wins over `impact`): written as a priority (critical →
  P1, major → P2, minor → P3, none → P4), or as the impact with `import: {impact_as:
  impact}` in content/site.yaml. A maintenance has none.
- **Maintenance**: `scheduled_for`/`scheduled_until` → `window` (a missing or inverted end →
  the completed update, else an hour after the start).
- **Post-mortem**: a published `postmortem_body` (Markdown; its tags converted) → the
  file's body; a draft (`postmortem_published_at` null) is not imported.
- **Aliases**: the Statuspage id, then the shortlink's code (`stspg.io/CODE`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from statusgen.authoring.incident import slugify
from statusgen.content.fields import ALIAS_PATTERN
from statusgen.content.incidents import FINAL_STATUSES
from statusgen.content.model import (
    COMPONENT_STATUSES,
    IMPACTS,
    INCIDENT_STATUSES,
    MAINTENANCE_STATUSES,
    PRIORITIES,
    Component,
    Group,
    Site,
    SiteConfig,
)
from statusgen.importer.components import component_ids, merge_components
from statusgen.importer.records import ComponentRecord, IncidentRecord, Records, Report, UpdateRecord
from statusgen.importer.statuspage.dump import JSON, Dump
from statusgen.importer.statuspage.markup import to_markdown

log = logging.getLogger(__name__)

PRIORITY_OF_IMPACT = {impact: priority for priority, impact in PRIORITIES.items()}
STATUS_OF_IMPACT = {"critical": "major_outage", "major": "partial_outage", "minor": "degraded_performance",
                    "none": "operational", "maintenance": "under_maintenance"}
COUNTERPART = {
    "incident": {"postmortem": "resolved", "scheduled": "investigating", "in_progress": "identified",
                 "verifying": "monitoring", "completed": "resolved", "cancelled": "resolved"},
    "maintenance": {"postmortem": "completed", "investigating": "in_progress", "identified": "in_progress",
                    "monitoring": "verifying", "resolved": "completed"},
}
"""A status of the other kind (or Statuspage's `postmortem`) → the one statusgen has."""
REOPENED = {"incident": "monitoring", "maintenance": "verifying"}
DEFAULT_WINDOW = timedelta(hours=1)


def map_dump(dump: Dump, config: SiteConfig, existing: Site | None, report: Report) -> Records:
    """Components (ids from names, Statuspage ids as aliases; an existing component with that
    alias keeps its id), incidents and maintenances with every update. `existing` is the
    site as it is (None for a new or unreadable one)."""
    for note in dump.notes:
        report.skipped.append(note)
    components: tuple[ComponentRecord, ...] = ()
    if dump.components:
        components, _ = merge_components(_components(dump.components, report), existing, report)
        ids = component_ids(components)
    else:
        ids = component_ids(_existing_records(existing))
    zone = _page_zone(dump.page, config)
    incidents = [_Incident(raw, ids, config, zone, report).record() for raw in dump.incidents]
    if len(config.languages) > 1 and (dump.components or dump.incidents):
        report.change("texts", f"in the source's one language; every site language "
                               f"({', '.join(config.languages)}) shows them until translated")
    return Records(components=components, incidents=tuple(i for i in incidents if i is not None))


# ── components ──────────────────────────────────────────────────────────────────────────


def _components(items: tuple[JSON, ...], report: Report) -> tuple[ComponentRecord, ...]:
    """Groups and components in page order, each group with its members."""
    groups = {str(item.get("id")): item for item in items if item.get("group")}
    members: dict[str, list[JSON]] = {gid: [] for gid in groups}
    top: list[JSON] = []
    for item in items:
        if item.get("group"):
            top.append(item)
            continue
        group_id = item.get("group_id") or _listed_in(item, groups)
        if group_id and str(group_id) in groups:
            members[str(group_id)].append(item)
            continue
        if group_id:
            report.change(_named("component", item), f"its group {group_id!r} is not among the page's "
                                                     "components; placed at the top level")
        top.append(item)
    found = []
    for item in sorted(top, key=_position):
        if not item.get("group"):
            found.append(_component(item, report))
        elif not members[str(item.get("id"))]:
            report.skip(_named("group", item), "it has no components (statusgen needs at least one)")
        else:
            inside = tuple(_component(member, report) for member in sorted(members[str(item.get("id"))],
                                                                           key=_position))
            found.append(_component(item, report, inside))
    return tuple(found)


def _listed_in(item: JSON, groups: dict[str, JSON]) -> str | None:
    return next((gid for gid, group in groups.items() if item.get("id") in (group.get("components") or ())), None)


def _position(item: JSON) -> tuple[int, int]:
    position = item.get("position")
    return (position, 0) if isinstance(position, int) and not isinstance(position, bool) else (1 << 30, 0)


def _component(item: JSON, report: Report,
               members: tuple[ComponentRecord, ...] | None = None) -> ComponentRecord:
    name = str(item.get("name") or "").strip()
    if not name:
        name = str(item.get("id"))
        report.change(_named("component", item), "it has no name; named after its id")
    description = str(item.get("description") or "").strip() or None
    showcase = item.get("showcase")
    return ComponentRecord(
        id=slugify(name, "group" if members is not None else "component"), name=name,
        description=description, aliases=_aliases(item.get("id"), _named("component", item), report),
        start_date=None if members is not None else _start_date(item, report),
        showcase=showcase if isinstance(showcase, bool) else True,
        only_show_if_degraded=item.get("only_show_if_degraded") is True,
        components=members,
    )


def _start_date(item: JSON, report: Report) -> date | None:
    value = item.get("start_date")
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        report.skip(f"{_named('component', item)}: start_date", f"{value!r} is not a date (YYYY-MM-DD)")
        return None


def _existing_records(site: Site | None) -> tuple[ComponentRecord, ...]:
    if site is None:
        return ()
    items: list[Component | Group] = [*site.groups, *site.components]
    return tuple(ComponentRecord(id=item.id, name=item.id, aliases=item.aliases) for item in items)


def _aliases(value: Any, what: str, report: Report) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if not ALIAS_PATTERN.match(str(value)):
        report.skip(f"{what}: id {value!r}", "not usable as an alias (letters, digits, '-', '_', '.'); "
                                             "a rerun cannot find it again")
        return ()
    return (str(value),)


def _named(kind: str, item: JSON) -> str:
    name = item.get("name")
    return f"{kind} {item.get('id')}" + (f" ({name!r})" if name else "")


# ── incidents ───────────────────────────────────────────────────────────────────────────


def _page_zone(page: JSON, config: SiteConfig) -> tzinfo:
    """The zone of times written without an offset (Statuspage writes offsets)."""
    try:
        return ZoneInfo(str(page.get("time_zone")))
    except (ZoneInfoNotFoundError, ValueError):
        return config.timezone


@dataclass
class _Update:
    at: datetime
    status: str
    body: str
    changes: list[tuple[str, str, str]]
    """(statusgen id, old_status, new_status) in the source's order."""
    notify: bool
    notes: list[str] = field(default_factory=list)


class _Incident:
    """One Statuspage incident or maintenance, mapped step by step."""

    def __init__(self, raw: JSON, ids: dict[str, str], config: SiteConfig, zone: tzinfo,
                 report: Report) -> None:
        self.raw, self.ids, self.config, self.zone, self.report = raw, ids, config, zone, report
        self.kind = "maintenance" if raw.get("scheduled_for") else "incident"
        self.what = _named(self.kind, raw)

    def record(self) -> IncidentRecord | None:
        aliases = self._aliases()
        if not aliases:
            self.report.skip(self.what, "it has no id, so a rerun could not find it again")
            return None
        updates = self._in_order(self._updates())
        window = self._window(updates) if self.kind == "maintenance" else None
        if not updates and self.kind == "incident":
            updates = self._made_up_updates()
        start, changes = self._start_statuses(updates)
        created = window[0] if window else updates[0].at if updates else self._time("created_at")
        if created is None:
            self.report.skip(self.what, "it has no time at all (no updates, no created_at)")
            return None
        title = str(self.raw.get("name") or "").strip()
        if not title:
            title = aliases[0]
            self.report.change(self.what, f"it has no name; titled {title!r}")
        return IncidentRecord(
            kind=self.kind, title=title, created=created, aliases=aliases,
            updates=tuple(UpdateRecord(u.at, u.status, u.body, c, u.notify) for u, c in zip(updates, changes)),
            impact=self._impact(), components=start, window=window, postmortem=self._postmortem(),
        )

    def _aliases(self) -> tuple[str, ...]:
        found = list(_aliases(self.raw.get("id"), self.what, self.report))
        shortlink = str(self.raw.get("shortlink") or "").rstrip("/")
        code = shortlink.rpartition("/")[2] if "/" in shortlink else ""
        if code and ALIAS_PATTERN.match(code) and code not in found:
            found.append(code)
        return tuple(found)

    def _time(self, key: str, item: JSON | None = None) -> datetime | None:
        value = (item if item is not None else self.raw).get(key)
        if not value:
            return None
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            self.report.skip(f"{self.what}: {key}", f"{value!r} is not an ISO 8601 time")
            return None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=self.zone)
        return moment.replace(microsecond=0)

    # ── updates ─────────────────────────────────────────────────────────────────────────

    def _updates(self) -> list[_Update]:
        raw_updates = [u for u in self.raw.get("incident_updates") or () if isinstance(u, dict)]
        found: list[tuple[datetime, int, _Update]] = []
        for index, item in enumerate(raw_updates):
            key = "display_at" if item.get("display_at") else "created_at"
            precise = self._precise(item.get(key))
            at = self._time(key, item)
            if at is None or precise is None:
                self.report.skip(f"{self.what}: update {item.get('id')}", "it has no time")
                continue
            found.append((precise, -index, self._update(item, at)))
        return [update for _, _, update in sorted(found, key=lambda entry: entry[:2])]

    def _precise(self, value: Any) -> datetime | None:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=self.zone)

    def _update(self, item: JSON, at: datetime) -> _Update:
        converted = to_markdown(str(item.get("body") or ""))
        update = _Update(at, self._status(item.get("status"), at), converted.markdown, self._changes(item, at),
                         item.get("deliver_notifications") is not False)
        if converted.notes:
            self.report.change(f"{self.what}: update at {self._shown(at)}", "; ".join(converted.notes))
        return update

    def _status(self, value: Any, at: datetime) -> str:
        statuses = MAINTENANCE_STATUSES if self.kind == "maintenance" else INCIDENT_STATUSES
        if value in statuses:
            return str(value)
        counterpart = COUNTERPART[self.kind].get(str(value))
        if counterpart:
            self.report.change(f"{self.what}: update at {self._shown(at)}", f"status {value} written as {counterpart}")
            return counterpart
        self.report.change(f"{self.what}: update at {self._shown(at)}",
                           f"unknown status {value!r}; written as the status before it")
        return ""  # filled in by _in_order from the update before

    def _changes(self, item: JSON, at: datetime) -> list[tuple[str, str, str]]:
        found = []
        for change in item.get("affected_components") or ():
            if not isinstance(change, dict):
                continue
            code, new = str(change.get("code")), change.get("new_status")
            old = change.get("old_status") if change.get("old_status") in COMPONENT_STATUSES else "operational"
            where = f"{self.what}: update at {self._shown(at)}"
            if code not in self.ids:
                self.report.skip(f"{where}: component {code} ({change.get('name')!r})",
                                 "not among the page's components")
            elif new not in COMPONENT_STATUSES:
                self.report.skip(f"{where}: component {code}", f"unknown status {new!r}")
            else:
                found.append((self.ids[code], str(old), str(new)))
        return found

    def _in_order(self, updates: list[_Update]) -> list[_Update]:
        """Statuses filled in, a second between updates, one final update, last."""
        first = "scheduled" if self.kind == "maintenance" else "investigating"
        for previous, update in zip([None, *updates], updates):
            if not update.status:
                update.status = previous.status if previous else first
            if previous and update.at <= previous.at:
                moved = previous.at + timedelta(seconds=1)
                self.report.change(f"{self.what}: update at {self._shown(update.at)}",
                                   f"moved to {self._shown(moved)} (statusgen needs each update at its own time)")
                update.at = moved
        last_open = max((i for i, u in enumerate(updates) if u.status not in FINAL_STATUSES), default=-1)
        for update in updates[:last_open]:
            if update.status in FINAL_STATUSES:
                self.report.change(f"{self.what}: update at {self._shown(update.at)}",
                                   f"status {update.status} written as {REOPENED[self.kind]} "
                                   "(the incident was reopened after it)")
                update.status = REOPENED[self.kind]
        return self._one_final(updates)

    def _one_final(self, updates: list[_Update]) -> list[_Update]:
        """Final updates after the first final one are added to it: statusgen shows
        nothing after the end."""
        final = next((i for i, u in enumerate(updates) if u.status in FINAL_STATUSES), None)
        if final is None or final == len(updates) - 1:
            return updates
        end = updates[final]
        for later in updates[final + 1:]:
            end.body = "\n\n".join(part for part in (end.body, f"{self._shown(later.at)}: {later.body}") if part)
            end.changes += later.changes
            end.notify = end.notify or later.notify
            self.report.change(f"{self.what}: update at {self._shown(later.at)}",
                               f"added to the {end.status} update at {self._shown(end.at)} "
                               "(statusgen shows nothing after the end)")
        return updates[:final + 1]

    def _made_up_updates(self) -> list[_Update]:
        created = self._time("created_at")
        if created is None:
            return []
        updates = [_Update(created, "investigating", "", [], True)]
        resolved = self._time("resolved_at")
        if str(self.raw.get("status")) in ("resolved", "postmortem"):
            updates.append(_Update(max(resolved or created, created + timedelta(seconds=1)), "resolved", "", [],
                                   True))
        self.report.change(self.what, "it has no updates; written with "
                                      + " and ".join(f"{u.status} at {self._shown(u.at)}" for u in updates)
                                      + ", without text")
        return updates

    # ── components ──────────────────────────────────────────────────────────────────────

    def _start_statuses(self, updates: list[_Update]) -> tuple[tuple[tuple[str, str], ...],
                                                             list[tuple[tuple[str, str], ...]]]:
        """The statuses set from the start, and each update's changes."""
        start: dict[str, str] = {}
        if updates:
            start.update((cid, new) for cid, _, new in updates[0].changes)
        running = dict(start)
        changes: list[tuple[tuple[str, str], ...]] = [()]
        for update in updates[1:]:
            own: dict[str, str] = {}
            for cid, old, new in update.changes:
                if cid not in running and old != "operational":
                    start[cid] = running[cid] = old
                    self.report.change(f"{self.what}: component {cid}",
                                       f"first changes at {self._shown(update.at)} from {old}; "
                                       f"taken as its status from the start")
                if running.get(cid, "operational") != new:
                    own[cid] = running[cid] = new
            changes.append(tuple(own.items()))
        self._listed_components(start, running)
        return tuple(start.items()), changes[:len(updates)]

    def _listed_components(self, start: dict[str, str], running: dict[str, str]) -> None:
        """`incident.components` no update mentions: the status the impact implies."""
        impact = "maintenance" if self.kind == "maintenance" else self._raw_impact()
        status = STATUS_OF_IMPACT.get(impact or "", "degraded_performance")
        listed = []
        for item in self.raw.get("components") or ():
            code = str(item.get("id") if isinstance(item, dict) else item)
            cid = self.ids.get(code)
            if cid is None:
                self.report.skip(f"{self.what}: component {code}", "not among the page's components")
            elif cid not in running and cid not in start:
                start[cid] = running[cid] = status
                listed.append(cid)
        if listed:
            self.report.change(f"{self.what}: components {', '.join(listed)}",
                               f"in no update; taken as {status} from the start "
                               f"(what impact {impact or 'unknown'} implies)")

    # ── impact, window, post-mortem ─────────────────────────────────────────────────────

    def _raw_impact(self) -> str | None:
        value = self.raw.get("impact_override") or self.raw.get("impact")
        return str(value) if value else None

    def _impact(self) -> str | None:
        if self.kind == "maintenance":
            return None
        impact = self._raw_impact()
        if impact is None:
            return None
        if impact not in IMPACTS:
            self.report.change(self.what, f"impact {impact!r} is not an incident's impact; "
                                          "left to the component statuses")
            return None
        return PRIORITY_OF_IMPACT[impact] if self.config.import_impact_as == "priority" else impact

    def _window(self, updates: list[_Update]) -> tuple[datetime, datetime] | None:
        start = self._time("scheduled_for")
        if start is None:
            return None
        end = self._time("scheduled_until")
        if end is None or end <= start:
            done = next((u.at for u in updates if u.status == "completed" and u.at > start), None)
            fixed = done or start + DEFAULT_WINDOW
            self.report.change(self.what, f"scheduled_until {self.raw.get('scheduled_until')!r} is not after "
                                          f"scheduled_for; the window ends at {self._shown(fixed)}")
            end = fixed
        return start, end

    def _postmortem(self) -> str | None:
        body = str(self.raw.get("postmortem_body") or "").strip()
        if not body:
            if self.raw.get("status") == "postmortem":
                self.report.skip(f"{self.what}: post-mortem", "the source has its status, not its text")
            return None
        if "postmortem_published_at" in self.raw and not self.raw.get("postmortem_published_at"):
            self.report.skip(f"{self.what}: post-mortem", "a draft, never published")
            return None
        converted = to_markdown(body, markdown=True)
        if converted.notes:
            self.report.change(f"{self.what}: post-mortem", "; ".join(converted.notes))
        return converted.markdown

    def _shown(self, moment: datetime) -> str:
        return moment.astimezone(self.config.timezone).strftime("%Y-%m-%d %H:%M:%S")
