"""RSS 2.0 and Atom feeds: site-wide, per component and group, per language."""

from __future__ import annotations

from statusgen.state import SiteState
from statusgen.theme import Theme


def feed_outputs(state: SiteState, theme: Theme) -> dict[str, bytes]:
    """Output path → file content."""
    return {}
