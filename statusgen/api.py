"""The Statuspage public API v2 as static JSON files under api/v2/."""

from __future__ import annotations

from statusgen.state import SiteState
from statusgen.theme import Theme


def api_outputs(state: SiteState, theme: Theme) -> dict[str, bytes]:
    """Output path → file content."""
    return {}
