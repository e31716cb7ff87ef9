"""An incident template record as the text of content/templates/NAME.yaml.

STUB (contract): the templates engineer replaces this file.
"""

from __future__ import annotations

from statusgen.importer.records import TemplateRecord


def template_text(template: TemplateRecord, languages: tuple[str, ...]) -> str:
    raise NotImplementedError("contract stub")
