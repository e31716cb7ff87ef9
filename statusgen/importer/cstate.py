"""cState (a Hugo theme) content as records.

STUB (contract): the cState engineer replaces this file.
"""

from __future__ import annotations

from pathlib import Path

from statusgen.content.model import SiteConfig
from statusgen.importer.records import Records, Report


def read_cstate(folder: Path, config: SiteConfig, report: Report) -> Records:
    """config.yml systems and categories, content/issues/*.md with their update lines."""
    raise NotImplementedError("contract stub")
