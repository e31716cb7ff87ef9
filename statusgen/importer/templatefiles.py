"""An incident template record as the text of content/templates/NAME.yaml.

    TemplateRecord ──template_text──▶ description, type, title, body, impact, status,
        components, notify: the keys `statusgen.content.templates` reads, in that order

Values are written with `authoring.yamltext`, so any text reads back as itself. The record's
title and body are template text already (a source without placeholders escapes its braces).
"""

from __future__ import annotations

from statusgen.authoring.yamltext import text_field
from statusgen.content.model import INCIDENT_STATUSES, MAINTENANCE_STATUSES
from statusgen.importer.records import Localised, TemplateRecord


def template_text(template: TemplateRecord, languages: tuple[str, ...]) -> str:
    """The file's text; a {lang: text} value keeps the site's languages, in the site's order."""
    kind = template_kind(template.status)
    lines = [f"# statusgen new {kind} --template {template.name}"
             + (" --start TIME --end TIME" if kind == "maintenance" else "")]
    if template.description is not None:
        lines += _text("description", template.description, languages)
    if kind == "maintenance":
        lines.append("type: maintenance")
    lines += [*_text("title", template.title, languages), *_text("body", template.body, languages)]
    if template.impact is not None and kind == "incident":
        lines.append(f"impact: {template.impact}")
    lines.append(f"status: {template.status}")
    lines += _components(template.components, kind)
    if not template.notify:
        lines.append("notify: false")
    return "\n".join(lines) + "\n"


def template_kind(status: str) -> str:
    """A template is for a maintenance when its first status is one only a maintenance has."""
    return "maintenance" if status in MAINTENANCE_STATUSES and status not in INCIDENT_STATUSES else "incident"


def _text(key: str, value: Localised, languages: tuple[str, ...]) -> list[str]:
    if isinstance(value, str):
        return text_field(key, {"": value}, 0)
    texts = {lang: value[lang] for lang in languages if lang in value}
    if not texts:
        raise ValueError(f"{key}: a text in none of the site's languages ({', '.join(languages)}): {value!r}")
    return text_field(key, texts, 0)


def _components(components: tuple[tuple[str, str], ...], kind: str) -> list[str]:
    if not components:
        return []
    if kind == "maintenance" and all(status == "under_maintenance" for _, status in components):
        return ["components:", *(f"  - {cid}" for cid, _ in components)]
    return ["components:", *(f"  {cid}: {status}" for cid, status in components)]
