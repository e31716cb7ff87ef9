"""The public side of a Statuspage: the v2 API, then the history pages and incident timelines.

    api/v2/summary.json (required: it shows the source is a Statuspage)
    api/v2/components.json, incidents.json, scheduled-maintenances.json (the 50 most recent)
    history.json?page=1, 2, … (undocumented: three months a page, newest first)
        {months: [{name, year, starts_on, days, incidents: [{code, name, message, impact, timestamp}]}]}
        until a page without months, or two pages in a row that list nothing (a quiet
        quarter does not end the walk; half a year without incidents does)
    incidents/CODE.json for every listed code whose full record is missing
        ({page, incident} or {incident}: every update, the post-mortem)
    ──▶ Found

The undocumented parts are read defensively: a history page or a timeline that cannot
be read becomes a note (the importer's report lists it), never a crash.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from statusgen.errors import SetupError
from statusgen.importer.statuspage.dump import JSON
from statusgen.importer.statuspage.fetch import Fetcher, FetchError, Redirected, Refused, Unreachable
from statusgen.importer.statuspage.found import Found, expect_items, expect_object, full_record

MAX_HISTORY_PAGES = 400
"""A hundred years of quarters: only a source that never stops answering gets this far."""
QUIET_PAGES = 2
PROGRESS_EVERY = 25

_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Listed:
    """One incident as a history page lists it."""

    code: str
    name: str
    where: str


def read_public(fetch: Fetcher, progress: Callable[[str], None], not_a_statuspage: str) -> Found:
    try:
        summary = fetch.get("api/v2/summary.json")
    except (Unreachable, Refused, Redirected):
        raise
    except FetchError as error:
        raise SetupError([f"{error}: is this a Statuspage?"]) from None
    if summary.data is None:
        raise SetupError([not_a_statuspage])
    data = expect_object(summary.data, summary.where)
    found = Found(page=expect_object(data.get("page"), summary.where, "page"))
    found.components = _components(fetch, data, summary.where, found.notes)
    found.incidents = _incidents(fetch, data, summary.where, found.notes)
    pages, listed = _history(fetch, found.notes)
    complete = {item["id"] for item in found.incidents if full_record(item)}
    wanted = [entry for entry in listed if entry.code not in complete]
    timelines, cached = _timelines(fetch, wanted, found.notes, progress)
    found.incidents += timelines
    progress(f"fetched {pages} history pages, {len(timelines)} incident timelines"
             + (f" ({cached} from cache)" if cached else ""))
    return found


def _components(fetch: Fetcher, summary: JSON, where: str, notes: list[str]) -> list[JSON]:
    answer = fetch.get("api/v2/components.json")
    if answer.data is not None:
        return expect_items(answer.data, answer.where, "components")
    notes.append(f"{answer.where}: not found; the components are those summary.json lists")
    return expect_items(summary, where, "components")


def _incidents(fetch: Fetcher, summary: JSON, where: str, notes: list[str]) -> list[JSON]:
    found = expect_items(summary, where, "incidents") if "incidents" in summary else []
    if "scheduled_maintenances" in summary:
        found += expect_items(summary, where, "scheduled_maintenances")
    for path, key in (("api/v2/incidents.json", "incidents"),
                      ("api/v2/scheduled-maintenances.json", "scheduled_maintenances")):
        answer = fetch.get(path)
        if answer.data is None:
            notes.append(f"{answer.where}: not found; only what summary.json and history.json list")
            continue
        found += expect_items(answer.data, answer.where, key)
    return found


def _history(fetch: Fetcher, notes: list[str]) -> tuple[int, list[Listed]]:
    """(pages read, every incident listed, newest first, each code once)."""
    listed: dict[str, Listed] = {}
    quiet = 0
    for number in range(1, MAX_HISTORY_PAGES + 1):
        try:
            answer = fetch.get("history.json", (("page", str(number)),))
        except Unreachable:
            raise
        except FetchError as error:
            notes.append(f"{error}: incidents older than the previous history page are not imported")
            return number - 1, list(listed.values())
        if answer.data is None:
            if number == 1:
                notes.append(f"{answer.where}: not found; only the incidents the API lists (its 50 most "
                             "recent) are imported")
            return number - 1, list(listed.values())
        months = _months(answer.data)
        if months is None:
            notes.append(f"{answer.where}: not a history page ({{months: [...]}} expected); incidents "
                         "older than the previous page are not imported")
            return number - 1, list(listed.values())
        entries = [entry for month in months for entry in _entries(month, answer.where, notes)]
        for entry in entries:
            listed.setdefault(entry.code, entry)
        quiet = 0 if entries else quiet + 1
        if not months or quiet == QUIET_PAGES:
            return number, list(listed.values())
    notes.append(f"history.json: stopped after {MAX_HISTORY_PAGES} pages")
    return MAX_HISTORY_PAGES, list(listed.values())


def _months(data: Any) -> list[JSON] | None:
    months = data.get("months") if isinstance(data, dict) else None
    if not isinstance(months, list):
        return None
    return [month for month in months if isinstance(month, dict)]


def _entries(month: JSON, where: str, notes: list[str]) -> list[Listed]:
    found = []
    items = month.get("incidents")
    for index, item in enumerate(items if isinstance(items, list) else ()):
        code = item.get("code") if isinstance(item, dict) else None
        if not isinstance(code, str) or not _CODE.fullmatch(code):
            notes.append(f"{where}: {month.get('name')} {month.get('year')}, incident {index + 1}: "
                         f"no usable code ({code!r}); left out")
            continue
        found.append(Listed(code, str(item.get("name") or ""), where))
    return found


def _timelines(fetch: Fetcher, wanted: list[Listed], notes: list[str],
               progress: Callable[[str], None]) -> tuple[list[JSON], int]:
    """(the incidents read, how many of them came from saved answers)."""
    found, cached = [], 0
    for count, entry in enumerate(wanted, start=1):
        try:
            answer = fetch.get(f"incidents/{entry.code}.json")
        except Unreachable:
            raise
        except FetchError as error:
            notes.append(f"{error}: {_what(entry)} not imported")
            continue
        incident = _timeline(answer.data, answer.where, entry, notes)
        if incident is not None:
            found.append(incident)
            cached += answer.cached
        if count % PROGRESS_EVERY == 0 and count < len(wanted):
            progress(f"incident timelines: {count} of {len(wanted)}")
    return found, cached


def _timeline(data: Any, where: str, entry: Listed, notes: list[str]) -> JSON | None:
    if data is None:
        notes.append(f"{where}: not found; {_what(entry)} not imported")
        return None
    incident = data.get("incident", data) if isinstance(data, dict) else None
    if (not isinstance(incident, dict) or not isinstance(incident.get("incident_updates"), list)
            or not isinstance(incident.get("components", []), list)):
        notes.append(f"{where}: no incident with its updates in it; {_what(entry)} not imported")
        return None
    if incident.get("id") != entry.code:
        notes.append(f"{where}: holds incident {incident.get('id')!r}, not {entry.code}; not imported")
        return None
    return incident


def _what(entry: Listed) -> str:
    return f"incident {entry.code} ({entry.name!r}, listed in {entry.where})"
