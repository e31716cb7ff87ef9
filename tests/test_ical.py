"""maintenance.ics, read back with icalendar as calendar apps read it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar, Event

from statusgen import ids
from statusgen.site.build import BuildResult, build
from statusgen.site.ical import CALENDAR_DAYS, PRODID
from statusgen.site.state import IncidentState, SiteState
from tests.conftest import MakeSite

BASE = "https://status.example.org/"
NOW = "2026-11-30T12:00:00+01:00"

MAINTENANCE = """\
---
title: {en: Database upgrade, nl: Upgrade van de databank}
type: maintenance
components: [eu-dcc]
window:
  start: 2026-12-10 22:00
  end: 2026-12-11 01:00
updates:
  - at: 2026-11-20 10:00
    status: scheduled
    body: {en: We will upgrade the database., nl: We voeren een upgrade uit van de databank.}
  - at: 2026-11-25 10:00
    status: scheduled
    body: {en: The window is confirmed., nl: Het tijdvak is bevestigd.}
---
"""
CANCELLATION = """\
  - at: 2026-11-27 09:00
    status: cancelled
    body: {en: The upgrade is postponed., nl: De upgrade is uitgesteld.}
"""
PORTAL_MAINTENANCE = """\
---
title: Portal upgrade
type: maintenance
components: [lookup-portal]
window:
  start: 2026-09-01 20:00
  end: 2026-09-01 21:00
---
"""
INCIDENT = """\
---
title: App sign-in fails
components:
  dcc-app: partial_outage
updates:
  - at: 2026-11-20 08:00
    status: investigating
    body: Sign-in fails for some users.
---
"""


def calendars_in(out_dir: Path) -> dict[str, Calendar]:
    """Every calendar file in a built site, parsed, by its path."""
    return {file.relative_to(out_dir).as_posix(): Calendar.from_ical(file.read_bytes())
            for file in sorted(out_dir.rglob("*.ics"))}


def uid(incident_id: str) -> str:
    return f"{ids.incident_id(incident_id)}@status.example.org"


def uids(calendar: Calendar) -> list[str]:
    return [str(event["UID"]) for event in calendar.events]


def event(calendar: Calendar, incident_id: str) -> Event:
    return next(e for e in calendar.events if e["UID"] == uid(incident_id))


def in_calendar(state: SiteState, component_ids: set[str] | None = None) -> list[IncidentState]:
    """Maintenance the calendar should hold, by start: recent, ongoing or upcoming."""
    since = state.now - timedelta(days=CALENDAR_DAYS)
    windows = [s for s in state.incidents if s.incident.window and s.incident.window.end >= since
               and (component_ids is None or component_ids & set(s.incident.component_ids))]
    return sorted(windows, key=lambda s: (s.incident.window.start, s.id))  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def example_calendars(example_build: BuildResult) -> dict[str, Calendar]:
    return calendars_in(example_build.out_dir)


def test_every_language_has_a_site_calendar_and_one_per_component_and_group(
        example_build: BuildResult, example_calendars: dict[str, Calendar]) -> None:
    site = example_build.site
    items = [*(g.id for g in site.groups), *(c.id for c in site.components)]
    expected = {f"{lang}{folder}maintenance.ics" for lang in ("", "en/")
                for folder in ["", *(f"components/{item}/" for item in items)]}
    assert set(example_calendars) == expected


def test_every_calendar_is_complete(example_build: BuildResult, example_calendars: dict[str, Calendar]) -> None:
    config = example_build.site.config
    for path, calendar in example_calendars.items():
        lang = "en" if path.startswith("en/") else "nl"
        assert calendar["VERSION"] == "2.0" and calendar["PRODID"] == PRODID
        assert config.title[lang] in calendar["X-WR-CALNAME"]
        assert [tz.tz_name for tz in calendar.timezones] == ["Europe/Brussels"]
        assert not calendar.get_missing_tzids()
        for item in calendar.events:
            assert item["UID"].endswith("@status.example.org")
            assert item["DTSTART"].params["TZID"] == "Europe/Brussels"
            assert item.start.tzinfo.key == "Europe/Brussels"  # type: ignore[union-attr]
            assert item.end > item.start
            assert item.stamp == item.last_modified and item.stamp.utcoffset() == timedelta(0)  # type: ignore[union-attr]
            assert isinstance(item.sequence, int) and item.sequence >= 0
            assert item["STATUS"] in ("CONFIRMED", "CANCELLED")
            assert item["URL"].startswith(BASE + ("en/" if lang == "en" else "") + "incidents/")
            assert item["SUMMARY"] and item["DESCRIPTION"]
        assert len(set(uids(calendar))) == len(calendar.events), f"{path}: a UID twice"


def test_the_events_are_the_recent_and_upcoming_maintenance(example_build: BuildResult,
                                                           example_calendars: dict[str, Calendar]) -> None:
    state = example_build.state
    expected = in_calendar(state)
    assert {s.id for s in expected} >= {"2026-09-16-database-maintenance",
                                        "2026-12-06-gateway-and-signing-network-upgrade"}
    assert "2026-08-19-gateway-certificate-renewal" not in {s.id for s in expected}, "ended over 90 days ago"
    for path, lang in (("maintenance.ics", "nl"), ("en/maintenance.ics", "en")):
        calendar = example_calendars[path]
        assert uids(calendar) == [uid(s.id) for s in expected]
        for maintenance, item in zip(expected, calendar.events):
            window = maintenance.incident.window
            assert window is not None
            assert (item.start, item.end) == (window.start, window.end)
            assert item.sequence == len(maintenance.updates)
            assert item.stamp == maintenance.updated_at
            assert item["SUMMARY"] == maintenance.incident.title[lang]
            assert item["URL"] == BASE + ("en/" if lang == "en" else "") + f"incidents/{maintenance.id}/"
    upcoming = event(example_calendars["en/maintenance.ics"], "2026-12-06-gateway-and-signing-network-upgrade")
    assert str(upcoming["DESCRIPTION"]).startswith(
        "Affected components: Integration gateway (API), Certificates (PDF)\n\n"
        "Scheduled · 27 Nov 2026, 14:00 CET\nDuring the night of Sunday 6 to Monday 7 December")
    assert "<" not in str(upcoming["DESCRIPTION"])


def test_component_and_group_calendars_hold_only_their_maintenance(
        example_build: BuildResult, example_calendars: dict[str, Calendar]) -> None:
    site, state = example_build.site, example_build.state
    for component in site.components:
        expected = [uid(s.id) for s in in_calendar(state, {component.id})]
        assert uids(example_calendars[f"components/{component.id}/maintenance.ics"]) == expected
        assert uids(example_calendars[f"en/components/{component.id}/maintenance.ics"]) == expected
    for group in site.groups:
        expected = [uid(s.id) for s in in_calendar(state, set(group.components))]
        assert uids(example_calendars[f"components/{group.id}/maintenance.ics"]) == expected
    assert uids(example_calendars["components/dcc-lookup/maintenance.ics"]) != uids(
        example_calendars["maintenance.ics"])


def test_the_dutch_calendar_is_in_dutch(example_calendars: dict[str, Calendar]) -> None:
    dutch = example_calendars["maintenance.ics"]
    assert dutch["X-WR-CALNAME"] == "Status Regionaal Integratieplatform – onderhoud"
    item = event(dutch, "2026-12-06-gateway-and-signing-network-upgrade")
    assert item["SUMMARY"] == "Upgrade van de integratiegateway en tweede netwerkverbinding voor ondertekening"
    assert str(item["DESCRIPTION"]).startswith("Getroffen onderdelen: Integratiegateway (API), Certificaten (PDF)")
    assert example_calendars["components/dcc-app/maintenance.ics"]["X-WR-CALNAME"] == (
        "Status Regionaal Integratieplatform – onderhoud aan Mobiele app")


def test_uid_is_stable_and_sequence_counts_the_updates(make_site: MakeSite, tmp_path: Path) -> None:
    site = make_site({"incidents/db.md": MAINTENANCE, "incidents/app.md": INCIDENT})

    def database(site_dir: Path, out: str, now: str) -> Event:
        calendars = calendars_in(build(site_dir, tmp_path / out, now).out_dir)
        assert uids(calendars["components/dcc-app/maintenance.ics"]) == [uid("db")]
        return event(calendars["nl/maintenance.ics"], "db")

    announced = database(site, "announced", "2026-11-21T12:00:00+01:00")
    confirmed = database(site, "confirmed", NOW)
    started = database(site, "started", "2026-12-10T23:00:00+01:00")
    edited = make_site({"incidents/db.md": MAINTENANCE.replace("Database upgrade", "Database migration")
                        .replace("The window is confirmed.", "The window is final.")}, name="edited")
    renamed = database(edited, "renamed", NOW)
    assert announced["UID"] == confirmed["UID"] == started["UID"] == renamed["UID"] == uid("db")
    assert [announced.sequence, confirmed.sequence, started.sequence] == [1, 2, 3]
    assert announced.stamp == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert confirmed.stamp == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert started.stamp == datetime(2026, 12, 10, 21, 0, tzinfo=UTC)
    assert announced["SUMMARY"] == "Upgrade van de databank"
    assert "Het tijdvak is bevestigd." in confirmed["DESCRIPTION"]
    assert "Het onderhoudsvenster is begonnen." in started["DESCRIPTION"]
    assert renamed.sequence == confirmed.sequence  # edits without an update do not count


def test_a_cancelled_window_stays_in_the_calendar_as_cancelled(make_site: MakeSite, tmp_path: Path) -> None:
    cancelled_file = MAINTENANCE.removesuffix("---\n") + CANCELLATION + "---\n"
    site = make_site({"incidents/db.md": cancelled_file, "incidents/kept.md": PORTAL_MAINTENANCE})
    calendars = calendars_in(build(site, tmp_path / "out", NOW).out_dir)
    cancelled = event(calendars["maintenance.ics"], "db")
    assert cancelled["STATUS"] == "CANCELLED"
    assert cancelled.sequence == 3
    assert str(cancelled["DESCRIPTION"]).endswith("Cancelled · 27 Nov 2026, 09:00 CET\nThe upgrade is postponed.")
    assert event(calendars["maintenance.ics"], "kept")["STATUS"] == "CONFIRMED"


def test_old_windows_leave_the_calendar(make_site: MakeSite, tmp_path: Path) -> None:
    site = make_site({"incidents/portal.md": PORTAL_MAINTENANCE, "incidents/db.md": MAINTENANCE})
    within = calendars_in(build(site, tmp_path / "within", NOW).out_dir)  # ended 90 days ago
    assert uids(within["maintenance.ics"]) == [uid("portal"), uid("db")]
    portal = event(within["components/lookup-portal/maintenance.ics"], "portal")
    assert portal.sequence == 2 and portal["STATUS"] == "CONFIRMED"  # the window's own steps
    later = calendars_in(build(site, tmp_path / "later", "2026-12-01T12:00:00+01:00").out_dir)
    assert uids(later["maintenance.ics"]) == [uid("db")]
    empty = later["components/lookup-portal/maintenance.ics"]
    assert empty.events == [] and [tz.tz_name for tz in empty.timezones] == ["Europe/Brussels"]


def test_the_bytes_depend_on_the_content_not_on_the_build_time(make_site: MakeSite, tmp_path: Path) -> None:
    site = make_site({"incidents/db.md": MAINTENANCE, "incidents/app.md": INCIDENT})

    def calendar_files(out: str, now: str) -> dict[str, bytes]:
        outputs = build(site, tmp_path / out, now).outputs
        return {path: content for path, content in outputs.items() if path.endswith(".ics")}

    first = calendar_files("a", NOW)
    assert first == calendar_files("b", NOW)
    assert first == calendar_files("later", "2026-12-03T08:00:00+01:00"), "nothing changed, so no byte may"
    assert first != calendar_files("window", "2026-12-10T23:00:00+01:00"), "the window opened"
