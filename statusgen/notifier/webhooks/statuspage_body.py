"""Statuspage's webhook bodies, from the event's snapshot context alone.

    event + context + language ──▶ {meta, page, incident}                        (every event)
                                 + {meta, page, component_update, component}   (per status change
                                                                                of the event's update)

Receivers written for Statuspage tell the two apart by the key present. `incident` is the
very object of our `api/v2/incidents.json` (or `scheduled-maintenances.json`) in the
subscriber's language: the same keys in the same order, ids and timestamps, updates newest
first with `affected_components`, and `components` as full component objects. The snapshot
keeps everything those objects say (see site/snapshot.py), so nothing is recomputed
differently here; tests compare with the built API byte for byte as JSON values.

Where the API has no answer: a cancelled maintenance (left out of the API) is sent with
status `cancelled`. `meta.generated_at` is `now` in UTC, as Statuspage writes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from statusgen import ids
from statusgen.notifier.compose import email_language
from statusgen.notifier.events import Event
from statusgen.times import iso_time

DOCUMENTATION = "https://github.com/statusgen/statusgen/blob/main/README.md#webhooks"
UTC = ZoneInfo("UTC")


def statuspage_bodies(event: Event, context: dict[str, Any], lang: str, manage_url: str,
                      now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """(part, body): the incident's body first (part ""), then one `component/ID` body per
    component whose status the event's update changed (a reminder changes none)."""
    lang = email_language(context, lang)
    head = {"meta": {"unsubscribe": manage_url, "documentation": DOCUMENTATION, "generated_at": iso_time(now, UTC)},
            "page": {"id": context["site"]["page_id"], "status_indicator": context["status"]["indicator"],
                     "status_description": context["status"]["description"]}}
    bodies = [("", {**head, "incident": incident_object(context, event.incident, lang)})]
    update = _update(context["incidents"][event.incident], event.update)
    for component, old, new in update["changes"]:
        change = {"created_at": update["at"], "new_status": new, "old_status": old,
                  "id": ids.public_id("component_update", f"{event.incident}/{update['id']}/{component}"),
                  "component_id": ids.component_id(component), "component_type": "Component"}
        bodies.append((f"component/{component}", {**head, "component_update": change,
                                                  "component": component_object(context, component, lang)}))
    return bodies


def _update(record: dict[str, Any], update_id: str | None) -> dict[str, Any]:
    """The event's update; none (a reminder) changes nothing."""
    found = next((u for u in record["updates"] if u["id"] == update_id), None) if update_id else None
    return found or {"changes": []}


def incident_object(context: dict[str, Any], incident_id: str, lang: str) -> dict[str, Any]:
    """The API's incident object (site/api.py `_Api._incident`), from the snapshot record."""
    record = context["incidents"][incident_id]
    updates, public = record["updates"], record["public_id"]
    created = updates[0]["at"] if updates else record["started_at"]
    maintenance = record["kind"] == "maintenance"
    document: dict[str, Any] = {
        "id": public, "name": record["title"][lang], "status": _status(record),
        "created_at": created, "updated_at": updates[-1]["at"] if updates else created,
        "monitoring_at": next((u["at"] for u in updates if u["status"] == "monitoring"), None),
        "resolved_at": record["ended_at"], "impact": record["impact"], "shortlink": record["url"][lang],
        "started_at": created if maintenance else record["started_at"], "page_id": context["site"]["page_id"],
        "incident_updates": [_incident_update(context, update, public, lang) for update in reversed(updates)],
        "components": [component_object(context, cid, lang) for cid in _component_ids(record)
                       if cid in context["components"]],
    }
    if record["window"]:
        document["scheduled_for"] = record["window"]["start"]
        document["scheduled_until"] = record["window"]["end"]
    return document


def _status(record: dict[str, Any]) -> str:
    if record["status"] == "resolved" and record["postmortem"]:
        return "postmortem"
    return str(record["status"])


def _component_ids(record: dict[str, Any]) -> list[str]:
    """In the API's order; a context queued by a statusgen before `component_ids` was kept
    has only the mapping, whose order JSON did not keep: then alphabetical."""
    return list(record.get("component_ids") or sorted(record["components"]))


def _incident_update(context: dict[str, Any], update: dict[str, Any], incident: str, lang: str) -> dict[str, Any]:
    at = update["at"]
    affected = [{"code": ids.component_id(cid), "name": context["components"][cid]["name"][lang],
                 "old_status": old, "new_status": new}
                for cid, old, new in update["changes"] if cid in context["components"]]
    return {"id": update["public_id"], "status": update["status"], "body": update["body"][lang],
            "incident_id": incident, "created_at": at, "updated_at": at, "display_at": at,
            "affected_components": affected or None, "deliver_notifications": update["notify"],
            "custom_tweet": None, "tweet_id": None}


def component_object(context: dict[str, Any], component_id: str, lang: str) -> dict[str, Any]:
    """The API's component object (site/api.py `_Api.component`). Fields a context from an
    older snapshot lacks are null (or false), as Statuspage writes what it does not know."""
    component, page_id = context["components"][component_id], context["site"]["page_id"]
    description, group = component.get("description"), component["group"]
    return {
        "id": ids.component_id(component_id), "name": component["name"][lang], "status": component["status"],
        "created_at": component.get("created_at"), "updated_at": component.get("updated_at"),
        "position": component.get("position"), "description": description[lang] if description else None,
        "showcase": component.get("showcase", False), "start_date": component.get("start_date"),
        "group_id": ids.component_id(group) if group else None, "page_id": page_id, "group": False,
        "only_show_if_degraded": component.get("only_show_if_degraded", False),
    }
