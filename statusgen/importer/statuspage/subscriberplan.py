"""Statuspage's subscribers as decisions about addresses: pure, no store, no clock.

    subscriber objects (the manage API's, or `read_csv`'s rows in the same shape)
        ──check──▶ every malformed one at once (ContentErrors naming FILE:LINE or the item);
                   nothing is decided while one is wrong
        ──mode──▶ email, webhook (its `endpoint`, `email` its contact), or not imported: slack
                  and teams (Statuspage never shows their channel URLs), sms (one report line per kind)
        ──state──▶ subscribe: active (confirmed with Statuspage) or unconfirmed
                 │ suppress: unsubscribed or quarantined (its time, when known)
        ──components──▶ statusgen ids through aliases, ids, then names (none listed: everything);
                        an unknown one is reported, the subscriber keeps the rest
        ──one per address (per URL)──▶ the latest record wins; an unsubscribe when that is unsure

The manage API gives no `state` on a subscriber (one asks `?state=all`, or the
`unsubscribed` list): `state`, when a source adds it, decides; else `unsubscribed_at`
means unsubscribed, `quarantined_at` quarantined, and anything else active.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from statusgen.content.model import Component, Group, Site, subscriber_key
from statusgen.errors import ContentError, ContentErrors
from statusgen.importer.records import Report
from statusgen.subscriptions.forms import AddressError, normalise_address

MODES = ("email", "sms", "webhook", "slack", "teams")
STATES = ("active", "unconfirmed", "quarantined", "unsubscribed")
NOT_IMPORTED = {
    "slack": "Statuspage does not give out a Slack subscriber's channel URL; the channel's owner subscribes it "
             "again on the subscribe page's webhook tab (or ops add its incoming webhook to subscribers.yaml)",
    "teams": "Statuspage does not give out a Microsoft Teams subscriber's channel URL; the channel's owner "
             "subscribes a Teams Workflows webhook again on the subscribe page's webhook tab (or ops add it to "
             "subscribers.yaml)",
    "sms": "statusgen has no SMS",
}
IMPORTED = ("email", "webhook")
TIMES = ("created_at", "quarantined_at", "purge_at", "unsubscribed_at")
API_SOURCE = "manage API subscribers"
"""What a subscriber from the manage API is called in an error: `manage API subscribers:N` is the Nth."""
SOURCE_KEY = "_source"
"""`(path, line)` where `read_csv` found the row; the manage API's objects have none."""
ADDRESS_PROBLEMS = {
    "email_lines": "a line break inside the address (it would add a header to the email)",
    "email_missing": "nothing",
    "email_too_long": "an address longer than 254 characters",
    "email_invalid": "something that is not an address",
}


@dataclass(frozen=True)
class Wanted:
    """What becomes of one address."""

    email: str
    """As it will be stored and mailed: stripped, its domain lowercased; a webhook's
    contact ('' when Statuspage has none)."""
    suppress: bool
    """Unsubscribed or quarantined on Statuspage: never mailed by statusgen."""
    confirmed: bool
    """Confirmed with Statuspage (active); an unconfirmed one never is."""
    components: tuple[str, ...] | None
    """Component or group ids of this site; None follows everything."""
    since: datetime | None
    """When Statuspage recorded this state (created, unsubscribed, quarantined), if it says."""
    webhook: str | None = None
    """A webhook subscriber's URL (Statuspage's `endpoint`); None for an email subscriber."""

    @property
    def key(self) -> str:
        """As `Subscriber.key`: the address, or `webhook:` and the URL."""
        return subscriber_key(self.email, self.webhook)


@dataclass(frozen=True)
class _Entry:
    """One checked subscriber object, before components and duplicates are settled."""

    mode: str
    email: str
    state: str
    components: tuple[str, ...] | None
    since: datetime | None
    webhook: str | None = None

    @property
    def key(self) -> str:
        return subscriber_key(self.email, self.webhook)


def plan(subscribers: Sequence[Mapping[str, Any]], site: Site, report: Report) -> tuple[Wanted, ...]:
    """One `Wanted` per email address and per webhook URL, in the order first seen; what is
    left out goes to `report`. Raises ContentErrors for every malformed subscriber, before
    anything else."""
    entries = check(subscribers)
    imported = _not_imported(entries, report)
    chosen = _one_per_address(imported, report)
    resolve = component_resolver(site)
    unknown: Counter[str] = Counter()
    wanted: list[Wanted] = []
    lost: Counter[str] = Counter()
    for entry in chosen:
        if entry.state in ("unsubscribed", "quarantined"):
            wanted.append(Wanted(entry.email, True, False, None, entry.since, entry.webhook))
            continue
        components, missing = _mapped(entry.components, resolve, site)
        unknown.update(missing)
        if components == ():
            lost[entry.mode] += 1
            continue
        wanted.append(Wanted(entry.email, False, entry.state == "active", components, entry.since, entry.webhook))
    _report_unknown(unknown, lost, report)
    return tuple(wanted)


# ── checking ────────────────────────────────────────────────────────────────────────────

def check(subscribers: Sequence[Mapping[str, Any]]) -> list[_Entry]:
    """Every subscriber object read, or ContentErrors with every problem."""
    problems: list[ContentError] = []
    entries = []
    for index, item in enumerate(subscribers, 1):
        path, line = _source(item, index)
        try:
            entries.append(_entry(item))
        except _Malformed as malformed:
            problems.extend(ContentError(path, line, message) for message in malformed.messages)
    if problems:
        raise ContentErrors(problems)
    return entries


class _Malformed(Exception):
    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def _source(item: object, index: int) -> tuple[str, int]:
    if isinstance(item, Mapping) and isinstance(source := item.get(SOURCE_KEY), tuple):
        return str(source[0]), int(source[1])
    return API_SOURCE, index


def _entry(item: object) -> _Entry:
    if not isinstance(item, Mapping):
        raise _Malformed([f"expected a subscriber object; found {type(item).__name__}"])
    who = f"subscriber {item['id']}: " if isinstance(item.get("id"), str) and item["id"] else ""
    messages: list[str] = []
    mode = item.get("mode")
    if mode not in MODES:
        messages.append(f"{who}mode: expected one of {', '.join(MODES)}; found {_shown(mode)}")
    state = _state(item, who, messages)
    times = {key: _time(item, key, who, messages) for key in TIMES}
    components = _components(item.get("components"), who, messages)
    email, endpoint = "", None
    if mode == "email":
        email = _address(item.get("email"), who, messages)
    elif mode == "webhook":
        endpoint = _endpoint(item.get("endpoint"), who, messages)
        email = _address(item.get("email"), who, messages) if item.get("email") else ""
    if messages:
        raise _Malformed(messages)
    since = (times["unsubscribed_at"] or times["quarantined_at"]) if state in ("unsubscribed", "quarantined") \
        else times["created_at"]
    return _Entry(str(mode), email, state, components, since, endpoint)


def _endpoint(value: object, who: str, messages: list[str]) -> str | None:
    """A webhook's URL: one line of text with a scheme and a host (whether it may be used
    is the network policy's question, asked when it is imported)."""
    url = value.strip() if isinstance(value, str) else ""
    if not url or re.search(r"[\x00-\x20\x7f]", url) or "://" not in url:
        shown = "nothing" if not url else "something that is not a URL"
        messages.append(f"{who}endpoint: expected the webhook's URL such as 'https://desk.partner.example/hook'; "
                        f"found {shown}")
        return None
    return url


def _state(item: Mapping[str, Any], who: str, messages: list[str]) -> str:
    state = item.get("state")
    if state is None or state == "":
        if item.get("unsubscribed_at"):
            return "unsubscribed"
        return "quarantined" if item.get("quarantined_at") else "active"
    if state not in STATES:
        messages.append(f"{who}state: expected one of {', '.join(STATES)}; found {_shown(state)}")
    return str(state)


def _time(item: Mapping[str, Any], key: str, who: str, messages: list[str]) -> datetime | None:
    value = item.get(key)
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(str(value).strip())
    except ValueError:
        messages.append(f"{who}{key}: expected an ISO 8601 time such as 2024-05-01T09:30:00Z; found {_shown(value)}")
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _components(value: object, who: str, messages: list[str]) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not all(isinstance(ref, str) for ref in value):
        messages.append(f"{who}components: expected a list of component ids or names; found {_shown(value)}")
        return None
    return tuple(dict.fromkeys(ref.strip() for ref in value if ref.strip())) or None


def _address(value: object, who: str, messages: list[str]) -> str:
    try:
        return normalise_address(value if isinstance(value, str) else "")
    except AddressError as error:
        found = ADDRESS_PROBLEMS[error.key] if not value else f"{ADDRESS_PROBLEMS[error.key]}: {_shown(value)}"
        messages.append(f"{who}email: expected an address such as 'spoc@partner.example'; found {found}")
        return ""


def _shown(value: object) -> str:
    """A value in a message: repr, so a line break shows as \\r\\n, and never endless."""
    if value is None or value == "":
        return "nothing"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# ── deciding ────────────────────────────────────────────────────────────────────────────

def _not_imported(entries: list[_Entry], report: Report) -> list[_Entry]:
    """The email and webhook subscribers; one report line per other kind."""
    kinds = Counter(entry.mode for entry in entries if entry.mode not in IMPORTED)
    for mode in NOT_IMPORTED:
        if kinds[mode]:
            report.skip(f"{kinds[mode]} {mode} subscriber{'s' if kinds[mode] != 1 else ''}", NOT_IMPORTED[mode])
    return [entry for entry in entries if entry.mode in IMPORTED]


def _one_per_address(entries: list[_Entry], report: Report) -> list[_Entry]:
    """An address listed more than once (unsubscribed in 2022, subscribed again in 2024)
    counts once: its latest record; an unsubscribe whose time is unknown, or that ties,
    wins (an unsubscribe always wins when unsure)."""
    chosen: dict[str, _Entry] = {}
    repeated: Counter[str] = Counter()
    for entry in entries:
        key = entry.key
        if key in chosen:
            repeated[entry.mode] += 1
            chosen[key] = _later(chosen[key], entry)
        else:
            chosen[key] = entry
    for mode, what in (("email", "an address"), ("webhook", "a webhook URL")):
        if count := repeated[mode]:
            report.change(f"{count} repeated {mode} subscriber{'s' if count != 1 else ''}",
                          f"{what} listed more than once counts once: its latest record (an unsubscribe when "
                          "that is unsure)")
    return list(chosen.values())


def _later(first: _Entry, second: _Entry) -> _Entry:
    def rank(entry: _Entry) -> tuple[int, datetime, int]:
        leaves = entry.state in ("unsubscribed", "quarantined")
        unknown = leaves and entry.since is None
        return (unknown, entry.since or datetime.min.replace(tzinfo=UTC), leaves)

    return second if rank(second) > rank(first) else first


# ── components ──────────────────────────────────────────────────────────────────────────

def component_resolver(site: Site) -> Mapping[str, str]:
    """What a Statuspage subscriber may name a component or group by, and its id here:
    an alias (the Statuspage id kept in components.yaml), the id, or a name in any of the
    site's languages (matched without case)."""
    items: tuple[Group | Component, ...] = (*site.groups, *site.components)
    names = {value.casefold(): item.id for item in items for _, value in item.name.values}
    ids = {item.id: item.id for item in items}
    aliases = {alias: item.id for item in items for alias in item.aliases}
    return {**names, **ids, **aliases}


def _lookup(ref: str, resolve: Mapping[str, str]) -> str | None:
    return resolve.get(ref) or resolve.get(ref.casefold())


def _pieces(ref: str, resolve: Mapping[str, str]) -> list[str]:
    """`ref` itself when it names something (a name may have a comma), else its
    comma-separated parts (an export's cell of names)."""
    if _lookup(ref, resolve) or "," not in ref:
        return [ref]
    return [piece.strip() for piece in ref.split(",") if piece.strip()]


def _mapped(refs: tuple[str, ...] | None, resolve: Mapping[str, str],
            site: Site) -> tuple[tuple[str, ...] | None, list[str]]:
    """The site's ids for `refs` (None: everything) and the refs it does not know; `()`
    when every one was unknown. Following every component of the site is following
    everything: components added later are followed too."""
    if refs is None:
        return None, []
    found: list[str] = []
    missing: list[str] = []
    for ref in refs:
        for piece in _pieces(ref, resolve):
            component = _lookup(piece, resolve)
            found.extend([component] if component else [])
            missing.extend([] if component else [piece])
    ids = tuple(dict.fromkeys(found))
    if ids and _everything(ids, site):
        return None, missing
    return ids, missing


def _everything(ids: Iterable[str], site: Site) -> bool:
    covered = {member for ref in ids for member in (site.groups_by_id[ref].components if ref in site.groups_by_id
                                                    else (ref,))}
    return covered >= set(site.components_by_id)


def _report_unknown(unknown: Counter[str], lost: Counter[str], report: Report) -> None:
    for ref, count in sorted(unknown.items()):
        report.change(f"subscribers of component {ref!r}",
                      f"no component or group has it as id, alias or name ({count} subscriber"
                      f"{'s' if count != 1 else ''}); they keep their other components. Add {ref!r} to the "
                      "aliases of a component in components.yaml and run the import again to keep it")
    for mode, count in sorted(lost.items()):
        report.skip(f"{count} {mode} subscriber{'s' if count != 1 else ''}",
                    "every component they follow is unknown here (see above); subscribing them to everything "
                    f"would {'mail' if mode == 'email' else 'send'} them what they never asked for")
