"""What a crawl found, before it becomes a Dump; and the shape checks every crawl shares.

    crawl (public | manage) ──▶ Found (every copy of every object, notes)
        ──dump()──▶ Dump: components in page order (each group followed by its members),
                    incidents deduplicated by id (the fullest timeline wins) oldest first,
                    subscribers deduplicated by id (the last copy wins)

The documented endpoints must have the documented shape: an object that is not one, or
an item without an id, stops the import with a message naming the URL or file and the
item (`SetupError`), before anything is written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timezone
from typing import Any

from statusgen.errors import SetupError
from statusgen.importer.statuspage.dump import JSON, Dump


@dataclass
class Found:
    page: JSON
    components: list[JSON] = field(default_factory=list)
    incidents: list[JSON] = field(default_factory=list)
    templates: list[JSON] = field(default_factory=list)
    subscribers: list[JSON] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def dump(self) -> Dump:
        return Dump(page=self.page, components=ordered_components(self.components),
                    incidents=merged_incidents(self.incidents), templates=tuple(self.templates),
                    subscribers=tuple(_last_by_id(self.subscribers).values()), notes=tuple(self.notes))


def expect_object(data: Any, where: str, what: str = "the answer") -> JSON:
    if not isinstance(data, dict):
        raise SetupError([f"{where}: {what}: expected a JSON object, found {_kind(data)}"])
    return data


def expect_items(data: Any, where: str, key: str | None = None) -> list[JSON]:
    """`data[key]` (or `data` itself) as a list of objects that each have a string id."""
    items = data.get(key) if key is not None and isinstance(data, dict) else data
    label = key or "the answer"
    if key is not None and isinstance(data, dict) and key not in data:
        raise SetupError([f"{where}: expected a '{key}' list, found none"])
    if not isinstance(items, list):
        raise SetupError([f"{where}: {label}: expected a list, found {_kind(items)}"])
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise SetupError([f"{where}: {label}[{index}]: expected an object with an id, found {_short(item)}"])
        for inner in ("incident_updates", "components"):
            if item.get(inner) is not None and not isinstance(item[inner], list):
                raise SetupError([f"{where}: {label}[{index}] ({item['id']}): {inner}: expected a list, "
                                  f"found {_kind(item[inner])}"])
    return items


def ordered_components(components: list[JSON]) -> tuple[JSON, ...]:
    """Page order: the top level by position, each group followed by its members by position.
    Positions may count per level (statusgen, captures) or across the page: both sort right."""
    unique = _last_by_id(components)
    members: dict[str, list[JSON]] = {}
    for item in unique.values():
        listed = item.get("components") if item.get("group") else None
        for child in listed if isinstance(listed, list) else ():
            if isinstance(child, str) and child in unique:
                members.setdefault(item["id"], []).append(unique[child])
        parent = item.get("group_id")
        if isinstance(parent, str) and parent in unique and unique[parent].get("group") \
                and item not in members.setdefault(parent, []):
            members[parent].append(item)
    inside = {child["id"] for group in members.values() for child in group}
    ordered: list[JSON] = []
    for item in _by_position([c for c in unique.values() if c["id"] not in inside]):
        ordered.append(item)
        ordered.extend(_by_position(members.get(item["id"], [])))
    return tuple(ordered)


def merged_incidents(incidents: list[JSON]) -> tuple[JSON, ...]:
    """One object per id: the copy with the most updates (then a post-mortem, then the latest
    `updated_at`), with keys only another copy has filled in; oldest first."""
    copies: dict[str, list[JSON]] = {}
    for item in incidents:
        copies.setdefault(item["id"], []).append(item)
    merged = []
    for same in copies.values():
        best = max(same, key=_fullness)
        combined = dict(best)
        for other in same:
            for key, value in other.items():
                if combined.get(key) is None and value is not None:
                    combined[key] = value
        merged.append(combined)
    return tuple(sorted(merged, key=lambda item: (_moment(item.get("created_at")), item["id"])))


def full_record(incident: JSON) -> bool:
    """Whether a listed incident already has everything its own page would add."""
    return isinstance(incident.get("incident_updates"), list) and (
        incident.get("status") != "postmortem" or bool(incident.get("postmortem_body")))


def _fullness(item: JSON) -> tuple[int, bool, datetime]:
    return (len(item.get("incident_updates") or ()), bool(item.get("postmortem_body")),
            _moment(item.get("updated_at")))


def _moment(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.max.replace(tzinfo=UTC)


def _by_position(items: list[JSON]) -> list[JSON]:
    def position(item: JSON) -> float:
        value = item.get("position")
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.inf

    return sorted(items, key=position)


def _last_by_id(items: list[JSON]) -> dict[str, JSON]:
    unique: dict[str, JSON] = {}
    for item in items:
        unique[item["id"]] = {**unique.get(item["id"], {}), **item}
    return unique


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), type(value).__name__)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
