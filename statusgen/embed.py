"""embed/banner.js: the banner partners put on their own portals."""

from __future__ import annotations

from statusgen.state import SiteState
from statusgen.theme import Theme


def embed_outputs(state: SiteState, theme: Theme) -> dict[str, bytes]:
    """Output path → file content."""
    return {}
