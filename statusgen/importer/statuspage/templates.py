"""Statuspage's incident templates as template records.

    manage API `incident_templates` (name, title, body, update_status, should_send_notifications,
    components or component_ids, group_id) ──templates_from_dump──▶ TemplateRecords
        name ──slugify──▶ the file name (unique: -2, -3, ...); the name itself is the description
        title, body ──escape──▶ template text (Statuspage has no placeholders: a brace is a brace)
        component ids ──component_ids──▶ statusgen ids (a group id names all its components)

What does not map one to one goes to the report: a component not on the page, a template
group (Statuspage's `group_id` groups templates; statusgen has none), a tweet setting,
a status neither an incident nor a maintenance has, and component statuses the source
does not give (a template's components are then written with the status an outage or
maintenance would have, to check).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from statusgen.authoring.incident import slugify
from statusgen.content.model import COMPONENT_STATUSES, INCIDENT_STATUSES, MAINTENANCE_STATUSES
from statusgen.content.templates import TEMPLATES_FOLDER, escape
from statusgen.importer.statuspage.markup import to_markdown
from statusgen.importer.records import Report, TemplateRecord
from statusgen.importer.statuspage.dump import Dump
from statusgen.importer.templatefiles import template_kind

FINAL = ("resolved", "completed")
DEFAULT_STATUS = {"incident": "major_outage", "maintenance": "under_maintenance"}
"""A component's status when the source gives none."""


def templates_from_dump(dump: Dump, component_ids: Mapping[str, str], report: Report) -> tuple[TemplateRecord, ...]:
    """`component_ids`: Statuspage component or group id → statusgen id."""
    records: list[TemplateRecord] = []
    taken: set[str] = set()
    for index, raw in enumerate(dump.templates):
        record = _template(raw, index, component_ids, report, taken)
        if record is not None:
            taken.add(record.name)
            records.append(record)
    return tuple(records)


def _template(raw: Any, index: int, component_ids: Mapping[str, str], report: Report,
              taken: set[str]) -> TemplateRecord | None:
    if not isinstance(raw, dict):
        report.skip(f"incident template #{index + 1}", f"expected a JSON object; found {type(raw).__name__}")
        return None
    label = _text(raw.get("name")) or _text(raw.get("title"))
    title = _text(raw.get("title"))
    if not title:
        report.skip(f"incident template {label!r}" if label else f"incident template #{index + 1} "
                    f"(id {raw.get('id')})", "it has no title")
        return None
    name = _unique(slugify(label, "template"), taken)
    what = f"incident template {label!r} ({TEMPLATES_FOLDER}/{name}.yaml)"
    body = _text(raw.get("body"))
    if not body:
        report.change(what, "it has no body (the first update's text); the title is used")
        body = title
    converted = to_markdown(body)  # Statuspage's markup, as in the incidents' updates
    for note in converted.notes:
        report.change(what, note)
    status = _status(raw, what, report)
    return TemplateRecord(
        name=name, title=escape(title), body=escape(converted.markdown or body),
        status=status, components=_components(raw, status, component_ids, what, report),
        notify=raw.get("should_send_notifications") is not False, description=label,
    )


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _status(raw: dict[str, Any], what: str, report: Report) -> str:
    status = raw.get("update_status") or "investigating"
    if status not in (*INCIDENT_STATUSES, *MAINTENANCE_STATUSES):
        report.change(what, f"update_status {status!r} is no incident or maintenance status; written as investigating")
        return "investigating"
    if raw.get("should_tweet"):
        report.change(what, "should_tweet is not kept: statusgen posts to no social network")
    return str(status)


def _components(raw: dict[str, Any], status: str, component_ids: Mapping[str, str], what: str,
                report: Report) -> tuple[tuple[str, str], ...]:
    """The template's components with a status each: the source's where it gives one that
    says something, else an outage's (or a maintenance's; operational for a final status)."""
    kind = template_kind(status)
    default = "operational" if status in FINAL else DEFAULT_STATUS[kind]
    found: dict[str, str] = {}
    guessed = False
    for source_id, given in _source_components(raw):
        if source_id not in component_ids:
            report.change(what, f"component {source_id} is not on the page; left out")
            continue
        useful = given if given in COMPONENT_STATUSES and (given != "operational" or status in FINAL) else None
        guessed |= useful is None
        found.setdefault(component_ids[source_id], useful or default)
    group = raw.get("group_id")
    if group:
        if group in component_ids:
            found.setdefault(component_ids[group], default)
            guessed = True
        else:
            report.change(what, f"template group {group} is not kept: statusgen does not group templates")
    if guessed and found:
        report.change(what, f"components written as {default}, the source gives no status: check them")
    return tuple(found.items())


def _source_components(raw: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(Statuspage id, status or None) of each component: `components` (objects, as the API
    answers) or `component_ids` (as a template is created)."""
    objects = raw.get("components") or []
    listed = [(str(c["id"]), c.get("status")) for c in objects if isinstance(c, dict) and c.get("id")]
    listed += [(str(cid), None) for cid in raw.get("component_ids") or [] if isinstance(cid, str)]
    return listed


def _unique(name: str, taken: set[str]) -> str:
    return next(candidate for n in range(1, len(taken) + 2)
                if (candidate := name if n == 1 else f"{name}-{n}") not in taken)
