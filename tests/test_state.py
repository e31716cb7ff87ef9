"""State and uptime rules, as pure functions of (site, now), with exact numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from statusgen.content.load import load_site
from statusgen.site.state import maintenance_status, site_state
from statusgen.times import parse_time
from statusgen.site.uptime import site_uptime
from tests.conftest import MakeSite

TZ_NOW = "2026-11-30T12:00:00+01:00"


def incident(title: str, components: str, updates: str, impact: str = "") -> str:
    return f"---\ntitle: {title}\n{impact}components: {components}\nupdates:\n{updates}---\n"


def state_of(make_site: MakeSite, files: dict[str, str], now: str = TZ_NOW):
    site, _ = load_site(make_site(files))
    moment = datetime.fromisoformat(now).astimezone(UTC)
    return site_state(site, moment)


def day_uptime(state, component: str, day: date) -> float | None:
    figures = site_uptime(state)[component]
    return next(d.uptime for d in figures.days if d.day == day)


def test_component_shows_worst_status_of_active_incidents(make_site: MakeSite) -> None:
    state = state_of(make_site, {
        "incidents/a.md": incident("A", "{dcc-app: degraded_performance}",
                                   "  - {at: 2026-11-30 09:00, status: investigating, body: x}\n"),
        "incidents/b.md": incident("B", "{dcc-app: partial_outage, dcc-certificates: major_outage}",
                                   "  - {at: 2026-11-30 10:00, status: identified, body: x}\n"),
        "incidents/c.md": incident("C", "{lookup-portal: major_outage}",
                                   "  - {at: 2026-11-30 08:00, status: investigating, body: x}\n"
                                   "  - {at: 2026-11-30 08:30, status: resolved, body: y}\n"),
    })
    assert state.component_statuses == {
        "dcc-certificates": "major_outage", "dcc-app": "partial_outage", "lookup-portal": "operational"}
    assert state.group_status("eu-dcc") == "major_outage"
    assert (state.indicator.indicator, state.indicator.description) == ("critical", "Major System Outage")
    assert [s.id for s in state.active_incidents] == ["b", "a"]


def test_update_changes_component_statuses_from_its_time_on(make_site: MakeSite) -> None:
    files = {"incidents/a.md": incident("A", "{eu-dcc: major_outage}",
                                        "  - {at: 2026-11-30 09:00, status: investigating, body: x}\n"
                                        "  - {at: 2026-11-30 10:00, status: monitoring, body: y,"
                                        " components: {dcc-app: operational}}\n")}
    before = state_of(make_site, files, "2026-11-30T09:30:00+01:00")
    after = state_of(make_site, files)
    assert before.component_statuses["dcc-app"] == "major_outage"
    assert after.component_statuses["dcc-app"] == "operational"
    assert after.component_statuses["dcc-certificates"] == "major_outage"
    assert (after.indicator.indicator, after.indicator.description) == ("critical", "Major System Outage")


@pytest.mark.parametrize(("status", "indicator", "description"), [
    ("degraded_performance", "minor", "Minor Service Outage"),
    ("partial_outage", "major", "Partial System Outage"),
    ("major_outage", "critical", "Major System Outage"),
])
def test_indicator_follows_component_statuses(make_site: MakeSite, status: str, indicator: str,
                                              description: str) -> None:
    state = state_of(make_site, {"incidents/a.md": incident(
        "A", f"{{dcc-app: {status}}}", "  - {at: 2026-11-30 09:00, status: investigating, body: x}\n")})
    assert (state.indicator.indicator, state.indicator.description) == (indicator, description)


def test_indicator_takes_a_worse_incident_impact(make_site: MakeSite) -> None:
    state = state_of(make_site, {"incidents/a.md": incident(
        "A", "{dcc-app: degraded_performance}",
        "  - {at: 2026-11-30 09:00, status: investigating, body: x}\n", impact="impact: P1\n")})
    assert state.indicator.indicator == "critical"
    assert state.incidents[0].incident.priority == "P1"


def test_all_operational_without_incidents(make_site: MakeSite) -> None:
    state = state_of(make_site, {})
    assert (state.indicator.indicator, state.indicator.description) == ("none", "All Systems Operational")


def test_incident_without_impact_gets_the_impact_its_statuses_imply(make_site: MakeSite) -> None:
    state = state_of(make_site, {"incidents/a.md": incident(
        "A", "{dcc-app: degraded_performance}",
        "  - {at: 2026-11-30 09:00, status: investigating, body: x,"
        " components: {dcc-app: partial_outage}}\n")})
    assert state.incidents[0].incident.impact == "major"


def test_updates_after_now_are_not_published_yet(make_site: MakeSite) -> None:
    state = state_of(make_site, {
        "incidents/a.md": incident("A", "{dcc-app: major_outage}",
                                   "  - {at: 2026-11-30 09:00, status: investigating, body: x}\n"
                                   "  - {at: 2026-11-30 13:00, status: resolved, body: y}\n"),
        "incidents/later.md": incident("L", "{lookup-portal: major_outage}",
                                       "  - {at: 2026-11-30 12:30, status: investigating, body: x}\n"),
    })
    assert [s.id for s in state.incidents] == ["a"]
    assert state.incidents[0].status == "investigating"
    assert state.component_statuses["lookup-portal"] == "operational"


MAINTENANCE = """\
---
title: Database upgrade
type: maintenance
components: [dcc-app]
window: {{start: 2026-12-01 22:00, end: 2026-12-02 02:00}}
{updates}---
"""


@pytest.mark.parametrize(("now", "status", "component"), [
    ("2026-12-01T21:59:00+01:00", "scheduled", "operational"),
    ("2026-12-01T22:00:00+01:00", "in_progress", "under_maintenance"),
    ("2026-12-02T01:59:00+01:00", "in_progress", "under_maintenance"),
    ("2026-12-02T02:00:00+01:00", "completed", "operational"),
])
def test_maintenance_follows_its_window(make_site: MakeSite, now: str, status: str, component: str) -> None:
    state = state_of(make_site, {"incidents/m.md": MAINTENANCE.format(updates="")}, now)
    assert state.incidents[0].status == status
    assert state.component_statuses["dcc-app"] == component
    assert state.indicator.indicator == ("maintenance" if status == "in_progress" else "none")


def test_maintenance_window_steps_appear_as_automatic_updates(make_site: MakeSite) -> None:
    state = state_of(make_site, {"incidents/m.md": MAINTENANCE.format(updates="")}, "2026-12-03T00:00:00+01:00")
    entry = state.incidents[0]
    assert [(u.status, u.automatic) for u in entry.updates] == [("in_progress", True), ("completed", True)]
    assert entry.ended_at == parse_time("2026-12-02 02:00", state.site.config.timezone)


def test_explicit_updates_move_a_maintenance_on_but_never_back(make_site: MakeSite) -> None:
    updates = ("updates:\n"
               "  - {at: 2026-11-28 10:00, status: scheduled, body: Announced}\n"
               "  - {at: 2026-12-01 21:50, status: in_progress, body: Starting early}\n"
               "  - {at: 2026-12-02 00:30, status: completed, body: Done early}\n")
    site, _ = load_site(make_site({"incidents/m.md": MAINTENANCE.format(updates=updates)}))
    maintenance = site.incidents[0]
    tz = site.config.timezone
    assert maintenance_status(maintenance, parse_time("2026-12-01 21:55", tz)) == "in_progress"
    assert maintenance_status(maintenance, parse_time("2026-12-02 01:00", tz)) == "completed"
    state = site_state(site, parse_time("2026-12-03 00:00", tz))
    assert [(u.status, u.automatic) for u in state.incidents[0].updates] == [
        ("scheduled", False), ("in_progress", False), ("completed", False)]
    days = {d.day: d for d in site_uptime(state)["dcc-app"].days}
    assert dict(days[date(2026, 12, 1)].minutes) == {"under_maintenance": 130.0}  # 21:50 to midnight
    assert dict(days[date(2026, 12, 2)].minutes) == {"under_maintenance": 30.0}


def test_cancelled_maintenance_never_starts(make_site: MakeSite) -> None:
    updates = "updates:\n  - {at: 2026-11-29 10:00, status: cancelled, body: Not needed}\n"
    state = state_of(make_site, {"incidents/m.md": MAINTENANCE.format(updates=updates)}, "2026-12-01T23:00:00+01:00")
    assert state.incidents[0].status == "cancelled"
    assert state.component_statuses["dcc-app"] == "operational"
    assert state.upcoming_maintenance == [] and state.active_maintenance == []


def test_uptime_weights_major_fully_partial_30_percent_degraded_not(make_site: MakeSite) -> None:
    state = state_of(make_site, {
        "incidents/major.md": incident("M", "{dcc-app: major_outage}",
                                       "  - {at: 2026-11-20 10:00, status: investigating, body: x}\n"
                                       "  - {at: 2026-11-20 11:00, status: resolved, body: y}\n"),
        "incidents/partial.md": incident("P", "{dcc-app: partial_outage}",
                                         "  - {at: 2026-11-20 10:30, status: investigating, body: x}\n"
                                         "  - {at: 2026-11-20 12:00, status: resolved, body: y}\n"),
        "incidents/degraded.md": incident("D", "{dcc-certificates: degraded_performance}",
                                          "  - {at: 2026-11-20 10:00, status: investigating, body: x}\n"
                                          "  - {at: 2026-11-20 20:00, status: resolved, body: y}\n"),
    })
    # Overlap: 60 min major, then 60 min partial (the major hides the partial's first 30).
    assert day_uptime(state, "dcc-app", date(2026, 11, 20)) == pytest.approx(100 * (1 - (60 + 0.3 * 60) / 1440))
    assert day_uptime(state, "dcc-certificates", date(2026, 11, 20)) == 100.0
    days = {d.day: d for d in site_uptime(state)["dcc-app"].days}
    assert dict(days[date(2026, 11, 20)].minutes) == {"partial_outage": 60.0, "major_outage": 60.0}
    assert days[date(2026, 11, 20)].incidents == ("major", "partial")


def test_uptime_of_an_incident_spanning_midnight(make_site: MakeSite) -> None:
    state = state_of(make_site, {"incidents/night.md": incident(
        "N", "{lookup-portal: partial_outage}",
        "  - {at: 2026-11-20 22:00, status: investigating, body: x}\n"
        "  - {at: 2026-11-21 02:00, status: resolved, body: y}\n")})
    assert day_uptime(state, "lookup-portal", date(2026, 11, 20)) == pytest.approx(97.5)
    assert day_uptime(state, "lookup-portal", date(2026, 11, 21)) == pytest.approx(97.5)
    assert day_uptime(state, "lookup-portal", date(2026, 11, 22)) == 100.0


def test_uptime_on_the_25_hour_day_when_summer_time_ends(make_site: MakeSite) -> None:
    # 01:30 CEST to 03:30 CET is three hours of a 1500-minute day.
    state = state_of(make_site, {"incidents/dst.md": incident(
        "D", "{dcc-app: major_outage}",
        "  - {at: '2026-10-25T01:30:00+02:00', status: investigating, body: x}\n"
        "  - {at: '2026-10-25T03:30:00+01:00', status: resolved, body: y}\n")})
    assert day_uptime(state, "dcc-app", date(2026, 10, 25)) == pytest.approx(100 * (1 - 180 / 1500))
    assert day_uptime(state, "dcc-app", date(2026, 10, 24)) == 100.0
    # 89 whole days (one of them 25 hours long) and today until noon.
    total_minutes = 89 * 1440 + 60 + 720
    assert site_uptime(state)["dcc-app"].percent == pytest.approx(100 * (1 - 180 / total_minutes))


def test_uptime_on_the_23_hour_day_when_summer_time_starts(make_site: MakeSite) -> None:
    state = state_of(make_site, {"incidents/dst.md": incident(
        "D", "{dcc-app: major_outage}",
        "  - {at: 2027-03-28 01:00, status: investigating, body: x}\n"
        "  - {at: 2027-03-28 04:00, status: resolved, body: y}\n")}, "2027-03-29T12:00:00+02:00")
    # 01:00 CET to 04:00 CEST is two hours of a 1380-minute day.
    assert day_uptime(state, "dcc-app", date(2027, 3, 28)) == pytest.approx(100 * (1 - 120 / 1380))


def test_today_counts_only_until_now(make_site: MakeSite) -> None:
    state = state_of(make_site, {"incidents/a.md": incident(
        "A", "{dcc-app: major_outage}", "  - {at: 2026-11-30 11:00, status: investigating, body: x}\n")})
    assert day_uptime(state, "dcc-app", date(2026, 11, 30)) == pytest.approx(100 * (1 - 60 / 720))


def test_uptime_has_90_days_ending_today(make_site: MakeSite) -> None:
    figures = site_uptime(state_of(make_site, {}))["dcc-app"]
    assert len(figures.days) == 90
    assert (figures.days[0].day, figures.days[-1].day) == (date(2026, 9, 2), date(2026, 11, 30))
    assert figures.percent == 100.0


def test_no_uptime_before_a_components_start_date(make_site: MakeSite) -> None:
    components = "- id: new-service\n  name: New\n  start_date: 2026-11-01\n"
    figures = site_uptime(state_of(make_site, {"components.yaml": components}))["new-service"]
    assert figures.days[0].uptime is None
    assert next(d for d in figures.days if d.day == date(2026, 11, 1)).uptime == 100.0
