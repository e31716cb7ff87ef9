"""Status badges (SVG) and shields.io endpoint JSON, for the page and every component and group."""

from __future__ import annotations

from statusgen.state import SiteState
from statusgen.theme import Theme


def badge_outputs(state: SiteState, theme: Theme) -> dict[str, bytes]:
    """Output path → file content."""
    return {}
