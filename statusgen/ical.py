"""maintenance.ics: maintenance windows as iCalendar events, site-wide and per component."""

from __future__ import annotations

from statusgen.state import SiteState
from statusgen.theme import Theme


def calendar_outputs(state: SiteState, theme: Theme) -> dict[str, bytes]:
    """Output path → file content."""
    return {}
