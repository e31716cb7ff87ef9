"""The snapshot diff: which events a new snapshot brings, keyed by ids only."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from statusgen.notifier.events import diff
from statusgen.content.model import Subscriber
from statusgen.notifier.recipients import recipients

NOW = datetime(2026, 11, 30, 11, tzinfo=UTC)


def update(uid: str, status: str, notify: bool = True, automatic: bool = False, body: str = "x") -> dict[str, Any]:
    return {"id": uid, "public_id": uid, "at": f"2026-11-30T{uid}:00.000+01:00", "status": status, "notify": notify,
            "automatic": automatic, "body": {"en": body}, "changes": []}


def incident(*updates: dict[str, Any], components: dict[str, str] | None = None) -> dict[str, Any]:
    return {"kind": "incident", "status": updates[-1]["status"], "components": components or {"app": "major_outage"},
            "window": None, "updates": list(updates)}


def maintenance(status: str, start: str = "2026-12-06T22:00:00.000+01:00", end: str = "2026-12-07T02:00:00.000+01:00",
                *updates: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "maintenance", "status": status, "components": {"app": "under_maintenance"},
            "window": {"start": start, "end": end}, "updates": list(updates)}


def snap(**incidents: dict[str, Any]) -> dict[str, Any]:
    return {"incidents": incidents}


def kinds(snapshot: dict[str, Any], announced: set[str], now: datetime = NOW, **kwargs: Any) -> list[tuple[str, str]]:
    return [(e.kind, e.key) for e in diff(snapshot, announced, now, **kwargs)[0]]


def test_a_new_incident_then_its_updates() -> None:
    first = snap(a=incident(update("09:00", "investigating")))
    assert kinds(first, set()) == [("incident_created", "a/update/09:00")]
    _, known = diff(first, set(), NOW)
    second = snap(a=incident(update("09:00", "investigating"), update("10:00", "identified")))
    assert kinds(second, known) == [("incident_updated", "a/update/10:00")]
    _, known = diff(second, known, NOW)
    third = snap(a=incident(update("09:00", "investigating"), update("10:00", "identified"), update("11:00", "resolved")))
    assert kinds(third, known) == [("incident_resolved", "a/update/11:00")]


def test_edited_wording_and_quiet_updates_announce_nothing() -> None:
    before = snap(a=incident(update("09:00", "investigating", body="Looking")))
    _, known = diff(before, set(), NOW)
    assert kinds(snap(a=incident(update("09:00", "investigating", body="We look"))), known) == []
    quiet = snap(a=incident(update("09:00", "investigating"), update("09:05", "investigating", notify=False)))
    assert kinds(quiet, known) == []


def test_several_new_updates_send_only_the_latest() -> None:
    both = snap(a=incident(update("09:00", "investigating"), update("10:00", "resolved")))
    events, known = diff(both, set(), NOW)
    assert [(e.kind, e.update) for e in events] == [("incident_resolved", "10:00")]
    assert known == {"a/update/09:00", "a/update/10:00"}


def test_maintenance_steps() -> None:
    scheduled = snap(m=maintenance("scheduled", "2026-12-06T22:00:00.000+01:00", "2026-12-07T02:00:00.000+01:00",
                                   update("10:00", "scheduled")))
    assert kinds(scheduled, set()) == [("maintenance_scheduled", "m/scheduled")]
    _, known = diff(scheduled, set(), NOW)
    assert kinds(scheduled, known) == []
    day_before = datetime(2026, 12, 5, 22, 30, tzinfo=UTC)
    assert kinds(scheduled, known, day_before) == [
        ("maintenance_reminder", "m/reminder/1440/2026-12-06T22:00:00.000+01:00")]
    _, known = diff(scheduled, known, day_before)
    started = snap(m=maintenance("in_progress", "2026-12-06T22:00:00.000+01:00", "2026-12-07T02:00:00.000+01:00",
                                 update("10:00", "scheduled"), update("22:00", "in_progress", automatic=True)))
    assert kinds(started, known) == [("maintenance_started", "m/started/2026-12-06T22:00:00.000+01:00")]
    _, known = diff(started, known, NOW)
    done = copy.deepcopy(started)
    done["incidents"]["m"]["status"] = "completed"
    assert kinds(done, known) == [("maintenance_completed", "m/completed")]


def test_a_moved_window_is_announced_with_the_old_one() -> None:
    before = snap(m=maintenance("scheduled"))
    _, known = diff(before, set(), NOW)
    moved = snap(m=maintenance("scheduled", "2026-12-13T22:00:00.000+01:00", "2026-12-14T02:00:00.000+01:00"))
    events, _ = diff(moved, known, NOW, previous=before)
    assert [(e.kind, e.previous_window) for e in events] == [
        ("maintenance_changed", ("2026-12-06T22:00:00.000+01:00", "2026-12-07T02:00:00.000+01:00"))]


def test_a_cancelled_maintenance() -> None:
    before = snap(m=maintenance("scheduled"))
    _, known = diff(before, set(), NOW)
    cancelled = snap(m=maintenance("cancelled", "2026-12-06T22:00:00.000+01:00", "2026-12-07T02:00:00.000+01:00",
                                   update("12:00", "cancelled")))
    assert kinds(cancelled, known) == [("maintenance_cancelled", "m/cancelled")]


def test_a_maintenance_seen_first_when_already_done_sends_only_its_end() -> None:
    done = snap(m=maintenance("completed"))
    assert kinds(done, set()) == [("maintenance_completed", "m/completed")]


# ── --since: after the store was lost, what happened before TIME counts as told ─────

def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_since_sends_only_what_an_incident_did_after_it() -> None:
    three = snap(a=incident(update("09:00", "investigating"), update("10:00", "identified"),
                            update("11:00", "resolved")))
    assert kinds(three, set(), since=at("2026-11-30T10:30:00+01:00")) == [("incident_resolved", "a/update/11:00")]
    assert kinds(three, set(), since=at("2026-11-30T11:00:00+01:00")) == []  # at TIME itself: told
    _, keys = diff(three, set(), NOW, since=at("2026-11-30T11:30:00+01:00"))
    assert keys == {"a/update/09:00", "a/update/10:00", "a/update/11:00"}
    two = snap(a=incident(update("09:00", "investigating"), update("10:00", "identified")))
    assert kinds(two, set(), since=at("2026-11-30T09:30:00+01:00")) == [("incident_updated", "a/update/10:00")]
    assert kinds(two, set(), since=at("2026-11-30T08:30:00+01:00")) == [("incident_created", "a/update/10:00")]


def test_since_and_the_store_add_up() -> None:
    two = snap(a=incident(update("09:00", "investigating")), b=incident(update("10:00", "investigating")))
    announced = {"b/update/10:00"}
    assert kinds(two, announced, since=at("2026-11-30T08:00:00+01:00")) == [("incident_created", "a/update/09:00")]
    assert kinds(two, announced, since=at("2026-11-30T09:00:00+01:00")) == []


def test_since_for_a_maintenance_follows_its_steps() -> None:
    done = snap(m=maintenance("completed", "2026-12-06T22:00:00.000+01:00", "2026-12-07T02:00:00.000+01:00",
                              update("10:00", "scheduled"), update("22:00", "in_progress", automatic=True)))
    done["incidents"]["m"]["updates"][1]["at"] = "2026-12-06T22:00:00.000+01:00"
    later = datetime(2026, 12, 7, 3, tzinfo=UTC)
    completed = [("maintenance_completed", "m/completed")]
    assert kinds(done, set(), later, since=at("2026-11-30T09:00:00+01:00")) == completed
    assert kinds(done, set(), later, since=at("2026-12-06T23:00:00+01:00")) == completed
    assert kinds(done, set(), later, since=at("2026-12-07T02:00:00+01:00")) == []
    scheduled = snap(m=maintenance("scheduled", "2026-12-06T22:00:00.000+01:00", "2026-12-07T02:00:00.000+01:00",
                                   update("10:00", "scheduled")))
    assert kinds(scheduled, set(), since=at("2026-11-30T09:59:00+01:00")) == [("maintenance_scheduled", "m/scheduled")]
    assert kinds(scheduled, set(), since=at("2026-11-30T10:00:00+01:00")) == []


def test_since_takes_a_reminder_as_told_only_once_its_time_has_passed() -> None:
    scheduled = snap(m=maintenance("scheduled", "2026-12-06T22:00:00.000+01:00", "2026-12-07T02:00:00.000+01:00",
                                   update("10:00", "scheduled")))
    evening = datetime(2026, 12, 5, 23, tzinfo=UTC)  # the 24-hour reminder went out at 21:00 UTC
    reminder = ("maintenance_reminder", "m/reminder/1440/2026-12-06T22:00:00.000+01:00")
    assert kinds(scheduled, set(), evening, since=at("2026-12-05T21:30:00+00:00")) == []
    assert kinds(scheduled, set(), evening, since=at("2026-12-05T20:30:00+00:00")) == [reminder]


def test_since_never_takes_a_step_it_cannot_date_as_told() -> None:
    """A maintenance without updates was announced at the latest when its window opened:
    before that, `since` cannot know whether subscribers were told, so they are."""
    upcoming = snap(m=maintenance("scheduled"))
    assert kinds(upcoming, set(), since=at("2026-12-01T00:00:00+01:00")) == [("maintenance_scheduled", "m/scheduled")]
    past = snap(m=maintenance("completed"))
    assert kinds(past, set(), datetime(2026, 12, 8, tzinfo=UTC), since=at("2026-12-07T12:00:00+01:00")) == []


statuses = st.sampled_from(["investigating", "identified", "monitoring", "resolved"])
records = st.lists(st.tuples(st.sampled_from(["08:00", "09:00", "10:00", "11:00"]), statuses, st.booleans()),
                   min_size=1, max_size=4, unique_by=lambda u: u[0])


@settings(max_examples=60)
@given(st.dictionaries(st.sampled_from(["a", "b", "c"]), records, min_size=1))
def test_a_snapshot_announced_once_brings_nothing_new(data: dict[str, list[tuple[str, str, bool]]]) -> None:
    snapshot = snap(**{key: incident(*(update(t, s, n) for t, s, n in sorted(ups))) for key, ups in data.items()})
    events, keys = diff(snapshot, set(), NOW)
    assert len(events) <= len(data)
    assert diff(snapshot, keys, NOW)[0] == []
    assert {e.key for e in events} <= keys


def test_recipients_follow_components_groups_expanded_and_everything() -> None:
    from statusgen.notifier.events import Event
    event = Event("a/update/1", "incident_created", "a", "1", ("dcc-app",))
    people = [Subscriber("group@example.org", ("dcc-certificates", "dcc-app"), "nl"),
              Subscriber("app@example.org", ("dcc-app",), "en"),
              Subscriber("all@example.org", None, "en"),
              Subscriber("other@example.org", ("lookup",), "en"),
              Subscriber("APP@example.org", ("dcc-app",), "en")]
    assert [s.email for s in recipients(event, people)] == ["group@example.org", "app@example.org", "all@example.org"]
    nothing = Event("b/update/1", "incident_created", "b", "1", ())
    assert [s.email for s in recipients(nothing, people)] == ["all@example.org"]


@settings(max_examples=60)
@given(st.dictionaries(st.sampled_from(["a", "b", "c"]), records, min_size=1))
def test_since_before_everything_changes_nothing_and_after_everything_sends_nothing(
        data: dict[str, list[tuple[str, str, bool]]]) -> None:
    snapshot = snap(**{key: incident(*(update(t, s, n) for t, s, n in sorted(ups))) for key, ups in data.items()})
    plain = diff(snapshot, set(), NOW)
    assert diff(snapshot, set(), NOW, since=at("2026-11-29T00:00:00+01:00")) == plain
    assert diff(snapshot, set(), NOW, since=at("2026-12-01T00:00:00+01:00")) == ([], plain[1])
