"""What an import found, in statusgen's terms, before it is written as files.

Sources (Statuspage, cState) produce these; `write` turns them into the site's files.
Component references in records are already statusgen ids (the mapping derives them
and keeps the source's ids as `aliases`). Text is one string (every language shows it)
or a {lang: text} mapping. Times are timezone-aware.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

Localised = str | dict[str, str]


@dataclass(frozen=True)
class ComponentRecord:
    id: str
    name: Localised
    description: Localised | None = None
    aliases: tuple[str, ...] = ()
    """The source's ids for it (a Statuspage component id): kept in components.yaml."""
    start_date: date | None = None
    showcase: bool = True
    only_show_if_degraded: bool = False
    sla: float | None = None
    """The availability target ops set (`sla:`); no source has one, a rerun keeps ops'."""
    components: tuple[ComponentRecord, ...] | None = None
    """A group's members; None for a component."""

    @property
    def is_group(self) -> bool:
        return self.components is not None


@dataclass(frozen=True)
class UpdateRecord:
    at: datetime
    status: str
    body: Localised
    components: tuple[tuple[str, str], ...] = ()
    """Component statuses that change from this update on."""
    notify: bool = True


@dataclass(frozen=True)
class IncidentRecord:
    """One incident or maintenance window; written as incidents/YYYY/YYYY-MM-DD-slug.md."""

    kind: str
    """incident | maintenance"""
    title: Localised
    created: datetime
    """Names the file (its date and year folder)."""
    aliases: tuple[str, ...]
    """The source's ids for it (first: the one a rerun matches on); at least one."""
    updates: tuple[UpdateRecord, ...]
    impact: str | None = None
    """A priority P1–P4 or an impact none|minor|major|critical; None lets the components decide."""
    components: tuple[tuple[str, str], ...] = ()
    """Affected components and their status from the start."""
    window: tuple[datetime, datetime] | None = None
    postmortem: Localised | None = None


@dataclass(frozen=True)
class TemplateRecord:
    """An incident template, written as content/templates/NAME.yaml (see content/templates.py).

    `title` and `body` are template text: `{{` and `}}` for literal braces. A maintenance
    status (scheduled, in_progress, ...) makes it a maintenance template."""

    name: str
    title: Localised
    body: Localised
    status: str = "investigating"
    impact: str | None = None
    components: tuple[tuple[str, str], ...] = ()
    notify: bool = True
    description: Localised | None = None
    """What the template is for (`--list-templates` shows it): the source's name for it."""


@dataclass
class Report:
    """What an import could not map one to one: printed at the end, never dropped silently."""

    skipped: list[str] = field(default_factory=list)
    """`what: why` for each item left out."""
    changed: list[str] = field(default_factory=list)
    """`what: how` for each item written differently from the source."""

    def skip(self, what: str, why: str) -> None:
        self.skipped.append(f"{what}: {why}")

    def change(self, what: str, how: str) -> None:
        self.changed.append(f"{what}: {how}")

    def lines(self) -> list[str]:
        return ([f"not imported: {line}" for line in self.skipped]
                + [f"changed: {line}" for line in self.changed])


@dataclass(frozen=True)
class Records:
    components: tuple[ComponentRecord, ...] = ()
    """In page order; empty keeps components.yaml as it is."""
    incidents: tuple[IncidentRecord, ...] = ()
    templates: tuple[TemplateRecord, ...] = ()
