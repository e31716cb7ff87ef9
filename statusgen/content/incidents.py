"""`incidents/**/*.md|yaml`: one incident or maintenance window per file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path, PurePosixPath

from statusgen.content.catalog import Catalog
from statusgen.errors import Problems
from statusgen.content.fields import ID_PATTERN, Fields, describe, did_you_mean, one_of, read_named
from statusgen.content.model import (
    COMPONENT_STATUSES,
    IMPACTS,
    INCIDENT_STATUSES,
    KINDS,
    MAINTENANCE_STATUSES,
    PRIORITIES,
    Incident,
    SiteConfig,
    Text,
    Update,
    Window,
    severity,
)
from statusgen.times import TimeError, parse_time
from statusgen.content.yamlsource import LocatedDict, LocatedList

INCIDENT_KEYS = ("title", "type", "impact", "components", "updates", "postmortem", "aliases")
MAINTENANCE_KEYS = ("title", "type", "components", "updates", "window", "postmortem", "aliases")
UPDATE_KEYS = ("at", "status", "body", "components", "notify", "id")
FINAL_STATUSES = ("resolved", "completed", "cancelled")
IMPACT_OF_STATUS = {
    "operational": "none",
    "under_maintenance": "none",
    "degraded_performance": "minor",
    "partial_outage": "major",
    "major_outage": "critical",
}


def incident_files(site_dir: Path) -> list[Path]:
    folder = site_dir / "incidents"
    files = [p for p in folder.rglob("*") if p.suffix in (".md", ".yaml", ".yml") and p.is_file()]
    return sorted(files)


def load_incident(site_dir: Path, path: str, config: SiteConfig, catalog: Catalog,
                  problems: Problems) -> Incident | None:
    """The incident in the file at site path `path` (`incidents/2026/x.md`); None when the
    file has errors, which are recorded."""
    before = len(problems.errors)
    incident_id = PurePosixPath(path).stem
    found = read_named(site_dir, path, incident_id, problems,
                       role="the file name is the incident's id and URL",
                       what="an incident (a mapping with title and updates)")
    if found is None:
        return None
    fields, body = found
    incident = _IncidentReader(fields, config, catalog, incident_id).read(body)
    return incident if len(problems.errors) == before else None


class _IncidentReader:
    def __init__(self, fields: Fields, config: SiteConfig, catalog: Catalog, incident_id: str) -> None:
        self.fields, self.config, self.catalog, self.id = fields, config, catalog, incident_id
        self.languages = config.languages

    def read(self, body: str) -> Incident:
        fields = self.fields
        kind = fields.choice("type", KINDS, default="incident") or "incident"
        maintenance = kind == "maintenance"
        fields.reject_unknown(MAINTENANCE_KEYS if maintenance else INCIDENT_KEYS)
        title = fields.text("title", self.languages, required=True)
        statuses = MAINTENANCE_STATUSES if maintenance else INCIDENT_STATUSES
        components = read_components(fields, self.catalog, maintenance)
        updates = self._updates(statuses, required=not maintenance)
        window = self._window() if maintenance else None
        priority = self._priority()
        impact = fields.choice("impact", IMPACTS, aliases=PRIORITIES)
        if maintenance:
            impact = "maintenance"
        elif impact is None:
            impact = _implied_impact(components, updates)
        return Incident(
            id=self.id, path=fields.path, kind=kind,
            title=title or Text.same(self.languages, self.id),
            impact=impact, priority=priority, components=components, updates=updates,
            window=window, postmortem=self._postmortem(body),
            aliases=fields.aliases(), aliases_line=fields.line("aliases") if fields.has("aliases") else 0,
        )

    def _postmortem(self, body: str) -> Text | None:
        """The post-mortem: the file's Markdown body, or per language under `postmortem`."""
        if self.fields.has("postmortem"):
            if body.strip():
                self.fields.error("postmortem", "postmortem: expected either this key or a Markdown "
                                                "body after the front matter; found both")
            return self.fields.text("postmortem", self.languages)
        return Text.same(self.languages, body.strip()) if body.strip() else None

    def _priority(self) -> str | None:
        value = self.fields.get("impact")
        return str(value).upper() if str(value).upper() in PRIORITIES else None

    def _updates(self, statuses: tuple[str, ...], required: bool) -> tuple[Update, ...]:
        fields = self.fields
        if required and not fields.require("updates", "a list of updates with at, status and body"):
            return ()
        items = fields.sequence("updates", "a list of updates with at, status and body") or LocatedList()
        if required and not items and fields.has("updates"):
            fields.error("updates", "updates: expected at least one update; found none")
        updates = [u for index, item in enumerate(items)
                   if (u := self._update(item, items.line_of(index), statuses))]
        updates.sort(key=lambda update: update.at)
        self._check_order(updates)
        return tuple(updates)

    def _update(self, item: object, line: int, statuses: tuple[str, ...]) -> Update | None:
        fields = Fields(self.fields.path, item, self.fields.problems, line,
                        what="an update (a mapping with at, status and body)")
        if not fields.ok:
            return None
        fields.reject_unknown(UPDATE_KEYS)
        at = self._time(fields, "at")
        fields.require("status", f"one of {one_of(statuses)}")
        status = fields.choice("status", statuses)
        body = fields.text("body", self.languages, required=True)
        changes = fields.get("components")
        components: tuple[tuple[str, str], ...] = ()
        if changes is not None:
            if isinstance(changes, LocatedDict):
                components = read_statuses(self.fields, changes, self.catalog)
            else:
                fields.error("components", "components: expected a mapping of component id to "
                                           f"status; found {describe(changes)}")
        update_id = fields.string("id", "an update id")
        notify = fields.boolean("notify", True)
        if at is None or status is None or body is None:
            return None
        return Update(id=update_id or at.strftime("%Y%m%dT%H%M%SZ"), at=at, status=status, body=body,
                      components=components, notify=notify, line=fields.line(), at_line=fields.line("at"))

    def _check_order(self, updates: list[Update]) -> None:
        """No two updates at one instant, and nothing after the first final update."""
        final: Update | None = None
        for previous, update in zip(updates, updates[1:]):
            if final is None and previous.status in FINAL_STATUSES:
                final = previous
            if update.at == previous.at:
                self.fields.problems.add(self.fields.path, update.line,
                                         f"two updates at the same time {shown_time(update.at, self.config)} "
                                         f"(the other is on line {previous.line}); "
                                         "expected each update at its own time")
            elif final is not None:
                self.fields.problems.add(self.fields.path, update.line,
                                         f"update at {shown_time(update.at, self.config)} comes after the "
                                         f"{final.status} update at {shown_time(final.at, self.config)} "
                                         f"(line {final.line}); expected nothing after it")

    def _window(self) -> Window | None:
        window = self.fields.mapping("window")
        if window is None:
            self.fields.require("window", "a window with start and end")
            return None
        if not window.ok:
            return None
        window.reject_unknown(("start", "end"))
        start, end = self._time(window, "start"), self._time(window, "end")
        if start is None or end is None:
            return None
        if end <= start:
            relation = "before" if end < start else "equal to"
            window.error("end", f"window: expected the end after the start; found end "
                                f"{shown_time(end, self.config)} {relation} start {shown_time(start, self.config)}")
            return None
        return Window(start, end)

    def _time(self, fields: Fields, key: str) -> datetime | None:
        if not fields.require(key, "a time such as 2026-11-28 09:20"):
            return None
        try:
            return parse_time(fields.get(key), self.config.timezone)
        except TimeError as error:
            fields.error(key, f"{key}: {error}")
            return None


def read_components(fields: Fields, catalog: Catalog, maintenance: bool) -> tuple[tuple[str, str], ...]:
    """`components:`, a mapping of id to status, or for a maintenance also a list of ids
    (under maintenance); group ids expanded. Incident templates read theirs the same way."""
    if not fields.has("components"):
        return ()
    value = fields.get("components")
    if maintenance and isinstance(value, LocatedList):
        found: dict[str, str] = {}
        for index, ref in enumerate(value):
            for cid in catalog.resolve(fields.path, value.line_of(index), ref, fields.problems):
                found[cid] = "under_maintenance"
        return tuple(found.items())
    if not isinstance(value, LocatedDict):
        expected = "a mapping of component id to status" + (" or a list of ids" if maintenance else "")
        fields.error("components", f"components: expected {expected}; found {describe(value)}")
        return ()
    return read_statuses(fields, value, catalog)


def read_statuses(fields: Fields, mapping: LocatedDict, catalog: Catalog) -> tuple[tuple[str, str], ...]:
    """A mapping of component or group id to status, checked; group ids expanded."""
    found: dict[str, str] = {}
    for ref, status in mapping.items():
        line = mapping.line_of(ref)
        ids = catalog.resolve(fields.path, line, ref, fields.problems)
        if status not in COMPONENT_STATUSES:
            # quoted unless a plain id: a key written "\r" or "\x1b" must not reach the terminal raw
            named = ref if isinstance(ref, str) and ID_PATTERN.match(ref) else repr(ref)
            fields.problems.add(fields.path, line,
                                f"{named}: expected a component status, one of "
                                f"{one_of(COMPONENT_STATUSES)}; found {describe(status)}"
                                f"{did_you_mean(str(status), COMPONENT_STATUSES)}")
            continue
        for cid in ids:
            found[cid] = status
    return tuple(found.items())


def _implied_impact(components: tuple[tuple[str, str], ...], updates: tuple[Update, ...]) -> str:
    statuses = [status for _, status in components]
    statuses += [status for update in updates for _, status in update.components]
    worst = max(statuses, key=severity, default="operational")
    return IMPACT_OF_STATUS[worst]


def shown_time(moment: datetime, config: SiteConfig) -> str:
    """A time as messages about the site's files show it: local, to the minute."""
    return moment.astimezone(config.timezone).strftime("%Y-%m-%d %H:%M")
