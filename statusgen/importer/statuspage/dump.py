"""Everything read from a Statuspage, as the JSON objects it returned.

Whatever the source (the public API and history pages, a folder of saved files, the
manage API), `sources.open_source` gives one `Dump`: objects in the shapes of the
public v2 API (see shared/reference/statuspage-v2.md), deduplicated by id, the full
timeline of each incident where any endpoint had it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]


@dataclass(frozen=True)
class Dump:
    page: JSON
    """`{id, name, url, time_zone, updated_at}`."""
    components: tuple[JSON, ...]
    """Components and groups (`group: true`, `components: [child ids]`), by position."""
    incidents: tuple[JSON, ...]
    """Incidents and maintenances (those have `scheduled_for`), each with its
    `incident_updates` (any order) and `components`; oldest first."""
    templates: tuple[JSON, ...] = ()
    """Manage API `incident_templates`: name, title, body, update_status,
    should_send_notifications, component_ids, group_id."""
    subscribers: tuple[JSON, ...] = ()
    """Manage API subscribers (every mode and state): id, mode, email, endpoint,
    components (component ids), quarantined_at, purge_at, created_at, ..."""
    notes: tuple[str, ...] = field(default=())
    """What the source could not give (an incident whose timeline was not found, a history
    page that failed): the importer's report lists them."""
