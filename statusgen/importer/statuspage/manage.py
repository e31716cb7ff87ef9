"""The manage API (`https://api.statuspage.io/v1`, a key): a page's complete history and more.

    pages/ID                                           the page (required; 404: wrong --page-id)
    pages/ID/components?page=N&per_page=100            N = 1, 2, … until a short page (required)
    pages/ID/component-groups?page=N&per_page=100      groups and their members
    pages/ID/incidents?limit=100&page=N                every incident and maintenance (required)
    pages/ID/incident_templates?page=N&per_page=100
    pages/ID/subscribers?type=T&state=all&limit=100&page=N
                                                       N = 0, 1, … (this list counts from 0), for every
                                                       type: email, sms, webhook, slack, teams
    pages/ID/subscribers/unsubscribed?page=N&per_page=100
    ──normalise──▶ Found in the public API's shapes

Normalised so the mapping sees one shape (extra fields are kept): groups become v2 group
components (`group: true`, `components: [ids]`, members with `group_id`); an incident's
`impact_override` becomes its `impact`; a resolved incident with a published post-mortem
gets status `postmortem`, an unpublished post-mortem draft is left out (and noted);
templates get `component_ids`; subscribers get `mode`, `components` as ids and a `state`
(`unsubscribed` from that list, `quarantined` when `quarantined_at` is set, else what the
API said, else `active`). A listing that fails beyond the required ones becomes a note.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from statusgen.errors import SetupError
from statusgen.importer.statuspage.dump import JSON
from statusgen.importer.statuspage.fetch import Fetcher, FetchError, Refused, Unreachable
from statusgen.importer.statuspage.found import Found, expect_items, expect_object
from statusgen.importer.statuspage.saved import Query

PAGE_SIZE = 100
MAX_PAGES = 10_000
SUBSCRIBER_TYPES = ("email", "sms", "webhook", "slack", "teams")
SEVERITY = ("operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage")


@dataclass(frozen=True)
class Listing:
    path: str
    params: Query = ()
    first: int = 1
    size_key: str = "per_page"
    """`limit` (then `page`) or `per_page` (after `page`), as each endpoint is documented."""

    def query(self, number: int) -> Query:
        if self.size_key == "limit":
            return (*self.params, ("limit", str(PAGE_SIZE)), ("page", str(number)))
        return (*self.params, ("page", str(number)), ("per_page", str(PAGE_SIZE)))


def read_manage(fetch: Fetcher, page_id: str, progress: Callable[[str], None], not_found: str) -> Found:
    base = f"pages/{page_id}"
    answer = fetch.get(base)
    if answer.data is None:
        raise SetupError([not_found])
    found = Found(page=public_page(expect_object(answer.data, answer.where)))
    components = read_all(fetch, Listing(f"{base}/components"), found.notes, required=True)
    groups = read_all(fetch, Listing(f"{base}/component-groups"), found.notes)
    found.components = with_groups(components, groups)
    incidents = read_all(fetch, Listing(f"{base}/incidents", size_key="limit"), found.notes, required=True)
    found.incidents = [normal_incident(item, found.notes) for item in incidents]
    found.templates = [normal_template(item) for item in
                       read_all(fetch, Listing(f"{base}/incident_templates"), found.notes)]
    found.subscribers = _subscribers(fetch, base, found.notes)
    progress(f"fetched {len(found.incidents)} incidents, {len(found.templates)} templates and "
             f"{len({item['id'] for item in found.subscribers})} subscribers")
    return found


def read_all(fetch: Fetcher, listing: Listing, notes: list[str], *, required: bool = False) -> list[JSON]:
    """Every page of a listing, until a short page (or one that adds nothing new)."""
    items: dict[str, JSON] = {}
    for number in range(listing.first, listing.first + MAX_PAGES):
        try:
            answer = fetch.get(listing.path, listing.query(number))
        except (Refused, Unreachable):
            raise
        except FetchError as error:
            if required:
                raise SetupError([str(error)]) from None
            notes.append(f"{error}: not imported")
            break
        if answer.data is None:
            if number == listing.first:
                if required:
                    raise SetupError([f"{answer.where}: not found"])
                notes.append(f"{answer.where}: not found; not imported")
            break
        page = expect_items(answer.data, answer.where)
        new = [item for item in page if item["id"] not in items]
        items.update((item["id"], item) for item in page)
        if len(page) < PAGE_SIZE or not new:
            break
    return list(items.values())


def public_page(page: JSON) -> JSON:
    """The v2 page object (`url` is the status page's own address), the manage fields kept."""
    domain, subdomain = page.get("domain"), page.get("subdomain")
    url = f"https://{domain}" if domain else f"https://{subdomain}.statuspage.io" if subdomain else None
    return {"id": page.get("id"), "name": page.get("name"), "url": url, "time_zone": page.get("time_zone"),
            "updated_at": page.get("updated_at"),
            **{key: value for key, value in page.items() if key not in ("id", "name", "url")},
            "website_url": page.get("url")}


def with_groups(components: list[JSON], groups: list[JSON]) -> list[JSON]:
    """Components plus one v2 group component per group (merged with the group's own entry
    in /components, where the API lists one), members pointing at their group."""
    merged = {item["id"]: dict(item) for item in components}
    for group in groups:
        members = [cid for cid in group.get("components") or () if isinstance(cid, str)]
        for cid in members:
            if cid in merged:
                merged[cid]["group_id"] = group["id"]
        statuses = [merged[cid].get("status") for cid in members if cid in merged]
        merged[group["id"]] = {
            "status": max(statuses, key=_severity, default="operational"), "showcase": False,
            "start_date": None, "only_show_if_degraded": False,
            **merged.get(group["id"], {}), **group,
            "group_id": None, "group": True, "components": members,
        }
    return list(merged.values())


def normal_incident(incident: JSON, notes: list[str]) -> JSON:
    found = dict(incident)
    found.setdefault("incident_updates", [])
    found.setdefault("components", [])
    found.setdefault("started_at", found.get("created_at"))
    if found.get("impact_override"):
        found["impact"] = found["impact_override"]
    if found.get("postmortem_body"):
        if found.get("postmortem_published_at"):
            if found.get("status") == "resolved":
                found["status"] = "postmortem"
        else:
            found["postmortem_body"] = None
            notes.append(f"incident {found['id']} ({found.get('name')!r}): its post-mortem is an unpublished "
                         "draft; left out")
    return found


def normal_template(template: JSON) -> JSON:
    found = dict(template)
    if "component_ids" not in found:
        found["component_ids"] = _ids(found.get("components"))
    return found


def _subscribers(fetch: Fetcher, base: str, notes: list[str]) -> list[JSON]:
    found = []
    for mode in SUBSCRIBER_TYPES:
        listing = Listing(f"{base}/subscribers", (("type", mode), ("state", "all")), first=0, size_key="limit")
        found += [normal_subscriber(item, mode) for item in read_all(fetch, listing, notes)]
    gone = read_all(fetch, Listing(f"{base}/subscribers/unsubscribed"), notes)
    found += [normal_subscriber({**item, "state": "unsubscribed"}, item.get("mode") or "email") for item in gone]
    return found


def normal_subscriber(subscriber: JSON, mode: str) -> JSON:
    found = dict(subscriber)
    found["mode"] = found.get("mode") or mode
    found["components"] = _ids(found.get("components"))
    if not found.get("state"):
        found["state"] = "quarantined" if found.get("quarantined_at") else "active"
    return found


def _ids(components: object) -> list[str]:
    """Component ids from a list of ids or of component objects."""
    found = []
    for item in components if isinstance(components, list) else ():
        value = item.get("id") if isinstance(item, dict) else item
        if isinstance(value, str):
            found.append(value)
    return found


def _severity(status: object) -> int:
    return SEVERITY.index(status) if status in SEVERITY else 0
