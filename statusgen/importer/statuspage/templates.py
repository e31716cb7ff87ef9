"""Statuspage's incident templates as template records.

STUB (contract): the templates engineer replaces this file.
"""

from __future__ import annotations

from collections.abc import Mapping

from statusgen.importer.records import Report, TemplateRecord
from statusgen.importer.statuspage.dump import Dump


def templates_from_dump(dump: Dump, component_ids: Mapping[str, str], report: Report) -> tuple[TemplateRecord, ...]:
    """`component_ids`: Statuspage component or group id → statusgen id."""
    raise NotImplementedError("contract stub")
