"""Records as the text of site files, written the way people write them.

    ComponentRecords ──components_text──▶ components.yaml (block style, a blank line
        between top-level entries, under the file's own leading comments)
    IncidentRecord ──incident_text──▶ incidents/YYYY/YYYY-MM-DD-slug.md: front matter
        (title, type, impact, aliases, components, window, updates) and the post-mortem
        as the Markdown body

Pure functions of the records, the site's languages and timezone: the same records give
the same bytes, which is what lets a rerun leave unchanged files alone. Times are ISO
8601 in the site timezone with their offset and seconds (`2026-11-03T08:12:05+01:00`):
exact, and unambiguous around DST changes. Texts go through `authoring.yamltext`, so
every value reads back as the string it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo

from statusgen.authoring.yamltext import NewUpdate, dumped, text_field
from statusgen.importer.records import ComponentRecord, IncidentRecord, Localised

COMPONENTS_HEADER = ("# Components and groups of the status page, in page order.\n"
                     "# Ids are used in URLs, feeds and subscriptions: never change them.\n")


def texts(value: Localised, languages: tuple[str, ...]) -> dict[str, str]:
    """A localised value as `text_field` takes it: one entry for a plain string (every
    language), else the site's languages it has, in the site's order."""
    if isinstance(value, str):
        return {languages[0]: value}
    given = {lang: value[lang] for lang in languages if lang in value}
    return given or {languages[0]: next(iter(value.values()), "")}


def written_moment(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds")


def flow_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(dumped(value) for value in values) + "]"


# ── components.yaml ─────────────────────────────────────────────────────────────────────


def leading_comments(text: str) -> str:
    """The comment block a file starts with (comments and blank lines), or ''."""
    kept = []
    for line in text.splitlines(keepends=True):
        if line.strip() and not line.lstrip().startswith("#"):
            break
        kept.append(line)
    return "".join(kept).rstrip("\n") + "\n" if "".join(kept).strip() else ""


def components_text(records: tuple[ComponentRecord, ...], languages: tuple[str, ...],
                    header: str = COMPONENTS_HEADER) -> str:
    entries = ["\n".join(_entry(record, languages, 0)) for record in records]
    return header + "\n" + "\n\n".join(entries) + "\n"


def _entry(record: ComponentRecord, languages: tuple[str, ...], indent: int) -> list[str]:
    pad = " " * (indent + 2)
    lines = [f"{' ' * indent}- id: {record.id}"]
    lines += text_field("name", texts(record.name, languages), indent + 2)
    if record.aliases:
        lines.append(f"{pad}aliases: {flow_list(record.aliases)}")
    if record.description:
        lines += text_field("description", texts(record.description, languages), indent + 2)
    if record.components is not None:
        lines.append(f"{pad}components:")
        for member in record.components:
            lines += _entry(member, languages, indent + 4)
        return lines
    if record.start_date:
        lines.append(f"{pad}start_date: {record.start_date.isoformat()}")
    if not record.showcase:
        lines.append(f"{pad}showcase: false")
    if record.only_show_if_degraded:
        lines.append(f"{pad}only_show_if_degraded: true")
    return lines


# ── incidents ───────────────────────────────────────────────────────────────────────────


def incident_text(record: IncidentRecord, languages: tuple[str, ...], zone: tzinfo) -> str:
    lines = ["---", *text_field("title", texts(record.title, languages), 0), f"type: {record.kind}"]
    if record.impact:
        lines.append(f"impact: {record.impact}")
    lines.append(f"aliases: {flow_list(record.aliases)}")
    if record.components:
        lines += ["components:", *(f"  {cid}: {status}" for cid, status in record.components)]
    if record.window:
        start, end = record.window
        lines += ["window:", f"  start: {written_moment(start, zone)}", f"  end: {written_moment(end, zone)}"]
    if record.updates:
        lines.append("updates:")
    for update in record.updates:
        lines += NewUpdate(written_moment(update.at, zone), update.status, texts(update.body, languages),
                           dict(update.components), update.notify).lines(2, 4)
    if isinstance(record.postmortem, dict):
        lines += text_field("postmortem", texts(record.postmortem, languages), 0)
    lines.append("---")
    body = record.postmortem.strip() if isinstance(record.postmortem, str) else ""
    return "\n".join(lines) + "\n" + (body + "\n" if body else "")
