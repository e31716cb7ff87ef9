"""Ops tools on the ops machine: list subscribers, export or erase what is stored about one.

    list     subscribers.yaml and the subscription store side by side, addresses in full
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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from statusgen.errors import UsageError
from statusgen.content.load import load_site
from statusgen.content.model import Subscriber
from statusgen.notifier.backends import StoreLocation as NotifierLocation
from statusgen.notifier.backends import existing_store
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
class Listing:
    rows: list[Row]
    erased: int
    """Suppression entries kept as digests only."""


def list_subscribers(site_dir: Path, location: StoreLocation) -> Listing:
    _, listed = load_site(site_dir)
    if not location.exists():
        return Listing([_yaml_row(s, "active") for s in listed], 0)
    store = open_store(location, readonly=True)
    try:
        return _listing(listed, store)
    finally:
        store.close()


def _listing(listed: tuple[Subscriber, ...], store: SubscriptionStore) -> Listing:
    suppressed = {entry.digest for entry in store.suppressions()}
    own = {s.key: s for s in store.subscriptions()}
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
             if entry.address and entry.address not in shown]
    return Listing(rows, sum(1 for entry in entries if entry.address is None))


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
    return "\n".join(lines)


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
