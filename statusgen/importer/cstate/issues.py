"""One cState issue as an incident or a maintenance window.

    Issue (front matter, body) ──IssueReader.record──▶ IncidentRecord, or a report line saying why not

    severity        down → major_outage, P1 · disrupted → partial_outage, P2 · notice → degraded_performance, P3
    informational   P4; its systems are listed without a status change; closed at its last
                    update unless it is pinned and not resolved (cState's open announcement)
    maintenance     a title that says so (maintenance, onderhoud, Wartung) with a resolvedWhen
                    after its date: a window from date to resolvedWhen, its systems under_maintenance
    updates         the body's, by time; a label sets the status (`*Monitoring* -`); without one
                    the first is investigating and each later one keeps the status before it,
                    as an "update" does on Statuspage
    resolved: true  a resolved update at resolvedWhen, with the text of a *Resolved* update if
                    there is one; without resolvedWhen after the last update, the last one resolves it

Whatever does not map one to one goes to the Report, with the file and line; a draft, a
page of another section or one without a date is not imported, and says so. A file Hugo
could not read, or a time nobody could place, is a ContentError: nothing is imported then.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from statusgen.authoring.incident import PLACEHOLDERS, slugify
from statusgen.content.fields import ALIAS_PATTERN, describe, did_you_mean
from statusgen.errors import Problems
from statusgen.importer.cstate.body import Body, Entry, read_body
from statusgen.importer.cstate.files import LIST_PAGE, Front, Issue, hugo_time, line_of
from statusgen.importer.cstate.systems import Systems
from statusgen.importer.records import IncidentRecord, Localised, Report, UpdateRecord
from statusgen.times import TimeError

SEVERITIES = {"down": ("major_outage", "P1"), "disrupted": ("partial_outage", "P2"),
              "notice": ("degraded_performance", "P3")}
INFORMATIONAL_IMPACT = "P4"
MAINTENANCE_TITLE = re.compile(r"\b(maintenance|onderhoud|wartung|entretien)", re.IGNORECASE)
INCIDENT_LABELS: Mapping[str, str | None] = {
    "investigating": "investigating", "identified": "identified", "monitoring": "monitoring",
    "resolved": "resolved", "update": None, "updated": None, "scheduled": None,
    "in progress": "identified", "in-progress": "identified", "started": "investigating",
    "just began": "investigating", "began": "investigating", "verifying": "monitoring",
    "completed": "resolved", "complete": "resolved", "cancelled": "resolved", "canceled": "resolved",
}
"""A label's status in an incident; None keeps the status before it."""
MAINTENANCE_LABELS: Mapping[str, str | None] = {
    "investigating": "in_progress", "identified": "in_progress", "monitoring": "verifying",
    "resolved": "completed", "update": None, "updated": None, "scheduled": "scheduled",
    "in progress": "in_progress", "in-progress": "in_progress", "started": "in_progress",
    "just began": "in_progress", "began": "in_progress", "verifying": "verifying",
    "completed": "completed", "complete": "completed", "cancelled": "cancelled", "canceled": "cancelled",
}
"""A label's status in a maintenance; None lets the window say (scheduled, in progress, completed)."""
RESOLVED_TEXTS = {"en": "This incident has been resolved.", "nl": "Dit incident is opgelost.",
                  "fr": "Cet incident est résolu.", "de": "Dieser Vorfall ist behoben."}
"""The resolved update's text when cState has none: a resolvedWhen is all it says."""
FILE_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")
NAMES_SHOWN = 5


@dataclass
class Notes:
    """Rules that apply to many issues: one report line each, naming the first few."""

    names: dict[str, list[str]] = field(default_factory=dict)
    naive_times: int = 0

    def add(self, rule: str, name: str) -> None:
        self.names.setdefault(rule, []).append(name)

    def flush(self, report: Report, zone: ZoneInfo, config_path: str, zone_set: bool) -> None:
        for rule, names in self.names.items():
            more = ", …" if len(names) > NAMES_SHOWN else ""
            report.change(f"{len(names)} issue{'s' if len(names) > 1 else ''} ({', '.join(names[:NAMES_SHOWN])}{more})",
                          rule)
        if self.naive_times:
            source = f"timeZone in {config_path}" if zone_set else f"{config_path} sets no timeZone"
            report.change(f"{self.naive_times} times without an offset",
                          f"read in {zone.key}, as Hugo reads them ({source})")


UNTIMED = "no update times ({{< track >}}): the text is one update at the issue's date"
INFORMATIONAL = ("informational: impact P4, systems listed without a status change; closed at the last "
                 "update unless pinned and not resolved")
MAINTENANCE = ("the title says maintenance and resolvedWhen ends it: a maintenance window from date to "
               "resolvedWhen, whose status follows the window")
COMMENTS = "HTML comments, which cState does not show, are left out"


@dataclass
class _Update:
    at: datetime
    status: str | None
    text: str
    label: str | None
    line: int


@dataclass(frozen=True)
class _Facts:
    """An issue as read, before it is an incident or a maintenance."""

    title: str
    start: datetime
    ends: datetime | None
    resolved: bool
    informational: bool
    pin: bool
    affected: tuple[str, ...]
    alias: str
    updates: list[_Update]


@dataclass
class IssueReader:
    """Reads issue after issue: aliases stay unique across them, notes add up."""

    zone: ZoneInfo
    languages: tuple[str, ...]
    systems: Systems
    config_path: str
    report: Report
    problems: Problems
    notes: Notes = field(default_factory=Notes)
    aliases: set[str] = field(default_factory=set)

    def record(self, issue: Issue) -> IncidentRecord | None:
        """The issue as a record; None when it is not imported (reported) or is broken (a problem)."""
        front = self._front(issue)
        facts = self._facts(issue, front) if front is not None else None
        if front is None or facts is None:
            return None
        if MAINTENANCE_TITLE.search(facts.title):
            if facts.ends is not None and facts.ends > facts.start:
                return self._maintenance(issue, facts, facts.ends)
            self.report.change(f"{issue.path}:{front.line_of('title')}",
                               "the title says maintenance, but with no resolvedWhen after its date there "
                               "is no window: imported as an incident")
        return self._incident(issue, front, facts)

    def _facts(self, issue: Issue, front: Front) -> _Facts | None:
        """What the front matter and body say, every problem in them recorded; None if there is one."""
        before = len(self.problems.errors)
        title, start = self._title(issue, front), self._start(issue, front)
        resolved, informational, pin = (self._flag(issue, front, key) for key in ("resolved", "informational", "pin"))
        ends = self._time(issue, front.get("resolvedwhen"), front.line_of("resolvedwhen"), "resolvedWhen") \
            if front.has("resolvedwhen") else None
        affected = self._affected(issue, front)
        body = read_body(issue.body, issue.body_line)
        updates = self._updates(issue, body, start)
        if start is None or len(self.problems.errors) > before:
            return None
        self._note_body(issue, body, updates)
        return _Facts(title, start, ends, resolved, informational, pin, tuple(affected), self._alias(issue), updates)

    def _maintenance(self, issue: Issue, facts: _Facts, ends: datetime) -> IncidentRecord:
        self.notes.add(MAINTENANCE, issue.name)
        return IncidentRecord("maintenance", facts.title, facts.start, (facts.alias,),
                              self._maintenance_updates(issue, facts.updates, facts.start, ends),
                              components=tuple((cid, "under_maintenance") for cid in facts.affected),
                              window=(facts.start, ends))

    def _incident(self, issue: Issue, front: Front, facts: _Facts) -> IncidentRecord:
        status, impact = self._severity(issue, front, facts.informational, bool(facts.affected))
        if facts.informational:
            self.notes.add(INFORMATIONAL, issue.name)
        where = f"{issue.path}:{front.line_of('resolvedwhen' if facts.ends is not None else 'resolved')}"
        if facts.resolved or (facts.informational and not facts.pin):
            updates = self._closed(issue.path, where, facts.updates, facts.ends, facts.informational)
        else:
            updates = self._open(issue.path, where, facts.updates, facts.ends)
        return IncidentRecord("incident", facts.title, facts.start, (facts.alias,),
                              tuple(self._record(u) for u in updates),
                              impact=impact, components=tuple((cid, status) for cid in facts.affected))

    # ── front matter ───────────────────────────────────────────────────────────────────

    def _front(self, issue: Issue) -> Front | None:
        """The front matter of an issue cState shows; else a report line and None."""
        if issue.front is None:
            why = ("JSON front matter is not read; write it as YAML between '---' lines" if issue.front_kind == "json"
                   else "no front matter: cState shows only pages with section: issue")
            self.report.skip(f"{issue.path}:1", why)
            return None
        front = issue.front
        if issue.name == LIST_PAGE:
            self.report.skip(f"{issue.path}:1", "Hugo's list page of the issues, not an issue")
        elif front.get("draft") is True:
            self.report.skip(f"{issue.path}:{front.line_of('draft')}",
                             "a draft (draft: true), which cState does not publish")
        elif front.has("section") and str(front.get("section")).strip().lower() != "issue":
            self.report.skip(f"{issue.path}:{front.line_of('section')}",
                             f"section: {front.get('section')!r}; cState shows only section: issue as an issue")
        else:
            return front
        return None

    def _title(self, issue: Issue, front: Front) -> str:
        if front.has("title") and not isinstance(front.get("title"), (dict, list)):
            return str(front.get("title")).strip()
        self.report.change(f"{issue.path}:1", f"no title: titled {issue.name!r}, its file name")
        return issue.name

    def _start(self, issue: Issue, front: Front) -> datetime | None:
        """`date`, else Hugo's fallbacks (publishDate, lastmod), else a date in the file name."""
        for key in ("date", "publishdate", "lastmod"):
            if front.has(key):
                if key != "date":
                    self.report.change(f"{issue.path}:{front.line_of(key)}", f"no date: dated by {key}")
                return self._time(issue, front.get(key), front.line_of(key), key)
        named = FILE_DATE.match(issue.name)
        if named:
            self.report.change(f"{issue.path}:1", f"no date: dated {named.group(1)} by its file name")
            return self._time(issue, named.group(1), 1, "file name")
        self.report.skip(f"{issue.path}:1", "no date (nor publishDate, lastmod, or a date in the file name)")
        return None

    def _flag(self, issue: Issue, front: Front, key: str) -> bool:
        value = front.get(key)
        if value is None or value == "":
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        self.problems.add(issue.path, front.line_of(key), f"{key}: expected true or false; found {describe(value)}")
        return False

    def _time(self, issue: Issue, value: Any, line: int, what: str) -> datetime | None:
        try:
            moment, naive = hugo_time(value, self.zone)
        except TimeError as error:
            self.problems.add(issue.path, line, f"{what}: {error}")
            return None
        self.notes.naive_times += naive
        return moment

    def _affected(self, issue: Issue, front: Front) -> list[str]:
        """Component ids of the systems the issue names; unknown names are reported."""
        value = front.get("affected")
        if value is None or value == "":
            return []
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list):
            self.problems.add(issue.path, front.line_of("affected"),
                              f"affected: expected a list of system names; found {describe(value)}")
            return []
        found: list[str] = []
        for index, name in enumerate(names):
            line = line_of(names, index, front.line_of("affected"))
            match = self.systems.find(str(name))
            if match is None:
                hint = did_you_mean(str(name), self.systems.ids)
                self.report.skip(f"{issue.path}:{line}", f"affected {str(name)!r}: no system of that name in "
                                                         f"{self.config_path}{hint}")
                continue
            cid, known = match
            if known != str(name):
                self.report.change(f"{issue.path}:{line}", f"affected {str(name)!r} is system {known!r} when case "
                                                           "is ignored (cState matches the exact name)")
            if cid not in found:
                found.append(cid)
        return found

    def _severity(self, issue: Issue, front: Front, informational: bool, affects: bool) -> tuple[str, str | None]:
        """(the status of the affected components, the impact)."""
        if informational:
            return "operational", INFORMATIONAL_IMPACT
        severity = front.get("severity")
        known = SEVERITIES.get(str(severity).strip().lower()) if severity is not None else None
        if known is not None:
            return known
        if severity is not None or affects:
            found = f"severity {str(severity)!r}" if severity is not None else "no severity"
            self.report.change(f"{issue.path}:{front.line_of('severity') if severity is not None else 1}",
                               f"{found} (expected down, disrupted or notice): its systems are listed "
                               "without a status change")
        return "operational", None

    def _alias(self, issue: Issue) -> str:
        """The file name, which a rerun finds the incident by (made valid and unique if it is not)."""
        alias = issue.name
        if not ALIAS_PATTERN.match(alias) or alias in self.aliases:
            base = slugify(issue.name, "issue")
            alias = next(c for n in range(1, len(self.aliases) + 2)
                         if (c := base if n == 1 else f"{base}-{n}") not in self.aliases)
            self.report.change(f"{issue.path}:1", f"its file name is kept as alias {alias!r}")
        self.aliases.add(alias)
        return alias

    # ── updates ────────────────────────────────────────────────────────────────────────

    def _updates(self, issue: Issue, body: Body, start: datetime | None) -> list[_Update]:
        """The body's updates by time (text without a time at the date), those at one time joined;
        every time is read, so that each one that is wrong is told."""
        timed = [(entry, self._time(issue, entry.time, entry.line, "track")) for entry in body.entries]
        entries: list[tuple[Entry, datetime | None]] = [*timed, *([(body.untimed, start)] if body.untimed else [])]
        updates: list[_Update] = []
        for entry, at in sorted(((e, at) for e, at in entries if at is not None), key=lambda pair: pair[1]):
            if updates and updates[-1].at == at:
                self.report.change(f"{issue.path}:{entry.line}", f"two updates at {_shown(at)}: joined into one")
                updates[-1].text = f"{updates[-1].text}\n\n{entry.text}".strip()
                updates[-1].label = updates[-1].label or entry.label
            else:
                updates.append(_Update(at, None, entry.text, entry.label, entry.line))
        if not updates and start is not None:
            updates.append(_Update(start, None, "", None, issue.body_line))
        return updates

    def _note_body(self, issue: Issue, body: Body, updates: list[_Update]) -> None:
        if not any(update.text for update in updates):
            self.report.change(f"{issue.path}:{issue.body_line}", "no text: an incident gets the first update "
                                                                  "`statusgen new` writes; a maintenance, none")
        elif not body.entries:
            self.notes.add(UNTIMED, issue.name)
        if body.comments:
            self.notes.add(COMMENTS, issue.name)
        for shortcode in body.shortcodes:
            self.report.change(issue.path, f"shortcode {shortcode} is left in the text as it is")

    def _open(self, path: str, where: str, updates: list[_Update], ends: datetime | None) -> list[_Update]:
        """An ongoing incident: statuses by label or carried on, and nothing resolved."""
        if ends is not None:
            self.report.change(where, f"resolvedWhen {_shown(ends)} but not resolved: true: kept open, "
                                           "as cState shows it")
        self._statuses(updates)
        for update in updates:
            if update.status == "resolved":
                update.status = "monitoring"
                self.report.change(f"{path}:{update.line}", "this update says resolved, but the issue is "
                                               "not resolved: true: kept open, that update is monitoring")
        return updates

    def _closed(self, path: str, where: str, updates: list[_Update], ends: datetime | None,
                informational: bool) -> list[_Update]:
        """A resolved incident: one resolved update, last, at resolvedWhen where that is after the others."""
        self._statuses(updates)
        final = updates[-1] if updates[-1].status == "resolved" else None
        others = updates[:-1] if final is not None else list(updates)
        for update in others:
            if update.status == "resolved":
                update.status = "monitoring"
                self.report.change(f"{path}:{update.line}", "this update says resolved, but more "
                                                                              "follow: it is monitoring")
        latest = others[-1].at if others else None
        if ends is not None and (latest is None or ends > latest):
            if final is not None and final.at != ends:
                self.report.change(where, f"the resolved update at {_shown(final.at)} is placed at "
                                          f"resolvedWhen {_shown(ends)}")
            text = final.text if final is not None else ""
            return [*others, _Update(ends, "resolved", text, None, 0)]
        if final is not None:
            if ends is not None:
                self.report.change(where, f"resolvedWhen {_shown(ends)} is not after the update at "
                                          f"{_shown(latest or ends)}: resolved at {_shown(final.at)}, "
                                          "by its resolved update")
            return [*others, final]
        last = others[-1]
        if ends is not None and ends < last.at:
            self.report.change(where, f"resolvedWhen {_shown(ends)} is before the last update at "
                                      f"{_shown(last.at)}: that update resolves it")
        elif ends is None and not informational:
            self.report.change(where, f"resolved: true without resolvedWhen: the last update, at "
                                      f"{_shown(last.at)}, resolves it")
        last.status = "resolved"
        return others

    def _statuses(self, updates: list[_Update]) -> None:
        """By label, else the status before (after a resolved one: monitoring, as it goes on)."""
        previous = "investigating"
        for update in updates:
            update.status = (INCIDENT_LABELS.get(update.label) if update.label else None) or previous
            previous = "monitoring" if update.status == "resolved" else update.status

    def _maintenance_updates(self, issue: Issue, updates: list[_Update], start: datetime,
                             end: datetime) -> tuple[UpdateRecord, ...]:
        """Statuses by label, else by the window; a final one (completed, cancelled) only last."""
        if not any(update.text for update in updates):
            return ()
        for index, update in enumerate(updates):
            by_window = "scheduled" if update.at < start else "in_progress" if update.at < end else "completed"
            update.status = (MAINTENANCE_LABELS.get(update.label) if update.label else None) or by_window
            if update.status in ("completed", "cancelled") and index < len(updates) - 1:
                self.report.change(f"{issue.path}:{update.line}", f"this update says {update.status}, but more "
                                                                  "follow: it is verifying")
                update.status = "verifying"
        return tuple(self._record(update, "scheduled") for update in updates)

    def _record(self, update: _Update, first: str = "investigating") -> UpdateRecord:
        assert update.status is not None
        if update.text:
            body: Localised = update.text
        elif update.status == "resolved":
            body = self._localised(RESOLVED_TEXTS)
        else:
            body = self._localised(PLACEHOLDERS[first])
        return UpdateRecord(at=update.at, status=update.status, body=body)

    def _localised(self, texts: Mapping[str, str]) -> dict[str, str]:
        return {lang: texts.get(lang.split("-")[0], texts["en"]) for lang in self.languages}


def _shown(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")

