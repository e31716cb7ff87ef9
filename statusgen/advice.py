"""STUB: warnings for likely mistakes (engineer D writes the real module).

The contract the doctor relies on: `site_advice(site, now, env)` returns `Advice` items,
printed as `PATH:LINE: warning: MESSAGE`; they never make a command fail by themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from statusgen.model import Site


@dataclass(frozen=True)
class Advice:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: warning: {self.message}"


def site_advice(site: Site, now: datetime, env: Mapping[str, str]) -> list[Advice]:
    """STUB: no warnings yet."""
    return []
