"""A published status page's `api/v2/summary.json` → `StatusReport`, for `status --url`.

    URL ─summary_url─▶ …/api/v2/summary.json ─fetch_summary (timeout)─▶ JSON ─summary_report─▶ StatusReport

Any Statuspage-compatible page will do: statusgen's own (whose other languages are
under `LANG/api/v2/`), or one hosted by Atlassian. The summary lists every component,
the unresolved incidents and the upcoming and active maintenance; a component's causes
are the incidents and maintenance in progress that list it.

Every problem names the URL: what could not be fetched, or which item of the document is
not what a summary holds (`…/summary.json: incidents[0]: updated_at: expected …`).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from statusgen import __version__
from statusgen.content.model import COMPONENT_STATUSES, severity
from statusgen.errors import StatusgenError, UsageError
from statusgen.site.state import INDICATORS
from statusgen.status.report import (
    Affected,
    ComponentReport,
    Item,
    LatestUpdate,
    StatusReport,
    plain,
    priority_of,
)

SUMMARY = "api/v2/summary.json"
ACTIVE = ("in_progress", "verifying")
TIMEOUT = 10.0
"""Seconds to wait for the page to answer."""
MAX_BYTES = 20 * 1024 * 1024
"""A summary of a very large page is a few hundred kilobytes; more is not a summary."""


class SummaryError(StatusgenError):
    """A published summary could not be fetched or read (exit 1): the message names the URL."""


def summary_url(url: str, lang: str | None = None) -> str:
    """The summary of the page at `url` (a page's home, or a summary.json itself);
    `lang`: the summary of one of a statusgen page's other languages."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--url: expected the page's address, such as https://status.example.org/; found {url!r}")
    if parts.path.endswith(".json"):
        if lang:
            raise UsageError("--lang: give the page's address with --url, not a summary.json, to read another language")
        return url
    base = url if parts.path.endswith("/") else url + "/"
    return base + (f"{lang}/" if lang else "") + SUMMARY


def fetch_summary(url: str, timeout: float = TIMEOUT) -> Any:
    """The JSON document at `url`; a `SummaryError` naming the URL if there is none."""
    request = urllib.request.Request(url, headers={"Accept": "application/json",
                                                   "User-Agent": f"statusgen/{__version__} (status)"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as error:
        raise SummaryError(f"{url}: the server answered HTTP {error.code} {error.reason}") from None
    except TimeoutError:
        raise SummaryError(f"{url}: no answer within {timeout:g} s") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        if isinstance(reason, TimeoutError):
            raise SummaryError(f"{url}: no answer within {timeout:g} s") from None
        raise SummaryError(f"{url}: cannot be fetched ({reason})") from None
    if len(body) > MAX_BYTES:
        raise SummaryError(f"{url}: larger than {MAX_BYTES // 1024 // 1024} MiB; expected a summary.json")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SummaryError(f"{url}: expected a Statuspage summary in JSON; found something else ({error})") from None


def summary_report(document: Any, url: str, now: datetime, lang: str | None = None) -> StatusReport:
    """The report of a published summary, as it stands."""
    read = _Reader(url)
    top = read.mapping(document, "the document")
    page = read.mapping(top.get("page"), "page")
    status = read.mapping(top.get("status"), "status")
    zone = read.zone(page, "page")
    components = [read.mapping(c, f"components[{n}]") for n, c in enumerate(read.items(top, "components", ""))]
    names = {read.text(c, "id", f"components[{n}]"): c for n, c in enumerate(components)}
    incidents = [read.item(i, f"incidents[{n}]", names, "incident")
                 for n, i in enumerate(read.items(top, "incidents", ""))]
    maintenance = [read.item(m, f"scheduled_maintenances[{n}]", names, "maintenance")
                   for n, m in enumerate(read.items(top, "scheduled_maintenances", ""))]
    in_progress = sorted((m for m in maintenance if m.status in ACTIVE), key=lambda m: (m.started_at, m.id))
    upcoming = sorted((m for m in maintenance if m.status == "scheduled"), key=lambda m: (m.started_at, m.id))
    return StatusReport(
        source="url", origin=url, at=now, language=lang, page_name=read.text(page, "name", "page"),
        page_url=read.text(page, "url", "page"), time_zone=zone,
        indicator=read.choice(status, "indicator", "status", (*INDICATORS, "maintenance")),
        description=read.text(status, "description", "status"),
        components=tuple(_components(read, components, names, [*incidents, *in_progress])),
        incidents=tuple(sorted(incidents, key=lambda i: (i.started_at, i.id), reverse=True)),
        in_progress=tuple(in_progress), upcoming=tuple(upcoming),
    )


def _components(read: _Reader, components: list[dict[str, Any]], by_id: dict[str, dict[str, Any]],
                active: list[Item]) -> list[ComponentReport]:
    found = []
    for number, component in enumerate(components):
        where = f"components[{number}]"
        if component.get("group") is True:
            continue
        status = read.choice(component, "status", where, COMPONENT_STATUSES)
        if status == "operational":
            continue
        cid = read.text(component, "id", where)
        setting = [(severity(a.status), item.id) for item in active for a in item.components if a.id == cid]
        causes = tuple(item_id for _, item_id in sorted(setting, key=lambda pair: (-pair[0], pair[1])))
        group = by_id.get(component.get("group_id") or "")
        found.append(ComponentReport(cid, read.text(component, "name", where),
                                     read.text(group, "name", where + ".group_id") if group else None,
                                     status, causes))
    return found


class _Reader:
    """Reads the summary's values, each checked: a `SummaryError` names the URL and the item."""

    def __init__(self, url: str) -> None:
        self.url = url

    def fail(self, where: str, message: str) -> SummaryError:
        return SummaryError(f"{self.url}: {where}: {message}" if where else f"{self.url}: {message}")

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object; found {_found(value)}")
        return value

    def items(self, value: dict[str, Any], key: str, where: str) -> list[Any]:
        found = value.get(key)
        if not isinstance(found, list):
            raise self.fail(f"{where}.{key}" if where else key, f"expected a list; found {_found(found)}")
        return found

    def text(self, value: dict[str, Any], key: str, where: str) -> str:
        found = value.get(key)
        if not isinstance(found, str):
            raise self.fail(where, f"{key}: expected text; found {_found(found)}")
        return found

    def choice(self, value: dict[str, Any], key: str, where: str, choices: tuple[str, ...]) -> str:
        found = value.get(key)
        if found not in choices:
            raise self.fail(where, f"{key}: expected one of {', '.join(choices)}; found {_found(found)}")
        return str(found)

    def time(self, value: dict[str, Any], key: str, where: str) -> datetime:
        found = value.get(key)
        try:
            moment = datetime.fromisoformat(found) if isinstance(found, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise self.fail(where, f"{key}: expected an ISO 8601 time with its offset; found {_found(found)}")
        return moment

    def zone(self, page: dict[str, Any], where: str) -> ZoneInfo:
        name = self.text(page, "time_zone", where)
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(where, f"time_zone: expected an IANA time zone such as Europe/Brussels; "
                                   f"found {name!r}") from None

    def item(self, value: Any, where: str, components: dict[str, dict[str, Any]], kind: str) -> Item:
        """An incident or a scheduled maintenance of the summary."""
        entry = self.mapping(value, where)
        impact = self.text(entry, "impact", where)
        window = None
        if kind == "maintenance":
            window = (self.time(entry, "scheduled_for", where), self.time(entry, "scheduled_until", where))
        started = window[0] if window else self.time(entry, "started_at" if entry.get("started_at") else
                                                     "created_at", where)
        updates = [self.mapping(u, f"{where}.incident_updates[{n}]")
                   for n, u in enumerate(self.items(entry, "incident_updates", where))]
        return Item(
            id=self.text(entry, "id", where), kind=kind, title=self.text(entry, "name", where),
            status=self.text(entry, "status", where), impact=impact,
            priority=None if kind == "maintenance" else priority_of(impact), started_at=started, window=window,
            url=entry["shortlink"] if isinstance(entry.get("shortlink"), str) else "",
            components=tuple(self.affected(entry, where, kind, components, self.changed(updates, where))),
            latest=self.latest(updates, where),
        )

    def affected(self, entry: dict[str, Any], where: str, kind: str, known: dict[str, dict[str, Any]],
                 changed: dict[str, str]) -> list[Affected]:
        """The item's components, each with the status its updates last gave it, else (an
        incident) the status it has now, the summary's own entry for it, or (a maintenance,
        upcoming) under maintenance, as Statuspage's maintenance sets them."""
        found = []
        for number, component in enumerate(self.items(entry, "components", where)):
            place = f"{where}.components[{number}]"
            component = self.mapping(component, place)
            cid = self.text(component, "id", place)
            status = changed.get(cid) or ("under_maintenance" if kind == "maintenance" else
                                          self.choice(known.get(cid, component), "status", place, COMPONENT_STATUSES))
            found.append(Affected(cid, self.text(component, "name", place), status))
        return found

    def changed(self, updates: list[dict[str, Any]], where: str) -> dict[str, str]:
        """Component id → the status the updates, oldest first, last changed it to."""
        statuses: dict[str, str] = {}
        for number, update in self.oldest_first(updates, where):
            place = f"{where}.incident_updates[{number}].affected_components"
            for index, change in enumerate(update.get("affected_components") or []):
                change = self.mapping(change, f"{place}[{index}]")
                code = self.text(change, "code", f"{place}[{index}]")
                statuses[code] = self.choice(change, "new_status", f"{place}[{index}]", COMPONENT_STATUSES)
        return statuses

    def oldest_first(self, updates: list[dict[str, Any]], where: str) -> list[tuple[int, dict[str, Any]]]:
        """(position in the list, update), oldest first; the API lists them newest first."""
        dated = [(self.time(u, "display_at" if u.get("display_at") else "created_at",
                            f"{where}.incident_updates[{n}]"), -n, n, u) for n, u in enumerate(updates)]
        return [(n, u) for _, _, n, u in sorted(dated, key=lambda d: d[:2])]

    def latest(self, updates: list[dict[str, Any]], where: str) -> LatestUpdate | None:
        """The newest update."""
        ordered = self.oldest_first(updates, where)
        if not ordered:
            return None
        number, update = ordered[-1]
        place = f"{where}.incident_updates[{number}]"
        body = update.get("body")
        if body is not None and not isinstance(body, str):
            raise self.fail(place, f"body: expected text; found {_found(body)}")
        at = self.time(update, "display_at" if update.get("display_at") else "created_at", place)
        return LatestUpdate(at, self.text(update, "status", place), plain(body or ""))


def _found(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, (dict, list)):
        return "an object" if isinstance(value, dict) else "a list"
    shown = repr(value) if isinstance(value, str) else json.dumps(value)
    return shown if len(shown) <= 60 else shown[:59] + "…"
