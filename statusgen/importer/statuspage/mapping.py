"""Statuspage's objects as statusgen records.

STUB (contract): the mapping engineer replaces this file.
"""

from __future__ import annotations

from statusgen.content.model import Site, SiteConfig
from statusgen.importer.records import Records, Report
from statusgen.importer.statuspage.dump import Dump


def map_dump(dump: Dump, config: SiteConfig, existing: Site | None, report: Report) -> Records:
    """Components (ids from names, Statuspage ids as aliases; an existing component with that
    alias keeps its id), incidents and maintenances with every update. `existing` is the
    site as it is (None for a new or unreadable one)."""
    raise NotImplementedError("contract stub")
