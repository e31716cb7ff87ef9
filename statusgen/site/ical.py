"""maintenance.ics: maintenance windows as iCalendar events, site-wide and per component.

Every language gets the same set, the default language at the root and the others under
`LANG/`: `maintenance.ics` for the whole site and `components/ID/maintenance.ics` for
every component and group. A calendar holds the windows of the last `CALENDAR_DAYS` days
and every upcoming one, so it stays small however long the site has run.

Calendar apps that subscribe to the file match events by UID and take the newest by
SEQUENCE, so both follow rules that hold in every build at every time:

- UID is the maintenance's public id (from its file name) at the site's host: titles,
  texts and even the window can change, the event stays the same event.
- SEQUENCE is the number of updates published so far, ops' own and the window's automatic
  steps: it grows with every update and with nothing else. DTSTAMP and LAST-MODIFIED are
  the latest update's time, not the build time, so a rebuild that changes nothing gives
  the same bytes. Ops who move a window should therefore publish an update with it: that
  raises SEQUENCE, so calendars take the new times, and tells subscribers why.
- A cancelled window stays in the calendar with STATUS:CANCELLED, so calendars that
  already show it strike it out instead of keeping a stale event.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from icalendar import Calendar, Event, Timezone

from statusgen import ids
from statusgen.site import uptime, urls
from statusgen.site.feeds import item_folder, item_ids, item_names, update_markdown
from statusgen.content.model import Site
from statusgen.site.state import IncidentState, SiteState, incidents_by_item
from statusgen.site.theme import Theme, Translator

log = logging.getLogger(__name__)

PRODID = "-//statusgen//statusgen//EN"
CALENDAR_DAYS = uptime.DAYS
"""How far back ended windows stay in the calendar: as far as the page's uptime bars reach."""


def calendar_outputs(state: SiteState, theme: Theme) -> dict[str, bytes]:
    """Output path → file content: a calendar per language, for the site and every item."""
    config = state.site.config
    windows = incidents_by_item(state.site, calendar_windows(state))
    outputs: dict[str, bytes] = {}
    for lang in config.languages:
        writer = _CalendarWriter(state.site, Translator(lang, theme.messages(lang), config.timezone))
        for item_id in item_ids(state.site):
            path = item_folder(config, lang, item_id) + "maintenance.ics"
            outputs[path] = writer.calendar(item_id, windows.get(item_id, []))
    return outputs


def calendar_windows(state: SiteState) -> list[IncidentState]:
    """Maintenance that ended within `CALENDAR_DAYS`, is going on or is still to come,
    by start time."""
    since = calendar_since(state)
    return sorted((s for s in state.incidents if in_calendar(s, since)), key=by_start)


def calendar_since(state: SiteState) -> datetime:
    """How far back the calendar goes."""
    return state.now - timedelta(days=CALENDAR_DAYS)


def in_calendar(entry: IncidentState, since: datetime) -> bool:
    return entry.incident.window is not None and entry.incident.window.end >= since


def by_start(entry: IncidentState) -> tuple[datetime, str]:
    return entry.started_at, entry.id


@functools.cache
def site_timezone(key: str) -> Timezone:
    """The VTIMEZONE of the site's zone, from zoneinfo; over icalendar's fixed range of
    years, so it does not change with the build time."""
    return Timezone.from_tzid(key)


class _CalendarWriter:
    """The calendars of one language; an event is built once for all its calendars."""

    def __init__(self, site: Site, t: Translator) -> None:
        self.config, self.t, self.lang = site.config, t, t.lang
        self.host = urlsplit(self.config.base_url).hostname
        self.names = item_names(site, t.lang)
        self.events: dict[str, Event] = {}

    def calendar(self, item_id: str, windows: list[IncidentState]) -> bytes:
        config, t = self.config, self.t
        site_title = config.title[self.lang]
        calendar = Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.calendar_name = (t("calendar.item_name", site=site_title, name=self.names[item_id])
                                  if item_id else t("calendar.name", site=site_title))
        calendar.add("x-wr-timezone", config.timezone.key)
        # Always there, events or not: a calendar needs at least one component (RFC 5545).
        calendar.add_component(site_timezone(config.timezone.key))
        for window in windows:
            calendar.add_component(self.event(window))
        return calendar.to_ical()

    def event(self, maintenance: IncidentState) -> Event:
        if maintenance.id not in self.events:
            config, item = self.config, maintenance.incident
            assert item.window is not None
            self.events[maintenance.id] = Event.new(
                uid=f"{ids.incident_id(item.id)}@{self.host}",
                sequence=len(maintenance.updates),
                stamp=maintenance.updated_at,
                last_modified=maintenance.updated_at,
                start=item.window.start.astimezone(config.timezone),
                end=item.window.end.astimezone(config.timezone),
                summary=item.title[self.lang],
                description=self.description(maintenance),
                url=urls.absolute(config, urls.incident(config, self.lang, item.id)),
                status="CANCELLED" if maintenance.status == "cancelled" else "CONFIRMED",
                transparency="TRANSPARENT",  # the subscriber is not busy during someone's maintenance
            )
        return self.events[maintenance.id]

    def description(self, maintenance: IncidentState) -> str:
        """Affected components, then the latest update, as plain text."""
        t = self.t
        names = ", ".join(self.names[cid] for cid in maintenance.incident.component_ids)
        lines = [f"{t('colon', label=t('affected_components'))} {names or t('no_components')}"]
        if latest := maintenance.latest:
            lines += ["", f"{t('status.' + latest.status)} · {t.datetime(latest.at)}",
                      update_markdown(latest, t).strip()]
        return "\n".join(lines)
