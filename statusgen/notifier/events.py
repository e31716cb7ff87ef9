"""What changed since the last announcement: snapshot + announced facts → events.

Pure functions. Every fact worth announcing has a stable key made of ids, never of
titles or positions:

    ID/update/UPDATE            an incident update (or an explicit maintenance update)
    ID/scheduled                a maintenance was announced
    ID/window/START/END         a maintenance's window (a new one means it was moved)
    ID/reminder/MINUTES/START   a reminder before the window opens
    ID/started/START            the window opened (or ops started early)
    ID/completed, ID/cancelled  it ended

The notifier's store remembers which keys it announced. `diff` returns an event for
what is new and every key the snapshot implies, to be remembered with the events:
a rerun finds nothing new, an edited text (same ids) is nothing new, and the first run
(the baseline) only remembers. When several things happened to one incident since the
last run (a cron that missed a beat), only the latest is sent; the rest is remembered.

With `since` (after the store was lost: `statusgen notify --since TIME`), every fact that
happened at or before that time counts as announced. A fact's time is that of the update
that states it, or the window's own times; where the snapshot cannot tell exactly (when a
window without updates was scheduled or moved), the latest time it can have happened is
taken, so a fact is only taken as told when it surely was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

KINDS = (
    "incident_created", "incident_updated", "incident_resolved",
    "maintenance_scheduled", "maintenance_changed", "maintenance_cancelled",
    "maintenance_reminder", "maintenance_started", "maintenance_completed", "maintenance_updated",
)
THREAD_STARTERS = ("incident_created", "maintenance_scheduled")
"""Kinds that open an incident's email thread; the others reply to it."""


@dataclass(frozen=True)
class Event:
    key: str
    kind: str
    incident: str
    """The incident's file id (its record is `snapshot["incidents"][incident]`)."""
    update: str | None
    """The update whose text the email shows; None when the event has none (a reminder)."""
    components: tuple[str, ...]
    previous_window: tuple[str, str] | None = None
    """For a moved maintenance: the window subscribers were told before."""
    lead_minutes: int | None = None
    """For a reminder: how long before the window opens."""


def diff(snapshot: dict[str, Any], announced: set[str], now: datetime,
         reminders: tuple[int, ...] = (1440,), previous: dict[str, Any] | None = None,
         since: datetime | None = None) -> tuple[list[Event], set[str]]:
    """New events, and every key the snapshot implies (to remember once they are queued);
    with `since`, what happened at or before it counts as announced."""
    events: list[Event] = []
    keys: set[str] = set()
    old = (previous or {}).get("incidents", {})
    for incident_id in sorted(snapshot["incidents"]):
        record = snapshot["incidents"][incident_id]
        if record["kind"] == "maintenance":
            facts = _maintenance_facts(incident_id, record, now, reminders)
            told = _told(facts, announced, since)
            found = _maintenance_event(incident_id, record, [(k, kind) for k, kind, _ in facts if k not in told],
                                       told, old.get(incident_id))
        else:
            facts = [(f"{incident_id}/update/{u['id']}", "update", _time(u["at"])) for u in record["updates"]]
            found = _incident_event(incident_id, record, _told(facts, announced, since))
        events += [found] if found else []
        keys |= {key for key, _, _ in facts}
    return events, keys


Fact = tuple[str, str, datetime | None]
"""A fact's key, the kind of event it makes, and when it happened (None: cannot tell)."""


def _told(facts: list[Fact], announced: set[str], since: datetime | None) -> set[str]:
    """What counts as announced: what the store says, and with `since` what happened before."""
    if since is None:
        return announced
    return announced | {key for key, _, at in facts if at is not None and at <= since}


def _incident_event(incident_id: str, record: dict[str, Any], announced: set[str]) -> Event | None:
    new = [u for u in record["updates"] if u["notify"] and f"{incident_id}/update/{u['id']}" not in announced]
    if not new:
        return None
    latest = new[-1]
    told_before = any(f"{incident_id}/update/{u['id']}" in announced for u in record["updates"])
    kind = ("incident_resolved" if latest["status"] == "resolved"
            else "incident_updated" if told_before else "incident_created")
    return Event(f"{incident_id}/update/{latest['id']}", kind, incident_id, latest["id"],
                 tuple(sorted(record["components"])))


def _maintenance_facts(incident_id: str, record: dict[str, Any], now: datetime,
                       reminders: tuple[int, ...]) -> list[Fact]:
    """Every fact the maintenance's record states, with when it happened. Where the
    record cannot say exactly (when a window was scheduled or moved), the latest time it
    can have been is taken, so that `since` only takes as told what surely was."""
    window, status = record["window"], record["status"]
    start, opens, closes = window["start"], _time(window["start"]), _time(window["end"])
    updates = [(u, _time(u["at"])) for u in record["updates"]]
    explicit = [(u, at) for u, at in updates if not u["automatic"]]
    scheduled = updates[0][1] if updates else opens  # by its first update; at the latest, when it opened
    facts: list[Fact] = [(f"{incident_id}/update/{u['id']}", "maintenance_updated", at) for u, at in explicit]
    facts.append((f"{incident_id}/window/{start}/{window['end']}", "maintenance_changed",
                  max([scheduled, *(at for _, at in explicit)])))
    if status == "scheduled":
        facts.insert(0, (f"{incident_id}/scheduled", "maintenance_scheduled", scheduled))
        facts += [(f"{incident_id}/reminder/{lead}/{start}", "maintenance_reminder", opens - timedelta(minutes=lead))
                  for lead in sorted(reminders, reverse=True) if opens - timedelta(minutes=lead) <= now < opens]
    else:
        facts.append((f"{incident_id}/scheduled", "maintenance_scheduled", scheduled))
    if status in ("in_progress", "verifying", "completed"):
        facts.append((f"{incident_id}/started/{start}", "maintenance_started",
                      _first(updates, ("in_progress", "verifying"), opens)))
    if status in ("completed", "cancelled"):
        facts.append((f"{incident_id}/{status}", f"maintenance_{status}",
                      _first(updates, (status,), closes if status == "completed" else None)))
    return facts


def _first(updates: list[tuple[dict[str, Any], datetime]], statuses: tuple[str, ...],
           otherwise: datetime | None) -> datetime | None:
    """When the first update with one of `statuses` was published, else `otherwise`."""
    return next((at for u, at in updates if u["status"] in statuses), otherwise)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _maintenance_event(incident_id: str, record: dict[str, Any], new: list[tuple[str, str]],
                       announced: set[str], old: dict[str, Any] | None) -> Event | None:
    """The one event worth sending for a maintenance now, if any: its latest step."""
    kinds = {kind: key for key, kind in new}
    first_time = f"{incident_id}/scheduled" not in announced
    order = ["maintenance_cancelled", "maintenance_completed", "maintenance_started", "maintenance_reminder",
             "maintenance_scheduled", "maintenance_changed", "maintenance_updated"]
    if first_time and "maintenance_scheduled" in kinds:
        order = ["maintenance_cancelled", "maintenance_completed", "maintenance_started", "maintenance_scheduled"]
    kind = next((k for k in order if k in kinds), None)
    if kind is None or (kind == "maintenance_changed" and first_time):
        return None
    update = _explaining_update(record, kind, {key for key, _ in new})
    if update is not None and not update["notify"]:
        return None  # ops published this step quietly
    previous = None
    if kind == "maintenance_changed" and old and old.get("window"):
        previous = (old["window"]["start"], old["window"]["end"])
    lead = int(kinds[kind].split("/")[2]) if kind == "maintenance_reminder" else None
    return Event(kinds[kind], kind, incident_id, update["id"] if update else None,
                 tuple(sorted(record["components"])), previous, lead)


def _explaining_update(record: dict[str, Any], kind: str, new_keys: set[str]) -> dict[str, Any] | None:
    """The update whose text goes with an event: the newest one of its step."""
    if kind == "maintenance_reminder":
        return None
    wanted = {"maintenance_started": ("in_progress", "verifying"), "maintenance_completed": ("completed",),
              "maintenance_cancelled": ("cancelled",)}.get(kind)
    candidates = [u for u in record["updates"] if wanted is None or u["status"] in wanted]
    if wanted is None:
        candidates = [u for u in candidates if not u["automatic"]]
    return candidates[-1] if candidates else None
