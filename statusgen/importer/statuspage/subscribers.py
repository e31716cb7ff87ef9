"""Statuspage's subscribers into the subscription store.

STUB (contract): the subscribers engineer replaces this file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from statusgen.content.model import Site
from statusgen.importer.records import Report


class SubscriberImport:
    """Settings checked before any file is written; `run` once the site is written."""

    def run(self, subscribers: Sequence[dict[str, Any]], site: Site, report: Report, now: datetime) -> list[str]:
        """Import them; the summary lines to print (counts per outcome)."""
        raise NotImplementedError("contract stub")


def prepare(site_dir: Path, *, env: Mapping[str, str], store: str | None, trust_confirmed: bool) -> SubscriberImport:
    """Check the store, and (without trust_confirmed) STATUSGEN_SECRET_KEY and the SMTP relay for
    the confirmation emails; raise SetupError naming each setting to fix."""
    raise NotImplementedError("contract stub")


def read_csv(path: Path, report: Report) -> tuple[dict[str, Any], ...]:
    """A Statuspage subscriber CSV (export or import format) as manage-API-shaped subscribers."""
    raise NotImplementedError("contract stub")
