"""Ops tools on the ops machine: list subscribers, export or erase what is stored about one.

    list     subscribers.yaml and the subscription store side by side, addresses in full;
             then the webhooks (URLs masked: they are secrets) with their health from the
             notifier store: active, quarantined or gone, failures, the last error
    reactivate ID   a quarantined webhook gets deliveries again (its failures forgotten)
    export   one address: its yaml entry, subscription, suppression entry, rate counter,
             the notifier's deliveries to it and outbox messages (a data-protection request)
    remove   erasure: the subscription and counters go; a suppression entry stays as a
             salted digest only, so the address is not mailed again without being stored;
             the notifier store's deliveries keep their history under that digest

The notifier store is read and scrubbed through its own methods (`deliveries_to`,
`erase`), the one place it keeps an address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from statusgen.errors import UsageError
from statusgen.content.load import load_site
from statusgen.content.model import Subscriber, subscriber_key
from statusgen.notifier.backends import StoreLocation as NotifierLocation
from statusgen.notifier.backends import existing_store
from statusgen.notifier.health import Endpoint
from statusgen.notifier.webhooks.network import masked_url
from statusgen.content.webhooks import webhook_id
from statusgen.subscriptions.store import WebhookSubscription
from statusgen.subscriptions.forms import AddressError, normalise_address
from statusgen.subscriptions.backend import StoreLocation, open_store
from statusgen.subscriptions.store import SubscriptionStore, address_key

ERASED = "erased:"
"""How an erased address appears in the notifier store: `erased:` and its digest."""


@dataclass(frozen=True)
class Row:
    address: str
    source: str
    """`yaml`, `self-service` or `-` (only on the suppression list)."""
    state: str
    components: str
    language: str


@dataclass(frozen=True)
class HookRow:
    """A webhook as ops see it: never its URL in full."""

    id: str
    target: str
    """The URL masked (`network.masked_url`)."""
    source: str
    """`yaml`, `self-service` or `-` (only in the notifier store: no longer listed)."""
    format: str
    state: str
    """The subscription's state, then the endpoint's health when it is not active."""
    failures: int
    last_error: str
    contact: str


@dataclass(frozen=True)
class Listing:
    rows: list[Row]
    erased: int
    """Suppression entries kept as digests only."""
    webhooks: list[HookRow] = field(default_factory=list)


def list_subscribers(site_dir: Path, location: StoreLocation, notify_db: NotifierLocation | None = None) -> Listing:
    """Everyone subscribed, and every webhook with its health when the notifier store
    (`notify_db`) is there."""
    _, listed = load_site(site_dir)
    health = _endpoints(notify_db)
    if not location.exists():
        rows = [_yaml_row(s, "active") for s in listed if not s.webhook]
        return Listing(rows, 0, _hook_rows(listed, [], lambda key: "active", health))
    store = open_store(location, readonly=True)
    try:
        return _listing(listed, store, health)
    finally:
        store.close()


def _listing(listed: tuple[Subscriber, ...], store: SubscriptionStore,
             health: dict[str, Endpoint] | None = None) -> Listing:
    suppressed = {entry.digest for entry in store.suppressions()}
    own = {s.key: s for s in store.subscriptions()}
    hooks = store.webhooks()
    confirmed = {hook.key for hook in hooks if hook.state == "confirmed"}

    def yaml_state(key: str) -> str:
        return ("unsubscribed" if store.digest(key) in suppressed
                else "replaced by self-service" if key in own or key in confirmed else "active")

    webhooks = _hook_rows(listed, hooks, yaml_state, health or {})
    listed = tuple(s for s in listed if not s.webhook)
    rows = []
    for subscriber in listed:
        record = own.get(address_key(subscriber.email))
        state = ("unsubscribed" if store.digest(subscriber.email) in suppressed
                 else "replaced by self-service" if record and record.state == "confirmed" else "active")
        rows.append(_yaml_row(subscriber, state))
    for record in own.values():
        state = f"{record.state}, unsubscribed" if store.digest(record.email) in suppressed else record.state
        rows.append(Row(record.email, "self-service", state, _components(record.components), record.language))
    shown = {address_key(row.address) for row in rows}
    entries = store.suppressions()
    rows += [Row(entry.address, "-", "unsubscribed", "", "") for entry in entries
             if entry.address and entry.address not in shown and not entry.address.startswith("webhook:")]
    return Listing(rows, sum(1 for entry in entries if entry.address is None), webhooks)


def _endpoints(notify_db: NotifierLocation | None) -> dict[str, Endpoint]:
    """The notifier store's webhook endpoints by key (none without a store)."""
    store = existing_store(notify_db) if notify_db is not None else None
    if store is None:
        return {}
    try:
        return {endpoint.key: endpoint for endpoint in store.endpoints()}
    finally:
        store.close()


def _hook_rows(listed: tuple[Subscriber, ...], hooks: list[WebhookSubscription], yaml_state: Any,
               health: dict[str, Endpoint]) -> list[HookRow]:
    """subscribers.yaml's webhooks, then the self-service ones, then endpoints only the
    notifier store still knows; each with its health."""
    rows = [_hook_row(webhook_id(s.webhook), s.webhook, "yaml", s.format or "", yaml_state(s.key), s.email, health)
            for s in listed if s.webhook]
    rows += [_hook_row(hook.id, hook.url, "self-service", hook.format, hook.state, hook.contact, health)
             for hook in hooks]
    shown = {row.id for row in rows}
    rows += [_hook_row(e.id, e.url, "-", e.format, "not listed", e.contact, health)
             for e in health.values() if e.id not in shown]
    return rows


def _hook_row(ident: str, url: str, source: str, fmt: str, state: str, contact: str,
              health: dict[str, Endpoint]) -> HookRow:
    endpoint = health.get(subscriber_key("", url))
    if endpoint is None:
        return HookRow(ident, masked_url(url), source, fmt, state, 0, "", contact)
    if not endpoint.active:
        state = f"{state}, {endpoint.state}" if state not in ("active", "confirmed") else endpoint.state
    return HookRow(ident, masked_url(url), source, fmt, state, endpoint.failures, endpoint.last_error or "", contact)


def _yaml_row(subscriber: Subscriber, state: str) -> Row:
    return Row(subscriber.email, "yaml", state, _components(subscriber.components), subscriber.language)


def _components(components: tuple[str, ...] | None) -> str:
    return "everything" if components is None else ",".join(components)


def format_listing(listing: Listing) -> str:
    header = Row("ADDRESS", "SOURCE", "STATE", "COMPONENTS", "LANGUAGE")
    rows = [header, *listing.rows]
    widths = [max(len(getattr(row, name)) for row in rows) for name in ("address", "source", "state")]
    lines = [f"{row.address:<{widths[0]}}  {row.source:<{widths[1]}}  {row.state:<{widths[2]}}  "
             f"{row.language:<8}  {row.components}".rstrip() for row in rows]
    if listing.erased:
        lines.append(f"{listing.erased} erased address(es) stay unsubscribed, stored as salted digests only")
    if listing.webhooks:
        lines += ["", *_table([("ID", "WEBHOOK", "SOURCE", "FORMAT", "STATE", "FAILURES", "CONTACT", "LAST ERROR"),
                               *[(h.id, h.target, h.source, h.format, h.state, str(h.failures), h.contact or "-",
                                  _short(h.last_error)) for h in listing.webhooks]])]
    return "\n".join(lines)


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[n]) for row in rows) for n in range(len(rows[0]) - 1)]
    return [("  ".join(f"{cell:<{width}}" for cell, width in zip(row, widths, strict=False)) + "  " + row[-1]).rstrip()
            for row in rows]


def _short(error: str, width: int = 80) -> str:
    return error if len(error) <= width else error[:width - 1] + "…"


# ── reactivation ──────────────────────────────────────────────────────────────────────

def reactivate_webhook(ident: str, notify_db: NotifierLocation) -> tuple[Endpoint, bool]:
    """Bring the quarantined webhook `ident` back: its next events are delivered again,
    its failures forgotten. Returns the endpoint and whether it was quarantined (False:
    it was active, nothing changed). A gone one (410) stays gone: it unsubscribed itself."""
    wanted = ident.strip().lower()
    store = existing_store(notify_db)
    if store is None:
        raise UsageError(f"no notifier store at {notify_db}: pass --store with the one notify uses")
    try:
        found = store.reactivate(wanted)
    finally:
        store.close()
    if found is None:
        raise UsageError(f"no webhook has the id {ident!r} in the notifier store {notify_db}; "
                         "`statusgen subscribers list` shows the ids")
    before, after = found
    if before.state == "gone":
        when = f" at {before.changed_at:%Y-%m-%d %H:%M} UTC" if before.changed_at else ""
        raise UsageError(f"webhook {before.id} ({masked_url(before.url)}) answered 410 Gone{when} and unsubscribed "
                         "itself; it gets deliveries again only when it is subscribed again")
    return after, before.state == "quarantined"


def export_address(site_dir: Path, address: str, location: StoreLocation,
                   notify_db: NotifierLocation) -> dict[str, Any]:
    """Everything statusgen stores about one address, as a JSON-ready document."""
    key = _address(address)
    _, listed = load_site(site_dir)
    entry = next((s for s in listed if address_key(s.email) == key), None)
    document: dict[str, Any] = {
        "address": key,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "subscribers_yaml": None if entry is None else {
            "email": entry.email, "language": entry.language, "line": entry.line,
            "components": list(entry.components) if entry.components is not None else None},
        "subscription": None, "suppression": None, "email_rate_limit": None,
    }
    if location.exists():
        store = open_store(location, readonly=True)
        try:
            document.update(store.export(key))
        finally:
            store.close()
    document["notifier_deliveries"] = _deliveries(notify_db, key)
    document["outbox_messages"] = [str(path) for path in outbox_messages(site_dir, key)]
    return document


@dataclass(frozen=True)
class Erasure:
    address: str
    subscriptions: int
    rate_limits: int
    webhooks: int
    """Webhook subscriptions the address was the contact of."""
    deliveries: int
    """Notifier deliveries whose recipient is now a digest."""
    cancelled: int
    """Queued notifier deliveries that will not be sent."""
    in_yaml: bool
    outbox: list[Path]


def remove_address(site_dir: Path, address: str, location: StoreLocation, notify_db: NotifierLocation) -> Erasure:
    """Erase an address (see the module docstring); creates the store if there is none,
    since the suppression entry must be kept somewhere."""
    key = _address(address)
    _, listed = load_site(site_dir)
    store = open_store(location)
    try:
        removed = store.erase(key, datetime.now(UTC))
        digest = store.digest(key)
    finally:
        store.close()
    deliveries, cancelled = _scrub_deliveries(notify_db, key, f"{ERASED}{digest}")
    return Erasure(key, removed["subscriptions"], removed["rate_limits"], removed["webhooks"], deliveries, cancelled,
                   any(address_key(s.email) == key for s in listed), outbox_messages(site_dir, key))


def _address(address: str) -> str:
    try:
        return address_key(normalise_address(address))
    except AddressError:
        raise UsageError(f"expected an email address such as 'spoc@partner.example'; found {address!r}") from None


def _deliveries(notify_db: NotifierLocation, key: str) -> list[dict[str, Any]]:
    store = existing_store(notify_db)
    if store is None:
        return []
    try:
        return store.deliveries_to(key)
    finally:
        store.close()


def _scrub_deliveries(notify_db: NotifierLocation, key: str, replacement: str) -> tuple[int, int]:
    store = existing_store(notify_db)
    if store is None:
        return 0, 0
    try:
        return store.erase(key, replacement)
    finally:
        store.close()


def outbox_messages(site_dir: Path, key: str) -> list[Path]:
    """Messages to the address in the outbox Maildir (written by notify and the service)."""
    folder = site_dir / ".statusgen" / "outbox"
    wanted = re.compile(rb"^To: *" + re.escape(key.encode()) + rb"\s*$", re.IGNORECASE | re.MULTILINE)
    found = []
    for sub in ("new", "cur"):
        for path in sorted((folder / sub).glob("*")) if (folder / sub).is_dir() else []:
            head = path.read_bytes().split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
            if wanted.search(head):
                found.append(path)
    return found
