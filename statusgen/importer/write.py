"""Records as the site's files, written so a rerun changes only what changed.

STUB (contract): the mapping engineer replaces this file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from statusgen.importer.records import Records


@dataclass
class Written:
    created: list[Path] = field(default_factory=list)
    updated: list[Path] = field(default_factory=list)
    unchanged: int = 0


def write_records(site_dir: Path, records: Records, languages: tuple[str, ...]) -> Written:
    """components.yaml (when records has components), one file per incident (found again by
    its aliases), content/templates/NAME.yaml; files whose text is the same are not touched."""
    raise NotImplementedError("contract stub")
