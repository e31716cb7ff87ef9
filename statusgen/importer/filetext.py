"""Records as the text of site files, written the way people write them.

    ComponentRecords ──components_text──▶ components.yaml (block style, a blank line
        between top-level entries, under the file's own leading comments)
    IncidentRecord ──incident_text──▶ incidents/YYYY/YYYY-MM-DD-slug.md: front matter
        (title, type, impact, aliases, components, window, updates) and the post-mortem
        as the Markdown body

Pure functions of the records, the site's languages and timezone: the same records give
the same bytes, which is what lets a rerun leave unchanged files alone. Times are ISO
8601 in the site timezone with their offset and seconds (`2026-11-03T08:12:05+01:00`):
exact, and unambiguous around DST changes. Every text reads back as the string it was:
written plain or single-quoted (one line) or as a literal block (several) when libyaml
reads that back the same, else as `authoring.yamltext` writes it (whose pure-Python YAML emitter and
parser take 2 ms a value: 4 s of a 1,000-incident import before this shortcut).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, tzinfo

import yaml

from statusgen.authoring.yamltext import dumped, text_field, yaml_value
from statusgen.content.yamlsource import NOT_TEXT
from statusgen.importer.records import ComponentRecord, IncidentRecord, Localised, UpdateRecord

PLAIN = re.compile(r"[^\s\-?:,\[\]{}#&*!|>'\"%@`](?:[^\n:#]|:(?! |$)|(?<! )#)*(?<! )\Z")
"""A one-line text YAML may read as written (libyaml confirms it stays the same string)."""
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

COMPONENTS_HEADER = ("# Components and groups of the status page, in page order.\n"
                     "# Ids are used in URLs, feeds and subscriptions: never change them.\n")


def texts(value: Localised, languages: tuple[str, ...]) -> dict[str, str]:
    """A localised value as `text_field` takes it: one entry for a plain string (every
    language), else the site's languages it has, in the site's order. What the loader
    refuses in a text (`NOT_TEXT`: no page or feed can carry it), such as a stray backspace
    pasted into a Statuspage body, which nobody ever saw there, is left out."""
    if isinstance(value, str):
        return {languages[0]: NOT_TEXT.sub("", value)}
    given = {lang: NOT_TEXT.sub("", value[lang]) for lang in languages if lang in value}
    return given or {languages[0]: NOT_TEXT.sub("", next(iter(value.values()), ""))}


def written_moment(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds")


def flow_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(dumped(value) for value in values) + "]"


def value_lines(value: str, indent: int) -> list[str]:
    """`yamltext.yaml_value`, faster for the usual text: plain, or a literal block."""
    if "\n" not in value:
        candidate = [value if PLAIN.match(value) else "'" + value.replace("'", "''") + "'"]
    else:
        chomp = "" if value.endswith("\n") else "-"
        candidate = [f"|{chomp}", *(" " * indent + line if line else ""
                                   for line in value.removesuffix("\n").split("\n"))]
    if candidate and _reads_back(candidate, value):
        return candidate
    return yaml_value(value, indent)


def _reads_back(lines: list[str], value: str) -> bool:
    try:
        return yaml.load("key: " + "\n".join(lines) + "\n", Loader=_Loader) == {"key": value}
    except yaml.YAMLError:
        return False


def text_lines(key: str, texts: dict[str, str], indent: int) -> list[str]:
    """`key: text` for one text (every language), else `key:` and a line per language
    (`yamltext.text_field` with the faster `value_lines`)."""
    return text_field(key, texts, indent, value=value_lines)


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
    lines += text_lines("name", texts(record.name, languages), indent + 2)
    if record.aliases:
        lines.append(f"{pad}aliases: {flow_list(record.aliases)}")
    if record.description:
        lines += text_lines("description", texts(record.description, languages), indent + 2)
    if record.sla is not None:
        lines.append(f"{pad}sla: {record.sla:g}")
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
    lines = ["---", *text_lines("title", texts(record.title, languages), 0), f"type: {record.kind}"]
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
        lines += _update_lines(update, languages, zone)
    if isinstance(record.postmortem, dict):
        lines += text_lines("postmortem", texts(record.postmortem, languages), 0)
    lines.append("---")
    body = record.postmortem.strip() if isinstance(record.postmortem, str) else ""
    return "\n".join(lines) + "\n" + (body + "\n" if body else "")


def _update_lines(update: UpdateRecord, languages: tuple[str, ...], zone: tzinfo) -> list[str]:
    """One item of `updates:`, keys in the order `statusgen new update` writes them."""
    lines = [f"  - at: {written_moment(update.at, zone)}", f"    status: {update.status}"]
    if update.components:
        lines.append("    components: {" + ", ".join(f"{cid}: {status}" for cid, status in update.components) + "}")
    if not update.notify:
        lines.append("    notify: false")
    return lines + text_lines("body", texts(update.body, languages), 4)
